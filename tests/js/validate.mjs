// JSON Schema validation for the tests, with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
//
// Usage:
//   node validate.mjs <schema.json> <data.json>
//   node validate.mjs <openapi.json> <data.json> <ComponentName>
//
// The first form validates <data.json> against a JSON Schema (e.g. schemas/open-badges-3.0.json).
// The second validates it against `components.schemas.<ComponentName>` of an OpenAPI 3.1 document:
// the components become `$defs` of one schema, so every `$ref` between them resolves.
// Prints `{"valid": bool, "errors": [...]}`. Exit code 0 = valid, 1 = invalid, 2 = usage error or crash.
//
// `strict: false`: OpenAPI schemas carry keywords and formats outside JSON Schema's vocabulary
// (`example`, `format: int64`, ...), which are annotations here, not errors. Formats Ajv knows
// (`date-time`, `uri`, `email`, ...) are checked.
import {readFile} from 'node:fs/promises';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

async function readJson(path) {
  return JSON.parse(await readFile(path, 'utf8'));
}

function fromOpenApi(doc, name) {
  const schemas = doc?.components?.schemas ?? {};
  if(!(name in schemas)) {
    throw new Error(`the OpenAPI document has no components.schemas.${name}`);
  }
  const text = JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/$defs/');
  return {$ref: `#/$defs/${name}`, $defs: JSON.parse(text)};
}

async function main() {
  const [schemaPath, dataPath, component] = process.argv.slice(2);
  if(!schemaPath || !dataPath) {
    console.error('usage: node validate.mjs <schema.json> <data.json> [<OpenAPI component name>]');
    return 2;
  }
  const raw = await readJson(schemaPath);
  const schema = component ? fromOpenApi(raw, component) : raw;
  const data = await readJson(dataPath);
  const ajv = new Ajv2020({allErrors: true, strict: false});
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  const valid = validate(data);
  console.log(JSON.stringify({valid, errors: validate.errors ?? []}));
  return valid ? 0 : 1;
}

main().then(code => {
  process.exitCode = code;
}).catch(e => {
  console.log(JSON.stringify({valid: false, errors: [String(e?.stack ?? e)]}));
  process.exitCode = 2;
});

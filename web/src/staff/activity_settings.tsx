// A plugin's settings (an activity item's, a plugin question's), as a form built from the JSON
// Schema the plugin declared (`kinds()`, `types()`): objects become groups of fields, strings text inputs (a text area when
// long, a select when the schema lists the values), numbers number inputs with their bounds,
// booleans checkboxes, lists of records or strings repeatable groups with add and remove buttons.
// Whatever the form cannot draw (a `oneOf`, a nested list) is edited as JSON in place, and the
// whole settings can always be edited as JSON. The server checks the result against the same
// schema and names the offending field (a JSON pointer) when it refuses.
import { useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { t } from '../i18n';

export type ActivityKind = Schemas['ActivityKind'];
type Json = unknown;
type JsonObject = { [key: string]: Json };
type Schema = {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: { [key: string]: Schema };
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  enum?: Json[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: Json;
};

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOf = (s: Schema): string | undefined => (Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type);

/** A new value for a schema: its default, else the least that satisfies its type. */
export function emptyFor(given: unknown): Json {
  const s = (given ?? {}) as Schema;
  if (s.default !== undefined) return s.default;
  switch (typeOf(s)) {
    case 'object': {
      const out: JsonObject = {};
      for (const name of s.required ?? []) {
        const p = s.properties?.[name];
        if (p) out[name] = emptyFor(p);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => emptyFor(s.items ?? {}));
    case 'string':
      return s.enum?.[0] ?? '';
    case 'integer':
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** Whether the form can draw this schema itself (else: JSON in place). */
function drawable(s: Schema, depth = 0): boolean {
  const ty = typeOf(s);
  if (ty === 'string' || ty === 'integer' || ty === 'number' || ty === 'boolean') return true;
  if (ty === 'object') {
    // A map (names chosen by the author, `additionalProperties` a schema) has no fields to draw.
    const map = typeof s.additionalProperties === 'object' && s.additionalProperties !== null;
    return (
      depth < 3 && s.properties !== undefined && !map && Object.values(s.properties).every((p) => drawable(p, depth + 1))
    );
  }
  if (ty === 'array') {
    const it = s.items ?? {};
    const ity = typeOf(it);
    return depth < 2 && (ity === 'string' || ity === 'number' || ity === 'integer' || (ity === 'object' && drawable(it, depth + 1)));
  }
  return false;
}

/** The settings form for one activity kind. `value` is the settings object being edited. */
export function ActivitySettingsForm({
  base,
  kind,
  value,
  onChange,
}: {
  base: string;
  kind: ActivityKind;
  value: Json;
  onChange: (v: Json) => void;
}) {
  return (
    <SchemaForm
      base={base}
      legend={t('sc_activity_settings', { kind: kind.name })}
      description={kind.description}
      schema={kind.settings_schema}
      value={value}
      onChange={onChange}
    />
  );
}

/** A settings object edited through the form its JSON Schema describes (a plugin's activity kind
 *  or question type), with a JSON view of the whole. */
export function SchemaForm({
  base,
  legend,
  description,
  schema: given,
  value,
  onChange,
}: {
  base: string;
  legend: string;
  description?: string;
  schema: unknown;
  value: Json;
  onChange: (v: Json) => void;
}) {
  const schema = (given ?? {}) as Schema;
  // A form when the settings are an object with named fields (a field it cannot draw is JSON in place).
  const formable = typeOf(schema) === 'object' && schema.properties !== undefined;
  const [asJson, setAsJson] = useState(!formable);
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [bad, setBad] = useState<string | undefined>(undefined);
  return (
    <fieldset class="activity-settings">
      <legend>{legend}</legend>
      {description && <p class="hint">{description}</p>}
      {asJson ? (
        <div class="field">
          <label for={`${base}-json`}>{t('sc_activity_settings_json')}</label>
          <textarea
            id={`${base}-json`}
            class="code"
            rows={10}
            value={text}
            aria-invalid={bad !== undefined}
            aria-describedby={`${base}-json-hint`}
            onInput={(e) => {
              const v = e.currentTarget.value;
              setText(v);
              try {
                onChange(JSON.parse(v));
                setBad(undefined);
              } catch (err) {
                setBad(String(err));
              }
            }}
          />
          <p class="hint" id={`${base}-json-hint`}>
            {bad ?? t('sc_activity_settings_json_hint')}
          </p>
        </div>
      ) : (
        <SchemaFields base={base} schema={schema} value={value} onChange={onChange} />
      )}
      {formable && (
        <button
          type="button"
          onClick={() => {
            setText(JSON.stringify(value ?? {}, null, 2));
            setBad(undefined);
            setAsJson(!asJson);
          }}
        >
          {asJson ? t('sc_activity_settings_as_form') : t('sc_activity_settings_as_json')}
        </button>
      )}
    </fieldset>
  );
}

function label(name: string, s: Schema): string {
  return s.title ?? name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The fields of an object schema. */
function SchemaFields({
  base,
  schema,
  value,
  onChange,
}: {
  base: string;
  schema: Schema;
  value: Json;
  onChange: (v: Json) => void;
}) {
  const obj = isObject(value) ? value : {};
  const set = (name: string, v: Json) => {
    const next = { ...obj };
    if (v === undefined) delete next[name];
    else next[name] = v;
    onChange(next);
  };
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, s]) => (
        <SchemaField
          key={name}
          id={`${base}-${name}`}
          name={label(name, s)}
          schema={s}
          required={(schema.required ?? []).includes(name)}
          value={obj[name]}
          onChange={(v) => set(name, v)}
        />
      ))}
    </>
  );
}

function SchemaField({
  id,
  name,
  schema: s,
  required,
  value,
  onChange,
}: {
  id: string;
  name: string;
  schema: Schema;
  required: boolean;
  value: Json;
  onChange: (v: Json) => void;
}) {
  const hint = s.description ? <p class="hint" id={`${id}-hint`}>{s.description}</p> : null;
  const described = s.description ? `${id}-hint` : undefined;
  const ty = typeOf(s);
  if (ty === 'boolean') {
    return (
      <div class="field">
        <label class="choice">
          <input id={id} type="checkbox" checked={value === true} aria-describedby={described} onChange={(e) => onChange(e.currentTarget.checked)} />
          <span>{name}</span>
        </label>
        {hint}
      </div>
    );
  }
  if (ty === 'string' && s.enum) {
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <select id={id} required={required} value={typeof value === 'string' ? value : ''} aria-describedby={described} onChange={(e) => onChange(e.currentTarget.value)}>
          {!required && <option value="">{t('sc_choose')}</option>}
          {s.enum.map((v) => (
            <option key={String(v)} value={String(v)}>
              {String(v)}
            </option>
          ))}
        </select>
        {hint}
      </div>
    );
  }
  if (ty === 'string') {
    const long = (s.maxLength ?? 10_000) > 200;
    const common = {
      id,
      required,
      minLength: s.minLength,
      maxLength: s.maxLength,
      value: typeof value === 'string' ? value : '',
      'aria-describedby': described,
    };
    return (
      <div class="field">
        <label for={id}>{name}</label>
        {long ? (
          <textarea rows={2} {...common} onInput={(e) => onChange(e.currentTarget.value)} />
        ) : (
          <input {...common} onInput={(e) => onChange(e.currentTarget.value)} />
        )}
        {hint}
      </div>
    );
  }
  if (ty === 'integer' || ty === 'number') {
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <input
          id={id}
          type="number"
          required={required}
          min={s.minimum}
          max={s.maximum}
          step={ty === 'integer' ? 1 : 'any'}
          value={typeof value === 'number' ? value : ''}
          aria-describedby={described}
          onInput={(e) => {
            const raw = e.currentTarget.value;
            // An empty optional number is left out; the server's schema check decides the rest.
            onChange(raw === '' ? (required ? 0 : undefined) : Number(raw));
          }}
        />
        {hint}
      </div>
    );
  }
  if (ty === 'object' && drawable(s, 1)) {
    return (
      <fieldset>
        <legend>{name}</legend>
        {hint}
        <SchemaFields base={id} schema={s} value={value} onChange={onChange} />
      </fieldset>
    );
  }
  if (ty === 'array' && drawable(s, 1)) {
    const list = Array.isArray(value) ? value : [];
    const it = s.items ?? {};
    const set = (i: number, v: Json) => onChange(list.map((x, j) => (j === i ? v : x)));
    const full = s.maxItems !== undefined && list.length >= s.maxItems;
    const atLeast = s.minItems ?? 0;
    return (
      <fieldset>
        <legend>{name}</legend>
        {hint}
        <ol class="schema-list">
          {list.map((entry, i) => (
            <li key={i}>
              {typeOf(it) === 'object' ? (
                <fieldset>
                  <legend>{t('sc_activity_entry', { n: i + 1 })}</legend>
                  <SchemaFields base={`${id}-${i}`} schema={it} value={entry} onChange={(v) => set(i, v)} />
                </fieldset>
              ) : (
                <SchemaField id={`${id}-${i}`} name={t('sc_activity_entry', { n: i + 1 })} schema={it} required value={entry} onChange={(v) => set(i, v)} />
              )}
              <button
                type="button"
                disabled={list.length <= atLeast}
                onClick={() => onChange(list.filter((_, j) => j !== i))}
              >
                {t('sc_activity_remove_entry', { n: i + 1 })}
              </button>
            </li>
          ))}
        </ol>
        <button type="button" disabled={full} onClick={() => onChange([...list, emptyFor(it)])}>
          {t('sc_activity_add_entry', { name })}
        </button>
      </fieldset>
    );
  }
  return <JsonField id={id} name={name} value={value} onChange={onChange} hint={hint} />;
}

/** A value the form cannot draw, edited as JSON in place. */
function JsonField({
  id,
  name,
  value,
  onChange,
  hint,
}: {
  id: string;
  name: string;
  value: Json;
  onChange: (v: Json) => void;
  hint: preact.ComponentChildren;
}) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState(false);
  return (
    <div class="field">
      <label for={id}>{t('sc_activity_json_named', { name })}</label>
      <textarea
        id={id}
        class="code"
        rows={4}
        value={text}
        aria-invalid={bad}
        onInput={(e) => {
          const v = e.currentTarget.value;
          setText(v);
          try {
            onChange(v.trim() === '' ? undefined : JSON.parse(v));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {hint}
    </div>
  );
}

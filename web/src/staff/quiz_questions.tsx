// The quiz builder's question editors: one per question type the grading plugin supports (the
// API's `AnswerKey`: single and multiple choice, true/false, numeric, short answer, matching,
// ordering, fill in the blanks, essay). Each edits the API's own `Question` (prompt, points,
// hints, labels and the key), so what the page shows is exactly what it sends.
//
// Ids of options, items and pairs are generated; authors only see and type their text (which
// goes in `labels`). Fractions (credit, tolerances, weights) are typed as percentages.
import type { ComponentChildren } from 'preact';
import { type MessageKey, formatNumber, t } from '../i18n';
import type { Schemas } from '../api/client';
import { SchemaForm, emptyFor } from './activity_settings';
import { newId } from './course_api';

/** A question type a plugin offers the institution (`GET …/question-types`). */
export type PluginType = Schemas['QuestionType'];
type PluginKey = Schemas['PluginQuestionKey'];

/** The plugin key of a plugin's question, if it is one. */
export function pluginKey(q: Question): PluginKey | undefined {
  return 'plugin' in (q.key as object) ? (q.key as { plugin: PluginKey }).plugin : undefined;
}

/** A new question of a plugin's type, its settings the least its schema accepts. */
export function newPluginQuestion(pt: PluginType): Question {
  const settings = emptyFor(pt.settings_schema) as Record<string, never>;
  return {
    id: newId('q'),
    prompt: '',
    points: 1,
    hints: [],
    labels: {},
    key: { plugin: { plugin: pt.plugin, type: pt.type, settings } },
  };
}

/** A plugin question's type label: the type's own name, or its ids when no plugin offers it now. */
export function pluginTypeLabel(k: PluginKey, types: PluginType[]): string {
  return types.find((x) => x.plugin === k.plugin && x.type === k.type)?.name ?? `${k.plugin}/${k.type}`;
}

export type Question = Schemas['Question'];
export type AnswerKey = Schemas['AnswerKey'];
export type QuestionType =
  | 'single_choice'
  | 'multiple_choice'
  | 'true_false'
  | 'numeric'
  | 'short_answer'
  | 'matching'
  | 'ordering'
  | 'fill_blanks'
  | 'essay';
type ChoiceKey = Schemas['ChoiceKey'];
type ChoiceOption = Schemas['ChoiceOption'];
type TextKey = Schemas['TextKey'];
type TextAlternative = Schemas['TextAlternative'];
type NumericKey = Schemas['NumericKey'];
type Pair = Schemas['Pair'];
type Criterion = Schemas['RubricCriterion'];

export const QUESTION_TYPES: QuestionType[] = [
  'single_choice',
  'multiple_choice',
  'true_false',
  'numeric',
  'short_answer',
  'matching',
  'ordering',
  'fill_blanks',
  'essay',
];

const TYPE_KEYS: Record<QuestionType, MessageKey> = {
  single_choice: 'sc_qt_single_choice',
  multiple_choice: 'sc_qt_multiple_choice',
  true_false: 'sc_qt_true_false',
  numeric: 'sc_qt_numeric',
  short_answer: 'sc_qt_short_answer',
  matching: 'sc_qt_matching',
  ordering: 'sc_qt_ordering',
  fill_blanks: 'sc_qt_fill_blanks',
  essay: 'sc_qt_essay',
};

export function typeLabel(type: QuestionType): string {
  // A plugin's question type (`{"plugin": …}`) has no label here: its name is the type's own.
  return TYPE_KEYS[type] ? t(TYPE_KEYS[type]) : type;
}

export function questionType(q: Question): QuestionType {
  return Object.keys(q.key)[0] as QuestionType;
}

function emptyText(): TextKey {
  return { alternatives: [{ pattern: '', credit: 1, regex: false }], case_sensitive: false, normalize_whitespace: true };
}

/** A new question of `type`, with the smallest key the API accepts filled in with blanks. */
export function newQuestion(type: QuestionType): Question {
  const id = newId('q');
  const base = { id, prompt: '', points: 1, hints: [] as string[], labels: {} as Record<string, string> };
  const a = newId('o');
  const b = newId('o');
  switch (type) {
    case 'single_choice':
    case 'multiple_choice':
      return {
        ...base,
        labels: { [a]: '', [b]: '' },
        key: {
          [type]: {
            rule: type === 'single_choice' ? 'all_or_nothing' : 'right_minus_wrong',
            options: [
              { id: a, correct: true, weight: 0 },
              { id: b, correct: false, weight: 0 },
            ],
          },
        } as AnswerKey,
      };
    case 'true_false':
      return { ...base, key: { true_false: true } };
    case 'numeric':
      return {
        ...base,
        key: { numeric: { value: 0, absolute_tolerance: null, relative_tolerance: null, units: [], unit_missing_credit: 0 } },
      };
    case 'short_answer':
      return { ...base, key: { short_answer: emptyText() } };
    case 'matching': {
      const l = newId('l');
      const r = newId('r');
      return { ...base, labels: { [l]: '', [r]: '' }, key: { matching: [{ left: l, right: r }] } };
    }
    case 'ordering':
      return { ...base, labels: { [a]: '', [b]: '' }, key: { ordering: [a, b] } };
    case 'fill_blanks':
      return { ...base, key: { fill_blanks: [emptyText()] } };
    case 'essay':
      return { ...base, points: 5, key: { essay: [{ id: newId('c'), description: '', points: 5 }] } };
  }
}

/** What makes a question unsendable, in the author's terms (the server checks again). */
export function questionProblems(q: Question): string[] {
  const out: string[] = [];
  // A plugin's question type: its view carries the prompt, and the server checks its settings against the type's schema.
  if ('plugin' in (q.key as object)) return out;
  const labels = q.labels ?? {};
  if (!q.prompt?.trim()) out.push(t('sc_q_problem_prompt'));
  if (!(q.points >= 0)) out.push(t('sc_q_problem_points'));
  const k = q.key as Record<string, unknown>;
  const type = questionType(q);
  const blankLabel = (id: string) => !(labels[id] ?? '').trim();
  if (type === 'single_choice' || type === 'multiple_choice') {
    const ck = k[type] as ChoiceKey;
    if (ck.options.length < 2) out.push(t('sc_q_problem_options'));
    if (ck.options.some((o) => blankLabel(o.id))) out.push(t('sc_q_problem_option_text'));
    if (ck.rule !== 'per_option_weights' && !ck.options.some((o) => o.correct)) out.push(t('sc_q_problem_correct'));
  }
  if (type === 'short_answer' && (k.short_answer as TextKey).alternatives.some((a) => !a.pattern.trim())) {
    out.push(t('sc_q_problem_pattern'));
  }
  if (type === 'fill_blanks' && (k.fill_blanks as TextKey[]).some((b) => b.alternatives.some((a) => !a.pattern.trim()))) {
    out.push(t('sc_q_problem_pattern'));
  }
  if (type === 'matching' && (k.matching as Pair[]).some((p) => blankLabel(p.left) || blankLabel(p.right))) {
    out.push(t('sc_q_problem_pair_text'));
  }
  if (type === 'ordering') {
    const items = k.ordering as string[];
    if (items.length < 2) out.push(t('sc_q_problem_order_two'));
    if (items.some(blankLabel)) out.push(t('sc_q_problem_order_text'));
  }
  if (type === 'numeric' && !Number.isFinite((k.numeric as NumericKey).value)) out.push(t('sc_q_problem_value'));
  return out;
}

// ---- Small inputs ----

/** A number input; empty gives `undefined`. */
function NumberField({
  id,
  label,
  value,
  onChange,
  min,
  max,
  step = 'any',
  hint,
}: {
  id: string;
  label: string;
  value: number | null | undefined;
  onChange: (v: number | undefined) => void;
  min?: number;
  max?: number;
  step?: string;
  hint?: string;
}) {
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        min={min}
        max={max}
        step={step}
        value={value === null || value === undefined || Number.isNaN(value) ? '' : String(value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => {
          const v = e.currentTarget.value;
          onChange(v === '' ? undefined : Number(v));
        }}
      />
      {hint && (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
    </span>
  );
}

/** A fraction 0–1 typed as a percentage. */
function PercentField(p: { id: string; label: string; value: number | null | undefined; onChange: (v: number | undefined) => void; hint?: string }) {
  const shown = p.value === null || p.value === undefined ? undefined : Math.round(p.value * 100000) / 1000;
  return (
    <NumberField
      id={p.id}
      label={p.label}
      hint={p.hint}
      min={0}
      max={100}
      value={shown}
      onChange={(v) => p.onChange(v === undefined ? undefined : v / 100)}
    />
  );
}

function TextField({
  id,
  label,
  value,
  onChange,
  multiline,
  required,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  multiline?: boolean;
  required?: boolean;
}) {
  return (
    <span class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea id={id} value={value} required={required} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input id={id} type="text" value={value} required={required} onInput={(e) => onChange(e.currentTarget.value)} />
      )}
    </span>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="choice">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>{label}</span>
    </label>
  );
}

/** Up, down and remove buttons for the `i`th of `n` rows, named after the row. */
function RowButtons({
  name,
  i,
  n,
  onMove,
  onRemove,
  min = 0,
}: {
  name: string;
  i: number;
  n: number;
  onMove?: (from: number, to: number) => void;
  onRemove: () => void;
  min?: number;
}) {
  return (
    <span class="sc-buttons">
      {onMove && (
        <>
          <button type="button" disabled={i === 0} aria-label={t('sc_move_up_named', { title: name })} onClick={() => onMove(i, i - 1)}>
            ↑
          </button>
          <button
            type="button"
            disabled={i === n - 1}
            aria-label={t('sc_move_down_named', { title: name })}
            onClick={() => onMove(i, i + 1)}
          >
            ↓
          </button>
        </>
      )}
      <button type="button" disabled={n <= min} onClick={onRemove}>
        {t('sc_remove_named', { what: name })}
      </button>
    </span>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  const next = [...list];
  const [x] = next.splice(from, 1);
  next.splice(to, 0, x!);
  return next;
}

// ---- The question card ----

export function QuestionEditor({
  q,
  n,
  total,
  perHint,
  pluginTypes = [],
  onChange,
  onMove,
  onRemove,
}: {
  q: Question;
  n: number;
  total: number;
  perHint: number;
  /** The question types plugins offer (for a plugin question's name and settings form). */
  pluginTypes?: PluginType[];
  onChange: (q: Question) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const type = questionType(q);
  const pk = pluginKey(q);
  const base = `q${n}`;
  const name = t('sc_question_n', { n });
  const hints = q.hints ?? [];
  const problems = questionProblems(q);
  return (
    <li class="card sc-question" data-question={q.id} aria-labelledby={`${base}-h`}>
      <div class="sc-item-head">
        <h3 id={`${base}-h`}>
          {name} <span class="badge">{pk ? pluginTypeLabel(pk, pluginTypes) : typeLabel(type)}</span>
        </h3>
        <span class="sc-buttons">
          <button type="button" id={`${base}-up`} disabled={n === 1} aria-label={t('sc_move_up_named', { title: name })} onClick={() => onMove(-1)}>
            ↑
          </button>
          <button
            type="button"
            id={`${base}-down`}
            disabled={n === total}
            aria-label={t('sc_move_down_named', { title: name })}
            onClick={() => onMove(1)}
          >
            ↓
          </button>
          <button type="button" onClick={onRemove}>
            {t('sc_remove_named', { what: name })}
          </button>
        </span>
      </div>
      <div class="stack">
        {/* A plugin's question type shows its own prompt in its view: this one is optional there. */}
        <TextField
          id={`${base}-prompt`}
          label={t('sc_q_prompt')}
          value={q.prompt ?? ''}
          onChange={(v) => onChange({ ...q, prompt: v })}
          multiline
          required={!pk}
        />
        {type === 'fill_blanks' && <p class="hint">{t('sc_q_blanks_hint')}</p>}
        <NumberField id={`${base}-points`} label={t('sc_q_points')} min={0} value={q.points} onChange={(v) => onChange({ ...q, points: v ?? 0 })} />
        {pk ? (
          <PluginSettings base={base} k={pk} types={pluginTypes} onChange={(key) => onChange({ ...q, key: { plugin: key } })} />
        ) : (
          <KeyEditor q={q} base={base} onChange={onChange} />
        )}
        <fieldset>
          <legend>{t('sc_q_hints')}</legend>
          <p class="hint">
            {perHint > 0
              ? t('sc_q_hints_cost', { cost: formatNumber(perHint, { style: 'percent', maximumFractionDigits: 1 }) })
              : t('sc_q_hints_free')}
          </p>
          <ol class="plain stack">
            {hints.map((h, i) => (
              <li key={i} class="row">
                <TextField
                  id={`${base}-hint-${i}`}
                  label={t('sc_q_hint_n', { n: i + 1 })}
                  value={h}
                  onChange={(v) => onChange({ ...q, hints: hints.map((x, j) => (j === i ? v : x)) })}
                />
                <RowButtons
                  name={t('sc_q_hint_n', { n: i + 1 })}
                  i={i}
                  n={hints.length}
                  onMove={(a, b) => onChange({ ...q, hints: move(hints, a, b) })}
                  onRemove={() => onChange({ ...q, hints: hints.filter((_, j) => j !== i) })}
                />
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => onChange({ ...q, hints: [...hints, ''] })}>
            {t('sc_q_hint_add')}
          </button>
        </fieldset>
        {problems.length > 0 && (
          <ul class="field-error sc-problems" aria-label={t('sc_q_problems', { question: name })}>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </div>
    </li>
  );
}

function KeyEditor({ q, base, onChange }: { q: Question; base: string; onChange: (q: Question) => void }) {
  const type = questionType(q);
  const k = q.key as Record<string, unknown>;
  const labels = q.labels ?? {};
  const setKey = (key: unknown, newLabels?: Record<string, string>) =>
    onChange({ ...q, key: { [type]: key } as AnswerKey, labels: newLabels ?? labels });
  switch (type) {
    case 'single_choice':
    case 'multiple_choice':
      return <ChoiceEditor base={base} single={type === 'single_choice'} k={k[type] as ChoiceKey} labels={labels} onChange={setKey} />;
    case 'true_false':
      return (
        <fieldset>
          <legend>{t('sc_q_right_answer')}</legend>
          <label class="choice">
            <input type="radio" name={`${base}-tf`} checked={k.true_false === true} onChange={() => setKey(true)} />
            <span>{t('sc_true')}</span>
          </label>
          <label class="choice">
            <input type="radio" name={`${base}-tf`} checked={k.true_false === false} onChange={() => setKey(false)} />
            <span>{t('sc_false')}</span>
          </label>
        </fieldset>
      );
    case 'numeric':
      return <NumericEditor base={base} k={k.numeric as NumericKey} onChange={setKey} />;
    case 'short_answer':
      return (
        <Group legend={t('sc_q_accepted_answers')}>
          <TextKeyEditor base={`${base}-sa`} k={k.short_answer as TextKey} onChange={setKey} />
        </Group>
      );
    case 'fill_blanks': {
      const blanks = k.fill_blanks as TextKey[];
      return (
        <div class="stack">
          {blanks.map((b, i) => (
            <Group key={i} legend={t('sc_q_blank_n', { n: i + 1 })}>
              <TextKeyEditor base={`${base}-b${i}`} k={b} onChange={(nb) => setKey(blanks.map((x, j) => (j === i ? nb : x)))} />
              <RowButtons
                name={t('sc_q_blank_n', { n: i + 1 })}
                i={i}
                n={blanks.length}
                min={1}
                onRemove={() => setKey(blanks.filter((_, j) => j !== i))}
              />
            </Group>
          ))}
          <button type="button" onClick={() => setKey([...blanks, emptyText()])}>
            {t('sc_q_blank_add')}
          </button>
        </div>
      );
    }
    case 'matching':
      return <MatchingEditor base={base} pairs={k.matching as Pair[]} labels={labels} onChange={setKey} />;
    case 'ordering':
      return <OrderingEditor base={base} items={k.ordering as string[]} labels={labels} onChange={setKey} />;
    case 'essay':
      return <RubricEditor base={base} criteria={k.essay as Criterion[]} onChange={setKey} />;
  }
}

/** A plugin question's settings, in the form its type's settings schema describes (the server
 *  checks them against the same schema when the quiz is saved). */
function PluginSettings({
  base,
  k,
  types,
  onChange,
}: {
  base: string;
  k: PluginKey;
  types: PluginType[];
  onChange: (k: PluginKey) => void;
}) {
  const pt = types.find((x) => x.plugin === k.plugin && x.type === k.type);
  return (
    <>
      {!pt && <p class="notice warn">{t('sc_q_plugin_unavailable', { type: `${k.plugin}/${k.type}` })}</p>}
      <SchemaForm
        base={`${base}-settings`}
        legend={t('sc_q_plugin_settings', { type: pt?.name ?? k.type })}
        description={pt?.description}
        schema={pt?.settings_schema}
        value={k.settings}
        onChange={(v) => onChange({ ...k, settings: v as Record<string, never> })}
      />
    </>
  );
}

function Group({ legend, children }: { legend: string; children: ComponentChildren }) {
  return (
    <fieldset class="stack">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}

/** Labels with stale ids dropped and `changes` applied. */
function relabel(labels: Record<string, string>, keep: string[], changes: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of keep) out[id] = changes[id] ?? labels[id] ?? '';
  return out;
}

function ChoiceEditor({
  base,
  single,
  k,
  labels,
  onChange,
}: {
  base: string;
  single: boolean;
  k: ChoiceKey;
  labels: Record<string, string>;
  onChange: (k: ChoiceKey, labels: Record<string, string>) => void;
}) {
  const rule = k.rule ?? 'all_or_nothing';
  const weighted = rule === 'per_option_weights';
  const ids = k.options.map((o) => o.id);
  const set = (options: ChoiceOption[], changes?: Record<string, string>) =>
    onChange({ ...k, options }, relabel(labels, options.map((o) => o.id), changes));
  const setOption = (i: number, o: ChoiceOption) => set(k.options.map((x, j) => (j === i ? o : x)));
  return (
    <fieldset class="stack">
      <legend>{t('sc_q_options')}</legend>
      <span class="field">
        <label for={`${base}-rule`}>{t('sc_q_rule')}</label>
        <select id={`${base}-rule`} value={rule} onChange={(e) => onChange({ ...k, rule: e.currentTarget.value as ChoiceKey['rule'] }, labels)}>
          <option value="all_or_nothing">{t('sc_rule_all_or_nothing')}</option>
          {!single && <option value="right_minus_wrong">{t('sc_rule_right_minus_wrong')}</option>}
          <option value="per_option_weights">{t('sc_rule_per_option_weights')}</option>
        </select>
      </span>
      <ol class="plain stack">
        {k.options.map((o, i) => {
          const name = t('sc_q_option_n', { n: i + 1 });
          const id = `${base}-opt-${i}`;
          return (
            <li key={o.id} class="sc-row card">
              <TextField id={`${id}-text`} label={t('sc_q_option_text', { n: i + 1 })} value={labels[o.id] ?? ''} onChange={(v) => set(k.options, { [o.id]: v })} required />
              {weighted ? (
                <NumberField
                  id={`${id}-weight`}
                  label={t('sc_q_option_weight', { n: i + 1 })}
                  min={-100}
                  max={100}
                  value={o.weight === undefined ? 0 : Math.round(o.weight * 100000) / 1000}
                  hint={t('sc_q_option_weight_hint')}
                  onChange={(v) => setOption(i, { ...o, weight: (v ?? 0) / 100 })}
                />
              ) : (
                <Check label={t('sc_q_option_correct', { n: i + 1 })} checked={o.correct ?? false} onChange={(v) => setOption(i, { ...o, correct: v })} />
              )}
              <TextField
                id={`${id}-feedback`}
                label={t('sc_q_option_feedback', { n: i + 1 })}
                value={o.feedback ?? ''}
                onChange={(v) => setOption(i, { ...o, feedback: v || null })}
              />
              <RowButtons
                name={name}
                i={i}
                n={k.options.length}
                min={2}
                onMove={(a, b) => set(move(k.options, a, b))}
                onRemove={() => set(k.options.filter((_, j) => j !== i))}
              />
            </li>
          );
        })}
      </ol>
      <button type="button" onClick={() => set([...k.options, { id: newId('o'), correct: false, weight: 0 }])}>
        {t('sc_q_option_add')}
      </button>
      {ids.length > 0 && <p class="hint">{single ? t('sc_q_single_hint') : t('sc_q_multiple_hint')}</p>}
    </fieldset>
  );
}

function NumericEditor({ base, k, onChange }: { base: string; k: NumericKey; onChange: (k: NumericKey) => void }) {
  const units = k.units ?? [];
  return (
    <fieldset class="stack">
      <legend>{t('sc_q_right_answer')}</legend>
      <div class="row">
        <NumberField id={`${base}-value`} label={t('sc_q_value')} value={k.value} onChange={(v) => onChange({ ...k, value: v ?? NaN })} />
        <NumberField
          id={`${base}-abs`}
          label={t('sc_q_abs_tolerance')}
          min={0}
          value={k.absolute_tolerance}
          onChange={(v) => onChange({ ...k, absolute_tolerance: v ?? null })}
        />
        <PercentField
          id={`${base}-rel`}
          label={t('sc_q_rel_tolerance')}
          value={k.relative_tolerance}
          onChange={(v) => onChange({ ...k, relative_tolerance: v ?? null })}
        />
      </div>
      <fieldset>
        <legend>{t('sc_q_units')}</legend>
        <p class="hint">{t('sc_q_units_hint')}</p>
        <ol class="plain stack">
          {units.map((u, i) => (
            <li key={i} class="row">
              <TextField
                id={`${base}-unit-${i}`}
                label={t('sc_q_unit_name', { n: i + 1 })}
                value={u.name}
                onChange={(v) => onChange({ ...k, units: units.map((x, j) => (j === i ? { ...x, name: v } : x)) })}
              />
              <NumberField
                id={`${base}-unit-${i}-factor`}
                label={t('sc_q_unit_factor', { n: i + 1 })}
                value={u.factor ?? 1}
                onChange={(v) => onChange({ ...k, units: units.map((x, j) => (j === i ? { ...x, factor: v ?? 1 } : x)) })}
              />
              <RowButtons name={t('sc_q_unit_name', { n: i + 1 })} i={i} n={units.length} onRemove={() => onChange({ ...k, units: units.filter((_, j) => j !== i) })} />
            </li>
          ))}
        </ol>
        <button type="button" onClick={() => onChange({ ...k, units: [...units, { name: '', factor: 1 }] })}>
          {t('sc_q_unit_add')}
        </button>
      </fieldset>
      {units.length > 0 && (
        <PercentField
          id={`${base}-unit-credit`}
          label={t('sc_q_unit_missing_credit')}
          value={k.unit_missing_credit ?? 0}
          onChange={(v) => onChange({ ...k, unit_missing_credit: v ?? 0 })}
        />
      )}
    </fieldset>
  );
}

function TextKeyEditor({ base, k, onChange }: { base: string; k: TextKey; onChange: (k: TextKey) => void }) {
  const alts = k.alternatives;
  const setAlt = (i: number, a: TextAlternative) => onChange({ ...k, alternatives: alts.map((x, j) => (j === i ? a : x)) });
  return (
    <>
      <ol class="plain stack">
        {alts.map((a, i) => {
          const id = `${base}-alt-${i}`;
          return (
            <li key={i} class="sc-row card">
              <TextField id={`${id}-pattern`} label={t('sc_q_alt_pattern', { n: i + 1 })} value={a.pattern} onChange={(v) => setAlt(i, { ...a, pattern: v })} required />
              <Check label={t('sc_q_alt_regex', { n: i + 1 })} checked={a.regex ?? false} onChange={(v) => setAlt(i, { ...a, regex: v })} />
              <PercentField
                id={`${id}-credit`}
                label={t('sc_q_alt_credit', { n: i + 1 })}
                hint={t('sc_q_alt_credit_hint')}
                value={a.credit ?? 1}
                onChange={(v) => setAlt(i, { ...a, credit: v ?? 0 })}
              />
              <TextField id={`${id}-feedback`} label={t('sc_q_alt_feedback', { n: i + 1 })} value={a.feedback ?? ''} onChange={(v) => setAlt(i, { ...a, feedback: v || null })} />
              <RowButtons
                name={t('sc_q_alt_n', { n: i + 1 })}
                i={i}
                n={alts.length}
                min={1}
                onRemove={() => onChange({ ...k, alternatives: alts.filter((_, j) => j !== i) })}
              />
            </li>
          );
        })}
      </ol>
      <button type="button" onClick={() => onChange({ ...k, alternatives: [...alts, { pattern: '', credit: 1, regex: false }] })}>
        {t('sc_q_alt_add')}
      </button>
      <Check label={t('sc_q_case_sensitive')} checked={k.case_sensitive ?? false} onChange={(v) => onChange({ ...k, case_sensitive: v })} />
      <Check label={t('sc_q_normalize_ws')} checked={k.normalize_whitespace ?? true} onChange={(v) => onChange({ ...k, normalize_whitespace: v })} />
    </>
  );
}

function MatchingEditor({
  base,
  pairs,
  labels,
  onChange,
}: {
  base: string;
  pairs: Pair[];
  labels: Record<string, string>;
  onChange: (p: Pair[], labels: Record<string, string>) => void;
}) {
  /**
   * Rebuilds pairs and labels from rows of text. Right-hand items with the same text share one id
   * (the exam shows each target once), so two prompts can match the same answer.
   */
  function rebuild(rows: { left: string; leftText: string; right: string; rightText: string }[]) {
    const byText = new Map<string, string>();
    const used = new Set<string>();
    const next: Pair[] = [];
    const out: Record<string, string> = {};
    for (const r of rows) {
      const text = r.rightText.trim();
      let right = text ? byText.get(text) : undefined;
      if (!right) {
        // The row's own id, unless an earlier row (which shared it) kept it.
        right = used.has(r.right) ? newId('r') : r.right;
        if (text) byText.set(text, right);
      }
      used.add(right);
      out[r.left] = r.leftText;
      out[right] = r.rightText;
      next.push({ left: r.left, right });
    }
    onChange(next, out);
  }
  const rows = pairs.map((p) => ({ left: p.left, leftText: labels[p.left] ?? '', right: p.right, rightText: labels[p.right] ?? '' }));
  return (
    <fieldset class="stack">
      <legend>{t('sc_q_pairs')}</legend>
      <p class="hint">{t('sc_q_pairs_hint')}</p>
      <ol class="plain stack">
        {rows.map((r, i) => (
          <li key={r.left} class="sc-row card">
            <TextField
              id={`${base}-pair-${i}-left`}
              label={t('sc_q_pair_left', { n: i + 1 })}
              value={r.leftText}
              required
              onChange={(v) => rebuild(rows.map((x, j) => (j === i ? { ...x, leftText: v } : x)))}
            />
            <TextField
              id={`${base}-pair-${i}-right`}
              label={t('sc_q_pair_right', { n: i + 1 })}
              value={r.rightText}
              required
              onChange={(v) => rebuild(rows.map((x, j) => (j === i ? { ...x, rightText: v } : x)))}
            />
            <RowButtons name={t('sc_q_pair_n', { n: i + 1 })} i={i} n={rows.length} min={1} onRemove={() => rebuild(rows.filter((_, j) => j !== i))} />
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => rebuild([...rows, { left: newId('l'), leftText: '', right: newId('r'), rightText: '' }])}>
        {t('sc_q_pair_add')}
      </button>
    </fieldset>
  );
}

function OrderingEditor({
  base,
  items,
  labels,
  onChange,
}: {
  base: string;
  items: string[];
  labels: Record<string, string>;
  onChange: (items: string[], labels: Record<string, string>) => void;
}) {
  const set = (next: string[], changes?: Record<string, string>) => onChange(next, relabel(labels, next, changes));
  return (
    <fieldset class="stack">
      <legend>{t('sc_q_order')}</legend>
      <p class="hint">{t('sc_q_order_hint')}</p>
      <ol class="stack sc-order">
        {items.map((id, i) => (
          <li key={id} class="row">
            <TextField id={`${base}-order-${i}`} label={t('sc_q_order_item', { n: i + 1 })} value={labels[id] ?? ''} required onChange={(v) => set(items, { [id]: v })} />
            <RowButtons
              name={t('sc_q_order_item', { n: i + 1 })}
              i={i}
              n={items.length}
              min={2}
              onMove={(a, b) => set(move(items, a, b))}
              onRemove={() => set(items.filter((_, j) => j !== i))}
            />
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => set([...items, newId('o')])}>
        {t('sc_q_order_add')}
      </button>
    </fieldset>
  );
}

function RubricEditor({ base, criteria, onChange }: { base: string; criteria: Criterion[]; onChange: (c: Criterion[]) => void }) {
  const total = criteria.reduce((s, c) => s + (c.points || 0), 0);
  return (
    <fieldset class="stack">
      <legend>{t('sc_q_rubric')}</legend>
      <p class="hint">{t('sc_q_rubric_hint', { total: formatNumber(total) })}</p>
      <ol class="plain stack">
        {criteria.map((c, i) => (
          <li key={c.id} class="sc-row card">
            <TextField
              id={`${base}-crit-${i}`}
              label={t('sc_q_criterion', { n: i + 1 })}
              value={c.description ?? ''}
              onChange={(v) => onChange(criteria.map((x, j) => (j === i ? { ...x, description: v } : x)))}
            />
            <NumberField
              id={`${base}-crit-${i}-points`}
              label={t('sc_q_criterion_points', { n: i + 1 })}
              min={0}
              value={c.points}
              onChange={(v) => onChange(criteria.map((x, j) => (j === i ? { ...x, points: v ?? 0 } : x)))}
            />
            <RowButtons name={t('sc_q_criterion', { n: i + 1 })} i={i} n={criteria.length} onRemove={() => onChange(criteria.filter((_, j) => j !== i))} />
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => onChange([...criteria, { id: newId('c'), description: '', points: 1 }])}>
        {t('sc_q_criterion_add')}
      </button>
    </fieldset>
  );
}

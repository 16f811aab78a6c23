// The regrade after a key change, on the gradebook page: choose an assessment, change the keys of
// some of its questions, give the reason (kept in every changed grade's history and sent to the
// students whose grade changes), and POST /assessments/{id}/regrade with the assessment's version
// in If-Match.
//
// Who is affected: before the regrade, the students with a submission (every one is regraded);
// after it, the students whose grade actually moved, as the grading pipeline reports them. The API
// regrades in the background and offers no preview (dry run) and no job status, so the page
// compares the gradebook before and after, watching it for a while and listing each change as it
// appears.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { announce, describeError } from '../components/ui';
import { type MessageKey, t, tp } from '../i18n';
import { useSession } from '../session';
import type { GradebookData } from './gradebook_page';
import { itemTitle, loadGradebook, pointsOf } from './grading_shared';

type Assessment = Schemas['Assessment'];
type Question = Schemas['Question'];
type AnswerKey = Schemas['AnswerKey'];

/** How long the page watches the gradebook for the regrade's changes. */
const WATCH_MS = 30_000;
const POLL_MS = 1_500;

const KIND_KEYS: Record<string, MessageKey> = {
  single_choice: 'sg_kind_single_choice',
  multiple_choice: 'sg_kind_multiple_choice',
  true_false: 'sg_kind_true_false',
  numeric: 'sg_kind_numeric',
  short_answer: 'sg_kind_short_answer',
  matching: 'sg_kind_matching',
  ordering: 'sg_kind_ordering',
  fill_blanks: 'sg_kind_fill_blanks',
  essay: 'sg_kind_essay',
};

function keyKind(k: AnswerKey): string {
  return Object.keys(k)[0] ?? '';
}

interface Change {
  student: string;
  name: string;
  before?: { points: number; max: number };
  after: { points: number; max: number };
}

export function RegradePanel({ course, data, onChanged }: { course: string; data: GradebookData; onChanged: () => void }) {
  const { institution } = useSession();
  const gradable = data.assessments.filter((a) => data.book.columns.some((c) => c.item === a.id));
  const [chosen, setChosen] = useState('');
  const [assessment, setAssessment] = useState<Assessment | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [keys, setKeys] = useState<Record<string, AnswerKey>>({});
  const [editing, setEditing] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<{ queued: number; changes: Change[]; watching: boolean } | undefined>(undefined);
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  async function choose(id: string) {
    setChosen(id);
    setAssessment(undefined);
    setLoadError(undefined);
    setKeys({});
    setEditing(new Set());
    setResult(undefined);
    setError(undefined);
    if (!id) return;
    try {
      const a = await call(api.GET('/api/v1/assessments/{assessment_id}', { params: { path: { assessment_id: id } } }));
      setAssessment(a);
    } catch (e) {
      setLoadError(e);
    }
  }

  // Everyone with a grade for the assessment has their submissions regraded.
  const submitted = useMemo(
    () => data.book.items.filter((g) => g.item === chosen && g.attempts.length > 0),
    [data.book.items, chosen],
  );
  const nameOf = (id: string) => data.book.students.find((s) => s.student === id)?.name ?? id;
  const changed = Object.keys(keys).filter((q) => editing.has(q));

  async function regrade(e: Event) {
    e.preventDefault();
    if (!assessment || changed.length === 0 || !reason.trim()) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      // The grades as they are now, to tell afterwards whose grade the regrade moved.
      const before = new Map(
        (await loadGradebook(institution, course)).items
          .filter((g) => g.item === assessment.id)
          .map((g) => [g.student, { points: g.points, max: g.max_points, revision: g.revision }]),
      );
      const body = { keys: Object.fromEntries(changed.map((q) => [q, keys[q]!])), reason: reason.trim() };
      const r = await call(
        api.POST('/api/v1/assessments/{assessment_id}/regrade', {
          params: { path: { assessment_id: assessment.id } },
          headers: { 'If-Match': `"${assessment.version}"` },
          body,
        }),
      );
      announce(tp('sg_regrade_queued', r.queued));
      setResult({ queued: r.queued, changes: [], watching: true });
      setAssessment({ ...assessment, version: r.assessment_version, questions: assessment.questions.map((q) => (keys[q.id] && editing.has(q.id) ? { ...q, key: keys[q.id]! } : q)) });
      setEditing(new Set());
      setReason('');
      void watch(assessment.id, before, r.queued);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  /** Polls the gradebook and lists every grade of the item that changed since `before`. */
  async function watch(item: string, before: Map<string, { points: number; max: number; revision: number }>, queued: number) {
    const end = Date.now() + WATCH_MS;
    let changes: Change[] = [];
    let seen = 0;
    while (live.current && Date.now() < end) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      let book;
      try {
        book = await loadGradebook(institution, course);
      } catch {
        continue; // a failed poll is retried at the next tick
      }
      changes = book.items
        .filter((g) => g.item === item)
        .filter((g) => {
          const b = before.get(g.student);
          return !b || b.revision !== g.revision;
        })
        .filter((g) => {
          const b = before.get(g.student);
          return !b || b.points !== g.points || b.max !== g.max_points;
        })
        .map((g) => {
          const b = before.get(g.student);
          return {
            student: g.student,
            name: book.students.find((s) => s.student === g.student)?.name ?? g.student,
            before: b ? { points: b.points, max: b.max } : undefined,
            after: { points: g.points, max: g.max_points },
          };
        });
      if (!live.current) return;
      // A new change: the grid above shows it too.
      if (changes.length !== seen) {
        seen = changes.length;
        onChanged();
      }
      setResult({ queued, changes, watching: true });
    }
    if (!live.current) return;
    setResult({ queued, changes, watching: false });
    announce(tp('sg_regrade_changed', changes.length));
  }

  return (
    <section class="card sg-regrade" aria-labelledby="sg-regrade-h">
      <h2 id="sg-regrade-h">{t('sg_regrade_title')}</h2>
      <p class="hint">{t('sg_regrade_intro')}</p>
      <label class="field">
        <span>{t('sg_regrade_assessment')}</span>
        <select value={chosen} onChange={(e) => void choose(e.currentTarget.value)}>
          <option value="">{t('sg_choose_assessment')}</option>
          {gradable.map((a) => (
            <option key={a.id} value={a.id}>
              {a.title}
            </option>
          ))}
        </select>
      </label>
      {loadError !== undefined && (
        <p class="notice error" role="alert">
          {describeError(loadError)}
        </p>
      )}
      {assessment && (
        <form onSubmit={regrade}>
          <h3>{t('sg_regrade_questions')}</h3>
          <ol class="sg-key-list">
            {assessment.questions.map((q, i) => (
              <li key={q.id}>
                <QuestionKey
                  n={i + 1}
                  question={q}
                  editing={editing.has(q.id)}
                  value={keys[q.id] ?? q.key}
                  onEdit={(on) => {
                    const next = new Set(editing);
                    if (on) next.add(q.id);
                    else next.delete(q.id);
                    setEditing(next);
                    if (on && !keys[q.id]) setKeys({ ...keys, [q.id]: structuredClone(q.key) });
                    if (!on) {
                      const { [q.id]: _, ...rest } = keys;
                      setKeys(rest);
                    }
                  }}
                  onChange={(k) => setKeys({ ...keys, [q.id]: k })}
                />
              </li>
            ))}
          </ol>
          <h3>{t('sg_regrade_who')}</h3>
          {submitted.length === 0 ? (
            <p class="muted">{t('sg_regrade_nobody')}</p>
          ) : (
            <>
              <p>{tp('sg_regrade_will_regrade', submitted.length)}</p>
              <ul class="sg-affected">
                {submitted.map((g) => (
                  <li key={g.student}>
                    {nameOf(g.student)}: {pointsOf(g.points, g.max_points)}
                  </li>
                ))}
              </ul>
              <p class="hint">{t('sg_regrade_manual_kept')}</p>
            </>
          )}
          <label class="field">
            <span>{t('sg_regrade_reason')}</span>
            <textarea required rows={2} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby="sg-regrade-reason-hint" />
          </label>
          <p id="sg-regrade-reason-hint" class="hint">
            {t('sg_regrade_reason_hint')}
          </p>
          {error !== undefined && (
            <p class="notice error" role="alert">
              {error instanceof ApiError && error.status === 412 ? t('sg_regrade_conflict') : describeError(error)}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy || changed.length === 0 || !reason.trim()} aria-busy={busy}>
            {busy ? t('sg_saving') : tp('sg_regrade_submit', changed.length)}
          </button>
        </form>
      )}
      {result && (
        <div class="sg-regrade-result" role="status">
          <p class="notice ok">{tp('sg_regrade_queued', result.queued)}</p>
          <h3>{t('sg_regrade_affected')}</h3>
          {result.changes.length === 0 ? (
            <p>{result.watching ? t('sg_regrade_watching') : t('sg_regrade_no_change')}</p>
          ) : (
            <ul class="sg-affected">
              {result.changes.map((c) => (
                <li key={c.student}>
                  {t('sg_regrade_change', {
                    name: c.name,
                    before: c.before ? pointsOf(c.before.points, c.before.max) : '—',
                    after: pointsOf(c.after.points, c.after.max),
                  })}
                </li>
              ))}
            </ul>
          )}
          {result.watching ? (
            <p class="hint">{t('sg_regrade_still_watching')}</p>
          ) : (
            <p class="hint">{t('sg_regrade_done_watching')}</p>
          )}
        </div>
      )}
      {gradable.length > 0 && !assessment && chosen === '' && (
        <p class="hint">{t('sg_regrade_choose_first', { example: itemTitle(gradable[0]!.id, data.assessments) })}</p>
      )}
    </section>
  );
}

/** One question: its key in words, and an editor for a new key when asked for. */
function QuestionKey({
  n,
  question: q,
  editing,
  value,
  onEdit,
  onChange,
}: {
  n: number;
  question: Question;
  editing: boolean;
  value: AnswerKey;
  onEdit: (on: boolean) => void;
  onChange: (k: AnswerKey) => void;
}) {
  const kind = keyKind(q.key);
  const label = (id: string) => q.labels?.[id] ?? id;
  const title = q.prompt || q.id;
  const headingId = `sg-q-${q.id}`.replace(/[^\w-]/g, '_');
  return (
    <div class="sg-key" role="group" aria-labelledby={headingId}>
      <p id={headingId} class="sg-key-title">
        <strong>{t('sg_question_n', { n })}</strong> {title}{' '}
        <span class="badge">{t(KIND_KEYS[kind] ?? 'sg_kind_other')}</span>
      </p>
      {kind === 'essay' ? (
        <p class="hint">{t('sg_regrade_essay')}</p>
      ) : (
        <>
          <p class="hint sg-key-summary">
            {t('sg_current_key', { key: describeKey(q.key, label) })}
          </p>
          <label class="choice">
            <input type="checkbox" checked={editing} onChange={(e) => onEdit(e.currentTarget.checked)} />
            <span>{t('sg_change_key', { n })}</span>
          </label>
          {editing && <KeyEditor qid={q.id} value={value} label={label} onChange={onChange} />}
        </>
      )}
    </div>
  );
}

/** A key in a line: the right options, the number, the accepted answers. */
function describeKey(k: AnswerKey, label: (id: string) => string): string {
  if ('single_choice' in k) return k.single_choice.options.filter((o) => o.correct).map((o) => label(o.id)).join(', ');
  if ('multiple_choice' in k) return k.multiple_choice.options.filter((o) => o.correct).map((o) => label(o.id)).join(', ');
  if ('true_false' in k) return k.true_false ? t('sg_true') : t('sg_false');
  if ('numeric' in k) return String(k.numeric.value) + (k.numeric.units?.[0] ? ` ${k.numeric.units[0].name}` : '');
  if ('short_answer' in k) return k.short_answer.alternatives.filter((a) => a.credit > 0).map((a) => a.pattern).join(' | ');
  if ('matching' in k) return k.matching.map((p) => `${label(p.left)} → ${label(p.right)}`).join('; ');
  if ('ordering' in k) return k.ordering.map(label).join(' → ');
  if ('fill_blanks' in k) return k.fill_blanks.map((b) => b.alternatives.filter((a) => a.credit > 0).map((a) => a.pattern).join(' | ')).join(' · ');
  return '';
}

/** The new key of one question, edited as its type allows. */
function KeyEditor({
  qid,
  value,
  label,
  onChange,
}: {
  qid: string;
  value: AnswerKey;
  label: (id: string) => string;
  onChange: (k: AnswerKey) => void;
}) {
  if ('single_choice' in value || 'multiple_choice' in value) {
    const single = 'single_choice' in value;
    const ck = single ? value.single_choice : value.multiple_choice;
    const set = (options: Schemas['ChoiceOption'][]) =>
      onChange(single ? { single_choice: { ...ck, options } } : { multiple_choice: { ...ck, options } });
    return (
      <fieldset class="sg-key-editor">
        <legend>{t('sg_key_correct_options')}</legend>
        {ck.options.map((o, i) => (
          <label class="choice" key={o.id}>
            <input
              type="checkbox"
              checked={o.correct}
              onChange={(e) => {
                const correct = e.currentTarget.checked;
                set(ck.options.map((x, k) => (k === i ? { ...x, correct, weight: correct ? Math.max(x.weight, 1) : 0 } : x)));
              }}
            />
            <span>{label(o.id)}</span>
          </label>
        ))}
      </fieldset>
    );
  }
  if ('true_false' in value) {
    return (
      <fieldset class="sg-key-editor">
        <legend>{t('sg_key_right_answer')}</legend>
        {[true, false].map((b) => (
          <label class="choice" key={String(b)}>
            <input type="radio" name={`sg-tf-${qid}`} checked={value.true_false === b} onChange={() => onChange({ true_false: b })} />
            <span>{b ? t('sg_true') : t('sg_false')}</span>
          </label>
        ))}
      </fieldset>
    );
  }
  if ('numeric' in value) {
    const nk = value.numeric;
    const num = (s: string) => (s.trim() === '' ? null : Number(s));
    return (
      <div class="row sg-key-editor">
        <label class="field">
          <span>{t('sg_key_value')}</span>
          <input type="number" step="any" value={String(nk.value)} onInput={(e) => onChange({ numeric: { ...nk, value: Number(e.currentTarget.value) } })} />
        </label>
        <label class="field">
          <span>{t('sg_key_abs_tolerance')}</span>
          <input
            type="number"
            step="any"
            min="0"
            value={nk.absolute_tolerance == null ? '' : String(nk.absolute_tolerance)}
            onInput={(e) => onChange({ numeric: { ...nk, absolute_tolerance: num(e.currentTarget.value) } })}
          />
        </label>
        <label class="field">
          <span>{t('sg_key_rel_tolerance')}</span>
          <input
            type="number"
            step="any"
            min="0"
            value={nk.relative_tolerance == null ? '' : String(nk.relative_tolerance)}
            onInput={(e) => onChange({ numeric: { ...nk, relative_tolerance: num(e.currentTarget.value) } })}
          />
        </label>
      </div>
    );
  }
  if ('short_answer' in value) {
    const sk = value.short_answer;
    const set = (alternatives: Schemas['TextAlternative'][]) => onChange({ short_answer: { ...sk, alternatives } });
    return (
      <fieldset class="sg-key-editor">
        <legend>{t('sg_key_alternatives')}</legend>
        {sk.alternatives.map((a, i) => (
          <div class="row" key={i}>
            <label class="field">
              <span>{t('sg_key_pattern', { n: i + 1 })}</span>
              <input type="text" value={a.pattern} onInput={(e) => set(sk.alternatives.map((x, k) => (k === i ? { ...x, pattern: e.currentTarget.value } : x)))} />
            </label>
            <label class="field">
              <span>{t('sg_key_credit', { n: i + 1 })}</span>
              <input
                type="number"
                min="0"
                max="1"
                step="any"
                value={String(a.credit)}
                onInput={(e) => set(sk.alternatives.map((x, k) => (k === i ? { ...x, credit: Number(e.currentTarget.value) } : x)))}
              />
            </label>
          </div>
        ))}
        <button type="button" onClick={() => set([...sk.alternatives, { pattern: '', regex: false, credit: 1, feedback: null }])}>
          {t('sg_key_add_alternative')}
        </button>
      </fieldset>
    );
  }
  // Matching, ordering and fill-in-the-blanks keys: edited as the API's JSON (the quiz builder
  // has the full editors); the server validates it.
  return <JsonKeyEditor value={value} onChange={onChange} />;
}

function JsonKeyEditor({ value, onChange }: { value: AnswerKey; onChange: (k: AnswerKey) => void }) {
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <label class="field sg-key-editor">
      <span>{t('sg_key_json')}</span>
      <textarea
        rows={6}
        class="sg-json"
        value={text}
        aria-invalid={bad}
        aria-describedby="sg-json-hint"
        onInput={(e) => {
          const s = e.currentTarget.value;
          setText(s);
          try {
            onChange(JSON.parse(s) as AnswerKey);
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      <span id="sg-json-hint" class={bad ? 'field-error' : 'hint'}>
        {bad ? t('sg_key_json_invalid') : t('sg_key_json_hint')}
      </span>
    </label>
  );
}

// /teach/courses/:course/grading: the manual grading queue. Every question that waits for a
// person (essays, and answers the grader could not apply a key to) of every assessment of the
// course (GET /assessments/{id}/manual-queue each), one at a time: the prompt, the student's
// answer, why it waits, the rubric's criteria with the points each is worth, a comment for the
// student, and PUT …/questions/{question}/manual-grade with the version the queue showed.
//
// The queue is the list loaded with the page: a graded entry stays in it (marked graded, with the
// version its grade now has), so Previous goes back to it and a second look can change the grade;
// "Reload the queue" fetches what is waiting now.
import { useMemo, useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { announce, describeError, useLoad } from '../components/ui';
import { formatDateTime, t, tp } from '../i18n';
import { useSession } from '../session';
import {
  type AssessmentSummary,
  type Person,
  StaffAsync,
  StaffFrame,
  fromUnix,
  loadAssessments,
  loadRoster,
  personName,
  points,
  pointsOf,
} from './grading_shared';

type QueueEntry = Schemas['QueueEntry'];

interface Entry extends QueueEntry {
  assessment: AssessmentSummary;
  /** Set once graded here: the grade's version (to send when changing it) and the result. */
  graded?: { version: number; points: number; criteria: Record<string, number>; comment: string; total: string };
}

interface QueueData {
  entries: Entry[];
  roster: Map<string, Person>;
}

const entryKey = (e: Entry) => `${e.assessment.id}/${e.attempt}/${e.question_id}`;

export function GradingQueuePage({ course }: { course: string }) {
  return (
    <StaffFrame course={course} section="grading" title={(c) => t('sg_queue_title', { course: c.title })}>
      {(c) => <QueueBody course={c.id} />}
    </StaffFrame>
  );
}

function QueueBody({ course }: { course: string }) {
  const { institution } = useSession();
  const state = useLoad<QueueData>(async () => {
    const [assessments, roster] = await Promise.all([loadAssessments(institution, course), loadRoster(institution, course)]);
    // One call per assessment (a course has a handful); drafts have no submissions to grade.
    const queues = await Promise.all(
      assessments
        .filter((a) => a.published || a.archived_at)
        .map(async (a) => {
          const q = await call(
            api.GET('/api/v1/assessments/{assessment_id}/manual-queue', { params: { path: { assessment_id: a.id } } }),
          );
          return q.items.map((e): Entry => ({ ...e, assessment: a }));
        }),
    );
    // Oldest submission first: the order students handed in.
    const entries = queues
      .flat()
      .sort((a, b) => a.submitted_at - b.submitted_at || a.attempt.localeCompare(b.attempt) || a.question_id.localeCompare(b.question_id));
    return { entries, roster };
  }, [institution, course]);

  return (
    <StaffAsync state={state}>
      {(data) => <Queue key={data.entries.map(entryKey).join()} data={data} onReload={state.reload} />}
    </StaffAsync>
  );
}

function Queue({ data, onReload }: { data: QueueData; onReload: () => void }) {
  const [entries, setEntries] = useState(data.entries);
  const [filter, setFilter] = useState('');
  const [at, setAt] = useState(0);
  const assessments = useMemo(() => {
    const m = new Map<string, AssessmentSummary>();
    for (const e of data.entries) m.set(e.assessment.id, e.assessment);
    return [...m.values()];
  }, [data.entries]);
  const shown = entries.filter((e) => !filter || e.assessment.id === filter);
  const waiting = shown.filter((e) => !e.graded).length;
  const current = shown[Math.min(at, shown.length - 1)];
  const index = current ? shown.indexOf(current) : -1;

  function go(i: number) {
    setAt(Math.max(0, Math.min(shown.length - 1, i)));
    // The entry's heading takes the focus, so a screen reader starts at the new answer.
    requestAnimationFrame(() => document.getElementById('sg-entry-h')?.focus());
  }

  function graded(e: Entry, g: NonNullable<Entry['graded']>, next: boolean) {
    const list = entries.map((x) => (entryKey(x) === entryKey(e) ? { ...x, graded: g, version: g.version } : x));
    setEntries(list);
    if (next) {
      const visible = list.filter((x) => !filter || x.assessment.id === filter);
      const from = visible.findIndex((x) => entryKey(x) === entryKey(e));
      const after = visible.findIndex((x, i) => i > from && !x.graded);
      const before = visible.findIndex((x) => !x.graded);
      const target = after >= 0 ? after : before;
      if (target >= 0) go(target);
    }
  }

  return (
    <>
      <div class="row sg-queue-bar">
        <label class="field inline">
          <span>{t('sg_queue_filter')}</span>
          <select
            value={filter}
            onChange={(e) => {
              setFilter(e.currentTarget.value);
              setAt(0);
            }}
          >
            <option value="">{t('sg_queue_all')}</option>
            {assessments.map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
              </option>
            ))}
          </select>
        </label>
        <p class="sg-count" role="status">
          {waiting === 0 ? t('sg_queue_empty') : tp('sg_queue_waiting', waiting)}
        </p>
        <button type="button" onClick={onReload}>
          {t('sg_queue_reload')}
        </button>
      </div>
      {current && (
        <div class="sg-queue split">
          <EntryPanel
            key={entryKey(current)}
            entry={current}
            position={index + 1}
            total={shown.length}
            roster={data.roster}
            onPrev={index > 0 ? () => go(index - 1) : undefined}
            onNext={index < shown.length - 1 ? () => go(index + 1) : undefined}
            onGraded={(g, next) => graded(current, g, next)}
          />
          <nav aria-label={t('sg_queue_list')} class="sg-queue-list">
            <h2>{t('sg_queue_list')}</h2>
            <ol>
              {shown.map((e, i) => (
                <li key={entryKey(e)}>
                  <button
                    type="button"
                    class="link"
                    aria-current={i === index ? 'true' : undefined}
                    onClick={() => go(i)}
                  >
                    {personName(data.roster, e.student)} — {e.assessment.title}
                  </button>{' '}
                  {e.graded ? <span class="badge ok">{t('sg_entry_graded')}</span> : <span class="badge warn">{t('sg_entry_waiting')}</span>}
                </li>
              ))}
            </ol>
          </nav>
        </div>
      )}
    </>
  );
}

function EntryPanel({
  entry: e,
  position,
  total,
  roster,
  onPrev,
  onNext,
  onGraded,
}: {
  entry: Entry;
  position: number;
  total: number;
  roster: Map<string, Person>;
  onPrev?: () => void;
  onNext?: () => void;
  onGraded: (g: NonNullable<Entry['graded']>, next: boolean) => void;
}) {
  const [criteria, setCriteria] = useState<Record<string, string>>(() =>
    Object.fromEntries(e.rubric.map((c) => [c.id, e.graded ? String(e.graded.criteria[c.id] ?? '') : ''])),
  );
  const [comment, setComment] = useState(e.graded?.comment ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const rubricMax = e.rubric.reduce((s, c) => s + c.points, 0);
  const values = e.rubric.map((c) => Number(criteria[c.id]));
  const complete = e.rubric.every((c) => criteria[c.id] !== '' && criteria[c.id] !== undefined);
  const outOfRange = e.rubric.filter((c) => {
    const v = Number(criteria[c.id]);
    return criteria[c.id] !== '' && (!Number.isFinite(v) || v < 0 || v > c.points);
  });
  const sum = values.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
  // The question's points are the rubric's sum scaled to what the question is worth.
  const scaled = rubricMax > 0 ? (sum / rubricMax) * e.max_points : 0;
  const student = personName(roster, e.student);

  async function save(next: boolean) {
    if (!complete || outOfRange.length) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(
        api.PUT('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/manual-grade', {
          params: { path: { assessment_id: e.assessment.id, attempt_id: e.attempt, question_id: e.question_id } },
          body: {
            criteria: Object.fromEntries(e.rubric.map((c) => [c.id, Number(criteria[c.id])])),
            comment: comment.trim(),
            version: e.version,
          },
        }),
      );
      const g = {
        version: r.manual_grade.version,
        points: r.manual_grade.points,
        criteria: r.manual_grade.criteria,
        comment: r.manual_grade.comment,
        total: pointsOf(r.grade.points, r.grade.max_points),
      };
      announce(t('sg_entry_saved', { student, points: pointsOf(g.points, e.max_points) }));
      onGraded(g, next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="card sg-entry" aria-labelledby="sg-entry-h">
      <p class="sg-position">{t('sg_entry_position', { n: position, total })}</p>
      <h2 id="sg-entry-h" tabIndex={-1}>
        {t('sg_entry_title', { student, assessment: e.assessment.title })}
      </h2>
      <p class="hint">
        {t('sg_entry_submitted', { when: formatDateTime(fromUnix(e.submitted_at)) })} · {t('sg_entry_worth', { points: points(e.max_points) })}
      </p>
      <h3>{t('sg_entry_prompt')}</h3>
      <p class="sg-prompt">{e.prompt}</p>
      <h3>{t('sg_entry_answer')}</h3>
      <div class="sg-answer" lang="">
        {e.essay ?? (e.response ? describeResponse(e.response) : <span class="muted">{t('sg_entry_no_answer')}</span>)}
      </div>
      {e.explanation.length > 0 && (
        <details>
          <summary>{t('sg_entry_why')}</summary>
          <ul>
            {e.explanation.map((x, i) => (
              <li key={i}>{x}</li>
            ))}
          </ul>
        </details>
      )}
      {e.graded && (
        <p class="notice ok" role="status">
          {t('sg_entry_graded_as', { points: pointsOf(e.graded.points, e.max_points), total: e.graded.total })}
        </p>
      )}
      <form
        class="sg-rubric"
        onSubmit={(ev) => {
          ev.preventDefault();
          void save(true);
        }}
      >
        <h3 id="sg-rubric-h">{t('sg_rubric_title')}</h3>
        {e.rubric.length === 0 && <p class="notice warn">{t('sg_rubric_none')}</p>}
        {e.rubric.map((c) => {
          const id = `sg-crit-${c.id}`.replace(/[^\w-]/g, '_');
          const bad = outOfRange.includes(c);
          return (
            <div class="sg-criterion" key={c.id}>
              <label for={id}>
                <span class="sg-crit-name">{c.description || c.id}</span>{' '}
                <span class="muted">{t('sg_criterion_max', { points: points(c.points) })}</span>
              </label>
              <input
                id={id}
                type="number"
                min="0"
                max={String(c.points)}
                step="any"
                required
                inputMode="decimal"
                value={criteria[c.id]}
                aria-invalid={bad}
                aria-describedby={bad ? `${id}-err` : undefined}
                onInput={(ev) => setCriteria({ ...criteria, [c.id]: ev.currentTarget.value })}
              />
              <span class="row sg-levels" role="group" aria-label={t('sg_quick_points', { criterion: c.description || c.id })}>
                {quickPoints(c.points).map((p) => (
                  <button
                    type="button"
                    key={p}
                    aria-pressed={criteria[c.id] !== '' && Number(criteria[c.id]) === p}
                    onClick={() => setCriteria({ ...criteria, [c.id]: String(p) })}
                  >
                    {points(p)}
                  </button>
                ))}
              </span>
              {bad && (
                <p id={`${id}-err`} class="field-error">
                  {t('sg_criterion_range', { max: points(c.points) })}
                </p>
              )}
            </div>
          );
        })}
        <p class="sg-sum" role="status">
          {t('sg_rubric_sum', { sum: points(sum), max: points(rubricMax), scaled: pointsOf(scaled, e.max_points) })}
        </p>
        <label class="field">
          <span>{t('sg_comment')}</span>
          <textarea rows={3} value={comment} onInput={(ev) => setComment(ev.currentTarget.value)} aria-describedby="sg-comment-hint" />
        </label>
        <p id="sg-comment-hint" class="hint">
          {t('sg_comment_hint')}
        </p>
        {error !== undefined && (
          <p class="notice error" role="alert">
            {error instanceof ApiError && error.status === 412 ? t('sg_entry_conflict') : describeError(error)}
          </p>
        )}
        <p class="row">
          <button type="submit" class="primary" disabled={busy || !complete || outOfRange.length > 0} aria-busy={busy}>
            {busy ? t('sg_saving') : t('sg_save_next')}
          </button>
          <button type="button" disabled={busy || !complete || outOfRange.length > 0} onClick={() => void save(false)}>
            {t('sg_save')}
          </button>
        </p>
      </form>
      <nav class="row sg-prev-next" aria-label={t('sg_entry_nav')}>
        <button type="button" disabled={!onPrev} onClick={onPrev}>
          {t('sg_previous')}
        </button>
        <button type="button" disabled={!onNext} onClick={onNext}>
          {t('sg_next')}
        </button>
      </nav>
    </article>
  );
}

/**
 * Quick choices for a criterion worth `max`: every whole point up to 10, else none, zero, half
 * and all. The rubric in the API has criteria with points, not named levels.
 */
function quickPoints(max: number): number[] {
  if (Number.isInteger(max) && max <= 10) return Array.from({ length: max + 1 }, (_, i) => i);
  return [0, max / 2, max];
}

/** A response other than an essay, in words (a key the grader could not apply). */
function describeResponse(r: Schemas['AnswerResponse']): string {
  if ('choices' in r) return r.choices.join(', ');
  if ('boolean' in r) return r.boolean ? t('sg_true') : t('sg_false');
  if ('number' in r) return [String(r.number.value), r.number.unit ?? ''].join(' ').trim();
  if ('text' in r) return r.text;
  if ('pairs' in r) return r.pairs.map((p) => `${p.left} → ${p.right}`).join('; ');
  if ('sequence' in r) return r.sequence.join(' → ');
  if ('blanks' in r) return r.blanks.join(' · ');
  if ('essay' in r) return r.essay;
  return '';
}

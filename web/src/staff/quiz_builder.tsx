// /teach/courses/:course/assessments/new and …/:assessment/edit — the quiz builder: questions of
// every type (quiz_questions.tsx) with their keys, partial credit, hints and points; the
// settings (time limit, window, late rule, attempts, grading method, penalties, shuffling,
// proctoring policy); save as a draft, publish, and "preview as a student": a staff preview
// attempt (`POST …/preview`) opened on the real exam page, graded for the previewer only.
//
// Saving sends only what changed since the assessment was read, with its version as `If-Match`.
// On 412 (someone else saved it meanwhile) the page reads their version, keeps the author's
// edits in the form, and offers to apply those edits on top of it or to drop them.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, call, etagVersion, type Schemas } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t } from '../i18n';
import { paths as examPaths } from '../exam/exam_api';
import { navigate } from '../router';
import { useSession } from '../session';
import {
  type Assessment,
  type Course,
  coursePath,
  failureText,
  fromLocalInput,
  getCourse,
  getQuestionTypes,
  ifMatch,
  isConflict,
  teachPaths,
  toLocalInput,
} from './course_api';
import {
  type PluginType,
  QUESTION_TYPES,
  type Question,
  type QuestionType,
  QuestionEditor,
  newPluginQuestion,
  newQuestion,
  questionProblems,
  typeLabel,
} from './quiz_questions';

type Settings = Schemas['Settings'];
type Policy = Schemas['ProctoringPolicy'];

/** The signal kinds the proctoring policy weighs (ProctoringPolicy.weights). */
const SIGNALS = [
  'focus_lost',
  'visibility_hidden',
  'copy',
  'paste',
  'context_menu',
  'fullscreen_exit',
  'ip_changed',
  'device_changed',
  'heartbeat',
  'concurrent_session',
  'devtools_opened',
] as const;

const SIGNAL_KEYS: Record<(typeof SIGNALS)[number], MessageKey> = {
  focus_lost: 'sc_sig_focus_lost',
  visibility_hidden: 'sc_sig_visibility_hidden',
  copy: 'sc_sig_copy',
  paste: 'sc_sig_paste',
  context_menu: 'sc_sig_context_menu',
  fullscreen_exit: 'sc_sig_fullscreen_exit',
  ip_changed: 'sc_sig_ip_changed',
  device_changed: 'sc_sig_device_changed',
  heartbeat: 'sc_sig_heartbeat',
  concurrent_session: 'sc_sig_concurrent_session',
  devtools_opened: 'sc_sig_devtools_opened',
};

const DEFAULT_SETTINGS: Settings = {
  attempts_allowed: 1,
  grading_method: 'highest',
  time_limit_secs: null,
  opens_at: null,
  closes_at: null,
  late_until: null,
  per_late_day: 0,
  per_try: 0,
  per_hint: 0,
  max_penalty: 1,
  shuffle_questions: false,
  shuffle_options: false,
  points: null,
  proctoring: null,
};

const DEFAULT_POLICY: Policy = {
  action: 'flag_for_review',
  flag_threshold: 0.8,
  allow_copy_paste: false,
  heartbeat_interval_ms: 5000,
  weights: {},
};

interface Draft {
  title: string;
  questions: Question[];
  settings: Settings;
}

async function getAssessment(id: string): Promise<Assessment> {
  const r = await api.GET('/api/v1/assessments/{assessment_id}', { params: { path: { assessment_id: id } } });
  const a = await call(Promise.resolve(r));
  return { ...a, version: etagVersion(r.response) ?? a.version };
}

export function QuizBuilderPage({ course, assessment }: { course: string; assessment?: string }) {
  const { institution } = useSession();
  const state = useLoad(async () => {
    const [c, a, types] = await Promise.all([
      getCourse(institution, course),
      assessment ? getAssessment(assessment) : Promise.resolve(undefined),
      getQuestionTypes(institution),
    ]);
    return { course: c, assessment: a, types };
  }, [institution, course, assessment]);
  return (
    <Async state={state}>
      {(d) => <Builder courseId={course} course={d.course} loaded={d.assessment} pluginTypes={d.types} />}
    </Async>
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function Builder({
  courseId,
  course,
  loaded,
  pluginTypes,
}: {
  courseId: string;
  course: Course;
  loaded?: Assessment;
  pluginTypes: PluginType[];
}) {
  const { institution } = useSession();
  /** What the draft was read from: changes are computed against it. */
  const [base, setBase] = useState<Assessment | undefined>(loaded);
  /** The server's latest version (differs from base.version after a 412). */
  const [version, setVersion] = useState(loaded?.version);
  const [published, setPublished] = useState(loaded?.published ?? false);
  const [draft, setDraft] = useState<Draft>(() => ({
    title: loaded?.title ?? '',
    questions: loaded?.questions ?? [],
    settings: { ...DEFAULT_SETTINGS, ...(loaded?.settings ?? {}) },
  }));
  /** A built-in type, or `plugin:<plugin>/<type>`. */
  const [addType, setAddType] = useState<string>('single_choice');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [invalid, setInvalid] = useState<string[] | undefined>(undefined);
  const [conflict, setConflict] = useState<Assessment | undefined>(undefined);
  const focusAfter = useRef<string | undefined>(undefined);

  useEffect(() => {
    const id = focusAfter.current;
    if (!id) return;
    focusAfter.current = undefined;
    (document.getElementById(id) as HTMLElement | null)?.focus();
  });

  const s = draft.settings;
  const setS = (p: Partial<Settings>) => setDraft((d) => ({ ...d, settings: { ...d.settings, ...p } }));
  const setQuestions = (questions: Question[]) => setDraft((d) => ({ ...d, questions }));
  const dirty =
    !base ||
    draft.title !== base.title ||
    !same(draft.questions, base.questions) ||
    !same(draft.settings, { ...DEFAULT_SETTINGS, ...base.settings });

  /** Problems to fix before sending, listed at the top with links to their questions. */
  function check(): string[] {
    const out: string[] = [];
    if (!draft.title.trim()) out.push(t('sc_quiz_problem_title'));
    if (draft.questions.length === 0) out.push(t('sc_quiz_problem_none'));
    draft.questions.forEach((q, i) => {
      for (const p of questionProblems(q)) out.push(`${t('sc_question_n', { n: i + 1 })}: ${p}`);
    });
    return out;
  }

  /** Saves the draft (and publishes it); the saved quiz, or undefined when it was not saved. */
  async function save(publish: boolean): Promise<Assessment | undefined> {
    const problems = check();
    setInvalid(problems.length ? problems : undefined);
    if (problems.length) {
      focusAfter.current = 'quiz-problems';
      return undefined;
    }
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    try {
      let a: Assessment;
      if (!base) {
        a = await call(
          api.POST('/api/v1/institutions/{institution}/courses/{course_id}/assessments', {
            params: { path: coursePath(institution, courseId) },
            body: { title: draft.title.trim(), questions: draft.questions, settings: draft.settings },
          }),
        );
        if (publish) a = await patch(a.id, a.version, { published: true });
        announce(publish ? t('sc_quiz_published') : t('sc_quiz_saved'));
        // The builder's own address from now on (a reload, or Back from a preview, finds the saved quiz).
        navigate(teachPaths.quiz(courseId, a.id), { replace: true });
        return a;
      }
      const body: Schemas['UpdateAssessment'] = {};
      if (draft.title !== base.title) body.title = draft.title.trim();
      // Questions only when they changed: they are frozen once a student has started.
      if (!same(draft.questions, base.questions)) body.questions = draft.questions;
      if (!same(draft.settings, { ...DEFAULT_SETTINGS, ...base.settings })) body.settings = draft.settings;
      if (publish) body.published = true;
      a = Object.keys(body).length ? await patch(base.id, version ?? base.version, body) : base;
      setBase(a);
      setVersion(a.version);
      setPublished(a.published);
      setDraft({ title: a.title, questions: a.questions, settings: { ...DEFAULT_SETTINGS, ...a.settings } });
      announce(publish ? t('sc_quiz_published') : t('sc_quiz_saved'));
      return a;
    } catch (e) {
      if (isConflict(e) && base) {
        try {
          const theirs = await getAssessment(base.id);
          setVersion(theirs.version);
          setPublished(theirs.published);
          setConflict(theirs);
          focusAfter.current = 'quiz-conflict';
        } catch (e2) {
          setError(e2);
        }
      } else setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  /**
   * "Preview as student": saves what changed, then opens a staff preview of the saved quiz on the
   * real exam page (time limit, hints, proctoring, grading by the plugin), which never counts as
   * anyone's attempt or grade.
   */
  async function previewAsStudent() {
    const a = dirty || !base ? await save(false) : base;
    if (!a) return;
    setBusy(true);
    try {
      const attempt = await call(
        api.POST('/api/v1/assessments/{assessment_id}/preview', { params: { path: { assessment_id: a.id } } }),
      );
      navigate(examPaths.attempt(courseId, a.id, attempt.id));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  async function patch(id: string, v: number, body: Schemas['UpdateAssessment']): Promise<Assessment> {
    const r = await api.PATCH('/api/v1/assessments/{assessment_id}', {
      params: { path: { assessment_id: id } },
      headers: ifMatch(v),
      body,
    });
    const a = await call(Promise.resolve(r));
    return { ...a, version: etagVersion(r.response) ?? a.version };
  }

  function moveQuestion(i: number, delta: -1 | 1) {
    const next = [...draft.questions];
    const [q] = next.splice(i, 1);
    next.splice(i + delta, 0, q!);
    setQuestions(next);
    const n = i + delta + 1;
    focusAfter.current = n === 1 ? `q${n}-down` : n === next.length ? `q${n}-up` : `q${n}-${delta < 0 ? 'up' : 'down'}`;
    announce(t('sc_moved', { title: t('sc_question_n', { n: i + 1 }) }));
  }

  function addQuestion() {
    const pt = pluginTypes.find((x) => `plugin:${x.plugin}/${x.type}` === addType);
    const q = pt ? newPluginQuestion(pt) : newQuestion(addType as QuestionType);
    setQuestions([...draft.questions, q]);
    focusAfter.current = `q${draft.questions.length + 1}-prompt`;
    announce(t('sc_added', { title: pt ? pt.name : typeLabel(addType as QuestionType) }));
  }

  const title = base ? t('sc_quiz_edit_title', { title: base.title }) : t('sc_quiz_new_title');
  const policy = s.proctoring;

  return (
    <>
      <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
        <ol>
          <li>
            <a href={teachPaths.home}>{t('nav_teaching')}</a>
          </li>
          <li>
            <a href={teachPaths.editor(courseId)}>{course.title}</a>
          </li>
          <li>
            <span aria-current="page">{base?.title ?? t('sc_quiz_new_title')}</span>
          </li>
        </ol>
      </nav>
      <PageTitle text={title} />
      <p class="row">
        <span class={`badge${published ? ' ok' : ''}`}>{published ? t('sc_state_published') : t('sc_draft')}</span>
        {base && <span class="muted">{t('sc_updated_at', { when: formatDateTime(base.updated_at) })}</span>}
        {base?.archived_at && <span class="badge warn">{t('sc_state_archived')}</span>}
      </p>
      {conflict && (
        <div class="notice warn" role="alert" id="quiz-conflict" tabIndex={-1}>
          <p>
            <strong>{t('sc_conflict_title')}</strong> {t('sc_quiz_conflict_body', { when: formatDateTime(conflict.updated_at) })}
          </p>
          <p class="row">
            <button type="button" class="primary" disabled={busy} onClick={() => void save(false)}>
              {t('sc_conflict_reapply')}
            </button>
            <button
              type="button"
              onClick={() => {
                setBase(conflict);
                setDraft({ title: conflict.title, questions: conflict.questions, settings: { ...DEFAULT_SETTINGS, ...conflict.settings } });
                setConflict(undefined);
              }}
            >
              {t('sc_quiz_conflict_take_theirs')}
            </button>
          </p>
        </div>
      )}
      {invalid && (
        <div class="notice error" role="alert" id="quiz-problems" tabIndex={-1}>
          <p>
            <strong>{t('sc_quiz_problems')}</strong>
          </p>
          <ul>
            {invalid.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {error !== undefined && <ErrorBox error={error instanceof ApiError ? new Error(failureText(error)) : error} />}

      <form
        class="stack sc-quiz"
        onSubmit={(e) => {
          e.preventDefault();
          void save(false);
        }}
      >
        <div class="field">
          <label for="quiz-title">{t('sc_quiz_title')}</label>
          <input id="quiz-title" required value={draft.title} onInput={(e) => setDraft({ ...draft, title: e.currentTarget.value })} />
        </div>

        <section aria-labelledby="questions-h">
          <h2 id="questions-h">{t('sc_quiz_questions')}</h2>
          {draft.questions.length === 0 && <p class="muted">{t('sc_quiz_no_questions')}</p>}
          <ol class="plain stack">
            {draft.questions.map((q, i) => (
              <QuestionEditor
                key={q.id}
                q={q}
                n={i + 1}
                total={draft.questions.length}
                perHint={s.per_hint ?? 0}
                pluginTypes={pluginTypes}
                onChange={(nq) => setQuestions(draft.questions.map((x, j) => (j === i ? nq : x)))}
                onMove={(d) => moveQuestion(i, d)}
                onRemove={() => {
                  setQuestions(draft.questions.filter((_, j) => j !== i));
                  focusAfter.current = 'add-question-type';
                  announce(t('sc_deleted', { title: t('sc_question_n', { n: i + 1 }) }));
                }}
              />
            ))}
          </ol>
          <div class="row sc-add-question">
            <span class="field">
              <label for="add-question-type">{t('sc_quiz_add_type')}</label>
              <select id="add-question-type" value={addType} onChange={(e) => setAddType(e.currentTarget.value)}>
                {QUESTION_TYPES.map((qt) => (
                  <option key={qt} value={qt}>
                    {typeLabel(qt)}
                  </option>
                ))}
                {pluginTypes.length > 0 && (
                  <optgroup label={t('sc_quiz_plugin_types')}>
                    {pluginTypes.map((pt) => (
                      <option key={`${pt.plugin}/${pt.type}`} value={`plugin:${pt.plugin}/${pt.type}`}>
                        {pt.name}
                      </option>
                    ))}
                  </optgroup>
                )}
              </select>
            </span>
            <button type="button" id="add-question" onClick={addQuestion}>
              {t('sc_quiz_add_question')}
            </button>
          </div>
        </section>

        <SettingsEditor s={s} setS={setS} />

        <fieldset class="stack">
          <legend>{t('sc_quiz_proctoring')}</legend>
          <label class="choice">
            <input
              type="checkbox"
              checked={!!policy}
              onChange={(e) => setS({ proctoring: e.currentTarget.checked ? { ...DEFAULT_POLICY } : null })}
            />
            <span>{t('sc_quiz_proctoring_on')}</span>
          </label>
          {policy && <PolicyEditor policy={policy} onChange={(p) => setS({ proctoring: p })} />}
        </fieldset>

        <div class="sc-savebar row">
          <button type="submit" class="primary" disabled={busy || (!dirty && !conflict)}>
            {base ? t('sc_quiz_save') : t('sc_quiz_create')}
          </button>
          {!published && (
            <button type="button" disabled={busy} onClick={() => void save(true)}>
              {dirty ? t('sc_quiz_save_publish') : t('sc_quiz_publish')}
            </button>
          )}
          <button
            type="button"
            id="quiz-preview-button"
            disabled={busy || draft.questions.length === 0}
            onClick={() => void previewAsStudent()}
          >
            {dirty ? t('sc_quiz_save_preview') : t('sc_quiz_preview')}
          </button>
          <span class="muted" role="status">
            {dirty ? t('sc_unsaved') : t('sc_all_saved')}
          </span>
        </div>
      </form>
    </>
  );
}

function Num({
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
  onChange: (v: number | null) => void;
  min?: number;
  max?: number;
  step?: string;
  hint?: string;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={value === null || value === undefined ? '' : String(value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => onChange(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))}
      />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** A fraction 0–1 as a percentage field. */
function Pct(p: { id: string; label: string; value: number | null | undefined; onChange: (v: number) => void; hint?: string }) {
  return (
    <Num
      id={p.id}
      label={p.label}
      hint={p.hint}
      min={0}
      max={100}
      value={p.value === null || p.value === undefined ? 0 : Math.round(p.value * 100000) / 1000}
      onChange={(v) => p.onChange((v ?? 0) / 100)}
    />
  );
}

function When({ id, label, value, onChange, hint }: { id: string; label: string; value: string | null | undefined; onChange: (v: string | null) => void; hint?: string }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="datetime-local"
        value={toLocalInput(value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => onChange(fromLocalInput(e.currentTarget.value))}
      />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

function SettingsEditor({ s, setS }: { s: Settings; setS: (p: Partial<Settings>) => void }) {
  return (
    <>
      <fieldset class="stack">
        <legend>{t('sc_quiz_timing')}</legend>
        <Num
          id="quiz-time-limit"
          label={t('sc_quiz_time_limit')}
          hint={t('sc_quiz_time_limit_hint')}
          min={0}
          value={s.time_limit_secs ? Math.round((s.time_limit_secs / 60) * 100) / 100 : null}
          onChange={(v) => setS({ time_limit_secs: v ? Math.max(1, Math.round(v * 60)) : null })}
        />
        <div class="sc-grid">
          <When id="quiz-opens" label={t('sc_quiz_opens')} value={s.opens_at} onChange={(v) => setS({ opens_at: v })} />
          <When id="quiz-closes" label={t('sc_quiz_due')} value={s.closes_at} onChange={(v) => setS({ closes_at: v })} />
          <When
            id="quiz-late"
            label={t('sc_quiz_late_until')}
            hint={t('sc_quiz_late_until_hint')}
            value={s.late_until}
            onChange={(v) => setS({ late_until: v })}
          />
          <Pct id="quiz-late-penalty" label={t('sc_quiz_per_late_day')} value={s.per_late_day} onChange={(v) => setS({ per_late_day: v })} />
        </div>
      </fieldset>
      <fieldset class="stack">
        <legend>{t('sc_quiz_attempts_grading')}</legend>
        <div class="sc-grid">
          <Num
            id="quiz-attempts"
            label={t('sc_quiz_attempts')}
            min={1}
            max={100}
            step="1"
            value={s.attempts_allowed ?? 1}
            onChange={(v) => setS({ attempts_allowed: v ?? 1 })}
          />
          <div class="field">
            <label for="quiz-grading">{t('sc_quiz_grading_method')}</label>
            <select id="quiz-grading" value={s.grading_method ?? 'highest'} onChange={(e) => setS({ grading_method: e.currentTarget.value as Settings['grading_method'] })}>
              <option value="highest">{t('sc_gm_highest')}</option>
              <option value="last">{t('sc_gm_last')}</option>
              <option value="first">{t('sc_gm_first')}</option>
              <option value="average">{t('sc_gm_average')}</option>
            </select>
          </div>
          <Num
            id="quiz-points"
            label={t('sc_quiz_points')}
            hint={t('sc_quiz_points_hint')}
            min={0}
            value={s.points}
            onChange={(v) => setS({ points: v })}
          />
        </div>
        <div class="sc-grid">
          <Pct id="quiz-per-hint" label={t('sc_quiz_per_hint')} hint={t('sc_quiz_per_hint_hint')} value={s.per_hint} onChange={(v) => setS({ per_hint: v })} />
          <Pct id="quiz-per-try" label={t('sc_quiz_per_try')} hint={t('sc_quiz_per_try_hint')} value={s.per_try} onChange={(v) => setS({ per_try: v })} />
          <Pct id="quiz-max-penalty" label={t('sc_quiz_max_penalty')} value={s.max_penalty ?? 1} onChange={(v) => setS({ max_penalty: v })} />
        </div>
        <label class="choice">
          <input type="checkbox" checked={s.shuffle_questions ?? false} onChange={(e) => setS({ shuffle_questions: e.currentTarget.checked })} />
          <span>{t('sc_quiz_shuffle_questions')}</span>
        </label>
        <label class="choice">
          <input type="checkbox" checked={s.shuffle_options ?? false} onChange={(e) => setS({ shuffle_options: e.currentTarget.checked })} />
          <span>{t('sc_quiz_shuffle_options')}</span>
        </label>
      </fieldset>
    </>
  );
}

function PolicyEditor({ policy, onChange }: { policy: Policy; onChange: (p: Policy) => void }) {
  const weights = policy.weights ?? {};
  return (
    <>
      <div class="sc-grid">
        <div class="field">
          <label for="proctor-action">{t('sc_proctor_action')}</label>
          <select id="proctor-action" value={policy.action} onChange={(e) => onChange({ ...policy, action: e.currentTarget.value as Policy['action'] })}>
            <option value="record_only">{t('sc_proctor_record_only')}</option>
            <option value="flag_for_review">{t('sc_proctor_flag')}</option>
            <option value="lock_attempt">{t('sc_proctor_lock')}</option>
          </select>
        </div>
        <Pct
          id="proctor-threshold"
          label={t('sc_proctor_threshold')}
          hint={t('sc_proctor_threshold_hint')}
          value={policy.flag_threshold}
          onChange={(v) => onChange({ ...policy, flag_threshold: v })}
        />
        <Num
          id="proctor-heartbeat"
          label={t('sc_proctor_heartbeat')}
          min={1}
          max={600}
          value={(policy.heartbeat_interval_ms ?? 5000) / 1000}
          onChange={(v) => onChange({ ...policy, heartbeat_interval_ms: Math.round((v ?? 5) * 1000) })}
        />
      </div>
      <label class="choice">
        <input type="checkbox" checked={policy.allow_copy_paste ?? false} onChange={(e) => onChange({ ...policy, allow_copy_paste: e.currentTarget.checked })} />
        <span>{t('sc_proctor_copy_paste')}</span>
      </label>
      <fieldset>
        <legend>{t('sc_proctor_weights')}</legend>
        <p class="hint">{t('sc_proctor_weights_hint')}</p>
        <div class="sc-grid">
          {SIGNALS.map((k) => (
            <Num
              key={k}
              id={`proctor-w-${k}`}
              label={t(SIGNAL_KEYS[k])}
              min={0}
              max={100}
              value={weights[k] === undefined ? null : Math.round(weights[k] * 1000) / 10}
              onChange={(v) => {
                const next = { ...weights };
                if (v === null) delete next[k];
                else next[k] = v / 100;
                onChange({ ...policy, weights: next });
              }}
            />
          ))}
        </div>
      </fieldset>
    </>
  );
}

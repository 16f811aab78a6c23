// The exam page: one attempt. While it is open: a countdown kept on the server's
// clock, every question with its autosaved answer and save state, hints, the signal
// collector when the assessment is proctored, and submit with confirmation. Once it
// is submitted (by the student, the deadline or the proctoring policy): the result.
//
// Answers go through the AnswerQueue (answer_queue.ts): stored in localStorage before
// any request, versioned per question, replayed in order after a reload or a lost
// connection. The countdown is the server's `time_left_secs`, counted down on this
// browser's monotonic clock and set again from every attempt the server returns, so a
// wrong or changed system clock cannot move the deadline.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { formatDateTime, formatDuration, t, tp } from '../i18n';
import { useSession } from '../session';
import { AnswerQueue, type SaveState } from './answer_queue';
import { type Summary, getAttempt, getSummary, paths, submitAttempt } from './exam_api';
import { ProctoringNotice } from './notice';
import { QuestionCard, TYPING_DEBOUNCE_MS, domId, saveStateText } from './questions';
import { type Answer, type Attempt, completeness } from './responses';
import { Results } from './results';
import { DEFAULT_HEARTBEAT_MS, SignalCollector } from './signals';
import * as store from './storage';
import { type Missing, SubmitDialog } from './submit_dialog';

interface Loaded {
  attempt: Attempt;
  response: Response;
  summary: Summary | undefined;
}

export function ExamPage({ course, assessment, attempt }: { course: string; assessment: string; attempt: string }) {
  const session = useSession();
  const loaded = useLoad<Loaded>(async () => {
    const [a, { summary }] = await Promise.all([
      getAttempt(assessment, attempt),
      getSummary(session.institution, course, assessment),
    ]);
    return { ...a, summary };
  }, [course, assessment, attempt]);
  const [finished, setFinished] = useState<Attempt | null>(null);

  return (
    <Async state={loaded}>
      {(d) =>
        finished || d.attempt.state === 'submitted' ? (
          <Results course={course} attempt={finished ?? d.attempt} />
        ) : (
          <Exam key={attempt} course={course} initial={d} onFinished={setFinished} />
        )
      }
    </Async>
  );
}

/** Seconds left on a countdown that ends at `endsAt` (performance.now() time). */
function secondsLeft(endsAt: number | null): number | null {
  return endsAt === null ? null : Math.max(0, Math.ceil((endsAt - performance.now()) / 1000));
}

const sleep = (ms: number) => new Promise((r) => window.setTimeout(r, ms));

/** Before the deadline, answers still debouncing are sent at once. */
const FLUSH_BEFORE_DEADLINE_SECS = 10;
/** After the deadline, how often and how many times to look for the server's submission. */
const DEADLINE_POLL_MS = 1500;
const DEADLINE_POLLS = 4;
/** How often the page reads the attempt again (countdown, a submission from elsewhere). */
const RESYNC_MS = 30_000;

function Exam({
  course,
  initial,
  onFinished,
}: {
  course: string;
  initial: Loaded;
  onFinished: (a: Attempt) => void;
}) {
  const assessment = initial.attempt.assessment_id;
  const id = initial.attempt.id;
  const settings = initial.summary?.settings;
  const policy = settings?.proctoring ?? null;
  const perHint = settings?.per_hint ?? 0;

  const [attempt, setAttempt] = useState(initial.attempt);
  const [answers, setAnswers] = useState<Record<string, Answer>>(() =>
    Object.fromEntries(Object.entries(initial.attempt.answers).map(([q, a]) => [q, a.response])),
  );
  const [states, setStates] = useState<Record<string, SaveState>>(() =>
    Object.fromEntries(Object.keys(initial.attempt.answers).map((q) => [q, { kind: 'saved' } as SaveState])),
  );
  const [online, setOnline] = useState(navigator.onLine);
  const [fullscreen, setFullscreen] = useState(document.fullscreenElement !== null);
  const [dialog, setDialog] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<unknown>(undefined);
  const [ending, setEnding] = useState(false);
  const [endError, setEndError] = useState<unknown>(undefined);

  const queue = useRef<AnswerQueue | null>(null);
  const collector = useRef<SignalCollector | null>(null);
  const endsAt = useRef<number | null>(
    typeof initial.attempt.time_left_secs === 'number' ? performance.now() + initial.attempt.time_left_secs * 1000 : null,
  );
  const done = useRef(false);
  const deadlineRun = useRef(false);
  const flushedBeforeDeadline = useRef(false);
  const warned = useRef<Set<number>>(new Set());
  const number = (q: string) => initial.attempt.questions.findIndex((x) => x.id === q) + 1;

  /** Takes the server's view of the countdown (and notices a submission made elsewhere). */
  function sync(a: Attempt) {
    if (typeof a.time_left_secs === 'number') {
      // Whole seconds from the server: within a second of what the page counts, keep counting
      // (no jitter); further off (a slept laptop, a changed limit), take the server's.
      const next = performance.now() + a.time_left_secs * 1000;
      if (endsAt.current === null || Math.abs(next - endsAt.current) > 1000) endsAt.current = next;
    } else {
      endsAt.current = null;
    }
    setAttempt((prev) => ({ ...prev, hints: a.hints, deadline: a.deadline, time_left_secs: a.time_left_secs }));
    if (a.state === 'submitted') finish(a);
  }

  /** The attempt is over: stop saving and collecting, forget local state, show the result. */
  function finish(a: Attempt) {
    if (done.current) return;
    done.current = true;
    queue.current?.close();
    collector.current?.stop();
    store.forgetAttempt(id);
    announce(t('exam_submitted_title'));
    onFinished(a);
  }

  async function resync() {
    if (done.current) return;
    try {
      const r = await getAttempt(assessment, id);
      queue.current?.noteServerTime(r.response);
      sync(r.attempt);
    } catch {
      // Offline or the server is away: the countdown keeps going; the next resync corrects it.
    }
  }

  // The queue and the collector live as long as the page.
  useEffect(() => {
    const q = new AnswerQueue({
      assessment,
      attempt: id,
      onState: (question, s) => {
        setStates((prev) => ({ ...prev, [question]: s }));
        if (s.kind === 'saved' || s.kind === 'failed') {
          announce(t('exam_question_state', { n: number(question), state: saveStateText(s) }));
        }
      },
      onAttempt: sync,
      onAdopt: (question, response) => setAnswers((prev) => ({ ...prev, [question]: response })),
      onClosed: (a) => {
        if (a.state === 'submitted') finish(a);
        else void atDeadline();
      },
    });
    queue.current = q;
    q.noteServerTime(initial.response);
    const restored = q.restore(initial.attempt);
    setAnswers(Object.fromEntries(restored));
    // Anything left from before a reload or a crash goes out now, in order.
    void q.flush();

    let c: SignalCollector | null = null;
    if (policy) {
      c = new SignalCollector({
        assessment,
        attempt: id,
        heartbeatMs: policy.heartbeat_interval_ms || DEFAULT_HEARTBEAT_MS,
        // A lock submits the attempt on the server: read it to show that.
        onState: (s) => {
          if (s.scored?.lock) void resync();
        },
        onClosed: () => void resync(),
      });
      c.start();
      collector.current = c;
    }

    const onOnline = () => {
      setOnline(true);
      announce(t('exam_back_online'));
      void resync();
    };
    const onOffline = () => {
      setOnline(false);
      announce(t('exam_offline_banner'));
    };
    const onFullscreen = () => setFullscreen(document.fullscreenElement !== null);
    // Back from another tab or from sleep (when this page's clock may have stood still): ask the server.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void resync();
    };
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    document.addEventListener('fullscreenchange', onFullscreen);
    const resyncTimer = window.setInterval(() => void resync(), RESYNC_MS);
    return () => {
      q.dispose();
      c?.stop();
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
      document.removeEventListener('fullscreenchange', onFullscreen);
      document.removeEventListener('visibilitychange', onVisible);
      window.clearInterval(resyncTimer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  /** Warnings, the last flush and the deadline itself, as the countdown passes them. */
  function onSecond(secs: number) {
    if (done.current) return;
    for (const mark of [300, 60]) {
      if (secs <= mark && secs > 0 && !warned.current.has(mark)) {
        warned.current.add(mark);
        announce(tp('exam_minutes_left', mark / 60));
      }
    }
    if (secs <= FLUSH_BEFORE_DEADLINE_SECS && !flushedBeforeDeadline.current) {
      flushedBeforeDeadline.current = true;
      void queue.current?.flush();
    }
    if (secs === 0) void atDeadline();
  }

  /**
   * The time is up. The server's timer submits the attempt with what was saved by
   * then; the page sends what it still can, then reads the attempt until it shows
   * the submission, and submits itself only if the server still says open.
   */
  async function atDeadline() {
    if (deadlineRun.current || done.current) return;
    deadlineRun.current = true;
    setEnding(true);
    setDialog(false);
    setEndError(undefined);
    announce(t('exam_time_up'));
    await queue.current?.flush();
    for (let i = 0; i < DEADLINE_POLLS && !done.current; i++) {
      await sleep(DEADLINE_POLL_MS);
      try {
        const r = await getAttempt(assessment, id);
        if (r.attempt.state === 'submitted') return finish(r.attempt);
        if ((r.attempt.time_left_secs ?? 0) > 0) {
          // The server gives more time (the countdown ran ahead): carry on.
          sync(r.attempt);
          deadlineRun.current = false;
          setEnding(false);
          return;
        }
      } catch {
        // Try again; submitting below reports the failure.
      }
    }
    if (done.current) return;
    try {
      finish(await submitAttempt(assessment, id));
    } catch (e) {
      setEndError(e);
      deadlineRun.current = false;
    }
  }

  function answer(question: string, a: Answer, typing: boolean) {
    if (done.current || ending) return;
    setAnswers((prev) => ({ ...prev, [question]: a }));
    queue.current?.put(question, a, typing ? TYPING_DEBOUNCE_MS : 0);
  }

  async function hint(question: string) {
    const a = await call(
      api.POST('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/hint', {
        params: { path: { assessment_id: assessment, attempt_id: id, question_id: question } },
      }),
    );
    sync(a);
  }

  async function submit() {
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      const q = queue.current;
      if (q && !(await q.flush())) {
        setSubmitError(new Error(tp('exam_submit_unsent', q.pending())));
        return;
      }
      // The last signals go with the attempt; a failure here must not block the submit.
      await Promise.race([collector.current?.flush(), sleep(5000)]);
      const a = await submitAttempt(assessment, id);
      setDialog(false);
      finish(a);
    } catch (e) {
      setSubmitError(e);
    } finally {
      setSubmitting(false);
    }
  }

  function goTo(question: string) {
    setDialog(false);
    const section = document.getElementById(domId(question));
    const field = section?.querySelector<HTMLElement>('input, select, textarea, button:not([disabled])');
    section?.scrollIntoView({ block: 'start' });
    window.setTimeout(() => field?.focus(), 0);
  }

  const missing: Missing[] = attempt.questions
    .map((q, i) => ({ q, n: i + 1, c: completeness(q, answers[q.id]) }))
    .filter((x) => x.c !== 'complete')
    .map((x) => ({ id: x.q.id, n: x.n, partial: x.c === 'partial' }));
  const answered = attempt.questions.length - missing.filter((m) => !m.partial).length;
  const unsent = Object.values(states).filter((s) => s.kind !== 'saved' && s.kind !== 'idle').length;
  const locked = ending || done.current;

  return (
    <div class="exam">
      <PageTitle text={attempt.title} />
      <p class="muted">
        {attempt.preview ? t('exam_preview_badge') : t('exam_attempt_n', { n: attempt.number })} ·{' '}
        {t('exam_started_at', { at: formatDateTime(attempt.started_at) })}
      </p>
      {attempt.preview && (
        <p class="notice" id="preview-notice">
          {t('exam_preview_notice')} <a href={paths.quizBuilder(course, assessment)}>{t('exam_preview_back')}</a>
        </p>
      )}

      <div class="exam-bar" role="region" aria-label={t('exam_bar_label')}>
        <Countdown endsAt={endsAt} deadline={attempt.deadline ?? null} onSecond={onSecond} />
        <span class="answered">{t('exam_answered', { n: answered, total: attempt.questions.length })}</span>
        <span class={`save-summary ${unsent ? 'pending' : 'saved'}`} id="save-summary">
          {unsent ? tp('exam_unsent_count', unsent) : t('exam_all_saved')}
        </span>
        {policy && document.fullscreenEnabled && !fullscreen && (
          <button
            type="button"
            class="exam-fullscreen"
            onClick={() => void document.documentElement.requestFullscreen().catch(() => {})}
          >
            {t('exam_fullscreen')}
          </button>
        )}
        <button type="button" class="primary" disabled={locked} onClick={() => setDialog(true)}>
          {t('exam_submit')}
        </button>
      </div>

      {!online && (
        <p class="notice warn" role="status" id="offline-banner">
          {t('exam_offline_banner')}
        </p>
      )}
      {ending && (
        <div class="notice warn" role="alert" id="deadline-banner">
          <p>{t('exam_time_up')}</p>
          {endError !== undefined && <ErrorBox error={endError} onRetry={() => void atDeadline()} />}
        </div>
      )}

      <p class="notice tutor-off" id="tutor-unavailable">
        {t('exam_tutor_unavailable')}
      </p>
      {policy && (
        <details class="proctoring-reminder">
          <summary>{t('exam_proctor_reminder')}</summary>
          <ProctoringNotice policy={policy} headingLevel={3} />
        </details>
      )}
      {!initial.summary && <p class="notice warn">{t('exam_settings_unavailable')}</p>}

      <form class="questions" onSubmit={(e) => e.preventDefault()} aria-label={t('exam_questions_label')}>
        {attempt.questions.map((q, i) => (
          <QuestionCard
            key={q.id}
            q={q}
            n={i + 1}
            total={attempt.questions.length}
            answer={answers[q.id]}
            state={states[q.id] ?? { kind: 'idle' }}
            hints={attempt.hints[q.id] ?? []}
            perHint={perHint}
            disabled={locked}
            onAnswer={(a, typing) => answer(q.id, a, typing)}
            onHint={() => hint(q.id)}
          />
        ))}
      </form>

      <p class="row exam-end">
        <button type="button" class="primary" disabled={locked} onClick={() => setDialog(true)}>
          {t('exam_submit')}
        </button>
        <a href={paths.start(course, assessment)}>{t('exam_leave')}</a>
      </p>

      <SubmitDialog
        open={dialog}
        missing={missing}
        unsent={unsent}
        busy={submitting}
        error={submitError}
        onCancel={() => setDialog(false)}
        onConfirm={() => void submit()}
        onGoTo={goTo}
      />
    </div>
  );
}

/**
 * The time left, re-rendered on its own twice a second (the rest of the page is not).
 * `endsAt` is the deadline on performance.now()'s clock, set from the server's
 * `time_left_secs`; null without a time limit.
 */
function Countdown({
  endsAt,
  deadline,
  onSecond,
}: {
  endsAt: { current: number | null };
  deadline: string | null;
  onSecond: (secs: number) => void;
}) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setTick((n) => n + 1), 500);
    return () => window.clearInterval(timer);
  }, []);
  const secs = secondsLeft(endsAt.current);
  useEffect(() => {
    if (secs !== null) onSecond(secs);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [secs]);
  if (secs === null) return <span class="countdown-wrap">{t('exam_no_time_limit')}</span>;
  return (
    <span class="countdown-wrap">
      <span id="countdown-label">{t('exam_time_left')}</span>{' '}
      <span role="timer" aria-labelledby="countdown-label" class={`countdown${secs <= 60 ? ' low' : ''}`} id="countdown">
        {formatDuration(secs)}
      </span>
      {deadline && <span class="muted deadline"> {t('exam_until', { at: formatDateTime(deadline) })}</span>}
    </span>
  );
}

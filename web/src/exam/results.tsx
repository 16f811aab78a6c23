// A submitted attempt: who submitted it and when, then its result once the grading
// plugin has written it to the gradebook (asynchronously, through the event bus, so
// the page polls for a while), with per-question points, feedback and explanations.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Schemas } from '../api/client';
import { ErrorBox, PageTitle, announce } from '../components/ui';
import { formatDateTime, t } from '../i18n';
import { useSession } from '../session';
import { getGrade, getResult, paths } from './exam_api';
import { formatPoints } from './format';
import { type Attempt, describeResponse } from './responses';

type Grade = Schemas['Grade'];

/** How long to wait for the grade after a submit before pointing to the grades page. */
const POLL_MS = 2000;
const POLL_TIMES = 15;

export function Results({ course, attempt }: { course: string; attempt: Attempt }) {
  return attempt.preview ? (
    <PreviewResults course={course} attempt={attempt} />
  ) : (
    <StudentResults course={course} attempt={attempt} />
  );
}

interface Polled<T> {
  /** undefined: still looking; null: not there after POLL_TIMES tries. */
  value: T | null | undefined;
  error: unknown;
  again: () => void;
}

/** Polls `look` every POLL_MS until it gives a value (announced) or POLL_TIMES pass (then null). */
function usePolled<T>(look: () => Promise<T | undefined>, deps: unknown[]): Polled<T> {
  // undefined: still looking; null: not there yet.
  const [value, setValue] = useState<T | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const poll = async (left: number) => {
      try {
        const v = await look();
        if (!live) return;
        if (v !== undefined) {
          setValue(v);
          announce(t('exam_result_ready'));
        } else if (left <= 0) setValue(null);
        else timer = window.setTimeout(() => void poll(left - 1), POLL_MS);
      } catch (e) {
        if (live) setError(e);
      }
    };
    setError(undefined);
    setValue(undefined);
    void poll(POLL_TIMES);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [...deps, round]);
  return { value, error, again: () => setRound((n) => n + 1) };
}

function StudentResults({ course, attempt }: { course: string; attempt: Attempt }) {
  const session = useSession();
  const student = session.me.user?.id ?? '';
  const polled = usePolled(async () => {
    const g = await getGrade(session.institution, course, student, attempt.assessment_id);
    return g && g.attempts.some((a) => a.attempt === attempt.id) ? g : undefined;
  }, [attempt.id]);

  return (
    <>
      <ResultSection
        attempt={attempt}
        polled={polled}
        notYet={
          <>
            {t('exam_result_not_yet')} <a href={paths.grades}>{t('exam_result_grades_link')}</a>
          </>
        }
      >
        {(grade) => <GradeView grade={grade} attempt={attempt} course={course} />}
      </ResultSection>
      <p class="row">
        <a href={paths.start(course, attempt.assessment_id)}>{t('exam_back_to_assessment')}</a>
        <a href={paths.grades}>{t('exam_result_grades_link')}</a>
      </p>
    </>
  );
}

/**
 * A staff preview's result: graded by the grading plugin like a student's attempt, read from
 * the attempt's own result (a preview never reaches the gradebook).
 */
function PreviewResults({ course, attempt }: { course: string; attempt: Attempt }) {
  const polled = usePolled(async () => {
    try {
      return await getResult(attempt.assessment_id, attempt.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }, [attempt.id]);
  return (
    <>
      <ResultSection attempt={attempt} polled={polled} notYet={t('exam_preview_not_yet')}>
        {(result) => (
          <>
            <p class="score" id="attempt-score">
              {t('exam_result_score', { points: formatPoints(result.points), max: formatPoints(result.max_points) })}{' '}
              <span class={`badge ${result.status === 'graded' ? 'ok' : 'warn'}`}>{statusText(result.status)}</span>
            </p>
            {result.error && <p class="notice error">{result.error}</p>}
            <QuestionResults attempt={attempt} results={result.questions} />
          </>
        )}
      </ResultSection>
      <p class="row">
        <a href={paths.quizBuilder(course, attempt.assessment_id)}>{t('exam_preview_back')}</a>
      </p>
    </>
  );
}

/** Who submitted the attempt, then its result section: grading…, not yet (with "check again"), or `children`. */
function ResultSection<T>({
  attempt,
  polled,
  notYet,
  children,
}: {
  attempt: Attempt;
  polled: Polled<T>;
  notYet: ComponentChildren;
  children: (v: T) => ComponentChildren;
}) {
  const { value, error, again } = polled;
  return (
    <>
      <Submitted attempt={attempt} />
      <section aria-labelledby="result-h" class="results">
        <h2 id="result-h">{t('exam_result_title')}</h2>
        {error !== undefined && <ErrorBox error={error} onRetry={again} />}
        {error === undefined && value === undefined && (
          <p class="muted" role="status">
            {t('exam_result_grading')}
          </p>
        )}
        {value === null && (
          <p>
            {notYet}{' '}
            <button type="button" class="link" onClick={again}>
              {t('exam_result_check_again')}
            </button>
          </p>
        )}
        {value !== null && value !== undefined && children(value)}
      </section>
    </>
  );
}

/** Who submitted the attempt and when; a preview says it is one. */
function Submitted({ attempt }: { attempt: Attempt }) {
  const submittedAt = formatDateTime(attempt.submitted_at);
  const how =
    attempt.submitted_by === 'deadline'
      ? t('exam_submitted_deadline', { at: submittedAt })
      : attempt.submitted_by === 'proctoring'
        ? t('exam_submitted_proctoring', { at: submittedAt })
        : t('exam_submitted_student', { at: submittedAt });

  return (
    <>
      <PageTitle text={attempt.title} />
      <p class="muted">{attempt.preview ? t('exam_preview_badge') : t('exam_attempt_n', { n: attempt.number })}</p>
      <p class={`notice ${attempt.submitted_by === 'student' ? 'ok' : 'warn'}`} id="submitted-state" role="status">
        <strong>{t('exam_submitted_title')}</strong> {how}
      </p>
      {attempt.preview && <p class="notice">{t('exam_preview_result_note')}</p>}
    </>
  );
}

function statusText(s: Schemas['GradeStatus'] | Schemas['QuestionStatus']): string {
  switch (s) {
    case 'graded':
      return t('exam_status_graded');
    case 'needs_manual_grading':
      return t('exam_status_manual');
    case 'grading_failed':
      return t('exam_status_failed');
    case 'invalid_response':
      return t('exam_status_invalid');
  }
}

function GradeView({ grade, attempt, course }: { grade: Grade; attempt: Attempt; course: string }) {
  const mine = grade.attempts.find((a) => a.attempt === attempt.id);
  const counted = grade.attempt === attempt.id;
  return (
    <>
      {mine && (
        <p class="score" id="attempt-score">
          {t('exam_result_score', { points: formatPoints(mine.points), max: formatPoints(mine.max_points) })}{' '}
          <span class={`badge ${mine.status === 'graded' ? 'ok' : 'warn'}`}>{statusText(mine.status)}</span>
        </p>
      )}
      {grade.status === 'needs_manual_grading' && <p>{t('exam_result_manual_note')}</p>}
      {grade.error && <p class="notice error">{grade.error}</p>}
      {counted ? (
        <QuestionResults attempt={attempt} results={grade.questions} />
      ) : (
        <p>
          {t('exam_result_other_counts', { points: formatPoints(grade.points), max: formatPoints(grade.max_points) })}{' '}
          {grade.attempt && (
            <a href={paths.attempt(course, attempt.assessment_id, grade.attempt)}>{t('exam_result_counted_link')}</a>
          )}
        </p>
      )}
    </>
  );
}

/** Each question with the answer given and, once graded, its points, feedback and explanation. */
function QuestionResults({ attempt, results }: { attempt: Attempt; results: Schemas['QuestionResult'][] }) {
  return (
    <>
      <h3>{t('exam_result_questions')}</h3>
      <ol class="result-list">
        {attempt.questions.map((q, i) => {
          const r = results.find((x) => x.question_id === q.id);
          return (
            <li class="card result" id={`result-${q.id}`}>
              <h4>
                {t('exam_question_n', { n: i + 1, total: attempt.questions.length })}
                {r && (
                  <>
                    {' · '}
                    {t('exam_result_points', { points: formatPoints(r.points), max: formatPoints(r.max_points) })}
                  </>
                )}
              </h4>
              <p class="prompt">{q.prompt}</p>
              <p>
                <strong>{t('exam_result_your_answer')}</strong>{' '}
                <span class="your-answer">{describeResponse(q, attempt.answers[q.id]?.response)}</span>
              </p>
              {r && r.status !== 'graded' && <p class="badge warn">{statusText(r.status)}</p>}
              {r && r.feedback.length > 0 && (
                <div class="feedback">
                  <strong>{t('exam_result_feedback')}</strong>
                  <ul>
                    {r.feedback.map((f) => (
                      <li>{f}</li>
                    ))}
                  </ul>
                </div>
              )}
              {r && r.explanation.length > 0 && (
                <div class="explanation">
                  <strong>{t('exam_result_explanation')}</strong>
                  <ul>
                    {r.explanation.map((f) => (
                      <li>{f}</li>
                    ))}
                  </ul>
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}

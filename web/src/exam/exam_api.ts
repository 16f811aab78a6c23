// The exam page's requests that the page needs more of than the typed body: the
// attempt with its response (whose Date header tells the server's clock), and the
// assessment's settings, which students read from the course's list.
import { api, call, type Schemas } from '../api/client';
import type { Attempt } from './responses';

export type Summary = Schemas['AssessmentSummary'];

export async function getAttempt(assessment: string, attempt: string): Promise<{ attempt: Attempt; response: Response }> {
  const r = await api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}', {
    params: { path: { assessment_id: assessment, attempt_id: attempt } },
  });
  return { attempt: await call(Promise.resolve(r)), response: r.response };
}

export function submitAttempt(assessment: string, attempt: string): Promise<Attempt> {
  return call(
    api.POST('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/submit', {
      params: { path: { assessment_id: assessment, attempt_id: attempt } },
    }),
  );
}

/**
 * What a student may see of an assessment before and during an attempt (settings:
 * time limit, window, hint cost, proctoring). There is no per-assessment read for
 * students, so it comes from the course's list; undefined when it is not listed.
 * `serverNow` is the server's clock when it answered (its Date header), for judging
 * the assessment's window without trusting this browser's clock.
 */
export async function getSummary(
  institution: string,
  course: string,
  assessment: string,
): Promise<{ summary: Summary | undefined; serverNow: number }> {
  const r = await api.GET('/api/v1/institutions/{institution}/courses/{course_id}/assessments', {
    params: { path: { institution, course_id: course } },
  });
  const list = await call(Promise.resolve(r));
  const date = Date.parse(r.response.headers.get('date') ?? '');
  return {
    summary: list.items.find((a) => a.id === assessment),
    serverNow: Number.isFinite(date) ? date : Date.now(),
  };
}

/** The caller's attempts at the assessment, oldest first. */
export async function getMyAttempts(assessment: string): Promise<Schemas['AttemptSummary'][]> {
  const r = await call(
    api.GET('/api/v1/assessments/{assessment_id}/attempts', { params: { path: { assessment_id: assessment } } }),
  );
  return r.items;
}

/** The student's grade for the assessment, if the gradebook has one yet. */
export async function getGrade(
  institution: string,
  course: string,
  student: string,
  assessment: string,
): Promise<Schemas['Grade'] | undefined> {
  const grades = await call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades', {
      params: { path: { institution, course_id: course, user_id: student } },
    }),
  );
  return grades.items.find((g) => g.item === assessment);
}

export const paths = {
  start: (course: string, assessment: string) =>
    `/courses/${encodeURIComponent(course)}/assessments/${encodeURIComponent(assessment)}`,
  attempt: (course: string, assessment: string, attempt: string) =>
    `/courses/${encodeURIComponent(course)}/assessments/${encodeURIComponent(assessment)}/attempts/${encodeURIComponent(attempt)}`,
  course: (course: string) => `/courses/${encodeURIComponent(course)}`,
  grades: '/grades',
  /** Where a staff preview returns: the quiz builder (in the staff chunk, loaded on demand). */
  quizBuilder: (course: string, assessment: string) =>
    `/teach/courses/${encodeURIComponent(course)}/assessments/${encodeURIComponent(assessment)}/edit`,
};

/** How long the server may hold a result request while the attempt is graded. */
const RESULT_WAIT_SECS = 15;

/**
 * One attempt's result: how a staff preview reads its grading. The server holds the request until
 * the grading plugin is done (up to RESULT_WAIT_SECS), and answers 404 only when it is not.
 */
export function getResult(assessment: string, attempt: string): Promise<Schemas['AttemptResult']> {
  return call(
    api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/result', {
      params: { path: { assessment_id: assessment, attempt_id: attempt }, query: { wait_secs: RESULT_WAIT_SECS } },
    }),
  );
}

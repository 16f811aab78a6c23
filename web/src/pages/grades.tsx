// The student's grades: every course at a glance (/grades), and one course in detail
// (/courses/:course/grades) with each question's points, feedback and how it was graded.
//
// Grades carry the assessment's id, not its title: titles come from the course's assessment
// list; question prompts and the student's answers from the counted attempt.
import { api, call, type Schemas } from '../api/client';
import { Async, PageTitle, describeError, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t } from '../i18n';
import { useSession } from '../session';
import { loadCourse } from './course';
import {
  type AssessmentSummary,
  type Course,
  ScrollTable,
  courseAssessments,
  courseHref,
  formatPercent,
  formatPoints,
  fromUnix,
  myCourses,
  useFocusTitle,
} from './student_shared';

type Grade = Schemas['Grade'];
type StudentGrades = Schemas['StudentGrades'];
type Attempt = Schemas['Attempt'];
type PresentedQuestion = Schemas['PresentedQuestion'];
type QuestionResult = Schemas['QuestionResult'];

async function myGrades(institution: string, course: string, student: string): Promise<StudentGrades> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades', {
      params: { path: { institution, course_id: course, user_id: student } },
    }),
  );
}

const STATUS_KEYS: Record<Schemas['GradeStatus'], MessageKey> = {
  graded: 'st_status_graded',
  needs_manual_grading: 'st_status_manual',
  grading_failed: 'st_status_failed',
};

function GradeStatus({ status }: { status: Schemas['GradeStatus'] }) {
  const tone = status === 'graded' ? 'ok' : status === 'grading_failed' ? 'bad' : 'warn';
  return <span class={`badge ${tone}`}>{t(STATUS_KEYS[status])}</span>;
}

function score(g: { points: number; max_points: number }): string {
  const pct = g.max_points > 0 ? ` (${formatPercent(g.points / g.max_points)})` : '';
  return t('st_points_of', { points: formatPoints(g.points), max: formatPoints(g.max_points) }) + pct;
}

/** A grade's item by name: the assessment's title, or its id for grades set by hand under another id. */
function titleOf(item: string, assessments: AssessmentSummary[]): string {
  return assessments.find((a) => a.id === item)?.title ?? item;
}

interface CourseGrades {
  course: Course;
  grades?: StudentGrades;
  assessments: AssessmentSummary[];
  error?: unknown;
}

/** /grades: each course's grades in a table, with a link to the course's feedback. */
export function GradesPage() {
  const { institution, me } = useSession();
  const student = me.user?.id ?? '';
  const state = useLoad(async () => {
    const courses = (await myCourses()).filter((c) => c.my_role === 'student');
    return Promise.all(
      courses.map(async (course): Promise<CourseGrades> => {
        try {
          const [grades, assessments] = await Promise.all([
            myGrades(institution, course.id, student),
            courseAssessments(institution, course.id),
          ]);
          return { course, grades, assessments };
        } catch (error) {
          return { course, assessments: [], error };
        }
      }),
    );
  }, [institution, student]);

  return (
    <>
      <PageTitle text={t('st_grades_title')} />
      <Async state={state}>
        {(list) =>
          list.length === 0 ? (
            <p>{t('st_no_courses')}</p>
          ) : (
            <>
              {list.map(({ course, grades, assessments, error }) => (
                <section key={course.id} aria-labelledby={`g-${course.id}`} class="card grades-course">
                  <h2 id={`g-${course.id}`}>
                    <a href={courseHref(course.id)}>{course.title}</a>
                  </h2>
                  {error !== undefined && <p class="notice error">{describeError(error)}</p>}
                  {grades && (
                    <>
                      <CompletionLine grades={grades} />
                      {grades.items.length === 0 ? (
                        <p class="muted">{t('st_no_grades')}</p>
                      ) : (
                        <ScrollTable label={t('st_grades_in', { course: course.title })}>
                          <table>
                            <caption class="visually-hidden">{t('st_grades_in', { course: course.title })}</caption>
                            <thead>
                              <tr>
                                <th scope="col">{t('st_col_item')}</th>
                                <th scope="col">{t('st_col_score')}</th>
                                <th scope="col">{t('st_col_status')}</th>
                                <th scope="col">{t('st_col_updated')}</th>
                              </tr>
                            </thead>
                            <tbody>
                              {grades.items.map((g) => (
                                <tr key={g.item}>
                                  <th scope="row">{titleOf(g.item, assessments)}</th>
                                  <td>{score(g)}</td>
                                  <td>
                                    <GradeStatus status={g.status} />
                                  </td>
                                  <td>{formatDateTime(fromUnix(g.updated_at))}</td>
                                </tr>
                              ))}
                            </tbody>
                          </table>
                        </ScrollTable>
                      )}
                      {grades.items.length > 0 && (
                        <p>
                          <a href={`${courseHref(course.id)}/grades`}>
                            {t('st_feedback_link', { course: course.title })}
                          </a>
                        </p>
                      )}
                    </>
                  )}
                </section>
              ))}
            </>
          )
        }
      </Async>
    </>
  );
}

function CompletionLine({ grades }: { grades: StudentGrades }) {
  if (!grades.completion) return null;
  return (
    <p class="notice ok">
      {t('st_course_completed_on', {
        when: formatDateTime(fromUnix(grades.completion.completed_at)),
        percent: formatPercent(grades.completion.percent / 100),
      })}
    </p>
  );
}

interface CourseGradeDetail {
  course: Course;
  grades: StudentGrades;
  assessments: AssessmentSummary[];
  /** The counted attempt of each grade that has one, by attempt id (absent when it cannot be read). */
  attempts: Map<string, Attempt>;
}

/** /courses/:course/grades: every grade with its attempts, per-question feedback and explanations. */
export function CourseGradesPage({ course }: { course: string }) {
  const { institution, me } = useSession();
  const student = me.user?.id ?? '';
  const state = useLoad<CourseGradeDetail>(async () => {
    const [c, grades, assessments] = await Promise.all([
      loadCourse(institution, course),
      myGrades(institution, course, student),
      courseAssessments(institution, course),
    ]);
    // One call per graded assessment (a course has a handful), for prompts and answers.
    const attempts = new Map<string, Attempt>();
    await Promise.all(
      grades.items.map(async (g) => {
        if (!g.attempt) return;
        try {
          const a = await call(
            api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}', {
              params: { path: { assessment_id: g.item, attempt_id: g.attempt } },
            }),
          );
          attempts.set(a.id, a);
        } catch {
          // Without the attempt the grade still shows, with question ids instead of prompts.
        }
      }),
    );
    return { course: c, grades, assessments, attempts };
  }, [institution, course, student]);
  useFocusTitle(state.data !== undefined);

  return (
    <Async state={state}>
      {({ course: c, grades, assessments, attempts }) => (
        <>
          <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
            <ol>
              <li>
                <a href="/grades">{t('nav_grades')}</a>
              </li>
              <li>
                <a href={courseHref(course)}>{c.title}</a>
              </li>
            </ol>
          </nav>
          <PageTitle text={t('st_course_grades_title', { course: c.title })} />
          <CompletionLine grades={grades} />
          {grades.items.length === 0 && <p class="muted">{t('st_no_grades')}</p>}
          {grades.items.map((g) => (
            <GradeDetail
              key={g.item}
              grade={g}
              title={titleOf(g.item, assessments)}
              attempt={g.attempt ? attempts.get(g.attempt) : undefined}
            />
          ))}
        </>
      )}
    </Async>
  );
}

const METHOD_KEYS: Record<Schemas['GradingMethod'], MessageKey> = {
  highest: 'st_method_highest',
  last: 'st_method_last',
  first: 'st_method_first',
  average: 'st_method_average',
};

function GradeDetail({ grade, title, attempt }: { grade: Grade; title: string; attempt?: Attempt }) {
  const id = `grade-${grade.item}`;
  return (
    <section aria-labelledby={id} class="card grade-detail">
      <h2 id={id}>{title}</h2>
      <p>
        <strong>{score(grade)}</strong> <GradeStatus status={grade.status} />
      </p>
      {grade.grading_method && <p class="hint">{t(METHOD_KEYS[grade.grading_method])}</p>}
      {grade.status === 'needs_manual_grading' && <p class="notice warn">{t('st_manual_pending')}</p>}
      {grade.attempts.length > 1 && (
        <ScrollTable label={t('st_attempts_title')}>
          <table>
            <caption>{t('st_attempts_title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('st_col_attempt')}</th>
                <th scope="col">{t('st_col_submitted')}</th>
                <th scope="col">{t('st_col_score')}</th>
                <th scope="col">{t('st_col_counts')}</th>
              </tr>
            </thead>
            <tbody>
              {grade.attempts.map((a, n) => (
                <tr key={a.attempt}>
                  <th scope="row">{n + 1}</th>
                  <td>{formatDateTime(fromUnix(a.submitted_at))}</td>
                  <td>{score(a)}</td>
                  <td>{a.counts ? t('st_yes') : t('st_no')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      {grade.questions.length > 0 && (
        <>
          <h3>{t('st_questions_feedback')}</h3>
          <ol class="question-results">
            {grade.questions.map((r) => (
              <QuestionFeedback
                key={r.question_id}
                result={r}
                question={attempt?.questions.find((q) => q.id === r.question_id)}
                answer={attempt?.answers[r.question_id]?.response}
              />
            ))}
          </ol>
        </>
      )}
      {grade.history.length > 1 && (
        <details>
          <summary>{t('st_grade_history')}</summary>
          <ul>
            {grade.history.map((h) => (
              <li key={h.at}>
                {formatDateTime(fromUnix(h.at))}: {score(h)} — {h.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

const QUESTION_STATUS_KEYS: Record<Schemas['QuestionStatus'], MessageKey> = {
  graded: 'st_status_graded',
  needs_manual_grading: 'st_status_manual',
  invalid_response: 'st_status_invalid',
};

function QuestionFeedback({
  result,
  question,
  answer,
}: {
  result: QuestionResult;
  question?: PresentedQuestion;
  answer?: Schemas['AnswerResponse'];
}) {
  return (
    <li class="question-result">
      <p class="prompt">{question?.prompt ?? result.question_id}</p>
      <p>
        {t('st_your_answer')}{' '}
        <span class="answer">{answer ? describeAnswer(answer, question) : t('st_no_answer')}</span>
      </p>
      <p>
        <strong>{score(result)}</strong>
        {result.status !== 'graded' && <span class="badge warn">{t(QUESTION_STATUS_KEYS[result.status])}</span>}
      </p>
      {result.feedback.length > 0 && (
        <div class="feedback">
          <p class="label">{t('st_feedback')}</p>
          <ul>
            {result.feedback.map((f, i) => (
              <li key={i}>{f}</li>
            ))}
          </ul>
        </div>
      )}
      {result.explanation.length > 0 && (
        <details>
          <summary>{t('st_explanation')}</summary>
          <ul>
            {result.explanation.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

/** A saved answer in words, with option ids replaced by their text. */
function describeAnswer(r: Schemas['AnswerResponse'], q?: PresentedQuestion): string {
  const label = (id: string) =>
    q?.options.find((o) => o.id === id)?.text ?? q?.targets.find((o) => o.id === id)?.text ?? id;
  if ('choices' in r) return r.choices.map(label).join(', ') || t('st_no_answer');
  if ('boolean' in r) return r.boolean ? t('st_true') : t('st_false');
  if ('number' in r) return [formatPoints(r.number.value), r.number.unit ?? ''].join(' ').trim();
  if ('text' in r) return r.text;
  if ('pairs' in r) return r.pairs.map((p) => `${label(p.left)} → ${label(p.right)}`).join('; ');
  if ('sequence' in r) return r.sequence.map(label).join(' → ');
  if ('blanks' in r) return r.blanks.join(' · ');
  if ('essay' in r) return r.essay;
  return '';
}

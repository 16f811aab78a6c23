// The student's dashboard: courses with progress, where to continue, what is due, unread notifications.
//
// The API has no single "overview" call: per course it takes the learner view of the content
// (progress and the next item), the assessments (windows) and the student's grades (attempts
// used, so an assessment with none left is not listed as due): three calls a course, in
// parallel. A course whose calls fail shows that on its own card; the rest of the page works.
import { api, call } from '../api/client';
import { Async, PageTitle, describeError, useLoad } from '../components/ui';
import { formatDateTime, formatRelative, t, tp } from '../i18n';
import { useSession } from '../session';
import {
  type AssessmentSummary,
  type Course,
  type Deadline,
  type Notification,
  type StudentOutline,
  ProgressBar,
  appHref,
  assessmentHref,
  courseAssessments,
  courseHref,
  coursePath,
  deadlineLabel,
  fromUnix,
  itemHref,
  myCourses,
  myNotifications,
  upcomingDeadlines,
} from './student_shared';

/** How many upcoming dates and unread notifications the dashboard lists. */
const UPCOMING_SHOWN = 8;
const NOTIFICATIONS_SHOWN = 3;

interface CourseOverview {
  course: Course;
  outline?: StudentOutline;
  assessments?: AssessmentSummary[];
  /** Graded attempts by assessment id. */
  attemptsUsed?: Map<string, number>;
  /** Why the course's outline or assessments could not be loaded. */
  error?: unknown;
}

async function loadOverview(institution: string, student: string): Promise<CourseOverview[]> {
  const courses = await myCourses();
  return Promise.all(
    courses.map(async (course): Promise<CourseOverview> => {
      const [outline, assessments, grades] = await Promise.allSettled([
        call(
          api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content', {
            params: coursePath(institution, course.id),
          }),
        ),
        courseAssessments(institution, course.id),
        course.my_role === 'student'
          ? call(
              api.GET('/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades', {
                params: { path: { institution, course_id: course.id, user_id: student } },
              }),
            )
          : Promise.resolve({ items: [] }),
      ]);
      const failed = [outline, assessments, grades].find((r) => r.status === 'rejected');
      return {
        course,
        outline: outline.status === 'fulfilled' ? outline.value : undefined,
        assessments: assessments.status === 'fulfilled' ? assessments.value : undefined,
        attemptsUsed:
          grades.status === 'fulfilled'
            ? new Map(grades.value.items.map((g) => [g.item, g.attempts.length]))
            : undefined,
        error: failed?.status === 'rejected' ? failed.reason : undefined,
      };
    }),
  );
}

/** The title of an item of the outline, by id. */
function itemTitle(outline: StudentOutline, id: string): string | undefined {
  for (const m of outline.modules) for (const i of m.items) if (i.id === id) return i.title;
  return undefined;
}

export function Dashboard() {
  const { institution, me } = useSession();
  const student = me.user?.id ?? '';
  const overview = useLoad(() => loadOverview(institution, student), [institution, student]);
  const unread = useLoad(() => myNotifications({ unread: true, limit: 100 }), []);

  return (
    <>
      <PageTitle text={t('st_dashboard_title')}>{t('st_dashboard_welcome', { name: me.user?.name ?? '' })}</PageTitle>
      <div class="split st-columns">
        <div>
          <Async state={overview}>
            {(list) => (
              <>
                <Continue list={list} />
                <MyCourses list={list} />
              </>
            )}
          </Async>
        </div>
        <div>
          <section aria-labelledby="upcoming-h" class="card">
            <h2 id="upcoming-h">{t('st_upcoming_title')}</h2>
            <Async state={overview}>{(list) => <Upcoming list={list} />}</Async>
          </section>
          <section aria-labelledby="inbox-h" class="card">
            <h2 id="inbox-h">{t('nav_notifications')}</h2>
            <Async state={unread}>{(items) => <Unread items={items} />}</Async>
          </section>
        </div>
      </div>
    </>
  );
}

function Continue({ list }: { list: CourseOverview[] }) {
  const next = list.flatMap(({ course, outline }) => {
    const id = outline?.progress.resume;
    const title = outline && id ? itemTitle(outline, id) : undefined;
    return id && title ? [{ course, id, title }] : [];
  });
  return (
    <section aria-labelledby="continue-h">
      <h2 id="continue-h">{t('st_continue_title')}</h2>
      {next.length === 0 ? (
        <p class="muted">{list.length === 0 ? t('st_no_courses') : t('st_continue_none')}</p>
      ) : (
        <ul class="continue-list">
          {next.map(({ course, id, title }) => (
            <li key={course.id}>
              <a class="button primary" href={itemHref(course.id, id)}>
                {t('st_continue_item', { item: title })}
              </a>{' '}
              <span class="muted">{t('st_in_course', { course: course.title })}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function MyCourses({ list }: { list: CourseOverview[] }) {
  return (
    <section aria-labelledby="courses-h">
      <h2 id="courses-h">{t('st_my_courses')}</h2>
      {list.length === 0 ? (
        <p>{t('st_no_courses')}</p>
      ) : (
        <ul class="grid plain">
          {list.map(({ course, outline, error }) => (
            <li key={course.id} class="card">
              <h3>
                <a href={courseHref(course.id)}>{course.title}</a>
              </h3>
              <p class="muted">
                {course.code}
                {course.state === 'archived' && <span class="badge">{t('st_course_archived')}</span>}
              </p>
              {outline ? (
                <>
                  <ProgressBar
                    percent={outline.progress.percent}
                    label={t('st_progress_in', { course: course.title })}
                  />
                  <p class="hint">
                    {tp('st_progress_text', outline.progress.total, { done: outline.progress.completed })}
                  </p>
                </>
              ) : (
                error !== undefined && (
                  <p class="hint">{t('st_course_unavailable', { reason: describeError(error) })}</p>
                )
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** An assessment still ahead: its next date, and the ones after it. */
interface Ahead {
  course: Course;
  assessment: AssessmentSummary;
  dates: Deadline[];
}

function Upcoming({ list }: { list: CourseOverview[] }) {
  const ahead: Ahead[] = list
    .flatMap(({ course, assessments, attemptsUsed }) =>
      (assessments ?? [])
        // Nothing is due of an assessment whose attempts are all used.
        .filter((a) => (attemptsUsed?.get(a.id) ?? 0) < (a.settings.attempts_allowed ?? 1))
        .map((assessment) => ({ course, assessment, dates: upcomingDeadlines(assessment) })),
    )
    .filter((a) => a.dates.length > 0)
    .sort((a, b) => new Date(a.dates[0]!.at).getTime() - new Date(b.dates[0]!.at).getTime())
    .slice(0, UPCOMING_SHOWN);
  const failed = list.filter((c) => c.assessments === undefined);
  return (
    <>
      {ahead.length === 0 ? (
        <p class="muted">{t('st_upcoming_none')}</p>
      ) : (
        <ul class="dated">
          {ahead.map(({ course, assessment, dates }) => (
            <li key={assessment.id}>
              <a href={assessmentHref(course.id, assessment.id)}>{assessment.title}</a>{' '}
              <span class="muted">({course.title})</span>
              <br />
              {deadlineLabel(dates[0]!)} <span class="muted">({formatRelative(dates[0]!.at)})</span>
              {dates.length > 1 && (
                <>
                  <br />
                  <span class="muted">{dates.slice(1).map(deadlineLabel).join(' · ')}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {failed.length > 0 && (
        <p class="hint">{t('st_upcoming_partial', { courses: failed.map((c) => c.course.title).join(', ') })}</p>
      )}
    </>
  );
}

function Unread({ items }: { items: Notification[] }) {
  if (items.length === 0) return <p class="muted">{t('st_notifications_none_unread')}</p>;
  return (
    <>
      <p>
        <strong>{items.length >= 100 ? t('st_unread_many') : tp('st_unread_count', items.length)}</strong>
      </p>
      <ul class="dated">
        {items.slice(0, NOTIFICATIONS_SHOWN).map((n) => (
          <li key={n.id}>
            {n.link ? <a href={appHref(n.link)}>{n.title}</a> : <span>{n.title}</span>}
            <br />
            <span class="muted">{formatDateTime(fromUnix(n.created_at))}</span>
          </li>
        ))}
      </ul>
      <p>
        <a href="/notifications">{t('st_all_notifications')}</a>
      </p>
    </>
  );
}

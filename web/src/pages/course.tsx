// A course as its student sees it: progress, where to continue, the outline (released items
// only, locked ones with the reason, completion and scores), the assessments with their
// windows, and the tutor.
import { api, call } from '../api/client';
import { Async, PageTitle, useLoad } from '../components/ui';
import { formatDateTime, t, tp } from '../i18n';
import { useSession } from '../session';
import { TutorPanel } from './tutor';
import {
  type AssessmentSummary,
  type Course,
  type StudentItem,
  type StudentOutline,
  AssessmentFacts,
  ProgressBar,
  assessmentHref,
  courseAssessments,
  courseHref,
  coursePath,
  formatPercent,
  itemHref,
  kindLabel,
  useFocusTitle,
} from './student_shared';

interface CourseData {
  course: Course;
  outline: StudentOutline;
  assessments: AssessmentSummary[];
}

export async function loadCourse(institution: string, course: string): Promise<Course> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}', { params: coursePath(institution, course) }),
  );
}

export async function loadOutline(institution: string, course: string): Promise<StudentOutline> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content', {
      params: coursePath(institution, course),
    }),
  );
}

export function CoursePage({ course }: { course: string }) {
  const { institution } = useSession();
  const state = useLoad<CourseData>(async () => {
    const [c, outline, assessments] = await Promise.all([
      loadCourse(institution, course),
      loadOutline(institution, course),
      courseAssessments(institution, course),
    ]);
    return { course: c, outline, assessments };
  }, [institution, course]);
  useFocusTitle(state.data !== undefined);

  return (
    <Async state={state}>
      {({ course: c, outline, assessments }) => (
        <>
          <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
            <ol>
              <li>
                <a href="/">{t('nav_dashboard')}</a>
              </li>
              <li>
                <span aria-current="page">{c.title}</span>
              </li>
            </ol>
          </nav>
          <PageTitle text={c.title} />
          <p class="muted">
            {c.code}
            {c.state === 'archived' && <span class="badge">{t('st_course_archived')}</span>}
          </p>
          {c.description && <p>{c.description}</p>}
          <div class="split st-columns">
            <div>
              <section aria-labelledby="progress-h">
                <h2 id="progress-h">{t('st_progress_title')}</h2>
                <ProgressBar percent={outline.progress.percent} label={t('st_progress_in', { course: c.title })} />
                <p class="hint">
                  {tp('st_progress_text', outline.progress.total, { done: outline.progress.completed })}
                </p>
                <ResumeLink course={course} outline={outline} />
              </section>
              <Outline course={course} outline={outline} />
            </div>
            <div>
              <section aria-labelledby="assessments-h" class="card">
                <h2 id="assessments-h">{t('st_assessments_title')}</h2>
                {assessments.length === 0 ? (
                  <p class="muted">{t('st_assessments_none')}</p>
                ) : (
                  <ul class="plain stack">
                    {assessments.map((a) => (
                      <li key={a.id}>
                        <h3>
                          <a href={assessmentHref(course, a.id)}>{a.title}</a>
                        </h3>
                        <AssessmentFacts a={a} />
                      </li>
                    ))}
                  </ul>
                )}
                <p>
                  <a href={`${courseHref(course)}/grades`}>{t('st_course_grades_link')}</a>
                </p>
              </section>
            </div>
          </div>
          <TutorPanel course={course} />
        </>
      )}
    </Async>
  );
}

function ResumeLink({ course, outline }: { course: string; outline: StudentOutline }) {
  const id = outline.progress.resume;
  const item = id ? outline.modules.flatMap((m) => m.items).find((i) => i.id === id) : undefined;
  if (!item) {
    const done = outline.progress.total > 0 && outline.progress.completed >= outline.progress.total;
    return <p>{done ? t('st_course_done') : t('st_continue_none')}</p>;
  }
  return (
    <p>
      <a class="button primary" href={itemHref(course, item.id)}>
        {t('st_continue_item', { item: item.title })}
      </a>
    </p>
  );
}

function Outline({ course, outline }: { course: string; outline: StudentOutline }) {
  return (
    <section aria-labelledby="outline-h" class="outline">
      <h2 id="outline-h">{t('st_outline_title')}</h2>
      {outline.modules.length === 0 && outline.upcoming.length === 0 && (
        <p class="muted">{t('st_outline_empty')}</p>
      )}
      {outline.modules.map((m) => (
        <section key={m.id} aria-labelledby={`module-${m.id}`}>
          <h3 id={`module-${m.id}`}>{m.title}</h3>
          {m.items.length === 0 ? (
            <p class="muted">{t('st_module_empty')}</p>
          ) : (
            <ol>
              {m.items.map((i) => (
                <OutlineItem key={i.id} course={course} item={i} />
              ))}
            </ol>
          )}
        </section>
      ))}
      {outline.upcoming.length > 0 && (
        <section aria-labelledby="upcoming-items-h">
          <h3 id="upcoming-items-h">{t('st_upcoming_items')}</h3>
          <ol>
            {outline.upcoming.map((u) => (
              <li class="item" key={`${u.module}/${u.title}`}>
                <span class="badge kind">{kindLabel(u.kind)}</span>
                <span class="locked-title">{u.title}</span>
                <span class="muted">{u.module}</span>
                <span class="lock">{t('st_available_from', { date: formatDateTime(u.release_at) })}</span>
              </li>
            ))}
          </ol>
        </section>
      )}
    </section>
  );
}

function OutlineItem({ course, item }: { course: string; item: StudentItem }) {
  return (
    <li class="item">
      <span class="badge kind">{kindLabel(item.kind)}</span>
      {item.locked ? (
        <span class="locked-title">{item.title}</span>
      ) : (
        <a href={item.assessment_id ? assessmentHref(course, item.assessment_id) : itemHref(course, item.id)}>
          {item.title}
        </a>
      )}
      {item.release_at && new Date(item.release_at).getTime() > Date.now() - 7 * 86400_000 && (
        <span class="muted">{t('st_released_on', { when: formatDateTime(item.release_at) })}</span>
      )}
      {item.completed && <span class="badge ok">{t('st_completed')}</span>}
      {item.score !== null && item.score !== undefined && (
        <span class="badge">{t('st_score', { score: formatPercent(item.score) })}</span>
      )}
      {item.locked && (
        <span class="lock">
          {t('st_locked')}
          {item.reason ? `: ${item.reason}` : ''}
        </span>
      )}
    </li>
  );
}

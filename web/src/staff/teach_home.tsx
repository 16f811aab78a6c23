// /teach: the courses I teach (instructor or teaching assistant; an institution administrator
// also sees every course of the institution), each with links to its staff pages, and a form to
// create a course (its creator becomes its instructor).
import { useState } from 'preact/hooks';
import { ApiError, api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { type Course, type CourseRole, allPages, teachPaths } from './course_api';

const ROLE_KEYS: Record<CourseRole, MessageKey> = {
  instructor: 'sc_role_instructor',
  teaching_assistant: 'sc_role_teaching_assistant',
  student: 'sc_role_student',
  observer: 'sc_role_observer',
};

export function roleLabel(role: CourseRole): string {
  return t(ROLE_KEYS[role]);
}

const STATE_KEYS: Record<Course['state'], MessageKey> = {
  draft: 'sc_state_draft',
  published: 'sc_state_published',
  archived: 'sc_state_archived',
};

export function courseStateLabel(state: Course['state']): string {
  return t(STATE_KEYS[state]);
}

/** Courses the caller teaches; with `course:view` institution-wide (administrators), all of them. */
async function teachingCourses(institution: string, seeAll: boolean): Promise<Course[]> {
  const mine = await allPages((cursor) =>
    call(api.GET('/api/v1/me/courses', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } })),
  );
  const teaching = mine.filter((c) => c.my_role === 'instructor' || c.my_role === 'teaching_assistant');
  if (!seeAll) return teaching;
  const every = await allPages((cursor) =>
    call(
      api.GET('/api/v1/institutions/{institution}/courses', {
        params: { path: { institution }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const byId = new Map(every.map((c) => [c.id, c]));
  for (const c of teaching) byId.set(c.id, c);
  return [...byId.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function TeachHome() {
  const { institution, me } = useSession();
  const caps = new Set(me.capabilities);
  const state = useLoad(() => teachingCourses(institution, caps.has('course:view')), [institution]);

  return (
    <>
      <PageTitle text={t('sc_home_title')} />
      <div class="split">
        <section aria-labelledby="teach-courses-h">
          <h2 id="teach-courses-h">{t('sc_home_courses')}</h2>
          <Async state={state}>
            {(courses) =>
              courses.length === 0 ? (
                <p class="muted">{t('sc_home_none')}</p>
              ) : (
                <ul class="plain stack">
                  {courses.map((c) => (
                    <CourseCard key={c.id} course={c} />
                  ))}
                </ul>
              )
            }
          </Async>
        </section>
        {caps.has('course:create') && <CreateCourse />}
      </div>
    </>
  );
}

function CourseCard({ course: c }: { course: Course }) {
  const links: [string, string][] = [
    [teachPaths.editor(c.id), t('sc_link_editor')],
    [teachPaths.newQuiz(c.id), t('sc_link_new_quiz')],
    [teachPaths.enrolment(c.id), t('sc_link_enrolment')],
    [teachPaths.gradebook(c.id), t('sc_link_gradebook')],
    [teachPaths.grading(c.id), t('sc_link_grading')],
    [teachPaths.proctoring(c.id), t('sc_link_proctoring')],
    [teachPaths.tutor(c.id), t('sc_link_tutor')],
    [teachPaths.studentCourse(c.id), t('sc_link_student_view')],
  ];
  return (
    <li class="card sc-course" aria-labelledby={`course-${c.id}`}>
      <h3 id={`course-${c.id}`}>
        {c.title} <span class="muted">{c.code}</span>
      </h3>
      <p class="muted">
        <span class={`badge${c.state === 'published' ? ' ok' : ''}`}>{courseStateLabel(c.state)}</span>
        {c.my_role && <span class="badge">{roleLabel(c.my_role)}</span>}
        <span class="sc-updated">{t('sc_updated_at', { when: formatDateTime(c.updated_at) })}</span>
      </p>
      <nav aria-label={t('sc_course_links', { course: c.title })}>
        <ul class="sc-links">
          {links.map(([href, label]) => (
            <li key={href}>
              <a href={href}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
    </li>
  );
}

function CreateCourse() {
  const { institution } = useSession();
  const [code, setCode] = useState('');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const c = await call(
        api.POST('/api/v1/institutions/{institution}/courses', {
          params: { path: { institution } },
          body: { code: code.trim(), title: title.trim(), description: description.trim() },
        }),
      );
      navigate(teachPaths.editor(c.id));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="create-course-h" class="card">
      <h2 id="create-course-h">{t('sc_create_title')}</h2>
      <form onSubmit={(e) => void submit(e)} class="stack">
        <div class="field">
          <label for="new-course-code">{t('sc_course_code')}</label>
          <input id="new-course-code" required value={code} onInput={(e) => setCode(e.currentTarget.value)} aria-describedby="new-course-code-hint" />
          <p class="hint" id="new-course-code-hint">
            {t('sc_course_code_hint')}
          </p>
        </div>
        <div class="field">
          <label for="new-course-title">{t('sc_course_title')}</label>
          <input id="new-course-title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="new-course-description">{t('sc_course_description')}</label>
          <textarea
            id="new-course-description"
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </div>
        {error !== undefined && (
          <ErrorBox error={error instanceof ApiError && error.status === 409 ? new Error(t('sc_create_code_taken')) : error} />
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('sc_create_submit')}
        </button>
      </form>
    </section>
  );
}

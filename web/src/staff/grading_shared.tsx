// What the instructor's grading pages share: the frame of a course's staff page (breadcrumbs,
// the section navigation, and "not permitted" for a student), the course roster by user id,
// the course's assessments as staff see them, and a modal dialog.
//
// The pages hide nothing the API would allow: they show "not permitted" when the caller is a
// student of the course (the API refuses them anyway) or when the API answers 403.
import type { ComponentChildren } from 'preact';
import { useModal } from '../components/modal';
import { ApiError, api, call, type Schemas } from '../api/client';
import { ErrorBox, Loading, PageTitle, useLoad } from '../components/ui';
import { type MessageKey, formatNumber, t } from '../i18n';
import { coursePath, courseHref, useFocusTitle } from '../pages/student_shared';
import { useSession } from '../session';

export type Course = Schemas['Course'];
export type Enrolment = Schemas['Enrolment'];
export type AssessmentSummary = Schemas['AssessmentSummary'];
export type Gradebook = Schemas['Gradebook'];

/** The four grading sections of a course, in the order of the section navigation. */
export type Section = 'gradebook' | 'grading' | 'proctoring' | 'tutor';
const SECTIONS: [Section, MessageKey][] = [
  ['gradebook', 'sg_nav_gradebook'],
  ['grading', 'sg_nav_grading'],
  ['proctoring', 'sg_nav_proctoring'],
  ['tutor', 'sg_nav_tutor'],
];

export function teachHref(course: string, section: Section): string {
  return `/teach/courses/${encodeURIComponent(course)}/${section}`;
}

/** Whether an error is the API's refusal (403): the page then says "not permitted". */
export function isForbidden(e: unknown): boolean {
  return e instanceof ApiError && e.status === 403;
}

/** What a student (or anyone the API refuses) sees at a staff page's address. */
export function NotPermitted() {
  return (
    <div class="sg-forbidden">
      <PageTitle text={t('sg_forbidden_title')} />
      <p>{t('sg_forbidden_body')}</p>
      <p>
        <a href="/">{t('home')}</a>
      </p>
    </div>
  );
}

/** Like `Async`, but a 403 shows "not permitted" rather than an error box. */
export function StaffAsync<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: unknown; reload: () => void };
  children: (data: T) => ComponentChildren;
}) {
  if (state.error !== undefined && state.data === undefined) {
    return isForbidden(state.error) ? <NotPermitted /> : <ErrorBox error={state.error} onRetry={state.reload} />;
  }
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}

export async function loadCourse(institution: string, course: string): Promise<Course> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}', { params: coursePath(institution, course) }),
  );
}

/**
 * The frame of every grading page: loads the course, shows "not permitted" to its students
 * (before any staff call is made), and otherwise the breadcrumbs, the page's title, the section
 * navigation and the page's content.
 */
export function StaffFrame({
  course,
  section,
  title,
  children,
}: {
  course: string;
  section: Section;
  /** The page's title, given the course. */
  title: (c: Course) => string;
  children: (c: Course) => ComponentChildren;
}) {
  const { institution } = useSession();
  const state = useLoad(() => loadCourse(institution, course), [institution, course]);
  useFocusTitle(state.data !== undefined);
  return (
    <StaffAsync state={state}>
      {(c) =>
        c.my_role === 'student' ? (
          <NotPermitted />
        ) : (
          <>
            <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
              <ol>
                <li>
                  <a href="/teach">{t('nav_teaching')}</a>
                </li>
                <li>
                  <a href={courseHref(c.id)}>{c.title}</a>
                </li>
              </ol>
            </nav>
            <PageTitle text={title(c)} />
            <nav aria-label={t('sg_nav_label')} class="sg-sections">
              <ul>
                {SECTIONS.map(([s, key]) => (
                  <li key={s}>
                    <a href={teachHref(c.id, s)} aria-current={s === section ? 'page' : undefined}>
                      {t(key)}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            {children(c)}
          </>
        )
      }
    </StaffAsync>
  );
}

export interface Person {
  name: string;
  email: string;
  role: Enrolment['role'];
}

/** Everyone enrolled in the course, by user id (every page of the list). */
export async function loadRoster(institution: string, course: string): Promise<Map<string, Person>> {
  const out = new Map<string, Person>();
  let cursor: string | undefined;
  do {
    const page: Schemas['EnrolmentPage'] = await call(
      api.GET('/api/v1/institutions/{institution}/courses/{course_id}/enrolments', {
        params: { ...coursePath(institution, course), query: { limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    );
    for (const e of page.items) {
      out.set(e.user_id, { name: e.user_name ?? e.user_id, email: e.user_email ?? '', role: e.role });
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** A user's name from the roster, or their id when they are no longer enrolled. */
export function personName(roster: Map<string, Person>, id: string): string {
  return roster.get(id)?.name ?? id;
}

/** Every assessment of the course, drafts and archived ones included (staff see them all). */
export async function loadAssessments(institution: string, course: string): Promise<AssessmentSummary[]> {
  const list = await call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/assessments', {
      params: coursePath(institution, course),
    }),
  );
  return list.items;
}

/** Points with at most two decimals. */
export function points(n: number): string {
  return formatNumber(n, { maximumFractionDigits: 2 });
}

/** "7.5 / 10". */
export function pointsOf(p: number, max: number): string {
  return t('sg_points_of', { points: points(p), max: points(max) });
}

/** A percentage the API sends as 0–100 ("87.5 %"). */
export function percent(p: number): string {
  return formatNumber(p / 100, { style: 'percent', maximumFractionDigits: 1 });
}

/**
 * A modal <dialog>: the browser traps focus in it and closes it with Escape; focus goes to its
 * first field (or `initialFocus`) on opening and back to what opened it on closing.
 */
export function Modal({
  open,
  onClose,
  labelledBy,
  class: cls,
  children,
}: {
  open: boolean;
  onClose: () => void;
  labelledBy: string;
  class?: string;
  children: ComponentChildren;
}) {
  const ref = useModal({
    open,
    onCancel: onClose,
    focus: (d) => d.querySelector<HTMLElement>('[data-autofocus], input, select, textarea, button'),
  });
  return (
    <dialog ref={ref} class={`sg-dialog ${cls ?? ''}`} aria-labelledby={open ? labelledBy : undefined}>
      {open && children}
    </dialog>
  );
}

/** Unix seconds → ISO, for the formatters. */
export function fromUnix(secs: number): string {
  return new Date(secs * 1000).toISOString();
}

/**
 * Who made a change, from the API's `by` (`user:<id>`, `plugin:<id>@<version>`, `client:<id>`,
 * `kernel:…`): a person's name when they are on the roster, else the plugin or client as sent.
 */
export function describeActor(by: string, roster: Map<string, Person>): string {
  const [kind, rest = ''] = by.split(/:(.*)/s);
  if (kind === 'user') return roster.get(rest)?.name ?? t('sg_actor_user', { id: rest });
  if (kind === 'plugin') return t('sg_actor_plugin', { plugin: rest });
  if (kind === 'client') return t('sg_actor_client', { client: rest });
  return t('sg_actor_system');
}

export async function loadGradebook(institution: string, course: string): Promise<Gradebook> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/gradebook', { params: coursePath(institution, course) }),
  );
}

export const STATUS_KEYS: Record<Schemas['GradeStatus'], MessageKey> = {
  graded: 'sg_status_graded',
  needs_manual_grading: 'sg_status_manual',
  grading_failed: 'sg_status_failed',
};

export function StatusBadge({ status }: { status: Schemas['GradeStatus'] }) {
  const tone = status === 'graded' ? 'ok' : status === 'grading_failed' ? 'bad' : 'warn';
  return <span class={`badge ${tone}`}>{t(STATUS_KEYS[status])}</span>;
}

/** An item's name: the assessment's title, or the id a grade was set under by hand. */
export function itemTitle(item: string, assessments: AssessmentSummary[]): string {
  return assessments.find((a) => a.id === item)?.title ?? item;
}


// What the course-building pages share: paths, the API calls more than one page makes, and the
// `If-Match` discipline of versioned resources (the content outline, assessments).
//
// A versioned write sends the version the page last read as `If-Match`; the server answers 412
// when someone changed the resource since. The pages then reload, say so, and let the author apply
// their change again on top of the new version: nothing is ever overwritten silently.
import { ApiError, api, call, etagVersion, type Schemas } from '../api/client';
import { describeError } from '../components/ui';

export type Outline = Schemas['Outline'];
export type Module = Schemas['Module'];
export type Item = Schemas['Item'];
export type ItemKind = Schemas['ItemKind'];
export type Prerequisite = Schemas['Prerequisite'];
export type ItemCompletion = Schemas['ItemCompletion'];
export type Course = Schemas['Course'];
export type Media = Schemas['Media'];
export type Assessment = Schemas['Assessment'];
export type AssessmentSummary = Schemas['AssessmentSummary'];
export type Enrolment = Schemas['Enrolment'];
export type CourseRole = Schemas['CourseRoleDto'];

/** The path parameters of /institutions/{institution}/courses/{course_id}/… routes. */
export function coursePath(institution: string, course: string) {
  return { institution, course_id: course };
}

/** `If-Match` for a version read from the API (its ETag is the number in quotes). */
export function ifMatch(version: number): { 'If-Match': string } {
  return { 'If-Match': `"${version}"` };
}

/** True when a write was refused because the resource changed since it was read. */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.status === 412;
}

/** The staff pages of a course. */
export const teachPaths = {
  home: '/teach',
  editor: (course: string) => `/teach/courses/${encodeURIComponent(course)}/edit`,
  page: (course: string, item: string) =>
    `/teach/courses/${encodeURIComponent(course)}/edit/pages/${encodeURIComponent(item)}`,
  newQuiz: (course: string) => `/teach/courses/${encodeURIComponent(course)}/assessments/new`,
  quiz: (course: string, assessment: string) =>
    `/teach/courses/${encodeURIComponent(course)}/assessments/${encodeURIComponent(assessment)}/edit`,
  enrolment: (course: string) => `/teach/courses/${encodeURIComponent(course)}/enrolment`,
  // Owned by the grading pages (staff/grading_*).
  gradebook: (course: string) => `/teach/courses/${encodeURIComponent(course)}/gradebook`,
  grading: (course: string) => `/teach/courses/${encodeURIComponent(course)}/grading`,
  proctoring: (course: string) => `/teach/courses/${encodeURIComponent(course)}/proctoring`,
  tutor: (course: string) => `/teach/courses/${encodeURIComponent(course)}/tutor`,
  // The student's side.
  studentCourse: (course: string) => `/courses/${encodeURIComponent(course)}`,
  studentItem: (course: string, item: string) =>
    `/courses/${encodeURIComponent(course)}/items/${encodeURIComponent(item)}`,
};

export async function getCourse(institution: string, course: string): Promise<Course> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}', { params: { path: coursePath(institution, course) } }),
  );
}

/** The authors' outline and its version (the ETag, which the body repeats). */
export async function getOutline(institution: string, course: string): Promise<Outline> {
  const r = await api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content/outline', {
    params: { path: coursePath(institution, course) },
  });
  const o = await call(Promise.resolve(r));
  return { ...o, version: etagVersion(r.response) ?? o.version };
}

/** Every assessment of the course, drafts and archived ones included (staff see them all). */
export async function getAssessments(institution: string, course: string): Promise<AssessmentSummary[]> {
  const list = await call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/assessments', {
      params: { path: coursePath(institution, course) },
    }),
  );
  return list.items;
}

export async function getMedia(institution: string, course: string): Promise<Media[]> {
  const list = await call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/media', {
      params: { path: coursePath(institution, course) },
    }),
  );
  return list.items;
}

/** Makes a course file public (its plain URL serves anyone, for good) or private again. */
export async function setMediaPublic(institution: string, course: string, sha256: string, isPublic: boolean): Promise<Media> {
  return call(
    api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/media/{sha256}', {
      params: { path: { ...coursePath(institution, course), sha256 } },
      body: { public: isPublic },
    }),
  );
}

/** Reads every page of a cursor-paginated list. */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** An ISO time as the value of an `<input type="datetime-local">` (the browser's time zone). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A `datetime-local` value as RFC 3339 (UTC), or null when empty. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A random id for new questions, options and the like (the API takes letters, digits, `.`, `_`, `-`). */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** An API failure in a sentence for a row or a field: the field the server named, and why. */
export function failureText(e: unknown): string {
  if (e instanceof ApiError && e.problem.field) return `${String(e.problem.field)}: ${e.message}`;
  return describeError(e);
}

/** What plugins offer the institution's authors: none when that cannot be read, so the page still
 *  works with the built-in choices. */
async function offered<T>(load: () => Promise<{ items: T[] }>): Promise<T[]> {
  try {
    return (await load()).items;
  } catch {
    return [];
  }
}

/** The kinds of activity plugins offer the institution (for activity items). */
export function getActivityKinds(institution: string): Promise<Schemas['ActivityKind'][]> {
  return offered(() =>
    call(api.GET('/api/v1/institutions/{institution}/activity-kinds', { params: { path: { institution } } })),
  );
}

/** The question types plugins offer the institution (for the quiz builder). */
export function getQuestionTypes(institution: string): Promise<Schemas['QuestionType'][]> {
  return offered(() =>
    call(api.GET('/api/v1/institutions/{institution}/question-types', { params: { path: { institution } } })),
  );
}

// What the student's pages share: the few API calls more than one page makes, and small
// presentational pieces (progress bars, item kinds, assessment windows).
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { type MessageKey, formatDateTime, formatNumber, t, tp } from '../i18n';

export type Course = Schemas['Course'];
export type StudentOutline = Schemas['StudentOutline'];
export type StudentItem = Schemas['StudentItem'];
export type AssessmentSummary = Schemas['AssessmentSummary'];
export type Notification = Schemas['Notification'];

/** The path parameters of every /institutions/{institution}/courses/{course_id}/… route. */
export function coursePath(institution: string, course: string) {
  return { path: { institution, course_id: course } };
}

/** Every course the caller is enrolled in (all pages: a student has a handful). */
export async function myCourses(): Promise<Course[]> {
  const out: Course[] = [];
  let cursor: string | undefined;
  do {
    const page: Schemas['CoursePage'] = await call(
      api.GET('/api/v1/me/courses', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } }),
    );
    out.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** The caller's notifications, newest first (at most `limit`, only unread ones if asked). */
export async function myNotifications(opts: { unread?: boolean; limit?: number } = {}): Promise<Notification[]> {
  const query = { limit: opts.limit ?? 100, ...(opts.unread ? { unread: true } : {}) };
  const list: Schemas['NotificationList'] = await call(
    api.GET('/api/v1/me/notifications', { params: { query } }),
  );
  return list.items;
}

/** The course's assessments a student may see (published, not archived). */
export async function courseAssessments(institution: string, course: string): Promise<AssessmentSummary[]> {
  const list = await call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/assessments', {
      params: coursePath(institution, course),
    }),
  );
  return list.items.filter((a) => a.published && !a.archived_at);
}

export function courseHref(course: string): string {
  return `/courses/${encodeURIComponent(course)}`;
}

export function itemHref(course: string, item: string, anchor?: string | null): string {
  return `${courseHref(course)}/items/${encodeURIComponent(item)}${anchor ? `#${encodeURIComponent(anchor)}` : ''}`;
}

/** The exam page of an assessment (web/src/exam). */
export function assessmentHref(course: string, assessment: string): string {
  return `${courseHref(course)}/assessments/${encodeURIComponent(assessment)}`;
}

/** Unix seconds (as the API sends many times) → an ISO string for the formatters. */
export function fromUnix(secs: number): string {
  return new Date(secs * 1000).toISOString();
}

/** A fraction 0–1 as a percentage in the current locale ("66.7 %"). */
export function formatPercent(fraction: number): string {
  return formatNumber(fraction, { style: 'percent', maximumFractionDigits: 1 });
}

/** Points with at most two decimals ("2", "7.5"). */
export function formatPoints(n: number): string {
  return formatNumber(n, { maximumFractionDigits: 2 });
}

const KIND_KEYS: Record<Schemas['ItemKind'], MessageKey> = {
  page: 'st_kind_page',
  video: 'st_kind_video',
  file: 'st_kind_file',
  link: 'st_kind_link',
  assessment: 'st_kind_assessment',
  activity: 'st_kind_activity',
};

export function kindLabel(kind: Schemas['ItemKind']): string {
  return t(KIND_KEYS[kind]);
}

/** A labelled progress bar; `percent` is 0–100 as the content API sends it. */
export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const p = Math.max(0, Math.min(100, percent));
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(p)}
      aria-valuetext={formatPercent(p / 100)}
    >
      <span style={{ width: `${p}%` }} />
    </div>
  );
}

/** One dated event of an assessment for a student: it opens, it is due, late attempts end. */
export interface Deadline {
  at: string;
  kind: 'opens' | 'due' | 'late_until';
  assessment: AssessmentSummary;
}

/** The dated events of an assessment still ahead of `now`. */
export function upcomingDeadlines(a: AssessmentSummary, now = Date.now()): Deadline[] {
  const s = a.settings;
  const out: Deadline[] = [];
  const add = (at: string | null | undefined, kind: Deadline['kind']) => {
    if (at && new Date(at).getTime() > now) out.push({ at, kind, assessment: a });
  };
  add(s.opens_at, 'opens');
  add(s.closes_at, 'due');
  add(s.late_until, 'late_until');
  return out;
}

export function deadlineLabel(d: Deadline): string {
  const when = formatDateTime(d.at);
  if (d.kind === 'opens') return t('st_opens_at', { when });
  if (d.kind === 'due') return t('st_due_at', { when });
  return t('st_late_until', { when });
}

/** Where an assessment stands now: not open yet, open (until when), or closed. */
export function windowState(a: AssessmentSummary, now = Date.now()): 'upcoming' | 'open' | 'late' | 'closed' {
  const s = a.settings;
  const ms = (x: string | null | undefined) => (x ? new Date(x).getTime() : undefined);
  const opens = ms(s.opens_at);
  const closes = ms(s.closes_at);
  const late = ms(s.late_until);
  if (opens !== undefined && now < opens) return 'upcoming';
  if (closes === undefined || now < closes) return 'open';
  if (late !== undefined && now < late) return 'late';
  return 'closed';
}

/** The assessment's window and rules in a sentence or two, for its card. */
export function AssessmentFacts({ a }: { a: AssessmentSummary }) {
  const s = a.settings;
  const state = windowState(a);
  return (
    <dl class="st-facts">
      <dt>{t('st_window')}</dt>
      <dd>
        {state === 'upcoming' && <span class="badge">{t('st_window_upcoming')}</span>}
        {state === 'open' && <span class="badge ok">{t('st_window_open')}</span>}
        {state === 'late' && <span class="badge warn">{t('st_window_late')}</span>}
        {state === 'closed' && <span class="badge">{t('st_window_closed')}</span>}
        {s.opens_at && <span class="line">{t('st_opens_at', { when: formatDateTime(s.opens_at) })}</span>}
        {s.closes_at && <span class="line">{t('st_due_at', { when: formatDateTime(s.closes_at) })}</span>}
        {s.late_until && <span class="line">{t('st_late_until', { when: formatDateTime(s.late_until) })}</span>}
        {!s.opens_at && !s.closes_at && <span class="line">{t('st_window_always')}</span>}
      </dd>
      <dt>{t('st_questions')}</dt>
      <dd>{formatNumber(a.questions)}</dd>
      <dt>{t('st_time_limit')}</dt>
      <dd>
        {s.time_limit_secs ? tp('st_minutes', Math.ceil(s.time_limit_secs / 60)) : t('st_time_limit_none')}
      </dd>
      <dt>{t('st_attempts_allowed')}</dt>
      <dd>{formatNumber(s.attempts_allowed ?? 1)}</dd>
      {s.proctoring && (
        <>
          <dt>{t('st_proctored')}</dt>
          <dd>{t('st_proctored_yes')}</dd>
        </>
      )}
    </dl>
  );
}

/**
 * Moves focus to the page's heading once its data has loaded, as the app does on navigation
 * for pages whose heading is there at once (keyboard and screen-reader users start there).
 */
export function useFocusTitle(loaded: boolean): void {
  useEffect(() => {
    if (!loaded) return;
    const h = document.getElementById('page-title');
    if (h && (document.activeElement === document.body || document.activeElement === null)) {
      h.focus({ preventScroll: true });
    }
  }, [loaded]);
}

/**
 * A link the API gave (absolute or a path): a path inside the app when it is on this origin,
 * so the router handles it; otherwise the URL as is.
 */
export function appHref(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.pathname + u.search + u.hash : u.href;
  } catch {
    return url;
  }
}

/**
 * A table that scrolls sideways on a narrow screen. The scrolling box is a named, focusable
 * region so that keyboard users can scroll it too (WCAG 2.1.1); `label` names it.
 */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

// /teach/courses/:course/enrolment — the people in a course with their roles: change a role,
// remove someone, add one person by email, and enrol many from a CSV file (parsed here, checked
// row by row in a preview, then applied, with each row's result).
//
// The API enrols by user id, one person per request, and has no lookup by email: the page reads
// the institution's people (GET …/users, which needs `user:view`) to resolve emails, and applies a
// file row by row with POST …/enrolments (PATCH for a role change). A row that fails does not
// stop the others; each row says what happened. (The bulk route that should exist is in the report.)
import { useRef, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, describeError, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, formatNumber, t, tp } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { useSession } from '../session';
import { type Course, type CourseRole, type Enrolment, allPages, coursePath, failureText, getCourse, teachPaths } from './course_api';
import { type CsvRow, parseCsv } from '../csv';
import { type Person, type PlannedRow, ROLES, planRows } from './enrol_csv';
import { roleLabel } from './teach_home';

async function loadEnrolments(institution: string, course: string): Promise<Enrolment[]> {
  return allPages((cursor) =>
    call(
      api.GET('/api/v1/institutions/{institution}/courses/{course_id}/enrolments', {
        params: { path: coursePath(institution, course), query: { limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
}

/** The institution's people, or the reason they cannot be read (no `user:view`). */
async function loadPeople(institution: string): Promise<Person[]> {
  const users = await allPages((cursor) =>
    call(
      api.GET('/api/v1/institutions/{institution}/users', {
        params: { path: { institution }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  return users.map((u) => ({ id: u.id, email: u.email, name: u.name, active: u.active }));
}

export function EnrolmentPage({ course }: { course: string }) {
  const { institution, me } = useSession();
  const canListPeople = me.capabilities.includes('user:view');
  const state = useLoad(async () => {
    const [c, enrolments, people] = await Promise.all([
      getCourse(institution, course),
      loadEnrolments(institution, course),
      canListPeople ? loadPeople(institution) : Promise.resolve(undefined),
    ]);
    return { course: c, enrolments, people };
  }, [institution, course]);
  return (
    <Async state={state}>
      {(d) => (
        <Enrolments
          courseId={course}
          course={d.course}
          initial={d.enrolments}
          people={d.people}
          reload={async () => state.set({ ...d, enrolments: await loadEnrolments(institution, course) })}
        />
      )}
    </Async>
  );
}

function roleSelect(id: string, value: CourseRole, onChange: (r: CourseRole) => void, label?: string, disabled?: boolean) {
  return (
    <select id={id} value={value} aria-label={label} disabled={disabled} onChange={(e) => onChange(e.currentTarget.value as CourseRole)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {roleLabel(r)}
        </option>
      ))}
    </select>
  );
}

function Enrolments({
  courseId,
  course,
  initial,
  people,
  reload,
}: {
  courseId: string;
  course: Course;
  initial: Enrolment[];
  people?: Person[];
  reload: () => Promise<void>;
}) {
  const { institution, me } = useSession();
  const path = coursePath(institution, courseId);
  const [rowError, setRowError] = useState<{ user: string; error: unknown } | undefined>(undefined);
  const [confirmRemove, setConfirmRemove] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const list = [...initial].sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || (a.user_name ?? '').localeCompare(b.user_name ?? ''));

  async function changeRole(e: Enrolment, role: CourseRole) {
    setBusy(e.user_id);
    setRowError(undefined);
    try {
      await call(
        api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/enrolments/{user_id}', {
          params: { path: { ...path, user_id: e.user_id } },
          body: { role },
        }),
      );
      await reload();
      announce(t('sc_enrol_role_changed', { name: e.user_name ?? e.user_email ?? e.user_id, role: roleLabel(role) }));
    } catch (err) {
      setRowError({ user: e.user_id, error: err });
    } finally {
      setBusy(undefined);
    }
  }

  async function remove(e: Enrolment) {
    setBusy(e.user_id);
    setRowError(undefined);
    try {
      await call(
        api.DELETE('/api/v1/institutions/{institution}/courses/{course_id}/enrolments/{user_id}', {
          params: { path: { ...path, user_id: e.user_id } },
        }),
      );
      setConfirmRemove(undefined);
      await reload();
      announce(t('sc_enrol_removed', { name: e.user_name ?? e.user_email ?? e.user_id }));
      document.getElementById('enrolled-h')?.focus();
    } catch (err) {
      setRowError({ user: e.user_id, error: err });
    } finally {
      setBusy(undefined);
    }
  }

  const counts = ROLES.map((r) => [r, initial.filter((e) => e.role === r).length] as const).filter(([, n]) => n > 0);

  return (
    <>
      <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
        <ol>
          <li>
            <a href={teachPaths.home}>{t('nav_teaching')}</a>
          </li>
          <li>
            <a href={teachPaths.editor(courseId)}>{course.title}</a>
          </li>
          <li>
            <span aria-current="page">{t('sc_link_enrolment')}</span>
          </li>
        </ol>
      </nav>
      <PageTitle text={t('sc_enrol_title', { course: course.title })} />
      {!people && (
        <p class="notice warn" role="note">
          {t('sc_enrol_no_people')}
        </p>
      )}
      <div class="split">
        <section aria-labelledby="enrolled-h">
          <h2 id="enrolled-h" tabIndex={-1}>
            {t('sc_enrol_people')}
          </h2>
          <p class="muted">{counts.map(([r, n]) => `${roleLabel(r)}: ${formatNumber(n)}`).join(' · ')}</p>
          <ScrollTable label={t('sc_enrol_people')}>
            <table class="sc-enrolled">
              <thead>
                <tr>
                  <th scope="col">{t('sc_enrol_name')}</th>
                  <th scope="col">{t('sc_enrol_email')}</th>
                  <th scope="col">{t('sc_enrol_role')}</th>
                  <th scope="col">{t('sc_enrol_since')}</th>
                  <th scope="col">
                    <span class="visually-hidden">{t('sc_enrol_actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => {
                  const name = e.user_name ?? e.user_email ?? e.user_id;
                  const self = e.user_id === me.user?.id;
                  return (
                    <tr key={e.user_id} data-user={e.user_id}>
                      <th scope="row">{name}</th>
                      <td>{e.user_email}</td>
                      <td>
                        {roleSelect(
                          `role-${e.user_id}`,
                          e.role,
                          (r) => void changeRole(e, r),
                          t('sc_enrol_role_of', { name }),
                          busy === e.user_id || self,
                        )}
                        {rowError?.user === e.user_id && (
                          <p class="field-error" role="alert">
                            {describeError(rowError.error)}
                          </p>
                        )}
                      </td>
                      <td>{formatDateTime(e.created_at)}</td>
                      <td>
                        {self ? (
                          <span class="muted">{t('sc_enrol_you')}</span>
                        ) : confirmRemove === e.user_id ? (
                          <span class="row">
                            <button type="button" class="danger" disabled={busy === e.user_id} onClick={() => void remove(e)}>
                              {t('sc_enrol_remove_confirm', { name })}
                            </button>
                            <button type="button" onClick={() => setConfirmRemove(undefined)}>
                              {t('cancel')}
                            </button>
                          </span>
                        ) : (
                          <button type="button" onClick={() => setConfirmRemove(e.user_id)} aria-label={t('sc_enrol_remove_named', { name })}>
                            {t('sc_enrol_remove')}
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollTable>
        </section>
        <div class="stack">
          <AddOne courseId={courseId} people={people} enrolled={initial} onDone={reload} />
        </div>
      </div>
      <BulkEnrol courseId={courseId} people={people} enrolled={initial} onDone={reload} />
    </>
  );
}

function AddOne({
  courseId,
  people,
  enrolled,
  onDone,
}: {
  courseId: string;
  people?: Person[];
  enrolled: Enrolment[];
  onDone: () => Promise<void>;
}) {
  const { institution } = useSession();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<CourseRole>('student');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    const person = people?.find((p) => p.email.toLowerCase() === email.trim().toLowerCase());
    if (!person) {
      setError(t('sc_enrol_unknown_email', { email: email.trim() }));
      return;
    }
    if (enrolled.some((x) => x.user_id === person.id)) {
      setError(t('sc_enrol_already', { name: person.name }));
      return;
    }
    setBusy(true);
    try {
      await call(
        api.POST('/api/v1/institutions/{institution}/courses/{course_id}/enrolments', {
          params: { path: coursePath(institution, courseId) },
          body: { user_id: person.id, role },
        }),
      );
      await onDone();
      setEmail('');
      setDone(t('sc_enrol_added', { name: person.name, role: roleLabel(role) }));
    } catch (err) {
      setError(failureText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="add-one-h" class="card">
      <h2 id="add-one-h">{t('sc_enrol_add_one')}</h2>
      <form class="stack" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="enrol-email">{t('sc_enrol_email')}</label>
          <input
            id="enrol-email"
            type="email"
            required
            autocomplete="off"
            value={email}
            disabled={!people}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'enrol-email-error' : undefined}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          {error && (
            <p class="field-error" id="enrol-email-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <div class="field">
          <label for="enrol-role">{t('sc_enrol_role')}</label>
          {roleSelect('enrol-role', role, setRole)}
        </div>
        <button type="submit" class="primary" disabled={busy || !people}>
          {t('sc_enrol_add')}
        </button>
        <p role="status" class="hint">
          {done}
        </p>
      </form>
    </section>
  );
}

const PROBLEM_KEYS: Record<NonNullable<PlannedRow['problem']>['kind'], MessageKey> = {
  no_email: 'sc_csv_no_email',
  bad_email: 'sc_csv_bad_email',
  bad_role: 'sc_csv_bad_role',
  unknown_person: 'sc_csv_unknown_person',
  duplicate: 'sc_csv_duplicate',
  inactive: 'sc_csv_inactive',
};

function problemText(r: PlannedRow): string {
  const p = r.problem!;
  return t(PROBLEM_KEYS[p.kind], {
    role: p.kind === 'bad_role' ? p.role : '',
    line: p.kind === 'duplicate' ? p.line : 0,
    email: r.email,
  });
}

type Result = { ok: true; text: string } | { ok: false; text: string };

function BulkEnrol({
  courseId,
  people,
  enrolled,
  onDone,
}: {
  courseId: string;
  people?: Person[];
  enrolled: Enrolment[];
  onDone: () => Promise<void>;
}) {
  const { institution } = useSession();
  const path = coursePath(institution, courseId);
  const [fileName, setFileName] = useState<string | undefined>(undefined);
  const [rows, setRows] = useState<PlannedRow[] | undefined>(undefined);
  const [defaultRole, setDefaultRole] = useState<CourseRole>('student');
  const [raw, setRaw] = useState<CsvRow[] | undefined>(undefined);
  const [results, setResults] = useState<Record<number, Result>>({});
  const [applying, setApplying] = useState<{ done: number; total: number } | undefined>(undefined);
  const [readError, setReadError] = useState<unknown>(undefined);
  const input = useRef<HTMLInputElement>(null);

  async function choose() {
    const file = input.current?.files?.[0];
    setResults({});
    setReadError(undefined);
    if (!file) return;
    try {
      const parsed = parseCsv(await file.text());
      setFileName(file.name);
      setRaw(parsed);
      setRows(planRows(parsed, people ?? [], enrolled, defaultRole));
      announce(t('sc_csv_read', { name: file.name }));
    } catch (e) {
      setReadError(e);
    }
  }

  function changeDefault(r: CourseRole) {
    setDefaultRole(r);
    if (raw) setRows(planRows(raw, people ?? [], enrolled, r));
  }

  async function applyRows() {
    if (!rows) return;
    const todo = rows.filter((r) => r.action === 'enrol' || r.action === 'change_role');
    setApplying({ done: 0, total: todo.length });
    const out: Record<number, Result> = {};
    // Rows refused in the preview are reported as not applied.
    for (const r of rows) {
      if (r.problem) out[r.line] = { ok: false, text: t('sc_csv_not_applied', { why: problemText(r) }) };
      else if (r.action === 'nothing') out[r.line] = { ok: true, text: t('sc_csv_already') };
    }
    let n = 0;
    for (const r of todo) {
      try {
        if (r.action === 'enrol') {
          await call(
            api.POST('/api/v1/institutions/{institution}/courses/{course_id}/enrolments', {
              params: { path },
              body: { user_id: r.userId!, role: r.role! },
            }),
          );
          out[r.line] = { ok: true, text: t('sc_csv_enrolled', { role: roleLabel(r.role!) }) };
        } else {
          await call(
            api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/enrolments/{user_id}', {
              params: { path: { ...path, user_id: r.userId! } },
              body: { role: r.role! },
            }),
          );
          out[r.line] = { ok: true, text: t('sc_csv_role_changed', { role: roleLabel(r.role!) }) };
        }
      } catch (e) {
        out[r.line] = { ok: false, text: failureText(e) };
      }
      n++;
      setApplying({ done: n, total: todo.length });
      setResults({ ...out });
    }
    setResults(out);
    setApplying(undefined);
    await onDone();
    const failed = Object.values(out).filter((x) => !x.ok).length;
    const msg = t('sc_csv_applied', { ok: Object.values(out).filter((x) => x.ok).length, failed });
    announce(msg);
    document.getElementById('csv-results-h')?.focus();
  }

  const problems = rows?.filter((r) => r.problem).length ?? 0;
  const actionable = rows?.filter((r) => r.action === 'enrol' || r.action === 'change_role').length ?? 0;
  const applied = Object.keys(results).length > 0 && !applying;

  return (
    <section aria-labelledby="bulk-h" class="sc-bulk">
      <h2 id="bulk-h">{t('sc_csv_title')}</h2>
      <p class="hint" id="csv-format">
        {t('sc_csv_format')}
      </p>
      <div class="row">
        <span class="field">
          <label for="csv-file">{t('sc_csv_file')}</label>
          <input id="csv-file" ref={input} type="file" accept=".csv,text/csv" aria-describedby="csv-format" disabled={!people} onChange={() => void choose()} />
        </span>
        <span class="field">
          <label for="csv-default-role">{t('sc_csv_default_role')}</label>
          {roleSelect('csv-default-role', defaultRole, changeDefault)}
        </span>
      </div>
      {readError !== undefined && <ErrorBox error={readError} />}
      {rows && (
        <>
          <h3 id="csv-results-h" tabIndex={-1}>
            {applied ? t('sc_csv_results', { name: fileName ?? '' }) : t('sc_csv_preview', { name: fileName ?? '' })}
          </h3>
          <p role="status" id="csv-summary">
            {applying
              ? t('sc_csv_applying', { done: applying.done, total: applying.total })
              : applied
                ? t('sc_csv_applied', {
                    ok: Object.values(results).filter((x) => x.ok).length,
                    failed: Object.values(results).filter((x) => !x.ok).length,
                  })
                : `${tp('sc_csv_rows', rows.length)} ${tp('sc_csv_to_apply', actionable)} ${tp('sc_csv_problems', problems)}`}
          </p>
          <ScrollTable label={t('sc_csv_preview', { name: fileName ?? '' })}>
            <table class="sc-csv">
              <thead>
                <tr>
                  <th scope="col">{t('sc_csv_line')}</th>
                  <th scope="col">{t('sc_enrol_email')}</th>
                  <th scope="col">{t('sc_enrol_name')}</th>
                  <th scope="col">{t('sc_enrol_role')}</th>
                  <th scope="col">{applied || applying ? t('sc_csv_result') : t('sc_csv_check')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const res = results[r.line];
                  return (
                    <tr key={r.line} data-line={r.line} class={res ? (res.ok ? 'ok' : 'bad') : r.problem ? 'bad' : undefined}>
                      <th scope="row">{formatNumber(r.line)}</th>
                      <td>{r.email}</td>
                      <td>{r.name ?? ''}</td>
                      <td>{r.role ? roleLabel(r.role) : ''}</td>
                      <td>
                        {res ? (
                          <span class={`badge ${res.ok ? 'ok' : 'bad'}`}>{res.text}</span>
                        ) : r.problem ? (
                          <span class="badge bad">{problemText(r)}</span>
                        ) : r.action === 'nothing' ? (
                          <span class="badge">{t('sc_csv_already')}</span>
                        ) : r.action === 'change_role' ? (
                          <span class="badge warn">{t('sc_csv_will_change', { from: roleLabel(r.currentRole!), to: roleLabel(r.role!) })}</span>
                        ) : (
                          <span class="badge ok">{t('sc_csv_will_enrol')}</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollTable>
          {!applied && (
            <p class="row">
              <button type="button" class="primary" disabled={!!applying || actionable === 0} onClick={() => void applyRows()}>
                {tp('sc_csv_apply', actionable)}
              </button>
              {problems > 0 && <span class="hint">{tp('sc_csv_skip_note', problems)}</span>}
            </p>
          )}
          {applying && (
            <div
              class="progress"
              role="progressbar"
              aria-label={t('sc_csv_progress')}
              aria-valuemin={0}
              aria-valuemax={applying.total}
              aria-valuenow={applying.done}
            >
              <span style={{ width: `${applying.total ? (applying.done / applying.total) * 100 : 0}%` }} />
            </div>
          )}
        </>
      )}
    </section>
  );
}

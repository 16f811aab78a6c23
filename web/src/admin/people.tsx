// People: the institution's users (create, deactivate and reactivate, set a password), and
// bulk import from a CSV file (a preview that checks every row, then the import, row by row,
// with each row's result).
//
// The import uses POST /users/import: a dry run for the preview, then one request whose rows are
// created or refused independently (one result per row; a bad row does not stop the others).
import { useMemo, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, announce, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t, tp } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { useSession } from '../session';
import { type HeaderProblem, type ImportRow, ROLES, type Role, type RowProblem, checkImport } from './csv';
import { AdminPage, ConfirmDialog, Outcome, listAll, useCaps, useConfirm, useTargetInstitution } from './shared';

type User = Schemas['User'];

const ROLE_KEYS: Record<Role, MessageKey> = { member: 'ad_role_member', staff: 'ad_role_staff', admin: 'ad_role_admin' };

function listUsers(institution: string): Promise<User[]> {
  return listAll((cursor) =>
    call(
      api.GET('/api/v1/institutions/{institution}/users', {
        params: { path: { institution }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
}

export function PeoplePage() {
  const target = useTargetInstitution();
  const users = useLoad(() => listUsers(target.institution), [target.institution]);
  return (
    <AdminPage console="people" title={t('ad_people_title')}>
      {target.picker}
      <CreateUser institution={target.institution} onCreated={users.reload} />
      <BulkImport institution={target.institution} users={users.data} onDone={users.reload} />
      <UserList institution={target.institution} users={users} />
    </AdminPage>
  );
}

// ---- Creating one user ----

function CreateUser({ institution, onCreated }: { institution: string; onCreated: () => void }) {
  const caps = useCaps();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const u = await call(
        api.POST('/api/v1/institutions/{institution}/users', {
          params: { path: { institution } },
          body: { name: name.trim(), email: email.trim(), role, ...(password ? { password } : {}) },
        }),
      );
      const text = t('ad_user_created', { name: u.name, email: u.email });
      setDone(text);
      announce(text);
      setName('');
      setEmail('');
      setPassword('');
      setRole('member');
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="ad-create-user-h" class="card ad-section">
      <h2 id="ad-create-user-h">{t('ad_user_create_title')}</h2>
      <form onSubmit={submit} class="ad-form">
        <label class="field">
          <span>{t('ad_user_name')}</span>
          <input type="text" required autoComplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('ad_user_email')}</span>
          <input type="email" required autoComplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('ad_user_role')}</span>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.filter((r) => r !== 'admin' || caps.has('user:grant-admin')).map((r) => (
              <option key={r} value={r}>
                {t(ROLE_KEYS[r])}
              </option>
            ))}
          </select>
        </label>
        <div class="field">
          <label for="ad-user-password">{t('ad_user_password')}</label>
          <input
            id="ad-user-password"
            type="password"
            autoComplete="new-password"
            value={password}
            aria-describedby="ad-user-password-hint"
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <p id="ad-user-password-hint" class="hint">
            {t('ad_user_password_hint')}
          </p>
        </div>
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('ad_working') : t('ad_user_create')}
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      <Outcome text={done} />
    </section>
  );
}

// ---- Bulk import ----

function problemText(p: RowProblem): string {
  switch (p.kind) {
    case 'missing':
      return t(p.column === 'email' ? 'ad_import_missing_email' : 'ad_import_missing_name');
    case 'bad_email':
      return t('ad_import_bad_email');
    case 'bad_role':
      return t('ad_import_bad_role', { role: p.value, roles: ROLES.join(', ') });
    case 'duplicate':
      return t('ad_import_duplicate', { line: p.line });
    case 'exists':
      return t('ad_import_exists');
  }
}

function headerText(p: HeaderProblem): string {
  switch (p.kind) {
    case 'no_rows':
      return t('ad_import_no_rows');
    case 'missing_columns':
      return t('ad_import_missing_columns', { columns: p.columns.join(', ') });
    case 'unknown_columns':
      return t('ad_import_unknown_columns', { columns: p.columns.join(', ') });
  }
}

type UserRow = Schemas['UserRow'];

/** Rows as the server answered for them, by their line in the file. */
type Answers = Map<number, UserRow>;

/** The body of one row, as POST …/users/import takes it. */
function rowBody(row: ImportRow): Schemas['CreateUser'] {
  return { email: row.email, name: row.name, role: row.role, ...(row.password ? { password: row.password } : {}) };
}

/** Sends `rows` to the bulk endpoint (a dry run or the import); maps the answers to their lines. */
async function importRows(institution: string, rows: ImportRow[], dryRun: boolean): Promise<Answers> {
  const r = await call(
    api.POST('/api/v1/institutions/{institution}/users/import', {
      params: { path: { institution } },
      body: { rows: rows.map(rowBody), dry_run: dryRun },
    }),
  );
  return new Map(r.rows.map((a) => [rows[a.row - 1]!.line, a]));
}

/**
 * The CSV import. Choosing a file checks it twice: here (the columns, and what can be said in
 * the reader's language: missing fields, malformed emails, unknown roles, repeated emails,
 * people already in the institution), then with the server's dry run (everything the single-row
 * endpoint would refuse, such as a weak password). The import sends the rows that passed both
 * in one request; each row is created or refused on its own (a bad row does not stop the others),
 * and each row's answer is shown.
 */
function BulkImport({ institution, users, onDone }: { institution: string; users: User[] | undefined; onDone: () => void }) {
  const [file, setFile] = useState<{ name: string; text: string } | undefined>(undefined);
  const [preview, setPreview] = useState<Answers | undefined>(undefined);
  const [results, setResults] = useState<Answers | undefined>(undefined);
  const [busy, setBusy] = useState<'checking' | 'importing' | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const existing = useMemo(() => new Set((users ?? []).map((u) => u.email.toLowerCase())), [users]);
  // The check runs against the users as they were when the file was chosen (results stay put
  // while the list reloads after the import).
  const checked = useMemo(() => (file ? checkImport(file.text, existing) : undefined), [file]);
  const locallyValid = checked?.rows.filter((r) => r.problems.length === 0) ?? [];
  const valid = preview ? locallyValid.filter((r) => preview.get(r.line)?.status === 'valid') : [];
  const skipped = (checked?.rows.length ?? 0) - valid.length;

  async function choose(input: HTMLInputElement) {
    const f = input.files?.[0];
    setResults(undefined);
    setPreview(undefined);
    setError(undefined);
    if (!f) return setFile(undefined);
    const text = await f.text();
    setFile({ name: f.name, text });
    const rows = checkImport(text, existing).rows.filter((r) => r.problems.length === 0);
    if (rows.length === 0) return setPreview(new Map());
    setBusy('checking');
    try {
      setPreview(await importRows(institution, rows, true));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  }

  async function apply() {
    setBusy('importing');
    setError(undefined);
    try {
      const answers = await importRows(institution, valid, false);
      setResults(answers);
      const created = [...answers.values()].filter((a) => a.status === 'applied').length;
      announce(t('ad_import_summary', { created, failed: answers.size - created, skipped }));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  }

  /** What is wrong with a row: the page's own checks first, then the server's answer. */
  function problems(row: ImportRow): string[] {
    if (row.problems.length) return row.problems.map(problemText);
    const answer = preview?.get(row.line);
    return answer?.status === 'failed' && answer.problem ? [answer.problem.detail] : [];
  }

  const created = results ? [...results.values()].filter((a) => a.status === 'applied').length : 0;
  return (
    <section aria-labelledby="ad-import-h" class="card ad-section">
      <h2 id="ad-import-h">{t('ad_import_title')}</h2>
      <p id="ad-import-format">{t('ad_import_format')}</p>
      <figure class="ad-sample">
        <figcaption>{t('ad_import_sample')}</figcaption>
        <pre>{'email,name,role,password\nada@example.edu,Ada Lovelace,staff,\nalan@example.edu,Alan Turing,member,'}</pre>
      </figure>
      <label class="field">
        <span>{t('ad_import_file')}</span>
        <input
          type="file"
          accept=".csv,text/csv"
          aria-describedby="ad-import-format"
          disabled={busy !== undefined}
          onChange={(e) => void choose(e.currentTarget)}
        />
      </label>
      {checked?.header && (
        <p class="notice error" role="alert">
          {headerText(checked.header)}
        </p>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {busy === 'checking' && <p role="status">{t('ad_import_checking')}</p>}
      {checked && !checked.header && preview && (
        <>
          <h3 id="ad-preview-h">{t('ad_import_preview', { file: file?.name ?? '' })}</h3>
          <p role="status">
            {tp('ad_import_valid', valid.length)} {skipped > 0 && tp('ad_import_invalid', skipped)}
          </p>
          <ScrollTable label={t('ad_import_preview', { file: file?.name ?? '' })}>
            <table class="ad-import">
              <thead>
                <tr>
                  <th scope="col">{t('ad_import_line')}</th>
                  <th scope="col">{t('ad_user_email')}</th>
                  <th scope="col">{t('ad_user_name')}</th>
                  <th scope="col">{t('ad_user_role')}</th>
                  <th scope="col">{t('ad_import_check')}</th>
                  {results && <th scope="col">{t('ad_import_result')}</th>}
                </tr>
              </thead>
              <tbody>
                {checked.rows.map((row) => {
                  const wrong = problems(row);
                  const r = results?.get(row.line);
                  return (
                    <tr key={row.line} class={wrong.length ? 'ad-bad' : undefined} data-line={row.line}>
                      <th scope="row">{row.line}</th>
                      <td>{row.email}</td>
                      <td>{row.name}</td>
                      <td>{ROLES.includes(row.role) ? t(ROLE_KEYS[row.role]) : row.role}</td>
                      <td>
                        {wrong.length === 0 ? (
                          <span class="badge ok">{t('ad_import_ok')}</span>
                        ) : (
                          <ul class="ad-problems">
                            {wrong.map((p, i) => (
                              <li key={i}>{p}</li>
                            ))}
                          </ul>
                        )}
                      </td>
                      {results && (
                        <td>
                          {!r ? (
                            <span class="badge">{t('ad_import_skipped')}</span>
                          ) : r.status === 'applied' ? (
                            <span class="badge ok">{t('ad_import_created')}</span>
                          ) : (
                            <span class="ad-row-error">
                              <span class="badge bad">{t('ad_import_failed')}</span> {r.problem?.detail ?? ''}
                            </span>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollTable>
          {!results && (
            <div class="row">
              <button type="button" class="primary" disabled={busy !== undefined || valid.length === 0} onClick={() => void apply()}>
                {busy === 'importing' ? t('ad_working') : tp('ad_import_apply', valid.length)}
              </button>
              {skipped > 0 && <span class="hint">{tp('ad_import_will_skip', skipped)}</span>}
            </div>
          )}
          {results && (
            <p class={`notice ${created === results.size ? 'ok' : 'warn'}`} role="status">
              {t('ad_import_summary', { created, failed: results.size - created, skipped })}
            </p>
          )}
        </>
      )}
    </section>
  );
}

// ---- The list ----

type UserAction = { kind: 'deactivate' | 'reactivate' | 'sign_out' | 'erase' | 'password'; user: User };

function UserList({ institution, users }: { institution: string; users: ReturnType<typeof useLoad<User[]>> }) {
  const { me } = useSession();
  const [filter, setFilter] = useState('');
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const [password, setPassword] = useState('');
  const [typed, setTyped] = useState('');
  const confirm = useConfirm<UserAction>();
  const path = (user: User) => ({ params: { path: { institution, user_id: user.id } } });

  async function run(a: UserAction) {
    let text: string;
    if (a.kind === 'deactivate') {
      await call(api.POST('/api/v1/institutions/{institution}/users/{user_id}/deactivate', path(a.user)));
      text = t('ad_user_deactivated', { name: a.user.name });
    } else if (a.kind === 'sign_out') {
      const r = await call(api.POST('/api/v1/institutions/{institution}/users/{user_id}/sessions/reset', path(a.user)));
      text = tp('ad_user_signed_out', r.ended, { name: a.user.name });
    } else if (a.kind === 'erase') {
      await call(
        api.POST('/api/v1/institutions/{institution}/users/{user_id}/erase', { ...path(a.user), body: { confirm_email: typed } }),
      );
      text = t('ad_user_erased', { name: a.user.name });
    } else if (a.kind === 'reactivate') {
      await call(api.POST('/api/v1/institutions/{institution}/users/{user_id}/reactivate', path(a.user)));
      text = t('ad_user_reactivated', { name: a.user.name });
    } else {
      await call(api.PUT('/api/v1/institutions/{institution}/users/{user_id}/password', { ...path(a.user), body: { password } }));
      text = t('ad_user_password_set', { name: a.user.name });
    }
    setPassword('');
    setTyped('');
    setOutcome(text);
    announce(text);
    users.reload();
  }

  const p = confirm.pending;
  return (
    <section aria-labelledby="ad-users-h" class="ad-section">
      <h2 id="ad-users-h">{t('ad_users_title')}</h2>
      <label class="field inline ad-filter">
        <span>{t('ad_filter')}</span>
        <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>
      <Outcome text={outcome} />
      <Async state={users}>
        {(list) => {
          const q = filter.trim().toLowerCase();
          const shown = list
            .filter((u) => !q || u.name.toLowerCase().includes(q) || u.email.toLowerCase().includes(q))
            .sort((a, b) => a.name.localeCompare(b.name));
          return (
            <>
              <p class="hint" role="status">
                {tp('ad_users_count', shown.length)}
              </p>
              <ScrollTable label={t('ad_users_title')}>
                <table class="ad-users">
                  <thead>
                    <tr>
                      <th scope="col">{t('ad_user_name')}</th>
                      <th scope="col">{t('ad_user_email')}</th>
                      <th scope="col">{t('ad_user_role')}</th>
                      <th scope="col">{t('ad_user_status')}</th>
                      <th scope="col">{t('ad_user_created_at')}</th>
                      <th scope="col">{t('ad_actions')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((u) => (
                      <tr key={u.id} data-email={u.email}>
                        <th scope="row">{u.name}</th>
                        <td>{u.email}</td>
                        <td>
                          {t(ROLE_KEYS[u.role])}
                          {u.platform_admin && <span class="badge">{t('ad_platform_admin')}</span>}
                        </td>
                        <td>
                          {u.active ? (
                            <span class="badge ok">{t('ad_user_active')}</span>
                          ) : (
                            <span class="badge bad">{t('ad_user_inactive')}</span>
                          )}
                          {!u.has_password && <span class="badge warn">{t('ad_user_no_password')}</span>}
                        </td>
                        <td>{formatDateTime(u.created_at)}</td>
                        <td class="ad-actions">
                          {u.id !== me.user?.id &&
                            (u.active ? (
                              <button type="button" onClick={() => confirm.ask({ kind: 'deactivate', user: u })}>
                                {t('ad_user_deactivate')}
                                <span class="visually-hidden"> {u.name}</span>
                              </button>
                            ) : (
                              <button type="button" onClick={() => confirm.ask({ kind: 'reactivate', user: u })}>
                                {t('ad_user_reactivate')}
                                <span class="visually-hidden"> {u.name}</span>
                              </button>
                            ))}
                          {u.id !== me.user?.id && u.active && (
                            <button type="button" onClick={() => confirm.ask({ kind: 'sign_out', user: u })}>
                              {t('ad_user_sign_out')}
                              <span class="visually-hidden"> {u.name}</span>
                            </button>
                          )}
                          {u.id !== me.user?.id && (
                            <button type="button" onClick={() => confirm.ask({ kind: 'password', user: u })}>
                              {t('ad_user_set_password')}
                              <span class="visually-hidden"> {u.name}</span>
                            </button>
                          )}
                          <a
                            class="button"
                            href={`/api/v1/institutions/${encodeURIComponent(institution)}/users/${u.id}/export`}
                            download
                            data-external
                          >
                            {t('ad_user_export')}
                            <span class="visually-hidden"> {u.name}</span>
                          </a>
                          {u.id !== me.user?.id && !u.platform_admin && (
                            <button type="button" class="danger" onClick={() => confirm.ask({ kind: 'erase', user: u })}>
                              {t('ad_user_erase')}
                              <span class="visually-hidden"> {u.name}</span>
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollTable>
            </>
          );
        }}
      </Async>
      <ConfirmDialog
        open={p !== undefined}
        title={
          p?.kind === 'deactivate'
            ? t('ad_user_deactivate_title', { name: p.user.name })
            : p?.kind === 'reactivate'
              ? t('ad_user_reactivate_title', { name: p.user.name })
              : p?.kind === 'sign_out'
                ? t('ad_user_sign_out_title', { name: p.user.name })
                : p?.kind === 'erase'
                  ? t('ad_user_erase_title', { name: p.user.name })
                  : t('ad_user_password_title', { name: p?.user.name ?? '' })
        }
        confirmLabel={
          p?.kind === 'deactivate'
            ? t('ad_user_deactivate')
            : p?.kind === 'reactivate'
              ? t('ad_user_reactivate')
              : p?.kind === 'sign_out'
                ? t('ad_user_sign_out')
                : p?.kind === 'erase'
                  ? t('ad_user_erase')
                  : t('ad_user_set_password')
        }
        danger={p?.kind === 'deactivate' || p?.kind === 'erase'}
        busy={confirm.busy}
        error={confirm.error}
        ready={
          p?.kind === 'password'
            ? password.length > 0
            : p?.kind === 'erase'
              ? typed.trim().toLowerCase() === p.user.email.toLowerCase()
              : true
        }
        onCancel={() => {
          setPassword('');
          setTyped('');
          confirm.cancel();
        }}
        onConfirm={() => void confirm.confirm(run)}
      >
        {p?.kind === 'deactivate' && <p>{t('ad_user_deactivate_effect', { name: p.user.name, email: p.user.email })}</p>}
        {p?.kind === 'reactivate' && <p>{t('ad_user_reactivate_effect', { name: p.user.name, email: p.user.email })}</p>}
        {p?.kind === 'sign_out' && <p>{t('ad_user_sign_out_effect', { name: p.user.name, email: p.user.email })}</p>}
        {p?.kind === 'erase' && (
          <>
            <p>{t('ad_user_erase_effect', { name: p.user.name, email: p.user.email })}</p>
            <label class="field">
              <span>{t('ad_user_erase_confirm', { email: p.user.email })}</span>
              <input type="email" autoComplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
            </label>
          </>
        )}
        {p?.kind === 'password' && (
          <>
            <p>{t('ad_user_password_effect', { name: p.user.name, email: p.user.email })}</p>
            <label class="field">
              <span>{t('ad_user_new_password')}</span>
              <input type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}

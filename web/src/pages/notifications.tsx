// The notifications inbox (newest first; mark one or all read) and the preferences: for each
// kind of event, whether it shows here and whether it is emailed.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, formatRelative, t, tp } from '../i18n';
import { type Notification, ScrollTable, appHref, fromUnix, myNotifications } from './student_shared';

type Preferences = Schemas['Preferences'];
type Channels = Schemas['Channels'];

/** The event kinds a user can be notified of (GET/PUT /me/notification-preferences). */
const KINDS: { kind: string; label: MessageKey }[] = [
  { kind: 'grade.recorded', label: 'st_kind_grade_recorded' },
  { kind: 'course.completed', label: 'st_kind_course_completed' },
  { kind: 'credential.issued', label: 'st_kind_credential_issued' },
  { kind: 'grading.failed', label: 'st_kind_grading_failed' },
];

function kindName(kind: string): string {
  const k = KINDS.find((x) => x.kind === kind);
  return k ? t(k.label) : kind;
}

export function NotificationsPage() {
  return (
    <>
      <PageTitle text={t('nav_notifications')} />
      <Inbox />
      <PreferencesForm />
    </>
  );
}

function Inbox() {
  const [onlyUnread, setOnlyUnread] = useState(false);
  const inbox = useLoad(() => myNotifications({ limit: 100 }), []);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  /** Marks every unread notification read in one request. */
  async function markAllRead() {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(api.POST('/api/v1/me/notifications/read-all'));
      inbox.reload();
      announce(tp('st_marked_read', r.marked));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function markRead(ids: string[]) {
    setBusy(true);
    setError(undefined);
    try {
      const read = await Promise.all(
        ids.map((id) =>
          call(
            api.POST('/api/v1/me/notifications/{notification_id}/read', {
              params: { path: { notification_id: id } },
            }),
          ),
        ),
      );
      const byId = new Map(read.map((n) => [n.id, n]));
      inbox.set((inbox.data ?? []).map((n) => byId.get(n.id) ?? n));
      announce(tp('st_marked_read', ids.length));
    } catch (e) {
      setError(e);
      inbox.reload();
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="inbox-h">
      <h2 id="inbox-h">{t('st_inbox')}</h2>
      <Async state={inbox}>
        {(items) => {
          const unread = items.filter((n) => !n.read_at);
          const shown = onlyUnread ? unread : items;
          return (
            <>
              <div class="row">
                <p role="status">
                  {unread.length === 0 ? t('st_notifications_none_unread') : tp('st_unread_count', unread.length)}
                </p>
                <label class="field inline">
                  <input
                    type="checkbox"
                    checked={onlyUnread}
                    onChange={(e) => setOnlyUnread(e.currentTarget.checked)}
                  />
                  <span>{t('st_only_unread')}</span>
                </label>
                {unread.length > 0 && (
                  <button type="button" disabled={busy} onClick={() => void markAllRead()}>
                    {t('st_mark_all_read')}
                  </button>
                )}
              </div>
              {error !== undefined && <ErrorBox error={error} />}
              {shown.length === 0 ? (
                <p class="muted">
                  {items.length === 0 ? t('st_notifications_none') : t('st_notifications_none_unread')}
                </p>
              ) : (
                <ul class="plain inbox">
                  {shown.map((n) => (
                    <NotificationRow key={n.id} n={n} busy={busy} onRead={() => void markRead([n.id])} />
                  ))}
                </ul>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}

function NotificationRow({ n, busy, onRead }: { n: Notification; busy: boolean; onRead: () => void }) {
  const at = fromUnix(n.created_at);
  const id = `n-${n.id}`;
  return (
    <li class={`card notification ${n.read_at ? 'read' : 'unread'}`}>
      <h3 id={id}>
        {!n.read_at && <span class="badge warn">{t('st_unread')}</span>} {n.title}
      </h3>
      <p class="hint">
        {kindName(n.kind)} · <time dateTime={at}>{formatDateTime(at)}</time> ({formatRelative(at)})
      </p>
      <p>{n.body}</p>
      <div class="row">
        {n.link && <a href={appHref(n.link)}>{t('st_notification_open')}</a>}
        {!n.read_at && (
          <button type="button" disabled={busy} onClick={onRead} aria-describedby={id}>
            {t('st_mark_read')}
          </button>
        )}
      </div>
    </li>
  );
}

/** Kinds not in the stored preferences have both channels on. */
function channels(p: Preferences, kind: string): Channels {
  return p.kinds[kind] ?? { in_app: true, email: true };
}

function PreferencesForm() {
  const prefs = useLoad(() => call(api.GET('/api/v1/me/notification-preferences')), []);
  const [draft, setDraft] = useState<Preferences | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (prefs.data) setDraft(prefs.data);
  }, [prefs.data]);

  function toggle(kind: string, channel: keyof Channels, on: boolean) {
    if (!draft) return;
    setSaved(false);
    setDraft({ kinds: { ...draft.kinds, [kind]: { ...channels(draft, kind), [channel]: on } } });
  }

  async function save(e: Event) {
    e.preventDefault();
    if (!draft) return;
    setBusy(true);
    setError(undefined);
    try {
      // Every kind is sent, so what is stored is exactly what the form shows.
      const kinds = Object.fromEntries(KINDS.map(({ kind }) => [kind, channels(draft, kind)]));
      const body = { kinds: { ...draft.kinds, ...kinds } };
      const stored = await call(api.PUT('/api/v1/me/notification-preferences', { body }));
      prefs.set(stored);
      setSaved(true);
      announce(t('st_prefs_saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="prefs-h">
      <h2 id="prefs-h">{t('st_prefs_title')}</h2>
      <p>{t('st_prefs_intro')}</p>
      <Async state={prefs}>
        {() =>
          draft && (
            <form onSubmit={save} class="stack">
              <ScrollTable label={t('st_prefs_title')}>
                <table class="prefs">
                  <caption class="visually-hidden">{t('st_prefs_title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('st_prefs_event')}</th>
                      <th scope="col">{t('st_prefs_in_app')}</th>
                      <th scope="col">{t('st_prefs_email')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {KINDS.map(({ kind, label }) => {
                      const c = channels(draft, kind);
                      return (
                        <tr key={kind}>
                          <th scope="row" id={`pref-${kind}`}>
                            {t(label)}
                          </th>
                          <td>
                            <input
                              type="checkbox"
                              checked={c.in_app}
                              aria-label={t('st_prefs_in_app_for', { kind: t(label) })}
                              onChange={(e) => toggle(kind, 'in_app', e.currentTarget.checked)}
                            />
                          </td>
                          <td>
                            <input
                              type="checkbox"
                              checked={c.email}
                              aria-label={t('st_prefs_email_for', { kind: t(label) })}
                              onChange={(e) => toggle(kind, 'email', e.currentTarget.checked)}
                            />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </ScrollTable>
              {error !== undefined && <ErrorBox error={error} />}
              <div class="row">
                <button type="submit" class="primary" disabled={busy}>
                  {t('save')}
                </button>
                {saved && (
                  <span class="notice ok" role="status">
                    {t('st_prefs_saved')}
                  </span>
                )}
              </div>
            </form>
          )
        }
      </Async>
    </section>
  );
}

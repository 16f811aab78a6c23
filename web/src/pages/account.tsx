import { useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { LOCALES, LOCALE_NAMES, type Locale, formatDateTime, locale, t } from '../i18n';
import { useSession } from '../session';

/** The account page: language (stored on the user, so every device uses it) and "my sessions" with revoke. */
export function Account({ onLanguage }: { onLanguage: (l: Locale) => void }) {
  const session = useSession();
  const sessions = useLoad(() => call(api.GET('/api/v1/me/sessions')), []);
  const [error, setError] = useState<unknown>(undefined);
  const [status, setStatus] = useState('');

  async function saveLanguage(l: Locale) {
    setError(undefined);
    try {
      const user = session.me.user;
      if (user) {
        await call(
          api.PATCH('/api/v1/institutions/{institution}/users/{user_id}', {
            params: { path: { institution: session.institution, user_id: user.id } },
            body: { locale: l },
          }),
        );
      }
      onLanguage(l);
      await session.reload();
      setStatus(t('account_language_saved'));
      announce(t('account_language_saved'));
    } catch (e) {
      setError(e);
    }
  }

  async function revoke(id: string) {
    setError(undefined);
    try {
      await call(api.DELETE('/api/v1/me/sessions/{session_id}', { params: { path: { session_id: id } } }));
      announce(t('sessions_revoked'));
      setStatus(t('sessions_revoked'));
      sessions.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <>
      <PageTitle text={t('account_title')} />
      {error !== undefined && <ErrorBox error={error} />}
      {status && (
        <p class="notice" role="status">
          {status}
        </p>
      )}
      <section aria-labelledby="language-h">
        <h2 id="language-h">{t('language')}</h2>
        <label class="field inline">
          <span>{t('language')}</span>
          <select value={locale()} onChange={(e) => void saveLanguage(e.currentTarget.value as Locale)}>
            {LOCALES.map((l) => (
              <option value={l} lang={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
      </section>
      <section aria-labelledby="sessions-h">
        <h2 id="sessions-h">{t('sessions_title')}</h2>
        <p>{t('sessions_intro')}</p>
        <Async state={sessions}>
          {(list) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('sessions_device')}</th>
                    <th scope="col">{t('sessions_address')}</th>
                    <th scope="col">{t('sessions_started')}</th>
                    <th scope="col">{t('sessions_last_seen')}</th>
                    <th scope="col">
                      <span class="visually-hidden">{t('sessions_revoke')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((s) => (
                    <tr key={s.id}>
                      <td>
                        {s.user_agent || '—'}
                        {s.current && <span class="badge">{t('sessions_this')}</span>}
                      </td>
                      <td>{s.ip || '—'}</td>
                      <td>{formatDateTime(s.created_at)}</td>
                      <td>{formatDateTime(s.last_seen_at)}</td>
                      <td>
                        {!s.current && (
                          <button
                            type="button"
                            aria-label={t('sessions_revoke_named', { device: s.user_agent || s.ip || s.id })}
                            onClick={() => void revoke(s.id)}
                          >
                            {t('sessions_revoke')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Async>
      </section>
      {session.me.user && (
        <section aria-labelledby="data-h">
          <h2 id="data-h">{t('account_data_title')}</h2>
          <p>{t('account_data_intro')}</p>
          {/* A plain download: the session cookie authenticates a GET, the server names the file. */}
          <a class="button" href="/api/v1/me/export" download data-external>
            {t('account_data_download')}
          </a>
        </section>
      )}
    </>
  );
}

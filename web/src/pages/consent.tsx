import { useState } from 'preact/hooks';
import { ApiError, api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, useLoad } from '../components/ui';
import { type MessageKey, t } from '../i18n';

/** The authorization request's parameters, exactly as /oauth/authorize received them. */
function requestFrom(query: URLSearchParams) {
  const opt = (k: string) => query.get(k) ?? undefined;
  return {
    response_type: query.get('response_type') ?? '',
    client_id: query.get('client_id') ?? '',
    redirect_uri: query.get('redirect_uri') ?? '',
    scope: opt('scope'),
    state: opt('state'),
    code_challenge: opt('code_challenge'),
    code_challenge_method: opt('code_challenge_method'),
    nonce: opt('nonce'),
  };
}

const SCOPE_TEXT: Record<string, MessageKey> = {
  openid: 'scope_openid',
  profile: 'scope_profile',
  email: 'scope_email',
};

/** An error the server says goes back to the client (`redirect_to`): follow it. */
function followRedirect(e: unknown): boolean {
  if (e instanceof ApiError && typeof e.problem.redirect_to === 'string') {
    location.assign(e.problem.redirect_to);
    return true;
  }
  return false;
}

/**
 * The OAuth consent page: /oauth/authorize sends the browser here (signing in first when needed).
 * Nothing is granted until the user presses Allow; Deny sends `access_denied` back to the client.
 */
export function Consent() {
  const request = requestFrom(new URLSearchParams(location.search));
  const prompt = useLoad(async () => {
    try {
      return await call(api.GET('/api/v1/oauth/consent', { params: { query: request } }));
    } catch (e) {
      if (followRedirect(e)) return new Promise<never>(() => {});
      throw e;
    }
  }, []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(api.POST('/api/v1/oauth/consent', { body: { ...request, approve } }));
      location.assign(r.redirect_to);
    } catch (e) {
      if (!followRedirect(e)) {
        setError(e);
        setBusy(false);
      }
    }
  }

  return (
    <>
      <PageTitle text={t('consent_title')} />
      <Async state={prompt}>
        {(p) => (
          <div class="card stack">
            <p>{t('consent_intro', { client: p.client_name })}</p>
            <p>{t('consent_scopes')}</p>
            <ul>
              {p.scopes.map((s) => {
                const key = SCOPE_TEXT[s];
                return <li key={s}>{key ? t(key) : t('scope_other', { scope: s })}</li>;
              })}
            </ul>
            <p class="muted">{t('consent_redirect', { host: new URL(p.redirect_uri).host })}</p>
            {error !== undefined && <ErrorBox error={error} />}
            <div class="row">
              <button type="button" class="primary" disabled={busy} onClick={() => void decide(true)}>
                {t('consent_allow')}
              </button>
              <button type="button" disabled={busy} onClick={() => void decide(false)}>
                {t('consent_deny')}
              </button>
            </div>
          </div>
        )}
      </Async>
    </>
  );
}

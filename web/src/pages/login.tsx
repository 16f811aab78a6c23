import { useState } from 'preact/hooks';
import { ApiError, api, call } from '../api/client';
import { PageTitle } from '../components/ui';
import { t } from '../i18n';

/** Password sign-in. The message never says whether the account exists; throttling says when to retry. */
export function Login({ onSignedIn, notice }: { onSignedIn: () => Promise<void>; notice?: string }) {
  const [institution, setInstitution] = useState(() => localStorage.getItem('lectern.institution') ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(api.POST('/api/v1/auth/login', { body: { institution: institution.trim(), email: email.trim(), password } }));
      localStorage.setItem('lectern.institution', institution.trim());
      await onSignedIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const secs = Number(err.problem.retry_after ?? 60);
        setError(t('signin_throttled', { secs }));
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 400 || err.status === 404)) {
        setError(t('signin_failed'));
      } else if (err instanceof ApiError && err.offline) {
        setError(t('error_offline'));
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
      setBusy(false);
    }
  }

  return (
    <div class="signin">
      <PageTitle text={t('signin_title')} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} class="stack" noValidate={false}>
        <div class="field">
          <label for="institution">{t('signin_institution')}</label>
          <input
            id="institution"
            name="institution"
            autocomplete="organization"
            required
            aria-describedby="institution-hint"
            value={institution}
            onInput={(e) => setInstitution(e.currentTarget.value)}
          />
          <p id="institution-hint" class="hint">
            {t('signin_institution_hint')}
          </p>
        </div>
        <div class="field">
          <label for="email">{t('signin_email')}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="password">{t('signin_password')}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        {error && (
          <p class="notice error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('signin_busy') : t('signin_submit')}
        </button>
      </form>
    </div>
  );
}

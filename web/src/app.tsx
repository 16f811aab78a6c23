import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, call, setUnauthenticatedHandler } from './api/client';
import { Loading, ErrorBox } from './components/ui';
import { LOCALES, LOCALE_NAMES, type Locale, locale, pickLocale, setLocale, t } from './i18n';
import { Account } from './pages/account';
import { Consent } from './pages/consent';
import { Login } from './pages/login';
import { Page } from './pages/routes';
import { navigate, useLocation } from './router';
import { type Me, SessionContext } from './session';

/** The user's language: their stored `locale`, else what this browser last chose, else the browser's. */
function initialLocale(me?: Me): Locale {
  const stored = me?.user?.locale;
  if (stored) return pickLocale(stored);
  return pickLocale(localStorage.getItem('lectern.locale') ?? navigator.language);
}

export function App() {
  const loc = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [, setLang] = useState<Locale>(locale());
  const signedIn = useRef(false);

  async function loadMe() {
    try {
      const m = await call(api.GET('/api/v1/me'));
      setLocale(initialLocale(m));
      setLang(locale());
      signedIn.current = true;
      setMe(m);
      setFailure(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setLocale(initialLocale());
        setLang(locale());
        setMe(null);
      } else setFailure(e);
    }
  }

  useEffect(() => {
    // A 401 after sign-in means the session ended (revoked, expired, signed out elsewhere);
    // before sign-in it only means "not signed in yet", which needs no notice.
    setUnauthenticatedHandler(() => {
      if (signedIn.current) setNotice(t('signin_expired'));
      signedIn.current = false;
      setMe(null);
    });
    void loadMe();
  }, []);

  // Focus the new page's heading after navigation, for keyboard and screen-reader users.
  useEffect(() => {
    const h = document.getElementById('page-title');
    if (h && document.activeElement === document.body) h.focus({ preventScroll: true });
  }, [loc.path]);

  function changeLanguage(l: Locale) {
    localStorage.setItem('lectern.locale', l);
    setLocale(l);
    setLang(l);
  }

  if (failure !== undefined && me === undefined) {
    return (
      <main id="main" class="container">
        <ErrorBox error={failure} onRetry={() => void loadMe()} />
      </main>
    );
  }
  if (me === undefined) {
    return (
      <main id="main" class="container">
        <Loading />
      </main>
    );
  }
  if (me === null) {
    return (
      <>
        <a class="skip" href="#main">
          {t('skip_to_content')}
        </a>
        <header class="topbar">
          <span class="brand">{t('app_name')}</span>
          <LanguagePicker onChange={changeLanguage} />
        </header>
        <main id="main" class="container narrow" tabIndex={-1}>
          <Login
            notice={notice}
            onSignedIn={async () => {
              setNotice(undefined);
              await loadMe();
            }}
          />
        </main>
      </>
    );
  }

  const session = { me, institution: me.institution.id, reload: loadMe };
  async function signOut() {
    try {
      await call(api.POST('/api/v1/auth/logout'));
    } finally {
      signedIn.current = false;
      setNotice(t('signout_done'));
      setMe(null);
      navigate('/', { replace: true });
    }
  }

  let page = <Page path={loc.path} query={loc.query} />;
  if (loc.path === '/account') page = <Account onLanguage={changeLanguage} />;
  else if (loc.path === '/consent') page = <Consent />;
  const current = (href: string) => (loc.path === href ? 'page' : undefined);
  // Links to what the caller's institution role lets them do (the API decides anyway; teaching
  // assistants without an institution staff role reach their courses from the course page).
  const caps = new Set(me.capabilities);
  const teaches = caps.has('course:create') || caps.has('course:edit');
  const administers = caps.has('user:manage') || caps.has('plugin:manage') || caps.has('platform:manage');

  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        {t('skip_to_content')}
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          {t('app_name')}
        </a>
        <nav aria-label={t('nav_main')}>
          <ul>
            <li>
              <a href="/" aria-current={current('/')}>
                {t('nav_dashboard')}
              </a>
            </li>
            <li>
              <a href="/grades" aria-current={current('/grades')}>
                {t('nav_grades')}
              </a>
            </li>
            <li>
              <a href="/credentials" aria-current={current('/credentials')}>
                {t('nav_credentials')}
              </a>
            </li>
            <li>
              <a href="/notifications" aria-current={current('/notifications')}>
                {t('nav_notifications')}
              </a>
            </li>
            <li>
              <a href="/account" aria-current={current('/account')}>
                {t('nav_account')}
              </a>
            </li>
            {teaches && (
              <li>
                <a href="/teach" aria-current={loc.path.startsWith('/teach') ? 'page' : undefined}>
                  {t('nav_teaching')}
                </a>
              </li>
            )}
            {administers && (
              <li>
                <a href="/admin" aria-current={loc.path.startsWith('/admin') ? 'page' : undefined}>
                  {t('nav_admin')}
                </a>
              </li>
            )}
          </ul>
        </nav>
        <span class="who">{me.user?.name}</span>
        <button type="button" class="link" onClick={() => void signOut()}>
          {t('nav_sign_out')}
        </button>
      </header>
      <main id="main" class="container" tabIndex={-1}>
        {page}
      </main>
    </SessionContext.Provider>
  );
}

export function LanguagePicker({ onChange }: { onChange: (l: Locale) => void }) {
  return (
    <label class="language">
      <span>{t('language')}</span>{' '}
      <select value={locale()} onChange={(e) => onChange(e.currentTarget.value as Locale)}>
        {LOCALES.map((l) => (
          <option value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}

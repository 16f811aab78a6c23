// The student's credentials (Open Badges 3.0, signed by the institution): download as JSON,
// the public page anyone can verify it at, and a verification run here on request.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, PageTitle, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t } from '../i18n';
import { fromUnix, myCourses } from './student_shared';

type MyCredential = Schemas['MyCredential'];
type Verification = Schemas['Verification'];

/** The achievement's name inside the signed credential (its shape is the Open Badges one). */
function achievementName(c: MyCredential): string | undefined {
  const subject = (c.credential as { credentialSubject?: { achievement?: { name?: unknown } } }).credentialSubject;
  const name = subject?.achievement?.name;
  return typeof name === 'string' ? name : undefined;
}

const CHECK_KEYS: Record<string, MessageKey> = {
  structure: 'st_check_structure',
  proof: 'st_check_proof',
  validFrom: 'st_check_valid_from',
  validUntil: 'st_check_valid_until',
  status: 'st_check_status',
};

/** A verification check by name (the API's detail that follows it is in English). */
function checkName(check: string): string {
  const key = CHECK_KEYS[check];
  return key ? t(key) : check;
}

/** Saves the signed credential exactly as issued, as a .json file. */
function download(c: MyCredential): void {
  const blob = new Blob([JSON.stringify(c.credential, null, 2)], { type: 'application/ld+json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `credential-${c.id}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the object URL; let it go once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function CredentialsPage() {
  const state = useLoad(async () => {
    const [list, courses] = await Promise.all([call(api.GET('/api/v1/me/credentials')), myCourses()]);
    const titles = new Map(courses.map((c) => [c.id, c.title]));
    return list.items.map((c) => ({ credential: c, courseTitle: titles.get(c.course) }));
  }, []);

  return (
    <>
      <PageTitle text={t('st_credentials_title')} />
      <p>{t('st_credentials_intro')}</p>
      <Async state={state}>
        {(items) =>
          items.length === 0 ? (
            <p class="muted">{t('st_credentials_none')}</p>
          ) : (
            <ul class="plain stack">
              {items.map(({ credential, courseTitle }) => (
                <li key={credential.id}>
                  <CredentialCard c={credential} courseTitle={courseTitle} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}

function CredentialCard({ c, courseTitle }: { c: MyCredential; courseTitle?: string }) {
  const [verification, setVerification] = useState<Verification | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const name = achievementName(c) ?? courseTitle ?? c.course;
  const id = `cred-${c.id}`;

  async function verify() {
    setBusy(true);
    setError(undefined);
    try {
      setVerification(
        await call(api.POST('/api/v1/credentials/verify', { body: c.credential as Record<string, never> })),
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="card credential" aria-labelledby={id}>
      <h2 id={id}>{name}</h2>
      <dl class="st-facts">
        {courseTitle && (
          <>
            <dt>{t('st_cred_course')}</dt>
            <dd>{courseTitle}</dd>
          </>
        )}
        <dt>{t('st_cred_issued')}</dt>
        <dd>{formatDateTime(fromUnix(c.issued_at))}</dd>
        {c.revoked_at ? (
          <>
            <dt>{t('st_cred_revoked')}</dt>
            <dd>
              <span class="badge bad">{formatDateTime(fromUnix(c.revoked_at))}</span>
            </dd>
          </>
        ) : null}
      </dl>
      <div class="row">
        <button type="button" onClick={() => download(c)}>
          {t('st_cred_download')}
        </button>
        <a href={c.url} data-external>
          {t('st_cred_public_page')}
        </a>
        <button type="button" disabled={busy} onClick={() => void verify()}>
          {t('st_cred_verify')}
        </button>
      </div>
      <p class="hint">{t('st_cred_share_hint', { url: c.url })}</p>
      {error !== undefined && <ErrorBox error={error} />}
      {verification && (
        <div class={`notice ${verification.verified ? 'ok' : 'error'}`} role="status">
          <p>
            <strong>{verification.verified ? t('st_cred_verified') : t('st_cred_not_verified')}</strong>
          </p>
          <ul>
            {verification.checks.map((k) => (
              <li key={k.check}>
                <span aria-hidden="true">{k.ok ? '✓' : '✗'}</span>{' '}
                <span class="visually-hidden">{k.ok ? t('st_check_ok') : t('st_check_failed')}: </span>
                {checkName(k.check)}: {k.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
    </article>
  );
}

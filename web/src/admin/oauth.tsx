// OAuth clients and signing keys: the institution's active clients, registering one (the
// secret of a confidential client is shown once, here), revoking one (its tokens stop working
// at once), and rotating the institution's token signing key.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, announce, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t, tp } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { AdminPage, ConfirmDialog, Outcome, useCaps, useConfirm, useTargetInstitution } from './shared';

type Client = Schemas['Client'];
type GrantType = Schemas['GrantTypeDto'];

const GRANTS: { id: GrantType; label: MessageKey }[] = [
  { id: 'authorization_code', label: 'ad_grant_authorization_code' },
  { id: 'client_credentials', label: 'ad_grant_client_credentials' },
  { id: 'refresh_token', label: 'ad_grant_refresh_token' },
];

export function OauthPage() {
  const target = useTargetInstitution();
  const caps = useCaps();
  return (
    <AdminPage console="oauth" title={t('ad_oauth_title')}>
      {target.picker}
      {caps.has('oauth-client:manage') && <Clients institution={target.institution} />}
      {caps.has('institution:manage') && <SigningKeys institution={target.institution} name={target.name} />}
    </AdminPage>
  );
}

function Clients({ institution }: { institution: string }) {
  const clients = useLoad(
    () => call(api.GET('/api/v1/institutions/{institution}/oauth-clients', { params: { path: { institution } } })),
    [institution],
  );
  const [created, setCreated] = useState<Client | undefined>(undefined);
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const confirm = useConfirm<Client>();

  async function revoke(c: Client) {
    await call(
      api.DELETE('/api/v1/institutions/{institution}/oauth-clients/{client_id}', {
        params: { path: { institution, client_id: c.client_id } },
      }),
    );
    const text = t('ad_client_revoked', { name: c.name });
    setOutcome(text);
    announce(text);
    if (created?.client_id === c.client_id) setCreated(undefined);
    clients.reload();
  }

  return (
    <>
      <CreateClient
        institution={institution}
        onCreated={(c) => {
          setCreated(c);
          setOutcome(undefined);
          announce(t('ad_client_created', { name: c.name }));
          clients.reload();
        }}
      />
      {created && <CreatedSecret client={created} onDismiss={() => setCreated(undefined)} />}
      <section aria-labelledby="ad-clients-h" class="ad-section">
        <h2 id="ad-clients-h">{t('ad_clients_title')}</h2>
        <Outcome text={outcome} />
        <Async state={clients}>
          {(list) =>
            list.length === 0 ? (
              <p class="muted">{t('ad_clients_none')}</p>
            ) : (
              <>
                <p class="hint">{tp('ad_clients_count', list.length)}</p>
                <ScrollTable label={t('ad_clients_title')}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">{t('ad_client_name')}</th>
                        <th scope="col">{t('ad_client_id')}</th>
                        <th scope="col">{t('ad_client_kind')}</th>
                        <th scope="col">{t('ad_client_grants')}</th>
                        <th scope="col">{t('ad_client_scopes')}</th>
                        <th scope="col">{t('ad_client_redirects')}</th>
                        <th scope="col">{t('ad_created')}</th>
                        <th scope="col">{t('ad_actions')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map((c) => (
                        <tr key={c.client_id} data-client={c.client_id}>
                          <th scope="row">{c.name}</th>
                          <td>
                            <code class="ad-id">{c.client_id}</code>
                          </td>
                          <td>{t(c.confidential ? 'ad_client_confidential' : 'ad_client_public')}</td>
                          <td>{c.grant_types.map((g) => t(GRANTS.find((x) => x.id === g)?.label ?? 'ad_grant_authorization_code')).join(', ')}</td>
                          <td>{c.scopes.join(' ')}</td>
                          <td class="ad-wrap">{c.redirect_uris.join('\n') || '—'}</td>
                          <td>{formatDateTime(c.created_at)}</td>
                          <td>
                            <button type="button" onClick={() => confirm.ask(c)}>
                              {t('ad_client_revoke')}
                              <span class="visually-hidden"> {c.name}</span>
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </ScrollTable>
              </>
            )
          }
        </Async>
      </section>
      <ConfirmDialog
        open={confirm.pending !== undefined}
        title={t('ad_client_revoke_title', { name: confirm.pending?.name ?? '' })}
        confirmLabel={t('ad_client_revoke')}
        danger
        busy={confirm.busy}
        error={confirm.error}
        onCancel={confirm.cancel}
        onConfirm={() => void confirm.confirm(revoke)}
      >
        <p>{t('ad_client_revoke_effect', { name: confirm.pending?.name ?? '' })}</p>
      </ConfirmDialog>
    </>
  );
}

/** The new client's id and, for a confidential client, its secret: shown once, never again. */
function CreatedSecret({ client, onDismiss }: { client: Client; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLElement>(null);
  // Move the focus to the secret when it appears, so keyboard and screen-reader users find it.
  useEffect(() => ref.current?.focus(), [client.client_id]);
  return (
    <section class="notice warn ad-secret" aria-labelledby="ad-secret-h" tabIndex={-1} ref={ref}>
      <h2 id="ad-secret-h">{t('ad_client_created', { name: client.name })}</h2>
      <dl class="ad-facts">
        <dt>{t('ad_client_id')}</dt>
        <dd>
          <code>{client.client_id}</code>
        </dd>
        {client.client_secret && (
          <>
            <dt>{t('ad_client_secret')}</dt>
            <dd>
              <code data-secret>{client.client_secret}</code>
            </dd>
          </>
        )}
      </dl>
      {client.client_secret ? <p>{t('ad_client_secret_once')}</p> : <p>{t('ad_client_no_secret')}</p>}
      <div class="row">
        {client.client_secret && (
          <button
            type="button"
            onClick={() =>
              void navigator.clipboard.writeText(client.client_secret ?? '').then(
                () => {
                  setCopied(true);
                  announce(t('ad_copied'));
                },
                () => setCopied(false),
              )
            }
          >
            {t('ad_copy_secret')}
          </button>
        )}
        {copied && <span role="status">{t('ad_copied')}</span>}
        <button type="button" onClick={onDismiss}>
          {t('ad_secret_stored')}
        </button>
      </div>
    </section>
  );
}

function CreateClient({ institution, onCreated }: { institution: string; onCreated: (c: Client) => void }) {
  const [name, setName] = useState('');
  const [confidential, setConfidential] = useState(true);
  const [grants, setGrants] = useState<GrantType[]>(['authorization_code', 'refresh_token']);
  const [redirects, setRedirects] = useState('');
  const [scopes, setScopes] = useState('openid profile email');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const c = await call(
        api.POST('/api/v1/institutions/{institution}/oauth-clients', {
          params: { path: { institution } },
          body: {
            name: name.trim(),
            confidential,
            grant_types: grants,
            redirect_uris: redirects.split(/\s+/).filter(Boolean),
            scopes: scopes.split(/\s+/).filter(Boolean),
          },
        }),
      );
      setName('');
      setRedirects('');
      onCreated(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="ad-create-client-h" class="card ad-section">
      <h2 id="ad-create-client-h">{t('ad_client_create_title')}</h2>
      <form onSubmit={submit} class="ad-form">
        <label class="field">
          <span>{t('ad_client_name')}</span>
          <input type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field inline">
          <input type="checkbox" checked={confidential} onChange={(e) => setConfidential(e.currentTarget.checked)} />
          <span>{t('ad_client_confidential_label')}</span>
        </label>
        <fieldset>
          <legend>{t('ad_client_grants')}</legend>
          {GRANTS.map((g) => (
            <label class="choice" key={g.id}>
              <input
                type="checkbox"
                checked={grants.includes(g.id)}
                onChange={(e) =>
                  setGrants(e.currentTarget.checked ? [...grants, g.id] : grants.filter((x) => x !== g.id))
                }
              />
              <span>{t(g.label)}</span>
            </label>
          ))}
        </fieldset>
        <div class="field ad-wide">
          <label for="ad-redirects">{t('ad_client_redirects')}</label>
          <textarea id="ad-redirects" rows={2} value={redirects} aria-describedby="ad-redirects-hint" onInput={(e) => setRedirects(e.currentTarget.value)} />
          <p class="hint" id="ad-redirects-hint">
            {t('ad_client_redirects_hint')}
          </p>
        </div>
        <div class="field">
          <label for="ad-scopes">{t('ad_client_scopes')}</label>
          <input id="ad-scopes" type="text" value={scopes} aria-describedby="ad-scopes-hint" onInput={(e) => setScopes(e.currentTarget.value)} />
          <p class="hint" id="ad-scopes-hint">
            {t('ad_client_scopes_hint')}
          </p>
        </div>
        <div class="row">
          <button type="submit" class="primary" disabled={busy || grants.length === 0}>
            {busy ? t('ad_working') : t('ad_client_create')}
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
    </section>
  );
}

/**
 * The institution's token signing keys (newest first: the one signing, those still verifying the
 * tokens they signed, the retired) and rotation (the old key stays published until the tokens it
 * signed have expired).
 */
function SigningKeys({ institution, name }: { institution: string; name: string }) {
  const [kid, setKid] = useState<string | undefined>(undefined);
  const keys = useLoad(
    () => call(api.GET('/api/v1/institutions/{institution}/keys', { params: { path: { institution } } })),
    [institution],
  );
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function rotate() {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(api.POST('/api/v1/institutions/{institution}/keys/rotate', { params: { path: { institution } } }));
      setKid(r.kid);
      setOpen(false);
      keys.reload();
      announce(t('ad_keys_rotated', { kid: r.kid }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="ad-keys-h" class="card ad-section">
      <h2 id="ad-keys-h">{t('ad_keys_title')}</h2>
      <p>{t('ad_keys_intro')}</p>
      {keys.error !== undefined && <ErrorBox error={keys.error} onRetry={keys.reload} />}
      {keys.data && (
        <ScrollTable label={t('ad_keys_title')}>
          <table>
          <thead>
            <tr>
              <th scope="col">{t('ad_keys_kid')}</th>
              <th scope="col">{t('ad_keys_created')}</th>
              <th scope="col">{t('ad_keys_state')}</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.items.map((k) => (
              <tr key={k.kid}>
                <th scope="row">
                  <code>{k.kid}</code>
                </th>
                <td>{formatDateTime(k.created_at)}</td>
                <td>
                  {k.state === 'active' ? (
                    <span class="badge ok">{t('ad_keys_active')}</span>
                  ) : k.state === 'retiring' ? (
                    <span class="badge warn">{t('ad_keys_retiring', { at: formatDateTime(k.retire_at) })}</span>
                  ) : (
                    <span class="badge">{t('ad_keys_retired', { at: formatDateTime(k.retire_at) })}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
          </table>
        </ScrollTable>
      )}
      {kid && (
        <p class="notice ok" role="status">
          {t('ad_keys_rotated', { kid })}
        </p>
      )}
      <button type="button" onClick={() => setOpen(true)}>
        {t('ad_keys_rotate')}
      </button>
      <ConfirmDialog
        open={open}
        title={t('ad_keys_rotate_title', { institution: name })}
        confirmLabel={t('ad_keys_rotate')}
        busy={busy}
        error={error}
        onCancel={() => !busy && setOpen(false)}
        onConfirm={() => void rotate()}
      >
        <p>{t('ad_keys_rotate_effect', { institution: name })}</p>
      </ConfirmDialog>
      {error !== undefined && !open && <ErrorBox error={error} />}
    </section>
  );
}

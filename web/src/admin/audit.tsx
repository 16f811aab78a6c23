// The audit log: who did what to whom, when, from where and how it ended — newest first, with
// filters, older pages on demand and the institution's export. Platform administrators also
// verify the hash chain and see its head, the value to write down elsewhere.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, announce, useLoad } from '../components/ui';
import { formatDateTime, t } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { AdminPage, useCaps, useTargetInstitution } from './shared';

type Entry = Schemas['AuditEntry'];
type Verification = Schemas['AuditVerification'];

interface Filters {
  action: string;
  actor: string;
  since: string;
}

export function AuditPage() {
  const target = useTargetInstitution();
  const caps = useCaps();
  return (
    <AdminPage console="audit" title={t('ad_audit_title')}>
      {target.picker}
      <p>{t('ad_audit_intro')}</p>
      <AuditLog institution={target.institution} />
      {caps.platform && <Verify />}
    </AdminPage>
  );
}

function actorText(e: Entry): string {
  switch (e.actor.kind) {
    case 'user':
      return e.actor.email ?? e.actor.id ?? '';
    case 'client':
      return t('ad_audit_client', { id: e.actor.id ?? '' });
    case 'anonymous':
      return e.actor.claimed ? t('ad_audit_anonymous_as', { who: e.actor.claimed }) : t('ad_audit_anonymous');
    default:
      return t('ad_audit_system');
  }
}

function AuditLog({ institution }: { institution: string }) {
  const [filters, setFilters] = useState<Filters>({ action: '', actor: '', since: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [older, setOlder] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const query = (f: Filters, c?: string) => ({
    action: f.action || undefined,
    actor: f.actor || undefined,
    since: f.since ? new Date(f.since).toISOString() : undefined,
    cursor: c,
    limit: 100,
  });
  const first = useLoad(async () => {
    const page = await call(api.GET('/api/v1/institutions/{institution}/audit', { params: { path: { institution }, query: query(filters) } }));
    setOlder([]);
    setCursor(page.next_cursor);
    return page.items;
  }, [institution, filters.action, filters.actor, filters.since]);

  async function more() {
    if (!cursor) return;
    try {
      const page = await call(
        api.GET('/api/v1/institutions/{institution}/audit', { params: { path: { institution }, query: query(filters, cursor) } }),
      );
      setOlder((o) => [...o, ...page.items]);
      setCursor(page.next_cursor);
      announce(t('ad_audit_more_loaded', { count: page.items.length }));
    } catch (e) {
      setMoreError(e);
    }
  }

  return (
    <section aria-labelledby="ad-audit-h" class="ad-section">
      <h2 id="ad-audit-h">{t('ad_audit_entries')}</h2>
      <form
        class="ad-filters"
        aria-label={t('ad_audit_filters')}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label class="field inline">
          <span>{t('ad_audit_action')}</span>
          <input value={draft.action} placeholder="auth." onInput={(e) => setDraft({ ...draft, action: e.currentTarget.value })} />
        </label>
        <label class="field inline">
          <span>{t('ad_audit_actor')}</span>
          <input value={draft.actor} onInput={(e) => setDraft({ ...draft, actor: e.currentTarget.value })} />
        </label>
        <label class="field inline">
          <span>{t('ad_audit_since')}</span>
          <input type="datetime-local" value={draft.since} onInput={(e) => setDraft({ ...draft, since: e.currentTarget.value })} />
        </label>
        <button type="submit">{t('ad_audit_apply')}</button>
        <ExportLink institution={institution} />
      </form>
      <Async state={first}>
        {(items) => {
          const all = [...items, ...older];
          return all.length === 0 ? (
            <p class="muted">{t('ad_audit_none')}</p>
          ) : (
            <>
              <ScrollTable label={t('ad_audit_entries')}>
                <table class="ad-audit">
                  <thead>
                    <tr>
                      <th scope="col">{t('ad_audit_when')}</th>
                      <th scope="col">{t('ad_audit_who')}</th>
                      <th scope="col">{t('ad_audit_action')}</th>
                      <th scope="col">{t('ad_audit_target')}</th>
                      <th scope="col">{t('ad_audit_outcome')}</th>
                      <th scope="col">{t('ad_audit_from')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {all.map((e) => (
                      <tr key={e.seq} data-seq={e.seq} data-outcome={e.outcome}>
                        <td>{formatDateTime(e.time)}</td>
                        <td class="ad-wrap">{actorText(e)}</td>
                        <th scope="row" class="ad-wrap">
                          <code>{e.action}</code>
                        </th>
                        <td class="ad-wrap">{e.target ?? '—'}</td>
                        <td>
                          {t(e.outcome === 'succeeded' ? 'ad_audit_succeeded' : e.outcome === 'denied' ? 'ad_audit_denied' : 'ad_audit_failed')}
                          {e.status ? ` (${e.status})` : ''}
                          {e.details.reason ? ` — ${e.details.reason}` : ''}
                        </td>
                        <td>{e.ip ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollTable>
              {moreError !== undefined && <ErrorBox error={moreError} onRetry={() => void more()} />}
              {cursor && (
                <button type="button" onClick={() => void more()}>
                  {t('ad_audit_more')}
                </button>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}

/** The export is a plain download: the session cookie authenticates a GET. */
function ExportLink({ institution }: { institution: string }) {
  return (
    <a class="button" href={`/api/v1/institutions/${encodeURIComponent(institution)}/audit/export`} download data-external>
      {t('ad_audit_export')}
    </a>
  );
}

function verdict(v: Verification): string {
  return v.ok ? t('ad_audit_verified') : t('ad_audit_broken', { seq: v.first_bad ?? 0 });
}

function Verify() {
  const [result, setResult] = useState<Verification | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      const v = await call(api.GET('/api/v1/admin/audit/verify'));
      setResult(v);
      announce(verdict(v));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="ad-audit-verify-h" class="ad-section">
      <h2 id="ad-audit-verify-h">{t('ad_audit_chain')}</h2>
      <p class="hint">{t('ad_audit_chain_hint')}</p>
      <button type="button" disabled={busy} onClick={() => void run()}>
        {t('ad_audit_verify')}
      </button>
      {error !== undefined && <ErrorBox error={error} onRetry={() => void run()} />}
      {result && (
        <dl class="ad-head" data-ok={String(result.ok)}>
          <dt>{t('ad_audit_result')}</dt>
          <dd>
            <span role="status">{verdict(result)}</span>
          </dd>
          <dt>{t('ad_audit_entries_checked')}</dt>
          <dd>{result.entries}</dd>
          <dt>{t('ad_audit_head')}</dt>
          <dd>
            <code class="ad-id">
              {result.head.seq ?? '—'} {result.head.hash}
            </code>
          </dd>
        </dl>
      )}
    </section>
  );
}

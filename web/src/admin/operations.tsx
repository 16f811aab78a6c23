// Operations: health as the API reports it, the event bus (topics, subscriptions and their
// backlogs, the outbox; platform administrators), dead letters with replay and discard
// (platform administrators), and the institution's webhooks with their delivery logs.
//
// The health panel has the server's version, commit and uptime and whether email is configured
// (`/api/v1/admin/about`, platform administrators), and the email check sends one test message
// through the relay (`POST /api/v1/admin/email/check`).
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, Loading, announce, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t, tp } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { AdminPage, ConfirmDialog, Outcome, useCaps, useConfirm, useTargetInstitution } from './shared';

type BusTopics = Schemas['BusTopics'];
type DeadLetter = Schemas['DeadLetter'];
type Webhook = Schemas['Webhook'];

/** The event kinds a webhook can receive (CreateWebhook.events). */
const WEBHOOK_EVENTS = ['grade.recorded', 'grading.failed', 'course.completed', 'credential.issued'];

export function OperationsPage() {
  const caps = useCaps();
  const target = useTargetInstitution();
  return (
    <AdminPage console="operations" title={t('ad_ops_title')}>
      <Health />
      {caps.platform && <EmailCheck />}
      {caps.platform && <Bus />}
      {caps.platform && <DeadLetters />}
      {caps.has('institution:manage') && (
        <>
          {target.picker}
          <Webhooks institution={target.institution} name={target.name} />
        </>
      )}
    </AdminPage>
  );
}

// ---- Health ----

function Health() {
  const caps = useCaps();
  const plugins = useLoad(() => call(api.GET('/api/v1/plugins')), []);
  const bus = useLoad(() => (caps.platform ? call(api.GET('/api/v1/admin/bus/topics')) : Promise.resolve(undefined)), []);
  const about = useLoad(() => (caps.platform ? call(api.GET('/api/v1/admin/about')) : Promise.resolve(undefined)), []);
  const active = plugins.data?.filter((p) => p.status === 'active') ?? [];
  const open = plugins.data?.filter((p) => p.breaker.state !== 'closed') ?? [];
  // Work waiting for a worker; dead letters are counted on their own, below.
  const backlog = bus.data?.topics
    .filter((tp) => !tp.topic.endsWith('-DLQ'))
    .reduce((n, tp) => n + tp.subscriptions.reduce((m, s) => m + s.backlog, 0), 0);
  return (
    <section aria-labelledby="ad-health-h" class="card ad-section">
      <h2 id="ad-health-h">{t('ad_health_title')}</h2>
      {plugins.error !== undefined ? (
        <ErrorBox error={plugins.error} onRetry={plugins.reload} />
      ) : plugins.data === undefined ? (
        <Loading />
      ) : (
        <dl class="ad-facts ad-health">
          <dt>{t('ad_health_api')}</dt>
          <dd>
            <span class="badge ok">{t('ad_health_answering')}</span>
          </dd>
          <dt>{t('ad_health_plugins')}</dt>
          <dd>
            {tp('ad_health_active_plugins', active.length)}{' '}
            {open.length === 0 ? (
              <span class="badge ok">{t('ad_health_breakers_closed')}</span>
            ) : (
              <span class="badge bad">{tp('ad_health_breakers_open', open.length, { plugins: open.map((p) => p.key).join(', ') })}</span>
            )}
          </dd>
          {bus.data && (
            <>
              <dt>{t('ad_health_bus')}</dt>
              <dd>
                {t('ad_health_bus_summary', { backend: bus.data.backend, outbox: bus.data.outbox_pending, backlog: backlog ?? 0 })}
              </dd>
            </>
          )}
          {about.data && (
            <>
              <dt>{t('ad_health_version')}</dt>
              <dd id="ad-version">
                {t('ad_health_version_value', {
                  version: about.data.version,
                  profile: about.data.build_profile,
                  commit: about.data.commit ? t('ad_health_commit', { commit: about.data.commit }) : '',
                  since: formatDateTime(about.data.started_at),
                })}
              </dd>
              <dt>{t('ad_health_email')}</dt>
              <dd>
                {about.data.email_configured ? (
                  <span class="badge ok">{t('ad_health_email_on')}</span>
                ) : (
                  <span class="badge warn">{t('ad_health_email_off')}</span>
                )}
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

// ---- Email ----

function EmailCheck() {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<(Schemas['EmailCheck'] & { to: string }) | undefined>(undefined);

  async function send(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const r = await call(api.POST('/api/v1/admin/email/check', { body: { to } }));
      setResult({ ...r, to });
      announce(r.sent ? t('ad_email_sent', sentParams(r, to)) : t('ad_email_failed', { relay: r.relay ?? '', error: r.error ?? '' }));
    } catch (e2) {
      setError(e2);
    } finally {
      setBusy(false);
    }
  }

  const sentParams = (r: Schemas['EmailCheck'], addr: string) => ({
    relay: r.relay ?? '',
    tls: r.tls ?? '',
    from: r.from ?? '',
    ms: formatNumber(r.took_ms),
    to: addr,
  });

  return (
    <section aria-labelledby="ad-email-h" class="card ad-section">
      <h2 id="ad-email-h">{t('ad_email_title')}</h2>
      <p>{t('ad_email_intro')}</p>
      <form class="row" onSubmit={send}>
        <div class="field">
          <label for="ad-email-to">{t('ad_email_to')}</label>
          <input id="ad-email-to" type="email" required autocomplete="email" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy}>
          {t('ad_email_send')}
        </button>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {result && (
        <div id="ad-email-result" class={`notice ${result.sent ? 'ok' : 'error'}`} role="status">
          {!result.configured ? (
            <p>{t('ad_email_unconfigured', { error: result.error ?? '' })}</p>
          ) : result.sent ? (
            <p>{t('ad_email_sent', sentParams(result, result.to))}</p>
          ) : (
            <>
              <p>{t('ad_email_failed', { relay: result.relay ?? '', error: result.error ?? '' })}</p>
              <p>{result.transient ? t('ad_email_transient') : t('ad_email_permanent')}</p>
            </>
          )}
        </div>
      )}
    </section>
  );
}

// ---- The bus ----

function Bus() {
  const topics = useLoad<BusTopics>(() => call(api.GET('/api/v1/admin/bus/topics')), []);
  return (
    <section aria-labelledby="ad-bus-h" class="ad-section">
      <h2 id="ad-bus-h">{t('ad_bus_title')}</h2>
      <div class="row">
        <button type="button" onClick={topics.reload}>
          {t('ad_refresh_now')}
        </button>
      </div>
      <Async state={topics}>
        {(b) => (
          <>
            <p>{t('ad_bus_summary', { backend: b.backend, outbox: b.outbox_pending, topics: b.topics.length })}</p>
            <ScrollTable label={t('ad_bus_title')}>
              <table class="ad-topics">
                <thead>
                  <tr>
                    <th scope="col">{t('ad_topic')}</th>
                    <th scope="col">{t('ad_published')}</th>
                    <th scope="col">{t('ad_stored')}</th>
                    <th scope="col">{t('ad_subscription')}</th>
                    <th scope="col">{t('ad_backlog')}</th>
                    <th scope="col">{t('ad_in_flight')}</th>
                    <th scope="col">{t('ad_consumers')}</th>
                  </tr>
                </thead>
                <tbody>
                  {b.topics.flatMap((tp) => {
                    const subs = tp.subscriptions.length ? tp.subscriptions : [undefined];
                    return subs.map((s, i) => (
                      <tr key={`${tp.topic}/${s?.subscription ?? ''}`} data-topic={tp.topic} class={tp.topic.endsWith('-DLQ') ? 'ad-dlq' : undefined}>
                        {i === 0 && (
                          <>
                            <th scope="rowgroup" rowSpan={subs.length}>
                              <code>{tp.topic}</code>
                              {tp.topic.endsWith('-DLQ') && <span class="badge">{t('ad_dead_letter_topic')}</span>}
                            </th>
                            <td rowSpan={subs.length} class="ad-num">
                              {formatNumber(tp.next_offset)}
                            </td>
                            <td rowSpan={subs.length} class="ad-num">
                              {formatNumber(tp.stored)}
                            </td>
                          </>
                        )}
                        <td>{s ? <code>{s.subscription}</code> : <span class="muted">{t('ad_none')}</span>}</td>
                        <td class="ad-num">
                          {s && <span class={s.backlog > 0 ? 'badge warn' : undefined}>{formatNumber(s.backlog)}</span>}
                        </td>
                        <td class="ad-num">{s && formatNumber(s.in_flight)}</td>
                        <td class="ad-num">{s && formatNumber(s.consumers)}</td>
                      </tr>
                    ));
                  })}
                </tbody>
              </table>
            </ScrollTable>
          </>
        )}
      </Async>
    </section>
  );
}

// ---- Dead letters ----

function DeadLetters() {
  const letters = useLoad(() => call(api.GET('/api/v1/admin/bus/dead-letters')).then((r) => r.items), []);
  const confirm = useConfirm<{ kind: 'replay' | 'discard'; letter: DeadLetter }>();
  const [outcome, setOutcome] = useState<string | undefined>(undefined);

  async function run({ kind, letter }: { kind: 'replay' | 'discard'; letter: DeadLetter }) {
    const params = { params: { path: { topic: letter.topic, offset: letter.offset } } };
    let text: string;
    if (kind === 'replay') {
      const r = await call(api.POST('/api/v1/admin/bus/dead-letters/{topic}/{offset}/replay', params));
      text = t('ad_dead_replayed', { key: letter.key, topic: letter.origin_topic ?? letter.topic, offset: r.republished_at_offset });
    } else {
      await call(api.DELETE('/api/v1/admin/bus/dead-letters/{topic}/{offset}', params));
      text = t('ad_dead_discarded', { key: letter.key });
    }
    setOutcome(text);
    announce(text);
    letters.reload();
  }

  const p = confirm.pending;
  return (
    <section aria-labelledby="ad-dead-h" class="ad-section">
      <h2 id="ad-dead-h">{t('ad_dead_title')}</h2>
      <p>{t('ad_dead_intro')}</p>
      <div class="row">
        <button type="button" onClick={letters.reload}>
          {t('ad_refresh_now')}
        </button>
      </div>
      <Outcome text={outcome} />
      <Async state={letters}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted" role="status">
              {t('ad_dead_none')}
            </p>
          ) : (
            <>
              <p role="status">{tp('ad_dead_count', list.length)}</p>
              <ScrollTable label={t('ad_dead_title')}>
                <table class="ad-dead">
                  <thead>
                    <tr>
                      <th scope="col">{t('ad_dead_key')}</th>
                      <th scope="col">{t('ad_dead_origin')}</th>
                      <th scope="col">{t('ad_dead_attempts')}</th>
                      <th scope="col">{t('ad_dead_error')}</th>
                      <th scope="col">{t('ad_dead_at')}</th>
                      <th scope="col">{t('ad_actions')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((l) => (
                      <tr key={`${l.topic}/${l.offset}`} data-key={l.key} data-offset={l.offset}>
                        <th scope="row">
                          <code>{l.key}</code>
                          <details class="ad-details">
                            <summary>{t('ad_dead_payload')}</summary>
                            <pre>{l.payload}</pre>
                          </details>
                        </th>
                        <td>
                          <code>{l.origin_topic ?? '—'}</code>
                          {l.origin_subscription && <span class="hint ad-sub">{t('ad_dead_subscription', { subscription: l.origin_subscription })}</span>}
                          <span class="hint ad-sub">
                            {l.topic} #{l.offset}
                          </span>
                        </td>
                        <td class="ad-num">{l.attempts ?? '—'}</td>
                        <td class="ad-wrap">{l.last_error ?? '—'}</td>
                        <td>{l.dead_lettered_at_ms ? formatDateTime(new Date(l.dead_lettered_at_ms)) : '—'}</td>
                        <td class="ad-actions">
                          <button type="button" onClick={() => confirm.ask({ kind: 'replay', letter: l })}>
                            {t('ad_dead_replay')}
                            <span class="visually-hidden"> {l.key}</span>
                          </button>
                          <button type="button" onClick={() => confirm.ask({ kind: 'discard', letter: l })}>
                            {t('ad_dead_discard')}
                            <span class="visually-hidden"> {l.key}</span>
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
      <ConfirmDialog
        open={p !== undefined}
        title={t(p?.kind === 'discard' ? 'ad_dead_discard_title' : 'ad_dead_replay_title', { key: p?.letter.key ?? '' })}
        confirmLabel={t(p?.kind === 'discard' ? 'ad_dead_discard' : 'ad_dead_replay')}
        danger={p?.kind === 'discard'}
        busy={confirm.busy}
        error={confirm.error}
        onCancel={confirm.cancel}
        onConfirm={() => void confirm.confirm(run)}
      >
        {p && (
          <p>
            {p.kind === 'replay'
              ? t('ad_dead_replay_effect', { key: p.letter.key, topic: p.letter.origin_topic ?? p.letter.topic, subscription: p.letter.origin_subscription ?? '—' })
              : t('ad_dead_discard_effect', { key: p.letter.key })}
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

// ---- Webhooks ----

function Webhooks({ institution, name }: { institution: string; name: string }) {
  const hooks = useLoad(
    () => call(api.GET('/api/v1/institutions/{institution}/webhooks', { params: { path: { institution } } })).then((r) => r.items),
    [institution],
  );
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([...WEBHOOK_EVENTS]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>(undefined);
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const confirm = useConfirm<Webhook>();

  async function create(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const h = await call(
        api.POST('/api/v1/institutions/{institution}/webhooks', { params: { path: { institution } }, body: { url: url.trim(), events } }),
      );
      setSecret({ url: h.url, secret: h.secret });
      setUrl('');
      announce(t('ad_hook_created', { url: h.url }));
      hooks.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function enable(h: Webhook) {
    setError(undefined);
    try {
      await call(
        api.POST('/api/v1/institutions/{institution}/webhooks/{webhook_id}/enable', { params: { path: { institution, webhook_id: h.id } } }),
      );
      const text = t('ad_hook_enabled', { url: h.url });
      setOutcome(text);
      announce(text);
      hooks.reload();
    } catch (err) {
      setError(err);
    }
  }

  async function remove(h: Webhook) {
    await call(api.DELETE('/api/v1/institutions/{institution}/webhooks/{webhook_id}', { params: { path: { institution, webhook_id: h.id } } }));
    const text = t('ad_hook_deleted', { url: h.url });
    setOutcome(text);
    announce(text);
    hooks.reload();
  }

  return (
    <section aria-labelledby="ad-hooks-h" class="ad-section">
      <h2 id="ad-hooks-h">{t('ad_hooks_title', { institution: name })}</h2>
      <form onSubmit={create} class="card ad-form">
        <h3>{t('ad_hook_create_title')}</h3>
        <label class="field ad-wide">
          <span>{t('ad_hook_url')}</span>
          <input type="url" required value={url} placeholder="https://" onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
        <fieldset>
          <legend>{t('ad_hook_events')}</legend>
          {WEBHOOK_EVENTS.map((ev) => (
            <label class="choice" key={ev}>
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))}
              />
              <code>{ev}</code>
            </label>
          ))}
        </fieldset>
        <div class="row">
          <button type="submit" class="primary" disabled={busy || events.length === 0}>
            {busy ? t('ad_working') : t('ad_hook_create')}
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {secret && (
        <div class="notice warn ad-secret" role="status">
          <p>{t('ad_hook_secret', { url: secret.url })}</p>
          <p>
            <code data-secret>{secret.secret}</code>
          </p>
          <button type="button" onClick={() => setSecret(undefined)}>
            {t('ad_secret_stored')}
          </button>
        </div>
      )}
      <Outcome text={outcome} />
      <Async state={hooks}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">{t('ad_hooks_none')}</p>
          ) : (
            <ul class="plain ad-hooks">
              {list.map((h) => (
                <WebhookCard key={h.id} institution={institution} hook={h} onEnable={() => void enable(h)} onDelete={() => confirm.ask(h)} />
              ))}
            </ul>
          )
        }
      </Async>
      <ConfirmDialog
        open={confirm.pending !== undefined}
        title={t('ad_hook_delete_title')}
        confirmLabel={t('ad_hook_delete')}
        danger
        busy={confirm.busy}
        error={confirm.error}
        onCancel={confirm.cancel}
        onConfirm={() => void confirm.confirm(remove)}
      >
        <p>{t('ad_hook_delete_effect', { url: confirm.pending?.url ?? '' })}</p>
      </ConfirmDialog>
    </section>
  );
}

function WebhookCard({ institution, hook, onEnable, onDelete }: { institution: string; hook: Webhook; onEnable: () => void; onDelete: () => void }) {
  const [open, setOpen] = useState(false);
  const h = `hook-${hook.id}`;
  return (
    <li class="card ad-hook" data-hook={hook.id}>
      <h3 id={h} class="ad-wrap">
        {hook.url}
      </h3>
      <p>
        {hook.active ? <span class="badge ok">{t('ad_hook_active')}</span> : <span class="badge bad">{t('ad_hook_disabled')}</span>}{' '}
        {hook.disabled_reason && <span>{t('ad_hook_disabled_reason', { reason: hook.disabled_reason })}</span>}{' '}
        {hook.consecutive_failures > 0 && <span class="badge warn">{tp('ad_hook_failures', hook.consecutive_failures)}</span>}
      </p>
      <p class="hint">
        {t('ad_hook_events')}: {hook.events.join(', ')} · {t('ad_created')} {formatDateTime(hook.created_at)}
      </p>
      <div class="row">
        {!hook.active && (
          <button type="button" onClick={onEnable} aria-describedby={h}>
            {t('ad_hook_enable')}
          </button>
        )}
        <button type="button" onClick={onDelete} aria-describedby={h}>
          {t('ad_hook_delete')}
        </button>
      </div>
      <details class="ad-details" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>{t('ad_hook_log')}</summary>
        {open && <DeliveryLog institution={institution} hook={hook.id} />}
      </details>
    </li>
  );
}

function DeliveryLog({ institution, hook }: { institution: string; hook: string }) {
  const log = useLoad(
    () =>
      call(
        api.GET('/api/v1/institutions/{institution}/webhooks/{webhook_id}/deliveries', { params: { path: { institution, webhook_id: hook } } }),
      ).then((r) => r.items),
    [institution, hook],
  );
  return (
    <Async state={log}>
      {(items) =>
        items.length === 0 ? (
          <p class="muted">{t('ad_hook_log_empty')}</p>
        ) : (
          <ScrollTable label={t('ad_hook_log')}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('ad_hook_at')}</th>
                  <th scope="col">{t('ad_hook_event')}</th>
                  <th scope="col">{t('ad_hook_attempt')}</th>
                  <th scope="col">{t('ad_hook_result')}</th>
                  <th scope="col">{t('ad_hook_duration')}</th>
                  <th scope="col">{t('ad_hook_delivery')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <tr key={`${d.delivery}/${d.attempt}`}>
                    <td>{formatDateTime(d.at)}</td>
                    <td>
                      <code>{d.event}</code>
                    </td>
                    <td class="ad-num">{d.attempt}</td>
                    <td>
                      <span class={`badge ${d.ok ? 'ok' : 'bad'}`}>{d.ok ? t('ad_hook_ok') : t('ad_hook_failed')}</span>{' '}
                      {d.status != null && <span>{t('ad_hook_http', { status: d.status })}</span>} {d.error && <span class="ad-wrap">{d.error}</span>}
                    </td>
                    <td class="ad-num">{formatNumber(d.duration_ms, { style: 'unit', unit: 'millisecond', unitDisplay: 'short' })}</td>
                    <td>
                      <code class="ad-id">{d.delivery}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )
      }
    </Async>
  );
}

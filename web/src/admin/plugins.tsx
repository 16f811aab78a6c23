// The plugin console. For each slot: the version serving the platform default and each
// institution (its own choice, or the platform default it follows), the rollback target
// (standby) of each, and every installed version with its circuit breaker and live call
// statistics (calls, errors, faults, p50/p99, fuel), refreshed every few seconds without a
// reload (pausable: WCAG 2.2.2). Then the verified marketplace catalogue, and the steps that
// change what runs: install (after reviewing and granting what the package requests), activate
// (a hot swap: calls in flight finish on the version they started on), roll back, go back to
// the platform default, uninstall. Each is a confirmation dialog that says what changes and for
// whom. Revocation alerts come first, as an alert.
//
// Everything here is GET/POST /api/v1/plugins…, /api/v1/marketplace…; the same statistics are
// on /metrics for Prometheus.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { ErrorBox, Loading, announce, describeError, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, formatNumber, locale, t, tp } from '../i18n';
import { ScrollTable } from '../pages/student_shared';
import { useSession } from '../session';
import { type Alert, RevocationAlerts, loadAlerts } from './alerts';
import {
  AdminPage,
  CapabilityList,
  ConfirmDialog,
  type Institution,
  Outcome,
  formatBytes,
  formatMicros,
  listInstitutions,
  useCaps,
  useConfirm,
} from './shared';

type Plugin = Schemas['Plugin'];
type Catalogue = Schemas['Catalogue'];
type Entry = Schemas['CatalogueEntry'];
type Version = Schemas['CatalogueVersion'];
type Capabilities = Schemas['Capabilities'];

/** How often the statistics are read again. */
export const POLL_MS = 3000;

/** The slots the kernel has (a plugin of another slot would still be listed under its own). */
const SLOTS = ['content', 'grading', 'proctoring', 'tutoring'];
const SLOT_KEYS: Record<string, MessageKey> = {
  content: 'ad_slot_content',
  grading: 'ad_slot_grading',
  proctoring: 'ad_slot_proctoring',
  tutoring: 'ad_slot_tutoring',
};
const slotName = (slot: string) => (SLOT_KEYS[slot] ? t(SLOT_KEYS[slot]!) : slot);

/** Where a version serves: `platform` (the default) or an institution id. */
type Scope = string;
const PLATFORM: Scope = 'platform';

/** What the console knows about one slot in one scope. */
interface Serving {
  active?: Plugin;
  standby?: Plugin;
  /** For an institution: whether it has its own choice (else it follows the platform default). */
  own: boolean;
}

function serving(plugins: Plugin[], slot: string, scope: Scope): Serving {
  const of = plugins.filter((p) => p.slot === slot);
  const own = of.find((p) => p.active_in.includes(scope));
  const standby = of.find((p) => p.standby_in.includes(scope));
  if (own || scope === PLATFORM) return { active: own, standby, own: own !== undefined };
  return { active: of.find((p) => p.active_in.includes(PLATFORM)), standby, own: false };
}


/** Follows an install job until it ends; its result, or its problem thrown as an ApiError. */
async function followInstall(job: string) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const j = await call(api.GET('/api/v1/plugins/install-jobs/{job}', { params: { path: { job } } }));
    if (j.state === 'succeeded' && j.result) return j.result;
    if (j.state === 'failed') throw new ApiError(j.problem?.status ?? 500, (j.problem ?? {}) as ApiError['problem']);
  }
}

export function PluginConsole() {
  const caps = useCaps();
  const { me } = useSession();
  const [plugins, setPlugins] = useState<Plugin[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [updated, setUpdated] = useState<Date | undefined>(undefined);
  const [paused, setPaused] = useState(false);
  const [alerts, setAlerts] = useState<Alert[] | undefined>(undefined);
  const previous = useRef<Map<string, number>>(new Map());
  const [deltas, setDeltas] = useState<Map<string, number>>(new Map());
  const institutions = useLoad<Institution[]>(
    () => (caps.platform ? listInstitutions() : Promise.resolve([me.institution])),
    [caps.platform],
  );
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  // The catalogue is read here: the slots mark installed versions the marketplace revoked.
  const catalogue = useLoad<Catalogue>(() => call(api.GET('/api/v1/marketplace/plugins')), []);

  /** Reads the plugins (and, for platform administrators, the alerts) once. */
  async function refresh() {
    try {
      const [list, al] = await Promise.all([
        call(api.GET('/api/v1/plugins')),
        caps.platform ? loadAlerts() : Promise.resolve(undefined),
      ]);
      // Calls since the previous reading, per version: the "live" part of the statistics.
      const d = new Map<string, number>();
      for (const p of list) {
        const before = previous.current.get(p.key);
        if (before !== undefined) d.set(p.key, Math.max(0, p.stats.calls - before));
        previous.current.set(p.key, p.stats.calls);
      }
      setDeltas(d);
      setPlugins(list);
      if (al) setAlerts(al);
      setLoadError(undefined);
      setUpdated(new Date());
    } catch (e) {
      setLoadError(e);
    }
  }

  useEffect(() => {
    void refresh();
  }, []);

  // The periodic refresh: skipped while the tab is hidden or the user paused it.
  useEffect(() => {
    if (paused) return;
    const timer = window.setInterval(() => {
      if (!document.hidden) void refresh();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [paused]);

  function done(text: string) {
    setOutcome(text);
    announce(text);
    void refresh();
  }

  /** Installed versions that must not be activated again: revoked by the marketplace. */
  const revoked = useMemo(() => {
    const out = new Map<string, string>();
    for (const e of catalogue.data?.plugins ?? []) {
      for (const v of e.versions) if (v.revoked) out.set(`${e.id}@${v.version}`, v.revoked);
    }
    for (const a of alerts ?? []) if (!out.has(a.plugin)) out.set(a.plugin, a.reason);
    return out;
  }, [catalogue.data, alerts]);

  const slots = useMemo(() => {
    const found = new Set([...SLOTS, ...(plugins ?? []).map((p) => p.slot)]);
    return [...found];
  }, [plugins]);

  return (
    <AdminPage console="plugins" title={t('ad_plugins_title')}>
      {caps.platform && alerts && <RevocationAlerts alerts={alerts} />}
      <p>{t('ad_plugins_lead')}</p>
      <div class="row ad-refresh">
        <p class="hint" aria-live="off" data-updated={updated?.getTime()}>
          {updated
            ? t('ad_refreshed_at', { time: updated.toLocaleTimeString(locale()), secs: POLL_MS / 1000 })
            : t('loading')}
          {paused && ` · ${t('ad_refresh_paused')}`}
        </p>
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? t('ad_refresh_resume') : t('ad_refresh_pause')}
        </button>
        <button type="button" onClick={() => void refresh()}>
          {t('ad_refresh_now')}
        </button>
      </div>
      {loadError !== undefined && <ErrorBox error={loadError} onRetry={() => void refresh()} />}
      <Outcome text={outcome} />
      {plugins === undefined || institutions.data === undefined ? (
        institutions.error !== undefined ? (
          <ErrorBox error={institutions.error} onRetry={institutions.reload} />
        ) : (
          <Loading />
        )
      ) : (
        <>
          <nav aria-label={t('ad_slots_nav')} class="ad-jump">
            <ul>
              {slots.map((s) => (
                <li key={s}>
                  <a href={`#slot-${s}`}>{slotName(s)}</a>
                </li>
              ))}
              <li>
                <a href="#marketplace">{t('ad_market_title')}</a>
              </li>
            </ul>
          </nav>
          {slots.map((slot) => (
            <SlotCard
              key={slot}
              slot={slot}
              plugins={plugins}
              deltas={deltas}
              revoked={revoked}
              institutions={institutions.data!}
              onDone={done}
            />
          ))}
          <Marketplace
            plugins={plugins}
            institutions={institutions.data}
            catalogue={catalogue}
            onDone={(text) => {
              catalogue.reload();
              done(text);
            }}
          />
        </>
      )}
    </AdminPage>
  );
}

// ---- One slot ----

type SlotAction =
  | { kind: 'activate'; plugin: Plugin }
  | { kind: 'rollback'; scope: Scope }
  | { kind: 'default'; scope: Scope }
  | { kind: 'uninstall'; plugin: Plugin };

function breakerBadge(state: string): string {
  return state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn';
}

function breakerText(state: string): string {
  return state === 'closed' ? t('ad_breaker_closed') : state === 'open' ? t('ad_breaker_open') : t('ad_breaker_half_open');
}

function SlotCard({
  slot,
  plugins,
  deltas,
  revoked,
  institutions,
  onDone,
}: {
  slot: string;
  plugins: Plugin[];
  deltas: Map<string, number>;
  revoked: Map<string, string>;
  institutions: Institution[];
  onDone: (text: string) => void;
}) {
  const caps = useCaps();
  const { me } = useSession();
  const versions = plugins.filter((p) => p.slot === slot).sort((a, b) => b.installed_at.localeCompare(a.installed_at));
  const platform = serving(plugins, slot, PLATFORM);
  const confirm = useConfirm<SlotAction>();
  // The activation dialog's choice of where: the platform default, or one institution.
  const [scope, setScope] = useState<Scope>(caps.platform ? PLATFORM : me.institution.id);
  const nameOf = (scope: Scope) =>
    scope === PLATFORM ? t('ad_scope_platform') : (institutions.find((i) => i.id === scope || i.slug === scope)?.name ?? scope);
  const h = `slot-${slot}`;

  async function run(a: SlotAction) {
    if (a.kind === 'activate') {
      const body = scope === PLATFORM ? { plugin: a.plugin.key } : { plugin: a.plugin.key, institution: scope };
      const r = await call(api.POST('/api/v1/plugins/slots/{slot}/activate', { params: { path: { slot } }, body }));
      onDone(t('ad_activated', { plugin: r.active, scope: nameOf(scope), previous: r.previous ?? '—', ms: formatNumber(r.took_ms, { maximumFractionDigits: 1 }) }));
    } else if (a.kind === 'rollback') {
      const body = a.scope === PLATFORM ? {} : { institution: a.scope };
      const r = await call(api.POST('/api/v1/plugins/slots/{slot}/rollback', { params: { path: { slot } }, body }));
      onDone(t('ad_rolled_back', { plugin: r.active, scope: nameOf(a.scope), previous: r.previous ?? '—' }));
    } else if (a.kind === 'default') {
      const r = await call(
        api.DELETE('/api/v1/plugins/slots/{slot}/institutions/{institution}', { params: { path: { slot, institution: a.scope } } }),
      );
      onDone(t('ad_default_restored', { scope: nameOf(a.scope), plugin: r.active ?? t('ad_nothing') }));
    } else {
      await call(api.DELETE('/api/v1/plugins/{plugin}', { params: { path: { plugin: a.plugin.key } } }));
      onDone(t('ad_uninstalled', { plugin: a.plugin.key }));
    }
  }

  /** The institutions a change of the platform default reaches: those without their own choice. */
  const followers = institutions.filter((i) => !serving(plugins, slot, i.id).own);
  const owners = institutions.filter((i) => serving(plugins, slot, i.id).own);
  const scopes: Scope[] = caps.platform ? [PLATFORM, ...institutions.map((i) => i.id)] : [me.institution.id];

  /** What a change in `s` does and for whom, in one sentence. */
  function whom(s: Scope): string {
    if (s !== PLATFORM) return t('ad_whom_institution', { institution: nameOf(s) });
    if (!caps.platform) return t('ad_whom_platform_unknown');
    return followers.length === 0
      ? t('ad_whom_platform_none')
      : t('ad_whom_platform', { n: followers.length, names: followers.map((i) => i.name).join(', ') }) +
          (owners.length ? ` ${t('ad_whom_owners', { names: owners.map((i) => i.name).join(', ') })}` : '');
  }

  const p = confirm.pending;
  const currentIn = (s: Scope) => serving(plugins, slot, s).active;
  /**
   * Whether `key` is already the choice made in `s`. An institution that follows the platform
   * default may still choose the same version as its own (it then stops following the default).
   */
  const isChoice = (s: Scope, key: string) => {
    const v = serving(plugins, slot, s);
    return (s === PLATFORM || v.own) && v.active?.key === key;
  };
  return (
    <section id={h} aria-labelledby={`${h}-h`} class="card ad-slot" data-slot={slot}>
      <h2 id={`${h}-h`}>
        {slotName(slot)} <span class="badge">{slot}</span>
      </h2>
      <h3>{t('ad_serving')}</h3>
      <ScrollTable label={t('ad_serving_in', { slot: slotName(slot) })}>
        <table class="ad-serving">
          <thead>
            <tr>
              <th scope="col">{t('ad_scope')}</th>
              <th scope="col">{t('ad_active_version')}</th>
              <th scope="col">{t('ad_standby_version')}</th>
              <th scope="col">{t('ad_actions')}</th>
            </tr>
          </thead>
          <tbody>
            {[PLATFORM, ...institutions.map((i) => i.id)].map((s) => {
              const v = serving(plugins, slot, s);
              const mayAct = s === PLATFORM ? caps.platform : caps.platform || s === me.institution.id;
              return (
                <tr key={s} data-scope={s === PLATFORM ? 'default' : (institutions.find((i) => i.id === s)?.slug ?? s)}>
                  <th scope="row">{nameOf(s)}</th>
                  <td>
                    {v.active ? <code>{v.active.key}</code> : <span class="muted">{t('ad_nothing')}</span>}
                    {s !== PLATFORM && (
                      <span class={`badge ${v.own ? 'warn' : ''}`}>{v.own ? t('ad_own_choice') : t('ad_follows_default')}</span>
                    )}
                  </td>
                  <td>{v.standby ? <code>{v.standby.key}</code> : <span class="muted">{t('ad_none')}</span>}</td>
                  <td class="ad-actions">
                    {mayAct && v.standby && (
                      <button type="button" onClick={() => confirm.ask({ kind: 'rollback', scope: s })}>
                        {t('ad_rollback')}
                        <span class="visually-hidden"> {t('ad_for_scope', { slot: slotName(slot), scope: nameOf(s) })}</span>
                      </button>
                    )}
                    {mayAct && s !== PLATFORM && v.own && (
                      <button type="button" onClick={() => confirm.ask({ kind: 'default', scope: s })}>
                        {t('ad_use_default')}
                        <span class="visually-hidden"> {t('ad_for_scope', { slot: slotName(slot), scope: nameOf(s) })}</span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollTable>

      <h3>{t('ad_versions')}</h3>
      {versions.length === 0 ? (
        <p class="muted">{t('ad_no_versions')}</p>
      ) : (
        <ScrollTable label={t('ad_versions_of', { slot: slotName(slot) })}>
          <table class="ad-versions">
            <thead>
              <tr>
                <th scope="col">{t('ad_version')}</th>
                <th scope="col">{t('ad_status')}</th>
                <th scope="col">{t('ad_breaker')}</th>
                <th scope="col">{t('ad_calls')}</th>
                <th scope="col">{t('ad_errors')}</th>
                <th scope="col">{t('ad_faults')}</th>
                <th scope="col">{t('ad_p50')}</th>
                <th scope="col">{t('ad_p99')}</th>
                <th scope="col">{t('ad_fuel')}</th>
                <th scope="col">{t('ad_actions')}</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const delta = deltas.get(v.key);
                return (
                  <tr key={v.key} data-plugin={v.key}>
                    <th scope="row">
                      <code>{v.key}</code>
                      <span class="hint ad-sub">
                        {t('ad_installed_at', { at: formatDateTime(v.installed_at), size: formatBytes(v.size) })}
                      </span>
                      <details class="ad-details">
                        <summary>{t('ad_grants_and_imports')}</summary>
                        <p class="ad-sub">{t('ad_granted')}</p>
                        <CapabilityList caps={v.grants as Record<string, unknown>} />
                        <p class="ad-sub">{t('ad_imports')}</p>
                        <ul class="ad-imports">
                          {v.imports.map((i) => (
                            <li key={i}>
                              <code>{i}</code>
                            </li>
                          ))}
                        </ul>
                        <p class="ad-sub">
                          {t('ad_sha256')} <code class="ad-id">{v.sha256}</code>
                        </p>
                      </details>
                    </th>
                    <td>
                      <span class={`badge ${v.status === 'active' ? 'ok' : v.status === 'standby' || v.status === 'starting' ? 'warn' : ''}`}>
                        {v.status === 'active'
                          ? t('ad_status_active')
                          : v.status === 'starting'
                            ? t('ad_status_starting')
                            : v.status === 'standby'
                              ? t('ad_status_standby')
                              : t('ad_status_installed')}
                      </span>
                      {revoked.has(v.key) && (
                        <span class="ad-sub">
                          <span class="badge bad">{t('ad_revoked')}</span> {revoked.get(v.key)}
                        </span>
                      )}
                      {v.active_in.length > 0 && (
                        <span class="hint ad-sub">{t('ad_active_in', { scopes: v.active_in.map(nameOf).join(', ') })}</span>
                      )}
                      {v.standby_in.length > 0 && (
                        <span class="hint ad-sub">{t('ad_standby_in', { scopes: v.standby_in.map(nameOf).join(', ') })}</span>
                      )}
                    </td>
                    <td class="ad-breaker" data-state={v.breaker.state}>
                      <span class={`badge ${breakerBadge(v.breaker.state)}`}>{breakerText(v.breaker.state)}</span>
                      {v.breaker.reason && <span class="ad-sub">{t('ad_breaker_reason', { reason: v.breaker.reason })}</span>}
                      {v.breaker.retry_in_ms != null && (
                        <span class="ad-sub">{t('ad_breaker_retry', { secs: formatNumber(v.breaker.retry_in_ms / 1000, { maximumFractionDigits: 1 }) })}</span>
                      )}
                      <span class="hint ad-sub">{tp('ad_breaker_trips', v.breaker.trips)}</span>
                    </td>
                    <td class="ad-num" data-stat="calls">
                      {formatNumber(v.stats.calls)}
                      {delta !== undefined && delta > 0 && <span class="hint ad-sub">{t('ad_calls_delta', { n: delta })}</span>}
                    </td>
                    <td class="ad-num">{formatNumber(v.stats.errors)}</td>
                    <td class="ad-num">{formatNumber(v.stats.faults)}</td>
                    <td class="ad-num">{formatMicros(v.stats.p50_us)}</td>
                    <td class="ad-num">{formatMicros(v.stats.p99_us)}</td>
                    <td class="ad-num">{formatNumber(Number(v.stats.fuel_used))}</td>
                    <td class="ad-actions">
                      {!revoked.has(v.key) && scopes.some((s) => !isChoice(s, v.key)) && (
                        <button
                          type="button"
                          onClick={() => {
                            setScope(scopes.find((s) => !isChoice(s, v.key)) ?? scopes[0]!);
                            confirm.ask({ kind: 'activate', plugin: v });
                          }}
                        >
                          {t('ad_activate')}
                          <span class="visually-hidden"> {v.key}</span>
                        </button>
                      )}
                      {caps.platform && v.status === 'installed' && (
                        <button type="button" onClick={() => confirm.ask({ kind: 'uninstall', plugin: v })}>
                          {t('ad_uninstall')}
                          <span class="visually-hidden"> {v.key}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollTable>
      )}

      <ConfirmDialog
        open={p !== undefined}
        title={
          p?.kind === 'activate'
            ? t('ad_activate_title', { plugin: p.plugin.key })
            : p?.kind === 'rollback'
              ? t('ad_rollback_title', { slot: slotName(slot), scope: nameOf(p.scope) })
              : p?.kind === 'default'
                ? t('ad_default_title', { slot: slotName(slot), scope: nameOf(p.scope) })
                : t('ad_uninstall_title', { plugin: p?.plugin.key ?? '' })
        }
        confirmLabel={
          p?.kind === 'activate'
            ? t('ad_activate')
            : p?.kind === 'rollback'
              ? t('ad_rollback')
              : p?.kind === 'default'
                ? t('ad_use_default')
                : t('ad_uninstall')
        }
        danger={p?.kind === 'uninstall'}
        busy={confirm.busy}
        error={confirm.error}
        ready={p?.kind !== 'activate' || !isChoice(scope, p.plugin.key)}
        onCancel={confirm.cancel}
        onConfirm={() => void confirm.confirm(run)}
      >
        {p?.kind === 'activate' && (
          <>
            {scopes.length > 1 ? (
              <fieldset>
                <legend>{t('ad_activate_where')}</legend>
                {scopes.map((s) => (
                  <label class="choice" key={s}>
                    <input type="radio" name={`scope-${slot}`} value={s} checked={scope === s} onChange={() => setScope(s)} />
                    <span>
                      {nameOf(s)}{' '}
                      <span class="hint">
                        ({currentIn(s) ? t('ad_now_serving', { plugin: currentIn(s)!.key }) : t('ad_nothing')})
                      </span>
                    </span>
                  </label>
                ))}
              </fieldset>
            ) : null}
            <ChangeSummary
              to={p.plugin.key}
              from={currentIn(scope)?.key}
              whom={whom(scope)}
              sameVersion={isChoice(scope, p.plugin.key)}
              pin={scope !== PLATFORM && !isChoice(scope, p.plugin.key) && currentIn(scope)?.key === p.plugin.key ? nameOf(scope) : undefined}
            />
          </>
        )}
        {p?.kind === 'rollback' && (
          <ChangeSummary to={serving(plugins, slot, p.scope).standby?.key ?? ''} from={currentIn(p.scope)?.key} whom={whom(p.scope)} />
        )}
        {p?.kind === 'default' && (
          <ChangeSummary to={platform.active?.key ?? t('ad_nothing')} from={currentIn(p.scope)?.key} whom={whom(p.scope)} />
        )}
        {p?.kind === 'uninstall' && <p>{t('ad_uninstall_effect', { plugin: p.plugin.key })}</p>}
      </ConfirmDialog>
    </section>
  );
}

/** "X replaces Y for whom; calls in flight finish on Y; Y becomes the rollback target." */
function ChangeSummary({
  to,
  from,
  whom,
  sameVersion,
  pin,
}: {
  to: string;
  from?: string;
  whom: string;
  sameVersion?: boolean;
  /** The institution that makes the platform default's version its own choice. */
  pin?: string;
}) {
  if (sameVersion) return <p class="notice warn">{t('ad_already_serving', { plugin: to })}</p>;
  return (
    <div class="ad-change">
      <dl class="ad-facts">
        <dt>{t('ad_change_now')}</dt>
        <dd>
          <code>{from ?? t('ad_nothing')}</code>
        </dd>
        <dt>{t('ad_change_after')}</dt>
        <dd>
          <code>{to}</code>
        </dd>
        <dt>{t('ad_change_for')}</dt>
        <dd>{whom}</dd>
      </dl>
      <p>{pin ? t('ad_change_pin', { plugin: to, institution: pin }) : from ? t('ad_change_inflight', { from }) : t('ad_change_first')}</p>
    </div>
  );
}

// ---- The marketplace ----

/**
 * The grant sent with an install: exactly the capabilities the administrator reviewed, in the
 * kernel's grant shape (so a package whose manifest asks for more than the index listed is
 * refused by the kernel). Outbound hosts the listing names are granted as reviewed; `"*"` (the
 * hosts the administrator chooses) cannot be granted from here, so the install then sends
 * `"requested"` and the kernel refuses it, saying to name the hosts in the grant (over the API).
 * `"requested"` also when the index does not list capabilities, or lists one a grant cannot
 * express: the kernel then checks the manifest's request itself.
 */
function grantFor(entry: Entry): 'requested' | Capabilities {
  const listed = entry.capabilities as Record<string, unknown> | null | undefined;
  if (!listed) return 'requested';
  const grant: Capabilities = {
    clock: false,
    embed: false,
    kv_quota_bytes: null,
    log: false,
    publish: [],
    subscribe: [],
    vector: false,
    outbound_hosts: [],
  };
  const empty = (v: unknown) => v === null || v === undefined || v === false || (Array.isArray(v) && v.length === 0);
  for (const [k, v] of Object.entries(listed)) {
    if (empty(v)) continue;
    switch (k) {
      case 'clock':
      case 'embed':
      case 'vector':
      case 'log':
        grant[k] = true;
        break;
      case 'kv_quota_bytes':
        grant.kv_quota_bytes = Number(v);
        break;
      case 'publish':
      case 'subscribe':
        grant[k] = v as string[];
        break;
      case 'vector_collections':
        // The package names its collections; the kernel's grant is the vector index as a whole.
        grant.vector = true;
        break;
      case 'outbound_hosts':
        if ((v as string[]).includes('*')) return 'requested';
        grant.outbound_hosts = v as string[];
        break;
      default:
        return 'requested';
    }
  }
  return grant;
}

function Marketplace({
  plugins,
  institutions,
  catalogue,
  onDone,
}: {
  plugins: Plugin[];
  institutions: Institution[];
  catalogue: ReturnType<typeof useLoad<Catalogue>>;
  /** After a change: the caller reloads the catalogue and the plugins. */
  onDone: (text: string) => void;
}) {
  const caps = useCaps();
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<unknown>(undefined);
  const install = useConfirm<{ entry: Entry; version: Version }>();
  const [granted, setGranted] = useState(false);
  const [activate, setActivate] = useState(false);

  async function refreshIndex() {
    setRefreshing(true);
    setRefreshError(undefined);
    try {
      const r = await call(api.POST('/api/v1/marketplace/refresh'));
      onDone(t('ad_market_refreshed', { timestamp: r.timestamp_version, targets: r.targets_version }));
    } catch (e) {
      setRefreshError(e);
    } finally {
      setRefreshing(false);
    }
  }

  async function runInstall({ entry, version }: { entry: Entry; version: Version }) {
    const answer = await call(
      api.POST('/api/v1/plugins/install', {
        body: { id: entry.id, version: version.version, grant: grantFor(entry), activate },
      }),
    );
    // A large component can compile past the request's deadline: the install
    // then goes on as a job (202), followed here until it ends.
    const r = 'state' in answer ? await followInstall(answer.id) : answer;
    setGranted(false);
    onDone(
      r.active
        ? t('ad_installed_active', { plugin: r.plugin, publisher: r.publisher, previous: r.previous ?? '—' })
        : t('ad_installed_standby', { plugin: r.plugin, publisher: r.publisher }),
    );
  }

  const notConfigured = catalogue.error instanceof ApiError && catalogue.error.code === 'marketplace-not-configured';
  const pending = install.pending;
  const platformDefault = pending ? serving(plugins, pending.entry.slot, PLATFORM).active : undefined;
  const followers = pending ? institutions.filter((i) => !serving(plugins, pending.entry.slot, i.id).own) : [];

  return (
    <section id="marketplace" aria-labelledby="ad-market-h" class="ad-section ad-market">
      <h2 id="ad-market-h">{t('ad_market_title')}</h2>
      {notConfigured ? (
        <div class="notice" role="status">
          <p>{t('ad_market_not_configured')}</p>
          <p class="hint">{describeError(catalogue.error)}</p>
        </div>
      ) : catalogue.error !== undefined && catalogue.data === undefined ? (
        <ErrorBox error={catalogue.error} onRetry={catalogue.reload} />
      ) : catalogue.data === undefined ? (
        <Loading />
      ) : (
        <>
          <p>{t('ad_market_intro')}</p>
          <dl class="ad-facts">
            <dt>{t('ad_market_kernel')}</dt>
            <dd>
              <code>{catalogue.data.kernel}</code>
            </dd>
            <dt>{t('ad_market_index')}</dt>
            <dd>
              {t('ad_market_index_versions', {
                root: catalogue.data.root_version,
                targets: catalogue.data.targets_version,
                snapshot: catalogue.data.snapshot_version,
                timestamp: catalogue.data.timestamp_version,
              })}
            </dd>
          </dl>
          {caps.platform && (
            <div class="row">
              <button type="button" disabled={refreshing} onClick={() => void refreshIndex()}>
                {refreshing ? t('ad_working') : t('ad_market_refresh')}
              </button>
              <span class="hint">{t('ad_market_refresh_hint')}</span>
            </div>
          )}
          {refreshError !== undefined && <ErrorBox error={refreshError} />}
          {catalogue.data.plugins.length === 0 && <p class="muted">{t('ad_market_empty')}</p>}
          {catalogue.data.plugins.map((entry) => (
            <CatalogueCard
              key={entry.id}
              entry={entry}
              canInstall={caps.platform}
              onInstall={(version) => {
                setGranted(false);
                setActivate(false);
                install.ask({ entry, version });
              }}
            />
          ))}
        </>
      )}
      <ConfirmDialog
        open={pending !== undefined}
        title={t('ad_install_title', { name: pending?.entry.name ?? '', version: pending?.version.version ?? '' })}
        confirmLabel={activate ? t('ad_install_and_activate') : t('ad_install')}
        busy={install.busy}
        error={install.error}
        ready={granted}
        onCancel={install.cancel}
        onConfirm={() => void install.confirm(runInstall)}
      >
        {pending && (
          <>
            <dl class="ad-facts">
              <dt>{t('ad_plugin_id')}</dt>
              <dd>
                <code>
                  {pending.entry.id}@{pending.version.version}
                </code>
              </dd>
              <dt>{t('ad_publisher')}</dt>
              <dd>{pending.entry.publisher}</dd>
              <dt>{t('ad_slot')}</dt>
              <dd>{slotName(pending.entry.slot)}</dd>
              <dt>{t('ad_sha256')}</dt>
              <dd>
                <code class="ad-id">{pending.version.sha256}</code>
              </dd>
              <dt>{t('ad_provenance')}</dt>
              <dd>
                <Provenance v={pending.version} />
              </dd>
            </dl>
            <p>{t('ad_install_checks')}</p>
            <h3>{t('ad_install_requests')}</h3>
            {pending.entry.capabilities == null ? (
              <p class="notice warn">{t('ad_install_caps_unlisted')}</p>
            ) : (
              <>
                <CapabilityList caps={pending.entry.capabilities as Record<string, unknown>} />
                {pending.entry.versions[0]?.version !== pending.version.version && (
                  <p class="hint">{t('ad_install_caps_newest', { newest: pending.entry.versions[0]?.version ?? '' })}</p>
                )}
              </>
            )}
            <label class="choice">
              <input type="checkbox" checked={granted} onChange={(e) => setGranted(e.currentTarget.checked)} />
              <span>{t('ad_install_grant', { plugin: `${pending.entry.id}@${pending.version.version}` })}</span>
            </label>
            <fieldset>
              <legend>{t('ad_install_then')}</legend>
              <label class="choice">
                <input type="radio" name="ad-install-then" checked={!activate} onChange={() => setActivate(false)} />
                <span>{t('ad_install_standby')}</span>
              </label>
              <label class="choice">
                <input type="radio" name="ad-install-then" checked={activate} onChange={() => setActivate(true)} />
                <span>
                  {t('ad_install_activate', { current: platformDefault?.key ?? t('ad_nothing') })}{' '}
                  {followers.length === 0
                    ? t('ad_whom_platform_none')
                    : tp('ad_install_activate_whom', followers.length, { names: followers.map((i) => i.name).join(', ') })}
                </span>
              </label>
            </fieldset>
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}

function CatalogueCard({ entry, canInstall, onInstall }: { entry: Entry; canInstall: boolean; onInstall: (v: Version) => void }) {
  const installed = new Set(entry.installed.map((k) => k.slice(k.lastIndexOf('@') + 1)));
  const h = `market-${entry.id.replace(/[^a-z0-9]/gi, '-')}`;
  return (
    <article class="card ad-entry" aria-labelledby={`${h}-h`} data-plugin-id={entry.id}>
      <h3 id={`${h}-h`}>
        {entry.name} <span class="badge">{slotName(entry.slot)}</span>
      </h3>
      <p>{entry.description}</p>
      <dl class="ad-facts">
        <dt>{t('ad_plugin_id')}</dt>
        <dd>
          <code>{entry.id}</code>
        </dd>
        <dt>{t('ad_publisher')}</dt>
        <dd>{entry.publisher}</dd>
        <dt>{t('ad_license')}</dt>
        <dd>{entry.license}</dd>
        <dt>{t('ad_latest_compatible')}</dt>
        <dd>{entry.latest_compatible ?? t('ad_none')}</dd>
        <dt>{t('ad_installed_versions')}</dt>
        <dd>{entry.installed.length ? entry.installed.join(', ') : t('ad_none')}</dd>
        <dt>{t('ad_requests')}</dt>
        <dd>
          {entry.capabilities == null ? t('ad_install_caps_unlisted_short') : <CapabilityList caps={entry.capabilities as Record<string, unknown>} />}
        </dd>
      </dl>
      <ScrollTable label={t('ad_versions_of', { slot: entry.name })}>
        <table class="ad-catalogue">
          <thead>
            <tr>
              <th scope="col">{t('ad_version')}</th>
              <th scope="col">{t('ad_kernel_range')}</th>
              <th scope="col">{t('ad_marks')}</th>
              <th scope="col">{t('ad_size')}</th>
              <th scope="col">{t('ad_sha256')}</th>
              <th scope="col">{t('ad_provenance')}</th>
              <th scope="col">{t('ad_actions')}</th>
            </tr>
          </thead>
          <tbody>
            {entry.versions.map((v) => {
              const installable = v.compatible && !v.yanked && !v.revoked && !installed.has(v.version);
              return (
                <tr key={v.version} data-version={v.version} class={v.revoked ? 'ad-bad' : undefined}>
                  <th scope="row">{v.version}</th>
                  <td>
                    <code>{v.kernel}</code>{' '}
                    <span class={`badge ${v.compatible ? 'ok' : 'bad'}`}>{v.compatible ? t('ad_compatible') : t('ad_incompatible')}</span>
                  </td>
                  <td>
                    {v.revoked && (
                      <span class="ad-sub">
                        <span class="badge bad">{t('ad_revoked')}</span> {v.revoked}
                      </span>
                    )}
                    {v.yanked && (
                      <span class="ad-sub">
                        <span class="badge warn">{t('ad_yanked')}</span> {v.yanked}
                      </span>
                    )}
                    {installed.has(v.version) && <span class="badge ok">{t('ad_installed')}</span>}
                    {!v.revoked && !v.yanked && !installed.has(v.version) && <span class="muted">—</span>}
                  </td>
                  <td>{formatBytes(v.size)}</td>
                  <td>
                    <code class="ad-id" title={v.sha256}>
                      {v.sha256.slice(0, 12)}…
                    </code>
                  </td>
                  <td>
                    <Provenance v={v} />
                  </td>
                  <td>
                    {canInstall && installable && (
                      <button type="button" onClick={() => onInstall(v)}>
                        {t('ad_install')}
                        <span class="visually-hidden">
                          {' '}
                          {entry.id}@{v.version}
                        </span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollTable>
    </article>
  );
}

/**
 * Where a version says it comes from, as the publisher's signed listing states it: the source
 * repository and commit, and the publisher key that signed the package ("not listed" for
 * listings made before provenance was recorded).
 */
function Provenance({ v }: { v: Schemas['CatalogueVersion'] }) {
  const repo = v.source_repository;
  const known = (x: string | null | undefined): x is string => !!x && x !== 'unknown';
  return (
    <span class="ad-provenance">
      <span class="ad-sub">
        {t('ad_source')}{' '}
        {!known(repo) ? (
          t('ad_not_listed')
        ) : repo.startsWith('https://') ? (
          <a href={repo} rel="noopener noreferrer">
            {repo}
          </a>
        ) : (
          <code>{repo}</code>
        )}
        {known(v.source_commit) && (
          <>
            {' @ '}
            <code title={v.source_commit}>{v.source_commit.slice(0, 12)}</code>
          </>
        )}
      </span>
      <span class="ad-sub">
        {t('ad_signed_by')}{' '}
        {v.publisher_key ? (
          <code class="ad-id" title={v.publisher_key}>
            {v.publisher_key.slice(0, 12)}…
          </code>
        ) : (
          t('ad_not_listed')
        )}
      </span>
    </span>
  );
}

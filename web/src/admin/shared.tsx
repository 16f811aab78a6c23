// What the administrators' consoles share: who may use which console (from the caller's
// capabilities), the consoles' navigation, the institution a platform administrator is working
// on, a confirmation dialog that says what changes and for whom, and a few small helpers.
//
// The pages hide what the API would refuse; the API decides anyway (every call is authorized
// by the server with the caller's role and the token's scopes).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useModal } from '../components/modal';
import { api, call, type Schemas } from '../api/client';
import { PageTitle, describeError } from '../components/ui';
import { type MessageKey, formatNumber, t } from '../i18n';
import { navigate, useLocation } from '../router';
import { useSession } from '../session';

export type Institution = Schemas['Institution'];
export type Capabilities = Schemas['Capabilities'];

/** The consoles, in the order the index and the navigation list them. */
export type ConsoleId = 'people' | 'courses' | 'oauth' | 'plugins' | 'operations' | 'audit';

interface ConsoleInfo {
  id: ConsoleId;
  href: string;
  title: MessageKey;
  intro: MessageKey;
  /** Any one of these capabilities opens the console. */
  needs: string[];
}

export const CONSOLES: ConsoleInfo[] = [
  { id: 'people', href: '/admin/people', title: 'ad_people_title', intro: 'ad_people_intro', needs: ['user:manage'] },
  { id: 'courses', href: '/admin/courses', title: 'ad_courses_title', intro: 'ad_courses_intro', needs: ['course:create', 'course:edit'] },
  { id: 'oauth', href: '/admin/oauth', title: 'ad_oauth_title', intro: 'ad_oauth_intro', needs: ['oauth-client:manage', 'institution:manage'] },
  { id: 'plugins', href: '/admin/plugins', title: 'ad_plugins_title', intro: 'ad_plugins_intro', needs: ['plugin:manage'] },
  { id: 'operations', href: '/admin/operations', title: 'ad_ops_title', intro: 'ad_ops_intro', needs: ['platform:manage', 'institution:manage'] },
  { id: 'audit', href: '/admin/audit', title: 'ad_audit_title', intro: 'ad_audit_intro', needs: ['audit:view'] },
];

/** The caller's institution-wide capabilities, and whether they administer the platform. */
export function useCaps(): { has: (c: string) => boolean; platform: boolean } {
  const { me } = useSession();
  const caps = new Set(me.capabilities);
  return { has: (c) => caps.has(c), platform: caps.has('platform:manage') };
}

export function consolesFor(has: (c: string) => boolean): ConsoleInfo[] {
  return CONSOLES.filter((c) => c.needs.some(has));
}

/**
 * An administration page: the title, the consoles' navigation and the page. A caller without the
 * capability the console needs sees why, not a page of failing requests.
 */
export function AdminPage({ console: id, title, children }: { console?: ConsoleId; title: string; children: ComponentChildren }) {
  const caps = useCaps();
  const consoles = consolesFor(caps.has);
  const allowed = id === undefined ? consoles.length > 0 : consoles.some((c) => c.id === id);
  return (
    <div class="ad-page">
      <nav aria-label={t('ad_nav_label')} class="ad-nav">
        <ul>
          <li>
            <a href="/admin" aria-current={id === undefined ? 'page' : undefined}>
              {t('ad_index_title')}
            </a>
          </li>
          {consoles.map((c) => (
            <li key={c.id}>
              <a href={c.href} aria-current={c.id === id ? 'page' : undefined}>
                {t(c.title)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <PageTitle text={title} />
      {allowed ? (
        children
      ) : (
        <p class="notice error" role="alert">
          {t('ad_not_allowed')}
        </p>
      )}
    </div>
  );
}

/** Every page of a cursor-paged listing (`limit` 500 per request). */
export async function listAll<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** Every institution (platform administrators only: the API refuses others). */
export function listInstitutions(): Promise<Institution[]> {
  return listAll((cursor) =>
    call(api.GET('/api/v1/institutions', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } })),
  );
}

/**
 * The institution a console works on: the caller's own, or for a platform administrator the one
 * chosen in the picker (kept in the address as `?institution=<slug>`, so a reload or a shared link
 * keeps it). Returns the slug and the picker to render (null for everyone else).
 */
export function useTargetInstitution(): { institution: string; name: string; picker: ComponentChildren } {
  const session = useSession();
  const caps = useCaps();
  const loc = useLocation();
  const [all, setAll] = useState<Institution[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    if (!caps.platform) return;
    listInstitutions().then(setAll, setError);
  }, [caps.platform]);
  const own = session.me.institution;
  const wanted = caps.platform ? (loc.query.get('institution') ?? own.slug) : own.slug;
  const chosen = all?.find((i) => i.slug === wanted || i.id === wanted);
  const picker = caps.platform ? (
    <div class="ad-picker">
      <label class="field inline">
        <span>{t('ad_institution')}</span>
        <select
          value={chosen?.slug ?? wanted}
          onChange={(e) => {
            const q = new URLSearchParams(location.search);
            q.set('institution', e.currentTarget.value);
            navigate(`${loc.path}?${q}`, { replace: true });
          }}
        >
          {(all ?? [own]).map((i) => (
            <option key={i.id} value={i.slug}>
              {i.name} ({i.slug})
            </option>
          ))}
        </select>
      </label>
      {error !== undefined && <span class="field-error">{describeError(error)}</span>}
    </div>
  ) : null;
  return { institution: chosen?.slug ?? wanted, name: chosen?.name ?? (wanted === own.slug ? own.name : wanted), picker };
}

/**
 * A confirmation step as a modal <dialog>: the browser keeps the focus inside and closes it with
 * Escape; the focus starts on Cancel (the safe choice) and goes back to the button that opened it.
 * `children` says exactly what will change and for whom.
 */
export function ConfirmDialog(p: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  /** False disables the confirm button (e.g. until a grant is acknowledged). */
  ready?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  const id = useRef(`confirm-${Math.random().toString(36).slice(2, 9)}`).current;
  const ref = useModal({ open: p.open, busy: p.busy, onCancel: p.onCancel, focus: () => cancelRef.current });

  return (
    <dialog ref={ref} class="ad-dialog" aria-labelledby={`${id}-h`} aria-describedby={`${id}-d`}>
      <h2 id={`${id}-h`}>{p.title}</h2>
      <div id={`${id}-d`} class="ad-dialog-body">
        {p.open && p.children}
      </div>
      {p.error !== undefined && (
        <p class="notice error" role="alert">
          {describeError(p.error)}
        </p>
      )}
      <p class="row dialog-buttons">
        <button type="button" ref={cancelRef} onClick={p.onCancel} disabled={p.busy}>
          {t('cancel')}
        </button>
        <button
          type="button"
          class={p.danger ? 'danger' : 'primary'}
          onClick={p.onConfirm}
          disabled={p.busy || p.ready === false}
          aria-busy={p.busy}
        >
          {p.busy ? t('ad_working') : p.confirmLabel}
        </button>
      </p>
    </dialog>
  );
}

/**
 * A pending confirmation: what to run when confirmed, with its busy and error states. `ask`
 * opens the dialog; `confirm` runs the action and closes the dialog once it succeeded.
 */
export function useConfirm<T>() {
  const [pending, setPending] = useState<T | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  return {
    pending,
    busy,
    error,
    ask(v: T) {
      setError(undefined);
      setPending(v);
    },
    cancel() {
      if (!busy) setPending(undefined);
    },
    async confirm(run: (v: T) => Promise<void>) {
      if (pending === undefined) return;
      setBusy(true);
      setError(undefined);
      try {
        await run(pending);
        setPending(undefined);
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    },
  };
}

/** A status line for the result of the last action, announced politely. */
export function Outcome({ text, kind = 'ok' }: { text: string | undefined; kind?: 'ok' | 'warn' | 'error' }) {
  if (!text) return null;
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {text}
    </p>
  );
}

/** A byte count in the locale's units ("1.3 MB"). */
export function formatBytes(n: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return formatNumber(v, { style: 'unit', unit: units[u], unitDisplay: 'short', maximumFractionDigits: 1 });
}

/** Microseconds as milliseconds ("0.69 ms"). */
export function formatMicros(us: number): string {
  return formatNumber(us / 1000, { style: 'unit', unit: 'millisecond', unitDisplay: 'short', maximumFractionDigits: 2 });
}

/**
 * What a set of capabilities allows, one sentence each (an empty list: nothing beyond the
 * plugin's own calls). Keys the page does not know are listed as they are.
 */
export function describeCapabilities(c: Record<string, unknown> | null | undefined): string[] {
  if (!c) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === null || v === false || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    switch (k) {
      case 'log':
        break; // always granted
      case 'kv_quota_bytes':
        out.push(t('ad_cap_kv', { size: formatBytes(Number(v)) }));
        break;
      case 'clock':
        out.push(t('ad_cap_clock'));
        break;
      case 'vector':
        out.push(t('ad_cap_vector'));
        break;
      case 'embed':
        out.push(t('ad_cap_embed'));
        break;
      case 'publish':
        out.push(t('ad_cap_publish', { topics: (v as string[]).join(', ') }));
        break;
      case 'subscribe':
        out.push(t('ad_cap_subscribe', { topics: (v as string[]).join(', ') }));
        break;
      case 'vector_collections':
        out.push(t('ad_cap_vector_collections', { collections: (v as string[]).join(', ') }));
        break;
      case 'outbound_hosts': {
        const hosts = (v as string[]).filter((h) => h !== '*');
        if (hosts.length > 0) out.push(t('ad_cap_outbound', { hosts: hosts.join(', ') }));
        if ((v as string[]).includes('*')) out.push(t('ad_cap_outbound_any'));
        break;
      }
      default:
        out.push(t('ad_cap_other', { name: k, value: typeof v === 'string' ? v : JSON.stringify(v) }));
    }
  }
  return out;
}

/** The list of capabilities, or "nothing beyond its own calls". */
export function CapabilityList({ caps }: { caps: Record<string, unknown> | null | undefined }) {
  const lines = describeCapabilities(caps);
  if (lines.length === 0) return <p>{t('ad_cap_none')}</p>;
  return (
    <ul class="ad-caps">
      {lines.map((l) => (
        <li key={l}>{l}</li>
      ))}
    </ul>
  );
}

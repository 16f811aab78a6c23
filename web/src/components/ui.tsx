// Small shared pieces: loading and error states, page titles, the live region.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { t } from '../i18n';

/** Sets document.title and renders the page's one h1 (focused on navigation for screen readers). */
export function PageTitle({ children, text }: { children?: ComponentChildren; text: string }) {
  useEffect(() => {
    document.title = `${text} · ${t('app_name')}`;
  }, [text]);
  return (
    <h1 id="page-title" tabIndex={-1}>
      {children ?? text}
    </h1>
  );
}

export function Loading() {
  return (
    <p class="muted" role="status">
      {t('loading')}
    </p>
  );
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.offline) return t('error_offline');
    if (e.status === 404) return t('error_not_found');
    if (e.status === 403) return t('error_forbidden');
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="notice error" role="alert">
      <p>
        <strong>{t('error_title')}.</strong> {describeError(error)}
      </p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
}

/** Loads data with `load` and renders it; shows loading and errors (with retry). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | undefined;
  error: unknown;
  reload: () => void;
  set: (v: T) => void;
} {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(undefined);
    load().then(
      (v) => live && setData(v),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1), set: setData };
}

export function Async<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: unknown; reload: () => void };
  children: (data: T) => ComponentChildren;
}) {
  if (state.error !== undefined && state.data === undefined) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}

/** Polite announcements for screen readers (saved states, background results). */
let announceTimer: number | undefined;
export function announce(text: string): void {
  const el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  window.clearTimeout(announceTimer);
  announceTimer = window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

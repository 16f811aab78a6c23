// The marketplace's revocation alerts (platform administrators): an installed plugin version the
// marketplace revoked, why, and what the kernel did (the version it fell back to, or that nothing
// serves the slot now). Shown at the top of /admin and of the plugin console.
import { api, call, type Schemas } from '../api/client';
import { ErrorBox, useLoad } from '../components/ui';
import { formatDateTime, t, tp } from '../i18n';

export type Alert = Schemas['Alert'];

export function loadAlerts(): Promise<Alert[]> {
  return call(api.GET('/api/v1/marketplace/alerts')).then((r) => r.items);
}

/** The alerts as a prominent block; `alerts` when the caller already has them, else loaded here. */
export function RevocationAlerts({ alerts }: { alerts?: Alert[] }) {
  const own = useLoad(() => (alerts ? Promise.resolve(alerts) : loadAlerts()), [alerts]);
  const items = alerts ?? own.data;
  if (own.error !== undefined && !alerts) return <ErrorBox error={own.error} onRetry={own.reload} />;
  if (!items || items.length === 0) return null;
  return (
    <section class="notice error ad-alerts" aria-labelledby="ad-alerts-h" role="alert">
      <h2 id="ad-alerts-h">{tp('ad_alerts_title', items.length)}</h2>
      <ul>
        {items.map((a) => (
          <li key={a.id}>
            <p>
              <strong>{t('ad_alert_revoked', { plugin: a.plugin })}</strong>{' '}
              <time dateTime={a.at}>{formatDateTime(a.at)}</time>
            </p>
            <p>{t('ad_alert_reason', { reason: a.reason })}</p>
            <p>{t('ad_alert_action', { action: a.action })}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

// /admin: the consoles the caller may use, and (for platform administrators) the marketplace's
// revocation alerts, which must not wait for someone to open the plugin console.
import { t } from '../i18n';
import { RevocationAlerts } from './alerts';
import { AdminPage, consolesFor, useCaps } from './shared';

export function AdminIndex() {
  const caps = useCaps();
  const consoles = consolesFor(caps.has);
  return (
    <AdminPage title={t('ad_index_title')}>
      {caps.platform && <RevocationAlerts />}
      <p>{t('ad_index_intro')}</p>
      <ul class="grid plain ad-index">
        {consoles.map((c) => (
          <li key={c.id} class="card">
            <h2>
              <a href={c.href}>{t(c.title)}</a>
            </h2>
            <p>{t(c.intro)}</p>
          </li>
        ))}
      </ul>
    </AdminPage>
  );
}

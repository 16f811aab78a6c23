// The administrators' consoles: people and courses, plugins, operations. Each page shows what
// the caller's capabilities allow (`admin/shared.tsx`); the API authorizes every call anyway.
// A console the caller's role does not include is not mounted at all (it would only make
// requests the API refuses): the page says so instead.
import type { VNode } from 'preact';
import { type MessageKey, t } from '../i18n';
import type { Render } from '../pages/routes';
import { CoursesPage } from './courses';
import { AuditPage } from './audit';
import { AdminIndex } from './index_page';
import { OauthPage } from './oauth';
import { OperationsPage } from './operations';
import { PeoplePage } from './people';
import { PluginConsole } from './plugins';
import { AdminPage, type ConsoleId, consolesFor, useCaps } from './shared';

function Gate({ console: id, title, page }: { console?: ConsoleId; title: MessageKey; page: () => VNode }) {
  const caps = useCaps();
  const consoles = consolesFor(caps.has);
  const allowed = id === undefined ? consoles.length > 0 : consoles.some((c) => c.id === id);
  return allowed ? page() : <AdminPage console={id} title={t(title)}>{null}</AdminPage>;
}

export const adminRoutes: [string, Render][] = [
  ['/admin', () => <Gate title="ad_index_title" page={() => <AdminIndex />} />],
  ['/admin/people', () => <Gate console="people" title="ad_people_title" page={() => <PeoplePage />} />],
  ['/admin/courses', () => <Gate console="courses" title="ad_courses_title" page={() => <CoursesPage />} />],
  ['/admin/oauth', () => <Gate console="oauth" title="ad_oauth_title" page={() => <OauthPage />} />],
  ['/admin/plugins', () => <Gate console="plugins" title="ad_plugins_title" page={() => <PluginConsole />} />],
  ['/admin/operations', () => <Gate console="operations" title="ad_ops_title" page={() => <OperationsPage />} />],
  ['/admin/audit', () => <Gate console="audit" title="ad_audit_title" page={() => <AuditPage />} />],
];

// The student's pages by path (the exam's are in exam/routes.tsx). Pages with parameters are
// keyed by them, so moving from one course or item to another starts the page afresh.
import { CoursePage } from './course';
import { CredentialsPage } from './credentials';
import { Dashboard } from './dashboard';
import { CourseGradesPage, GradesPage } from './grades';
import { ItemPage } from './item';
import { NotificationsPage } from './notifications';
import type { Render } from './routes';

export const studentPages: [string, Render][] = [
  ['/', () => <Dashboard />],
  ['/courses/:course', (p) => <CoursePage key={p.course} course={p.course!} />],
  ['/courses/:course/items/:item', (p) => <ItemPage key={`${p.course}/${p.item}`} course={p.course!} item={p.item!} />],
  ['/courses/:course/grades', (p) => <CourseGradesPage key={p.course} course={p.course!} />],
  ['/grades', () => <GradesPage />],
  ['/credentials', () => <CredentialsPage />],
  ['/notifications', () => <NotificationsPage />],
];

// Every signed-in page, by path. The student's pages (student_routes.tsx) and the exam
// (exam/routes.tsx) are in the main bundle; the instructor's pages (staff/, under /teach) and the
// administrators' (admin/, under /admin) are separate chunks loaded on first use, so a student's
// browser never downloads them. Staff pages check nothing themselves beyond hiding what the API
// would refuse: the API authorizes.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from '../components/ui';
import { examRoutes } from '../exam/routes';
import { addCatalogue } from '../i18n';
import { match } from '../router';
import { NotFound } from './not_found';
import { studentPages } from './student_routes';

export type Render = (params: Record<string, string>, query: URLSearchParams) => VNode;
export type Routes = [string, Render][];

export const studentRoutes: Routes = [...examRoutes, ...studentPages];

/** The areas loaded on demand, by the first segment of their paths. */
const areas: Record<string, () => Promise<Routes>> = {
  teach: () =>
    Promise.all([
      import('../staff/course_routes'),
      import('../staff/grading_routes'),
      import('../i18n/messages/staff_course'),
      import('../i18n/messages/staff_grading'),
    ]).then(([c, g, cm, gm]) => {
      addCatalogue(cm);
      addCatalogue(gm);
      return [...c.staffCourseRoutes, ...g.staffGradingRoutes];
    }),
  admin: () =>
    Promise.all([import('../admin/routes'), import('../i18n/messages/admin')]).then(([r, m]) => {
      addCatalogue(m);
      return r.adminRoutes;
    }),
};
const loaded: Record<string, Routes> = {};

/** The page for `path`: a student page at once, a staff or admin page once its chunk is loaded. */
export function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const area = path.split('/')[1] ?? '';
  const load = areas[area];
  const [routes, setRoutes] = useState<Routes | undefined>(load ? loaded[area] : studentRoutes);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    if (!load) {
      setRoutes(studentRoutes);
      return;
    }
    if (loaded[area]) {
      setRoutes(loaded[area]);
      return;
    }
    let live = true;
    setRoutes(undefined);
    load().then(
      (r) => {
        loaded[area] = r;
        if (live) setRoutes(r);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [area]);
  if (error !== undefined) return <ErrorBox error={error} onRetry={() => location.reload()} />;
  if (!routes) return <Loading />;
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) return render(params, query);
  }
  return <NotFound />;
}

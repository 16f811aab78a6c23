// Every signed-in page, by path: the student's pages (student_routes.tsx), the exam
// (exam/routes.tsx), the instructor's (staff/) and the administrators' (admin/). Pages for staff
// check nothing themselves beyond hiding what the API would refuse: the API authorizes.
import type { VNode } from 'preact';
import { adminRoutes } from '../admin/routes';
import { examRoutes } from '../exam/routes';
import { staffCourseRoutes } from '../staff/course_routes';
import { staffGradingRoutes } from '../staff/grading_routes';
import { studentPages } from './student_routes';

export type Render = (params: Record<string, string>, query: URLSearchParams) => VNode;

export const studentRoutes: [string, Render][] = [
  ...examRoutes,
  ...studentPages,
  ...staffCourseRoutes,
  ...staffGradingRoutes,
  ...adminRoutes,
];

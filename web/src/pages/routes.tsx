// Every signed-in page, by path: the student's pages (student_routes.tsx) and the exam (exam/routes.tsx).
import type { VNode } from 'preact';
import { examRoutes } from '../exam/routes';
import { studentPages } from './student_routes';

export type Render = (params: Record<string, string>, query: URLSearchParams) => VNode;

export const studentRoutes: [string, Render][] = [...examRoutes, ...studentPages];

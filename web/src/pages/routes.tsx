// The student's pages, by path. Each entry renders one page component.
import type { VNode } from 'preact';

type Render = (params: Record<string, string>, query: URLSearchParams) => VNode;

export const studentRoutes: [string, Render][] = [];

// The administrators' consoles: people and courses, plugins, operations.
import type { Render } from '../pages/routes';

export const adminRoutes: [string, Render][] = [];

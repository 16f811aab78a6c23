import type { Render } from '../pages/routes';

export const examRoutes: [string, Render][] = [];

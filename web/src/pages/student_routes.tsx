import type { Render } from './routes';

export const studentPages: [string, Render][] = [];

// The instructor's grading pages: gradebook, manual grading, proctoring review, tutor insights.
import type { Render } from '../pages/routes';

export const staffGradingRoutes: [string, Render][] = [];

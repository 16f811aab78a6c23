// The instructor's grading pages: gradebook, manual grading, proctoring review, tutor insights.
// Each is keyed by its course, so moving to another course starts the page afresh.
import type { Render } from '../pages/routes';
import { GradebookPage } from './gradebook_page';
import { GradingQueuePage } from './grading_queue';
import { InsightsPage } from './insights_page';
import { ProctoringPage } from './proctoring_page';

export const staffGradingRoutes: [string, Render][] = [
  ['/teach/courses/:course/gradebook', (p) => <GradebookPage key={p.course} course={p.course!} />],
  ['/teach/courses/:course/grading', (p) => <GradingQueuePage key={p.course} course={p.course!} />],
  ['/teach/courses/:course/proctoring', (p) => <ProctoringPage key={p.course} course={p.course!} />],
  ['/teach/courses/:course/tutor', (p) => <InsightsPage key={p.course} course={p.course!} />],
];

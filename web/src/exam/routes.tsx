// The exam's pages: an assessment's start page and an attempt (the exam itself, then its
// result). Keyed by their parameters, so moving from one attempt to another starts afresh.
import type { Render } from '../pages/routes';
import { ExamPage } from './exam';
import { StartPage } from './start';

export const examRoutes: [string, Render][] = [
  [
    '/courses/:course/assessments/:assessment',
    (p) => <StartPage key={`${p.course}/${p.assessment}`} course={p.course!} assessment={p.assessment!} />,
  ],
  [
    '/courses/:course/assessments/:assessment/attempts/:attempt',
    (p) => <ExamPage key={p.attempt} course={p.course!} assessment={p.assessment!} attempt={p.attempt!} />,
  ],
];

// The instructor's course-building pages: the courses I teach, the course editor (outline,
// files, completion rule) and its page editor, the quiz builder, and enrolment. Keyed by their
// parameters, so moving from one course or quiz to another starts the page afresh.
import type { Render } from '../pages/routes';
import { CourseEditor } from './course_editor';
import { PageEditor } from './course_page_editor';
import { EnrolmentPage } from './enrol_page';
import { QuizBuilderPage } from './quiz_builder';
import { TeachHome } from './teach_home';

export const staffCourseRoutes: [string, Render][] = [
  ['/teach', () => <TeachHome />],
  ['/teach/courses/:course/edit', (p) => <CourseEditor key={p.course} course={p.course!} />],
  [
    '/teach/courses/:course/edit/pages/:item',
    (p) => <PageEditor key={`${p.course}/${p.item}`} course={p.course!} item={p.item!} />,
  ],
  ['/teach/courses/:course/assessments/new', (p) => <QuizBuilderPage key={`${p.course}/new`} course={p.course!} />],
  [
    '/teach/courses/:course/assessments/:assessment/edit',
    (p) => <QuizBuilderPage key={p.assessment} course={p.course!} assessment={p.assessment!} />,
  ],
  ['/teach/courses/:course/enrolment', (p) => <EnrolmentPage key={p.course} course={p.course!} />],
];

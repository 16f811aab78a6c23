// The instructor's course-building pages: editor, quiz builder, enrolment.
import type { Render } from '../pages/routes';

export const staffCourseRoutes: [string, Render][] = [];

//! What other contexts read of identity. These do no authorization: the
//! calling context has already authorized its own operation (usually through
//! [`Identity::course_context`]).

use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::model::{Course, CourseRole, Enrolment, Institution, User};
use crate::{Identity, keys};

impl Identity {
    /// A user's enrolment in a course, if any.
    pub fn enrolment(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
    ) -> Result<Option<Enrolment>, CoreError> {
        Ok(self.t().enrolments.get(keys::enrolment(inst, course, user))?)
    }

    /// A user's role in a course, if enrolled.
    pub fn enrolment_role(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
    ) -> Result<Option<CourseRole>, CoreError> {
        Ok(self.enrolment(inst, course, user)?.map(|e| e.role))
    }

    /// Every enrolment in a course, in key (user id) order.
    pub fn course_enrolments(&self, inst: InstitutionId, course: CourseId) -> Result<Vec<Enrolment>, CoreError> {
        let mut out = vec![];
        for row in self.t().enrolments.scan_prefix(keys::inst_course(inst, course)) {
            out.push(row?.1);
        }
        Ok(out)
    }

    /// A user by id, if it exists.
    pub fn user(&self, inst: InstitutionId, user: UserId) -> Result<Option<User>, CoreError> {
        Ok(self.t().users.get(keys::inst_user(inst, user))?)
    }

    /// A course by id, if it exists.
    pub fn course(&self, inst: InstitutionId, course: CourseId) -> Result<Option<Course>, CoreError> {
        Ok(self.t().courses.get(keys::inst_course(inst, course))?)
    }

    /// An institution by id, if it exists.
    pub fn institution(&self, inst: InstitutionId) -> Result<Option<Institution>, CoreError> {
        Ok(self.t().institutions.get(inst.bytes())?)
    }
}

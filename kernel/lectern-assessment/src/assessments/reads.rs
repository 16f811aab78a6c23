//! What other contexts read of assessments, without authorization (the
//! calling context has authorized its own operation).

use crate::Assessments;
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};

use super::assessment_key;

impl Assessments {
    /// The title of the course's assessment `id`, if there is one (a
    /// gradebook item set by hand has only its id).
    pub fn assessment_title(
        &self,
        inst: InstitutionId,
        course: CourseId,
        id: &str,
    ) -> Result<Option<String>, CoreError> {
        Ok(self.t().assessments.get(assessment_key(inst, course, id))?.map(|a| a.title))
    }
}

//! What other contexts read of the gradebook, without authorization (the
//! calling context has authorized its own operation).

use std::collections::HashMap;

use crate::Assessments;
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use lectern_domain::events::GradeStatus;

impl Assessments {
    /// A student's graded score per gradebook item in a course, as a fraction
    /// of the item's points (0–1). Items not graded yet (or waiting for a
    /// person, or failed) are absent.
    pub fn learner_scores(
        &self,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<HashMap<String, f64>, CoreError> {
        let prefix = [inst.bytes().as_slice(), course.bytes(), student.bytes()].concat();
        let mut scores = HashMap::new();
        for row in self.t().grades.scan_prefix(&prefix) {
            let (_, g) = row?;
            if g.status == GradeStatus::Graded && g.max_points > 0.0 {
                scores.insert(g.item.clone(), (g.points / g.max_points).clamp(0.0, 1.0));
            }
        }
        Ok(scores)
    }
}

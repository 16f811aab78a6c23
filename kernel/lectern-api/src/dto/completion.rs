//! JSON shapes of course completion: the course's rule and a student's
//! completion (the stored `course.completed` event).

use lectern_core::completion::CompletionRule as CoreRule;
use lectern_core::events::CourseCompleted;
use serde::Serialize;
use utoipa::ToSchema;

/// A course's completion rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionRule {
    /// Gradebook items that must all be graded.
    pub required_items: Vec<String>,
    /// Minimum percentage of the required items' points, 0–100.
    pub min_percent: f64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<CoreRule> for CompletionRule {
    fn from(r: CoreRule) -> Self {
        CompletionRule { required_items: r.required_items, min_percent: r.min_percent, updated_at: r.updated_at }
    }
}

/// A student's completion of a course: recorded once, when the rule was first met.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completion {
    pub institution: String,
    pub course: String,
    pub student: String,
    /// The required items' score when the rule was met.
    pub percent: f64,
    /// Unix seconds.
    pub completed_at: i64,
}

impl From<CourseCompleted> for Completion {
    fn from(c: CourseCompleted) -> Self {
        Completion {
            institution: c.institution.to_string(),
            course: c.course.to_string(),
            student: c.student.to_string(),
            percent: c.percent,
            completed_at: c.completed_at,
        }
    }
}

//! JSON shapes of grading by hand: the queue of questions that wait for a
//! person, and a grade given with the rubric.

use std::collections::BTreeMap;

use lectern_core::gradebook::manual::{ManualGrade as CoreGrade, QueueEntry as CoreEntry};
use serde::Serialize;
use utoipa::ToSchema;

use super::answer_keys::{AnswerResponse, RubricCriterion};

/// A person's grade for one question of one attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManualGrade {
    pub institution: String,
    pub course: String,
    /// The gradebook item (assessment id).
    pub item: String,
    pub student: String,
    pub attempt: String,
    pub question: String,
    /// Points per rubric criterion id.
    pub criteria: BTreeMap<String, f64>,
    pub comment: String,
    /// The rubric the grade was given against (a changed rubric voids it).
    pub rubric: Vec<RubricCriterion>,
    /// The question's points: the criteria's sum, scaled to the question's worth.
    pub points: f64,
    pub max_points: f64,
    /// `user:<id>` or `client:<id>`.
    pub by: String,
    /// Unix seconds.
    pub at: i64,
    /// 1 for the first grade; send the version you saw to change it (also the `ETag`).
    pub version: u32,
}

impl From<CoreGrade> for ManualGrade {
    fn from(m: CoreGrade) -> Self {
        ManualGrade {
            institution: m.institution.to_string(),
            course: m.course.to_string(),
            item: m.item,
            student: m.student.to_string(),
            attempt: m.attempt,
            question: m.question,
            criteria: m.criteria,
            comment: m.comment,
            rubric: m.rubric.into_iter().map(Into::into).collect(),
            points: m.points,
            max_points: m.max_points,
            by: m.by,
            at: m.at,
            version: m.version,
        }
    }
}

/// A question waiting for a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    pub student: String,
    pub attempt: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub question_id: String,
    pub prompt: String,
    /// The essay text, for an essay.
    pub essay: Option<String>,
    /// The stored response, whatever its kind.
    pub response: Option<AnswerResponse>,
    pub rubric: Vec<RubricCriterion>,
    pub max_points: f64,
    /// The grader's explanation (why it waits).
    pub explanation: Vec<String>,
    /// The version to send with the grade (0: never graded by a person).
    pub version: u32,
}

impl From<CoreEntry> for QueueEntry {
    fn from(e: CoreEntry) -> Self {
        QueueEntry {
            student: e.student.to_string(),
            attempt: e.attempt,
            submitted_at: e.submitted_at,
            question_id: e.question_id,
            prompt: e.prompt,
            essay: e.essay,
            response: e.response.map(Into::into),
            rubric: e.rubric.into_iter().map(Into::into).collect(),
            max_points: e.max_points,
            explanation: e.explanation,
            version: e.version,
        }
    }
}

/// Every question of an assessment that waits for a person, oldest submission first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManualQueue {
    pub items: Vec<QueueEntry>,
}

impl From<Vec<CoreEntry>> for ManualQueue {
    fn from(items: Vec<CoreEntry>) -> Self {
        ManualQueue { items: items.into_iter().map(Into::into).collect() }
    }
}

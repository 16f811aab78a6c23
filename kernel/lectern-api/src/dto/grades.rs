//! JSON shapes of the gradebook: grades with their history and attempts,
//! the course table (columns, categories, one row per student), and the
//! grading method of an assessment.

use std::collections::BTreeMap;

use lectern_core::assessments::GradingMethod as CoreMethod;
use lectern_core::gradebook::attempts::{AttemptResult as CoreAttemptResult, GradeView};
use lectern_core::gradebook::totals as t;
use lectern_core::gradebook::{self as g, GradeStatus as CoreStatus};
use lectern_host::slots::grading::Status;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which of a student's attempts make an assessment's grade.
/// `highest` (the default): the best attempt by percentage, the earliest of
/// equals; `last`; `first`; `average`: the mean percentage of all attempts,
/// applied to the latest attempt's worth. While an attempt the method looks
/// at (the first or last one; any, for `highest` and `average`) waits for a
/// person or failed, so does the grade, and it does not count in totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradingMethod {
    #[default]
    Highest,
    Last,
    First,
    Average,
}

impl From<CoreMethod> for GradingMethod {
    fn from(m: CoreMethod) -> Self {
        match m {
            CoreMethod::Highest => Self::Highest,
            CoreMethod::Last => Self::Last,
            CoreMethod::First => Self::First,
            CoreMethod::Average => Self::Average,
        }
    }
}

impl From<GradingMethod> for CoreMethod {
    fn from(m: GradingMethod) -> Self {
        match m {
            GradingMethod::Highest => Self::Highest,
            GradingMethod::Last => Self::Last,
            GradingMethod::First => Self::First,
            GradingMethod::Average => Self::Average,
        }
    }
}

/// `graded`; `needs_manual_grading` (points so far are partial); `grading_failed` (see `error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradeStatus {
    Graded,
    NeedsManualGrading,
    GradingFailed,
}

impl From<CoreStatus> for GradeStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Graded => Self::Graded,
            CoreStatus::NeedsManualGrading => Self::NeedsManualGrading,
            CoreStatus::GradingFailed => Self::GradingFailed,
        }
    }
}

/// A question's result: `graded`, `needs_manual_grading` (an essay, or a key
/// the grader could not apply), or `invalid_response`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Graded,
    NeedsManualGrading,
    InvalidResponse,
}

impl From<Status> for QuestionStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Graded => Self::Graded,
            Status::NeedsManualGrading => Self::NeedsManualGrading,
            Status::InvalidResponse => Self::InvalidResponse,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionResult {
    pub question_id: String,
    pub status: QuestionStatus,
    pub points: f64,
    pub max_points: f64,
    pub feedback: Vec<String>,
    pub explanation: Vec<String>,
}

impl From<g::QuestionResult> for QuestionResult {
    fn from(q: g::QuestionResult) -> Self {
        QuestionResult {
            status: q.status().into(),
            question_id: q.question_id,
            points: q.points,
            max_points: q.max_points,
            feedback: q.feedback,
            explanation: q.explanation,
        }
    }
}

/// One change of a grade.
#[derive(Debug, Serialize, ToSchema)]
pub struct GradeChange {
    /// Unix seconds.
    pub at: i64,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    /// `plugin:<id>@<version>`, `user:<id>`, `client:<id>` or `kernel:…`.
    pub by: String,
    pub reason: String,
}

/// One graded attempt of the student.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptGrade {
    pub attempt: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    /// Whether the grading method counts this attempt in the grade.
    pub counts: bool,
}

impl From<(CoreAttemptResult, bool)> for AttemptGrade {
    fn from((r, counts): (CoreAttemptResult, bool)) -> Self {
        AttemptGrade {
            attempt: r.attempt,
            submitted_at: r.submitted_at,
            points: r.points,
            max_points: r.max_points,
            status: r.status.into(),
            counts,
        }
    }
}

/// One attempt's result: its points and each question's.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResult {
    pub attempt: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    pub questions: Vec<QuestionResult>,
    /// Why automatic grading failed, when it did.
    pub error: Option<String>,
}

impl From<CoreAttemptResult> for AttemptResult {
    fn from(r: CoreAttemptResult) -> Self {
        AttemptResult {
            attempt: r.attempt,
            submitted_at: r.submitted_at,
            points: r.points,
            max_points: r.max_points,
            status: r.status.into(),
            questions: r.questions.into_iter().map(Into::into).collect(),
            error: r.error,
        }
    }
}

/// A student's grade for one item, with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct Grade {
    pub institution: String,
    pub course: String,
    /// The gradebook item: an assessment id, or any id a grade was set under by hand.
    pub item: String,
    pub student: String,
    /// The attempt whose result is the grade (absent for `average`, and for grades only ever set by hand).
    pub attempt: Option<String>,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    /// The counted attempt's questions (none for `average`).
    pub questions: Vec<QuestionResult>,
    pub error: Option<String>,
    pub graded_by: String,
    pub revision: u32,
    /// Unix seconds.
    pub updated_at: i64,
    pub history: Vec<GradeChange>,
    /// The assessment's grading method; absent for items that are not assessments.
    pub grading_method: Option<GradingMethod>,
    /// Every graded attempt, oldest first.
    pub attempts: Vec<AttemptGrade>,
}

impl From<GradeView> for Grade {
    fn from(v: GradeView) -> Self {
        let e = v.entry;
        Grade {
            institution: e.institution.to_string(),
            course: e.course.to_string(),
            item: e.item,
            student: e.student.to_string(),
            attempt: e.attempt,
            points: e.points,
            max_points: e.max_points,
            status: e.status.into(),
            questions: e.questions.into_iter().map(Into::into).collect(),
            error: e.error,
            graded_by: e.graded_by,
            revision: e.revision,
            updated_at: e.updated_at,
            history: e
                .history
                .into_iter()
                .map(|h| GradeChange {
                    at: h.at,
                    points: h.points,
                    max_points: h.max_points,
                    status: h.status.into(),
                    by: h.by,
                    reason: h.reason,
                })
                .collect(),
            grading_method: v.grading_method.map(Into::into),
            attempts: v.attempts.into_iter().map(Into::into).collect(),
        }
    }
}

/// One gradebook column.
#[derive(Debug, Serialize, ToSchema)]
pub struct Column {
    pub item: String,
    /// `Title (id)`: an assessment's title, or an outline item's (an activity,
    /// an item graded by hand); the bare id for anything else.
    pub title: String,
    pub category: Option<String>,
    /// Which attempts make the column's grades; absent for items that are not assessments.
    pub grading_method: Option<GradingMethod>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    pub id: String,
    pub name: String,
    /// Percent of the course total.
    pub weight: f64,
    pub items: Vec<String>,
}

impl From<t::Category> for Category {
    fn from(c: t::Category) -> Self {
        Category { id: c.id, name: c.name, weight: c.weight, items: c.items }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cell {
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTotal {
    pub category: String,
    /// Graded points and their maximum.
    pub points: f64,
    pub max_points: f64,
    /// Absent while nothing in the category is graded.
    pub percent: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudentRow {
    pub student: String,
    pub name: String,
    pub email: String,
    /// By item.
    pub grades: BTreeMap<String, Cell>,
    pub categories: Vec<CategoryTotal>,
    /// Percent; absent while nothing that counts is graded.
    pub total: Option<f64>,
}

/// The course gradebook: every grade (`items`) and the table view.
#[derive(Debug, Serialize, ToSchema)]
pub struct Gradebook {
    pub items: Vec<Grade>,
    pub columns: Vec<Column>,
    pub categories: Vec<Category>,
    pub students: Vec<StudentRow>,
}

impl Gradebook {
    pub fn new(items: Vec<GradeView>, table: t::CourseGradebook) -> Self {
        Gradebook {
            items: items.into_iter().map(Into::into).collect(),
            columns: table
                .columns
                .into_iter()
                .map(|c| Column {
                    item: c.item,
                    title: c.title,
                    category: c.category,
                    grading_method: c.grading_method.map(Into::into),
                })
                .collect(),
            categories: table.categories.into_iter().map(Into::into).collect(),
            students: table
                .students
                .into_iter()
                .map(|s| StudentRow {
                    student: s.student.to_string(),
                    name: s.name,
                    email: s.email,
                    grades: s
                        .grades
                        .into_iter()
                        .map(|(k, c)| (k, Cell { points: c.points, max_points: c.max_points, status: c.status.into() }))
                        .collect(),
                    categories: s
                        .categories
                        .into_iter()
                        .map(|c| CategoryTotal {
                            category: c.category,
                            points: c.points,
                            max_points: c.max_points,
                            percent: c.percent,
                        })
                        .collect(),
                    total: s.total,
                })
                .collect(),
        }
    }
}

/// One student's grades in a course, and where they stand on its completion rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudentGrades {
    pub items: Vec<Grade>,
    /// Null until the student meets the course's completion rule.
    pub completion: Option<super::completion::Completion>,
}

/// A question graded by hand: the grade it changed and the hand grade.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManualGradeResult {
    pub grade: Grade,
    pub manual_grade: super::manual::ManualGrade,
}

/// The course's grade categories (`version` is also the `ETag`; 0 before any were set).
#[derive(Debug, Serialize, ToSchema)]
pub struct GradeCategories {
    pub version: u64,
    pub categories: Vec<Category>,
}

impl From<Option<t::GradeCategories>> for GradeCategories {
    fn from(c: Option<t::GradeCategories>) -> Self {
        match c {
            Some(c) => {
                GradeCategories { version: c.version, categories: c.categories.into_iter().map(Into::into).collect() }
            }
            None => GradeCategories { version: 0, categories: vec![] },
        }
    }
}

/// An item's stored submissions sent to the grader again (`202`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegradeQueued {
    /// Submissions queued for regrading.
    pub queued: usize,
}

/// An assessment's keys changed and its submissions sent to the grader again (`202`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentRegradeQueued {
    /// Submissions queued for regrading.
    pub queued: usize,
    /// The assessment's version with the new keys (also the `ETag`).
    pub assessment_version: u64,
}

//! Bulk imports from a spreadsheet: users into an institution, people into a
//! course. One result per row, in the request's order (see
//! `lectern_identity::bulk` for the semantics).

use lectern_core::bulk::RowOutcome;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{CourseRoleDto, CreateUser, Enrolment, User};
use crate::problem::ApiError;

/// Users to create, one per row, as `POST …/users` takes them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportUsers {
    /// 1–1,000 rows.
    pub rows: Vec<CreateUser>,
    /// Check every row without creating anyone: the preview.
    #[serde(default)]
    pub dry_run: bool,
}

/// One person to enrol: by their email in the institution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRow {
    pub email: String,
    pub role: CourseRoleDto,
}

/// People to enrol, one per row.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportEnrolments {
    /// 1–1,000 rows.
    pub rows: Vec<EnrolmentRow>,
    /// Check every row without enrolling anyone: the preview.
    #[serde(default)]
    pub dry_run: bool,
}

/// Why a row was refused: the problem the single-row endpoint would have returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
}

impl From<ApiError> for RowProblem {
    fn from(e: ApiError) -> Self {
        RowProblem {
            kind: format!("/problems/{}", e.kind.slug),
            title: e.kind.title.to_owned(),
            status: e.status.as_u16(),
            detail: e.detail,
            field: e.extra.get("field").and_then(|f| f.as_str()).map(str::to_owned),
        }
    }
}

/// `created`/`enrolled` (applied), `valid` (a dry run passed) or `failed`.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Applied,
    Valid,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRow {
    /// 1-based, in the request's order.
    pub row: usize,
    pub status: RowStatus,
    pub user: Option<User>,
    pub problem: Option<RowProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentRowResult {
    /// 1-based, in the request's order.
    pub row: usize,
    pub status: RowStatus,
    pub enrolment: Option<Enrolment>,
    pub problem: Option<RowProblem>,
}

/// Per-row results and their counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserImportResult {
    pub dry_run: bool,
    pub applied: usize,
    pub failed: usize,
    pub rows: Vec<UserRow>,
}

/// Per-row results and their counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentImportResult {
    pub dry_run: bool,
    pub applied: usize,
    pub failed: usize,
    pub rows: Vec<EnrolmentRowResult>,
}

/// Splits an outcome into (status, value, problem).
pub fn split<T, U>(o: RowOutcome<T>, f: impl FnOnce(T) -> U) -> (RowStatus, Option<U>, Option<RowProblem>) {
    match o {
        RowOutcome::Done(v) => (RowStatus::Applied, Some(f(v)), None),
        RowOutcome::Valid => (RowStatus::Valid, None, None),
        RowOutcome::Failed(e) => (RowStatus::Failed, None, Some(ApiError::from(e).into())),
    }
}

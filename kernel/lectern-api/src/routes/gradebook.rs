//! Grading by hand, assessment regrades, grade categories and the CSV
//! export. Handlers parse, call one kernel operation, and map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::gradebook::manual::RubricGrade;
use lectern_core::gradebook::totals::Category;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ids;
use crate::AppState;
use crate::dto;
use crate::dto::grades::{AssessmentRegradeQueued, GradeCategories};
use crate::dto::manual::ManualQueue;
use crate::extract::{ApiJson, ApiPath, Auth, if_match};
use crate::problem::ApiResult;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManualGradeBody {
    /// Points per rubric criterion id; every criterion, each within [0, its points].
    pub criteria: BTreeMap<String, f64>,
    /// Feedback for the student (kept with the question's result).
    #[serde(default)]
    pub comment: String,
    /// The `version` the queue (or the last grade) showed for this question; 0 if never graded by hand.
    pub version: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegradeAssessment {
    /// New answer keys by question id, as when creating the assessment.
    pub keys: BTreeMap<String, dto::answer_keys::AnswerKey>,
    /// Why the keys change (kept in every changed grade's history and sent to students).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryBody {
    pub id: String,
    pub name: String,
    /// Percent of the course total; the weights add up to 100.
    pub weight: f64,
    /// Item (assessment) ids in this category; an item is in at most one category.
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetCategories {
    pub categories: Vec<CategoryBody>,
}

/// Every question of an assessment that waits for a person (essays; keys the
/// grader could not apply), with the student's answer and the rubric (graders).
#[utoipa::path(get, path = "/api/v1/assessments/{assessment_id}/manual-queue", tag = "grades",
    params(("assessment_id" = String, Path)),
    responses((status = 200, body = ManualQueue), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn manual_queue(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ManualQueue>> {
    Ok(Json(s.kernel.assessments().manual_queue(&p, &id)?.into()))
}

/// Grades one question by hand with its rubric (`grade:edit`). Send the
/// `version` you loaded: a question graded by someone else since is refused
/// with 412; the same request repeated changes nothing.
#[utoipa::path(put, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/manual-grade", tag = "grades",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path), ("question_id" = String, Path)), request_body = ManualGradeBody,
    responses((status = 200, body = dto::grades::ManualGradeResult), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn manual_grade(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt, question)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<ManualGradeBody>,
) -> ApiResult<Response> {
    let g = RubricGrade { criteria: b.criteria, comment: b.comment, version: b.version };
    let (grade, m) = s.kernel.assessments().grade_by_rubric(&p, &id, &attempt, &question, g).await?;
    let etag = format!("\"{}\"", m.version);
    let body = dto::grades::ManualGradeResult { grade: grade.into(), manual_grade: m.into() };
    Ok(([(header::ETAG, etag)], Json(body)).into_response())
}

/// Changes answer keys and regrades every submission through the grading
/// pipeline (`course:edit` + `grade:edit`). New attempts use the new keys;
/// students whose grade changes are notified; grades given by hand are kept.
/// `If-Match` (the assessment's ETag) is optional.
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/regrade", tag = "grades",
    params(("assessment_id" = String, Path)), request_body = RegradeAssessment,
    responses((status = 202, body = AssessmentRegradeQueued), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn regrade_assessment(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RegradeAssessment>,
) -> ApiResult<Response> {
    let keys = b.keys.into_iter().map(|(q, k)| (q, k.into())).collect();
    let r = s.kernel.assessments().regrade_assessment(&p, &id, &keys, &b.reason, if_match(&headers)?).await?;
    let etag = format!("\"{}\"", r.assessment.version);
    let body = AssessmentRegradeQueued { queued: r.queued, assessment_version: r.assessment.version };
    Ok((StatusCode::ACCEPTED, [(header::ETAG, etag)], Json(body)).into_response())
}

fn categories_response(c: Option<lectern_core::gradebook::totals::GradeCategories>) -> Response {
    let body = GradeCategories::from(c);
    ([(header::ETAG, format!("\"{}\"", body.version))], Json(body)).into_response()
}

/// The course's grade categories: `{id, name, weight, items}`.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/grade-categories", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = GradeCategories), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_categories(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (i, c) = ids(&s, &inst, &course)?;
    Ok(categories_response(s.kernel.assessments().grade_categories(&p, i, c)?))
}

/// Replaces the course's grade categories (`course:edit`). Weights are
/// percents adding up to 100; an item is in at most one category; items in
/// no category do not count towards the course total. `If-Match` is optional.
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/courses/{course_id}/grade-categories", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = SetCategories,
    responses((status = 200, body = GradeCategories), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_categories(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<SetCategories>,
) -> ApiResult<Response> {
    let (i, c) = ids(&s, &inst, &course)?;
    let categories = b
        .categories
        .into_iter()
        .map(|c| Category { id: c.id, name: c.name, weight: c.weight, items: c.items })
        .collect();
    let saved = s.kernel.assessments().set_grade_categories(&p, i, c, categories, if_match(&headers)?).await?;
    Ok(categories_response(Some(saved)))
}

/// The gradebook as CSV (instructors, TAs): one row per student (name, email,
/// id), one column per item (points, empty unless graded), each category's
/// percent and the course total. RFC 4180; cells that a spreadsheet would run
/// as a formula are prefixed with `'`.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/gradebook.csv", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn gradebook_csv(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (i, c) = ids(&s, &inst, &course)?;
    let (name, csv) = s.kernel.gradebook_csv(&p, i, c)?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        (header::CACHE_CONTROL, "no-store".to_string()),
    ];
    Ok((headers, csv).into_response())
}

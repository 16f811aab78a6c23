//! The AI tutor: questions and conversations for students; policy, index
//! status, reindexing and insights for the course's staff. Handlers parse,
//! call one kernel operation, and map the result.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lectern_core::tutor::TutorPolicy;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ids;
use crate::AppState;
use crate::dto;
use crate::dto::tutor::{
    TutorConversation, TutorIndexStatus, TutorInsights, TutorPolicy as PolicyDto, TutorReindexQueued, TutorTurn,
};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::ApiResult;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskBody {
    /// The question, 1–2,000 characters.
    pub question: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyBody {
    /// Students may ask the tutor in this course.
    pub enabled: bool,
    /// Instructors see students' names next to their questions (else `Student n`).
    pub show_names: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InsightsQuery {
    /// Questions listed (most recent first), 1–500; default 100.
    pub limit: Option<usize>,
}

/// Asks the course's tutor. The answer quotes and cites passages of items
/// the caller may open now (`citations[n-1]` is `[n]` in `answer`); with a
/// generator configured the answer is phrased by it from those passages
/// (`generated: true`). `refusal` is set instead when the tutor declines
/// (nothing in the material, an assessment attempt open). 429 with
/// `Retry-After` past the per-student rate limit.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/questions", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = AskBody,
    responses((status = 200, body = TutorTurn), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn ask(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AskBody>,
) -> ApiResult<Json<TutorTurn>> {
    let (i, c) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.tutor().ask_tutor(&p, i, c, &b.question).await?.into()))
}

/// The caller's own conversation with the course's tutor, oldest first.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/conversation", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = TutorConversation), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn conversation(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<TutorConversation>> {
    let (i, c) = ids(&s, &inst, &course)?;
    let turns = s.kernel.tutor().tutor_conversation(&p, i, c)?.into_iter().map(Into::into).collect();
    Ok(Json(TutorConversation { turns }))
}

/// The course's tutor policy.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/policy", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = PolicyDto), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<PolicyDto>> {
    let (i, c) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.tutor().tutor_policy(&p, i, c)?.into()))
}

/// Sets the course's tutor policy (`course:edit`).
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/policy", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = PolicyBody,
    responses((status = 200, body = PolicyDto), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> ApiResult<Json<PolicyDto>> {
    let (i, c) = ids(&s, &inst, &course)?;
    let policy = TutorPolicy { enabled: b.enabled, show_names: b.show_names };
    Ok(Json(s.kernel.tutor().set_tutor_policy(&p, i, c, policy).await?.into()))
}

/// How far the tutor's index of the course is (`course:edit`): pages
/// indexed, passages, and pages waiting or failing, with the error.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/index", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = TutorIndexStatus), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn index_status(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<TutorIndexStatus>> {
    let (i, c) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.tutor().tutor_index_status(&p, i, c)?.into()))
}

/// Indexes every page of the course again, in the background (`course:edit`).
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/index", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 202, body = TutorReindexQueued), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn reindex(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (i, c) = ids(&s, &inst, &course)?;
    s.kernel.tutor().reindex_tutor(&p, i, c).await?;
    Ok((StatusCode::ACCEPTED, Json(TutorReindexQueued { queued: true })).into_response())
}

/// What students ask the tutor and which material it cites (`tutor-insights:view`; OAuth scope `tutor:read`):
/// counts, items by citations, recent questions and the ones the material
/// did not answer. Students appear as `Student n` unless the policy shows names.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/tutor/insights", tag = "tutor",
    params(("institution" = String, Path), ("course_id" = String, Path), InsightsQuery),
    responses((status = 200, body = TutorInsights), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn insights(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<InsightsQuery>,
) -> ApiResult<Json<TutorInsights>> {
    let (i, c) = ids(&s, &inst, &course)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(s.kernel.tutor().tutor_insights(&p, i, c, limit)?.into()))
}

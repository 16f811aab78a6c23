//! Assessments and the exam flow: authoring (staff), starting attempts,
//! saving answers, submitting.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::assessments::proctoring::ClientInfo;
use lectern_core::assessments::{AssessmentUpdate, Removal, StartOutcome};

use super::ids;
use crate::AppState;
use crate::dto::{self, assessments as d};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientIp, if_match};
use crate::problem::{ApiError, ApiResult};

fn with_etag(status: StatusCode, a: lectern_core::assessments::Assessment) -> Response {
    let etag = format!("\"{}\"", a.version);
    (status, [(header::ETAG, etag)], Json(d::Assessment::from(a))).into_response()
}

/// Creates a draft assessment: questions with answer keys, settings.
#[utoipa::path(post, operation_id = "create_assessment", path = "/api/v1/institutions/{institution}/courses/{course_id}/assessments", tag = "assessments",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = d::CreateAssessment,
    responses((status = 201, body = d::Assessment), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::CreateAssessment>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let settings = b.settings.into_core()?;
    let questions = b.questions.into_iter().map(Into::into).collect();
    let a = s.kernel.assessments().create_assessment(&p, i, cid, &b.title, questions, settings).await?;
    Ok(with_etag(StatusCode::CREATED, a))
}

/// The question types plugins offer this institution's authors, with their
/// settings and response schemas (a `plugin` answer key names one).
#[utoipa::path(get, operation_id = "list_question_types", path = "/api/v1/institutions/{institution}/question-types", tag = "assessments",
    params(("institution" = String, Path)),
    responses((status = 200, body = d::QuestionTypeList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn question_types(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<d::QuestionTypeList>> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    let items = s.kernel.assessments().question_types(&p, i)?.into_iter().map(Into::into).collect();
    Ok(Json(d::QuestionTypeList { items }))
}

/// The course's assessments (students see published ones, without questions).
#[utoipa::path(get, operation_id = "list_assessments", path = "/api/v1/institutions/{institution}/courses/{course_id}/assessments", tag = "assessments",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = d::AssessmentList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::AssessmentList>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let items = s.kernel.assessments().list_assessments(&p, i, cid)?.into_iter().map(Into::into).collect();
    Ok(Json(d::AssessmentList { items }))
}

/// An assessment with its answer keys (course staff).
#[utoipa::path(get, operation_id = "get_assessment", path = "/api/v1/assessments/{assessment_id}", tag = "assessments",
    params(("assessment_id" = String, Path)),
    responses((status = 200, body = d::Assessment), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get(State(s): State<AppState>, Auth(p): Auth, ApiPath(id): ApiPath<String>) -> ApiResult<Response> {
    Ok(with_etag(StatusCode::OK, s.kernel.assessments().assessment(&p, &id)?))
}

/// Changes an assessment or publishes it (`"published": true`). Questions are
/// frozen once a student has started; send `If-Match` to avoid lost updates.
#[utoipa::path(patch, operation_id = "update_assessment", path = "/api/v1/assessments/{assessment_id}", tag = "assessments",
    params(("assessment_id" = String, Path)), request_body = d::UpdateAssessment,
    responses((status = 200, body = d::Assessment), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<d::UpdateAssessment>,
) -> ApiResult<Response> {
    let settings = b.settings.map(d::Settings::into_core).transpose()?;
    let questions = b.questions.map(|q| q.into_iter().map(Into::into).collect());
    let update = AssessmentUpdate { title: b.title, questions, settings, published: b.published };
    let a = s.kernel.assessments().update_assessment(&p, &id, update, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, a))
}

/// Deletes an assessment (204) that no student has attempted or been graded
/// on. One with attempts or grades is archived instead (200, with
/// `"outcome": "archived"` and the assessment): its grades stay in the
/// gradebook, no attempt can start, attempts in progress can still be
/// submitted. Draft assessments never appear in the gradebook.
#[utoipa::path(delete, operation_id = "delete_assessment", path = "/api/v1/assessments/{assessment_id}", tag = "assessments",
    params(("assessment_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 200, description = "Archived instead", body = d::AssessmentArchived),
        (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    match s.kernel.assessments().delete_assessment(&p, &id).await? {
        Removal::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        Removal::Archived(a) => {
            let etag = format!("\"{}\"", a.version);
            let body = d::AssessmentArchived { outcome: d::RemovalOutcome::Archived, assessment: (*a).into() };
            Ok(([(header::ETAG, etag)], Json(body)).into_response())
        }
    }
}

/// Starts an attempt (201), or returns the attempt this request already
/// started or one still in progress (200). Send a `client_request_id` (or an
/// `Idempotency-Key` header) so that a retry after a timeout cannot open a second attempt.
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/attempts", tag = "assessments",
    params(("assessment_id" = String, Path)), request_body = d::StartAttempt,
    responses((status = 201, body = d::Attempt), (status = 200, body = d::Attempt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn start(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: Body,
) -> ApiResult<Response> {
    // The body is optional: an empty POST starts without an idempotency key.
    let body = axum::body::to_bytes(body, s.config.max_body_bytes).await.map_err(|_| {
        ApiError::new(&crate::problem::BODY_TOO_LARGE, format!("the body exceeds {} bytes", s.config.max_body_bytes))
    })?;
    let b: d::StartAttempt = if body.iter().all(u8::is_ascii_whitespace) {
        d::StartAttempt::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(&crate::problem::MALFORMED_BODY, format!("the body is not a start request: {e}"))
        })?
    };
    let header_key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::new(&crate::problem::BAD_HEADER, "Idempotency-Key is not ASCII"))?;
    let key = b.client_request_id.or(header_key);
    match s.kernel.assessments().start_attempt(&p, &id, key).await? {
        StartOutcome::Started(v) => {
            let location = format!("/api/v1/assessments/{id}/attempts/{}", v.attempt.id);
            Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(d::Attempt::from(v))).into_response())
        }
        StartOutcome::Existing(v) => Ok(Json(d::Attempt::from(v)).into_response()),
    }
}

/// Starts a preview of the assessment for the course's staff (`course:edit`):
/// an attempt on the real exam page, on a draft or outside the window, that
/// counts against no limit and never reaches the gradebook or the review
/// queue. It is graded by the grading plugin for the previewer; read the
/// result at `…/attempts/{attempt_id}/result`.
#[utoipa::path(post, operation_id = "start_preview", path = "/api/v1/assessments/{assessment_id}/preview", tag = "assessments",
    params(("assessment_id" = String, Path)),
    responses((status = 201, body = d::Attempt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let v = s.kernel.assessments().start_preview(&p, &id).await?;
    let location = format!("/api/v1/assessments/{id}/attempts/{}", v.attempt.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(d::Attempt::from(v))).into_response())
}

/// One attempt's result once graded (404 `result` until then): points,
/// status and each question's points, feedback and explanation. Its student
/// reads it, and so do staff with `grade:view-all`; a preview's previewer
/// reads the preview's.
#[utoipa::path(get, operation_id = "attempt_result", path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/result", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path), d::ResultQuery),
    responses((status = 200, body = dto::grades::AttemptResult), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn attempt_result(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<d::ResultQuery>,
) -> ApiResult<Json<dto::grades::AttemptResult>> {
    if q.wait_secs > 20 {
        return Err(ApiError::new(&crate::problem::VALIDATION, "wait_secs is 0–20").with("field", "wait_secs"));
    }
    // Below the request deadline; grading is asynchronous (the bus), so look every 100 ms.
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(q.wait_secs);
    loop {
        match s.kernel.assessments().attempt_result(&p, &id, &attempt) {
            Err(lectern_core::CoreError::NotFound("result")) if tokio::time::Instant::now() < until => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            r => return Ok(Json(r?.into())),
        }
    }
}

/// The caller's own attempts at the assessment, oldest first: how many are
/// used, and the one in progress to resume.
#[utoipa::path(get, operation_id = "my_attempts", path = "/api/v1/assessments/{assessment_id}/attempts", tag = "assessments",
    params(("assessment_id" = String, Path)),
    responses((status = 200, body = d::MyAttempts), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn my_attempts(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<d::MyAttempts>> {
    let items = s.kernel.assessments().my_attempts(&p, &id)?;
    Ok(Json(d::MyAttempts { items: items.into_iter().map(Into::into).collect() }))
}

/// An attempt: state, time left, questions (no keys) and saved answers.
#[utoipa::path(get, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path)),
    responses((status = 200, body = d::Attempt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_attempt(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::Attempt>> {
    Ok(Json(s.kernel.assessments().get_attempt(&p, &id, &attempt).await?.into()))
}

/// Saves one answer; a 200 means it is on disk. A save whose `version` is not
/// above the saved one is refused (409) and changes nothing.
#[utoipa::path(put, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/answers/{question_id}", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path), ("question_id" = String, Path)), request_body = d::SaveAnswer,
    responses((status = 200, body = d::SavedAnswer), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn save_answer(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt, question)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::SaveAnswer>,
) -> ApiResult<Json<d::SavedAnswer>> {
    Ok(Json(
        s.kernel.assessments().save_answer(&p, &id, &attempt, &question, b.response.into(), b.version).await?.into(),
    ))
}

/// Reveals the question's next hint (each costs the assessment's per-hint penalty).
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/hint", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path), ("question_id" = String, Path)),
    responses((status = 200, body = d::Attempt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn hint(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt, question)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::Attempt>> {
    Ok(Json(s.kernel.assessments().take_hint(&p, &id, &attempt, &question).await?.into()))
}

/// Submits the attempt for grading (repeating it is harmless).
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/submit", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path)),
    responses((status = 200, body = d::Attempt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn submit(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::Attempt>> {
    Ok(Json(s.kernel.assessments().submit_attempt(&p, &id, &attempt).await?.into()))
}

/// Records a batch of integrity signals for the caller's attempt; the server
/// adds the client's address, user agent and session. The batch is durable
/// when this answers; the proctoring plugin scores it right after, off the
/// request (`scored_seq` in the record tells how far scoring got), so a
/// plugin failure or a restart never loses it.
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/signals", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path)), request_body = d::SignalBatch,
    responses((status = 200, body = d::ProctoringState), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn signals(
    State(s): State<AppState>,
    Auth(p): Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::SignalBatch>,
) -> ApiResult<Json<d::ProctoringState>> {
    let session = match &p.kind {
        lectern_core::PrincipalKind::User { session, .. } => session.map(|x| x.to_string()),
        _ => None,
    };
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect());
    let client = ClientInfo { ip: ip.map(|i| i.to_string()), user_agent, session };
    let signals = b.signals.into_iter().map(Into::into).collect();
    let st = s.kernel.assessments().record_signals(&p, &id, &attempt, b.seq, signals, client).await?;
    Ok(Json(st.into()))
}

/// Everything recorded about an attempt's integrity: its student sees it, and so do the course's staff.
#[utoipa::path(get, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/proctoring", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path)),
    responses((status = 200, body = d::ProctoringRecord), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn proctoring_record(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::ProctoringRecord>> {
    Ok(Json(s.kernel.assessments().proctoring_record(&p, &id, &attempt)?.into()))
}

/// The review queue: the course's attempts whose risk score reached their
/// assessment's `flag_threshold` (or that the proctoring plugin itself
/// marked: a `risk-threshold` flag, or `lock`), highest risk first. By
/// default only attempts nobody has reviewed yet (`?reviewed=false`);
/// `?reviewed=true` lists reviewed ones, `?reviewed=all` both. Flags of
/// single rules below the threshold (one `devtools-opened`, two pastes) are
/// evidence on the attempt's record, not a reason to queue it.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/proctoring/flagged", tag = "assessments",
    params(("institution" = String, Path), ("course_id" = String, Path), d::FlaggedQuery),
    responses((status = 200, body = d::FlaggedAttempts), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn flagged(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<d::FlaggedQuery>,
) -> ApiResult<Json<d::FlaggedAttempts>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.assessments().flagged_attempts(&p, i, cid, q.reviewed.into())?.into()))
}

/// Reviews a flagged attempt: `"decision": "dismissed"` (the flags do not
/// indicate misconduct) or `"confirmed"` (upheld), with a comment kept in the
/// attempt's audit trail. A reviewed attempt leaves the default review queue.
#[utoipa::path(post, path = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/proctoring/review", tag = "assessments",
    params(("assessment_id" = String, Path), ("attempt_id" = String, Path)), request_body = d::ReviewRequest,
    responses((status = 200, body = d::ProctoringState), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn review(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, attempt)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::ReviewRequest>,
) -> ApiResult<Json<d::ProctoringState>> {
    Ok(Json(s.kernel.assessments().review_attempt(&p, &id, &attempt, b.decision.into(), &b.comment).await?.into()))
}

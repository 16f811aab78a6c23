//! Grades, completion, credentials, notifications, webhooks and the bus's
//! admin view. Handlers parse, call one kernel operation, and map the result.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::{CourseId, UserId};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::dto;
use crate::dto::bus::{BusTopics, DeadLetterList, Published, Replayed, SubscriptionStats, TopicStats};
use crate::dto::completion::CompletionRule;
use crate::dto::credentials::{CredentialList, MyCredential, RevokedCredential, Verification, VerificationCheck};
use crate::dto::grades::RegradeQueued;
use crate::dto::notifications::{
    CreatedWebhook, Notification, NotificationList, Preferences, Webhook, WebhookDeliveries, WebhookList,
};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, parse_id};
use crate::problem::{ApiError, ApiResult};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetGrade {
    pub points: f64,
    pub max_points: f64,
    /// Why the grade is set or changed (kept in the grade's history).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Regrade {
    /// Corrected answer keys by question id (the same JSON as an assessment's keys and `attempt.submitted`'s).
    #[serde(default)]
    pub changes: std::collections::BTreeMap<String, dto::answer_keys::AnswerKey>,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetCompletionRule {
    /// Gradebook items that must all be graded (1–500): ids of the course's
    /// assessments (the `id` of `POST …/assessments`, which an `assessment`
    /// content item names in its `assessment` field — not the content item's
    /// own id), or of items already graded by hand in this course. Content
    /// items such as pages are not graded and cannot be required. An id that
    /// is none of these is refused (422 `validation`, `field`
    /// `required_items`, the detail naming every such id).
    pub required_items: Vec<String>,
    /// Minimum percentage of the required items' points, 0–100.
    pub min_percent: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revoke {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWebhook {
    pub url: String,
    /// Event kinds: `grade.recorded`, `grading.failed`, `course.completed`, `credential.issued`.
    pub events: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishEvent {
    pub key: String,
    /// The event's JSON payload. Free-form here: each topic has its own
    /// payload (`lectern_core::events`, or a plugin's own), which the
    /// consumers of the topic check, not this endpoint.
    #[schema(value_type = Object)]
    pub payload: Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only unread notifications.
    #[serde(default)]
    pub unread: bool,
    /// At most this many (1–500, default 100).
    pub limit: Option<usize>,
}

fn course_ids(s: &AppState, inst: &str, course: &str) -> ApiResult<(lectern_core::InstitutionId, CourseId)> {
    Ok((s.kernel.identity().resolve_institution(inst)?, parse_id("course_id", course)?))
}

/// The course gradebook: every grade with its history and attempts
/// (`items`), and the table view — `columns` (each assessment's with its
/// `grading_method`), `categories`, and one row per student (`students`) with
/// points per item, category percents and the course total (`total`,
/// percent; ungraded items are excluded until graded). Draft assessments
/// (not published, not archived) are left out everywhere.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/gradebook", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = dto::grades::Gradebook), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn gradebook(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<dto::grades::Gradebook>> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    let table = s.kernel.course_gradebook(&p, i, c)?;
    Ok(Json(dto::grades::Gradebook::new(s.kernel.assessments().gradebook(&p, i, c)?, table)))
}

/// One student's grades in a course (their own, or anyone's for staff), with
/// each attempt and which counts; none of draft assessments.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::grades::StudentGrades), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn student_grades(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, user)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<dto::grades::StudentGrades>> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    let u: UserId = parse_id("user_id", &user)?;
    let completion = s.kernel.assessments().completion(&p, i, c, u)?;
    let items = s.kernel.assessments().student_grades(&p, i, c, u)?.into_iter().map(Into::into).collect();
    Ok(Json(dto::grades::StudentGrades { items, completion: completion.map(Into::into) }))
}

/// Sets a grade by hand (`grade:edit`), with a reason kept in its history.
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades/{item}", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path), ("user_id" = String, Path), ("item" = String, Path)), request_body = SetGrade,
    responses((status = 200, body = dto::grades::Grade), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_grade(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, user, item)): ApiPath<(String, String, String, String)>,
    ApiJson(b): ApiJson<SetGrade>,
) -> ApiResult<Json<dto::grades::Grade>> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    let u: UserId = parse_id("user_id", &user)?;
    let g = s.kernel.assessments().set_grade(&p, i, c, u, &item, b.points, b.max_points, &b.reason).await?;
    Ok(Json(g.into()))
}

/// Regrades every stored submission of an item through the grading pipeline, with corrected keys.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/items/{item}/regrade", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item" = String, Path)), request_body = Regrade,
    responses((status = 202, body = RegradeQueued), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn regrade(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<Regrade>,
) -> ApiResult<Response> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    let changes = b.changes.into_iter().map(|(q, k)| (q, k.into())).collect();
    let queued = s.kernel.assessments().regrade(&p, i, c, &item, &changes, &b.reason).await?;
    Ok((StatusCode::ACCEPTED, Json(RegradeQueued { queued })).into_response())
}

/// The course's completion rule.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/completion-rule", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = CompletionRule), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_completion_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<CompletionRule>> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    let rule = s
        .kernel
        .assessments()
        .completion_rule(&p, i, c)?
        .ok_or(lectern_core::CoreError::NotFound("completion rule"))?;
    Ok(Json(rule.into()))
}

/// Sets the course's completion rule: required items and a minimum score.
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/courses/{course_id}/completion-rule", tag = "grades",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = SetCompletionRule,
    responses((status = 200, body = CompletionRule), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_completion_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<SetCompletionRule>,
) -> ApiResult<Json<CompletionRule>> {
    let (i, c) = course_ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.set_completion_rule(&p, i, c, b.required_items, b.min_percent).await?.into()))
}

/// Verifies a credential: signature, validity dates and revocation (public).
/// The request body is any Open Badges 3.0 / W3C Verifiable Credential: a
/// JSON-LD document defined by those specifications, not by this API, so it
/// is documented as a free-form object (`crate::free_form`).
#[utoipa::path(post, path = "/api/v1/credentials/verify", tag = "credentials",
    request_body(content = Object, description = "A verifiable credential (JSON-LD), e.g. the `credential` of `GET /api/v1/me/credentials`"),
    responses((status = 200, body = Verification), (status = "4XX", body = dto::Problem)))]
pub(crate) async fn verify_credential(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<Value>,
) -> ApiResult<Json<Verification>> {
    if !b.is_object() {
        return Err(ApiError::bad_parameter("body", "a credential is a JSON object"));
    }
    let v = s.kernel.assessments().verify_credential(&b);
    // Not a credential at all is bad input; a credential that fails verification is an answer.
    if let Some(c) = v.checks.iter().find(|c| c.name == "structure" && !c.ok) {
        return Err(ApiError::new(&crate::problem::VALIDATION, format!("not a verifiable credential: {}", c.detail))
            .with("field", "body"));
    }
    // `lectern_credentials::verify::Verification` is not reachable from here
    // (lectern-core does not re-export it), so it is mapped field by field.
    let checks = v
        .checks
        .into_iter()
        .map(|c| VerificationCheck { check: c.name.to_owned(), ok: c.ok, detail: c.detail })
        .collect();
    Ok(Json(Verification { verified: v.verified, checks }))
}

/// The caller's credentials.
#[utoipa::path(get, path = "/api/v1/me/credentials", tag = "credentials",
    responses((status = 200, body = CredentialList), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn my_credentials(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<CredentialList>> {
    let items = s
        .kernel
        .assessments()
        .my_credentials(&p)?
        .into_iter()
        .map(|c| {
            let url = s.kernel.assessments().credential_url(&c.id);
            MyCredential::new(c, url)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(CredentialList { items }))
}

/// Revokes a credential (`institution:manage`); verification then reports it revoked.
#[utoipa::path(post, path = "/api/v1/credentials/{credential_id}/revoke", tag = "credentials",
    params(("credential_id" = String, Path)), request_body = Revoke,
    responses((status = 200, body = RevokedCredential), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn revoke_credential(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<Revoke>,
) -> ApiResult<Json<RevokedCredential>> {
    Ok(Json(s.kernel.assessments().revoke_credential(&p, &id, &b.reason).await?.into()))
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, body = NotificationList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn my_notifications(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<NotificationList>> {
    let items = s.kernel.notifications().my_notifications(&p, q.unread, q.limit.unwrap_or(100))?;
    Ok(Json(NotificationList { items: items.into_iter().map(Into::into).collect() }))
}

/// Marks a notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{notification_id}/read", tag = "notifications",
    params(("notification_id" = String, Path)),
    responses((status = 200, body = Notification), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn mark_read(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Notification>> {
    Ok(Json(s.kernel.notifications().mark_read(&p, &id).await?.into()))
}

/// Marks every unread notification of the caller read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "notifications",
    responses((status = 200, body = dto::notifications::MarkedRead), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn mark_all_read(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<dto::notifications::MarkedRead>> {
    Ok(Json(dto::notifications::MarkedRead { marked: s.kernel.notifications().mark_all_read(&p).await? }))
}

/// The caller's notification preferences by event kind.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "notifications",
    responses((status = 200, body = Preferences), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_preferences(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Preferences>> {
    Ok(Json(s.kernel.notifications().my_preferences(&p)?.into()))
}

/// Replaces the caller's notification preferences: `{"kinds": {"grade.recorded": {"in_app": true, "email": false}}}`.
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "notifications", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_preferences(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<Preferences>,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(s.kernel.notifications().set_my_preferences(&p, b.into()).await?.into()))
}

/// Registers a webhook. The signing secret is in this response only.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/webhooks", tag = "webhooks",
    params(("institution" = String, Path)), request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create_webhook(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<CreateWebhook>,
) -> ApiResult<Response> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    let h = s.kernel.notifications().create_webhook(&p, i, &b.url, b.events).await?;
    let location = format!("/api/v1/institutions/{i}/webhooks/{}", h.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(CreatedWebhook::from(&h))).into_response())
}

/// The institution's webhooks.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/webhooks", tag = "webhooks",
    params(("institution" = String, Path)),
    responses((status = 200, body = WebhookList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list_webhooks(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<WebhookList>> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json(WebhookList { items: s.kernel.notifications().list_webhooks(&p, i)?.iter().map(Into::into).collect() }))
}

/// Deletes a webhook.
#[utoipa::path(delete, path = "/api/v1/institutions/{institution}/webhooks/{webhook_id}", tag = "webhooks",
    params(("institution" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_webhook(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    s.kernel.notifications().delete_webhook(&p, i, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Switches a disabled webhook back on.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/webhooks/{webhook_id}/enable", tag = "webhooks",
    params(("institution" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, body = Webhook), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn enable_webhook(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Webhook>> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json((&s.kernel.notifications().enable_webhook(&p, i, &id).await?).into()))
}

/// A webhook's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("institution" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, body = WebhookDeliveries), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn webhook_deliveries(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<WebhookDeliveries>> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    let items = s.kernel.notifications().webhook_deliveries(&p, i, &id, 100)?.into_iter().map(Into::into).collect();
    Ok(Json(WebhookDeliveries { items }))
}

/// Topics, subscriptions and backlogs (platform administrators).
#[utoipa::path(get, path = "/api/v1/admin/bus/topics", tag = "bus",
    responses((status = 200, body = BusTopics), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn bus_topics(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<BusTopics>> {
    // `lectern_bus::TopicStats` cannot be named here (lectern-api may not
    // depend on lectern-bus, and lectern-core does not re-export it), so it
    // is mapped field by field rather than through a `From` impl.
    let topics = s
        .kernel
        .bus_stats(&p)?
        .into_iter()
        .map(|t| TopicStats {
            topic: t.topic,
            next_offset: t.next_offset,
            stored: t.stored,
            subscriptions: t
                .subscriptions
                .into_iter()
                .map(|x| SubscriptionStats {
                    subscription: x.subscription,
                    cursor: x.cursor,
                    backlog: x.backlog,
                    in_flight: x.in_flight,
                    consumers: x.consumers,
                })
                .collect(),
        })
        .collect();
    Ok(Json(BusTopics {
        backend: s.kernel.bus().backend().to_owned(),
        outbox_pending: s.kernel.outbox_pending(),
        topics,
    }))
}

/// Publishes an event (platform administrators: operations and replays).
#[utoipa::path(post, operation_id = "publish_event", path = "/api/v1/admin/bus/topics/{topic}/messages", tag = "bus",
    params(("topic" = String, Path)), request_body = PublishEvent,
    responses((status = 202, body = Published), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(topic): ApiPath<String>,
    ApiJson(b): ApiJson<PublishEvent>,
) -> ApiResult<Response> {
    // Every topic's payload is an object (kernel events and plugins' own alike).
    if !b.payload.is_object() {
        return Err(lectern_core::CoreError::invalid("payload", "must be a JSON object").into());
    }
    let payload = serde_json::to_vec(&b.payload).map_err(|e| ApiError::bad_parameter("payload", e))?;
    let message_id = s.kernel.publish_event(&p, &topic, &b.key, payload).await?;
    Ok((StatusCode::ACCEPTED, Json(Published { message_id })).into_response())
}

/// Messages that exhausted their retries, with origin and last error.
#[utoipa::path(get, path = "/api/v1/admin/bus/dead-letters", tag = "bus",
    responses((status = 200, body = DeadLetterList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn dead_letters(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<DeadLetterList>> {
    Ok(Json(DeadLetterList { items: s.kernel.dead_letters(&p, 500)?.into_iter().map(Into::into).collect() }))
}

/// Sends a dead letter back to its origin topic.
#[utoipa::path(post, path = "/api/v1/admin/bus/dead-letters/{topic}/{offset}/replay", tag = "bus",
    params(("topic" = String, Path), ("offset" = u64, Path)),
    responses((status = 202, body = Replayed), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn replay(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((topic, offset)): ApiPath<(String, u64)>,
) -> ApiResult<Response> {
    let at = s.kernel.replay_dead_letter(&p, &topic, offset).await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { republished_at_offset: at })).into_response())
}

/// Discards a dead letter.
#[utoipa::path(delete, path = "/api/v1/admin/bus/dead-letters/{topic}/{offset}", tag = "bus",
    params(("topic" = String, Path), ("offset" = u64, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn discard(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((topic, offset)): ApiPath<(String, u64)>,
) -> ApiResult<StatusCode> {
    s.kernel.discard_dead_letter(&p, &topic, offset).await?;
    Ok(StatusCode::NO_CONTENT)
}

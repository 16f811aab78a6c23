use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::model::{CourseRole, CourseState};
use lectern_core::{CourseId, CourseUpdate, NewCourse, UserId};

use crate::AppState;
use crate::dto::{self, PageQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, if_match, parse_id};
use crate::problem::ApiResult;

fn with_etag(c: lectern_core::model::Course, role: Option<CourseRole>) -> Response {
    let etag = format!("\"{}\"", c.version);
    ([(header::ETAG, etag)], Json(dto::Course::new(c, role))).into_response()
}

/// Creates a draft course; the creating user becomes its instructor.
#[utoipa::path(post, operation_id = "create_course", path = "/api/v1/institutions/{institution}/courses", tag = "courses", params(("institution" = String, Path)), request_body = dto::CreateCourse,
    responses((status = 201, body = dto::Course), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<dto::CreateCourse>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let c = s
        .kernel
        .identity()
        .create_course(&p, id, NewCourse { code: b.code, title: b.title, description: b.description })
        .await?;
    let location = format!("/api/v1/institutions/{}/courses/{}", id, c.id);
    let role = p.user_id().map(|_| CourseRole::Instructor);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(dto::Course::new(c, role))).into_response())
}

/// Courses visible to the caller: every course for institution-wide roles,
/// otherwise the caller's enrolments (students never see drafts).
#[utoipa::path(get, operation_id = "list_courses", path = "/api/v1/institutions/{institution}/courses", tag = "courses", params(("institution" = String, Path), PageQuery),
    responses((status = 200, body = dto::CoursePage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<dto::CoursePage>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let page = s.kernel.identity().list_courses(&p, id, &q.into())?;
    Ok(Json(dto::CoursePage {
        items: page.items.into_iter().map(|(c, r)| dto::Course::new(c, r)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One course. The `ETag` is its version.
#[utoipa::path(get, operation_id = "get_course", path = "/api/v1/institutions/{institution}/courses/{course_id}", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = dto::Course), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let (c, role) = s.kernel.identity().get_course(&p, id, cid)?;
    Ok(with_etag(c, role))
}

/// Edits a course. Send `If-Match` to avoid overwriting a concurrent edit.
#[utoipa::path(patch, operation_id = "update_course", path = "/api/v1/institutions/{institution}/courses/{course_id}", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)), request_body = dto::UpdateCourse,
    responses((status = 200, body = dto::Course), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::UpdateCourse>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let version = if_match(&headers)?;
    let c = s
        .kernel
        .identity()
        .update_course(&p, id, cid, CourseUpdate { code: b.code, title: b.title, description: b.description }, version)
        .await?;
    // The caller's role in the course, for `my_role`.
    let role = s.kernel.identity().get_course(&p, id, cid).ok().and_then(|(_, r)| r);
    Ok(with_etag(c, role))
}

/// Deletes a draft course (published courses can only be archived).
#[utoipa::path(delete, operation_id = "delete_course", path = "/api/v1/institutions/{institution}/courses/{course_id}", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    s.kernel.delete_course(&p, id, cid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn transition(
    s: AppState,
    p: lectern_core::Principal,
    inst: String,
    course: String,
    to: CourseState,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let c = s.kernel.identity().set_course_state(&p, id, cid, to).await?;
    let role = s.kernel.identity().get_course(&p, id, cid).ok().and_then(|(_, r)| r);
    Ok(with_etag(c, role))
}

/// Publishes a course: enrolled students can see it.
#[utoipa::path(post, operation_id = "publish_course", path = "/api/v1/institutions/{institution}/courses/{course_id}/publish", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = dto::Course), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    transition(s, p, inst, course, CourseState::Published).await
}

/// Archives a course: read-only for students, no new attempts.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/archive", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = dto::Course), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn archive(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    transition(s, p, inst, course, CourseState::Archived).await
}

/// Enrols a user of the institution in the course.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/enrolments", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path)), request_body = dto::Enrol,
    responses((status = 201, body = dto::Enrolment), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn enrol(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::Enrol>,
) -> ApiResult<(StatusCode, Json<dto::Enrolment>)> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let uid: UserId = parse_id("user_id", &b.user_id).map_err(|e| e.with("field", "user_id"))?;
    let e = s.kernel.identity().enrol(&p, id, cid, uid, b.role.into()).await?;
    Ok((StatusCode::CREATED, Json(dto::Enrolment::new(e, None))))
}

/// Enrols people from a spreadsheet, by email: one result per row (a bad
/// row is reported and the others are enrolled); `dry_run` checks every row
/// without enrolling anyone. At most 1,000 rows a request.
#[utoipa::path(post, operation_id = "import_enrolments", path = "/api/v1/institutions/{institution}/courses/{course_id}/enrolments/import", tag = "courses",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = dto::bulk::ImportEnrolments,
    responses((status = 200, body = dto::bulk::EnrolmentImportResult), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn import_enrolments(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::bulk::ImportEnrolments>,
) -> ApiResult<Json<dto::bulk::EnrolmentImportResult>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let rows =
        b.rows.into_iter().map(|r| lectern_core::bulk::EnrolmentRow { email: r.email, role: r.role.into() }).collect();
    let outcomes = s.kernel.identity().enrol_many(&p, id, cid, rows, b.dry_run).await?;
    let rows: Vec<dto::bulk::EnrolmentRowResult> = outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let (status, enrolment, problem) = dto::bulk::split(o, |(e, u)| dto::Enrolment::new(e, Some(u)));
            dto::bulk::EnrolmentRowResult { row: i + 1, status, enrolment, problem }
        })
        .collect();
    let failed = rows.iter().filter(|r| r.status == dto::bulk::RowStatus::Failed).count();
    let applied = rows.iter().filter(|r| r.status == dto::bulk::RowStatus::Applied).count();
    Ok(Json(dto::bulk::EnrolmentImportResult { dry_run: b.dry_run, applied, failed, rows }))
}

/// The course's enrolments.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/enrolments", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path), PageQuery),
    responses((status = 200, body = dto::EnrolmentPage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list_enrolments(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<dto::EnrolmentPage>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let page = s.kernel.identity().list_enrolments(&p, id, cid, &q.into())?;
    Ok(Json(dto::EnrolmentPage {
        items: page.items.into_iter().map(|(e, u)| dto::Enrolment::new(e, Some(u))).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Changes an enrolled user's course role.
#[utoipa::path(patch, path = "/api/v1/institutions/{institution}/courses/{course_id}/enrolments/{user_id}", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path), ("user_id" = String, Path)), request_body = dto::ChangeRole,
    responses((status = 200, body = dto::Enrolment), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn change_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, user)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<dto::ChangeRole>,
) -> ApiResult<Json<dto::Enrolment>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(Json(dto::Enrolment::new(
        s.kernel.identity().change_enrolment_role(&p, id, cid, uid, b.role.into()).await?,
        None,
    )))
}

/// Removes a user from the course.
#[utoipa::path(delete, path = "/api/v1/institutions/{institution}/courses/{course_id}/enrolments/{user_id}", tag = "courses", params(("institution" = String, Path), ("course_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn unenrol(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, user)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let uid: UserId = parse_id("user_id", &user)?;
    s.kernel.identity().unenrol(&p, id, cid, uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

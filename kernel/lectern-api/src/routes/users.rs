use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::{NewUser, UserId, UserUpdate};

use crate::AppState;
use crate::dto::{self, PageQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, if_match, parse_id};
use crate::problem::ApiResult;

fn with_etag(u: lectern_core::model::User) -> Response {
    let etag = format!("\"{}\"", u.version);
    ([(header::ETAG, etag)], Json(dto::User::from(u))).into_response()
}

/// Creates a user in the institution.
#[utoipa::path(post, operation_id = "create_user", path = "/api/v1/institutions/{institution}/users", tag = "users", params(("institution" = String, Path)), request_body = dto::CreateUser,
    responses((status = 201, body = dto::User), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<dto::CreateUser>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let u = s
        .kernel
        .identity()
        .create_user(
            &p,
            id,
            NewUser {
                email: b.email,
                name: b.name,
                role: b.role.into(),
                platform_admin: b.platform_admin,
                password: b.password,
            },
        )
        .await?;
    let location = format!("/api/v1/institutions/{}/users/{}", id, u.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(dto::User::from(u))).into_response())
}

/// Imports users from a spreadsheet: one result per row (a bad row is
/// reported and the others are created); `dry_run` checks every row without
/// creating anyone. At most 1,000 rows a request.
#[utoipa::path(post, operation_id = "import_users", path = "/api/v1/institutions/{institution}/users/import", tag = "users",
    params(("institution" = String, Path)), request_body = dto::bulk::ImportUsers,
    responses((status = 200, body = dto::bulk::UserImportResult), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn import(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<dto::bulk::ImportUsers>,
) -> ApiResult<Json<dto::bulk::UserImportResult>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let rows = b
        .rows
        .into_iter()
        .map(|r| NewUser {
            email: r.email,
            name: r.name,
            role: r.role.into(),
            platform_admin: r.platform_admin,
            password: r.password,
        })
        .collect();
    let outcomes = s.kernel.identity().import_users(&p, id, rows, b.dry_run).await?;
    let rows: Vec<dto::bulk::UserRow> = outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let (status, user, problem) = dto::bulk::split(o, dto::User::from);
            dto::bulk::UserRow { row: i + 1, status, user, problem }
        })
        .collect();
    let failed = rows.iter().filter(|r| r.status == dto::bulk::RowStatus::Failed).count();
    let applied = rows.iter().filter(|r| r.status == dto::bulk::RowStatus::Applied).count();
    Ok(Json(dto::bulk::UserImportResult { dry_run: b.dry_run, applied, failed, rows }))
}

/// Signs the user out everywhere: every session and the access tokens minted
/// with it end at once, every refresh token is revoked; the account stays
/// active and its password unchanged.
#[utoipa::path(post, operation_id = "reset_user_sessions", path = "/api/v1/institutions/{institution}/users/{user_id}/sessions/reset", tag = "users",
    params(("institution" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::SessionsReset), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn reset_sessions(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
) -> ApiResult<Json<dto::SessionsReset>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(Json(dto::SessionsReset { ended: s.kernel.identity().reset_sessions(&p, id, uid).await? }))
}

/// Lists the institution's users.
#[utoipa::path(get, operation_id = "list_users", path = "/api/v1/institutions/{institution}/users", tag = "users", params(("institution" = String, Path), PageQuery),
    responses((status = 200, body = dto::UserPage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<dto::UserPage>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let page = s.kernel.identity().list_users(&p, id, &q.into())?;
    Ok(Json(dto::UserPage { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor }))
}

/// One user. The `ETag` is the user's version.
#[utoipa::path(get, operation_id = "get_user", path = "/api/v1/institutions/{institution}/users/{user_id}", tag = "users", params(("institution" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::User), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(with_etag(s.kernel.identity().get_user(&p, id, uid)?))
}

/// Updates a user's email, name or role. Send `If-Match` to avoid overwriting a concurrent change.
#[utoipa::path(patch, operation_id = "update_user", path = "/api/v1/institutions/{institution}/users/{user_id}", tag = "users", params(("institution" = String, Path), ("user_id" = String, Path)), request_body = dto::UpdateUser,
    responses((status = 200, body = dto::User), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, user)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::UpdateUser>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    let version = if_match(&headers)?;
    let u = s
        .kernel
        .identity()
        .update_user(
            &p,
            id,
            uid,
            UserUpdate { email: b.email, name: b.name, role: b.role.map(Into::into), locale: b.locale },
            version,
        )
        .await?;
    Ok(with_etag(u))
}

/// Deactivates a user: every session and token of theirs stops working at once.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/users/{user_id}/deactivate", tag = "users", params(("institution" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::User), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn deactivate(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    set_active(s, p, inst, user, false).await
}

/// Reactivates a user.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/users/{user_id}/reactivate", tag = "users", params(("institution" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::User), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn reactivate(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    set_active(s, p, inst, user, true).await
}

async fn set_active(
    s: AppState,
    p: lectern_core::Principal,
    inst: String,
    user: String,
    active: bool,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(with_etag(s.kernel.identity().set_user_active(&p, id, uid, active).await?))
}

/// Sets a user's password (administrative reset); their sessions end.
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/users/{user_id}/password", tag = "users", params(("institution" = String, Path), ("user_id" = String, Path)), request_body = dto::SetPassword,
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::SetPassword>,
) -> ApiResult<StatusCode> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    s.kernel.identity().reset_password(&p, id, uid, b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything Lectern holds about a user (GDPR articles 15 and 20), as one
/// JSON file: needs `privacy:manage` (an administrator; an administrator's
/// data also `user:grant-admin`). Recorded in the audit log.
#[utoipa::path(get, operation_id = "export_person", path = "/api/v1/institutions/{institution}/users/{user_id}/export", tag = "users",
    params(("institution" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = dto::privacy::PersonExport), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn export_person(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    person_export(&s, p, id, uid, false).await
}

/// Everything Lectern holds about the caller (GDPR articles 15 and 20), as one JSON file.
#[utoipa::path(get, operation_id = "export_my_data", path = "/api/v1/me/export", tag = "users",
    responses((status = 200, body = dto::privacy::PersonExport), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn export_my_data(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    let Some(uid) = p.user_id() else {
        return Err(crate::problem::ApiError::new(
            &crate::problem::FORBIDDEN,
            "only a person has personal data to export; a service client has none",
        ));
    };
    let inst = p.institution;
    person_export(&s, p, inst, uid, true).await
}

async fn person_export(
    s: &AppState,
    p: lectern_core::Principal,
    inst: lectern_core::InstitutionId,
    user: UserId,
    self_service: bool,
) -> ApiResult<Response> {
    let k = s.kernel.clone();
    let p2 = p.clone();
    let doc = tokio::task::spawn_blocking(move || k.export_person(&p2, inst, user, self_service))
        .await
        .map_err(|e| lectern_core::CoreError::internal("the export task", e))??;
    s.kernel.audit_person_export(&p, inst, user).await?;
    let disposition = format!("attachment; filename=\"lectern-person-{user}.json\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(dto::privacy::PersonExport::from_value(doc)))
        .into_response())
}

/// Erases a user (GDPR article 17), pseudonymising what the institution
/// must keep: see the report. Needs `privacy:manage` (and `user:grant-admin`
/// for an administrator); `confirm_email` must be the account's address.
/// Irreversible; recorded in the audit log.
#[utoipa::path(post, operation_id = "erase_person", path = "/api/v1/institutions/{institution}/users/{user_id}/erase", tag = "users",
    params(("institution" = String, Path), ("user_id" = String, Path)), request_body = dto::privacy::EraseRequest,
    responses((status = 200, body = dto::privacy::ErasureReport), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn erase_person(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, user)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<dto::privacy::EraseRequest>,
) -> ApiResult<Json<dto::privacy::ErasureReport>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(Json(s.kernel.erase_person(&p, id, uid, &b.confirm_email).await?.into()))
}

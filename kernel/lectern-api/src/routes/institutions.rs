use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::NewInstitution;
use lectern_core::oauth::NewClient;

use crate::AppState;
use crate::dto::{self, PageQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::ApiResult;

/// Creates an institution (tenant) with its own signing key. Platform admins only.
#[utoipa::path(post, operation_id = "create_institution", path = "/api/v1/institutions", tag = "institutions", request_body = dto::CreateInstitution,
    responses((status = 201, body = dto::Institution), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<dto::CreateInstitution>,
) -> ApiResult<Response> {
    let i = s.kernel.identity().create_institution(&p, NewInstitution { slug: b.slug, name: b.name }).await?;
    let location = format!("/api/v1/institutions/{}", i.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(dto::Institution::from(i))).into_response())
}

/// Lists institutions. Platform admins only.
#[utoipa::path(get, operation_id = "list_institutions", path = "/api/v1/institutions", tag = "institutions", params(PageQuery),
    responses((status = 200, body = dto::InstitutionPage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<dto::InstitutionPage>> {
    let page = s.kernel.identity().list_institutions(&p, &q.into())?;
    Ok(Json(dto::InstitutionPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One institution, by id or slug.
#[utoipa::path(get, operation_id = "get_institution", path = "/api/v1/institutions/{institution}", tag = "institutions", params(("institution" = String, Path, description = "id or slug")),
    responses((status = 200, body = dto::Institution), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<dto::Institution>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json(s.kernel.identity().get_institution(&p, id)?.into()))
}

/// Renames an institution.
#[utoipa::path(patch, operation_id = "update_institution", path = "/api/v1/institutions/{institution}", tag = "institutions", params(("institution" = String, Path)), request_body = dto::UpdateInstitution,
    responses((status = 200, body = dto::Institution), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<dto::UpdateInstitution>,
) -> ApiResult<Json<dto::Institution>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json(s.kernel.identity().rename_institution(&p, id, &b.name).await?.into()))
}

/// Rotates the institution's token signing key. The old key stays published
/// until the tokens it signed have expired.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/keys/rotate", tag = "institutions", params(("institution" = String, Path)),
    responses((status = 200, body = dto::RotatedKey), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn rotate_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<dto::RotatedKey>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json(dto::RotatedKey { kid: s.kernel.identity().rotate_signing_key(&p, id).await? }))
}

/// The institution's token signing keys, newest first: the active one,
/// those still verifying the tokens they signed until `retire_at`, and the
/// retired (institution administrators; never a secret).
#[utoipa::path(get, operation_id = "signing_keys", path = "/api/v1/institutions/{institution}/keys", tag = "institutions", params(("institution" = String, Path)),
    responses((status = 200, body = dto::admin::SigningKeys), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn signing_keys(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<dto::admin::SigningKeys>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let items = s.kernel.identity().signing_keys(&p, id)?;
    Ok(Json(dto::admin::SigningKeys {
        items: items.into_iter().map(|k| dto::admin::SigningKey::from_info(k, now)).collect(),
    }))
}

/// Registers an OAuth client. The secret of a confidential client is in this response only.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/oauth-clients", tag = "oauth", params(("institution" = String, Path)), request_body = dto::CreateClient,
    responses((status = 201, body = dto::Client), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn create_client(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiJson(b): ApiJson<dto::CreateClient>,
) -> ApiResult<(StatusCode, Json<dto::Client>)> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let new = NewClient {
        name: b.name,
        confidential: b.confidential,
        redirect_uris: b.redirect_uris,
        grant_types: b.grant_types.into_iter().map(Into::into).collect(),
        scopes: b.scopes,
    };
    let (client, secret) = s.kernel.identity().register_client(&p, id, new).await?;
    Ok((StatusCode::CREATED, Json(dto::Client::new(client, secret))))
}

/// The institution's active OAuth clients.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/oauth-clients", tag = "oauth", params(("institution" = String, Path)),
    responses((status = 200, body = Vec<dto::Client>), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list_clients(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<Vec<dto::Client>>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    Ok(Json(s.kernel.identity().list_clients(&p, id)?.into_iter().map(|c| dto::Client::new(c, None)).collect()))
}

/// Revokes an OAuth client; its tokens stop working immediately.
#[utoipa::path(delete, path = "/api/v1/institutions/{institution}/oauth-clients/{client_id}", tag = "oauth", params(("institution" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn revoke_client(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, client)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    s.kernel.identity().revoke_client(&p, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

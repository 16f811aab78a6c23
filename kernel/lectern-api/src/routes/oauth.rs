//! OAuth 2.0 endpoints. Errors carry RFC 6749's `error` and
//! `error_description` members inside the problem document, so OAuth client
//! libraries and problem-aware clients both understand them.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lectern_core::oauth::{AuthorizeError, AuthorizeRequest, ClientAuth, TokenRequest};
use serde::Deserialize;

use crate::AppState;
use crate::dto;
use crate::extract::{ApiForm, ApiJson, ApiQuery, Auth};
use crate::problem::{self, ApiError, ApiResult};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
}

impl From<AuthorizeQuery> for AuthorizeRequest {
    fn from(q: AuthorizeQuery) -> Self {
        AuthorizeRequest {
            response_type: q.response_type,
            client_id: q.client_id,
            redirect_uri: q.redirect_uri,
            scope: q.scope,
            state: q.state,
            code_challenge: q.code_challenge,
            code_challenge_method: q.code_challenge_method,
            nonce: q.nonce,
        }
    }
}

/// Authorization endpoint (code flow with PKCE S256). Checks the request
/// (client, exact redirect URI, PKCE, scopes), then sends the browser to the
/// consent page of the web application (`/consent`, same query), which
/// signs the user in if needed and asks them; no code is issued without that
/// answer. Errors about the client or redirect URI are shown here and never
/// redirect; the others go back to the client as RFC 6749 errors. A server
/// without the web application (`http.web_root`) has no consent page, so no
/// user can approve a code there.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth", params(AuthorizeQuery),
    responses((status = 303, description = "To the consent page, or back to the client with `error`"), (status = "4XX", body = dto::Problem)))]
pub(crate) async fn authorize(
    State(s): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(q): ApiQuery<AuthorizeQuery>,
) -> ApiResult<Response> {
    match s.kernel.identity().check_authorization(&q.into()) {
        Ok(()) => {}
        Err(AuthorizeError::Redirect(url)) => return Ok(Redirect::to(&url).into_response()),
        Err(AuthorizeError::NoRedirect(e)) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/consent?{}", uri.query().unwrap_or(""))).into_response())
}

/// An authorization error that goes back to the client: a problem whose
/// `redirect_to` the consent page sends the browser to.
fn consent_error(e: AuthorizeError) -> ApiError {
    match e {
        AuthorizeError::NoRedirect(e) => e.into(),
        AuthorizeError::Redirect(url) => {
            let error = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()))
                .unwrap_or_default();
            ApiError::new(
                &problem::OAUTH,
                "the authorization request cannot be granted; send the browser to `redirect_to`",
            )
            .with("error", error)
            .with("redirect_to", url)
        }
    }
}

/// What the consent page asks the signed-in user: the client, the scopes it
/// wants, where the browser goes back to.
#[utoipa::path(get, path = "/api/v1/oauth/consent", tag = "oauth", params(AuthorizeQuery),
    responses((status = 200, body = dto::ConsentPrompt), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn consent_prompt(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AuthorizeQuery>,
) -> ApiResult<Json<dto::ConsentPrompt>> {
    let prompt = s.kernel.identity().authorization_prompt(&p, &q.into()).map_err(consent_error)?;
    Ok(Json(dto::ConsentPrompt {
        client_id: prompt.client_id,
        client_name: prompt.client_name,
        scopes: prompt.scopes,
        redirect_uri: prompt.redirect_uri,
    }))
}

/// The user's answer on the consent page: `approve` issues a code; either way
/// the response says where to send the browser (the client's redirect URI
/// with `code`, or with `error=access_denied`).
#[utoipa::path(post, path = "/api/v1/oauth/consent", tag = "oauth", request_body = dto::ConsentDecision,
    responses((status = 200, body = dto::ConsentResult), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn consent_decide(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<dto::ConsentDecision>,
) -> ApiResult<Json<dto::ConsentResult>> {
    let req = AuthorizeRequest {
        response_type: b.response_type,
        client_id: b.client_id,
        redirect_uri: b.redirect_uri,
        scope: b.scope,
        state: b.state,
        code_challenge: b.code_challenge,
        code_challenge_method: b.code_challenge_method,
        nonce: b.nonce,
    };
    let identity = s.kernel.identity();
    let url = if b.approve { identity.authorize_code(&p, &req) } else { identity.deny_authorization(&p, &req) };
    Ok(Json(dto::ConsentResult { redirect_to: url.map_err(consent_error)? }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Client authentication: HTTP Basic (RFC 6749 §2.3.1) or form fields.
fn client_auth(
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<ClientAuth, ApiError> {
    let invalid = || {
        ApiError::new(&crate::problem::OAUTH, "malformed client authentication")
            .status(StatusCode::UNAUTHORIZED)
            .with("error", "invalid_client")
            .with("error_description", "malformed client authentication")
    };
    if let Some(h) = headers.get(header::AUTHORIZATION) {
        let v = h.to_str().map_err(|_| invalid())?;
        let b64 = v.strip_prefix("Basic ").ok_or_else(invalid)?;
        let raw = STANDARD.decode(b64.trim()).map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let (id, secret) = raw.split_once(':').ok_or_else(invalid)?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Ok(ClientAuth { client_id: dec(id), client_secret: Some(dec(secret)) });
    }
    Ok(ClientAuth { client_id: form_id.ok_or_else(invalid)?, client_secret: form_secret })
}

/// Token endpoint: `authorization_code`, `refresh_token`, `client_credentials`.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth", request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = dto::TokenResponse), (status = "4XX", body = dto::Problem)))]
pub(crate) async fn token(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenForm>,
) -> ApiResult<Response> {
    let client = client_auth(&headers, f.client_id, f.client_secret)?;
    let t = s
        .kernel
        .identity()
        .token(TokenRequest {
            grant_type: f.grant_type,
            client,
            code: f.code,
            redirect_uri: f.redirect_uri,
            code_verifier: f.code_verifier,
            refresh_token: f.refresh_token,
            scope: f.scope,
        })
        .await?;
    let body = dto::TokenResponse {
        access_token: t.access_token,
        token_type: "Bearer",
        expires_in: t.expires_in,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        scope: t.scope,
    };
    Ok(([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(body)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RevokeForm {
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Token revocation (RFC 7009). Revoking a refresh token revokes its grant.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth", request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = "4XX", body = dto::Problem)))]
pub(crate) async fn revoke(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<RevokeForm>,
) -> ApiResult<StatusCode> {
    let _ = f.token_type_hint;
    let client = client_auth(&headers, f.client_id, f.client_secret)?;
    s.kernel.identity().revoke_token(&client, &f.token).await?;
    Ok(StatusCode::OK)
}

/// OpenID Connect UserInfo.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth", responses((status = 200, body = dto::UserInfo), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn userinfo(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<dto::UserInfo>> {
    let u = s.kernel.identity().userinfo(&p)?;
    Ok(Json(dto::UserInfo { sub: u.id.to_string(), email: u.email, name: u.name, tenant: u.institution.to_string() }))
}

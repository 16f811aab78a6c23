use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::authz::{Capability, Context, authorize};
use lectern_core::{LoginRequest, PrincipalKind, SessionId};

use crate::AppState;
use crate::dto::{self, PageQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientIp, parse_id, session_cookie};
use crate::problem::{self, ApiError, ApiResult};

/// Creates the first platform administrator with the one-time bootstrap token
/// that the server printed on its first start.
#[utoipa::path(post, path = "/api/v1/bootstrap", tag = "auth", request_body = dto::Bootstrap,
    responses((status = 201, body = dto::User), (status = "4XX", body = dto::Problem)))]
pub(crate) async fn bootstrap(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<dto::Bootstrap>,
) -> ApiResult<(StatusCode, Json<dto::User>)> {
    let user = s.kernel.identity().redeem_bootstrap(&b.token, b.email, b.name, b.password).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Logs in with institution, email and password. Sets the session cookie and
/// returns a short-lived access token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = dto::Login,
    responses((status = 200, body = dto::LoginResponse), (status = 401, body = dto::Problem), (status = 429, body = dto::Problem)))]
pub(crate) async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(b): ApiJson<dto::Login>,
) -> ApiResult<Response> {
    if let Some(ip) = ip
        && let Err(not_until) = s.login_limiter.check_key(&ip)
    {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        let secs = wait.as_secs().max(1);
        return Err(ApiError::new(
            &problem::THROTTLED,
            format!("too many login attempts from this address; retry in {secs} s"),
        )
        .with("retry_after", secs)
        .header(header::RETRY_AFTER, &secs.to_string()));
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let out = s
        .kernel
        .identity()
        .login(LoginRequest {
            institution: b.institution,
            email: b.email,
            password: b.password,
            ip: ip.map(|i| i.to_string()).unwrap_or_default(),
            user_agent,
        })
        .await?;
    let max_age = out.session.absolute_expires_at - s.kernel.clock().now();
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        s.cookie_name(),
        out.session_secret
    );
    let body = dto::LoginResponse {
        access_token: out.access_token,
        token_type: "Bearer",
        expires_in: out.expires_in,
        session: out.session.into(),
        user: out.user.into(),
    };
    Ok(([(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, "no-store".into())], Json(body)).into_response())
}

/// Renews the access token of a first-party login: authenticated by the
/// session cookie alone (a bearer token cannot renew itself), it returns a
/// fresh token while the session is alive, and counts as activity for the
/// session's idle timeout. Refused (401) once the session was revoked or
/// expired or the user deactivated; send `Lectern-CSRF: 1` (403 without it).
#[utoipa::path(post, operation_id = "refresh_session", path = "/api/v1/auth/refresh", tag = "auth",
    params(("Lectern-CSRF" = String, Header, description = "Any non-empty value, e.g. `1`: proves the request is not a cross-site form post.")),
    responses((status = 200, body = dto::RefreshResponse), (status = 401, body = dto::Problem), (status = 403, body = dto::Problem)),
    security(("session" = [])))]
pub(crate) async fn refresh(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let secret = session_cookie(&headers, s.cookie_name())
        .ok_or_else(|| ApiError::unauthenticated(lectern_core::AuthFailure::Missing))?;
    crate::extract::check_same_site(&s, &headers)?;
    let out = s.kernel.identity().refresh_session_token(secret)?;
    let body = dto::RefreshResponse {
        access_token: out.access_token,
        token_type: "Bearer",
        expires_in: out.expires_in,
        session: out.session.into(),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Ends the current session and clears its cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn logout(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    s.kernel.identity().logout(&p).await?;
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    let clear = format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}", s.cookie_name());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// Who the caller is, in which institution, with which capabilities.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = dto::Me), (status = 401, body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn me(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<dto::Me>> {
    let institution = s.kernel.identity().get_institution(&p, p.institution).or_else(|_| {
        // A narrowly scoped token may lack institution:view; identity is still its own.
        s.kernel.identity().get_institution(&lectern_core::Principal::system(p.institution), p.institution)
    })?;
    let user = match &p.kind {
        PrincipalKind::User { user, .. } => Some(s.kernel.identity().get_user(&p, p.institution, *user)?.into()),
        _ => None,
    };
    let capabilities = Capability::ALL
        .iter()
        .filter(|c| authorize(&p, **c, Context::Institution(p.institution)).is_ok())
        .map(|c| c.name().to_owned())
        .collect();
    Ok(Json(dto::Me {
        kind: if user.is_some() { "user" } else { "client" },
        user,
        client_id: p.client_id.clone(),
        institution: institution.into(),
        scopes: p.scopes.clone(),
        capabilities,
    }))
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", responses((status = 200, body = Vec<dto::Session>)), security(("bearer" = [])))]
pub(crate) async fn my_sessions(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<dto::Session>>> {
    Ok(Json(s.kernel.identity().list_own_sessions(&p)?.into_iter().map(Into::into).collect()))
}

/// Ends one of the caller's sessions (for example, a forgotten login elsewhere).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{session_id}", tag = "auth", params(("session_id" = String, Path)),
    responses((status = 204), (status = 404, body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn revoke_my_session(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let sid: SessionId = parse_id("session_id", &id)?;
    s.kernel.identity().revoke_own_session(&p, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password; every session ends, including this one.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", request_body = dto::ChangePassword,
    responses((status = 204), (status = 401, body = dto::Problem), (status = 422, body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn change_my_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<dto::ChangePassword>,
) -> ApiResult<StatusCode> {
    s.kernel.identity().change_own_password(&p, b.current_password, b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Courses the caller is enrolled in and may see.
#[utoipa::path(get, path = "/api/v1/me/courses", tag = "auth", params(PageQuery), responses((status = 200, body = dto::CoursePage)), security(("bearer" = [])))]
pub(crate) async fn my_courses(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<dto::CoursePage>> {
    let page = s.kernel.identity().my_courses(&p, &q.into())?;
    Ok(Json(dto::CoursePage {
        items: page.items.into_iter().map(|(c, r)| dto::Course::new(c, r)).collect(),
        next_cursor: page.next_cursor,
    }))
}

//! Extractors that turn every kind of malformed input into a problem document.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use lectern_core::{AuthFailure, Principal};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::{self, ApiError, ApiResult};

fn body_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(&problem::UNSUPPORTED_MEDIA_TYPE, text),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(&problem::BODY_TOO_LARGE, text),
        _ => ApiError::new(&problem::MALFORMED_BODY, text),
    }
}

/// JSON body; rejections become `malformed-body`, `unsupported-media-type` or `body-too-large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                &problem::UNSUPPORTED_MEDIA_TYPE,
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|r| body_rejection(r.status(), r.body_text()))?;
        // Every body the API takes is a JSON object (the OpenAPI document says
        // so); serde would also read a struct from an array, field by position.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(&problem::MALFORMED_BODY, "the body must be a JSON object"));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => {
                let r: JsonRejection = r;
                Err(body_rejection(r.status(), r.body_text()))
            }
        }
    }
}

/// `application/json`, or another `application/*+json`, parameters ignored.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Form body (`application/x-www-form-urlencoded`), for the OAuth endpoints.
pub struct ApiForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiForm<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(ApiForm(v)),
            Err(r) => {
                let r: FormRejection = r;
                let e = body_rejection(r.status(), r.body_text());
                // OAuth clients switch on `error`.
                Err(e.with("error", "invalid_request"))
            }
        }
    }
}

/// `multipart/form-data`; rejections become problems like other bodies.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(m) => Ok(ApiMultipart(m)),
            Err(r) => {
                let status = r.status();
                let text = r.body_text();
                // A missing or wrong content type is the client's to fix, like JSON's.
                let status = if status == StatusCode::BAD_REQUEST && text.contains("boundary") {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                } else {
                    status
                };
                Err(body_rejection(status, text))
            }
        }
    }
}

/// Query string; rejections become `bad-parameter`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(r) => {
                let r: QueryRejection = r;
                Err(ApiError::new(&problem::BAD_PARAMETER, r.body_text()))
            }
        }
    }
}

/// Path parameters; rejections become `bad-parameter`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(r) => {
                let r: PathRejection = r;
                Err(ApiError::new(&problem::BAD_PARAMETER, r.body_text()))
            }
        }
    }
}

/// Parses an id path segment.
pub fn parse_id<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_parameter(name, format!("`{}` is not a valid id", truncate(raw, 64))))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The header a cookie-authenticated write must carry: a custom header
/// cannot be sent by a cross-site form, and a cross-origin script can only
/// send it after a CORS preflight that `http.cors_origins` allows.
pub(crate) const CSRF_HEADER: &str = "lectern-csrf";

/// Refuses a cookie-authenticated request that may come from another site.
pub(crate) fn check_same_site(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if csrf.trim().is_empty() {
        return Err(ApiError::new(
            &problem::CSRF,
            "send the header `Lectern-CSRF: 1` with a request authenticated by the session cookie",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim_end_matches('/');
        // The issuer's origin, serialised as browsers send `Origin` (default ports dropped).
        let own = url::Url::parse(&s.kernel.config().issuer).map(|u| u.origin().ascii_serialization());
        let allowed = own.is_ok_and(|own| origin.eq_ignore_ascii_case(&own))
            || s.config.cors_origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin));
        if !allowed {
            return Err(ApiError::new(
                &problem::CSRF,
                format!("requests from {origin} may not use the session cookie; allow it in `http.cors_origins`"),
            ));
        }
    }
    Ok(())
}

/// The authenticated caller: a bearer access token, or the session cookie.
///
/// A request authenticated by the cookie that may change state (any method but
/// `GET`, `HEAD` and `OPTIONS`) must also pass [`check_same_site`]: SameSite=Lax
/// alone lets a same-site page (another app on a sibling subdomain) post with it.
pub struct Auth(pub Principal);

pub(crate) fn session_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Self::authenticate(parts, state)?;
        // The audit middleware records who made a request it audits.
        if let Some(slot) = parts.extensions.get::<crate::audit::AuditSlot>() {
            slot.set(&auth.0);
        }
        Ok(auth)
    }
}

impl Auth {
    fn authenticate(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let value = h.to_str().map_err(|_| ApiError::unauthenticated(AuthFailure::Malformed))?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .ok_or_else(|| ApiError::unauthenticated(AuthFailure::Malformed))?;
            return state
                .kernel
                .identity()
                .authenticate_bearer(token.trim())
                .map(Auth)
                .map_err(ApiError::unauthenticated);
        }
        if let Some(secret) = session_cookie(&parts.headers, state.cookie_name()) {
            let principal = state.kernel.identity().authenticate_session(secret).map_err(ApiError::unauthenticated)?;
            if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                check_same_site(state, &parts.headers)?;
            }
            return Ok(Auth(principal));
        }
        Err(ApiError::unauthenticated(AuthFailure::Missing))
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For`
/// hop when the deployment says a trusted proxy sets it.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientIp(client_ip(state, &parts.headers, &parts.extensions)))
    }
}

/// The client's address (see [`ClientIp`]).
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, extensions: &axum::http::Extensions) -> Option<IpAddr> {
    if state.config.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// `If-Match: "N"` → `Some(N)`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let s = v.to_str().map_err(|_| ApiError::new(&problem::BAD_HEADER, "If-Match is not ASCII"))?;
    let inner = s.trim().trim_start_matches("W/").trim_matches('"');
    inner.parse().map(Some).map_err(|_| {
        ApiError::new(&problem::BAD_HEADER, "If-Match must be an ETag returned by this API").with("header", "if-match")
    })
}

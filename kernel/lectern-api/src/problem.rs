//! RFC 9457 problem details. [`ApiError`] is the only way a handler fails,
//! and [`From<CoreError>`] is the one place domain errors become HTTP.
//!
//! Each problem kind has a stable `type` (`/problems/<slug>`, resolvable on
//! this server) that clients can switch on; `title` is fixed per type and
//! `detail` explains this occurrence.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::MarketFailureKind;
use lectern_core::{AuthFailure, CoreError};
use serde_json::{Map, Value, json};

/// A stable problem type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: StatusCode,
    pub about: &'static str,
}

macro_rules! kinds {
    ($($name:ident = $slug:literal, $status:ident, $title:literal, $about:literal;)*) => {
        $(pub const $name: Kind = Kind { slug: $slug, title: $title, status: StatusCode::$status, about: $about };)*
        /// Every problem type this API can return.
        pub const ALL: &[&Kind] = &[$(&$name),*];
    };
}

kinds! {
    NOT_FOUND = "not-found", NOT_FOUND, "Resource not found", "The addressed resource does not exist, or is not visible to you.";
    NO_ROUTE = "no-route", NOT_FOUND, "No such endpoint", "No endpoint matches this path. See /api/v1/openapi.json.";
    METHOD_NOT_ALLOWED = "method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed", "The endpoint exists but does not accept this HTTP method.";
    CONFLICT = "conflict", CONFLICT, "Conflict", "The request conflicts with the current state (a duplicate, or a forbidden state change).";
    NO_PREVIOUS_VERSION = "no-previous-version", CONFLICT, "No previous version", "A rollback was asked where the slot has no previous version: none served before the active one, or it was revoked or uninstalled. Activate a version by its key instead.";
    VALIDATION = "validation", UNPROCESSABLE_ENTITY, "Invalid field", "A field is well-formed JSON but its value is not acceptable; `field` names it.";
    WEAK_PASSWORD = "weak-password", UNPROCESSABLE_ENTITY, "Password refused", "The new password breaks the policy: 8–128 characters, not a common password, not your email or name.";
    MALFORMED_BODY = "malformed-body", BAD_REQUEST, "Malformed request body", "The body is not valid JSON (or form data) of the expected shape: syntax error, wrong type, missing or unknown field.";
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", "Send `Content-Type: application/json` (or form data where the endpoint says so).";
    BODY_TOO_LARGE = "body-too-large", PAYLOAD_TOO_LARGE, "Request body too large", "The body exceeds the server's configured limit.";
    MEDIA_TYPE_REFUSED = "media-type-refused", UNSUPPORTED_MEDIA_TYPE, "Media type refused", "Uploads accept video/mp4, video/webm, audio/mpeg, audio/ogg, audio/wav, application/pdf, image/png, image/jpeg, image/gif, image/webp, text/plain, text/markdown and text/csv; SVG and HTML are refused because they can carry script.";
    CONTENT_MISMATCH = "content-mismatch", UNPROCESSABLE_ENTITY, "Content does not match its type", "The uploaded bytes are not what the declared `Content-Type` says (for example a PDF declared as image/png, or binary data declared as text).";
    RANGE_NOT_SATISFIABLE = "range-not-satisfiable", RANGE_NOT_SATISFIABLE, "Range not satisfiable", "The `Range` header is malformed or asks only for bytes past the end; `Content-Range: bytes */<length>` gives the length.";
    BAD_PARAMETER = "bad-parameter", BAD_REQUEST, "Invalid path or query parameter", "A path segment or query parameter is malformed (for example, not a valid id).";
    BAD_HEADER = "bad-header", BAD_REQUEST, "Invalid header", "A request header is malformed.";
    UNAUTHENTICATED = "unauthenticated", UNAUTHORIZED, "Authentication required", "No valid credentials were presented: log in, or send a valid bearer token.";
    INVALID_CREDENTIALS = "invalid-credentials", UNAUTHORIZED, "Invalid credentials", "The email, password or institution is wrong.";
    FORBIDDEN = "forbidden", FORBIDDEN, "Not permitted", "You are authenticated but not allowed to do this here (role, scope or institution).";
    CSRF = "csrf-refused", FORBIDDEN, "Cross-site request refused", "A request authenticated by the session cookie alone must carry the `Lectern-CSRF` header (any value, e.g. `1`), which a cross-site form cannot send; an `Origin` header, when present, must be this server's or one listed in `http.cors_origins`.";
    THROTTLED = "throttled", TOO_MANY_REQUESTS, "Too many attempts", "Too many failed or rapid attempts; wait for the time in `Retry-After`.";
    PRECONDITION_FAILED = "precondition-failed", PRECONDITION_FAILED, "Precondition failed", "The resource changed since you read it (`If-Match` did not match its ETag).";
    OAUTH = "oauth", BAD_REQUEST, "OAuth error", "An OAuth 2.0 error; `error` holds the RFC 6749 error code.";
    TIMEOUT = "timeout", SERVICE_UNAVAILABLE, "Request timed out", "The server did not finish the request in time; it is safe to retry idempotent requests.";
    UNAVAILABLE = "unavailable", SERVICE_UNAVAILABLE, "Service unavailable", "A required component (storage, or the plugin serving this slot) is not available; retry later.";
    PLUGIN_FAILED = "plugin-failed", BAD_GATEWAY, "Plugin failure", "The plugin serving this request faulted (trap, time or memory limit); the administrator sees why in the plugin console.";
    MARKETPLACE_INDEX = "marketplace-index-refused", BAD_GATEWAY, "Marketplace index refused", "The marketplace's signed index failed verification: too few valid signatures, an older version than one already trusted (a replay), metadata that disagree with the snapshot or timestamp, or expired metadata (a frozen index). Nothing was installed; `reason` names the check.";
    MARKETPLACE_NOT_CONFIGURED = "marketplace-not-configured", CONFLICT, "No marketplace configured", "This server has no plugin marketplace: an operator sets `marketplace.url` and the pinned root of trust `marketplace.root` (a root.json) in the configuration and restarts. Retrying does not help until then.";
    PACKAGE_REFUSED = "package-refused", UNPROCESSABLE_ENTITY, "Package refused", "A plugin package failed a check and nothing was installed. `reason` names it: hash-mismatch, length-mismatch, bad-signature, wrong-key, not-delegated, unsafe-archive, too-large, malformed, revoked, yanked, downgrade (409: pass `force`), incompatible-kernel, undeclared-import, not-granted.";
    INTERNAL = "internal", INTERNAL_SERVER_ERROR, "Internal error", "A bug or an unexpected failure; the request id in `x-request-id` identifies it in the logs.";
}

/// An error response in RFC 9457 form.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub kind: &'static Kind,
    pub status: StatusCode,
    pub detail: String,
    pub extra: Map<String, Value>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(kind: &'static Kind, detail: impl Into<String>) -> ApiError {
        ApiError { kind, status: kind.status, detail: detail.into(), extra: Map::new(), headers: vec![] }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn unauthenticated(why: AuthFailure) -> ApiError {
        let code = if why == AuthFailure::Missing { "" } else { ", error=\"invalid_token\"" };
        ApiError::new(&UNAUTHENTICATED, why.describe())
            .header(header::WWW_AUTHENTICATE, &format!("Bearer realm=\"lectern\"{code}"))
    }

    pub fn bad_parameter(name: &str, detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(&BAD_PARAMETER, format!("`{name}`: {detail}")).with("parameter", name)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        match e {
            CoreError::NotFound(what) => ApiError::new(&NOT_FOUND, format!("{what} not found")),
            CoreError::Conflict(d) => ApiError::new(&CONFLICT, d),
            CoreError::Invalid { field, reason } => {
                ApiError::new(&VALIDATION, format!("`{field}` {reason}")).with("field", field)
            }
            CoreError::WeakPassword(v) => ApiError::new(&WEAK_PASSWORD, v.to_string()).with("field", "password"),
            CoreError::Forbidden(d) => ApiError::new(&FORBIDDEN, d),
            CoreError::Unauthenticated(why) => ApiError::unauthenticated(why),
            CoreError::InvalidCredentials => {
                ApiError::new(&INVALID_CREDENTIALS, "invalid institution, email or password")
            }
            CoreError::Throttled { retry_after_secs } => {
                ApiError::new(&THROTTLED, format!("retry in {retry_after_secs} s"))
                    .with("retry_after", retry_after_secs)
                    .header(header::RETRY_AFTER, &retry_after_secs.to_string())
            }
            CoreError::PreconditionFailed { current } => {
                ApiError::new(&PRECONDITION_FAILED, format!("the current version is {current}"))
                    .header(header::ETAG, &format!("\"{current}\""))
            }
            CoreError::OAuth(o) => {
                let status =
                    if o.code == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
                ApiError::new(&OAUTH, o.description.clone())
                    .status(status)
                    .with("error", o.code)
                    .with("error_description", o.description)
            }
            CoreError::Unavailable(d) => ApiError::new(&UNAVAILABLE, d).header(header::RETRY_AFTER, "5"),
            CoreError::PluginFailed(d) => {
                tracing::warn!(error = %d, "plugin failure");
                ApiError::new(&PLUGIN_FAILED, d)
            }
            CoreError::PayloadTooLarge { limit } => {
                ApiError::new(&BODY_TOO_LARGE, format!("the upload limit is {limit} bytes")).with("limit", limit)
            }
            CoreError::UnsupportedMediaType(d) => ApiError::new(&MEDIA_TYPE_REFUSED, d),
            CoreError::ContentMismatch(d) => ApiError::new(&CONTENT_MISMATCH, d),
            CoreError::MarketplaceIndex(e) => match e.kind {
                MarketFailureKind::Unreachable => {
                    ApiError::new(&UNAVAILABLE, format!("the marketplace is unreachable: {e}"))
                        .header(header::RETRY_AFTER, "30")
                }
                _ => ApiError::new(&MARKETPLACE_INDEX, e.to_string()).with("reason", e.code),
            },
            CoreError::MarketplaceNotConfigured(d) => ApiError::new(&MARKETPLACE_NOT_CONFIGURED, d),
            CoreError::Marketplace(e) => {
                let reason = e.code;
                match e.kind {
                    MarketFailureKind::NotFound => ApiError::new(&NOT_FOUND, e.to_string()),
                    MarketFailureKind::Unreachable => {
                        ApiError::new(&UNAVAILABLE, format!("the marketplace is unreachable: {e}"))
                            .header(header::RETRY_AFTER, "30")
                    }
                    MarketFailureKind::Index => ApiError::new(&MARKETPLACE_INDEX, e.to_string()).with("reason", reason),
                    MarketFailureKind::Downgrade => ApiError::new(&PACKAGE_REFUSED, e.to_string())
                        .with("reason", reason)
                        .status(axum::http::StatusCode::CONFLICT),
                    MarketFailureKind::Refused => ApiError::new(&PACKAGE_REFUSED, e.to_string()).with("reason", reason),
                }
            }
            CoreError::Plugin(e) => plugin_problem(e),
            CoreError::Storage(s) => {
                tracing::error!(error = %s, "storage failure");
                ApiError::new(&UNAVAILABLE, "storage is unavailable")
            }
            e @ CoreError::Internal { .. } => {
                tracing::error!(error = %ErrorChain(&e), "internal error");
                ApiError::new(&INTERNAL, "an internal error occurred")
            }
        }
    }
}

/// Plugin administration errors, by variant (never by their text).
fn plugin_problem(e: lectern_core::plugins::HostError) -> ApiError {
    use lectern_core::plugins::HostError as H;
    let invalid = |field: &str, reason: String| {
        ApiError::new(&VALIDATION, format!("`{field}` {reason}")).with("field", field.to_owned())
    };
    match &e {
        H::Manifest(m) => invalid("manifest", m.to_string()),
        H::InvalidSettings(m) => invalid("settings", m.clone()),
        H::InvalidAssets(m) => invalid("assets", m.clone()),
        H::InvalidComponent { .. }
        | H::ImportRefused { .. }
        | H::MissingExport { .. }
        | H::UnversionedContract { .. }
        | H::UnsupportedContract { .. }
        | H::MixedContract { .. }
        | H::WorldNeedsContract { .. }
        | H::Link { .. } => invalid("component", e.to_string()),
        H::AlreadyInstalled { .. }
        | H::WrongSlot { .. }
        | H::StillActive { .. }
        | H::SlotCannotBeEmptied { .. }
        | H::RetrievalAttached
        | H::ActivationFailed { .. }
        | H::IdentityMismatch { .. } => ApiError::new(&CONFLICT, e.to_string()),
        H::NotInstalled { .. } | H::NoActivePlugin { .. } => ApiError::new(&NOT_FOUND, e.to_string()),
        H::NoPreviousVersion { .. } => ApiError::new(&NO_PREVIOUS_VERSION, e.to_string()),
        H::Storage(_) => {
            tracing::error!(error = %e, "storage failure");
            ApiError::new(&UNAVAILABLE, "storage is unavailable")
        }
        H::Integrity { .. } | H::Engine { .. } | H::Io { .. } | H::Outbox(_) => {
            tracing::error!(error = %e, "plugin host failure");
            ApiError::new(&INTERNAL, "an internal error occurred")
        }
    }
}

impl ApiError {
    /// The problem document (RFC 9457) this error answers with.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": format!("/problems/{}", self.kind.slug),
            "title": self.kind.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Value::Object(m) = &mut body {
            m.extend(self.extra.clone());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut resp =
            (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        for (k, v) in self.headers {
            resp.headers_mut().append(k, v);
        }
        if self.status.is_server_error() {
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An error with its whole `source` chain, for logs: "context: cause: cause".
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

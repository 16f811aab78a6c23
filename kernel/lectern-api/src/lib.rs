//! The Lectern HTTP API on axum/hyper: routing, request/response DTOs,
//! RFC 9457 problem documents, the OpenAPI 3.1 document, Prometheus metrics,
//! and the middleware stack (request ids, tracing spans, body limits,
//! timeouts, CORS, panic containment).
//!
//! This is the only crate that knows HTTP status codes and JSON DTOs. It holds
//! no domain logic: a handler parses, authenticates, calls one
//! `lectern_core::Kernel` operation (which authorizes), and maps the result.
//! [`router`] returns the whole app so tests can drive it with or without a socket.

mod audit;
mod delivery;
pub mod dto;
mod extract;
pub mod free_form;
pub mod metrics;
pub mod problem;
mod routes;
#[cfg(test)]
mod typed_responses;
pub mod web;
#[cfg(test)]
mod wire_casing;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use lectern_core::Kernel;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use metrics::Metrics;
use problem::ApiError;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; empty disables CORS.
    pub cors_origins: Vec<String>,
    /// Set when Lectern is served over HTTPS (directly or behind a TLS proxy):
    /// the session cookie then gets `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    /// Trust the first `X-Forwarded-For` hop as the client address.
    pub trust_forwarded_for: bool,
    /// Login attempts per client address per minute, across all accounts.
    pub login_attempts_per_minute: u32,
    /// The built web application served at `/`; `None` serves only the API.
    pub web_root: Option<web::WebRoot>,
    /// The git commit the server was built from (the binary's build script knows it).
    pub commit: Option<&'static str>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: vec![],
            secure_cookies: false,
            trust_forwarded_for: false,
            login_attempts_per_minute: 30,
            web_root: None,
            commit: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub kernel: Kernel,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ApiConfig>,
    login_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Small immutable blobs (rendered pages) kept in memory: see `routes::blobs`.
    pub(crate) blob_cache: Arc<routes::blobs::BlobCache>,
    /// When this state was made (the server's start, for `/admin/about`).
    pub(crate) started: (std::time::Instant, i64),
    /// Plugin installs that outlive their request (`routes::install_jobs`).
    pub(crate) install_jobs: Arc<routes::install_jobs::InstallJobs>,
}

impl AppState {
    pub fn new(kernel: Kernel, metrics: Arc<Metrics>, config: ApiConfig) -> AppState {
        let per_minute = NonZeroU32::new(config.login_attempts_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let login_limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)));
        AppState {
            kernel,
            metrics,
            config: Arc::new(config),
            login_limiter,
            blob_cache: Arc::new(routes::blobs::new_cache()),
            install_jobs: Arc::default(),
            started: (std::time::Instant::now(), time::OffsetDateTime::now_utc().unix_timestamp()),
        }
    }

    pub(crate) fn cookie_name(&self) -> &'static str {
        if self.config.secure_cookies { "__Host-lectern_session" } else { "lectern_session" }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The OpenAPI 3.1 document of every `/api/v1` and OAuth route: what
/// `GET /api/v1/openapi.json` serves, for tools that need it without a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes::openapi_router().split_for_parts();
    doc.merge(routes::streaming_router().split_for_parts().1);
    document_problems(&mut doc);
    doc
}

/// Every error answer is an RFC 9457 problem document served as
/// `application/problem+json`: says so for the responses the routes name,
/// and adds `4XX`/`5XX` (a problem document) to every operation that does
/// not list them, so that a client (or schemathesis) finds every status it
/// can meet documented — 401 without credentials, 415 for a wrong
/// content type, 413, 429, 503 and the others.
fn document_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    const JSON: &str = "application/json";
    const PROBLEM: &str = "application/problem+json";
    let is_problem = |c: &Content| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(r) = response
                    && r.content.get(JSON).is_some_and(is_problem)
                    && let Some(c) = r.content.shift_remove(JSON)
                {
                    r.content.insert(PROBLEM.to_owned(), c);
                }
            }
            for (range, what) in [("4XX", "The request was refused"), ("5XX", "The server or a plugin failed")] {
                op.responses.responses.entry(range.to_owned()).or_insert_with(|| {
                    let mut r = Response::new(format!("{what}: a problem document (RFC 9457)"));
                    r.content.insert(PROBLEM.to_owned(), Content::new(Some(Ref::from_schema_name("Problem"))));
                    RefOr::T(r)
                });
            }
        }
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = routes::openapi_router().split_for_parts();
    let (streaming, streaming_doc) = routes::streaming_router().split_for_parts();
    openapi.merge(streaming_doc);
    document_problems(&mut openapi);
    let openapi = Arc::new(openapi);
    let cors = cors_layer(&state.config.cors_origins);
    let timeout = state.config.request_timeout;
    let metrics = state.metrics.clone();

    let app = api
        .merge(routes::system::router(openapi))
        .merge(routes::credential_pages::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(routes::system::method_not_allowed)
        // Every request has an overall deadline, except the streaming uploads
        // merged after it: those time out per idle chunk instead.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    ApiError::new(&problem::TIMEOUT, "the request took too long")
                }))
                .timeout(timeout),
        )
        .merge(streaming)
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record));

    let app = match cors {
        Some(c) => app.layer(c),
        None => app,
    };

    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
                use axum::response::IntoResponse;
                ApiError::new(&problem::INTERNAL, "the request handler panicked").into_response()
            })),
    )
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            // `lectern-csrf`: an allowed front end renews its token with the session cookie.
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("lectern-csrf"),
            ])
            .expose_headers([header::ETAG, header::LOCATION, REQUEST_ID, header::RETRY_AFTER])
            .allow_credentials(true)
            .max_age(Duration::from_secs(600)),
    )
}

/// Serves the app on `listener` until `shutdown` resolves, then stops
/// accepting connections and waits for in-flight requests to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Responses are written as headers then body: without TCP_NODELAY the
    // second small write waits for the client's delayed ACK (~40 ms on Linux).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Serves a marketplace repository's files — the signed index metadata and
/// the packages — as static files over HTTP (`lectern marketplace serve`),
/// until `shutdown` resolves. Nothing is trusted for being served here: a
/// kernel verifies every file against the root it pinned. Lives in this crate
/// because it is the one that owns HTTP serving (axum, tower-http).
pub async fn serve_marketplace_dir(
    listener: tokio::net::TcpListener,
    dir: std::path::PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

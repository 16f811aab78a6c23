//! Operational endpoints (health, readiness, metrics), discovery documents,
//! the OpenAPI document, problem-type documentation, and the fallbacks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;
use crate::extract::ApiPath;
use crate::problem::{self, ApiError};

pub(crate) fn router(openapi: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/problems/{slug}", get(problem_doc))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(s): State<AppState>) -> Response {
    if let Err(e) = s.kernel.check() {
        tracing::error!(error = %e, "readiness check failed");
        return ApiError::new(&problem::UNAVAILABLE, "storage is not answering")
            .with("checks", json!({ "storage": "failing" }))
            .into_response();
    }
    // A faulted plugin does not make the kernel unready (its slot fails
    // alone); it is reported so the operator sees it. A registry that cannot
    // be read at all does: no slot can be served.
    let plugins = match plugin_list(&s) {
        Ok(p) => p,
        Err(e) => return e.with("checks", json!({ "storage": "ok", "plugins": "failing" })).into_response(),
    };
    let active = plugins.iter().filter(|p| !p.active_in.is_empty()).count();
    let open = plugins.iter().filter(|p| !matches!(p.breaker, lectern_host::BreakerState::Closed)).count();
    Json(json!({ "status": "ready", "checks": { "storage": "ok", "plugins": { "active": active, "breakers_open": open } } }))
        .into_response()
}

/// Every installed plugin version with its state, straight from the host's registry.
fn plugin_list(s: &AppState) -> Result<Vec<lectern_host::PluginStatus>, ApiError> {
    s.kernel.host().list().map_err(|e| {
        tracing::error!(error = %e, "the plugin registry cannot be read");
        ApiError::new(&problem::UNAVAILABLE, "the plugin registry cannot be read").header(header::RETRY_AFTER, "5")
    })
}

async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let mut text = s.metrics.render();
    // Plugin series are read from the host at scrape time, before the OpenMetrics terminator.
    if let Some(stripped) = text.strip_suffix("# EOF\n") {
        text = stripped.to_owned();
    }
    // A scrape without the plugin series would read as "no plugin calls";
    // failing it shows the gap instead.
    text.push_str(&plugin_metrics(&plugin_list(&s)?));
    text.push_str(&bus_metrics(&s));
    text.push_str("# EOF\n");
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}

fn bus_metrics(s: &AppState) -> String {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    let c = s.kernel.bus_counters();
    let counters = [
        ("lectern_bus_published", "Messages durably appended to the embedded log", &c.published),
        ("lectern_bus_delivered", "Deliveries to consumers (including redeliveries)", &c.delivered),
        ("lectern_bus_redelivered", "Deliveries after a nack, a lease timeout or a consumer leaving", &c.redelivered),
        ("lectern_bus_acked", "Acknowledged deliveries", &c.acked),
        ("lectern_bus_lease_expired", "Deliveries whose ack timeout ran out", &c.lease_expired),
    ];
    for (name, help, v) in counters {
        let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} counter\n{name}_total {}", v.load(Relaxed));
    }
    let _ = writeln!(
        out,
        "# HELP lectern_bus_outbox_pending Events committed but not yet on the bus.\n# TYPE lectern_bus_outbox_pending gauge\nlectern_bus_outbox_pending {}",
        s.kernel.outbox_pending()
    );
    if let Ok(topics) = s.kernel.bus().stats() {
        let _ = writeln!(
            out,
            "# HELP lectern_bus_backlog Messages a subscription has not acknowledged.\n# TYPE lectern_bus_backlog gauge"
        );
        for t in &topics {
            for sub in &t.subscriptions {
                let _ = writeln!(
                    out,
                    "lectern_bus_backlog{{topic=\"{}\",subscription=\"{}\"}} {}",
                    t.topic, sub.subscription, sub.backlog
                );
            }
        }
    }
    let workers = s.kernel.worker_counters();
    for (name, help, pick) in [
        ("lectern_worker_handled", "Messages a worker handled", 0),
        ("lectern_worker_retried", "Failed attempts scheduled for redelivery", 1),
        ("lectern_worker_dead_lettered", "Messages moved to a dead-letter topic", 2),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} counter");
        for (sub, c) in &workers {
            let v = [&c.handled, &c.retried, &c.dead_lettered][pick].load(Relaxed);
            let _ = writeln!(out, "{name}_total{{worker=\"{sub}\"}} {v}");
        }
    }
    out
}

fn plugin_metrics(plugins: &[lectern_host::PluginStatus]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let series: [(&str, &str, &str); 6] = [
        ("lectern_plugin_calls", "counter", "Plugin calls"),
        ("lectern_plugin_errors", "counter", "Plugin calls that returned an error (including faults)"),
        ("lectern_plugin_faults", "counter", "Plugin traps, timeouts and exhausted limits"),
        ("lectern_plugin_call_p50_seconds", "gauge", "Median duration of the last 2048 calls"),
        ("lectern_plugin_call_p99_seconds", "gauge", "99th percentile duration of the last 2048 calls"),
        ("lectern_plugin_breaker_open", "gauge", "1 when the plugin's circuit breaker is open or half-open"),
    ];
    for (name, kind, help) in series {
        let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} {kind}");
        for p in plugins {
            let key = p.installed.manifest.key();
            let v = match name {
                "lectern_plugin_calls" => p.stats.calls as f64,
                "lectern_plugin_errors" => p.stats.errors as f64,
                "lectern_plugin_faults" => p.stats.faults as f64,
                "lectern_plugin_call_p50_seconds" => f64::from(p.stats.p50_us) / 1e6,
                "lectern_plugin_call_p99_seconds" => f64::from(p.stats.p99_us) / 1e6,
                _ => f64::from(u8::from(!matches!(p.breaker, lectern_host::BreakerState::Closed))),
            };
            let suffix = if kind == "counter" { "_total" } else { "" };
            let _ =
                writeln!(out, "{name}{suffix}{{plugin=\"{key}\",slot=\"{}\"}} {v}", p.installed.manifest.slot.name());
        }
    }
    out
}

async fn jwks(State(s): State<AppState>) -> Result<Response, ApiError> {
    let keys = s.kernel.identity().jwks()?;
    // Short cache: verifiers refetch soon after a rotation.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(json!({ "keys": keys }))).into_response())
}

async fn discovery(State(s): State<AppState>) -> Json<serde_json::Value> {
    let iss = s.kernel.config().issuer.trim_end_matches('/').to_owned();
    let scopes: Vec<&str> = lectern_core::authz::SCOPES.iter().map(|(n, _)| *n).collect();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "scopes_supported": scopes,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "email", "name", "tenant", "nonce"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn problem_doc(ApiPath(slug): ApiPath<String>) -> Response {
    match problem::ALL.iter().find(|k| k.slug == slug) {
        Some(k) => Json(json!({
            "type": format!("/problems/{}", k.slug),
            "title": k.title,
            "status": k.status.as_u16(),
            "description": k.about,
        }))
        .into_response(),
        None => ApiError::new(&problem::NOT_FOUND, format!("no problem type `{slug}`")).into_response(),
    }
}

pub(crate) async fn no_route(uri: Uri) -> ApiError {
    ApiError::new(&problem::NO_ROUTE, format!("no endpoint at {}", uri.path()))
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(&problem::METHOD_NOT_ALLOWED, "this endpoint does not accept that method")
        .status(StatusCode::METHOD_NOT_ALLOWED)
}

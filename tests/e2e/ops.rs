//! Operational surface: health, readiness, metrics, the OpenAPI document,
//! request ids, CORS and graceful shutdown.

use lectern_api::ApiConfig;
use lectern_e2e::{Api, Options, TestServer};

use crate::World;

#[tokio::test]
async fn health_metrics_openapi_and_request_ids() {
    let w = World::new().await;
    let api = w.root.anonymous();
    assert_eq!(api.get("/healthz").await.ok()["status"], "ok");
    assert_eq!(api.get("/readyz").await.ok()["checks"]["storage"], "ok");

    let r = api.get("/api/v1/openapi.json").await;
    let doc = r.ok();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/api/v1/auth/login",
        "/api/v1/institutions/{institution}/courses/{course_id}/enrolments",
        "/oauth/token",
        "/api/v1/me",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());

    let r = api.get("/api/v1/me").await;
    let id = r.header("x-request-id").expect("request id").to_owned();
    assert_eq!(id.len(), 36);
    // A caller-supplied request id is kept.
    let req = api.http.get(format!("{}/healthz", api.base)).header("x-request-id", "trace-me-123");
    assert_eq!(Api::finish(req).await.header("x-request-id"), Some("trace-me-123"));

    // Every problem type is documented at its URI.
    let r = api.get("/problems/validation").await;
    assert_eq!(r.ok()["status"], 422);

    let metrics = reqwest::get(format!("{}/metrics", api.base)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("lectern_http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("lectern_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("lectern_storage_flush_duration_seconds_count"));
    // Route templates, not raw paths, label the series.
    assert!(!metrics.contains(&w.a.id));
}

#[tokio::test]
async fn cors_is_off_by_default_and_exact_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let api = ApiConfig { cors_origins: vec!["https://app.example.edu".into()], ..Default::default() };
    let s = TestServer::start(&dir.path().join("d"), Options { api, ..Default::default() }).await.unwrap();
    let c = reqwest::Client::new();
    let pre = |origin: &'static str| {
        c.request(reqwest::Method::OPTIONS, format!("{}/api/v1/me", s.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = pre("https://app.example.edu").await.unwrap();
    assert_eq!(ok.headers().get("access-control-allow-origin").unwrap(), "https://app.example.edu");
    assert_eq!(ok.headers().get("access-control-allow-credentials").unwrap(), "true");
    let evil = pre("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    s.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&dir.path().join("d"), Options::default()).await.unwrap();
    let r = c.get(format!("{}/healthz", s.base)).header("origin", "https://app.example.edu").send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    s.stop().await.unwrap();
}

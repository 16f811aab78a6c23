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

/// A server whose email goes to a plain-SMTP relay on this machine's `port`.
fn smtp_at(port: u16, timeout_secs: u64) -> Options {
    Options {
        kernel: Box::new(move |k| {
            k.email = Some(lectern_core::workers::SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                tls: lectern_core::workers::TlsMode::None,
                username: None,
                password: None,
                from: "Lectern <no-reply@lectern.test>".into(),
                timeout: std::time::Duration::from_secs(timeout_secs),
            });
        }),
        ..Default::default()
    }
}

/// The operations console's reads and checks: what is running, the
/// institution's signing keys, and one email through a real SMTP server.
#[tokio::test]
async fn about_signing_keys_and_the_email_check() {
    let smtp = crate::pipeline::SmtpSink::start();
    let port = smtp.port;
    let w = World::with(smtp_at(port, 10)).await;

    // About: platform administrators only.
    let about = w.root.get("/api/v1/admin/about").await;
    let about = about.ok().clone();
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"), "{about}");
    assert_eq!(about["bus"], "embedded");
    assert_eq!(about["email_configured"], true);
    assert!(about["started_at"].as_str().unwrap().ends_with('Z'), "{about}");
    w.a.admin.get("/api/v1/admin/about").await.assert_problem(403, "forbidden");

    // Signing keys: rotate, then the list shows the new active key and the retiring one.
    let keys = format!("/api/v1/institutions/{}/keys", w.a.slug);
    let before = w.a.admin.get(&keys).await.ok()["items"].as_array().unwrap().clone();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["state"], "active");
    assert!(!before[0].to_string().contains("secret"));
    let new = w.a.admin.post_empty(&format!("/api/v1/institutions/{}/keys/rotate", w.a.slug)).await.ok()["kid"].clone();
    let after = w.a.admin.get(&keys).await.ok()["items"].as_array().unwrap().clone();
    assert_eq!(after.len(), 2);
    assert_eq!((&after[0]["kid"], &after[0]["state"]), (&new, &serde_json::json!("active")));
    assert_eq!((&after[1]["kid"], &after[1]["state"]), (&before[0]["kid"], &serde_json::json!("retiring")));
    assert!(after[1]["retire_at"].is_string());
    // Another institution's administrator cannot read them.
    w.b.admin.get(&keys).await.assert_problem(403, "forbidden");

    // The email check: one message through the real relay.
    let check = w.root.post("/api/v1/admin/email/check", serde_json::json!({"to": "ops@alpha.test"})).await;
    let check = check.ok().clone();
    assert_eq!(check["sent"], true, "{check}");
    assert_eq!(check["relay"], format!("127.0.0.1:{port}"));
    let mail = crate::eventually("the check message", async || {
        smtp.messages().into_iter().find(|m| m.contains("Lectern email check"))
    })
    .await;
    assert!(mail.contains("ops@alpha.test"), "{mail}");
    // A refused address is reported, not an error of the check.
    let bad = w.root.post("/api/v1/admin/email/check", serde_json::json!({"to": "not an address"})).await;
    let bad = bad.ok().clone();
    assert_eq!(bad["sent"], false, "{bad}");
    assert_eq!(bad["transient"], false, "{bad}");
    assert!(bad["error"].is_string());
    w.a.admin
        .post("/api/v1/admin/email/check", serde_json::json!({"to": "x@y.test"}))
        .await
        .assert_problem(403, "forbidden");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn the_email_check_without_email_configured() {
    let w = World::new().await;
    let check = w.root.post("/api/v1/admin/email/check", serde_json::json!({"to": "ops@alpha.test"})).await;
    let check = check.ok().clone();
    assert_eq!(
        (check["configured"].clone(), check["sent"].clone()),
        (serde_json::json!(false), serde_json::json!(false))
    );
    assert!(check["error"].as_str().unwrap().contains("email"), "{check}");
    w.server.stop().await.unwrap();
}

/// A relay that accepts and never answers: the check reports it (transient)
/// within its own 10 s limit, not as the request timing out.
#[tokio::test]
async fn the_email_check_reports_a_silent_relay() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = vec![];
        for c in silent.incoming().flatten() {
            held.push(c); // accepted, never answered
        }
    });
    let w = World::with(smtp_at(port, 60)).await;
    let check = w.root.post("/api/v1/admin/email/check", serde_json::json!({"to": "ops@alpha.test"})).await;
    let check = check.ok().clone();
    assert_eq!(check["sent"], false, "{check}");
    assert_eq!(check["transient"], true, "{check}");
    let took = check["took_ms"].as_u64().unwrap();
    assert!((9_000..25_000).contains(&took), "waited {took} ms: {check}");
    w.server.stop().await.unwrap();
}

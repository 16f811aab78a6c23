//! Hostile input generated from the OpenAPI document: schemathesis (pinned,
//! installed by `cargo xtask setup`/`test` into its own venv) sends every
//! operation generated examples, boundary values and schema-violating
//! requests with a platform administrator's token, and fails on any 5xx, any
//! answer that violates its documented schema, status code, content type or
//! headers, any schema-violating request that is accepted, and any request
//! that does not answer within the timeout (a hang).
//!
//! Each run is reproducible from its seed. The bounded run here uses
//! `LECTERN_SCHEMATHESIS_EXAMPLES` examples per operation (default 3); the
//! longer run (README, "Hostile input") is the same test with more.

use std::process::Command;

use serde_json::json;

use crate::World;

/// The checks that hold for this API. `positive_data_acceptance` is left
/// out: a request can match the schema and still be refused for what it
/// means (an unknown client, a time that is not RFC 3339), with a 422.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,negative_data_rejection";

fn st() -> std::path::PathBuf {
    let venv =
        std::env::var_os("LECTERN_SCHEMATHESIS_VENV").filter(|d| !d.is_empty()).map(Into::into).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/lectern/schemathesis-venv")
        });
    venv.join("bin/st")
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let st = st();
    assert!(
        st.exists(),
        "{} is missing: `cargo xtask setup` (or `cargo xtask test`) installs schemathesis",
        st.display()
    );
    let mut api = lectern_api::ApiConfig::default();
    api.login_attempts_per_minute = 100_000;
    let w = World::with(lectern_e2e::Options { api, ..Default::default() }).await;
    crate::exam::install_grading_plugin(&w.server).await;
    crate::content::install_content_plugin(&w).await;
    // Something to find: a course with content and a published quiz.
    let r = w.a.admin.post("/api/v1/institutions/alpha/courses", json!({"code": "ST1", "title": "Fuzzed"})).await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/alpha/courses/{course}");
    w.a.admin.post_empty(&format!("{base}/publish")).await.ok();
    w.a.admin.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "M"})).await.ok();
    let quiz = json!({"title": "Q", "questions": [{"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}}]});
    w.a.admin.post(&format!("{base}/assessments"), quiz).await.ok();

    let token = w.root.token.clone().unwrap();
    let examples = std::env::var("LECTERN_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "3".into());
    let base_url = w.server.base.clone();
    let report = tempfile::tempdir().unwrap();
    let junit = report.path().join("junit.xml");
    let junit_path = junit.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .args(["run", &format!("{base_url}/api/v1/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS, "--max-examples", &examples, "--seed", "20261208", "--workers", "1"])
            // A hang is a failure: every request must answer within this.
            .args(["--request-timeout", "60"])
            // These end the token's session (or change its password): the rest would run signed out.
            .args(["--exclude-path", "/api/v1/auth/logout", "--exclude-path", "/api/v1/me/password"])
            // A tar body schemathesis cannot generate (course archives have their own attack tests in content.rs).
            .args(["--exclude-path", "/api/v1/institutions/{institution}/courses/import"])
            .args(["--report", "junit", "--report-junit-path"])
            .arg(&junit_path)
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.rsplit("SUMMARY").next().unwrap_or(&stdout);
    eprintln!("schemathesis:{summary}");
    assert!(
        out.status.success(),
        "schemathesis found problems (exit {}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // It ran the whole document.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tested = xml.matches("<testcase").count();
    assert!(tested >= 140, "only {tested} operations tested");
    // And the server is still healthy.
    assert_eq!(w.root.get("/readyz").await.status, 200);
}

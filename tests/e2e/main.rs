//! End-to-end tests: the real kernel on a loopback socket, real sled on disk,
//! talked to over HTTP. One binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on setup errors

mod accounts;
mod activities;
mod answer_keys;
mod audit;
mod authz_matrix;
mod backup;
mod bad_input;
mod bulk;
mod content;
mod exam;
mod flow;
mod gradebook;
mod grading_methods;
mod marketplace;
mod media;
mod oauth;
mod observers;
mod ops;
mod pipeline;
mod plugin_questions;
mod plugins;
mod privacy;
mod proctoring;
mod question_types;
mod schema;
mod schemathesis;
mod throttle;
mod tokens;
mod trust;
mod tutor;
mod tutor_quality;
mod typed_client;
mod upgrade;
mod web_serving;

use lectern_e2e::{Api, Options, PASSWORD, TestServer, bootstrap_admin};
use serde_json::json;

/// A platform with two institutions and the people an LMS test needs.
pub struct World {
    pub server: TestServer,
    pub _dir: tempfile::TempDir,
    pub root: Api,
    pub a: Inst,
    pub b: Inst,
}

pub struct Inst {
    pub id: String,
    pub slug: String,
    pub admin: Api,
    pub admin_id: String,
}

/// Polls `f` every 50 ms until it returns something, for at most 30 s: the
/// bus, grading and credentials are asynchronous.
pub async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn create_user(admin: &Api, inst: &str, email: &str, role: &str) -> String {
    let r = admin
        .post(&format!("/api/v1/institutions/{inst}/users"), json!({ "email": email, "name": email.split('@').next().unwrap_or(email), "role": role, "password": PASSWORD }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

async fn make_inst(server: &TestServer, root: &Api, slug: &str) -> Inst {
    let r = root.post("/api/v1/institutions", json!({ "slug": slug, "name": format!("University {slug}") })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let email = format!("admin@{slug}.test");
    let admin_id = create_user(root, slug, &email, "admin").await;
    let (admin, lr) = server.client().login(slug, &email, PASSWORD).await;
    lr.ok();
    Inst { id, slug: slug.to_owned(), admin, admin_id }
}

impl World {
    pub async fn new() -> World {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = TestServer::start(&dir.path().join("data"), options).await.expect("server starts");
        let root = bootstrap_admin(&server).await;
        let a = make_inst(&server, &root, "alpha").await;
        let b = make_inst(&server, &root, "beta").await;
        World { server, _dir: dir, root, a, b }
    }

    /// A fresh logged-in client for `email` (password [`PASSWORD`]).
    pub async fn login(&self, inst: &str, email: &str) -> Api {
        let (api, r) = self.server.client().login(inst, email, PASSWORD).await;
        r.ok();
        api
    }
}

//! Plugin administration over HTTP with real compiled components.

use lectern_e2e::{Api, Reply, guests};
use serde_json::json;

use crate::World;

fn manifest(version: &str, data_version: u32) -> String {
    json!({
        "id": "test.grading", "version": version, "slot": "grading", "data_version": data_version,
        "capabilities": { "kv_quota_bytes": 1_048_576 },
        "resources": { "memory_mib": 32, "call_timeout_ms": 1000 }
    })
    .to_string()
}

/// Uploads a plugin (manifest, component, optional grant) as `api`.
pub(crate) async fn upload(api: &Api, manifest: String, wasm_path: &str, grant: Option<&str>) -> Reply {
    let wasm = std::fs::read(wasm_path).unwrap();
    let mut form = reqwest::multipart::Form::new()
        .part("manifest", reqwest::multipart::Part::text(manifest).mime_str("application/json").unwrap())
        .part("component", reqwest::multipart::Part::bytes(wasm).mime_str("application/wasm").unwrap());
    if let Some(g) = grant {
        form = form.part("grant", reqwest::multipart::Part::text(g.to_owned()));
    }
    let mut req = api.http.post(format!("{}/api/v1/plugins", api.base)).multipart(form);
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    Api::finish(req).await
}

#[tokio::test]
async fn install_activate_swap_roll_back_over_http() {
    let w = World::new().await;
    let root = &w.root;
    // Institution admins may not install code that runs for everyone.
    upload(&w.a.admin, manifest("1.0.0", 1), guests::GRADING_V1, None).await.assert_problem(403, "forbidden");
    let r = upload(root, manifest("1.0.0", 1), guests::GRADING_V1, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "installed");
    assert!(r.body["imports"].as_array().unwrap().iter().any(|i| i == "lectern:plugin/kv@0.1.0"));
    // A grant narrower than the request: kv not granted → refused, naming the import.
    let r = upload(root, manifest("1.0.1", 1), guests::GRADING_V1, Some("{}")).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("lectern:plugin/kv@0.1.0"), "{}", r.body);
    upload(root, manifest("2.0.0", 2), guests::GRADING_V2, None).await.ok();
    // Junk and missing parts are 4xx.
    let junk = std::env::temp_dir().join("lectern-junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    upload(root, manifest("9.0.0", 1), junk.to_str().unwrap(), None).await.assert_problem(422, "validation");
    upload(root, "{\"id\":1}".into(), guests::GRADING_V1, None).await.assert_problem(422, "validation");

    let r = root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@1.0.0" })).await;
    assert_eq!(r.ok()["active"], "test.grading@1.0.0");
    let r = root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@2.0.0" })).await;
    let body = r.ok();
    assert_eq!(body["previous"], "test.grading@1.0.0");
    assert_eq!(body["migrated_from"], 1);
    root.delete("/api/v1/plugins/test.grading@2.0.0").await.assert_problem(409, "conflict");
    let r = root.post("/api/v1/plugins/slots/grading/rollback", json!({})).await;
    assert_eq!(r.ok()["active"], "test.grading@1.0.0");

    // An institution admin can pick a version for their own institution only.
    let r =
        w.a.admin
            .post(
                "/api/v1/plugins/slots/grading/activate",
                json!({ "plugin": "test.grading@2.0.0", "institution": w.a.slug }),
            )
            .await;
    assert_eq!(r.ok()["active"], "test.grading@2.0.0");
    w.a.admin
        .post(
            "/api/v1/plugins/slots/grading/activate",
            json!({ "plugin": "test.grading@2.0.0", "institution": w.b.slug }),
        )
        .await
        .assert_problem(403, "forbidden");
    w.a.admin
        .post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@2.0.0" }))
        .await
        .assert_problem(403, "forbidden");
    root.post("/api/v1/plugins/slots/karaoke/activate", json!({ "plugin": "x@1" }))
        .await
        .assert_problem(400, "bad-parameter");
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "nope@1.0.0" }))
        .await
        .assert_problem(404, "not-found");

    let list = root.get("/api/v1/plugins").await;
    let items = list.ok().as_array().unwrap().clone();
    for p in &items {
        crate::schema::assert_matches_openapi(root, p, "Plugin").await;
    }
    let v1 = items.iter().find(|p| p["key"] == "test.grading@1.0.0").unwrap();
    let v2 = items.iter().find(|p| p["key"] == "test.grading@2.0.0").unwrap();
    assert_eq!(v1["status"], "active");
    assert_eq!(v1["active_in"], json!(["platform"]));
    assert_eq!(v2["active_in"], json!([w.a.id]));
    assert_eq!(v1["breaker"]["state"], "closed");
    assert!(v1["stats"]["calls"].as_u64().unwrap() >= 2, "init and info ran: {v1}");
    // Operators see the same in /metrics and /readyz.
    let metrics = reqwest::get(format!("{}/metrics", root.base)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("lectern_plugin_calls_total{plugin=\"test.grading@1.0.0\",slot=\"grading\"}"),
        "{metrics}"
    );
    assert!(metrics.trim_end().ends_with("# EOF"));
    let ready = root.get("/readyz").await;
    assert_eq!(ready.ok()["checks"]["plugins"]["active"], 2);
    // Institution B's admin does not learn what A chose.
    let seen_by_b = w.b.admin.get("/api/v1/plugins").await;
    let v2_for_b =
        seen_by_b.ok().as_array().unwrap().iter().find(|p| p["key"] == "test.grading@2.0.0").unwrap().clone();
    assert_eq!(v2_for_b["active_in"], json!([]));
    assert_eq!(v2_for_b["status"], "standby", "still the platform's rollback target");
    // Students see nothing of this.
    crate::create_user(&w.a.admin, &w.a.slug, "stu@alpha.test", "member").await;
    w.login(&w.a.slug, "stu@alpha.test").await.get("/api/v1/plugins").await.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn a_rollback_with_no_previous_version_is_its_own_problem() {
    let w = World::new().await;
    let root = &w.root;
    // Nothing active in the slot: there is nothing to roll back at all.
    root.post("/api/v1/plugins/slots/grading/rollback", json!({})).await.assert_problem(404, "not-found");
    upload(root, manifest("1.0.0", 1), guests::GRADING_V1, None).await.ok();
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@1.0.0" })).await.ok();
    // One version active and none before it: not "plugin not found", but a conflict that says why.
    let r = root.post("/api/v1/plugins/slots/grading/rollback", json!({})).await;
    r.assert_problem(409, "no-previous-version");
    assert!(r.body["detail"].as_str().unwrap().contains("no previous version"), "{}", r.body);
    // The problem type is documented where its `type` points.
    assert_eq!(root.get("/problems/no-previous-version").await.ok()["status"], 409);
    assert_eq!(
        w.server.kernel.host().active_key(lectern_host::Slot::Grading, &w.a.id).as_deref(),
        Some("test.grading@1.0.0")
    );
}

#[tokio::test]
async fn an_institution_goes_back_to_the_platform_default() {
    let w = World::new().await;
    let root = &w.root;
    upload(root, manifest("1.0.0", 1), guests::GRADING_V1, None).await.ok();
    upload(root, manifest("2.0.0", 2), guests::GRADING_V2, None).await.ok();
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@1.0.0" })).await.ok();
    let serving = |inst: &str| w.server.kernel.host().active_key(lectern_host::Slot::Grading, inst);

    // Its own grader: the response names the platform default that served it until now.
    let r =
        w.a.admin
            .post(
                "/api/v1/plugins/slots/grading/activate",
                json!({ "plugin": "test.grading@2.0.0", "institution": w.a.slug }),
            )
            .await;
    assert_eq!(r.ok()["active"], "test.grading@2.0.0");
    assert_eq!(r.body["previous"], "test.grading@1.0.0", "{}", r.body);
    crate::schema::assert_matches_openapi(root, &r.body, "ActivationDto").await;
    assert_eq!(serving(&w.a.id).as_deref(), Some("test.grading@2.0.0"));
    assert_eq!(serving(&w.b.id).as_deref(), Some("test.grading@1.0.0"));

    // Another institution's admin cannot touch it.
    let path = format!("/api/v1/plugins/slots/grading/institutions/{}", w.a.slug);
    w.b.admin.delete(&path).await.assert_problem(403, "forbidden");
    w.a.admin.delete("/api/v1/plugins/slots/karaoke/institutions/alpha").await.assert_problem(400, "bad-parameter");
    w.a.admin.delete("/api/v1/plugins/slots/grading/institutions/nowhere").await.assert_problem(404, "not-found");

    // Back to the platform default.
    let r = w.a.admin.delete(&path).await;
    assert_eq!(r.ok()["active"], "test.grading@1.0.0", "{}", r.body);
    assert_eq!(r.body["previous"], "test.grading@2.0.0");
    crate::schema::assert_documented_response(
        root,
        "delete",
        "/api/v1/plugins/slots/{slot}/institutions/{institution}",
        "200",
        "DefaultRestoredDto",
    )
    .await;
    crate::schema::assert_matches_openapi(root, &r.body, "DefaultRestoredDto").await;
    assert_eq!(serving(&w.a.id).as_deref(), Some("test.grading@1.0.0"));
    let list = root.get("/api/v1/plugins").await;
    let v2 = list.ok().as_array().unwrap().iter().find(|p| p["key"] == "test.grading@2.0.0").unwrap().clone();
    assert_eq!(v2["active_in"], json!([]), "{v2}");
    // The institution now follows the platform's changes.
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@2.0.0" })).await.ok();
    assert_eq!(serving(&w.a.id).as_deref(), Some("test.grading@2.0.0"));
    // Asking again changes nothing and says so.
    let r = w.a.admin.delete(&path).await;
    assert_eq!(r.ok()["active"], "test.grading@2.0.0");
    assert_eq!(r.body["previous"], "test.grading@2.0.0");
}

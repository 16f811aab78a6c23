//! Observer plugins (`lectern:plugin@0.2.0`) over HTTP against the real
//! kernel: the example `plugins/examples/grade-webhook` is uploaded with a
//! grant naming a local receiver's host, activated beside the grading slot,
//! configured through the settings API, and fed by the real pipeline
//! (attempt.submitted → grading plugin → gradebook → grade.recorded → bus →
//! observer → HTTP). Another institution's endpoint on a host the
//! administrator did not grant is refused by the kernel and never contacted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lectern_e2e::{Api, Options, guests};
use serde_json::{Value, json};

use crate::pipeline::{fast_retries, submission, upload_plugin, webhook_receiver};
use crate::{World, create_user, eventually};

const ID: &str = "org.example.grade-webhook";

/// A listener that only counts the connections made to it.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, count)
}

async fn upload_observer(root: &Api, grant: Value) -> lectern_e2e::Reply {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/grade-webhook");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    crate::plugins::upload(root, manifest, guests::EXAMPLE_GRADE_WEBHOOK, Some(&grant.to_string())).await
}

#[tokio::test]
async fn the_grade_webhook_posts_recorded_grades_to_the_granted_host_only() {
    let w = World::with(Options { kernel: Box::new(fast_retries), ..Default::default() }).await;
    let root = &w.root;
    upload_plugin(root, "test.grading", guests::GRADING_V1).await;
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@1.0.0" })).await.ok();

    let (hook_url, hooks) = webhook_receiver().await;
    let granted = hook_url.trim_start_matches("http://").trim_end_matches("/hook").to_owned();
    let (other_port, other_connections) = counting_listener().await;

    // The manifest asks for "*": the hosts the administrator names. Naming none is refused.
    let base_grant = json!({ "kv_quota_bytes": 65536, "subscribe": ["grade.recorded"] });
    upload_observer(root, base_grant.clone()).await.assert_problem(422, "validation");
    let mut grant = base_grant.clone();
    grant["outbound_hosts"] = json!([granted]);
    let r = upload_observer(root, grant).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["slot"], "observer");
    assert_eq!(r.body["grants"]["outbound_hosts"], json!([granted]), "the review shows the granted hosts");
    assert_eq!(r.body["grants"]["subscribe"], json!(["grade.recorded"]));
    assert!(r.body["imports"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().starts_with("wasi:http/")));
    let key = format!("{ID}@1.0.0");
    let r = root.post("/api/v1/plugins/slots/observer/activate", json!({ "plugin": key })).await;
    assert_eq!(r.ok()["active"], key);
    // Beside the slots, not in one: the grading plugin still serves.
    let list = root.get("/api/v1/plugins").await.ok().clone();
    let status = |k: &str| list.as_array().unwrap().iter().find(|p| p["key"] == k).unwrap()["status"].clone();
    assert_eq!((status("test.grading@1.0.0"), status(&key)), (json!("active"), json!("active")));

    // Settings: platform-wide by the platform administrator; an institution
    // administrator for their own institution only.
    let settings = json!({ "endpoint": hook_url, "token": "t0k" });
    let path = format!("/api/v1/plugins/{ID}/settings");
    w.a.admin.put(&path, json!({ "settings": settings })).await.assert_problem(403, "forbidden");
    root.put(&path, json!({ "settings": ["not", "an", "object"] })).await.assert_problem(422, "validation");
    let r = root.put(&path, json!({ "settings": settings })).await;
    assert_eq!(r.ok()["scope"], "platform");
    assert_eq!(root.get(&path).await.ok()["settings"], settings);
    let elsewhere = json!({ "endpoint": format!("http://127.0.0.1:{other_port}/steal") });
    w.b.admin.put(&path, json!({ "institution": "beta", "settings": elsewhere })).await.ok();
    assert_eq!(w.b.admin.get(&format!("{path}?institution=beta")).await.ok()["settings"], elsewhere);
    w.b.admin.get(&format!("{path}?institution=alpha")).await.assert_problem(403, "forbidden");

    eventually("the observer's subscription", async || {
        let t = root.get("/api/v1/admin/bus/topics").await;
        let found = t.body["topics"].as_array()?.iter().any(|t| {
            t["topic"] == "grade.recorded"
                && t["subscriptions"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["subscription"] == format!("plugin.{ID}")))
        });
        found.then_some(())
    })
    .await;

    // A grade recorded by the real pipeline in alpha reaches the receiver.
    let student = create_user(&w.a.admin, "alpha", "ada@alpha.test", "member").await;
    let course =
        w.a.admin.post("/api/v1/institutions/alpha/courses", json!({ "code": "C-1", "title": "C" })).await.ok()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let attempt = json!({
        "institution": w.a.id, "course": course, "item": "quiz-1", "attempt": "att-1", "student": student, "submitted_at": 0,
        "submissions": [submission("q1", json!({ "true_false": true }), json!({ "boolean": true }), 2.0)],
        "item_points": 10.0
    });
    let r = root
        .post("/api/v1/admin/bus/topics/attempt.submitted/messages", json!({ "key": "att-1", "payload": attempt }))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let hook = eventually("the webhook delivery", async || hooks.lock().unwrap().first().cloned()).await;
    assert_eq!(hook.headers["authorization"], "Bearer t0k");
    assert!(!hook.headers["idempotency-key"].is_empty());
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["event"], "grade.recorded");
    assert_eq!((body["institution"].as_str(), body["course"].as_str()), (Some(w.a.id.as_str()), Some(course.as_str())));
    assert_eq!(body["grade"]["student"], student);
    assert_eq!(body["grade"]["points"], 10.0);

    // In beta the configured endpoint's host was never granted: the kernel
    // refuses the request, the delivery fails (and is retried, then
    // dead-lettered), and the host sees no connection at all.
    let grade = json!({ "institution": w.b.id, "course": "c-b", "item": "i", "student": student, "attempt": null,
        "points": 1.0, "max_points": 2.0, "status": "graded", "previous_points": null, "graded_by": "manual", "revision": 1, "reason": "test" });
    let r =
        root.post("/api/v1/admin/bus/topics/grade.recorded/messages", json!({ "key": "b-1", "payload": grade })).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let host = w.server.kernel.host().clone();
    let beta = w.b.id.clone();
    let outcome = eventually("the refused delivery", async || {
        host.plugin_kv(ID, &beta, "last-outcome").unwrap().map(|v| String::from_utf8(v).unwrap())
    })
    .await;
    assert!(outcome.contains("HttpRequestDenied"), "{outcome}");
    assert_eq!(other_connections.load(Ordering::SeqCst), 0, "the host that was not granted is never contacted");
    assert_eq!(hooks.lock().unwrap().len(), 1, "beta's grade did not go to alpha's endpoint either");

    // Stopping the observer; rolling back an observer needs to say which one.
    root.post("/api/v1/plugins/slots/observer/rollback", json!({})).await.assert_problem(422, "validation");
    let r = root.post("/api/v1/plugins/slots/observer/deactivate", json!({ "plugin": ID })).await;
    assert_eq!(r.ok()["stopped"], key);
    let r = root.post("/api/v1/plugins/slots/grading/deactivate", json!({ "plugin": "test.grading" })).await;
    r.assert_problem(409, "conflict");
}

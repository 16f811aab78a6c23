//! The asynchronous pipeline end to end, over HTTP with the real compiled
//! grading plugin, the embedded bus, a real SMTP server (aiosmtpd) and a
//! local webhook receiver:
//! attempt.submitted → grading plugin → gradebook → grade.recorded →
//! completion → course.completed → credential (exactly once, even when the
//! completion event arrives twice) → email + signed webhook; credentials are
//! verified by the server, and independently by the Digital Bazaar libraries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use lectern_e2e::{Api, Options, guests};
use serde_json::{Value, json};

use crate::{World, create_user, eventually};

/// aiosmtpd, started by the test (see kernel/lectern-notify/tests/smtp_sink.py).
pub(crate) struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    pub(crate) port: u16,
}

impl SmtpSink {
    pub(crate) fn start() -> SmtpSink {
        let import = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        assert!(
            import.map(|o| o.status.success()).unwrap_or(false),
            "python3 with aiosmtpd is needed for the email test: run `cargo xtask setup`"
        );
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kernel/lectern-notify/tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().expect("smtp_sink prints its port");
        SmtpSink { child, dir, port }
    }

    /// Messages received so far (raw RFC 5322 text).
    pub(crate) fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// A local HTTP receiver that records every webhook delivery.
pub(crate) async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Hook>>>) {
    let seen: Arc<Mutex<Vec<Hook>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(Hook { headers, body: body.to_vec() });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

pub(crate) async fn upload_plugin(root: &Api, id: &str, wasm: &str) {
    let manifest = json!({ "id": id, "version": "1.0.0", "slot": "grading", "data_version": 1,
        "capabilities": { "kv_quota_bytes": 1_048_576, "subscribe": ["grade.recorded"] }, "resources": { "memory_mib": 64, "call_timeout_ms": 500 } });
    let r = crate::plugins::upload(root, manifest.to_string(), wasm, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Three quick attempts, so failures reach the dead letters within the test.
pub(crate) fn fast_retries(k: &mut lectern_core::KernelConfig) {
    let fast = lectern_core::workers::RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    k.bus.grading = fast;
    k.bus.default = fast;
}

pub(crate) fn submission(question: &str, key: Value, response: Value, points: f64) -> Value {
    json!({
        "question": { "id": question, "key": key, "points": points },
        "response": response,
        "penalties": { "previous_tries": 0, "per_try": 0.0, "hints_used": 0, "per_hint": 0.0,
                       "late_seconds": 0, "per_late_day": 0.0, "max_total": 1.0 }
    })
}

fn verify_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_owned()),
            Some(("v1", x)) => v1 = Some(x.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

/// Verifies with the Digital Bazaar libraries (tests/js/verify.mjs); true when verified.
fn js_verifies(credential: &Value, status_list: &Value) -> bool {
    let js = crate::schema::js_dir();
    crate::schema::ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("credential.json");
    let l = dir.path().join("status.json");
    std::fs::write(&c, credential.to_string()).unwrap();
    std::fs::write(&l, status_list.to_string()).unwrap();
    let out = Command::new("node").arg(js.join("verify.mjs")).arg(&c).arg(&l).output().expect("node runs");
    eprintln!("verify.mjs: {}", String::from_utf8_lossy(&out.stdout).trim());
    out.status.success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_to_grade_to_credential_email_and_webhook() {
    let smtp = SmtpSink::start();
    let smtp_port = smtp.port;
    let w = World::with(Options {
        kernel: Box::new(move |k| {
            k.email = Some(lectern_core::workers::SmtpConfig {
                host: "127.0.0.1".into(),
                port: smtp_port,
                tls: lectern_core::workers::TlsMode::None,
                username: None,
                password: None,
                from: "Lectern <no-reply@lectern.test>".into(),
                timeout: Duration::from_secs(10),
            });
            k.webhooks.allow_private_addresses = true;
            fast_retries(k);
        }),
        ..Default::default()
    })
    .await;
    let root = &w.root;
    upload_plugin(root, "test.grading", guests::GRADING_V1).await;
    root.post("/api/v1/plugins/slots/grading/activate", json!({ "plugin": "test.grading@1.0.0" })).await.ok();

    // A course with an instructor and a student, completed by passing its quiz.
    let admin = &w.a.admin;
    let inst = &w.a.id;
    let teacher = create_user(admin, "alpha", "teacher@alpha.test", "staff").await;
    let student = create_user(admin, "alpha", "ada@alpha.test", "member").await;
    let r = admin
        .post(
            "/api/v1/institutions/alpha/courses",
            json!({ "code": "PHYS-101", "title": "Physics I", "description": "Mechanics" }),
        )
        .await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/alpha/courses/{course}");
    admin.post(&format!("{base}/enrolments"), json!({ "user_id": teacher, "role": "instructor" })).await.ok();
    admin.post(&format!("{base}/enrolments"), json!({ "user_id": student, "role": "student" })).await.ok();
    admin.post_empty(&format!("{base}/publish")).await.ok();
    let teacher_api = w.login("alpha", "teacher@alpha.test").await;
    let student_api = w.login("alpha", "ada@alpha.test").await;
    let quiz = json!({ "title": "Quiz 1", "questions": [
        { "id": "q1", "prompt": "True?", "points": 2.0, "key": { "true_false": true } }] });
    let r = teacher_api.post(&format!("{base}/assessments"), quiz).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let quiz = r.body["id"].as_str().unwrap().to_owned();
    teacher_api.patch(&format!("/api/v1/assessments/{quiz}"), json!({ "published": true })).await.ok();
    teacher_api
        .put(&format!("{base}/completion-rule"), json!({ "required_items": [quiz], "min_percent": 50.0 }))
        .await
        .ok();
    // Students cannot change the rule or see the gradebook.
    student_api
        .put(&format!("{base}/completion-rule"), json!({ "required_items": ["x"], "min_percent": 0.0 }))
        .await
        .assert_problem(403, "forbidden");
    student_api.get(&format!("{base}/gradebook")).await.assert_problem(403, "forbidden");

    let (hook_url, hooks) = webhook_receiver().await;
    let r = admin
        .post(
            "/api/v1/institutions/alpha/webhooks",
            json!({ "url": hook_url, "events": ["grade.recorded", "credential.issued"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let created_hook = r.body.clone();
    assert!(
        admin.get("/api/v1/institutions/alpha/webhooks").await.ok()["items"][0].get("secret").is_none(),
        "the secret is shown once"
    );

    // The grading plugin subscribes to grade.recorded: wait until its delivery worker is attached.
    eventually("the plugin's subscription", async || {
        let t = root.get("/api/v1/admin/bus/topics").await;
        let found = t.body["topics"].as_array()?.iter().any(|t| {
            t["topic"] == "grade.recorded"
                && t["subscriptions"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["subscription"] == "plugin.test.grading"))
        });
        found.then_some(())
    })
    .await;

    // The assessments issue will publish this on submit; here the test publishes it itself.
    let attempt = json!({
        "institution": inst, "course": course, "item": quiz, "attempt": "att-1", "student": student, "submitted_at": 0,
        "submissions": [
            submission("q1", json!({ "true_false": true }), json!({ "boolean": true }), 2.0),
            submission("q2", json!({ "numeric": { "value": 9.81, "absolute_tolerance": 0.05, "relative_tolerance": null, "units": [], "unit_missing_credit": 0.0 } }),
                       json!({ "number": { "value": 9.8, "unit": null } }), 3.0),
        ],
        "item_points": 10.0
    });
    // Only platform administrators may publish by hand.
    admin
        .post("/api/v1/admin/bus/topics/attempt.submitted/messages", json!({ "key": "att-1", "payload": attempt }))
        .await
        .assert_problem(403, "forbidden");
    let r = root
        .post("/api/v1/admin/bus/topics/attempt.submitted/messages", json!({ "key": "att-1", "payload": attempt }))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    crate::schema::assert_matches_openapi(root, &r.body, "Published").await;

    let grades_path = format!("{base}/students/{student}/grades");
    let grade = eventually("the grade", async || {
        let r = student_api.get(&grades_path).await;
        r.body["items"].as_array().and_then(|a| a.first().cloned())
    })
    .await;
    assert_eq!(grade["status"], "graded", "{grade}");
    assert_eq!(grade["points"], 10.0, "5 of 5 question points scaled to the item's 10: {grade}");
    assert_eq!(grade["max_points"], 10.0);
    assert_eq!(grade["graded_by"], "plugin:test.grading@1.0.0");
    assert_eq!(grade["questions"].as_array().unwrap().len(), 2);

    // The plugin received grade.recorded through lifecycle.on-event, once, in its institution's scope.
    let host = w.server.kernel.host().clone();
    let inst_id = inst.clone();
    eventually("the plugin's on-event delivery", async || {
        host.plugin_kv("test.grading", &inst_id, "events/grade.recorded").unwrap().filter(|v| v == b"1")
    })
    .await;

    // Completion → exactly one credential.
    let credential = eventually("the credential", async || {
        let r = student_api.get("/api/v1/me/credentials").await;
        r.body["items"].as_array().and_then(|a| a.first().cloned())
    })
    .await;
    // The completion event delivered again (a second copy, new message id): still one credential.
    let completed =
        json!({ "institution": inst, "course": course, "student": student, "percent": 100.0, "completed_at": 0 });
    root.post("/api/v1/admin/bus/topics/course.completed/messages", json!({ "key": student, "payload": completed }))
        .await
        .ok();
    root.post("/api/v1/admin/bus/topics/course.completed/messages", json!({ "key": student, "payload": completed }))
        .await
        .ok();
    eventually("the certificate worker to drain", async || {
        let t = root.get("/api/v1/admin/bus/topics").await;
        let topics = t.body["topics"].as_array()?.clone();
        let cert = topics.iter().find(|t| t["topic"] == "course.completed")?;
        let sub = cert["subscriptions"].as_array()?.iter().find(|s| s["subscription"] == "certificates")?.clone();
        (cert["next_offset"].as_u64()? >= 3 && sub["backlog"] == 0 && sub["in_flight"] == 0).then_some(())
    })
    .await;
    let items = student_api.get("/api/v1/me/credentials").await.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "one credential per completion, however often it is announced");

    // The credential: stable URL, JSON and HTML views, server-side verification.
    let url = credential["url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&w.server.base).unwrap().to_owned();
    let json_view = w.server.client().http.get(&url).header("accept", "application/json").send().await.unwrap();
    assert_eq!(json_view.status(), 200);
    let vc: Value = json_view.json().await.unwrap();
    assert_eq!(vc, credential["credential"]);
    assert_eq!(vc["credentialSubject"]["achievement"]["name"], "Physics I");
    assert!(vc["issuer"]["id"].as_str().unwrap().starts_with("did:key:z6Mk"));
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    // Open Badges 3.0: the subject is identified (`id` or `identifier`), here by the salted hash
    // of the student's email; the whole credential passes the OB 3.0 schema check.
    let identifier = &vc["credentialSubject"]["identifier"][0];
    assert_eq!(identifier["identityType"], "emailAddress", "{vc}");
    assert_eq!(identifier["hashed"], true);
    let salt = identifier["salt"].as_str().unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("ada@alpha.test{salt}"));
    let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(identifier["identityHash"], format!("sha256${hash}"));
    assert!(!vc.to_string().contains("ada@alpha.test"), "the email itself is not in the credential");
    let ob3: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::schema::js_dir().join("schemas/open-badges-3.0-achievement-credential.json"))
            .unwrap(),
    )
    .unwrap();
    if let Err(errors) = crate::schema::validate(&ob3, &vc, None) {
        panic!("the issued credential fails the Open Badges 3.0 schema: {errors}\n{vc}");
    }
    let html = w.server.client().http.get(&url).header("accept", "text/html").send().await.unwrap();
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = html.text().await.unwrap();
    assert!(page.contains("Physics I") && page.contains("ada") && page.contains("verified"), "{page}");
    let anon = w.server.client();
    let v = anon.post("/api/v1/credentials/verify", vc.clone()).await;
    assert_eq!(v.ok()["verified"], true, "{}", v.body);
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Physics II");
    assert_eq!(anon.post("/api/v1/credentials/verify", tampered.clone()).await.ok()["verified"], false);

    // Independent verification: Digital Bazaar's vc + eddsa-jcs-2022 libraries.
    let status_url = vc["credentialStatus"]["statusListCredential"].as_str().unwrap().to_owned();
    let status_list: Value = w.server.client().http.get(&status_url).send().await.unwrap().json().await.unwrap();
    assert!(js_verifies(&vc, &status_list), "the JavaScript verifier rejects a credential the server issued");
    assert!(!js_verifies(&tampered, &status_list), "the JavaScript verifier accepts a tampered credential");

    // Email through the real SMTP server.
    let mail = eventually("the credential email", async || {
        smtp.messages().into_iter().find(|m| m.contains("credential for Physics I is ready"))
    })
    .await;
    assert!(mail.contains("ada@alpha.test"), "{mail}");
    assert!(mail.contains(&url), "the email links the credential: {mail}");

    // Webhooks: signed with the registered secret, one per event, each delivered once.
    let delivered = eventually("the credential webhook", async || {
        let seen = hooks.lock().unwrap().clone();
        seen.iter().any(|h| h.headers["lectern-event"] == "credential.issued").then_some(seen)
    })
    .await;
    for h in &delivered {
        let sig = h.headers["lectern-signature"].to_str().unwrap();
        assert!(verify_signature(&secret, sig, &h.body), "bad signature {sig}");
        assert!(!verify_signature("whsec_wrong", sig, &h.body));
    }
    let kinds: Vec<&str> = delivered.iter().map(|h| h.headers["lectern-event"].to_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "credential.issued").count(), 1, "{kinds:?}");
    let body: Value = serde_json::from_slice(
        &delivered.iter().find(|h| h.headers["lectern-event"] == "credential.issued").unwrap().body,
    )
    .unwrap();
    assert_eq!(body["data"]["url"], url);

    // In-app inbox.
    let inbox = student_api.get("/api/v1/me/notifications").await.ok()["items"].as_array().unwrap().clone();
    let kinds: Vec<&str> = inbox.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"grade.recorded")
            && kinds.contains(&"credential.issued")
            && kinds.contains(&"course.completed"),
        "{kinds:?}"
    );
    let id = inbox[0]["id"].as_str().unwrap();
    let read = student_api.post_empty(&format!("/api/v1/me/notifications/{id}/read")).await.ok().clone();
    let unread = student_api.get("/api/v1/me/notifications?unread=true").await.ok()["items"].as_array().unwrap().len();
    assert_eq!(unread, inbox.len() - 1);
    // Links lead into the web application; "mark all read" clears the rest in one request.
    let grade = inbox.iter().find(|n| n["kind"] == "grade.recorded").unwrap();
    assert!(
        grade["link"].as_str().unwrap().starts_with("/courses/")
            && grade["link"].as_str().unwrap().ends_with("/grades")
    );
    let all = student_api.post_empty("/api/v1/me/notifications/read-all").await;
    assert_eq!(all.ok()["marked"], unread);
    assert_eq!(student_api.post_empty("/api/v1/me/notifications/read-all").await.ok()["marked"], 0);
    let unread = student_api.get("/api/v1/me/notifications?unread=true").await.ok()["items"].as_array().unwrap().len();
    assert_eq!(unread, 0);

    // Revocation: the server and the JavaScript verifier both see it.
    student_api
        .post(&format!("/api/v1/credentials/{}/revoke", credential["id"].as_str().unwrap()), json!({ "reason": "x" }))
        .await
        .assert_problem(403, "forbidden");
    let revoked = admin
        .post(
            &format!("/api/v1/credentials/{}/revoke", credential["id"].as_str().unwrap()),
            json!({ "reason": "issued in error" }),
        )
        .await
        .ok()
        .clone();
    let v = anon.post("/api/v1/credentials/verify", vc.clone()).await;
    assert_eq!(v.ok()["verified"], false, "{}", v.body);
    assert!(
        v.body["checks"].as_array().unwrap().iter().any(|c| c["check"] == "status" && c["ok"] == false),
        "{}",
        v.body
    );
    let status_list: Value = w.server.client().http.get(&status_url).send().await.unwrap().json().await.unwrap();
    assert!(!js_verifies(&vc, &status_list), "the JavaScript verifier misses the revocation");
    let page = w
        .server
        .client()
        .http
        .get(format!("{}{path}", w.server.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("revoked"));

    // Each body above is what the OpenAPI document says it is: a client typed from it can trust it.
    let grades = student_api.get(&grades_path).await.ok().clone();
    assert_eq!(grades["completion"]["percent"], 100.0, "{grades}");
    let hook = created_hook["id"].as_str().unwrap();
    let documented = [
        (grades, "StudentGrades"),
        (teacher_api.get(&format!("{base}/completion-rule")).await.ok().clone(), "CompletionRule"),
        (student_api.get("/api/v1/me/credentials").await.ok().clone(), "CredentialList"),
        (v.body.clone(), "Verification"),
        (revoked, "RevokedCredential"),
        (student_api.get("/api/v1/me/notifications").await.ok().clone(), "NotificationList"),
        (read, "Notification"),
        (student_api.get("/api/v1/me/notification-preferences").await.ok().clone(), "Preferences"),
        (created_hook.clone(), "CreatedWebhook"),
        (admin.get("/api/v1/institutions/alpha/webhooks").await.ok().clone(), "WebhookList"),
        (
            admin.get(&format!("/api/v1/institutions/alpha/webhooks/{hook}/deliveries")).await.ok().clone(),
            "WebhookDeliveries",
        ),
        (root.get("/api/v1/admin/bus/topics").await.ok().clone(), "BusTopics"),
    ];
    for (body, schema) in &documented {
        crate::schema::assert_matches_openapi(root, body, schema).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grading_failures_are_retried_dead_lettered_shown_to_instructors_and_replayable() {
    let w = World::with(Options {
        kernel: Box::new(|k| {
            fast_retries(k);
        }),
        ..Default::default()
    })
    .await;
    let root = &w.root;
    upload_plugin(root, "test.hostile", guests::HOSTILE).await;
    root.post(
        "/api/v1/plugins/slots/grading/activate",
        json!({ "plugin": "test.hostile@1.0.0", "institution": "beta" }),
    )
    .await
    .ok();
    let admin = &w.b.admin;
    let student = create_user(admin, "beta", "bo@beta.test", "member").await;
    let r = admin
        .post("/api/v1/institutions/beta/courses", json!({ "code": "CS-1", "title": "Computing", "description": "" }))
        .await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/beta/courses/{course}");
    admin.post(&format!("{base}/enrolments"), json!({ "user_id": student, "role": "student" })).await.ok();
    let attempt = json!({
        "institution": w.b.id, "course": course, "item": "quiz-9", "attempt": "att-9", "student": student, "submitted_at": 0,
        "submissions": [ submission("panic", json!({ "true_false": true }), json!({ "boolean": true }), 1.0) ]
    });
    root.post("/api/v1/admin/bus/topics/attempt.submitted/messages", json!({ "key": "att-9", "payload": attempt }))
        .await
        .ok();
    // A payload that can never be graded goes straight to the dead letters.
    root.post(
        "/api/v1/admin/bus/topics/attempt.submitted/messages",
        json!({ "key": "junk", "payload": { "not": "an attempt" } }),
    )
    .await
    .ok();

    let failed = eventually("the failure in the gradebook", async || {
        let r = admin.get(&format!("{base}/gradebook")).await;
        r.body["items"].as_array().and_then(|a| a.iter().find(|g| g["status"] == "grading_failed").cloned())
    })
    .await;
    assert!(failed["error"].as_str().unwrap().contains("plugin crashed"), "{failed}");
    let letters = eventually("two dead letters", async || {
        let r = root.get("/api/v1/admin/bus/dead-letters").await;
        r.body["items"].as_array().filter(|a| a.len() == 2).cloned()
    })
    .await;
    let plugin_failure = letters.iter().find(|l| l["key"] == "att-9").unwrap();
    assert_eq!(plugin_failure["attempts"], 3, "{plugin_failure}");
    assert_eq!(plugin_failure["origin_topic"], "attempt.submitted");
    let junk = letters.iter().find(|l| l["key"] == "junk").unwrap();
    assert_eq!(junk["attempts"], 1, "a malformed payload is not retried: {junk}");
    assert!(junk["last_error"].as_str().unwrap().contains("malformed"));
    w.b.admin.get("/api/v1/admin/bus/dead-letters").await.assert_problem(403, "forbidden");

    // Fix the cause (the platform grader serves beta again), then replay: the grade arrives.
    upload_plugin(root, "test.grading", guests::GRADING_V1).await;
    root.post(
        "/api/v1/plugins/slots/grading/activate",
        json!({ "plugin": "test.grading@1.0.0", "institution": "beta" }),
    )
    .await
    .ok();
    let topic = plugin_failure["topic"].as_str().unwrap();
    let offset = plugin_failure["offset"].as_u64().unwrap();
    let dead = root.get("/api/v1/admin/bus/dead-letters").await;
    crate::schema::assert_matches_openapi(root, dead.ok(), "DeadLetterList").await;
    let r = root.post_empty(&format!("/api/v1/admin/bus/dead-letters/{topic}/{offset}/replay")).await;
    assert_eq!(r.status, 202, "{}", r.body);
    crate::schema::assert_matches_openapi(root, &r.body, "Replayed").await;
    root.delete(&format!("/api/v1/admin/bus/dead-letters/{topic}/{}", junk["offset"])).await;
    // A submission answered by question id "panic" is graded normally by the honest grader.
    let grade = eventually("the replayed grade", async || {
        let r = admin.get(&format!("{base}/gradebook")).await;
        r.body["items"].as_array().and_then(|a| a.iter().find(|g| g["status"] == "graded").cloned())
    })
    .await;
    assert_eq!(grade["points"], 1.0);
    assert_eq!(grade["history"].as_array().unwrap().len(), 2, "the failure stays in the history: {grade}");
    let left = root.get("/api/v1/admin/bus/dead-letters").await.ok()["items"].as_array().unwrap().len();
    assert_eq!(left, 0);
    // The grade commits before the worker acknowledges the message, so the
    // backlog reaches 0 a moment after the grade is visible.
    let metrics = eventually("the grading backlog to drain", async || {
        let m =
            w.server.client().http.get(format!("{}/metrics", w.server.base)).send().await.ok()?.text().await.ok()?;
        m.contains("lectern_bus_backlog{topic=\"attempt.submitted\",subscription=\"grading\"} 0").then_some(m)
    })
    .await;
    assert!(metrics.contains("lectern_worker_dead_lettered_total{worker=\"grading\"} 2"), "{metrics}");
}

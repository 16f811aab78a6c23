//! Proctoring over HTTP with the real first-party proctoring plugin
//! (`plugins/proctoring`): signal batches from the exam page, the kernel's
//! own `device_changed`, refused batches that change nothing, the review
//! queue, an instructor's review, who may read a record, and the
//! `lock_attempt` policy submitting an attempt. Expected scores follow the
//! plugin README's rules and default weights.

use std::time::{SystemTime, UNIX_EPOCH};

use lectern_e2e::{Api, Reply, guests};
use reqwest::header::USER_AGENT;
use serde_json::{Value, json};

use crate::World;
use crate::question_types::{Class, start};

const PROCTORING_MANIFEST: &str = include_str!("../../plugins/proctoring/manifest.json");

pub(crate) async fn install_proctoring_plugin(w: &World) {
    let wasm = std::fs::read(guests::PROCTORING_PLUGIN).expect("the proctoring plugin was built");
    let b = w.server.kernel.plugins().install_bundled(PROCTORING_MANIFEST, &wasm).await.expect("installs");
    assert!(b.activated, "{b:?}");
}

const SEC: u64 = 1_000;
const MIN: u64 = 60 * SEC;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The README's default weights, spelled out.
fn policy(action: &str) -> Value {
    json!({
        "weights": {"focus_lost": 0.3, "visibility_hidden": 0.3, "paste": 0.3, "heartbeat": 0.25, "device_changed": 0.5},
        "flag_threshold": 0.5,
        "heartbeat_interval_ms": 15000,
        "allow_copy_paste": false,
        "action": action,
    })
}

fn exam(action: &str) -> Value {
    let sa = |id: &str| {
        json!({"id": id, "points": 1.0, "key": {"short_answer": {"alternatives": [
            {"pattern": "x", "regex": false, "credit": 1.0, "feedback": null}], "case_sensitive": false, "normalize_whitespace": true}}})
    };
    json!({"title": "Proctored", "questions": [sa("q1"), sa("q2")], "settings": {"proctoring": policy(action)}})
}

fn sig(kind: &str, at_ms: u64, duration_ms: Option<u64>, detail: Option<&str>) -> Value {
    json!({"kind": kind, "at_ms": at_ms, "duration_ms": duration_ms, "detail": detail})
}

/// Heartbeats every 15 s from `from` to `to` (inclusive), in ms from the start.
fn heartbeats(t0: u64, from: u64, to: u64) -> Vec<Value> {
    (from..=to).step_by(15_000).map(|t| sig("heartbeat", t0 + t, None, None)).collect()
}

/// Sends a batch from a browser identified by `ua`.
async fn send(api: &Api, attempt: &str, ua: &str, seq: u64, signals: Vec<Value>) -> Reply {
    let mut req = api
        .http
        .post(format!("{}{attempt}/signals", api.base))
        .header(USER_AGENT, ua)
        .json(&json!({"seq": seq, "signals": signals}));
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    Api::finish(req).await
}

/// Sends a batch, which must be accepted, and waits until the plugin has
/// scored it (scoring follows the answer): the record's state then.
async fn send_scored(api: &Api, attempt: &str, ua: &str, seq: u64, signals: Vec<Value>) -> Value {
    let r = send(api, attempt, ua, seq, signals).await;
    assert_eq!(r.ok()["last_seq"], seq, "{:#}", r.body);
    let record = format!("{attempt}/proctoring");
    for _ in 0..400 {
        let r = api.get(&record).await;
        if r.ok()["state"]["scored_seq"].as_u64().unwrap_or(0) >= seq {
            return r.body["state"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("batch {seq} of {attempt} was not scored within 20 s");
}

fn flag<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["scored"]["flags"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| panic!("no `{id}` flag: {state:#}"))
}

fn flag_ids(state: &Value) -> Vec<&str> {
    state["scored"]["flags"].as_array().map(|f| f.iter().filter_map(|f| f["id"].as_str()).collect()).unwrap_or_default()
}

fn risk(state: &Value) -> f64 {
    state["scored"]["risk_score"].as_f64().unwrap_or_else(|| panic!("not scored: {state:#}"))
}

fn assert_risk(state: &Value, expected: f64) {
    assert!((risk(state) - expected).abs() < 1e-3, "risk {} ≠ {expected}: {state:#}", risk(state));
}

#[tokio::test]
async fn signals_are_scored_flagged_reviewed_and_shown_to_their_student_only() {
    let w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "PRO").await;
    let id = class.assessment(exam("flag_for_review")).await;
    let (ann, _) = class.student(&w, "ann@alpha.test").await;
    let (bob, _) = class.student(&w, "bob@alpha.test").await;
    let (cat, _) = class.student(&w, "cat@alpha.test").await;
    let (dan, _) = class.student(&w, "dan@alpha.test").await;

    // Ann behaves: heartbeats throughout and one three-second focus loss.
    let ann_attempt = start(&ann, &id).await;
    let t0 = now_ms();
    let mut batch = heartbeats(t0, 0, 2 * MIN);
    batch.push(sig("focus_lost", t0 + 70 * SEC, Some(3 * SEC), None));
    send_scored(&ann, &ann_attempt, "Browser A", 1, batch).await;
    let st = &send_scored(&ann, &ann_attempt, "Browser A", 2, heartbeats(t0, 2 * MIN + 15 * SEC, 5 * MIN)).await;
    assert_eq!(flag_ids(st), Vec::<&str>::new(), "{st:#}");
    assert_risk(st, 0.0);
    assert!(st["scored"]["explanation"].to_string().contains("Left the exam page once"), "noted, not flagged: {st:#}");
    assert_eq!(st["plugin_error"], Value::Null);

    // Cat pastes twice (forbidden): a low-risk `paste` flag, 0.30 × 0.25.
    let cat_attempt = start(&cat, &id).await;
    let t0 = now_ms();
    let mut batch = heartbeats(t0, 0, MIN);
    batch.extend([sig("paste", t0 + 10 * SEC, None, None), sig("paste", t0 + 20 * SEC, None, None)]);
    let st = send_scored(&cat, &cat_attempt, "Browser C", 1, batch).await;
    assert_eq!(flag_ids(&st), ["paste"], "{st:#}");
    assert_risk(&st, 0.3 * 0.25);

    // Bob: three long absences (6 min 30 s: strength 0.65), a 4-minute
    // heartbeat gap (3 min 45 s missing: strength 0.375) and three pastes.
    let bob_attempt = start(&bob, &id).await;
    let t0 = now_ms();
    let mut b1 = heartbeats(t0, 0, MIN);
    b1.push(sig("focus_lost", t0 + 30 * SEC, Some(2 * MIN), None));
    let st = send_scored(&bob, &bob_attempt, "Browser A", 1, b1).await;
    assert_eq!(flag_ids(&st), Vec::<&str>::new(), "one absence of 2 min flags nobody: {st:#}");
    let mut b2 = heartbeats(t0, 5 * MIN, 10 * MIN);
    b2.push(sig("focus_lost", t0 + 5 * MIN + 10 * SEC, Some(3 * MIN), None));
    for (i, q) in ["q1", "q2", "q1"].iter().enumerate() {
        b2.push(sig("paste", t0 + 9 * MIN + i as u64 * 5 * SEC, None, Some(&format!("paste-into-answer:{q}"))));
    }
    send_scored(&bob, &bob_attempt, "Browser A", 2, b2).await;
    let mut b3 = heartbeats(t0, 10 * MIN + 15 * SEC, 12 * MIN);
    b3.push(sig("visibility_hidden", t0 + 10 * MIN + 30 * SEC, Some(90 * SEC), None));
    let st = send_scored(&bob, &bob_attempt, "Browser A", 3, b3).await;
    let away = flag(&st, "away");
    assert_eq!(away["severity"], "medium", "{away:#}");
    assert!(away["reason"].as_str().unwrap().contains("3 times, 6 min 30 s"), "{away:#}");
    assert_eq!(away["evidence"].as_array().unwrap().len(), 3, "{away:#}");
    assert!(away["evidence"][0].as_str().unwrap().starts_with("focus-lost at "), "{away:#}");
    let gap = flag(&st, "heartbeat-gap");
    assert_eq!(gap["severity"], "low");
    assert!(gap["reason"].as_str().unwrap().contains("3 min 45 s"), "{gap:#}");
    // A client cannot claim the kernel's derived checks: its
    // `paste-into-answer:` details are dropped, and the pastes count as pastes.
    let paste = flag(&st, "paste");
    assert_eq!(paste["evidence"].as_array().unwrap().len(), 3, "{paste:#}");
    assert!(!st["scored"]["flags"].to_string().contains("paste-into-answer"), "{st:#}");
    let before_device = 1.0 - (1.0 - 0.3 * 0.65) * (1.0 - 0.25 * 0.375) * (1.0 - 0.3 * 0.5);
    assert_risk(&st, before_device);
    assert!(!flag_ids(&st).contains(&"risk-threshold"), "{st:#}");
    let explanation = st["scored"]["explanation"].as_array().unwrap();
    assert!(explanation[0].as_str().unwrap().starts_with("Risk score 0.38 of 1"), "{st:#}");

    // The same student from another browser: the kernel adds `device_changed`.
    let st =
        send_scored(&bob, &bob_attempt, "Browser B", 4, heartbeats(t0, 12 * MIN + 15 * SEC, 12 * MIN + 30 * SEC)).await;
    assert_eq!(st["plugin_error"], Value::Null, "{st:#}");
    let dev = flag(&st, "device-changed");
    assert_eq!(dev["severity"], "high");
    assert!(dev["evidence"].to_string().contains("Browser B"), "{dev:#}");
    let after_device = 1.0 - (1.0 - before_device) * (1.0 - 0.5);
    assert_risk(&st, after_device);
    assert_eq!(flag(&st, "risk-threshold")["severity"], "medium", "0.69 < (1 + 0.5) / 2");

    // Replays, out-of-order batches and kernel-only kinds are refused and change nothing.
    let record = format!("{bob_attempt}/proctoring");
    let before = bob.get(&record).await.ok().clone();
    assert_eq!(before["batches"].as_array().unwrap().len(), 4);
    let kinds: Vec<&str> =
        before["batches"][3]["signals"].as_array().unwrap().iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds, ["heartbeat", "heartbeat", "device_changed"]);
    let late = || heartbeats(t0, 13 * MIN, 13 * MIN);
    send(&bob, &bob_attempt, "Browser B", 4, late()).await.assert_problem(409, "conflict");
    send(&bob, &bob_attempt, "Browser B", 2, late()).await.assert_problem(409, "conflict");
    let forged = vec![sig("ip_changed", t0 + 13 * MIN, None, Some("from 10.0.0.0/24 to 10.0.1.0/24"))];
    send(&bob, &bob_attempt, "Browser B", 5, forged).await.assert_problem(422, "validation");
    send(&bob, &bob_attempt, "Browser B", 5, vec![]).await.assert_problem(422, "validation");
    assert_eq!(bob.get(&record).await.ok(), &before, "a refused batch changed the record");

    // The review queue: attempts whose score reached the threshold (0.50).
    // Ann is not in it, nor Cat: her `paste` flag (0.08) is evidence, not a reason to review.
    let queue = class.teacher.get(&format!("{}/proctoring/flagged", class.base)).await;
    let attempts: Vec<&str> =
        queue.ok()["items"].as_array().unwrap().iter().filter_map(|s| s["attempt"].as_str()).collect();
    let tail = |p: &str| p.rsplit('/').next().unwrap().to_owned();
    assert_eq!(attempts, [tail(&bob_attempt)]);
    assert_eq!(queue.body["items"][0]["flag_threshold"], 0.5);
    dan.get(&format!("{}/proctoring/flagged", class.base)).await.assert_problem(403, "forbidden");

    // An instructor reviews; a student cannot.
    let review = format!("{bob_attempt}/proctoring/review");
    let comment = "Fire alarm during the exam; the invigilator confirms Bob left the room with everyone.";
    bob.post(&review, json!({"decision": "dismissed", "comment": "I did nothing"}))
        .await
        .assert_problem(403, "forbidden");
    // `decision` is an enum: another value is not a review request at all.
    class
        .teacher
        .post(&review, json!({"decision": "maybe", "comment": comment}))
        .await
        .assert_problem(400, "malformed-body");
    class
        .teacher
        .post(&review, json!({"decision": "dismissed", "comment": " "}))
        .await
        .assert_problem(422, "validation");
    let st = class.teacher.post(&review, json!({"decision": "dismissed", "comment": comment})).await;
    assert_eq!(st.ok()["reviews"].as_array().unwrap().len(), 1, "{:#}", st.body);
    assert_eq!(st.body["reviews"][0]["decision"], "dismissed", "echoed as sent");

    // Bob sees everything recorded about him, the review included; Dan sees nothing of it.
    let mine = bob.get(&record).await;
    let rv = &mine.ok()["state"]["reviews"][0];
    assert_eq!(rv["decision"], "dismissed");
    assert_eq!(rv["comment"], comment);
    assert_eq!(mine.body["state"]["scored"], before["state"]["scored"], "a review does not rescore");
    dan.get(&record).await.assert_problem(404, "not-found");
    let dan_attempt = start(&dan, &id).await;
    dan.get(&format!("/api/v1/assessments/{id}/attempts/{}/proctoring", tail(&bob_attempt)))
        .await
        .assert_problem(404, "not-found");
    send(&dan, &bob_attempt, "Browser D", 1, late()).await.assert_problem(404, "not-found");
    dan.get(&format!("{dan_attempt}/proctoring")).await.assert_problem(404, "not-found"); // nothing sent yet
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_lock_attempt_policy_submits_a_high_risk_attempt() {
    let w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "LCK").await;
    let id = class.assessment(exam("lock_attempt")).await;
    let (eve, eve_id) = class.student(&w, "eve@alpha.test").await;
    let attempt = start(&eve, &id).await;
    eve.put(&format!("{attempt}/answers/q1"), json!({"response": {"text": "x"}, "version": 1})).await.ok();
    let t0 = now_ms();

    // Under the threshold nothing happens: the attempt stays open.
    let st = send_scored(&eve, &attempt, "Browser E", 1, heartbeats(t0, 0, MIN)).await;
    assert_eq!(st["scored"]["lock"], false);
    assert_eq!(eve.get(&attempt).await.ok()["state"], "in_progress");

    // A change of browser (0.50) reaches the threshold 0.50: the policy submits the attempt
    // once the batch is scored, which follows the batch's answer.
    let st = send_scored(&eve, &attempt, "Browser F", 2, heartbeats(t0, MIN + 15 * SEC, MIN + 30 * SEC)).await;
    assert_eq!(st["scored"]["lock"], true, "{st:#}");
    assert_risk(&st, 0.5);
    assert_eq!(flag(&st, "risk-threshold")["severity"], "medium");
    let mut view = eve.get(&attempt).await;
    for _ in 0..400 {
        if view.ok()["state"] == "submitted" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        view = eve.get(&attempt).await;
    }
    assert_eq!(view.ok()["state"], "submitted", "{:#}", view.body);
    assert_eq!(view.body["submitted_by"], "proctoring");
    assert_eq!(view.body["answers"]["q1"]["version"], 1, "what was saved is submitted");

    // Nothing more is accepted for it.
    send(&eve, &attempt, "Browser E", 3, heartbeats(t0, 2 * MIN, 2 * MIN)).await.assert_problem(409, "conflict");
    eve.put(&format!("{attempt}/answers/q2"), json!({"response": {"text": "x"}, "version": 1}))
        .await
        .assert_problem(409, "conflict");
    // And graded as any submitted attempt.
    let grade = class.grade(&eve_id, &id).await;
    assert_eq!(grade["points"], 1.0, "{grade:#}");
    assert_eq!(grade["attempt"], view.body["id"]);
    w.server.stop().await.unwrap();
}

/// A client-credentials token for a new confidential client of institution
/// `alpha` holding exactly `scopes`.
async fn service_client(w: &World, scopes: &[&str]) -> Api {
    let a = &w.a.slug;
    let r =
        w.a.admin
            .post(
                &format!("/api/v1/institutions/{a}/oauth-clients"),
                json!({"name": "sync", "confidential": true, "grant_types": ["client_credentials"], "scopes": scopes}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, secret) = (r.body["client_id"].as_str().unwrap(), r.body["client_secret"].as_str().unwrap());
    let anon = w.server.client().anonymous();
    let t = anon
        .form("/oauth/token", &[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    anon.with_token(t.body["access_token"].as_str().unwrap())
}

/// Regression: a client holding only `grades:read` (a gradebook sync) read
/// students' tutor questions, proctoring records and the flagged queue,
/// because those routes required `grade:view-all`. Grades, integrity records
/// and tutor conversations now each need their own scope.
#[tokio::test]
async fn a_grades_scope_reads_neither_integrity_records_nor_tutor_questions() {
    let w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "LEAK").await;
    let id = class.assessment(exam("flag_for_review")).await;
    let (ann, _) = class.student(&w, "ann@alpha.test").await;
    let attempt = start(&ann, &id).await;
    let t0 = now_ms();
    let mut batch = heartbeats(t0, 0, MIN);
    batch.extend([sig("paste", t0 + 10 * SEC, None, None), sig("paste", t0 + 20 * SEC, None, None)]);
    send_scored(&ann, &attempt, "Browser A", 1, batch).await;
    // Another browser (0.50) takes her to the threshold: the queue lists only attempts that reach it.
    send_scored(&ann, &attempt, "Browser B", 2, heartbeats(t0, MIN + 15 * SEC, MIN + 30 * SEC)).await;
    let record = format!("{attempt}/proctoring");
    let flagged = format!("{}/proctoring/flagged", class.base);
    let insights = format!("{}/tutor/insights", class.base);
    let gradebook = format!("{}/gradebook", class.base);

    let grades = service_client(&w, &["grades:read"]).await;
    assert_eq!(grades.get(&gradebook).await.status, 200, "the scope still does its own job");
    grades.get(&insights).await.assert_problem(403, "forbidden");
    grades.get(&flagged).await.assert_problem(403, "forbidden");
    grades.get(&record).await.assert_problem(404, "not-found");

    let integrity = service_client(&w, &["proctoring:read"]).await;
    assert_eq!(integrity.get(&record).await.ok()["batches"].as_array().unwrap().len(), 2);
    assert_eq!(integrity.get(&flagged).await.ok()["items"].as_array().unwrap().len(), 1);
    integrity.get(&insights).await.assert_problem(403, "forbidden");
    integrity.get(&gradebook).await.assert_problem(403, "forbidden");
    integrity
        .post(&format!("{record}/review"), json!({"decision": "dismissed", "comment": "a script may not decide"}))
        .await
        .assert_problem(403, "forbidden");

    // Without any grade scope the attempt itself is not visible.
    let tutor = service_client(&w, &["tutor:read"]).await;
    assert_eq!(tutor.get(&insights).await.status, 200);
    tutor.get(&record).await.assert_problem(404, "not-found");

    // The course's staff and the student herself keep what they had.
    assert_eq!(class.teacher.get(&record).await.status, 200);
    assert_eq!(class.teacher.get(&insights).await.status, 200);
    assert_eq!(ann.get(&record).await.status, 200);
}

/// Regression (issue 15, item 2): the queue listed an attempt at 0.13 whose
/// own explanation said "the course flags attempts from 0.30", for one
/// low-severity `devtools-opened`, and kept it after a `dismissed` review.
/// The queue is the attempts that reached the threshold and wait for a
/// review; reviewed ones are behind `?reviewed=true|all`.
#[tokio::test]
async fn the_review_queue_holds_attempts_at_the_threshold_until_reviewed() {
    let w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "QUE").await;
    let mut body = exam("flag_for_review");
    body["settings"]["proctoring"]["flag_threshold"] = json!(0.3);
    body["settings"]["proctoring"]["weights"] = json!({});
    let id = class.assessment(body).await;
    let (ann, _) = class.student(&w, "ann@alpha.test").await;
    let (bob, _) = class.student(&w, "bob@alpha.test").await;
    let queue = |q: &'static str| {
        let (teacher, base) = (class.teacher.clone(), class.base.clone());
        async move {
            let r = teacher.get(&format!("{base}/proctoring/flagged{q}")).await;
            r.ok()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["attempt"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let tail = |p: &str| p.rsplit('/').next().unwrap().to_owned();

    // Ann opens the developer tools once: a low flag, 0.40 × 1/3, under 0.30.
    let ann_attempt = start(&ann, &id).await;
    let t0 = now_ms();
    let mut batch = heartbeats(t0, 0, MIN);
    batch.push(sig("devtools_opened", t0 + 20 * SEC, None, None));
    let st = send_scored(&ann, &ann_attempt, "Browser A", 1, batch).await;
    assert_eq!(flag_ids(&st), ["devtools-opened"], "{st:#}");
    assert_eq!(flag(&st, "devtools-opened")["severity"], "low");
    assert_risk(&st, 0.4 / 3.0);
    assert!(st["scored"]["explanation"][0].as_str().unwrap().contains("from 0.30"), "{st:#}");
    // Bob changes browser (0.50): over the threshold.
    let bob_attempt = start(&bob, &id).await;
    let t0 = now_ms();
    send_scored(&bob, &bob_attempt, "Browser A", 1, heartbeats(t0, 0, MIN)).await;
    let st = send_scored(&bob, &bob_attempt, "Browser B", 2, heartbeats(t0, MIN + 15 * SEC, MIN + 30 * SEC)).await;
    assert_risk(&st, 0.5);

    let waiting: Vec<String> = queue("").await;
    assert_eq!(waiting, [tail(&bob_attempt)], "Ann's attempt is under the threshold");
    assert_eq!(queue("?reviewed=false").await, waiting);
    assert_eq!(queue("?reviewed=true").await, Vec::<String>::new());

    // A review takes Bob's attempt out of the default queue; it stays behind the filter.
    let r = class
        .teacher
        .post(
            &format!("{bob_attempt}/proctoring/review"),
            json!({"decision": "dismissed", "comment": "He changed laptops when his battery died."}),
        )
        .await;
    assert_eq!(r.ok()["reviews"][0]["decision"], "dismissed");
    assert_eq!(queue("").await, Vec::<String>::new());
    assert_eq!(queue("?reviewed=true").await, [tail(&bob_attempt)]);
    assert_eq!(queue("?reviewed=all").await, [tail(&bob_attempt)]);
    class
        .teacher
        .get(&format!("{}/proctoring/flagged?reviewed=maybe", class.base))
        .await
        .assert_problem(400, "bad-parameter");
    // Ann's record keeps her flag for whoever looks: it is evidence, not a verdict.
    let record = class.teacher.get(&format!("{ann_attempt}/proctoring")).await;
    assert_eq!(flag_ids(&record.ok()["state"]), ["devtools-opened"]);
    w.server.stop().await.unwrap();
}

/// Scoring follows the answer, so a stop between the two must not lose a
/// batch: batches acknowledged while the scorer is held, then a stop (the
/// scorer's queue lives in memory and is gone), are scored by the next
/// server on the same data directory, in order, as if nothing had happened.
#[tokio::test]
async fn batches_acknowledged_before_a_stop_are_scored_after_the_restart() {
    let mut w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "RST").await;
    let id = class.assessment(exam("flag_for_review")).await;
    let (cat, _) = class.student(&w, "cat@alpha.test").await;
    let attempt = start(&cat, &id).await;
    w.server.pause_background().await;
    let t0 = now_ms();
    let mut b1 = heartbeats(t0, 0, MIN);
    b1.extend([sig("paste", t0 + 10 * SEC, None, None), sig("paste", t0 + 20 * SEC, None, None)]);
    for (seq, ua, batch) in [
        (1, "Browser C", b1),
        (2, "Browser C", heartbeats(t0, MIN + 15 * SEC, 2 * MIN)),
        (3, "Browser D", heartbeats(t0, 2 * MIN + 15 * SEC, 2 * MIN + 30 * SEC)),
    ] {
        let r = send(&cat, &attempt, ua, seq, batch).await;
        assert_eq!(r.ok()["last_seq"], seq, "acknowledged: {:#}", r.body);
        assert_eq!(r.body["scored_seq"], 0, "nothing scores while the background is held: {:#}", r.body);
    }
    let World { server, _dir, .. } = w;
    server.stop().await.unwrap();

    let server = lectern_e2e::TestServer::start(&_dir.path().join("data"), Default::default()).await.unwrap();
    // Tokens name the server's address as their issuer: log in again on the new port.
    let (cat, r) = server.client().login("alpha", "cat@alpha.test", lectern_e2e::PASSWORD).await;
    r.ok();
    let record = format!("{attempt}/proctoring");
    let mut st = Value::Null;
    for _ in 0..400 {
        st = cat.get(&record).await.ok()["state"].clone();
        if st["scored_seq"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(st["scored_seq"], 3, "every acknowledged batch scored after the restart: {st:#}");
    assert_eq!(st["plugin_error"], Value::Null, "{st:#}");
    assert_eq!(flag_ids(&st), ["device-changed", "paste", "risk-threshold"], "{st:#}");
    assert_risk(&st, 1.0 - (1.0 - 0.3 * 0.25) * (1.0 - 0.5));
    server.stop().await.unwrap();
}

/// Batches sent at once, then back to back while the scorer runs, then racing
/// the submit: each acknowledged batch is counted once and scored, the refused
/// ones (out of order, or after the submit) change nothing, and the scorer's
/// writes to the record never undo a batch's (nor the other way round).
#[tokio::test]
async fn concurrent_batches_and_the_submit_lose_nothing() {
    let w = World::new().await;
    install_proctoring_plugin(&w).await;
    let class = Class::new(&w, "CON").await;
    let id = class.assessment(exam("flag_for_review")).await;
    let (dee, _) = class.student(&w, "dee@alpha.test").await;
    let attempt = start(&dee, &id).await;
    let t0 = now_ms();
    let beat = |seq: u64| vec![sig("heartbeat", t0 + seq * 100, None, None)];
    let spawn_batch = |seq: u64| {
        let (api, attempt, signals) = (dee.clone(), attempt.clone(), beat(seq));
        tokio::spawn(async move {
            let r = send(&api, &attempt, "Browser E", seq, signals).await;
            (seq, r.status.as_u16(), r.body)
        })
    };
    let collect = |answers: Vec<(u64, u16, Value)>| {
        let mut acked = vec![];
        for (seq, status, body) in answers {
            match status {
                200 => acked.push(seq),
                409 => {}
                other => panic!("batch {seq} answered {other}: {body}"),
            }
        }
        acked
    };

    // At once: whichever arrive in order are stored.
    let mut tasks = vec![];
    for seq in 1..=30 {
        tasks.push(spawn_batch(seq));
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let first = collect(answers);
    assert!(!first.is_empty(), "at least one batch of 30 is in order");
    let record = format!("{attempt}/proctoring");
    let st = dee.get(&record).await.ok()["state"].clone();
    assert_eq!(st["last_seq"], *first.iter().max().unwrap(), "{st:#}");
    assert_eq!(st["batches"], first.len(), "{st:#}");

    // Back to back, without waiting for the scorer, which writes the same record meanwhile.
    for seq in 31..=60 {
        let r = send(&dee, &attempt, "Browser E", seq, beat(seq)).await;
        assert_eq!(r.ok()["last_seq"], seq, "{:#}", r.body);
    }
    let st = send_scored(&dee, &attempt, "Browser E", 61, beat(61)).await;
    assert_eq!(st["batches"], first.len() + 31, "{st:#}");
    assert_eq!(st["plugin_error"], Value::Null, "{st:#}");

    // Racing the submit: every batch acknowledged is scored before the plugin's session closes.
    let mut tasks = vec![];
    for seq in 62..=80 {
        tasks.push(spawn_batch(seq));
        if seq == 70 {
            let r = dee.post_empty(&format!("{attempt}/submit")).await;
            assert_eq!(r.ok()["state"], "submitted");
        }
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let last = collect(answers);
    let st = dee.get(&record).await.ok()["state"].clone();
    assert_eq!(st["batches"], first.len() + 31 + last.len(), "{st:#}");
    assert_eq!(st["last_seq"], last.iter().max().copied().unwrap_or(61), "{st:#}");
    assert_eq!(st["scored_seq"], st["last_seq"], "the submit scored every acknowledged batch: {st:#}");
    // After the submit, nothing more is taken.
    send(&dee, &attempt, "Browser E", 100, beat(100)).await.assert_problem(409, "conflict");
    w.server.stop().await.unwrap();
}

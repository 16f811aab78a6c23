//! The exam flow over HTTP with the real first-party grading plugin
//! (`plugins/grading`): authoring, publishing, idempotent start, versioned
//! saves, submit, grading through the bus into the gradebook, the deadline
//! timer (also across a restart), and the refusals that change nothing.

use std::time::Duration;

use lectern_e2e::{Api, Options, TestServer, bootstrap_admin, guests};
use serde_json::{Value, json};

use crate::{World, create_user};

const GRADING_MANIFEST: &str = include_str!("../../plugins/grading/manifest.json");

pub(crate) async fn install_grading_plugin(server: &TestServer) {
    let wasm = std::fs::read(guests::GRADING_PLUGIN).expect("the grading plugin was built");
    let b = server.kernel.plugins().install_bundled(GRADING_MANIFEST, &wasm).await.expect("installs");
    assert!(b.activated, "{b:?}");
}

async fn install_proctoring_plugin(server: &TestServer) {
    let manifest = include_str!("../../plugins/proctoring/manifest.json");
    let wasm = std::fs::read(guests::PROCTORING_PLUGIN).expect("the proctoring plugin was built");
    let b = server.kernel.plugins().install_bundled(manifest, &wasm).await.expect("installs");
    assert!(b.activated, "{b:?}");
}

fn choice(options: &[(&str, bool)]) -> Value {
    let opts: Vec<Value> = options
        .iter()
        .map(|(id, c)| json!({"id": id, "correct": c, "weight": if *c { 1.0 } else { 0.0 }, "feedback": null}))
        .collect();
    json!({"single_choice": {"options": opts, "rule": "all_or_nothing"}})
}

pub(crate) fn quiz() -> Value {
    json!({
        "title": "Quiz 1",
        "questions": [
            {"id": "capital", "prompt": "Capital of France?", "points": 2.0, "key": choice(&[("paris", true), ("lyon", false)]),
             "labels": {"paris": "Paris", "lyon": "Lyon"}},
            {"id": "g", "prompt": "g in m/s²", "points": 3.0,
             "key": {"numeric": {"value": 9.81, "absolute_tolerance": 0.05, "relative_tolerance": null, "units": [], "unit_missing_credit": 0.0}}},
            {"id": "author", "prompt": "Who wrote Hamlet?", "points": 1.0,
             "key": {"short_answer": {"alternatives": [{"pattern": "Shakespeare", "regex": false, "credit": 1.0, "feedback": null}], "case_sensitive": false, "normalize_whitespace": true}}},
            {"id": "essay", "prompt": "Why?", "points": 4.0,
             "key": {"essay": [{"id": "clarity", "description": "Clear argument", "points": 4.0}]}}
        ],
        "settings": {"attempts_allowed": 2, "time_limit_secs": 600}
    })
}

struct Exam {
    teacher: Api,
    student: Api,
    student_id: String,
    course_base: String,
    id: String,
}

async fn setup(w: &World) -> Exam {
    install_grading_plugin(&w.server).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let student_id = create_user(&w.a.admin, a, "kim@alpha.test", "member").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    let student = w.login(a, "kim@alpha.test").await;
    let r = teacher
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({"code": "PHY", "title": "Physics", "description": ""}),
        )
        .await;
    let course = r.body["id"].as_str().unwrap().to_owned();
    let course_base = format!("/api/v1/institutions/{a}/courses/{course}");
    teacher.post(&format!("{course_base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{course_base}/publish")).await.ok();
    let r = teacher.post(&format!("{course_base}/assessments"), quiz()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    Exam { teacher, student, student_id, course_base, id }
}

async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn take_a_quiz_and_get_graded() {
    let w = World::new().await;
    let e = setup(&w).await;
    let base = format!("/api/v1/assessments/{}", e.id);

    // Drafts cannot be started; keys never reach students.
    e.student.post(&format!("{base}/attempts"), json!({})).await.assert_problem(409, "conflict");
    let r = e.teacher.patch(&base, json!({"published": true})).await;
    assert_eq!(r.ok()["published"], true);
    e.student.get(&base).await.assert_problem(403, "forbidden");
    let listed = e.student.get(&format!("{}/assessments", e.course_base)).await;
    assert_eq!(listed.ok()["items"][0]["questions"], 4);
    assert!(!listed.body.to_string().contains("correct"));

    // Start, and a retried start with the same request id: one attempt.
    let r = e.student.post(&format!("{base}/attempts"), json!({"client_request_id": "tab-1"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["number"], 1);
    assert!(r.body["time_left_secs"].as_i64().unwrap() > 590);
    assert!(!r.body.to_string().contains("\"correct\""), "no keys in the attempt: {}", r.body);
    let again = e.student.post(&format!("{base}/attempts"), json!({"client_request_id": "tab-1"})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], attempt.as_str());
    // Another device without the id resumes the same open attempt too.
    let other = e.student.post(&format!("{base}/attempts"), json!({})).await;
    assert_eq!(other.body["id"], attempt.as_str());
    // The student's own attempts: the one in progress, to resume.
    let mine = e.student.get(&format!("{base}/attempts")).await;
    let items = mine.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", mine.body);
    assert_eq!(items[0]["id"], attempt.as_str());
    assert_eq!(items[0]["state"], "in_progress");

    // Saves: versioned, newest wins, bad input refused.
    let ab = format!("{base}/attempts/{attempt}");
    let save = |q: &str, resp: Value, v: u64| {
        let student = e.student.clone();
        let path = format!("{ab}/answers/{q}");
        async move { student.put(&path, json!({"response": resp, "version": v})).await }
    };
    save("capital", json!({"choices": ["lyon"]}), 1).await.ok();
    save("capital", json!({"choices": ["paris"]}), 2).await.ok();
    save("capital", json!({"choices": ["lyon"]}), 1).await.assert_problem(409, "conflict");
    save("capital", json!({"choices": ["paris"]}), 2).await.ok(); // the same save repeated
    save("g", json!({"text": "9.81"}), 1).await.assert_problem(422, "validation");
    save("nope", json!({"text": "x"}), 1).await.assert_problem(404, "not-found");
    save("author", json!({"text": "x".repeat(200_000)}), 1).await.assert_problem(422, "validation");
    save("g", json!({"number": {"value": 9.8, "unit": null}}), 1).await.ok();
    save("author", json!({"text": "  shakespeare "}), 1).await.ok();
    save("essay", json!({"essay": "Because."}), 1).await.ok();
    let view = e.student.get(&ab).await;
    assert_eq!(view.ok()["answers"]["capital"]["version"], 2);
    assert_eq!(view.body["answers"]["capital"]["response"], json!({"choices": ["paris"]}));

    // Someone else's attempt does not exist for them.
    w.a.admin
        .put(&format!("{ab}/answers/g"), json!({"response": {"number": {"value": 1.0, "unit": null}}, "version": 9}))
        .await
        .assert_problem(404, "not-found");

    // Submit; then nothing changes any more.
    let r = e.student.post_empty(&format!("{ab}/submit")).await;
    assert_eq!(r.ok()["state"], "submitted");
    assert_eq!(r.body["submitted_by"], "student");
    save("g", json!({"number": {"value": 1.0, "unit": null}}), 5).await.assert_problem(409, "conflict");
    e.student.post_empty(&format!("{ab}/submit")).await.ok();

    // Graded through the bus by the real plugin: 2 + 3 + 1 automatic, the essay waits for a person.
    let grades = format!("{}/students/{}/grades", e.course_base, e.student_id);
    let entry = wait_for("the grade", || {
        let teacher = e.teacher.clone();
        let grades = grades.clone();
        let id = e.id.clone();
        async move {
            let r = teacher.get(&grades).await;
            r.body["items"].as_array()?.iter().find(|g| g["item"] == id.as_str()).cloned()
        }
    })
    .await;
    assert_eq!(entry["points"], 6.0, "{entry}");
    assert_eq!(entry["max_points"], 10.0, "{entry}");
    assert!(entry["status"].as_str().unwrap().to_lowercase().contains("manual"), "{entry}");

    // A second attempt is allowed, a third is not.
    let r = e.student.post(&format!("{base}/attempts"), json!({"client_request_id": "second"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["number"], 2);
    let second = r.body["id"].as_str().unwrap().to_owned();
    e.student.post_empty(&format!("{base}/attempts/{second}/submit")).await.ok();
    e.student.post(&format!("{base}/attempts"), json!({})).await.assert_problem(409, "conflict");
    w.server.stop().await.unwrap();
}

/// Starts sent at once from many tabs (each with its own request id, some
/// retried) open exactly one attempt per allowance: starts are ordered per
/// student and assessment, not by a storage transaction.
#[tokio::test]
async fn starts_racing_each_other_open_one_attempt() {
    let w = World::new().await;
    let e = setup(&w).await;
    let base = format!("/api/v1/assessments/{}", e.id);
    e.teacher.patch(&base, json!({"published": true})).await.ok();
    let race = |round: usize| {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (student, path) = (e.student.clone(), format!("{base}/attempts"));
                // Tabs 0–7 each send their start twice (a retry with the same id).
                let body = json!({"client_request_id": format!("r{round}-tab-{}", i % 8)});
                tokio::spawn(async move { student.post(&path, body).await })
            })
            .collect();
        async move {
            let mut ids = std::collections::BTreeSet::new();
            let mut created = 0;
            for t in tasks {
                let r = t.await.unwrap();
                assert!(r.status == 200 || r.status == 201, "{} {}", r.status, r.body);
                created += usize::from(r.status == 201);
                ids.insert((r.body["id"].as_str().unwrap().to_owned(), r.body["number"].as_u64().unwrap()));
            }
            (ids, created)
        }
    };
    let (ids, created) = race(1).await;
    assert_eq!((ids.len(), created), (1, 1), "one attempt, created once: {ids:?}");
    let (first, number) = ids.into_iter().next().unwrap();
    assert_eq!(number, 1);
    e.student.post_empty(&format!("{base}/attempts/{first}/submit")).await.ok();
    // The second (and last) allowance, raced the same way.
    let (ids, created) = race(2).await;
    assert_eq!((ids.len(), created), (1, 1), "{ids:?}");
    assert_eq!(ids.iter().next().unwrap().1, 2);
    let second = ids.into_iter().next().unwrap().0;
    e.student.post_empty(&format!("{base}/attempts/{second}/submit")).await.ok();
    // Every allowance used: a start is refused, and exactly two attempts exist.
    e.student.post(&format!("{base}/attempts"), json!({})).await.assert_problem(409, "conflict");
    let mine = e.student.get(&format!("{base}/attempts")).await;
    assert_eq!(mine.ok()["items"].as_array().unwrap().len(), 2, "{}", mine.body);
}

#[tokio::test]
async fn concurrent_saves_keep_the_newest() {
    let w = World::new().await;
    let e = setup(&w).await;
    let base = format!("/api/v1/assessments/{}", e.id);
    e.teacher.patch(&base, json!({"published": true})).await.ok();
    let r = e.student.post(&format!("{base}/attempts"), json!({})).await;
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("{base}/attempts/{attempt}/answers/author");
    let mut tasks = vec![];
    for v in 1..=40u64 {
        let student = e.student.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            student.put(&path, json!({"response": {"text": format!("answer {v}")}, "version": v})).await.status.as_u16()
        }));
    }
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == 200 || status == 409, "{status}");
    }
    let view = e.student.get(&format!("{base}/attempts/{attempt}")).await;
    assert_eq!(view.ok()["answers"]["author"]["version"], 40);
    assert_eq!(view.body["answers"]["author"]["response"], json!({"text": "answer 40"}));
    w.server.stop().await.unwrap();
}

/// Saves and a submit sent at once: every save the server acknowledged is in
/// what was graded, and every other one was refused and left nothing behind.
/// (Saves are ordered against the submit by the attempt's lock, not by a
/// storage transaction.)
#[tokio::test]
async fn saves_racing_the_submit_are_graded_or_refused_never_lost() {
    const QUESTIONS: usize = 40;
    let w = World::new().await;
    let e = setup(&w).await;
    let questions: Vec<Value> = (0..QUESTIONS)
        .map(|i| json!({"id": format!("q{i}"), "prompt": format!("Question {i}"), "points": 1.0, "key": choice(&[("yes", true), ("no", false)])}))
        .collect();
    let r = e
        .teacher
        .post(
            &format!("{}/assessments", e.course_base),
            json!({"title": "Race", "questions": questions, "settings": {"attempts_allowed": 1, "time_limit_secs": 600}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/assessments/{id}");
    e.teacher.patch(&base, json!({"published": true})).await.ok();
    let attempt = e.student.post(&format!("{base}/attempts"), json!({})).await.ok()["id"].as_str().unwrap().to_owned();
    let ab = format!("{base}/attempts/{attempt}");

    let mut saves = vec![];
    let mut submit = None;
    for i in 0..QUESTIONS {
        let (student, path) = (e.student.clone(), format!("{ab}/answers/q{i}"));
        saves.push(tokio::spawn(async move {
            let r = student.put(&path, json!({"response": {"choices": ["yes"]}, "version": 1})).await;
            (r.status.as_u16(), r.body)
        }));
        if i == QUESTIONS / 2 {
            let (student, path) = (e.student.clone(), format!("{ab}/submit"));
            submit = Some(tokio::spawn(async move { student.post_empty(&path).await.status.as_u16() }));
        }
    }
    let mut acknowledged = 0;
    for s in saves {
        let (status, body) = s.await.unwrap();
        match status {
            200 => acknowledged += 1,
            409 => assert!(body["detail"].as_str().unwrap_or("").contains("submitted"), "{body}"),
            other => panic!("a save answered {other}: {body}"),
        }
    }
    assert_eq!(submit.unwrap().await.unwrap(), 200);

    // What is stored is exactly what was acknowledged...
    let view = e.student.get(&ab).await;
    assert_eq!(view.ok()["state"], "submitted");
    assert_eq!(view.body["answers"].as_object().unwrap().len(), acknowledged, "{}", view.body);
    // ...and what was graded, one point per acknowledged answer.
    let grades = format!("{}/students/{}/grades", e.course_base, e.student_id);
    let entry = wait_for("the grade", || {
        let (teacher, grades, id) = (e.teacher.clone(), grades.clone(), id.clone());
        async move {
            let r = teacher.get(&grades).await;
            r.body["items"].as_array()?.iter().find(|g| g["item"] == id.as_str() && g["status"] == "graded").cloned()
        }
    })
    .await;
    assert_eq!(entry["points"], acknowledged as f64, "{acknowledged} saves acknowledged: {entry}");
    assert_eq!(entry["max_points"], QUESTIONS as f64, "{entry}");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn the_deadline_submits_abandoned_attempts_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clock = lectern_core::Clock::system();
    let opts = || Options { clock: clock.clone(), ..Options::default() };
    let server = TestServer::start(&data, opts()).await.unwrap();
    let root = bootstrap_admin(&server).await;
    root.post("/api/v1/institutions", json!({"slug": "alpha", "name": "Alpha"})).await.ok();
    create_user(&root, "alpha", "prof@alpha.test", "staff").await;
    let student_id = create_user(&root, "alpha", "kim@alpha.test", "member").await;
    install_grading_plugin(&server).await;
    let (teacher, _) = server.client().login("alpha", "prof@alpha.test", lectern_e2e::PASSWORD).await;
    let (student, _) = server.client().login("alpha", "kim@alpha.test", lectern_e2e::PASSWORD).await;
    let r = teacher
        .post("/api/v1/institutions/alpha/courses", json!({"code": "T", "title": "Timed", "description": ""}))
        .await;
    let course = r.body["id"].as_str().unwrap().to_owned();
    let cb = format!("/api/v1/institutions/alpha/courses/{course}");
    teacher.post(&format!("{cb}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{cb}/publish")).await.ok();
    let mut q = quiz();
    q["settings"] = json!({"attempts_allowed": 1, "time_limit_secs": 60});
    let r = teacher.post(&format!("{cb}/assessments"), q).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    teacher.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();
    let base = format!("/api/v1/assessments/{id}");

    // Attempt A is abandoned while the server is down.
    let r = student.post(&format!("{base}/attempts"), json!({})).await;
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    let ab = format!("{base}/attempts/{attempt}");
    student.put(&format!("{ab}/answers/capital"), json!({"response": {"choices": ["paris"]}, "version": 1})).await.ok();
    server.stop().await.unwrap();
    clock.advance(120);
    let server = TestServer::start(&data, opts()).await.unwrap();
    let (student, _) = server.client().login("alpha", "kim@alpha.test", lectern_e2e::PASSWORD).await;
    let r = student
        .put(&format!("{ab}/answers/g"), json!({"response": {"number": {"value": 9.81, "unit": null}}, "version": 1}))
        .await;
    r.assert_problem(409, "conflict");
    let view = wait_for("the timer to submit", || {
        let student = student.clone();
        let ab = ab.clone();
        async move {
            let r = student.get(&ab).await;
            (r.body["state"] == "submitted").then_some(r.body)
        }
    })
    .await;
    assert_eq!(view["submitted_by"], "deadline");
    assert!(view["answers"].get("g").is_none(), "the late save changed nothing: {view}");
    assert_eq!(view["answers"]["capital"]["version"], 1);
    server.stop().await.unwrap();
}

/// Hints cost their penalty, late work loses per started day, and the kernel's
/// own observations (an answer burst, a paste into an answer) reach the proctoring record.
#[tokio::test]
async fn hints_late_penalties_and_derived_checks() {
    let w = World::new().await;
    install_grading_plugin(&w.server).await;
    install_proctoring_plugin(&w.server).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let on_time = create_user(&w.a.admin, a, "ada@alpha.test", "member").await;
    let late = create_user(&w.a.admin, a, "bob@alpha.test", "member").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    let r = teacher
        .post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "H", "title": "Hints", "description": ""}))
        .await;
    let course = r.body["id"].as_str().unwrap().to_owned();
    let cb = format!("/api/v1/institutions/{a}/courses/{course}");
    for s in [&on_time, &late] {
        teacher.post(&format!("{cb}/enrolments"), json!({"user_id": s, "role": "student"})).await.ok();
    }
    teacher.post_empty(&format!("{cb}/publish")).await.ok();
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let mut questions = vec![json!({"id": "capital", "prompt": "Capital of France?", "points": 2.0,
        "key": choice(&[("paris", true), ("lyon", false)]), "hints": ["On the Seine", "Starts with P"]})];
    for i in 0..5 {
        questions.push(json!({"id": format!("tf{i}"), "prompt": "True?", "points": 1.0, "key": {"true_false": true}}));
    }
    let body = json!({"title": "Hinted", "questions": questions, "settings": {
        "closes_at": fmt(now + time::Duration::hours(1)), "late_until": fmt(now + time::Duration::days(7)),
        "per_late_day": 0.1, "per_hint": 0.25, "attempts_allowed": 1,
        "proctoring": {"flag_threshold": 0.5, "action": "flag_for_review"}}});
    let r = teacher.post(&format!("{cb}/assessments"), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    teacher.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();
    let base = format!("/api/v1/assessments/{id}");

    // On time, with one hint: 2 × (1 − 0.25) = 1.5 on the hinted question.
    let ada = w.login(a, "ada@alpha.test").await;
    let r = ada.post(&format!("{base}/attempts"), json!({})).await;
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    let ab = format!("{base}/attempts/{attempt}");
    let r = ada.post_empty(&format!("{ab}/questions/capital/hint")).await;
    assert_eq!(r.ok()["hints"]["capital"], json!(["On the Seine"]));
    // Five different questions answered within seconds: an answer burst.
    ada.put(&format!("{ab}/answers/capital"), json!({"response": {"choices": ["paris"]}, "version": 1})).await.ok();
    for i in 0..4 {
        ada.put(&format!("{ab}/answers/tf{i}"), json!({"response": {"boolean": true}, "version": 1})).await.ok();
    }
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let batch = json!({"seq": 1, "signals": [
        {"kind": "heartbeat", "at_ms": ms, "duration_ms": null, "detail": null},
        {"kind": "paste", "at_ms": ms + 500, "duration_ms": null, "detail": "answer:capital"}]});
    let r = ada.post(&format!("{ab}/signals"), batch).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Scoring follows the answer.
    let record = wait_for("the batch to be scored", || {
        let (ada, ab) = (ada.clone(), ab.clone());
        async move {
            let r = ada.get(&format!("{ab}/proctoring")).await;
            (r.body["state"]["scored_seq"] == 1).then_some(r)
        }
    })
    .await;
    crate::schema::assert_matches_openapi(&ada, record.ok(), "ProctoringRecord").await;
    let details: Vec<String> = record.ok()["batches"][0]["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["detail"].as_str().map(str::to_owned))
        .collect();
    assert!(details.iter().any(|d| d == "paste-into-answer:capital"), "{details:?}");
    assert!(details.iter().any(|d| d.starts_with("answer-burst:5/")), "{details:?}");
    let scored_at_ingest = record.body["state"]["scored_at"].clone();
    ada.post_empty(&format!("{ab}/submit")).await.ok();
    // Submitting closes the proctoring session: the plugin's final scoring is on the record.
    let record = ada.get(&format!("{ab}/proctoring")).await;
    assert_eq!(record.ok()["state"]["plugin_error"], Value::Null, "{}", record.body);
    assert!(record.body["state"]["scored"]["explanation"].is_array(), "{}", record.body);
    assert!(!scored_at_ingest.is_null());

    // Late by a day and a half (two started days): 2 × (1 − 0.2) = 1.6.
    w.server.clock.advance(36 * 3600);
    let bob = w.login(a, "bob@alpha.test").await;
    let r = bob.post(&format!("{base}/attempts"), json!({})).await;
    assert_eq!(r.status, 201, "late work may still start: {}", r.body);
    let bb = format!("{base}/attempts/{}", r.body["id"].as_str().unwrap());
    bob.put(&format!("{bb}/answers/capital"), json!({"response": {"choices": ["paris"]}, "version": 1})).await.ok();
    bob.post_empty(&format!("{bb}/submit")).await.ok();

    let teacher = w.login(a, "prof@alpha.test").await;
    for (student, want) in [(&on_time, 1.5), (&late, 1.6)] {
        let grades = format!("{cb}/students/{student}/grades");
        let entry = wait_for("a grade", || {
            let teacher = teacher.clone();
            let grades = grades.clone();
            let id = id.clone();
            async move {
                let r = teacher.get(&grades).await;
                r.body["items"].as_array()?.iter().find(|g| g["item"] == id.as_str()).cloned()
            }
        })
        .await;
        let q = entry["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == "capital").cloned().unwrap();
        let got = q["points"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{student}: {q}");
    }
    // After late_until nobody starts.
    w.server.clock.advance(7 * 86_400);
    let carl = create_user(&w.login(a, "admin@alpha.test").await, a, "carl@alpha.test", "member").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    teacher.post(&format!("{cb}/enrolments"), json!({"user_id": carl, "role": "student"})).await.ok();
    let carl = w.login(a, "carl@alpha.test").await;
    carl.post(&format!("{base}/attempts"), json!({})).await.assert_problem(409, "conflict");
    w.server.stop().await.unwrap();
}

/// "Preview as student": staff take the draft on the real exam flow; it is
/// graded by the real plugin for them alone and never becomes anyone's grade
/// or uses anyone's attempts.
#[tokio::test]
async fn staff_preview_a_draft_without_touching_the_gradebook() {
    let w = World::new().await;
    let e = setup(&w).await;
    let base = format!("/api/v1/assessments/{}", e.id);

    // Students cannot preview, even once it is published; the teacher can on the draft.
    e.student.post_empty(&format!("{base}/preview")).await.assert_problem(403, "forbidden");
    let r = e.teacher.post_empty(&format!("{base}/preview")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["preview"], true);
    assert!(r.body["time_left_secs"].as_i64().unwrap() > 590, "the time limit applies: {}", r.body);
    assert!(!r.body.to_string().contains("\"correct\""), "no keys in a preview either: {}", r.body);
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    let ab = format!("{base}/attempts/{attempt}");
    // Its result does not exist before it is graded; a student cannot see the preview at all.
    e.teacher.get(&format!("{ab}/result")).await.assert_problem(404, "not-found");
    e.student.get(&ab).await.assert_problem(404, "not-found");

    let save = |q: &str, resp: Value| {
        let teacher = e.teacher.clone();
        let path = format!("{ab}/answers/{q}");
        async move { teacher.put(&path, json!({"response": resp, "version": 1})).await }
    };
    save("capital", json!({"choices": ["paris"]})).await.ok();
    save("g", json!({"number": {"value": 1.0, "unit": null}})).await.ok();
    e.teacher.post_empty(&format!("{ab}/submit")).await.ok();
    // One request that waits for the grading (no polling); out-of-range waits are refused.
    e.teacher.get(&format!("{ab}/result?wait_secs=21")).await.assert_problem(422, "validation");
    let result = e.teacher.get(&format!("{ab}/result?wait_secs=20")).await.ok().clone();
    assert_eq!(result["points"], 2.0, "{result}");
    assert_eq!(result["max_points"], 10.0, "{result}");
    let g = result["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == "g").unwrap();
    assert_eq!(g["points"], 0.0, "{result}");

    // A second preview is a fresh attempt, as often as wanted.
    let again = e.teacher.post_empty(&format!("{base}/preview")).await;
    assert_eq!(again.status, 201);
    assert_ne!(again.body["id"], attempt.as_str());

    // Nothing reached the gradebook; the student's attempts are untouched: both still allowed.
    let teacher_id = e.teacher.get("/api/v1/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    let theirs = e.teacher.get(&format!("{}/students/{teacher_id}/grades", e.course_base)).await;
    assert!(
        theirs.status == 404 || theirs.body["items"].as_array().is_none_or(|i| i.is_empty()),
        "a preview is nobody's grade: {}",
        theirs.body
    );
    e.teacher.patch(&base, json!({"published": true})).await.ok();
    let r = e.student.post(&format!("{base}/attempts"), json!({})).await;
    assert_eq!(r.body["number"], 1, "{}", r.body);
    w.server.stop().await.unwrap();
}

//! The gradebook over HTTP with the real first-party grading plugin: an exam
//! with an essay → two students submit → the essays wait in the manual
//! queue → graded with the rubric (versioned, idempotent) → a key change
//! regrades through the bus, moves one student's score (and notifies only
//! them) while the essay grades survive → weighted categories → course
//! totals and the exact CSV export.

use std::time::Duration;

use lectern_e2e::Api;
use serde_json::{Value, json};

use crate::exam::install_grading_plugin;
use crate::{World, create_user, eventually};

/// Waits until `attempt.submitted` has seen `submitted` messages and every
/// subscription has acknowledged everything, with nothing left in the outbox.
async fn drained(root: &Api, submitted: u64) {
    eventually("the bus to drain", async || {
        let t = root.get("/api/v1/admin/bus/topics").await;
        let topics = t.body["topics"].as_array()?.clone();
        let attempts = topics.iter().find(|t| t["topic"] == "attempt.submitted")?;
        let idle = topics.iter().all(|t| {
            t["subscriptions"].as_array().is_some_and(|s| s.iter().all(|s| s["backlog"] == 0 && s["in_flight"] == 0))
        });
        (t.body["outbox_pending"] == 0 && idle && attempts["next_offset"].as_u64()? >= submitted).then_some(())
    })
    .await;
}

fn single_choice(correct: &[&str]) -> Value {
    let opts: Vec<Value> = ["paris", "lyon"]
        .iter()
        .map(|id| {
            let c = correct.contains(id);
            json!({"id": id, "correct": c, "weight": if c { 1.0 } else { 0.0 }, "feedback": null})
        })
        .collect();
    json!({"single_choice": {"options": opts, "rule": "all_or_nothing"}})
}

fn midterm() -> Value {
    json!({
        "title": "Midterm",
        "questions": [
            {"id": "capital", "prompt": "Capital of France?", "points": 2.0, "key": single_choice(&["paris"])},
            {"id": "g", "prompt": "g in m/s²", "points": 3.0,
             "key": {"numeric": {"value": 9.81, "absolute_tolerance": 0.05, "relative_tolerance": null, "units": [], "unit_missing_credit": 0.0}}},
            {"id": "essay", "prompt": "Why did the Revolution happen?", "points": 5.0,
             "key": {"essay": [{"id": "thesis", "description": "A clear thesis", "points": 2.0},
                               {"id": "evidence", "description": "Evidence", "points": 3.0}]}}
        ],
        // Question points (10) are scaled to the item's 20.
        "settings": {"attempts_allowed": 1, "points": 20.0}
    })
}

async fn take(student: &Api, base: &str, answers: &[(&str, Value)]) -> String {
    let r = student.post(&format!("{base}/attempts"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    for (q, resp) in answers {
        student
            .put(&format!("{base}/attempts/{attempt}/answers/{q}"), json!({"response": resp, "version": 1}))
            .await
            .ok();
    }
    student.post_empty(&format!("{base}/attempts/{attempt}/submit")).await.ok();
    attempt
}

fn entry_for(gradebook: &Value, student: &str) -> Value {
    gradebook["items"].as_array().unwrap().iter().find(|g| g["student"] == student).cloned().unwrap()
}

fn question<'a>(entry: &'a Value, id: &str) -> &'a Value {
    entry["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn essays_by_hand_regrade_categories_totals_and_csv() {
    let w = World::new().await;
    install_grading_plugin(&w.server).await;
    let admin = &w.a.admin;
    create_user(admin, "alpha", "prof@alpha.test", "staff").await;
    let ann = create_user(admin, "alpha", "ann@alpha.test", "member").await;
    // A name a spreadsheet would run as a formula, with a comma and quotes.
    let r = admin
        .post(
            "/api/v1/institutions/alpha/users",
            json!({"email": "bob@alpha.test", "name": "=Bob \"the, builder\"", "role": "member", "password": lectern_e2e::PASSWORD}),
        )
        .await;
    let bob = r.ok()["id"].as_str().unwrap().to_owned();
    let cy = create_user(admin, "alpha", "cy@alpha.test", "member").await;
    let teacher = w.login("alpha", "prof@alpha.test").await;
    let ann_api = w.login("alpha", "ann@alpha.test").await;
    let bob_api = w.login("alpha", "bob@alpha.test").await;
    let r = teacher
        .post("/api/v1/institutions/alpha/courses", json!({"code": "HIS", "title": "History", "description": ""}))
        .await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let cb = format!("/api/v1/institutions/alpha/courses/{course}");
    for s in [&ann, &bob, &cy] {
        teacher.post(&format!("{cb}/enrolments"), json!({"user_id": s, "role": "student"})).await.ok();
    }
    teacher.post_empty(&format!("{cb}/publish")).await.ok();
    let r = teacher.post(&format!("{cb}/assessments"), midterm()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/assessments/{id}");
    teacher.patch(&base, json!({"published": true})).await.ok();

    // Ann: capital right, g right, an essay. Bob: capital wrong, g right, an essay.
    let ann_attempt = take(
        &ann_api,
        &base,
        &[
            ("capital", json!({"choices": ["paris"]})),
            ("g", json!({"number": {"value": 9.8, "unit": null}})),
            ("essay", json!({"essay": "Bread prices, and the Estates-General."})),
        ],
    )
    .await;
    let bob_attempt = take(
        &bob_api,
        &base,
        &[
            ("capital", json!({"choices": ["lyon"]})),
            ("g", json!({"number": {"value": 9.81, "unit": null}})),
            ("essay", json!({"essay": "=Taxes, mostly."})),
        ],
    )
    .await;

    // Automatic grades: (2 + 3) of 10 → 10 of 20 for Ann, 3 of 10 → 6 of 20 for Bob; the essays wait.
    let gb = eventually("both automatic grades", async || {
        let r = teacher.get(&format!("{cb}/gradebook")).await;
        (r.body["items"].as_array()?.len() == 2).then_some(r.body)
    })
    .await;
    let (a, b) = (entry_for(&gb, &ann), entry_for(&gb, &bob));
    assert_eq!((a["points"].as_f64(), a["status"].as_str()), (Some(10.0), Some("needs_manual_grading")), "{a}");
    assert_eq!((b["points"].as_f64(), b["max_points"].as_f64()), (Some(6.0), Some(20.0)), "{b}");
    assert_eq!(question(&a, "essay")["status"], "needs_manual_grading");

    // The queue: both essays, with the text and the rubric; not for students.
    ann_api.get(&format!("{base}/manual-queue")).await.assert_problem(403, "forbidden");
    let queue = teacher.get(&format!("{base}/manual-queue")).await;
    crate::schema::assert_matches_openapi(&teacher, queue.ok(), "ManualQueue").await;
    let items = queue.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    let ann_q = items.iter().find(|q| q["student"] == ann.as_str()).unwrap();
    assert_eq!(ann_q["attempt"], ann_attempt.as_str());
    assert_eq!(ann_q["question_id"], "essay");
    assert_eq!(ann_q["essay"], "Bread prices, and the Estates-General.");
    assert_eq!(ann_q["prompt"], "Why did the Revolution happen?");
    assert_eq!(ann_q["rubric"][1], json!({"id": "evidence", "description": "Evidence", "points": 3.0}));
    assert_eq!((ann_q["max_points"].as_f64(), ann_q["version"].as_u64()), (Some(5.0), Some(0)));

    // Grading with the rubric: checked, versioned, idempotent.
    let grade_path = |attempt: &str| format!("{base}/attempts/{attempt}/questions/essay/manual-grade");
    let ann_grade = json!({"criteria": {"thesis": 2.0, "evidence": 2.0}, "comment": "Good thesis.", "version": 0});
    ann_api.put(&grade_path(&ann_attempt), ann_grade.clone()).await.assert_problem(403, "forbidden");
    teacher
        .put(&grade_path(&ann_attempt), json!({"criteria": {"thesis": 2.5, "evidence": 2.0}, "version": 0}))
        .await
        .assert_problem(422, "validation");
    teacher
        .put(&grade_path(&ann_attempt), json!({"criteria": {"thesis": 2.0}, "version": 0}))
        .await
        .assert_problem(422, "validation");
    let r = teacher.put(&grade_path(&ann_attempt), ann_grade.clone()).await;
    let graded = r.ok().clone();
    crate::schema::assert_matches_openapi(&teacher, &graded, "ManualGradeResult").await;
    assert_eq!(graded["manual_grade"]["version"], 1);
    // 2 + 3 + 4 of 10 → 18 of 20, nothing waits any more.
    assert_eq!((graded["grade"]["points"].as_f64(), graded["grade"]["status"].as_str()), (Some(18.0), Some("graded")));
    let eq = question(&graded["grade"], "essay");
    assert_eq!((eq["points"].as_f64(), eq["status"].as_str()), (Some(4.0), Some("graded")));
    assert_eq!(eq["feedback"], json!(["Good thesis."]));
    let last = graded["grade"]["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["by"].as_str().unwrap().starts_with("user:"), "{last}");
    assert!(last["reason"].as_str().unwrap().contains("graded by hand with the rubric"), "{last}");
    // The same request again (a retry) changes nothing; a grader who loaded version 0 and differs is refused.
    let again = teacher.put(&grade_path(&ann_attempt), ann_grade.clone()).await;
    assert_eq!(again.ok()["grade"]["revision"], graded["grade"]["revision"]);
    let r = teacher
        .put(&grade_path(&ann_attempt), json!({"criteria": {"thesis": 0.0, "evidence": 0.0}, "version": 0}))
        .await;
    r.assert_problem(412, "precondition-failed");
    let r = teacher
        .put(&grade_path(&bob_attempt), json!({"criteria": {"thesis": 1.0, "evidence": 1.0}, "version": 0}))
        .await;
    // 0 + 3 + 2 of 10 → 10 of 20.
    assert_eq!(r.ok()["grade"]["points"], 10.0);
    assert_eq!(teacher.get(&format!("{base}/manual-queue")).await.ok()["items"], json!([]));

    // The key was wrong: Lyon is accepted too. Only Bob's grade moves; the essays keep their hand grades.
    ann_api
        .post(
            &format!("{base}/regrade"),
            json!({"keys": {"capital": single_choice(&["paris", "lyon"])}, "reason": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");
    teacher
        .post(&format!("{base}/regrade"), json!({"keys": {"capital": {"true_false": true}}, "reason": "x"}))
        .await
        .assert_problem(422, "validation");
    let r = teacher
        .post(
            &format!("{base}/regrade"),
            json!({"keys": {"capital": single_choice(&["paris", "lyon"])}, "reason": "Lyon was also accepted in class"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["queued"], 2);
    crate::schema::assert_matches_openapi(&teacher, &r.body, "AssessmentRegradeQueued").await;
    let bob_entry = eventually("Bob's regrade", async || {
        let gb = teacher.get(&format!("{cb}/gradebook")).await;
        Some(entry_for(&gb.body, &bob)).filter(|e| e["points"] == 14.0)
    })
    .await;
    drained(&w.root, 4).await;
    assert_eq!(bob_entry["status"], "graded");
    assert_eq!(question(&bob_entry, "essay")["points"], 2.0, "the hand grade survives: {bob_entry}");
    let gb = teacher.get(&format!("{cb}/gradebook")).await;
    let ann_entry = entry_for(gb.ok(), &ann);
    assert_eq!(
        (ann_entry["points"].as_f64(), ann_entry["revision"].as_u64()),
        (Some(18.0), graded["grade"]["revision"].as_u64())
    );
    assert_eq!(question(&ann_entry, "essay")["feedback"], json!(["Good thesis."]));
    assert_eq!(teacher.get(&format!("{base}/manual-queue")).await.ok()["items"], json!([]));
    // New attempts get the new key.
    let a = teacher.get(&base).await;
    assert_eq!(a.ok()["questions"][0]["key"], single_choice(&["paris", "lyon"]));
    // Bob is told his grade changed, and why; Ann's did not change, so she is not.
    let about_regrade = |inbox: &Value| -> Vec<Value> {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["body"].as_str().unwrap_or_default().contains("Lyon was also accepted"))
            .cloned()
            .collect()
    };
    let bob_inbox = bob_api.get("/api/v1/me/notifications").await;
    let bob_told = about_regrade(bob_inbox.ok());
    assert_eq!(bob_told.len(), 1, "{}", bob_inbox.body);
    assert!(bob_told[0]["title"].as_str().unwrap().contains("changed"), "{}", bob_told[0]);
    assert!(bob_told[0]["body"].as_str().unwrap().contains("14 of 20"), "{}", bob_told[0]);
    assert_eq!(about_regrade(ann_api.get("/api/v1/me/notifications").await.ok()), Vec::<Value>::new());

    // Categories: the midterm is 70 %, participation 30 %; "bonus" is in none (listed, not counted).
    let cats = json!({"categories": [
        {"id": "exams", "name": "Exams", "weight": 70.0, "items": [id]},
        {"id": "participation", "name": "Participation", "weight": 30.0, "items": ["participation"]}
    ]});
    ann_api.put(&format!("{cb}/grade-categories"), cats.clone()).await.assert_problem(403, "forbidden");
    let mut bad = cats.clone();
    bad["categories"][1]["weight"] = json!(20.0);
    teacher.put(&format!("{cb}/grade-categories"), bad).await.assert_problem(422, "validation");
    let r = teacher.put(&format!("{cb}/grade-categories"), cats.clone()).await;
    assert_eq!(r.ok()["version"], 1);
    crate::schema::assert_matches_openapi(&teacher, r.ok(), "GradeCategories").await;
    assert_eq!(r.header("etag"), Some("\"1\""));
    let stale = teacher
        .http
        .put(format!("{}{cb}/grade-categories", w.server.base))
        .bearer_auth(teacher.token.as_ref().unwrap())
        .header("if-match", "\"0\"")
        .json(&cats)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412, "someone changed the categories since version 0");
    let set = |student: &str, item: &str, points: f64, max: f64| {
        let path = format!("{cb}/students/{student}/grades/{item}");
        let teacher = teacher.clone();
        async move { teacher.put(&path, json!({"points": points, "max_points": max, "reason": "in class"})).await }
    };
    set(&ann, "participation", 8.0, 10.0).await.ok();
    set(&ann, "bonus", 1.0, 1.0).await.ok();

    // Totals: Ann 0.7 × 90 + 0.3 × 80 = 87; Bob has no participation grade yet, so exams alone: 70; Cy nothing.
    let gb = teacher.get(&format!("{cb}/gradebook")).await;
    let students = gb.ok()["students"].as_array().unwrap().clone();
    let names: Vec<&str> = students.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["=Bob \"the, builder\"", "ann", "cy"]);
    let total = |s: &Value| s["total"].as_f64();
    assert_eq!(students.iter().map(total).collect::<Vec<_>>(), [Some(70.0), Some(87.0), None]);
    assert_eq!(
        students[1]["categories"][1],
        json!({"category": "participation", "points": 8.0, "max_points": 10.0, "percent": 80.0})
    );
    let columns: Vec<&str> =
        gb.body["columns"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect();
    assert_eq!(columns, [id.as_str(), "participation", "bonus"]);
    ann_api.get(&format!("{cb}/gradebook")).await.assert_problem(403, "forbidden");

    // The CSV, exactly.
    let url = format!("{}{cb}/gradebook.csv", w.server.base);
    let denied = ann_api.http.get(&url).bearer_auth(ann_api.token.as_ref().unwrap()).send().await.unwrap();
    assert_eq!(denied.status(), 403);
    let r = teacher.http.get(&url).bearer_auth(teacher.token.as_ref().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"gradebook-HIS.csv\"");
    let csv = r.text().await.unwrap();
    let expected = format!(
        "Student,Email,Student ID,Midterm ({id}),participation,bonus,Exams (%),Participation (%),Course total (%)\r\n\
         \"'=Bob \"\"the, builder\"\"\",bob@alpha.test,{bob},14,,,70,,70\r\n\
         ann,ann@alpha.test,{ann},18,8,1,90,80,87\r\n\
         cy,cy@alpha.test,{cy},,,,,,\r\n"
    );
    assert_eq!(csv, expected);
    w.server.stop().await.unwrap();
}

/// A completion rule names gradebook items, and an id the course never
/// grades is refused, naming it: before, `["no-such-item"]` was stored (200)
/// and silently held back every credential of the course. Accepted: the
/// course's assessments, what an assessment content item takes its score
/// from, and items already graded by hand.
#[tokio::test]
async fn a_completion_rule_refuses_items_the_course_never_grades() {
    let w = World::new().await;
    crate::content::install_content_plugin(&w).await;
    let class = crate::question_types::Class::new(&w, "CR-1").await;
    let (base, teacher) = (class.base.clone(), class.teacher.clone());
    let (_, student) = class.student(&w, "ana@alpha.test").await;
    let quiz = class
        .assessment(json!({"title": "Quiz", "questions": [
            {"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}}]}))
        .await;
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Week 1"})).await.ok();
    for body in [
        json!({"id": "intro", "kind": "page", "title": "Intro", "markdown": "# Intro"}),
        json!({"id": "quiz-item", "kind": "assessment", "title": "Quiz", "assessment": quiz}),
        json!({"id": "paper", "kind": "assessment", "title": "Paper quiz", "assessment": "paper-quiz"}),
    ] {
        let r = teacher.post(&format!("{base}/content/modules/m1/items"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let rule_path = format!("{base}/completion-rule");
    let put_rule =
        async |items: Value| teacher.put(&rule_path, json!({"required_items": items, "min_percent": 50.0})).await;

    let r = put_rule(json!(["no-such-item"])).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.body["field"], "required_items", "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("`no-such-item`"), "{}", r.body);
    // Every unknown id is named; content items say where their grades are.
    let r = put_rule(json!([quiz, "intro", "quiz-item", "nope"])).await;
    r.assert_problem(422, "validation");
    let detail = r.body["detail"].as_str().unwrap();
    for named in [
        "`intro` (a page content item, which is not graded)",
        "`nope`",
        &format!("`quiz-item` (a content item: its grades are under its assessment `{quiz}`)"),
    ] {
        assert!(detail.contains(named), "{named}: {detail}");
    }
    assert!(!detail.contains(&format!("`{quiz}`,")), "the assessment itself is fine: {detail}");
    teacher.get(&rule_path).await.assert_problem(404, "not-found");

    // The course's assessment, and what an assessment item is graded under.
    let r = put_rule(json!(["paper-quiz", quiz])).await;
    let mut want = vec![quiz.clone(), "paper-quiz".to_owned()];
    want.sort();
    assert_eq!(r.ok()["required_items"], json!(want));

    // An item graded only by hand counts once it has a grade.
    put_rule(json!(["participation"])).await.assert_problem(422, "validation");
    let grade = json!({"points": 1.0, "max_points": 1.0, "reason": "took part"});
    teacher.put(&format!("{base}/students/{student}/grades/participation"), grade).await.ok();
    assert_eq!(put_rule(json!(["participation"])).await.ok()["required_items"], json!(["participation"]));

    // The API document says which ids the field takes.
    let doc = teacher.get("/api/v1/openapi.json").await;
    let field = &doc.ok()["components"]["schemas"]["SetCompletionRule"]["properties"]["required_items"];
    let described = field["description"].as_str().unwrap_or_default();
    assert!(described.contains("assessments") && described.contains("422"), "{field}");
}

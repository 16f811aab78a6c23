//! Question-type plugins (`lectern:plugin@0.2.0`) over HTTP against the real
//! kernel: the example `plugins/examples/formula-question` is uploaded and
//! activated by the platform administrator, offered to authors at
//! `…/question-types`, used in an assessment next to a built-in question
//! (its settings checked against the type's schema), shown to the student
//! as the attempt's own sanitised view with values drawn for that attempt,
//! answered with `fields` (checked by the schema, then by the plugin),
//! submitted, and graded through the bus: the built-in question by the
//! grading plugin, the formula by its plugin, with the kernel's penalties.

use lectern_e2e::{Api, guests};
use serde_json::{Value, json};

use crate::exam::install_grading_plugin;
use crate::plugins::upload;
use crate::{World, create_user, eventually};

const KEY: &str = "org.example.formula@1.0.0";

async fn upload_formula(root: &Api) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/formula-question");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let r = upload(root, manifest, guests::EXAMPLE_FORMULA_QUESTION, Some("{}")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["slot"], "question_type");
    let r = root.post("/api/v1/plugins/slots/question-type/activate", json!({ "plugin": KEY })).await;
    assert_eq!(r.ok()["active"], KEY);
}

fn formula(settings: Value) -> Value {
    json!({"id": "speed", "prompt": "", "points": 4.0,
           "key": {"plugin": {"plugin": "org.example.formula", "type": "formula", "settings": settings}}})
}

fn speed() -> Value {
    json!({
        "prompt": "A car travels {d} km in {t} h. What is its mean speed?",
        "formula": "d / t",
        "variables": {"d": {"min": 50, "max": 200, "step": 10}, "t": {"min": 1, "max": 4, "step": 0.5}},
        "unit": "km/h"
    })
}

/// The number after `before` in `html`.
fn number_after(html: &str, before: &str) -> f64 {
    let rest = &html[html.find(before).unwrap_or_else(|| panic!("`{before}` in {html}")) + before.len()..];
    rest.split(|c: char| !(c.is_ascii_digit() || c == '.')).next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_plugin_question_type_is_authored_taken_and_graded() {
    let w = World::new().await;
    install_grading_plugin(&w.server).await;
    let a = &w.a.slug;

    // Before any plugin offers it, the type does not exist for authors.
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let student_id = create_user(&w.a.admin, a, "kim@alpha.test", "member").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    let student = w.login(a, "kim@alpha.test").await;
    assert_eq!(teacher.get(&format!("/api/v1/institutions/{a}/question-types")).await.ok()["items"], json!([]));
    upload_formula(&w.root).await;
    let types = teacher.get(&format!("/api/v1/institutions/{a}/question-types")).await.ok().clone();
    let t = &types["items"][0];
    assert_eq!(
        (t["plugin"].as_str(), t["type"].as_str(), t["version"].as_str()),
        (Some("org.example.formula"), Some("formula"), Some(KEY))
    );
    assert_eq!(t["settings_schema"]["required"], json!(["prompt", "formula", "variables"]));

    let course = teacher
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({"code": "PHY", "title": "Physics", "description": ""}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let course_base = format!("/api/v1/institutions/{a}/courses/{course}");
    teacher.post(&format!("{course_base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{course_base}/publish")).await.ok();

    // Authoring: settings that break the type's schema, and a type nobody offers, are refused.
    let quiz = |questions: Vec<Value>| json!({"title": "Kinematics", "questions": questions, "settings": {"attempts_allowed": 1}});
    let r = teacher
        .post(&format!("{course_base}/assessments"), quiz(vec![formula(json!({"prompt": "x", "formula": 3}))]))
        .await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("/formula"), "{}", r.body);
    let mut unknown = formula(speed());
    unknown["key"]["plugin"]["type"] = json!("chemistry");
    let r = teacher.post(&format!("{course_base}/assessments"), quiz(vec![unknown])).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("chemistry"), "{}", r.body);
    let tf = json!({"id": "tf", "prompt": "Speed is a vector.", "points": 1.0, "key": {"true_false": false}});
    let r = teacher.post(&format!("{course_base}/assessments"), quiz(vec![formula(speed()), tf])).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Staff read the key back as written.
    assert_eq!(r.body["questions"][0]["key"]["plugin"]["settings"], speed());
    teacher.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();

    // The student's attempt: the plugin's view for this attempt, sanitised; no instance data.
    let base = format!("/api/v1/assessments/{id}");
    let r = student.post(&format!("{base}/attempts"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    let q = r.body["questions"].as_array().unwrap().iter().find(|q| q["id"] == "speed").unwrap().clone();
    assert_eq!(q["kind"], "plugin");
    assert_eq!(q["plugin"], json!({"plugin": "org.example.formula", "type": "formula"}));
    let html = q["view"]["html"].as_str().unwrap().to_owned();
    assert!(html.contains(r#"<input name="value""#), "{html}");
    assert!(!r.body.to_string().contains("\"answer\""), "the instance's data never reaches the student: {}", r.body);
    let (d, t) = (number_after(&html, "travels "), number_after(&html, "km in "));
    let expected = d / t;
    // A reload shows the same values: the instance is stored with the attempt.
    let ab = format!("{base}/attempts/{attempt}");
    let again = student.get(&ab).await.ok().clone();
    let q2 = again["questions"].as_array().unwrap().iter().find(|q| q["id"] == "speed").unwrap().clone();
    assert_eq!(q2["view"]["html"], html.as_str());

    // Saves: a response the plugin refuses keeps nothing; the wrong shape is refused by the kernel.
    let save = |question: &str, response: Value, version: u64| {
        let (student, path) = (student.clone(), format!("{ab}/answers/{question}"));
        async move { student.put(&path, json!({"response": response, "version": version})).await }
    };
    let r = save("speed", json!({"fields": {"value": "fast"}}), 1).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("Enter a number"), "{}", r.body);
    save("speed", json!({"fields": {"value": "1", "extra": "x"}}), 1).await.assert_problem(422, "validation");
    save("speed", json!({"text": "60"}), 1).await.assert_problem(422, "validation");
    assert!(student.get(&ab).await.ok()["answers"].get("speed").is_none(), "nothing was saved");
    let answer = format!("{}", (expected * 1000.0).round() / 1000.0);
    let saved = save("speed", json!({"fields": {"value": answer}}), 2).await;
    assert_eq!(saved.ok()["response"], json!({"fields": {"value": answer}}));
    save("tf", json!({"boolean": false}), 1).await.ok();
    student.post_empty(&format!("{ab}/submit")).await.ok();

    // Graded through the bus: the formula by its plugin, the true/false by the grading plugin.
    let result = eventually("the attempt's result", async || {
        let r = student.get(&format!("{ab}/result")).await;
        (r.status == 200).then(|| r.body.clone())
    })
    .await;
    assert_eq!(result["points"], 5.0, "{result}");
    assert_eq!(result["max_points"], 5.0, "{result}");
    let speed_result = result["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == "speed").unwrap();
    assert_eq!(speed_result["points"], 4.0, "{result}");
    let explained = speed_result["explanation"].to_string();
    assert!(explained.contains("full credit") && explained.contains("d / t"), "{explained}");
    let grades = teacher.get(&format!("{course_base}/students/{student_id}/grades")).await.ok().clone();
    let entry = grades["items"].as_array().unwrap().iter().find(|g| g["item"] == id.as_str()).unwrap();
    assert_eq!(entry["points"], 5.0, "{entry}");
    assert!(entry["graded_by"].as_str().unwrap().contains(KEY), "the plugin is named among the graders: {entry}");

    // A regrade may change the settings (checked against the schema), never the plugin or type;
    // it grades again with the attempt's own drawn values.
    let regrade = format!("/api/v1/assessments/{id}/regrade");
    let key = |settings: Value, ty: &str| json!({"plugin": {"plugin": "org.example.formula", "type": ty, "settings": settings}});
    let r = teacher.post(&regrade, json!({"keys": {"speed": key(speed(), "other")}, "reason": "x"})).await;
    r.assert_problem(422, "validation");
    let r =
        teacher.post(&regrade, json!({"keys": {"speed": key(json!({"formula": 1}), "formula")}, "reason": "x"})).await;
    r.assert_problem(422, "validation");
    let mut doubled = speed();
    doubled["formula"] = json!("2 * d / t");
    let r = teacher
        .post(&regrade, json!({"keys": {"speed": key(doubled, "formula")}, "reason": "the distance is there and back"}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["queued"], 1, "{}", r.body);
    let regraded = eventually("the regraded grade", async || {
        let g = teacher.get(&format!("{course_base}/students/{student_id}/grades")).await;
        let e = g.body["items"].as_array()?.iter().find(|g| g["item"] == id.as_str())?.clone();
        (e["points"] == 1.0).then_some(e)
    })
    .await;
    let q = regraded["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == "speed").unwrap().clone();
    let lines = q["explanation"].to_string();
    assert!(lines.contains("2 * d / t") && lines.contains(&format!("d = {d}")), "same values, new formula: {lines}");
    w.server.stop().await.unwrap();
}

/// A question-type plugin that is down never costs a student an answer: the
/// attempt starts without the question's view, a save is kept on the kernel's
/// own checks, the view appears at the next read once the plugin is back, and
/// an attempt submitted while it was down all along leaves that question to a
/// person instead of failing the attempt's grading.
#[tokio::test]
async fn a_question_type_that_is_down_loses_no_answer() {
    let w = World::new().await;
    install_grading_plugin(&w.server).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let ids = [
        create_user(&w.a.admin, a, "kim@alpha.test", "member").await,
        create_user(&w.a.admin, a, "lee@alpha.test", "member").await,
    ];
    let teacher = w.login(a, "prof@alpha.test").await;
    upload_formula(&w.root).await;
    let course = teacher
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({"code": "PHY", "title": "Physics", "description": ""}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let course_base = format!("/api/v1/institutions/{a}/courses/{course}");
    for id in &ids {
        teacher.post(&format!("{course_base}/enrolments"), json!({"user_id": id, "role": "student"})).await.ok();
    }
    teacher.post_empty(&format!("{course_base}/publish")).await.ok();
    let tf = json!({"id": "tf", "prompt": "Speed is a vector.", "points": 1.0, "key": {"true_false": false}});
    let body = json!({"title": "Check", "questions": [formula(speed()), tf], "settings": {"attempts_allowed": 1}});
    let id = teacher.post(&format!("{course_base}/assessments"), body).await.ok()["id"].as_str().unwrap().to_owned();
    teacher.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();
    let base = format!("/api/v1/assessments/{id}");
    let switch = |on: bool| {
        let root = w.root.clone();
        async move {
            if on {
                root.post("/api/v1/plugins/slots/question_type/activate", json!({ "plugin": KEY })).await.ok();
            } else {
                root.post("/api/v1/plugins/slots/question_type/deactivate", json!({ "plugin": "org.example.formula" }))
                    .await
                    .ok();
            }
        }
    };
    switch(false).await;

    // Both start while the plugin is down: no view yet, and the attempt is fine.
    let (kim, lee) = (w.login(a, "kim@alpha.test").await, w.login(a, "lee@alpha.test").await);
    let mut attempts = vec![];
    for s in [&kim, &lee] {
        let r = s.post(&format!("{base}/attempts"), json!({})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let q = r.body["questions"].as_array().unwrap().iter().find(|q| q["id"] == "speed").unwrap().clone();
        assert_eq!(q["kind"], "plugin");
        assert!(q.get("view").is_none(), "no view while the plugin is down: {q}");
        let ab = format!("{base}/attempts/{}", r.body["id"].as_str().unwrap());
        // Saved on the kernel's own checks: an answer is never lost to a plugin outage.
        let saved =
            s.put(&format!("{ab}/answers/speed"), json!({"response": {"fields": {"value": "42"}}, "version": 1})).await;
        assert_eq!(saved.ok()["response"], json!({"fields": {"value": "42"}}));
        s.put(&format!("{ab}/answers/tf"), json!({"response": {"boolean": false}, "version": 1})).await.ok();
        attempts.push(ab);
    }

    // Lee submits while it is still down: the question goes to a person, the rest is graded.
    lee.post_empty(&format!("{}/submit", attempts[1])).await.ok();
    let result = eventually("lee's result", async || {
        let r = lee.get(&format!("{}/result", attempts[1])).await;
        (r.status == 200).then(|| r.body.clone())
    })
    .await;
    let speed = result["questions"].as_array().unwrap().iter().find(|q| q["question_id"] == "speed").unwrap().clone();
    assert_eq!(speed["points"], 0.0, "{result}");
    assert!(speed["status"].as_str().unwrap().contains("manual"), "{result}");
    assert!(speed["explanation"].to_string().contains("never prepared"), "{result}");
    assert_eq!(result["points"], 1.0, "the true/false question is graded: {result}");

    // Back up: Kim's next read gets the view (the instance is made then), and grading goes through the plugin.
    switch(true).await;
    let view = kim.get(&attempts[0]).await.ok().clone();
    let q = view["questions"].as_array().unwrap().iter().find(|q| q["id"] == "speed").unwrap().clone();
    let html = q["view"]["html"].as_str().unwrap().to_owned();
    assert_eq!(
        view["answers"]["speed"]["response"],
        json!({"fields": {"value": "42"}}),
        "the answer saved while down is kept"
    );
    let expected = number_after(&html, "travels ") / number_after(&html, "km in ");
    let answer = format!("{}", (expected * 1000.0).round() / 1000.0);
    kim.put(
        &format!("{}/answers/speed", attempts[0]),
        json!({"response": {"fields": {"value": answer}}, "version": 2}),
    )
    .await
    .ok();
    kim.post_empty(&format!("{}/submit", attempts[0])).await.ok();
    let result = eventually("kim's result", async || {
        let r = kim.get(&format!("{}/result", attempts[0])).await;
        (r.status == 200).then(|| r.body.clone())
    })
    .await;
    assert_eq!(result["points"], 5.0, "{result}");
    w.server.stop().await.unwrap();
}

//! Which attempts count, and what is in the gradebook (issue 15, items 5, 6
//! and 12), over HTTP with the real grading plugin: every grading method with
//! a student's two attempts (5/5, then 2/5), a change of method counting them
//! again, drafts kept out of the gradebook, deleting an assessment (gone
//! when nobody took it, archived when someone did), and the grade
//! notification naming the assessment.

use std::time::{Duration, Instant};

use lectern_e2e::Api;
use serde_json::{Value, json};

use crate::question_types::{Class, start};
use crate::{World, eventually};

/// Five true/false questions worth a point each (all `true`).
fn quiz(title: &str, settings: Value) -> Value {
    let qs: Vec<Value> =
        (1..=5).map(|i| json!({"id": format!("q{i}"), "points": 1.0, "key": {"true_false": true}})).collect();
    json!({"title": title, "questions": qs, "settings": settings})
}

/// Takes an attempt answering the first `right` questions right and the rest
/// wrong; returns the attempt id.
async fn take(student: &Api, assessment: &str, right: usize) -> String {
    let attempt = start(student, assessment).await;
    for i in 1..=5 {
        let r = student
            .put(&format!("{attempt}/answers/q{i}"), json!({"response": {"boolean": i <= right}, "version": 1}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    student.post_empty(&format!("{attempt}/submit")).await.ok();
    attempt.rsplit('/').next().unwrap().to_owned()
}

/// The student's grade for `item` once `attempts` attempts are graded.
async fn grade_after(class: &Class, student: &str, item: &str, attempts: usize) -> Value {
    let path = format!("{}/students/{student}/grades", class.base);
    eventually(&format!("{attempts} graded attempt(s) of {item}"), async || {
        let r = class.teacher.get(&path).await;
        let g = r.ok()["items"].as_array()?.iter().find(|g| g["item"] == item)?.clone();
        let done = g["attempts"].as_array()?.len() == attempts
            && g["attempts"].as_array()?.iter().all(|a| a["status"] == "graded");
        done.then_some(g)
    })
    .await
}

fn counting(g: &Value) -> Vec<bool> {
    g["attempts"].as_array().unwrap().iter().map(|a| a["counts"].as_bool().unwrap()).collect()
}

#[tokio::test]
async fn each_grading_method_counts_two_attempts_and_the_gradebook_says_which() {
    let w = World::new().await;
    let class = Class::new(&w, "GM").await;
    let (ann, ann_id) = class.student(&w, "ann@alpha.test").await;

    // One quiz per method; `highest` is what an assessment gets without one.
    let mut ids = vec![];
    for method in [None, Some("last"), Some("first"), Some("average")] {
        let mut settings = json!({"attempts_allowed": 2});
        if let Some(m) = method {
            settings["grading_method"] = json!(m);
        }
        let id = class.assessment(quiz(&format!("Quiz {}", method.unwrap_or("default")), settings)).await;
        let a = class.teacher.get(&format!("/api/v1/assessments/{id}")).await;
        assert_eq!(a.ok()["settings"]["grading_method"], method.unwrap_or("highest"), "{}", a.body);
        ids.push(id);
    }
    let bad = quiz("Bad", json!({"grading_method": "best"}));
    class.teacher.post(&format!("{}/assessments", class.base), bad).await.assert_problem(400, "malformed-body");

    // Ann gets everything right, then tries again and does worse: 5/5, then 2/5.
    let mut attempts = vec![];
    for id in &ids {
        let first = take(&ann, id, 5).await;
        grade_after(&class, &ann_id, id, 1).await;
        let second = take(&ann, id, 2).await;
        attempts.push((first, second));
    }
    // (points, the attempt that counts: 0 first, 1 second, None for the average, which attempts count)
    let expected: [(f64, Option<usize>, [bool; 2]); 4] = [
        (5.0, Some(0), [true, false]),
        (2.0, Some(1), [false, true]),
        (5.0, Some(0), [true, false]),
        (3.5, None, [true, true]),
    ];
    let methods = ["highest", "last", "first", "average"];
    for (((id, (first, second)), (points, counted, counts)), method) in
        ids.iter().zip(&attempts).zip(expected).zip(methods)
    {
        let g = grade_after(&class, &ann_id, id, 2).await;
        assert_eq!(g["grading_method"], method, "{g:#}");
        assert_eq!(
            (g["points"].as_f64(), g["max_points"].as_f64(), g["status"].as_str()),
            (Some(points), Some(5.0), Some("graded")),
            "{method}: {g:#}"
        );
        let which = counted.map(|i| if i == 0 { first.as_str() } else { second.as_str() });
        assert_eq!(g["attempt"].as_str(), which, "{method}: {g:#}");
        assert_eq!(counting(&g), counts, "{method}: {g:#}");
        let listed: Vec<&str> =
            g["attempts"].as_array().unwrap().iter().map(|a| a["attempt"].as_str().unwrap()).collect();
        assert_eq!(listed, [first.as_str(), second.as_str()], "oldest first");
        assert_eq!(g["attempts"][1]["points"], 2.0);
    }

    // The table: each column says its method; the cells and the total follow it.
    let gb = class.teacher.get(&format!("{}/gradebook", class.base)).await;
    let columns: Vec<(&str, &str)> = gb.ok()["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["item"].as_str().unwrap(), c["grading_method"].as_str().unwrap()))
        .collect();
    let want: Vec<(&str, &str)> = ids.iter().map(String::as_str).zip(methods).collect();
    assert_eq!(columns, want);
    let row = &gb.body["students"][0];
    let cells: Vec<f64> = ids.iter().map(|id| row["grades"][id]["points"].as_f64().unwrap()).collect();
    assert_eq!(cells, [5.0, 2.0, 5.0, 3.5]);
    assert_eq!(row["total"], 77.5, "15.5 of 20 points");

    // Changing the method counts the attempts again: `last` becomes `highest`.
    let last = &ids[1];
    let r = class
        .teacher
        .patch(
            &format!("/api/v1/assessments/{last}"),
            json!({"settings": {"attempts_allowed": 2, "grading_method": "highest"}}),
        )
        .await;
    assert_eq!(r.ok()["settings"]["grading_method"], "highest");
    let g = grade_after(&class, &ann_id, last, 2).await;
    assert_eq!((g["points"].as_f64(), g["attempt"].as_str()), (Some(5.0), Some(attempts[1].0.as_str())), "{g:#}");
    assert_eq!(counting(&g), [true, false]);
    let reason = g["history"].as_array().unwrap().last().unwrap()["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("grading method changed") && reason.contains("highest"), "{reason}");
    // The student reads the same from her own grades.
    let mine = ann.get(&format!("{}/students/{ann_id}/grades", class.base)).await;
    let own = mine.ok()["items"].as_array().unwrap().iter().find(|g| g["item"] == last.as_str()).unwrap().clone();
    assert_eq!(own["points"], 5.0);
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn drafts_stay_out_of_the_gradebook_and_deleting_archives_what_students_took() {
    let w = World::new().await;
    let class = Class::new(&w, "DR").await;
    let (ann, ann_id) = class.student(&w, "ann@alpha.test").await;
    let course = &class.base;
    let taken = class.assessment(quiz("Taken", json!({}))).await;
    take(&ann, &taken, 4).await;
    grade_after(&class, &ann_id, &taken, 1).await;
    // Graded, then taken back to draft: its grade leaves the gradebook with it.
    let withdrawn = class.assessment(quiz("Withdrawn", json!({}))).await;
    take(&ann, &withdrawn, 1).await;
    grade_after(&class, &ann_id, &withdrawn, 1).await;
    class.teacher.patch(&format!("/api/v1/assessments/{withdrawn}"), json!({"published": false})).await.ok();
    // Never published.
    let r = class.teacher.post(&format!("{course}/assessments"), quiz("Draft", json!({}))).await;
    let draft = r.ok()["id"].as_str().unwrap().to_owned();

    let gb = class.teacher.get(&format!("{course}/gradebook")).await;
    let columns: Vec<&str> =
        gb.ok()["columns"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect();
    assert_eq!(columns, [taken.as_str()], "{:#}", gb.body);
    let items: Vec<&str> = gb.body["items"].as_array().unwrap().iter().map(|g| g["item"].as_str().unwrap()).collect();
    assert_eq!(items, [taken.as_str()]);
    let row = &gb.body["students"][0];
    assert_eq!(row["grades"].as_object().unwrap().len(), 1, "{row:#}");
    assert_eq!(row["total"], 80.0, "4 of 5; the withdrawn 1 of 5 does not count");
    let mine = ann.get(&format!("{course}/students/{ann_id}/grades")).await;
    assert_eq!(mine.ok()["items"].as_array().unwrap().len(), 1, "{:#}", mine.body);
    let csv = class.teacher.http.get(format!("{}{course}/gradebook.csv", class.teacher.base));
    let csv = csv.bearer_auth(class.teacher.token.as_ref().unwrap()).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        csv,
        format!("Student,Email,Student ID,Taken ({taken}),Course total (%)\r\nann,ann@alpha.test,{ann_id},4,80\r\n")
    );

    // Nobody took the draft: it is deleted. Students cannot delete anything.
    ann.delete(&format!("/api/v1/assessments/{draft}")).await.assert_problem(403, "forbidden");
    let r = class.teacher.delete(&format!("/api/v1/assessments/{draft}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    class.teacher.get(&format!("/api/v1/assessments/{draft}")).await.assert_problem(404, "not-found");
    class.teacher.delete(&format!("/api/v1/assessments/{draft}")).await.assert_problem(404, "not-found");

    // Ann took the other: it is archived, says so, keeps its grade and cannot be started.
    let r = class.teacher.delete(&format!("/api/v1/assessments/{taken}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "archived");
    assert!(r.body["assessment"]["archived_at"].is_string(), "{}", r.body);
    let again = class.teacher.delete(&format!("/api/v1/assessments/{taken}")).await;
    assert_eq!((again.status.as_u16(), &again.body["outcome"]), (200, &json!("archived")));
    let (bob, _) = class.student(&w, "bob@alpha.test").await;
    bob.post(&format!("/api/v1/assessments/{taken}/attempts"), json!({})).await.assert_problem(409, "conflict");
    let gb = class.teacher.get(&format!("{course}/gradebook")).await;
    let columns: Vec<&str> =
        gb.ok()["columns"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect();
    assert_eq!(columns, [taken.as_str()], "an archived assessment stays for its grades");
    assert_eq!(gb.body["students"][0]["total"], 80.0, "{:#}", gb.body);
    // Students no longer see it; staff do, marked.
    let listed = |api: Api| {
        let path = format!("{course}/assessments");
        async move {
            let r = api.get(&path).await;
            r.ok()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["id"].as_str().unwrap().to_owned(), a["archived_at"].is_string()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(bob.clone()).await, Vec::<(String, bool)>::new());
    let staff = listed(class.teacher.clone()).await;
    assert!(staff.contains(&(taken.clone(), true)) && staff.contains(&(withdrawn.clone(), false)), "{staff:?}");
    w.server.stop().await.unwrap();
}

/// Regression (issue 15, item 6): the notification read "01a24ac5-… has been graded".
#[tokio::test]
async fn the_grade_notification_names_the_assessment_by_its_title() {
    let w = World::new().await;
    let class = Class::new(&w, "NT").await;
    let (ann, ann_id) = class.student(&w, "ann@alpha.test").await;
    let id = class.assessment(quiz("Week 3 quiz", json!({"attempts_allowed": 2}))).await;
    take(&ann, &id, 3).await;
    grade_after(&class, &ann_id, &id, 1).await;
    let titles = |n: usize| {
        let ann = ann.clone();
        async move {
            eventually("the notifications", async || {
                let r = ann.get("/api/v1/me/notifications").await;
                let t: Vec<String> =
                    r.ok()["items"].as_array()?.iter().map(|n| n["title"].as_str().unwrap().to_owned()).collect();
                (t.len() == n).then_some(t)
            })
            .await
        }
    };
    assert_eq!(titles(1).await, ["Week 3 quiz has been graded"]);
    take(&ann, &id, 4).await;
    let t = titles(2).await;
    assert_eq!(t[0], "Your grade for Week 3 quiz changed", "newest first: {t:?}");
    assert!(t.iter().all(|t| !t.contains(&id)), "{t:?}");
    w.server.stop().await.unwrap();
}

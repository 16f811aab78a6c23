//! Bulk imports: users into an institution and people into a course, one
//! result per row, with a dry run that writes nothing.

use serde_json::{Value, json};

use crate::{World, create_user};

fn statuses(r: &Value) -> Vec<&str> {
    r["rows"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn users_and_enrolments_import_row_by_row_with_a_preview() {
    let w = World::new().await;
    let a = &w.a.slug;
    let import = format!("/api/v1/institutions/{a}/users/import");
    let rows = json!([
        {"email": "ana@alpha.test", "name": "Ana Lima"},
        {"email": "not-an-email", "name": "Bad Row"},
        {"email": "ben@alpha.test", "name": "Ben Okoro", "role": "staff"},
        {"email": "ANA@alpha.test", "name": "Ana again"},
        {"email": format!("admin@{a}.test"), "name": "Existing"},
        {"email": "cy@alpha.test", "name": "Cy", "password": "password"},
    ]);

    // The preview: every row checked, nobody created.
    let preview = w.a.admin.post(&import, json!({ "rows": rows, "dry_run": true })).await;
    let p = preview.ok();
    assert_eq!(statuses(p), ["valid", "failed", "valid", "failed", "failed", "failed"], "{p}");
    assert_eq!(p["rows"][1]["problem"]["type"], "/problems/validation");
    assert_eq!(p["rows"][1]["problem"]["field"], "email");
    assert!(p["rows"][3]["problem"]["detail"].as_str().unwrap().contains("row 1"), "{p}");
    assert_eq!(p["rows"][4]["problem"]["type"], "/problems/conflict");
    assert_eq!(p["rows"][5]["problem"]["type"], "/problems/weak-password");
    assert_eq!((p["applied"].as_u64(), p["failed"].as_u64()), (Some(0), Some(4)));
    let users = w.a.admin.get(&format!("/api/v1/institutions/{a}/users")).await;
    assert!(!users.ok().to_string().contains("ana@alpha.test"), "a dry run creates nobody");

    // The apply: the good rows are created, the bad ones reported the same way.
    let applied = w.a.admin.post(&import, json!({ "rows": rows })).await;
    let r = applied.ok();
    assert_eq!(statuses(r), ["applied", "failed", "applied", "failed", "failed", "failed"], "{r}");
    assert_eq!(r["rows"][2]["user"]["role"], "staff");
    assert_eq!(r["rows"][0]["row"], 1);
    let ana = r["rows"][0]["user"]["id"].as_str().unwrap().to_owned();
    // Applying again: everyone exists now.
    let again = w.a.admin.post(&import, json!({ "rows": [{"email": "ana@alpha.test", "name": "Ana"}] })).await;
    assert_eq!(statuses(again.ok()), ["failed"]);

    // Limits and permissions.
    w.a.admin.post(&import, json!({ "rows": [] })).await.assert_problem(422, "validation");
    let member = create_user(&w.a.admin, a, "mo@alpha.test", "member").await;
    let _ = member;
    let mo = w.login(a, "mo@alpha.test").await;
    mo.post(&import, json!({ "rows": rows })).await.assert_problem(403, "forbidden");
    w.b.admin.post(&import, json!({ "rows": rows })).await.assert_problem(403, "forbidden");

    // Enrolments by email.
    let course =
        w.a.admin.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "B-1", "title": "Bulk"})).await;
    let cid = course.ok()["id"].as_str().unwrap().to_owned();
    let enrol = format!("/api/v1/institutions/{a}/courses/{cid}/enrolments/import");
    let rows = json!([
        {"email": "ana@alpha.test", "role": "student"},
        {"email": "nobody@alpha.test", "role": "student"},
        {"email": "ben@alpha.test", "role": "teaching_assistant"},
        {"email": "Ana@alpha.test", "role": "observer"},
    ]);
    let enrolled = async || {
        let listed = w.a.admin.get(&format!("/api/v1/institutions/{a}/courses/{cid}/enrolments")).await;
        listed.ok()["items"].as_array().unwrap().len()
    };
    let before = enrolled().await;
    let preview = w.a.admin.post(&enrol, json!({ "rows": rows, "dry_run": true })).await;
    assert_eq!(statuses(preview.ok()), ["valid", "failed", "valid", "failed"], "{}", preview.body);
    assert_eq!(enrolled().await, before, "a dry run enrols nobody");
    let applied = w.a.admin.post(&enrol, json!({ "rows": rows })).await;
    let r = applied.ok();
    assert_eq!(statuses(r), ["applied", "failed", "applied", "failed"], "{r}");
    assert_eq!(r["rows"][0]["enrolment"]["user_id"], ana.as_str());
    assert_eq!(r["rows"][2]["enrolment"]["role"], "teaching_assistant");
    assert!(r["rows"][1]["problem"]["detail"].as_str().unwrap().contains("nobody@alpha.test"));
    assert_eq!(enrolled().await, before + 2);
    // Already enrolled now.
    let again = w.a.admin.post(&enrol, json!({ "rows": [{"email": "ana@alpha.test", "role": "student"}] })).await;
    assert_eq!(again.ok()["rows"][0]["problem"]["type"], "/problems/conflict");
    mo.post(&enrol, json!({ "rows": rows })).await.assert_problem(403, "forbidden");
}

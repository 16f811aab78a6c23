//! Privacy requests over HTTP: a person's export (GDPR articles 15 and 20)
//! holds what every part of Lectern keeps about them, and an erasure
//! (article 17) removes who they are while the records an institution must
//! keep stay, pseudonymous, and the credentials issued stay valid.

use lectern_e2e::{Api, PASSWORD};
use serde_json::{Value, json};

use crate::{World, create_user, eventually};

async fn setup_plugins(w: &World) {
    crate::exam::install_grading_plugin(&w.server).await;
    crate::content::install_content_plugin(w).await;
    crate::proctoring::install_proctoring_plugin(w).await;
    crate::tutor::install_tutoring_plugin(w).await;
}

fn find<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

#[tokio::test]
async fn a_person_exports_everything_held_about_them_and_an_erasure_keeps_only_pseudonymous_records() {
    let w = World::new().await;
    setup_plugins(&w).await;
    let a = w.a.slug.clone();
    let admin = w.a.admin.clone();
    create_user(&admin, &a, "teach@alpha.test", "staff").await;
    let ada = create_user(&admin, &a, "ada@alpha.test", "member").await;
    let bob = create_user(&admin, &a, "bob@alpha.test", "member").await;
    let teacher = w.login(&a, "teach@alpha.test").await;
    let student = w.login(&a, "ada@alpha.test").await;
    let classmate = w.login(&a, "bob@alpha.test").await;

    // A course Ada takes: a page, a proctored quiz she passes, a question to the tutor.
    let r =
        teacher.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "PRIV", "title": "Privacy"})).await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/{a}/courses/{course}");
    for u in [&ada, &bob] {
        teacher.post(&format!("{base}/enrolments"), json!({"user_id": u, "role": "student"})).await.ok();
    }
    teacher.post_empty(&format!("{base}/publish")).await.ok();
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "Week 1"})).await.ok();
    teacher
        .post(
            &format!("{base}/content/modules/m/items"),
            json!({"id": "intro", "kind": "page", "title": "Intro", "markdown": "Photosynthesis turns light into sugar."}),
        )
        .await
        .ok();
    let quiz = json!({"title": "Quiz", "questions": [
        {"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}},
        {"id": "why", "prompt": "Why?", "points": 1.0, "key": {"short_answer": {"alternatives": [
            {"pattern": "light", "regex": false, "credit": 1.0, "feedback": null}], "case_sensitive": false, "normalize_whitespace": true}}}],
        "settings": {"proctoring": {"weights": {"focus_lost": 0.3}, "flag_threshold": 0.5, "heartbeat_interval_ms": 15000,
                                    "allow_copy_paste": true, "action": "flag_for_review"}}});
    let quiz = teacher.post(&format!("{base}/assessments"), quiz).await.ok()["id"].as_str().unwrap().to_owned();
    teacher.patch(&format!("/api/v1/assessments/{quiz}"), json!({"published": true})).await.ok();
    teacher.put(&format!("{base}/completion-rule"), json!({"required_items": [quiz], "min_percent": 50.0})).await.ok();
    teacher.put(&format!("{base}/tutor/policy"), json!({"enabled": true, "show_names": true})).await.ok();
    student.get(&format!("{base}/content/items/intro")).await.ok();
    let attempt = student.post(&format!("/api/v1/assessments/{quiz}/attempts"), json!({})).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ab = format!("/api/v1/assessments/{quiz}/attempts/{attempt}");
    student
        .post(
            &format!("{ab}/signals"),
            json!({"seq": 1, "signals": [{"kind": "focus_lost", "at_ms": 1000, "duration_ms": 2000, "detail": "went to the kitchen"}]}),
        )
        .await
        .ok();
    student.put(&format!("{ab}/answers/q1"), json!({"response": {"boolean": true}, "version": 1})).await.ok();
    student
        .put(&format!("{ab}/answers/why"), json!({"response": {"text": "because of light"}, "version": 1}))
        .await
        .ok();
    student.post_empty(&format!("{ab}/submit")).await.ok();
    let question = "Where does the sugar in a leaf come from?";
    student.post(&format!("{base}/tutor/questions"), json!({"question": question})).await.ok();
    let credential = eventually("Ada's credential", async || {
        student.get("/api/v1/me/credentials").await.body["items"].as_array().and_then(|a| a.first().cloned())
    })
    .await;
    eventually("Ada's notification", async || {
        let r = student.get("/api/v1/me/notifications").await;
        r.body["items"].as_array().is_some_and(|i| !i.is_empty()).then_some(())
    })
    .await;

    // Her own export: everything, as a file.
    let r = student.get("/api/v1/me/export").await;
    let mine = r.ok().clone();
    assert!(
        r.header("content-disposition").is_some_and(|d| d.contains(&format!("lectern-person-{ada}.json"))),
        "{:?}",
        r.headers
    );
    crate::schema::assert_matches_openapi(&student, &mine, "PersonExport").await;
    assert_eq!(mine["format"], "lectern-person-export/1");
    assert_eq!(find(&mine, "person.account.email"), "ada@alpha.test");
    assert_eq!(find(&mine, "person.enrolments")[0]["code"], "PRIV");
    assert!(find(&mine, "person.sessions")[0]["ip"].as_str().is_some_and(|ip| ip.contains("127.0.0.1")), "{mine}");
    let attempts = find(&mine, "assessment.attempts").as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["answers"]["why"]["response"], json!({"text": "because of light"}));
    let integrity = &find(&mine, "assessment.integrity")[0];
    assert_eq!(integrity["batches"][0]["signals"][0]["detail"], "went to the kitchen");
    assert!(integrity["batches"][0]["client"]["ip"].as_str().is_some(), "{integrity}");
    assert!(!find(&mine, "assessment.grades").as_array().unwrap().is_empty());
    assert_eq!(find(&mine, "assessment.completions").as_array().unwrap().len(), 1);
    let issued = &find(&mine, "assessment.credentials")[0];
    assert_eq!(issued["id"], credential["id"]);
    assert!(issued["document"]["proof"].is_object(), "the signed document itself: {issued}");
    assert_eq!(find(&mine, "tutor")[0]["turns"][0]["question"], question);
    assert!(find(&mine, "content")[0]["items"].as_array().unwrap().iter().any(|i| i["item"] == "intro"));
    assert!(!find(&mine, "notifications.notifications").as_array().unwrap().is_empty());
    assert!(find(&mine, "audit").as_array().unwrap().iter().any(|e| e["action"] == "auth.login"), "{}", mine["audit"]);

    // The institution's administrator exports the same; nobody else does, and a service client
    // — even one that manages users — never: it would read grades, integrity records and tutor
    // questions its scopes do not grant.
    let theirs = admin.get(&format!("/api/v1/institutions/{a}/users/{ada}/export")).await.ok().clone();
    assert_eq!(theirs["assessment"]["attempts"], mine["assessment"]["attempts"]);
    for who in [&classmate, &teacher] {
        who.get(&format!("/api/v1/institutions/{a}/users/{ada}/export")).await.assert_problem(403, "forbidden");
    }
    w.b.admin.get(&format!("/api/v1/institutions/{a}/users/{ada}/export")).await.assert_problem(403, "forbidden");
    let r = admin
        .post(
            &format!("/api/v1/institutions/{a}/oauth-clients"),
            json!({"name": "sis", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["users:write", "grades:read"]}),
        )
        .await;
    let (id, secret) = (r.ok()["client_id"].as_str().unwrap(), r.body["client_secret"].as_str().unwrap());
    let t = w.server.client().client_credentials(id, secret).await;
    let sis = w.server.client().with_token(t.ok()["access_token"].as_str().unwrap());
    sis.get(&format!("/api/v1/institutions/{a}/users/{ada}/export")).await.assert_problem(403, "forbidden");
    sis.get("/api/v1/me/export").await.assert_problem(403, "forbidden");
    sis.post(&format!("/api/v1/institutions/{a}/users/{ada}/erase"), json!({"confirm_email": "ada@alpha.test"}))
        .await
        .assert_problem(403, "forbidden");

    // Erasure: confirmed by the address, refused to anyone but an administrator, never of oneself.
    let erase = format!("/api/v1/institutions/{a}/users/{ada}/erase");
    admin.post(&erase, json!({"confirm_email": "bob@alpha.test"})).await.assert_problem(422, "validation");
    teacher.post(&erase, json!({"confirm_email": "ada@alpha.test"})).await.assert_problem(403, "forbidden");
    admin
        .post(
            &format!("/api/v1/institutions/{a}/users/{}/erase", w.a.admin_id),
            json!({"confirm_email": "admin@alpha.test"}),
        )
        .await
        .assert_problem(409, "conflict");
    let report = admin.post(&erase, json!({"confirm_email": "ADA@alpha.test"})).await.ok().clone();
    crate::schema::assert_matches_openapi(&admin, &report, "ErasureReport").await;
    assert_eq!(report["tutor_questions_deleted"], 1, "{report}");
    assert!(report["notifications_deleted"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["integrity_batches_scrubbed"], 1, "{report}");
    assert_eq!(report["credential_copies_deleted"], 1, "{report}");

    // Nobody is Ada any more: no sign-in, no token, no address.
    student.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    let (_, r) = w.server.client().login(&a, "ada@alpha.test", PASSWORD).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let user = admin.get(&format!("/api/v1/institutions/{a}/users/{ada}")).await.ok().clone();
    assert_eq!(user["name"], "Erased person");
    assert_eq!(user["email"], format!("erased-{ada}@erased.invalid"));
    assert_eq!(user["active"], false);
    // The address is free again: a new account can have it.
    create_user(&admin, &a, "ada@alpha.test", "member").await;

    // What had to stay stayed, under the pseudonym; what identified her went.
    let after = admin.get(&format!("/api/v1/institutions/{a}/users/{ada}/export")).await.ok().clone();
    assert_eq!(after["assessment"]["attempts"], mine["assessment"]["attempts"], "answers are kept");
    assert_eq!(after["assessment"]["grades"], mine["assessment"]["grades"], "grades are kept");
    let batch = &after["assessment"]["integrity"][0]["batches"][0];
    assert_eq!(batch["client"], json!({"ip": null, "user_agent": null, "session": null}), "{batch}");
    assert_eq!(batch["signals"][0]["detail"], Value::Null);
    assert_eq!(after["assessment"]["credentials"][0]["document"], "", "the stored copy, which names her, is gone");
    assert_eq!(after["tutor"], json!([]));
    assert_eq!(after["notifications"]["notifications"], json!([]));
    assert_eq!(after["person"]["sessions"], json!([]));
    let gradebook = teacher.get(&format!("{base}/gradebook")).await.ok().clone();
    let row = gradebook["students"].as_array().unwrap().iter().find(|s| s["student"] == ada.as_str()).cloned();
    let row = row.unwrap_or_else(|| panic!("the erased student's grades stay in the gradebook: {gradebook}"));
    assert_eq!(row["name"], "Erased person", "{row}");
    let insights = teacher.get(&format!("{base}/tutor/insights")).await.ok().clone();
    assert!(!insights.to_string().contains(question), "{insights}");

    // The credential she holds still verifies, and revoking it still works.
    let held = credential["credential"].clone();
    let v = w.server.client().post("/api/v1/credentials/verify", held.clone()).await;
    assert_eq!(v.ok()["verified"], true, "{}", v.body);
    admin
        .post(&format!("/api/v1/credentials/{}/revoke", credential["id"].as_str().unwrap()), json!({"reason": "test"}))
        .await
        .ok();
    let v = w.server.client().post("/api/v1/credentials/verify", held).await;
    assert_eq!(v.ok()["verified"], false, "{}", v.body);

    // Both requests are in the audit log.
    let log = admin.get(&format!("/api/v1/institutions/{a}/audit?action=privacy.")).await.ok().clone();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"privacy.erase") && actions.contains(&"privacy.export"), "{actions:?}");
    let _: &Api = &classmate;
}

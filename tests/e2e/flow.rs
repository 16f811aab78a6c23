//! The main story: bootstrap → institutions → users → courses → enrolments,
//! with every tenant and role boundary checked along the way.

use serde_json::json;

use crate::{World, create_user};

#[tokio::test]
async fn course_lifecycle_and_visibility() {
    let w = World::new().await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "ines@alpha.test", "staff").await;
    let s1 = create_user(&w.a.admin, a, "sam@alpha.test", "member").await;
    let s2 = create_user(&w.a.admin, a, "sue@alpha.test", "member").await;
    let instructor = w.login(a, "ines@alpha.test").await;
    let sam = w.login(a, "sam@alpha.test").await;
    let sue = w.login(a, "sue@alpha.test").await;

    // Staff create courses and become their instructor.
    let r = instructor
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({ "code": "CS101", "title": "Intro to CS", "description": "Bits" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["state"], "draft");
    assert_eq!(r.body["my_role"], "instructor");
    let cs101 = r.body["id"].as_str().unwrap().to_owned();
    assert!(r.header("location").unwrap().ends_with(&cs101));
    let r = instructor
        .post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "MA201", "title": "Linear algebra" }))
        .await;
    let ma201 = r.ok()["id"].as_str().unwrap().to_owned();
    // Duplicate codes are a conflict, case-insensitively.
    instructor
        .post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "cs101", "title": "Again" }))
        .await
        .assert_problem(409, "conflict");
    // Students cannot create courses.
    sam.post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "X1", "title": "Mine" }))
        .await
        .assert_problem(403, "forbidden");

    // Enrol: sam in both, sue in CS101 only.
    let enrol = |course: &str, user: &str, role: &str| {
        let (c, u, r) = (course.to_owned(), user.to_owned(), role.to_owned());
        let api = instructor.clone();
        let a = a.clone();
        async move {
            api.post(&format!("/api/v1/institutions/{a}/courses/{c}/enrolments"), json!({ "user_id": u, "role": r }))
                .await
        }
    };
    assert_eq!(enrol(&cs101, &s1, "student").await.status, 201);
    assert_eq!(enrol(&cs101, &s2, "student").await.status, 201);
    assert_eq!(enrol(&ma201, &s1, "student").await.status, 201);
    enrol(&cs101, &s1, "student").await.assert_problem(409, "conflict");
    enrol(&cs101, "00000000-0000-0000-0000-000000000000", "student").await.assert_problem(422, "validation");
    // A user of another institution cannot be enrolled.
    let foreign = create_user(&w.b.admin, &w.b.slug, "bob@beta.test", "member").await;
    enrol(&cs101, &foreign, "student").await.assert_problem(422, "validation");

    // Drafts are invisible to students, even enrolled ones.
    sam.get(&format!("/api/v1/institutions/{a}/courses/{cs101}")).await.assert_problem(403, "forbidden");
    assert_eq!(sam.get("/api/v1/me/courses").await.ok()["items"].as_array().unwrap().len(), 0);

    // Publish CS101 only: sam sees CS101 (not MA201), sue sees CS101.
    let r = instructor.post_empty(&format!("/api/v1/institutions/{a}/courses/{cs101}/publish")).await;
    assert_eq!(r.ok()["state"], "published");
    let codes = |v: &serde_json::Value| {
        v["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(codes(sam.get("/api/v1/me/courses").await.ok()), vec!["CS101"]);
    assert_eq!(codes(sam.get(&format!("/api/v1/institutions/{a}/courses")).await.ok()), vec!["CS101"]);
    assert_eq!(codes(sue.get(&format!("/api/v1/institutions/{a}/courses")).await.ok()), vec!["CS101"]);
    let r = sam.get(&format!("/api/v1/institutions/{a}/courses/{cs101}")).await;
    assert_eq!(r.ok()["my_role"], "student");
    // The admin sees every course; the instructor sees both of theirs.
    assert_eq!(codes(w.a.admin.get(&format!("/api/v1/institutions/{a}/courses")).await.ok()).len(), 2);
    assert_eq!(codes(instructor.get("/api/v1/me/courses").await.ok()).len(), 2);

    // Students cannot edit, publish, see enrolments, or enrol themselves.
    sam.patch(&format!("/api/v1/institutions/{a}/courses/{cs101}"), json!({ "title": "pwned" }))
        .await
        .assert_problem(403, "forbidden");
    sam.post_empty(&format!("/api/v1/institutions/{a}/courses/{cs101}/archive")).await.assert_problem(403, "forbidden");
    sam.get(&format!("/api/v1/institutions/{a}/courses/{cs101}/enrolments")).await.assert_problem(403, "forbidden");
    sam.post(
        &format!("/api/v1/institutions/{a}/courses/{ma201}/enrolments"),
        json!({ "user_id": s1, "role": "instructor" }),
    )
    .await
    .assert_problem(403, "forbidden");
    sam.get(&format!("/api/v1/institutions/{a}/users")).await.assert_problem(403, "forbidden");

    // Enrolment listing, role change, removal.
    let r = instructor.get(&format!("/api/v1/institutions/{a}/courses/{cs101}/enrolments")).await;
    assert_eq!(r.ok()["items"].as_array().unwrap().len(), 3, "instructor + two students");
    let r = instructor
        .patch(
            &format!("/api/v1/institutions/{a}/courses/{cs101}/enrolments/{s2}"),
            json!({ "role": "teaching_assistant" }),
        )
        .await;
    assert_eq!(r.ok()["role"], "teaching_assistant");
    assert_eq!(
        sue.get(&format!("/api/v1/institutions/{a}/courses/{cs101}/enrolments")).await.status,
        200,
        "a TA sees enrolments"
    );
    assert_eq!(
        instructor.delete(&format!("/api/v1/institutions/{a}/courses/{cs101}/enrolments/{s1}")).await.status,
        204
    );
    assert_eq!(codes(sam.get("/api/v1/me/courses").await.ok()).len(), 0);

    // Optimistic concurrency on edits.
    let r = instructor.get(&format!("/api/v1/institutions/{a}/courses/{cs101}")).await;
    let etag = r.header("etag").unwrap().to_owned();
    let mut req = instructor
        .http
        .patch(format!("{}/api/v1/institutions/{a}/courses/{cs101}", instructor.base))
        .bearer_auth(instructor.token.clone().unwrap())
        .json(&json!({ "title": "Intro to Computing" }));
    req = req.header("if-match", &etag);
    let r = lectern_e2e::Api::finish(req).await;
    assert_eq!(r.ok()["title"], "Intro to Computing");
    let stale = instructor
        .http
        .patch(format!("{}/api/v1/institutions/{a}/courses/{cs101}", instructor.base))
        .bearer_auth(instructor.token.clone().unwrap())
        .header("if-match", &etag)
        .json(&json!({ "title": "Lost update" }));
    lectern_e2e::Api::finish(stale).await.assert_problem(412, "precondition-failed");

    // Archive: read-only, still visible to the TA; a published course cannot be deleted.
    assert_eq!(
        instructor.post_empty(&format!("/api/v1/institutions/{a}/courses/{cs101}/archive")).await.ok()["state"],
        "archived"
    );
    instructor.delete(&format!("/api/v1/institutions/{a}/courses/{cs101}")).await.assert_problem(409, "conflict");
    assert_eq!(
        instructor.delete(&format!("/api/v1/institutions/{a}/courses/{ma201}")).await.status,
        204,
        "drafts can be deleted"
    );
}

#[tokio::test]
async fn tenants_are_isolated() {
    let w = World::new().await;
    let (a, b) = (&w.a.slug, &w.b.slug);
    create_user(&w.a.admin, a, "tia@alpha.test", "staff").await;
    let tia = w.login(a, "tia@alpha.test").await;
    let course_a = tia
        .post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "A1", "title": "Alpha only" }))
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tia.post_empty(&format!("/api/v1/institutions/{a}/courses/{course_a}/publish")).await.ok();
    let bob_id = create_user(&w.b.admin, b, "bob@beta.test", "admin").await;
    let bob = w.login(b, "bob@beta.test").await;

    // An institution admin of B reads and writes nothing of A, by slug or id.
    for inst in [a.as_str(), w.a.id.as_str()] {
        bob.get(&format!("/api/v1/institutions/{inst}")).await.assert_problem(403, "forbidden");
        bob.get(&format!("/api/v1/institutions/{inst}/users")).await.assert_problem(403, "forbidden");
        bob.get(&format!("/api/v1/institutions/{inst}/courses")).await.assert_problem(403, "forbidden");
        bob.get(&format!("/api/v1/institutions/{inst}/courses/{course_a}")).await.assert_problem(403, "forbidden");
        bob.post(&format!("/api/v1/institutions/{inst}/users"), json!({ "email": "evil@x.test", "name": "Evil" }))
            .await
            .assert_problem(403, "forbidden");
        bob.patch(&format!("/api/v1/institutions/{inst}/courses/{course_a}"), json!({ "title": "x" }))
            .await
            .assert_problem(403, "forbidden");
        bob.post(
            &format!("/api/v1/institutions/{inst}/courses/{course_a}/enrolments"),
            json!({ "user_id": bob_id, "role": "instructor" }),
        )
        .await
        .assert_problem(403, "forbidden");
        bob.post_empty(&format!("/api/v1/institutions/{inst}/keys/rotate")).await.assert_problem(403, "forbidden");
    }
    // A's course id under B's institution path is simply not there.
    bob.get(&format!("/api/v1/institutions/{b}/courses/{course_a}")).await.assert_problem(404, "not-found");
    // Institution admins are not platform admins.
    bob.get("/api/v1/institutions").await.assert_problem(403, "forbidden");
    bob.post("/api/v1/institutions", json!({ "slug": "gamma", "name": "G" })).await.assert_problem(403, "forbidden");
    // Only platform admins grant platform admin.
    w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/users"),
            json!({ "email": "x@alpha.test", "name": "X", "platform_admin": true }),
        )
        .await
        .assert_problem(403, "forbidden");
    // The platform admin may cross tenants.
    assert_eq!(w.root.get(&format!("/api/v1/institutions/{a}/courses/{course_a}")).await.status, 200);
    assert_eq!(w.root.get("/api/v1/institutions").await.ok()["items"].as_array().unwrap().len(), 3);
    // Login is per institution: A's credentials do not work at B.
    let (_, r) = w.server.client().login(b, "tia@alpha.test", lectern_e2e::PASSWORD).await;
    r.assert_problem(401, "invalid-credentials");
}

#[tokio::test]
async fn users_sessions_and_deactivation() {
    let w = World::new().await;
    let a = &w.a.slug;
    let uid = create_user(&w.a.admin, a, "dee@alpha.test", "member").await;
    // Weak passwords are refused with the reason.
    let r =
        w.a.admin
            .post(
                &format!("/api/v1/institutions/{a}/users"),
                json!({ "email": "w@alpha.test", "name": "W", "password": "password1" }),
            )
            .await;
    r.assert_problem(422, "weak-password");
    assert!(r.body["detail"].as_str().unwrap().contains("common"));
    w.a.admin
        .post(&format!("/api/v1/institutions/{a}/users"), json!({ "email": "DEE@alpha.test", "name": "Dup" }))
        .await
        .assert_problem(409, "conflict");

    // Two sessions for dee: a cookie-only browser and a bearer-token app.
    let browser = w.login(a, "dee@alpha.test").await;
    let cookie_only = lectern_e2e::Api { token: None, ..browser.clone() };
    let app = w.login(a, "dee@alpha.test").await;
    assert_eq!(cookie_only.get("/api/v1/me").await.ok()["user"]["email"], "dee@alpha.test");
    let sessions = app.get("/api/v1/me/sessions").await;
    let list = sessions.ok().as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    // A user may change their own name but not their role.
    assert_eq!(
        app.patch(&format!("/api/v1/institutions/{a}/users/{uid}"), json!({ "name": "Dee D." })).await.ok()["name"],
        "Dee D."
    );
    app.patch(&format!("/api/v1/institutions/{a}/users/{uid}"), json!({ "role": "admin" }))
        .await
        .assert_problem(403, "forbidden");
    // …and their own language, a BCP 47 tag in canonical case, which /me returns.
    let me_path = format!("/api/v1/institutions/{a}/users/{uid}");
    let r = app.patch(&me_path, json!({ "locale": "pt-br" })).await;
    assert_eq!(r.ok()["locale"], "pt-BR");
    assert_eq!(app.get("/api/v1/me").await.ok()["user"]["locale"], "pt-BR");
    app.patch(&me_path, json!({ "locale": "not a language" })).await.assert_problem(422, "validation");
    assert_eq!(app.patch(&me_path, json!({ "locale": "" })).await.ok()["locale"], serde_json::Value::Null);

    // A write authenticated by the cookie alone needs the CSRF header (reads do not).
    let patch = reqwest::Method::PATCH;
    cookie_only
        .cookie_send(patch.clone(), &me_path, Some(json!({ "locale": "fr" })), false)
        .await
        .assert_problem(403, "csrf-refused");
    let r = cookie_only.cookie_send(patch, &me_path, Some(json!({ "locale": "fr" })), true).await;
    assert_eq!(r.ok()["locale"], "fr");

    // Revoke the browser session from the app: the cookie stops working.
    let browser_sid = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/v1/me/sessions/{browser_sid}")).await.status, 204);
    cookie_only.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    // …and so does the access token minted with that session.
    browser.get("/api/v1/me").await.assert_problem(401, "unauthenticated");

    // Logout ends the app's own session and its token.
    let again = w.login(a, "dee@alpha.test").await;
    assert_eq!(again.post_empty("/api/v1/auth/logout").await.status, 204);
    again.get("/api/v1/me").await.assert_problem(401, "unauthenticated");

    // An administrator's reset signs the user out everywhere without deactivating them.
    let phone = w.login(a, "dee@alpha.test").await;
    let laptop = w.login(a, "dee@alpha.test").await;
    let reset = format!("/api/v1/institutions/{a}/users/{uid}/sessions/reset");
    phone.post_empty(&reset).await.assert_problem(403, "forbidden");
    let r = w.a.admin.post_empty(&reset).await;
    assert!(r.ok()["ended"].as_u64().unwrap() >= 2, "{}", r.body);
    phone.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    laptop.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    assert_eq!(w.a.admin.get(&format!("/api/v1/institutions/{a}/users/{uid}")).await.ok()["active"], true);

    // Deactivation kills every remaining session and token at once.
    let live = w.login(a, "dee@alpha.test").await;
    assert_eq!(live.get("/api/v1/me").await.status, 200);
    let r = w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/users/{uid}/deactivate")).await;
    assert_eq!(r.ok()["active"], false);
    live.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    app.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    let (_, r) = w.server.client().login(a, "dee@alpha.test", lectern_e2e::PASSWORD).await;
    r.assert_problem(401, "unauthenticated");
    // Admins cannot deactivate themselves.
    w.a.admin
        .post_empty(&format!("/api/v1/institutions/{a}/users/{}/deactivate", w.a.admin_id))
        .await
        .assert_problem(409, "conflict");
    // Reactivate, reset the password: old password fails, new works.
    w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/users/{uid}/reactivate")).await.ok();
    assert_eq!(
        w.a.admin
            .put(
                &format!("/api/v1/institutions/{a}/users/{uid}/password"),
                json!({ "password": "a brand new passphrase" })
            )
            .await
            .status,
        204
    );
    let (_, r) = w.server.client().login(a, "dee@alpha.test", lectern_e2e::PASSWORD).await;
    r.assert_problem(401, "invalid-credentials");
    let (_, r) = w.server.client().login(a, "dee@alpha.test", "a brand new passphrase").await;
    r.ok();
}

//! Accounts as an attacker would try them: look-alike and malformed login
//! identifiers, and a service client reaching for an administrator's account.

use lectern_e2e::{Api, PASSWORD};
use serde_json::json;

use crate::World;

async fn new_user(admin: &Api, inst: &str, email: &str) -> lectern_e2e::Reply {
    admin
        .post(
            &format!("/api/v1/institutions/{inst}/users"),
            json!({ "email": email, "name": "Someone", "role": "member", "password": PASSWORD }),
        )
        .await
}

#[tokio::test]
async fn look_alike_and_malformed_addresses_are_refused() {
    let w = World::new().await;
    let a = &w.a.slug;
    let stu = crate::create_user(&w.a.admin, a, "stu@u.test", "member").await;

    // Cyrillic ѕ, Greek ο: the same address to a reader.
    for lookalike in ["\u{0455}tu@u.test", "st\u{03C5}@u.test"] {
        let r = new_user(&w.a.admin, a, lookalike).await;
        r.assert_problem(409, "conflict");
        assert!(r.body["detail"].as_str().unwrap().contains("looks the same"), "{lookalike}: {}", r.body);
    }
    // Fullwidth letters are the same address after normalisation.
    new_user(&w.a.admin, a, "ｓｔｕ@u.test").await.assert_problem(409, "conflict");
    new_user(&w.a.admin, a, "STU@U.TEST").await.assert_problem(409, "conflict");
    // Invisible characters and what no address may hold.
    for bad in ["stu\u{200b}@u.test", "\u{202e}stu@u.test", "stu\u{00ad}@u.test", "<script>@u.test", "\"stu\"@u.test"] {
        let r = new_user(&w.a.admin, a, bad).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.body["field"], "email", "{bad:?}: {}", r.body);
    }
    // Two ASCII addresses are compared exactly: `rn` and `m` look alike, yet
    // arnie and amie are two people.
    assert_eq!(new_user(&w.a.admin, a, "arnie@u.test").await.status, 201);
    assert_eq!(new_user(&w.a.admin, a, "amie@u.test").await.status, 201);
    // An internationalised address is fine, once.
    assert_eq!(new_user(&w.a.admin, a, "josé@u.test").await.status, 201);
    new_user(&w.a.admin, a, "jos\u{0065}\u{0301}@u.test").await.assert_problem(409, "conflict");
    // The same address in another institution is another person.
    assert_eq!(new_user(&w.b.admin, &w.b.slug, "\u{0455}tu@u.test").await.status, 201);

    // Renaming into a look-alike is refused the same way; renaming to one's
    // own address in another case is not a conflict with oneself.
    let arnie = w.login(a, "arnie@u.test").await;
    let arnie_id = arnie.get("/api/v1/me").await.ok()["user"]["id"].as_str().unwrap().to_owned();
    let users = format!("/api/v1/institutions/{a}/users");
    w.a.admin
        .patch(&format!("{users}/{arnie_id}"), json!({ "email": "ѕtu@u.test" }))
        .await
        .assert_problem(409, "conflict");
    w.a.admin.patch(&format!("{users}/{arnie_id}"), json!({ "email": "Arnie@U.test" })).await.ok();
    w.a.admin.patch(&format!("{users}/{stu}"), json!({ "email": "ｓｔｕ@u.test" })).await.ok();

    // Signing in with the address typed in fullwidth finds the one account.
    let (api, r) = w.server.client().login(a, "ｓｔｕ@ｕ.ｔｅｓｔ", PASSWORD).await;
    r.ok();
    assert_eq!(api.get("/api/v1/me").await.ok()["user"]["id"], stu.as_str());

    // A bulk import says so per row, before writing anything.
    let r = w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/users/import"),
            json!({ "rows": [{ "email": "\u{0455}tu@u.test", "name": "X" }, { "email": "new@u.test", "name": "Y" }], "dry_run": true }),
        )
        .await;
    let p = r.ok();
    assert_eq!(p["rows"][0]["problem"]["type"], "/problems/conflict", "{p}");
    assert!(p["rows"][0]["problem"]["detail"].as_str().unwrap().contains("looks the same"), "{p}");
    assert_eq!(p["rows"][1]["status"], "valid", "{p}");
}

#[tokio::test]
async fn only_an_admin_grant_changes_an_administrators_account() {
    let w = World::new().await;
    let a = &w.a.slug;
    let r = w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/oauth-clients"),
            json!({ "name": "SIS", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["users:write"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, secret) = (r.body["client_id"].as_str().unwrap(), r.body["client_secret"].as_str().unwrap());
    let anon = w.server.client().anonymous();
    let t = anon.client_credentials(id, secret).await;
    let svc = anon.with_token(t.body["access_token"].as_str().unwrap());

    let admin = format!("/api/v1/institutions/{a}/users/{}", w.a.admin_id);
    // The login identifier, the name: both are the administrator's account.
    svc.patch(&admin, json!({ "email": "attacker@evil.test" })).await.assert_problem(403, "forbidden");
    svc.patch(&admin, json!({ "name": "Not the admin" })).await.assert_problem(403, "forbidden");
    let me = w.a.admin.get("/api/v1/me").await.ok().clone();
    assert_eq!(me["user"]["email"], "admin@alpha.test");
    // A member's account is within users:write.
    let member = crate::create_user(&w.a.admin, a, "m@alpha.test", "member").await;
    let r = svc.patch(&format!("/api/v1/institutions/{a}/users/{member}"), json!({ "email": "m2@alpha.test" })).await;
    assert_eq!(r.ok()["email"], "m2@alpha.test");
    // The institution's administrators (who hold user:grant-admin) still can.
    let r = w.a.admin.patch(&admin, json!({ "name": "Admin A" })).await;
    assert_eq!(r.ok()["name"], "Admin A");
    // A platform administrator's account needs the platform, even for an
    // institution administrator of the platform institution.
    let me = w.root.get("/api/v1/me").await.ok().clone();
    let (root_inst, root_id) = (me["institution"]["id"].as_str().unwrap(), me["user"]["id"].as_str().unwrap());
    let r = w.a.admin.patch(&format!("/api/v1/institutions/{root_inst}/users/{root_id}"), json!({ "name": "x" })).await;
    assert_eq!(r.status, 403, "{}", r.body);
}

//! The audit log over HTTP: what is recorded, who may read it, and a chain
//! that an outside tool can check.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{World, create_user};

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

fn find<'a>(page: &'a Value, action: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == action && pred(e))
        .unwrap_or_else(|| panic!("no `{action}` entry like that in {page:#}"))
}

#[tokio::test]
async fn administrative_actions_are_recorded_chained_and_readable_by_admins_only() {
    let w = World::new().await;
    let a = &w.a.slug;
    let users = format!("/api/v1/institutions/{a}/users");

    // A failed and a successful sign-in.
    let (_, r) = w.server.client().login(a, "Admin@Alpha.test", "not the password").await;
    r.assert_problem(401, "invalid-credentials");
    let member = create_user(&w.a.admin, a, "mo@alpha.test", "member").await;
    let mo = w.login(a, "mo@alpha.test").await;
    // A role change, a deactivation, a key rotation; a refused attempt by a member.
    w.a.admin.patch(&format!("{users}/{member}"), json!({ "role": "staff" })).await.ok();
    mo.post(&users, json!({ "email": "x@alpha.test", "name": "X" })).await.assert_problem(403, "forbidden");
    w.a.admin.post_empty(&format!("{users}/{member}/deactivate")).await.ok();
    assert_eq!(w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/keys/rotate")).await.status, 200);
    // Something in the other institution.
    create_user(&w.b.admin, &w.b.slug, "bo@beta.test", "member").await;

    let log = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?limit=500")).await.ok().clone();
    let admin_id = w.a.admin_id.as_str();
    let failed = find(&log, "auth.login", |e| e["outcome"] == "denied");
    assert_eq!(failed["actor"]["kind"], "anonymous");
    assert_eq!(failed["actor"]["claimed"], "admin@alpha.test", "the address as typed, normalised");
    assert_eq!(failed["details"]["reason"], "invalid credentials");
    assert!(!failed.to_string().contains("not the password"), "never the password");
    find(&log, "auth.login", |e| e["outcome"] == "succeeded" && e["actor"]["id"] == member.as_str());
    let role = find(&log, "PATCH /api/v1/institutions/{institution}/users/{user_id}", |_| true);
    assert_eq!((role["actor"]["kind"].as_str(), role["actor"]["id"].as_str()), (Some("user"), Some(admin_id)));
    assert_eq!(role["actor"]["email"], "admin@alpha.test", "shown with the user's email");
    assert_eq!(role["target"], format!("{users}/{member}"));
    assert_eq!((role["status"].as_u64(), role["outcome"].as_str()), (Some(200), Some("succeeded")));
    assert!(role["ip"].as_str().is_some_and(|ip| ip.starts_with("127.")), "{role}");
    assert!(role["request_id"].as_str().is_some(), "{role}");
    let refused = find(&log, "POST /api/v1/institutions/{institution}/users", |e| e["status"] == 403);
    assert_eq!((refused["outcome"].as_str(), refused["actor"]["id"].as_str()), (Some("denied"), Some(member.as_str())));
    find(&log, "POST /api/v1/institutions/{institution}/users/{user_id}/deactivate", |e| e["status"] == 200);
    find(&log, "POST /api/v1/institutions/{institution}/keys/rotate", |e| e["status"] == 200);
    // Newest first, and only this institution's.
    let seqs: Vec<u64> = log["items"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] > p[1]), "{seqs:?}");
    assert!(!log.to_string().contains("bo@beta.test"), "nothing of the other institution");
    // Reads are not recorded.
    assert!(!actions(&log).iter().any(|a| a.starts_with("GET ")), "{:?}", actions(&log));

    // Filters: by action prefix and by actor.
    let logins = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?action=auth.")).await.ok().clone();
    assert!(actions(&logins).iter().all(|x| x == "auth.login") && !actions(&logins).is_empty());
    let by_mo = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?actor={member}")).await.ok().clone();
    assert!(by_mo["items"].as_array().unwrap().iter().all(|e| e["actor"]["id"] == member.as_str()));
    let future = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?since=2999-01-01T00:00:00Z")).await;
    assert_eq!(future.ok()["items"].as_array().unwrap().len(), 0);
    w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?since=yesterday")).await.assert_problem(422, "validation");

    // Who may read it: this institution's administrators and the platform's.
    mo.get(&format!("/api/v1/institutions/{a}/audit")).await.assert_problem(401, "unauthenticated"); // deactivated
    let staff = create_user(&w.a.admin, a, "st@alpha.test", "staff").await;
    let _ = staff;
    let st = w.login(a, "st@alpha.test").await;
    st.get(&format!("/api/v1/institutions/{a}/audit")).await.assert_problem(403, "forbidden");
    w.b.admin.get(&format!("/api/v1/institutions/{a}/audit")).await.assert_problem(403, "forbidden");
    w.a.admin.get("/api/v1/admin/audit").await.assert_problem(403, "forbidden");
    let r = w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/oauth-clients"),
            json!({ "name": "SIEM", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["users:read", "institution:read"] }),
        )
        .await;
    let (id, secret) = (r.body["client_id"].as_str().unwrap(), r.body["client_secret"].as_str().unwrap());
    let t = w.server.client().anonymous().client_credentials(id, secret).await;
    let svc = w.server.client().anonymous().with_token(t.body["access_token"].as_str().unwrap());
    svc.get(&format!("/api/v1/institutions/{a}/audit")).await.assert_problem(403, "forbidden");

    // The platform sees both institutions; the chain verifies to its head.
    let all = w.root.get("/api/v1/admin/audit?limit=500").await.ok().clone();
    assert!(all.to_string().contains("bo@beta.test") || all.to_string().contains(&w.b.id), "both institutions");
    let v = w.root.get("/api/v1/admin/audit/verify").await.ok().clone();
    assert_eq!((v["ok"].as_bool(), v["first_bad"].as_u64()), (Some(true), None), "{v}");
    let newest = all["items"][0]["seq"].as_u64().unwrap();
    assert!(v["head"]["seq"].as_u64().unwrap() >= newest);
    assert!(v["entries"].as_u64().unwrap() > newest / 2);

    // The export: one line per entry, oldest first, each re-hashable by anyone.
    let log = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?limit=500")).await.ok().clone();
    let resp =
        w.a.admin
            .http
            .get(format!("{}/api/v1/institutions/{a}/audit/export", w.a.admin.base))
            .bearer_auth(w.a.admin.token.clone().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), log["items"].as_array().unwrap().len());
    assert!(lines.windows(2).all(|p| p[0]["seq"].as_u64() < p[1]["seq"].as_u64()));
    for line in &lines {
        let mut body = line.clone();
        let hash = body.as_object_mut().unwrap().remove("hash").unwrap();
        let recomputed = hex::encode(Sha256::digest(serde_jcs::to_vec(&body).unwrap()));
        assert_eq!(hash.as_str(), Some(recomputed.as_str()), "{line}");
    }
    // The export itself is recorded.
    let after = w.a.admin.get(&format!("/api/v1/institutions/{a}/audit?action=audit.export")).await.ok().clone();
    assert_eq!(after["items"][0]["actor"]["id"], admin_id);
}

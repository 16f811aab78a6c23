//! OAuth 2.0: authorization code + PKCE, refresh rotation with reuse
//! detection, client credentials, revocation, discovery.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_e2e::{Api, Reply};
use serde_json::json;
use sha2::Digest;

use crate::World;

const REDIRECT: &str = "http://127.0.0.1:9999/callback";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_query(client_id: &str, verifier: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20courses%3Aread%20offline_access&state=xyz&code_challenge={}&code_challenge_method=S256&nonce=n-1{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        challenge(verifier)
    )
}

/// The browser flow: the authorization endpoint sends the browser to the
/// consent page, whose "Allow" posts the request back with the session cookie
/// (and the CSRF header the pages send). Returns the consent answer.
async fn authorize(user: &Api, client_id: &str, verifier: &str, extra: &str) -> Reply {
    let query = authorize_query(client_id, verifier, extra);
    let browser = Api { token: None, ..user.clone() };
    let r = browser.get(&format!("/oauth/authorize?{query}")).await;
    if r.status != 303 || !r.header("location").is_some_and(|l| l.starts_with("/consent?")) {
        return r;
    }
    let prompt = browser.get(&format!("/api/v1/oauth/consent?{query}")).await;
    if !prompt.status.is_success() {
        return prompt;
    }
    assert_eq!(prompt.body["client_id"], client_id, "{}", prompt.body);
    let mut decision: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), json!(v))).collect();
    decision.insert("approve".into(), json!(true));
    browser.cookie_send(reqwest::Method::POST, "/api/v1/oauth/consent", Some(json!(decision)), true).await
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(location).ok()?;
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn code_for(user: &Api, client_id: &str, verifier: &str) -> String {
    let r = authorize(user, client_id, verifier, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let loc = r.body["redirect_to"].as_str().unwrap().to_owned();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    assert!(query_param(&loc, "iss").is_some(), "RFC 9207 iss parameter");
    query_param(&loc, "code").unwrap()
}

#[tokio::test]
async fn authorization_code_with_pkce_and_refresh_rotation() {
    let w = World::new().await;
    let a = &w.a.slug;
    let r =
        w.a.admin
            .post(
                &format!("/api/v1/institutions/{a}/oauth-clients"),
                json!({
                    "name": "Study planner", "confidential": false, "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "courses:read", "offline_access"]
                }),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("client_secret").is_none(), "public clients have no secret");
    let client_id = r.body["client_id"].as_str().unwrap().to_owned();
    crate::create_user(&w.a.admin, a, "pat@alpha.test", "member").await;
    let pat = w.login(a, "pat@alpha.test").await;
    let verifier = "a-perfectly-random-code-verifier-0123456789-abcdefghijklmn";

    // The authorization endpoint only checks and sends the browser to the consent page.
    let query = authorize_query(&client_id, verifier, "");
    let r = pat.anonymous().get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/consent?{query}").as_str()));
    // Not logged in: the consent page cannot ask, and nothing is granted.
    authorize(&pat.anonymous(), &client_id, verifier, "").await.assert_problem(401, "unauthenticated");
    // Approving with the cookie alone, without the header a cross-site form cannot send: refused.
    let mut decision: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), json!(v))).collect();
    decision.insert("approve".into(), json!(true));
    let browser = Api { token: None, ..pat.clone() };
    browser
        .cookie_send(reqwest::Method::POST, "/api/v1/oauth/consent", Some(json!(decision.clone())), false)
        .await
        .assert_problem(403, "csrf-refused");
    // Denying sends `access_denied` back to the client, with its state.
    decision.insert("approve".into(), json!(false));
    let r = browser.cookie_send(reqwest::Method::POST, "/api/v1/oauth/consent", Some(json!(decision)), true).await;
    let back = r.ok()["redirect_to"].as_str().unwrap().to_owned();
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&back, "state").as_deref(), Some("xyz"));
    assert!(query_param(&back, "code").is_none());
    // Redirect URI must match exactly; such errors never redirect.
    let bad = format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback%2F&code_challenge={}&code_challenge_method=S256",
        challenge(verifier)
    );
    Api { token: None, ..pat.clone() }.get(&bad).await.assert_problem(422, "validation");
    // PKCE is mandatory and S256 only: the error goes back to the client.
    let plain = format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&code_challenge={verifier}&code_challenge_method=plain&state=s",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let r = Api { token: None, ..pat.clone() }.get(&plain).await;
    assert_eq!(r.status, 303);
    assert_eq!(query_param(r.header("location").unwrap(), "error").as_deref(), Some("invalid_request"));

    // The code exchange checks the verifier.
    let code = code_for(&pat, &client_id, verifier).await;
    let anon = pat.anonymous();
    let r = anon
        .form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client_id),
                ("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-00"),
            ],
        )
        .await;
    r.assert_problem(400, "oauth");
    assert_eq!(r.body["error"], "invalid_grant");

    let code = code_for(&pat, &client_id, verifier).await;
    let exchange = |code: String| {
        let (anon, client_id) = (anon.clone(), client_id.clone());
        async move {
            anon.form(
                "/oauth/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", &client_id),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let t = exchange(code.clone()).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let access = t.body["access_token"].as_str().unwrap().to_owned();
    let refresh1 = t.body["refresh_token"].as_str().unwrap().to_owned();
    let id_token = t.body["id_token"].as_str().unwrap().to_owned();
    let id_claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(id_claims["aud"], client_id);
    assert_eq!(id_claims["nonce"], "n-1");
    assert_eq!(id_claims["email"], "pat@alpha.test");

    // The token is scoped: courses:read works, writing does not.
    let app = anon.with_token(&access);
    assert_eq!(app.get(&format!("/api/v1/institutions/{a}/courses")).await.status, 200);
    app.post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "Z", "title": "Z" }))
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(app.get("/oauth/userinfo").await.ok()["email"], "pat@alpha.test");

    // A code is single-use; replaying it revokes what it issued.
    let r = exchange(code).await;
    assert_eq!(r.body["error"], "invalid_grant");
    let r = anon
        .form(
            "/oauth/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh1), ("client_id", &client_id)],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_grant", "family revoked after code replay: {}", r.body);
    // ... and the access token already issued from it stops working at once,
    // not when its 15 minutes run out.
    assert_revoked(&app, a).await;

    // Fresh grant: refresh tokens rotate on every use.
    let t = exchange(code_for(&pat, &client_id, verifier).await).await;
    let r1 = t.body["refresh_token"].as_str().unwrap().to_owned();
    let first = anon.with_token(t.body["access_token"].as_str().unwrap());
    let t2 = anon
        .form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &r1), ("client_id", &client_id)])
        .await;
    assert_eq!(t2.status, 200, "{}", t2.body);
    let r2 = t2.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let second = anon.with_token(t2.body["access_token"].as_str().unwrap());
    // Rotation alone does not end the earlier access token.
    assert_eq!(first.get("/api/v1/me").await.status, 200);
    assert_eq!(second.get("/api/v1/me").await.status, 200);
    // Reusing r1 (stolen copy) is detected and revokes the whole family, including r2.
    let reuse = anon
        .form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &r1), ("client_id", &client_id)])
        .await;
    assert_eq!(reuse.body["error"], "invalid_grant");
    assert!(reuse.body["error_description"].as_str().unwrap().contains("already used"));
    let after = anon
        .form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &r2), ("client_id", &client_id)])
        .await;
    assert_eq!(after.body["error"], "invalid_grant", "{}", after.body);
    // Every access token of the grant is refused too.
    assert_revoked(&first, a).await;
    assert_revoked(&second, a).await;

    // Revocation endpoint (RFC 7009) ends a grant; unknown tokens are fine.
    let t = exchange(code_for(&pat, &client_id, verifier).await).await;
    let r = t.body["refresh_token"].as_str().unwrap().to_owned();
    let revoked = anon.with_token(t.body["access_token"].as_str().unwrap());
    assert_eq!(revoked.get("/api/v1/me").await.status, 200);
    assert_eq!(anon.form("/oauth/revoke", &[("token", &r), ("client_id", &client_id)]).await.status, 200);
    assert_revoked(&revoked, a).await;
    assert_eq!(anon.form("/oauth/revoke", &[("token", "nonsense"), ("client_id", &client_id)]).await.status, 200);
    let r = anon
        .form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &r), ("client_id", &client_id)])
        .await;
    assert_eq!(r.body["error"], "invalid_grant");

    // Deactivating the user ends their refresh tokens too.
    let t = exchange(code_for(&pat, &client_id, verifier).await).await;
    let r = t.body["refresh_token"].as_str().unwrap().to_owned();
    let pat_id = pat.get("/api/v1/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/users/{pat_id}/deactivate")).await.ok();
    let r = anon
        .form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &r), ("client_id", &client_id)])
        .await;
    assert_eq!(r.body["error"], "invalid_grant");

    // Deactivating the client ends the tokens it obtained for its users.
    crate::create_user(&w.a.admin, a, "quinn@alpha.test", "member").await;
    let quinn = w.login(a, "quinn@alpha.test").await;
    let t = exchange(code_for(&quinn, &client_id, verifier).await).await;
    let live = anon.with_token(t.body["access_token"].as_str().unwrap());
    assert_eq!(live.get("/api/v1/me").await.status, 200);
    assert_eq!(w.a.admin.delete(&format!("/api/v1/institutions/{a}/oauth-clients/{client_id}")).await.status, 204);
    assert_revoked(&live, a).await;
}

/// A token whose grant (or client) was revoked is refused everywhere, with
/// the reason, as an RFC 9457 problem.
async fn assert_revoked(token: &Api, inst: &str) {
    for path in ["/api/v1/me".to_owned(), "/oauth/userinfo".to_owned(), format!("/api/v1/institutions/{inst}/courses")]
    {
        let r = token.get(&path).await;
        r.assert_problem(401, "unauthenticated");
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("revoked"), "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn client_credentials_are_scoped_and_revocable() {
    let w = World::new().await;
    let a = &w.a.slug;
    let r = w.a.admin
        .post(&format!("/api/v1/institutions/{a}/oauth-clients"), json!({
            "name": "SIS sync", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["courses:read", "users:read"]
        }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    // The secret is never shown again.
    let list = w.a.admin.get(&format!("/api/v1/institutions/{a}/oauth-clients")).await;
    assert!(list.ok().as_array().unwrap().iter().all(|c| c.get("client_secret").is_none()));

    let anon = w.server.client().anonymous();
    // HTTP Basic client authentication.
    let t = anon.client_credentials(&id, &secret).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.body.get("refresh_token").is_none());
    let svc = anon.with_token(t.body["access_token"].as_str().unwrap());
    assert_eq!(svc.get(&format!("/api/v1/institutions/{a}/users")).await.status, 200);
    assert_eq!(svc.get("/api/v1/me").await.ok()["kind"], "client");
    svc.post(&format!("/api/v1/institutions/{a}/users"), json!({ "email": "n@alpha.test", "name": "N" }))
        .await
        .assert_problem(403, "forbidden");
    svc.get(&format!("/api/v1/institutions/{}/users", w.b.slug)).await.assert_problem(403, "forbidden");

    // Wrong secret, unknown grant, unauthorized scope.
    let r = anon
        .form(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", "lcs_wrong")],
        )
        .await;
    r.assert_problem(401, "oauth");
    assert_eq!(r.body["error"], "invalid_client");
    let r =
        anon.form("/oauth/token", &[("grant_type", "password"), ("client_id", &id), ("client_secret", &secret)]).await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = anon
        .form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("scope", "users:write"),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_scope");
    // Public clients cannot use client credentials; unknown scopes are refused at registration.
    w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/oauth-clients"),
            json!({ "name": "x", "confidential": false, "grant_types": ["client_credentials"], "scopes": [] }),
        )
        .await
        .assert_problem(422, "validation");
    w.a.admin
        .post(
            &format!("/api/v1/institutions/{a}/oauth-clients"),
            json!({ "name": "x", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["root"] }),
        )
        .await
        .assert_problem(422, "validation");

    // Revoking the client kills its live tokens at once.
    assert_eq!(w.a.admin.delete(&format!("/api/v1/institutions/{a}/oauth-clients/{id}")).await.status, 204);
    svc.get(&format!("/api/v1/institutions/{a}/users")).await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn discovery_documents() {
    let w = World::new().await;
    let d = w.root.get("/.well-known/openid-configuration").await;
    let d = d.ok();
    assert_eq!(d["issuer"], w.server.base);
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["jwks_uri"], format!("{}/.well-known/jwks.json", w.server.base));
    let jwks = w.root.get(d["jwks_uri"].as_str().unwrap().trim_start_matches(&w.server.base)).await;
    let keys = jwks.ok()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 3, "platform, alpha and beta each have a key");
    assert!(keys.iter().all(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["alg"] == "EdDSA"));
}

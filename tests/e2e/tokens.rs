//! Access tokens: signature, expiry, audience, type, key rotation and JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_core::Clock;
use lectern_e2e::{Api, Options, TestServer};
use serde_json::{Value, json};

use crate::World;

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Verifies `token` against the server's published JWKS, as a third party would.
async fn verify_with_jwks(api: &Api, token: &str, aud: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwks = api.get("/.well-known/jwks.json").await;
    let kid = header(token)["kid"].as_str().unwrap().to_owned();
    let key = jwks.body["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).cloned();
    let Some(key) = key else { return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into()) };
    let dk = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&[aud]);
    Ok(jsonwebtoken::decode::<Value>(token, &dk, &v)?.claims)
}

#[tokio::test]
async fn tokens_are_verified_strictly() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let admin = &w.a.admin;
    let token = admin.token.clone().unwrap();

    // The token is a proper RFC 9068 access token a third party can verify.
    let h = header(&token);
    assert_eq!(h["alg"], "EdDSA");
    assert_eq!(h["typ"], "at+jwt");
    let c = verify_with_jwks(admin, &token, "lectern-api").await.expect("verifies against JWKS");
    assert_eq!(c["tenant"], w.a.id);
    assert_eq!(c["iss"], w.server.base);
    for claim in ["sub", "exp", "iat", "jti", "scope"] {
        assert!(c.get(claim).is_some(), "missing {claim}");
    }

    // Tampering: change the tenant claim and keep the signature.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut forged = claims(&token);
    forged["tenant"] = json!(w.b.id);
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    admin.with_token(&parts.join(".")).get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    // A flipped signature byte.
    let mut sig = URL_SAFE_NO_PAD.decode(token.split('.').nth(2).unwrap()).unwrap();
    sig[0] ^= 1;
    let bad_sig = format!(
        "{}.{}.{}",
        token.split('.').next().unwrap(),
        token.split('.').nth(1).unwrap(),
        URL_SAFE_NO_PAD.encode(sig)
    );
    let r = admin.with_token(&bad_sig).get("/api/v1/me").await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.header("www-authenticate").unwrap().contains("invalid_token"));
    // alg=none and garbage.
    let none =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#), token.split('.').nth(1).unwrap());
    admin.with_token(&none).get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    admin.with_token("not-a-jwt").get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    // Algorithm confusion: HS256 keyed with the published public key (both
    // its base64url text and its raw bytes), same claims and kid.
    let jwks = admin.get("/.well-known/jwks.json").await.ok().clone();
    let kid = h["kid"].as_str().unwrap().to_owned();
    let x = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap()["x"]
        .as_str()
        .unwrap()
        .to_owned();
    let payload = claims(&token);
    for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&x).unwrap()] {
        let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        hs.typ = Some("at+jwt".into());
        hs.kid = Some(kid.clone());
        let forged = jsonwebtoken::encode(&hs, &payload, &jsonwebtoken::EncodingKey::from_secret(&secret)).unwrap();
        admin.with_token(&forged).get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    }
    // The signature kept, the header's kid swapped for another published key's.
    let other_kid = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).find(|k| *k != kid);
    if let Some(other_kid) = other_kid {
        let mut swapped = h.clone();
        swapped["kid"] = json!(other_kid);
        let t = format!("{}.{}", URL_SAFE_NO_PAD.encode(swapped.to_string()), token.split_once('.').unwrap().1);
        admin.with_token(&t).get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    }
    // A key the token points at itself (`jku`, `jwk`): never fetched, never trusted.
    for extra in [
        json!({"jku": "https://attacker.example/jwks.json", "kid": "attacker"}),
        json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}, "kid": "attacker"}),
    ] {
        let mut hdr = h.clone();
        for (k, v) in extra.as_object().unwrap() {
            hdr[k] = v.clone();
        }
        let t = format!("{}.{}", URL_SAFE_NO_PAD.encode(hdr.to_string()), token.split_once('.').unwrap().1);
        admin.with_token(&t).get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    }
    // No credentials at all.
    admin.anonymous().get("/api/v1/me").await.assert_problem(401, "unauthenticated");

    // Expiry, on the kernel's clock: 15 minutes plus leeway later the bearer
    // token is refused (the session cookie is a different credential).
    let bearer_only = Api::new(&admin.base).with_token(&token);
    assert_eq!(bearer_only.get("/api/v1/me").await.status, 200);
    clock.advance(15 * 60 + 31);
    let r = bearer_only.get("/api/v1/me").await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{}", r.body);
}

#[tokio::test]
async fn wrong_audience_and_id_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start(&data, Options::default()).await.unwrap();
    let root = lectern_e2e::bootstrap_admin(&server).await;
    let token = root.token.clone().unwrap();
    server.stop().await.unwrap();

    // The same data (same keys) served for another API audience: the token was not minted for it.
    let other = TestServer::start(
        &data,
        Options { kernel: Box::new(|k| k.audience = "other-api".into()), ..Default::default() },
    )
    .await
    .unwrap();
    let r = Api::new(&other.base).with_token(&token).get("/api/v1/me").await;
    r.assert_problem(401, "unauthenticated");
    // (issuer differs too, since the port changed; both must match.)
    assert!(
        r.body["detail"].as_str().unwrap().contains("audience")
            || r.body["detail"].as_str().unwrap().contains("issuer"),
        "{}",
        r.body
    );
    other.stop().await.unwrap();
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_until_they_expire() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let old_token = w.a.admin.token.clone().unwrap();
    let old_kid = header(&old_token)["kid"].as_str().unwrap().to_owned();
    let before = w.a.admin.get("/.well-known/jwks.json").await.body["keys"].as_array().unwrap().len();

    let r = w.a.admin.post_empty(&format!("/api/v1/institutions/{}/keys/rotate", w.a.slug)).await;
    let new_kid = r.ok()["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let keys = w.a.admin.get("/.well-known/jwks.json").await.body["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), before + 1, "old and new key both published");

    // Old token still works; new logins are signed with the new key.
    assert_eq!(Api::new(&w.server.base).with_token(&old_token).get("/api/v1/me").await.status, 200);
    let fresh = w.login(&w.a.slug, &format!("admin@{}.test", w.a.slug)).await;
    assert_eq!(header(fresh.token.as_ref().unwrap())["kid"], new_kid);

    // Once every token the old key signed has expired, the key is withdrawn.
    clock.advance(15 * 60 + 31);
    let keys = w.a.admin.get("/.well-known/jwks.json").await.body["keys"].as_array().unwrap().clone();
    assert!(keys.iter().all(|k| k["kid"] != old_kid.as_str()));
    assert_eq!(keys.len(), before);
    // Only admins rotate.
    let admin = w.login(&w.a.slug, &format!("admin@{}.test", w.a.slug)).await;
    let _ = crate::create_user(&admin, &w.a.slug, "m@alpha.test", "member").await;
    let m = w.login(&w.a.slug, "m@alpha.test").await;
    m.post_empty(&format!("/api/v1/institutions/{}/keys/rotate", w.a.slug)).await.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn sessions_expire_when_idle_and_are_swept() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let _ = crate::create_user(&w.a.admin, &w.a.slug, "ida@alpha.test", "member").await;
    let ida = w.login(&w.a.slug, "ida@alpha.test").await;
    let cookie_only = Api { token: None, ..ida.clone() };
    // Activity inside the idle window keeps the session alive…
    clock.advance(3600);
    assert_eq!(cookie_only.get("/api/v1/me").await.status, 200);
    clock.advance(3600);
    assert_eq!(cookie_only.get("/api/v1/me").await.status, 200);
    // …two idle hours end it.
    clock.advance(2 * 3600 + 1);
    cookie_only.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    // Sessions nobody touches again are removed by the sweeper.
    let swept = w.server.kernel.identity().sweep_expired().unwrap();
    assert!(swept.sessions >= 3, "the admins' idle sessions: {swept:?}");
    let again = w.server.kernel.identity().sweep_expired().unwrap();
    assert_eq!(again.sessions, 0);
}

/// `POST /api/v1/auth/refresh` as a browser front end sends it: the session cookie, the CSRF header.
async fn refresh(api: &Api, origin: Option<&str>, csrf: bool) -> lectern_e2e::Reply {
    let mut req = api.http.post(format!("{}/api/v1/auth/refresh", api.base));
    if csrf {
        req = req.header("lectern-csrf", "1");
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    Api::finish(req).await
}

#[tokio::test]
async fn a_login_session_renews_its_access_token_until_the_session_ends() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let ida_id = crate::create_user(&w.a.admin, &w.a.slug, "ida@alpha.test", "member").await;
    let ida = w.login(&w.a.slug, "ida@alpha.test").await;
    let cookie_only = Api { token: None, ..ida.clone() };

    // Cross-site requests are refused before anything is minted.
    refresh(&cookie_only, None, false).await.assert_problem(403, "csrf-refused");
    refresh(&cookie_only, Some("https://evil.example"), true).await.assert_problem(403, "csrf-refused");
    // A bearer token cannot renew itself: only the session cookie counts.
    let bearer_only = Api::new(&w.server.base).with_token(ida.token.as_deref().unwrap());
    refresh(&bearer_only, None, true).await.assert_problem(401, "unauthenticated");

    // The login's token expires after 15 minutes; the session renews it, without a password.
    clock.advance(15 * 60 + 31);
    ida.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    let r = refresh(&cookie_only, Some(&w.server.base), true).await;
    assert_eq!(r.ok()["token_type"], "Bearer", "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["expires_in"], 15 * 60);
    assert_eq!(r.body["session"]["current"], true);
    crate::schema::assert_documented_response(&w.root, "post", "/api/v1/auth/refresh", "200", "RefreshResponse").await;
    crate::schema::assert_matches_openapi(&w.root, &r.body, "RefreshResponse").await;
    let fresh = r.body["access_token"].as_str().unwrap().to_owned();
    let c = claims(&fresh);
    assert_eq!(c["sub"], ida_id);
    assert_eq!(c["sid"], r.body["session"]["id"]);
    let me = Api::new(&w.server.base).with_token(&fresh).get("/api/v1/me").await;
    assert_eq!(me.ok()["user"]["id"], ida_id);

    // Hourly renewals keep the session alive past its 2-hour idle timeout…
    let absolute = w.server.kernel.config().session_absolute_secs;
    let mut elapsed = 15 * 60 + 31;
    while elapsed + 3600 < absolute - 10 * 60 {
        clock.advance(3600);
        elapsed += 3600;
        refresh(&cookie_only, None, true).await.ok();
    }
    // …but not past its absolute lifetime: the last token ends with the session.
    clock.advance(absolute - 10 * 60 - elapsed);
    let r = refresh(&cookie_only, None, true).await;
    let expires_in = r.ok()["expires_in"].as_i64().unwrap();
    assert!(0 < expires_in && expires_in <= 10 * 60, "{}", r.body);
    clock.advance(10 * 60 + 1);
    refresh(&cookie_only, None, true).await.assert_problem(401, "unauthenticated");

    // A revoked session renews nothing, nor does a deactivated user's.
    let ida = w.login(&w.a.slug, "ida@alpha.test").await;
    let cookie_only = Api { token: None, ..ida.clone() };
    refresh(&cookie_only, None, true).await.ok();
    ida.post_empty("/api/v1/auth/logout").await;
    refresh(&cookie_only, None, true).await.assert_problem(401, "unauthenticated");
    let ida = w.login(&w.a.slug, "ida@alpha.test").await;
    let cookie_only = Api { token: None, ..ida.clone() };
    let admin = w.login(&w.a.slug, &format!("admin@{}.test", w.a.slug)).await; // 12 hours on: a new token
    admin.post_empty(&format!("/api/v1/institutions/{}/users/{ida_id}/deactivate", w.a.slug)).await.ok();
    refresh(&cookie_only, None, true).await.assert_problem(401, "unauthenticated");
}

/// The kernel keeps tokens whose signature it verified (a bounded cache keyed
/// by the token's hash). A token answered from that cache is still refused the
/// moment its session ends, its user is deactivated or loses a role, or it expires.
#[tokio::test]
async fn a_verified_token_is_still_refused_after_each_revocation() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let a = &w.a.slug;
    let uid = crate::create_user(&w.a.admin, a, "cache@alpha.test", "staff").await;
    let hits = |api: Api| async move {
        // Twice: the second answer comes from the cache.
        assert_eq!(api.get("/api/v1/me").await.status, 200);
        assert_eq!(api.get("/api/v1/me").await.status, 200);
        api
    };

    // The session ends (logout): its token goes with it.
    let t = hits(w.login(a, "cache@alpha.test").await).await;
    assert_eq!(t.post_empty("/api/v1/auth/logout").await.status, 204);
    t.get("/api/v1/me").await.assert_problem(401, "unauthenticated");

    // A role taken away applies to the cached token at once.
    let t = hits(w.login(a, "cache@alpha.test").await).await;
    assert_eq!(t.get(&format!("/api/v1/institutions/{a}/users")).await.status, 200);
    w.a.admin.patch(&format!("/api/v1/institutions/{a}/users/{uid}"), json!({"role": "member"})).await.ok();
    t.get(&format!("/api/v1/institutions/{a}/users")).await.assert_problem(403, "forbidden");

    // Deactivation.
    let t = hits(w.login(a, "cache@alpha.test").await).await;
    w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/users/{uid}/deactivate")).await.ok();
    t.get("/api/v1/me").await.assert_problem(401, "unauthenticated");
    w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/users/{uid}/reactivate")).await.ok();

    // Expiry, with the token's session still alive: refused from the cache too.
    let t = hits(w.login(a, "cache@alpha.test").await).await;
    clock.advance(15 * 60 + 31);
    let r = Api::new(&t.base).with_token(t.token.as_ref().unwrap()).get("/api/v1/me").await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{}", r.body);
    w.server.stop().await.unwrap();
}

//! Every route from the OpenAPI document, swept with malformed input: each
//! answer must be a 4xx problem document, never a 5xx or a hang.

use lectern_e2e::{Api, Reply};
use reqwest::Method;
use serde_json::{Value, json};

use crate::World;

fn check(r: &Reply, what: &str) {
    assert!(r.status.is_client_error(), "{what}: expected 4xx, got {} {}", r.status, r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{what}: {}", r.body);
    assert!(r.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{what}: {}", r.body);
    assert_eq!(r.body["status"], r.status.as_u16(), "{what}");
}

async fn raw(api: &Api, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let mut req =
        api.http.request(method, format!("{}{path}", api.base)).header("content-type", content_type).body(body);
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    Api::finish(req).await
}

#[tokio::test]
async fn every_route_rejects_malformed_input_with_a_problem_document() {
    let w = World::new().await;
    let admin = &w.root;
    let spec = admin.get("/api/v1/openapi.json").await;
    let paths = spec.ok()["paths"].as_object().unwrap().clone();
    assert!(paths.len() >= 25, "expected the whole API in the document, got {}", paths.len());
    let mut checked = 0;
    for (template, ops) in &paths {
        for (method, op) in ops.as_object().unwrap() {
            let m: Method = method.to_uppercase().parse().unwrap();
            let has_ids = template.contains('{')
                && template.matches('{').count() > usize::from(template.contains("{institution}"));
            let path = template
                .replace("{institution}", "alpha")
                .replace("{user_id}", "not-a-uuid")
                .replace("{course_id}", "42")
                .replace("{session_id}", "x")
                .replace("{client_id}", "nope");
            let what = format!("{method} {template}");
            let protected = op.get("security").is_some();

            if protected {
                let r = admin.anonymous().send(m.clone(), &path, None).await;
                check(&r, &format!("{what} without credentials"));
                assert_eq!(r.status, 401, "{what}");
                let r =
                    admin.anonymous().with_token("eyJhbGciOiJFZERTQSJ9.e30.AAAA").send(m.clone(), &path, None).await;
                check(&r, &format!("{what} with a junk token"));
            }
            if has_ids && op.get("requestBody").is_none() {
                let r = admin.send(m.clone(), &path, None).await;
                check(&r, &format!("{what} with bad ids"));
            }
            if op.get("requestBody").is_some() {
                let form = template.starts_with("/oauth/");
                let multipart = template == "/api/v1/plugins";
                let ct = if form {
                    "application/x-www-form-urlencoded"
                } else if multipart {
                    "multipart/form-data; boundary=XYZ"
                } else {
                    "application/json"
                };
                let cases: Vec<(&str, &str, Vec<u8>)> = vec![
                    ("truncated JSON", "application/json", b"{\"email\": ".to_vec()),
                    ("array instead of object", ct, b"[1,2,3]".to_vec()),
                    (
                        "wrong types",
                        ct,
                        if form {
                            b"grant_type[]=%ZZ".to_vec()
                        } else {
                            br#"{"email":5,"name":[],"role":"wizard","code":{},"title":null,"password":7,"user_id":true,"slug":1,"token":false,"institution":[]}"#.to_vec()
                        },
                    ),
                    ("unknown field only", ct, if form { b"zzz=1".to_vec() } else { br#"{"zzz_unknown":1}"#.to_vec() }),
                    ("wrong content type", "text/plain", b"hello".to_vec()),
                    ("not UTF-8", ct, vec![0xff, 0xfe, 0xfd]),
                    // The plugin upload route accepts 64 MiB components; everything else 1 MiB.
                    (
                        "oversized",
                        ct,
                        if multipart {
                            let mut b = b"--XYZ\r\nContent-Disposition: form-data; name=\"component\"\r\n\r\n".to_vec();
                            b.resize(b.len() + 65 * 1024 * 1024, b'x');
                            b.extend_from_slice(b"\r\n--XYZ--\r\n");
                            b
                        } else {
                            vec![b' '; 2 * 1024 * 1024]
                        },
                    ),
                ];
                for (label, ctype, body) in cases {
                    let r = raw(admin, m.clone(), &path, ctype, body).await;
                    check(&r, &format!("{what}: {label}"));
                    // Media uploads and course archives take files up to the kernel's media
                    // limit (tests in media.rs and content.rs).
                    if label == "oversized" && !template.ends_with("/media") && !template.ends_with("/courses/import") {
                        assert_eq!(r.status, 413, "{what}");
                    }
                }
            }
            if op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit")) {
                for q in ["?limit=abc", "?limit=0", "?limit=100000", "?cursor=zz", "?surprise=1", "?limit=-1"] {
                    let r = admin.send(m.clone(), &format!("{path}{q}"), None).await;
                    check(&r, &format!("{what}{q}"));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "swept {checked} operations");

    // The server is still healthy after all that.
    assert_eq!(admin.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn hostile_values_in_well_formed_bodies() {
    let w = World::new().await;
    let a = w.a.admin.clone();
    let base = "/api/v1/institutions/alpha";
    let long = "x".repeat(100_000);
    let cases: Vec<(&str, Value)> = vec![
        ("/users", json!({ "email": "no-at-sign", "name": "N" })),
        ("/users", json!({ "email": "a@b.test", "name": "" })),
        ("/users", json!({ "email": "a@b.test", "name": long })),
        ("/users", json!({ "email": "a\u{0}@b.test", "name": "N" })),
        ("/users", json!({ "email": "a@b.test", "name": "bell\u{7}" })),
        ("/users", json!({ "email": "a@b.test", "name": "N", "password": "short" })),
        ("/users", json!({ "email": "a@b.test", "name": "N", "password": long })),
        ("/courses", json!({ "code": "", "title": "T" })),
        ("/courses", json!({ "code": "../../etc", "title": "T" })),
        ("/courses", json!({ "code": "OK1", "title": "T", "description": long })),
        (
            "/oauth-clients",
            json!({ "name": "c", "confidential": false, "grant_types": ["authorization_code"], "redirect_uris": ["javascript:alert(1)"], "scopes": [] }),
        ),
        ("/oauth-clients", json!({ "name": "c", "confidential": false, "grant_types": [], "scopes": [] })),
    ];
    for (path, body) in cases {
        let r = a.post(&format!("{base}{path}"), body.clone()).await;
        check(&r, &format!("POST {path} {}", body.to_string().chars().take(80).collect::<String>()));
    }
    let r = w.root.post("/api/v1/institutions", json!({ "slug": "Ünïcode", "name": "U" })).await;
    check(&r, "unicode slug");
    let r = w.root.post("/api/v1/institutions", json!({ "slug": "alpha", "name": "dup" })).await;
    r.assert_problem(409, "conflict");
    // Path traversal and encoded junk in ids.
    for p in [
        "/api/v1/institutions/..%2F..%2Fetc/users",
        "/api/v1/institutions/alpha/users/%00",
        "/api/v1/institutions/%ff%fe/courses",
    ] {
        let r = a.get(p).await;
        check(&r, p);
    }
    // Unknown problem types and unknown routes are problems too.
    check(&a.get("/problems/nope").await, "unknown problem type");
    check(&a.get("/api/v2/anything").await, "unknown route");
    check(&a.send(Method::PUT, "/api/v1/me", None).await, "wrong method");
    check(
        &a.send(Method::GET, "/api/v1/institutions/alpha/users/01a22624-4fef-74d9-a6c5-7f4e10e9d76c", None).await,
        "absent user",
    );
}

//! The web application's files at `/`: page paths get `index.html` (the
//! pages route on the client), missing files and API paths get problem
//! documents, and every page response carries the strict CSP.

use lectern_api::ApiConfig;
use lectern_api::web::WebRoot;
use lectern_e2e::{Options, TestServer};

#[tokio::test]
async fn pages_assets_and_the_api_share_one_origin() {
    let data = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("assets")).unwrap();
    std::fs::write(site.path().join("index.html"), "<!doctype html><title>Lectern</title>").unwrap();
    std::fs::write(site.path().join("assets/app-1a2b.js"), "console.log(1)").unwrap();
    std::fs::write(site.path().join("favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
    let api = ApiConfig { web_root: Some(WebRoot::new(site.path()).unwrap()), ..ApiConfig::default() };
    let server = TestServer::start(data.path(), Options { api, ..Options::default() }).await.unwrap();
    let client = server.client();

    // A page path, at any depth, is the application; it is revalidated on every load.
    for path in ["/", "/courses/c1/items/i2", "/consent?client_id=x"] {
        let r = client.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, "<!doctype html><title>Lectern</title>", "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // Hashed assets are immutable; a missing one is a 404 problem, never index.html.
    let r = client.get("/assets/app-1a2b.js").await;
    assert_eq!(r.status, 200);
    assert!(r.header("cache-control").unwrap().contains("immutable"));
    assert!(r.header("content-type").unwrap().contains("javascript"));
    client.get("/assets/gone-9z.js").await.assert_problem(404, "not-found");
    client.get("/missing.png").await.assert_problem(404, "not-found");
    assert_eq!(client.get("/favicon.svg").await.status, 200);
    // The API's namespaces stay the API's.
    client.get("/api/v1/nothing-here").await.assert_problem(404, "no-route");
    client.get("/oauth/nothing-here").await.assert_problem(404, "no-route");
    assert_eq!(client.get("/healthz").await.status, 200);
    // Only GET and HEAD reach the files.
    client.post("/courses/c1", serde_json::json!({})).await.assert_problem(404, "no-route");
    // Outside the root is not reachable.
    client.get("/../../etc/passwd").await;
    let r = client.get("/assets/..%2F..%2Findex.html").await;
    assert_ne!(r.status, 500);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_web_root_only_the_api_answers() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path(), Options::default()).await.unwrap();
    server.client().get("/").await.assert_problem(404, "no-route");
    server.client().get("/courses/x").await.assert_problem(404, "no-route");
    server.stop().await.unwrap();
}

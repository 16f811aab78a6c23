//! What the trust issue's probe of a running server found, each kept tested:
//! webhook destinations refused at registration.

use serde_json::json;

use crate::World;

#[tokio::test]
async fn webhooks_to_non_public_addresses_are_refused_when_registered() {
    let w = World::new().await; // allow_private_addresses is off, as in production
    let hooks = format!("/api/v1/institutions/{}/webhooks", w.a.slug);
    for (url, why) in [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.1/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://172.16.0.5/hook", "private"),
        ("http://0x7f000001/hook", "loopback"),
        ("http://2130706433/hook", "loopback"),
        ("http://0177.0.0.1/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[::ffff:a9fe:a9fe]/hook", "link-local"),
        ("http://[fd00::1]/hook", "unique-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://localhost:9000/hook", "loopback name"),
        ("http://api.localhost/hook", "loopback name"),
    ] {
        let r = w.a.admin.post(&hooks, json!({ "url": url, "events": ["grade.recorded"] })).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.body["field"], "url", "{url}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why) && detail.contains("allow_private_addresses"), "{url}: {detail}");
    }
    // Nothing was registered.
    assert_eq!(w.a.admin.get(&hooks).await.ok()["items"].as_array().unwrap().len(), 0);
    // A public destination is accepted (nothing is sent at registration).
    let r = w.a.admin.post(&hooks, json!({ "url": "https://93.184.215.14/hook", "events": ["grade.recorded"] })).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

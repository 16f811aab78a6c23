//! Webhook deliveries against a real HTTP receiver (axum on a loopback port).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use lectern_notify::{NotifyError, WebhookClient, WebhookOptions, WebhookRequest, verify_signature};

#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// Records every request; the path picks the answer.
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = seen.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let path = uri.path().to_owned();
                log.lock().unwrap().push(Received { path: path.clone(), headers, body });
                match path.as_str() {
                    "/ok" => (StatusCode::OK, "thanks".repeat(200)).into_response(),
                    "/fail" => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
                    "/bad" => (StatusCode::BAD_REQUEST, "no").into_response(),
                    "/busy" => (StatusCode::TOO_MANY_REQUESTS, "").into_response(),
                    "/redirect" => (StatusCode::FOUND, [("location", "/ok")], "").into_response(),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        StatusCode::OK.into_response()
                    }
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

const SECRET: &[u8] = b"whsec_0123456789abcdef";
const BODY: &[u8] = br#"{"type":"grade.published","grade":{"id":"g-1","score":17}}"#;
const NOW: i64 = 1_760_000_000;

fn client(allow_private_addresses: bool) -> WebhookClient {
    WebhookClient::new(WebhookOptions {
        timeout: Duration::from_secs(2),
        allow_private_addresses,
        user_agent: "Lectern-Webhooks/0 (test)".into(),
    })
    .unwrap()
}

fn request(url: &str) -> WebhookRequest<'_> {
    WebhookRequest { url, secret: SECRET, event: "grade.published", delivery_id: "d-0001", body: BODY, timestamp: NOW }
}

#[tokio::test]
async fn a_delivery_carries_signed_headers_that_verify() {
    let receiver = Receiver::start().await;
    let url = receiver.url("/ok");
    let outcome = client(true).deliver(&request(&url)).await;
    assert!(outcome.ok() && !outcome.retryable(), "{outcome:?}");
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.response_excerpt.len(), 512);
    assert!(outcome.response_excerpt.starts_with("thanksthanks"));

    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let got = &seen[0];
    let h = |name: &str| got.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(got.path, "/ok");
    assert_eq!(got.body.as_ref(), BODY);
    assert_eq!(h("content-type").as_deref(), Some("application/json"));
    assert_eq!(h("lectern-event").as_deref(), Some("grade.published"));
    assert_eq!(h("lectern-delivery").as_deref(), Some("d-0001"));
    assert_eq!(h("lectern-timestamp").as_deref(), Some("1760000000"));
    assert_eq!(h("user-agent").as_deref(), Some("Lectern-Webhooks/0 (test)"));

    let signature = h("lectern-signature").unwrap();
    assert!(signature.starts_with("t=1760000000,v1="), "{signature}");
    verify_signature(SECRET, &signature, &got.body, NOW + 30, 300).unwrap();
    let tampered = br#"{"type":"grade.published","grade":{"id":"g-1","score":20}}"#;
    assert!(matches!(verify_signature(SECRET, &signature, tampered, NOW, 300), Err(NotifyError::BadSignature)));
    assert!(matches!(verify_signature(b"wrong", &signature, &got.body, NOW, 300), Err(NotifyError::BadSignature)));
    assert!(matches!(
        verify_signature(SECRET, &signature, &got.body, NOW + 301, 300),
        Err(NotifyError::StaleSignature { .. })
    ));
}

#[tokio::test]
async fn statuses_decide_retryability_and_redirects_are_not_followed() {
    let receiver = Receiver::start().await;
    let client = client(true);
    for (path, status, retryable) in
        [("/fail", 500, true), ("/busy", 429, true), ("/bad", 400, false), ("/missing", 404, false)]
    {
        let url = receiver.url(path);
        let outcome = client.deliver(&request(&url)).await;
        assert_eq!(outcome.status, Some(status), "{path}: {outcome:?}");
        assert!(!outcome.ok(), "{path}");
        assert_eq!(outcome.retryable(), retryable, "{path}");
    }
    let url = receiver.url("/fail");
    assert_eq!(client.deliver(&request(&url)).await.response_excerpt, "boom");

    let before = receiver.seen().len();
    let url = receiver.url("/redirect");
    let outcome = client.deliver(&request(&url)).await;
    assert_eq!(outcome.status, Some(302));
    assert!(!outcome.ok() && !outcome.retryable());
    let seen = receiver.seen();
    assert_eq!(seen.len(), before + 1, "the redirect was followed");
    assert_eq!(seen[before].path, "/redirect");
}

#[tokio::test]
async fn network_failures_and_timeouts_are_retryable() {
    let receiver = Receiver::start().await;
    let client = WebhookClient::new(WebhookOptions {
        timeout: Duration::from_millis(300),
        allow_private_addresses: true,
        user_agent: "t".into(),
    })
    .unwrap();
    let url = receiver.url("/slow");
    let outcome = client.deliver(&request(&url)).await;
    assert_eq!(outcome.status, None);
    assert!(outcome.error.as_deref().is_some_and(|e| e.contains("timed out")), "{outcome:?}");
    assert!(outcome.retryable() && !outcome.refused);
    assert!(outcome.duration < Duration::from_secs(3), "{outcome:?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/ok");
    let outcome = client.deliver(&request(&url)).await;
    assert_eq!(outcome.status, None);
    assert!(outcome.error.is_some() && outcome.retryable() && !outcome.refused, "{outcome:?}");
}

#[tokio::test]
async fn private_destinations_are_refused_before_anything_is_sent() {
    let receiver = Receiver::start().await;
    let guarded = client(false);
    let port = receiver.addr.port();
    for (url, why) in [
        (receiver.url("/ok"), "loopback"),
        (format!("http://localhost:{port}/ok"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/ok"), "loopback"),
        (format!("http://0x7f.0.0.1:{port}/ok"), "loopback"),
        (format!("http://127.0.0.2:{port}/ok"), "loopback"),
        (format!("http://[::1]:{port}/ok"), "loopback"),
        (format!("http://0.0.0.0:{port}/ok"), "unspecified"),
    ] {
        // Only addresses on this machine here: the other classes are unit tests of the guard,
        // which must not risk a packet to a real private network if the guard were broken.
        let outcome = guarded.deliver(&request(&url)).await;
        let error = outcome.error.clone().unwrap_or_default();
        assert!(outcome.refused && !outcome.retryable() && !outcome.ok(), "{url}: {outcome:?}");
        assert!(error.contains(why) && error.contains("allow_private_addresses"), "{url}: {error}");
        assert_eq!(outcome.status, None);
    }
    for url in ["ftp://example.org/hook", "file:///etc/passwd", "not a url", "gopher://127.0.0.1:70/"] {
        let outcome = guarded.deliver(&request(url)).await;
        assert!(outcome.refused && !outcome.retryable(), "{url}: {outcome:?}");
    }
    assert!(receiver.seen().is_empty(), "the receiver saw {:?}", receiver.seen());

    // With private addresses allowed the same request does reach it.
    let url = receiver.url("/ok");
    assert!(client(true).deliver(&request(&url)).await.ok());
    assert_eq!(receiver.seen().len(), 1);
}

#[tokio::test]
async fn header_values_that_would_break_the_request_are_refused() {
    let receiver = Receiver::start().await;
    let url = receiver.url("/ok");
    let mut req = request(&url);
    req.event = "grade.published\r\nX-Injected: 1";
    let outcome = client(true).deliver(&req).await;
    assert!(outcome.refused && !outcome.retryable(), "{outcome:?}");
    assert!(receiver.seen().is_empty());
    assert!(
        WebhookClient::new(WebhookOptions {
            timeout: Duration::ZERO,
            allow_private_addresses: false,
            user_agent: "t".into()
        })
        .is_err()
    );
}

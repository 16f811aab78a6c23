//! The clients against a real socket: size limits, timeouts, refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use lectern_http::{BlockingClient, Client, ClientOptions, HttpError};

/// A one-connection server that answers with `body` after `delay` (or never, with `None`).
fn serve(body: Vec<u8>, delay: Option<Duration>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        let Some(delay) = delay else {
            std::thread::sleep(Duration::from_secs(30));
            return;
        };
        std::thread::sleep(delay);
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&body);
    });
    format!("http://{addr}/x")
}

fn options(timeout: Duration) -> ClientOptions {
    ClientOptions::new(timeout)
}

#[test]
fn a_get_within_the_limit_returns_the_body_and_one_over_it_is_refused() {
    let client = BlockingClient::new(options(Duration::from_secs(10))).unwrap();
    let ok = client.get(&serve(vec![b'a'; 100], Some(Duration::ZERO)), 100).unwrap();
    assert_eq!((ok.status, ok.body.len()), (200, 100));
    let err = client.get(&serve(vec![b'a'; 101], Some(Duration::ZERO)), 100).unwrap_err();
    assert!(matches!(err, HttpError::TooLarge { limit: 100, .. }), "{err}");
}

#[test]
fn a_silent_server_times_out() {
    let client = BlockingClient::new(options(Duration::from_millis(300))).unwrap();
    let err = client.get(&serve(vec![], None), 10).unwrap_err();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[test]
fn a_closed_port_is_unreachable_and_other_schemes_are_refused() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = BlockingClient::new(options(Duration::from_secs(5))).unwrap();
    let err = client.get(&format!("http://127.0.0.1:{port}/"), 10).unwrap_err();
    assert!(matches!(err, HttpError::Unreachable { .. }), "{err}");
    let err = client.get("file:///etc/passwd", 10).unwrap_err();
    assert!(matches!(err, HttpError::Refused(_)), "{err}");
}

#[test]
fn the_blocking_client_does_not_take_tenant_urls() {
    let mut opts = options(Duration::from_secs(1));
    opts.public_only = true;
    assert!(matches!(BlockingClient::new(opts), Err(HttpError::Config(_))));
}

#[tokio::test]
async fn a_public_only_client_refuses_loopback_before_sending() {
    let mut opts = options(Duration::from_secs(5));
    opts.public_only = true;
    let client = Client::new(opts).unwrap();
    // A listener that would accept: the refusal must come before any connection.
    let url = serve(b"never".to_vec(), Some(Duration::ZERO));
    let err = client.post(&url, &[], b"{}".to_vec(), 16).await.unwrap_err();
    assert!(matches!(err, HttpError::Refused(ref why) if why.contains("loopback")), "{err}");
    let err = client.post("http://localhost:9/", &[], vec![], 16).await.unwrap_err();
    assert!(matches!(err, HttpError::Refused(ref why) if why.contains("loopback")), "{err}");
}

#[tokio::test]
async fn a_post_keeps_an_excerpt_of_the_answer() {
    let client = Client::new(options(Duration::from_secs(5))).unwrap();
    let url = serve(vec![b'z'; 2000], Some(Duration::ZERO));
    let resp = client.post(&url, &[("x-test", "1")], b"{}".to_vec(), 512).await.unwrap();
    assert_eq!((resp.status, resp.body.len()), (200, 512));
}

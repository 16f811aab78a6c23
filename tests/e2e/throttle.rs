//! Login throttling: progressive delay per account and address, persisted
//! across restarts; a per-address rate limit across accounts.

use lectern_api::ApiConfig;
use lectern_core::Clock;
use lectern_e2e::{Options, PASSWORD, TestServer};

use crate::{World, create_user};

#[tokio::test]
async fn failed_logins_engage_a_progressive_delay_that_survives_restart() {
    let clock = Clock::system();
    let w = World::with(Options { clock: clock.clone(), ..Default::default() }).await;
    let a = w.a.slug.clone();
    create_user(&w.a.admin, &a, "vic@alpha.test", "member").await;
    let anon = w.server.client();
    for _ in 0..5 {
        let (_, r) = anon.login(&a, "vic@alpha.test", "wrong password!").await;
        r.assert_problem(401, "invalid-credentials");
    }
    // Now even the right password waits.
    let (_, r) = anon.login(&a, "vic@alpha.test", PASSWORD).await;
    r.assert_problem(429, "throttled");
    let first: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(first, 1, "the first delay is short");
    // Each further failure (after waiting out the delay) doubles it.
    let mut retry = first;
    for _ in 0..5 {
        clock.advance(retry as i64);
        let (_, r) = anon.login(&a, "vic@alpha.test", "wrong password!").await;
        r.assert_problem(401, "invalid-credentials");
        let (_, r) = anon.login(&a, "vic@alpha.test", PASSWORD).await;
        r.assert_problem(429, "throttled");
        let next: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!(next >= retry * 2 - 1, "{next} after {retry}");
        retry = next;
    }
    assert!(retry >= 30, "{retry}");
    // Unknown accounts are throttled the same way (no account enumeration by timing of 429s).
    for _ in 0..5 {
        let (_, r) = anon.login(&a, "nobody@alpha.test", "wrong password!").await;
        r.assert_problem(401, "invalid-credentials");
    }
    let (_, r) = anon.login(&a, "nobody@alpha.test", "wrong password!").await;
    r.assert_problem(429, "throttled");

    // The counters are on disk: a restart does not reset them.
    let World { server, _dir, .. } = w;
    let data = server.data_dir.clone();
    server.stop().await.unwrap();
    let server = TestServer::start(&data, Options { clock: clock.clone(), ..Default::default() }).await.unwrap();
    let (_, r) = server.client().login(&a, "vic@alpha.test", PASSWORD).await;
    r.assert_problem(429, "throttled");

    // After the delay the right password works, and success clears the counter.
    clock.advance(retry as i64 + 1);
    let (_, r) = server.client().login(&a, "vic@alpha.test", PASSWORD).await;
    r.ok();
    let (_, r) = server.client().login(&a, "vic@alpha.test", "wrong password!").await;
    r.assert_problem(401, "invalid-credentials");
    server.stop().await.unwrap();
    drop(_dir);
}

#[tokio::test]
async fn one_address_cannot_spray_many_accounts() {
    let api = ApiConfig { login_attempts_per_minute: 4, ..Default::default() };
    let w = World::with(Options { api, ..Default::default() }).await;
    // World setup used 3 logins from 127.0.0.1 already; one more is allowed.
    let anon = w.server.client();
    let mut statuses = vec![];
    for i in 0..3 {
        let (_, r) = anon.login(&w.a.slug, &format!("user{i}@alpha.test"), "wrong password!").await;
        statuses.push(r.status.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let (_, r) = anon.login(&w.a.slug, "someone@alpha.test", "wrong password!").await;
    r.assert_problem(429, "throttled");
    assert!(r.header("retry-after").is_some());
}

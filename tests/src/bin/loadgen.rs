//! HTTP load generator for the kernel foundation benchmarks.
//!
//! Starts the given `lectern` binary as a separate process on a fresh data
//! directory, seeds it over HTTP, then measures from this process:
//! login throughput (argon2-bound), authenticated GET latency and rate, and
//! acknowledged-write throughput. Prints medians and spreads; asserts nothing.
//!
//! `cargo xtask bench` builds both in release mode and runs this.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on setup errors

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lectern_e2e::report::pct;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

struct Args {
    lectern: String,
    seconds: u64,
    concurrency: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args { lectern: "target/release/lectern".into(), seconds: 10, concurrency: 32 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--lectern" => a.lectern = it.next().context("--lectern needs a path")?,
            "--seconds" => a.seconds = it.next().context("--seconds needs a number")?.parse()?,
            "--concurrency" => a.concurrency = it.next().context("--concurrency needs a number")?.parse()?,
            other => bail!("unknown argument {other}; use --lectern PATH --seconds N --concurrency N"),
        }
    }
    Ok(a)
}

#[derive(Default)]
struct Stats {
    latencies_us: Vec<u64>,
    errors: u64,
}

/// Runs `op` from `concurrency` tasks for `secs`, returning per-request latencies.
async fn hammer<F, Fut>(concurrency: usize, secs: u64, op: F) -> (Stats, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (op, stop, seq) = (op.clone(), stop.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let ok = op(n).await;
                if ok {
                    s.latencies_us.push(t.elapsed().as_micros() as u64);
                } else {
                    s.errors += 1;
                }
            }
            s
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.latencies_us.extend(s.latencies_us);
            all.errors += s.errors;
        }
    }
    (all, started.elapsed())
}

fn report(name: &str, mut s: Stats, elapsed: Duration) -> f64 {
    s.latencies_us.sort_unstable();
    let rate = s.latencies_us.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{name:<34} {rate:>10.0}/s   p50 {:>7.2} ms   p90 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   errors {}",
        pct(&s.latencies_us, 0.50),
        pct(&s.latencies_us, 0.90),
        pct(&s.latencies_us, 0.99),
        pct(&s.latencies_us, 1.0),
        s.errors
    );
    rate
}

async fn post(c: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> anyhow::Result<(u16, Value)> {
    let mut req = c.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await?;
    let s = r.status().as_u16();
    Ok((s, r.json().await.unwrap_or(Value::Null)))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(&args.lectern)
        .arg("serve")
        .env("LECTERN_DATA_DIR", dir.path().join("data"))
        .env("LECTERN_HTTP__LISTEN", "127.0.0.1:0")
        .env("LECTERN_LOG__FILTER", "warn")
        // The benchmark logs in far more often than any person; lift the per-address limit.
        .env("LECTERN_AUTH__LOGIN_ATTEMPTS_PER_MINUTE", "100000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", args.lectern))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut base, mut token) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line?;
        if let Some(i) = line.find("lbt_") {
            token = line[i..].split('"').next().unwrap_or_default().to_owned();
        }
        if let Some(a) = line.strip_prefix("lectern: listening on ") {
            base = a.trim().to_owned();
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    if base.is_empty() {
        bail!("the server did not start");
    }
    let c = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    post(
        &c,
        &format!("{base}/api/v1/bootstrap"),
        None,
        &json!({ "token": token, "email": "root@b.test", "name": "Root", "password": PASSWORD }),
    )
    .await?;
    let (_, v) = post(
        &c,
        &format!("{base}/api/v1/auth/login"),
        None,
        &json!({ "institution": "platform", "email": "root@b.test", "password": PASSWORD }),
    )
    .await?;
    let root = v["access_token"].as_str().context("login failed")?.to_owned();
    post(&c, &format!("{base}/api/v1/institutions"), Some(&root), &json!({ "slug": "bench", "name": "Bench U" }))
        .await?;
    for i in 0..8 {
        post(
            &c,
            &format!("{base}/api/v1/institutions/bench/users"),
            Some(&root),
            &json!({ "email": format!("u{i}@b.test"), "name": format!("U{i}"), "role": "staff", "password": PASSWORD }),
        )
        .await?;
    }
    let (_, v) = post(
        &c,
        &format!("{base}/api/v1/auth/login"),
        None,
        &json!({ "institution": "bench", "email": "u0@b.test", "password": PASSWORD }),
    )
    .await?;
    let staff = v["access_token"].as_str().context("login failed")?.to_owned();
    let (_, v) = post(
        &c,
        &format!("{base}/api/v1/institutions/bench/courses"),
        Some(&staff),
        &json!({ "code": "B1", "title": "Bench" }),
    )
    .await?;
    let course = v["id"].as_str().context("course")?.to_owned();

    println!(
        "lectern kernel benchmark — {} cores, server and load generator on the same machine, loopback",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("concurrency {} (login: 4), {} s per phase, release build", args.concurrency, args.seconds);

    let (cl, b) = (c.clone(), base.clone());
    let (s, e) = hammer(4, args.seconds, move |n| {
        let (c, b) = (cl.clone(), b.clone());
        async move {
            let body = json!({ "institution": "bench", "email": format!("u{}@b.test", n % 8), "password": PASSWORD });
            matches!(post(&c, &format!("{b}/api/v1/auth/login"), None, &body).await, Ok((200, _)))
        }
    })
    .await;
    report("login (argon2id m=19MiB t=2)", s, e);

    let (cl, url, tok) = (c.clone(), format!("{base}/api/v1/institutions/bench/courses/{course}"), staff.clone());
    let (s, e) = hammer(args.concurrency, args.seconds, move |_| {
        let (c, url, tok) = (cl.clone(), url.clone(), tok.clone());
        async move {
            match c.get(&url).bearer_auth(&tok).send().await {
                Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    report("authenticated GET course", s, e);

    let (cl, b, tok) = (c.clone(), base.clone(), staff.clone());
    let (s, e) = hammer(args.concurrency, args.seconds, move |n| {
        let (c, b, tok) = (cl.clone(), b.clone(), tok.clone());
        async move {
            let body = json!({ "code": format!("W{n}"), "title": "write" });
            matches!(post(&c, &format!("{b}/api/v1/institutions/bench/courses"), Some(&tok), &body).await, Ok((201, _)))
        }
    })
    .await;
    report("acknowledged write (create course)", s, e);

    let metrics = c.get(format!("{base}/metrics")).send().await?.text().await?;
    let sum = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let flushes = sum("lectern_storage_flush_duration_seconds_count");
    let waiters = sum("lectern_storage_flush_batch_size_sum");
    if flushes > 0.0 {
        println!(
            "storage: {flushes:.0} group flushes released {waiters:.0} durable-write waiters ({:.1} per flush), mean flush {:.2} ms",
            waiters / flushes,
            sum("lectern_storage_flush_duration_seconds_sum") / flushes * 1000.0
        );
    }
    child.kill().ok();
    child.wait().ok();
    Ok(())
}

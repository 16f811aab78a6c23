#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark aborts on setup failure
//! Event-bus benchmark: durable publish throughput (group commit versus one
//! flush per publish, single and batched publishes) and end-to-end
//! publish→handler latency at a fixed rate, for the embedded bus and, side by
//! side in the same run, for NATS JetStream as the reference.
//!
//! `cargo bench -p lectern-bus --bench bus` (or `cargo xtask bench`). Under
//! `cargo test` (no `--bench` argument) it runs a tiny smoke version so CI only
//! checks that it still works. It prints figures and never asserts timings.
//!
//! NATS: the bench starts Debian's `nats-server` itself (`-js -sd <tempdir>`,
//! file storage) on a free loopback port; it never installs it. Without the
//! binary the comparison is skipped and the reason printed.
//!
//! To look at one part: `LECTERN_BUS_BENCH_PARTS=throughput` (or `latency`),
//! `LECTERN_BUS_BENCH_PUBLISHERS=1,8,16` (publisher counts for 1a).

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures_util::StreamExt as _;
use lectern_bus::embedded::{EmbeddedBus, EmbeddedOptions};
use lectern_bus::{Bus, Consumer, Outgoing, SubscribeSpec, SubscriptionType};
use lectern_storage::{Store, StoreOptions};

type Error = Box<dyn std::error::Error + Send + Sync>;
type R<T> = Result<T, Error>;

const PAYLOAD: usize = 256;
const BATCH: usize = 100;

/// How much work each measurement does (full `cargo bench` versus the `cargo test` smoke run).
#[derive(Clone)]
struct Plan {
    quick: bool,
    runs: usize,
    run_time: Duration,
    /// Stop a throughput run after this many messages even if time is left.
    max_messages: i64,
    publishers: Vec<usize>,
    batch_publishers: Vec<usize>,
    rates: Vec<u64>,
    latency_time: Duration,
    latency_runs: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        let mut plan = Plan::sized(quick);
        // For investigating one part: LECTERN_BUS_BENCH_PUBLISHERS=1,8,16 and LECTERN_BUS_BENCH_PARTS=throughput|latency.
        if let Ok(list) = std::env::var("LECTERN_BUS_BENCH_PUBLISHERS") {
            plan.publishers = list.split(',').filter_map(|n| n.trim().parse().ok()).collect();
        }
        match std::env::var("LECTERN_BUS_BENCH_PARTS").as_deref() {
            Ok("throughput") => plan.rates.clear(),
            Ok("latency") => {
                plan.publishers.clear();
                plan.batch_publishers.clear();
            }
            _ => {}
        }
        plan
    }

    fn sized(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                runs: 1,
                run_time: Duration::from_millis(500),
                max_messages: 200,
                publishers: vec![1, 16],
                batch_publishers: vec![1],
                rates: vec![1_000],
                latency_time: Duration::from_millis(300),
                latency_runs: 1,
            }
        } else {
            Plan {
                quick,
                runs: 5,
                run_time: Duration::from_secs(2),
                max_messages: i64::MAX,
                publishers: vec![1, 16, 128, 1024],
                batch_publishers: vec![1, 16],
                rates: vec![10_000, 1_000],
                latency_time: Duration::from_secs(5),
                latency_runs: 3,
            }
        }
    }
}

// ---------------------------------------------------------------- targets

/// Something to publish to durably: the embedded bus or a JetStream stream.
#[async_trait::async_trait]
trait Target: Send + Sync + 'static {
    /// One message; returns once it is durable (Lectern) or PubAcked (NATS).
    async fn publish(&self, payload: Vec<u8>) -> R<()>;
    /// Several messages; returns once all are durable / PubAcked.
    async fn publish_batch(&self, payloads: Vec<Vec<u8>>) -> R<()>;
}

struct Lectern {
    bus: EmbeddedBus,
    topic: String,
}

#[async_trait::async_trait]
impl Target for Lectern {
    async fn publish(&self, payload: Vec<u8>) -> R<()> {
        self.bus.publish(Outgoing::new(&self.topic, "k", payload)).await?;
        Ok(())
    }

    async fn publish_batch(&self, payloads: Vec<Vec<u8>>) -> R<()> {
        let msgs = payloads.into_iter().map(|p| Outgoing::new(&self.topic, "k", p)).collect();
        self.bus.publish_batch(msgs).await?;
        Ok(())
    }
}

struct Nats {
    js: jetstream::Context,
    subject: String,
}

#[async_trait::async_trait]
impl Target for Nats {
    async fn publish(&self, payload: Vec<u8>) -> R<()> {
        // The first await sends, the second waits for the stream's PubAck.
        self.js.publish(self.subject.clone(), payload.into()).await?.await?;
        Ok(())
    }

    /// JetStream 2.9 has no batch publish: send all, then wait for all the PubAcks.
    async fn publish_batch(&self, payloads: Vec<Vec<u8>>) -> R<()> {
        let mut acks = Vec::with_capacity(payloads.len());
        for p in payloads {
            acks.push(self.js.publish(self.subject.clone(), p.into()).await?);
        }
        for a in acks {
            a.await?;
        }
        Ok(())
    }
}

/// A consumer for the latency test: receives one message, notes when, then acks it.
/// Returns the receive time and the payload's first 16 bytes (sequence number, due time).
#[async_trait::async_trait]
trait Receive: Send {
    async fn receive_and_ack(&mut self) -> R<(Instant, [u8; 16])>;
}

fn head(payload: &[u8]) -> R<[u8; 16]> {
    Ok(payload.get(..16).ok_or("payload too short")?.try_into()?)
}

struct LecternReceive(Box<dyn Consumer>);

#[async_trait::async_trait]
impl Receive for LecternReceive {
    async fn receive_and_ack(&mut self) -> R<(Instant, [u8; 16])> {
        let d = self.0.receive().await?;
        let at = Instant::now();
        self.0.ack(&d).await?;
        Ok((at, head(&d.payload)?))
    }
}

struct NatsReceive(jetstream::consumer::pull::Stream);

#[async_trait::async_trait]
impl Receive for NatsReceive {
    async fn receive_and_ack(&mut self) -> R<(Instant, [u8; 16])> {
        let m = self.0.next().await.ok_or("the consumer's message stream ended")??;
        let at = Instant::now();
        m.ack().await?;
        Ok((at, head(&m.payload)?))
    }
}

// ---------------------------------------------------------------- throughput

#[derive(Clone, Copy, Default)]
struct Throughput {
    per_sec: f64,
    errors: u64,
    /// Group commit only: messages made durable per store flush, and the mean flush time in ms.
    per_flush: Option<f64>,
    flush_ms: Option<f64>,
}

/// `publishers` tasks publish (one message or a batch of [`BATCH`] at a time,
/// each awaited) until the run time is up or the message budget is spent.
async fn throughput(target: Arc<dyn Target>, publishers: usize, batch: bool, plan: &Plan) -> Throughput {
    let per_call = if batch { BATCH } else { 1 };
    let budget = Arc::new(AtomicI64::new(plan.max_messages));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let stop = started + plan.run_time;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..publishers {
        let (target, budget, done, errors) = (target.clone(), budget.clone(), done.clone(), errors.clone());
        tasks.spawn(async move {
            let mut payload = vec![0u8; PAYLOAD];
            payload[..8].copy_from_slice(&(w as u64).to_le_bytes());
            while Instant::now() < stop && budget.fetch_sub(per_call as i64, Ordering::Relaxed) > 0 {
                let result = if batch {
                    target.publish_batch(vec![payload.clone(); BATCH]).await
                } else {
                    target.publish(payload.clone()).await
                };
                match result {
                    Ok(()) => done.fetch_add(per_call as u64, Ordering::Relaxed),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("publish failed: {e}");
                        }
                        0
                    }
                };
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    Throughput {
        per_sec: done.load(Ordering::Relaxed) as f64 / elapsed,
        errors: errors.load(Ordering::Relaxed),
        per_flush: None,
        flush_ms: None,
    }
}

/// A fresh store and embedded bus in a temporary directory.
/// `flushes` counts group-commit flushes and their total time in ns.
fn open_lectern(
    flush_per_publish: bool,
    flushes: Option<Arc<(AtomicU64, AtomicU64)>>,
) -> (tempfile::TempDir, Store, EmbeddedBus) {
    let dir = tempfile::tempdir().expect("tempdir");
    let observer: Option<lectern_storage::FlushObserver> = flushes.map(|f| {
        Arc::new(move |took: Duration, _: usize| {
            f.0.fetch_add(1, Ordering::Relaxed);
            f.1.fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        }) as lectern_storage::FlushObserver
    });
    let store = Store::open(dir.path().join("db"), StoreOptions { flush_observer: observer, ..Default::default() })
        .expect("open");
    let bus = EmbeddedBus::open(&store, EmbeddedOptions { flush_per_publish, ..Default::default() }).expect("bus");
    (dir, store, bus)
}

async fn lectern_throughput(flush_per_publish: bool, publishers: usize, batch: bool, plan: &Plan) -> Throughput {
    let flushes = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let (dir, store, bus) = open_lectern(flush_per_publish, Some(flushes.clone()));
    let target = Arc::new(Lectern { bus: bus.clone(), topic: "bench".into() });
    let mut t = throughput(target, publishers, batch, plan).await;
    let published = bus.counters().published.load(Ordering::Relaxed) as f64;
    let (count, total_ns) = (flushes.0.load(Ordering::Relaxed), flushes.1.load(Ordering::Relaxed));
    if !flush_per_publish && count > 0 {
        t.per_flush = Some(published / count as f64);
        t.flush_ms = Some(total_ns as f64 / count as f64 / 1e6);
    }
    // Closing sled joins its threads; keep that off the async workers.
    tokio::task::spawn_blocking(move || drop((bus, store, dir))).await.expect("close");
    t
}

async fn nats_throughput(server: &NatsServer, run: u64, publishers: usize, batch: bool, plan: &Plan) -> R<Throughput> {
    let client = async_nats::connect(server.addr.to_string()).await?;
    let js = jetstream::new(client);
    let (name, subject) = (format!("T{run}"), format!("t.{run}"));
    js.create_stream(jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![subject.clone()],
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let t = throughput(Arc::new(Nats { js: js.clone(), subject }), publishers, batch, plan).await;
    js.delete_stream(&name).await?;
    Ok(t)
}

// ---------------------------------------------------------------- latency

#[derive(Clone, Copy, Default)]
struct Latency {
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
    /// Messages delivered per second over the run (≈ the target rate if it kept up).
    delivered_per_sec: f64,
    /// p99 of receive time − the time the publish call actually started.
    p99_from_call: f64,
    /// How late publish tasks started after their scheduled time: the runtime was busy
    /// (the client, the embedded bus's own work on the same runtime, or other load).
    send_lag_p99: f64,
    missing: usize,
    publish_errors: usize,
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

/// Open loop: message `i` is due at `base + i / rate`. A scheduler thread
/// sleeps until each due time and spawns that message's publish as its own
/// task, so a slow publish never delays later ones. The payload carries the
/// sequence number and the due time; latency = receive time − due time.
async fn latency(target: Arc<dyn Target>, mut rx: Box<dyn Receive>, rate: u64, run_time: Duration) -> Latency {
    let n = (rate as f64 * run_time.as_secs_f64()) as usize;
    let period_ns = 1_000_000_000 / rate;
    let base = Instant::now() + Duration::from_millis(100);
    let deadline = base + run_time + Duration::from_secs(10);

    let consumer = tokio::spawn(async move {
        // Latency per sequence number, u64::MAX until received (a redelivery keeps the first).
        let mut by_seq = vec![u64::MAX; n];
        let mut received = 0;
        let mut last = base;
        while received < n {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let (at, head) = match tokio::time::timeout(remaining, rx.receive_and_ack()).await {
                Err(_) => break,
                Ok(Err(e)) => {
                    eprintln!("receive failed: {e}");
                    break;
                }
                Ok(Ok(x)) => x,
            };
            let seq = u64::from_le_bytes(head[..8].try_into().unwrap()) as usize;
            let due = u64::from_le_bytes(head[8..].try_into().unwrap());
            if seq < n && by_seq[seq] == u64::MAX {
                received += 1;
                let due = base + Duration::from_nanos(due);
                by_seq[seq] = at.saturating_duration_since(due).as_nanos() as u64;
                last = at;
            }
        }
        (by_seq, last)
    });

    let lags: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let sched_lags = lags.clone();
    let handles = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let due_ns = period_ns * i as u64;
            let due = base + Duration::from_nanos(due_ns);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let mut payload = vec![0u8; PAYLOAD];
            payload[..8].copy_from_slice(&(i as u64).to_le_bytes());
            payload[8..16].copy_from_slice(&due_ns.to_le_bytes());
            let (target, lags) = (target.clone(), sched_lags.clone());
            handles.push(rt.spawn(async move {
                lags[i].store(due.elapsed().as_nanos() as u64, Ordering::Relaxed);
                target.publish(payload).await
            }));
        }
        handles
    })
    .await
    .expect("scheduler");
    let mut publish_errors = 0;
    for h in handles {
        if let Ok(Err(e)) | Err(e) = h.await.map_err(Error::from) {
            if publish_errors == 0 {
                eprintln!("publish failed: {e}");
            }
            publish_errors += 1;
        }
    }
    let (by_seq, last) = consumer.await.expect("consumer");
    let mut lag: Vec<u64> = lags.iter().map(|l| l.load(Ordering::Relaxed)).collect();
    let mut latencies: Vec<u64> = by_seq.iter().copied().filter(|l| *l != u64::MAX).collect();
    latencies.sort_unstable();
    // From the moment the publish call started instead of the scheduled time.
    let mut from_call: Vec<u64> =
        by_seq.iter().zip(&lag).filter(|(l, _)| **l != u64::MAX).map(|(l, g)| l.saturating_sub(*g)).collect();
    from_call.sort_unstable();
    lag.sort_unstable();
    Latency {
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        p999: percentile(&latencies, 0.999),
        max: latencies.last().map_or(f64::NAN, |m| *m as f64 / 1e6),
        p99_from_call: percentile(&from_call, 0.99),
        delivered_per_sec: latencies.len() as f64 / last.saturating_duration_since(base).as_secs_f64().max(1e-9),
        send_lag_p99: percentile(&lag, 0.99),
        missing: n - latencies.len(),
        publish_errors,
    }
}

async fn lectern_latency(rate: u64, plan: &Plan) -> Latency {
    let (dir, store, bus) = open_lectern(false, None);
    let consumer =
        bus.subscribe(SubscribeSpec::new("latency", "handler", SubscriptionType::Shared)).await.expect("subscribe");
    let target = Arc::new(Lectern { bus: bus.clone(), topic: "latency".into() });
    let out = latency(target, Box::new(LecternReceive(consumer)), rate, plan.latency_time).await;
    tokio::task::spawn_blocking(move || drop((bus, store, dir))).await.expect("close");
    out
}

async fn nats_latency(server: &NatsServer, run: u64, rate: u64, plan: &Plan) -> R<Latency> {
    // Publisher and handler on separate connections, as two services would be.
    let js = jetstream::new(async_nats::connect(server.addr.to_string()).await?);
    let js_consumer = jetstream::new(async_nats::connect(server.addr.to_string()).await?);
    let (name, subject) = (format!("L{run}"), format!("l.{run}"));
    let stream = js
        .create_stream(jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("handler".into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let consumer: jetstream::consumer::PullConsumer =
        js_consumer.get_stream(&name).await?.get_consumer("handler").await?;
    let messages = consumer.messages().await?;
    let out =
        latency(Arc::new(Nats { js: js.clone(), subject }), Box::new(NatsReceive(messages)), rate, plan.latency_time)
            .await;
    js.delete_stream(&name).await?;
    Ok(out)
}

// ---------------------------------------------------------------- nats-server

/// A `nats-server` child process with JetStream on, file storage in a temp dir. Killed on drop.
struct NatsServer {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const NATS_BIN: &str = "nats-server";

/// `nats-server --version`, or why it cannot be used.
fn nats_version() -> Result<String, String> {
    match Command::new(NATS_BIN).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Ok(out) => Err(format!("`{NATS_BIN} --version` failed: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("`{NATS_BIN}` is not on PATH (install it with `apt-get install -y nats-server`)"))
        }
        Err(e) => Err(format!("cannot run `{NATS_BIN}`: {e}")),
    }
}

/// Whether this nats-server accepts `jetstream { sync_interval: always }` (added in 2.10).
fn nats_supports_sync_always() -> bool {
    let Ok(dir) = tempfile::tempdir() else { return false };
    let conf = dir.path().join("probe.conf");
    let text = format!("jetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n", dir.path().join("js"));
    if std::fs::write(&conf, text).is_err() {
        return false;
    }
    Command::new(NATS_BIN)
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> R<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `nats-server -js -sd <tempdir>` (or with a config file that sets
/// `sync_interval: always`) and waits until its port accepts connections.
fn start_nats(sync_always: bool) -> R<NatsServer> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let store = dir.path().join("jetstream");
    let log = std::fs::File::create(dir.path().join("nats.log"))?;
    let mut cmd = Command::new(NATS_BIN);
    if sync_always {
        let conf = dir.path().join("nats.conf");
        let mut f = std::fs::File::create(&conf)?;
        writeln!(f, "listen: \"127.0.0.1:{port}\"\njetstream {{\n  store_dir: {store:?}\n  sync_interval: always\n}}")?;
        cmd.arg("-c").arg(&conf);
    } else {
        cmd.args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"]).arg(&store);
    }
    let child = cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = NatsServer { child, addr, _dir: dir };
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait()? {
            let log = std::fs::read_to_string(server._dir.path().join("nats.log")).unwrap_or_default();
            return Err(format!("nats-server exited ({status}): {}", log.trim()).into());
        }
        if Instant::now() > give_up {
            return Err("nats-server did not accept connections within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct NatsVariant {
    label: &'static str,
    server: NatsServer,
}

// ---------------------------------------------------------------- reporting

fn summary(xs: &[f64]) -> (f64, f64, f64) {
    let mut xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if xs.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let s = format!("{:.0}", x.round());
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// `median (min–max)` of events per second.
fn rate_cell(xs: &[f64]) -> String {
    let (m, lo, hi) = summary(xs);
    format!("{} ({}–{})", thousands(m), thousands(lo), thousands(hi))
}

fn ms_cell(xs: &[f64]) -> String {
    let (m, lo, hi) = summary(xs);
    format!("{m:.2} ({lo:.2}–{hi:.2})")
}

fn median(xs: &[f64]) -> f64 {
    summary(xs).0
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages: other work on this shared machine skews figures.
fn load_average() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores (available_parallelism), {:.1} GiB memory (MemTotal), {cpu}, Linux {}, {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim(),
        std::env::consts::ARCH
    )
}

// ---------------------------------------------------------------- main

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this briefly without it.
    let quick = !std::env::args().any(|a| a == "--bench");
    let plan = Plan::new(quick);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(plan));
}

async fn run(plan: Plan) {
    println!(
        "Lectern event-bus benchmark{}",
        if plan.quick { " (smoke run: tiny sizes, figures meaningless)" } else { "" }
    );
    println!("machine: {}", machine());
    println!("load average at start: {} (1, 5, 15 min; other processes share these cores)", load_average());
    println!(
        "profile: {}",
        if cfg!(debug_assertions) {
            "debug assertions on (test/dev profile)"
        } else {
            "optimised (bench = release profile)"
        }
    );
    println!(
        "command: {}   [documented: cargo bench -p lectern-bus --bench bus]",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "tokio multi-thread runtime, {} workers; payload {PAYLOAD} B; throughput: {} runs × {:?} per configuration, runs interleaved across systems; figures are median (min–max)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        plan.runs,
        plan.run_time
    );
    println!(
        "Lectern: embedded bus on sled in a temp dir; a publish returns once its message is fsynced (sled flush), either by the shared group-commit flusher or by a flush of its own (flush_per_publish)"
    );

    // The NATS reference: one server per variant, started once for the whole run.
    let mut variants: Vec<NatsVariant> = Vec::new();
    match nats_version() {
        Err(why) => println!("NATS JetStream comparison skipped: {why}"),
        Ok(version) => {
            let always = nats_supports_sync_always();
            println!(
                "NATS reference: {version}, JetStream file storage in a temp dir on the same disk, client async-nats 0.50 over loopback, same 2 cores as the bench"
            );
            if always {
                println!(
                    "  JetStream fsync: by default its file store writes each message to the OS before the PubAck and fsyncs in the background (sync_interval, default 2 min); measured both with the default and with `sync_interval: always` (fsync per write)"
                );
            } else {
                println!(
                    "  JetStream fsync: this server writes each message to its block file (OS page cache) before the PubAck and fsyncs only in the background, every 2 min for streams in 2.9 — a PubAck is NOT an fsync; `sync_interval: always` does not exist before 2.10, so only the default could be measured"
                );
            }
            match start_nats(false) {
                Ok(server) => variants.push(NatsVariant { label: "NATS default sync", server }),
                Err(e) => println!("NATS JetStream comparison skipped: cannot start nats-server: {e}"),
            }
            if always && !variants.is_empty() {
                match start_nats(true) {
                    Ok(server) => variants.push(NatsVariant { label: "NATS sync always", server }),
                    Err(e) => println!("NATS `sync_interval: always` skipped: cannot start nats-server: {e}"),
                }
            }
        }
    }
    let mut run_id = 0u64;
    let mut next_run = || {
        run_id += 1;
        run_id
    };

    // ---- 1. throughput
    for batch in [false, true] {
        println!();
        if batch {
            println!(
                "1b. publish_batch of {BATCH} messages, events/s (each batch awaited until all durable; NATS: {BATCH} async publishes then await their {BATCH} PubAcks — JetStream 2.9 has no batch publish)"
            );
        } else {
            println!(
                "1a. durable publish throughput, events/s (each publisher awaits each publish until durable / PubAcked)"
            );
        }
        let mut header = format!(
            "{:>10} | {:>30} | {:>30} | {:>11} | {:>9} | {:>8}",
            if batch { "batchers" } else { "publishers" },
            "Lectern group commit",
            "Lectern flush per publish",
            "group/flush",
            "msg/flush",
            "flush ms"
        );
        for v in &variants {
            header.push_str(&format!(" | {:>30} | {:>14}", v.label, "Lectern/NATS"));
        }
        println!("{header}");
        let levels = if batch { plan.batch_publishers.clone() } else { plan.publishers.clone() };
        for publishers in levels {
            let mut group = Vec::new();
            let mut flush = Vec::new();
            let mut per_flush = Vec::new();
            let mut flush_ms = Vec::new();
            let mut nats: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
            let mut errors = 0;
            for _ in 0..plan.runs {
                let g = lectern_throughput(false, publishers, batch, &plan).await;
                let f = lectern_throughput(true, publishers, batch, &plan).await;
                errors += g.errors + f.errors;
                group.push(g.per_sec);
                flush.push(f.per_sec);
                per_flush.extend(g.per_flush);
                flush_ms.extend(g.flush_ms);
                for (v, out) in variants.iter().zip(nats.iter_mut()) {
                    match nats_throughput(&v.server, next_run(), publishers, batch, &plan).await {
                        Ok(t) => {
                            errors += t.errors;
                            out.push(t.per_sec);
                        }
                        Err(e) => {
                            eprintln!("{} run failed: {e}", v.label);
                            out.push(f64::NAN);
                        }
                    }
                }
            }
            let mut row = format!(
                "{publishers:>10} | {:>30} | {:>30} | {:>10.1}× | {:>9.1} | {:>8.3}",
                rate_cell(&group),
                rate_cell(&flush),
                median(&group) / median(&flush),
                median(&per_flush),
                median(&flush_ms)
            );
            for out in &nats {
                row.push_str(&format!(" | {:>30} | {:>13.2}×", rate_cell(out), median(&group) / median(out)));
            }
            if errors > 0 {
                row.push_str(&format!("   ({errors} failed publishes)"));
            }
            println!("{row}");
        }
    }
    println!(
        "(msg/flush, flush ms: messages made durable per group-commit flush and the mean time of one flush, median over runs; Lectern/NATS: Lectern group-commit median ÷ NATS median, above 1 = Lectern faster)"
    );

    // ---- 2. latency
    println!();
    println!(
        "2. end-to-end latency publish→handler at a fixed rate, open loop ({} run(s) × {:?} per rate): one shared-subscription consumer acks each message; latency = receive time − scheduled send time, ms",
        plan.latency_runs, plan.latency_time
    );
    println!(
        "{:>7} | {:<18} | {:>20} | {:>20} | {:>20} | {:>22} | {:>13} | {:>22} | {:>12} | missing",
        "rate/s", "system", "p50", "p99", "p99.9", "max", "p99 from call", "delivered/s", "send lag p99"
    );
    for &rate in &plan.rates {
        let mut systems: Vec<(String, Vec<Latency>)> = vec![("Lectern".into(), Vec::new())];
        for v in &variants {
            systems.push((v.label.to_string(), Vec::new()));
        }
        for _ in 0..plan.latency_runs {
            systems[0].1.push(lectern_latency(rate, &plan).await);
            for (i, v) in variants.iter().enumerate() {
                match nats_latency(&v.server, next_run(), rate, &plan).await {
                    Ok(l) => systems[i + 1].1.push(l),
                    Err(e) => eprintln!("{} latency run failed: {e}", v.label),
                }
            }
        }
        for (name, runs) in &systems {
            if runs.is_empty() {
                println!("{rate:>7} | {name:<18} | no successful run");
                continue;
            }
            let col = |f: fn(&Latency) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
            let missing: usize = runs.iter().map(|l| l.missing).sum();
            let publish_errors: usize = runs.iter().map(|l| l.publish_errors).sum();
            println!(
                "{rate:>7} | {name:<18} | {:>20} | {:>20} | {:>20} | {:>22} | {:>13.2} | {:>22} | {:>12.2} | {missing}{}",
                ms_cell(&col(|l| l.p50)),
                ms_cell(&col(|l| l.p99)),
                ms_cell(&col(|l| l.p999)),
                ms_cell(&col(|l| l.max)),
                median(&col(|l| l.p99_from_call)),
                rate_cell(&col(|l| l.delivered_per_sec)),
                median(&col(|l| l.send_lag_p99)),
                if publish_errors > 0 { format!(" ({publish_errors} failed publishes)") } else { String::new() }
            );
        }
        if let Some(lectern) = systems.first().filter(|s| !s.1.is_empty()) {
            for (name, runs) in systems.iter().skip(1).filter(|s| !s.1.is_empty()) {
                let m = |rs: &[Latency], f: fn(&Latency) -> f64| median(&rs.iter().map(f).collect::<Vec<f64>>());
                println!(
                    "{rate:>7} | Lectern/{name}: p50 {:.2}×, p99 {:.2}×, p99.9 {:.2}× (below 1 = Lectern faster)",
                    m(&lectern.1, |l| l.p50) / m(runs, |l| l.p50),
                    m(&lectern.1, |l| l.p99) / m(runs, |l| l.p99),
                    m(&lectern.1, |l| l.p999) / m(runs, |l| l.p999),
                );
            }
        }
    }
    println!(
        "(p99 from call: receive time − actual start of the publish call; send lag p99: how late publish tasks started after their scheduled time because the 2-worker runtime was busy — with the client, with the embedded bus's own work, which shares that runtime, or with other load; both ms, median over runs)"
    );
    println!("load average at end: {}", load_average());
    drop(variants);
}

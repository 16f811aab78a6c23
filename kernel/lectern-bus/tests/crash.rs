//! Crash tests for the embedded backend: a child process publishing or
//! consuming is killed with SIGKILL mid-stream, then the parent reopens the
//! same database and checks that no acknowledged publish was lost and every
//! message not acked was delivered again.
//!
//! The child is this test binary itself, re-run with `LECTERN_BUS_CHILD` set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use lectern_bus::embedded::{EmbeddedBus, EmbeddedOptions};
use lectern_bus::{Bus, Outgoing, StartPosition, SubscribeSpec, SubscriptionType};
use lectern_storage::{Store, StoreOptions};

const TOPIC: &str = "crash";

fn open(dir: &Path) -> (Store, Arc<dyn Bus>, EmbeddedBus) {
    let store = Store::open(dir.join("db"), StoreOptions::default()).unwrap();
    let bus = EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap();
    (store, Arc::new(bus.clone()), bus)
}

fn spec(sub: &str) -> SubscribeSpec {
    let mut s = SubscribeSpec::new(TOPIC, sub, SubscriptionType::Shared);
    s.start = StartPosition::Earliest;
    s
}

/// Runs in the child: publishes or consumes until killed, printing what was acknowledged.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("LECTERN_BUS_CHILD") else { return };
    let dir = std::path::PathBuf::from(std::env::var("LECTERN_BUS_DIR").unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let (_store, bus, _) = open(&dir);
        match role.as_str() {
            "publish" => {
                let cycle: String = std::env::var("LECTERN_BUS_CYCLE").unwrap();
                let mut tasks = vec![];
                for w in 0..16 {
                    let bus = bus.clone();
                    let cycle = cycle.clone();
                    tasks.push(tokio::spawn(async move {
                        for i in 0.. {
                            let payload = format!("{cycle}/{w}/{i}");
                            let off =
                                bus.publish(Outgoing::new(TOPIC, format!("w{w}"), payload.clone())).await.unwrap();
                            println!("ACK {off} {payload}");
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
            "consume" => {
                let mut c = bus.subscribe(spec("workers")).await.unwrap();
                loop {
                    let d = c.receive().await.unwrap();
                    // Ack two of every three; hold the rest as if still working on them.
                    if d.offset % 3 == 0 {
                        println!("HELD {}", d.offset);
                    } else {
                        c.ack(&d).await.unwrap();
                        println!("ACK {}", d.offset);
                    }
                }
            }
            other => panic!("unknown child role {other}"),
        }
    });
}

/// Starts the child and kills it with SIGKILL once it printed `lines` lines starting with a tag.
fn run_child_until(dir: &Path, role: &str, cycle: usize, lines: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("LECTERN_BUS_CHILD", role)
        .env("LECTERN_BUS_DIR", dir)
        .env("LECTERN_BUS_CYCLE", cycle.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for line in out.lines() {
        let line = line.unwrap();
        if line.starts_with("ACK ") || line.starts_with("HELD ") {
            got.push(line);
            if got.len() >= lines {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(got.len() >= lines, "child ended early after {} lines", got.len());
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_publishing_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for cycle in 0..4 {
        let lines = run_child_until(dir.path(), "publish", cycle, 1500);
        for l in lines {
            let mut parts = l.splitn(3, ' ');
            parts.next();
            let off: u64 = parts.next().unwrap().parse().unwrap();
            acknowledged.push((off, parts.next().unwrap().to_string()));
        }
    }
    let (_store, bus, _) = open(dir.path());
    let mut c = bus.subscribe(spec("audit")).await.unwrap();
    let total = bus.stats().unwrap().into_iter().find(|t| t.topic == TOPIC).unwrap().next_offset;
    let mut stored = std::collections::HashMap::new();
    for _ in 0..total {
        let d = tokio::time::timeout(Duration::from_secs(10), c.receive()).await.unwrap().unwrap();
        stored.insert(d.offset, String::from_utf8(d.payload.clone()).unwrap());
        c.ack(&d).await.unwrap();
    }
    let lost: Vec<_> = acknowledged.iter().filter(|(o, p)| stored.get(o) != Some(p)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged publishes lost or changed, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let offsets: BTreeSet<u64> = acknowledged.iter().map(|(o, _)| *o).collect();
    assert_eq!(offsets.len(), acknowledged.len(), "an offset was handed out twice across crashes");
    eprintln!(
        "4 SIGKILL cycles: {} acknowledged publishes, all present; {} messages stored in total",
        acknowledged.len(),
        stored.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_consuming_redelivers_every_unacked_message() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_store, bus, _) = open(dir.path());
        drop(bus.subscribe(spec("workers")).await.unwrap());
        let batch: Vec<_> = (0..3000).map(|i| Outgoing::new(TOPIC, format!("k{}", i % 10), format!("m{i}"))).collect();
        bus.publish_batch(batch).await.unwrap();
    }
    let lines = run_child_until(dir.path(), "consume", 0, 1200);
    let acked: BTreeSet<u64> =
        lines.iter().filter_map(|l| l.strip_prefix("ACK ")).map(|o| o.parse().unwrap()).collect();
    let held: BTreeSet<u64> =
        lines.iter().filter_map(|l| l.strip_prefix("HELD ")).map(|o| o.parse().unwrap()).collect();
    assert!(!held.is_empty() && !acked.is_empty());

    let (_store, bus, _) = open(dir.path());
    let mut c = bus.subscribe(spec("workers")).await.unwrap();
    let mut redelivered = BTreeSet::new();
    while let Ok(d) = tokio::time::timeout(Duration::from_millis(500), c.receive()).await {
        let d = d.unwrap();
        redelivered.insert(d.offset);
        c.ack(&d).await.unwrap();
    }
    let expected: BTreeSet<u64> = (0..3000).filter(|o| !acked.contains(o)).collect();
    let missing: Vec<_> = expected.difference(&redelivered).collect();
    assert!(
        missing.is_empty(),
        "{} unacked messages never came back, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(held.is_subset(&redelivered), "every held (unacked) message is delivered again");
    let again = acked.intersection(&redelivered).count();
    eprintln!(
        "consumer SIGKILL: {} acked before the kill, {} held, {} redelivered after restart ({again} of them acked before the kill but not yet flushed)",
        acked.len(),
        held.len(),
        redelivered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_only_what_every_subscription_acked() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, bus, embedded) = open(dir.path());
    let mut a = bus.subscribe(spec("a")).await.unwrap();
    let mut b = bus.subscribe(spec("b")).await.unwrap();
    // Ten publishes awaited one by one (one log record each), then one batch
    // of ten (a single record, which goes only as a whole).
    for i in 0..10 {
        bus.publish(Outgoing::new(TOPIC, "k", format!("{i}"))).await.unwrap();
    }
    bus.publish_batch((10..20).map(|i| Outgoing::new(TOPIC, "k", format!("{i}"))).collect()).await.unwrap();
    for _ in 0..20 {
        let d = a.receive().await.unwrap();
        a.ack(&d).await.unwrap();
    }
    let mut ack_b = async |n: usize| {
        for _ in 0..n {
            let d = b.receive().await.unwrap();
            b.ack(&d).await.unwrap();
        }
    };
    ack_b(5).await;
    assert_eq!(embedded.apply_retention().unwrap(), 5, "only what both subscriptions acked goes");
    ack_b(10).await;
    assert_eq!(embedded.apply_retention().unwrap(), 5, "the batch's record stays while part of it is unacked");
    assert_eq!(bus.browse(TOPIC, "b", None, 100).unwrap().len(), 5, "b still reads its last five");
    ack_b(5).await;
    assert_eq!(embedded.apply_retention().unwrap(), 10);
    drop((a, b));
    drop(bus);
    drop(embedded);
    drop(_store);
    // Offsets continue after everything was removed, across a restart. The
    // bus's background tasks drop their store handles on the runtime's
    // schedule, not at `drop(embedded)`: wait for sled's lock to be free.
    // Keep the store that opened: dropping a probe and reopening races the
    // probe's own release of the lock (a run under load hit that).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let _store = loop {
        match Store::open(dir.path().join("db"), StoreOptions::default()) {
            Ok(store) => break store,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the store stayed locked 10 s after every handle was dropped: {e}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let bus = EmbeddedBus::open(&_store, EmbeddedOptions::default()).unwrap();
    assert_eq!(bus.publish(Outgoing::new(TOPIC, "k", "next")).await.unwrap(), 20);
}

//! One conformance suite for every [`Bus`] backend: the embedded log always,
//! Apache Pulsar when `LECTERN_TEST_PULSAR_URL` names a broker (and the crate
//! is built with `--features pulsar`). Without a broker the Pulsar cases say
//! they skipped; nothing stands in for the broker.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Harness, quiet, recv, text};
use lectern_bus::worker::{self, Failure, Handler, WorkerCounters, WorkerSpec};
use lectern_bus::{
    Bus, Delivery, Outgoing, RetryPolicy, StartPosition, SubscribeSpec, SubscriptionType, dead_letter_topic, props,
};

fn spec(topic: &str, sub: &str, kind: SubscriptionType) -> SubscribeSpec {
    let mut s = SubscribeSpec::new(topic, sub, kind);
    s.start = StartPosition::Earliest;
    s
}

async fn publish_n(bus: &Arc<dyn Bus>, topic: &str, keys: &[&str], per_key: usize) {
    let mut batch = Vec::new();
    for i in 0..per_key {
        for k in keys {
            batch.push(Outgoing::new(topic, *k, format!("{k}:{i}")));
        }
    }
    bus.publish_batch(batch).await.unwrap();
}

fn seq(d: &Delivery) -> usize {
    text(d).rsplit(':').next().unwrap().parse().unwrap()
}

async fn ordering_per_key(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("order");
    let mut c = bus.subscribe(spec(&topic, "s", SubscriptionType::Exclusive)).await.unwrap();
    publish_n(&bus, &topic, &["a", "b", "c"], 40).await;
    let mut last: HashMap<String, usize> = HashMap::new();
    for _ in 0..120 {
        let d = recv(&mut c).await;
        let n = seq(&d);
        if let Some(prev) = last.insert(d.key.clone(), n) {
            assert_eq!(n, prev + 1, "key {} out of order", d.key);
        }
        c.ack(&d).await.unwrap();
    }
    quiet(&mut c, 200).await;
}

async fn exclusive_refuses_a_second_consumer(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("excl");
    let _c = bus.subscribe(spec(&topic, "s", SubscriptionType::Exclusive)).await.unwrap();
    assert!(bus.subscribe(spec(&topic, "s", SubscriptionType::Exclusive)).await.is_err());
}

async fn redelivery_after_consumer_drops_without_ack(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("drop");
    publish_n(&bus, &topic, &["k"], 5).await;
    let mut a = bus.subscribe(spec(&topic, "s", SubscriptionType::Shared)).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(recv(&mut a).await);
    }
    a.ack(&got[0]).await.unwrap();
    drop(a); // crashed consumer: four messages unacked
    let mut b = bus.subscribe(spec(&topic, "s", SubscriptionType::Shared)).await.unwrap();
    let mut again = BTreeMap::new();
    for _ in 0..4 {
        let d = recv(&mut b).await;
        assert!(d.attempt >= 2, "a redelivery counts as a second attempt, got {}", d.attempt);
        again.insert(seq(&d), d.clone());
        b.ack(&d).await.unwrap();
    }
    assert_eq!(again.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    quiet(&mut b, 200).await;
}

async fn ack_timeout_redelivers_to_a_live_consumer(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("lease");
    publish_n(&bus, &topic, &["k"], 1).await;
    let mut s = spec(&topic, "s", SubscriptionType::Shared);
    s.ack_timeout = Duration::from_millis(300);
    let mut c = bus.subscribe(s).await.unwrap();
    let first = recv(&mut c).await;
    let again = recv(&mut c).await; // never acked: the lease runs out
    assert_eq!((first.offset, again.attempt), (again.offset, 2));
    c.ack(&again).await.unwrap();
}

async fn nack_backoff_is_respected(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("nack");
    publish_n(&bus, &topic, &["k"], 1).await;
    let mut c = bus.subscribe(spec(&topic, "s", SubscriptionType::Shared)).await.unwrap();
    let d = recv(&mut c).await;
    let nacked_at = Instant::now();
    c.nack(&d, Duration::from_millis(400)).await.unwrap();
    let again = recv(&mut c).await;
    let waited = nacked_at.elapsed();
    assert!(waited >= Duration::from_millis(400), "redelivered after {waited:?}, before the 400 ms delay");
    assert_eq!(again.offset, d.offset);
    assert_eq!(again.attempt, 2);
    c.ack(&again).await.unwrap();
}

struct AlwaysFails {
    calls: Mutex<Vec<u32>>,
}

#[async_trait::async_trait]
impl Handler for AlwaysFails {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        self.calls.lock().unwrap().push(d.attempt);
        Err(Failure::Retry(format!("boom on attempt {}", d.attempt)))
    }
}

async fn dead_letter_after_n_attempts(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("dlq");
    bus.publish(Outgoing::new(&topic, "k", "poison").property(props::MESSAGE_ID, "m-1")).await.unwrap();
    let handler = Arc::new(AlwaysFails { calls: Mutex::new(vec![]) });
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let counters = Arc::new(WorkerCounters::default());
    let policy =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(20), max_delay: Duration::from_millis(80) };
    let wspec = WorkerSpec {
        subscribe: spec(&topic, "w", SubscriptionType::Shared),
        policy,
        concurrency: 1,
        handler_timeout: Duration::from_secs(5),
    };
    let tasks = worker::spawn(bus.clone(), wspec, handler.clone(), counters.clone(), shutdown).await.unwrap();
    let dlq = dead_letter_topic(&topic, "w");
    let mut watch = bus.subscribe(spec(&dlq, "watch", SubscriptionType::Exclusive)).await.unwrap();
    let dead = recv(&mut watch).await;
    stop.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*handler.calls.lock().unwrap(), vec![1, 2, 3], "three attempts, then dead-lettered");
    assert_eq!(text(&dead), "poison");
    assert_eq!(dead.properties[props::ORIGIN_TOPIC], topic);
    assert_eq!(dead.properties[props::ORIGIN_OFFSET], "0");
    assert_eq!(dead.properties[props::ATTEMPTS], "3");
    assert_eq!(dead.properties[props::MESSAGE_ID], "m-1");
    assert!(dead.properties[props::LAST_ERROR].contains("boom on attempt 3"));
    assert_eq!(counters.dead_lettered.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The origin subscription moved on: nothing is redelivered there.
    let mut origin = bus.subscribe(spec(&topic, "w", SubscriptionType::Shared)).await.unwrap();
    quiet(&mut origin, 300).await;
}

async fn shared_subscriptions_spread_work(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("shared");
    publish_n(&bus, &topic, &["x"], 20).await;
    let mut a = bus.subscribe(spec(&topic, "s", SubscriptionType::Shared)).await.unwrap();
    let mut b = bus.subscribe(spec(&topic, "s", SubscriptionType::Shared)).await.unwrap();
    let mut seen = HashSet::new();
    let (mut held_a, mut held_b) = (vec![], vec![]);
    for _ in 0..10 {
        let d = recv(&mut a).await;
        assert!(seen.insert(d.offset));
        held_a.push(d);
        let d = recv(&mut b).await;
        assert!(seen.insert(d.offset), "offset {} went to both consumers", d.offset);
        held_b.push(d);
    }
    assert_eq!(seen.len(), 20);
    for d in &held_a {
        a.ack(d).await.unwrap();
    }
    for d in &held_b {
        b.ack(d).await.unwrap();
    }
    quiet(&mut a, 150).await;
}

async fn key_shared_keeps_per_key_order(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("keyshared");
    let keys = ["k0", "k1", "k2", "k3", "k4", "k5"];
    publish_n(&bus, &topic, &keys, 30).await;
    let log: Arc<Mutex<Vec<(usize, String, usize)>>> = Arc::default();
    let mut tasks = vec![];
    for consumer in 0..2usize {
        let mut c = bus.subscribe(spec(&topic, "s", SubscriptionType::KeyShared)).await.unwrap();
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let d = match tokio::time::timeout(Duration::from_millis(500), c.receive()).await {
                    Ok(d) => d.unwrap(),
                    Err(_) => return,
                };
                // Simulated work, and a nack now and then, to tempt reordering.
                tokio::task::yield_now().await;
                if seq(&d) % 7 == 3 && d.attempt == 1 {
                    c.nack(&d, Duration::from_millis(5)).await.unwrap();
                    continue;
                }
                log.lock().unwrap().push((consumer, d.key.clone(), seq(&d)));
                c.ack(&d).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), keys.len() * 30, "every message processed once");
    let mut per_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (_, k, n) in log.iter() {
        per_key.entry(k).or_default().push(*n);
    }
    for (k, ns) in per_key {
        assert_eq!(ns, (0..30).collect::<Vec<_>>(), "key {k} processed out of order");
    }
    let consumers: HashSet<usize> = log.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(consumers.len(), 2, "both consumers got keys");
}

async fn survives_a_restart(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("restart");
    let mut c = bus.subscribe(spec(&topic, "s", SubscriptionType::Exclusive)).await.unwrap();
    publish_n(&bus, &topic, &["k"], 10).await;
    for _ in 0..4 {
        let d = recv(&mut c).await;
        c.ack(&d).await.unwrap();
    }
    let unacked = recv(&mut c).await; // received, never acked
    assert_eq!(seq(&unacked), 4);
    drop(c);
    let bus = h.restart(bus).await;
    let mut c = bus.subscribe(spec(&topic, "s", SubscriptionType::Exclusive)).await.unwrap();
    let mut rest = vec![];
    for _ in 0..6 {
        let d = recv(&mut c).await;
        rest.push(seq(&d));
        c.ack(&d).await.unwrap();
    }
    assert_eq!(rest, vec![4, 5, 6, 7, 8, 9]);
    quiet(&mut c, 200).await;
    // New publishes after the restart continue the offsets.
    let off = bus.publish(Outgoing::new(&topic, "k", "k:10")).await.unwrap();
    assert_eq!(recv(&mut c).await.offset, off);
}

async fn retention_never_drops_unacked_messages(h: &mut dyn Harness) {
    let bus = h.bus().await;
    let topic = h.topic("retention");
    let mut fast = bus.subscribe(spec(&topic, "fast", SubscriptionType::Exclusive)).await.unwrap();
    let slow = bus.subscribe(spec(&topic, "slow", SubscriptionType::Exclusive)).await.unwrap();
    drop(slow);
    publish_n(&bus, &topic, &["k"], 50).await;
    for _ in 0..50 {
        let d = recv(&mut fast).await;
        fast.ack(&d).await.unwrap();
    }
    h.apply_retention(&bus);
    drop(fast);
    let bus = h.restart(bus).await;
    h.apply_retention(&bus);
    let mut slow = bus.subscribe(spec(&topic, "slow", SubscriptionType::Exclusive)).await.unwrap();
    for i in 0..50 {
        let d = recv(&mut slow).await;
        assert_eq!(seq(&d), i);
        slow.ack(&d).await.unwrap();
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&mut super::common::Embedded::new()).await;
                }
            )*
        }
        mod pulsar {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::common::pulsar() {
                        Some(mut h) => super::$name(h.as_mut()).await,
                        None => eprintln!(
                            "skipped Pulsar: set LECTERN_TEST_PULSAR_URL (e.g. pulsar://127.0.0.1:6650) and build with --features pulsar"
                        ),
                    }
                }
            )*
        }
    };
}

conformance!(
    ordering_per_key,
    exclusive_refuses_a_second_consumer,
    redelivery_after_consumer_drops_without_ack,
    ack_timeout_redelivers_to_a_live_consumer,
    nack_backoff_is_respected,
    dead_letter_after_n_attempts,
    shared_subscriptions_spread_work,
    key_shared_keeps_per_key_order,
    survives_a_restart,
    retention_never_drops_unacked_messages,
);

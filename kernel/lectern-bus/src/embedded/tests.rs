//! The log's record layout: several messages per record, read back from any
//! offset inside one, and records written by older builds (one message each).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::collections::BTreeMap;
use std::path::Path;

use lectern_storage::{Store, StoreOptions};

use super::*;
use crate::SubscriptionType;

fn open(dir: &Path) -> (Store, EmbeddedBus) {
    let store = Store::open(dir.join("db"), StoreOptions::default()).unwrap();
    let bus = EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap();
    (store, bus)
}

fn spec(topic: &str, sub: &str) -> SubscribeSpec {
    let mut s = SubscribeSpec::new(topic, sub, SubscriptionType::Exclusive);
    s.start = StartPosition::Earliest;
    s
}

/// (first offset, message count) of every record of `topic`, in order.
fn records(bus: &EmbeddedBus, topic: &str) -> Vec<(u64, usize)> {
    bus.inner
        .log
        .scan_prefix(topic_prefix(topic))
        .map(|r| {
            let (k, rec) = r.unwrap();
            (offset_of(&k).unwrap(), rec.entries.len())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_get_contiguous_offsets_in_shared_records() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, bus) = open(dir.path());
    let publishers = 64;
    let each = 40;
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let bus = bus.clone();
        tasks.push(tokio::spawn(async move {
            let mut offsets = Vec::new();
            for i in 0..each {
                offsets.push(bus.publish(Outgoing::new("t", format!("p{p}"), format!("{p}:{i}"))).await.unwrap());
            }
            offsets
        }));
    }
    let mut all = Vec::new();
    for (p, t) in tasks.into_iter().enumerate() {
        let offsets = t.await.unwrap();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "publisher {p}'s offsets follow its publish order");
        all.extend(offsets);
    }
    all.sort_unstable();
    let n = (publishers * each) as u64;
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "every offset once, none skipped");

    // The records tile the offsets exactly.
    let recs = records(&bus, "t");
    let mut expect = 0;
    for (first, len) in &recs {
        assert_eq!(*first, expect);
        assert!(*len > 0);
        expect += *len as u64;
    }
    assert_eq!(expect, n);
    eprintln!("{n} messages from {publishers} concurrent publishers in {} records", recs.len());

    // A consumer sees each publisher's messages in its order, each once.
    let mut c = bus.subscribe(spec("t", "s")).await.unwrap();
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for off in 0..n {
        let d = c.receive().await.unwrap();
        assert_eq!(d.offset, off);
        let text = String::from_utf8(d.payload.clone()).unwrap();
        let (p, i) = text.split_once(':').unwrap();
        seen.entry(p.to_string()).or_default().push(i.parse().unwrap());
        c.ack(&d).await.unwrap();
    }
    assert_eq!(seen.len(), publishers);
    for (p, order) in seen {
        assert_eq!(order, (0..each as u64).collect::<Vec<_>>(), "publisher {p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_append_is_split_into_bounded_records_and_read_from_inside_one() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bus) = open(dir.path());
    // 200 messages of 1 KiB in one batch: more than one record's worth.
    let payload = |i: u64| format!("{i:04}").repeat(256).into_bytes();
    let offsets = bus.publish_batch((0..200).map(|i| Outgoing::new("big", "k", payload(i))).collect()).await.unwrap();
    assert_eq!(offsets, (0..200).collect::<Vec<_>>());
    // A message larger than a record's budget gets a record of its own.
    let huge = vec![7u8; RECORD_BYTES * 2];
    let off = bus.publish(Outgoing::new("big", "k", huge.clone())).await.unwrap();
    assert_eq!(off, 200);
    let recs = records(&bus, "big");
    assert!(recs.len() >= 4, "200 KiB in records of at most 64 KiB, then one of its own: {recs:?}");
    assert_eq!(recs.last(), Some(&(200, 1)));

    // Browsing from inside a record starts at the right message.
    let inside = recs[1].0 + 3;
    let page = bus.browse("big", "never", None, 5);
    assert!(matches!(page, Err(BusError::UnknownSubscription { .. })));
    let mut s = bus.subscribe(spec("big", "reader")).await.unwrap();
    for i in 0..inside {
        let d = s.receive().await.unwrap();
        assert_eq!(d.offset, i);
        assert_eq!(d.payload, payload(i));
        s.ack(&d).await.unwrap();
    }
    let page = bus.browse("big", "reader", None, 5).unwrap();
    assert_eq!(page.iter().map(|m| m.offset).collect::<Vec<_>>(), (inside..inside + 5).collect::<Vec<_>>());
    assert_eq!(page[0].payload, payload(inside));
    drop(s);
    drop(bus);

    // After a restart the subscription resumes inside the record.
    let bus = EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap();
    let mut s = bus.subscribe(spec("big", "reader")).await.unwrap();
    let d = s.receive().await.unwrap();
    assert_eq!(d.offset, inside);
    assert_eq!(d.payload, payload(inside));
    let next = bus.publish(Outgoing::new("big", "k", "after")).await.unwrap();
    assert_eq!(next, 201, "offsets continue after the last record's last message");
    assert_eq!(
        bus.browse("big", "reader", Some(199), 10).unwrap().iter().map(|m| m.offset).collect::<Vec<_>>(),
        [200, 201]
    );
    let last = bus.browse("big", "reader", Some(199), 1).unwrap();
    assert_eq!(last[0].payload, huge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_one_message_from_older_builds_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
    {
        // What a build before several-messages-per-record wrote: one LogEntry
        // (record version 1) per offset, and the topic's record.
        let old: Tree<LogEntry> = store.tree("bus_log").unwrap();
        for off in 0..3u64 {
            let e = LogEntry {
                key: "k".into(),
                payload: format!("old {off}").into_bytes(),
                properties: Default::default(),
                publish_time_ms: 1,
            };
            old.insert(log_key("legacy", off), &e).unwrap();
        }
        let topics: Tree<TopicRecord> = store.tree("bus_topics").unwrap();
        topics.insert("legacy", &TopicRecord { next_offset: 3, created_ms: 1 }).unwrap();
        store.durable().await.unwrap();
    }
    let bus = EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap();
    assert_eq!(bus.publish(Outgoing::new("legacy", "k", "new 3")).await.unwrap(), 3);
    let mut c = bus.subscribe(spec("legacy", "s")).await.unwrap();
    for off in 0..4u64 {
        let d = c.receive().await.unwrap();
        assert_eq!(d.offset, off);
        assert_eq!(String::from_utf8_lossy(&d.payload), format!("{} {off}", if off < 3 { "old" } else { "new" }));
        c.ack(&d).await.unwrap();
    }
    assert_eq!(bus.apply_retention().unwrap(), 4, "old and new records alike go once acked");
}

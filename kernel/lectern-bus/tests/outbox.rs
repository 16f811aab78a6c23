//! The transactional outbox and idempotent consumers, on the embedded backend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::sync::Arc;

use lectern_bus::embedded::{EmbeddedBus, EmbeddedOptions};
use lectern_bus::idempotency::Processed;
use lectern_bus::outbox::Outbox;
use lectern_bus::{Bus, Outgoing, StartPosition, SubscribeSpec, SubscriptionType, props};
use lectern_storage::{Store, StoreOptions, TxError, abort};

fn open(dir: &std::path::Path) -> (Store, Outbox, Arc<dyn Bus>) {
    let store = Store::open(dir.join("db"), StoreOptions::default()).unwrap();
    let outbox = Outbox::open(&store, "outbox").unwrap();
    let bus = Arc::new(EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap());
    (store, outbox, bus)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_exist_exactly_when_their_write_committed_and_survive_a_restart_before_relay() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, outbox, _bus) = open(dir.path());
        let grades = store.tree::<u32>("grades").unwrap();
        // A write that aborts stages nothing.
        let id = outbox.next_id().unwrap();
        let r: Result<(), TxError<&str>> = store.transaction(&[&grades, outbox.tree()], |tx| {
            tx.on(&grades)?.insert(b"ada", &90)?;
            outbox.stage(tx, id, Outgoing::new("grade.recorded", "ada", "90"))?;
            abort("the grade was refused")
        });
        assert!(r.is_err());
        assert_eq!(outbox.pending(), 0, "an aborted write leaves no event");
        // A committed write and its event, then the process "dies" before the relay runs.
        let id = outbox.next_id().unwrap();
        let r: Result<String, TxError<()>> = store.transaction(&[&grades, outbox.tree()], |tx| {
            tx.on(&grades)?.insert(b"ada", &91)?;
            Ok(outbox.stage(tx, id, Outgoing::new("grade.recorded", "ada", "91"))?)
        });
        r.unwrap();
        store.durable().await.unwrap();
    }
    let (_store, outbox, bus) = open(dir.path());
    assert_eq!(outbox.pending(), 1, "the committed event outlived the process");
    let mut spec = SubscribeSpec::new("grade.recorded", "s", SubscriptionType::Exclusive);
    spec.start = StartPosition::Earliest;
    let mut c = bus.subscribe(spec).await.unwrap();
    assert_eq!(outbox.relay_once(bus.as_ref()).await.unwrap(), 1);
    assert_eq!(outbox.pending(), 0);
    let d = c.receive().await.unwrap();
    assert_eq!(d.payload, b"91");
    let id = d.properties[props::MESSAGE_ID].clone();
    assert_eq!(d.message_id(), id, "consumers deduplicate on the outbox's message id");
    assert!(id.rsplit('-').next().unwrap().parse::<u64>().is_ok(), "origin-sequence: {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _outbox, _bus) = open(dir.path());
    let processed = Processed::open(&store).unwrap();
    let certificates = store.tree::<u32>("certificates").unwrap();
    let handle = |message_id: &str| -> bool {
        let r: Result<bool, TxError<()>> = store.transaction(&[processed.tree(), &certificates], |tx| {
            if !processed.first_time(tx, "certificates", message_id)? {
                return Ok(false);
            }
            let t = tx.on(&certificates)?;
            let n = t.get(b"issued")?.unwrap_or(0);
            t.insert(b"issued", &(n + 1))?;
            Ok(true)
        });
        r.unwrap()
    };
    assert!(handle("m-1"));
    assert!(!handle("m-1"), "the same message id is a duplicate");
    assert!(handle("m-2"));
    assert_eq!(certificates.get(b"issued").unwrap(), Some(2));
    assert!(processed.contains("certificates", "m-1").unwrap());
    assert!(!processed.contains("other-handler", "m-1").unwrap(), "marks are per handler");
}

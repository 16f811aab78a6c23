//! The transactional outbox.
//!
//! A domain write stages the events it causes in the outbox tree inside the
//! same storage transaction, so an event exists exactly when its write
//! committed. The relay publishes staged events in order and removes them only
//! after the bus acknowledged them durably; a crash in between publishes them
//! again with the same message id, which idempotent consumers ignore.

use std::sync::Arc;
use std::time::Duration;

use lectern_storage::{Record, Store, Tree, Tx, TxInternal};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::{Bus, BusError, Outgoing, Properties, now_ms, props};

/// An event waiting to be published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    pub properties: Properties,
    pub created_ms: u64,
}

impl Record for OutboxEntry {
    const VERSION: u8 = 1;
}

/// One outbox tree and its relay. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    tree: Tree<OutboxEntry>,
    origin: String,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("tree", &self.tree.name()).finish()
    }
}

/// Events relayed per batch (one durable publish each).
const BATCH: usize = 512;

impl Outbox {
    /// Opens the outbox kept in tree `name`. Message ids combine a random
    /// per-database origin with the store's monotonic id, so they stay unique
    /// when several kernels share one broker.
    pub fn open(store: &Store, name: &'static str) -> Result<Outbox, BusError> {
        let meta = store.tree::<String>("bus_meta")?;
        let origin = match meta.get(b"origin")? {
            Some(o) => o,
            None => {
                let o = format!("{:016x}", store.generate_id()? ^ random_u64());
                meta.insert(b"origin", &o)?;
                o
            }
        };
        Ok(Outbox { store: store.clone(), tree: store.tree(name)?, origin, wake: Arc::new(Notify::new()) })
    }

    /// The tree to list in a transaction that stages events.
    pub fn tree(&self) -> &Tree<OutboxEntry> {
        &self.tree
    }

    /// Reserves an id for an event; call before the transaction (ids are not transactional).
    pub fn next_id(&self) -> Result<u64, BusError> {
        Ok(self.store.generate_id()?)
    }

    fn entry(&self, id: u64, msg: Outgoing) -> (String, OutboxEntry) {
        let message_id = format!("{}-{id}", self.origin);
        let mut properties = msg.properties;
        properties.entry(props::MESSAGE_ID.to_string()).or_insert_with(|| message_id.clone());
        (
            message_id,
            OutboxEntry { topic: msg.topic, key: msg.key, payload: msg.payload, properties, created_ms: now_ms() },
        )
    }

    /// Stages `msg` under `id` inside transaction `tx`, which must list [`Outbox::tree`].
    /// Returns the message id consumers will see.
    pub fn stage(&self, tx: &Tx<'_>, id: u64, msg: Outgoing) -> Result<String, TxInternal> {
        let (message_id, entry) = self.entry(id, msg);
        tx.on(&self.tree)?.insert(id.to_be_bytes(), &entry)?;
        Ok(message_id)
    }

    /// Stages one event on its own (no other write to be atomic with). Not yet
    /// durable: await [`Store::durable`] (or call `durable_blocking`) before
    /// acknowledging, then [`Outbox::notify`].
    pub fn insert(&self, msg: Outgoing) -> Result<String, BusError> {
        let id = self.next_id()?;
        let (message_id, entry) = self.entry(id, msg);
        self.tree.insert(id.to_be_bytes(), &entry)?;
        Ok(message_id)
    }

    /// [`Outbox::insert`], then waits until durable and wakes the relay.
    pub async fn put(&self, msg: Outgoing) -> Result<String, BusError> {
        let message_id = self.insert(msg)?;
        self.store.durable().await?;
        self.notify();
        Ok(message_id)
    }

    /// Up to `limit` staged events, oldest first (inspection and tests).
    pub fn peek(&self, limit: usize) -> Result<Vec<OutboxEntry>, BusError> {
        Ok(self.tree.page(b"", None, limit)?.into_iter().map(|(_, e)| e).collect())
    }

    /// Tells the relay there is something to publish (after the staging transaction committed).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Events waiting to be published.
    pub fn pending(&self) -> usize {
        self.tree.len()
    }

    /// Publishes one batch of staged events in order. Returns how many.
    pub async fn relay_once(&self, bus: &dyn Bus) -> Result<usize, BusError> {
        let page = self.tree.page(b"", None, BATCH)?;
        if page.is_empty() {
            return Ok(0);
        }
        let msgs = page
            .iter()
            .map(|(_, e)| Outgoing {
                topic: e.topic.clone(),
                key: e.key.clone(),
                payload: e.payload.clone(),
                properties: e.properties.clone(),
            })
            .collect();
        bus.publish_batch(msgs).await?;
        for (k, _) in &page {
            self.tree.remove(k)?;
        }
        Ok(page.len())
    }

    /// Relays until `shutdown` turns true, waking on [`Outbox::notify`] or every second.
    pub async fn run(self, bus: Arc<dyn Bus>, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.relay_once(bus.as_ref()).await {
                Ok(n) if n > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error = %e, outbox = self.tree.name(), "outbox relay failed; will retry");
                }
            }
            let wait = if failures == 0 {
                Duration::from_secs(1)
            } else {
                crate::RetryPolicy::default().delay(failures.min(8))
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
}

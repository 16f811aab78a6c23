//! Idempotent consumers: a handler records the message ids it processed in
//! the same transaction as its side effects, so a redelivered message changes
//! nothing the second time.

use lectern_storage::{Record, Store, Tree, Tx, TxInternal};
use serde::{Deserialize, Serialize};

use crate::BusError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedMark {
    pub at_ms: u64,
}

impl Record for ProcessedMark {
    const VERSION: u8 = 1;
}

/// The processed-ids tree shared by the kernel's handlers (keyed by handler name).
#[derive(Clone, Debug)]
pub struct Processed {
    tree: Tree<ProcessedMark>,
}

impl Processed {
    pub fn open(store: &Store) -> Result<Processed, BusError> {
        Ok(Processed { tree: store.tree("bus_processed")? })
    }

    /// List this in the handler's transaction.
    pub fn tree(&self) -> &Tree<ProcessedMark> {
        &self.tree
    }

    fn key(handler: &str, message_id: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(handler.len() + message_id.len() + 1);
        k.extend_from_slice(handler.as_bytes());
        k.push(0);
        k.extend_from_slice(message_id.as_bytes());
        k
    }

    /// Inside `tx`: true if `handler` already processed `message_id`; otherwise marks it and returns false.
    pub fn first_time(&self, tx: &Tx<'_>, handler: &str, message_id: &str) -> Result<bool, TxInternal> {
        let t = tx.on(&self.tree)?;
        let key = Self::key(handler, message_id);
        if t.get(&key)?.is_some() {
            return Ok(false);
        }
        t.insert(&key, &ProcessedMark { at_ms: crate::now_ms() })?;
        Ok(true)
    }

    pub fn contains(&self, handler: &str, message_id: &str) -> Result<bool, BusError> {
        Ok(self.tree.contains(Self::key(handler, message_id))?)
    }
}

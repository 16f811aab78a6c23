//! Durable, typed, transactional storage for the Lectern kernel.
//!
//! This is the only crate that imports `sled`. Everything above it sees a narrow
//! interface — [`Store`], typed [`Tree`]s of [`Record`]s, multi-tree
//! [`Store::transaction`]s, a group-committed [`Store::durable`] barrier and
//! schema [`Migration`]s, sealed trees for secrets ([`seal`]), and content-addressed blob files ([`BlobStore`]) —
//! so that a networked backend can replace sled later without the domain, the
//! API or plugins noticing.
//!
//! Durability rule: sled does not fsync on every write. A caller that is about
//! to acknowledge a write to a client must await [`Store::durable`] after the
//! write; concurrent callers share one flush (group commit).
//!
//! This crate knows nothing about the domain: no key layout, no tenants, no
//! HTTP. It never panics on bad bytes read from disk; they become
//! [`StorageError::Corrupt`].

pub mod blobs;
mod codec;
mod error;
mod export;
mod flush;
mod migrate;
pub mod seal;
mod store;
mod tx;

pub use blobs::{BlobMeta, BlobStore, BlobWriter, Encoding, write_durably};
pub use codec::{Record, decode_body};
pub use error::StorageError;
pub use export::ExportStats;
pub use flush::{FlushObserver, OnDurable};
pub use migrate::Migration;
pub use seal::{Keyring, SealingKey};
pub use store::{DecodeCache, Stamped, Store, StoreOptions, Tree, WeakStore};
pub use tx::{Tx, TxError, TxFail, TxInternal, TxTree, abort};

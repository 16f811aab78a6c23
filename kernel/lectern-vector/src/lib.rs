//! The kernel's vector index: collections of embeddings owned by a plugin
//! within an institution, searched by approximate nearest neighbour (HNSW,
//! via hnsw_rs) with metadata filters applied during the graph walk, and by
//! BM25 over each point's optional text.
//!
//! Key types: [`VectorStore`] (cheap to clone, `Send + Sync`, all methods
//! synchronous and safe to call concurrently), [`CollectionKey`],
//! [`CollectionSpec`], [`Point`], [`Query`], [`Filter`], [`Hit`], and one error
//! enum, [`VectorError`].
//!
//! Durability: the kernel's store (lectern-storage) is the source of truth.
//! An upsert or delete returns only after it is committed and made durable
//! there. The in-memory graph is a cache: it is dumped to files by
//! [`VectorStore::checkpoint`] and reloaded lazily on first use, with the
//! changes after the dump replayed from the store; an unusable dump means a
//! rebuild from the store, never a failure to open.
//!
//! This crate must never: import sled (it uses lectern-storage's API), let a
//! panic from hnsw_rs escape (every call is wrapped in `catch_unwind`), let bad
//! input reach hnsw_rs (which exits the process on some), or show one
//! owner's or institution's points to another. It knows nothing about HTTP,
//! WIT or plugins beyond the owner id string.

mod collection;
mod distance;
mod dump;
mod error;
mod graph;
mod keyword;
mod persist;
mod state;
mod store;
pub mod synthetic;
mod types;

pub use error::VectorError;
pub use store::{Tuning, VectorStore};
pub use types::{
    Clause, CollectionInfo, CollectionKey, CollectionSpec, CollectionStats, Distance, Filter, Hit, LoadKind, MAX_BATCH,
    MAX_CLAUSE_VALUES, MAX_DIMENSION, MAX_K, Params, Point, Query,
};

/// Exposed for benchmarks: the distance kernels the index uses.
pub mod kernels {
    pub use crate::distance::{dot_f32, dot_i8, l2sq_f32};
}

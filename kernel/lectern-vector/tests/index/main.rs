//! The vector index against brute force, through crashes, corrupt dumps and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod durability;
mod input;
mod search;

use lectern_storage::{Store, StoreOptions};
use lectern_vector::synthetic::Clusters;
use lectern_vector::{CollectionKey, CollectionSpec, Distance, Params, Point, Tuning, VectorStore};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub vs: VectorStore,
}

pub fn open_at(dir: &std::path::Path, tuning: Tuning) -> (Store, VectorStore) {
    let store = Store::open(dir.join("db"), StoreOptions::default()).unwrap();
    let vs = VectorStore::open_with(&store, dir.join("dumps"), Params::default(), tuning).unwrap();
    (store, vs)
}

pub fn env_with(tuning: Tuning) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let (store, vs) = open_at(dir.path(), tuning);
    Env { dir, store, vs }
}

/// The graph answers every query (no exact scan of small collections), so
/// these tests exercise it at their small sizes; `search::a_small_collection_is_answered_exactly`
/// covers the default.
pub fn graph_tuning() -> Tuning {
    Tuning { exact_scan_max: 0, ..Tuning::default() }
}

pub fn env() -> Env {
    env_with(graph_tuning())
}

pub fn key(name: &str) -> CollectionKey {
    CollectionKey::new("plugin.tutor", "inst-1", name)
}

pub fn spec(dim: u32) -> CollectionSpec {
    CollectionSpec {
        dimension: dim,
        distance: Distance::Cosine,
        model: Some("minilm".into()),
        params: Params::default(),
    }
}

/// `n` clustered points `p0..`, metadata `n` = index, `course` = index % 10,
/// `rare` = yes on every 200th point.
pub fn points(data: &[f32], dim: usize, start: usize) -> Vec<Point> {
    data.chunks_exact(dim)
        .enumerate()
        .map(|(j, v)| {
            let i = start + j;
            let mut metadata = vec![("n".to_string(), i.to_string()), ("course".to_string(), format!("c{}", i % 10))];
            if i.is_multiple_of(200) {
                metadata.push(("rare".into(), "yes".into()));
            }
            Point { id: format!("p{i}"), vector: v.to_vec(), metadata, text: None }
        })
        .collect()
}

pub fn load(vs: &VectorStore, key: &CollectionKey, data: &[f32], dim: usize) {
    let pts = points(data, dim, 0);
    for chunk in pts.chunks(1000) {
        vs.upsert(key, chunk.to_vec()).unwrap();
    }
}

pub fn clusters(dim: usize) -> Clusters {
    Clusters::new(dim, 50, 1.0, 7)
}

//! [`VectorStore`]: the public entry point. Finds (and lazily loads)
//! collections, validates input at the boundary, and delegates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use lectern_storage::Store;

use crate::collection::{Collection, lock, tx_error};
use crate::error::{VectorError, invalid};
use crate::persist::{self, CollectionRecord, Trees};
use crate::types::*;

/// Knobs that are not per collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// [`VectorStore::checkpoint`] dumps a collection once this many changes happened since its last dump.
    pub checkpoint_tail: u64,
    /// A background rebuild starts when dead nodes exceed this fraction of all nodes…
    pub rebuild_tombstone_ratio: f64,
    /// …and there are at least this many.
    pub rebuild_min_tombstones: usize,
    /// A filtered query whose filter matches at most this many points is answered exactly by brute force.
    pub brute_force_max: usize,
    /// A collection with at most this many live points answers every query
    /// by an exact scan (recall 1.0): up to about this size the scan is
    /// faster than a graph walk that reaches the same recall (BENCHMARKS.md,
    /// small collections: 1.25× at 1,000 points, 0.5× at 4,000).
    pub exact_scan_max: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            checkpoint_tail: 1000,
            rebuild_tombstone_ratio: 0.2,
            rebuild_min_tombstones: 64,
            brute_force_max: 4096,
            exact_scan_max: 1024,
        }
    }
}

type Cell = Arc<Mutex<Option<Arc<Collection>>>>;

/// The vector index. Clone freely; clones share everything.
#[derive(Clone)]
pub struct VectorStore {
    inner: Arc<Inner>,
}

struct Inner {
    trees: Trees,
    dump_root: PathBuf,
    defaults: Params,
    tuning: Tuning,
    open: RwLock<HashMap<CollectionKey, Cell>>,
}

impl std::fmt::Debug for VectorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorStore").field("dump_dir", &self.inner.dump_root).finish_non_exhaustive()
    }
}

impl VectorStore {
    /// Opens the index on `store`, keeping graph dumps under `dump_dir`.
    /// Nothing is loaded until a collection is first used.
    pub fn open(store: &Store, dump_dir: impl Into<PathBuf>, defaults: Params) -> Result<VectorStore, VectorError> {
        VectorStore::open_with(store, dump_dir, defaults, Tuning::default())
    }

    pub fn open_with(
        store: &Store,
        dump_dir: impl Into<PathBuf>,
        defaults: Params,
        tuning: Tuning,
    ) -> Result<VectorStore, VectorError> {
        defaults.validate()?;
        let dump_root = dump_dir.into();
        std::fs::create_dir_all(&dump_root).map_err(|e| lectern_storage::StorageError::Io(e.to_string()))?;
        let inner = Inner { trees: Trees::open(store)?, dump_root, defaults, tuning, open: RwLock::default() };
        Ok(VectorStore { inner: Arc::new(inner) })
    }

    /// The parameters this store was opened with, for callers building a [`CollectionSpec`].
    pub fn defaults(&self) -> Params {
        self.inner.defaults
    }

    /// A spec with this store's default parameters.
    pub fn spec(&self, dimension: u32, distance: Distance, model: Option<String>) -> CollectionSpec {
        CollectionSpec { dimension, distance, model, params: self.inner.defaults }
    }

    /// The spec of a collection, read from the store without loading its index.
    pub fn collection_spec(&self, key: &CollectionKey) -> Result<Option<CollectionSpec>, VectorError> {
        key.validate()?;
        Ok(self.inner.trees.collections.get(persist::collection_key(key))?.map(|r| r.spec))
    }

    /// Creates the collection if it does not exist. Returns whether it was created.
    /// An existing collection with another dimension, distance or model is a
    /// [`VectorError::Conflict`]; differing params are ignored (the first ones stay).
    pub fn ensure_collection(&self, key: &CollectionKey, spec: &CollectionSpec) -> Result<bool, VectorError> {
        key.validate()?;
        spec.validate()?;
        let t = &self.inner.trees;
        let rec_key = persist::collection_key(key);
        let incarnation = t.store.generate_id()?;
        let created = t
            .store
            .transaction(&[&t.collections], |tx| {
                let cols = tx.on(&t.collections)?;
                if let Some(rec) = cols.get(&rec_key)? {
                    let s = &rec.spec;
                    if s.dimension != spec.dimension || s.distance != spec.distance || s.model != spec.model {
                        return lectern_storage::abort(VectorError::Conflict(format!(
                            "collection {key} exists with dimension {}, distance {:?}, model {:?}",
                            s.dimension, s.distance, s.model
                        )));
                    }
                    return Ok(false);
                }
                let rec = CollectionRecord {
                    spec: spec.clone(),
                    incarnation,
                    seq: 0,
                    points: 0,
                    created_ms: persist::now_ms(),
                    dump: None,
                };
                cols.insert(&rec_key, &rec)?;
                Ok(true)
            })
            .map_err(tx_error)?;
        if created {
            t.store.durable_blocking()?;
        }
        Ok(created)
    }

    /// Deletes the collection, its points and its dumps. Returns whether it existed.
    pub fn drop_collection(&self, key: &CollectionKey) -> Result<bool, VectorError> {
        key.validate()?;
        let cell = self.inner.open.write().unwrap_or_else(|p| p.into_inner()).remove(key);
        if let Some(c) = cell.and_then(|c| lock(&c).take()) {
            c.wait_background();
        }
        let t = &self.inner.trees;
        let Some(rec) = t.collections.remove(persist::collection_key(key))? else {
            return Ok(false);
        };
        t.store.durable_blocking()?;
        // The record is gone, so nothing can reach these any more; a crash
        // part-way leaves unreachable rows of a dead incarnation, never visible ones.
        let prefix = persist::points_prefix(key, rec.incarnation);
        let keys: Vec<Vec<u8>> = t.points.scan_prefix(&prefix).filter_map(|r| r.ok().map(|(k, _)| k)).collect();
        for k in keys {
            t.points.remove(&k)?;
            t.texts.remove(&k)?;
        }
        let dir = persist::dump_dir(&self.inner.dump_root, rec.incarnation);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %dir.display(), error = %e, "could not remove vector dumps");
        }
        Ok(true)
    }

    /// The collections of one owner in one institution.
    pub fn list_collections(&self, owner: &str, institution: &str) -> Result<Vec<CollectionInfo>, VectorError> {
        check_name("owner", owner)?;
        check_name("institution", institution)?;
        let prefix = persist::scope_prefix(owner, institution);
        let mut out = Vec::new();
        for row in self.inner.trees.collections.scan_prefix(&prefix) {
            let (k, rec) = row?;
            let name = persist::name_from_key(prefix.len(), &k)
                .ok_or_else(|| VectorError::Corrupt("collection key".into()))?;
            out.push(CollectionInfo { name, spec: rec.spec, points: rec.points });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn collection(&self, key: &CollectionKey) -> Result<Arc<Collection>, VectorError> {
        key.validate()?;
        let found = self.inner.open.read().unwrap_or_else(|p| p.into_inner()).get(key).cloned();
        let cell = match found {
            Some(c) => c,
            None => self.inner.open.write().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().clone(),
        };
        let mut slot = lock(&cell);
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let Some(rec) = self.inner.trees.collections.get(persist::collection_key(key))? else {
            drop(slot);
            self.inner.open.write().unwrap_or_else(|p| p.into_inner()).remove(key);
            return Err(VectorError::NotFound(format!("collection {key}")));
        };
        let t = &self.inner;
        let c = Arc::new(crate::dump::load(key.clone(), &rec, t.trees.clone(), &t.dump_root, t.tuning)?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Inserts or replaces points by id. Durable when it returns.
    pub fn upsert(&self, key: &CollectionKey, points: Vec<Point>) -> Result<(), VectorError> {
        if points.is_empty() {
            return Ok(());
        }
        if points.len() > MAX_BATCH {
            return Err(invalid(format!("at most {MAX_BATCH} points per upsert")));
        }
        let c = self.collection(key)?;
        let mut seen = std::collections::HashSet::new();
        for p in &points {
            check_point(p, c.spec.dim())?;
            if !seen.insert(p.id.as_str()) {
                return Err(invalid(format!("point {:?} appears twice in one upsert", p.id)));
            }
        }
        c.upsert(points)
    }

    /// Deletes points by id; returns how many existed. Durable when it returns.
    pub fn delete(&self, key: &CollectionKey, ids: &[String]) -> Result<usize, VectorError> {
        if ids.len() > MAX_BATCH {
            return Err(invalid(format!("at most {MAX_BATCH} ids per delete")));
        }
        ids.iter().try_for_each(|id| check_id(id))?;
        self.collection(key)?.delete(ids)
    }

    /// The `k` nearest points to `q.vector` that match `q.filter`, best first.
    pub fn query(&self, key: &CollectionKey, q: &Query<'_>) -> Result<Vec<Hit>, VectorError> {
        check_k(q.k)?;
        if let Some(f) = q.filter {
            f.validate()?;
        }
        let c = self.collection(key)?;
        check_vector(q.vector, c.spec.dim())?;
        let ef = q.ef_search.unwrap_or(c.spec.params.ef_search);
        if !(1..=MAX_EF_SEARCH).contains(&ef) {
            return Err(invalid(format!("ef_search must be in 1..={MAX_EF_SEARCH}")));
        }
        let prepared = crate::distance::prepare(c.spec.distance, q.vector);
        let found = {
            let ix = c.read();
            let best = ix.state.search(&ix.graph, &prepared, q.k, ef, q.filter, &c.tuning);
            hits_of(&ix.state, best)
        };
        self.with_texts(&c, found)
    }

    /// BM25 over the points' texts, with the same filter semantics as [`VectorStore::query`].
    pub fn keyword_query(
        &self,
        key: &CollectionKey,
        text: &str,
        k: usize,
        filter: Option<&Filter>,
    ) -> Result<Vec<Hit>, VectorError> {
        check_k(k)?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(invalid("query text too long"));
        }
        if let Some(f) = filter {
            f.validate()?;
        }
        let c = self.collection(key)?;
        let found = {
            let ix = c.read();
            let best = ix.state.bm25.search(text, k, |s| ix.state.visible(s, filter));
            hits_of(&ix.state, best)
        };
        self.with_texts(&c, found)
    }

    fn with_texts(&self, c: &Collection, found: Vec<(Hit, bool)>) -> Result<Vec<Hit>, VectorError> {
        found
            .into_iter()
            .map(|(mut h, has_text)| {
                if has_text {
                    h.text = self.inner.trees.texts.get(persist::point_key(&c.prefix, &h.id))?;
                }
                Ok(h)
            })
            .collect()
    }

    /// Counts and persistence state of a collection (loads it if needed).
    pub fn stats(&self, key: &CollectionKey) -> Result<CollectionStats, VectorError> {
        let c = self.collection(key)?;
        let (points, tombstones, seq) = {
            let ix = c.read();
            (ix.state.live, ix.state.tombstones, ix.state.seq)
        };
        let dump_age = lock(&c.dump)
            .as_ref()
            .map(|d| std::time::Duration::from_millis(persist::now_ms().saturating_sub(d.created_ms)));
        let (dim, m) = (c.spec.dim(), c.spec.params.m);
        Ok(CollectionStats {
            spec: c.spec.clone(),
            points,
            tombstones,
            // int8 copy + header in the graph, the f32 copy, ~1.5·2m links of ~40 bytes
            // each (an Arc per link in hnsw_rs), and 16 per-layer vectors per node.
            bytes_per_vector: dim + 8 + 4 * dim + 3 * m * 40 + 16 * 24 + 64,
            dump_age,
            tail: c.tail(),
            seq,
            load: c.load.clone(),
            rebuilds: c.rebuilds.load(std::sync::atomic::Ordering::SeqCst),
        })
    }

    /// Dumps every loaded collection with at least `Tuning::checkpoint_tail`
    /// changes since its last dump. Returns how many were dumped.
    pub fn checkpoint(&self) -> Result<usize, VectorError> {
        self.checkpoint_with(self.inner.tuning.checkpoint_tail)
    }

    /// [`VectorStore::checkpoint`] with an explicit threshold (1 = everything changed).
    pub fn checkpoint_with(&self, min_tail: u64) -> Result<usize, VectorError> {
        let mut n = 0;
        for c in self.loaded() {
            n += usize::from(c.checkpoint(min_tail)?);
        }
        Ok(n)
    }

    /// Starts a background rebuild of one collection (normally automatic).
    pub fn rebuild(&self, key: &CollectionKey) -> Result<(), VectorError> {
        self.collection(key)?.start_rebuild(true);
        Ok(())
    }

    /// Waits until no background rebuild is running (tests, shutdown).
    pub fn wait_background(&self) {
        for c in self.loaded() {
            c.wait_background();
        }
    }

    fn loaded(&self) -> Vec<Arc<Collection>> {
        let cells: Vec<Cell> = self.inner.open.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        cells.iter().filter_map(|c| lock(c).clone()).collect()
    }
}

fn hits_of(state: &crate::state::State, best: Vec<(u32, f32)>) -> Vec<(Hit, bool)> {
    best.into_iter()
        .map(|(slot, score)| {
            let s = &state.slots[slot as usize];
            (Hit { id: s.id.clone(), score, metadata: s.meta.clone(), text: None }, s.has_text)
        })
        .collect()
}

//! One loaded collection: the write path (store first, then memory), queries,
//! background rebuilds that drop tombstones, and graph dumps.
//!
//! Locks: `writer` serializes changes (store commit, graph insert, dump,
//! rebuild swap) so sequence numbers and the graph stay in step; `index` is
//! read by queries and written only briefly. Graph inserts run outside
//! `index`, so queries continue while points are added.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::Tuning;
use crate::distance::{self, QDist};
use crate::error::VectorError;
use crate::graph::Graph;
use crate::keyword::term_counts;
use crate::persist::{self, CollectionRecord, DumpRecord, PointRecord, Trees};
use crate::state::{Entry, State};
use crate::types::{CollectionKey, CollectionSpec, LoadKind, Point};

pub(crate) struct Index {
    pub state: State,
    pub graph: Arc<Graph>,
}

pub(crate) struct Collection {
    pub key: CollectionKey,
    pub rec_key: Vec<u8>,
    pub prefix: Vec<u8>,
    pub spec: CollectionSpec,
    pub incarnation: u64,
    pub dir: PathBuf,
    pub trees: Trees,
    pub tuning: Tuning,
    writer: Mutex<()>,
    index: RwLock<Index>,
    pub dump: Mutex<Option<DumpRecord>>,
    pub load: LoadKind,
    pub rebuilds: AtomicU64,
    rebuilding: AtomicBool,
    background: Mutex<Option<std::thread::JoinHandle<()>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of our locks leaves plain data behind (no
    // half-applied invariant that matters more than staying up), so poisoning is ignored.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn internal(msg: impl std::fmt::Display) -> VectorError {
    VectorError::Corrupt(msg.to_string())
}

/// Builds a state and graph holding `entries`, all visible.
pub(crate) fn build(spec: &CollectionSpec, entries: Vec<Entry>) -> Result<Index, VectorError> {
    let dist = QDist { kind: spec.distance };
    let graph = Graph::new(&spec.params, dist, entries.len()).map_err(internal)?;
    let mut state = State::new(spec.distance, spec.dim());
    let mut quantized = Vec::with_capacity(entries.len());
    for e in entries {
        state.seq = state.seq.max(e.seq);
        quantized.push(distance::quantize(&e.vector));
        state.push_pending(e);
    }
    let items: Vec<(&[i8], usize)> = quantized.iter().enumerate().map(|(i, q)| (q.as_slice(), i)).collect();
    graph.insert(&items).map_err(internal)?;
    for slot in 0..state.slots.len() as u32 {
        state.activate(slot);
    }
    Ok(Index { state, graph: Arc::new(graph) })
}

/// Adds `entries` to a live index (graph insert outside the state lock) and makes them visible.
fn add_entries(index: &RwLock<Index>, entries: Vec<Entry>) -> Result<(), String> {
    let quantized: Vec<Vec<i8>> = entries.iter().map(|e| distance::quantize(&e.vector)).collect();
    let (graph, slots) = {
        let mut ix = index.write().unwrap_or_else(|p| p.into_inner());
        let slots: Vec<u32> = entries.into_iter().map(|e| ix.state.push_pending(e)).collect();
        (ix.graph.clone(), slots)
    };
    let items: Vec<(&[i8], usize)> = quantized.iter().zip(&slots).map(|(q, &s)| (q.as_slice(), s as usize)).collect();
    let result = graph.insert(&items);
    let mut ix = index.write().unwrap_or_else(|p| p.into_inner());
    // Even if the graph insert failed the points are durable and must be
    // visible: brute-force paths find them, and a rebuild restores the graph.
    for s in slots {
        ix.state.activate(s);
    }
    result
}

impl Collection {
    pub(crate) fn new(
        key: CollectionKey,
        rec: &CollectionRecord,
        trees: Trees,
        dump_root: &std::path::Path,
        tuning: Tuning,
        index: Index,
        load: LoadKind,
    ) -> Collection {
        Collection {
            rec_key: persist::collection_key(&key),
            prefix: persist::points_prefix(&key, rec.incarnation),
            spec: rec.spec.clone(),
            incarnation: rec.incarnation,
            dir: persist::dump_dir(dump_root, rec.incarnation),
            key,
            trees,
            tuning,
            writer: Mutex::new(()),
            index: RwLock::new(index),
            dump: Mutex::new(rec.dump.clone()),
            load,
            rebuilds: AtomicU64::new(0),
            rebuilding: AtomicBool::new(false),
            background: Mutex::new(None),
        }
    }

    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, ()> {
        lock(&self.writer)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn not_found(&self) -> VectorError {
        VectorError::NotFound(format!("collection {}", self.key))
    }

    /// Commits `points` (already validated) to the store, then to the index.
    pub(crate) fn upsert(self: &Arc<Self>, points: Vec<Point>) -> Result<(), VectorError> {
        let _w = lock(&self.writer);
        let t = &self.trees;
        let keys: Vec<Vec<u8>> = points.iter().map(|p| persist::point_key(&self.prefix, &p.id)).collect();
        let max = self.spec.params.max_points as u64;
        let first_seq = t
            .store
            .transaction(&[&t.collections, &t.points, &t.texts], |tx| {
                let (cols, pts, texts) = (tx.on(&t.collections)?, tx.on(&t.points)?, tx.on(&t.texts)?);
                let Some(mut rec) = cols.get(&self.rec_key)?.filter(|r| r.incarnation == self.incarnation) else {
                    return lectern_storage::abort(self.not_found());
                };
                let mut added = 0;
                for k in &keys {
                    added += u64::from(pts.get(k)?.is_none());
                }
                if rec.points + added > max {
                    return lectern_storage::abort(VectorError::QuotaExceeded(format!(
                        "collection {} holds {} points; {added} more would pass its limit of {max}",
                        self.key, rec.points
                    )));
                }
                let first = rec.seq + 1;
                for (p, k) in points.iter().zip(&keys) {
                    rec.seq += 1;
                    let has_text = p.text.is_some();
                    let r =
                        PointRecord { vector: p.vector.clone(), metadata: p.metadata.clone(), has_text, seq: rec.seq };
                    pts.insert(k, &r)?;
                    match &p.text {
                        Some(text) => texts.insert(k, text)?,
                        None => texts.remove(k).map(|_| ())?,
                    }
                }
                rec.points += added;
                cols.insert(&self.rec_key, &rec)?;
                Ok(first)
            })
            .map_err(tx_error)?;
        t.store.durable_blocking()?;
        let entries: Vec<Entry> = points
            .into_iter()
            .enumerate()
            .map(|(i, p)| Entry {
                terms: p.text.as_deref().map(term_counts).unwrap_or_default(),
                has_text: p.text.is_some(),
                vector: distance::prepare(self.spec.distance, &p.vector),
                id: p.id,
                seq: first_seq + i as u64,
                meta: p.metadata,
            })
            .collect();
        let last = first_seq + entries.len() as u64 - 1;
        let result = add_entries(&self.index, entries);
        self.index.write().unwrap_or_else(|p| p.into_inner()).state.seq = last;
        if let Err(e) = result {
            tracing::error!(collection = %self.key, error = %e, "vector graph insert panicked; rebuilding");
            self.start_rebuild(true);
        }
        self.maybe_rebuild();
        Ok(())
    }

    pub(crate) fn delete(self: &Arc<Self>, ids: &[String]) -> Result<usize, VectorError> {
        let _w = lock(&self.writer);
        let t = &self.trees;
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| persist::point_key(&self.prefix, id)).collect();
        let seq = t
            .store
            .transaction(&[&t.collections, &t.points, &t.texts], |tx| {
                let (cols, pts, texts) = (tx.on(&t.collections)?, tx.on(&t.points)?, tx.on(&t.texts)?);
                let Some(mut rec) = cols.get(&self.rec_key)?.filter(|r| r.incarnation == self.incarnation) else {
                    return lectern_storage::abort(self.not_found());
                };
                for k in &keys {
                    if pts.remove(k)?.is_some() {
                        texts.remove(k)?;
                        rec.points -= 1;
                        rec.seq += 1;
                    }
                }
                cols.insert(&self.rec_key, &rec)?;
                Ok(rec.seq)
            })
            .map_err(tx_error)?;
        t.store.durable_blocking()?;
        let removed = {
            let mut ix = self.index.write().unwrap_or_else(|p| p.into_inner());
            let removed = ids.iter().filter(|id| ix.state.delete(id)).count();
            ix.state.seq = seq;
            removed
        };
        self.maybe_rebuild();
        Ok(removed)
    }

    fn maybe_rebuild(self: &Arc<Self>) {
        let (dead, total) = {
            let ix = self.read();
            (ix.state.tombstones, ix.state.tombstones + ix.state.live)
        };
        if dead >= self.tuning.rebuild_min_tombstones
            && dead as f64 > self.tuning.rebuild_tombstone_ratio * total as f64
        {
            self.start_rebuild(false);
        }
    }

    /// Rebuilds the graph without tombstones on a background thread.
    pub(crate) fn start_rebuild(self: &Arc<Self>, forced: bool) {
        if self.rebuilding.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("lectern-vector-rebuild".into()).spawn(move || {
            if let Err(e) = me.rebuild() {
                tracing::error!(collection = %me.key, forced, error = %e, "vector index rebuild failed");
            }
            me.rebuilding.store(false, Ordering::SeqCst);
        });
        match spawned {
            Ok(h) => {
                if let Some(old) = lock(&self.background).replace(h) {
                    let _ = old.join();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start a vector rebuild thread");
                self.rebuilding.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Waits for a running background rebuild, if any.
    pub(crate) fn wait_background(&self) {
        let h = lock(&self.background).take();
        if let Some(h) = h {
            let _ = h.join();
        }
    }

    fn rebuild(&self) -> Result<(), VectorError> {
        // Snapshot the visible points, build without holding any lock, then
        // catch up with what changed meanwhile under the writer lock and swap.
        let snapshot: Vec<Entry> = {
            let ix = self.read();
            (0..ix.state.slots.len() as u32)
                .filter(|&s| ix.state.slots[s as usize].live)
                .map(|s| ix.state.entry(s))
                .collect()
        };
        let mut fresh = build(&self.spec, snapshot)?;
        let _w = lock(&self.writer);
        let catch_up: Vec<Entry> = {
            let cur = self.read();
            let stale: Vec<String> = fresh
                .state
                .by_id
                .iter()
                .filter(|&(id, &s)| {
                    cur.state
                        .by_id
                        .get(id)
                        .is_none_or(|&c| cur.state.slots[c as usize].seq != fresh.state.slots[s as usize].seq)
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in stale {
                fresh.state.delete(&id);
            }
            fresh.state.seq = cur.state.seq;
            let seqs: HashMap<&str, u64> =
                fresh.state.by_id.iter().map(|(id, &s)| (id.as_str(), fresh.state.slots[s as usize].seq)).collect();
            cur.state
                .by_id
                .iter()
                .filter(|&(id, &c)| seqs.get(id.as_str()) != Some(&cur.state.slots[c as usize].seq))
                .map(|(_, &c)| cur.state.entry(c))
                .collect()
        };
        let fresh = RwLock::new(fresh);
        add_entries(&fresh, catch_up).map_err(internal)?;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh.into_inner().unwrap_or_else(|p| p.into_inner());
        self.rebuilds.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn tail(&self) -> u64 {
        let seq = self.read().state.seq;
        seq - lock(&self.dump).as_ref().map_or(0, |d| d.seq.min(seq))
    }
}

pub(crate) fn tx_error(e: lectern_storage::TxError<VectorError>) -> VectorError {
    match e {
        lectern_storage::TxError::Aborted(e) => e,
        lectern_storage::TxError::Storage(e) => VectorError::Storage(e),
    }
}

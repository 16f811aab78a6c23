//! Loading a collection (dump + tail, or a rebuild from the store) and
//! writing graph dumps.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Tuning;
use crate::collection::{Collection, Index, build, lock};
use crate::distance::{self, QDist};
use crate::error::VectorError;
use crate::graph::Graph;
use crate::keyword::term_counts;
use crate::persist::{self, CollectionRecord, DumpIds, DumpRecord, PointRecord, Trees};
use crate::state::{Entry, State};
use crate::types::{CollectionKey, LoadKind};

fn io(e: impl std::fmt::Display) -> VectorError {
    VectorError::Storage(lectern_storage::StorageError::Io(e.to_string()))
}

/// Reads every point of a collection from the store, as index entries.
fn read_points(trees: &Trees, prefix: &[u8], rec: &CollectionRecord) -> Result<Vec<Entry>, VectorError> {
    let mut out = Vec::new();
    for row in trees.points.scan_prefix(prefix) {
        let (k, p): (Vec<u8>, PointRecord) = row?;
        let id = String::from_utf8(k[prefix.len()..].to_vec()).map_err(|_| VectorError::Corrupt("point id".into()))?;
        if p.vector.len() != rec.spec.dim() {
            return Err(VectorError::Corrupt(format!("point {id:?} has the wrong dimension")));
        }
        let text = if p.has_text { trees.texts.get(&k)? } else { None };
        out.push(Entry {
            id,
            seq: p.seq,
            vector: distance::prepare(rec.spec.distance, &p.vector),
            meta: p.metadata,
            has_text: text.is_some(),
            terms: text.as_deref().map(term_counts).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Brings a collection into memory: its dump plus the changes after it, or
/// (no dump, or an unusable one) a full build from the store.
pub(crate) fn load(
    key: CollectionKey,
    rec: &CollectionRecord,
    trees: Trees,
    dump_root: &std::path::Path,
    tuning: Tuning,
) -> Result<Collection, VectorError> {
    let prefix = persist::points_prefix(&key, rec.incarnation);
    let entries = read_points(&trees, &prefix, rec)?;
    let dir = persist::dump_dir(dump_root, rec.incarnation);
    let (index, kind) = match &rec.dump {
        None if entries.is_empty() => (build(&rec.spec, entries)?, LoadKind::Created),
        None => (build(&rec.spec, entries)?, LoadKind::Rebuilt { reason: "no dump yet".into() }),
        Some(d) => {
            let dist = QDist { kind: rec.spec.distance };
            match persist::verify_dump(&dir, d)
                .and_then(|ids| Ok((Graph::load(&dir, &format!("g{}", d.generation), dist)?, ids)))
            {
                Ok((graph, ids)) if graph.len() == ids.len() => {
                    let (index, replayed) = replay(rec, graph, ids, entries)?;
                    (index, LoadKind::Dump { replayed })
                }
                Ok((graph, ids)) => {
                    let reason = format!("dump has {} graph nodes for {} ids", graph.len(), ids.len());
                    tracing::warn!(collection = %key, %reason, "rebuilding the vector index from the store");
                    (build(&rec.spec, entries)?, LoadKind::Rebuilt { reason })
                }
                Err(reason) => {
                    tracing::warn!(collection = %key, %reason, "unusable vector dump; rebuilding from the store");
                    (build(&rec.spec, entries)?, LoadKind::Rebuilt { reason })
                }
            }
        }
    };
    let mut index = index;
    index.state.seq = index.state.seq.max(rec.seq);
    let rebuilt = matches!(kind, LoadKind::Rebuilt { .. });
    let c = Collection::new(key, rec, trees, dump_root, tuning, index, kind);
    if rebuilt && let Some(d) = lock(&c.dump).as_mut() {
        // The graph in memory is not the dumped one: everything counts as tail.
        d.seq = 0;
    }
    Ok(c)
}

/// Lines the dumped graph up with the store: nodes whose point is unchanged
/// stay, the rest become tombstones, and points newer than the dump are inserted.
fn replay(
    rec: &CollectionRecord,
    graph: Graph,
    ids: DumpIds,
    entries: Vec<Entry>,
) -> Result<(Index, usize), VectorError> {
    let mut by_id: HashMap<String, Entry> = entries.into_iter().map(|e| (e.id.clone(), e)).collect();
    let mut state = State::new(rec.spec.distance, rec.spec.dim());
    let mut replayed = 0;
    for entry in ids {
        match entry {
            Some((id, seq)) if by_id.get(&id).is_some_and(|e| e.seq == seq) => {
                if let Some(e) = by_id.remove(&id) {
                    let slot = state.push_pending(e);
                    state.activate(slot);
                }
            }
            Some(_) => {
                state.push_dead();
                replayed += 1;
            }
            None => state.push_dead(),
        }
    }
    let tail: Vec<Entry> = by_id.into_values().collect();
    replayed += tail.len();
    let quantized: Vec<Vec<i8>> = tail.iter().map(|e| distance::quantize(&e.vector)).collect();
    let slots: Vec<u32> = tail.into_iter().map(|e| state.push_pending(e)).collect();
    let items: Vec<(&[i8], usize)> = quantized.iter().zip(&slots).map(|(q, &s)| (q.as_slice(), s as usize)).collect();
    graph.insert(&items).map_err(VectorError::Corrupt)?;
    for s in slots {
        state.activate(s);
    }
    Ok((Index { state, graph: Arc::new(graph) }, replayed))
}

impl Collection {
    /// Dumps the graph if at least `min_tail` changes happened since the last dump.
    /// Returns whether a dump was written.
    pub(crate) fn checkpoint(&self, min_tail: u64) -> Result<bool, VectorError> {
        let _w = self.lock_writer();
        let tail = self.tail();
        if tail == 0 || tail < min_tail {
            return Ok(false);
        }
        let (graph, ids, seq) = {
            let ix = self.read();
            let ids: DumpIds = ix.state.slots.iter().map(|s| s.live.then(|| (s.id.clone(), s.seq))).collect();
            (ix.graph.clone(), ids, ix.state.seq)
        };
        if graph.len() != ids.len() {
            tracing::warn!(collection = %self.key, "graph and id table disagree; rebuilding instead of dumping");
            return Ok(false);
        }
        let generation = lock(&self.dump).as_ref().map_or(1, |d| d.generation + 1);
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        persist::remove_other_generations(&self.dir, generation.checked_sub(1));
        let tmp = format!("tmp-g{generation}");
        // hnsw_rs may pick another name than asked (it never overwrites after a reload).
        let written = graph.dump(&self.dir, &tmp).map_err(io)?;
        let final_base = format!("g{generation}");
        let tmp_ids = self.dir.join(format!("{tmp}.ids"));
        std::fs::write(&tmp_ids, postcard::to_stdvec(&ids).map_err(io)?).map_err(io)?;
        let from = persist::graph_files(&self.dir, &written);
        let to = persist::graph_files(&self.dir, &final_base);
        let ids_path = persist::ids_file(&self.dir, generation);
        let mut shas = [[0u8; 32]; 3];
        for (i, (src, dst)) in from.iter().chain([&tmp_ids]).zip(to.iter().chain([&ids_path])).enumerate() {
            persist::sync_file(src).map_err(io)?;
            shas[i] = persist::file_sha(src).map_err(io)?;
            std::fs::rename(src, dst).map_err(io)?;
        }
        persist::sync_dir(&self.dir).map_err(io)?;
        let record = DumpRecord {
            generation,
            seq,
            created_ms: persist::now_ms(),
            graph_sha: shas[0],
            data_sha: shas[1],
            ids_sha: shas[2],
        };
        let incarnation = self.incarnation;
        let r = record.clone();
        self.trees.collections.update(&self.rec_key, move |old| {
            old.map(|mut rec| {
                if rec.incarnation == incarnation {
                    rec.dump = Some(r.clone());
                }
                rec
            })
        })?;
        self.trees.store.durable_blocking()?;
        *lock(&self.dump) = Some(record);
        persist::remove_other_generations(&self.dir, Some(generation));
        Ok(true)
    }
}

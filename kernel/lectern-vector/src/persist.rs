//! What the vector index keeps in the kernel's store, and its dump files.
//!
//! The store is the source of truth: a collection record (spec, op sequence,
//! live count, the dump it last wrote) and one record per point (vector,
//! metadata, the sequence number of its last write), texts in their own tree.
//! Keys are length-prefixed `owner, institution, name` (so one scope's prefix
//! never matches another's), then the collection's incarnation (a store-wide
//! id, so points of a dropped collection can never reappear in a new one of
//! the same name), then the point id.
//!
//! Dump files live in `<dump_dir>/c<incarnation>/` as `g<gen>.hnsw.graph`,
//! `g<gen>.hnsw.data` and `g<gen>.ids` (internal id → point id and seq). They are
//! written under temporary names, fsynced, renamed, the directory fsynced,
//! and only then recorded (with their SHA-256) in the collection record.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use lectern_storage::{Record, Store, Tree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::VectorError;
use crate::types::{CollectionKey, CollectionSpec};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CollectionRecord {
    pub spec: CollectionSpec,
    pub incarnation: u64,
    /// The sequence number of the last committed change.
    pub seq: u64,
    pub points: u64,
    pub created_ms: u64,
    pub dump: Option<DumpRecord>,
}

impl Record for CollectionRecord {
    const VERSION: u8 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DumpRecord {
    pub generation: u64,
    /// Every change up to this sequence number is in the dump.
    pub seq: u64,
    pub created_ms: u64,
    pub graph_sha: [u8; 32],
    pub data_sha: [u8; 32],
    pub ids_sha: [u8; 32],
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PointRecord {
    pub vector: Vec<f32>,
    pub metadata: Vec<(String, String)>,
    pub has_text: bool,
    pub seq: u64,
}

impl Record for PointRecord {
    const VERSION: u8 = 1;
}

/// Internal id → (point id, seq of the version in the graph); `None` for dead nodes.
pub(crate) type DumpIds = Vec<Option<(String, u64)>>;

#[derive(Clone)]
pub(crate) struct Trees {
    pub store: Store,
    pub collections: Tree<CollectionRecord>,
    pub points: Tree<PointRecord>,
    pub texts: Tree<String>,
}

impl Trees {
    pub(crate) fn open(store: &Store) -> Result<Trees, VectorError> {
        Ok(Trees {
            store: store.clone(),
            collections: store.tree("vector.collections")?,
            points: store.tree("vector.points")?,
            texts: store.tree("vector.texts")?,
        })
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Names are validated to ≤ 128 bytes, so the length fits.
    out.extend((s.len() as u16).to_be_bytes());
    out.extend(s.as_bytes());
}

pub(crate) fn scope_prefix(owner: &str, institution: &str) -> Vec<u8> {
    let mut out = Vec::new();
    push_str(&mut out, owner);
    push_str(&mut out, institution);
    out
}

pub(crate) fn collection_key(key: &CollectionKey) -> Vec<u8> {
    let mut out = scope_prefix(&key.owner, &key.institution);
    push_str(&mut out, &key.name);
    out
}

/// The name at the end of a collection key under `scope_prefix`.
pub(crate) fn name_from_key(prefix_len: usize, key: &[u8]) -> Option<String> {
    let rest = key.get(prefix_len + 2..)?;
    String::from_utf8(rest.to_vec()).ok()
}

pub(crate) fn points_prefix(key: &CollectionKey, incarnation: u64) -> Vec<u8> {
    let mut out = collection_key(key);
    out.extend(incarnation.to_be_bytes());
    out
}

pub(crate) fn point_key(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend(id.as_bytes());
    out
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) fn dump_dir(root: &Path, incarnation: u64) -> PathBuf {
    root.join(format!("c{incarnation}"))
}

pub(crate) fn file_sha(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

pub(crate) fn sync_file(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(crate) fn graph_files(dir: &Path, basename: &str) -> [PathBuf; 2] {
    [dir.join(format!("{basename}.hnsw.graph")), dir.join(format!("{basename}.hnsw.data"))]
}

pub(crate) fn ids_file(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("g{generation}.ids"))
}

/// Checks the recorded checksums of a dump and reads its id table.
pub(crate) fn verify_dump(dir: &Path, dump: &DumpRecord) -> Result<DumpIds, String> {
    let base = format!("g{}", dump.generation);
    let [graph, data] = graph_files(dir, &base);
    let ids = ids_file(dir, dump.generation);
    for (path, want) in [(&graph, &dump.graph_sha), (&data, &dump.data_sha), (&ids, &dump.ids_sha)] {
        let got = file_sha(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if &got != want {
            return Err(format!("{} does not match its recorded checksum", path.display()));
        }
    }
    let bytes = std::fs::read(&ids).map_err(|e| e.to_string())?;
    postcard::from_bytes(&bytes).map_err(|e| format!("{}: {e}", ids.display()))
}

/// Removes every file in `dir` except those of generation `keep`.
pub(crate) fn remove_other_generations(dir: &Path, keep: Option<u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = keep.map(|g| format!("g{g}."));
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if prefix.as_ref().is_some_and(|p| name.starts_with(p.as_str())) {
            continue;
        }
        if let Err(err) = std::fs::remove_file(e.path()) {
            tracing::warn!(file = %e.path().display(), error = %err, "could not remove an old vector dump file");
        }
    }
}

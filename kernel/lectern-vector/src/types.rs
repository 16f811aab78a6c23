//! The public value types and the validation applied to them at the boundary.

use serde::{Deserialize, Serialize};

use crate::error::{VectorError, invalid};

pub const MAX_DIMENSION: u32 = 4096;
pub const MAX_K: usize = 1000;
pub const MAX_EF_SEARCH: usize = 10_000;
pub const MAX_ID_BYTES: usize = 256;
pub const MAX_METADATA_FIELDS: usize = 32;
/// Values one filter clause may list (`any_of`).
pub const MAX_CLAUSE_VALUES: usize = 1024;
pub const MAX_METADATA_KEY_BYTES: usize = 64;
pub const MAX_METADATA_VALUE_BYTES: usize = 256;
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
pub const MAX_BATCH: usize = 1000;
pub const MAX_NAME_BYTES: usize = 128;
/// hnsw_rs stores the connection count in a `u8` and exits the process above 256.
pub const MAX_M: usize = 64;
pub const MAX_EF_CONSTRUCTION: usize = 2000;
pub const MAX_POINTS_LIMIT: usize = 10_000_000;

/// How similarity is measured. Scores are "higher is better" in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distance {
    /// Cosine similarity; vectors are normalized on the way in.
    Cosine,
    /// Raw inner product.
    Dot,
    /// Euclidean; the score is the negated L2 distance.
    Euclidean,
}

/// HNSW parameters of one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Links per node on the upper layers (2·m on layer 0).
    pub m: usize,
    pub ef_construction: usize,
    /// Default search width when a query does not give one.
    pub ef_search: usize,
    /// Hard cap on live points in the collection (bounded memory).
    pub max_points: usize,
}

impl Default for Params {
    /// M and ef_construction as in the hnswlib comparison. ef_search = 192: on
    /// 100k × 384 clustered unit vectors recall@10 was 0.948–0.959 at ef 160 and
    /// 0.966–0.972 at ef 192 over two builds (BENCHMARKS.md, "Vector index");
    /// smaller collections reach 1.0 well below it, and a query can pass its own.
    fn default() -> Self {
        Params { m: 16, ef_construction: 200, ef_search: 192, max_points: 1_000_000 }
    }
}

impl Params {
    pub(crate) fn validate(&self) -> Result<(), VectorError> {
        if !(2..=MAX_M).contains(&self.m) {
            return Err(invalid(format!("m must be in 2..={MAX_M}, got {}", self.m)));
        }
        if !(self.m..=MAX_EF_CONSTRUCTION).contains(&self.ef_construction) {
            return Err(invalid(format!("ef_construction must be in m..={MAX_EF_CONSTRUCTION}")));
        }
        if !(1..=MAX_EF_SEARCH).contains(&self.ef_search) {
            return Err(invalid(format!("ef_search must be in 1..={MAX_EF_SEARCH}")));
        }
        if !(1..=MAX_POINTS_LIMIT).contains(&self.max_points) {
            return Err(invalid(format!("max_points must be in 1..={MAX_POINTS_LIMIT}")));
        }
        Ok(())
    }
}

/// What a collection is: fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSpec {
    pub dimension: u32,
    pub distance: Distance,
    /// The embedding model that produced the vectors, if the owner says.
    pub model: Option<String>,
    pub params: Params,
}

impl CollectionSpec {
    pub(crate) fn validate(&self) -> Result<(), VectorError> {
        if !(1..=MAX_DIMENSION).contains(&self.dimension) {
            return Err(invalid(format!("dimension must be in 1..={MAX_DIMENSION}, got {}", self.dimension)));
        }
        if let Some(m) = &self.model {
            check_name("model", m)?;
        }
        self.params.validate()
    }

    pub(crate) fn dim(&self) -> usize {
        self.dimension as usize
    }
}

/// A collection is owned by one plugin within one institution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CollectionKey {
    /// The plugin id.
    pub owner: String,
    pub institution: String,
    pub name: String,
}

impl CollectionKey {
    pub fn new(owner: impl Into<String>, institution: impl Into<String>, name: impl Into<String>) -> Self {
        CollectionKey { owner: owner.into(), institution: institution.into(), name: name.into() }
    }

    pub(crate) fn validate(&self) -> Result<(), VectorError> {
        check_name("owner", &self.owner)?;
        check_name("institution", &self.institution)?;
        check_name("collection name", &self.name)
    }
}

impl std::fmt::Display for CollectionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.owner, self.institution, self.name)
    }
}

pub(crate) fn check_name(what: &str, s: &str) -> Result<(), VectorError> {
    if s.is_empty() || s.len() > MAX_NAME_BYTES {
        return Err(invalid(format!("{what} must be 1..={MAX_NAME_BYTES} bytes")));
    }
    Ok(())
}

/// One vector with its id, metadata and optional text (for keyword search).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: String,
    pub vector: Vec<f32>,
    pub metadata: Vec<(String, String)>,
    pub text: Option<String>,
}

/// All clauses must hold; a clause holds when the point has `key` with one of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub key: String,
    pub any_of: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

impl Filter {
    pub fn matches(&self, metadata: &[(String, String)]) -> bool {
        self.clauses.iter().all(|c| metadata.iter().any(|(k, v)| *k == c.key && c.any_of.iter().any(|a| a == v)))
    }

    pub(crate) fn validate(&self) -> Result<(), VectorError> {
        if self.clauses.len() > MAX_METADATA_FIELDS {
            return Err(invalid("too many filter clauses"));
        }
        for c in &self.clauses {
            if c.any_of.len() > MAX_CLAUSE_VALUES {
                return Err(invalid(format!("a filter clause may list at most {MAX_CLAUSE_VALUES} values")));
            }
        }
        Ok(())
    }
}

/// A nearest-neighbour query.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub vector: &'a [f32],
    pub k: usize,
    pub filter: Option<&'a Filter>,
    /// Overrides the collection's `ef_search` for this query.
    pub ef_search: Option<usize>,
}

/// One result; higher `score` is better: cosine similarity, dot product, or −L2
/// distance for vector queries, the BM25 score for keyword queries.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub metadata: Vec<(String, String)>,
    pub text: Option<String>,
}

pub(crate) fn check_k(k: usize) -> Result<(), VectorError> {
    if !(1..=MAX_K).contains(&k) {
        return Err(invalid(format!("k must be in 1..={MAX_K}, got {k}")));
    }
    Ok(())
}

pub(crate) fn check_id(id: &str) -> Result<(), VectorError> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(invalid(format!("point ids must be 1..={MAX_ID_BYTES} bytes")));
    }
    Ok(())
}

/// Checks a vector's shape and values; returns its squared norm.
pub(crate) fn check_vector(v: &[f32], dim: usize) -> Result<f32, VectorError> {
    if v.len() != dim {
        return Err(invalid(format!("vector has dimension {}, the collection has {dim}", v.len())));
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(invalid("vector components must be finite (no NaN or infinity)"));
    }
    let norm2: f64 = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    if norm2 == 0.0 || !norm2.is_finite() || norm2 > f64::from(f32::MAX) {
        return Err(invalid("vector norm must be non-zero and finite"));
    }
    Ok(norm2 as f32)
}

pub(crate) fn check_point(p: &Point, dim: usize) -> Result<(), VectorError> {
    check_id(&p.id)?;
    check_vector(&p.vector, dim).map_err(|e| invalid(format!("point {:?}: {e}", p.id)))?;
    if p.metadata.len() > MAX_METADATA_FIELDS {
        return Err(invalid(format!("point {:?}: at most {MAX_METADATA_FIELDS} metadata fields", p.id)));
    }
    for (k, v) in &p.metadata {
        if k.is_empty() || k.len() > MAX_METADATA_KEY_BYTES || v.len() > MAX_METADATA_VALUE_BYTES {
            return Err(invalid(format!(
                "point {:?}: metadata keys are 1..={MAX_METADATA_KEY_BYTES} bytes, values at most {MAX_METADATA_VALUE_BYTES}",
                p.id
            )));
        }
    }
    if p.text.as_ref().is_some_and(|t| t.len() > MAX_TEXT_BYTES) {
        return Err(invalid(format!("point {:?}: text is limited to {MAX_TEXT_BYTES} bytes", p.id)));
    }
    Ok(())
}

/// How an in-memory collection came to be, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadKind {
    /// Created empty in this process.
    Created,
    /// Reloaded from a graph dump, then `replayed` changes newer than the dump were applied.
    Dump { replayed: usize },
    /// Built from the points in the store (no dump yet, or the dump was unusable: `reason`).
    Rebuilt { reason: String },
}

/// What [`crate::VectorStore::stats`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionStats {
    pub spec: CollectionSpec,
    pub points: usize,
    /// Dead graph nodes awaiting a rebuild (overwritten or deleted points).
    pub tombstones: usize,
    /// Estimated resident bytes per stored vector (quantized copy, exact copy and links).
    pub bytes_per_vector: usize,
    /// Time since the graph dump this process loaded or wrote, if any.
    pub dump_age: Option<std::time::Duration>,
    /// Changes since that dump.
    pub tail: u64,
    pub seq: u64,
    pub load: LoadKind,
    /// Background rebuilds completed since the collection was loaded.
    pub rebuilds: u64,
}

/// A row of [`crate::VectorStore::list_collections`].
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionInfo {
    pub name: String,
    pub spec: CollectionSpec,
    pub points: u64,
}

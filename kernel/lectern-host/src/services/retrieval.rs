//! The `vector` and `embed` services: the kernel's vector index
//! (`lectern-vector`) and embedder (`lectern-embed`) as a plugin sees them.
//!
//! Scope is never the plugin's choice: a collection is named by the calling
//! plugin's id and the institution of the call, so a plugin cannot see or
//! name another plugin's or institution's collections. On top of the
//! plugin's own filter the kernel may impose a [`VectorScope`] for one call
//! (the tutor's `ask`: only items the student may see), applied during the
//! search like any other filter clause.
//!
//! Reserved names (a `$` prefix; plugins cannot use them as metadata keys):
//! - `$text` in a point's metadata is the passage the point stands for. It is
//!   indexed for keyword search (BM25) and returned with hits.
//! - `$keywords` in a query's filter makes it a keyword query: the value is
//!   searched with BM25 over `$text`, the query vector is not used.
//!
//! A filter that names the same key more than once matches any of the values
//! (the WIT's "every field must match" would make such a filter empty).
//!
//! Vectors from different embedding models are never mixed: a collection
//! made by a plugin that holds the `embed` grant records the kernel's model,
//! and once the model changes the collection is emptied on the plugin's next
//! `ensure-collection` (the kernel then asks the plugin to index again).

use std::sync::Arc;

use lectern_embed::{EmbedError, Embedder};
use lectern_vector::{Clause, CollectionKey, CollectionSpec, Distance, Filter, Point, Query, VectorError, VectorStore};

use super::{self as svc, Field, Hit, ServiceError};
use crate::slots::VectorScope;
use crate::state::PluginState;

/// What the `vector` and `embed` services run on. Attached once at start.
#[derive(Clone)]
pub struct Retrieval {
    pub vectors: VectorStore,
    pub embedder: Arc<dyn Embedder>,
}

impl std::fmt::Debug for Retrieval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retrieval").field("model", &self.embedder.model_id()).finish()
    }
}

pub const TEXT_KEY: &str = "$text";
pub const KEYWORDS_KEY: &str = "$keywords";
/// Texts per `embed` call and points per `upsert`.
pub const MAX_BATCH: usize = 256;

fn vector_error(e: VectorError) -> ServiceError {
    match e {
        VectorError::InvalidInput(m) => ServiceError::InvalidInput(m),
        VectorError::NotFound(m) => ServiceError::NotFound(m),
        VectorError::Conflict(m) => ServiceError::Conflict(m),
        VectorError::QuotaExceeded(m) => ServiceError::QuotaExceeded(m),
        other => {
            tracing::error!(error = %other, "vector index failure");
            ServiceError::Unavailable("the vector index is unavailable".into())
        }
    }
}

fn embed_error(e: EmbedError) -> ServiceError {
    match e {
        EmbedError::InvalidInput(m) => ServiceError::InvalidInput(m),
        other => {
            tracing::warn!(error = %other, "embedder failure");
            ServiceError::Unavailable(format!("the embedder is unavailable: {other}"))
        }
    }
}

/// Groups `must` fields by key: one clause per key, any of its values.
fn clauses(fields: &[Field], scope: &[VectorScope]) -> Filter {
    let mut out: Vec<Clause> = Vec::new();
    for f in fields {
        match out.iter_mut().find(|c| c.key == f.key) {
            Some(c) => c.any_of.push(f.value.clone()),
            None => out.push(Clause { key: f.key.clone(), any_of: vec![f.value.clone()] }),
        }
    }
    out.extend(scope.iter().map(|s| Clause { key: s.key.clone(), any_of: s.any_of.clone() }));
    Filter { clauses: out }
}

/// The spec of an existing collection (read from the store; the graph stays unloaded).
fn existing_spec(r: &Retrieval, key: &CollectionKey) -> Result<Option<CollectionSpec>, ServiceError> {
    r.vectors.collection_spec(key).map_err(vector_error)
}

impl PluginState {
    fn retrieval(&self) -> Result<&Retrieval, ServiceError> {
        self.services
            .retrieval
            .get()
            .ok_or_else(|| ServiceError::Unavailable("this kernel runs without a vector index".into()))
    }

    fn collection(&self, name: &str) -> Result<CollectionKey, ServiceError> {
        if name.is_empty() || name.len() > 128 || name.contains('\0') {
            return Err(ServiceError::InvalidInput("collection names are 1–128 bytes without NUL".into()));
        }
        Ok(CollectionKey { owner: self.who.id.clone(), institution: self.scope.clone(), name: name.to_owned() })
    }

    /// The model this plugin's collections are stamped with (`None` without the embed grant).
    fn stamp(&self, r: &Retrieval) -> Option<String> {
        self.who.grants.embed.then(|| r.embedder.model_id().to_owned())
    }

    /// Refuses to touch a collection built with another model than the kernel's.
    fn check_model(&self, r: &Retrieval, key: &CollectionKey) -> Result<(), ServiceError> {
        let Some(model) = self.stamp(r) else { return Ok(()) };
        match existing_spec(r, key)? {
            Some(spec) if spec.model.as_deref().is_some_and(|m| m != model) => Err(ServiceError::Conflict(format!(
                "collection `{}` holds vectors of model {}; the kernel now embeds with {model}: call ensure-collection to start it again",
                key.name,
                spec.model.unwrap_or_default()
            ))),
            _ => Ok(()),
        }
    }
}

impl PluginState {
    pub(crate) fn vector_ensure_collection(&mut self, spec: svc::CollectionSpec) -> Result<(), ServiceError> {
        let r = self.retrieval()?.clone();
        let key = self.collection(&spec.name)?;
        let model = self.stamp(&r);
        let want = CollectionSpec {
            dimension: spec.dimension,
            distance: match spec.distance {
                svc::Distance::Cosine => Distance::Cosine,
                svc::Distance::Dot => Distance::Dot,
                svc::Distance::Euclidean => Distance::Euclidean,
            },
            model: model.clone(),
            params: r.vectors.defaults(),
        };
        if let (Some(model), Some(have)) = (&model, existing_spec(&r, &key)?)
            && have.model.as_deref().is_some_and(|m| m != model)
        {
            tracing::info!(plugin = %self.who.id, collection = %key.name, old = ?have.model, new = %model,
                "embedding model changed: starting the collection again");
            r.vectors.drop_collection(&key).map_err(vector_error)?;
        }
        r.vectors.ensure_collection(&key, &want).map(|_| ()).map_err(vector_error)
    }

    /// The calling plugin's collections in the calling institution, by name.
    pub(crate) fn vector_list_collections(&mut self) -> Result<Vec<svc::CollectionSpec>, ServiceError> {
        let r = self.retrieval()?.clone();
        let mut out: Vec<svc::CollectionSpec> = r
            .vectors
            .list_collections(&self.who.id, &self.scope)
            .map_err(vector_error)?
            .into_iter()
            .map(|c| svc::CollectionSpec {
                name: c.name,
                dimension: c.spec.dimension,
                distance: match c.spec.distance {
                    Distance::Cosine => svc::Distance::Cosine,
                    Distance::Dot => svc::Distance::Dot,
                    Distance::Euclidean => svc::Distance::Euclidean,
                },
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Drops one of the calling plugin's collections; whether it existed.
    pub(crate) fn vector_drop_collection(&mut self, name: &str) -> Result<bool, ServiceError> {
        let r = self.retrieval()?.clone();
        let key = self.collection(name)?;
        r.vectors.drop_collection(&key).map_err(vector_error)
    }

    pub(crate) fn vector_upsert(&mut self, collection: &str, points: Vec<svc::Point>) -> Result<(), ServiceError> {
        if points.len() > MAX_BATCH {
            return Err(ServiceError::QuotaExceeded(format!("at most {MAX_BATCH} points per upsert")));
        }
        let r = self.retrieval()?.clone();
        let key = self.collection(collection)?;
        self.check_model(&r, &key)?;
        let mut batch = Vec::with_capacity(points.len());
        for p in points {
            let mut text = None;
            let mut metadata = Vec::with_capacity(p.metadata.len());
            for f in p.metadata {
                if f.key == TEXT_KEY {
                    text = Some(f.value);
                } else if f.key.starts_with('$') {
                    return Err(ServiceError::InvalidInput(format!("metadata key `{}` is reserved", f.key)));
                } else {
                    metadata.push((f.key, f.value));
                }
            }
            batch.push(Point { id: p.id, vector: p.vector, metadata, text });
        }
        r.vectors.upsert(&key, batch).map_err(vector_error)
    }

    pub(crate) fn vector_delete(&mut self, collection: &str, ids: &[String]) -> Result<(), ServiceError> {
        let r = self.retrieval()?.clone();
        let key = self.collection(collection)?;
        r.vectors.delete(&key, ids).map(|_| ()).map_err(vector_error)
    }

    /// `must`: the plugin's filter (every key must match; a key named more
    /// than once matches any of its values), to which the call's
    /// [`VectorScope`] is added.
    pub(crate) fn vector_query(
        &mut self,
        collection: &str,
        vector: &[f32],
        k: u32,
        must: Option<Vec<Field>>,
    ) -> Result<Vec<Hit>, ServiceError> {
        let r = self.retrieval()?.clone();
        let key = self.collection(collection)?;
        self.check_model(&r, &key)?;
        let mut must = must.unwrap_or_default();
        let keywords = must.iter().position(|f| f.key == KEYWORDS_KEY).map(|i| must.remove(i).value);
        if let Some(f) = must.iter().find(|f| f.key.starts_with('$')) {
            return Err(ServiceError::InvalidInput(format!("filter key `{}` is reserved", f.key)));
        }
        let filter = clauses(&must, &self.vector_scope);
        let filter = (!filter.clauses.is_empty()).then_some(&filter);
        let hits = match keywords {
            Some(text) => r.vectors.keyword_query(&key, &text, k as usize, filter),
            None => r.vectors.query(&key, &Query { vector, k: k as usize, filter, ef_search: None }),
        }
        .map_err(vector_error)?;
        Ok(hits
            .into_iter()
            .map(|h| {
                let mut metadata: Vec<Field> =
                    h.metadata.into_iter().map(|(key, value)| Field { key, value }).collect();
                if let Some(t) = h.text {
                    metadata.push(Field { key: TEXT_KEY.into(), value: t });
                }
                Hit { id: h.id, score: h.score, metadata }
            })
            .collect())
    }
}

impl PluginState {
    /// The kernel's embedding model (empty without a vector index attached).
    pub(crate) fn embed_model(&mut self) -> String {
        self.retrieval().map(|r| r.embedder.model_id().to_owned()).unwrap_or_default()
    }

    pub(crate) fn embed_dimension(&mut self) -> u32 {
        self.retrieval().map(|r| r.embedder.dimension() as u32).unwrap_or(0)
    }

    pub(crate) fn embed_texts(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, ServiceError> {
        if texts.len() > MAX_BATCH {
            return Err(ServiceError::QuotaExceeded(format!("at most {MAX_BATCH} texts per call")));
        }
        let r = self.retrieval()?.clone();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        r.embedder.embed(&refs).map_err(embed_error)
    }
}

//! A persistent embedding cache in the kernel's store.
//!
//! Key: SHA-256(model id ‖ 0x00 ‖ text), so a new model (or version) never
//! reads another's vectors. Value: the vector as little-endian `f32`s. A
//! batch looks every text up, then embeds only the misses in one inner call.
//! Entries are written without waiting for a flush: a cache entry lost in a
//! crash is recomputed, never wrong.

use lectern_storage::{Store, Tree};
use sha2::{Digest, Sha256};

use crate::util::check_batch;
use crate::{EmbedError, Embedder};

/// The store tree that holds every embedder's cache entries.
pub const CACHE_TREE: &str = "embed_cache";

/// `inner` with a persistent cache in front; see the module docs.
pub struct Cached<E> {
    inner: E,
    tree: Tree<Vec<u8>>,
}

impl<E: Embedder> Cached<E> {
    pub fn new(inner: E, store: &Store) -> Result<Cached<E>, EmbedError> {
        Ok(Cached { inner, tree: store.tree(CACHE_TREE)? })
    }

    /// The wrapped embedder.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.inner.model_id().as_bytes());
        h.update([0u8]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    /// A stored vector, or `None` when absent or not of this dimension (an
    /// entry from a model that reused its id; it is overwritten).
    fn lookup(&self, key: &[u8; 32]) -> Result<Option<Vec<f32>>, EmbedError> {
        let Some(bytes) = self.tree.get(key)? else { return Ok(None) };
        if bytes.len() != self.inner.dimension() * 4 {
            return Ok(None);
        }
        Ok(Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
    }
}

impl<E: Embedder> Embedder for Cached<E> {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        check_batch(texts)?;
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| self.key(t)).collect();
        let mut out = Vec::with_capacity(texts.len());
        let mut misses = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let hit = self.lookup(key)?;
            if hit.is_none() {
                misses.push(i);
            }
            out.push(hit);
        }
        if !misses.is_empty() {
            // A text repeated within the batch is embedded once.
            let mut unique: Vec<usize> = Vec::with_capacity(misses.len());
            for &i in &misses {
                if !unique.iter().any(|&u| keys[u] == keys[i]) {
                    unique.push(i);
                }
            }
            let to_embed: Vec<&str> = unique.iter().map(|&i| texts[i]).collect();
            let fresh = self.inner.embed(&to_embed)?;
            if fresh.len() != unique.len() {
                return Err(EmbedError::Model(format!("asked for {} vectors, got {}", unique.len(), fresh.len())));
            }
            for (&i, v) in unique.iter().zip(&fresh) {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.tree.insert(keys[i], &bytes)?;
            }
            for &i in &misses {
                let pos = unique.iter().position(|&u| keys[u] == keys[i]).unwrap_or_default();
                out[i] = Some(fresh[pos].clone());
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use lectern_storage::StoreOptions;

    use super::*;
    use crate::Lexical;

    /// Lexical under another id, counting the texts it is asked for.
    struct Counting {
        id: &'static str,
        calls: Mutex<Vec<Vec<String>>>,
    }

    impl Counting {
        fn new(id: &'static str) -> Counting {
            Counting { id, calls: Mutex::new(Vec::new()) }
        }
        fn calls(&self) -> Vec<Vec<String>> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Embedder for Counting {
        fn model_id(&self) -> &str {
            self.id
        }
        fn dimension(&self) -> usize {
            384
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.calls.lock().unwrap().push(texts.iter().map(|t| t.to_string()).collect());
            let mut out = Lexical::new().embed(texts)?;
            if self.id != "lectern-lexical-v1" {
                // Another "model": different vectors for the same text.
                out.iter_mut().for_each(|v| v.reverse());
            }
            Ok(out)
        }
    }

    fn open(dir: &std::path::Path) -> Store {
        Store::open(dir, StoreOptions::default()).unwrap()
    }

    #[test]
    fn second_call_hits_and_a_mixed_batch_embeds_only_misses() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let c = Cached::new(Counting::new("lectern-lexical-v1"), &store).unwrap();
        let first = c.embed(&["alpha beta", "gamma"]).unwrap();
        assert_eq!(first, Lexical::new().embed(&["alpha beta", "gamma"]).unwrap());
        assert_eq!(c.embed(&["alpha beta", "gamma"]).unwrap(), first);
        assert_eq!(c.inner().calls().len(), 1, "second call must be served from the cache");

        let mixed = c.embed(&["delta", "gamma", "epsilon", "delta"]).unwrap();
        assert_eq!(c.inner().calls()[1], vec!["delta", "epsilon"], "only the misses, once each, in one call");
        assert_eq!(mixed, Lexical::new().embed(&["delta", "gamma", "epsilon", "delta"]).unwrap());
        assert_eq!(c.inner().calls().len(), 2);
    }

    #[test]
    fn survives_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let expected = {
            let store = open(dir.path());
            let c = Cached::new(Counting::new("lectern-lexical-v1"), &store).unwrap();
            c.embed(&["persisted text", ""]).unwrap()
        };
        let store = open(dir.path());
        let c = Cached::new(Counting::new("lectern-lexical-v1"), &store).unwrap();
        assert_eq!(c.embed(&["persisted text", ""]).unwrap(), expected);
        assert!(c.inner().calls().is_empty(), "reopened store must still hold the entries");
    }

    #[test]
    fn another_model_id_has_its_own_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let a = Cached::new(Counting::new("lectern-lexical-v1"), &store).unwrap();
        let b = Cached::new(Counting::new("other-model"), &store).unwrap();
        let va = a.embed(&["same text"]).unwrap();
        let vb = b.embed(&["same text"]).unwrap();
        assert_eq!(b.inner().calls().len(), 1, "a cache entry of another model must not be used");
        assert_ne!(va, vb);
        assert_eq!(a.embed(&["same text"]).unwrap(), va);
        assert_eq!(b.embed(&["same text"]).unwrap(), vb);
        assert_eq!((a.inner().calls().len(), b.inner().calls().len()), (1, 1));
    }

    #[test]
    fn limits_are_checked_before_the_inner_call() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let c = Cached::new(Counting::new("lectern-lexical-v1"), &store).unwrap();
        assert!(matches!(c.embed(&vec!["a"; crate::MAX_BATCH + 1]), Err(EmbedError::InvalidInput(_))));
        assert!(c.inner().calls().is_empty());
    }
}

//! Text embeddings for the Lectern kernel: text in, unit-length `f32` vectors out.
//!
//! This crate owns the [`Embedder`] trait and its providers:
//!
//! - [`Lexical`] (the default): a hashed bag of words, word bigrams and
//!   character n-grams. Needs no model and no setup, is deterministic on every
//!   platform and embeds about 9,000 chunks of ~200 word pieces per second on
//!   one core (BENCHMARKS.md, "Embeddings"). It is *not* a semantic model: it
//!   scores texts by shared words and word pieces, so it finds
//!   "photosynthesis" for "photosyntesis" and "learning rate" for "learning
//!   rates", but not "car" for "automobile". On the networking course fixture
//!   the tutor with it finds 100 % of questions worded with the course's terms
//!   in its top 3 but only 31 % of paraphrased ones (MiniLM: 74 %). Good
//!   enough for a tutor to find the passage that uses the student's words; use
//!   [`MiniLm`] or a server when paraphrase matters.
//! - [`MiniLm`]: sentence-transformers' all-MiniLM-L6-v2 (384 dimensions) run on
//!   the CPU in pure Rust (candle), loaded from a local directory.
//! - [`OpenAiCompatible`]: any server speaking `POST /v1/embeddings` (OpenAI,
//!   llama.cpp, vLLM, Ollama…).
//!
//! [`Cached`] wraps any of them with a persistent cache in the kernel's store,
//! and [`from_config`] builds the configured provider, cached and batched.
//!
//! Contract of every [`Embedder::embed`] call: at most [`MAX_BATCH`] texts, each
//! at most [`MAX_TEXT_BYTES`] bytes of UTF-8 (otherwise
//! [`EmbedError::InvalidInput`]); one vector of [`Embedder::dimension`] finite
//! values with L2 norm 1 per text, in input order. The empty string is allowed
//! and always embeds to the fixed vector [`empty_vector`] (the first unit basis
//! vector), whatever the provider: it carries no meaning, and servers refuse it.
//! Calls are synchronous and may be made concurrently from blocking threads;
//! never call them from inside an async task.
//!
//! This crate never downloads a model: [`MiniLm`] reads files that
//! `cargo xtask setup` (or an administrator) put on disk, and the only network
//! traffic is to the servers an administrator configured for
//! [`OpenAiCompatible`] and for [`ChatClient`] (the tutor's optional answer
//! generator, an OpenAI-compatible chat endpoint). It knows nothing about courses, tenants or chunking.

mod cached;
mod chat;
mod config;
mod error;
mod lexical;
mod minilm;
mod openai;
mod util;

pub use cached::Cached;
pub use chat::{ChatClient, ChatConfig, ChatMessage};
pub use config::{EmbedConfig, Provider, default_model_dir, from_config};
pub use error::EmbedError;
pub use lexical::Lexical;
pub use minilm::{MAX_WORD_PIECES, MINILM_ID, MODEL_FILES, MiniLm};
pub use openai::OpenAiCompatible;
pub(crate) use util::MAX_ANSWER_BYTES;
pub use util::{MAX_BATCH, MAX_TEXT_BYTES, empty_vector};

use std::sync::Arc;

/// Turns texts into vectors. Implementations are cheap to share across threads.
pub trait Embedder: Send + Sync {
    /// Name and version, e.g. "lectern-lexical-v1" or
    /// "sentence-transformers/all-MiniLM-L6-v2"; changes whenever vectors would change.
    fn model_id(&self) -> &str;
    /// Length of every vector this embedder returns.
    fn dimension(&self) -> usize;
    /// One unit-length vector of `dimension` finite values per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

impl<E: Embedder + ?Sized> Embedder for Arc<E> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }
    fn dimension(&self) -> usize {
        (**self).dimension()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        (**self).embed(texts)
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

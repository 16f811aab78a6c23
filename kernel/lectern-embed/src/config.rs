//! The `[embed]` configuration and the function that builds its embedder.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lectern_storage::Store;
use serde::{Deserialize, Serialize};

use crate::{Cached, EmbedError, Embedder, Lexical, MiniLm, OpenAiCompatible};

/// Which provider embeds.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Provider {
    /// [`Lexical`]: built in, no setup.
    #[default]
    #[serde(rename = "lexical")]
    Lexical,
    /// [`crate::MiniLm`] from `model_dir`.
    #[serde(rename = "minilm")]
    MiniLm,
    /// [`crate::OpenAiCompatible`] at `url`.
    #[serde(rename = "openai")]
    OpenAi,
}

/// How the kernel embeds text. Every field has a default, so an empty
/// `[embed]` section means the lexical embedder.
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedConfig {
    pub provider: Provider,
    /// MiniLM's files; [`default_model_dir`] when unset.
    pub model_dir: Option<PathBuf>,
    /// Base URL of an OpenAI-compatible server, without `/v1/embeddings`.
    pub url: Option<String>,
    /// The server's model name.
    pub model: Option<String>,
    /// Name of the environment variable holding the server's API key.
    pub api_key_env: Option<String>,
    /// Texts per inner call to the provider (MiniLM forward pass, HTTP request); 1..=256.
    /// Default 8: on 2 cores MiniLM runs as fast at 8 as at 1 and ≈ 40 % slower at 32
    /// (BENCHMARKS.md, "Embeddings"); servers take 8 per request without trouble.
    pub batch_size: usize,
    /// MiniLM's compute threads; all cores when unset.
    pub threads: Option<usize>,
    /// Vector length. Lexical: its number of hash buckets (384 when unset).
    /// Server: its vectors' length, found by a probe request when unset.
    /// MiniLM: must be unset or 384.
    pub dimension: Option<usize>,
    /// Per-request timeout for the server, in seconds.
    pub timeout_secs: u64,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            provider: Provider::Lexical,
            model_dir: None,
            url: None,
            model: None,
            api_key_env: None,
            batch_size: 8,
            threads: None,
            dimension: None,
            timeout_secs: 30,
        }
    }
}

/// Where `cargo xtask setup` installs MiniLM: `$LECTERN_MINILM_DIR`, else
/// `$HOME/.cache/lectern/models/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LECTERN_MINILM_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/lectern/models/all-MiniLM-L6-v2")
}

/// The configured provider behind a [`Cached`] in `store`; each provider
/// splits a call into inner calls of `batch_size` texts itself.
///
/// Blocking like every call of this crate (MiniLM reads ≈ 90 MB; the server
/// provider without a configured `dimension` sends a probe request): call it
/// from a blocking thread, not from an async task.
pub fn from_config(cfg: &EmbedConfig, store: &Store) -> Result<Arc<dyn Embedder>, EmbedError> {
    if cfg.batch_size == 0 || cfg.batch_size > crate::MAX_BATCH {
        return Err(EmbedError::InvalidInput(format!(
            "embed.batch_size must be 1..={}, got {}",
            crate::MAX_BATCH,
            cfg.batch_size
        )));
    }
    let provider: Arc<dyn Embedder> = match cfg.provider {
        Provider::Lexical => Arc::new(match cfg.dimension {
            Some(d) => Lexical::with_dimension(d)?,
            None => Lexical::new(),
        }),
        Provider::MiniLm => {
            let dir = cfg.model_dir.clone().unwrap_or_else(default_model_dir);
            let model = MiniLm::load(&dir, cfg.threads)?.with_batch_size(cfg.batch_size)?;
            if let Some(d) = cfg.dimension.filter(|&d| d != model.dimension()) {
                return Err(EmbedError::InvalidInput(format!(
                    "embed.dimension is {d}, but the model in {} has {}",
                    dir.display(),
                    model.dimension()
                )));
            }
            Arc::new(model)
        }
        Provider::OpenAi => {
            let missing =
                |field: &str| EmbedError::InvalidInput(format!("embed.provider = \"openai\" needs embed.{field}"));
            let url = cfg.url.as_deref().ok_or_else(|| missing("url"))?;
            let model = cfg.model.as_deref().ok_or_else(|| missing("model"))?;
            let api_key = match &cfg.api_key_env {
                None => None,
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    EmbedError::InvalidInput(format!("embed.api_key_env names {var}, which is not set"))
                })?),
            };
            let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
            let client = match cfg.dimension {
                Some(d) => OpenAiCompatible::with_dimension(url, model, api_key, timeout, d)?,
                None => OpenAiCompatible::new(url, model, api_key, timeout)?,
            };
            Arc::new(client.with_batch_size(cfg.batch_size)?)
        }
    };
    Ok(Arc::new(Cached::new(provider, store)?))
}

#[cfg(test)]
mod tests {
    use lectern_storage::StoreOptions;

    use super::*;

    #[test]
    fn defaults_to_lexical() {
        let cfg: EmbedConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(cfg.provider, Provider::Lexical);
        assert_eq!(cfg.batch_size, 8);
        let cfg: EmbedConfig = serde_json::from_str(r#"{"provider":"openai","url":"http://x"}"#).unwrap();
        assert_eq!(cfg.provider, Provider::OpenAi);
        assert!(serde_json::from_str::<EmbedConfig>(r#"{"provder":"openai"}"#).is_err());
    }

    #[test]
    fn builds_a_cached_lexical_embedder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let e = from_config(&EmbedConfig { batch_size: 2, ..Default::default() }, &store).unwrap();
        assert_eq!(e.model_id(), "lectern-lexical-v1");
        let texts = ["one", "two", "three", "four", "five"];
        assert_eq!(e.embed(&texts).unwrap(), Lexical::new().embed(&texts).unwrap());
        assert!(from_config(&EmbedConfig { batch_size: 0, ..Default::default() }, &store).is_err());
        let wide = from_config(&EmbedConfig { dimension: Some(1024), ..Default::default() }, &store).unwrap();
        assert_eq!((wide.model_id(), wide.dimension()), ("lectern-lexical-v1-d1024", 1024));
    }

    #[test]
    fn builds_minilm_from_its_directory_and_checks_server_settings() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let cfg = EmbedConfig { provider: Provider::MiniLm, batch_size: 4, threads: Some(1), ..Default::default() };
        let e = from_config(&cfg, &store).unwrap_or_else(|e| {
            panic!("{e}\nrun `cargo xtask setup` to install MiniLM into {}", default_model_dir().display())
        });
        assert_eq!((e.model_id(), e.dimension()), (crate::MINILM_ID, 384));
        assert_eq!(e.embed(&["a b c"; 5]).unwrap().len(), 5);
        let wrong = EmbedConfig { dimension: Some(768), ..cfg };
        assert!(matches!(from_config(&wrong, &store), Err(EmbedError::InvalidInput(_))));

        let no_url = EmbedConfig { provider: Provider::OpenAi, model: Some("m".into()), ..Default::default() };
        let err = from_config(&no_url, &store).err().unwrap().to_string();
        assert!(err.contains("embed.url"), "{err}");
        let no_key = EmbedConfig {
            provider: Provider::OpenAi,
            url: Some("http://127.0.0.1:9".into()),
            model: Some("m".into()),
            api_key_env: Some("LECTERN_EMBED_TEST_UNSET_KEY".into()),
            ..Default::default()
        };
        let err = from_config(&no_key, &store).err().unwrap().to_string();
        assert!(err.contains("LECTERN_EMBED_TEST_UNSET_KEY"), "{err}");
    }
}

//! A test harness for plugin authors: the real host and the real kernel
//! services on a temporary store, in-process.
//!
//! ```no_run
//! # fn main() -> Result<(), lectern_host::HostError> {
//! use lectern_host::harness::Harness;
//! let h = Harness::new()?;
//! let manifest = br#"{"id":"edu.example.grader","version":"1.0.0","slot":"grading","data_version":1,
//!                     "capabilities":{"kv_quota_bytes":1048576}}"#;
//! h.install_active(manifest, &std::fs::read("target/wasm32-wasip2/release/my_grader.wasm").unwrap())?;
//! let (graded, _) = h.host.grade(&Harness::context("inst-1"), &[/* submissions */]).unwrap();
//! # let _ = graded; Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use lectern_storage::{Store, StoreOptions};

use crate::{CallContext, Host, HostConfig, HostError, Manifest, Scope};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A host on a temporary directory, removed on drop.
pub struct Harness {
    pub host: Host,
    pub store: Store,
    dir: PathBuf,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Harness({})", self.dir.display())
    }
}

impl Harness {
    pub fn new() -> Result<Harness, HostError> {
        Self::with_config(HostConfig { max_concurrent_instances: 32, ..HostConfig::default() })
    }

    pub fn with_config(config: HostConfig) -> Result<Harness, HostError> {
        let dir = std::env::temp_dir().join(format!(
            "lectern-harness-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let store = Store::open(dir.join("db"), StoreOptions::default())?;
        let host = Host::open(&store, dir.join("plugins"), config)?;
        Ok(Harness { host, store, dir })
    }

    /// Installs a component with everything its manifest (JSON) asks for
    /// granted, and activates it platform-wide. Returns `id@version`.
    pub fn install_active(&self, manifest_json: &[u8], wasm: &[u8]) -> Result<String, HostError> {
        self.install_manifest_active(Manifest::parse_json(manifest_json)?, wasm)
    }

    /// [`Harness::install_active`] with the manifest already read.
    pub fn install_manifest_active(&self, m: Manifest, wasm: &[u8]) -> Result<String, HostError> {
        let (slot, grant) = (m.slot, m.capabilities.clone());
        let key = self.host.install(m, wasm, &grant)?.manifest.key();
        self.host.activate(slot, Scope::Platform, &key)?;
        Ok(key)
    }

    /// Attaches a vector index on the harness's store and the built-in
    /// lexical embedder (deterministic, no model to download) behind the
    /// `vector` and `embed` services, as `lectern serve` attaches the
    /// configured ones. Once per harness.
    pub fn attach_lexical_retrieval(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let vectors = lectern_vector::VectorStore::open(&self.store, self.dir.join("vectors"), Default::default())?;
        let embedder = std::sync::Arc::new(lectern_embed::Lexical::new());
        self.host.attach_retrieval(crate::Retrieval { vectors, embedder })?;
        Ok(())
    }

    /// A call context for a student in `institution`.
    pub fn context(institution: &str) -> CallContext {
        CallContext {
            institution: institution.into(),
            user: Some("test-user".into()),
            course: Some("test-course".into()),
            item: None,
            roles: vec!["student".into()],
            locale: "en".into(),
            request_id: "test".into(),
            vector_scope: vec![],
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

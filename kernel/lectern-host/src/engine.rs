//! The one wasmtime `Engine`, its epoch ticker, and the on-disk cache of
//! precompiled components.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::{HostConfig, HostError, engine_cause};

pub(crate) fn build_engine(c: &HostConfig) -> Result<Engine, HostError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Wall-clock deadlines: a ticker bumps the epoch; each call gets a deadline in ticks.
    config.epoch_interruption(true);
    // Deterministic budgets for grading; other slots get a very large budget.
    config.consume_fuel(true);
    config.memory_init_cow(true);
    config.parallel_compilation(true);
    config.max_wasm_stack(c.max_wasm_stack_bytes);
    if c.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(c.max_concurrent_instances);
        // A Rust wasip2 component instantiates several core instances and tables.
        pool.total_core_instances(c.max_concurrent_instances.saturating_mul(4));
        pool.total_memories(c.max_concurrent_instances.saturating_mul(2));
        pool.total_tables(c.max_concurrent_instances.saturating_mul(4));
        pool.max_memory_size(c.max_memory_bytes);
        pool.linear_memory_keep_resident(c.memory_keep_resident_bytes);
        pool.table_keep_resident(c.table_keep_resident_bytes);
        // Without PAGEMAP_SCAN, keeping memory resident means a memset of the
        // whole kept range on every release; `Auto` uses it where the kernel has it.
        pool.pagemap_scan(if c.memory_keep_resident_bytes > 0 { Enabled::Auto } else { Enabled::No });
        pool.decommit_batch_size(c.decommit_batch_size.max(1));
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(|e| HostError::Engine { what: "cannot configure the engine", source: engine_cause(e) })
}

/// Bumps the engine's epoch every `tick` until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: Engine, tick: Duration) -> Result<EpochTicker, HostError> {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("lectern-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| HostError::Engine { what: "cannot start the epoch ticker", source: Box::new(e) })?;
        Ok(EpochTicker { stop, thread: Some(thread) })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Precompiled components on disk, keyed by the component's SHA-256 and the
/// engine's compatibility hash. Only artifacts this kernel wrote are read,
/// and each is checked against the digest recorded when it was written.
pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_hash: String,
}

impl CompileCache {
    pub(crate) fn new(dir: &Path, engine: &Engine) -> Result<CompileCache, HostError> {
        std::fs::create_dir_all(dir).map_err(|source| HostError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(CompileCache { dir: dir.to_path_buf(), engine_hash: format!("{:016x}", h.finish()) })
    }

    fn paths(&self, sha: &str) -> (PathBuf, PathBuf) {
        let base = self.dir.join(format!("{sha}-{}", self.engine_hash));
        (base.with_extension("cwasm"), base.with_extension("cwasm.sha256"))
    }

    /// Whether a compiled artifact for `sha` is there (checked, not verified:
    /// [`CompileCache::load`] verifies it and recompiles a bad one).
    pub(crate) fn has(&self, sha: &str) -> bool {
        let (artifact, digest) = self.paths(sha);
        artifact.is_file() && digest.is_file()
    }

    /// Loads the component for `wasm` (whose digest is `sha`), compiling and
    /// caching it on a miss. Returns whether the cache was hit.
    pub(crate) fn load(&self, engine: &Engine, sha: &str, wasm: &[u8]) -> Result<(Component, bool), HostError> {
        let (artifact, digest) = self.paths(sha);
        if let (Ok(bytes), Ok(recorded)) = (std::fs::read(&artifact), std::fs::read_to_string(&digest)) {
            if sha256_hex(&bytes) == recorded.trim() {
                // SAFETY: `bytes` is an artifact this kernel produced with
                // `Component::serialize` for an engine with the same
                // compatibility hash (it is in the file name), and its digest
                // matches the one recorded when it was written, so it is not
                // truncated, corrupted, or replaced by other bytes.
                #[allow(unsafe_code)]
                let loaded = unsafe { Component::deserialize(engine, &bytes) };
                match loaded {
                    Ok(c) => return Ok((c, true)),
                    Err(e) => {
                        tracing::warn!(error = %e, path = %artifact.display(), "discarding unusable compiled artifact")
                    }
                }
            } else {
                tracing::warn!(path = %artifact.display(), "compiled artifact does not match its digest; recompiling");
            }
        }
        let component =
            Component::new(engine, wasm).map_err(|e| HostError::InvalidComponent { source: engine_cause(e) })?;
        let bytes = component.serialize().map_err(|e| HostError::Engine {
            what: "cannot serialize the compiled component",
            source: engine_cause(e),
        })?;
        let tmp = artifact.with_extension("cwasm.tmp");
        let write = || -> std::io::Result<()> {
            std::fs::write(&tmp, &bytes)?;
            std::fs::write(&digest, sha256_hex(&bytes))?;
            std::fs::rename(&tmp, &artifact)
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "cannot write the compile cache; continuing without it");
        }
        Ok((component, false))
    }
}

//! Per-call store data and the kernel services a plugin may import. Linking
//! decides whether a service exists for a plugin; the functions here decide
//! what it may touch: keys are always inside the plugin's namespace for the
//! calling institution, topics must be granted, sizes and quotas are checked.

use std::sync::Arc;

use lectern_bus::Outgoing;
use lectern_bus::outbox::Outbox;
use lectern_storage::{Store, Tree, TxFail, abort};
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::lectern::plugin::{clock, events, kv, log, types};
use crate::manifest::Capabilities;

pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
pub const MAX_LIST: u32 = 1000;
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Properties on events plugins publish: who published, for which institution.
pub const PLUGIN_PROPERTY: &str = "lectern-plugin";
pub const INSTITUTION_PROPERTY: &str = "lectern-institution";

/// Storage behind the kernel services.
#[derive(Clone)]
pub(crate) struct Services {
    pub store: Store,
    pub kv: Tree<Vec<u8>>,
    pub usage: Tree<u64>,
    /// Events plugins published, relayed to the bus by the kernel.
    pub outbox: Outbox,
    /// The vector index and embedder, once the kernel attaches them.
    pub retrieval: Arc<std::sync::OnceLock<crate::retrieval::Retrieval>>,
}

impl Services {
    pub fn open(store: &Store) -> Result<Services, lectern_bus::BusError> {
        Ok(Services {
            store: store.clone(),
            kv: store.tree("plugin_kv")?,
            usage: store.tree("plugin_kv_usage")?,
            outbox: Outbox::open(store, "plugin_events")?,
            retrieval: Arc::default(),
        })
    }
}

/// Who is running, for services and logs.
pub(crate) struct Identity {
    pub id: String,
    pub version: String,
    pub grants: Capabilities,
}

pub(crate) struct PluginState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: StoreLimits,
    pub who: Arc<Identity>,
    /// The institution id, or `*` for lifecycle calls.
    pub scope: String,
    pub request_id: String,
    pub services: Services,
    /// Limits the kernel imposes on this call's vector queries.
    pub vector_scope: Vec<crate::slots::VectorScope>,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl PluginState {
    /// `plugin id ‖ 0 ‖ scope ‖ 0`: the guest's key is appended to this and
    /// cannot contain NUL, so no guest key can reach outside it.
    fn prefix(&self) -> Vec<u8> {
        [self.who.id.as_bytes(), b"\0", self.scope.as_bytes(), b"\0"].concat()
    }

    fn usage_key(&self) -> Vec<u8> {
        [self.who.id.as_bytes(), b"\0", self.scope.as_bytes()].concat()
    }

    fn check_key(key: &str) -> Result<(), types::Error> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(types::Error::InvalidInput(format!("keys must be 1–{MAX_KEY_BYTES} bytes")));
        }
        if key.contains('\0') {
            return Err(types::Error::InvalidInput("keys must not contain NUL".into()));
        }
        Ok(())
    }

    fn storage_error(e: impl std::fmt::Display) -> types::Error {
        tracing::error!(error = %e, "plugin kv storage failure");
        types::Error::Unavailable("storage is unavailable".into())
    }

    /// Writes or deletes `key` in one transaction with the quota accounting;
    /// `expected` makes it a compare-and-swap. Durable before returning.
    fn write(&mut self, key: &str, expected: Option<Option<&[u8]>>, new: Option<&[u8]>) -> Result<bool, types::Error> {
        Self::check_key(key)?;
        if let Some(v) = new
            && v.len() > MAX_VALUE_BYTES
        {
            return Err(types::Error::QuotaExceeded(format!("values are at most {MAX_VALUE_BYTES} bytes")));
        }
        let quota = self.who.grants.kv_quota_bytes.unwrap_or(0);
        let full = [self.prefix(), key.as_bytes().to_vec()].concat();
        let usage_key = self.usage_key();
        let s = &self.services;
        let wrote = s
            .store
            .transaction(&[&s.kv, &s.usage], |tx| {
                let kvt = tx.on(&s.kv)?;
                let old = kvt.get(&full)?;
                if let Some(exp) = expected
                    && old.as_deref() != exp
                {
                    return Ok(false);
                }
                let old_size = old.as_ref().map(|v| (full.len() + v.len()) as u64).unwrap_or(0);
                let new_size = new.map(|v| (full.len() + v.len()) as u64).unwrap_or(0);
                let ut = tx.on(&s.usage)?;
                let used = ut.get(&usage_key)?.unwrap_or(0);
                let next = used.saturating_sub(old_size).saturating_add(new_size);
                if new_size > old_size && next > quota {
                    return abort(types::Error::QuotaExceeded(format!(
                        "kv quota of {quota} bytes for this institution would be exceeded"
                    )));
                }
                match new {
                    Some(v) => kvt.insert(&full, &v.to_vec())?,
                    None => {
                        kvt.remove(&full)?;
                    }
                }
                ut.insert(&usage_key, &next)?;
                Ok::<bool, TxFail<types::Error>>(old.is_some() || new.is_some())
            })
            .map_err(|e| match e {
                lectern_storage::TxError::Aborted(e) => e,
                lectern_storage::TxError::Storage(e) => Self::storage_error(e),
            })?;
        if wrote {
            s.store.durable_blocking().map_err(Self::storage_error)?;
        }
        Ok(wrote)
    }
}

impl types::Host for PluginState {}

impl kv::Host for PluginState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, types::Error> {
        Self::check_key(&key)?;
        let full = [self.prefix(), key.into_bytes()].concat();
        self.services.kv.get(full).map_err(Self::storage_error)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), types::Error> {
        self.write(&key, None, Some(&value)).map(|_| ())
    }

    fn delete(&mut self, key: String) -> Result<bool, types::Error> {
        // `write` reports whether the key existed (a delete stores no new value).
        self.write(&key, None, None)
    }

    fn list_keys(&mut self, prefix: String, after: Option<String>, limit: u32) -> Result<Vec<String>, types::Error> {
        if prefix.contains('\0') || after.as_deref().is_some_and(|a| a.contains('\0')) {
            return Err(types::Error::InvalidInput("keys must not contain NUL".into()));
        }
        let ns = self.prefix();
        let full_prefix = [ns.as_slice(), prefix.as_bytes()].concat();
        let after_full = after.map(|a| [ns.as_slice(), a.as_bytes()].concat());
        let rows = self
            .services
            .kv
            .page(&full_prefix, after_full.as_deref(), limit.clamp(1, MAX_LIST) as usize)
            .map_err(Self::storage_error)?;
        Ok(rows.into_iter().map(|(k, _)| String::from_utf8_lossy(&k[ns.len()..]).into_owned()).collect())
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, types::Error> {
        self.write(&key, Some(expected.as_deref()), new.as_deref())
    }
}

impl events::Host for PluginState {
    fn publish(&mut self, topic: String, key: String, payload: Vec<u8>) -> Result<(), types::Error> {
        if !self.who.grants.publish.contains(&topic) {
            return Err(types::Error::Denied(format!("topic `{topic}` is not granted to this plugin")));
        }
        if payload.len() > MAX_EVENT_BYTES || key.len() > MAX_KEY_BYTES {
            return Err(types::Error::QuotaExceeded(format!(
                "events carry at most {MAX_EVENT_BYTES} bytes and a key of {MAX_KEY_BYTES}"
            )));
        }
        let msg = Outgoing::new(topic, key, payload)
            .property(PLUGIN_PROPERTY, self.who.id.clone())
            .property(INSTITUTION_PROPERTY, self.scope.clone());
        self.services.outbox.insert(msg).map_err(Self::storage_error)?;
        self.services.store.durable_blocking().map_err(Self::storage_error)?;
        self.services.outbox.notify();
        Ok(())
    }
}

impl log::Host for PluginState {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<types::Field>) {
        let message: String = message.chars().take(4096).collect();
        let fields: String = fields
            .iter()
            .take(32)
            .map(|f| format!("{}={} ", f.key, f.value))
            .collect::<String>()
            .chars()
            .take(4096)
            .collect();
        let (plugin, version, request) = (&self.who.id, &self.who.version, &self.request_id);
        match level {
            log::Level::Trace => {
                tracing::trace!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            log::Level::Debug => {
                tracing::debug!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            log::Level::Info => {
                tracing::info!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            log::Level::Warn => {
                tracing::warn!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            log::Level::Error => {
                tracing::error!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
        }
    }
}

impl clock::Host for PluginState {
    fn now_ms(&mut self) -> u64 {
        now_ms()
    }
}

//! Per-call store data: who is calling, for which institution and request,
//! the storage behind the kernel services (implemented in `services`), and
//! the call's WASI context with no authority behind it.

use std::sync::Arc;

use lectern_bus::outbox::Outbox;
use lectern_storage::{Store, Tree};
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::manifest::Capabilities;

/// Properties on events plugins publish: who published, for which institution.
pub const PLUGIN_PROPERTY: &str = "lectern-plugin";
pub const INSTITUTION_PROPERTY: &str = "lectern-institution";

/// Storage behind the kernel services.
#[derive(Clone)]
pub(crate) struct Services {
    pub store: Store,
    pub kv: Tree<Vec<u8>>,
    pub usage: Tree<u64>,
    /// Each plugin's settings per scope (`plugin id ‖ 0 ‖ institution or *`), JSON objects.
    pub settings: Tree<String>,
    /// Events plugins published, relayed to the bus by the kernel.
    pub outbox: Outbox,
    /// The vector index and embedder, once the kernel attaches them.
    pub retrieval: Arc<std::sync::OnceLock<crate::services::retrieval::Retrieval>>,
}

impl Services {
    pub fn open(store: &Store) -> Result<Services, lectern_bus::BusError> {
        Ok(Services {
            store: store.clone(),
            kv: store.tree("plugin_kv")?,
            usage: store.tree("plugin_kv_usage")?,
            settings: store.tree("plugin_settings")?,
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
    /// Bytes of `stdout` and `stderr` already logged (a warm instance's pipes
    /// keep what earlier calls wrote).
    pub flushed: [usize; 2],
    /// `wasi:http` (linked for observer plugins with granted hosts only).
    pub http: wasmtime_wasi_http::WasiHttpCtx,
    pub outbound: crate::services::http::Outbound,
    /// Set during an activity's `act`: what `gradebook` may record, and what it recorded.
    pub activity: Option<crate::services::gradebook::ActivityCall>,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

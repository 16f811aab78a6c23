//! The plugin registry and call path: install (verify imports against the
//! manifest and grants, compile or load from cache, persist), activate (init,
//! migrate, atomic swap), roll back, uninstall, and the per-call sandbox.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use lectern_storage::{Record, Store, Tree};
use serde::{Deserialize, Serialize};
use wasmtime::component::{Component, Instance, InstancePre, ResourceTable};
use wasmtime::{Engine, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::breaker::{Breaker, BreakerState};
use crate::engine::{CompileCache, EpochTicker, build_engine, sha256_hex};
use crate::manifest::{Capabilities, Manifest, Service, Slot};
use crate::slots::{self, CallContext};
use crate::state::{Identity, PluginState, Services};
use crate::stats::{Stats, StatsSnapshot};
use crate::wit::{self, Api, Call, PluginExports};
use crate::{ActivationStep, HostConfig, HostError, ImportRefusal, PluginError, engine_cause};

/// Where a slot assignment applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The default for every institution without its own choice.
    Platform,
    Institution(String),
}

impl Scope {
    fn key(&self) -> String {
        match self {
            Scope::Platform => "*".into(),
            Scope::Institution(i) => i.clone(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Platform => f.write_str("the platform"),
            Scope::Institution(i) => write!(f, "institution {i}"),
        }
    }
}

/// Where a version is active. A slot has one seat (one version serves it
/// per scope); an extension world (an observer) has one seat per plugin, so
/// any number of plugins of that world are active at once, one version each.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Seat {
    pub slot: Slot,
    /// The plugin id, for an extension world; `None` for a slot.
    pub plugin: Option<String>,
}

impl From<Slot> for Seat {
    fn from(slot: Slot) -> Seat {
        Seat { slot, plugin: None }
    }
}

impl Seat {
    /// The seat a plugin of `slot` with id `plugin` takes.
    pub fn of(slot: Slot, plugin: &str) -> Seat {
        Seat { slot, plugin: slot.is_extension().then(|| plugin.to_owned()) }
    }

    /// `grading`, or `observer:org.example.sis` (stored in slot record keys).
    fn key(&self) -> String {
        match &self.plugin {
            Some(p) => format!("{}:{p}", self.slot.name()),
            None => self.slot.name().to_owned(),
        }
    }

    fn parse(s: &str) -> Option<Seat> {
        match s.split_once(':') {
            Some((slot, plugin)) => Some(Seat { slot: slot.parse().ok()?, plugin: Some(plugin.to_owned()) }),
            None => Some(Seat { slot: s.parse().ok()?, plugin: None }),
        }
    }
}

impl std::fmt::Display for Seat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.plugin {
            Some(p) => write!(f, "the {} plugin {p}", self.slot.name()),
            None => write!(f, "the {} slot", self.slot.name()),
        }
    }
}

/// An installed version, as persisted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub manifest: Manifest,
    /// What the plugin may use: the admin's grant intersected with the manifest's request.
    pub grants: Capabilities,
    pub sha256: String,
    pub size: u64,
    pub installed_at_ms: u64,
    /// The WIT interfaces the component imports (for the admin's eyes).
    pub imports: Vec<String>,
}

impl Record for Installed {
    /// 2: capabilities gained `outbound_hosts`. 3: resources gained `reuse_calls`.
    const VERSION: u8 = 3;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        match version {
            1 => lectern_storage::decode_body::<v1::Installed>(body).map(|v1| v2::Installed::from(v1).into()),
            2 => lectern_storage::decode_body::<v2::Installed>(body).map(Into::into),
            v => Err(format!("no upgrade path from installed-plugin record version {v}")),
        }
    }
}

/// Resources as stored before `reuse_calls` (record versions 1 and 2).
/// postcard is positional: this lists exactly the old fields, in order, and
/// must never change.
#[derive(Deserialize)]
struct ResourcesV2 {
    memory_mib: u32,
    call_timeout_ms: u64,
    fuel: Option<u64>,
}

impl From<ResourcesV2> for crate::manifest::Resources {
    fn from(r: ResourcesV2) -> Self {
        crate::manifest::Resources {
            memory_mib: r.memory_mib,
            call_timeout_ms: r.call_timeout_ms,
            fuel: r.fuel,
            reuse_calls: 0,
        }
    }
}

/// Installed versions as stored before resources had `reuse_calls` (record
/// version 2; capabilities as today). Never to change.
mod v2 {
    use serde::Deserialize;

    use super::ResourcesV2;
    use crate::manifest::{Capabilities, Slot};

    #[derive(Deserialize)]
    pub struct Manifest {
        pub(super) id: String,
        pub(super) version: String,
        pub(super) slot: Slot,
        pub(super) data_version: u32,
        pub(super) capabilities: Capabilities,
        pub(super) resources: ResourcesV2,
    }

    #[derive(Deserialize)]
    pub struct Installed {
        pub(super) manifest: Manifest,
        pub(super) grants: Capabilities,
        pub(super) sha256: String,
        pub(super) size: u64,
        pub(super) installed_at_ms: u64,
        pub(super) imports: Vec<String>,
    }

    impl From<Installed> for super::Installed {
        fn from(i: Installed) -> Self {
            let m = i.manifest;
            super::Installed {
                manifest: crate::manifest::Manifest {
                    id: m.id,
                    version: m.version,
                    slot: m.slot,
                    data_version: m.data_version,
                    capabilities: m.capabilities,
                    resources: m.resources.into(),
                },
                grants: i.grants,
                sha256: i.sha256,
                size: i.size,
                installed_at_ms: i.installed_at_ms,
                imports: i.imports,
            }
        }
    }
}

/// Installed versions as stored before capabilities had `outbound_hosts`
/// (record version 1). postcard is positional: these list exactly the old
/// fields, in order, and must never change.
mod v1 {
    use serde::Deserialize;

    use super::ResourcesV2 as Resources;
    use crate::manifest::Slot;

    #[derive(Deserialize)]
    pub struct Capabilities {
        log: bool,
        kv_quota_bytes: Option<u64>,
        publish: Vec<String>,
        subscribe: Vec<String>,
        clock: bool,
        vector: bool,
        embed: bool,
    }

    #[derive(Deserialize)]
    pub struct Manifest {
        id: String,
        version: String,
        slot: Slot,
        data_version: u32,
        capabilities: Capabilities,
        resources: Resources,
    }

    #[derive(Deserialize)]
    pub struct Installed {
        manifest: Manifest,
        grants: Capabilities,
        sha256: String,
        size: u64,
        installed_at_ms: u64,
        imports: Vec<String>,
    }

    impl From<Capabilities> for crate::manifest::Capabilities {
        fn from(c: Capabilities) -> Self {
            crate::manifest::Capabilities {
                log: c.log,
                kv_quota_bytes: c.kv_quota_bytes,
                publish: c.publish,
                subscribe: c.subscribe,
                clock: c.clock,
                vector: c.vector,
                embed: c.embed,
                outbound_hosts: vec![],
            }
        }
    }

    /// Version 1 differs from version 2 only in the capabilities.
    impl From<Installed> for super::v2::Installed {
        fn from(i: Installed) -> Self {
            let m = i.manifest;
            super::v2::Installed {
                manifest: super::v2::Manifest {
                    id: m.id,
                    version: m.version,
                    slot: m.slot,
                    data_version: m.data_version,
                    capabilities: m.capabilities.into(),
                    resources: m.resources,
                },
                grants: i.grants.into(),
                sha256: i.sha256,
                size: i.size,
                installed_at_ms: i.installed_at_ms,
                imports: i.imports,
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SlotRecord {
    active: String,
    previous: Option<String>,
}

impl Record for SlotRecord {
    const VERSION: u8 = 1;
}

/// The result of an activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activation {
    pub active: String,
    pub previous: Option<String>,
    pub migrated_from: Option<u32>,
    pub compiled_from_cache: bool,
    pub took: Duration,
    pub warnings: Vec<String>,
}

/// The result of [`Host::use_platform_default`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultRestored {
    /// The platform default now serving the institution (`None`: the slot has no default).
    pub active: Option<String>,
    /// What served the institution before: its own choice, or already the default.
    pub previous: Option<String>,
}

/// An activity kind an active plugin offers an institution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferedActivityKind {
    pub plugin: String,
    /// `id@version` of the version that offers it.
    pub version: String,
    pub info: slots::activity::Kind,
}

/// A question type an active plugin offers an institution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferedQuestionType {
    /// The plugin's id.
    pub plugin: String,
    /// `id@version` of the version that offers it.
    pub version: String,
    pub info: slots::question::TypeInfo,
}

/// An installed version as the admin sees it.
#[derive(Clone, Debug)]
pub struct PluginStatus {
    pub installed: Installed,
    /// Slot scopes where this version is active.
    pub active_in: Vec<Scope>,
    /// Slot scopes where this version is the rollback target.
    pub standby_in: Vec<Scope>,
    /// Of `active_in`, the scopes where it is still compiling after a start
    /// that found no compiled artifact (calls there answer `Starting`).
    pub starting_in: Vec<Scope>,
    pub breaker: BreakerState,
    pub breaker_trips: u64,
    pub stats: StatsSnapshot,
}

pub(crate) struct Loaded {
    key: String,
    manifest: Manifest,
    who: Arc<Identity>,
    pre: InstancePre<PluginState>,
    /// `lifecycle` and the slot's interface, in the contract version the
    /// component was built against.
    exports: Box<dyn PluginExports>,
    breaker: Breaker,
    stats: Stats,
    from_cache: bool,
    /// A question-type plugin's types, read and compiled when the version first starts.
    question_types: std::sync::OnceLock<Vec<crate::questions::TypeSpec>>,
    /// An activity plugin's kinds, likewise.
    activity_kinds: std::sync::OnceLock<Vec<crate::activities::KindSpec>>,
    /// Idle instances for the next call, when the manifest opts in (`resources.reuse_calls`).
    warm: crate::warm::WarmPool,
}

struct Inner {
    engine: Engine,
    config: HostConfig,
    cache: CompileCache,
    _ticker: EpochTicker,
    services: Services,
    installed: Tree<Installed>,
    slots: Tree<SlotRecord>,
    data_versions: Tree<u32>,
    assets: Tree<crate::assets::AssetIndex>,
    blobs: PathBuf,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    active: RwLock<HashMap<(Seat, Scope), Arc<Loaded>>>,
    /// Seats whose version is being compiled in the background at start
    /// (`id@version` by seat): calls there answer `PluginError::Starting`.
    starting: RwLock<HashMap<(Seat, Scope), String>>,
    admin: Mutex<()>,
}

/// The plugin host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Host")
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn slot_key(seat: &Seat, scope: &Scope) -> String {
    format!("{}/{}", seat.key(), scope.key())
}

fn parse_slot_key(k: &[u8]) -> Option<(Seat, Scope)> {
    let s = std::str::from_utf8(k).ok()?;
    let (seat, scope) = s.split_once('/')?;
    let scope = if scope == "*" { Scope::Platform } else { Scope::Institution(scope.to_owned()) };
    Some((Seat::parse(seat)?, scope))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Host {
    /// Opens the host over the kernel's store, with blobs and compiled
    /// artifacts under `dir`, and re-activates what was active.
    pub fn open(store: &Store, dir: impl Into<PathBuf>, config: HostConfig) -> Result<Host, HostError> {
        let dir = dir.into();
        let engine = build_engine(&config)?;
        let cache =
            CompileCache::new(&config.compile_cache_dir.clone().unwrap_or_else(|| dir.join("compiled")), &engine)?;
        let blobs = dir.join("components");
        std::fs::create_dir_all(&blobs).map_err(|source| HostError::Io {
            action: "create",
            path: blobs.clone(),
            source,
        })?;
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick)?;
        let host = Host {
            inner: Arc::new(Inner {
                services: Services::open(store).map_err(|e| match e {
                    lectern_bus::BusError::Storage(s) => HostError::Storage(s),
                    other => HostError::Outbox(other),
                })?,
                installed: store.tree("plugins_installed")?,
                slots: store.tree("plugin_slots")?,
                data_versions: store.tree("plugin_data_versions")?,
                assets: store.tree("plugin_assets")?,
                engine,
                config,
                cache,
                _ticker: ticker,
                blobs,
                loaded: Mutex::new(HashMap::new()),
                active: RwLock::new(HashMap::new()),
                starting: RwLock::new(HashMap::new()),
                admin: Mutex::new(()),
            }),
        };
        if host.inner.config.restore {
            host.restore()?;
        }
        Ok(host)
    }

    /// Re-activates what was active. Versions whose compiled artifact is in
    /// the cache start here (milliseconds each); the others (the cache was
    /// deleted, or the engine changed) compile in the background, on up to
    /// one thread per core, while the host serves: their seats answer
    /// [`PluginError::Starting`] until they are ready, and never fall back to
    /// another version meanwhile (an institution's grader is its choice).
    fn restore(&self) -> Result<(), HostError> {
        let rows: Vec<_> = self.inner.slots.scan_prefix(b"").collect::<Result<_, _>>()?;
        let mut to_compile: Vec<(String, Vec<(Seat, Scope)>)> = vec![];
        for (k, rec) in rows {
            let Some((seat, scope)) = parse_slot_key(&k) else { continue };
            let cached =
                self.inner.installed.get(rec.active.as_bytes())?.is_some_and(|i| self.inner.cache.has(&i.sha256));
            if !cached {
                match to_compile.iter_mut().find(|(key, _)| *key == rec.active) {
                    Some((_, seats)) => seats.push((seat.clone(), scope.clone())),
                    None => to_compile.push((rec.active.clone(), vec![(seat.clone(), scope.clone())])),
                }
                self.inner.starting.write().unwrap_or_else(|e| e.into_inner()).insert((seat, scope), rec.active);
                continue;
            }
            match self.load(&rec.active).and_then(|l| self.start_version(&l).map(|_| l)) {
                Ok(l) => {
                    self.inner.active.write().unwrap_or_else(|e| e.into_inner()).insert((seat, scope), l);
                }
                Err(e) => {
                    tracing::error!(seat = %seat.key(), plugin = %rec.active, error = %e, "cannot re-activate plugin at start")
                }
            }
        }
        if to_compile.is_empty() {
            return Ok(());
        }
        tracing::info!(
            versions = to_compile.len(),
            "compiling plugins in the background (no compiled artifact cached)"
        );
        let queue = Arc::new(Mutex::new(to_compile));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(lock(&queue).len());
        for n in 0..threads {
            let (host, queue) = (self.clone(), queue.clone());
            let spawned = std::thread::Builder::new().name(format!("plugin-compile-{n}")).spawn(move || {
                loop {
                    let next = lock(&queue).pop();
                    let Some((key, seats)) = next else { break };
                    host.restore_in_background(&key, seats);
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a compile thread; the remaining plugins compile on the others");
            }
        }
        Ok(())
    }

    /// Compiles and starts `key`, then serves it on the seats that still have it as their choice.
    fn restore_in_background(&self, key: &str, seats: Vec<(Seat, Scope)>) {
        let started = Instant::now();
        let loaded = self.load(key).and_then(|l| self.start_version(&l).map(|_| l));
        let _admin = lock(&self.inner.admin);
        let mut starting = self.inner.starting.write().unwrap_or_else(|e| e.into_inner());
        for (seat, scope) in seats {
            if starting.get(&(seat.clone(), scope.clone())).is_none_or(|k| k != key) {
                continue; // an administrator chose otherwise meanwhile
            }
            starting.remove(&(seat.clone(), scope.clone()));
            let still_chosen = self
                .inner
                .slots
                .get(slot_key(&seat, &scope).as_bytes())
                .ok()
                .flatten()
                .is_some_and(|rec| rec.active == key);
            match &loaded {
                Ok(l) if still_chosen => {
                    let mut active = self.inner.active.write().unwrap_or_else(|e| e.into_inner());
                    active.entry((seat, scope)).or_insert_with(|| l.clone());
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(seat = %seat.key(), plugin = %key, error = %e, "cannot re-activate plugin at start")
                }
            }
        }
        if loaded.is_ok() {
            tracing::info!(plugin = %key, took_ms = started.elapsed().as_millis() as u64, "plugin compiled and serving");
        }
    }

    /// An administrator chose for `seat` in `scope` (under the admin lock): a
    /// version still compiling there from the start no longer takes it.
    fn forget_starting(&self, seat: &Seat, scope: &Scope) {
        self.inner.starting.write().unwrap_or_else(|e| e.into_inner()).remove(&(seat.clone(), scope.clone()));
    }

    /// Whether what grades `institution`'s attempts is still compiling after a
    /// start without its compiled artifact: its grading plugin, or any
    /// question-type plugin (the grading worker waits for them rather than
    /// spend a submission's attempts).
    pub fn grading_is_starting(&self, institution: &str) -> bool {
        let starting = self.inner.starting.read().unwrap_or_else(|e| e.into_inner());
        starting.keys().any(|(seat, scope)| match seat.slot {
            Slot::Grading => match scope {
                Scope::Platform => true,
                Scope::Institution(i) => i == institution,
            },
            Slot::QuestionType => true,
            _ => false,
        })
    }

    /// The version being compiled for `seat` as seen from `institution`, if
    /// its own choice or (without one) the platform's is still starting.
    fn starting_for(&self, seat: &Seat, institution: &str) -> Option<String> {
        let starting = self.inner.starting.read().unwrap_or_else(|e| e.into_inner());
        if starting.is_empty() {
            return None;
        }
        starting
            .get(&(seat.clone(), Scope::Institution(institution.to_owned())))
            .or_else(|| starting.get(&(seat.clone(), Scope::Platform)))
            .cloned()
    }

    /// Installs a plugin version without activating it. The component must
    /// target a contract version this host speaks (see `wit`: any 0.1.x
    /// today), and its real imports are checked: every `lectern:plugin`
    /// service it imports must be declared in the manifest, allowed in its
    /// slot, granted, and available; anything that is neither `lectern:plugin`
    /// nor WASI 0.2 is refused.
    pub fn install(&self, manifest: Manifest, wasm: &[u8], grant: &Capabilities) -> Result<Installed, HostError> {
        self.install_package(manifest, wasm, grant, &std::collections::BTreeMap::new())
    }

    /// [`Host::install`] with the static assets of the version's verified
    /// package (paths under `assets/`), kept with it and served by the
    /// kernel (see [`crate::assets`]). Installing the same component again
    /// adds assets it was installed without.
    pub fn install_package(
        &self,
        manifest: Manifest,
        wasm: &[u8],
        grant: &Capabilities,
        assets: &std::collections::BTreeMap<String, Vec<u8>>,
    ) -> Result<Installed, HostError> {
        manifest.validate()?;
        let assets = crate::assets::check(assets).map_err(HostError::InvalidAssets)?;
        let _admin = lock(&self.inner.admin);
        let key = manifest.key();
        let sha = sha256_hex(wasm);
        if let Some(existing) = self.inner.installed.get(key.as_bytes())? {
            if existing.sha256 == sha {
                if !assets.is_empty() && self.inner.assets.get(key.as_bytes())?.is_none() {
                    self.store_assets(&key, &assets)?;
                    self.inner.services.store.durable_blocking()?;
                }
                return Ok(existing);
            }
            return Err(HostError::AlreadyInstalled { key });
        }
        let grants = grant.intersect(&manifest.capabilities);
        let (component, _) = self.inner.cache.load(&self.inner.engine, &sha, wasm)?;
        let api = self.contract(&component, manifest.slot)?;
        let imports = self.check_imports(&component, &manifest, &grants, api)?;
        self.check_exports(&component, manifest.slot)?;
        // Proves the component links and its exports have the right types.
        self.prepare(&key, &manifest, &grants, component, api, false)?;
        let path = self.inner.blobs.join(format!("{sha}.wasm"));
        // Durable before the record that names it commits: a crash must never
        // leave an installed version whose component is missing or torn.
        if !path.exists() {
            lectern_storage::write_durably(&path, wasm)?;
        }
        // The assets and their index before the record: an index without its
        // version is harmless (overwritten by the next install), a version
        // whose assets are missing is not.
        self.store_assets(&key, &assets)?;
        let rec =
            Installed { manifest, grants, sha256: sha, size: wasm.len() as u64, installed_at_ms: now_ms(), imports };
        self.inner.installed.insert(key.as_bytes(), &rec)?;
        self.inner.services.store.durable_blocking()?;
        tracing::info!(plugin = %key, "plugin installed");
        Ok(rec)
    }

    /// Writes a version's assets (content-addressed, durably) and their index.
    fn store_assets(&self, key: &str, assets: &std::collections::BTreeMap<String, &[u8]>) -> Result<(), HostError> {
        if assets.is_empty() {
            return Ok(());
        }
        let dir = self.inner.blobs.join("assets");
        std::fs::create_dir_all(&dir).map_err(|source| HostError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        let mut index = crate::assets::AssetIndex::default();
        for (name, bytes) in assets {
            let sha = sha256_hex(bytes);
            let path = dir.join(&sha);
            if !path.exists() {
                lectern_storage::write_durably(&path, bytes)?;
            }
            let file = crate::assets::AssetFile {
                sha256: sha,
                size: bytes.len() as u64,
                content_type: crate::assets::content_type(name).to_owned(),
            };
            index.files.insert(name.clone(), file);
        }
        self.inner.assets.insert(key.as_bytes(), &index)?;
        Ok(())
    }

    /// An asset of an installed version (`id@version`) and where its bytes are.
    pub fn plugin_asset(
        &self,
        key: &str,
        name: &str,
    ) -> Result<Option<(crate::assets::AssetFile, PathBuf)>, HostError> {
        if !crate::assets::is_asset_name(name) {
            return Ok(None);
        }
        let Some(index) = self.inner.assets.get(key.as_bytes())? else { return Ok(None) };
        Ok(index.files.get(name).map(|f| (f.clone(), self.inner.blobs.join("assets").join(&f.sha256))))
    }

    /// The asset names of an installed version (empty for none).
    pub fn plugin_asset_names(&self, key: &str) -> std::collections::BTreeSet<String> {
        match self.inner.assets.get(key.as_bytes()) {
            Ok(Some(index)) => index.files.into_keys().collect(),
            _ => Default::default(),
        }
    }

    /// The bindings that serve `component`: those of the contract version its
    /// `lectern:plugin` names carry (refused if this host speaks none on its track).
    fn contract(&self, component: &Component, slot: Slot) -> Result<Api, HostError> {
        match Api::of_component(&self.inner.engine, component)? {
            Some((api, found)) => {
                let needs = Api::introducing(slot);
                if api.version() < needs {
                    return Err(HostError::WorldNeedsContract { slot, needs, found });
                }
                Ok(api)
            }
            None => Err(HostError::MissingExport { interface: "lifecycle", slot }),
        }
    }

    fn check_imports(
        &self,
        component: &Component,
        manifest: &Manifest,
        grants: &Capabilities,
        api: Api,
    ) -> Result<Vec<String>, HostError> {
        let ty = component.component_type();
        let mut names = vec![];
        for (name, _) in ty.imports(&self.inner.engine) {
            names.push(name.to_owned());
            let refuse = |reason| Err(HostError::ImportRefused { import: name.to_owned(), reason });
            let Some((pkg, iface, version)) = wit::split_name(name) else {
                return refuse(ImportRefusal::Foreign);
            };
            let version = version.and_then(|v| semver::Version::parse(v).ok());
            let compatible =
                |major: u64, minor: u64| version.as_ref().is_some_and(|v| v.major == major && v.minor == minor);
            match pkg {
                "wasi:io" | "wasi:cli" | "wasi:clocks" | "wasi:random" | "wasi:filesystem" | "wasi:sockets" => {
                    if !compatible(0, 2) {
                        return refuse(ImportRefusal::WasiVersion);
                    }
                }
                // Outbound HTTP: observer plugins (lectern:plugin 0.2 on) with granted hosts.
                "wasi:http" => {
                    if !compatible(0, 2) {
                        return refuse(ImportRefusal::WasiVersion);
                    }
                    if !manifest.slot.allows_outbound() || api.version() < Api::introducing(Slot::Observer) {
                        return refuse(ImportRefusal::NotInSlot { slot: manifest.slot });
                    }
                    if manifest.capabilities.outbound_hosts.is_empty() {
                        return refuse(ImportRefusal::Undeclared);
                    }
                    if grants.outbound_hosts.is_empty() {
                        return refuse(ImportRefusal::NotGranted);
                    }
                }
                wit::PACKAGE => {
                    // The version was checked by `contract` (every name is on the track `api` serves).
                    if iface == "types" {
                        continue;
                    }
                    let Some(service) = api.services().iter().copied().find(|s| s.interface() == iface) else {
                        return refuse(ImportRefusal::NotAService);
                    };
                    if !manifest.slot.allowed_services().contains(&service) {
                        return refuse(ImportRefusal::NotInSlot { slot: manifest.slot });
                    }
                    if !matches!(service, Service::Log | Service::Settings | Service::Gradebook)
                        && !manifest.capabilities.grants(service)
                    {
                        return refuse(ImportRefusal::Undeclared);
                    }
                    if !grants.grants(service) {
                        return refuse(ImportRefusal::NotGranted);
                    }
                }
                _ => return refuse(ImportRefusal::Foreign),
            }
        }
        Ok(names)
    }

    fn check_exports(&self, component: &Component, slot: Slot) -> Result<(), HostError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(&self.inner.engine).map(|(n, _)| n.to_owned()).collect();
        for want in ["lifecycle", slot.export()] {
            let found =
                exports.iter().any(|n| wit::split_name(n).is_some_and(|(p, i, _)| p == wit::PACKAGE && i == want));
            if !found {
                return Err(HostError::MissingExport { interface: want, slot });
            }
        }
        Ok(())
    }

    fn prepare(
        &self,
        key: &str,
        manifest: &Manifest,
        grants: &Capabilities,
        component: Component,
        api: Api,
        from_cache: bool,
    ) -> Result<Arc<Loaded>, HostError> {
        let linker = api
            .linker(&self.inner.engine, grants)
            .map_err(|e| HostError::Engine { what: "cannot set up the linker", source: engine_cause(e) })?;
        let link_err = |e: wasmtime::Error| HostError::Link { source: engine_cause(e) };
        let pre = linker.instantiate_pre(&component).map_err(link_err)?;
        let exports = api.exports(&pre, manifest.slot).map_err(link_err)?;
        Ok(Arc::new(Loaded {
            key: key.to_owned(),
            manifest: manifest.clone(),
            who: Arc::new(Identity {
                id: manifest.id.clone(),
                version: manifest.version.clone(),
                grants: grants.clone(),
            }),
            pre,
            exports,
            breaker: Breaker::new(self.inner.config.breaker),
            stats: Stats::default(),
            from_cache,
            question_types: std::sync::OnceLock::new(),
            activity_kinds: std::sync::OnceLock::new(),
            warm: Default::default(),
        }))
    }

    /// The loaded (compiled and linked) form of an installed version.
    fn load(&self, key: &str) -> Result<Arc<Loaded>, HostError> {
        if let Some(l) = lock(&self.inner.loaded).get(key) {
            return Ok(l.clone());
        }
        let rec =
            self.inner.installed.get(key.as_bytes())?.ok_or_else(|| HostError::NotInstalled { key: key.to_owned() })?;
        let path = self.inner.blobs.join(format!("{}.wasm", rec.sha256));
        let wasm =
            std::fs::read(&path).map_err(|source| HostError::Io { action: "read", path: path.clone(), source })?;
        let actual = sha256_hex(&wasm);
        if actual != rec.sha256 {
            return Err(HostError::Integrity { key: key.to_owned(), expected: rec.sha256, actual });
        }
        let (component, hit) = self.inner.cache.load(&self.inner.engine, &rec.sha256, &wasm)?;
        let api = self.contract(&component, rec.manifest.slot)?;
        let loaded = self.prepare(key, &rec.manifest, &rec.grants, component, api, hit)?;
        lock(&self.inner.loaded).insert(key.to_owned(), loaded.clone());
        Ok(loaded)
    }

    fn new_store(
        &self,
        loaded: &Loaded,
        scope: &str,
        request_id: &str,
        vector_scope: &[slots::VectorScope],
    ) -> wasmtime::Store<PluginState> {
        let stdout = MemoryOutputPipe::new(64 * 1024);
        let stderr = MemoryOutputPipe::new(64 * 1024);
        let m = &loaded.manifest;
        let memory = (m.resources.memory_mib as usize * 1024 * 1024).min(self.inner.config.max_memory_bytes);
        let state = PluginState {
            wasi: Self::wasi_ctx(m, &stdout, &stderr),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory)
                .trap_on_grow_failure(true)
                .instances(64)
                .tables(64)
                .memories(8)
                .build(),
            who: loaded.who.clone(),
            scope: scope.to_owned(),
            request_id: request_id.to_owned(),
            services: self.inner.services.clone(),
            vector_scope: vector_scope.to_vec(),
            stdout,
            stderr,
            flushed: [0, 0],
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            outbound: crate::services::http::Outbound {
                who: loaded.who.clone(),
                budget: Duration::from_millis(m.resources.call_timeout_ms),
            },
            activity: None,
        };
        let mut store = wasmtime::Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(self.deadline_ticks(m));
        store.epoch_deadline_trap();
        // Fuel is enabled engine-wide, so this cannot fail.
        let _ = store.set_fuel(self.fuel_budget(m));
        store
    }

    /// What WASI gives one call: output into the call's pipes; for grading,
    /// clocks that stand still and seeded randomness.
    fn wasi_ctx(m: &Manifest, stdout: &MemoryOutputPipe, stderr: &MemoryOutputPipe) -> wasmtime_wasi::WasiCtx {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone()).stderr(stderr.clone()).allow_ip_name_lookup(false);
        if m.slot.grades() {
            // A grade must not depend on when, or how often, it is computed:
            // WASI clocks stand still and randomness is seeded.
            use rand::SeedableRng;
            wasi.wall_clock(FrozenClock)
                .monotonic_clock(FrozenClock)
                .secure_random(rand::rngs::StdRng::seed_from_u64(0x6c65_6374_6572_6e00))
                .insecure_random(rand::rngs::StdRng::seed_from_u64(0x6c65_6374_6572_6e01))
                .insecure_random_seed(0);
        }
        wasi.build()
    }

    /// Readies a warm instance's store for another call as a fresh one would
    /// start: this call's request id and vector scope, a new WASI context
    /// (seeded again), no activity effects, the full deadline and fuel.
    fn rearm(
        &self,
        loaded: &Loaded,
        store: &mut wasmtime::Store<PluginState>,
        request_id: &str,
        vector_scope: &[slots::VectorScope],
    ) {
        let m = &loaded.manifest;
        let d = store.data_mut();
        d.request_id = request_id.to_owned();
        d.vector_scope = vector_scope.to_vec();
        d.activity = None;
        d.wasi = Self::wasi_ctx(m, &d.stdout, &d.stderr);
        store.set_epoch_deadline(self.deadline_ticks(m));
        let _ = store.set_fuel(self.fuel_budget(m));
    }

    /// Whether `loaded` is active anywhere (a call that started before a swap
    /// finishes on the old version; its instance is not kept for a version
    /// that no longer serves).
    fn still_serving(&self, loaded: &Loaded) -> bool {
        self.inner.active.read().unwrap_or_else(|e| e.into_inner()).values().any(|l| std::ptr::eq(&**l, loaded))
    }

    /// How many calls an instance of `loaded` may serve for `scope`: 1
    /// unless the manifest opts in and the host keeps warm instances;
    /// lifecycle calls (`*`) always get a fresh one.
    fn reuse_calls(&self, loaded: &Loaded, scope: &str) -> u32 {
        if scope == "*" || self.inner.config.warm_instances == 0 {
            return 1;
        }
        loaded.manifest.resources.reuse_calls.max(1)
    }

    /// A call's wall-clock budget in epoch ticks.
    fn deadline_ticks(&self, m: &Manifest) -> u64 {
        let tick = self.inner.config.epoch_tick.as_millis().max(1) as u64;
        m.resources.call_timeout_ms.div_ceil(tick).max(1)
    }

    /// A call's fuel: the manifest's, else the grading default, else effectively unlimited
    /// (the deadline bounds non-grading calls).
    fn fuel_budget(&self, m: &Manifest) -> u64 {
        match (m.slot, m.resources.fuel) {
            (_, Some(f)) => f,
            (slot, None) if slot.grades() => self.inner.config.grading_fuel,
            _ => u64::MAX / 4,
        }
    }

    /// Logs what the call wrote to stdout and stderr (past what earlier calls
    /// of a warm instance wrote); returns the bytes written so far in all.
    fn flush_output(loaded: &Loaded, store: &mut wasmtime::Store<PluginState>) -> usize {
        let d = store.data_mut();
        let mut total = 0;
        for (i, (stream, pipe)) in [("stdout", &d.stdout), ("stderr", &d.stderr)].into_iter().enumerate() {
            let bytes = pipe.contents();
            total += bytes.len();
            if let Some(new) = bytes.get(d.flushed[i]..).filter(|b| !b.is_empty()) {
                let text = String::from_utf8_lossy(new);
                tracing::info!(target: "plugin", plugin = %loaded.key, stream, "{}", text.trim_end());
            }
            d.flushed[i] = bytes.len();
        }
        total
    }

    /// Runs one call in a fresh store (or, for a plugin that opts in, a warm
    /// instance of the same institution: see `warm.rs`): limits, deadline,
    /// fuel; faults are contained to this call and counted by the breaker.
    fn run<R>(
        &self,
        loaded: &Loaded,
        scope: &str,
        request_id: &str,
        vector_scope: &[slots::VectorScope],
        f: impl FnOnce(&mut wasmtime::Store<PluginState>, &Instance) -> Call<R>,
    ) -> Result<R, PluginError> {
        if let Err(reason) = loaded.breaker.admit() {
            return Err(PluginError::CircuitOpen { plugin: loaded.key.clone(), reason });
        }
        let started = Instant::now();
        let reuse = self.reuse_calls(loaded, scope);
        let (mut store, instance, calls) = match (reuse > 1).then(|| loaded.warm.take(scope)).flatten() {
            Some(mut w) => {
                self.rearm(loaded, &mut w.store, request_id, vector_scope);
                (w.store, Ok(w.instance), w.calls)
            }
            None => {
                let mut store = self.new_store(loaded, scope, request_id, vector_scope);
                let mut instance = loaded.pre.instantiate(&mut store);
                if instance.as_ref().is_err_and(|e| matches!(classify_ref(e), Some(PluginError::Busy(_))))
                    && loaded.warm.clear() > 0
                {
                    // The pool is full and this version's idle instances held slots of it: again, on a new store.
                    store = self.new_store(loaded, scope, request_id, vector_scope);
                    instance = loaded.pre.instantiate(&mut store);
                }
                (store, instance, 0)
            }
        };
        let (outcome, instance) = match instance {
            Ok(i) => (f(&mut store, &i), Some(i)),
            Err(e) => (Err(e), None),
        };
        let fuel_used = store.get_fuel().ok().map(|left| self.fuel_budget(&loaded.manifest).saturating_sub(left));
        let written = Self::flush_output(loaded, &mut store);
        match instance {
            // Only an instance whose call ended cleanly (a result or the plugin's own error) serves again.
            Some(i)
                if outcome.is_ok()
                    && calls + 1 < reuse
                    && written < crate::warm::MAX_OUTPUT
                    && self.still_serving(loaded) =>
            {
                loaded.warm.put(crate::warm::Warm::new(store, i, calls + 1), self.inner.config.warm_instances)
            }
            _ => drop(store),
        }
        let elapsed = started.elapsed();
        let result = match outcome {
            Ok(Ok(r)) => {
                loaded.breaker.success();
                Ok(r)
            }
            Ok(Err(guest)) => {
                // A deliberate error is the plugin working, not faulting.
                loaded.breaker.success();
                Err(PluginError::Guest(guest))
            }
            Err(e) => {
                let err = classify(e, &loaded.manifest);
                if matches!(err, PluginError::Busy(_)) {
                    return Err(err);
                }
                if loaded.breaker.fault(&err.to_string()) {
                    tracing::warn!(plugin = %loaded.key, reason = %err, "circuit breaker opened");
                }
                tracing::warn!(plugin = %loaded.key, error = %err, "plugin call faulted");
                Err(err)
            }
        };
        loaded.stats.record(elapsed, result.is_ok(), matches!(result, Err(ref e) if e.is_fault()), fuel_used);
        result
    }

    fn lifecycle_call<R>(
        &self,
        loaded: &Loaded,
        f: impl FnOnce(&dyn PluginExports, &mut wasmtime::Store<PluginState>, &Instance) -> Call<R>,
    ) -> Result<R, PluginError> {
        self.run(loaded, "*", "lifecycle", &[], |store, instance| f(&*loaded.exports, store, instance))
    }

    /// Checks `info` and runs `init` in a new version (used at activation and at start).
    fn start_version(&self, loaded: &Loaded) -> Result<(), HostError> {
        let failed = |step| move |source| HostError::ActivationFailed { key: loaded.key.clone(), step, source };
        let info: slots::PluginInfo =
            self.lifecycle_call(loaded, |g, s, i| g.info(s, i).map(Ok)).map_err(failed(ActivationStep::Info))?;
        if info.id != loaded.manifest.id || info.version != loaded.manifest.version {
            return Err(HostError::IdentityMismatch {
                key: loaded.key.clone(),
                claimed: format!("{}@{}", info.id, info.version),
            });
        }
        if loaded.manifest.slot == Slot::QuestionType && loaded.question_types.get().is_none() {
            let types =
                self.lifecycle_call(loaded, |g, s, i| g.question_types(s, i)).map_err(failed(ActivationStep::Types))?;
            let specs = crate::questions::compile(types)
                .map_err(|m| failed(ActivationStep::Types)(PluginError::Contract(m)))?;
            // Another start of the same version may have set it meanwhile: the same types.
            let _ = loaded.question_types.set(specs);
        }
        if loaded.manifest.slot == Slot::Activity && loaded.activity_kinds.get().is_none() {
            let kinds =
                self.lifecycle_call(loaded, |g, s, i| g.activity_kinds(s, i)).map_err(failed(ActivationStep::Kinds))?;
            let specs = crate::activities::compile(kinds)
                .map_err(|m| failed(ActivationStep::Kinds)(PluginError::Contract(m)))?;
            let _ = loaded.activity_kinds.set(specs);
        }
        self.lifecycle_call(loaded, |g, s, i| g.init(s, i)).map_err(failed(ActivationStep::Init))
    }

    /// Makes `key` the active plugin of `slot` in `scope` (for an extension
    /// world: the active version of that plugin, beside the others). Calls
    /// already running finish on the previous version; calls that start
    /// after this returns use the new one. Nothing changes if info, migrate
    /// or init fail.
    pub fn activate(&self, slot: Slot, scope: Scope, key: &str) -> Result<Activation, HostError> {
        let _admin = lock(&self.inner.admin);
        self.activate_locked(slot, scope, key)
    }

    fn activate_locked(&self, slot: Slot, scope: Scope, key: &str) -> Result<Activation, HostError> {
        let started = Instant::now();
        let loaded = self.load(key)?;
        if loaded.manifest.slot != slot {
            return Err(HostError::WrongSlot { key: key.to_owned(), fills: loaded.manifest.slot, wanted: slot });
        }
        let seat = Seat::of(slot, &loaded.manifest.id);
        let mut warnings = vec![];
        let id = loaded.manifest.id.clone();
        let current = self.inner.data_versions.get(id.as_bytes())?.unwrap_or(0);
        let wanted = loaded.manifest.data_version;
        let mut migrated_from = None;
        if current > 0 && wanted > current {
            self.lifecycle_call(&loaded, |g, s, i| g.migrate(s, i, current)).map_err(|source| {
                HostError::ActivationFailed {
                    key: key.to_owned(),
                    step: ActivationStep::Migrate { from_data_version: current },
                    source,
                }
            })?;
            migrated_from = Some(current);
        } else if current > wanted {
            warnings.push(format!("{key} expects data version {wanted} but the stored data is at version {current}"));
        }
        self.start_version(&loaded)?;
        if wanted > current {
            self.inner.data_versions.insert(id.as_bytes(), &wanted)?;
        }
        let sk = slot_key(&seat, &scope);
        let old = self.inner.slots.get(sk.as_bytes())?;
        // What served this scope until now: its own choice, else (for an institution) the platform default.
        let served_before = match (&old, &scope) {
            (Some(o), _) => Some(o.active.clone()),
            (None, Scope::Institution(_)) => {
                self.inner.slots.get(slot_key(&seat, &Scope::Platform).as_bytes())?.map(|p| p.active)
            }
            (None, Scope::Platform) => None,
        };
        let previous = old.as_ref().map(|o| o.active.clone()).filter(|a| a != key);
        let record = SlotRecord { active: key.to_owned(), previous: previous.or_else(|| old.and_then(|o| o.previous)) };
        self.inner.slots.insert(sk.as_bytes(), &record)?;
        self.inner.services.store.durable_blocking()?;
        let replaced = self
            .inner
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((seat.clone(), scope.clone()), loaded.clone());
        if let Some(old) = replaced.filter(|old| old.key != loaded.key) {
            // Its warm instances are of a version that no longer serves here.
            old.warm.clear();
        }
        self.forget_starting(&seat, &scope);
        tracing::info!(seat = %seat.key(), scope = %scope.key(), active = %key, previous = ?served_before, "plugin activated");
        Ok(Activation {
            active: key.to_owned(),
            previous: served_before,
            migrated_from,
            compiled_from_cache: loaded.from_cache,
            took: started.elapsed(),
            warnings,
        })
    }

    /// Reactivates the previous version of a slot (or of an extension plugin).
    pub fn rollback(&self, seat: impl Into<Seat>, scope: Scope) -> Result<Activation, HostError> {
        let seat = seat.into();
        let _admin = lock(&self.inner.admin);
        let slot = seat.slot;
        let Some(rec) = self.inner.slots.get(slot_key(&seat, &scope).as_bytes())? else {
            return Err(HostError::NoActivePlugin { slot, scope });
        };
        let Some(prev) = rec.previous else { return Err(HostError::NoPreviousVersion { slot, scope }) };
        self.activate_locked(slot, scope, &prev)
    }

    /// Stops an extension plugin (an observer) in `scope`: no version of it
    /// serves there any more, and none is kept to roll back to. Calls in
    /// flight finish. Returns the version that was active, if any. A slot
    /// is not stopped this way: activate another version, or go back to the
    /// platform default.
    pub fn deactivate(&self, seat: &Seat, scope: Scope) -> Result<Option<String>, HostError> {
        if seat.plugin.is_none() {
            return Err(HostError::SlotCannotBeEmptied { slot: seat.slot });
        }
        let _admin = lock(&self.inner.admin);
        let sk = slot_key(seat, &scope);
        let Some(rec) = self.inner.slots.get(sk.as_bytes())? else { return Ok(None) };
        self.inner.slots.remove(sk.as_bytes())?;
        self.inner.services.store.durable_blocking()?;
        if let Some(old) =
            self.inner.active.write().unwrap_or_else(|e| e.into_inner()).remove(&(seat.clone(), scope.clone()))
        {
            old.warm.clear();
        }
        self.forget_starting(seat, &scope);
        tracing::info!(seat = %seat.key(), scope = %scope.key(), stopped = %rec.active, "plugin deactivated");
        Ok(Some(rec.active))
    }

    /// Drops an institution's own choice for `slot`, so the platform default
    /// serves it again. Calls in flight finish on the version they started on.
    /// Idempotent: an institution without its own choice keeps the default.
    pub fn use_platform_default(&self, seat: impl Into<Seat>, institution: &str) -> Result<DefaultRestored, HostError> {
        let seat = seat.into();
        let _admin = lock(&self.inner.admin);
        let scope = Scope::Institution(institution.to_owned());
        let sk = slot_key(&seat, &scope);
        let platform = self.inner.slots.get(slot_key(&seat, &Scope::Platform).as_bytes())?.map(|p| p.active);
        let own = self.inner.slots.get(sk.as_bytes())?;
        if own.is_some() {
            self.inner.slots.remove(sk.as_bytes())?;
            self.inner.services.store.durable_blocking()?;
            if let Some(old) =
                self.inner.active.write().unwrap_or_else(|e| e.into_inner()).remove(&(seat.clone(), scope.clone()))
            {
                old.warm.clear();
            }
            self.forget_starting(&seat, &scope);
        }
        let previous = own.map(|o| o.active).or_else(|| platform.clone());
        tracing::info!(seat = %seat.key(), scope = %scope.key(), active = ?platform, previous = ?previous, "institution back on the platform default");
        Ok(DefaultRestored { active: platform, previous })
    }

    /// Stops a version everywhere (a revoked plugin): every slot it is active
    /// in is left without a plugin, and it stops being anyone's rollback
    /// target. Calls in flight finish; new calls no longer reach it. Returns
    /// the slots it was active in, with the version that was active before it
    /// there (the caller decides whether to fall back to that one).
    #[allow(clippy::type_complexity)]
    pub fn deactivate_everywhere(&self, key: &str) -> Result<Vec<(Slot, Scope, Option<String>)>, HostError> {
        let _admin = lock(&self.inner.admin);
        let mut stopped = vec![];
        let slots: Vec<(Vec<u8>, SlotRecord)> = self.inner.slots.scan_prefix(b"").collect::<Result<_, _>>()?;
        for (k, mut rec) in slots {
            if rec.active == key {
                self.inner.slots.remove(&k)?;
                if let Some((seat, scope)) = parse_slot_key(&k) {
                    if let Some(old) = self
                        .inner
                        .active
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&(seat.clone(), scope.clone()))
                    {
                        old.warm.clear();
                    }
                    self.forget_starting(&seat, &scope);
                    stopped.push((seat.slot, scope, rec.previous.clone().filter(|p| p != key)));
                }
            } else if rec.previous.as_deref() == Some(key) {
                rec.previous = None;
                self.inner.slots.insert(&k, &rec)?;
            }
        }
        self.inner.services.store.durable_blocking()?;
        tracing::warn!(plugin = %key, slots = stopped.len(), "plugin deactivated everywhere");
        Ok(stopped)
    }

    /// Removes an installed version that is not active anywhere.
    pub fn uninstall(&self, key: &str) -> Result<(), HostError> {
        let _admin = lock(&self.inner.admin);
        let rec =
            self.inner.installed.get(key.as_bytes())?.ok_or_else(|| HostError::NotInstalled { key: key.to_owned() })?;
        let slots: Vec<_> = self.inner.slots.scan_prefix(b"").collect::<Result<_, _>>()?;
        if let Some((seat, scope)) = slots.iter().filter(|(_, r)| r.active == key).find_map(|(k, _)| parse_slot_key(k))
        {
            return Err(HostError::StillActive { key: key.to_owned(), slot: seat.slot, scope });
        }
        for (k, mut r) in slots {
            if r.previous.as_deref() == Some(key) {
                r.previous = None;
                self.inner.slots.insert(&k, &r)?;
            }
        }
        self.inner.installed.remove(key.as_bytes())?;
        self.inner.assets.remove(key.as_bytes())?;
        lock(&self.inner.loaded).remove(key);
        let shared = self.inner.installed.scan_prefix(b"").filter_map(Result::ok).any(|(_, r)| r.sha256 == rec.sha256);
        if !shared {
            let _ = std::fs::remove_file(self.inner.blobs.join(format!("{}.wasm", rec.sha256)));
        }
        self.inner.services.store.durable_blocking()?;
        Ok(())
    }

    /// Every installed version with its status.
    pub fn list(&self) -> Result<Vec<PluginStatus>, HostError> {
        let slots: Vec<(Vec<u8>, SlotRecord)> = self.inner.slots.scan_prefix(b"").collect::<Result<_, _>>()?;
        let mut out = vec![];
        for row in self.inner.installed.scan_prefix(b"") {
            let (k, installed) = row?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let scopes = |f: &dyn Fn(&SlotRecord) -> bool| {
                slots
                    .iter()
                    .filter(|(_, r)| f(r))
                    .filter_map(|(k, _)| parse_slot_key(k).map(|(_, s)| s))
                    .collect::<Vec<_>>()
            };
            let loaded = lock(&self.inner.loaded).get(&key).cloned();
            let starting_in = self
                .inner
                .starting
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|(_, k)| **k == key)
                .map(|((_, scope), _)| scope.clone())
                .collect();
            out.push(PluginStatus {
                active_in: scopes(&|r| r.active == key),
                standby_in: scopes(&|r| r.previous.as_deref() == Some(key.as_str())),
                starting_in,
                breaker: loaded.as_ref().map(|l| l.breaker.state()).unwrap_or(BreakerState::Closed),
                breaker_trips: loaded.as_ref().map(|l| l.breaker.trips()).unwrap_or(0),
                stats: loaded.as_ref().map(|l| l.stats.snapshot()).unwrap_or_default(),
                installed,
            });
        }
        Ok(out)
    }

    /// The version serving `slot` for `institution` (its own choice, else the platform's).
    pub fn active_for(&self, slot: Slot, institution: &str) -> Option<String> {
        self.resolve(slot, institution).map(|l| l.key.clone())
    }

    /// `id@version` of the plugin serving `slot` for `institution`, if any.
    pub fn active_key(&self, slot: Slot, institution: &str) -> Option<String> {
        self.resolve(slot, institution).map(|l| l.key.clone())
    }

    fn resolve(&self, slot: Slot, institution: &str) -> Option<Arc<Loaded>> {
        self.resolve_seat(Seat::from(slot), institution)
    }

    /// The version serving `seat` for `institution`: its own choice, else the
    /// platform's, unless its own choice is still starting (then none).
    fn resolve_seat(&self, seat: Seat, institution: &str) -> Option<Arc<Loaded>> {
        let own = (seat, Scope::Institution(institution.to_owned()));
        // One lock at a time: the background restore takes `starting`, then `active`.
        if let Some(l) = self.inner.active.read().unwrap_or_else(|e| e.into_inner()).get(&own) {
            return Some(l.clone());
        }
        if self.inner.starting.read().unwrap_or_else(|e| e.into_inner()).contains_key(&own) {
            return None;
        }
        self.inner.active.read().unwrap_or_else(|e| e.into_inner()).get(&(own.0, Scope::Platform)).cloned()
    }

    /// Why nothing serves `seat` for `institution`: starting, or `otherwise`.
    fn not_serving(&self, seat: &Seat, institution: &str, otherwise: PluginError) -> PluginError {
        match self.starting_for(seat, institution) {
            Some(plugin) => PluginError::Starting { plugin },
            None => otherwise,
        }
    }

    /// The ids of the plugins of extension `world` active somewhere, sorted.
    fn extension_plugins(&self, world: Slot) -> Vec<String> {
        let active = self.inner.active.read().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<String> =
            active.keys().filter(|(seat, _)| seat.slot == world).filter_map(|(seat, _)| seat.plugin.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// `id@version` of the version of extension plugin `plugin` (of `world`)
    /// serving `institution` now, if one does.
    pub fn active_extension(&self, world: Slot, plugin: &str, institution: &str) -> Option<String> {
        self.resolve_extension(world, plugin, institution).map(|l| l.key.clone())
    }

    /// The version of extension plugin `plugin` (of `world`) serving `institution`.
    fn resolve_extension(&self, world: Slot, plugin: &str, institution: &str) -> Option<Arc<Loaded>> {
        self.resolve_seat(Seat::of(world, plugin), institution)
    }

    fn slot_call<R>(
        &self,
        slot: Slot,
        ctx: &CallContext,
        f: impl FnOnce(&dyn PluginExports, &mut wasmtime::Store<PluginState>, &Instance) -> Call<R>,
    ) -> Result<(R, String), PluginError> {
        let loaded = self
            .resolve(slot, &ctx.institution)
            .ok_or_else(|| self.not_serving(&Seat::from(slot), &ctx.institution, PluginError::NoActivePlugin(slot)))?;
        let r = self.run(&loaded, &ctx.institution, &ctx.request_id, &ctx.vector_scope, |store, inst| {
            f(&*loaded.exports, store, inst)
        })?;
        Ok((r, loaded.key.clone()))
    }

    fn too_large(&self, bytes: usize) -> Result<(), PluginError> {
        let max = self.inner.config.max_result_bytes;
        if bytes > max {
            return Err(PluginError::ResultTooLarge { bytes, max });
        }
        Ok(())
    }

    /// Grades a batch through the active grading plugin. Also returns which
    /// version served the call.
    pub fn grade(
        &self,
        ctx: &CallContext,
        submissions: &[slots::grading::Submission],
    ) -> Result<(Vec<slots::grading::Graded>, String), PluginError> {
        let (out, who) =
            self.slot_call(Slot::Grading, ctx, |ex, store, inst| ex.grade(store, inst, ctx, submissions))?;
        let size: usize = out.iter().map(|g| text_bytes(&g.explanation, &g.feedback)).sum();
        self.too_large(size)?;
        if out.len() != submissions.len() {
            return Err(PluginError::Contract(format!(
                "returned {} results for {} submissions",
                out.len(),
                submissions.len()
            )));
        }
        Ok((out, who))
    }

    pub fn proctor_open(
        &self,
        ctx: &CallContext,
        attempt: &str,
        policy: &slots::proctoring::Policy,
        started_at_ms: u64,
    ) -> Result<(), PluginError> {
        self.slot_call(Slot::Proctoring, ctx, |ex, store, inst| {
            ex.proctor_open(store, inst, ctx, attempt, policy, started_at_ms)
        })
        .map(|(r, _)| r)
    }

    /// Scores one or more batches of an attempt, in `seq` order.
    pub fn proctor_ingest(
        &self,
        ctx: &CallContext,
        attempt: &str,
        batches: &[slots::proctoring::Batch],
    ) -> Result<slots::proctoring::Assessment, PluginError> {
        let (a, _) = self.slot_call(Slot::Proctoring, ctx, |ex, store, inst| {
            ex.proctor_ingest(store, inst, ctx, attempt, batches)
        })?;
        Ok(a)
    }

    /// The attempt ended at `ended_at_ms` (server time): the final scoring.
    pub fn proctor_close(
        &self,
        ctx: &CallContext,
        attempt: &str,
        ended_at_ms: u64,
    ) -> Result<slots::proctoring::Assessment, PluginError> {
        let (a, _) = self.slot_call(Slot::Proctoring, ctx, |ex, store, inst| {
            ex.proctor_close(store, inst, ctx, attempt, ended_at_ms)
        })?;
        Ok(a)
    }

    pub fn render_markdown(
        &self,
        ctx: &CallContext,
        source: &str,
    ) -> Result<slots::content::RenderedPage, PluginError> {
        let (p, _) =
            self.slot_call(Slot::Content, ctx, |ex, store, inst| ex.render_markdown(store, inst, ctx, source))?;
        self.too_large(p.html.len() + p.text.len())?;
        Ok(p)
    }

    pub fn item_visibility(
        &self,
        ctx: &CallContext,
        modules: &[slots::content::Module],
        progress: &[slots::content::Progress],
        now_ms: u64,
    ) -> Result<Vec<slots::content::Visibility>, PluginError> {
        let (v, _) = self.slot_call(Slot::Content, ctx, |ex, store, inst| {
            ex.item_visibility(store, inst, ctx, modules, progress, now_ms)
        })?;
        Ok(v)
    }

    pub fn tutor_index(&self, ctx: &CallContext, doc: &slots::tutoring::Document) -> Result<u32, PluginError> {
        self.slot_call(Slot::Tutoring, ctx, |ex, store, inst| ex.tutor_index(store, inst, ctx, doc)).map(|(r, _)| r)
    }

    pub fn tutor_remove(&self, ctx: &CallContext, id: &str) -> Result<(), PluginError> {
        self.slot_call(Slot::Tutoring, ctx, |ex, store, inst| ex.tutor_remove(store, inst, ctx, id)).map(|(r, _)| r)
    }

    /// Attaches the vector index and embedder behind the `vector` and `embed`
    /// services. Once: a second call is refused. Until then those services
    /// answer `unavailable`.
    pub fn attach_retrieval(&self, r: crate::Retrieval) -> Result<(), HostError> {
        self.inner.services.retrieval.set(r).map_err(|_| HostError::RetrievalAttached)
    }

    /// The attached vector index and embedder, if any.
    pub fn retrieval(&self) -> Option<&crate::Retrieval> {
        self.inner.services.retrieval.get()
    }

    pub fn tutor_ask(
        &self,
        ctx: &CallContext,
        q: &slots::tutoring::Question,
    ) -> Result<slots::tutoring::Answer, PluginError> {
        let (a, _) = self.slot_call(Slot::Tutoring, ctx, |ex, store, inst| ex.tutor_ask(store, inst, ctx, q))?;
        self.too_large(a.text.len() + a.citations.iter().map(|c| c.excerpt.len()).sum::<usize>())?;
        Ok(a)
    }

    /// The question types offered to `institution`: those of every
    /// question-type plugin with a version active for it (its own choice of
    /// version, else the platform's), by plugin id and type id.
    pub fn question_types(&self, institution: &str) -> Vec<OfferedQuestionType> {
        let mut out = vec![];
        for plugin in self.extension_plugins(Slot::QuestionType) {
            let Some(loaded) = self.resolve_extension(Slot::QuestionType, &plugin, institution) else { continue };
            for t in loaded.question_types.get().into_iter().flatten() {
                out.push(OfferedQuestionType {
                    plugin: plugin.clone(),
                    version: loaded.key.clone(),
                    info: t.info.clone(),
                });
            }
        }
        out
    }

    fn question_type_spec<R>(
        &self,
        institution: &str,
        plugin: &str,
        type_id: &str,
        f: impl FnOnce(&crate::questions::TypeSpec) -> R,
    ) -> Result<R, crate::QuestionCheck> {
        let not_offered =
            || crate::QuestionCheck::NotOffered { plugin: plugin.to_owned(), type_id: type_id.to_owned() };
        let loaded = self.resolve_extension(Slot::QuestionType, plugin, institution).ok_or_else(not_offered)?;
        let spec =
            loaded.question_types.get().into_iter().flatten().find(|t| t.info.id == type_id).ok_or_else(not_offered)?;
        Ok(f(spec))
    }

    /// Checks an author's settings for a question of `plugin`'s `type_id`
    /// against the type's settings schema, as offered to `institution`.
    pub fn check_question_settings(
        &self,
        institution: &str,
        plugin: &str,
        type_id: &str,
        settings: &serde_json::Value,
    ) -> Result<(), crate::QuestionCheck> {
        self.question_type_spec(institution, plugin, type_id, |t| t.check_settings(settings))?
    }

    /// Checks a student's response against the type's response schema.
    pub fn check_question_response(
        &self,
        institution: &str,
        plugin: &str,
        type_id: &str,
        response: &serde_json::Value,
    ) -> Result<(), crate::QuestionCheck> {
        self.question_type_spec(institution, plugin, type_id, |t| t.check_response(response))?
    }

    /// Runs one call on the version of extension plugin `plugin` (of `world`)
    /// serving the call's institution; also returns that version.
    fn extension_call<R>(
        &self,
        world: Slot,
        plugin: &str,
        ctx: &CallContext,
        f: impl FnOnce(&dyn PluginExports, &mut wasmtime::Store<PluginState>, &Instance) -> Call<R>,
    ) -> Result<(R, String), PluginError> {
        let loaded = self.resolve_extension(world, plugin, &ctx.institution).ok_or_else(|| {
            self.not_serving(
                &Seat::of(world, plugin),
                &ctx.institution,
                PluginError::NotActive { world, plugin: plugin.to_owned() },
            )
        })?;
        let r =
            self.run(&loaded, &ctx.institution, &ctx.request_id, &[], |store, inst| f(&*loaded.exports, store, inst))?;
        Ok((r, loaded.key.clone()))
    }

    /// One attempt's version of a question (`seed` from the attempt and the
    /// question). Also returns which version made it.
    pub fn question_instantiate(
        &self,
        plugin: &str,
        ctx: &CallContext,
        question: &slots::question::Question,
        seed: u64,
    ) -> Result<(slots::question::Instance, String), PluginError> {
        let (inst, who) = self.extension_call(Slot::QuestionType, plugin, ctx, |ex, store, i| {
            ex.question_instantiate(store, i, ctx, question, seed)
        })?;
        self.too_large(inst.data.len() + inst.view.html.len())?;
        Ok((inst, who))
    }

    /// The plugin's own check of a response (after its schema passed).
    pub fn question_validate(
        &self,
        plugin: &str,
        ctx: &CallContext,
        question: &slots::question::Question,
        instance: &str,
        response: &str,
    ) -> Result<(), PluginError> {
        self.extension_call(Slot::QuestionType, plugin, ctx, |ex, store, i| {
            ex.question_validate(store, i, ctx, question, instance, response)
        })
        .map(|(r, _)| r)
    }

    /// Grades questions of `plugin`'s types, one result per item in order.
    /// Also returns which version graded them.
    pub fn question_grade(
        &self,
        plugin: &str,
        ctx: &CallContext,
        items: &[slots::question::ToGrade],
    ) -> Result<(Vec<slots::question::Graded>, String), PluginError> {
        let (out, who) = self
            .extension_call(Slot::QuestionType, plugin, ctx, |ex, store, i| ex.question_grade(store, i, ctx, items))?;
        let size: usize = out.iter().map(|g| text_bytes(&g.explanation, &g.feedback)).sum();
        self.too_large(size)?;
        if out.len() != items.len() {
            return Err(PluginError::Contract(format!("returned {} results for {} questions", out.len(), items.len())));
        }
        for (g, item) in out.iter().zip(items) {
            if g.question_id != item.question.id {
                return Err(PluginError::Contract(format!(
                    "returned a result for `{}` where `{}` was asked",
                    g.question_id, item.question.id
                )));
            }
            if !(g.fraction.is_finite() && (0.0..=1.0).contains(&g.fraction)) {
                return Err(PluginError::Contract(format!(
                    "gave `{}` the fraction {}, outside [0, 1]",
                    g.question_id, g.fraction
                )));
            }
        }
        Ok((out, who))
    }

    /// The activity kinds offered to `institution`: those of every activity
    /// plugin with a version active for it.
    pub fn activity_kinds(&self, institution: &str) -> Vec<OfferedActivityKind> {
        let mut out = vec![];
        for plugin in self.extension_plugins(Slot::Activity) {
            let Some(loaded) = self.resolve_extension(Slot::Activity, &plugin, institution) else { continue };
            for k in loaded.activity_kinds.get().into_iter().flatten() {
                out.push(OfferedActivityKind {
                    plugin: plugin.clone(),
                    version: loaded.key.clone(),
                    info: k.info.clone(),
                });
            }
        }
        out
    }

    /// Checks an instructor's settings for an item of `plugin`'s `kind` against the kind's schema.
    pub fn check_activity_settings(
        &self,
        institution: &str,
        plugin: &str,
        kind: &str,
        settings: &serde_json::Value,
    ) -> Result<(), crate::QuestionCheck> {
        let not_offered = || crate::QuestionCheck::NotOffered { plugin: plugin.to_owned(), type_id: kind.to_owned() };
        let loaded = self.resolve_extension(Slot::Activity, plugin, institution).ok_or_else(not_offered)?;
        let spec =
            loaded.activity_kinds.get().into_iter().flatten().find(|k| k.info.id == kind).ok_or_else(not_offered)?;
        spec.check_settings(settings)
    }

    /// What the learner (`ctx.user`) sees of an activity item, as the plugin
    /// returned it (the caller sanitises it: `crate::view::sanitize`).
    pub fn activity_render(
        &self,
        plugin: &str,
        ctx: &CallContext,
        item: &slots::activity::Item,
        state: Option<&slots::activity::LearnerState>,
    ) -> Result<slots::View, PluginError> {
        let (v, _) = self.extension_call(Slot::Activity, plugin, ctx, |ex, store, i| {
            ex.activity_render(store, i, ctx, item, state)
        })?;
        self.too_large(v.html.len())?;
        Ok(v)
    }

    /// An instructor's settings form for a kind; `None`: build it from the schema.
    pub fn activity_render_settings(
        &self,
        plugin: &str,
        ctx: &CallContext,
        kind: &str,
        settings: Option<&str>,
    ) -> Result<Option<slots::View>, PluginError> {
        let (v, _) = self.extension_call(Slot::Activity, plugin, ctx, |ex, store, i| {
            ex.activity_render_settings(store, i, ctx, kind, settings)
        })?;
        self.too_large(v.as_ref().map_or(0, |v| v.html.len()))?;
        Ok(v)
    }

    /// A learner's (`learner`: only they may be scored) or staff's (`None`)
    /// action on an item: the plugin's outcome and the gradebook effects it
    /// asked for, which the caller applies if it keeps the new state.
    pub fn activity_act(
        &self,
        plugin: &str,
        ctx: &CallContext,
        item: &slots::activity::Item,
        state: Option<&slots::activity::LearnerState>,
        action: &slots::activity::Action,
        learner: Option<&str>,
    ) -> Result<slots::activity::Acted, PluginError> {
        if action.payload.len() > crate::activities::MAX_PAYLOAD_BYTES {
            return Err(PluginError::Contract(format!(
                "the action's payload is {} bytes; at most {}",
                action.payload.len(),
                crate::activities::MAX_PAYLOAD_BYTES
            )));
        }
        let (acted, _) = self.extension_call(Slot::Activity, plugin, ctx, |ex, store, i| {
            ex.activity_act(store, i, ctx, item, state, action, learner)
        })?;
        let o = &acted.outcome;
        if let Some(s) = &o.state
            && s.len() > crate::activities::MAX_STATE_BYTES
        {
            return Err(PluginError::Contract(format!(
                "returned a learner state of {} bytes; at most {}",
                s.len(),
                crate::activities::MAX_STATE_BYTES
            )));
        }
        self.too_large(o.view.as_ref().map_or(0, |v| v.html.len()) + o.message.as_ref().map_or(0, String::len))?;
        Ok(acted)
    }

    /// Reads a plugin's kv entry for a scope (`*` for lifecycle data): an
    /// administrator's inspection tool, and how tests observe plugin data.
    pub fn plugin_kv(&self, plugin_id: &str, scope: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let full = [plugin_id.as_bytes(), b"\0", scope.as_bytes(), b"\0", key.as_bytes()].concat();
        Ok(self.inner.services.kv.get(full)?)
    }

    /// Stores `plugin_id`'s settings for `scope` (a JSON object, at most
    /// 64 KiB; `None` removes them, so the institution falls back to the
    /// platform's). Durable on return; the next call sees them.
    pub fn set_settings(
        &self,
        plugin_id: &str,
        scope: &Scope,
        settings: Option<&serde_json::Value>,
    ) -> Result<(), HostError> {
        use crate::services::settings::{MAX_SETTINGS_BYTES, key};
        let k = key(plugin_id, &scope.key());
        match settings {
            Some(v) => {
                if !v.is_object() {
                    return Err(HostError::InvalidSettings("settings must be a JSON object".into()));
                }
                let text = v.to_string();
                if text.len() > MAX_SETTINGS_BYTES {
                    return Err(HostError::InvalidSettings(format!(
                        "settings are {} bytes; at most {MAX_SETTINGS_BYTES}",
                        text.len()
                    )));
                }
                self.inner.services.settings.insert(k, &text)?;
            }
            None => {
                self.inner.services.settings.remove(k)?;
            }
        }
        self.inner.services.store.durable_blocking()?;
        Ok(())
    }

    /// `plugin_id`'s own settings for `scope` (not the platform's fallback).
    pub fn settings(&self, plugin_id: &str, scope: &Scope) -> Result<Option<serde_json::Value>, HostError> {
        let k = crate::services::settings::key(plugin_id, &scope.key());
        Ok(self.inner.services.settings.get(k)?.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Events plugins have published, waiting for the kernel to relay them to the bus.
    pub fn event_outbox(&self) -> &lectern_bus::outbox::Outbox {
        &self.inner.services.outbox
    }

    /// Active plugin versions that subscribe to topics: (plugin id, version key, granted topics).
    pub fn event_subscribers(&self) -> Vec<(String, String, Vec<String>)> {
        let active = self.inner.active.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
        for loaded in active.values() {
            let topics = &loaded.who.grants.subscribe;
            if topics.is_empty() || out.iter().any(|(_, k, _)| *k == loaded.key) {
                continue;
            }
            out.push((loaded.manifest.id.clone(), loaded.key.clone(), topics.clone()));
        }
        out.sort();
        out
    }

    /// Delivers an event to plugin `plugin_id` through `lifecycle.on-event`, if a
    /// version of it is active for `institution` and its grant covers `topic`.
    /// Returns the version that handled it, `None` when no version should see it.
    pub fn deliver_event(
        &self,
        plugin_id: &str,
        event: &slots::EventContext,
        payload: &[u8],
    ) -> Result<Option<String>, PluginError> {
        let (institution, topic) = (event.institution.as_str(), event.topic.as_str());
        let loaded = {
            let active = self.inner.active.read().unwrap_or_else(|e| e.into_inner());
            let serving = |seat: Seat| {
                active
                    .get(&(seat.clone(), Scope::Institution(institution.to_owned())))
                    .or_else(|| active.get(&(seat, Scope::Platform)))
            };
            Slot::ALL
                .into_iter()
                .map(Seat::from)
                .chain(Slot::EXTENSIONS.into_iter().map(|s| Seat::of(s, plugin_id)))
                .filter_map(serving)
                .find(|l| l.manifest.id == plugin_id && l.who.grants.subscribe.iter().any(|t| t == topic))
                .cloned()
        };
        let Some(loaded) = loaded else { return Ok(None) };
        self.run(&loaded, institution, &event.message_id, &[], |store, instance| {
            loaded.exports.on_event(store, instance, event, payload)
        })?;
        Ok(Some(loaded.key.clone()))
    }
}

/// The text a grading result carries (explanation and feedback), for the result-size limit.
fn text_bytes(explanation: &[String], feedback: &[slots::grading::Feedback]) -> usize {
    explanation.iter().map(String::len).sum::<usize>() + feedback.iter().map(|f| f.message.len()).sum::<usize>()
}

/// The clocks grading plugins see: always the Unix epoch.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Instances kept alive for measurement (see [`Host::hold_instances`]).
pub struct LiveInstances {
    held: Vec<(wasmtime::Store<PluginState>, Instance)>,
}

impl LiveInstances {
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

impl std::fmt::Debug for LiveInstances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveInstances({})", self.held.len())
    }
}

/// Diagnostics for benchmarks and capacity planning; not used on request paths.
impl Host {
    /// Instantiates the plugin serving `slot` for `institution` up to `n`
    /// times and keeps every instance alive, to measure memory per live
    /// instance; stops early when the instance pool is exhausted (then fewer
    /// are held: how many instances of this plugin fit in the pool).
    pub fn hold_instances(&self, slot: Slot, institution: &str, n: usize) -> Result<LiveInstances, PluginError> {
        let loaded = self.resolve(slot, institution).ok_or(PluginError::NoActivePlugin(slot))?;
        let mut held = Vec::with_capacity(n);
        for _ in 0..n {
            let mut store = self.new_store(&loaded, institution, "diagnostics", &[]);
            match loaded.pre.instantiate(&mut store).map_err(|e| classify(e, &loaded.manifest)) {
                Ok(instance) => held.push((store, instance)),
                Err(PluginError::Busy(_)) if !held.is_empty() => break,
                Err(e) => return Err(e),
            }
        }
        Ok(LiveInstances { held })
    }

    /// Idle warm instances kept for `key` (`id@version`), all institutions together.
    pub fn warm_instances(&self, key: &str) -> usize {
        lock(&self.inner.loaded).get(key).map_or(0, |l| l.warm.len())
    }

    /// Calls `grade` `repeat` times on one instance (a warm instance) and
    /// returns each call's duration. Fuel and deadline are reset per call.
    pub fn grade_warm(
        &self,
        ctx: &CallContext,
        submissions: &[slots::grading::Submission],
        repeat: usize,
    ) -> Result<Vec<Duration>, PluginError> {
        let loaded = self.resolve(Slot::Grading, &ctx.institution).ok_or(PluginError::NoActivePlugin(Slot::Grading))?;
        if loaded.manifest.slot != Slot::Grading {
            return Err(PluginError::Contract("not a grading plugin".into()));
        }
        let mut store = self.new_store(&loaded, &ctx.institution, &ctx.request_id, &ctx.vector_scope);
        let instance = loaded.pre.instantiate(&mut store).map_err(|e| classify(e, &loaded.manifest))?;
        let (deadline, fuel) = (self.deadline_ticks(&loaded.manifest), self.fuel_budget(&loaded.manifest));
        let mut reset = |store: &mut wasmtime::Store<PluginState>| {
            store.set_epoch_deadline(deadline);
            let _ = store.set_fuel(fuel);
        };
        match loaded.exports.grade_timed(&mut store, &instance, ctx, submissions, repeat, &mut reset) {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(PluginError::Guest(e)),
            Err(e) => Err(classify(e, &loaded.manifest)),
        }
    }
}

/// [`classify`] for the cases that need no manifest, without taking the error.
fn classify_ref(e: &wasmtime::Error) -> Option<PluginError> {
    let text = format!("{e:#}");
    (text.contains("maximum concurrent") || text.contains("limit of") && text.contains("instances"))
        .then_some(PluginError::Busy(text))
}

fn classify(e: wasmtime::Error, m: &Manifest) -> PluginError {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => PluginError::Timeout { limit_ms: m.resources.call_timeout_ms },
            wasmtime::Trap::OutOfFuel => PluginError::OutOfFuel,
            wasmtime::Trap::StackOverflow => PluginError::Trap("stack overflow (recursion too deep)".into()),
            other => PluginError::Trap(other.to_string()),
        };
    }
    if let Some(busy) = classify_ref(&e) {
        return busy;
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory") || text.contains("memory") && text.contains("exceed") {
        return PluginError::MemoryLimit { limit_mib: m.resources.memory_mib };
    }
    PluginError::Trap(text)
}

#[cfg(test)]
mod record_tests {
    use super::*;

    /// An installed-plugin record written before `reuse_calls` (version 2)
    /// reads as today's with fresh instances per call.
    #[test]
    fn a_version_2_installed_record_upgrades() {
        #[derive(Serialize)]
        struct ResourcesV2 {
            memory_mib: u32,
            call_timeout_ms: u64,
            fuel: Option<u64>,
        }
        #[derive(Serialize)]
        struct ManifestV2 {
            id: String,
            version: String,
            slot: Slot,
            data_version: u32,
            capabilities: Capabilities,
            resources: ResourcesV2,
        }
        #[derive(Serialize)]
        struct InstalledV2 {
            manifest: ManifestV2,
            grants: Capabilities,
            sha256: String,
            size: u64,
            installed_at_ms: u64,
            imports: Vec<String>,
        }
        let caps = Capabilities {
            kv_quota_bytes: Some(1024),
            outbound_hosts: vec!["sis.example.edu".into()],
            ..Default::default()
        };
        let old = InstalledV2 {
            manifest: ManifestV2 {
                id: "org.example.grader".into(),
                version: "1.2.3".into(),
                slot: Slot::Grading,
                data_version: 4,
                capabilities: caps.clone(),
                resources: ResourcesV2 { memory_mib: 96, call_timeout_ms: 1500, fuel: Some(7) },
            },
            grants: caps.clone(),
            sha256: "ab".repeat(32),
            size: 12345,
            installed_at_ms: 1_796_115_600_000,
            imports: vec!["lectern:plugin/kv@0.2.0".into()],
        };
        let body = postcard::to_stdvec(&old).unwrap();
        let new = Installed::upgrade(2, &body).unwrap();
        assert_eq!(new.manifest.id, "org.example.grader");
        assert_eq!(new.manifest.data_version, 4);
        assert_eq!(
            new.manifest.resources,
            crate::manifest::Resources { memory_mib: 96, call_timeout_ms: 1500, fuel: Some(7), reuse_calls: 0 }
        );
        assert_eq!(new.manifest.capabilities, caps);
        assert_eq!(new.grants, caps);
        assert_eq!((new.size, new.installed_at_ms), (12345, 1_796_115_600_000));
        assert_eq!(new.imports, ["lectern:plugin/kv@0.2.0"]);
        // And today's records round-trip with the field.
        let mut today = new.clone();
        today.manifest.resources.reuse_calls = 50;
        let bytes = postcard::to_stdvec(&today).unwrap();
        assert_eq!(postcard::from_bytes::<Installed>(&bytes).unwrap(), today);
    }
}

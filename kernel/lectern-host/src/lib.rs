//! The WebAssembly plugin host: the only crate that imports wasmtime.
//!
//! Plugins are components built against a `lectern:plugin` contract (see
//! `wit/`; this host speaks 0.1.x and 0.2.x).
//! [`Host`] installs them (checking the component's real imports against its
//! manifest and the admin's grants), compiles them once into an on-disk cache,
//! activates them per slot and scope with an atomic hot swap, and runs every
//! call in a fresh `Store` with a memory cap, an epoch deadline, a fuel
//! budget, and no ambient authority: WASI is linked with no preopened
//! directories, an empty environment, no network and captured output.
//!
//! Invariants:
//! - Kernel code never sees WIT-generated types: the API is in terms of
//!   [`slots`]. Only `wit/` knows the bindings: one module per released
//!   contract version (`wit::v0_1`), each converting to the version-free
//!   [`slots`] types and delegating its imports to the kernel services,
//!   which are implemented once (`services/`). The version a component was
//!   built against picks the module that serves it (semver-compatible: the
//!   0.1.0 bindings serve 0.1.x); another track is refused at install.
//! - A plugin gets only the `lectern:plugin` services it was granted (they
//!   are not even linked otherwise), and each service re-checks scope: kv keys
//!   live under the plugin's and the institution's prefix, topics must be
//!   granted, sizes and quotas are enforced.
//! - A trap, panic, timeout or exhausted limit fails that call only; the
//!   store is dropped; repeated faults open a circuit breaker.
//! - Only artifacts this kernel compiled are deserialized, after checking
//!   their recorded digest.

pub mod activities;
pub mod assets;
mod breaker;
mod engine;
pub mod harness;
mod host;
pub mod manifest;
pub mod questions;
mod services;
pub mod slots;
mod state;
mod stats;
pub mod view;
mod warm;
mod wit;

use std::time::Duration;

pub use breaker::{BreakerConfig, BreakerState};
pub use host::{
    Activation, DefaultRestored, Host, Installed, LiveInstances, OfferedActivityKind, OfferedQuestionType,
    PluginStatus, Scope, Seat,
};
pub use manifest::{Capabilities, Manifest, ManifestError, Resources, Service, Slot};
pub use questions::QuestionCheck;
pub use services::retrieval::Retrieval;
pub use slots::{CallContext, EventContext, GuestError, VectorScope};
pub use state::{INSTITUTION_PROPERTY, PLUGIN_PROPERTY};
pub use stats::StatsSnapshot;

/// Engine-wide settings.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Instances that may be live at once (pool size).
    pub max_concurrent_instances: u32,
    /// Upper bound on any plugin's linear memory (manifests ask for less).
    pub max_memory_bytes: usize,
    pub max_wasm_stack_bytes: usize,
    /// Epoch tick: the granularity of call deadlines.
    pub epoch_tick: Duration,
    /// Use the pooling allocator (copy-on-write images, pre-reserved slots).
    pub pooling: bool,
    /// Fuel per grading call when the manifest sets none.
    pub grading_fuel: u64,
    /// Largest result a call may return (strings summed), in bytes.
    pub max_result_bytes: usize,
    pub breaker: BreakerConfig,
    /// Bytes of each linear memory slot the pooling allocator keeps resident
    /// between instances: on release, the pages a call touched are set back
    /// to their initial contents (found with Linux's `PAGEMAP_SCAN` where the
    /// kernel has it, 6.7 and later) instead of being unmapped, so the next
    /// instance in the slot takes no page faults and the process no TLB
    /// shootdowns. 0 (the default) unmaps as wasmtime does by default: with
    /// 256 KiB kept, a browser test of the flashcards activity failed in 2 of
    /// 5 runs (an action came back without its score) and passed 4 of 4 with
    /// 0, cause not found yet (BENCHMARKS.md, sixth pass), so this stays off
    /// until it is understood.
    pub memory_keep_resident_bytes: usize,
    /// Same, for tables.
    pub table_keep_resident_bytes: usize,
    /// Release this many slots' memory in one batch (fewer TLB shootdowns).
    pub decommit_batch_size: usize,
    /// Re-activate the plugins that were active when the host last ran. Off
    /// for offline tools (the admin CLI) so that opening the data directory
    /// runs no plugin code.
    pub restore: bool,
    /// Where compiled components are cached (default: `compiled` under the
    /// host's directory). Content-addressed (component hash and engine
    /// settings), so one cache may serve several hosts: `lectern plugin
    /// test` keeps one per user so a test run does not recompile an
    /// unchanged component.
    pub compile_cache_dir: Option<std::path::PathBuf>,
    /// Idle warm instances kept per plugin version, for plugins whose
    /// manifest opts in (`resources.reuse_calls`; the others always get a
    /// fresh instance). 0 turns reuse off for every plugin.
    pub warm_instances: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            max_concurrent_instances: 256,
            max_memory_bytes: 256 * 1024 * 1024,
            max_wasm_stack_bytes: 512 * 1024,
            epoch_tick: Duration::from_millis(10),
            pooling: true,
            grading_fuel: 500_000_000,
            max_result_bytes: 16 * 1024 * 1024,
            breaker: BreakerConfig::default(),
            memory_keep_resident_bytes: 0,
            table_keep_resident_bytes: 64 * 1024,
            decommit_batch_size: 1,
            restore: true,
            compile_cache_dir: None,
            warm_instances: 8,
        }
    }
}

/// An underlying failure carried as an error's source: the engine's
/// (wasmtime's) errors are boxed so that its types stay inside this crate.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `error: cause: cause…`, for messages that must say what went wrong below.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        out.push_str(": ");
        out.push_str(&c.to_string());
        next = c.source();
    }
    out
}

/// Boxes a wasmtime error as a [`Cause`], keeping its context chain.
pub(crate) fn engine_cause(e: wasmtime::Error) -> Cause {
    e.into_boxed_dyn_error()
}

/// Administrative failures (install, activate, roll back, …). Every refusal
/// is its own variant with the facts as fields, so callers decide on the
/// variant, never on the text; the `Display` text is for people.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    // ---- the manifest ----
    #[error("invalid manifest: {0}")]
    Manifest(#[from] ManifestError),

    // ---- the component, at install ----
    /// The bytes are not a WebAssembly component wasmtime can compile.
    #[error("not a valid component: {}", chain(&**.source))]
    InvalidComponent {
        #[source]
        source: Cause,
    },
    /// An import the component may not have.
    #[error("the component imports `{import}`: {reason}")]
    ImportRefused { import: String, reason: ImportRefusal },
    /// A `lectern:plugin` export the slot requires is missing.
    #[error("the component does not export lectern:plugin/{interface}, which the {} slot requires", .slot.name())]
    MissingExport { interface: &'static str, slot: Slot },
    /// A `lectern:plugin` name without a (semantic) version.
    #[error("the component names `{name}` without a version; build it against a released lectern:plugin")]
    UnversionedContract { name: String },
    /// The component was built against a contract version on no track this host speaks.
    #[error(
        "the component targets lectern:plugin@{found}, which this kernel does not speak; it serves {}",
        supported_tracks(.supported)
    )]
    UnsupportedContract { found: semver::Version, supported: Vec<semver::Version> },
    /// The component names `lectern:plugin` versions of incompatible releases.
    #[error(
        "the component mixes incompatible lectern:plugin versions ({}); build it against one release",
        list(.found)
    )]
    MixedContract { found: Vec<semver::Version> },
    /// The component does not link against what it was granted, or its exports have the wrong types.
    #[error("the component cannot be linked: {}", chain(&**.source))]
    Link {
        #[source]
        source: Cause,
    },

    // ---- the registry ----
    #[error("{key} is already installed with different contents; bump the version")]
    AlreadyInstalled { key: String },
    #[error("the package's assets are refused: {0}")]
    InvalidAssets(String),
    #[error("{key} is not installed")]
    NotInstalled { key: String },
    #[error("no plugin is active in the {} slot for {scope}", .slot.name())]
    NoActivePlugin { slot: Slot, scope: Scope },
    /// Rollback asked where the slot has no previous version (never had one,
    /// or it was revoked or uninstalled).
    #[error("there is no previous version to roll back to in the {} slot for {scope}", .slot.name())]
    NoPreviousVersion { slot: Slot, scope: Scope },
    #[error("{key} fills the {} slot, not {}", .fills.name(), .wanted.name())]
    WrongSlot { key: String, fills: Slot, wanted: Slot },
    #[error("{key} is active in the {} slot for {scope}; activate another version first", .slot.name())]
    StillActive { key: String, slot: Slot, scope: Scope },
    #[error("{0}")]
    InvalidSettings(String),
    /// Only extension plugins are stopped; a slot always has its version or the platform's.
    #[error("the {} slot is not stopped: activate another version, or go back to the platform default", .slot.name())]
    SlotCannotBeEmptied { slot: Slot },
    /// The world exists from a later contract version than the component's.
    #[error("{} plugins need lectern:plugin@{needs} or later; this component targets {found}", .slot.name())]
    WorldNeedsContract { slot: Slot, needs: semver::Version, found: semver::Version },
    #[error("the vector index and embedder are already attached")]
    RetrievalAttached,

    // ---- activation (nothing changed) ----
    /// A lifecycle call of the new version failed.
    #[error("activation failed; the previous version stays active: {step} failed: {source}")]
    ActivationFailed {
        key: String,
        step: ActivationStep,
        #[source]
        source: PluginError,
    },
    /// The component's `info` names another plugin or version than its manifest.
    #[error(
        "activation failed; the previous version stays active: the component says it is {claimed} but the manifest says {key}"
    )]
    IdentityMismatch { key: String, claimed: String },

    // ---- this kernel's own files and engine ----
    #[error("integrity check failed: the stored component of {key} has SHA-256 {actual}, not {expected}")]
    Integrity { key: String, expected: String, actual: String },
    #[error("engine error: {what}: {}", chain(&**.source))]
    Engine {
        what: &'static str,
        #[source]
        source: Cause,
    },
    #[error("I/O error: cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The outbox that carries plugins' events to the bus cannot be opened.
    #[error("the plugin event outbox cannot be opened: {0}")]
    Outbox(#[source] lectern_bus::BusError),
    #[error(transparent)]
    Storage(#[from] lectern_storage::StorageError),
}

/// Why an import is refused at install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportRefusal {
    #[error("not an interface of lectern:plugin or WASI 0.2")]
    Foreign,
    #[error("only WASI 0.2 is supported")]
    WasiVersion,
    #[error("not a kernel service")]
    NotAService,
    #[error("the {} slot does not offer it", .slot.name())]
    NotInSlot { slot: Slot },
    #[error("the manifest does not declare it")]
    Undeclared,
    #[error("the administrator has not granted it")]
    NotGranted,
}

/// The lifecycle call that failed during an activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationStep {
    Info,
    Migrate {
        from_data_version: u32,
    },
    Init,
    /// A question-type plugin's `types` (called, then checked and compiled).
    Types,
    /// An activity plugin's `kinds` (called, then checked and compiled).
    Kinds,
}

impl std::fmt::Display for ActivationStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActivationStep::Info => f.write_str("info"),
            ActivationStep::Migrate { from_data_version } => write!(f, "migrate from data version {from_data_version}"),
            ActivationStep::Init => f.write_str("init"),
            ActivationStep::Types => f.write_str("types"),
            ActivationStep::Kinds => f.write_str("kinds"),
        }
    }
}

fn list(versions: &[semver::Version]) -> String {
    versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// `lectern:plugin 0.1.x (bindings 0.1.0)`, for each supported version.
fn supported_tracks(versions: &[semver::Version]) -> String {
    let track = |v: &semver::Version| match (v.major, v.minor) {
        (0, 0) => v.to_string(),
        (0, m) => format!("0.{m}.x"),
        (major, _) => format!("{major}.x"),
    };
    versions.iter().map(|v| format!("lectern:plugin {} (bindings {v})", track(v))).collect::<Vec<_>>().join(", ")
}

/// Why a plugin call failed. Faults are contained to the call.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin is active in the {} slot", .0.name())]
    NoActivePlugin(Slot),
    /// An extension plugin (a question type's) has no active version for the institution.
    #[error("no version of the {} plugin {plugin} is active for this institution", .world.name())]
    NotActive { world: Slot, plugin: String },
    #[error("{plugin} is switched off by its circuit breaker after repeated faults (last: {reason})")]
    CircuitOpen { plugin: String, reason: String },
    #[error("the plugin returned an error: {0}")]
    Guest(GuestError),
    #[error("the plugin exceeded its {limit_ms} ms time limit")]
    Timeout { limit_ms: u64 },
    #[error("the plugin exhausted its instruction budget (fuel)")]
    OutOfFuel,
    #[error("the plugin exceeded its {limit_mib} MiB memory limit")]
    MemoryLimit { limit_mib: u32 },
    #[error("the plugin crashed: {0}")]
    Trap(String),
    #[error("the plugin returned {bytes} bytes, more than the {max} allowed")]
    ResultTooLarge { bytes: usize, max: usize },
    #[error("the plugin broke its contract: {0}")]
    Contract(String),
    #[error("too many plugin calls at once; retry: {0}")]
    Busy(String),
    /// The version serving here is still being compiled after a start whose
    /// compiled-artifact cache was missing it; it serves once compiled.
    #[error("{plugin} is starting (its component is being compiled); retry shortly")]
    Starting { plugin: String },
}

impl PluginError {
    /// Whether this counts against the plugin's circuit breaker.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            PluginError::Timeout { .. }
                | PluginError::OutOfFuel
                | PluginError::MemoryLimit { .. }
                | PluginError::Trap(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// Every contract folder, released or in development, is a valid WIT package
    /// (with its `deps/`) named after its folder, with the worlds it promises.
    #[test]
    fn every_wit_version_folder_parses() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let slots = ["grading-plugin", "proctoring-plugin", "content-plugin", "tutoring-plugin"];
        let mut seen = vec![];
        for entry in std::fs::read_dir(&wit).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(version) = name.strip_prefix("lectern-plugin@") else { continue };
            let mut resolve = wit_parser::Resolve::default();
            let (pkg, _) = resolve.push_dir(&path).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let package = &resolve.packages[pkg];
            assert_eq!(package.name.to_string(), format!("lectern:plugin@{version}"), "{name}");
            let worlds: Vec<&str> = package.worlds.keys().map(String::as_str).collect();
            for w in slots {
                assert!(worlds.contains(&w), "{name} has no `{w}` world: {worlds:?}");
            }
            if version != "0.1.0" {
                for w in ["activity-plugin", "question-type-plugin", "observer-plugin"] {
                    assert!(worlds.contains(&w), "{name} has no `{w}` world: {worlds:?}");
                }
            }
            seen.push(name);
        }
        seen.sort();
        assert_eq!(seen, ["lectern-plugin@0.1.0", "lectern-plugin@0.2.0", "lectern-plugin@0.2.1"]);
    }

    /// Released WIT folders are never edited (see wit/RELEASED).
    #[test]
    fn released_wit_is_frozen() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let released = std::fs::read_to_string(wit.join("RELEASED")).unwrap();
        let mut checked = 0;
        for line in released.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (folder, expected) = line.split_once(' ').unwrap();
            // Every file under the folder (0.2's `deps/` too), by its path
            // relative to the folder with `/` separators, in byte order.
            fn walk(dir: &std::path::Path, rel: &str, out: &mut Vec<(String, std::path::PathBuf)>) {
                for e in std::fs::read_dir(dir).unwrap() {
                    let path = e.unwrap().path();
                    let name = format!("{rel}{}", path.file_name().unwrap().to_string_lossy());
                    if path.is_dir() {
                        walk(&path, &format!("{name}/"), out);
                    } else {
                        out.push((name, path));
                    }
                }
            }
            let mut files = vec![];
            walk(&wit.join(folder), "", &mut files);
            files.sort();
            let mut h = Sha256::new();
            for (name, f) in files {
                h.update(name.as_bytes());
                h.update(b"\0");
                h.update(std::fs::read(&f).unwrap());
                h.update(b"\0");
            }
            assert_eq!(
                hex::encode(h.finalize()),
                expected.trim(),
                "{folder} was edited after release; add a new version folder instead"
            );
            checked += 1;
        }
        assert!(checked >= 3, "0.1.0, 0.2.0 and 0.2.1 are released");
    }
}

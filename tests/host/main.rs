//! The plugin host at its WIT boundary, with real components compiled from
//! `tests/fixtures` and the real kernel store on disk.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

mod activity;
mod hostile;
mod lifecycle;
mod observer;
mod question_type;
mod slots;
mod swap;
mod v0_2;
mod versions;

use std::time::Duration;

use lectern_e2e::guests;
use lectern_host::{BreakerConfig, CallContext, Capabilities, Host, HostConfig, Manifest, Resources, Scope, Slot};
use lectern_storage::{Store, StoreOptions};

pub struct Env {
    pub host: Host,
    pub store: Store,
    pub dir: tempfile::TempDir,
}

pub fn config() -> HostConfig {
    HostConfig {
        max_concurrent_instances: 64,
        breaker: BreakerConfig {
            threshold: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        },
        ..HostConfig::default()
    }
}

pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
    let host = Host::open(&store, dir.path().join("plugins"), config()).unwrap();
    Env { host, store, dir }
}

pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("fixture {path} missing ({e}); it is built by tests/build.rs"))
}

pub fn manifest(id: &str, version: &str, slot: Slot, data_version: u32) -> Manifest {
    Manifest {
        id: id.into(),
        version: version.into(),
        slot,
        data_version,
        capabilities: Capabilities { log: true, kv_quota_bytes: Some(1 << 20), ..Default::default() },
        resources: Resources { memory_mib: 32, call_timeout_ms: 500, fuel: None, reuse_calls: 0 },
    }
}

/// Installs with everything the manifest asks for granted, and activates platform-wide.
pub fn install_active(host: &Host, m: Manifest, path: &str) -> String {
    let grant = m.capabilities.clone();
    let slot = m.slot;
    let installed = host.install(m, &wasm(path), &grant).unwrap();
    let key = installed.manifest.key();
    host.activate(slot, Scope::Platform, &key).unwrap();
    key
}

pub fn ctx(institution: &str) -> CallContext {
    lectern_host::harness::Harness::context(institution)
}

pub fn v1_manifest() -> Manifest {
    manifest("test.grading", "1.0.0", Slot::Grading, 1)
}

pub fn install_grading_v1(host: &Host) -> String {
    install_active(host, v1_manifest(), guests::GRADING_V1)
}

//! What verifying costs on the install path: reading and checking a package
//! (the real first-party content component, about 1.3 MB), its signature, its
//! imports, and updating a trusted index of 100 publishers and 1,000
//! packages from nothing and from the previous version.
//!
//! `cargo bench -p lectern-marketplace --bench verify` (part of `cargo xtask bench`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::package::{self, Limits, Package, PackageManifest};
use lectern_marketplace::tuf::{DirFetch, RepoKeys, Repository, TrustedState};
use time::OffsetDateTime;

/// The content plugin the `lectern` build embeds, if it was built; else a synthetic 1.3 MB body.
fn component() -> Vec<u8> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::read(dir.join("guests/wasm32-wasip2/release/lectern_content.wasm"))
        .unwrap_or_else(|_| (0..1_300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect())
}

fn manifest(id: &str, version: &str) -> PackageManifest {
    serde_json::from_value(serde_json::json!({
        "format": 1, "id": id, "version": version,
        "publisher": {"id": id.rsplit_once('.').unwrap().0, "key_id": ""},
        "name": "Bench", "description": "", "license": "Apache-2.0",
        "source": {"repository": "unknown", "commit": "unknown"}, "slot": "content",
        "component": {"path": "component.wasm", "sha256": "0".repeat(64), "size": 0},
        "wit": {"imports": [], "exports": []}, "kernel": ">=0.1, <0.2", "data_version": 1
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let wasm = component();
    let key = KeyPair::from_seed([9; 32]);
    let mut m = manifest("org.bench.content", "1.0.0");
    m.wit = package::component_interfaces(&wasm).unwrap_or_default();
    let mut p = Package::new(m, wasm.clone(), BTreeMap::new()).unwrap();
    p.sign(&key).unwrap();
    let packed = p.pack().unwrap();
    println!("package: {} bytes ({} bytes of component)", packed.len(), wasm.len());
    c.bench_function("package read + file hashes (1.3 MB component)", |b| {
        b.iter(|| Package::read(&packed, &Limits::default()).unwrap())
    });
    let read = Package::read(&packed, &Limits::default()).unwrap();
    let allowed = [key.public()];
    c.bench_function("publisher signature", |b| b.iter(|| read.verify_signature(&allowed).unwrap()));
    c.bench_function("component imports and exports", |b| b.iter(|| package::component_interfaces(&wasm)));
    c.bench_function("pack (deterministic tar.gz)", |b| b.iter(|| p.pack().unwrap()));

    // An index of 100 publishers with 10 small packages each.
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let keys = RepoKeys::generate().unwrap();
    let repo = Repository::init(dir.path(), &keys, 1, now).unwrap();
    for i in 0..100 {
        let publisher = KeyPair::from_seed([i as u8; 32]);
        let ns = format!("org.p{i}");
        repo.add_publisher(&keys.targets, &keys.online, &ns, &[publisher.public()], 1, now).unwrap();
        for v in 0..10 {
            let bytes = format!("package {i} {v}").into_bytes();
            let target = format!("{ns}.plugin/1.0.{v}/{ns}.plugin-1.0.{v}.lpkg");
            repo.add_target(&keys.online, &ns, std::slice::from_ref(&publisher), &target, &bytes, None, now).unwrap();
        }
    }
    let root = std::fs::read(dir.path().join("metadata/1.root.json")).unwrap();
    let fetch = DirFetch(dir.path().to_path_buf());
    let fresh = TrustedState::from_root(&root).unwrap();
    let state = fresh.update(&fetch, now).unwrap();
    assert_eq!(state.targets().len(), 1000);
    c.bench_function("index update from the root (100 publishers, 1,000 packages)", |b| {
        b.iter(|| fresh.update(&fetch, now).unwrap())
    });
    c.bench_function("index refresh, nothing new (100 publishers)", |b| b.iter(|| state.update(&fetch, now).unwrap()));
    c.bench_function("list 1,000 targets", |b| b.iter(|| state.targets()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

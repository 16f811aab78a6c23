//! The package format: round trip, determinism, and every way a package is refused.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

use std::collections::BTreeMap;
use std::io::Write;

use lectern_marketplace::MarketError;
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::package::{self, Limits, Package, PackageManifest};

fn manifest() -> PackageManifest {
    serde_json::from_value(serde_json::json!({
        "format": 1,
        "id": "edu.example.grader",
        "version": "1.2.0",
        "publisher": {"id": "edu.example", "key_id": ""},
        "name": "Example grader",
        "description": "Grades things.",
        "license": "Apache-2.0 OR MIT",
        "source": {"repository": "https://example.edu/grader", "commit": "0123456789abcdef"},
        "slot": "grading",
        "component": {"path": "component.wasm", "sha256": "0".repeat(64), "size": 0},
        "wit": {"imports": ["lectern:plugin/kv@0.1.0"], "exports": ["lectern:plugin/grader@0.1.0"]},
        "capabilities": {"kv_quota_bytes": 1048576},
        "resources": {"memory_mib": 64, "call_timeout_ms": 2000},
        "kernel": ">=0.1, <0.2",
        "data_version": 1
    }))
    .unwrap()
}

fn signed(key: &KeyPair) -> Package {
    let mut assets = BTreeMap::new();
    assets.insert("assets/icon.png".to_string(), b"not really a png".to_vec());
    let mut p = Package::new(manifest(), b"\0asm fake component".to_vec(), assets).unwrap();
    p.sign(key).unwrap();
    p
}

#[test]
fn round_trip_is_deterministic_and_verifies() {
    let key = KeyPair::from_seed([7; 32]);
    let p = signed(&key);
    let a = p.pack().unwrap();
    let b = signed(&key).pack().unwrap();
    assert_eq!(a, b, "packing the same inputs twice gives the same bytes");
    let read = Package::read(&a, &Limits::default()).unwrap();
    assert_eq!(read, p);
    let allowed = [key.public()];
    assert_eq!(read.verify_signature(&allowed).unwrap(), &key.public());
    assert_eq!(read.manifest.publisher.key_id, key.public().key_id());
    assert_eq!(read.manifest.target_path(), "edu.example.grader/1.2.0/edu.example.grader-1.2.0.lpkg");
}

#[test]
fn tampered_component_is_refused() {
    let key = KeyPair::from_seed([7; 32]);
    let mut p = signed(&key);
    p.component[0] ^= 1;
    let err = Package::read(&p.pack().unwrap(), &Limits::default()).unwrap_err();
    assert!(matches!(&err, MarketError::HashMismatch { what, .. } if what == "component.wasm"), "{err}");
    let mut p = signed(&key);
    p.assets.insert("assets/icon.png".into(), b"evil".to_vec());
    let err = Package::read(&p.pack().unwrap(), &Limits::default()).unwrap_err();
    assert!(matches!(err, MarketError::LengthMismatch { .. }), "{err}");
}

#[test]
fn tampered_manifest_fails_the_signature() {
    let key = KeyPair::from_seed([7; 32]);
    let mut p = signed(&key);
    p.manifest.capabilities.kv_quota_bytes = Some(1 << 30);
    p.manifest_bytes = lectern_marketplace::canonical::to_vec(&p.manifest).unwrap();
    let read = Package::read(&p.pack().unwrap(), &Limits::default()).unwrap();
    let err = read.verify_signature(&[key.public()]).unwrap_err();
    assert!(matches!(err, MarketError::BadSignature(_)), "{err}");
}

#[test]
fn wrong_key_and_forged_key_ids_are_refused() {
    let publisher = KeyPair::from_seed([7; 32]);
    let other = KeyPair::from_seed([8; 32]);
    // Signed by another key: not a key this namespace is delegated to.
    let p = signed(&other);
    let err = p.verify_signature(&[publisher.public()]).unwrap_err();
    assert!(matches!(err, MarketError::WrongKey { .. }), "{err}");
    // Claims the publisher's key id, but the signature is by another key.
    let mut p = signed(&publisher);
    let sig = p.signature.as_mut().unwrap();
    sig.sig = other.sign(&p.manifest_bytes);
    let err = p.verify_signature(&[publisher.public()]).unwrap_err();
    assert!(matches!(err, MarketError::BadSignature(_)), "{err}");
    // Unsigned.
    let mut p = signed(&publisher);
    p.signature = None;
    assert!(matches!(p.verify_signature(&[publisher.public()]), Err(MarketError::BadSignature(_))));
}

/// A raw tar.gz whose entries are written byte for byte, bypassing the tar
/// crate's own path checks, the way an attacker would.
fn raw_archive(entries: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = Vec::new();
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::new(*kind));
        if *kind == b'2' || *kind == b'1' {
            h.set_link_name("manifest.json").unwrap();
        }
        h.set_cksum();
        tar.extend_from_slice(h.as_bytes());
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend_from_slice(&[0; 1024]);
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn files_of(p: &Package) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("manifest.json".to_string(), p.manifest_bytes.clone()),
        ("signature.json".to_string(), lectern_marketplace::canonical::to_vec(p.signature.as_ref().unwrap()).unwrap()),
        ("component.wasm".to_string(), p.component.clone()),
    ];
    for (k, b) in &p.assets {
        v.push((k.clone(), b.clone()));
    }
    v
}

fn refused_with(entries: Vec<(String, u8, Vec<u8>)>, limits: &Limits) -> MarketError {
    let refs: Vec<(&[u8], u8, &[u8])> = entries.iter().map(|(n, k, d)| (n.as_bytes(), *k, d.as_slice())).collect();
    Package::read(&raw_archive(&refs), limits).unwrap_err()
}

#[test]
fn the_raw_writer_makes_readable_packages() {
    // So the refusals below are about the one thing each test changes.
    let p = signed(&KeyPair::from_seed([7; 32]));
    let entries: Vec<_> = files_of(&p).into_iter().map(|(n, d)| (n, b'0', d)).collect();
    let refs: Vec<(&[u8], u8, &[u8])> = entries.iter().map(|(n, k, d)| (n.as_bytes(), *k, d.as_slice())).collect();
    assert_eq!(Package::read(&raw_archive(&refs), &Limits::default()).unwrap(), p);
}

#[test]
fn unsafe_archives_are_refused() {
    let p = signed(&KeyPair::from_seed([7; 32]));
    let base: Vec<(String, u8, Vec<u8>)> = files_of(&p).into_iter().map(|(n, d)| (n, b'0', d)).collect();
    let with = |extra: (&str, u8, &[u8])| {
        let mut v = base.clone();
        v.push((extra.0.to_string(), extra.1, extra.2.to_vec()));
        v
    };
    let limits = Limits::default();
    for (name, case) in [
        ("parent traversal", with(("../../etc/cron.d/evil", b'0', b"x"))),
        ("inner traversal", with(("assets/../../evil", b'0', b"x"))),
        ("absolute path", with(("/etc/passwd", b'0', b"x"))),
        ("symlink", with(("assets/link", b'2', b""))),
        ("hard link", with(("assets/hard", b'1', b""))),
        ("device", with(("assets/dev", b'3', b""))),
        ("directory", with(("assets/", b'5', b""))),
        ("backslash", with(("assets\\..\\evil", b'0', b"x"))),
        ("duplicate", with(("component.wasm", b'0', b"second copy"))),
        ("case duplicate", with(("Component.wasm", b'0', b"second copy"))),
        ("dot segment", with(("assets/./x", b'0', b"x"))),
    ] {
        let err = refused_with(case, &limits);
        assert!(matches!(err, MarketError::UnsafeArchive(_)), "{name}: {err}");
    }
    let err = refused_with(with(("assets/unlisted.txt", b'0', b"x")), &limits);
    assert!(matches!(&err, MarketError::UnsafeArchive(m) if m.contains("not listed")), "{err}");
    let mut missing = base.clone();
    missing.retain(|(n, _, _)| n != "assets/icon.png");
    let err = refused_with(missing, &limits);
    assert!(matches!(&err, MarketError::Malformed { detail, .. } if detail.contains("missing")), "{err}");
}

#[test]
fn size_and_count_limits_hold() {
    let p = signed(&KeyPair::from_seed([7; 32]));
    let packed = p.pack().unwrap();
    let small = Limits { archive_bytes: packed.len() as u64 - 1, ..Limits::default() };
    assert!(matches!(Package::read(&packed, &small), Err(MarketError::TooLarge(_))));
    let unpacked = Limits { unpacked_bytes: 100, ..Limits::default() };
    assert!(matches!(Package::read(&packed, &unpacked), Err(MarketError::TooLarge(_))));
    let few = Limits { files: 2, ..Limits::default() };
    assert!(matches!(Package::read(&packed, &few), Err(MarketError::TooLarge(_))));
    // A gzip bomb: 300 MiB of zeros in one listed file stops at the limit, without buffering it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_ustar();
    h.set_path("component.wasm").unwrap();
    h.set_size(300 << 20);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    assert!(matches!(Package::read(&bomb, &Limits::default()), Err(MarketError::TooLarge(_))));
}

#[test]
fn manifests_are_validated() {
    let limits = Limits::default();
    let ok = manifest();
    assert!(ok.validate(&limits).is_ok());
    let cases: Vec<(&str, Box<dyn Fn(&mut PackageManifest)>)> = vec![
        ("id", Box::new(|m| m.id = "Nope".into())),
        ("version", Box::new(|m| m.version = "one".into())),
        ("namespace", Box::new(|m| m.publisher.id = "org.other".into())),
        ("license", Box::new(|m| m.license = "Apache 2".into())),
        ("license operator", Box::new(|m| m.license = "MIT OR".into())),
        ("id part starting with -", Box::new(|m| m.id = "edu.example.-grader".into())),
        ("kernel", Box::new(|m| m.kernel = "soon".into())),
        ("repository", Box::new(|m| m.source.repository = "file:///etc".into())),
        (
            "asset path",
            Box::new(|m| m.assets.push(package::FileRef { path: "../x".into(), sha256: "0".repeat(64), size: 1 })),
        ),
        (
            "asset dir",
            Box::new(|m| m.assets.push(package::FileRef { path: "x".into(), sha256: "0".repeat(64), size: 1 })),
        ),
        ("topic", Box::new(|m| m.capabilities.publish.push("a b".into()))),
        ("memory", Box::new(|m| m.resources.memory_mib = 0)),
        ("format", Box::new(|m| m.format = 2)),
    ];
    for (name, change) in cases {
        let mut m = manifest();
        change(&mut m);
        assert!(
            matches!(m.validate(&limits), Err(MarketError::Malformed { .. } | MarketError::UnsafeArchive(_))),
            "{name}"
        );
    }
    // Non-canonical bytes are refused even when the JSON is otherwise fine.
    let mut pretty = serde_json::to_vec_pretty(&manifest()).unwrap();
    assert!(PackageManifest::parse(&pretty, &limits).is_err());
    pretty = lectern_marketplace::canonical::to_vec(&manifest()).unwrap();
    assert!(PackageManifest::parse(&pretty, &limits).is_ok());
    // Unknown fields are refused (a signed field nobody checks is a trap).
    let mut v = serde_json::to_value(manifest()).unwrap();
    v["surprise"] = serde_json::json!(1);
    let bytes = lectern_marketplace::canonical::to_vec(&v).unwrap();
    assert!(PackageManifest::parse(&bytes, &limits).is_err());
    // A request the slot cannot have still reads as a package; the host refuses it at install.
    let mut clock = manifest();
    clock.capabilities.clock = true;
    assert!(clock.validate(&limits).is_ok());
    assert!(clock.plugin_manifest().validate().is_err());
    // A slot that does not exist is refused, and so are resources without their limits.
    for (key, value) in [("slot", serde_json::json!("karaoke")), ("resources", serde_json::json!({"fuel": 5}))] {
        let mut v = serde_json::to_value(manifest()).unwrap();
        v[key] = value;
        let bytes = lectern_marketplace::canonical::to_vec(&v).unwrap();
        assert!(matches!(PackageManifest::parse(&bytes, &limits), Err(MarketError::Malformed { .. })), "{key}");
    }
}

/// Manifests written by the previous release (before the plugin manifest
/// became `lectern-manifest`'s model) parse, and re-encode to the very bytes
/// that were signed: fuel is written only when set, capabilities keep the
/// package's request form, the slot is its name.
#[test]
fn manifests_of_the_previous_release_keep_their_bytes() {
    let limits = Limits::default();
    let golden = [
        r#"{"assets":[{"path":"assets/icon.png","sha256":"2222222222222222222222222222222222222222222222222222222222222222","size":3}],"capabilities":{"clock":true,"embed":true,"kv_quota_bytes":1048576,"outbound_hosts":["api.example.edu:443"],"publish":[],"subscribe":["course.completed"],"vector_collections":["passages-*"]},"component":{"path":"component.wasm","sha256":"1111111111111111111111111111111111111111111111111111111111111111","size":42},"data_version":3,"description":"Answers.","format":1,"id":"edu.example.tutor","kernel":">=0.1, <0.2","license":"MIT","name":"Example tutor","publisher":{"id":"edu.example","key_id":"abababababababababababababababababababababababababababababababab"},"resources":{"call_timeout_ms":60000,"fuel":5000000,"memory_mib":128},"slot":"tutoring","source":{"commit":"0123456789abcdef","repository":"https://example.edu/tutor"},"version":"2.0.0","wit":{"exports":["lectern:plugin/tutor@0.1.0"],"imports":["lectern:plugin/kv@0.1.0","lectern:plugin/vector@0.1.0"]}}"#,
        r#"{"assets":[],"capabilities":{"clock":false,"embed":false,"outbound_hosts":[],"publish":[],"subscribe":[],"vector_collections":[]},"component":{"path":"component.wasm","sha256":"1111111111111111111111111111111111111111111111111111111111111111","size":42},"data_version":3,"description":"Answers.","format":1,"id":"edu.example.tutor","kernel":">=0.1, <0.2","license":"MIT","name":"Example tutor","publisher":{"id":"edu.example","key_id":"abababababababababababababababababababababababababababababababab"},"resources":{"call_timeout_ms":2000,"memory_mib":64},"slot":"grading","source":{"commit":"0123456789abcdef","repository":"https://example.edu/tutor"},"version":"2.0.0","wit":{"exports":["lectern:plugin/tutor@0.1.0"],"imports":["lectern:plugin/kv@0.1.0","lectern:plugin/vector@0.1.0"]}}"#,
    ];
    for bytes in golden {
        let m = PackageManifest::parse(bytes.as_bytes(), &limits).unwrap();
        assert_eq!(lectern_marketplace::canonical::to_vec(&m).unwrap(), bytes.as_bytes());
    }
    // The plugin manifest the host installs, derived with one call.
    let m = PackageManifest::parse(golden[0].as_bytes(), &limits).unwrap();
    let plugin = m.plugin_manifest();
    assert_eq!(
        (plugin.key().as_str(), plugin.slot, plugin.data_version),
        ("edu.example.tutor@2.0.0", package::Slot::Tutoring, 3)
    );
    assert!(
        plugin.capabilities.vector && plugin.capabilities.embed && plugin.capabilities.clock && plugin.capabilities.log
    );
    assert_eq!(plugin.capabilities.kv_quota_bytes, Some(1_048_576));
    assert_eq!(plugin.capabilities.subscribe, ["course.completed"]);
    assert_eq!(
        plugin.resources,
        package::Resources { memory_mib: 128, call_timeout_ms: 60_000, fuel: Some(5_000_000), reuse_calls: 0 }
    );
    // And back: the package's request for that manifest, with the names only a package carries.
    let request = package::Capabilities::request(&plugin.capabilities, vec![]);
    assert_eq!(request.vector_collections, ["*"]);
    assert_eq!(request.sandbox(), plugin.capabilities);
}

#[test]
fn kernel_ranges() {
    let m = manifest();
    m.check_kernel(&semver::Version::new(0, 1, 3)).unwrap();
    let err = m.check_kernel(&semver::Version::new(0, 2, 0)).unwrap_err();
    assert!(matches!(err, MarketError::IncompatibleKernel { .. }), "{err}");
}

#[test]
fn spdx_expressions() {
    for ok in [
        "MIT",
        "Apache-2.0",
        "MIT OR Apache-2.0",
        "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "GPL-2.0+",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
        "LicenseRef-Example",
    ] {
        assert!(package::is_spdx_expression(ok), "{ok}");
    }
    for bad in ["", "MIT OR", "(MIT", "MIT)", "MIT AND AND BSD", "MIT/Apache", "OR"] {
        assert!(!package::is_spdx_expression(bad), "{bad}");
    }
}

#[test]
fn component_interfaces_are_read_from_the_binary() {
    use wasm_encoder::{
        Component, ComponentExportKind, ComponentExportSection, ComponentImportSection, ComponentTypeRef,
        ComponentTypeSection, InstanceType,
    };
    let mut c = Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    c.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import("lectern:plugin/kv@0.1.0", ComponentTypeRef::Instance(0));
    imports.import("wasi:io/streams@0.2.0", ComponentTypeRef::Instance(0));
    c.section(&imports);
    let mut exports = ComponentExportSection::new();
    exports.export("lectern:plugin/grader@0.1.0", ComponentExportKind::Instance, 0, None);
    c.section(&exports);
    let wasm = c.finish();
    let wit = package::component_interfaces(&wasm).unwrap();
    assert_eq!(wit.imports, vec!["lectern:plugin/kv@0.1.0", "wasi:io/streams@0.2.0"]);
    assert_eq!(wit.exports, vec!["lectern:plugin/grader@0.1.0"]);
    let declared = package::Wit { imports: vec!["lectern:plugin/kv@0.1.0".into()], exports: vec![] };
    let err = package::check_declared_imports(&wit, &declared).unwrap_err();
    assert_eq!(err, MarketError::UndeclaredImport("wasi:io/streams@0.2.0".into()));
    assert!(package::component_interfaces(b"\0asm\x01\0\0\0").is_err(), "a core module is not a component");
    assert!(package::component_interfaces(b"junk").is_err());
}

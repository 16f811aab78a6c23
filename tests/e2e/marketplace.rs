//! Installing from a marketplace over HTTP: the verified happy path, and
//! every attack the install path defends against, each refused with its own
//! reason and nothing installed. The marketplace is a real TUF-style
//! repository on disk (written by `lectern_marketplace::tuf::Repository`),
//! the packages hold the real first-party components.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lectern_core::marketplace::MarketplaceSettings;
use lectern_e2e::{Api, Options, Reply, guests};
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::package::{self, Limits, Package, PackageManifest};
use lectern_marketplace::tuf::{RepoKeys, Repository};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::World;

struct Market {
    _dir: tempfile::TempDir,
    path: PathBuf,
    keys: RepoKeys,
    /// The `org.lectern` publisher's key.
    lectern: KeyPair,
    /// Another publisher's (`edu.other`) key.
    other: KeyPair,
    repo: Repository,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Market {
    fn new() -> Market {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("market");
        let keys = RepoKeys::generate().unwrap();
        let repo = Repository::init(&path, &keys, 1, now()).unwrap();
        let (lectern, other) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        repo.add_publisher(&keys.targets, &keys.online, "org.lectern", &[lectern.public()], 1, now()).unwrap();
        repo.add_publisher(&keys.targets, &keys.online, "edu.other", &[other.public()], 1, now()).unwrap();
        Market { _dir: dir, path, keys, lectern, other, repo }
    }

    fn settings(&self) -> MarketplaceSettings {
        MarketplaceSettings {
            url: format!("file://{}", self.path.display()),
            root: Some(self.path.join("metadata/1.root.json")),
            ..Default::default()
        }
    }

    /// Publishes `bytes` as `id@version` in org.lectern's role, listing `kernel` for browsing.
    fn publish(&self, id: &str, version: &str, bytes: &[u8], kernel: &str) {
        // The listing `lectern marketplace add` makes, with the kernel range this test wants.
        let mut custom = match Package::read(bytes, &Limits::default()) {
            Ok(p) => p.manifest.listing(),
            // Tests publish broken packages too: their listing is made by hand.
            Err(_) => json!({"lectern": {"package": {"id": id, "version": version, "name": id, "slot": "grading"}}}),
        };
        custom["lectern"]["package"]["kernel"] = json!(kernel);
        let target = format!("{id}/{version}/{id}-{version}.lpkg");
        let keys = std::slice::from_ref(&self.lectern);
        self.repo.add_target(&self.keys.online, "org.lectern", keys, &target, bytes, Some(custom), now()).unwrap();
    }
}

/// The manifest of the first-party grading plugin as `lectern plugin pack` makes it.
fn grading_manifest(component: &[u8]) -> PackageManifest {
    PackageManifest {
        format: package::FORMAT,
        id: "org.lectern.grading".into(),
        version: "1.1.0".into(),
        publisher: package::Publisher { id: "org.lectern".into(), key_id: String::new() },
        name: "Lectern grading".into(),
        description: "Grades.".into(),
        license: "Apache-2.0".into(),
        source: package::Source { repository: "unknown".into(), commit: "unknown".into() },
        slot: package::Slot::Grading,
        component: package::FileRef { path: package::COMPONENT.into(), sha256: String::new(), size: 0 },
        assets: vec![],
        wit: package::component_interfaces(component).unwrap(),
        capabilities: Default::default(),
        resources: package::Resources { memory_mib: 64, call_timeout_ms: 2000, fuel: None, reuse_calls: 0 },
        kernel: ">=0.1, <0.2".into(),
        data_version: 1,
    }
}

fn grading_component() -> Vec<u8> {
    std::fs::read(guests::GRADING_PLUGIN).unwrap()
}

/// A signed package of the grading plugin, after `change` to its manifest.
fn grading_package(key: &KeyPair, change: impl FnOnce(&mut PackageManifest)) -> Vec<u8> {
    let component = grading_component();
    let mut m = grading_manifest(&component);
    change(&mut m);
    let mut p = Package::new(m, component, BTreeMap::new()).unwrap();
    p.sign(key).unwrap();
    p.pack().unwrap()
}

async fn world(m: &Market, tweak: impl FnOnce(&mut MarketplaceSettings) + Send + 'static) -> World {
    let mut settings = m.settings();
    tweak(&mut settings);
    World::with(Options { kernel: Box::new(move |k| k.marketplace = settings), ..Default::default() }).await
}

async fn install(root: &Api, body: Value) -> Reply {
    root.post("/api/v1/plugins/install", body).await
}

fn refused(r: &Reply, status: u16, slug: &str, reason: &str) {
    r.assert_problem(status, slug);
    assert_eq!(r.body["reason"], reason, "{}", r.body);
}

async fn installed_ids(root: &Api) -> Vec<String> {
    let list = root.get("/api/v1/plugins").await;
    list.ok().as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn install_browse_and_idempotence_over_http() {
    let m = Market::new();
    m.publish("org.lectern.grading", "1.1.0", &grading_package(&m.lectern, |_| {}), ">=0.1, <0.2");
    let w = world(&m, |_| {}).await;
    let root = &w.root;

    let cat = root.get("/api/v1/marketplace/plugins").await;
    let body = cat.ok();
    crate::schema::assert_matches_openapi(root, body, "Catalogue").await;
    assert_eq!(body["kernel"], lectern_core::marketplace::KERNEL_VERSION);
    let g = body["plugins"].as_array().unwrap().iter().find(|p| p["id"] == "org.lectern.grading").unwrap();
    assert_eq!(g["publisher"], "org.lectern");
    assert_eq!(g["latest_compatible"], "1.1.0");
    assert_eq!(g["versions"][0]["compatible"], true);
    // Provenance from the signed listing: the publisher key that signed it and the source it names.
    assert_eq!(g["versions"][0]["publisher_key"], m.lectern.public().key_id().as_str(), "{g}");
    assert_eq!(g["versions"][0]["source_repository"], "unknown");
    // Institution administrators may browse but not install code that runs for everyone.
    w.a.admin.get("/api/v1/marketplace/plugins").await.ok();
    install(&w.a.admin, json!({"id": "org.lectern.grading", "grant": "requested"}))
        .await
        .assert_problem(403, "forbidden");

    // No grant: refused, naming what it requests.
    let r = install(root, json!({"id": "org.lectern.grading"})).await;
    refused(&r, 422, "package-refused", "not-granted");

    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["plugin"], "org.lectern.grading@1.1.0");
    assert_eq!(r.body["active"], "org.lectern.grading@1.1.0");
    assert_eq!(r.body["publisher"], "org.lectern");
    assert_eq!(
        w.server.kernel.host().active_key(lectern_host::Slot::Grading, &w.a.id).as_deref(),
        Some("org.lectern.grading@1.1.0")
    );
    // Again: already installed, nothing new.
    let r = install(root, json!({"id": "org.lectern.grading", "version": "1.1.0", "grant": "requested"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["newly_installed"], false);
    let prov = w.server.kernel.plugins().marketplace_provenance("org.lectern.grading@1.1.0").unwrap().unwrap();
    assert_eq!(prov.publisher, "org.lectern");
    assert_eq!(prov.key_id, m.lectern.public().key_id());

    // Unknown plugin, unknown version.
    install(root, json!({"id": "org.lectern.nothing", "grant": "requested"})).await.assert_problem(404, "not-found");
    install(root, json!({"id": "org.lectern.grading", "version": "7.0.0", "grant": "requested"}))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn tampering_and_wrong_keys_are_refused_and_install_nothing() {
    let m = Market::new();
    // 1.1.1: published honestly, then its bytes replaced on the server.
    let honest = grading_package(&m.lectern, |x| x.version = "1.1.1".into());
    m.publish("org.lectern.grading", "1.1.1", &honest, ">=0.1, <0.2");
    let mut tampered = honest.clone();
    let n = tampered.len();
    tampered[n / 2] ^= 0xff;
    std::fs::write(m.path.join("packages/org.lectern.grading/1.1.1/org.lectern.grading-1.1.1.lpkg"), &tampered)
        .unwrap();
    // 1.1.2: the manifest changed after signing (more memory), published by a compromised upload.
    let mut p =
        Package::read(&grading_package(&m.lectern, |x| x.version = "1.1.2".into()), &Default::default()).unwrap();
    p.manifest.resources.memory_mib = 1024;
    p.manifest_bytes = lectern_marketplace::canonical::to_vec(&p.manifest).unwrap();
    m.publish("org.lectern.grading", "1.1.2", &p.pack().unwrap(), ">=0.1, <0.2");
    // 1.1.3: signed by a key nobody delegated anything to.
    let stranger = KeyPair::generate().unwrap();
    m.publish(
        "org.lectern.grading",
        "1.1.3",
        &grading_package(&stranger, |x| x.version = "1.1.3".into()),
        ">=0.1, <0.2",
    );
    // 1.1.4: signed by another publisher's key (edu.other claims org.lectern's plugin).
    m.publish(
        "org.lectern.grading",
        "1.1.4",
        &grading_package(&m.other, |x| x.version = "1.1.4".into()),
        ">=0.1, <0.2",
    );
    // 1.1.5: the component imports something its manifest does not declare.
    m.publish(
        "org.lectern.grading",
        "1.1.5",
        &grading_package(&m.lectern, |x| {
            x.version = "1.1.5".into();
            x.wit.imports.retain(|i| !i.starts_with("wasi:cli/environment"));
        }),
        ">=0.1, <0.2",
    );
    // 1.1.6: for another kernel.
    m.publish(
        "org.lectern.grading",
        "1.1.6",
        &grading_package(&m.lectern, |x| {
            x.version = "1.1.6".into();
            x.kernel = ">=9.0".into();
        }),
        ">=9.0",
    );
    // 1.1.7: a grading plugin that wants network access, which only observer plugins may have.
    m.publish(
        "org.lectern.grading",
        "1.1.7",
        &grading_package(&m.lectern, |x| {
            x.version = "1.1.7".into();
            x.capabilities.outbound_hosts = vec!["api.example.com".into()];
        }),
        ">=0.1, <0.2",
    );
    // The other publisher's key cannot publish in org.lectern's namespace at all.
    let target = "org.lectern.grading/1.1.8/org.lectern.grading-1.1.8.lpkg";
    let err = m
        .repo
        .add_target(&m.keys.online, "edu.other", std::slice::from_ref(&m.other), target, &honest, None, now())
        .unwrap_err();
    assert!(matches!(err, lectern_marketplace::MarketError::NotDelegated { .. }), "{err}");

    let w = world(&m, |_| {}).await;
    let root = &w.root;
    let grant = |v: &str| json!({"id": "org.lectern.grading", "version": v, "grant": "requested"});
    for (version, status, slug, reason) in [
        ("1.1.1", 422, "package-refused", "hash-mismatch"),
        ("1.1.2", 422, "package-refused", "bad-signature"),
        ("1.1.3", 422, "package-refused", "wrong-key"),
        ("1.1.4", 422, "package-refused", "not-delegated"),
        ("1.1.5", 422, "package-refused", "undeclared-import"),
        ("1.1.6", 422, "package-refused", "incompatible-kernel"),
        ("1.1.7", 422, "package-refused", "malformed"),
    ] {
        let r = install(root, grant(version)).await;
        refused(&r, status, slug, reason);
        assert!(installed_ids(root).await.is_empty(), "{version}: nothing installed");
    }
    // "Latest compatible" skips the version for another kernel and picks the newest that fits;
    // it is one of the bad ones, and is refused for its own reason.
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    refused(&r, 422, "package-refused", "malformed");
    assert!(w.server.kernel.plugins().marketplace_provenance("org.lectern.grading@1.1.1").unwrap().is_none());
}

#[tokio::test]
async fn capability_grants_yanks_downgrades_and_archive_attacks() {
    let m = Market::new();
    // Wants kv storage (which this component never uses; the grant is what is checked).
    m.publish(
        "org.lectern.grading",
        "1.1.0",
        &grading_package(&m.lectern, |x| {
            x.capabilities.kv_quota_bytes = Some(1 << 20);
        }),
        ">=0.1, <0.2",
    );
    // Older than what will be installed.
    m.publish(
        "org.lectern.grading",
        "0.9.0",
        &grading_package(&m.lectern, |x| x.version = "0.9.0".into()),
        ">=0.1, <0.2",
    );
    // Yanked after publication.
    m.publish(
        "org.lectern.grading",
        "1.2.0",
        &grading_package(&m.lectern, |x| x.version = "1.2.0".into()),
        ">=0.1, <0.2",
    );
    m.repo
        .yank(
            &m.keys.online,
            "org.lectern",
            std::slice::from_ref(&m.lectern),
            "org.lectern.grading/1.2.0/org.lectern.grading-1.2.0.lpkg",
            "grades essays wrong",
            now(),
        )
        .unwrap();
    // Archives that try to escape, link, or carry unlisted files, published honestly.
    let evil = |name: &[u8], kind: u8| {
        let good =
            Package::read(&grading_package(&m.lectern, |x| x.version = "2.0.0".into()), &Default::default()).unwrap();
        let mut tar = Vec::new();
        let mut add = |path: &[u8], kind: u8, data: &[u8]| {
            let mut h = tar::Header::new_old();
            h.as_old_mut().name[..path.len()].copy_from_slice(path);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::new(kind));
            if kind == b'2' {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            tar.extend_from_slice(h.as_bytes());
            tar.extend_from_slice(data);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        };
        add(b"manifest.json", b'0', &good.manifest_bytes);
        add(
            b"signature.json",
            b'0',
            &lectern_marketplace::canonical::to_vec(good.signature.as_ref().unwrap()).unwrap(),
        );
        add(b"component.wasm", b'0', &good.component);
        add(name, kind, b"owned");
        tar.extend_from_slice(&[0; 1024]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    };
    m.publish("org.lectern.grading", "2.0.0", &evil(b"../../../../tmp/owned", b'0'), ">=0.1, <0.2");
    m.publish("org.lectern.grading", "2.0.1", &evil(b"assets/passwd", b'2'), ">=0.1, <0.2");
    // Incompressible assets past the configured 1 MiB limit.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let big: Vec<u8> = (0..(2usize << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut manifest = grading_manifest(&grading_component());
    manifest.version = "2.0.2".into();
    let mut p = Package::new(manifest, grading_component(), BTreeMap::from([("assets/big.bin".into(), big)])).unwrap();
    p.sign(&m.lectern).unwrap();
    m.publish("org.lectern.grading", "2.0.2", &p.pack().unwrap(), ">=0.1, <0.2");

    let w = world(&m, |s| s.max_package_mib = 1).await;
    let root = &w.root;
    let req = |v: &str| json!({"id": "org.lectern.grading", "version": v, "grant": "requested"});

    // A grant that leaves out what the plugin asks for.
    let r = install(root, json!({"id": "org.lectern.grading", "version": "1.1.0", "grant": {}})).await;
    refused(&r, 422, "package-refused", "not-granted");
    assert!(r.body["detail"].as_str().unwrap().contains("kv storage"), "{}", r.body);
    assert!(installed_ids(root).await.is_empty());
    // Granted explicitly: installs.
    let r =
        install(root, json!({"id": "org.lectern.grading", "version": "1.1.0", "grant": {"kv_quota_bytes": 1048576}}))
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["active"], "org.lectern.grading@1.1.0");

    // A yanked version is not installed fresh…
    refused(&install(root, req("1.2.0")).await, 422, "package-refused", "yanked");
    // …and "latest compatible" passes it over (2.0.x are refused for their archives, below).
    let cat = root.get("/api/v1/marketplace/plugins").await;
    let g = cat.ok()["plugins"].as_array().unwrap().iter().find(|p| p["id"] == "org.lectern.grading").unwrap().clone();
    let v120 = g["versions"].as_array().unwrap().iter().find(|v| v["version"] == "1.2.0").unwrap().clone();
    assert_eq!(v120["yanked"], "grades essays wrong");

    // Older than installed: only with force (`lectern`'s CLI round trip installs a real older version with force).
    refused(&install(root, req("0.9.0")).await, 409, "package-refused", "downgrade");
    // With force it gets past that check, and then fails to start (this component is 1.1.0
    // inside): the fresh install is undone, nothing half-installed.
    let r =
        install(root, json!({"id": "org.lectern.grading", "version": "0.9.0", "grant": "requested", "force": true}))
            .await;
    r.assert_problem(409, "conflict");
    assert!(r.body["detail"].as_str().unwrap().contains("activation failed"), "{}", r.body);
    assert_eq!(installed_ids(root).await, vec!["org.lectern.grading@1.1.0".to_string()]);
    assert!(w.server.kernel.plugins().marketplace_provenance("org.lectern.grading@0.9.0").unwrap().is_none());

    let before = installed_ids(root).await;
    refused(&install(root, req("2.0.0")).await, 422, "package-refused", "unsafe-archive");
    refused(&install(root, req("2.0.1")).await, 422, "package-refused", "unsafe-archive");
    refused(&install(root, req("2.0.2")).await, 422, "package-refused", "too-large");
    assert_eq!(installed_ids(root).await, before, "nothing half-installed");
    assert!(!std::path::Path::new("/tmp/owned").exists());
}

#[tokio::test]
async fn replayed_frozen_and_mixed_indexes_are_refused() {
    let m = Market::new();
    m.publish("org.lectern.grading", "1.1.0", &grading_package(&m.lectern, |_| {}), ">=0.1, <0.2");
    let meta = |f: &str| m.path.join("metadata").join(f);
    let old_timestamp = std::fs::read(meta("timestamp.json")).unwrap();
    let old_snapshot = std::fs::read(meta("snapshot.json")).unwrap();
    let w = world(&m, |_| {}).await;
    let root = &w.root;
    root.post_empty("/api/v1/marketplace/refresh").await.ok();

    // The index moves on; the kernel sees it.
    m.repo.refresh_snapshot(&m.keys.online, now()).unwrap();
    let r = root.post_empty("/api/v1/marketplace/refresh").await;
    let seen = r.ok()["timestamp_version"].as_u64().unwrap();
    assert!(seen >= 2, "{}", r.body);

    // A mirror replays the older index: rollback.
    let (new_timestamp, new_snapshot) =
        (std::fs::read(meta("timestamp.json")).unwrap(), std::fs::read(meta("snapshot.json")).unwrap());
    std::fs::write(meta("timestamp.json"), &old_timestamp).unwrap();
    std::fs::write(meta("snapshot.json"), &old_snapshot).unwrap();
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    refused(&r, 502, "marketplace-index-refused", "rollback");
    std::fs::write(meta("timestamp.json"), &new_timestamp).unwrap();
    std::fs::write(meta("snapshot.json"), &new_snapshot).unwrap();

    // A mix: new targets metadata, but the snapshot (and its timestamp) from before.
    let (ts, snap) = (std::fs::read(meta("timestamp.json")).unwrap(), std::fs::read(meta("snapshot.json")).unwrap());
    m.repo.refresh_targets(&m.keys.targets, &m.keys.online, now()).unwrap();
    let (ts2, snap2) = (std::fs::read(meta("timestamp.json")).unwrap(), std::fs::read(meta("snapshot.json")).unwrap());
    std::fs::write(meta("timestamp.json"), &ts).unwrap();
    std::fs::write(meta("snapshot.json"), &snap).unwrap();
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    refused(&r, 502, "marketplace-index-refused", "inconsistent");
    std::fs::write(meta("timestamp.json"), &ts2).unwrap();
    std::fs::write(meta("snapshot.json"), &snap2).unwrap();

    // A frozen index: nobody re-signed the timestamp for two days.
    w.server.clock.advance(2 * 86_400);
    let root = &w.login("platform", "root@platform.test").await;
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    refused(&r, 502, "marketplace-index-refused", "expired");
    assert!(installed_ids(root).await.is_empty());
    // The operator re-signs: installs work again.
    m.repo.refresh_timestamp(&m.keys.online, now() + time::Duration::days(2)).unwrap();
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn revocation_stops_installed_plugins_and_tells_the_admin() {
    let m = Market::new();
    m.publish("org.lectern.grading", "1.1.0", &grading_package(&m.lectern, |_| {}), ">=0.1, <0.2");
    let proctoring = std::fs::read(guests::PROCTORING_PLUGIN).unwrap();
    let mut pm = grading_manifest(&proctoring);
    pm.id = "org.lectern.proctoring".into();
    pm.slot = package::Slot::Proctoring;
    pm.capabilities.kv_quota_bytes = Some(1 << 20);
    let mut pp = Package::new(pm, proctoring, BTreeMap::new()).unwrap();
    pp.sign(&m.lectern).unwrap();
    m.publish("org.lectern.proctoring", "1.1.0", &pp.pack().unwrap(), ">=0.1, <0.2");
    let w = world(&m, |_| {}).await;
    let root = &w.root;
    // A grading plugin installed by hand first: the fallback when the marketplace's is revoked.
    let fallback = r#"{"id":"test.grading","version":"1.0.0","slot":"grading","data_version":1,"capabilities":{"kv_quota_bytes":1048576}}"#;
    w.server.kernel.plugins().install_bundled(fallback, &std::fs::read(guests::GRADING_V1).unwrap()).await.unwrap();
    let grading = "org.lectern.grading@1.1.0";
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    assert_eq!(r.body["previous"], "test.grading@1.0.0", "{}", r.body);
    install(root, json!({"id": "org.lectern.proctoring", "grant": "requested"})).await.ok();
    let active = |slot| w.server.kernel.host().active_key(slot, &w.a.id);

    // The grading package is revoked: at the next refresh the kernel falls back and raises an alert.
    m.repo
        .revoke_package(&m.keys.targets, &m.keys.online, "org.lectern.grading", "1.1.0", "leaks answers", now())
        .unwrap();
    root.post_empty("/api/v1/marketplace/refresh").await.ok();
    assert_eq!(active(lectern_host::Slot::Grading).as_deref(), Some("test.grading@1.0.0"));
    let alerts = root.get("/api/v1/marketplace/alerts").await;
    let a = &alerts.ok()["items"][0];
    assert_eq!(a["plugin"], grading);
    assert!(a["reason"].as_str().unwrap().contains("leaks answers"), "{a}");
    assert!(a["action"].as_str().unwrap().contains("back to test.grading@1.0.0"), "{a}");
    w.a.admin.get("/api/v1/marketplace/alerts").await.assert_problem(403, "forbidden");
    // It cannot be activated again, nor installed, nor rolled back to.
    let r = root.post("/api/v1/plugins/slots/grading/activate", json!({"plugin": grading})).await;
    refused(&r, 422, "package-refused", "revoked");
    let r = install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await;
    assert!(r.status == 422 || r.status == 404, "{}", r.body);
    // (The revoked version is nobody's rollback target: the slot has no previous version.)
    root.post("/api/v1/plugins/slots/grading/rollback", json!({})).await.assert_problem(409, "no-previous-version");

    // The whole publisher is revoked: its proctoring plugin stops, with nothing to fall back to.
    assert_eq!(active(lectern_host::Slot::Proctoring).as_deref(), Some("org.lectern.proctoring@1.1.0"));
    m.repo.revoke_publisher(&m.keys.targets, &m.keys.online, "org.lectern", "signing key stolen", now()).unwrap();
    root.post_empty("/api/v1/marketplace/refresh").await.ok();
    assert_eq!(active(lectern_host::Slot::Proctoring), None, "a revoked publisher's plugin serves nobody");
    let alerts = root.get("/api/v1/marketplace/alerts").await;
    let newest = &alerts.ok()["items"][0];
    assert_eq!(newest["plugin"], "org.lectern.proctoring@1.1.0");
    assert!(newest["reason"].as_str().unwrap().contains("signing key stolen"), "{newest}");
    assert!(newest["action"].as_str().unwrap().contains("no plugin serves it now"), "{newest}");
    // Refreshing again does not repeat the alerts.
    root.post_empty("/api/v1/marketplace/refresh").await.ok();
    let alerts = root.get("/api/v1/marketplace/alerts").await;
    assert_eq!(alerts.ok()["items"].as_array().unwrap().len(), 2);
    crate::schema::assert_documented_response(root, "get", "/api/v1/marketplace/alerts", "200", "AlertList").await;
    crate::schema::assert_matches_openapi(root, &alerts.body, "AlertList").await;
    let r = install(root, json!({"id": "org.lectern.proctoring", "grant": "requested"})).await;
    refused(&r, 422, "package-refused", "revoked");
}

#[tokio::test]
async fn an_unconfigured_marketplace_is_a_409_naming_the_settings_not_a_503() {
    let w = World::new().await;
    let root = &w.root;
    let calls = [
        root.get("/api/v1/marketplace/plugins").await,
        root.post_empty("/api/v1/marketplace/refresh").await,
        install(root, json!({"id": "org.lectern.grading", "grant": "requested"})).await,
    ];
    for r in &calls {
        r.assert_problem(409, "marketplace-not-configured");
        assert_eq!(r.header("retry-after"), None, "nothing changes by waiting: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("marketplace.url") && detail.contains("marketplace.root"), "{detail}");
    }
    // Authorization still comes first.
    w.a.admin.post_empty("/api/v1/marketplace/refresh").await.assert_problem(403, "forbidden");
    // No alerts: an empty list, in the documented shape.
    let alerts = root.get("/api/v1/marketplace/alerts").await;
    assert_eq!(alerts.ok()["items"], json!([]));
    crate::schema::assert_documented_response(root, "get", "/api/v1/marketplace/alerts", "200", "AlertList").await;
    crate::schema::assert_matches_openapi(root, &alerts.body, "AlertList").await;

    // A configured marketplace that cannot be reached is still a 503 to retry.
    let m = Market::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let w = world(&m, move |s| s.url = format!("http://{closed}")).await;
    let r = w.root.get("/api/v1/marketplace/plugins").await;
    r.assert_problem(503, "unavailable");
    assert!(r.header("retry-after").is_some(), "{}", r.body);
}

/// A package's static assets: kept with the version installed from the
/// marketplace, served by the kernel at `/plugin-assets/{id}@{version}/{name}`
/// (immutable, sandboxed, never a document of this origin), and the only
/// images a plugin's view may show: the example flashcards' `asset:deck.svg`
/// becomes that URL in the student's view.
#[tokio::test]
async fn a_package_s_assets_are_served_and_shown_in_its_views() {
    let m = Market::new();
    let example = KeyPair::generate().unwrap();
    m.repo.add_publisher(&m.keys.targets, &m.keys.online, "org.example", &[example.public()], 1, now()).unwrap();
    let component = std::fs::read(guests::EXAMPLE_FLASHCARDS).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/flashcards");
    let svg = std::fs::read(dir.join("assets/deck.svg")).unwrap();
    let manifest = PackageManifest {
        id: "org.example.flashcards".into(),
        version: "1.0.0".into(),
        publisher: package::Publisher { id: "org.example".into(), key_id: String::new() },
        name: "Flashcards".into(),
        slot: package::Slot::Activity,
        wit: package::component_interfaces(&component).unwrap(),
        resources: package::Resources { memory_mib: 32, call_timeout_ms: 2000, fuel: None, reuse_calls: 0 },
        ..grading_manifest(&component)
    };
    let assets = BTreeMap::from([("assets/deck.svg".to_owned(), svg.clone())]);
    let mut p = Package::new(manifest, component, assets).unwrap();
    p.sign(&example).unwrap();
    let bytes = p.pack().unwrap();
    let mut custom = p.manifest.listing();
    custom["lectern"]["package"]["kernel"] = json!(">=0.1, <0.2");
    let target = "org.example.flashcards/1.0.0/org.example.flashcards-1.0.0.lpkg";
    let keys = std::slice::from_ref(&example);
    m.repo.add_target(&m.keys.online, "org.example", keys, target, &bytes, Some(custom), now()).unwrap();

    let w = world(&m, |_| {}).await;
    let r = install(&w.root, json!({"id": "org.example.flashcards", "grant": "requested"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let key = "org.example.flashcards@1.0.0";
    assert_eq!(r.body["active"], key);

    // Served by the kernel, as its type, immutable and sandboxed.
    let url = format!("{}/plugin-assets/{key}/deck.svg", w.root.base);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), svg.as_slice());
    let again = reqwest::Client::new().get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    for missing in ["other.svg", "..%2Fmanifest.json", ".deck.svg"] {
        let r = reqwest::get(format!("{}/plugin-assets/{key}/{missing}", w.root.base)).await.unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
    let r = reqwest::get(format!("{}/plugin-assets/org.example.flashcards@9.9.9/deck.svg", w.root.base)).await.unwrap();
    assert_eq!(r.status(), 404);

    // The student's view points its image at the asset, and at nothing else.
    let (teacher, student, base, _) = crate::activities::course(&w).await;
    let r = teacher
        .post(
            &format!("{base}/content/modules/m/items"),
            json!({"id": "cards", "kind": "activity", "title": "Words",
                   "activity": {"plugin": "org.example.flashcards", "kind": "flashcards", "settings": crate::activities::deck()}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let view = student.get(&format!("{base}/content/items/cards/activity")).await.ok().clone();
    let html = view["html"].as_str().unwrap();
    assert!(html.contains(&format!(r#"<img class="deck" src="/plugin-assets/{key}/deck.svg" alt="""#)), "{html}");
    assert_eq!(view["assets"], json!(["deck.svg"]));
}

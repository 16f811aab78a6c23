//! Shared pieces of the fuzz targets: byte edits the fuzzer chooses, a real
//! signed package, and a real signed index made from fixed-seed keys.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::package::{Limits, Package, PackageManifest};
use lectern_marketplace::tuf::{OnlineKeys, RepoKeys, Repository, TopRole, TrustedState};
use lectern_marketplace::{MarketError, tuf};
use time::OffsetDateTime;

/// Small limits, so the fuzzer reaches every limit check with small inputs.
pub const SMALL_LIMITS: Limits =
    Limits { archive_bytes: 16 << 10, unpacked_bytes: 16 << 10, files: 4, path_bytes: 40, manifest_bytes: 4 << 10 };

/// `bytes` gzip'd (fast compression): how `package_read` wraps a tar archive.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// `archive` gunzip'd (seeds for `package_read`'s tar mode).
pub fn gunzip(archive: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(archive).read_to_end(&mut out)?;
    Ok(out)
}

/// One change to a byte string; positions wrap around its length.
#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    Flip {
        at: u32,
        bit: u8,
    },
    Set {
        at: u32,
        byte: u8,
    },
    /// Sets an ASCII digit (versions, lengths, dates are made of them).
    Digit {
        at: u32,
        digit: u8,
    },
    Truncate {
        len: u32,
    },
    Delete {
        at: u32,
        len: u8,
    },
    Insert {
        at: u32,
        bytes: Vec<u8>,
    },
    Overwrite {
        at: u32,
        bytes: Vec<u8>,
    },
}

/// Applies `edits` to `bytes` in order.
pub fn apply_edits(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len();
        let pos = |at: u32, n: usize| if n == 0 { 0 } else { at as usize % n };
        match e {
            Edit::Flip { at, bit } if len > 0 => bytes[pos(*at, len)] ^= 1 << (bit % 8),
            Edit::Set { at, byte } if len > 0 => bytes[pos(*at, len)] = *byte,
            Edit::Digit { at, digit } if len > 0 => bytes[pos(*at, len)] = b'0' + digit % 10,
            Edit::Truncate { len: to } => bytes.truncate(pos(*to, len + 1)),
            Edit::Delete { at, len: n } if len > 0 => {
                let start = pos(*at, len);
                let end = (start + *n as usize).min(len);
                bytes.drain(start..end);
            }
            Edit::Insert { at, bytes: ins } => {
                let at = pos(*at, len + 1);
                bytes.splice(at..at, ins.iter().copied());
            }
            Edit::Overwrite { at, bytes: new } if len > 0 => {
                let start = pos(*at, len);
                for (i, b) in new.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(start + i) {
                        *slot = *b;
                    } else {
                        bytes.push(*b);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A key from a fixed seed.
pub fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed([seed; 32])
}

/// The manifest of the sample package (hashes and sizes are filled in by `Package::new`).
pub fn sample_manifest() -> PackageManifest {
    let json = r#"{
        "format": 1,
        "id": "org.example.hello",
        "version": "1.0.0",
        "publisher": {"id": "org.example", "key_id": ""},
        "name": "Hello",
        "description": "A sample package for the fuzz seeds.",
        "license": "Apache-2.0 OR MIT",
        "source": {"repository": "https://example.org/hello", "commit": "0123456789abcdef"},
        "slot": "content",
        "component": {"path": "component.wasm", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "size": 0},
        "wit": {"imports": ["lectern:plugin/kv@0.1.0"], "exports": ["lectern:plugin/content@0.1.0"]},
        "capabilities": {"kv_quota_bytes": 65536, "publish": ["hello.said"], "clock": true},
        "resources": {"memory_mib": 32, "call_timeout_ms": 1000},
        "kernel": ">=0.1, <0.2",
        "data_version": 1
    }"#;
    serde_json::from_str(json).unwrap_or_else(|e| panic!("sample manifest: {e}"))
}

/// A signed sample package; `assets` small files under `assets/`.
pub fn sample_package(component: &[u8], assets: &[(&str, &[u8])]) -> Result<Package, MarketError> {
    let assets: BTreeMap<String, Vec<u8>> = assets.iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
    let mut p = Package::new(sample_manifest(), component.to_vec(), assets)?;
    p.sign(&key(5))?;
    Ok(p)
}

/// The publisher of the sample index and its role file's name.
pub const PUBLISHER: &str = "org.example";
/// The target the sample index lists.
pub const TARGET: &str = "org.example.hello/1.0.0/org.example.hello-1.0.0.lpkg";

/// Fixed-seed keys: 1 root, 2 targets, 3 snapshot, 4 timestamp (rotated
/// away from in root version 2), 6 the timestamp key of root version 2,
/// 5 the publisher, 7 a key nobody delegates to.
pub const SIGNING_SEEDS: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

/// A real index: what a client would fetch, and the states it would trust.
pub struct Index {
    pub now: OffsetDateTime,
    /// `metadata/1.root.json`: the pinned root.
    pub root_v1: Vec<u8>,
    /// The served metadata files, by file name under `metadata/`
    /// (`2.root.json`, `timestamp.json`, `snapshot.json`, `targets.json`, `org.example.json`).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The state trusted from the pinned root alone.
    pub pinned: TrustedState,
    /// The state after a successful update from `pinned`.
    pub updated: TrustedState,
    /// The keys of `SIGNING_SEEDS`, in that order.
    pub keys: Vec<KeyPair>,
}

impl Index {
    pub fn get() -> &'static Index {
        static INDEX: OnceLock<Index> = OnceLock::new();
        INDEX.get_or_init(|| Index::build().unwrap_or_else(|e| panic!("building the sample index: {e}")))
    }

    /// The role keys: `root`, `targets`, `snapshot`, `timestamp` (root version 2's), or a publisher's.
    pub fn role_key(&self, role: &str) -> &KeyPair {
        let seed = match role {
            "root" => 1,
            "targets" => 2,
            "snapshot" => 3,
            "timestamp" => 6,
            _ => 5,
        };
        &self.keys[SIGNING_SEEDS.iter().position(|s| *s == seed).unwrap_or(0)]
    }

    fn build() -> Result<Index, MarketError> {
        let now = OffsetDateTime::from_unix_timestamp(1_893_456_000).map_err(|e| MarketError::Io(e.to_string()))?; // 2030-01-01
        let dir = std::env::temp_dir().join(format!("lectern-fuzz-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let keys = RepoKeys {
            root: vec![key(1)],
            targets: key(2),
            online: OnlineKeys { snapshot: key(3), timestamp: key(4) },
        };
        let repo = Repository::init(&dir, &keys, 1, now)?;
        repo.add_publisher(&keys.targets, &keys.online, PUBLISHER, &[key(5).public()], 1, now)?;
        let package = sample_package(b"\0asm\x0d\0\x01\0", &[])?.pack()?;
        repo.add_target(&keys.online, PUBLISHER, &[key(5)], TARGET, &package, None, now)?;
        repo.add_target(
            &keys.online,
            PUBLISHER,
            &[key(5)],
            "org.example.hello/0.9.0/org.example.hello-0.9.0.lpkg",
            b"older",
            Some(serde_json::json!({"note": "first"})),
            now,
        )?;
        repo.yank(
            &keys.online,
            PUBLISHER,
            &[key(5)],
            "org.example.hello/0.9.0/org.example.hello-0.9.0.lpkg",
            "old",
            now,
        )?;
        repo.revoke_package(&keys.targets, &keys.online, "org.example.hello", "0.8.0", "broken", now)?;
        // A root rotation, so the client walks the root chain.
        repo.rotate_key(&keys.root, TopRole::Timestamp, &key(6).public(), now)?;
        let online = OnlineKeys { snapshot: key(3), timestamp: key(6) };
        repo.refresh_timestamp(&online, now)?;

        let read = |name: &str| std::fs::read(repo.meta_path(name));
        let root_v1 = read("1.root.json")?;
        let mut files = BTreeMap::new();
        for name in ["2.root.json", "timestamp.json", "snapshot.json", "targets.json", "org.example.json"] {
            files.insert(name.to_string(), read(name)?);
        }
        let _ = std::fs::remove_dir_all(&dir);
        let pinned = TrustedState::from_root(&root_v1)?;
        let updated = pinned.update(&MapFetch::new(&files), now)?;
        if updated.targets().len() != 2 {
            return Err(MarketError::Io(format!("the sample index resolves {:?}", updated.targets())));
        }
        Ok(Index { now, root_v1, files, pinned, updated, keys: SIGNING_SEEDS.iter().map(|s| key(*s)).collect() })
    }
}

/// Serves metadata files from memory: `metadata/<name>` for each file
/// name, and `metadata/<N>.<role>.json` (consistent snapshots) as `<role>.json`.
#[derive(Debug, Default)]
pub struct MapFetch {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Served for any other `metadata/<role>.json` (a delegated role the fuzzer names).
    pub other: Option<Vec<u8>>,
}

impl MapFetch {
    pub fn new(files: &BTreeMap<String, Vec<u8>>) -> MapFetch {
        MapFetch { files: files.clone(), other: None }
    }

    fn lookup(&self, path: &str) -> Option<&Vec<u8>> {
        let name = path.strip_prefix("metadata/")?;
        if let Some(b) = self.files.get(name) {
            return Some(b);
        }
        if name.ends_with(".root.json") {
            return None;
        }
        // `<version>.<role>.json`
        if let Some((v, rest)) = name.split_once('.')
            && !v.is_empty()
            && v.bytes().all(|b| b.is_ascii_digit())
            && let Some(b) = self.files.get(rest)
        {
            return Some(b);
        }
        self.other.as_ref()
    }
}

impl tuf::Fetch for MapFetch {
    fn fetch(&self, path: &str, max_len: u64) -> Result<Option<Vec<u8>>, MarketError> {
        match self.lookup(path) {
            None => Ok(None),
            Some(b) if b.len() as u64 > max_len => {
                Err(MarketError::TooLarge(format!("{path}: more than {max_len} bytes")))
            }
            Some(b) => Ok(Some(b.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the seed corpus when `LECTERN_FUZZ_WRITE_SEEDS=1` (run from
    /// `marketplace/fuzz`: `LECTERN_FUZZ_WRITE_SEEDS=1 cargo test`); otherwise
    /// checks that the seeds it would write are accepted.
    #[test]
    fn seeds() {
        use wasm_encoder::{
            Component, ComponentExportKind, ComponentExportSection, ComponentImportSection, ComponentTypeRef,
        };
        use wasm_encoder::{ComponentTypeSection, InstanceType};

        let mut component = Component::new();
        let mut types = ComponentTypeSection::new();
        types.instance(&InstanceType::new());
        component.section(&types);
        let mut imports = ComponentImportSection::new();
        imports.import("lectern:plugin/kv@0.1.0", ComponentTypeRef::Instance(0));
        component.section(&imports);
        let mut exports = ComponentExportSection::new();
        exports.export("lectern:plugin/content@0.1.0", ComponentExportKind::Instance, 0, None);
        component.section(&exports);
        let wasm = component.finish();
        let wit = lectern_marketplace::package::component_interfaces(&wasm).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wit.imports, ["lectern:plugin/kv@0.1.0"]);

        let with_asset = sample_package(&wasm, &[("assets/readme.txt", b"hello\n")]).unwrap_or_else(|e| panic!("{e}"));
        let mut unsigned = sample_package(b"\0asm\x0d\0\x01\0", &[]).unwrap_or_else(|e| panic!("{e}"));
        unsigned.signature = None;
        let packages = [with_asset.pack(), unsigned.pack()].map(|p| p.unwrap_or_else(|e| panic!("{e}")));
        for p in &packages {
            let again = gzip(&gunzip(p).unwrap_or_else(|e| panic!("{e}")));
            Package::read(&again, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
            Package::read(p, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
            Package::read(p, &SMALL_LIMITS).unwrap_or_else(|e| panic!("{e}"));
        }
        let manifests = [with_asset.manifest_bytes.clone(), unsigned.manifest_bytes.clone()];
        for m in &manifests {
            PackageManifest::parse(m, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        }
        Index::get();

        if std::env::var("LECTERN_FUZZ_WRITE_SEEDS").as_deref() == Ok("1") {
            let write = |target: &str, name: &str, bytes: &[u8]| {
                let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
                std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
            };
            // package_read: a mode byte, then a package (0) or the tar inside it (1).
            let mode = |m: u8, bytes: &[u8]| [&[m][..], bytes].concat();
            let tar = |p: &[u8]| gunzip(p).unwrap_or_else(|e| panic!("{e}"));
            write("package_read", "seed-signed-with-asset.lpkg", &mode(0, &packages[0]));
            write("package_read", "seed-unsigned.lpkg", &mode(0, &packages[1]));
            write("package_read", "seed-signed-with-asset.tar", &mode(1, &tar(&packages[0])));
            write("package_read", "seed-unsigned.tar", &mode(1, &tar(&packages[1])));
            write("manifest_parse", "seed-with-asset.json", &manifests[0]);
            write("manifest_parse", "seed-no-asset.json", &manifests[1]);
            write("component_interfaces", "seed-kv-content.wasm", &wasm);
        }
    }
}

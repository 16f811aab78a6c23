//! The repository side: writes and signs the marketplace's metadata.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::metadata::{
    DelegatedRole, Delegations, Envelope, MetaFile, RoleKeys, Root, SPEC_VERSION, Snapshot, TargetFile, Targets,
    Timestamp, check_delegated, check_top_level, expires_in, parse_envelope, sha256_hex, sign, typed,
};
use crate::MarketError;
use crate::keys::{KeyPair, PublicKey};

/// How long each role's metadata is valid for when it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    pub root: Duration,
    pub targets: Duration,
    /// Delegated (publisher) roles.
    pub publisher: Duration,
    pub snapshot: Duration,
    pub timestamp: Duration,
}

impl Default for Expiry {
    fn default() -> Expiry {
        Expiry {
            root: Duration::days(365),
            targets: Duration::days(365),
            publisher: Duration::days(365),
            snapshot: Duration::days(30),
            timestamp: Duration::days(1),
        }
    }
}

/// The keys of the roles re-signed on every change (they live on the server).
#[derive(Debug)]
pub struct OnlineKeys {
    pub snapshot: KeyPair,
    pub timestamp: KeyPair,
}

impl OnlineKeys {
    pub fn generate() -> Result<OnlineKeys, MarketError> {
        Ok(OnlineKeys { snapshot: KeyPair::generate()?, timestamp: KeyPair::generate()? })
    }

    /// Reads `snapshot.pem` and `timestamp.pem` from `dir`.
    pub fn read(dir: &Path) -> Result<OnlineKeys, MarketError> {
        Ok(OnlineKeys {
            snapshot: KeyPair::read(&dir.join("snapshot.pem"))?,
            timestamp: KeyPair::read(&dir.join("timestamp.pem"))?,
        })
    }

    /// Writes `snapshot.pem` and `timestamp.pem` into `dir` (refuses to overwrite).
    pub fn write(&self, dir: &Path) -> Result<(), MarketError> {
        std::fs::create_dir_all(dir)?;
        self.snapshot.write(&dir.join("snapshot.pem"))?;
        self.timestamp.write(&dir.join("timestamp.pem"))
    }
}

/// All of a marketplace's keys: root (offline; any number), targets (the
/// operator's, signs delegations and revocations) and the online keys.
#[derive(Debug)]
pub struct RepoKeys {
    pub root: Vec<KeyPair>,
    pub targets: KeyPair,
    pub online: OnlineKeys,
}

impl RepoKeys {
    /// New keys, one root key.
    pub fn generate() -> Result<RepoKeys, MarketError> {
        RepoKeys::generate_with(1)
    }

    /// New keys, `root_keys` root keys.
    pub fn generate_with(root_keys: usize) -> Result<RepoKeys, MarketError> {
        Ok(RepoKeys {
            root: (0..root_keys).map(|_| KeyPair::generate()).collect::<Result<_, _>>()?,
            targets: KeyPair::generate()?,
            online: OnlineKeys::generate()?,
        })
    }

    /// Writes `root-1.pem`.. `root-N.pem`, `targets.pem`, `snapshot.pem` and
    /// `timestamp.pem` into `dir` (mode 0600; refuses to overwrite).
    pub fn write(&self, dir: &Path) -> Result<(), MarketError> {
        std::fs::create_dir_all(dir)?;
        for (i, k) in self.root.iter().enumerate() {
            k.write(&dir.join(format!("root-{}.pem", i + 1)))?;
        }
        self.targets.write(&dir.join("targets.pem"))?;
        self.online.write(dir)
    }

    /// Reads what [`RepoKeys::write`] wrote (`root-1.pem` onwards, while they exist).
    pub fn read(dir: &Path) -> Result<RepoKeys, MarketError> {
        let mut root = Vec::new();
        while dir.join(format!("root-{}.pem", root.len() + 1)).exists() {
            root.push(KeyPair::read(&dir.join(format!("root-{}.pem", root.len() + 1)))?);
        }
        if root.is_empty() {
            return Err(MarketError::Key(format!("no root-1.pem in {}", dir.display())));
        }
        Ok(RepoKeys { root, targets: KeyPair::read(&dir.join("targets.pem"))?, online: OnlineKeys::read(dir)? })
    }
}

/// The top-level roles whose key a root rotation can replace (besides root's own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopRole {
    Targets,
    Snapshot,
    Timestamp,
}

impl TopRole {
    pub fn name(self) -> &'static str {
        match self {
            TopRole::Targets => "targets",
            TopRole::Snapshot => "snapshot",
            TopRole::Timestamp => "timestamp",
        }
    }
}

/// Whether `s` is a publisher id: a reverse-DNS namespace, at least two
/// dot-separated parts of `a-z`, `0-9` and `-`.
pub fn valid_publisher_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.len() <= 128
        && parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

/// Checks a target path `<plugin id>/<version>/<file name>` and returns the id and version.
pub fn check_target_path(path: &str) -> Result<(&str, &str), MarketError> {
    let bad = |detail: &str| MarketError::Malformed { what: format!("target path {path:?}"), detail: detail.into() };
    let segs: Vec<&str> = path.split('/').collect();
    let [id, version, name] = segs.as_slice() else {
        return Err(bad("expected <plugin id>/<version>/<file name>"));
    };
    if !valid_publisher_id(id) {
        return Err(bad("the plugin id is not dot-separated parts of a-z, 0-9 and -"));
    }
    semver::Version::parse(version).map_err(|e| bad(&format!("version: {e}")))?;
    if name.is_empty()
        || name.starts_with('.')
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
    {
        return Err(bad("the file name must be non-empty, not start with '.', and use A-Z a-z 0-9 . _ - +"));
    }
    Ok((id, version))
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced before it is renamed over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MarketError> {
    let dir = path.parent().ok_or_else(|| MarketError::Io(format!("{}: no parent directory", path.display())))?;
    std::fs::create_dir_all(dir)?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| MarketError::Io(format!("no randomness: {e}")))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(MarketError::Io(format!("{}: {e}", path.display())));
    }
    // The rename itself is durable once the directory is synced (not possible everywhere).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn wrong_key(role: &str, keys: &RoleKeys, key: &KeyPair) -> MarketError {
    MarketError::WrongKey {
        what: format!("{role} metadata"),
        expected: keys.keyids.join(","),
        found: key.public().key_id(),
    }
}

/// `Ok` when `key` is one of `role`'s keys in `root`.
fn authorize(root: &Root, role: &str, key: &KeyPair) -> Result<(), MarketError> {
    let r = root
        .roles
        .get(role)
        .ok_or_else(|| MarketError::Malformed { what: "root metadata".into(), detail: format!("no {role} role") })?;
    if r.keyids.contains(&key.public().key_id()) { Ok(()) } else { Err(wrong_key(role, r, key)) }
}

fn key_value(key: &PublicKey) -> Result<Value, MarketError> {
    serde_json::to_value(key).map_err(|e| MarketError::Malformed { what: "key".into(), detail: e.to_string() })
}

/// A marketplace directory: `metadata/` and `packages/` (see the module documentation).
#[derive(Clone, Debug)]
pub struct Repository {
    dir: PathBuf,
    expiry: Expiry,
}

impl Repository {
    /// Creates `metadata/` and `packages/` in `dir` with root version 1
    /// (`root_threshold` of `keys.root` must sign root changes), empty
    /// targets, a snapshot and a timestamp. Refuses a directory that already
    /// holds a marketplace.
    pub fn init(
        dir: &Path,
        keys: &RepoKeys,
        root_threshold: u32,
        now: OffsetDateTime,
    ) -> Result<Repository, MarketError> {
        Repository::init_with(dir, keys, root_threshold, Expiry::default(), now)
    }

    /// [`Repository::init`] with other validity periods.
    pub fn init_with(
        dir: &Path,
        keys: &RepoKeys,
        root_threshold: u32,
        expiry: Expiry,
        now: OffsetDateTime,
    ) -> Result<Repository, MarketError> {
        let repo = Repository { dir: dir.to_path_buf(), expiry };
        if repo.meta_path("root.json").exists() {
            return Err(MarketError::Malformed {
                what: "marketplace directory".into(),
                detail: format!("{} already holds a marketplace", dir.display()),
            });
        }
        let root_ids = distinct_ids(&keys.root.iter().collect::<Vec<_>>());
        if root_threshold == 0 || root_threshold as usize > root_ids.len() {
            return Err(MarketError::Malformed {
                what: "root threshold".into(),
                detail: format!("{root_threshold} of {} root key(s)", root_ids.len()),
            });
        }
        std::fs::create_dir_all(dir.join("metadata"))?;
        std::fs::create_dir_all(dir.join("packages"))?;
        let mut all_keys = BTreeMap::new();
        for k in keys.root.iter().chain([&keys.targets, &keys.online.snapshot, &keys.online.timestamp]) {
            all_keys.insert(k.public().key_id(), key_value(&k.public())?);
        }
        let one = |k: &KeyPair| RoleKeys { keyids: vec![k.public().key_id()], threshold: 1 };
        let root = Root {
            kind: "root".into(),
            spec_version: SPEC_VERSION.into(),
            consistent_snapshot: false,
            version: 1,
            expires: expires_in(now, expiry.root),
            keys: all_keys,
            roles: BTreeMap::from([
                ("root".to_string(), RoleKeys { keyids: root_ids, threshold: root_threshold }),
                ("targets".to_string(), one(&keys.targets)),
                ("snapshot".to_string(), one(&keys.online.snapshot)),
                ("timestamp".to_string(), one(&keys.online.timestamp)),
            ]),
        };
        let signers: Vec<&KeyPair> = keys.root.iter().collect();
        let bytes = sign(&root, &signers)?;
        check_top_level(&parse_envelope(&bytes, "root")?, &root, "root")?;
        write_atomic(&repo.meta_path("1.root.json"), &bytes)?;
        write_atomic(&repo.meta_path("root.json"), &bytes)?;

        let targets = Targets::empty(1, expires_in(now, expiry.targets));
        write_atomic(&repo.meta_path("targets.json"), &sign(&targets, &[&keys.targets])?)?;
        let snapshot = Snapshot {
            kind: "snapshot".into(),
            spec_version: SPEC_VERSION.into(),
            version: 0,
            expires: String::new(),
            meta: BTreeMap::new(),
        };
        repo.write_snapshot_from(snapshot, &keys.online, &root, Some(("targets.json".into(), 1)), now)?;
        Ok(repo)
    }

    /// Opens the marketplace in `dir` (which must hold `metadata/root.json`).
    pub fn open(dir: &Path) -> Result<Repository, MarketError> {
        let repo = Repository { dir: dir.to_path_buf(), expiry: Expiry::default() };
        if !repo.meta_path("root.json").exists() {
            return Err(MarketError::NotFound(format!("{}: no metadata/root.json", dir.display())));
        }
        Ok(repo)
    }

    /// The same repository, signing with other validity periods.
    pub fn with_expiry(mut self, expiry: Expiry) -> Repository {
        self.expiry = expiry;
        self
    }

    /// The served directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `metadata/<file>` in the served directory.
    pub fn meta_path(&self, file: &str) -> PathBuf {
        self.dir.join("metadata").join(file)
    }

    fn read_env(&self, file: &str, role: &str) -> Result<Envelope, MarketError> {
        let path = self.meta_path(file);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MarketError::NotFound(path.display().to_string()));
            }
            Err(e) => return Err(MarketError::Io(format!("{}: {e}", path.display()))),
        };
        parse_envelope(&bytes, role)
    }

    /// The current root metadata.
    pub fn root(&self) -> Result<Root, MarketError> {
        typed(&self.read_env("root.json", "root")?, "root", "root")
    }

    /// The current top-level targets metadata.
    pub fn targets(&self) -> Result<Targets, MarketError> {
        typed(&self.read_env("targets.json", "targets")?, "targets", "targets")
    }

    /// A publisher's role metadata (`None` before its first target).
    pub fn publisher_role(&self, publisher: &str) -> Result<Option<Targets>, MarketError> {
        match self.read_env(&format!("{publisher}.json"), publisher) {
            Ok(env) => typed(&env, publisher, "targets").map(Some),
            Err(MarketError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn snapshot(&self) -> Result<Snapshot, MarketError> {
        typed(&self.read_env("snapshot.json", "snapshot")?, "snapshot", "snapshot")
    }

    /// Sets `update` in the snapshot, signs a new snapshot version, then a new timestamp.
    fn write_snapshot(
        &self,
        online: &OnlineKeys,
        update: Option<(String, u64)>,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let root = self.root()?;
        self.write_snapshot_from(self.snapshot()?, online, &root, update, now)
    }

    fn write_snapshot_from(
        &self,
        mut snapshot: Snapshot,
        online: &OnlineKeys,
        root: &Root,
        update: Option<(String, u64)>,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        authorize(root, "snapshot", &online.snapshot)?;
        authorize(root, "timestamp", &online.timestamp)?;
        if let Some((file, version)) = update {
            // Entries are never removed: a client refuses a snapshot that drops a role it trusted.
            snapshot.meta.insert(file, MetaFile { version, length: None, hashes: None });
        }
        snapshot.version += 1;
        snapshot.expires = expires_in(now, self.expiry.snapshot);
        write_atomic(&self.meta_path("snapshot.json"), &sign(&snapshot, &[&online.snapshot])?)?;
        self.write_timestamp(online, root, now)
    }

    /// A new timestamp version over the `snapshot.json` on disk.
    fn write_timestamp(&self, online: &OnlineKeys, root: &Root, now: OffsetDateTime) -> Result<(), MarketError> {
        authorize(root, "timestamp", &online.timestamp)?;
        let snapshot_bytes = std::fs::read(self.meta_path("snapshot.json"))?;
        let snapshot: Snapshot = typed(&parse_envelope(&snapshot_bytes, "snapshot")?, "snapshot", "snapshot")?;
        let version = match self.read_env("timestamp.json", "timestamp") {
            Ok(env) => typed::<Timestamp>(&env, "timestamp", "timestamp")?.version + 1,
            Err(MarketError::NotFound(_)) => 1,
            Err(e) => return Err(e),
        };
        let timestamp = Timestamp {
            kind: "timestamp".into(),
            spec_version: SPEC_VERSION.into(),
            version,
            expires: expires_in(now, self.expiry.timestamp),
            meta: BTreeMap::from([(
                "snapshot.json".to_string(),
                MetaFile {
                    version: snapshot.version,
                    length: Some(snapshot_bytes.len() as u64),
                    hashes: Some(BTreeMap::from([("sha256".to_string(), sha256_hex(&snapshot_bytes))])),
                },
            )]),
        };
        write_atomic(&self.meta_path("timestamp.json"), &sign(&timestamp, &[&online.timestamp])?)
    }

    /// Applies `change` to the top-level targets, signs a new version with
    /// `targets_key`, then a new snapshot and timestamp.
    fn write_targets(
        &self,
        targets_key: &KeyPair,
        online: &OnlineKeys,
        now: OffsetDateTime,
        change: impl FnOnce(&mut Targets) -> Result<(), MarketError>,
    ) -> Result<(), MarketError> {
        let root = self.root()?;
        authorize(&root, "targets", targets_key)?;
        authorize(&root, "snapshot", &online.snapshot)?;
        authorize(&root, "timestamp", &online.timestamp)?;
        let mut targets = self.targets()?;
        change(&mut targets)?;
        targets.version += 1;
        targets.expires = expires_in(now, self.expiry.targets);
        write_atomic(&self.meta_path("targets.json"), &sign(&targets, &[targets_key])?)?;
        self.write_snapshot(online, Some(("targets.json".into(), targets.version)), now)
    }

    /// The delegation of `publisher`, checked against the keys offered for it
    /// (each must be one of its keys, and they must reach its threshold).
    fn delegation(
        &self,
        top: &Targets,
        publisher: &str,
        keys: &[KeyPair],
        id: &str,
    ) -> Result<DelegatedRole, MarketError> {
        let not_delegated = || MarketError::NotDelegated { publisher: publisher.to_string(), id: id.to_string() };
        if let Some(reason) = top.revoked.as_ref().and_then(|r| r.publisher(publisher)) {
            return Err(MarketError::Revoked { what: format!("publisher {publisher}"), reason: reason.to_string() });
        }
        let d = top.delegation(publisher).ok_or_else(not_delegated)?.clone();
        if keys.iter().any(|k| !d.keyids.contains(&k.public().key_id())) {
            return Err(not_delegated());
        }
        let valid = distinct_ids(&keys.iter().collect::<Vec<_>>()).len();
        if valid < d.threshold as usize {
            return Err(MarketError::Threshold { role: publisher.to_string(), valid, threshold: d.threshold });
        }
        Ok(d)
    }

    /// Applies `change` to a publisher's role, signs a new version with the
    /// publisher's keys, then a new snapshot and timestamp.
    fn write_publisher(
        &self,
        online: &OnlineKeys,
        top: &Targets,
        delegation: &DelegatedRole,
        keys: &[KeyPair],
        now: OffsetDateTime,
        change: impl FnOnce(&mut Targets) -> Result<(), MarketError>,
    ) -> Result<(), MarketError> {
        let name = &delegation.name;
        let mut role = self.publisher_role(name)?.unwrap_or_else(|| Targets::empty(0, String::new()));
        change(&mut role)?;
        role.version += 1;
        role.expires = expires_in(now, self.expiry.publisher);
        let signers: Vec<&KeyPair> = keys.iter().collect();
        let bytes = sign(&role, &signers)?;
        check_delegated(&parse_envelope(&bytes, name)?, top, delegation)?;
        write_atomic(&self.meta_path(&format!("{name}.json")), &bytes)?;
        self.write_snapshot(online, Some((format!("{name}.json"), role.version)), now)
    }

    /// Delegates the namespace `<publisher>.*` (paths `<publisher>.*/*/*`) to
    /// `keys` (`threshold` of which must sign the publisher's role),
    /// terminating. Refuses a revoked publisher, one already delegated, and
    /// one whose namespace contains or is contained in another's.
    pub fn add_publisher(
        &self,
        targets_key: &KeyPair,
        online: &OnlineKeys,
        publisher: &str,
        keys: &[PublicKey],
        threshold: u32,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let bad = |detail: String| MarketError::Malformed { what: format!("publisher {publisher}"), detail };
        if !valid_publisher_id(publisher) {
            return Err(bad("a publisher id is at least two dot-separated parts of a-z, 0-9 and -".into()));
        }
        let mut ids = Vec::new();
        for k in keys {
            k.validate()?;
            if !ids.contains(&k.key_id()) {
                ids.push(k.key_id());
            }
        }
        if threshold == 0 || threshold as usize > ids.len() {
            return Err(bad(format!("threshold {threshold} of {} key(s)", ids.len())));
        }
        self.write_targets(targets_key, online, now, |targets| {
            if let Some(reason) = targets.revoked.as_ref().and_then(|r| r.publisher(publisher)) {
                return Err(MarketError::Revoked {
                    what: format!("publisher {publisher}"),
                    reason: reason.to_string(),
                });
            }
            for r in targets.delegated_roles() {
                if r.name == publisher {
                    return Err(bad("already delegated".into()));
                }
                if publisher.starts_with(&format!("{}.", r.name)) || r.name.starts_with(&format!("{publisher}.")) {
                    return Err(bad(format!("its namespace overlaps publisher {}'s", r.name)));
                }
            }
            let delegations = targets.delegations.get_or_insert_with(Delegations::default);
            for k in keys {
                delegations.keys.insert(k.key_id(), key_value(k)?);
            }
            delegations.roles.push(DelegatedRole {
                name: publisher.to_string(),
                keyids: ids,
                threshold,
                terminating: true,
                paths: Some(vec![format!("{publisher}.*/*/*")]),
                path_hash_prefixes: None,
            });
            Ok(())
        })
    }

    /// Copies `bytes` to `packages/<target_path>` and lists it (with
    /// `custom`) in the publisher's role, signed with `publisher_keys`; then a
    /// new snapshot and timestamp. `NotDelegated` unless every key is one the
    /// publisher's delegation lists and its paths cover `target_path`.
    #[allow(clippy::too_many_arguments)]
    pub fn add_target(
        &self,
        online: &OnlineKeys,
        publisher: &str,
        publisher_keys: &[KeyPair],
        target_path: &str,
        bytes: &[u8],
        custom: Option<Value>,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let (id, version) = check_target_path(target_path)?;
        let top = self.targets()?;
        if let Some(reason) = top.revoked.as_ref().and_then(|r| r.package(id, version)) {
            return Err(MarketError::Revoked { what: format!("{id}@{version}"), reason: reason.to_string() });
        }
        let d = self.delegation(&top, publisher, publisher_keys, id)?;
        if !d.matches(target_path) {
            return Err(MarketError::NotDelegated { publisher: publisher.to_string(), id: id.to_string() });
        }
        write_atomic(&self.dir.join("packages").join(target_path), bytes)?;
        let file = TargetFile {
            length: bytes.len() as u64,
            hashes: BTreeMap::from([("sha256".to_string(), sha256_hex(bytes))]),
            custom,
        };
        self.write_publisher(online, &top, &d, publisher_keys, now, |role| {
            role.targets.insert(target_path.to_string(), file);
            Ok(())
        })
    }

    /// Marks a target yanked (`custom.lectern.yanked = reason`) in the publisher's role.
    #[allow(clippy::too_many_arguments)]
    pub fn yank(
        &self,
        online: &OnlineKeys,
        publisher: &str,
        publisher_keys: &[KeyPair],
        target_path: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let (id, _) = check_target_path(target_path)?;
        let top = self.targets()?;
        let d = self.delegation(&top, publisher, publisher_keys, id)?;
        self.write_publisher(online, &top, &d, publisher_keys, now, |role| {
            let file = role
                .targets
                .get_mut(target_path)
                .ok_or_else(|| MarketError::NotFound(format!("{publisher} lists no {target_path}")))?;
            let not_object =
                || MarketError::Malformed { what: format!("custom of {target_path}"), detail: "not an object".into() };
            let custom = file.custom.get_or_insert_with(|| Value::Object(Default::default()));
            let lectern = custom
                .as_object_mut()
                .ok_or_else(not_object)?
                .entry("lectern")
                .or_insert_with(|| Value::Object(Default::default()));
            lectern.as_object_mut().ok_or_else(not_object)?.insert("yanked".into(), Value::String(reason.into()));
            Ok(())
        })
    }

    /// Re-signs a publisher's role unchanged with a new expiry (a publisher
    /// who publishes nothing for a year must still do this).
    pub fn resign_publisher(
        &self,
        online: &OnlineKeys,
        publisher: &str,
        publisher_keys: &[KeyPair],
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let top = self.targets()?;
        let d = self.delegation(&top, publisher, publisher_keys, publisher)?;
        self.write_publisher(online, &top, &d, publisher_keys, now, |_| Ok(()))
    }

    /// Revokes one package version (`x-lectern-revoked.packages["id@version"]`).
    #[allow(clippy::too_many_arguments)]
    pub fn revoke_package(
        &self,
        targets_key: &KeyPair,
        online: &OnlineKeys,
        id: &str,
        version: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        check_target_path(&format!("{id}/{version}/x"))?;
        self.write_targets(targets_key, online, now, |targets| {
            targets
                .revoked
                .get_or_insert_with(Default::default)
                .packages
                .insert(format!("{id}@{version}"), reason.into());
            Ok(())
        })
    }

    /// Revokes a publisher: records it in `x-lectern-revoked.publishers` and
    /// removes its delegation (and its keys, unless another delegation uses
    /// them). Its role file stays, and stays listed in the snapshot.
    pub fn revoke_publisher(
        &self,
        targets_key: &KeyPair,
        online: &OnlineKeys,
        publisher: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        if !valid_publisher_id(publisher) {
            return Err(MarketError::Malformed {
                what: format!("publisher {publisher}"),
                detail: "not a publisher id".into(),
            });
        }
        self.write_targets(targets_key, online, now, |targets| {
            targets.revoked.get_or_insert_with(Default::default).publishers.insert(publisher.into(), reason.into());
            if let Some(d) = &mut targets.delegations {
                d.roles.retain(|r| r.name != publisher);
                let used: Vec<String> = d.roles.iter().flat_map(|r| r.keyids.clone()).collect();
                d.keys.retain(|id, _| used.contains(id));
            }
            Ok(())
        })
    }

    /// Signs and writes root version N+1 made by `change` from version N:
    /// signed by `old_signers` (a threshold of version N's root keys) and
    /// `new_signers` (a threshold of its own).
    fn write_root(
        &self,
        old_signers: &[KeyPair],
        new_signers: &[KeyPair],
        now: OffsetDateTime,
        change: impl FnOnce(&mut Root) -> Result<(), MarketError>,
    ) -> Result<(), MarketError> {
        let old = self.root()?;
        let mut new = old.clone();
        change(&mut new)?;
        new.version = old.version + 1;
        new.expires = expires_in(now, self.expiry.root);
        let signers: Vec<&KeyPair> = old_signers.iter().chain(new_signers).collect();
        let bytes = sign(&new, &signers)?;
        let env = parse_envelope(&bytes, "root")?;
        check_top_level(&env, &old, "root")?;
        check_top_level(&env, &new, "root")?;
        write_atomic(&self.meta_path(&format!("{}.root.json", new.version)), &bytes)?;
        write_atomic(&self.meta_path("root.json"), &bytes)
    }

    /// New root version with `new_root_keys` (threshold `threshold`) as the
    /// root keys, signed by a threshold of the old root keys and of the new.
    pub fn rotate_root(
        &self,
        old_root_keys: &[KeyPair],
        new_root_keys: &[KeyPair],
        threshold: u32,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        let new_ids = distinct_ids(&new_root_keys.iter().collect::<Vec<_>>());
        if threshold == 0 || threshold as usize > new_ids.len() {
            return Err(MarketError::Malformed {
                what: "root threshold".into(),
                detail: format!("{threshold} of {} root key(s)", new_ids.len()),
            });
        }
        self.write_root(old_root_keys, new_root_keys, now, |root| {
            for k in new_root_keys {
                root.keys.insert(k.public().key_id(), key_value(&k.public())?);
            }
            root.roles.insert("root".into(), RoleKeys { keyids: new_ids, threshold });
            prune_root_keys(root);
            Ok(())
        })
    }

    /// New root version in which `role`'s key is `new_key` (threshold 1),
    /// signed by `root_keys`. Re-sign that role's metadata with the new key
    /// afterwards ([`Repository::refresh_targets`], [`Repository::refresh_snapshot`]
    /// or [`Repository::refresh_timestamp`]).
    pub fn rotate_key(
        &self,
        root_keys: &[KeyPair],
        role: TopRole,
        new_key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        new_key.validate()?;
        self.write_root(root_keys, &[], now, |root| {
            root.keys.insert(new_key.key_id(), key_value(new_key)?);
            root.roles.insert(role.name().into(), RoleKeys { keyids: vec![new_key.key_id()], threshold: 1 });
            prune_root_keys(root);
            Ok(())
        })
    }

    /// Re-signs the top-level targets unchanged (new version and expiry), then snapshot and timestamp.
    pub fn refresh_targets(
        &self,
        targets_key: &KeyPair,
        online: &OnlineKeys,
        now: OffsetDateTime,
    ) -> Result<(), MarketError> {
        self.write_targets(targets_key, online, now, |_| Ok(()))
    }

    /// Re-signs the snapshot (new version and expiry), then the timestamp.
    pub fn refresh_snapshot(&self, online: &OnlineKeys, now: OffsetDateTime) -> Result<(), MarketError> {
        self.write_snapshot(online, None, now)
    }

    /// Re-signs the timestamp (new version and expiry) over the current
    /// snapshot: what a cron job runs at least daily.
    pub fn refresh_timestamp(&self, online: &OnlineKeys, now: OffsetDateTime) -> Result<(), MarketError> {
        self.write_timestamp(online, &self.root()?, now)
    }
}

fn distinct_ids(keys: &[&KeyPair]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for k in keys {
        let id = k.public().key_id();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Drops keys no role of the root uses any more.
fn prune_root_keys(root: &mut Root) {
    let used: Vec<String> = root.roles.values().flat_map(|r| r.keyids.clone()).collect();
    root.keys.retain(|id, _| used.contains(id));
}

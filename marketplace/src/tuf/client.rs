//! The verifying client: the trusted state and the update workflow of the
//! TUF specification (section 5, "Detailed client workflow").

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::metadata::{
    Envelope, MetaFile, Revocations, Root, Snapshot, TargetFile, Targets, Timestamp, check_delegated, check_expiry,
    check_hashes, check_meta_file, check_top_level, parse_envelope, path_matches, typed,
};
use super::{
    MAX_DELEGATED_ROLES, MAX_DELEGATION_DEPTH, MAX_ROOT_LEN, MAX_ROOT_ROTATIONS, MAX_SNAPSHOT_LEN, MAX_TARGETS_LEN,
    MAX_TIMESTAMP_LEN,
};
use crate::MarketError;
use crate::keys::PublicKey;

/// Where the client gets the marketplace's files from.
pub trait Fetch {
    /// The file at `path`, relative to the marketplace's base (e.g.
    /// `metadata/timestamp.json`); `Ok(None)` when there is none (HTTP 404).
    /// Must refuse more than `max_len` bytes with `TooLarge` (without reading them all).
    fn fetch(&self, path: &str, max_len: u64) -> Result<Option<Vec<u8>>, MarketError>;
}

/// A marketplace in a local directory (tests, `file://` marketplaces).
#[derive(Clone, Debug)]
pub struct DirFetch(pub PathBuf);

impl Fetch for DirFetch {
    fn fetch(&self, path: &str, max_len: u64) -> Result<Option<Vec<u8>>, MarketError> {
        let rel = Path::new(path);
        if path.is_empty() || path.contains('\\') || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(MarketError::Malformed { what: "marketplace path".into(), detail: format!("{path:?}") });
        }
        let file = match std::fs::File::open(self.0.join(rel)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(MarketError::Io(format!("{path}: {e}"))),
        };
        let mut bytes = Vec::new();
        file.take(max_len.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > max_len {
            return Err(MarketError::TooLarge(format!("{path}: more than {max_len} bytes")));
        }
        Ok(Some(bytes))
    }
}

/// A verified metadata file: the bytes as received and their parsed form.
#[derive(Clone, Debug)]
struct Loaded<T> {
    raw: String,
    meta: T,
}

impl<T: serde::de::DeserializeOwned> Loaded<T> {
    fn parse(raw: String, role: &str, kind: &str) -> Result<Loaded<T>, MarketError> {
        let meta = typed(&parse_envelope(raw.as_bytes(), role)?, role, kind)?;
        Ok(Loaded { raw, meta })
    }

    fn from_bytes(bytes: Vec<u8>, env: &Envelope, role: &str, kind: &str) -> Result<Loaded<T>, MarketError> {
        let raw = String::from_utf8(bytes)
            .map_err(|e| MarketError::Malformed { what: format!("{role} metadata"), detail: e.to_string() })?;
        Ok(Loaded { raw, meta: typed(env, role, kind)? })
    }
}

/// The metadata files a client trusts, as they were received. Persist it
/// (it is serialisable) after each successful [`TrustedState::update`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "StoredState", into = "StoredState")]
pub struct TrustedState {
    root: Loaded<Root>,
    timestamp: Option<Loaded<Timestamp>>,
    snapshot: Option<Loaded<Snapshot>>,
    targets: Option<Loaded<Targets>>,
    /// Delegated role name → its metadata.
    delegated: BTreeMap<String, Loaded<Targets>>,
}

#[derive(Serialize, Deserialize)]
struct StoredState {
    root: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    snapshot: Option<String>,
    #[serde(default)]
    targets: Option<String>,
    #[serde(default)]
    delegated: BTreeMap<String, String>,
}

impl TryFrom<StoredState> for TrustedState {
    type Error = MarketError;
    fn try_from(s: StoredState) -> Result<TrustedState, MarketError> {
        Ok(TrustedState {
            root: Loaded::parse(s.root, "root", "root")?,
            timestamp: s.timestamp.map(|r| Loaded::parse(r, "timestamp", "timestamp")).transpose()?,
            snapshot: s.snapshot.map(|r| Loaded::parse(r, "snapshot", "snapshot")).transpose()?,
            targets: s.targets.map(|r| Loaded::parse(r, "targets", "targets")).transpose()?,
            delegated: s
                .delegated
                .into_iter()
                .map(|(name, r)| Ok((name.clone(), Loaded::parse(r, &name, "targets")?)))
                .collect::<Result<_, MarketError>>()?,
        })
    }
}

impl From<TrustedState> for StoredState {
    fn from(s: TrustedState) -> StoredState {
        StoredState {
            root: s.root.raw,
            timestamp: s.timestamp.map(|l| l.raw),
            snapshot: s.snapshot.map(|l| l.raw),
            targets: s.targets.map(|l| l.raw),
            delegated: s.delegated.into_iter().map(|(n, l)| (n, l.raw)).collect(),
        }
    }
}

/// A published target, as the index describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetEntry {
    /// `<plugin id>/<version>/<file name>`.
    pub path: String,
    /// Where to download it, relative to the marketplace base.
    pub download_path: String,
    pub length: u64,
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// Every hash the index gives (`sha256`, possibly others).
    pub hashes: BTreeMap<String, String>,
    /// The delegated role (publisher) that lists it; `None` for the top-level targets role.
    pub publisher: Option<String>,
    /// The keys that role is delegated to (empty for the top-level role).
    pub publisher_keys: Vec<PublicKey>,
    /// `custom.lectern.yanked`: the reason the publisher yanked it.
    pub yanked: Option<String>,
    /// The marketplace's revocation of this package version (`x-lectern-revoked`), if any.
    pub revoked: Option<String>,
    pub custom: Option<Value>,
}

impl TargetEntry {
    /// The plugin id: the first segment of the path.
    pub fn plugin_id(&self) -> &str {
        self.path.split('/').next().unwrap_or("")
    }

    /// The version: the second segment of the path (empty if there is none).
    pub fn version(&self) -> &str {
        self.path.split('/').nth(1).unwrap_or("")
    }
}

/// A publisher's delegation, as the top-level targets role makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub publisher: String,
    pub keys: Vec<PublicKey>,
    pub threshold: u32,
    pub paths: Vec<String>,
}

/// The versions of the trusted metadata (0 = none yet), for display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Versions {
    pub root: u64,
    pub timestamp: u64,
    pub snapshot: u64,
    pub targets: u64,
}

enum Search {
    Found(Box<TargetEntry>),
    NotFound,
    /// A terminating delegation matched and did not list the target.
    Stop,
}

fn role_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !matches!(name, "root" | "targets" | "snapshot" | "timestamp")
}

fn metadata_path(consistent: bool, role: &str, version: u64) -> String {
    if consistent { format!("metadata/{version}.{role}.json") } else { format!("metadata/{role}.json") }
}

/// Downloads a role's file as the snapshot (or timestamp) describes it.
fn fetch_meta(fetch: &dyn Fetch, path: &str, role: &str, meta: &MetaFile, limit: u64) -> Result<Vec<u8>, MarketError> {
    let max = meta.length.map_or(limit, |l| l.min(limit));
    let bytes = fetch.fetch(path, max)?.ok_or_else(|| MarketError::NotFound(path.to_string()))?;
    check_meta_file(&format!("{role} metadata"), &bytes, meta)?;
    Ok(bytes)
}

fn key_ids(root: &Root, role: &str) -> Option<(BTreeSet<String>, u32)> {
    root.roles.get(role).map(|r| (r.keyids.iter().cloned().collect(), r.threshold))
}

impl TrustedState {
    /// Trust starts from a pinned root: it must be signed by a threshold of
    /// its own root keys. Its expiry is not checked here (the specification
    /// checks it after the root update, so an expired pinned root can still
    /// be rotated away from).
    pub fn from_root(root_json: &[u8]) -> Result<TrustedState, MarketError> {
        if root_json.len() as u64 > MAX_ROOT_LEN {
            return Err(MarketError::TooLarge(format!("root metadata: more than {MAX_ROOT_LEN} bytes")));
        }
        let env = parse_envelope(root_json, "root")?;
        let root: Root = typed(&env, "root", "root")?;
        check_top_level(&env, &root, "root")?;
        Ok(TrustedState {
            root: Loaded::from_bytes(root_json.to_vec(), &env, "root", "root")?,
            timestamp: None,
            snapshot: None,
            targets: None,
            delegated: BTreeMap::new(),
        })
    }

    /// One update cycle (specification 5.3 to 5.6): the root chain, then
    /// timestamp, snapshot, top-level targets and every delegated targets
    /// role reachable from it. Returns the new state for the caller to
    /// persist; `self` is unchanged, and nothing is trusted if any step fails.
    pub fn update(&self, fetch: &dyn Fetch, now: OffsetDateTime) -> Result<TrustedState, MarketError> {
        // 5.3: the root chain, N+1.root.json until there is none.
        let mut root = self.root.clone();
        for _ in 0..MAX_ROOT_ROTATIONS {
            let Some(next) = root.meta.version.checked_add(1) else { break };
            let path = format!("metadata/{next}.root.json");
            let Some(bytes) = fetch.fetch(&path, MAX_ROOT_LEN)? else { break };
            let env = parse_envelope(&bytes, "root")?;
            // Signed by a threshold of the trusted root's root keys...
            check_top_level(&env, &root.meta, "root")?;
            let new: Root = typed(&env, "root", "root")?;
            // ...and of its own.
            check_top_level(&env, &new, "root")?;
            if new.version < next {
                return Err(MarketError::Rollback {
                    role: "root".into(),
                    trusted: root.meta.version,
                    offered: new.version,
                });
            }
            if new.version != next {
                return Err(MarketError::Inconsistent {
                    role: "root".into(),
                    by: path,
                    detail: format!("version {}, expected {next}", new.version),
                });
            }
            root = Loaded::from_bytes(bytes, &env, "root", "root")?;
        }
        check_expiry("root", &root.meta.expires, now)?;
        // 5.3.11: after a rotation of the timestamp or snapshot keys, forget
        // the trusted timestamp and snapshot (recovery from a fast-forward attack).
        let rotated = ["timestamp", "snapshot"].iter().any(|r| key_ids(&self.root.meta, r) != key_ids(&root.meta, r));
        let (trusted_timestamp, trusted_snapshot) =
            if rotated { (None, None) } else { (self.timestamp.as_ref(), self.snapshot.as_ref()) };
        let consistent = root.meta.consistent_snapshot;

        // 5.4: timestamp.
        let path = "metadata/timestamp.json";
        let bytes = fetch.fetch(path, MAX_TIMESTAMP_LEN)?.ok_or_else(|| MarketError::NotFound(path.into()))?;
        let env = parse_envelope(&bytes, "timestamp")?;
        check_top_level(&env, &root.meta, "timestamp")?;
        let timestamp: Loaded<Timestamp> = Loaded::from_bytes(bytes, &env, "timestamp", "timestamp")?;
        let snapshot_meta = timestamp.meta.meta.get("snapshot.json").cloned().ok_or_else(|| {
            MarketError::Malformed { what: "timestamp metadata".into(), detail: "no snapshot.json entry".into() }
        })?;
        if let Some(trusted) = trusted_timestamp {
            if timestamp.meta.version < trusted.meta.version {
                return Err(MarketError::Rollback {
                    role: "timestamp".into(),
                    trusted: trusted.meta.version,
                    offered: timestamp.meta.version,
                });
            }
            if let Some(t) = trusted.meta.meta.get("snapshot.json")
                && snapshot_meta.version < t.version
            {
                return Err(MarketError::Rollback {
                    role: "snapshot".into(),
                    trusted: t.version,
                    offered: snapshot_meta.version,
                });
            }
        }
        check_expiry("timestamp", &timestamp.meta.expires, now)?;

        // 5.5: snapshot.
        let path = metadata_path(consistent, "snapshot", snapshot_meta.version);
        let bytes = fetch_meta(fetch, &path, "snapshot", &snapshot_meta, MAX_SNAPSHOT_LEN)?;
        let env = parse_envelope(&bytes, "snapshot")?;
        check_top_level(&env, &root.meta, "snapshot")?;
        let snapshot: Loaded<Snapshot> = Loaded::from_bytes(bytes, &env, "snapshot", "snapshot")?;
        if snapshot.meta.version != snapshot_meta.version {
            return Err(MarketError::Inconsistent {
                role: "snapshot".into(),
                by: "timestamp".into(),
                detail: format!("version {}, the timestamp lists {}", snapshot.meta.version, snapshot_meta.version),
            });
        }
        if let Some(trusted) = trusted_snapshot {
            for (file, old) in &trusted.meta.meta {
                // A role that disappears is reported as offered version 0.
                let offered = snapshot.meta.meta.get(file).map_or(0, |m| m.version);
                if offered < old.version {
                    return Err(MarketError::Rollback {
                        role: file.trim_end_matches(".json").to_string(),
                        trusted: old.version,
                        offered,
                    });
                }
            }
        }
        check_expiry("snapshot", &snapshot.meta.expires, now)?;

        // 5.6: top-level targets.
        let targets_meta = snapshot.meta.meta.get("targets.json").ok_or_else(|| MarketError::Malformed {
            what: "snapshot metadata".into(),
            detail: "no targets.json entry".into(),
        })?;
        let path = metadata_path(consistent, "targets", targets_meta.version);
        let bytes = fetch_meta(fetch, &path, "targets", targets_meta, MAX_TARGETS_LEN)?;
        let env = parse_envelope(&bytes, "targets")?;
        check_top_level(&env, &root.meta, "targets")?;
        let targets: Loaded<Targets> = Loaded::from_bytes(bytes, &env, "targets", "targets")?;
        if targets.meta.version != targets_meta.version {
            return Err(MarketError::Inconsistent {
                role: "targets".into(),
                by: "snapshot".into(),
                detail: format!("version {}, the snapshot lists {}", targets.meta.version, targets_meta.version),
            });
        }
        check_expiry("targets", &targets.meta.expires, now)?;

        // 5.6.7: the delegated roles, each as its delegator delegates it. All
        // reachable roles are loaded now (not lazily per target); a role the
        // snapshot does not list yet has published nothing and is skipped.
        let mut delegated: BTreeMap<String, Loaded<Targets>> = BTreeMap::new();
        let mut work: Vec<(String, usize)> = vec![("targets".to_string(), 0)];
        while let Some((parent_name, depth)) = work.pop() {
            let parent =
                if parent_name == "targets" { &targets.meta } else { &delegated[parent_name.as_str()].meta }.clone();
            if depth >= MAX_DELEGATION_DEPTH {
                continue;
            }
            // Role names are unique within one delegation list (spec 4.5); a list
            // repeating a name would also make every repeat re-check its signatures.
            let mut names = std::collections::BTreeSet::new();
            for role in parent.delegated_roles() {
                if !role_name_ok(&role.name) || !names.insert(role.name.as_str()) {
                    return Err(MarketError::Malformed {
                        what: format!("{parent_name} delegations"),
                        detail: format!("role name {:?} (invalid or listed twice)", role.name),
                    });
                }
                if let Some(existing) = delegated.get(&role.name) {
                    // Delegated twice: it must satisfy this delegation too.
                    check_delegated(&parse_envelope(existing.raw.as_bytes(), &role.name)?, &parent, role)?;
                    continue;
                }
                let file = format!("{}.json", role.name);
                let Some(meta) = snapshot.meta.meta.get(&file) else { continue };
                if delegated.len() >= MAX_DELEGATED_ROLES {
                    return Err(MarketError::TooLarge(format!("more than {MAX_DELEGATED_ROLES} delegated roles")));
                }
                let path = metadata_path(consistent, &role.name, meta.version);
                let bytes = fetch_meta(fetch, &path, &role.name, meta, MAX_TARGETS_LEN)?;
                let env = parse_envelope(&bytes, &role.name)?;
                check_delegated(&env, &parent, role)?;
                let loaded: Loaded<Targets> = Loaded::from_bytes(bytes, &env, &role.name, "targets")?;
                if loaded.meta.version != meta.version {
                    return Err(MarketError::Inconsistent {
                        role: role.name.clone(),
                        by: "snapshot".into(),
                        detail: format!("version {}, the snapshot lists {}", loaded.meta.version, meta.version),
                    });
                }
                check_expiry(&role.name, &loaded.meta.expires, now)?;
                delegated.insert(role.name.clone(), loaded);
                work.push((role.name.clone(), depth + 1));
            }
        }

        Ok(TrustedState {
            root,
            timestamp: Some(timestamp),
            snapshot: Some(snapshot),
            targets: Some(targets),
            delegated,
        })
    }

    /// The trusted root metadata file, as received.
    pub fn root_json(&self) -> &str {
        &self.root.raw
    }

    pub fn versions(&self) -> Versions {
        Versions {
            root: self.root.meta.version,
            timestamp: self.timestamp.as_ref().map_or(0, |l| l.meta.version),
            snapshot: self.snapshot.as_ref().map_or(0, |l| l.meta.version),
            targets: self.targets.as_ref().map_or(0, |l| l.meta.version),
        }
    }

    /// The marketplace's revocations (none before the first update).
    pub fn revocations(&self) -> Revocations {
        self.targets.as_ref().and_then(|t| t.meta.revoked.clone()).unwrap_or_default()
    }

    /// The publishers (top-level delegations) the index lists, revoked ones left out.
    pub fn delegations(&self) -> Vec<Delegation> {
        let Some(top) = &self.targets else { return Vec::new() };
        let revoked = self.revocations();
        top.meta
            .delegated_roles()
            .iter()
            .filter(|r| revoked.publisher(&r.name).is_none())
            .map(|r| Delegation {
                publisher: r.name.clone(),
                keys: top.meta.delegation_keys(r),
                threshold: r.threshold,
                paths: r.paths.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// The keys a publisher's namespace is delegated to: `Revoked` for a
    /// revoked publisher, `NotDelegated` for one the index does not delegate to.
    pub fn publisher_keys(&self, publisher: &str) -> Result<Vec<PublicKey>, MarketError> {
        if let Some(reason) = self.revocations().publisher(publisher) {
            return Err(MarketError::Revoked { what: format!("publisher {publisher}"), reason: reason.to_string() });
        }
        self.delegations()
            .into_iter()
            .find(|d| d.publisher == publisher)
            .map(|d| d.keys)
            .ok_or_else(|| MarketError::NotDelegated { publisher: publisher.to_string(), id: publisher.to_string() })
    }

    /// The publisher whose delegation covers packages of `plugin_id`: the
    /// first (non-revoked) top-level delegation with a path pattern
    /// `<id pattern>/*/*` whose first segment matches the id.
    pub fn delegation_for(&self, plugin_id: &str) -> Option<Delegation> {
        self.delegations().into_iter().find(|d| {
            d.paths.iter().any(|p| {
                let segs: Vec<&str> = p.split('/').collect();
                segs.len() == 3 && segs[1] == "*" && segs[2] == "*" && path_matches(segs[0], plugin_id)
            })
        })
    }

    /// Every published target the index resolves (sorted by path): listed by
    /// the role the delegation search reaches first, and only where every
    /// delegation on the way covers its path. Targets without a SHA-256 are
    /// left out (they could not be checked).
    pub fn targets(&self) -> Vec<TargetEntry> {
        let mut paths = BTreeSet::new();
        if let Some(t) = &self.targets {
            paths.extend(t.meta.targets.keys().cloned());
        }
        for d in self.delegated.values() {
            paths.extend(d.meta.targets.keys().cloned());
        }
        paths.iter().filter_map(|p| self.find(p)).collect()
    }

    /// The target at `target_path`, found as the specification's
    /// pre-order depth-first delegation search finds it (5.6.7).
    pub fn find(&self, target_path: &str) -> Option<TargetEntry> {
        let top = self.targets.as_ref()?;
        let mut visited = BTreeSet::new();
        match self.search(&top.meta, None, Vec::new(), target_path, &mut visited, 0) {
            Search::Found(e) => Some(*e),
            Search::NotFound | Search::Stop => None,
        }
    }

    fn search(
        &self,
        role: &Targets,
        name: Option<&str>,
        keys: Vec<PublicKey>,
        path: &str,
        visited: &mut BTreeSet<String>,
        depth: usize,
    ) -> Search {
        if let Some(file) = role.targets.get(path) {
            return match self.entry(path, file, name, keys) {
                Some(e) => Search::Found(Box::new(e)),
                None => Search::NotFound,
            };
        }
        if depth >= MAX_DELEGATION_DEPTH {
            return Search::NotFound;
        }
        let revoked = self.revocations();
        for d in role.delegated_roles() {
            if !d.matches(path) || revoked.publisher(&d.name).is_some() {
                continue;
            }
            if visited.insert(d.name.clone())
                && let Some(child) = self.delegated.get(&d.name)
            {
                match self.search(&child.meta, Some(&d.name), role.delegation_keys(d), path, visited, depth + 1) {
                    Search::NotFound => {}
                    found_or_stop => return found_or_stop,
                }
            }
            if d.terminating {
                return Search::Stop;
            }
        }
        Search::NotFound
    }

    fn entry(
        &self,
        path: &str,
        file: &TargetFile,
        publisher: Option<&str>,
        keys: Vec<PublicKey>,
    ) -> Option<TargetEntry> {
        let sha256 = file.hashes.get("sha256")?.to_ascii_lowercase();
        let consistent = self.root.meta.consistent_snapshot;
        let download_path = match (consistent, path.rsplit_once('/')) {
            (false, _) => format!("packages/{path}"),
            (true, Some((dir, name))) => format!("packages/{dir}/{sha256}.{name}"),
            (true, None) => format!("packages/{sha256}.{path}"),
        };
        let yanked = file
            .custom
            .as_ref()
            .and_then(|c| c.get("lectern"))
            .and_then(|l| l.get("yanked"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut segs = path.split('/');
        let (id, version) = (segs.next().unwrap_or(""), segs.next().unwrap_or(""));
        Some(TargetEntry {
            path: path.to_string(),
            download_path,
            length: file.length,
            sha256,
            hashes: file.hashes.clone(),
            publisher: publisher.map(str::to_string),
            publisher_keys: keys,
            yanked,
            revoked: self.revocations().package(id, version).map(str::to_string),
            custom: file.custom.clone(),
        })
    }
}

/// Downloads a target: refuses more bytes than the index lists (`TooLarge`),
/// fewer (`LengthMismatch`), and other content (`HashMismatch`).
pub fn fetch_target(fetch: &dyn Fetch, entry: &TargetEntry) -> Result<Vec<u8>, MarketError> {
    let bytes = fetch
        .fetch(&entry.download_path, entry.length)?
        .ok_or_else(|| MarketError::NotFound(entry.download_path.clone()))?;
    if bytes.len() as u64 != entry.length {
        return Err(MarketError::LengthMismatch {
            what: entry.path.clone(),
            expected: entry.length,
            actual: bytes.len() as u64,
        });
    }
    check_hashes(&entry.path, &bytes, &entry.hashes)?;
    Ok(bytes)
}

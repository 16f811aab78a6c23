//! The TUF index: repository side, client verification, and the attacks the
//! client must refuse. Each attack test fails if the check it targets is removed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::path::{Path, PathBuf};

use lectern_marketplace::MarketError;
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::tuf::metadata::Envelope;
use lectern_marketplace::tuf::{
    DirFetch, Fetch, OnlineKeys, RepoKeys, Repository, TopRole, TrustedState, fetch_target, sign,
};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const PUBLISHER: &str = "org.lectern";
const PATH: &str = "org.lectern.grading/1.0.0/org.lectern.grading-1.0.0.lpkg";
const BYTES: &[u8] = b"the grading plugin package";

fn now() -> OffsetDateTime {
    datetime!(2030-01-01 0:00 UTC)
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed([seed; 32])
}

fn online() -> OnlineKeys {
    OnlineKeys { snapshot: key(3), timestamp: key(4) }
}

fn repo_keys() -> RepoKeys {
    RepoKeys { root: vec![key(1)], targets: key(2), online: online() }
}

struct Fixture {
    dir: tempfile::TempDir,
    repo: Repository,
    keys: RepoKeys,
}

impl Fixture {
    /// A marketplace with nothing published: root, targets, snapshot, timestamp v1.
    fn empty() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let keys = repo_keys();
        let repo = Repository::init(dir.path(), &keys, 1, now()).unwrap();
        Fixture { dir, repo, keys }
    }

    /// `org.lectern` delegated to key 10 (timestamp v2), then PATH published (timestamp v3).
    fn published() -> Fixture {
        let f = Fixture::empty();
        f.add_publisher(PUBLISHER, 10);
        f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], PATH, BYTES, None, now()).unwrap();
        f
    }

    fn add_publisher(&self, name: &str, seed: u8) {
        self.repo.add_publisher(&self.keys.targets, &self.keys.online, name, &[key(seed).public()], 1, now()).unwrap();
    }

    fn meta(&self, file: &str) -> PathBuf {
        self.dir.path().join("metadata").join(file)
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.meta(file)).unwrap()
    }

    fn write(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.meta(file), bytes).unwrap();
    }

    fn fetch(&self) -> DirFetch {
        DirFetch(self.dir.path().to_path_buf())
    }

    /// A client that pinned root v1.
    fn client(&self) -> TrustedState {
        TrustedState::from_root(&self.read("1.root.json")).unwrap()
    }

    fn update(&self, state: &TrustedState) -> Result<TrustedState, MarketError> {
        state.update(&self.fetch(), now())
    }

    /// Re-signs `file`'s `signed` part after `edit`, with `signers`.
    fn resign(&self, file: &str, signers: &[&KeyPair], edit: impl FnOnce(&mut Value)) {
        let mut env: Envelope = serde_json::from_slice(&self.read(file)).unwrap();
        edit(&mut env.signed);
        self.write(file, &sign(&env.signed, signers).unwrap());
    }
}

#[test]
fn happy_path() {
    let f = Fixture::published();
    let state = f.update(&f.client()).unwrap();
    let v = state.versions();
    assert_eq!((v.root, v.timestamp, v.snapshot, v.targets), (1, 3, 3, 2));

    let entry = state.find(PATH).unwrap();
    assert_eq!(entry.publisher.as_deref(), Some(PUBLISHER));
    assert_eq!(entry.publisher_keys, vec![key(10).public()]);
    assert_eq!(entry.length, BYTES.len() as u64);
    assert_eq!(entry.plugin_id(), "org.lectern.grading");
    assert_eq!(entry.version(), "1.0.0");
    assert_eq!(entry.yanked, None);
    assert_eq!(entry.revoked, None);
    assert_eq!(fetch_target(&f.fetch(), &entry).unwrap(), BYTES);
    assert_eq!(state.targets(), vec![entry]);

    assert_eq!(state.publisher_keys(PUBLISHER).unwrap(), vec![key(10).public()]);
    assert_eq!(state.delegation_for("org.lectern.grading").unwrap().publisher, PUBLISHER);
    assert!(state.delegation_for("org.other.grading").is_none());
    assert!(matches!(state.publisher_keys("org.other"), Err(MarketError::NotDelegated { .. })));
    assert!(state.revocations().is_empty());

    // The state persists and updates again (nothing new: same versions).
    let stored = serde_json::to_string(&state).unwrap();
    let again: TrustedState = serde_json::from_str(&stored).unwrap();
    assert_eq!(f.update(&again).unwrap().versions(), v);

    // A later publication is seen by the next update.
    let path2 = "org.lectern.grading/1.1.0/org.lectern.grading-1.1.0.lpkg";
    f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], path2, b"v1.1", None, now()).unwrap();
    let state = f.update(&again).unwrap();
    assert_eq!(state.targets().len(), 2);
    assert_eq!(fetch_target(&f.fetch(), &state.find(path2).unwrap()).unwrap(), b"v1.1");
}

#[test]
fn keys_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let keys = RepoKeys::generate_with(2).unwrap();
    keys.write(dir.path()).unwrap();
    let read = RepoKeys::read(dir.path()).unwrap();
    assert_eq!(read.root.len(), 2);
    assert_eq!(read.root[1].public(), keys.root[1].public());
    assert_eq!(read.targets.public(), keys.targets.public());
    assert_eq!(read.online.timestamp.public(), keys.online.timestamp.public());
    assert!(keys.write(dir.path()).is_err(), "never overwrites key files");
    assert!(Repository::open(dir.path()).is_err());
}

#[test]
fn a_publisher_without_targets_yet_is_fine() {
    let f = Fixture::empty();
    f.add_publisher(PUBLISHER, 10);
    let state = f.update(&f.client()).unwrap();
    assert!(state.targets().is_empty());
    assert_eq!(state.publisher_keys(PUBLISHER).unwrap(), vec![key(10).public()]);
}

#[test]
fn tampered_target_bytes_are_refused() {
    let f = Fixture::published();
    let entry = f.update(&f.client()).unwrap().find(PATH).unwrap();
    let file = f.dir.path().join("packages").join(PATH);
    let mut evil = BYTES.to_vec();
    evil[0] ^= 1;
    std::fs::write(&file, &evil).unwrap();
    assert!(matches!(fetch_target(&f.fetch(), &entry), Err(MarketError::HashMismatch { .. })));
    std::fs::write(&file, &BYTES[1..]).unwrap();
    assert!(matches!(fetch_target(&f.fetch(), &entry), Err(MarketError::LengthMismatch { .. })));
    std::fs::write(&file, [BYTES, b"!"].concat()).unwrap();
    assert!(matches!(fetch_target(&f.fetch(), &entry), Err(MarketError::TooLarge(_))));
}

#[test]
fn tampered_targets_metadata_is_refused() {
    let f = Fixture::published();
    let mut env: Value = serde_json::from_slice(&f.read("targets.json")).unwrap();
    // Widen the publisher's delegation to every path, keeping the signature.
    env["signed"]["delegations"]["roles"][0]["paths"] = json!(["*/*/*"]);
    f.write("targets.json", &serde_json::to_vec(&env).unwrap());
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(err, MarketError::BadSignature(_) | MarketError::Threshold { .. }), "{err:?}");
}

#[test]
fn tampered_snapshot_bytes_are_refused_by_the_timestamp_hash() {
    // The same JSON in other bytes: its signature would still verify.
    let f = Fixture::published();
    let original = f.read("snapshot.json");
    assert_eq!(original.last(), Some(&b'\n'));
    let refused = |bytes: &[u8]| {
        f.write("snapshot.json", bytes);
        f.update(&f.client()).unwrap_err()
    };
    let same_length = [&original[..original.len() - 1], b" "].concat();
    assert!(matches!(refused(&same_length), MarketError::HashMismatch { .. }));
    assert!(matches!(refused(&original[..original.len() - 1]), MarketError::LengthMismatch { .. }));
    assert!(matches!(refused(&[b" ", &original[..]].concat()), MarketError::TooLarge(_)));
    f.write("snapshot.json", &original);
    assert!(f.update(&f.client()).is_ok());
}

#[test]
fn a_publisher_role_signed_by_another_key_is_refused() {
    let f = Fixture::published();
    f.resign("org.lectern.json", &[&key(66)], |_| {});
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { ref role, .. } if role == PUBLISHER), "{err:?}");
}

#[test]
fn a_publisher_cannot_publish_in_another_namespace() {
    let f = Fixture::published();
    f.add_publisher("org.b", 11);
    let other = "org.b.thing/1.0.0/org.b.thing-1.0.0.lpkg";
    // The repository refuses: A's delegation does not cover org.b.*, and A's key is not org.b's.
    let err = f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], other, b"x", None, now()).unwrap_err();
    assert!(matches!(err, MarketError::NotDelegated { .. }), "{err:?}");
    let err = f.repo.add_target(&f.keys.online, "org.b", &[key(10)], other, b"x", None, now()).unwrap_err();
    assert!(matches!(err, MarketError::NotDelegated { .. }), "{err:?}");

    // Hand-made: A's role (validly signed by A) lists a target in org.b's namespace.
    f.resign("org.lectern.json", &[&key(10)], |signed| {
        signed["targets"][other] = json!({"length": 1, "hashes": {"sha256": "00".repeat(32)}});
    });
    let state = f.update(&f.client()).unwrap();
    assert!(state.find(other).is_none());
    assert!(state.find(PATH).is_some());
    assert_eq!(state.targets().len(), 1);
}

#[test]
fn a_replayed_older_timestamp_is_a_rollback() {
    let f = Fixture::empty();
    f.add_publisher(PUBLISHER, 10);
    let old_timestamp = f.read("timestamp.json"); // v2
    f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], PATH, BYTES, None, now()).unwrap();
    let state = f.update(&f.client()).unwrap();
    assert_eq!(state.versions().timestamp, 3);
    f.write("timestamp.json", &old_timestamp);
    let err = f.update(&state).unwrap_err();
    assert!(
        matches!(err, MarketError::Rollback { ref role, trusted: 3, offered: 2 } if role == "timestamp"),
        "{err:?}"
    );
}

#[test]
fn a_replayed_older_snapshot_is_a_rollback() {
    let f = Fixture::empty();
    f.add_publisher(PUBLISHER, 10);
    let old_snapshot = f.read("snapshot.json"); // v2
    f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], PATH, BYTES, None, now()).unwrap();
    let state = f.update(&f.client()).unwrap();
    // A fresh timestamp (v4, validly signed) pointing at the old snapshot.
    f.write("snapshot.json", &old_snapshot);
    f.repo.refresh_timestamp(&f.keys.online, now()).unwrap();
    let err = f.update(&state).unwrap_err();
    assert!(matches!(err, MarketError::Rollback { ref role, trusted: 3, offered: 2 } if role == "snapshot"), "{err:?}");
}

#[test]
fn a_snapshot_that_drops_or_lowers_a_role_is_a_rollback() {
    let f = Fixture::published();
    let state = f.update(&f.client()).unwrap();
    // A newer snapshot (v4) that no longer lists the publisher's role.
    f.resign("snapshot.json", &[&key(3)], |s| {
        s["version"] = json!(4);
        s["meta"].as_object_mut().unwrap().remove("org.lectern.json");
    });
    f.repo.refresh_timestamp(&f.keys.online, now()).unwrap();
    let err = f.update(&state).unwrap_err();
    assert!(matches!(err, MarketError::Rollback { ref role, trusted: 1, offered: 0 } if role == PUBLISHER), "{err:?}");
    // Or lists an older targets version.
    f.resign("snapshot.json", &[&key(3)], |s| {
        s["version"] = json!(5);
        s["meta"]["org.lectern.json"] = json!({"version": 1});
        s["meta"]["targets.json"] = json!({"version": 1});
    });
    f.repo.refresh_timestamp(&f.keys.online, now()).unwrap();
    let err = f.update(&state).unwrap_err();
    assert!(matches!(err, MarketError::Rollback { ref role, trusted: 2, offered: 1 } if role == "targets"), "{err:?}");
}

#[test]
fn expired_metadata_is_refused() {
    let f = Fixture::published();
    let err = f.client().update(&f.fetch(), now() + Duration::days(2)).unwrap_err();
    assert!(matches!(err, MarketError::Expired { ref role, .. } if role == "timestamp"), "{err:?}");
    // The daily refresh fixes it; the snapshot expires after 30 days.
    f.repo.refresh_timestamp(&f.keys.online, now() + Duration::days(40)).unwrap();
    let err = f.client().update(&f.fetch(), now() + Duration::days(40)).unwrap_err();
    assert!(matches!(err, MarketError::Expired { ref role, .. } if role == "snapshot"), "{err:?}");
    f.repo.refresh_snapshot(&f.keys.online, now() + Duration::days(400)).unwrap();
    let err = f.client().update(&f.fetch(), now() + Duration::days(400)).unwrap_err();
    assert!(matches!(err, MarketError::Expired { ref role, .. } if role == "root"), "{err:?}");
}

#[test]
fn an_expired_publisher_role_is_refused() {
    let f = Fixture::published();
    let later = now() + Duration::days(366);
    let keys = f.keys.root.as_slice();
    f.repo.rotate_root(keys, keys, 1, later).unwrap();
    f.repo.refresh_targets(&f.keys.targets, &f.keys.online, later).unwrap();
    let err = f.client().update(&f.fetch(), later).unwrap_err();
    assert!(matches!(err, MarketError::Expired { ref role, .. } if role == PUBLISHER), "{err:?}");
    f.repo.resign_publisher(&f.keys.online, PUBLISHER, &[key(10)], later).unwrap();
    assert!(f.client().update(&f.fetch(), later).is_ok());
}

#[test]
fn targets_of_another_version_than_the_snapshot_says_are_inconsistent() {
    let f = Fixture::empty();
    let targets_v1 = f.read("targets.json");
    f.add_publisher(PUBLISHER, 10);
    f.write("targets.json", &targets_v1);
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(err, MarketError::Inconsistent { ref role, .. } if role == "targets"), "{err:?}");
}

#[test]
fn a_snapshot_of_another_version_than_the_timestamp_says_is_inconsistent() {
    let f = Fixture::empty();
    f.resign("snapshot.json", &[&key(3)], |s| s["version"] = json!(7));
    // The timestamp hashes the snapshot file; rebuild it over the edited file but keep version 1 in it.
    let mut ts: Envelope = serde_json::from_slice(&f.read("timestamp.json")).unwrap();
    let snap = f.read("snapshot.json");
    ts.signed["meta"]["snapshot.json"]["length"] = json!(snap.len());
    ts.signed["meta"]["snapshot.json"]["hashes"]["sha256"] = json!(lectern_sha256(&snap));
    f.write("timestamp.json", &sign(&ts.signed, &[&key(4)]).unwrap());
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(err, MarketError::Inconsistent { ref role, .. } if role == "snapshot"), "{err:?}");
}

fn lectern_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn root_rotation_needs_the_old_and_the_new_keys() {
    let f = Fixture::published();
    let new_root = [key(20)];
    f.repo.rotate_root(&f.keys.root, &new_root, 1, now()).unwrap();
    let v2 = f.read("2.root.json");
    let state = f.update(&f.client()).unwrap();
    assert_eq!(state.versions().root, 2);
    assert!(state.find(PATH).is_some());

    // The old root key alone can no longer sign root v3.
    let err = f.repo.rotate_root(&f.keys.root, &[key(21)], 1, now()).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { .. }), "{err:?}");

    // v2 signed by the new key only: the old root does not vouch for it.
    let old_id = f.keys.root[0].public().key_id();
    let new_id = key(20).public().key_id();
    for drop in [&old_id, &new_id] {
        let mut env: Envelope = serde_json::from_slice(&v2).unwrap();
        env.signatures.retain(|s| &s.keyid != drop);
        f.write("2.root.json", &serde_json::to_vec(&env).unwrap());
        let err = f.update(&f.client()).unwrap_err();
        assert!(matches!(err, MarketError::Threshold { ref role, .. } if role == "root"), "{err:?}");
    }
    // A root that claims another version than N+1.
    let mut env: Envelope = serde_json::from_slice(&v2).unwrap();
    env.signed["version"] = json!(3);
    f.write("2.root.json", &sign(&env.signed, &[&f.keys.root[0], &key(20)]).unwrap());
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(err, MarketError::Inconsistent { ref role, .. } if role == "root"), "{err:?}");
}

#[test]
fn after_a_timestamp_key_rotation_the_old_key_is_refused() {
    let f = Fixture::published();
    // A compromised timestamp key fast-forwards the client to timestamp v1000.
    let genuine = f.read("timestamp.json"); // v3
    f.resign("timestamp.json", &[&key(4)], |t| t["version"] = json!(1000));
    let state = f.update(&f.client()).unwrap();
    assert_eq!(state.versions().timestamp, 1000);
    f.write("timestamp.json", &genuine);

    f.repo.rotate_key(&f.keys.root, TopRole::Timestamp, &key(40).public(), now()).unwrap();
    // The old key's timestamp no longer counts...
    let err = f.update(&state).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { ref role, .. } if role == "timestamp"), "{err:?}");
    // ...the new key's does, and the client forgot the fast-forwarded v1000 (spec 5.3.11).
    let rotated = OnlineKeys { snapshot: key(3), timestamp: key(40) };
    f.repo.refresh_timestamp(&rotated, now()).unwrap();
    let state = f.update(&state).unwrap();
    assert_eq!(state.versions().timestamp, 4);
    assert!(state.find(PATH).is_some());
    // The repository refuses the old online key from now on.
    let err = f.repo.refresh_timestamp(&f.keys.online, now()).unwrap_err();
    assert!(matches!(err, MarketError::WrongKey { .. }), "{err:?}");
}

#[test]
fn revoking_a_publisher_removes_its_delegation() {
    let f = Fixture::published();
    let state = f.update(&f.client()).unwrap();
    f.repo.revoke_publisher(&f.keys.targets, &f.keys.online, PUBLISHER, "key compromised", now()).unwrap();
    let state = f.update(&state).unwrap();
    assert_eq!(state.revocations().publisher(PUBLISHER), Some("key compromised"));
    assert!(state.find(PATH).is_none());
    assert!(state.targets().is_empty());
    assert!(state.delegation_for("org.lectern.grading").is_none());
    assert!(matches!(state.publisher_keys(PUBLISHER), Err(MarketError::Revoked { .. })));
    let targets = f.repo.targets().unwrap();
    assert!(targets.delegation(PUBLISHER).is_none());
    assert!(targets.delegations.unwrap().keys.is_empty());
    // The repository refuses it from now on.
    let path2 = "org.lectern.grading/2.0.0/g.lpkg";
    let err = f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], path2, b"x", None, now()).unwrap_err();
    assert!(matches!(err, MarketError::Revoked { .. }), "{err:?}");
    let err =
        f.repo.add_publisher(&f.keys.targets, &f.keys.online, PUBLISHER, &[key(12).public()], 1, now()).unwrap_err();
    assert!(matches!(err, MarketError::Revoked { .. }), "{err:?}");
}

#[test]
fn a_revoked_publisher_left_delegated_is_still_ignored() {
    let f = Fixture::published();
    f.repo.revoke_package(&f.keys.targets, &f.keys.online, "org.lectern.grading", "1.0.0", "malware", now()).unwrap();
    let state = f.update(&f.client()).unwrap();
    assert_eq!(state.find(PATH).unwrap().revoked.as_deref(), Some("malware"));
    assert_eq!(state.revocations().package("org.lectern.grading", "1.0.0"), Some("malware"));
    // An operator-signed targets role that revokes the publisher but still delegates to it.
    f.resign("targets.json", &[&f.keys.targets], |t| {
        t["version"] = json!(3);
        t["x-lectern-revoked"]["publishers"] = json!({PUBLISHER: "gone"});
    });
    f.resign("snapshot.json", &[&key(3)], |s| s["version"] = json!(4));
    f.repo.refresh_timestamp(&f.keys.online, now()).unwrap();
    let state = f.update(&f.client()).unwrap();
    assert!(state.find(PATH).is_none());
    assert!(matches!(state.publisher_keys(PUBLISHER), Err(MarketError::Revoked { .. })));
}

#[test]
fn yanked_targets_are_reported() {
    let f = Fixture::published();
    f.repo.yank(&f.keys.online, PUBLISHER, &[key(10)], PATH, "data loss bug", now()).unwrap();
    let state = f.update(&f.client()).unwrap();
    let targets = state.targets();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].yanked.as_deref(), Some("data loss bug"));
    assert_eq!(targets[0].custom, Some(json!({"lectern": {"yanked": "data loss bug"}})));
    // Still downloadable: the kernel decides what a yank means.
    assert_eq!(fetch_target(&f.fetch(), &targets[0]).unwrap(), BYTES);
    let err = f.repo.yank(&f.keys.online, PUBLISHER, &[key(10)], "org.lectern.x/1.0.0/x", "r", now()).unwrap_err();
    assert!(matches!(err, MarketError::NotFound(_)), "{err:?}");
    let err = f.repo.yank(&f.keys.online, PUBLISHER, &[key(11)], PATH, "r", now()).unwrap_err();
    assert!(matches!(err, MarketError::NotDelegated { .. }), "{err:?}");
}

#[test]
fn two_of_three_root_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys = RepoKeys { root: vec![key(1), key(5), key(6)], targets: key(2), online: online() };
    assert!(Repository::init(dir.path(), &keys, 4, now()).is_err());
    let repo = Repository::init(dir.path(), &keys, 2, now()).unwrap();
    let v1 = std::fs::read(dir.path().join("metadata/1.root.json")).unwrap();
    let state = TrustedState::from_root(&v1).unwrap();

    // A root with one signature of the three is not trusted, even pinned.
    let mut env: Envelope = serde_json::from_slice(&v1).unwrap();
    env.signatures.truncate(1);
    let err = TrustedState::from_root(&serde_json::to_vec(&env).unwrap()).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { valid: 1, threshold: 2, .. }), "{err:?}");

    // Rotation needs two old keys.
    let new = [key(7), key(8), key(9)];
    let err = repo.rotate_root(&keys.root[..1], &new, 2, now()).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { .. }), "{err:?}");
    repo.rotate_root(&keys.root[1..], &new[..2], 2, now()).unwrap();
    let state = state.update(&DirFetch(dir.path().into()), now()).unwrap();
    assert_eq!(state.versions().root, 2);

    // A v3 with only one old (v2) key signature is refused by the client.
    repo.rotate_root(&new[..2], &new, 2, now()).unwrap();
    let path = dir.path().join("metadata/3.root.json");
    let mut env: Envelope = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let k7 = key(7).public().key_id();
    env.signatures.retain(|s| s.keyid != k7);
    std::fs::write(&path, serde_json::to_vec(&env).unwrap()).unwrap();
    let err = state.update(&DirFetch(dir.path().into()), now()).unwrap_err();
    assert!(matches!(err, MarketError::Threshold { ref role, valid: 1, .. } if role == "root"), "{err:?}");
}

#[test]
fn publishers_and_paths_are_checked() {
    let f = Fixture::published();
    let add = |name: &str| {
        f.repo.add_publisher(&f.keys.targets, &f.keys.online, name, &[key(12).public()], 1, now()).unwrap_err()
    };
    for bad in ["lectern", "Org.Lectern", "org..x", "org/x", "../x", "org.lectern"] {
        assert!(matches!(add(bad), MarketError::Malformed { .. }), "{bad}");
    }
    // Namespaces may not nest.
    assert!(matches!(add("org.lectern.sub"), MarketError::Malformed { .. }));
    assert!(matches!(add("org"), MarketError::Malformed { .. }));
    // The wrong targets key.
    let err =
        f.repo.add_publisher(&key(66), &f.keys.online, "edu.example-u", &[key(12).public()], 1, now()).unwrap_err();
    assert!(matches!(err, MarketError::WrongKey { .. }), "{err:?}");
    for bad in ["org.lectern.x/1.0/x.lpkg", "org.lectern.x/1.0.0/../x", "org.lectern.x/1.0.0/.x", "a/b", "x/1.0.0/y"] {
        let err = f.repo.add_target(&f.keys.online, PUBLISHER, &[key(10)], bad, b"x", None, now()).unwrap_err();
        assert!(matches!(err, MarketError::Malformed { .. }), "{bad}: {err:?}");
    }
}

#[test]
fn dir_fetch_refuses_escapes_and_large_files() {
    let f = Fixture::published();
    let fetch = f.fetch();
    for bad in ["../x", "metadata/../../x", "/etc/passwd", "", "a\\b"] {
        assert!(matches!(fetch.fetch(bad, 10), Err(MarketError::Malformed { .. })), "{bad}");
    }
    assert_eq!(fetch.fetch("metadata/none.json", 10).unwrap(), None);
    assert!(matches!(fetch.fetch("metadata/root.json", 10), Err(MarketError::TooLarge(_))));
    // An oversized timestamp is refused before it is parsed.
    f.write("timestamp.json", &vec![b' '; 70 << 10]);
    assert!(matches!(f.update(&f.client()), Err(MarketError::TooLarge(_))));
}

fn fixture_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/python-tuf"))
}

#[test]
fn python_tuf_repository_verifies() {
    let dir = fixture_dir();
    let fetch = DirFetch(dir.to_path_buf());
    let pinned = std::fs::read(dir.join("metadata/1.root.json")).unwrap();
    let state = TrustedState::from_root(&pinned).unwrap().update(&fetch, now()).unwrap();
    let v = state.versions();
    assert_eq!((v.root, v.timestamp, v.snapshot, v.targets), (2, 1, 1, 1));

    let path = "org.example.hello/1.0.0/org.example.hello-1.0.0.lpkg";
    let data = b"hello from python-tuf\n";
    let entry = state.find(path).unwrap();
    assert_eq!(entry.publisher.as_deref(), Some("org.example"));
    assert_eq!(entry.publisher_keys, vec![KeyPair::from_seed([6; 32]).public()]);
    assert_eq!(entry.sha256, lectern_sha256(data));
    assert!(entry.hashes.contains_key("sha512"));
    assert_eq!(entry.yanked.as_deref(), Some("superseded by 1.0.1"));
    assert_eq!(fetch_target(&fetch, &entry).unwrap(), data);

    // Listed by org.example outside its delegated paths: ignored.
    assert!(state.find("org.other.thing/1.0.0/org.other.thing-1.0.0.lpkg").is_none());
    // Listed by the top-level targets role itself.
    let top = state.find("org.lectern.readme/1.0.0/README.txt").unwrap();
    assert_eq!(top.publisher, None);
    assert_eq!(fetch_target(&fetch, &top).unwrap(), b"listed by the top-level targets role\n");
    assert_eq!(state.targets().len(), 2);
    assert_eq!(state.delegation_for("org.example.hello").unwrap().publisher, "org.example");

    let err = TrustedState::from_root(&pinned).unwrap().update(&fetch, datetime!(2100-01-01 0:00 UTC)).unwrap_err();
    assert!(matches!(err, MarketError::Expired { ref role, .. } if role == "root"), "{err:?}");
}

#[test]
fn python_tuf_metadata_edited_after_signing_is_refused() {
    // Copy the fixture and alter the unknown field python-tuf signed in root v2.
    let src = fixture_dir();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src, dir.path());
    let v2 = dir.path().join("metadata/2.root.json");
    let mut env: Value = serde_json::from_slice(&std::fs::read(&v2).unwrap()).unwrap();
    env["signed"]["x-extra"]["note"] = json!("changed");
    std::fs::write(&v2, serde_json::to_vec(&env).unwrap()).unwrap();
    let pinned = std::fs::read(dir.path().join("metadata/1.root.json")).unwrap();
    let err = TrustedState::from_root(&pinned).unwrap().update(&DirFetch(dir.path().into()), now()).unwrap_err();
    assert!(matches!(err, MarketError::BadSignature(_)), "{err:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_delegation_list_naming_a_role_twice_is_refused() {
    let f = Fixture::published();
    f.update(&f.client()).unwrap();
    // Listing one role many times would make every repeat re-check its signatures.
    f.resign("targets.json", &[&f.keys.targets], |t| {
        t["version"] = json!(3);
        let role = t["delegations"]["roles"][0].clone();
        t["delegations"]["roles"] = json!([role.clone(), role]);
    });
    f.resign("snapshot.json", &[&key(3)], |s| {
        s["version"] = json!(4);
        s["meta"]["targets.json"]["version"] = json!(3);
    });
    f.repo.refresh_timestamp(&f.keys.online, now()).unwrap();
    let err = f.update(&f.client()).unwrap_err();
    assert!(matches!(&err, MarketError::Malformed { detail, .. } if detail.contains("listed twice")), "{err}");
}

//! TrustedState::from_root and TrustedState::update over an in-memory
//! marketplace built from a real index (fixed-seed keys, see
//! `lectern_marketplace_fuzz::Index`). Each metadata file is the real one,
//! missing, raw fuzzer bytes, the real one with byte edits, or the real
//! one's `signed` part with byte edits, re-signed with the right (or
//! fuzzer-chosen) keys, so the checks behind the signature are reached.
//! Property: no panic; an updated state's accessors do not panic and it
//! survives being persisted and reloaded.
#![no_main]

use arbitrary::Arbitrary;
use lectern_marketplace::keys::KeyPair;
use lectern_marketplace::tuf::metadata::parse_envelope;
use lectern_marketplace::tuf::{TrustedState, sign};
use lectern_marketplace_fuzz::{Edit, Index, MapFetch, apply_edits};
use libfuzzer_sys::fuzz_target;
use time::Duration;

#[derive(Arbitrary, Debug)]
enum File {
    Real,
    Missing,
    Raw(Vec<u8>),
    Mutated(Vec<Edit>),
    /// Edits to the pretty-printed `signed` part, then signed by the role's
    /// key (`signers == 0`) or by the keys whose bits are set.
    Resigned {
        edits: Vec<Edit>,
        signers: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// The pinned root (its base is `1.root.json`).
    pinned: File,
    /// Update from the state a real update produced, instead of the pinned root's.
    from_updated: bool,
    root2: File,
    /// `3.root.json` (its base is `2.root.json`).
    root3: File,
    timestamp: File,
    snapshot: File,
    /// Re-make the timestamp over the snapshot served (its version, length and hash).
    fix_timestamp: bool,
    targets: File,
    publisher: File,
    /// Any other delegated role's file (its base is the publisher's).
    other: File,
    /// Hours after the index was made.
    hours: i16,
}

fn make(file: &File, base: Option<&[u8]>, role: &str, idx: &Index) -> Option<Vec<u8>> {
    let base = base.unwrap_or(b"{}");
    match file {
        File::Real => Some(base.to_vec()),
        File::Missing => None,
        File::Raw(b) => Some(b.clone()),
        File::Mutated(edits) => {
            let mut b = base.to_vec();
            apply_edits(&mut b, edits);
            Some(b)
        }
        File::Resigned { edits, signers } => {
            let signed = parse_envelope(base, role).map(|e| e.signed).unwrap_or_default();
            let mut text = serde_json::to_vec_pretty(&signed).unwrap_or_default();
            apply_edits(&mut text, edits);
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&text) else { return Some(text) };
            let keys: Vec<&KeyPair> = if *signers == 0 {
                vec![idx.role_key(role)]
            } else {
                idx.keys.iter().enumerate().filter(|(i, _)| signers & (1 << i) != 0).map(|(_, k)| k).collect()
            };
            Some(sign(&value, &keys).unwrap_or(text))
        }
    }
}

/// A timestamp over `snapshot`, signed by the timestamp key.
fn timestamp_over(snapshot: &[u8], timestamp: Option<&[u8]>, idx: &Index) -> Option<Vec<u8>> {
    let mut signed = parse_envelope(timestamp?, "timestamp").ok()?.signed;
    let version = parse_envelope(snapshot, "snapshot").ok()?.signed.get("version")?.clone();
    let entry = serde_json::json!({
        "version": version,
        "length": snapshot.len(),
        "hashes": {"sha256": lectern_marketplace::package::sha256_hex(snapshot)},
    });
    signed.get_mut("meta")?.as_object_mut()?.insert("snapshot.json".into(), entry);
    sign(&signed, &[idx.role_key("timestamp")]).ok()
}

fn exercise(state: &TrustedState) {
    let _ = state.versions();
    let _ = state.revocations();
    let _ = state.root_json();
    for d in state.delegations() {
        let _ = state.publisher_keys(&d.publisher);
    }
    let targets = state.targets();
    for t in &targets {
        assert_eq!(state.find(&t.path).as_ref(), Some(t));
        let _ = (t.plugin_id(), t.version());
        let _ = state.delegation_for(t.plugin_id());
    }
    // What the kernel persists after an update must load again, unchanged.
    let stored = serde_json::to_vec(state).expect("a trusted state serialises");
    let reloaded: TrustedState = serde_json::from_slice(&stored).expect("a persisted trusted state reloads");
    assert_eq!(reloaded.versions(), state.versions());
    assert_eq!(reloaded.targets(), targets);
}

fuzz_target!(|input: Input| {
    let idx = Index::get();
    let real = |name: &str| idx.files.get(name).map(Vec::as_slice);

    let pinned_owned;
    let state = match (&input.pinned, input.from_updated) {
        (File::Real, true) => &idx.updated,
        (File::Real, false) => &idx.pinned,
        (file, _) => {
            let Some(bytes) = make(file, Some(&idx.root_v1), "root", idx) else { return };
            match TrustedState::from_root(&bytes) {
                Ok(s) => {
                    exercise(&s);
                    pinned_owned = s;
                    &pinned_owned
                }
                Err(_) => return,
            }
        }
    };

    let mut fetch = MapFetch::default();
    let mut put = |name: &str, bytes: Option<Vec<u8>>| {
        if let Some(b) = bytes {
            fetch.files.insert(name.to_string(), b);
        }
    };
    put("2.root.json", make(&input.root2, real("2.root.json"), "root", idx));
    put("3.root.json", make(&input.root3, real("2.root.json"), "root", idx));
    let snapshot = make(&input.snapshot, real("snapshot.json"), "snapshot", idx);
    let mut timestamp = make(&input.timestamp, real("timestamp.json"), "timestamp", idx);
    if input.fix_timestamp
        && let Some(s) = &snapshot
    {
        timestamp = timestamp_over(s, timestamp.as_deref(), idx).or(timestamp);
    }
    put("timestamp.json", timestamp);
    put("snapshot.json", snapshot);
    put("targets.json", make(&input.targets, real("targets.json"), "targets", idx));
    put("org.example.json", make(&input.publisher, real("org.example.json"), "org.example", idx));
    fetch.other = make(&input.other, real("org.example.json"), "other", idx);

    let now = idx.now + Duration::hours(input.hours.into());
    if let Ok(new) = state.update(&fetch, now) {
        exercise(&new);
        // A second cycle from the new state over the same files.
        if let Ok(again) = new.update(&fetch, now) {
            assert_eq!(again.versions(), new.versions());
        }
    }
});

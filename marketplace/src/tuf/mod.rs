//! The marketplace index, modelled on The Update Framework (TUF,
//! specification 1.0.31): the metadata formats, the repository side that
//! writes and signs them, and the client side that verifies an update.
//!
//! The metadata is standard TUF JSON (`{"signed": ..., "signatures": [...]}`,
//! Ed25519 keys, signatures over TUF's canonical JSON form of `signed` —
//! byte-for-byte RFC 8785 unless a string holds a control character, and
//! signatures over the RFC 8785 form are accepted too), so
//! a repository made by the reference implementation (python-tuf) verifies
//! too (see `tests/fixtures/python-tuf`). Keys of other types are ignored:
//! their signatures never count.
//!
//! # The served directory
//!
//! A marketplace is a directory served statically:
//!
//! ```text
//! metadata/root.json            the latest root
//! metadata/N.root.json          every root version N (clients walk N+1, N+2, ...)
//! metadata/timestamp.json
//! metadata/snapshot.json
//! metadata/targets.json         the operator's top-level targets role
//! metadata/<publisher>.json     one delegated role per publisher
//! packages/<target path>        the target files
//! ```
//!
//! `consistent_snapshot` is false in the repositories this crate writes; the
//! client also reads repositories where it is true (`metadata/V.<role>.json`,
//! `packages/<dir>/<sha256>.<name>`).
//!
//! # The Lectern model
//!
//! - A target path is `<plugin id>/<version>/<file name>`, e.g.
//!   `org.lectern.grading/1.0.0/org.lectern.grading-1.0.0.lpkg`, served at
//!   `packages/<target path>`.
//! - A publisher id is a reverse-DNS namespace (`org.lectern`,
//!   `edu.example-u`: at least two dot-separated parts of `a-z`, `0-9`, `-`).
//!   The top-level targets role (the operator's key) delegates each
//!   publisher: role name = publisher id, keyids = the publisher's key(s),
//!   threshold 1 by default, terminating, `paths: ["<publisher>.*/*/*"]`.
//!   Namespaces may not nest (`org.a` and `org.a.b` cannot both be publishers).
//! - Targets are listed in publisher roles only; the client still resolves
//!   targets listed in the top-level role (python-tuf repositories do that).
//!   A target listed by a role whose delegation does not cover its path is
//!   ignored (the specification's delegation search, 5.6.7, with TUF's
//!   shell-style path patterns; `path_hash_prefixes` delegations match nothing).
//! - Yank: the publisher sets `custom: {"lectern": {"yanked": "<reason>"}}` on
//!   a target in its role. The client reports it ([`TargetEntry::yanked`]) and
//!   still serves the target; the kernel refuses yanked versions for new installs.
//! - Revocation: the top-level targets' `signed` carries
//!   `"x-lectern-revoked": {"publishers": {"<publisher>": "<reason>"},
//!   "packages": {"<id>@<version>": "<reason>"}}` (absent = none). Revoking a
//!   publisher also removes its delegation; the client ignores the delegation
//!   of a revoked publisher even if one remains.
//! - A delegated role's entry in the snapshot is never removed (clients
//!   refuse a snapshot that drops a role they trusted, spec 5.5.5), so a
//!   revoked publisher's role stays listed — it is just no longer delegated.
//! - The client loads every delegated role reachable from the top-level
//!   targets at update time (rather than lazily per target). A delegated role
//!   the snapshot does not list yet (a publisher with no target yet) is
//!   skipped; one it lists must verify, or the update fails.
//!
//! Validity: root, targets and publisher roles 1 year, snapshot 30 days,
//! timestamp 1 day ([`Expiry`]). The timestamp must be refreshed daily
//! ([`Repository::refresh_timestamp`]), the snapshot monthly, and publisher
//! roles re-signed yearly ([`Repository::resign_publisher`]).

mod client;
pub mod metadata;
mod repo;

pub use client::{Delegation, DirFetch, Fetch, TargetEntry, TrustedState, Versions, fetch_target};
pub use metadata::{Revocations, path_matches, sign};
pub use repo::{Expiry, OnlineKeys, RepoKeys, Repository, TopRole, check_target_path, valid_publisher_id};

/// Largest root, top-level targets or delegated targets file the client reads.
pub const MAX_ROOT_LEN: u64 = 4 << 20;
pub const MAX_TARGETS_LEN: u64 = 4 << 20;
pub const MAX_SNAPSHOT_LEN: u64 = 4 << 20;
pub const MAX_TIMESTAMP_LEN: u64 = 64 << 10;
/// Most root versions one update walks through.
pub const MAX_ROOT_ROTATIONS: usize = 64;
/// Most delegated roles one update loads.
pub const MAX_DELEGATED_ROLES: usize = 4096;
/// Deepest delegation chain followed.
pub const MAX_DELEGATION_DEPTH: usize = 32;

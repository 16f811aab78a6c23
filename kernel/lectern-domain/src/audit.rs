//! The audit log: who did what to whom, when, from where, and how it ended,
//! for every administrative and security-relevant action.
//!
//! - **Append-only and tamper-evident.** Entries form one hash chain over the
//!   whole deployment: each carries the SHA-256 of the previous entry's hash
//!   and its own canonical JSON (RFC 8785, `serde_jcs`), and `seq` grows by
//!   one. [`AuditLog::verify`] recomputes the chain; [`AuditLog::head`] is the
//!   value to write down elsewhere (a ticket, a printout): any later edit,
//!   insertion or removal inside the chain changes every hash after it.
//! - **Retention** ([`AuditLog::sweep`]) removes the oldest entries only, and
//!   keeps the last removed entry's hash as the chain's anchor, so what
//!   remains still verifies.
//! - **Appends are serialised** by the head's lock and written in one storage
//!   transaction with their indexes; the caller makes them durable (its own
//!   `durable()`, as for any write) before it answers.
//! - Entries are read per institution (its administrators) or all together
//!   (platform administrators), newest first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lectern_storage::{Record, Store, Tree, TxFail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::authz::{Capability, Context, Principal, PrincipalKind, authorize};
use crate::error::CoreError;
use crate::ids::{InstitutionId, UserId};
use crate::paging::{Page, PageRequest};

/// The `prev_hash` of the first entry ever.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Entries a filtered listing examines per page before it answers with
/// what it found and a cursor to go on.
const SCAN_BUDGET: usize = 5_000;

/// Who acted. Serialised externally tagged (`{"user": {...}}`, `"system"`):
/// the storage format cannot read internally tagged enums.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditActor {
    User {
        id: UserId,
        institution: InstitutionId,
    },
    /// An OAuth client acting for itself (client credentials).
    Client {
        id: String,
        institution: InstitutionId,
    },
    /// The kernel (CLI, workers).
    System,
    /// Not signed in; `claimed` is the identity the request named (a login's email).
    Anonymous {
        claimed: Option<String>,
    },
}

impl AuditActor {
    /// The actor of a request made by `p`.
    pub fn of(p: &Principal) -> AuditActor {
        match &p.kind {
            PrincipalKind::User { user, .. } => AuditActor::User { id: *user, institution: p.institution },
            PrincipalKind::Client { client_id } => {
                AuditActor::Client { id: client_id.clone(), institution: p.institution }
            }
            PrincipalKind::System => AuditActor::System,
        }
    }

    fn id(&self) -> Option<String> {
        match self {
            AuditActor::User { id, .. } => Some(id.to_string()),
            AuditActor::Client { id, .. } => Some(id.clone()),
            AuditActor::System => None,
            AuditActor::Anonymous { claimed } => claimed.clone(),
        }
    }
}

/// How the action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Succeeded,
    /// Refused: not authenticated, not permitted, throttled, bad credentials.
    Denied,
    /// Accepted but did not complete (invalid input, a conflict, an error).
    Failed,
}

/// What a caller records.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    /// The institution the action concerns (the target's), if any.
    pub institution: Option<InstitutionId>,
    pub actor: AuditActor,
    /// Dotted name (`auth.login`) or, for API requests, `METHOD /route/{template}`.
    pub action: String,
    /// What it was done to (a path, an id).
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    /// The HTTP status, for API requests.
    pub status: Option<u16>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// Small facts worth keeping (never secrets).
    pub details: BTreeMap<String, String>,
}

impl NewAuditEntry {
    /// An action that succeeded, outside any HTTP request's own record (an
    /// export, a backup): who, what, on what.
    pub fn succeeded(p: &Principal, institution: Option<InstitutionId>, action: &str, target: String) -> NewAuditEntry {
        NewAuditEntry {
            institution,
            actor: AuditActor::of(p),
            action: action.into(),
            target: Some(target),
            outcome: AuditOutcome::Succeeded,
            status: None,
            ip: None,
            request_id: None,
            details: BTreeMap::new(),
        }
    }
}

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: i64,
    pub institution: Option<InstitutionId>,
    pub actor: AuditActor,
    pub action: String,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub status: Option<u16>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: BTreeMap<String, String>,
    /// Hex SHA-256: the previous entry's `hash` (or 64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash` and this entry's canonical JSON without `hash`.
    pub hash: String,
}

impl Record for AuditEntry {
    const VERSION: u8 = 1;
}

impl AuditEntry {
    /// The hash this entry must carry: SHA-256 over its RFC 8785 JSON with
    /// `hash` left out (`prev_hash` is inside it).
    pub fn compute_hash(&self) -> String {
        let mut body = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = body.as_object_mut() {
            o.remove("hash");
        }
        let canonical = serde_jcs::to_vec(&body).unwrap_or_default();
        hex::encode(Sha256::digest(&canonical))
    }
}

/// Where the chain starts after retention removed its oldest entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// The last removed entry: the first kept one has `seq + 1` and `prev_hash == hash`.
    pub seq: u64,
    pub hash: String,
    pub removed_at: i64,
}

impl Record for AuditAnchor {
    const VERSION: u8 = 1;
}

/// The chain's end: what to write down to detect later tampering.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditHead {
    /// The last entry's sequence number (`None` while the log is empty).
    pub seq: Option<u64>,
    pub hash: String,
    pub anchor: Option<AuditAnchor>,
}

/// What [`AuditLog::verify`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub entries: u64,
    pub ok: bool,
    /// The first entry whose hash or link does not hold.
    pub first_bad: Option<u64>,
    pub head: AuditHead,
}

/// Listing filters.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Entries whose action starts with this.
    pub action: Option<String>,
    /// Entries by this actor (a user id, a client id, a claimed email).
    pub actor: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl AuditFilter {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.action.as_deref().is_none_or(|a| e.action.starts_with(a))
            && self.actor.as_deref().is_none_or(|a| e.actor.id().as_deref() == Some(a))
            && self.until.is_none_or(|u| e.at <= u)
    }
}

struct Head {
    next: u64,
    hash: String,
}

struct Trees {
    /// `seq` (big-endian) → entry.
    entries: Tree<AuditEntry>,
    /// institution ‖ !seq → (): an institution's entries, newest first.
    by_institution: Tree<()>,
    /// !seq → (): every entry, newest first.
    newest: Tree<()>,
    meta: Tree<AuditAnchor>,
}

/// The deployment's audit log. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    t: Trees,
    head: Mutex<Head>,
}

const ANCHOR: &[u8] = b"anchor";

impl AuditLog {
    pub fn open(store: &Store) -> Result<AuditLog, CoreError> {
        let t = Trees {
            entries: store.tree("audit_entries")?,
            by_institution: store.tree("audit_by_institution")?,
            newest: store.tree("audit_newest")?,
            meta: store.tree("audit_meta")?,
        };
        let head = match t.entries.last_key(b"")? {
            Some(k) => {
                let e =
                    t.entries.get(&k)?.ok_or_else(|| CoreError::internal_msg("the audit log's last entry vanished"))?;
                Head { next: e.seq + 1, hash: e.hash }
            }
            None => match t.meta.get(ANCHOR)? {
                Some(a) => Head { next: a.seq + 1, hash: a.hash },
                None => Head { next: 0, hash: GENESIS.into() },
            },
        };
        Ok(AuditLog { inner: Arc::new(Inner { store: store.clone(), t, head: Mutex::new(head) }) })
    }

    /// Appends an entry (not yet durable: the caller awaits its store's
    /// `durable()` before answering, as for any write).
    pub fn record(&self, new: NewAuditEntry, now: i64) -> Result<AuditEntry, CoreError> {
        let t = &self.inner.t;
        let mut head =
            self.inner.head.lock().map_err(|_| CoreError::internal_msg("the audit log's lock is poisoned"))?;
        let mut e = AuditEntry {
            seq: head.next,
            at: now,
            institution: new.institution,
            actor: new.actor,
            action: new.action,
            target: new.target,
            outcome: new.outcome,
            status: new.status,
            ip: new.ip,
            request_id: new.request_id,
            details: new.details,
            prev_hash: head.hash.clone(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        self.inner.store.transaction(&[&t.entries, &t.by_institution, &t.newest], |tx| {
            tx.on(&t.entries)?.insert(e.seq.to_be_bytes(), &e)?;
            tx.on(&t.newest)?.insert((!e.seq).to_be_bytes(), &())?;
            if let Some(i) = e.institution {
                tx.on(&t.by_institution)?.insert(institution_key(i, e.seq), &())?;
            }
            Ok::<_, TxFail<CoreError>>(())
        })?;
        head.next = e.seq + 1;
        head.hash.clone_from(&e.hash);
        Ok(e)
    }

    /// An institution's entries (its administrators; platform administrators
    /// for any), newest first.
    pub fn list(
        &self,
        p: &Principal,
        inst: InstitutionId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, CoreError> {
        authorize(p, Capability::AuditView, Context::Institution(inst))?;
        self.list_under(&self.inner.t.by_institution, inst.bytes(), filter, page)
    }

    /// Every entry (platform administrators), newest first.
    pub fn list_all(
        &self,
        p: &Principal,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, CoreError> {
        authorize(p, Capability::AuditView, Context::Platform)?;
        self.list_under(&self.inner.t.newest, &[], filter, page)
    }

    /// Every entry of `inst` by the user `actor`, newest first, for a
    /// privacy export (the caller has authorized it).
    pub fn by_user(&self, inst: InstitutionId, actor: crate::ids::UserId) -> Result<Vec<AuditEntry>, CoreError> {
        let id = actor.to_string();
        let mut out = Vec::new();
        for row in self.inner.t.by_institution.scan_prefix(inst.bytes()) {
            let (k, ()) = row?;
            let seq = !u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap_or([0xff; 8]));
            if let Some(e) = self.inner.t.entries.get(seq.to_be_bytes())?
                && e.actor.id().as_deref() == Some(id.as_str())
            {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn list_under(
        &self,
        index: &Tree<()>,
        prefix: &[u8],
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, CoreError> {
        let limit = page.limit()?;
        let mut after = page.after()?;
        let mut out = Vec::new();
        let mut scanned = 0usize;
        'pages: loop {
            let rows = index.page(prefix, after.as_deref(), 256)?;
            if rows.is_empty() {
                return Ok(Page::from_rows(out, None, limit));
            }
            for (k, ()) in rows {
                scanned += 1;
                let seq = !u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap_or([0xff; 8]));
                after = Some(k);
                let Some(e) = self.inner.t.entries.get(seq.to_be_bytes())? else { continue };
                if filter.since.is_some_and(|s| e.at < s) {
                    // Newest first: everything after this is older still.
                    return Ok(Page::from_rows(out, None, limit));
                }
                if filter.matches(&e) {
                    out.push(e);
                }
                if out.len() == limit || scanned >= SCAN_BUDGET {
                    break 'pages;
                }
            }
        }
        // A full page (or the scan budget): the next one starts after the last key seen.
        Ok(Page { items: out, next_cursor: after.map(|k| crate::paging::cursor_for(&k)) })
    }

    /// The chain's end and anchor (platform administrators).
    pub fn head(&self, p: &Principal) -> Result<AuditHead, CoreError> {
        authorize(p, Capability::AuditView, Context::Platform)?;
        self.current_head()
    }

    fn current_head(&self) -> Result<AuditHead, CoreError> {
        let head = self.inner.head.lock().map_err(|_| CoreError::internal_msg("the audit log's lock is poisoned"))?;
        let anchor = self.inner.t.meta.get(ANCHOR)?;
        let empty = anchor.as_ref().map_or(head.next == 0, |a| head.next == a.seq + 1);
        Ok(AuditHead { seq: (!empty).then(|| head.next - 1), hash: head.hash.clone(), anchor })
    }

    /// Recomputes the whole chain from its anchor (platform administrators).
    pub fn verify(&self, p: &Principal) -> Result<AuditVerification, CoreError> {
        authorize(p, Capability::AuditView, Context::Platform)?;
        self.verify_chain()
    }

    pub(crate) fn verify_chain(&self) -> Result<AuditVerification, CoreError> {
        self.verify_with_head(self.current_head()?)
    }

    /// Appends and retention go on while a verification runs: it checks the
    /// chain up to `head` (taken when it starts), and accepts a gap at the
    /// start that a retention sweep left behind (the anchor it moved to links
    /// to the first entry after the gap).
    fn verify_with_head(&self, head: AuditHead) -> Result<AuditVerification, CoreError> {
        let Some(last) = head.seq else { return Ok(AuditVerification { entries: 0, ok: true, first_bad: None, head }) };
        let (mut expect_seq, mut prev) = match &head.anchor {
            Some(a) => (a.seq + 1, a.hash.clone()),
            None => (0, GENESIS.to_owned()),
        };
        let mut entries = 0u64;
        let mut first_bad = None;
        for row in self.inner.t.entries.scan_prefix(b"") {
            let (k, e) = row?;
            if e.seq > last {
                break;
            }
            entries += 1;
            if e.seq != expect_seq
                && let Some(a) = self.inner.t.meta.get(ANCHOR)?
                && a.seq + 1 == e.seq
                && a.hash == e.prev_hash
            {
                (expect_seq, prev) = (e.seq, a.hash);
            }
            let key_ok = k.as_slice() == e.seq.to_be_bytes();
            if first_bad.is_none()
                && (!key_ok || e.seq != expect_seq || e.prev_hash != prev || e.compute_hash() != e.hash)
            {
                first_bad = Some(expect_seq.min(e.seq));
            }
            expect_seq = e.seq + 1;
            prev = e.hash;
        }
        if first_bad.is_none() && (expect_seq != last + 1 || prev != head.hash) {
            first_bad = Some(expect_seq);
        }
        Ok(AuditVerification { entries, ok: first_bad.is_none(), first_bad, head })
    }

    /// Removes entries older than `before` (Unix seconds), oldest first, and
    /// moves the anchor to the last one removed. Returns how many went.
    pub fn sweep(&self, before: i64, now: i64) -> Result<u64, CoreError> {
        let t = &self.inner.t;
        // Appends wait while the oldest entries go, so the anchor is exact.
        let _head = self.inner.head.lock().map_err(|_| CoreError::internal_msg("the audit log's lock is poisoned"))?;
        let mut removed = 0;
        let mut anchor = None;
        for row in t.entries.scan_prefix(b"") {
            let (k, e) = row?;
            if e.at >= before {
                break;
            }
            t.entries.remove(&k)?;
            t.newest.remove((!e.seq).to_be_bytes())?;
            if let Some(i) = e.institution {
                t.by_institution.remove(institution_key(i, e.seq))?;
            }
            anchor = Some(AuditAnchor { seq: e.seq, hash: e.hash, removed_at: now });
            removed += 1;
        }
        if let Some(a) = anchor {
            t.meta.insert(ANCHOR, &a)?;
        }
        Ok(removed)
    }

    /// Every entry of an institution, oldest first (for an export).
    pub fn export(&self, p: &Principal, inst: InstitutionId) -> Result<Vec<AuditEntry>, CoreError> {
        authorize(p, Capability::AuditView, Context::Institution(inst))?;
        let mut out = Vec::new();
        for row in self.inner.t.by_institution.scan_prefix(inst.bytes()) {
            let (k, ()) = row?;
            let seq = !u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap_or([0xff; 8]));
            if let Some(e) = self.inner.t.entries.get(seq.to_be_bytes())? {
                out.push(e);
            }
        }
        out.reverse();
        Ok(out)
    }

    #[cfg(test)]
    fn tamper(&self, seq: u64, f: impl FnOnce(&mut AuditEntry)) {
        let k = seq.to_be_bytes();
        let mut e = self.inner.t.entries.get(k).unwrap().unwrap();
        f(&mut e);
        self.inner.t.entries.insert(k, &e).unwrap();
    }
}

fn institution_key(i: InstitutionId, seq: u64) -> Vec<u8> {
    [i.bytes().as_slice(), &(!seq).to_be_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(inst: Option<InstitutionId>, action: &str) -> NewAuditEntry {
        NewAuditEntry {
            institution: inst,
            actor: AuditActor::System,
            action: action.into(),
            target: Some("x".into()),
            outcome: AuditOutcome::Succeeded,
            status: Some(200),
            ip: None,
            request_id: None,
            details: BTreeMap::new(),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("db"), Default::default()).unwrap();
        (dir, s)
    }

    #[test]
    fn the_chain_links_every_entry_and_survives_a_reopen() {
        let (dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        let a = InstitutionId::new();
        let e0 = log.record(entry(Some(a), "one"), 10).unwrap();
        let e1 = log.record(entry(None, "two"), 11).unwrap();
        assert_eq!((e0.seq, e1.seq), (0, 1));
        assert_eq!(e0.prev_hash, GENESIS);
        assert_eq!(e1.prev_hash, e0.hash);
        assert!(log.verify_chain().unwrap().ok);
        drop(log);
        s.durable_blocking().unwrap();
        drop(s);
        let s = Store::open(dir.path().join("db"), Default::default()).unwrap();
        let log = AuditLog::open(&s).unwrap();
        let e2 = log.record(entry(Some(a), "three"), 12).unwrap();
        assert_eq!((e2.seq, e2.prev_hash.as_str()), (2, e1.hash.as_str()));
        let v = log.verify_chain().unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!((v.entries, v.head.seq), (3, Some(2)));
        let mine = log.export(&Principal::system(a), a).unwrap();
        assert_eq!(mine.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["one", "three"]);
    }

    #[test]
    fn any_edit_inside_the_chain_is_found() {
        let (_dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        for i in 0..5 {
            log.record(entry(None, &format!("a{i}")), i).unwrap();
        }
        // An edited field, with or without its own hash recomputed.
        log.tamper(2, |e| e.action = "nothing to see".into());
        assert_eq!(log.verify_chain().unwrap().first_bad, Some(2));
        log.tamper(2, |e| e.hash = e.compute_hash());
        assert_eq!(log.verify_chain().unwrap().first_bad, Some(3), "the next link breaks");
    }

    #[test]
    fn entries_appended_or_swept_during_a_verification_do_not_break_it() {
        let (_dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        for i in 0..20 {
            log.record(entry(None, &format!("a{i}")), i).unwrap();
        }
        let head = log.current_head().unwrap();
        // After the head is taken: a newer entry, and the oldest swept away.
        log.record(entry(None, "newer"), 100).unwrap();
        log.sweep(5, 200).unwrap();
        let v = log.verify_with_head(head).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.entries, 15);
    }

    #[test]
    fn a_removed_entry_is_found() {
        let (_dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        for i in 0..4 {
            log.record(entry(None, &format!("a{i}")), i).unwrap();
        }
        log.inner.t.entries.remove(1u64.to_be_bytes()).unwrap();
        assert_eq!(log.verify_chain().unwrap().first_bad, Some(1));
    }

    #[test]
    fn retention_keeps_a_verifiable_chain() {
        let (_dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        let a = InstitutionId::new();
        for i in 0..6 {
            log.record(entry(Some(a), &format!("a{i}")), 100 + i).unwrap();
        }
        assert_eq!(log.sweep(103, 200).unwrap(), 3);
        let v = log.verify_chain().unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.entries, 3);
        assert_eq!(v.head.anchor.as_ref().map(|a| a.seq), Some(2));
        let listed = log.list(&Principal::system(a), a, &AuditFilter::default(), &PageRequest::default()).unwrap();
        assert_eq!(listed.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4, 3]);
        // Everything gone: the next entry still links to the anchor.
        log.sweep(1_000, 300).unwrap();
        let e = log.record(entry(None, "after"), 400).unwrap();
        assert_eq!(e.seq, 6);
        assert!(log.verify_chain().unwrap().ok);
    }

    #[test]
    fn listings_filter_and_page_newest_first() {
        let (_dir, s) = store();
        let log = AuditLog::open(&s).unwrap();
        let (a, b) = (InstitutionId::new(), InstitutionId::new());
        for i in 0..10 {
            let inst = if i % 2 == 0 { a } else { b };
            log.record(entry(Some(inst), if i % 3 == 0 { "user.x" } else { "course.y" }), i).unwrap();
        }
        let p = Principal::system(a);
        let first = log.list(&p, a, &AuditFilter::default(), &PageRequest { limit: Some(2), cursor: None }).unwrap();
        assert_eq!(first.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [8, 6]);
        let next = PageRequest { limit: Some(10), cursor: first.next_cursor.clone() };
        let rest = log.list(&p, a, &AuditFilter::default(), &next).unwrap();
        assert_eq!(rest.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 2, 0]);
        let users = AuditFilter { action: Some("user.".into()), ..Default::default() };
        let got = log.list_all(&p, &users, &PageRequest::default()).unwrap();
        assert_eq!(got.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [9, 6, 3, 0]);
        let since = AuditFilter { since: Some(5), ..Default::default() };
        let got = log.list(&p, b, &since, &PageRequest::default()).unwrap();
        assert_eq!(got.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [9, 7, 5]);
    }
}

//! JSON shapes of the audit log. An entry's fields are exactly what its hash
//! covers (RFC 8785 JSON of the entry without `hash`), plus `time`, the same
//! instant as `at` in RFC 3339, which is not hashed.

use std::collections::BTreeMap;

use lectern_core::audit as a;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who acted: `user` and `client` (with `id` and `institution`), `system`, or
/// `anonymous` (with `claimed`, the identity a sign-in named).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub kind: String,
    pub id: Option<String>,
    pub institution: Option<String>,
    pub claimed: Option<String>,
    /// The user's current email, for reading (not hashed; absent for
    /// anyone else, and for a user since removed).
    pub email: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    /// Unix seconds (hashed).
    pub at: i64,
    /// `at` in RFC 3339 (not hashed).
    pub time: String,
    pub institution: Option<String>,
    pub actor: AuditActor,
    /// `auth.login`, or `METHOD /route/{template}` for an API request.
    pub action: String,
    pub target: Option<String>,
    /// `succeeded`, `denied` or `failed`.
    pub outcome: String,
    pub status: Option<u16>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: BTreeMap<String, String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<a::AuditEntry> for AuditEntry {
    fn from(e: a::AuditEntry) -> Self {
        let (kind, id, institution, claimed) = match e.actor {
            a::AuditActor::User { id, institution } => {
                ("user", Some(id.to_string()), Some(institution.to_string()), None)
            }
            a::AuditActor::Client { id, institution } => ("client", Some(id), Some(institution.to_string()), None),
            a::AuditActor::System => ("system", None, None, None),
            a::AuditActor::Anonymous { claimed } => ("anonymous", None, None, claimed),
        };
        AuditEntry {
            seq: e.seq,
            at: e.at,
            time: super::rfc3339(e.at),
            institution: e.institution.map(|i| i.to_string()),
            actor: AuditActor { kind: kind.into(), id, institution, claimed, email: None },
            action: e.action,
            target: e.target,
            outcome: match e.outcome {
                a::AuditOutcome::Succeeded => "succeeded",
                a::AuditOutcome::Denied => "denied",
                a::AuditOutcome::Failed => "failed",
            }
            .into(),
            status: e.status,
            ip: e.ip,
            request_id: e.request_id,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Present while there may be more (older) entries.
    pub next_cursor: Option<String>,
}

/// Filters and paging of an audit listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries whose action starts with this (`auth.`, `PATCH /api/v1/institutions/{institution}/users`).
    pub action: Option<String>,
    /// Entries by this actor: a user id, a client id, or the address a sign-in named.
    pub actor: Option<String>,
    /// RFC 3339: entries at or after.
    pub since: Option<String>,
    /// RFC 3339: entries at or before.
    pub until: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The chain's anchor after retention removed its oldest entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditAnchor {
    pub seq: u64,
    pub hash: String,
    pub removed_at: String,
}

/// The chain's end: write `seq` and `hash` down somewhere else; a later
/// verification that reaches the same pair shows nothing before it changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditHead {
    pub seq: Option<u64>,
    pub hash: String,
    pub anchor: Option<AuditAnchor>,
}

impl From<a::AuditHead> for AuditHead {
    fn from(h: a::AuditHead) -> Self {
        AuditHead {
            seq: h.seq,
            hash: h.hash,
            anchor: h.anchor.map(|x| AuditAnchor {
                seq: x.seq,
                hash: x.hash,
                removed_at: super::rfc3339(x.removed_at),
            }),
        }
    }
}

/// The chain recomputed from its anchor.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    pub entries: u64,
    pub ok: bool,
    /// The first entry whose hash or link does not hold.
    pub first_bad: Option<u64>,
    pub head: AuditHead,
}

impl From<a::AuditVerification> for AuditVerification {
    fn from(v: a::AuditVerification) -> Self {
        AuditVerification { entries: v.entries, ok: v.ok, first_bad: v.first_bad, head: v.head.into() }
    }
}

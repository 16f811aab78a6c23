//! Privacy requests: the export document and the erasure report.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Everything Lectern holds about a person (GDPR articles 15 and 20), one
/// JSON document. The sections hold each context's records as stored, with
/// the kernel's field names: an archive for the person or another system,
/// not an API resource (see `lectern_core::privacy`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExport {
    /// `lectern-person-export/1`.
    pub format: String,
    /// Unix seconds.
    pub exported_at: i64,
    pub institution: Option<ExportInstitution>,
    /// Account, enrolments, sessions (with their addresses and browsers), OAuth grants.
    pub person: Value,
    /// Attempts with answers, integrity records, grades with history, completions, credentials.
    pub assessment: Value,
    /// Per course: item progress, activity states, last position.
    pub content: Value,
    /// Per course: conversations with the tutor.
    pub tutor: Value,
    /// Notifications and notification preferences.
    pub notifications: Value,
    /// Audit entries of what the person did.
    pub audit: Value,
    /// What the export does not hold, and why.
    pub not_included: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportInstitution {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl PersonExport {
    pub fn from_value(mut v: Value) -> PersonExport {
        let mut take = |k: &str| v.get_mut(k).map(Value::take).unwrap_or(Value::Null);
        PersonExport {
            format: take("format").as_str().unwrap_or_default().to_owned(),
            exported_at: take("exported_at").as_i64().unwrap_or_default(),
            institution: serde_json::from_value(take("institution")).ok(),
            person: take("person"),
            assessment: take("assessment"),
            content: take("content"),
            tutor: take("tutor"),
            notifications: take("notifications"),
            audit: take("audit"),
            not_included: serde_json::from_value(take("not_included")).unwrap_or_default(),
        }
    }
}

/// An erasure: `confirm_email` must be the account's current address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub confirm_email: String,
}

/// What an erasure did, and what it kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureReport {
    pub user: String,
    /// Unix seconds.
    pub erased_at: i64,
    pub tutor_questions_deleted: u64,
    pub notifications_deleted: u64,
    pub activity_states_deleted: u64,
    pub integrity_batches_scrubbed: u64,
    pub credential_copies_deleted: u64,
    pub kept: Vec<String>,
}

impl From<lectern_core::privacy::ErasureReport> for ErasureReport {
    fn from(r: lectern_core::privacy::ErasureReport) -> Self {
        ErasureReport {
            user: r.user,
            erased_at: r.erased_at,
            tutor_questions_deleted: r.tutor_questions_deleted,
            notifications_deleted: r.notifications_deleted,
            activity_states_deleted: r.activity_states_deleted,
            integrity_batches_scrubbed: r.integrity_batches_scrubbed,
            credential_copies_deleted: r.credential_copies_deleted,
            kept: r.kept.into_iter().map(str::to_owned).collect(),
        }
    }
}

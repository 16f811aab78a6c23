//! JSON shapes around Open Badges 3.0 credentials: the holder's list,
//! revocation, and a verification report. The credential document itself is
//! JSON-LD defined by 1EdTech and the W3C, passed through as issued.

use lectern_core::credentials::CredentialRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::{self, ApiError};

/// A credential of the caller's.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCredential {
    pub id: String,
    /// Its public URL (JSON for machines, a printable page for people).
    pub url: String,
    pub course: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; null unless revoked.
    pub revoked_at: Option<i64>,
    /// The signed Open Badges 3.0 `AchievementCredential`, exactly as issued.
    /// Its shape is the 1EdTech/W3C JSON-LD document's, not this API's (see
    /// `crate::free_form`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

impl MyCredential {
    /// `url` is the credential's public URL. Fails when the stored document
    /// is not JSON: it was signed over exactly those bytes, so it is never
    /// replaced by anything else.
    pub fn new(c: CredentialRecord, url: String) -> Result<Self, ApiError> {
        Ok(MyCredential {
            credential: document(&c)?,
            id: c.id,
            url,
            course: c.course.to_string(),
            issued_at: c.issued_at,
            revoked_at: c.revoked_at,
        })
    }
}

/// The stored, signed document of a credential as JSON.
pub fn document(c: &CredentialRecord) -> Result<serde_json::Value, ApiError> {
    serde_json::from_str(&c.document).map_err(|e| {
        tracing::error!(credential = %c.id, error = %e, "a stored credential is not JSON");
        ApiError::new(&problem::INTERNAL, "the stored credential cannot be read")
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    pub items: Vec<MyCredential>,
}

/// A credential just revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCredential {
    pub id: String,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
    pub reason: Option<String>,
}

impl From<CredentialRecord> for RevokedCredential {
    fn from(c: CredentialRecord) -> Self {
        RevokedCredential { id: c.id, revoked_at: c.revoked_at, reason: c.revocation_reason }
    }
}

/// One check of a verification; `detail` says what was found either way.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationCheck {
    /// `structure`, `proof`, `validFrom`, `validUntil` or `status`.
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

/// Every check that ran; `verified` only when all passed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub verified: bool,
    pub checks: Vec<VerificationCheck>,
}

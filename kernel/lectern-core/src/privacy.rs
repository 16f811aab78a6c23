//! Privacy requests (GDPR articles 15, 17 and 20): a person's data, exported
//! as one machine-readable document, and their erasure.
//!
//! **Export** gathers what every context holds about the person: the
//! account, enrolments, sessions and OAuth grants (identity); attempts with
//! their answers, integrity records (proctoring signals, addresses, devices),
//! grades with their history, completions and credentials (assessment);
//! progress and activity states (content); tutor conversations (tutor);
//! notifications and preferences (notifications); and the audit entries of
//! what they did. A person may export their own data; an administrator with
//! `privacy:manage` anyone's in the institution.
//!
//! **Erasure** is pseudonymisation where the institution must keep records:
//! the account loses its address, name, password and language and is
//! deactivated, every session and grant ends; the person's tutor
//! conversations, notifications, preferences and activity states are
//! deleted; the device details of their integrity records and the stored
//! copies of their credentials (which carry their name) are removed.
//! Attempts, answers, grades and completions stay, filed under the person's
//! id, which no longer leads to anyone. Credentials already issued stay
//! valid in the holder's hands, and revoking one still works (the status
//! list is untouched). The audit log keeps its entries for its retention
//! period (`audit.retention_days`): they name the person by id, and failed
//! sign-ins by the address typed.
//!
//! Not covered (0.1 plugins have no lifecycle call for it): what plugins
//! keep in their key-value store about a person; the event log's messages
//! in flight (deleted once delivered, or after seven days), and sign-in
//! throttling counters (keyed by the address, expiring within the hour).

use lectern_domain::audit::NewAuditEntry;
use lectern_domain::ids::{InstitutionId, UserId};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{CoreError, Kernel, Principal};

pub const EXPORT_FORMAT: &str = "lectern-person-export/1";

/// What an erasure did.
#[derive(Clone, Debug, Serialize)]
pub struct ErasureReport {
    pub user: String,
    pub erased_at: i64,
    pub tutor_questions_deleted: u64,
    pub notifications_deleted: u64,
    pub activity_states_deleted: u64,
    pub integrity_batches_scrubbed: u64,
    pub credential_copies_deleted: u64,
    /// What was kept, and why.
    pub kept: Vec<&'static str>,
}

impl Kernel {
    /// Everything Lectern holds about `user`, as one JSON document. Blocking
    /// (scans the institution's records): run it off the async workers.
    pub fn export_person(
        &self,
        p: &Principal,
        inst: InstitutionId,
        user: UserId,
        self_service: bool,
    ) -> Result<Value, CoreError> {
        let target = self.identity().authorize_privacy_request(p, inst, user, self_service)?;
        let courses = self.identity().institution_courses(inst)?;
        let institution = self.identity().institution(inst)?;
        let audit: Vec<Value> = self
            .audit()
            .by_user(inst, user)?
            .into_iter()
            .map(|e| serde_json::to_value(&e).unwrap_or(Value::Null))
            .collect();
        Ok(json!({
            "format": EXPORT_FORMAT,
            "exported_at": self.clock().now(),
            "institution": institution.map(|i| json!({"id": i.id.to_string(), "slug": i.slug, "name": i.name})),
            "person": self.identity().person_export(inst, &target)?,
            "assessment": self.assessments().person_export(inst, user, &courses)?,
            "content": self.content().person_export(inst, user, &courses)?,
            "tutor": self.tutor().person_export(inst, user, &courses)?,
            "notifications": self.notifications().person_export(inst, user)?,
            "audit": audit,
            "not_included": [
                "what plugins keep about the person in their own key-value store (0.1 plugins have no call for it)",
                "event-log messages in flight (deleted once delivered, or after seven days)",
                "sign-in throttling counters (keyed by the address typed, expiring within the hour)"
            ],
        }))
    }

    /// Records an export in the audit log (after it was written).
    pub async fn audit_person_export(&self, p: &Principal, inst: InstitutionId, user: UserId) -> Result<(), CoreError> {
        self.record_audit(NewAuditEntry::succeeded(p, Some(inst), "privacy.export", user.to_string())).await
    }

    /// Erases `user` (see the module documentation). `confirm` must be the
    /// account's current address, so that a wrong id erases nobody.
    pub async fn erase_person(
        &self,
        p: &Principal,
        inst: InstitutionId,
        user: UserId,
        confirm: &str,
    ) -> Result<ErasureReport, CoreError> {
        let target = self.identity().authorize_privacy_request(p, inst, user, false)?;
        if p.user_id() == Some(user) {
            return Err(CoreError::Conflict("you cannot erase your own account: ask another administrator".into()));
        }
        if !confirm.trim().eq_ignore_ascii_case(target.email.trim()) {
            return Err(CoreError::invalid("confirm_email", "is not the account's address"));
        }
        // The account first: from here on nobody can sign in as the person.
        self.identity().erase_account(inst, user).await?;
        let courses = self.identity().institution_courses(inst)?;
        let k = self.clone();
        let (tutor, notifications, activities, assessment) = tokio::task::spawn_blocking(move || {
            Ok::<_, CoreError>((
                k.tutor().erase_person(inst, user, &courses)?,
                k.notifications().erase_person(inst, user)?,
                k.content().erase_person(inst, user, &courses)?,
                k.assessments().erase_person(inst, user)?,
            ))
        })
        .await
        .map_err(|e| CoreError::internal("the erasure task", e))??;
        self.inner.env.store.durable().await?;
        let mut entry = NewAuditEntry::succeeded(p, Some(inst), "privacy.erase", user.to_string());
        entry.details.insert("tutor_questions".into(), tutor.to_string());
        entry.details.insert("notifications".into(), notifications.to_string());
        self.record_audit(entry).await?;
        tracing::info!(institution = %inst, user = %user, "person erased");
        Ok(ErasureReport {
            user: user.to_string(),
            erased_at: self.clock().now(),
            tutor_questions_deleted: tutor,
            notifications_deleted: notifications,
            activity_states_deleted: activities,
            integrity_batches_scrubbed: assessment.integrity_batches,
            credential_copies_deleted: assessment.credential_copies,
            kept: vec![
                "attempts and answers, grades with their history, completions: under the person's id, now a pseudonym",
                "credentials' revocation state: issued credentials stay valid and revocable",
                "audit entries, until audit.retention_days",
            ],
        })
    }
}

//! Course credentials: Open Badges 3.0, signed by the institution's own
//! Ed25519 key (a `did:key` issuer) with an `eddsa-jcs-2022` Data Integrity
//! proof, revocable through the institution's Bitstring Status List.
//!
//! Exactly one credential per student and course: issuing is idempotent on
//! the award (institution, course, student), not only on the message id, so a
//! completion event delivered twice, or published twice, issues once.

use ed25519_dalek::SigningKey;
use lectern_credentials::badge::{AchievementInput, SubjectIdentifier, achievement_credential};
use lectern_credentials::proof::{self, EddsaJcs2022, ProofOptions};
use lectern_credentials::status::{StatusEntry, StatusList, status_list_credential};
use lectern_credentials::verify::Verification;
use lectern_storage::Record;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::events::{self, CourseCompleted, CredentialIssued, topics};
use crate::ids::{InstitutionId, UserId};
use crate::{Assessments, Principal};

/// Entries per institution status list (the spec's minimum size, 16 KiB).
const STATUS_LIST_ENTRIES: u64 = 131_072;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IssuerKey {
    pub secret: [u8; 32],
    pub created_at: i64,
}

impl Record for IssuerKey {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StatusListState {
    pub next_index: u64,
    pub revoked: Vec<u64>,
}

impl Record for StatusListState {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub id: String,
    pub institution: InstitutionId,
    pub course: crate::ids::CourseId,
    pub student: UserId,
    /// The signed credential, exactly as issued.
    pub document: String,
    pub status_index: u64,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<String>,
}

impl Record for CredentialRecord {
    const VERSION: u8 = 1;
}

fn award_key(i: InstitutionId, c: crate::ids::CourseId, s: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), s.bytes()].concat()
}

fn by_user_key(i: InstitutionId, s: UserId, id: &str) -> Vec<u8> {
    [i.bytes().as_slice(), s.bytes(), id.as_bytes()].concat()
}

impl Assessments {
    pub(crate) fn base_url(&self) -> &str {
        self.inner.issuer.trim_end_matches('/')
    }

    pub fn credential_url(&self, id: &str) -> String {
        format!("{}/credentials/{id}", self.base_url())
    }

    fn status_list_url(&self, inst: InstitutionId) -> String {
        format!("{}/credentials/status/{inst}", self.base_url())
    }

    /// The institution's credential-signing key, created on first use.
    fn issuer_key(&self, inst: InstitutionId) -> Result<SigningKey, CoreError> {
        if let Some(k) = self.t().issuer_keys.get(inst.bytes())? {
            return Ok(SigningKey::from_bytes(&k.secret));
        }
        let secret = lectern_auth::secret::random_bytes::<32>()?;
        let stored = self
            .t()
            .issuer_keys
            .update(inst.bytes(), |old| Some(old.unwrap_or(IssuerKey { secret, created_at: self.now() })))?;
        let k = stored.ok_or_else(|| CoreError::internal_msg("issuer key vanished"))?;
        Ok(SigningKey::from_bytes(&k.secret))
    }

    /// The institution's issuer identifier (`did:key:…`).
    pub fn issuer_did(&self, inst: InstitutionId) -> Result<String, CoreError> {
        Ok(lectern_credentials::didkey::did_key(&self.issuer_key(inst)?.verifying_key()))
    }

    /// Issues the course credential for a `course.completed` event (the certificate worker).
    /// Returns the credential id, or `None` when this award already has one.
    pub async fn issue_course_credential(
        &self,
        message_id: &str,
        ev: &CourseCompleted,
    ) -> Result<Option<String>, CoreError> {
        let t = self.t();
        let bus = &self.env().bus;
        if bus.processed.contains("certificates", message_id).map_err(events::bus_error)?
            || t.credentials_by_award.get(award_key(ev.institution, ev.course, ev.student))?.is_some()
        {
            return Ok(None);
        }
        let key = self.issuer_key(ev.institution)?;
        let institution = self.identity().institution(ev.institution)?.ok_or(CoreError::NotFound("institution"))?;
        let course = self.identity().course(ev.institution, ev.course)?.ok_or(CoreError::NotFound("course"))?;
        let student = self.identity().load_user(ev.institution, ev.student)?;
        let id = uuid::Uuid::new_v4().to_string();
        let event_id = bus.outbox.next_id().map_err(events::bus_error)?;
        let now = self.now();
        let issued = OffsetDateTime::from_unix_timestamp(now)
            .map_err(|e| CoreError::internal("the clock is out of range", e))?;
        let did = lectern_credentials::didkey::did_key(&key.verifying_key());
        let list_url = self.status_list_url(ev.institution);
        let salt: String = lectern_auth::secret::random_bytes::<16>()?.iter().map(|b| format!("{b:02x}")).collect();
        let r: Result<Option<String>, lectern_storage::TxError<CoreError>> = self.store().transaction(
            &[
                &t.credentials,
                &t.credentials_by_award,
                &t.credentials_by_user,
                &t.status_lists,
                bus.outbox.tree(),
                bus.processed.tree(),
            ],
            |tx| {
                if !bus.processed.first_time(tx, "certificates", message_id)? {
                    return Ok(None);
                }
                let awards = tx.on(&t.credentials_by_award)?;
                let award = award_key(ev.institution, ev.course, ev.student);
                if awards.get(&award)?.is_some() {
                    return Ok(None);
                }
                let lists = tx.on(&t.status_lists)?;
                let mut list =
                    lists.get(ev.institution.bytes())?.unwrap_or(StatusListState { next_index: 0, revoked: vec![] });
                if list.next_index >= STATUS_LIST_ENTRIES {
                    return lectern_storage::abort(CoreError::Conflict("the institution's status list is full".into()));
                }
                let index = list.next_index;
                list.next_index += 1;
                lists.insert(ev.institution.bytes(), &list)?;
                let input = AchievementInput {
                    credential_id: self.credential_url(&id),
                    issuer_id: did.clone(),
                    issuer_name: institution.name.clone(),
                    issuer_url: Some(self.base_url().to_string()),
                    subject_id: None,
                    // Open Badges 3.0 needs `id` or an `identifier`: learners have no DID, so
                    // their email (lowercased), salted and hashed.
                    subject_identifiers: vec![SubjectIdentifier {
                        identity_type: "emailAddress".into(),
                        value: student.email.trim().to_lowercase(),
                        salt: salt.clone(),
                    }],
                    subject_name: Some(student.name.clone()),
                    achievement_id: format!("{}/achievements/{}/{}", self.base_url(), ev.institution, ev.course),
                    achievement_name: course.title.clone(),
                    achievement_description: if course.description.is_empty() {
                        format!("Completion of the course {} ({})", course.title, course.code)
                    } else {
                        course.description.clone()
                    },
                    criteria_narrative: "Completed every required item of the course with at least the required score."
                        .into(),
                    achievement_type: "Course".into(),
                    valid_from: issued,
                    valid_until: None,
                    result_description: Some(format!("{} %", ev.percent)),
                    status: Some(StatusEntry::new(&list_url, "revocation", index)),
                };
                let unsigned = achievement_credential(&input);
                let signed =
                    proof::sign(&unsigned, &EddsaJcs2022, &key, ProofOptions::assertion(&key.verifying_key(), issued))
                        .map_err(|e| lectern_storage::TxFail::Abort(CoreError::internal("signing failed", e)))?;
                let rec = CredentialRecord {
                    id: id.clone(),
                    institution: ev.institution,
                    course: ev.course,
                    student: ev.student,
                    document: signed.to_string(),
                    status_index: index,
                    issued_at: now,
                    revoked_at: None,
                    revocation_reason: None,
                };
                tx.on(&t.credentials)?.insert(id.as_bytes(), &rec)?;
                awards.insert(&award, &id)?;
                tx.on(&t.credentials_by_user)?.insert(by_user_key(ev.institution, ev.student, &id), &id)?;
                let issued_ev = CredentialIssued {
                    institution: ev.institution,
                    course: ev.course,
                    student: ev.student,
                    credential: id.clone(),
                    url: self.credential_url(&id),
                };
                events::stage(
                    &bus.outbox,
                    tx,
                    event_id,
                    topics::CREDENTIAL_ISSUED,
                    &ev.student.to_string(),
                    &issued_ev,
                )?;
                Ok(Some(id.clone()))
            },
        );
        let out = r?;
        self.commit_events().await?;
        Ok(out)
    }

    /// A credential by id. Public: credentials are meant to be shown to anyone.
    pub fn credential(&self, id: &str) -> Result<CredentialRecord, CoreError> {
        if id.len() > 64 {
            return Err(CoreError::NotFound("credential"));
        }
        self.t().credentials.get(id.as_bytes())?.ok_or(CoreError::NotFound("credential"))
    }

    /// The caller's own credentials.
    pub fn my_credentials(&self, p: &Principal) -> Result<Vec<CredentialRecord>, CoreError> {
        let Some(me) = p.user_id() else { return Ok(vec![]) };
        let prefix = [p.institution.bytes().as_slice(), me.bytes()].concat();
        let mut out = vec![];
        for (_, id) in self.t().credentials_by_user.page(&prefix, None, usize::MAX)? {
            if let Some(c) = self.t().credentials.get(id.as_bytes())? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Revokes a credential (`institution:manage` in its institution).
    pub async fn revoke_credential(
        &self,
        p: &Principal,
        id: &str,
        reason: &str,
    ) -> Result<CredentialRecord, CoreError> {
        let rec = self.credential(id)?;
        authorize(p, Capability::InstitutionManage, Context::Institution(rec.institution))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(CoreError::invalid("reason", "say why (1–1000 characters)"));
        }
        let t = self.t();
        let now = self.now();
        let r: Result<CredentialRecord, lectern_storage::TxError<CoreError>> =
            self.store().transaction(&[&t.credentials, &t.status_lists], |tx| {
                let creds = tx.on(&t.credentials)?;
                let mut rec = creds
                    .get(id.as_bytes())?
                    .ok_or(lectern_storage::TxFail::Abort(CoreError::NotFound("credential")))?;
                if rec.revoked_at.is_some() {
                    return lectern_storage::abort(CoreError::Conflict("the credential is already revoked".into()));
                }
                rec.revoked_at = Some(now);
                rec.revocation_reason = Some(reason.to_string());
                creds.insert(id.as_bytes(), &rec)?;
                let lists = tx.on(&t.status_lists)?;
                let mut list =
                    lists.get(rec.institution.bytes())?.unwrap_or(StatusListState { next_index: 0, revoked: vec![] });
                if !list.revoked.contains(&rec.status_index) {
                    list.revoked.push(rec.status_index);
                }
                lists.insert(rec.institution.bytes(), &list)?;
                Ok(rec)
            });
        let rec = r?;
        self.durable().await?;
        Ok(rec)
    }

    /// The institution's signed status list credential (public).
    pub fn status_list(&self, inst: InstitutionId) -> Result<serde_json::Value, CoreError> {
        if self.identity().institution(inst)?.is_none() {
            return Err(CoreError::NotFound("status list"));
        }
        let state =
            self.t().status_lists.get(inst.bytes())?.unwrap_or(StatusListState { next_index: 0, revoked: vec![] });
        let mut list = StatusList::new();
        for i in state.revoked {
            list.set(i, true).map_err(|e| CoreError::internal("cannot update the status list", e))?;
        }
        let key = self.issuer_key(inst)?;
        let did = lectern_credentials::didkey::did_key(&key.verifying_key());
        let now = OffsetDateTime::from_unix_timestamp(self.now())
            .map_err(|e| CoreError::internal("the clock is out of range", e))?;
        let unsigned = status_list_credential(&self.status_list_url(inst), &did, &list, now);
        proof::sign(&unsigned, &EddsaJcs2022, &key, ProofOptions::assertion(&key.verifying_key(), now))
            .map_err(|e| CoreError::internal("signing failed", e))
    }

    /// Verifies any credential: proof, dates, and revocation for lists this kernel hosts.
    pub fn verify_credential(&self, credential: &serde_json::Value) -> Verification {
        let now = OffsetDateTime::from_unix_timestamp(self.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let prefix = format!("{}/credentials/status/", self.base_url());
        let status = |entry: &StatusEntry| -> Result<bool, lectern_credentials::CredentialError> {
            let foreign = || {
                lectern_credentials::CredentialError::Status(format!(
                    "status list {} is not hosted by this server; check it with its issuer",
                    entry.list_credential
                ))
            };
            let inst: InstitutionId =
                entry.list_credential.strip_prefix(&prefix).and_then(|s| s.parse().ok()).ok_or_else(foreign)?;
            let state = self.t().status_lists.get(inst.bytes()).map_err(|_| foreign())?.ok_or_else(foreign)?;
            Ok(state.revoked.contains(&entry.list_index))
        };
        lectern_credentials::verify::verify(credential, now, &status)
    }
}

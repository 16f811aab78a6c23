//! Open Badges 3.0 (<https://www.imsglobal.org/spec/ob/v3p0/>) `AchievementCredential`s, the
//! unsigned document [`crate::sign`] secures.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::status::StatusEntry;
use crate::{OB_V3_CONTEXT, VC_V2_CONTEXT, datetime};

/// What the kernel knows about an award; every string is copied into the credential as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchievementInput {
    /// The credential's own URL (`https://…`), where it can be fetched or verified.
    pub credential_id: String,
    /// The issuer's `did:key`, matching the key that signs.
    pub issuer_id: String,
    pub issuer_name: String,
    pub issuer_url: Option<String>,
    /// The learner's DID or URL, when they have one.
    pub subject_id: Option<String>,
    /// Ways to recognise the learner (`credentialSubject.identifier`): Open Badges 3.0 needs
    /// `subject_id` or at least one of these.
    pub subject_identifiers: Vec<SubjectIdentifier>,
    /// The learner's display name.
    pub subject_name: Option<String>,
    /// A stable URL for the achievement (e.g. the course's), shared by every award of it.
    pub achievement_id: String,
    pub achievement_name: String,
    pub achievement_description: String,
    /// How the achievement is earned, in words (`criteria.narrative`).
    pub criteria_narrative: String,
    /// An Open Badges `AchievementType`, e.g. `Course`.
    pub achievement_type: String,
    pub valid_from: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    /// A free-text result such as a score ("92 %"), recorded as an Open Badges `Result`.
    pub result_description: Option<String>,
    pub status: Option<StatusEntry>,
}

/// A salted, hashed identifier of the learner: an Open Badges 3.0 `IdentityObject`. The
/// credential carries `sha256$<hex SHA-256 of value ‖ salt>` and the salt, so it does not disclose
/// the value, yet anyone who knows it (an employer given the learner's email) can check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectIdentifier {
    /// An Open Badges `IdentifierTypeEnum` value, e.g. `emailAddress`.
    pub identity_type: String,
    /// The plaintext value, e.g. the learner's email address.
    pub value: String,
    /// Random per credential, so equal values in two credentials do not hash alike.
    pub salt: String,
}

impl SubjectIdentifier {
    /// The `IdentityObject`.
    pub fn to_json(&self) -> Value {
        json!({
            "type": "IdentityObject",
            "identityHash": identity_hash(&self.value, &self.salt),
            "identityType": self.identity_type,
            "hashed": true,
            "salt": self.salt,
        })
    }
}

/// An Open Badges `IdentityHash`: `sha256$` and the lowercase hex SHA-256 of `value` followed by `salt`.
pub fn identity_hash(value: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(value.as_bytes()).chain_update(salt.as_bytes()).finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256${hex}")
}

/// The unsigned `OpenBadgeCredential`:
/// `@context` VC 2.0 + OB 3.0.3, `type` `[VerifiableCredential, OpenBadgeCredential]`, a `Profile`
/// issuer, `validFrom`/`validUntil`, an `AchievementSubject` with its `Achievement`, and the
/// `credentialStatus` entry when given. The credential's `name` is the achievement's. The subject
/// is identified by `subject_id` and/or `subject_identifiers` (`identifier`).
pub fn achievement_credential(input: &AchievementInput) -> Value {
    let mut issuer = Map::new();
    issuer.insert("id".into(), input.issuer_id.clone().into());
    issuer.insert("type".into(), json!(["Profile"]));
    issuer.insert("name".into(), input.issuer_name.clone().into());
    if let Some(url) = &input.issuer_url {
        issuer.insert("url".into(), url.clone().into());
    }

    let mut achievement = json!({
        "id": input.achievement_id,
        "type": ["Achievement"],
        "name": input.achievement_name,
        "description": input.achievement_description,
        "criteria": {"narrative": input.criteria_narrative},
        "achievementType": input.achievement_type,
    });

    let mut subject = Map::new();
    if let Some(id) = &input.subject_id {
        subject.insert("id".into(), id.clone().into());
    }
    subject.insert("type".into(), json!(["AchievementSubject"]));
    if !input.subject_identifiers.is_empty() {
        let ids: Vec<Value> = input.subject_identifiers.iter().map(SubjectIdentifier::to_json).collect();
        subject.insert("identifier".into(), Value::Array(ids));
    }
    if let Some(name) = &input.subject_name {
        subject.insert("name".into(), name.clone().into());
    }
    if let Some(value) = &input.result_description {
        // A Result points at a ResultDescription of the achievement that says what the value is.
        let description_id = format!("{}#result", input.achievement_id);
        achievement["resultDescription"] = json!([{
            "id": description_id,
            "type": ["ResultDescription"],
            "name": "Result",
            "resultType": "Result",
        }]);
        subject.insert(
            "result".into(),
            json!([{"type": ["Result"], "resultDescription": description_id, "value": value}]),
        );
    }
    subject.insert("achievement".into(), achievement);

    let mut credential = Map::new();
    credential.insert("@context".into(), json!([VC_V2_CONTEXT, OB_V3_CONTEXT]));
    credential.insert("id".into(), input.credential_id.clone().into());
    credential.insert("type".into(), json!(["VerifiableCredential", "OpenBadgeCredential"]));
    credential.insert("issuer".into(), Value::Object(issuer));
    credential.insert("name".into(), input.achievement_name.clone().into());
    credential.insert("validFrom".into(), datetime::format(input.valid_from).into());
    if let Some(until) = input.valid_until {
        credential.insert("validUntil".into(), datetime::format(until).into());
    }
    credential.insert("credentialSubject".into(), Value::Object(subject));
    if let Some(status) = &input.status {
        credential.insert("credentialStatus".into(), status.to_json());
    }
    Value::Object(credential)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn input() -> AchievementInput {
        AchievementInput {
            credential_id: "https://lms.example/credentials/7".into(),
            issuer_id: "did:key:z6MkexampleIssuer".into(),
            issuer_name: "Example University".into(),
            issuer_url: None,
            subject_id: None,
            subject_identifiers: vec![],
            subject_name: None,
            achievement_id: "https://lms.example/courses/42".into(),
            achievement_name: "Rust 101".into(),
            achievement_description: "Introduction to Rust".into(),
            criteria_narrative: "Pass every assignment".into(),
            achievement_type: "Course".into(),
            valid_from: datetime!(2024-06-01 12:00 UTC),
            valid_until: None,
            result_description: None,
            status: None,
        }
    }

    #[test]
    fn minimal_credential_is_exactly_this() {
        assert_eq!(
            achievement_credential(&input()),
            json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                "id": "https://lms.example/credentials/7",
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {"id": "did:key:z6MkexampleIssuer", "type": ["Profile"], "name": "Example University"},
                "name": "Rust 101",
                "validFrom": "2024-06-01T12:00:00Z",
                "credentialSubject": {
                    "type": ["AchievementSubject"],
                    "achievement": {
                        "id": "https://lms.example/courses/42",
                        "type": ["Achievement"],
                        "name": "Rust 101",
                        "description": "Introduction to Rust",
                        "criteria": {"narrative": "Pass every assignment"},
                        "achievementType": "Course",
                    },
                },
            })
        );
    }

    #[test]
    fn optional_parts_appear_when_given() {
        let status = StatusEntry::new("https://lms.example/status/1", "revocation", 12);
        let full = AchievementInput {
            issuer_url: Some("https://uni.example".into()),
            subject_id: Some("did:example:learner".into()),
            subject_name: Some("Ada".into()),
            valid_until: Some(datetime!(2029-06-01 12:00 UTC)),
            result_description: Some("92 %".into()),
            status: Some(status.clone()),
            ..input()
        };
        let vc = achievement_credential(&full);
        assert_eq!(vc["credentialSubject"].get("identifier"), None, "no identifiers given, none made up");
        assert_eq!(vc["issuer"]["url"], "https://uni.example");
        assert_eq!(vc["credentialSubject"]["id"], "did:example:learner");
        assert_eq!(vc["credentialSubject"]["name"], "Ada");
        assert_eq!(vc["validUntil"], "2029-06-01T12:00:00Z");
        assert_eq!(vc["credentialStatus"], status.to_json());
        let result = &vc["credentialSubject"]["result"][0];
        assert_eq!(result["value"], "92 %");
        let description = &vc["credentialSubject"]["achievement"]["resultDescription"][0];
        assert_eq!(result["resultDescription"], description["id"]);
        assert_eq!(description["id"], "https://lms.example/courses/42#result");
    }

    #[test]
    fn identifiers_are_salted_sha256_identity_objects() {
        // The example of the Open Badges 3.0 specification's `IdentityHash`.
        assert_eq!(
            identity_hash("a@example.com", "Kosher"),
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        );
        let email = SubjectIdentifier {
            identity_type: "emailAddress".into(),
            value: "ada@uni.example".into(),
            salt: "0f1e2d3c".into(),
        };
        let vc = achievement_credential(&AchievementInput { subject_identifiers: vec![email.clone()], ..input() });
        assert_eq!(
            vc["credentialSubject"]["identifier"],
            json!([{
                "type": "IdentityObject",
                "identityHash": identity_hash("ada@uni.example", "0f1e2d3c"),
                "identityType": "emailAddress",
                "hashed": true,
                "salt": "0f1e2d3c",
            }])
        );
        assert!(!vc.to_string().contains("ada@uni.example"), "the email itself is not disclosed");
    }
}

use super::*;
use crate::badge::{AchievementInput, achievement_credential};
use crate::multibase::{decode_base58btc, encode_base58btc};
use crate::proof::{EddsaJcs2022, ProofOptions, sign};
use ed25519_dalek::SigningKey;
use serde_json::json;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-03-01 10:00 UTC);

fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn input() -> AchievementInput {
    AchievementInput {
        credential_id: "https://lms.example/credentials/1".into(),
        issuer_id: didkey::did_key(&issuer_key().verifying_key()),
        issuer_name: "Example University".into(),
        issuer_url: Some("https://uni.example".into()),
        subject_id: Some("did:example:learner".into()),
        subject_identifiers: vec![],
        subject_name: Some("Ada Lovelace".into()),
        achievement_id: "https://lms.example/courses/9".into(),
        achievement_name: "Analytical Engines".into(),
        achievement_description: "Programs for the engine".into(),
        criteria_narrative: "Complete all notes".into(),
        achievement_type: "Course".into(),
        valid_from: datetime!(2025-01-01 00:00 UTC),
        valid_until: Some(datetime!(2026-01-01 00:00 UTC)),
        result_description: Some("A".into()),
        status: Some(StatusEntry::new("https://lms.example/status/1", "revocation", 77)),
    }
}

fn issue_with(input: &AchievementInput, key: &SigningKey, options: ProofOptions) -> Value {
    sign(&achievement_credential(input), &EddsaJcs2022, key, options).unwrap()
}

fn issue(input: &AchievementInput) -> Value {
    let key = issuer_key();
    issue_with(input, &key, ProofOptions::assertion(&key.verifying_key(), datetime!(2025-01-01 00:00 UTC)))
}

fn flip_signature_bit(credential: &mut Value) {
    let mut bytes = decode_base58btc(credential["proof"]["proofValue"].as_str().unwrap()).unwrap();
    bytes[10] ^= 1;
    credential["proof"]["proofValue"] = json!(encode_base58btc(&bytes));
}

fn not_revoked(_: &StatusEntry) -> Result<bool, CredentialError> {
    Ok(false)
}

/// The one failed check, asserting it is `name` and its detail mentions `expected`.
fn assert_fails_only(v: &Verification, name: &str, expected: &str) {
    let failed: Vec<_> = v.failures().collect();
    assert!(!v.verified, "{name}: verified");
    assert_eq!(failed.len(), 1, "{name}: {failed:#?}");
    assert_eq!(failed[0].name, name, "{failed:#?}");
    assert!(failed[0].detail.contains(expected), "{name}: {:?} lacks {expected:?}", failed[0].detail);
}

#[test]
fn a_fresh_credential_verifies_with_every_check_explained() {
    let v = verify(&issue(&input()), NOW, &not_revoked);
    assert!(v.verified, "{v:#?}");
    let names: Vec<_> = v.checks.iter().map(|c| c.name).collect();
    assert_eq!(names, ["structure", "proof", "validFrom", "validUntil", "status"]);
    assert!(v.checks.iter().all(|c| !c.detail.is_empty()));
    assert!(v.check("status").unwrap().detail.contains("not revoked"));
    assert!(v.check("proof").unwrap().detail.contains("eddsa-jcs-2022"));
}

#[test]
fn tampering_fails_the_proof() {
    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation, &str); 14] = [
        ("achievement name", |v| v["credentialSubject"]["achievement"]["name"] = json!("Other"), "signature"),
        ("subject", |v| v["credentialSubject"]["id"] = json!("did:example:mallory"), "signature"),
        ("result", |v| v["credentialSubject"]["result"][0]["value"] = json!("A+"), "signature"),
        ("issuer name", |v| v["issuer"]["name"] = json!("Diploma Mill"), "signature"),
        ("status index", |v| v["credentialStatus"]["statusListIndex"] = json!("78"), "signature"),
        ("drop status", |v| drop(v.as_object_mut().unwrap().remove("credentialStatus")), "signature"),
        ("flipped signature bit", flip_signature_bit, "signature"),
        ("malformed proofValue", |v| v["proof"]["proofValue"] = json!("not multibase"), "'z'"),
        ("no proof", |v| drop(v.as_object_mut().unwrap().remove("proof")), "no proof"),
        ("proof set", |v| v["proof"] = json!([v["proof"].clone()]), "proof sets"),
        ("suite", |v| v["proof"]["cryptosuite"] = json!("ecdsa-jcs-2019"), "unknown cryptosuite \"ecdsa-jcs-2019\""),
        ("proof type", |v| v["proof"]["type"] = json!("Ed25519Signature2020"), "Ed25519Signature2020"),
        ("purpose", |v| v["proof"]["proofPurpose"] = json!("authentication"), "assertionMethod"),
        ("did:web method", |v| v["proof"]["verificationMethod"] = json!("did:web:evil.example#key-1"), "only did:key"),
    ];
    for (name, mutate, expected) in cases {
        let mut credential = issue(&input());
        mutate(&mut credential);
        let v = verify(&credential, NOW, &not_revoked);
        assert!(v.check("proof").is_some_and(|c| !c.ok), "{name}: {v:#?}");
        assert_fails_only(&v, "proof", expected);
    }
}

#[test]
fn a_key_that_is_not_the_issuers_is_refused() {
    let mallory = SigningKey::from_bytes(&[7; 32]);
    // Signed correctly, but by a key that is not the issuer's DID.
    let options = ProofOptions::assertion(&mallory.verifying_key(), datetime!(2025-01-01 00:00 UTC));
    let credential = issue_with(&input(), &mallory, options);
    assert_fails_only(&verify(&credential, NOW, &not_revoked), "proof", "not a key of the issuer");
    // The issuer's verification method swapped in after signing with another key.
    let mut credential = credential;
    credential["proof"]["verificationMethod"] = json!(didkey::verification_method(&issuer_key().verifying_key()));
    assert_fails_only(&verify(&credential, NOW, &not_revoked), "proof", "signature");
}

#[test]
fn validity_period_is_enforced() {
    let future = AchievementInput { valid_from: datetime!(2025-06-01 00:00 UTC), ..input() };
    assert_fails_only(&verify(&issue(&future), NOW, &not_revoked), "validFrom", "not valid yet");
    let expired = AchievementInput { valid_until: Some(datetime!(2025-02-01 00:00 UTC)), ..input() };
    assert_fails_only(&verify(&issue(&expired), NOW, &not_revoked), "validUntil", "expired at 2025-02-01T00:00:00Z");
    // Boundaries: valid from the very second, expired at the very second.
    let edge = AchievementInput { valid_from: NOW, valid_until: Some(NOW + time::Duration::seconds(1)), ..input() };
    assert!(verify(&issue(&edge), NOW, &not_revoked).verified);
    let edge = AchievementInput { valid_until: Some(NOW), ..input() };
    assert_fails_only(&verify(&issue(&edge), NOW, &not_revoked), "validUntil", "expired");
    let open = AchievementInput { valid_until: None, ..input() };
    let v = verify(&issue(&open), NOW, &not_revoked);
    assert!(v.verified && v.check("validUntil").unwrap().detail.contains("does not expire"), "{v:#?}");
}

#[test]
fn malformed_dates_fail_their_check() {
    for (field, value, expected) in
        [("validFrom", json!("2025-01-01"), "RFC 3339"), ("validUntil", json!(20260101), "not a string")]
    {
        let mut credential = achievement_credential(&input());
        credential[field] = value;
        let key = issuer_key();
        let options = ProofOptions::assertion(&key.verifying_key(), datetime!(2025-01-01 00:00 UTC));
        let signed = sign(&credential, &EddsaJcs2022, &key, options).unwrap();
        assert_fails_only(&verify(&signed, NOW, &not_revoked), field, expected);
    }
}

#[test]
fn status_is_asked_and_honoured() {
    let credential = issue(&input());
    let revoked = |entry: &StatusEntry| -> Result<bool, CredentialError> {
        assert_eq!(entry, &StatusEntry::new("https://lms.example/status/1", "revocation", 77));
        Ok(true)
    };
    assert_fails_only(&verify(&credential, NOW, &revoked), "status", "revoked");
    let foreign = |_: &StatusEntry| Err(CredentialError::Status("not one of our lists".into()));
    assert_fails_only(&verify(&credential, NOW, &foreign), "status", "not one of our lists");

    let suspended =
        AchievementInput { status: Some(StatusEntry::new("https://lms.example/status/2", "suspension", 1)), ..input() };
    assert_fails_only(&verify(&issue(&suspended), NOW, &|_| Ok(true)), "status", "suspended");

    let without = AchievementInput { status: None, ..input() };
    let v = verify(&issue(&without), NOW, &|_| panic!("no status to look up"));
    assert!(v.verified, "{v:#?}");
}

#[test]
fn several_status_entries_are_all_checked() {
    let key = issuer_key();
    let mut credential = achievement_credential(&AchievementInput { status: None, ..input() });
    credential["credentialStatus"] = json!([
        StatusEntry::new("https://lms.example/status/1", "revocation", 1).to_json(),
        StatusEntry::new("https://lms.example/status/2", "suspension", 2).to_json(),
    ]);
    let options = ProofOptions::assertion(&key.verifying_key(), NOW);
    let signed = sign(&credential, &EddsaJcs2022, &key, options).unwrap();
    assert!(verify(&signed, NOW, &not_revoked).verified);
    let suspended_only = |e: &StatusEntry| Ok(e.purpose == "suspension");
    assert_fails_only(&verify(&signed, NOW, &suspended_only), "status", "suspended");
}

#[test]
fn structure_problems_are_listed() {
    let cases = [
        (json!("a string"), "not a JSON object"),
        (json!({}), "@context must be"),
        (json!({"@context": ["https://www.w3.org/2018/credentials/v1"]}), "@context must be"),
        (json!({"@context": [VC_V2_CONTEXT], "type": ["OpenBadgeCredential"]}), "VerifiableCredential"),
        (json!({"@context": [VC_V2_CONTEXT], "issuer": 5}), "issuer must be"),
        (json!({"@context": [VC_V2_CONTEXT], "issuer": {"name": "x"}}), "issuer has no string id"),
        (json!({"@context": [VC_V2_CONTEXT], "credentialSubject": []}), "credentialSubject"),
        (json!({"@context": [VC_V2_CONTEXT], "id": 7}), "id must be a string"),
    ];
    for (document, expected) in cases {
        let v = verify(&document, NOW, &not_revoked);
        let structure = v.check("structure").unwrap();
        assert!(!v.verified && !structure.ok, "{document}");
        assert!(structure.detail.contains(expected), "{document}: {}", structure.detail);
    }
}

//! Data Integrity proofs (<https://www.w3.org/TR/vc-data-integrity/>): the [`Cryptosuite`] trait,
//! the registry of implemented suites ([`suite`]) and [`sign`], which adds a proof to a document.
//! Only `eddsa-jcs-2022` is implemented; `eddsa-rdfc-2022` (RDF canonicalization) can be added as
//! another suite without changing callers.

mod eddsa_jcs_2022;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use self::eddsa_jcs_2022::EddsaJcs2022;
use crate::CredentialError;
use crate::didkey;
use crate::multibase::preview;

/// The proof `type` every suite here produces.
pub const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";
/// The only `proofPurpose` an issuer's proof may carry.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// A Data Integrity cryptographic suite: turns an unsecured document into a proof and checks one.
pub trait Cryptosuite: Send + Sync {
    /// The `cryptosuite` value of the proofs it makes, e.g. `eddsa-jcs-2022`.
    fn name(&self) -> &'static str;
    /// Creates the proof object (not the secured document) for `unsecured` signed with `key`.
    fn create(&self, unsecured: &Value, options: ProofOptions, key: &SigningKey) -> Result<Value, CredentialError>;
    /// Checks the proof of `secured` against `key`. The caller resolves the verification method
    /// and decides whether its key may sign for the issuer; this checks the mathematics.
    fn verify(&self, secured: &Value, key: &VerifyingKey) -> Result<(), CredentialError>;
}

/// The caller-chosen parts of a proof; `type` and `cryptosuite` come from the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// `did:key:z6Mk…#z6Mk…` of the signing key.
    pub verification_method: String,
    /// When the proof was made; the caller's clock, not ours.
    pub created: OffsetDateTime,
    /// `assertionMethod` for an issuer's proof.
    pub proof_purpose: String,
}

impl ProofOptions {
    /// Options for an issuer's proof with `key` as a did:key: `assertionMethod`, created `now`.
    pub fn assertion(key: &VerifyingKey, now: OffsetDateTime) -> Self {
        Self {
            verification_method: didkey::verification_method(key),
            created: now,
            proof_purpose: ASSERTION_METHOD.to_owned(),
        }
    }
}

static EDDSA_JCS_2022: EddsaJcs2022 = EddsaJcs2022;
static SUITES: [&dyn Cryptosuite; 1] = [&EDDSA_JCS_2022];

/// The implemented suite called `name`, if any.
pub fn suite(name: &str) -> Option<&'static dyn Cryptosuite> {
    SUITES.iter().copied().find(|s| s.name() == name)
}

/// The names of every implemented suite, for error messages.
pub fn suite_names() -> Vec<&'static str> {
    SUITES.iter().map(|s| s.name()).collect()
}

/// Signs `unsecured` and returns it with `proof` added. Refuses a document that already has a proof
/// (proof sets and chains are not supported) and a key that is not the one `options` names, so
/// nothing is issued that [`fn@crate::verify`] would reject for its key.
pub fn sign(
    unsecured: &Value,
    suite: &dyn Cryptosuite,
    key: &SigningKey,
    options: ProofOptions,
) -> Result<Value, CredentialError> {
    let named = didkey::resolve_verification_method(&options.verification_method)?;
    if named != key.verifying_key() {
        return Err(CredentialError::KeyMismatch(preview(&options.verification_method)));
    }
    let mut document = object(unsecured)?.clone();
    if document.contains_key("proof") {
        return Err(CredentialError::MalformedDocument(
            "the document already has a proof; proof sets and chains are not supported".into(),
        ));
    }
    let proof = suite.create(unsecured, options, key)?;
    document.insert("proof".into(), proof);
    Ok(Value::Object(document))
}

/// RFC 8785 JSON Canonicalization Scheme serialization.
pub fn jcs(value: &Value) -> Result<String, CredentialError> {
    serde_jcs::to_string(value).map_err(|e| CredentialError::Canonicalization(e.to_string()))
}

/// The single proof object of a secured document.
pub fn proof_of(secured: &Value) -> Result<&Map<String, Value>, CredentialError> {
    match object(secured)?.get("proof") {
        None => Err(CredentialError::MalformedProof("the document has no proof".into())),
        Some(Value::Object(proof)) => Ok(proof),
        Some(Value::Array(_)) => {
            Err(CredentialError::MalformedProof("proof sets (several proofs) are not supported".into()))
        }
        Some(_) => Err(CredentialError::MalformedProof("proof is not a JSON object".into())),
    }
}

/// A string property of a proof, or an error naming it.
pub(crate) fn proof_str<'a>(proof: &'a Map<String, Value>, name: &str) -> Result<&'a str, CredentialError> {
    match proof.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(CredentialError::MalformedProof(format!("{name} is not a string"))),
        None => Err(CredentialError::MalformedProof(format!("{name} is missing"))),
    }
}

pub(crate) fn object(document: &Value) -> Result<&Map<String, Value>, CredentialError> {
    document.as_object().ok_or_else(|| CredentialError::MalformedDocument("the document is not a JSON object".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn doc() -> Value {
        json!({"@context": [crate::VC_V2_CONTEXT], "type": ["VerifiableCredential"], "name": "x"})
    }

    #[test]
    fn registry_knows_only_implemented_suites() {
        assert_eq!(suite("eddsa-jcs-2022").map(|s| s.name()), Some("eddsa-jcs-2022"));
        assert!(suite("eddsa-rdfc-2022").is_none());
        assert!(suite("").is_none());
        assert_eq!(suite_names(), ["eddsa-jcs-2022"]);
    }

    #[test]
    fn sign_adds_a_proof_that_verifies() {
        let k = key(3);
        let options = ProofOptions::assertion(&k.verifying_key(), datetime!(2024-01-02 03:04:05 UTC));
        let signed = sign(&doc(), &EddsaJcs2022, &k, options).unwrap();
        assert_eq!(signed["name"], "x");
        assert_eq!(signed["proof"]["type"], DATA_INTEGRITY_PROOF);
        assert_eq!(signed["proof"]["created"], "2024-01-02T03:04:05Z");
        EddsaJcs2022.verify(&signed, &k.verifying_key()).unwrap();
    }

    #[test]
    fn sign_refuses_a_key_that_is_not_the_named_one() {
        let options = ProofOptions::assertion(&key(1).verifying_key(), datetime!(2024-01-01 00:00 UTC));
        let err = sign(&doc(), &EddsaJcs2022, &key(2), options).unwrap_err();
        assert!(matches!(err, CredentialError::KeyMismatch(_)), "{err}");
    }

    #[test]
    fn sign_refuses_unresolvable_methods_and_existing_proofs() {
        let k = key(1);
        let mut options = ProofOptions::assertion(&k.verifying_key(), datetime!(2024-01-01 00:00 UTC));
        let signed = sign(&doc(), &EddsaJcs2022, &k, options.clone()).unwrap();
        let err = sign(&signed, &EddsaJcs2022, &k, options.clone()).unwrap_err();
        assert!(err.to_string().contains("already has a proof"), "{err}");
        let err = sign(&json!([1]), &EddsaJcs2022, &k, options.clone()).unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
        options.verification_method = "https://issuer.example/key".into();
        let err = sign(&doc(), &EddsaJcs2022, &k, options).unwrap_err();
        assert!(matches!(err, CredentialError::UnsupportedVerificationMethod(_)), "{err}");
    }

    #[test]
    fn proof_of_explains_what_is_wrong() {
        let cases = [
            (json!({}), "no proof"),
            (json!({"proof": []}), "proof sets"),
            (json!({"proof": "z123"}), "not a JSON object"),
            (json!("text"), "not a JSON object"),
        ];
        for (document, expected) in cases {
            let err = proof_of(&document).unwrap_err().to_string();
            assert!(err.contains(expected), "{document}: {err}");
        }
    }

    #[test]
    fn jcs_sorts_keys_and_normalises_numbers() {
        let value = json!({"b": 1.0, "a": [1e21, "é", null], "c": {"z": true, "\u{20ac}": 2, "y": -0.0}});
        assert_eq!(jcs(&value).unwrap(), r#"{"a":[1e+21,"é",null],"b":1,"c":{"y":0,"z":true,"€":2}}"#);
    }
}

//! The `eddsa-jcs-2022` cryptosuite, as specified in "Data Integrity EdDSA Cryptosuites v1.0",
//! section 3.3 (<https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022>).
//!
//! - proof configuration: the proof options with `type`, `cryptosuite` and, when the document has
//!   one, the document's `@context`; canonicalized with JCS (RFC 8785);
//! - transformation: the document without `proof`, canonicalized with JCS;
//! - hash data: SHA-256(canonical proof configuration) ‖ SHA-256(canonical document);
//! - proof value: base58btc multibase (`z…`) of the 64-byte Ed25519 signature of the hash data.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::{Cryptosuite, DATA_INTEGRITY_PROOF, ProofOptions, jcs, object, proof_of, proof_str};
use crate::multibase::{decode_base58btc, encode_base58btc, preview};
use crate::{CredentialError, datetime};

/// `eddsa-jcs-2022`: JCS canonicalization, SHA-256, Ed25519.
#[derive(Debug, Clone, Copy, Default)]
pub struct EddsaJcs2022;

impl EddsaJcs2022 {
    pub const NAME: &'static str = "eddsa-jcs-2022";

    /// The proof configuration for `options` (spec: Create Proof steps 1–2): everything but
    /// `proofValue`, including the unsecured document's `@context`.
    pub fn proof_config(unsecured: &Value, options: &ProofOptions) -> Result<Map<String, Value>, CredentialError> {
        let document = object(unsecured)?;
        let mut proof = Map::new();
        proof.insert("type".into(), DATA_INTEGRITY_PROOF.into());
        proof.insert("cryptosuite".into(), Self::NAME.into());
        proof.insert("created".into(), datetime::format(options.created).into());
        proof.insert("verificationMethod".into(), options.verification_method.clone().into());
        proof.insert("proofPurpose".into(), options.proof_purpose.clone().into());
        if let Some(context) = document.get("@context") {
            proof.insert("@context".into(), context.clone());
        }
        Ok(proof)
    }

    /// Hashing (spec 3.3.4): SHA-256 of the canonical proof configuration, then of the canonical
    /// document, joined.
    pub fn hash_data(canonical_proof_config: &str, canonical_document: &str) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&Sha256::digest(canonical_proof_config.as_bytes()));
        out[32..].copy_from_slice(&Sha256::digest(canonical_document.as_bytes()));
        out
    }

    /// Proof configuration check (spec 3.3.5): right type and suite, `created` a dateTimeStamp.
    fn check_config(config: &Map<String, Value>) -> Result<(), CredentialError> {
        let kind = proof_str(config, "type")?;
        if kind != DATA_INTEGRITY_PROOF {
            return Err(CredentialError::MalformedProof(format!(
                "type is {kind:?}, expected {DATA_INTEGRITY_PROOF:?}"
            )));
        }
        let suite = proof_str(config, "cryptosuite")?;
        if suite != Self::NAME {
            return Err(CredentialError::UnknownCryptosuite(preview(suite)));
        }
        if config.contains_key("created") {
            datetime::parse(proof_str(config, "created")?)
                .map_err(|e| CredentialError::MalformedProof(format!("created: {e}")))?;
        }
        Ok(())
    }
}

impl Cryptosuite for EddsaJcs2022 {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn create(&self, unsecured: &Value, options: ProofOptions, key: &SigningKey) -> Result<Value, CredentialError> {
        if object(unsecured)?.contains_key("proof") {
            return Err(CredentialError::MalformedDocument(
                "the document to sign already has a proof; proof sets and chains are not supported".into(),
            ));
        }
        let mut proof = Self::proof_config(unsecured, &options)?;
        Self::check_config(&proof)?;
        let hash = Self::hash_data(&jcs(&Value::Object(proof.clone()))?, &jcs(unsecured)?);
        let signature = key.sign(&hash);
        proof.insert("proofValue".into(), encode_base58btc(&signature.to_bytes()).into());
        Ok(Value::Object(proof))
    }

    fn verify(&self, secured: &Value, key: &VerifyingKey) -> Result<(), CredentialError> {
        // Verify Proof (spec 3.3.2), steps 1–3.
        let proof = proof_of(secured)?;
        let mut unsecured = object(secured)?.clone();
        unsecured.remove("proof");
        let mut options = proof.clone();
        let proof_value = proof_str(proof, "proofValue")?;
        options.remove("proofValue");
        Self::check_config(&options)?;
        let bytes =
            decode_base58btc(proof_value).map_err(|e| CredentialError::MalformedProof(format!("proofValue: {e}")))?;
        let bytes: [u8; 64] = bytes.as_slice().try_into().map_err(|_| {
            CredentialError::MalformedProof(format!("proofValue is {} bytes, an Ed25519 signature is 64", bytes.len()))
        })?;
        // Step 4: the proof's @context must be a prefix of the document's, and replaces it.
        if let Some(proof_context) = options.get("@context") {
            let document_context = as_list(unsecured.get("@context").unwrap_or(&Value::Null));
            let proof_list = as_list(proof_context);
            if !document_context.starts_with(&proof_list) {
                return Err(CredentialError::MalformedProof(
                    "the document's @context does not start with the proof's @context".into(),
                ));
            }
            unsecured.insert("@context".into(), proof_context.clone());
        }
        // Steps 5–8.
        let hash = Self::hash_data(&jcs(&Value::Object(options))?, &jcs(&Value::Object(unsecured))?);
        key.verify_strict(&hash, &Signature::from_bytes(&bytes)).map_err(|_| CredentialError::InvalidSignature)
    }
}

/// A JSON-LD value as a list: arrays as they are, anything else as one element, absence as none.
fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn signed() -> Value {
        let doc = json!({"@context": [crate::VC_V2_CONTEXT, "https://ctx.example/v1"], "id": "urn:x", "n": 1});
        let options = ProofOptions::assertion(&key().verifying_key(), datetime!(2024-02-03 04:05:06 UTC));
        let mut out = doc.clone();
        out["proof"] = EddsaJcs2022.create(&doc, options, &key()).unwrap();
        out
    }

    #[test]
    fn proof_carries_the_document_context() {
        let proof = signed()["proof"].clone();
        assert_eq!(proof["@context"], json!([crate::VC_V2_CONTEXT, "https://ctx.example/v1"]));
        assert_eq!(proof["cryptosuite"], "eddsa-jcs-2022");
        assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));
    }

    #[test]
    fn verifies_and_ignores_key_order() {
        let s = signed();
        EddsaJcs2022.verify(&s, &key().verifying_key()).unwrap();
        // Re-serialising with another key order changes nothing under JCS.
        let reordered: Value = serde_json::from_str(&serde_json::to_string_pretty(&s).unwrap()).unwrap();
        EddsaJcs2022.verify(&reordered, &key().verifying_key()).unwrap();
    }

    #[test]
    fn every_mutation_is_caught() {
        type Mutation = fn(&mut Value);
        let cases: [(&str, Mutation, &str); 12] = [
            ("document field", |v| v["n"] = json!(2), "signature"),
            ("added field", |v| v["extra"] = json!(true), "signature"),
            ("removed id", |v| drop(v.as_object_mut().unwrap().remove("id")), "signature"),
            ("created", |v| v["proof"]["created"] = json!("2024-02-03T04:05:07Z"), "signature"),
            ("purpose", |v| v["proof"]["proofPurpose"] = json!("authentication"), "signature"),
            ("proof context", |v| v["proof"]["@context"] = json!([crate::VC_V2_CONTEXT]), "signature"),
            ("document context", |v| v["@context"] = json!([crate::VC_V2_CONTEXT]), "does not start with"),
            ("suite", |v| v["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022"), "unknown cryptosuite"),
            ("type", |v| v["proof"]["type"] = json!("Ed25519Signature2020"), "expected"),
            ("created format", |v| v["proof"]["created"] = json!("yesterday"), "created"),
            ("proofValue", |v| v["proof"]["proofValue"] = json!("zabc"), "64"),
            ("no proofValue", |v| drop(v["proof"].as_object_mut().unwrap().remove("proofValue")), "missing"),
        ];
        for (name, mutate, expected) in cases {
            let mut s = signed();
            mutate(&mut s);
            let err = EddsaJcs2022.verify(&s, &key().verifying_key()).expect_err(name).to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
    }

    #[test]
    fn wrong_key_fails() {
        let other = SigningKey::from_bytes(&[10; 32]).verifying_key();
        let err = EddsaJcs2022.verify(&signed(), &other).unwrap_err();
        assert!(matches!(err, CredentialError::InvalidSignature), "{err}");
    }

    #[test]
    fn document_without_context_has_proof_without_context() {
        let doc = json!({"a": 1});
        let options = ProofOptions::assertion(&key().verifying_key(), datetime!(2024-02-03 04:05:06 UTC));
        let proof = EddsaJcs2022.create(&doc, options, &key()).unwrap();
        assert!(proof.get("@context").is_none());
        let mut s = doc;
        s["proof"] = proof;
        EddsaJcs2022.verify(&s, &key().verifying_key()).unwrap();
    }
}

//! Reproduces the W3C vc-di-eddsa `eddsa-jcs-2022` test vectors byte for byte (see
//! `tests/vectors/README.md` for their source and licence).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use ed25519_dalek::{Signer as _, SigningKey};
use lectern_credentials::proof::{Cryptosuite, EddsaJcs2022, ProofOptions, jcs, sign};
use lectern_credentials::{did_key, public_key_multibase, resolve_verification_method, verify};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::macros::datetime;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

fn text(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_owned()
}

fn json(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap()
}

/// The secret key of `keyPair.json`: multicodec `ed25519-priv` (0x1300, varint `0x80 0x26`) + seed.
fn signing_key() -> SigningKey {
    let pair = json("keyPair.json");
    let secret = pair["privateKeyMultibase"].as_str().unwrap();
    let bytes = bs58::decode(secret.strip_prefix('z').unwrap()).into_vec().unwrap();
    let seed: [u8; 32] = bytes.strip_prefix(&[0x80, 0x26]).unwrap().try_into().unwrap();
    SigningKey::from_bytes(&seed)
}

fn options() -> ProofOptions {
    let config = json("eddsa-jcs-2022/proofConfigJCS.json");
    ProofOptions {
        verification_method: config["verificationMethod"].as_str().unwrap().to_owned(),
        created: datetime!(2023-02-24 23:36:38 UTC),
        proof_purpose: "assertionMethod".to_owned(),
    }
}

#[test]
fn key_pair_matches_its_did_key() {
    let key = signing_key();
    let public = json("keyPair.json")["publicKeyMultibase"].as_str().unwrap().to_owned();
    assert_eq!(public_key_multibase(&key.verifying_key()), public);
    assert_eq!(did_key(&key.verifying_key()), format!("did:key:{public}"));
    assert_eq!(resolve_verification_method(&options().verification_method).unwrap(), key.verifying_key());
}

#[test]
fn canonical_document_and_its_hash() {
    let canonical = jcs(&json("unsigned.json")).unwrap();
    assert_eq!(canonical, text("eddsa-jcs-2022/canonDocJCS.txt"));
    assert_eq!(hex::encode(Sha256::digest(&canonical)), text("eddsa-jcs-2022/docHashJCS.txt"));
}

#[test]
fn proof_configuration_its_canonical_form_and_hash() {
    let config = EddsaJcs2022::proof_config(&json("unsigned.json"), &options()).unwrap();
    assert_eq!(Value::Object(config.clone()), json("eddsa-jcs-2022/proofConfigJCS.json"));
    let canonical = jcs(&Value::Object(config)).unwrap();
    assert_eq!(canonical, text("eddsa-jcs-2022/proofCanonJCS.txt"));
    assert_eq!(hex::encode(Sha256::digest(&canonical)), text("eddsa-jcs-2022/proofHashJCS.txt"));
}

#[test]
fn combined_hash_and_signature() {
    let hash =
        EddsaJcs2022::hash_data(&text("eddsa-jcs-2022/proofCanonJCS.txt"), &text("eddsa-jcs-2022/canonDocJCS.txt"));
    assert_eq!(hex::encode(hash), text("eddsa-jcs-2022/combinedHashJCS.txt"));
    let signature = signing_key().sign(&hash).to_bytes();
    assert_eq!(hex::encode(signature), text("eddsa-jcs-2022/sigHexJCS.txt"));
    assert_eq!(format!("z{}", bs58::encode(signature).into_string()), text("eddsa-jcs-2022/sigBTC58JCS.txt"));
}

#[test]
fn signing_reproduces_the_signed_credential() {
    let signed = sign(&json("unsigned.json"), &EddsaJcs2022, &signing_key(), options()).unwrap();
    assert_eq!(signed, json("eddsa-jcs-2022/signedJCS.json"));
}

#[test]
fn the_published_signed_credential_verifies_and_tampering_does_not() {
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    let method = signed["proof"]["verificationMethod"].as_str().unwrap();
    let key = resolve_verification_method(method).unwrap();
    EddsaJcs2022.verify(&signed, &key).unwrap();

    let mut tampered = signed.clone();
    tampered["credentialSubject"]["alumniOf"] = "The School of Counterfeits".into();
    EddsaJcs2022.verify(&tampered, &key).unwrap_err();

    // The full verifier accepts the mathematics but not the issuer: the vector's issuer is an https
    // URL, not the did:key that signed, and only did:key issuers can be matched without the network.
    let report = verify(&signed, datetime!(2024-01-01 00:00 UTC), &|_| Ok(false));
    let failed: Vec<_> = report.failures().map(|c| (c.name, c.detail.as_str())).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "proof");
    assert!(failed[0].1.contains("not a key of the issuer"), "{failed:?}");
}

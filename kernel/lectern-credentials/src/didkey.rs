//! `did:key` for Ed25519 public keys (<https://w3c-ccg.github.io/did-key-spec/>): the key is the
//! multicodec `ed25519-pub` (varint `0xed 0x01`) followed by the 32 key bytes, multibase-encoded as
//! base58btc (`z`), so every such DID starts `did:key:z6Mk`. The verification method of a did:key is
//! the DID with the same multibase value as its fragment.

use ed25519_dalek::VerifyingKey;

use crate::CredentialError;
use crate::multibase::{decode_base58btc, encode_base58btc, preview};

/// Multicodec varint for `ed25519-pub`.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const PREFIX: &str = "did:key:";

/// The key as multibase (`z6Mk…`), the form used for `publicKeyMultibase` and in the DID.
pub fn public_key_multibase(public: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB);
    bytes.extend_from_slice(public.as_bytes());
    encode_base58btc(&bytes)
}

/// `did:key:z6Mk…`
pub fn did_key(public: &VerifyingKey) -> String {
    format!("{PREFIX}{}", public_key_multibase(public))
}

/// `did:key:z6Mk…#z6Mk…`, the id a proof's `verificationMethod` names.
pub fn verification_method(public: &VerifyingKey) -> String {
    let multibase = public_key_multibase(public);
    format!("{PREFIX}{multibase}#{multibase}")
}

/// The DID part of a verification method (`did:key:z…#z…` → `did:key:z…`): its controller.
pub fn controller_of(verification_method: &str) -> &str {
    verification_method.split_once('#').map_or(verification_method, |(did, _)| did)
}

/// Decodes a `did:key` DID (without fragment) to its Ed25519 key.
pub fn resolve_did(did: &str) -> Result<VerifyingKey, CredentialError> {
    let Some(multibase) = did.strip_prefix(PREFIX) else {
        return Err(CredentialError::UnsupportedVerificationMethod(preview(did)));
    };
    let malformed = |reason: String| CredentialError::MalformedDidKey { id: preview(did), reason };
    let bytes = decode_base58btc(multibase).map_err(|e| malformed(e.to_string()))?;
    let Some(key) = bytes.strip_prefix(&ED25519_PUB) else {
        return Err(malformed(
            "the multicodec prefix is not ed25519-pub (0xed01); only Ed25519 keys are supported".into(),
        ));
    };
    let key: &[u8; 32] =
        key.try_into().map_err(|_| malformed(format!("an Ed25519 key is 32 bytes, this one is {}", key.len())))?;
    VerifyingKey::from_bytes(key).map_err(|_| malformed("the bytes are not a valid Ed25519 point".into()))
}

/// Resolves a `did:key` verification method (`did:key:z6Mk…#z6Mk…`) to its public key. The fragment
/// must repeat the key's multibase value; a bare DID is refused, as a proof must name a method.
/// Any other DID method or URL is [`CredentialError::UnsupportedVerificationMethod`].
pub fn resolve_verification_method(vm: &str) -> Result<VerifyingKey, CredentialError> {
    if !vm.starts_with(PREFIX) {
        return Err(CredentialError::UnsupportedVerificationMethod(preview(vm)));
    }
    let Some((did, fragment)) = vm.split_once('#') else {
        return Err(CredentialError::MalformedDidKey {
            id: preview(vm),
            reason: "a verification method needs a fragment (did:key:z…#z…)".into(),
        });
    };
    let key = resolve_did(did)?;
    if fragment != &did[PREFIX.len()..] {
        return Err(CredentialError::MalformedDidKey {
            id: preview(vm),
            reason: "the fragment does not name the DID's own key".into(),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multibase::encode_base58btc;
    use ed25519_dalek::SigningKey;

    /// The Ed25519 example DID of the did:key specification.
    const SPEC_DID: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    #[test]
    fn shapes() {
        let public = key(1);
        let did = did_key(&public);
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(verification_method(&public), format!("{did}#{}", public_key_multibase(&public)));
        assert_eq!(controller_of(&verification_method(&public)), did);
    }

    #[test]
    fn round_trips() {
        for seed in 0..8 {
            let public = key(seed);
            assert_eq!(resolve_verification_method(&verification_method(&public)).unwrap(), public);
            assert_eq!(resolve_did(&did_key(&public)).unwrap(), public);
        }
    }

    #[test]
    fn spec_did_round_trips() {
        let public = resolve_did(SPEC_DID).unwrap();
        assert_eq!(did_key(&public), SPEC_DID);
    }

    #[test]
    fn refuses_what_it_cannot_resolve() {
        let good = verification_method(&key(1));
        let other = public_key_multibase(&key(2));
        let (did, _) = good.split_once('#').unwrap();
        let short = encode_base58btc(&[0xed, 0x01, 1, 2, 3]);
        let cases: Vec<(String, &str)> = vec![
            ("https://issuer.example/keys/1".into(), "unsupported"),
            ("did:web:issuer.example#key-1".into(), "unsupported"),
            (did.to_owned(), "fragment"),
            (format!("{did}#{other}"), "own key"),
            // secp256k1 (0xe701) key: right shape, wrong curve.
            ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme#zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
                .into(), "ed25519-pub"),
            (format!("did:key:{short}#{short}"), "32 bytes"),
            ("did:key:abc#abc".into(), "base58btc"),
            ("did:key:z0OIl#z0OIl".into(), "base58btc"),
        ];
        for (vm, expected) in cases {
            let err = resolve_verification_method(&vm).expect_err(&vm).to_string();
            assert!(err.contains(expected), "{vm}: {err}");
        }
    }
}

//! Ed25519 keys as TUF describes them: a public key is the JSON object
//! `{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"<hex>"}}`, its
//! id is the hex SHA-256 of that object's canonical form, and a signature is
//! the hex of the 64 signature bytes over the canonical form of what is signed.
//! Private keys are PKCS#8 PEM files, created readable by their owner only.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::MarketError;

pub const KEYTYPE: &str = "ed25519";
pub const SCHEME: &str = "ed25519";

/// A private signing key.
pub struct KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair").field("key_id", &self.public().key_id()).finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<KeyPair, MarketError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| MarketError::Key(format!("no randomness: {e}")))?;
        Ok(KeyPair { signing: SigningKey::from_bytes(&seed) })
    }

    /// A key from a fixed seed (tests and reproducible fixtures only).
    pub fn from_seed(seed: [u8; 32]) -> KeyPair {
        KeyPair { signing: SigningKey::from_bytes(&seed) }
    }

    pub fn from_pem(pem: &str) -> Result<KeyPair, MarketError> {
        let signing = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| MarketError::Key(format!("not an Ed25519 PKCS#8 PEM private key: {e}")))?;
        Ok(KeyPair { signing })
    }

    pub fn to_pem(&self) -> Result<String, MarketError> {
        let pem = self
            .signing
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| MarketError::Key(format!("cannot encode the key: {e}")))?;
        Ok(pem.to_string())
    }

    /// Reads a PEM private key file.
    pub fn read(path: &Path) -> Result<KeyPair, MarketError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| MarketError::Key(format!("cannot read {}: {e}", path.display())))?;
        KeyPair::from_pem(&pem).map_err(|e| MarketError::Key(format!("{}: {e}", path.display())))
    }

    /// Writes the private key to a new file (mode 0600); refuses to overwrite one.
    pub fn write(&self, path: &Path) -> Result<(), MarketError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f =
            options.open(path).map_err(|e| MarketError::Key(format!("cannot create {}: {e}", path.display())))?;
        f.write_all(self.to_pem()?.as_bytes())?;
        f.sync_all()?;
        Ok(())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::ed25519(self.signing.verifying_key().to_bytes())
    }

    /// The hex signature of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyVal {
    /// Hex of the 32-byte Ed25519 public key.
    pub public: String,
}

/// A public key in TUF's JSON form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicKey {
    pub keytype: String,
    pub scheme: String,
    pub keyval: KeyVal,
}

impl PublicKey {
    pub fn ed25519(bytes: [u8; 32]) -> PublicKey {
        PublicKey { keytype: KEYTYPE.into(), scheme: SCHEME.into(), keyval: KeyVal { public: hex::encode(bytes) } }
    }

    /// TUF's key id: hex SHA-256 of the key object's canonical JSON.
    pub fn key_id(&self) -> String {
        // Serialising three strings cannot fail.
        let bytes = crate::canonical::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    fn verifying_key(&self) -> Result<VerifyingKey, MarketError> {
        if self.keytype != KEYTYPE || self.scheme != SCHEME {
            return Err(MarketError::Key(format!("unsupported key type {}/{}", self.keytype, self.scheme)));
        }
        let bytes: [u8; 32] = hex::decode(&self.keyval.public)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| MarketError::Key("an Ed25519 public key is 32 bytes of hex".into()))?;
        VerifyingKey::from_bytes(&bytes).map_err(|e| MarketError::Key(format!("not an Ed25519 public key: {e}")))
    }

    /// Checks the key itself (type, scheme, a valid curve point).
    pub fn validate(&self) -> Result<(), MarketError> {
        self.verifying_key().map(|_| ())
    }

    /// Whether `signature_hex` is this key's signature of `message` (strict
    /// verification: no malleable or small-order forgeries).
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(key) = self.verifying_key() else { return false };
        let Some(sig) = hex::decode(signature_hex).ok().and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
            return false;
        };
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
    }

    /// Reads a public key file (the JSON object, as `lectern publisher keygen` writes it).
    pub fn read(path: &Path) -> Result<PublicKey, MarketError> {
        let bytes =
            std::fs::read(path).map_err(|e| MarketError::Key(format!("cannot read {}: {e}", path.display())))?;
        let key: PublicKey = serde_json::from_slice(&bytes)
            .map_err(|e| MarketError::Key(format!("{}: not a public key file: {e}", path.display())))?;
        key.validate()?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_signatures() {
        let k = KeyPair::generate().unwrap();
        let again = KeyPair::from_pem(&k.to_pem().unwrap()).unwrap();
        assert_eq!(k.public(), again.public());
        let sig = k.sign(b"hello");
        assert!(k.public().verify(b"hello", &sig));
        assert!(!k.public().verify(b"hellp", &sig));
        assert!(!KeyPair::generate().unwrap().public().verify(b"hello", &sig));
        assert!(!k.public().verify(b"hello", "zz"));
        assert_eq!(k.public().key_id().len(), 64);
    }

    #[test]
    fn key_id_is_tufs() {
        // The TUF reference implementation's key id for this public key
        // (securesystemslib: sha256 over the canonical key object).
        let key = PublicKey::ed25519([0u8; 32]);
        let expected = hex::encode(Sha256::digest(
            br#"{"keytype":"ed25519","keyval":{"public":"0000000000000000000000000000000000000000000000000000000000000000"},"scheme":"ed25519"}"#,
        ));
        assert_eq!(key.key_id(), expected);
    }

    #[test]
    fn refuses_to_overwrite_a_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        KeyPair::generate().unwrap().write(&path).unwrap();
        assert!(KeyPair::generate().unwrap().write(&path).is_err());
        KeyPair::read(&path).unwrap();
    }
}

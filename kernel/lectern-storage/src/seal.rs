//! Secrets at rest: trees opened with [`crate::Store::sealed_tree`] hold every
//! value encrypted under a key that is not stored in the database.
//!
//! A sealed value is `[ENVELOPE_SEALED, key id (4 bytes), nonce (24 bytes),
//! ciphertext + tag]`, XChaCha20-Poly1305 over the value's ordinary encoding,
//! with the tree's name and the record's key as associated data: a sealed
//! value copied to another key or tree does not open. The key id is the first
//! four bytes of a SHA-256 of the key, so a server given the wrong key says so
//! instead of reporting corruption.
//!
//! Rotation: a [`Keyring`] has one current key, used for every new value, and
//! any number of previous keys, still accepted for reading;
//! [`crate::Store::reseal`] rewrites every value of the named trees under the
//! current key (and seals values written before sealing existed), after which
//! the previous keys can be dropped.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::StorageError;

/// First byte of a sealed value (a plain value starts with 1, see `codec`).
pub(crate) const ENVELOPE_SEALED: u8 = 0xE5;
const ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;

/// One 256-bit key-encryption key.
#[derive(Clone)]
pub struct SealingKey {
    id: [u8; ID_LEN],
    cipher: XChaCha20Poly1305,
}

impl SealingKey {
    pub fn new(key: [u8; 32]) -> SealingKey {
        let digest = Sha256::new().chain_update(b"lectern-sealing-key-id\0").chain_update(key).finalize();
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&digest[..ID_LEN]);
        SealingKey { id, cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    /// The key's public identifier (hex), safe to log and show.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({})", self.id())
    }
}

/// The current key and the previous ones still accepted for reading.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(16 + tree.len() + key.len());
    a.extend_from_slice(b"lectern-seal-v1\0");
    a.extend_from_slice(tree.as_bytes());
    a.push(0);
    a.extend_from_slice(key);
    a
}

impl Keyring {
    pub fn new(current: SealingKey, previous: Vec<SealingKey>) -> Keyring {
        Keyring { current, previous }
    }

    pub fn current(&self) -> &SealingKey {
        &self.current
    }

    pub fn previous(&self) -> &[SealingKey] {
        &self.previous
    }

    pub(crate) fn seal(&self, tree: &str, key: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).unwrap_or_else(|e| panic!("the operating system's random source failed: {e}"));
        let sealed = self
            .current
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: &aad(tree, key) })
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_else(|e| panic!("sealing a {}-byte value failed: {e}", plain.len()));
        let mut out = Vec::with_capacity(1 + ID_LEN + NONCE_LEN + sealed.len());
        out.push(ENVELOPE_SEALED);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The key id a sealed value names, if it is one.
    pub(crate) fn sealed_with(bytes: &[u8]) -> Option<[u8; ID_LEN]> {
        match bytes {
            [ENVELOPE_SEALED, rest @ ..] if rest.len() >= ID_LEN + NONCE_LEN => rest[..ID_LEN].try_into().ok(),
            _ => None,
        }
    }

    pub(crate) fn is_current(&self, bytes: &[u8]) -> bool {
        Self::sealed_with(bytes) == Some(self.current.id)
    }

    pub(crate) fn open(&self, tree: &str, key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, StorageError> {
        let Some(id) = Self::sealed_with(bytes) else {
            return Err(StorageError::Corrupt {
                tree: tree.to_owned(),
                detail:
                    "a value of a sealed tree is stored in the clear (written by hand, or the tree was never resealed)"
                        .into(),
            });
        };
        let Some(k) = std::iter::once(&self.current).chain(&self.previous).find(|k| k.id == id) else {
            return Err(StorageError::SealingKey {
                tree: tree.to_owned(),
                found: hex::encode(id),
                current: self.current.id(),
            });
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[1 + ID_LEN..1 + ID_LEN + NONCE_LEN]);
        k.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &bytes[1 + ID_LEN + NONCE_LEN..], aad: &aad(tree, key) })
            .map_err(|_| StorageError::Corrupt {
                tree: tree.to_owned(),
                detail: "a sealed value failed authentication (altered, or moved from another key)".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_in_place_and_with_its_key() {
        let ring = Keyring::new(SealingKey::new([7; 32]), vec![]);
        let sealed = ring.seal("t", b"k", b"secret value");
        assert!(!sealed.windows(6).any(|w| w == b"secret"), "the plaintext shows through");
        assert_eq!(ring.open("t", b"k", &sealed).unwrap(), b"secret value");
        // Moved to another key or tree, altered, or under another key: refused.
        assert!(matches!(ring.open("t", b"other", &sealed), Err(StorageError::Corrupt { .. })));
        assert!(matches!(ring.open("u", b"k", &sealed), Err(StorageError::Corrupt { .. })));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(matches!(ring.open("t", b"k", &altered), Err(StorageError::Corrupt { .. })));
        let other = Keyring::new(SealingKey::new([8; 32]), vec![]);
        assert!(matches!(other.open("t", b"k", &sealed), Err(StorageError::SealingKey { .. })));
        // A rotated ring still reads the old key's values and seals with the new one.
        let rotated = Keyring::new(SealingKey::new([8; 32]), vec![SealingKey::new([7; 32])]);
        assert_eq!(rotated.open("t", b"k", &sealed).unwrap(), b"secret value");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal("t", b"k", b"x")));
        // Two seals of one value differ (random nonces).
        assert_ne!(ring.seal("t", b"k", b"v"), ring.seal("t", b"k", b"v"));
        // Plain values are refused.
        assert!(matches!(ring.open("t", b"k", &[1, 1, 0]), Err(StorageError::Corrupt { .. })));
    }

    #[test]
    fn sealed_trees_hide_their_values_and_reseal_old_and_plain_ones() {
        use std::sync::Arc;

        use crate::{Store, StoreOptions};
        let dir = tempfile::tempdir().unwrap();
        let open = |ring: Option<Keyring>| {
            Store::open(dir.path(), StoreOptions { keyring: ring.map(Arc::new), ..Default::default() }).unwrap()
        };
        let old = || SealingKey::new([1; 32]);
        let new = || SealingKey::new([2; 32]);
        {
            // Written before sealing existed: in the clear.
            let store = open(None);
            store.tree::<String>("secrets").unwrap().insert("a", &"plain secret".to_owned()).unwrap();
            assert!(matches!(store.sealed_tree::<String>("secrets"), Err(StorageError::NoKeyring("secrets"))));
        }
        {
            let store = open(Some(Keyring::new(old(), vec![])));
            assert_eq!(store.sealing_keys_in_use(&["secrets"]).unwrap().len(), 0);
            let tree = store.sealed_tree::<String>("secrets").unwrap();
            assert!(matches!(tree.get("a"), Err(StorageError::Corrupt { .. })), "a plain value is not read as sealed");
            assert_eq!(store.reseal(&["secrets"]).unwrap(), 1);
            assert_eq!(store.reseal(&["secrets"]).unwrap(), 0, "already under the current key");
            assert_eq!(tree.get("a").unwrap().as_deref(), Some("plain secret"));
            tree.insert("b", &"second secret".to_owned()).unwrap();
            for entry in store.raw_tree("secrets").iter() {
                let (_, v) = entry.unwrap();
                assert!(!v.windows(6).any(|w| w == b"secret"), "a value is readable on disk");
            }
            assert_eq!(store.sealing_keys_in_use(&["secrets"]).unwrap(), [old().id()].into());
        }
        {
            // Rotation: the new key with the old one as previous reseals everything.
            let store = open(Some(Keyring::new(new(), vec![old()])));
            assert_eq!(store.reseal(&["secrets"]).unwrap(), 2);
            assert_eq!(store.sealing_keys_in_use(&["secrets"]).unwrap(), [new().id()].into());
        }
        {
            // After which the old key can go; a server with only the old key cannot read.
            let store = open(Some(Keyring::new(new(), vec![])));
            let tree = store.sealed_tree::<String>("secrets").unwrap();
            assert_eq!(tree.get("b").unwrap().as_deref(), Some("second secret"));
            let n: Vec<_> = tree.scan_prefix("").map(|r| r.unwrap().1).collect();
            assert_eq!(n, ["plain secret", "second secret"]);
        }
        let store = open(Some(Keyring::new(old(), vec![])));
        let tree = store.sealed_tree::<String>("secrets").unwrap();
        assert!(matches!(tree.get("a"), Err(StorageError::SealingKey { .. })));
    }
}

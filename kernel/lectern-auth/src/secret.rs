//! Opaque secrets: session tokens, refresh tokens, authorization codes, client
//! secrets. Generated from the OS random source, shown once, stored as SHA-256
//! (they carry 256 bits of entropy, so a fast hash is the right tool).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AuthError;

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(out)
}

/// A new 256-bit secret, base64url without padding, with a short prefix that
/// names its kind (`lsn_` session, `lrt_` refresh token, …) so a leaked secret
/// is recognisable by secret scanners.
pub fn new_secret(prefix: &str) -> Result<String, AuthError> {
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// The storage form of a secret.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Constant-time equality for secrets and their hashes.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_prefixed_and_hash_stably() {
        let a = new_secret("lsn_").unwrap();
        let b = new_secret("lsn_").unwrap();
        assert!(a.starts_with("lsn_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert!(!ct_eq(&hash_secret(&a), &hash_secret(&b)));
    }
}

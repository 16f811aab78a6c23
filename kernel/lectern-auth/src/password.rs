//! Password policy (NIST SP 800-63B) and argon2id hashing (OWASP parameters).
//!
//! Policy: 8 to 128 characters after NFKC normalisation, no composition rules,
//! not one of the 11,611 most common passwords of that length, and not the
//! account's own email or name. Hashes are PHC strings; a hash made with
//! weaker parameters verifies and reports that it should be rehashed.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;

use crate::AuthError;
use crate::secret::random_bytes;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

/// Why a new password was refused. The messages are shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("password must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("this password is one of the most commonly used passwords; choose another")]
    Common,
    #[error("password must not be your email address or name")]
    ContainsIdentity,
}

fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Checks a new password against the policy. `identity` holds the account's
/// email and display name, which the password must not equal.
pub fn check_policy(password: &str, identity: &[&str]) -> Result<(), PolicyViolation> {
    let p = normalize(password);
    let chars = p.chars().count();
    if chars < MIN_CHARS {
        return Err(PolicyViolation::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PolicyViolation::TooLong);
    }
    let lower = p.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(PolicyViolation::Common);
    }
    let local_part = |s: &str| s.split('@').next().unwrap_or(s).to_lowercase();
    if identity.iter().any(|i| !i.is_empty() && (i.to_lowercase() == lower || local_part(i) == lower)) {
        return Err(PolicyViolation::ContainsIdentity);
    }
    Ok(())
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Match { needs_rehash: bool },
    Mismatch,
}

/// argon2id with fixed parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "argon2id(m={}, t={}, p={})", self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
    }
}

impl Default for PasswordHasher {
    /// OWASP's recommendation: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        PasswordHasher::new(19_456, 2, 1).unwrap_or_else(|_| unreachable!("OWASP parameters are valid"))
    }
}

impl PasswordHasher {
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, AuthError> {
        let params = Params::new(m_kib, t, p, None).map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok(PasswordHasher { params })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string for `password`. CPU-heavy (tens of ms): call off the async runtime.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| AuthError::Hashing(e.to_string()))?;
        let hash = self
            .argon()
            .hash_password(normalize(password).as_bytes(), &salt)
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Checks `password` against `phc`. CPU-heavy: call off the async runtime.
    pub fn verify(&self, password: &str, phc: &str) -> Result<Verified, AuthError> {
        let parsed = PasswordHash::new(phc).map_err(|_| AuthError::MalformedHash)?;
        // Verify with the parameters recorded in the hash, not ours.
        match Argon2::default().verify_password(normalize(password).as_bytes(), &parsed) {
            Ok(()) => {
                let current = parsed.algorithm.as_str() == "argon2id"
                    && Params::try_from(&parsed).is_ok_and(|p| {
                        p.m_cost() == self.params.m_cost()
                            && p.t_cost() == self.params.t_cost()
                            && p.p_cost() == self.params.p_cost()
                    });
                Ok(Verified::Match { needs_rehash: !current })
            }
            Err(argon2::password_hash::Error::Password) => Ok(Verified::Mismatch),
            Err(_) => Err(AuthError::MalformedHash),
        }
    }

    /// Burns the same time as a real verification; used when the account does
    /// not exist so response time does not reveal which emails are registered.
    pub fn verify_dummy(&self, password: &str) {
        static DUMMY: LazyLock<Option<String>> =
            LazyLock::new(|| PasswordHasher::default().hash("dummy-password-x").ok());
        if let Some(d) = DUMMY.as_deref() {
            let _ = self.verify(password, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str, expected: Result<(), PolicyViolation>) {
        assert_eq!(check_policy(pw, &["ada@example.edu", "Ada Lovelace"]), expected, "{pw:?}");
    }

    #[test]
    fn policy() {
        check("short", Err(PolicyViolation::TooShort));
        check("ｐａｓｓ", Err(PolicyViolation::TooShort)); // NFKC folds full-width
        check(&"x".repeat(129), Err(PolicyViolation::TooLong));
        check(&"x".repeat(128), Ok(()));
        check("password", Err(PolicyViolation::Common));
        check("PassWord", Err(PolicyViolation::Common));
        check("trustno1", Err(PolicyViolation::Common));
        check("ada@example.edu", Err(PolicyViolation::ContainsIdentity));
        check("ada lovelace", Err(PolicyViolation::ContainsIdentity));
        check("correct horse battery staple", Ok(()));
        check("tr0ub4dor&3 but longer", Ok(()));
        check("短いけど八文字以上の合言葉", Ok(()));
    }

    #[test]
    fn hash_verify_and_rehash() {
        let fast = PasswordHasher::new(1024, 1, 1).unwrap();
        let h = fast.hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(fast.verify("correct horse", &h).unwrap(), Verified::Match { needs_rehash: false });
        assert_eq!(fast.verify("wrong horse", &h).unwrap(), Verified::Mismatch);
        let stronger = PasswordHasher::new(2048, 2, 1).unwrap();
        assert_eq!(stronger.verify("correct horse", &h).unwrap(), Verified::Match { needs_rehash: true });
        assert!(matches!(fast.verify("x", "not a phc"), Err(AuthError::MalformedHash)));
    }

    #[test]
    fn default_is_owasp() {
        let h = PasswordHasher::default().hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
}

//! Credential primitives for the Lectern kernel.
//!
//! Owns the cryptography, so nothing else hand-rolls it: password policy and
//! argon2id hashing ([`password`]), Ed25519-signed JWT access and ID tokens
//! and their JWKS form ([`tokens`]), PKCE verification ([`pkce`]), and random
//! opaque secrets that are stored only as hashes ([`secret`]).
//!
//! This crate is pure: no storage, no clock of its own (callers pass `now`),
//! no HTTP. It never logs secrets.

pub mod password;
pub mod pkce;
pub mod secret;
pub mod tokens;

/// Errors from credential operations.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("token is malformed")]
    MalformedToken,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token is for another audience")]
    WrongAudience,
    #[error("token is from another issuer")]
    WrongIssuer,
    #[error("token type is not accepted here")]
    WrongType,
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("random source failed: {0}")]
    Random(String),
}

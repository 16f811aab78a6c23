//! Verifiable credentials for Lectern: Open Badges 3.0 `AchievementCredential`s in the
//! W3C Verifiable Credentials Data Model 2.0, secured with a Data Integrity proof.
//!
//! This crate owns the formats and the cryptography:
//! - [`didkey`]: `did:key` identifiers for Ed25519 keys (multicodec `0xed01`, base58btc multibase);
//! - [`proof`]: the pluggable [`proof::Cryptosuite`] trait, the `eddsa-jcs-2022` suite (JCS, SHA-256,
//!   Ed25519) and [`proof::sign`];
//! - [`badge`]: the Open Badges 3.0 credential builder;
//! - [`status`]: W3C Bitstring Status List entries, lists and list credentials;
//! - [`mod@verify`]: structural, proof, validity-period and status checks with a readable report.
//!
//! It never does I/O: no network, no storage, no key management and no clock. Callers pass the
//! signing key, the current time (`now`) and, for status, a callback that looks the list up. Only
//! `did:key` verification methods are resolved, because they need no network.

pub mod badge;
pub mod didkey;
pub mod proof;
pub mod status;
pub mod verify;

mod datetime;
mod error;
mod multibase;

pub use badge::{AchievementInput, SubjectIdentifier, achievement_credential, identity_hash};
pub use didkey::{did_key, public_key_multibase, resolve_verification_method, verification_method};
pub use error::CredentialError;
pub use proof::{Cryptosuite, EddsaJcs2022, ProofOptions, sign, suite};
pub use status::{StatusEntry, StatusList, status_list_credential};
pub use verify::{Check, Verification, verify};

/// The VC Data Model 2.0 base context; it is always the first `@context` entry.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 JSON-LD context this crate issues with.
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

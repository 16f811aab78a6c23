//! The Lectern marketplace: signed plugin packages and the index they are
//! published in.
//!
//! - [`keys`]: Ed25519 key pairs (PKCS#8 PEM files), TUF key ids, signatures.
//! - [`package`]: the package format: a deterministic gzip'd tar holding a
//!   canonical (RFC 8785) manifest, the publisher's signature over it, the
//!   component and assets; reading it is bounded and refuses unsafe archives.
//! - [`tuf`]: the index, modelled on The Update Framework: root, targets
//!   (delegating each publisher's namespace to the publisher's key), snapshot
//!   and timestamp metadata; the repository side that writes it and the
//!   client side that verifies an update step by step.
//!
//! Every check that can refuse an install returns a specific [`MarketError`].

pub mod canonical;
pub mod error;
pub mod keys;
pub mod package;
pub mod tuf;

pub use error::MarketError;

//! Why a package, a key or an index was refused. Each attack the marketplace
//! defends against has its own variant, so a refusal names its reason.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MarketError {
    #[error("i/o: {0}")]
    Io(String),
    /// Not parseable, or not the shape expected.
    #[error("malformed {what}: {detail}")]
    Malformed { what: String, detail: String },
    /// The archive breaks a safety rule (absolute path, `..`, link, duplicate name, ...).
    #[error("unsafe archive: {0}")]
    UnsafeArchive(String),
    /// A size or count limit was exceeded.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Bytes whose SHA-256 differs from the one they were published or signed with.
    #[error("{what} was tampered with: SHA-256 {actual}, expected {expected}")]
    HashMismatch { what: String, expected: String, actual: String },
    /// Bytes whose length differs from the one they were published or signed with.
    #[error("{what} has {actual} bytes, expected {expected}")]
    LengthMismatch { what: String, expected: u64, actual: u64 },
    /// A signature that does not verify (tampered content, or a different key).
    #[error("bad signature on {0}")]
    BadSignature(String),
    /// Signed by a key that is not the one this content must be signed by.
    #[error("{what} is signed by key {found}, not by {expected}")]
    WrongKey { what: String, expected: String, found: String },
    /// A publisher's key used for a namespace delegated to another publisher (or to nobody).
    #[error("{publisher} may not publish {id}: that namespace is not delegated to it")]
    NotDelegated { publisher: String, id: String },
    /// Fewer valid signatures from a role's keys than its threshold.
    #[error("{role} metadata has {valid} valid signature(s) from its keys; it needs {threshold}")]
    Threshold { role: String, valid: usize, threshold: u32 },
    /// Metadata past its expiry (a frozen index, or one nobody refreshes).
    #[error("{role} metadata expired at {expires}")]
    Expired { role: String, expires: String },
    /// Metadata older than what this client already trusts (a replayed index).
    #[error("{role} metadata version {offered} is older than the trusted version {trusted} (rollback)")]
    Rollback { role: String, trusted: u64, offered: u64 },
    /// Metadata whose version or hash differs from what the snapshot or timestamp says (a mixed index).
    #[error("{role} metadata does not match {by}: {detail}")]
    Inconsistent { role: String, by: String, detail: String },
    /// A publisher or a package version revoked by the marketplace.
    #[error("{what} was revoked: {reason}")]
    Revoked { what: String, reason: String },
    /// A yanked version: kept for running installs, refused for new ones.
    #[error("{id}@{version} was yanked: {reason}")]
    Yanked { id: String, version: String, reason: String },
    /// An older version than the one installed, without the force flag.
    #[error("{id}@{requested} is older than the installed {installed}; downgrading needs force")]
    Downgrade { id: String, installed: String, requested: String },
    #[error("not found: {0}")]
    NotFound(String),
    /// The package supports other kernel versions than this one.
    #[error("{id}@{version} supports kernel {supports}; this kernel is {kernel}")]
    IncompatibleKernel { id: String, version: String, supports: String, kernel: String },
    /// The component imports an interface its manifest does not declare.
    #[error("the component imports `{0}`, which its manifest does not declare")]
    UndeclaredImport(String),
    /// A capability the manifest requests that the administrator did not grant.
    #[error("capability not granted: {0}")]
    NotGranted(String),
    /// A key file or key that cannot be used.
    #[error("key: {0}")]
    Key(String),
}

impl From<std::io::Error> for MarketError {
    fn from(e: std::io::Error) -> Self {
        MarketError::Io(e.to_string())
    }
}

impl MarketError {
    /// A stable machine-readable name for the refusal (used in problem documents and the CLI).
    pub fn code(&self) -> &'static str {
        match self {
            MarketError::Io(_) => "io",
            MarketError::Malformed { .. } => "malformed",
            MarketError::UnsafeArchive(_) => "unsafe-archive",
            MarketError::TooLarge(_) => "too-large",
            MarketError::HashMismatch { .. } => "hash-mismatch",
            MarketError::LengthMismatch { .. } => "length-mismatch",
            MarketError::BadSignature(_) => "bad-signature",
            MarketError::WrongKey { .. } => "wrong-key",
            MarketError::NotDelegated { .. } => "not-delegated",
            MarketError::Threshold { .. } => "threshold",
            MarketError::Expired { .. } => "expired",
            MarketError::Rollback { .. } => "rollback",
            MarketError::Inconsistent { .. } => "inconsistent",
            MarketError::Revoked { .. } => "revoked",
            MarketError::Yanked { .. } => "yanked",
            MarketError::Downgrade { .. } => "downgrade",
            MarketError::NotFound(_) => "not-found",
            MarketError::IncompatibleKernel { .. } => "incompatible-kernel",
            MarketError::UndeclaredImport(_) => "undeclared-import",
            MarketError::NotGranted(_) => "not-granted",
            MarketError::Key(_) => "key",
        }
    }
}

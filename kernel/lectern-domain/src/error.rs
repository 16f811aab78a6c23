use lectern_auth::password::PolicyViolation;
use lectern_storage::{StorageError, TxError};

/// Why a request could not be authenticated. Shown to clients in broad terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    BadSignature,
    Expired,
    WrongAudience,
    WrongIssuer,
    WrongType,
    UnknownKey,
    SessionEnded,
    AccountDisabled,
    /// The OAuth grant or client the token was issued under was revoked.
    GrantRevoked,
}

impl AuthFailure {
    pub fn describe(self) -> &'static str {
        match self {
            AuthFailure::Missing => "no credentials were presented",
            AuthFailure::Malformed => "the credentials are malformed",
            AuthFailure::BadSignature => "the token signature is invalid",
            AuthFailure::Expired => "the token or session has expired",
            AuthFailure::WrongAudience => "the token was issued for another audience",
            AuthFailure::WrongIssuer => "the token was issued by another issuer",
            AuthFailure::WrongType => "this kind of token is not accepted here",
            AuthFailure::UnknownKey => "the token was signed by an unknown key",
            AuthFailure::SessionEnded => "the session has ended",
            AuthFailure::AccountDisabled => "the account is deactivated",
            AuthFailure::GrantRevoked => "the grant or client this token was issued under was revoked",
        }
    }
}

/// An OAuth 2 error (RFC 6749 §5.2 codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

/// The domain's one error type.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not permitted: {0}")]
    Forbidden(String),
    #[error("not authenticated: {}", .0.describe())]
    Unauthenticated(AuthFailure),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    WeakPassword(PolicyViolation),
    #[error("version mismatch: the record changed since it was read (current version {current})")]
    PreconditionFailed { current: u64 },
    #[error("oauth error {}: {}", .0.code, .0.description)]
    OAuth(OAuthError),
    /// A service the operation needs (e.g. the content plugin) is not available now.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// A plugin faulted (trap, timeout, memory) while serving the operation.
    #[error("plugin failure: {0}")]
    PluginFailed(String),
    /// An upload is over the configured limit.
    #[error("the upload is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// A declared media type that is not accepted for upload.
    #[error("media type refused: {0}")]
    UnsupportedMediaType(String),
    /// The bytes contradict the declared media type.
    #[error("the content does not match its declared type: {0}")]
    ContentMismatch(String),
    /// A package (or what the index says of it) failed a check; nothing was installed.
    #[error("marketplace: {0}")]
    Marketplace(MarketFailure),
    /// The marketplace's index itself failed verification (or could not be fetched).
    #[error("marketplace index: {0}")]
    MarketplaceIndex(MarketFailure),
    /// No marketplace is configured on this server: nothing changes until an
    /// operator sets `marketplace.url` and `marketplace.root` and restarts.
    #[error("no marketplace is configured: {0}")]
    MarketplaceNotConfigured(String),
    /// The plugin host refused or failed an administrative operation
    /// (install, activate, roll back, uninstall); each variant says which.
    #[error(transparent)]
    Plugin(lectern_host::HostError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A fault the caller cannot fix (a failed task, a corrupt file); `context`
    /// says what was being done, `source` why it failed.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

/// Any underlying error, kept as the `source` of a [`CoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How a marketplace failure should reach a client; the plugin
/// administration context classifies its marketplace errors into these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketFailureKind {
    /// The package or version does not exist.
    NotFound,
    /// The marketplace could not be reached (retry later).
    Unreachable,
    /// The index's signatures, expiry, version or consistency failed.
    Index,
    /// Installing would downgrade what is installed.
    Downgrade,
    /// The package failed a check (signature, digest, manifest, compatibility).
    Refused,
}

/// A marketplace failure: its kind, its stable reason code (`threshold`,
/// `digest`, ...), and the marketplace error itself as the source.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct MarketFailure {
    pub kind: MarketFailureKind,
    pub code: &'static str,
    #[source]
    pub source: BoxError,
}

impl CoreError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> CoreError {
        CoreError::Invalid { field, reason: reason.into() }
    }

    /// An internal error with what was being done and why it failed.
    pub fn internal(context: impl Into<String>, source: impl Into<BoxError>) -> CoreError {
        CoreError::Internal { context: context.into(), source: Some(source.into()) }
    }

    /// An internal error that has no underlying error (a broken invariant).
    pub fn internal_msg(context: impl Into<String>) -> CoreError {
        CoreError::Internal { context: context.into(), source: None }
    }

    pub fn oauth(code: &'static str, description: impl Into<String>) -> CoreError {
        CoreError::OAuth(OAuthError { code, description: description.into() })
    }
}

impl From<TxError<CoreError>> for CoreError {
    fn from(e: TxError<CoreError>) -> Self {
        match e {
            TxError::Aborted(e) => e,
            TxError::Storage(e) => CoreError::Storage(e),
        }
    }
}

impl From<lectern_auth::AuthError> for CoreError {
    fn from(e: lectern_auth::AuthError) -> Self {
        CoreError::internal("a cryptographic operation failed", e)
    }
}

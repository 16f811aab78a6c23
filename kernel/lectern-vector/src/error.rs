use lectern_storage::StorageError;

/// Everything a vector-store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The caller sent something the index refuses (bad vector, bad parameters, oversized input).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The collection (or, for some calls, the point) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The collection exists with a different dimension, distance or model.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The collection would exceed its `max_points`.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Bytes read back from the store or a dump do not make sense.
    #[error("corrupt vector data: {0}")]
    Corrupt(String),
}

pub(crate) fn invalid(msg: impl Into<String>) -> VectorError {
    VectorError::InvalidInput(msg.into())
}

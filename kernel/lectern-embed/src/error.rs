use lectern_storage::StorageError;

/// Everything an embedding call can fail with.
#[derive(thiserror::Error, Debug)]
pub enum EmbedError {
    /// The caller's fault: too many texts, a text too long, a bad configuration.
    #[error("invalid embedding input: {0}")]
    InvalidInput(String),
    /// The provider cannot be reached or is not installed (missing model files,
    /// connection refused, timeout, HTTP 5xx); retrying later may help.
    #[error("embedding provider unavailable: {0}")]
    Unavailable(String),
    /// The model or server answered, but wrongly (corrupt weights, a 4xx, a
    /// vector of the wrong dimension, NaNs).
    #[error("embedding model error: {0}")]
    Model(String),
    /// The embedding cache could not be read or written.
    #[error("embedding cache: {0}")]
    Storage(#[from] StorageError),
}

use lectern_storage::StorageError;

/// What can go wrong on the bus.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BusError {
    #[error("invalid topic or subscription name `{0}` (1–200 ASCII letters, digits, `.`, `_`, `-`)")]
    InvalidName(String),
    #[error("subscription `{subscription}` on `{topic}` is exclusive and already has a consumer")]
    ConsumerBusy { topic: String, subscription: String },
    #[error("subscription `{subscription}` on `{topic}` is attached as {existing}, not {requested}")]
    TypeMismatch { topic: String, subscription: String, existing: String, requested: String },
    #[error("unknown subscription `{subscription}` on `{topic}`")]
    UnknownSubscription { topic: String, subscription: String },
    #[error("message of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the bus is shut down")]
    Closed,
    #[error("this backend does not support {0}")]
    Unsupported(&'static str),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("broker: {0}")]
    Broker(String),
}

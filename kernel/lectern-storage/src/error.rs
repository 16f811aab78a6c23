use std::path::PathBuf;

/// Everything that can go wrong below the domain.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the data directory {path} is in use by another Lectern process (stop it, or use the HTTP API)")]
    Locked { path: PathBuf },
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("corrupt record in tree `{tree}`: {detail}")]
    Corrupt { tree: String, detail: String },
    #[error(
        "tree `{tree}` holds secrets sealed with key {found}, which this server does not have (its current key is {current}): \
         start it with the secrets key the data was written with (`secrets.key_file` or LECTERN_SECRETS_KEY), listing \
         an older one under `secrets.previous_key_files` after a rotation"
    )]
    SealingKey { tree: String, found: String, current: String },
    #[error("tree `{0}` holds secrets, and the store was opened without a secrets key")]
    NoKeyring(&'static str),
    #[error("record in tree `{tree}` has version {found}, this build understands up to {known}")]
    UnknownVersion { tree: String, found: u8, known: u8 },
    #[error("the database has schema version {found}, newer than this build's {known}; upgrade Lectern")]
    SchemaTooNew { found: u32, known: u32 },
    #[error("migration {version} ({name}) failed: {detail}")]
    Migration { version: u32, name: &'static str, detail: String },
    #[error("tree `{0}` was used in a transaction it was not declared in")]
    TreeNotInTransaction(&'static str),
    #[error("the blob is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("storage is shutting down")]
    Closed,
}

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => {
                StorageError::Corrupt { tree: "<log>".into(), detail: format!("sled reported corruption at {at:?}") }
            }
            other => StorageError::Io(other.to_string()),
        }
    }
}

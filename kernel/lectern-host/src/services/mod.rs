//! The kernel services a plugin may import — `kv`, `events`, `log`, `clock`,
//! `vector`, `embed` — implemented once, on [`PluginState`](crate::state::PluginState), against the
//! version-free types below.
//!
//! Each released WIT version's bindings (`crate::wit::v0_1`, later `v0_2`, …)
//! implement their generated `Host` traits by converting arguments to these
//! types and delegating here. Everything that decides what a plugin may touch
//! (key namespaces, granted topics, sizes, quotas, the kernel's vector scope)
//! lives here, so every contract version enforces it identically and a new
//! version cannot forget a check.
//!
//! Linking decides whether a service exists for a plugin at all (see
//! `wit::Api::linker`); the functions here re-check scope on every call.

mod events;
pub(crate) mod gradebook;
pub(crate) mod http;
mod kv;
pub(crate) mod retrieval;
pub(crate) mod settings;

/// Why a service refused a call; each WIT version maps it to its `error` variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ServiceError {
    InvalidInput(String),
    NotFound(String),
    Denied(String),
    Conflict(String),
    QuotaExceeded(String),
    Unavailable(String),
}

/// A key-value pair: log fields, point metadata, filter clauses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Distance {
    Cosine,
    Dot,
    Euclidean,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CollectionSpec {
    pub name: String,
    pub dimension: u32,
    pub distance: Distance,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Point {
    pub id: String,
    pub vector: Vec<f32>,
    pub metadata: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hit {
    pub id: String,
    pub score: f32,
    pub metadata: Vec<Field>,
}

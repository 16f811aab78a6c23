//! The plugin manifest and capabilities, owned by `lectern-manifest` (one
//! model for the host, the API and marketplace packages); re-exported so the
//! host's API is complete on its own.

pub use lectern_manifest::*;

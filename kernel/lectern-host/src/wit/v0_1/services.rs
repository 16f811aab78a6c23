//! The 0.1 `Host` traits of the kernel services: convert, delegate to the
//! version-free implementation in `crate::services`, convert back. No rule
//! lives here.

use super::lectern::plugin::{clock, embed, events, kv, log, types, vector};
use crate::services::{self as s, ServiceError};
use crate::state::PluginState;

super::super::shared::same_services!();

super::super::shared::vector_service!();

//! Warm instances: for a plugin whose manifest opts in
//! (`resources.reuse_calls`), an instance that finished a call cleanly is
//! kept for the next call of the same version for the same institution, up
//! to that many calls. An interpreted guest (a Python or JavaScript plugin)
//! then skips mapping and faulting in its 12–18 MB image on every call.
//!
//! What stays isolated, whatever the plugin asks:
//! - an instance serves one institution only (the key of every kv, vector
//!   and settings call it makes is fixed when it is created, and it is only
//!   ever handed to calls of that institution);
//! - one version only (the pool belongs to the loaded version, and is
//!   emptied when another version takes the seat);
//! - a call that faulted (trap, timeout, fuel, memory) never returns its
//!   instance: the next call gets a fresh one;
//! - each call starts with its own deadline, fuel, request id, vector
//!   scope and WASI context (frozen clocks and seeded randomness again for
//!   grading), as a fresh instance would.
//!
//! What the guest keeps in its own memory (globals, an interpreter's module
//! state) carries over: that is the opt-in. Idle instances are bounded per
//! version and dropped after [`IDLE`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wasmtime::component::Instance;

use crate::state::PluginState;

/// How long an idle instance is kept.
pub(crate) const IDLE: Duration = Duration::from_secs(30);

/// Output a warm instance may have written before it is retired (its pipes hold 64 KiB).
pub(crate) const MAX_OUTPUT: usize = 32 * 1024;

pub(crate) struct Warm {
    pub store: wasmtime::Store<PluginState>,
    pub instance: Instance,
    /// Calls it has served.
    pub calls: u32,
    idle_since: Instant,
}

impl Warm {
    pub fn new(store: wasmtime::Store<PluginState>, instance: Instance, calls: u32) -> Warm {
        Warm { store, instance, calls, idle_since: Instant::now() }
    }
}

/// One version's idle instances, oldest first.
#[derive(Default)]
pub(crate) struct WarmPool {
    idle: Mutex<VecDeque<Warm>>,
}

impl WarmPool {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Warm>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently used idle instance of `institution`, if any.
    pub fn take(&self, institution: &str) -> Option<Warm> {
        let mut idle = self.lock();
        idle.retain(|w| w.idle_since.elapsed() < IDLE);
        let i = idle.iter().rposition(|w| w.store.data().scope == institution)?;
        idle.remove(i)
    }

    /// Keeps `w` for a later call; the oldest idle instance goes when more than `max` are kept.
    pub fn put(&self, w: Warm, max: usize) {
        let mut idle = self.lock();
        idle.retain(|w| w.idle_since.elapsed() < IDLE);
        idle.push_back(w);
        while idle.len() > max {
            idle.pop_front();
        }
    }

    /// Drops every idle instance (another version took the seat, or the pool is full).
    pub fn clear(&self) -> usize {
        let mut idle = self.lock();
        let n = idle.len();
        idle.clear();
        n
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

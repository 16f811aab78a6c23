//! The vocabulary every Lectern context shares, and the environment a context
//! runs in.
//!
//! Key types: [`Env`] (the database, clock and bus handles every context
//! holds), [`Principal`] (who is asking), [`authz::Capability`] and
//! [`authz::authorize`] (the one authorization function), [`CoreError`] (the
//! domain's one error type), the ids and key layouts, paging, and the events
//! contexts publish to each other over the bus.
//!
//! Invariants:
//! - Every record key starts with its institution id ([`keys`]), so a prefix
//!   scan never leaves its tenant.
//! - No storage trees here: each context crate opens its own and keeps them
//!   private; other contexts read through its functions.
//! - A write is acknowledged only after [`Env::durable`].

pub mod audit;
pub mod authz;
pub mod clock;
pub mod error;
pub mod events;
pub mod ids;
pub mod keys;
pub mod model;
pub mod paging;
pub mod workers;

use std::sync::Arc;

pub use authz::{Capability, Principal, PrincipalKind};
pub use clock::Clock;
pub use error::{AuthFailure, BoxError, CoreError, MarketFailure, MarketFailureKind, OAuthError};
pub use events::BusHandles;
pub use ids::{CourseId, InstitutionId, SessionId, UserId};
pub use paging::{Page, PageRequest};

use lectern_storage::Store;

/// What every context shares: the database, the clock, the bus handles and
/// the audit log.
/// Cheap to clone.
#[derive(Clone)]
pub struct Env {
    pub store: Store,
    pub clock: Clock,
    pub bus: Arc<BusHandles>,
    /// The deployment's audit log (see [`audit`]).
    pub audit: audit::AuditLog,
}

impl Env {
    /// Unix seconds by the kernel's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Waits until every write made so far is on disk.
    pub async fn durable(&self) -> Result<(), CoreError> {
        Ok(self.store.durable().await?)
    }

    /// After a transaction that staged events: waits until it is durable,
    /// then wakes the outbox relay.
    pub async fn commit_events(&self) -> Result<(), CoreError> {
        self.durable().await?;
        self.bus.outbox.notify();
        Ok(())
    }

    /// Appends to the audit log at the kernel's time. Not durable by itself:
    /// the caller's own `durable()` covers it, as for any write. A failure to
    /// record is logged, not returned: the action it describes has happened.
    pub fn audit(&self, entry: audit::NewAuditEntry) {
        if let Err(e) = self.audit.record(entry, self.now()) {
            tracing::error!(error = %e, "could not append to the audit log");
        }
    }

    /// Runs CPU-heavy work (password hashing, archive building) off the async workers.
    pub async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, CoreError> {
        tokio::task::spawn_blocking(f).await.map_err(|e| CoreError::internal("a blocking task failed", e))
    }
}

/// The helpers every context struct has over its [`Env`]: `now`, `store`,
/// `durable`, `commit_events` and `blocking`. The struct needs a method
/// `fn env(&self) -> &Env`.
#[macro_export]
macro_rules! context_helpers {
    ($t:ty) => {
        impl $t {
            #[allow(dead_code)]
            fn now(&self) -> i64 {
                self.env().now()
            }
            #[allow(dead_code)]
            fn store(&self) -> &lectern_storage::Store {
                &self.env().store
            }
            #[allow(dead_code)]
            async fn durable(&self) -> Result<(), $crate::CoreError> {
                self.env().durable().await
            }
            #[allow(dead_code)]
            async fn commit_events(&self) -> Result<(), $crate::CoreError> {
                self.env().commit_events().await
            }
            #[allow(dead_code)]
            async fn blocking<R: Send + 'static>(
                f: impl FnOnce() -> R + Send + 'static,
            ) -> Result<R, $crate::CoreError> {
                $crate::Env::blocking(f).await
            }
        }
    };
}

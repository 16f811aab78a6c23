//! The plugin-administration context: installing, activating, rolling back
//! and uninstalling plugins (authorized; the mechanics are the host's), the
//! plugins bundled in the binary, and the signed marketplace: its verified
//! index (TUF), installs with their provenance, and revocation alerts.
//!
//! Key types: [`PluginAdmin`] (the context, cheap to clone),
//! [`plugins::Target`], [`marketplace::MarketplaceSettings`],
//! [`marketplace::Provenance`].
//!
//! Invariants:
//! - Installing code that runs for every institution, or choosing a slot's
//!   platform default, takes a platform administrator; an institution
//!   administrator chooses among installed versions for their institution.
//! - Nothing from the marketplace is installed unless the index verifies
//!   against the pinned root, the package's digest and signature match the
//!   index, and its requested capabilities are within the grant.
//! - Owns the marketplace trees; the host owns the installed components.

pub mod marketplace;
pub mod plugins;

use std::sync::Arc;

use lectern_domain::{CoreError, Env, Principal, authz, error, ids};
use lectern_identity::Identity;

/// The plugin-administration context over one database. Cheap to clone.
#[derive(Clone)]
pub struct PluginAdmin {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    /// Where plugins are installed from, and the root of trust pinned for it.
    config: marketplace::MarketplaceSettings,
    identity: Identity,
    host: lectern_host::Host,
    t: Trees,
    /// Held while the marketplace index is refreshed.
    market_refresh: std::sync::Mutex<()>,
}

impl PluginAdmin {
    pub fn open(
        env: Env,
        config: marketplace::MarketplaceSettings,
        identity: Identity,
        host: lectern_host::Host,
    ) -> Result<PluginAdmin, CoreError> {
        let t = Trees::open(&env.store)?;
        Ok(PluginAdmin {
            inner: Arc::new(Inner { env, config, identity, host, t, market_refresh: Default::default() }),
        })
    }

    /// Creates the marketplace trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }
}

lectern_domain::context_helpers!(PluginAdmin);

/// The marketplace trees, opened once; private to this crate.
struct Trees {
    /// The newest verified marketplace index (JSON of `tuf::TrustedState`).
    market_state: lectern_storage::Tree<Vec<u8>>,
    market_installs: lectern_storage::Tree<marketplace::Provenance>,
    market_alerts: lectern_storage::Tree<marketplace::Alert>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            market_state: s.tree("marketplace_state")?,
            market_installs: s.tree("marketplace_installs")?,
            market_alerts: s.tree("marketplace_alerts")?,
        })
    }
}

//! Plugin administration, authorized. Installing code that runs for every
//! institution, and choosing the platform-wide default of a slot, take a
//! platform administrator; an institution administrator (`plugin:manage`)
//! may choose among installed versions for their own institution.

use lectern_host::{Activation, Capabilities, DefaultRestored, PluginStatus, Scope, Seat};

use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::ids::InstitutionId;
use crate::{PluginAdmin, Principal};

pub use lectern_host::{BreakerConfig, HostConfig, HostError, Manifest, PluginError, Slot};
/// For `lectern plugin test`: the real host on a temporary store, and the values its calls take.
pub use lectern_host::{harness, slots};

pub(crate) fn host_error(e: impl Into<HostError>) -> CoreError {
    match e.into() {
        HostError::Storage(s) => CoreError::Storage(s),
        e => CoreError::Plugin(e),
    }
}

/// Which assignment an activation or rollback changes.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Platform,
    Institution(InstitutionId),
}

impl PluginAdmin {
    fn authorize_target(&self, p: &Principal, target: Target) -> Result<Scope, CoreError> {
        match target {
            Target::Platform => {
                authorize(p, Capability::PlatformManage, Context::Platform)?;
                Ok(Scope::Platform)
            }
            Target::Institution(i) => {
                authorize(p, Capability::PluginManage, Context::Institution(i))?;
                Ok(Scope::Institution(i.to_string()))
            }
        }
    }

    async fn blocking_host<R: Send + 'static>(
        &self,
        f: impl FnOnce(lectern_host::Host) -> Result<R, HostError> + Send + 'static,
    ) -> Result<R, CoreError> {
        let host = self.inner.host.clone();
        Self::blocking(move || f(host)).await?.map_err(host_error)
    }

    /// Installed versions with status, breaker state and call statistics.
    pub fn list_plugins(&self, p: &Principal) -> Result<Vec<PluginStatus>, CoreError> {
        authorize(p, Capability::PluginManage, Context::Institution(p.institution))?;
        let mut list = self.inner.host.list().map_err(host_error)?;
        if !p.platform_admin {
            // Which version other institutions chose is theirs to know.
            let own = Scope::Institution(p.institution.to_string());
            for status in &mut list {
                status.active_in.retain(|s| *s == Scope::Platform || *s == own);
                status.standby_in.retain(|s| *s == Scope::Platform || *s == own);
            }
        }
        Ok(list)
    }

    /// Installs a component with its manifest. `grant` defaults to what the manifest requests.
    pub async fn install_plugin(
        &self,
        p: &Principal,
        manifest: &[u8],
        component: Vec<u8>,
        grant: Option<Capabilities>,
    ) -> Result<lectern_host::Installed, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let manifest = Manifest::parse_json(manifest).map_err(host_error)?;
        let grant = grant.unwrap_or_else(|| manifest.capabilities.clone());
        let installed = self.blocking_host(move |h| h.install(manifest, &component, &grant)).await?;
        tracing::info!(plugin = %installed.manifest.key(), "plugin installed by {:?}", p.kind);
        Ok(installed)
    }

    pub async fn activate_plugin(
        &self,
        p: &Principal,
        slot: Slot,
        target: Target,
        key: String,
    ) -> Result<Activation, CoreError> {
        let scope = self.authorize_target(p, target)?;
        if let Some(prov) = self.marketplace_provenance(&key)?
            && let Some(reason) = prov.revoked
        {
            return Err(CoreError::Marketplace(crate::marketplace::failure(
                lectern_marketplace::MarketError::Revoked { what: key, reason },
            )));
        }
        self.blocking_host(move |h| h.activate(slot, scope, &key)).await
    }

    /// Reactivates the previous version of a slot, or of one plugin of an
    /// extension world (`plugin` names it; required there, ignored for a slot).
    pub async fn rollback_plugin(
        &self,
        p: &Principal,
        slot: Slot,
        target: Target,
        plugin: Option<String>,
    ) -> Result<Activation, CoreError> {
        let scope = self.authorize_target(p, target)?;
        let seat = seat(slot, plugin)?;
        // A revoked version is nobody's rollback target (see `Host::deactivate_everywhere`).
        self.blocking_host(move |h| h.rollback(seat, scope)).await
    }

    /// Stops one plugin of an extension world (an observer) in a scope.
    /// Returns the version that was active there, if any.
    pub async fn deactivate_plugin(
        &self,
        p: &Principal,
        slot: Slot,
        target: Target,
        plugin: String,
    ) -> Result<Option<String>, CoreError> {
        let scope = self.authorize_target(p, target)?;
        let seat = seat(slot, Some(plugin))?;
        self.blocking_host(move |h| h.deactivate(&seat, scope)).await
    }

    /// A plugin's own settings in a scope (not the platform's fallback).
    pub fn plugin_settings(
        &self,
        p: &Principal,
        plugin: &str,
        target: Target,
    ) -> Result<Option<serde_json::Value>, CoreError> {
        let scope = self.authorize_target(p, target)?;
        self.check_installed(plugin)?;
        self.inner.host.settings(plugin, &scope).map_err(host_error)
    }

    fn check_installed(&self, plugin: &str) -> Result<(), CoreError> {
        if !lectern_host::manifest::is_reverse_dns(plugin) {
            return Err(CoreError::invalid("plugin", "must be a plugin id (reverse-DNS, e.g. org.example.sis)"));
        }
        if !self.inner.host.list().map_err(host_error)?.iter().any(|s| s.installed.manifest.id == plugin) {
            return Err(CoreError::NotFound("no version of this plugin is installed"));
        }
        Ok(())
    }

    /// Sets (or with `None` removes) a plugin's settings in a scope.
    pub async fn set_plugin_settings(
        &self,
        p: &Principal,
        plugin: String,
        target: Target,
        settings: Option<serde_json::Value>,
    ) -> Result<(), CoreError> {
        let scope = self.authorize_target(p, target)?;
        self.check_installed(&plugin)?;
        self.blocking_host(move |h| h.set_settings(&plugin, &scope, settings.as_ref())).await
    }

    /// Returns an institution's slot to the platform default (drops its own choice).
    pub async fn use_platform_default(
        &self,
        p: &Principal,
        slot: Slot,
        institution: InstitutionId,
    ) -> Result<DefaultRestored, CoreError> {
        self.authorize_target(p, Target::Institution(institution))?;
        self.blocking_host(move |h| h.use_platform_default(slot, &institution.to_string())).await
    }

    pub async fn uninstall_plugin(&self, p: &Principal, key: String) -> Result<(), CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        self.blocking_host(move |h| h.uninstall(&key)).await
    }
}

/// The seat a slot, or one plugin of an extension world, takes.
fn seat(slot: Slot, plugin: Option<String>) -> Result<Seat, CoreError> {
    match (slot.is_extension(), plugin) {
        (true, Some(id)) => Ok(Seat::of(slot, &id)),
        (true, None) => Err(CoreError::invalid(
            "plugin",
            format!("is required: {} plugins are active side by side, so say which one", slot.name()),
        )),
        (false, _) => Ok(Seat::from(slot)),
    }
}

/// What [`PluginAdmin::install_bundled`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundled {
    pub key: String,
    pub slot: Slot,
    /// This version was not installed before.
    pub installed: bool,
    /// It became the platform default of its slot.
    pub activated: bool,
}

impl PluginAdmin {
    /// Installs a plugin shipped inside the binary, unless this version is
    /// installed already, and makes it the platform default of its slot when
    /// the slot has none, or when the default is an older version of the same
    /// plugin (upgrading the binary upgrades its plugins). A platform default
    /// an administrator chose among other plugins is left alone, and so are
    /// institutions' own choices.
    pub async fn install_bundled(&self, manifest: &str, component: &[u8]) -> Result<Bundled, CoreError> {
        let system = Principal::system(self.identity().platform_institution()?);
        let m = Manifest::parse_json(manifest.as_bytes()).map_err(host_error)?;
        let key = m.key();
        let list = self.inner.host.list().map_err(host_error)?;
        let installed = !list.iter().any(|s| s.installed.manifest.key() == key);
        if installed {
            self.install_plugin(&system, manifest.as_bytes(), component.to_vec(), None).await?;
        }
        let current =
            list.iter().find(|s| s.installed.manifest.slot == m.slot && s.active_in.contains(&Scope::Platform));
        let older_self = current.is_some_and(|s| {
            let cur = &s.installed.manifest;
            cur.id == m.id
                && matches!(
                    (semver::Version::parse(&cur.version), semver::Version::parse(&m.version)),
                    (Ok(a), Ok(b)) if a < b
                )
        });
        let activated = current.is_none() || older_self;
        if activated {
            self.activate_plugin(&system, m.slot, Target::Platform, key.clone()).await?;
        }
        Ok(Bundled { key, slot: m.slot, installed, activated })
    }
}

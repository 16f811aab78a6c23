//! JSON shapes of plugin capabilities and of the marketplace catalogue.

use lectern_core::marketplace as m;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a plugin may reach: what its manifest requests, and (the same shape)
/// what an administrator grants. Fields left out of a request mean "none".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Capabilities {
    /// Structured logging. Always granted; listed for completeness.
    pub log: bool,
    /// Bytes of kv storage per institution; null means no kv.
    pub kv_quota_bytes: Option<u64>,
    /// Topics the plugin may publish to.
    pub publish: Vec<String>,
    /// Topics delivered to the plugin's `lifecycle.on-event`.
    pub subscribe: Vec<String>,
    pub clock: bool,
    /// The kernel's vector index.
    pub vector: bool,
    /// The kernel's embedding model.
    pub embed: bool,
    /// Hosts an observer plugin may reach over HTTP: `host` (the scheme's
    /// default port) or `host:port`. Every other host is refused.
    pub outbound_hosts: Vec<String>,
}

impl From<&lectern_host::Capabilities> for Capabilities {
    fn from(c: &lectern_host::Capabilities) -> Self {
        Capabilities {
            log: c.log,
            kv_quota_bytes: c.kv_quota_bytes,
            publish: c.publish.clone(),
            subscribe: c.subscribe.clone(),
            clock: c.clock,
            vector: c.vector,
            embed: c.embed,
            outbound_hosts: c.outbound_hosts.clone(),
        }
    }
}

impl From<Capabilities> for lectern_host::Capabilities {
    fn from(c: Capabilities) -> Self {
        lectern_host::Capabilities {
            log: c.log,
            kv_quota_bytes: c.kv_quota_bytes,
            publish: c.publish,
            subscribe: c.subscribe,
            clock: c.clock,
            vector: c.vector,
            embed: c.embed,
            outbound_hosts: c.outbound_hosts,
        }
    }
}

/// One version of a plugin in the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueVersion {
    pub version: String,
    /// The kernel versions it supports (a semver range).
    pub kernel: String,
    /// Whether this kernel is in that range.
    pub compatible: bool,
    /// Why it was yanked, when it was.
    pub yanked: Option<String>,
    /// Why it was revoked, when it was.
    pub revoked: Option<String>,
    /// Package bytes.
    pub size: u64,
    pub sha256: String,
    /// The source repository the publisher's signed listing names (`unknown` when the publisher says so).
    pub source_repository: Option<String>,
    /// The commit the component was built from, as listed.
    pub source_commit: Option<String>,
    /// The TUF key id of the publisher key that signed the package, as listed.
    pub publisher_key: Option<String>,
}

impl From<m::CatalogueVersion> for CatalogueVersion {
    fn from(v: m::CatalogueVersion) -> Self {
        CatalogueVersion {
            version: v.version,
            kernel: v.kernel,
            compatible: v.compatible,
            yanked: v.yanked,
            revoked: v.revoked,
            size: v.size,
            sha256: v.sha256,
            source_repository: v.source_repository,
            source_commit: v.source_commit,
            publisher_key: v.publisher_key,
        }
    }
}

/// One plugin in the catalogue, newest version first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueEntry {
    pub id: String,
    pub publisher: String,
    pub name: String,
    pub description: String,
    pub slot: String,
    pub license: String,
    /// Capabilities the newest version requests, as the publisher's signed
    /// index listing states them (null when it does not). Passed through as
    /// listed: the kernel checks the package's own manifest at install, not
    /// this (see `crate::free_form`).
    #[schema(value_type = Option<Object>)]
    pub capabilities: serde_json::Value,
    /// The newest version this kernel can install.
    pub latest_compatible: Option<String>,
    /// Installed versions, as `id@version`.
    pub installed: Vec<String>,
    pub versions: Vec<CatalogueVersion>,
}

impl From<m::CatalogueEntry> for CatalogueEntry {
    fn from(e: m::CatalogueEntry) -> Self {
        CatalogueEntry {
            id: e.id,
            publisher: e.publisher,
            name: e.name,
            description: e.description,
            slot: e.slot,
            license: e.license,
            capabilities: e.capabilities,
            latest_compatible: e.latest_compatible,
            installed: e.installed,
            versions: e.versions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The marketplace catalogue, with the index versions it was read from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalogue {
    /// This kernel's version.
    pub kernel: String,
    pub root_version: u64,
    pub timestamp_version: u64,
    pub snapshot_version: u64,
    pub targets_version: u64,
    /// Every plugin with its versions (compatible with this kernel or not,
    /// yanked, revoked) and the latest installable one.
    pub plugins: Vec<CatalogueEntry>,
}

impl From<m::Catalogue> for Catalogue {
    fn from(c: m::Catalogue) -> Self {
        Catalogue {
            kernel: c.kernel,
            root_version: c.root_version,
            timestamp_version: c.timestamp_version,
            snapshot_version: c.snapshot_version,
            targets_version: c.targets_version,
            plugins: c.plugins.into_iter().map(Into::into).collect(),
        }
    }
}

//! Installing, upgrading and revoking plugins from a marketplace.
//!
//! The kernel pins a root of trust (`marketplace.root`, a TUF root.json the
//! administrator chose) and keeps the newest index metadata it has verified
//! in its database, so a replayed older index is caught across restarts.
//! An install verifies, in this order, and installs nothing unless every
//! step passes:
//!
//! 1. the index chain: root (rotations signed by old and new keys),
//!    timestamp, snapshot, targets and the publishers' delegated roles —
//!    signatures, thresholds, versions (no rollback), consistency, expiry;
//! 2. what the index says of the version: revoked (the version or its
//!    publisher), yanked (refused for a fresh install), a downgrade (needs
//!    `force`);
//! 3. the package bytes against the hash and length the index lists;
//! 4. the archive's safety and every file's hash against the manifest;
//! 5. the publisher: the manifest's publisher is the one the index lists the
//!    package under, and its signature is by a key that namespace is
//!    delegated to;
//! 6. the kernel version range;
//! 7. the component's real imports against the ones its manifest declares;
//! 8. the administrator's grant against the capabilities requested.
//!
//! It then installs the version as a standby and, unless told not to,
//! activates it through the hot-swap path (calls in flight finish on the old
//! version, which stays the rollback target).
//!
//! After every index refresh, plugins whose version or publisher was revoked
//! are stopped everywhere (falling back to the previous version where that
//! one is not revoked) and an alert is recorded for the administrators.

use std::path::PathBuf;

use lectern_host::{Capabilities, Manifest, Scope, Slot};
pub use lectern_marketplace::MarketError;
use lectern_marketplace::package::{self, Limits, Package};
use lectern_marketplace::tuf::{self, Fetch, TargetEntry, TrustedState};
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, Context, authorize};
use crate::error::{CoreError, MarketFailure, MarketFailureKind};
use crate::plugins::Target;
use crate::{PluginAdmin, Principal};

/// The version plugins' `kernel` ranges are checked against.
pub const KERNEL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `[marketplace]` settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketplaceSettings {
    /// Where the marketplace is served: `https://…`, `http://…`, `file:///…`
    /// or a directory path. Empty: no marketplace.
    pub url: String,
    /// The pinned root of trust: a TUF `root.json` the administrator trusts.
    /// Needed with `url`. Later roots are accepted only through rotations
    /// this one (and its successors) signed.
    pub root: Option<PathBuf>,
    /// How often the index is refreshed in the background (revocations take
    /// effect at the next refresh).
    pub refresh_secs: u64,
    /// Plugin ids installed (latest compatible version, requested
    /// capabilities granted) and activated at start when no version of
    /// them is installed yet.
    pub install: Vec<String>,
    /// Largest package accepted, in MiB.
    pub max_package_mib: u64,
}

impl Default for MarketplaceSettings {
    fn default() -> Self {
        MarketplaceSettings { url: String::new(), root: None, refresh_secs: 3600, install: vec![], max_package_mib: 64 }
    }
}

impl MarketplaceSettings {
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }
}

/// What an administrator grants an installed plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Everything the manifest requests (the administrator read it and agreed).
    Requested,
    /// These capabilities; every requested one must be among them.
    Explicit(Capabilities),
}

/// An install (or upgrade, or downgrade with `force`).
#[derive(Clone, Debug)]
pub struct InstallRequest {
    pub id: String,
    /// `None`: the latest version compatible with this kernel that is neither yanked nor revoked.
    pub version: Option<String>,
    /// `None` refuses with the list of requested capabilities.
    pub grant: Option<Grant>,
    /// Allows installing a version older than one already installed.
    pub force: bool,
    /// Where to activate it; `None` installs it as a standby only.
    pub activate: Option<Target>,
}

/// Where an installed version came from (kept per `id@version`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub key: String,
    pub publisher: String,
    pub key_id: String,
    pub target: String,
    pub package_sha256: String,
    pub installed_at: i64,
    /// Set when the marketplace revoked it; the plugin was stopped then.
    pub revoked: Option<String>,
}

impl lectern_storage::Record for Provenance {
    const VERSION: u8 = 1;
}

/// A security event for the administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub at: i64,
    /// `revoked`.
    pub kind: String,
    pub plugin: String,
    pub reason: String,
    /// What the kernel did about it.
    pub action: String,
}

impl lectern_storage::Record for Alert {
    const VERSION: u8 = 1;
}

/// The outcome of an install.
#[derive(Clone, Debug)]
pub struct InstallOutcome {
    pub key: String,
    pub slot: Slot,
    /// False when this exact version was installed already.
    pub newly_installed: bool,
    pub activation: Option<lectern_host::Activation>,
    pub publisher: String,
    pub package_sha256: String,
}

/// One version in the catalogue.
#[derive(Clone, Debug, Serialize)]
pub struct CatalogueVersion {
    pub version: String,
    pub kernel: String,
    pub compatible: bool,
    pub yanked: Option<String>,
    pub revoked: Option<String>,
    pub size: u64,
    pub sha256: String,
    /// Provenance as the publisher's signed listing states it (absent from
    /// listings published before it was recorded): the source repository and
    /// commit the component was built from, and the publisher key that signed
    /// the package. At install the package's own signed manifest is checked.
    pub source_repository: Option<String>,
    pub source_commit: Option<String>,
    pub publisher_key: Option<String>,
}

/// One plugin in the catalogue, newest version first.
#[derive(Clone, Debug, Serialize)]
pub struct CatalogueEntry {
    pub id: String,
    pub publisher: String,
    pub name: String,
    pub description: String,
    pub slot: String,
    pub license: String,
    /// Capabilities the newest version requests.
    pub capabilities: serde_json::Value,
    pub latest_compatible: Option<String>,
    pub installed: Vec<String>,
    pub versions: Vec<CatalogueVersion>,
}

/// The catalogue, with the index versions it was read from.
#[derive(Clone, Debug, Serialize)]
pub struct Catalogue {
    pub kernel: String,
    pub root_version: u64,
    pub timestamp_version: u64,
    pub snapshot_version: u64,
    pub targets_version: u64,
    pub plugins: Vec<CatalogueEntry>,
}

const TRUSTED_KEY: &[u8] = b"trusted";

fn market(e: MarketError) -> CoreError {
    CoreError::Marketplace(failure(e))
}

/// Classifies a marketplace error for the API (the error itself stays the source).
pub fn failure(e: MarketError) -> MarketFailure {
    use MarketError as M;
    let kind = match &e {
        M::NotFound(_) => MarketFailureKind::NotFound,
        M::Io(_) => MarketFailureKind::Unreachable,
        M::Threshold { .. } | M::Expired { .. } | M::Rollback { .. } | M::Inconsistent { .. } => {
            MarketFailureKind::Index
        }
        M::Downgrade { .. } => MarketFailureKind::Downgrade,
        _ => MarketFailureKind::Refused,
    };
    MarketFailure { kind, code: e.code(), source: Box::new(e) }
}

/// The marketplace settings are missing: a 4xx that names what to set, not a
/// 503 (nothing changes until the operator configures it and restarts).
fn not_configured(what: &str) -> CoreError {
    CoreError::MarketplaceNotConfigured(format!(
        "{what}; to install plugins from a marketplace, set `marketplace.url` (https://…, http://…, file:///… or a \
         directory) and `marketplace.root` (the path of the marketplace's root.json, the pinned root of trust) in \
         the configuration (or LECTERN_MARKETPLACE__URL and LECTERN_MARKETPLACE__ROOT) and restart"
    ))
}

/// A failure while verifying the index itself (whatever check failed).
fn market_index(e: MarketError) -> CoreError {
    CoreError::MarketplaceIndex(failure(e))
}

/// Where the pinned root's SHA-256 is kept: a different pinned root (the
/// administrator re-pinned) starts verification afresh from it.
const PINNED_KEY: &[u8] = b"pinned-root-sha256";

/// Fetches index files and packages from a directory or over HTTP(S) (the
/// kernel's, and the CLI's `plugin inspect --marketplace`).
pub enum Source {
    Dir(tuf::DirFetch),
    Http { base: String, client: lectern_http::BlockingClient },
}

impl Source {
    /// `https://…`, `http://…`, `file:///…` or a directory path.
    pub fn new(url: &str) -> Result<Source, CoreError> {
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Source::Dir(tuf::DirFetch(PathBuf::from(path))));
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            let client =
                lectern_http::BlockingClient::new(lectern_http::ClientOptions::new(std::time::Duration::from_secs(60)))
                    .map_err(|e| CoreError::internal("cannot build the marketplace client", e))?;
            return Ok(Source::Http { base: url.trim_end_matches('/').to_owned(), client });
        }
        if url.contains("://") {
            return Err(CoreError::invalid("marketplace.url", "use https://, http://, file:// or a directory path"));
        }
        Ok(Source::Dir(tuf::DirFetch(PathBuf::from(url))))
    }
}

impl Fetch for Source {
    fn fetch(&self, path: &str, max_len: u64) -> Result<Option<Vec<u8>>, MarketError> {
        match self {
            Source::Dir(d) => d.fetch(path, max_len),
            Source::Http { base, client } => {
                if path.split('/').any(|s| s == ".." || s.is_empty()) {
                    return Err(MarketError::Malformed { what: "path".into(), detail: path.into() });
                }
                let url = format!("{base}/{path}");
                let resp = match client.get(&url, max_len) {
                    Ok(resp) => resp,
                    Err(lectern_http::HttpError::TooLarge { .. }) => {
                        return Err(MarketError::TooLarge(format!("{path} is over {max_len} bytes")));
                    }
                    Err(e) => return Err(MarketError::Io(e.to_string())),
                };
                if resp.status == 404 {
                    return Ok(None);
                }
                if !resp.is_success() {
                    return Err(MarketError::Io(format!("{url}: HTTP {}", resp.status)));
                }
                let body = resp.body;
                Ok(Some(body))
            }
        }
    }
}

/// Refuses a grant that leaves out anything the package requests.
pub fn check_grant(requested: &package::Capabilities, grant: &Capabilities) -> Result<(), MarketError> {
    let missing = |what: String| Err(MarketError::NotGranted(what));
    if let Some(q) = requested.kv_quota_bytes
        && grant.kv_quota_bytes.is_none()
    {
        return missing(format!("kv storage ({q} bytes per institution)"));
    }
    for t in &requested.publish {
        if !grant.publish.contains(t) {
            return missing(format!("publishing events on `{t}`"));
        }
    }
    for t in &requested.subscribe {
        if !grant.subscribe.contains(t) {
            return missing(format!("receiving events on `{t}`"));
        }
    }
    if requested.clock && !grant.clock {
        return missing("the clock".into());
    }
    if !requested.vector_collections.is_empty() && !grant.vector {
        return missing(format!("vector collections ({})", requested.vector_collections.join(", ")));
    }
    if requested.embed && !grant.embed {
        return missing("embeddings".into());
    }
    for h in &requested.outbound_hosts {
        let granted = if h == lectern_host::manifest::ANY_HOST {
            grant.outbound_hosts.iter().any(|g| g != lectern_host::manifest::ANY_HOST)
        } else {
            grant.outbound_hosts.iter().any(|g| g.eq_ignore_ascii_case(h))
        };
        if !granted {
            return missing(if h == lectern_host::manifest::ANY_HOST {
                "outbound HTTP: the plugin asks for the hosts you choose; name them in the grant".into()
            } else {
                format!("outbound HTTP to `{h}`")
            });
        }
    }
    Ok(())
}

/// The `lectern` part of a target's `custom` metadata: what `lectern marketplace add` records for browsing.
fn listing(entry: &TargetEntry) -> serde_json::Value {
    entry.custom.as_ref().and_then(|c| c.get("lectern")).and_then(|l| l.get("package")).cloned().unwrap_or_default()
}

/// The kernel range a target's listing declares (empty when it declares none).
fn kernel_range(entry: &TargetEntry) -> String {
    listing(entry).get("kernel").and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

/// Whether "latest compatible" may pick this version: a release, for this
/// kernel, neither yanked nor revoked. (A revoked publisher's packages are
/// not in the index at all; `revoked` is the version's own revocation.)
fn installable(version: &semver::Version, entry: &TargetEntry, kernel: &semver::Version) -> bool {
    version.pre.is_empty()
        && entry.yanked.is_none()
        && entry.revoked.is_none()
        && semver::VersionReq::parse(&kernel_range(entry)).is_ok_and(|r| r.matches(kernel))
}

/// Every published version of every plugin id, newest first.
fn versions_by_id(state: &TrustedState) -> std::collections::BTreeMap<String, Vec<(semver::Version, TargetEntry)>> {
    let mut by_id: std::collections::BTreeMap<String, Vec<(semver::Version, TargetEntry)>> = Default::default();
    for entry in state.targets() {
        let Ok(v) = semver::Version::parse(entry.version()) else { continue };
        by_id.entry(entry.plugin_id().to_owned()).or_default().push((v, entry));
    }
    for versions in by_id.values_mut() {
        versions.sort_by(|a, b| b.0.cmp(&a.0));
    }
    by_id
}

impl PluginAdmin {
    fn market_settings(&self) -> Result<&MarketplaceSettings, CoreError> {
        let s = &self.inner.config;
        if !s.enabled() {
            return Err(not_configured("`marketplace.url` is not set"));
        }
        Ok(s)
    }

    fn kernel_version() -> semver::Version {
        semver::Version::parse(KERNEL_VERSION).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
    }

    /// The trusted index state: the newest verified one, else (or when the
    /// administrator pinned a different root) the pinned root.
    fn trusted_state(&self, pinned: &[u8], pinned_sha: &[u8]) -> Result<TrustedState, CoreError> {
        let same_pin = self.t().market_state.get(PINNED_KEY)?.is_some_and(|p| p == pinned_sha);
        if same_pin && let Some(bytes) = self.t().market_state.get(TRUSTED_KEY)? {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::internal("the stored marketplace state is unreadable", e));
        }
        TrustedState::from_root(pinned).map_err(market_index)
    }

    /// The bytes of the configured root of trust.
    fn pinned_root(&self) -> Result<Vec<u8>, CoreError> {
        let s = self.market_settings()?;
        let path = s.root.as_ref().ok_or_else(|| not_configured("`marketplace.root` is not set"))?;
        std::fs::read(path)
            .map_err(|e| CoreError::invalid("marketplace.root", format!("cannot read {}: {e}", path.display())))
    }

    /// Verifies the newest index against the trusted state and stores it;
    /// then acts on revocations. Blocking (network and disk).
    pub fn marketplace_refresh_blocking(&self) -> Result<TrustedState, CoreError> {
        let s = self.market_settings()?;
        // One refresh at a time, so two cannot interleave their writes.
        let _one = self.inner.market_refresh.lock().unwrap_or_else(|e| e.into_inner());
        let source = Source::new(&s.url)?;
        let pinned = self.pinned_root()?;
        let pinned_sha = package::sha256_hex(&pinned).into_bytes();
        let trusted = self.trusted_state(&pinned, &pinned_sha)?;
        let now = time::OffsetDateTime::from_unix_timestamp(self.now()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let fresh = trusted.update(&source, now).map_err(market_index)?;
        let bytes =
            serde_json::to_vec(&fresh).map_err(|e| CoreError::internal("cannot encode the marketplace state", e))?;
        self.t().market_state.insert(PINNED_KEY, &pinned_sha)?;
        self.t().market_state.insert(TRUSTED_KEY, &bytes)?;
        self.store().durable_blocking()?;
        self.apply_revocations(&fresh)?;
        Ok(fresh)
    }

    /// A refresh an administrator asked for.
    pub async fn marketplace_refresh_as(&self, p: &Principal) -> Result<TrustedState, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        self.marketplace_refresh().await
    }

    pub async fn marketplace_refresh(&self) -> Result<TrustedState, CoreError> {
        let k = self.clone();
        Self::blocking(move || k.marketplace_refresh_blocking()).await?
    }

    /// Stops every installed version the index now revokes (its own version,
    /// or its publisher), once, and records an alert.
    fn apply_revocations(&self, state: &TrustedState) -> Result<(), CoreError> {
        let revoked = state.revocations();
        for row in self.t().market_installs.scan_prefix(b"") {
            let (k, mut prov) = row?;
            if prov.revoked.is_some() {
                continue;
            }
            let reason =
                revoked.packages.get(&prov.key).map(|r| format!("this version was revoked: {r}")).or_else(|| {
                    revoked
                        .publishers
                        .get(&prov.publisher)
                        .map(|r| format!("its publisher {} was revoked: {r}", prov.publisher))
                });
            let Some(reason) = reason else { continue };
            let stopped = self.inner.host.deactivate_everywhere(&prov.key).map_err(crate::plugins::host_error)?;
            let mut actions = vec![];
            for (slot, scope, previous) in stopped {
                let fallback = previous.filter(|p| !self.is_revoked(p));
                let place = match &scope {
                    Scope::Platform => "the platform".to_owned(),
                    Scope::Institution(i) => format!("institution {i}"),
                };
                match fallback {
                    Some(prev) => match self.inner.host.activate(slot, scope.clone(), &prev) {
                        Ok(_) => actions.push(format!("{} slot of {place}: back to {prev}", slot.name())),
                        Err(e) => actions
                            .push(format!("{} slot of {place}: stopped; {prev} failed to start: {e}", slot.name())),
                    },
                    None => actions.push(format!("{} slot of {place}: stopped, no plugin serves it now", slot.name())),
                }
            }
            if actions.is_empty() {
                actions.push("it was not active anywhere; it can no longer be activated".into());
            }
            prov.revoked = Some(reason.clone());
            self.t().market_installs.insert(&k, &prov)?;
            let alert = Alert {
                id: uuid::Uuid::now_v7().to_string(),
                at: self.now(),
                kind: "revoked".into(),
                plugin: prov.key.clone(),
                reason,
                action: actions.join("; "),
            };
            tracing::error!(plugin = %alert.plugin, reason = %alert.reason, action = %alert.action, "marketplace revoked an installed plugin");
            self.t().market_alerts.insert(alert.id.as_bytes(), &alert)?;
            self.store().durable_blocking()?;
        }
        Ok(())
    }

    /// Whether the marketplace revoked this installed version (checked before any activation).
    pub fn is_revoked(&self, key: &str) -> bool {
        self.t().market_installs.get(key.as_bytes()).ok().flatten().is_some_and(|p| p.revoked.is_some())
    }

    /// Security alerts, newest first.
    pub fn marketplace_alerts(&self, p: &Principal) -> Result<Vec<Alert>, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let mut out: Vec<Alert> =
            self.t().market_alerts.scan_prefix(b"").map(|r| r.map(|(_, a)| a)).collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Where installed versions came from.
    pub fn marketplace_provenance(&self, key: &str) -> Result<Option<Provenance>, CoreError> {
        Ok(self.t().market_installs.get(key.as_bytes())?)
    }

    /// The catalogue: every published plugin and version, with what this kernel can install.
    pub async fn marketplace_catalogue(&self, p: &Principal) -> Result<Catalogue, CoreError> {
        authorize(p, Capability::PluginManage, Context::Institution(p.institution))?;
        let state = self.marketplace_refresh().await?;
        let installed: Vec<String> = self
            .inner
            .host
            .list()
            .map_err(crate::plugins::host_error)?
            .into_iter()
            .map(|s| s.installed.manifest.key())
            .collect();
        let kernel = Self::kernel_version();
        let mut plugins = vec![];
        for (id, versions) in versions_by_id(&state) {
            let newest = listing(&versions[0].1);
            let text = |k: &str| newest.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let publisher = versions[0].1.publisher.clone().unwrap_or_default();
            let latest = versions.iter().find(|(v, e)| installable(v, e, &kernel)).map(|(v, _)| v.to_string());
            let out = versions
                .iter()
                .map(|(v, e)| {
                    let range = kernel_range(e);
                    let l = listing(e);
                    let claim = |path: &[&str]| {
                        let mut v = &l;
                        for k in path {
                            v = v.get(*k)?;
                        }
                        v.as_str().filter(|x| !x.is_empty()).map(str::to_owned)
                    };
                    CatalogueVersion {
                        source_repository: claim(&["source", "repository"]),
                        source_commit: claim(&["source", "commit"]),
                        publisher_key: claim(&["publisher_key"]),
                        version: v.to_string(),
                        compatible: semver::VersionReq::parse(&range).is_ok_and(|r| r.matches(&kernel)),
                        kernel: range,
                        yanked: e.yanked.clone(),
                        revoked: e.revoked.clone(),
                        size: e.length,
                        sha256: e.sha256.clone(),
                    }
                })
                .collect();
            plugins.push(CatalogueEntry {
                installed: installed.iter().filter(|k| k.starts_with(&format!("{id}@"))).cloned().collect(),
                name: text("name"),
                description: text("description"),
                slot: text("slot"),
                license: text("license"),
                capabilities: newest.get("capabilities").cloned().unwrap_or_default(),
                id,
                publisher,
                latest_compatible: latest,
                versions: out,
            });
        }
        let v = state.versions();
        Ok(Catalogue {
            kernel: kernel.to_string(),
            root_version: v.root,
            timestamp_version: v.timestamp,
            snapshot_version: v.snapshot,
            targets_version: v.targets,
            plugins,
        })
    }

    /// Installs (and by default activates) a plugin version from the
    /// marketplace; see the module docs for the checks, in order.
    ///
    /// The install runs to its end as a task of its own: a caller that goes
    /// away (a client that disconnects, a request past its deadline) drops
    /// only its wait, never an install between its steps, so a version is
    /// either installed and activated as asked or not installed at all.
    pub async fn marketplace_install(&self, p: &Principal, req: InstallRequest) -> Result<InstallOutcome, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let (k, p) = (self.clone(), p.clone());
        tokio::spawn(async move { k.install_from_marketplace(&p, req).await })
            .await
            .map_err(|e| CoreError::Internal { context: "the install task failed".into(), source: Some(Box::new(e)) })?
    }

    async fn install_from_marketplace(&self, p: &Principal, req: InstallRequest) -> Result<InstallOutcome, CoreError> {
        let activate = req.activate;
        let k = self.clone();
        let verified = Self::blocking(move || k.fetch_and_verify(&req)).await??;
        let key = verified.manifest.key();
        let slot = verified.manifest.slot;
        let provenance = verified.provenance.clone();
        let newly_installed = verified.fresh;
        let lacks_assets = !verified.assets.is_empty() && self.inner.host.plugin_asset_names(&key).is_empty();
        if newly_installed || lacks_assets {
            // Installing the same component again only adds the assets it lacks
            // (a version installed another way, e.g. uploaded without its package).
            let host = self.inner.host.clone();
            let Verified { manifest, component, assets, grant, .. } = verified;
            match Self::blocking(move || host.install_package(manifest, &component, &grant, &assets)).await? {
                Ok(_) => {}
                Err(e @ lectern_host::HostError::AlreadyInstalled { .. }) if !newly_installed => {
                    tracing::warn!(plugin = %key, error = %e, "the installed version is another build: its assets were not added");
                }
                Err(e) => return Err(crate::plugins::host_error(e)),
            }
        }
        if self.t().market_installs.get(key.as_bytes())?.is_none() {
            self.t().market_installs.insert(key.as_bytes(), &provenance)?;
            self.durable().await?;
        }
        tracing::info!(plugin = %key, publisher = %provenance.publisher, "plugin installed from the marketplace");
        let activation = match activate {
            Some(target) => match self.activate_plugin(p, slot, target, key.clone()).await {
                Ok(a) => Some(a),
                Err(e) => {
                    // Nothing half-installed: a fresh version that cannot start is removed again.
                    if newly_installed {
                        let host = self.inner.host.clone();
                        let k = key.clone();
                        if let Err(u) = Self::blocking(move || host.uninstall(&k)).await? {
                            tracing::warn!(plugin = %key, error = %u, "could not remove a version that failed to activate");
                        } else {
                            self.t().market_installs.remove(key.as_bytes())?;
                            self.durable().await?;
                        }
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        Ok(InstallOutcome {
            key,
            slot,
            newly_installed,
            activation,
            publisher: provenance.publisher,
            package_sha256: provenance.package_sha256,
        })
    }

    /// Steps 1–8 of an install, numbered as in the module docs (blocking:
    /// network, disk, hashing).
    fn fetch_and_verify(&self, req: &InstallRequest) -> Result<Verified, CoreError> {
        let s = self.market_settings()?;
        // 1. The index chain, fresh and valid.
        let state = self.marketplace_refresh_blocking()?;
        let kernel = Self::kernel_version();
        let revoked = state.revocations();
        let installed: Vec<lectern_host::PluginStatus> = self.inner.host.list().map_err(crate::plugins::host_error)?;
        let installed_versions: Vec<semver::Version> = installed
            .iter()
            .filter(|st| st.installed.manifest.id == req.id)
            .filter_map(|st| semver::Version::parse(&st.installed.manifest.version).ok())
            .collect();
        let candidates = versions_by_id(&state).remove(&req.id).unwrap_or_default();
        if candidates.is_empty() {
            // A revoked publisher's delegation is gone from the index, and its packages with it.
            if let Some((publisher, reason)) =
                revoked.publishers.iter().find(|(p, _)| req.id.starts_with(&format!("{p}.")))
            {
                return Err(market(MarketError::Revoked {
                    what: format!("publisher {publisher}"),
                    reason: reason.clone(),
                }));
            }
            return Err(market(MarketError::NotFound(format!("`{}` is not in the marketplace", req.id))));
        }
        let (version, entry) = match &req.version {
            Some(v) => {
                let want = semver::Version::parse(v)
                    .map_err(|e| CoreError::invalid("version", format!("`{v}` is not a semantic version: {e}")))?;
                candidates.into_iter().find(|(cv, _)| *cv == want).ok_or_else(|| {
                    market(MarketError::NotFound(format!("{}@{want} is not in the marketplace", req.id)))
                })?
            }
            None => {
                let newest = candidates[0].0.to_string();
                candidates
                    .into_iter()
                    .find(|(v, e)| installable(v, e, &kernel))
                    .ok_or_else(|| {
                        market(MarketError::NotFound(format!(
                            "no version of {} is compatible with kernel {kernel} and neither yanked nor revoked (the newest is {newest})",
                            req.id
                        )))
                    })?
            }
        };
        // 2. What the index says of the version: revoked, yanked, a downgrade.
        let key = format!("{}@{version}", req.id);
        if let Some(reason) = &entry.revoked {
            return Err(market(MarketError::Revoked { what: key.clone(), reason: reason.clone() }));
        }
        let already = installed.iter().any(|st| st.installed.manifest.key() == key);
        if let Some(reason) = &entry.yanked
            && !already
        {
            return Err(market(MarketError::Yanked {
                id: req.id.clone(),
                version: version.to_string(),
                reason: reason.clone(),
            }));
        }
        if let Some(newest) = installed_versions.iter().max()
            && version < *newest
            && !req.force
        {
            return Err(market(MarketError::Downgrade {
                id: req.id.clone(),
                installed: newest.to_string(),
                requested: version.to_string(),
            }));
        }
        // 3. The package bytes against the hash and length the index lists.
        let source = Source::new(&s.url)?;
        let bytes = tuf::fetch_target(&source, &entry).map_err(market)?;
        // 4. The archive's safety and every file's hash against the manifest.
        let limits = Limits { archive_bytes: s.max_package_mib.max(1) << 20, ..Limits::default() };
        let pkg = Package::read(&bytes, &limits).map_err(market)?;
        // 5. The publisher: the one the index lists it under, signing with a
        // key that namespace is delegated to.
        let Some(publisher) = entry.publisher.clone() else {
            return Err(market(MarketError::NotDelegated {
                publisher: "(the marketplace itself)".into(),
                id: req.id.clone(),
            }));
        };
        if pkg.manifest.id != req.id || pkg.manifest.version != version.to_string() {
            return Err(market(MarketError::Malformed {
                what: "package".into(),
                detail: format!("it is {} but the index lists it as {key}", pkg.manifest.key()),
            }));
        }
        if pkg.manifest.publisher.id != publisher {
            return Err(market(MarketError::NotDelegated {
                publisher: pkg.manifest.publisher.id.clone(),
                id: req.id.clone(),
            }));
        }
        if let Err(e) = pkg.verify_signature(&entry.publisher_keys) {
            // Signed with another publisher's key: name the publisher that tried.
            if let MarketError::WrongKey { found, .. } = &e
                && let Some(other) =
                    state.delegations().into_iter().find(|d| d.keys.iter().any(|k| k.key_id() == *found))
            {
                let other = other.publisher;
                return Err(market(MarketError::NotDelegated { publisher: other, id: req.id.clone() }));
            }
            return Err(market(e));
        }
        // 6. The kernel version range.
        pkg.manifest.check_kernel(&kernel).map_err(market)?;
        // 7. The component's real imports against the ones it declares.
        let real = package::component_interfaces(&pkg.component).map_err(market)?;
        package::check_declared_imports(&real, &pkg.manifest.wit).map_err(market)?;
        // 8. The administrator's grant against the capabilities requested.
        let manifest = pkg.manifest.plugin_manifest();
        // The world's own rules (e.g. only observers reach other hosts), before any grant is weighed.
        manifest
            .validate()
            .map_err(|e| market(MarketError::Malformed { what: "package manifest".into(), detail: e.to_string() }))?;
        let grant = match &req.grant {
            None => {
                return Err(market(MarketError::NotGranted(format!(
                    "no grant given; {} requests {}",
                    key,
                    serde_json::to_string(&pkg.manifest.capabilities).unwrap_or_default()
                ))));
            }
            Some(Grant::Requested) => manifest.capabilities.clone(),
            Some(Grant::Explicit(g)) => g.clone(),
        };
        check_grant(&pkg.manifest.capabilities, &grant).map_err(market)?;
        let provenance = Provenance {
            key: key.clone(),
            publisher,
            key_id: pkg.manifest.publisher.key_id.clone(),
            target: entry.path.clone(),
            package_sha256: package::sha256_hex(&bytes),
            installed_at: self.now(),
            revoked: None,
        };
        Ok(Verified { manifest, component: pkg.component, assets: pkg.assets, grant, provenance, fresh: !already })
    }

    /// At start: installs and activates the configured plugins that have no
    /// installed version yet; one result per plugin it tried.
    pub async fn marketplace_install_configured(&self) -> Vec<(String, Result<InstallOutcome, CoreError>)> {
        let s = &self.inner.config;
        if !s.enabled() || s.install.is_empty() {
            return vec![];
        }
        let system = match self.identity().platform_institution() {
            Ok(p) => Principal::system(p),
            Err(e) => return vec![("*".into(), Err(e))],
        };
        let installed: Vec<String> = match self.inner.host.list() {
            Ok(list) => list.into_iter().map(|st| st.installed.manifest.id).collect(),
            Err(e) => return vec![("*".into(), Err(crate::plugins::host_error(e)))],
        };
        let mut out = vec![];
        for id in &s.install {
            if installed.contains(id) {
                continue;
            }
            let req = InstallRequest {
                id: id.clone(),
                version: None,
                grant: Some(Grant::Requested),
                force: false,
                activate: Some(Target::Platform),
            };
            out.push((id.clone(), self.marketplace_install(&system, req).await));
        }
        out
    }
}

/// A package that passed every check, ready to install.
struct Verified {
    manifest: Manifest,
    component: Vec<u8>,
    /// The package's static assets (paths under `assets/`), kept with the version.
    assets: std::collections::BTreeMap<String, Vec<u8>>,
    grant: Capabilities,
    provenance: Provenance,
    fresh: bool,
}

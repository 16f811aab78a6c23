//! The marketplace over HTTP: browse what can be installed, install or
//! upgrade from the verified index, and see security alerts (revocations).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lectern_core::marketplace::{Grant, InstallRequest};
use lectern_core::plugins::Target;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::plugins::{Capabilities as CapabilitiesDto, Catalogue};
use crate::extract::{ApiJson, Auth};
use crate::problem::{ApiError, ApiResult};

/// The marketplace catalogue, verified against the pinned root of trust.
#[utoipa::path(get, path = "/api/v1/marketplace/plugins", tag = "marketplace",
    responses((status = 200, description = "index versions, and every plugin with its versions (compatible with this kernel or not, yanked, revoked) and the latest installable one", body = Catalogue),
        (status = "4XX", body = crate::dto::Problem), (status = "5XX", body = crate::dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn catalogue(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Catalogue>> {
    Ok(Json(s.kernel.plugins().marketplace_catalogue(&p).await?.into()))
}

/// A security event: an installed plugin the marketplace revoked, and what the kernel did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Alert {
    id: String,
    /// When it was recorded (RFC 3339).
    at: String,
    /// `revoked`.
    kind: String,
    /// `id@version` of the installed plugin.
    plugin: String,
    /// Why the marketplace revoked it (the version, or its publisher).
    reason: String,
    /// What the kernel did: per slot, the version it fell back to or that nothing serves it now.
    action: String,
}

/// Every security alert, newest first (the list is short: one entry per revoked installed version).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlertList {
    items: Vec<Alert>,
}

/// Security alerts: installed plugins the marketplace revoked, and what the kernel did.
#[utoipa::path(get, path = "/api/v1/marketplace/alerts", tag = "marketplace",
    responses((status = 200, body = AlertList), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn alerts(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<AlertList>> {
    let items = s
        .kernel
        .plugins()
        .marketplace_alerts(&p)?
        .into_iter()
        .map(|a| Alert {
            id: a.id,
            at: crate::dto::rfc3339(a.at),
            kind: a.kind,
            plugin: a.plugin,
            reason: a.reason,
            action: a.action,
        })
        .collect();
    Ok(Json(AlertList { items }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Refreshed {
    root_version: u64,
    timestamp_version: u64,
    snapshot_version: u64,
    targets_version: u64,
}

/// Refreshes the index now (it is also refreshed periodically); revocations take effect.
#[utoipa::path(post, operation_id = "refresh_marketplace", path = "/api/v1/marketplace/refresh", tag = "marketplace",
    responses((status = 200, body = Refreshed), (status = "4XX", body = crate::dto::Problem), (status = "5XX", body = crate::dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn refresh(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Refreshed>> {
    let state = s.kernel.plugins().marketplace_refresh_as(&p).await?;
    let v = state.versions();
    Ok(Json(Refreshed {
        root_version: v.root,
        timestamp_version: v.timestamp,
        snapshot_version: v.snapshot,
        targets_version: v.targets,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum GrantBody {
    /// `"requested"`: grant exactly what the manifest requests.
    Word(String),
    /// The capabilities granted; each requested one must be included.
    Explicit(CapabilitiesDto),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Install {
    /// Plugin id, e.g. `org.lectern.grading`.
    id: String,
    /// A version, or `latest` / absent for the latest compatible one.
    version: Option<String>,
    /// `"requested"` or a capabilities object. Required: installing grants it.
    grant: Option<GrantBody>,
    /// Allow a version older than one installed.
    #[serde(default)]
    force: bool,
    /// Activate after installing (default true).
    activate: Option<bool>,
    /// Activate for this institution (id or slug) instead of platform-wide.
    institution: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Installed {
    /// `id@version`.
    plugin: String,
    slot: String,
    publisher: String,
    package_sha256: String,
    /// False when this exact version was installed already.
    newly_installed: bool,
    /// The activation, when it was activated.
    active: Option<String>,
    previous: Option<String>,
    took_ms: Option<f64>,
}

/// Installs (or upgrades to) a plugin version from the marketplace: the index
/// chain, the package hash, the publisher's signature, the archive, the
/// kernel range, the component's imports and the grant are all checked
/// before anything is installed; then it is activated through the hot-swap
/// path (the previous version stays the rollback target).
///
/// The install runs as a job that ends the same whatever happens to the
/// request: installed and activated as asked, or not installed at all. When
/// it takes longer than two thirds of the request deadline (a large
/// component compiling), or the request says `Prefer: respond-async`, the
/// answer is `202 Accepted` with the job (`Location`: its status URL, which
/// gives the same result or problem once it ends).
#[utoipa::path(post, operation_id = "install_from_marketplace", path = "/api/v1/plugins/install", tag = "plugins", request_body = Install,
    params(("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job at once")),
    responses((status = 201, body = Installed), (status = 200, body = Installed, description = "already installed; activated"),
        (status = 202, body = crate::routes::install_jobs::InstallJob, description = "still running: follow `status_url` (also in `Location`)"),
        (status = "4XX", body = crate::dto::Problem), (status = "5XX", body = crate::dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn install(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: axum::http::HeaderMap,
    ApiJson(b): ApiJson<Install>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let grant = match b.grant {
        None => None,
        Some(GrantBody::Word(w)) if w == "requested" => Some(Grant::Requested),
        Some(GrantBody::Word(w)) => {
            return Err(ApiError::bad_parameter("grant", format!("`{w}`: use \"requested\" or a capabilities object")));
        }
        Some(GrantBody::Explicit(c)) => Some(Grant::Explicit(c.into())),
    };
    let activate = if b.activate.unwrap_or(true) {
        Some(match b.institution {
            None => Target::Platform,
            Some(i) => Target::Institution(s.kernel.identity().resolve_institution(&i)?),
        })
    } else {
        None
    };
    let version = b.version.filter(|v| v != "latest");
    let plugin = b.id.clone();
    let req = InstallRequest { id: b.id, version, grant, force: b.force, activate };
    let (kernel, principal) = (s.kernel.clone(), p.clone());
    let mut job = s.install_jobs.start(&p, &plugin, async move {
        let out = kernel.plugins().marketplace_install(&principal, req).await?;
        let status = if out.newly_installed { StatusCode::CREATED } else { StatusCode::OK };
        let body = Installed {
            plugin: out.key,
            slot: out.slot.name().into(),
            publisher: out.publisher,
            package_sha256: out.package_sha256,
            newly_installed: out.newly_installed,
            active: out.activation.as_ref().map(|a| a.active.clone()),
            previous: out.activation.as_ref().and_then(|a| a.previous.clone()),
            took_ms: out.activation.as_ref().map(|a| a.took.as_secs_f64() * 1000.0),
        };
        let body = serde_json::to_value(body)
            .map_err(|e| ApiError::new(&crate::problem::INTERNAL, format!("cannot encode the result: {e}")))?;
        Ok((status, body))
    })?;
    let respond_async = headers
        .get_all(axum::http::header::HeaderName::from_static("prefer"))
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("respond-async")));
    let wait = if respond_async { std::time::Duration::ZERO } else { s.config.request_timeout * 2 / 3 };
    match job.outcome_within(wait).await {
        Some(Ok((status, body))) => Ok((status, Json(body)).into_response()),
        Some(Err(e)) => Err(e),
        None => {
            let running = job.running(&plugin);
            let location = crate::routes::install_jobs::status_url(&job.id);
            Ok((StatusCode::ACCEPTED, [(axum::http::header::LOCATION, location)], Json(running)).into_response())
        }
    }
}

//! Plugin administration over HTTP (`plugin:manage`; installing and the
//! platform-wide default need a platform administrator).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lectern_core::authz::{Capability, Context, authorize};
use lectern_core::plugins::Target;
use lectern_host::{BreakerState, Capabilities, Scope, Slot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::plugins::Capabilities as CapabilitiesDto;
use crate::dto::rfc3339;
use crate::extract::{ApiJson, ApiMultipart, ApiPath, Auth};
use crate::problem::{self, ApiError, ApiResult};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginStats {
    calls: u64,
    errors: u64,
    faults: u64,
    p50_us: u32,
    p99_us: u32,
    fuel_used: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Breaker {
    /// `closed`, `open` or `half_open`.
    state: &'static str,
    reason: Option<String>,
    retry_in_ms: Option<u64>,
    trips: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Plugin {
    /// `id@version`.
    key: String,
    id: String,
    version: String,
    slot: String,
    data_version: u32,
    sha256: String,
    size: u64,
    installed_at: String,
    /// `active`, `starting` (active, still compiling after a start that found
    /// no compiled artifact: calls answer 503 with `Retry-After` until it
    /// serves), `standby` (the rollback target somewhere) or `installed`.
    status: &'static str,
    /// Where it is active: `platform` or institution ids.
    active_in: Vec<String>,
    /// Of `active_in`, where it is still compiling.
    starting_in: Vec<String>,
    standby_in: Vec<String>,
    imports: Vec<String>,
    /// What the administrator granted at install.
    grants: CapabilitiesDto,
    breaker: Breaker,
    stats: PluginStats,
}

fn scope_name(s: &Scope) -> String {
    match s {
        Scope::Platform => "platform".into(),
        Scope::Institution(i) => i.clone(),
    }
}

impl From<lectern_host::PluginStatus> for Plugin {
    fn from(p: lectern_host::PluginStatus) -> Self {
        let m = &p.installed.manifest;
        let (state, reason, retry_in_ms) = match &p.breaker {
            BreakerState::Closed => ("closed", None, None),
            BreakerState::Open { retry_in, reason } => {
                ("open", Some(reason.clone()), Some(retry_in.as_millis() as u64))
            }
            BreakerState::HalfOpen { reason } => ("half_open", Some(reason.clone()), None),
        };
        Plugin {
            key: m.key(),
            id: m.id.clone(),
            version: m.version.clone(),
            slot: m.slot.name().into(),
            data_version: m.data_version,
            sha256: p.installed.sha256.clone(),
            size: p.installed.size,
            installed_at: rfc3339((p.installed.installed_at_ms / 1000) as i64),
            status: if !p.starting_in.is_empty() {
                "starting"
            } else if !p.active_in.is_empty() {
                "active"
            } else if !p.standby_in.is_empty() {
                "standby"
            } else {
                "installed"
            },
            active_in: p.active_in.iter().map(scope_name).collect(),
            standby_in: p.standby_in.iter().map(scope_name).collect(),
            starting_in: p.starting_in.iter().map(scope_name).collect(),
            imports: p.installed.imports.clone(),
            grants: (&p.installed.grants).into(),
            breaker: Breaker { state, reason, retry_in_ms, trips: p.breaker_trips },
            stats: PluginStats {
                calls: p.stats.calls,
                errors: p.stats.errors,
                faults: p.stats.faults,
                p50_us: p.stats.p50_us,
                p99_us: p.stats.p99_us,
                fuel_used: p.stats.fuel_used.to_string(),
            },
        }
    }
}

/// Installed plugin versions with status, breaker state and call statistics.
#[utoipa::path(get, operation_id = "list_plugins", path = "/api/v1/plugins", tag = "plugins", responses((status = 200, body = Vec<Plugin>), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<Plugin>>> {
    Ok(Json(s.kernel.plugins().list_plugins(&p)?.into_iter().map(Into::into).collect()))
}

/// The parts of a plugin upload, for the document: `install` reads them one
/// by one from the stream, so this type is never built.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the multipart parts `install` reads by hand")]
pub(crate) struct PluginUpload {
    /// The plugin's manifest, as JSON text.
    manifest: String,
    /// The `.wasm` component.
    component: crate::dto::Binary,
    /// Capabilities granted (JSON); defaults to what the manifest requests.
    grant: Option<CapabilitiesDto>,
}

/// Installs a plugin version (not yet active). `multipart/form-data` with
/// parts `manifest` (JSON), `component` (the `.wasm` component) and
/// optionally `grant` (JSON capabilities; defaults to what the manifest requests).
#[utoipa::path(post, operation_id = "upload_plugin", path = "/api/v1/plugins", tag = "plugins",
    request_body(content = PluginUpload, content_type = "multipart/form-data", description = "parts: manifest, component, grant?"),
    responses((status = 201, body = Plugin), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn install(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiMultipart(mut form): ApiMultipart,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    // Before reading up to 64 MiB of upload: only a platform administrator may send one.
    authorize(&p, Capability::PlatformManage, Context::Platform)?;
    let bad = |d: String| ApiError::new(&problem::MALFORMED_BODY, d);
    let read_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(&problem::BODY_TOO_LARGE, e.body_text())
        } else {
            ApiError::new(&problem::MALFORMED_BODY, e.body_text())
        }
    };
    let (mut manifest, mut component, mut grant) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(read_error)?;
        match name.as_str() {
            "manifest" => manifest = Some(bytes.to_vec()),
            "component" => component = Some(bytes.to_vec()),
            "grant" => {
                grant = Some(serde_json::from_slice::<Capabilities>(&bytes).map_err(|e| bad(format!("grant: {e}")))?)
            }
            other => return Err(bad(format!("unexpected part `{other}`; expected manifest, component, grant"))),
        }
    }
    let manifest = manifest.ok_or_else(|| bad("the `manifest` part is missing".into()))?;
    let component = component.ok_or_else(|| bad("the `component` part is missing".into()))?;
    let installed = s.kernel.plugins().install_plugin(&p, &manifest, component, grant).await?;
    let key = installed.manifest.key();
    let status = s.kernel.plugins().list_plugins(&p)?.into_iter().find(|x| x.installed.manifest.key() == key);
    let status = status.ok_or_else(|| ApiError::new(&problem::INTERNAL, "installed plugin vanished"))?;
    Ok((StatusCode::CREATED, Json(status.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Activate {
    /// `id@version` of an installed version.
    plugin: String,
    /// An institution (id or slug) to choose for; absent means the platform default.
    institution: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rollback {
    institution: Option<String>,
    /// For an extension world (`observer`): which plugin's previous version
    /// (its id). Ignored for a slot, which has one version at a time.
    plugin: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deactivate {
    /// The plugin's id (not `id@version`): every version of it stops here.
    plugin: String,
    /// An institution (id or slug); absent means platform-wide.
    institution: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Deactivated {
    /// `id@version` that was active there; null when none was.
    stopped: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsQuery {
    /// An institution (id or slug); absent means the platform-wide settings.
    institution: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutSettings {
    /// An institution (id or slug); absent means platform-wide (every
    /// institution without settings of its own).
    institution: Option<String>,
    /// A JSON object the plugin reads through `settings.get` (at most 64 KiB);
    /// null removes the scope's settings.
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginSettings {
    plugin: String,
    /// `platform` or the institution's id.
    scope: String,
    /// The scope's own settings; null when it has none (an institution then
    /// gets the platform's).
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActivationDto {
    /// `id@version` now serving the slot here.
    active: String,
    /// What served it before: the scope's own choice, or for an institution
    /// without one, the platform default. Null when nothing did.
    previous: Option<String>,
    migrated_from: Option<u32>,
    compiled_from_cache: bool,
    took_ms: f64,
    warnings: Vec<String>,
}

impl From<lectern_host::Activation> for ActivationDto {
    fn from(a: lectern_host::Activation) -> Self {
        ActivationDto {
            active: a.active,
            previous: a.previous,
            migrated_from: a.migrated_from,
            compiled_from_cache: a.compiled_from_cache,
            took_ms: a.took.as_secs_f64() * 1000.0,
            warnings: a.warnings,
        }
    }
}

fn parse_slot(slot: &str) -> ApiResult<Slot> {
    slot.parse()
        .map_err(|_| ApiError::bad_parameter("slot", "must be content, proctoring, grading, tutoring or observer"))
}

fn target(s: &AppState, institution: Option<String>) -> ApiResult<Target> {
    Ok(match institution {
        None => Target::Platform,
        Some(i) => Target::Institution(s.kernel.identity().resolve_institution(&i)?),
    })
}

/// Makes an installed version the active plugin of a slot, without dropping a
/// call: calls in flight finish on the old version.
#[utoipa::path(post, path = "/api/v1/plugins/slots/{slot}/activate", tag = "plugins", params(("slot" = String, Path)), request_body = Activate,
    responses((status = 200, body = ActivationDto), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn activate(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(slot): ApiPath<String>,
    ApiJson(b): ApiJson<Activate>,
) -> ApiResult<Json<ActivationDto>> {
    let slot = parse_slot(&slot)?;
    let t = target(&s, b.institution)?;
    Ok(Json(s.kernel.plugins().activate_plugin(&p, slot, t, b.plugin).await?.into()))
}

/// Reactivates the previous version of a slot.
#[utoipa::path(post, path = "/api/v1/plugins/slots/{slot}/rollback", tag = "plugins", params(("slot" = String, Path)), request_body = Rollback,
    responses((status = 200, body = ActivationDto), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn rollback(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(slot): ApiPath<String>,
    ApiJson(b): ApiJson<Rollback>,
) -> ApiResult<Json<ActivationDto>> {
    let slot = parse_slot(&slot)?;
    let t = target(&s, b.institution)?;
    Ok(Json(s.kernel.plugins().rollback_plugin(&p, slot, t, b.plugin).await?.into()))
}

/// Stops one plugin of an extension world (an `observer`) platform-wide or
/// for an institution: it receives no more events there. Idempotent. Slots
/// are not stopped this way (activate another version instead).
#[utoipa::path(post, operation_id = "deactivate_plugin", path = "/api/v1/plugins/slots/{slot}/deactivate", tag = "plugins", params(("slot" = String, Path)), request_body = Deactivate,
    responses((status = 200, body = Deactivated), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn deactivate(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(slot): ApiPath<String>,
    ApiJson(b): ApiJson<Deactivate>,
) -> ApiResult<Json<Deactivated>> {
    let slot = parse_slot(&slot)?;
    let t = target(&s, b.institution)?;
    Ok(Json(Deactivated { stopped: s.kernel.plugins().deactivate_plugin(&p, slot, t, b.plugin).await? }))
}

fn scope_of(t: &Target) -> String {
    match t {
        Target::Platform => "platform".into(),
        Target::Institution(i) => i.to_string(),
    }
}

/// A plugin's settings for the platform or one institution, as an
/// administrator configured them (they may hold the plugin's secrets).
#[utoipa::path(get, operation_id = "get_plugin_settings", path = "/api/v1/plugins/{plugin}/settings", tag = "plugins",
    params(("plugin" = String, Path, description = "the plugin's id"), ("institution" = Option<String>, Query, description = "id or slug; absent: platform-wide")),
    responses((status = 200, body = PluginSettings), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(plugin): ApiPath<String>,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<SettingsQuery>,
) -> ApiResult<Json<PluginSettings>> {
    let t = target(&s, q.institution)?;
    let settings = s.kernel.plugins().plugin_settings(&p, &plugin, t)?;
    Ok(Json(PluginSettings { plugin, scope: scope_of(&t), settings }))
}

/// Sets a plugin's settings (a JSON object the plugin reads through
/// `lectern:plugin/settings`), platform-wide or for one institution; null
/// removes them. Durable when answered; the plugin's next call reads them.
#[utoipa::path(put, operation_id = "put_plugin_settings", path = "/api/v1/plugins/{plugin}/settings", tag = "plugins",
    params(("plugin" = String, Path, description = "the plugin's id")), request_body = PutSettings,
    responses((status = 200, body = PluginSettings), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn put_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(plugin): ApiPath<String>,
    ApiJson(b): ApiJson<PutSettings>,
) -> ApiResult<Json<PluginSettings>> {
    let t = target(&s, b.institution)?;
    s.kernel.plugins().set_plugin_settings(&p, plugin.clone(), t, b.settings.clone()).await?;
    Ok(Json(PluginSettings { plugin, scope: scope_of(&t), settings: b.settings }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DefaultRestoredDto {
    /// The platform default now serving the institution; null when the slot has no default.
    active: Option<String>,
    /// What served the institution before: its own choice, or already the platform default.
    previous: Option<String>,
}

/// Drops an institution's own choice for a slot: the platform default serves
/// it again (calls in flight finish on the version they started on).
/// Idempotent; an institution administrator may do it for their own institution.
#[utoipa::path(delete, path = "/api/v1/plugins/slots/{slot}/institutions/{institution}", tag = "plugins",
    params(("slot" = String, Path), ("institution" = String, Path, description = "id or slug")),
    responses((status = 200, body = DefaultRestoredDto), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn use_platform_default(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((slot, institution)): ApiPath<(String, String)>,
) -> ApiResult<Json<DefaultRestoredDto>> {
    let slot = parse_slot(&slot)?;
    let institution = s.kernel.identity().resolve_institution(&institution)?;
    let r = s.kernel.plugins().use_platform_default(&p, slot, institution).await?;
    Ok(Json(DefaultRestoredDto { active: r.active, previous: r.previous }))
}

/// Removes an installed version that is not active anywhere.
#[utoipa::path(delete, path = "/api/v1/plugins/{plugin}", tag = "plugins", params(("plugin" = String, Path, description = "id@version")),
    responses((status = 204), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn uninstall(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.kernel.plugins().uninstall_plugin(&p, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

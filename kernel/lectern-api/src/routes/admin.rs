//! Operations for platform administrators: what is running, and the email check.

use axum::Json;
use axum::extract::State;
use lectern_core::authz::{Capability, Context, authorize};

use crate::AppState;
use crate::dto::{self, admin as d};
use crate::extract::{ApiJson, Auth};
use crate::problem::ApiResult;

/// The running server: version, commit, build profile, uptime, bus backend,
/// whether email is configured (platform administrators).
#[utoipa::path(get, operation_id = "about", path = "/api/v1/admin/about", tag = "operations",
    responses((status = 200, body = d::About), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn about(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<d::About>> {
    authorize(&p, Capability::PlatformManage, Context::Platform)?;
    Ok(Json(d::About {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: s.config.commit.map(str::to_owned),
        build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned(),
        started_at: dto::rfc3339(s.started.1),
        uptime_secs: s.started.0.elapsed().as_secs(),
        bus: s.kernel.bus().backend().to_owned(),
        email_configured: s.kernel.config().email.is_some(),
    }))
}

/// Sends one test message through the configured SMTP relay now and reports
/// what the relay answered (platform administrators). A relay that refuses
/// is a 200 with `sent: false` and the reason: the check worked.
#[utoipa::path(post, operation_id = "check_email", path = "/api/v1/admin/email/check", tag = "operations",
    request_body = d::EmailCheckRequest,
    responses((status = 200, body = d::EmailCheck), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn check_email(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<d::EmailCheckRequest>,
) -> ApiResult<Json<d::EmailCheck>> {
    Ok(Json(s.kernel.notifications().check_email(&p, &b.to).await?.into()))
}

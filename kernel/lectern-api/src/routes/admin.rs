//! Operations for platform administrators: what is running, the email check, backups.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
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

/// A backup of the running server (platform administrators): a tar of the
/// database (exported while the server keeps serving), the media and the
/// installed plugins' components, with a manifest. Everything acknowledged
/// before the request arrived is in it; what is written meanwhile may be.
/// Restore it with `lectern admin restore --from <file>` into an empty data
/// directory. Written to a temporary file first, then streamed.
#[utoipa::path(get, operation_id = "backup", path = "/api/v1/admin/backup", tag = "operations",
    responses((status = 200, description = "The backup", content_type = "application/x-tar", body = crate::dto::Binary), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn backup(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    use std::io::{Seek, SeekFrom};
    let kernel = s.kernel.clone();
    let dir = kernel.config().data_dir.clone();
    let who = p.clone();
    let (file, size, manifest) = tokio::task::spawn_blocking(
        move || -> ApiResult<(std::fs::File, u64, lectern_core::backup::BackupManifest)> {
            let io = |e: std::io::Error| lectern_core::CoreError::internal("the backup file", e);
            let mut f = tempfile::tempfile_in(&dir).map_err(io)?;
            let manifest = kernel.backup(&who, &mut f, &dir)?;
            let size = f.seek(SeekFrom::End(0)).map_err(io)?;
            f.seek(SeekFrom::Start(0)).map_err(io)?;
            Ok((f, size, manifest))
        },
    )
    .await
    .map_err(|e| lectern_core::CoreError::internal("the backup task", e))??;
    let what = format!("{} records, {} files, {size} bytes", manifest.database_records, manifest.files);
    s.kernel.record_audit(lectern_core::audit::NewAuditEntry::succeeded(&p, None, "admin.backup", what)).await?;
    let stream = tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 256 * 1024);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/x-tar".to_string()),
            (axum::http::header::CONTENT_LENGTH, size.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"lectern-backup-{}.tar\"", manifest.created_at),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

//! The audit log: an institution's entries for its administrators, the whole
//! log, its head and its verification for platform administrators, and an
//! export whose lines an outside tool can re-hash.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lectern_core::CoreError;
use lectern_core::audit::{AuditActor, AuditFilter, NewAuditEntry};

use crate::AppState;
use crate::dto::audit as d;
use crate::dto::{self, content::time_opt};
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::problem::ApiResult;

fn filter_and_page(q: d::AuditQuery) -> ApiResult<(AuditFilter, lectern_core::PageRequest)> {
    let filter = AuditFilter {
        action: q.action,
        actor: q.actor,
        since: time_opt("since", q.since)?,
        until: time_opt("until", q.until)?,
    };
    Ok((filter, lectern_core::PageRequest { limit: q.limit, cursor: q.cursor }))
}

/// A page of entries, each user actor with their current email for reading.
fn page(s: &AppState, p: lectern_core::Page<lectern_core::audit::AuditEntry>) -> Json<d::AuditPage> {
    let items = p
        .items
        .into_iter()
        .map(|e| {
            let email = match &e.actor {
                AuditActor::User { id, institution } => {
                    s.kernel.identity().load_user(*institution, *id).ok().map(|u| u.email)
                }
                _ => None,
            };
            let mut dto = d::AuditEntry::from(e);
            dto.actor.email = email;
            dto
        })
        .collect();
    Json(d::AuditPage { items, next_cursor: p.next_cursor })
}

/// The institution's audit log, newest first (its administrators): sign-ins
/// and failures, account, role and enrolment changes, grade overrides,
/// proctoring decisions, plugin and key administration, and every other
/// administrative request, with who, from where and how it ended.
#[utoipa::path(get, operation_id = "list_audit", path = "/api/v1/institutions/{institution}/audit", tag = "audit",
    params(("institution" = String, Path), d::AuditQuery),
    responses((status = 200, body = d::AuditPage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiQuery(q): ApiQuery<d::AuditQuery>,
) -> ApiResult<Json<d::AuditPage>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let (filter, req) = filter_and_page(q)?;
    Ok(page(&s, s.kernel.audit().list(&p, id, &filter, &req)?))
}

/// Every entry of the institution, oldest first, as newline-delimited JSON:
/// each line is an entry exactly as hashed plus its `hash`, so anyone can
/// check `hash = SHA-256(RFC 8785 JSON of the line without "hash")`. The
/// export itself is recorded.
#[utoipa::path(get, operation_id = "export_audit", path = "/api/v1/institutions/{institution}/audit/export", tag = "audit",
    params(("institution" = String, Path)),
    responses((status = 200, description = "One entry per line", content_type = "application/x-ndjson", body = String), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn export(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    // Reading and encoding the whole log is storage work: off the async workers.
    let (audit, who) = (s.kernel.audit().clone(), p.clone());
    let (body, count) = lectern_core::Env::blocking(move || -> Result<(Vec<u8>, usize), CoreError> {
        let entries = audit.export(&who, id)?;
        let mut body = Vec::with_capacity(entries.len() * 512);
        for e in &entries {
            serde_json::to_writer(&mut body, e).map_err(|e| CoreError::internal("an audit entry", e))?;
            body.push(b'\n');
        }
        Ok((body, entries.len()))
    })
    .await??;
    s.kernel.record_audit(NewAuditEntry::succeeded(&p, Some(id), "audit.export", format!("{count} entries"))).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit-{inst}.ndjson\"")),
        ],
        Body::from(body),
    )
        .into_response())
}

/// The whole deployment's audit log, newest first (platform administrators).
#[utoipa::path(get, operation_id = "list_all_audit", path = "/api/v1/admin/audit", tag = "audit",
    params(d::AuditQuery),
    responses((status = 200, body = d::AuditPage), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list_all(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<d::AuditQuery>,
) -> ApiResult<Json<d::AuditPage>> {
    let (filter, req) = filter_and_page(q)?;
    Ok(page(&s, s.kernel.audit().list_all(&p, &filter, &req)?))
}

/// The hash chain recomputed from its anchor, and its head: record the
/// head's `seq` and `hash` outside Lectern; a later verification that still
/// reaches them shows that nothing up to there was changed, inserted or
/// removed (platform administrators).
#[utoipa::path(get, operation_id = "verify_audit", path = "/api/v1/admin/audit/verify", tag = "audit",
    responses((status = 200, body = d::AuditVerification), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn verify(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<d::AuditVerification>> {
    let audit = s.kernel.audit().clone();
    let v = lectern_core::Env::blocking(move || audit.verify(&p)).await??;
    Ok(Json(v.into()))
}

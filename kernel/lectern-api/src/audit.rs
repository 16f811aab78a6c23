//! Every state-changing API request outside a learner's own work goes into
//! the audit log once answered: who (the principal the request authenticated
//! as, or anonymous), what (`METHOD /route/{template}`), to what (the path),
//! the institution concerned, the outcome and HTTP status, the client's
//! address and the request id. Sign-ins are recorded by the kernel itself
//! (with the address tried), so their route is skipped here.
//!
//! Not recorded: reads, and the high-volume actions of a learner on their own
//! work (starting an attempt, saving answers, proctoring signals, submitting,
//! hints, previews, tutor questions, activity actions, completing items,
//! notifications), whose records are the attempt and progress data
//! themselves; token renewals.

use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use lectern_core::Principal;
use lectern_core::audit::{AuditActor, AuditOutcome, NewAuditEntry};

use crate::AppState;

/// Where the `Auth` extractor leaves the principal for this middleware.
#[derive(Clone, Default)]
pub(crate) struct AuditSlot(Arc<Mutex<Option<Principal>>>);

impl AuditSlot {
    pub(crate) fn set(&self, p: &Principal) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(p.clone());
        }
    }

    fn take(&self) -> Option<Principal> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// Route templates (after the method) that are not audited; see the module docs.
const NOT_AUDITED: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/oauth/token",
    "/api/v1/assessments/{assessment_id}/attempts",
    "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/answers/{question_id}",
    "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/signals",
    "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/submit",
    "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/hint",
    "/api/v1/assessments/{assessment_id}/preview",
    "/api/v1/credentials/verify",
    "/api/v1/institutions/{institution}/courses/{course_id}/content/preview",
    "/api/v1/institutions/{institution}/courses/{course_id}/content/activity-settings-view",
    "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/activity/actions",
    "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/complete",
    "/api/v1/institutions/{institution}/courses/{course_id}/tutor/questions",
    "/api/v1/me/notification-preferences",
    "/api/v1/me/notifications/read-all",
    "/api/v1/me/notifications/{notification_id}/read",
];

/// Whether a request to `route` with `method` is recorded.
pub(crate) fn audited(method: &Method, route: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && !NOT_AUDITED.contains(&route)
}

/// The value of the `{name}` segment of `route` in `path`.
fn path_param<'a>(route: &str, path: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("{{{name}}}");
    route.split('/').zip(path.split('/')).find(|(r, _)| *r == wanted).map(|(_, v)| v)
}

pub(crate) async fn record(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(route) = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    if !audited(&method, &route) {
        return next.run(req).await;
    }
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let path = req.uri().path().to_owned();
    let ip = crate::extract::client_ip(&s, req.headers(), req.extensions()).map(|ip| ip.to_string());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let resp = next.run(req).await;
    let status = resp.status();
    let principal = slot.take();
    let institution = path_param(&route, &path, "institution")
        .and_then(|i| s.kernel.identity().resolve_institution(i).ok())
        .or(principal.as_ref().map(|p| p.institution));
    let outcome = match status.as_u16() {
        200..=399 => AuditOutcome::Succeeded,
        401 | 403 | 429 => AuditOutcome::Denied,
        _ => AuditOutcome::Failed,
    };
    let entry = NewAuditEntry {
        institution,
        actor: principal.as_ref().map(AuditActor::of).unwrap_or(AuditActor::Anonymous { claimed: None }),
        action: format!("{method} {route}"),
        target: Some(path),
        outcome,
        status: Some(status.as_u16()),
        ip,
        request_id,
        details: Default::default(),
    };
    if let Err(e) = s.kernel.record_audit(entry).await {
        tracing::error!(error = %e, "the audit entry of a request is not durable");
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_requests_are_recorded() {
        assert!(audited(&Method::PATCH, "/api/v1/institutions/{institution}/users/{user_id}"));
        assert!(audited(&Method::POST, "/api/v1/plugins/slots/{slot}/activate"));
        assert!(!audited(&Method::GET, "/api/v1/institutions/{institution}/users/{user_id}"));
        assert!(!audited(
            &Method::PUT,
            "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/answers/{question_id}"
        ));
        assert!(audited(
            &Method::PUT,
            "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/manual-grade"
        ));
    }

    #[test]
    fn path_parameters_by_template() {
        let route = "/api/v1/institutions/{institution}/users/{user_id}";
        assert_eq!(path_param(route, "/api/v1/institutions/alpha/users/u1", "institution"), Some("alpha"));
        assert_eq!(path_param(route, "/api/v1/institutions/alpha/users/u1", "user_id"), Some("u1"));
        assert_eq!(path_param(route, "/api/v1/institutions/alpha/users/u1", "course_id"), None);
    }
}

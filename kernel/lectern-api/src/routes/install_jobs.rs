//! Installs that outlive their request. Compiling a large component (an
//! interpreted Python or JavaScript plugin is 12–18 MB) can take longer than
//! the request deadline; the install then goes on as a job: the request
//! answers `202 Accepted` with the job's URL (`Location`), and
//! `GET /api/v1/plugins/install-jobs/{job}` says how it ended — the same
//! result or problem document the request would have given. A client that
//! disconnects changes nothing: the job (and the kernel's install, which
//! runs as a task of its own) runs to its end either way.
//!
//! Jobs live in memory: after a restart, what was installed is in
//! `GET /api/v1/plugins` and a job id is unknown (404). Finished jobs are
//! kept for an hour, and at most [`MAX_FINISHED`] of them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lectern_core::{Principal, PrincipalKind};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Auth;
use crate::problem::{self, ApiError, ApiResult};

/// Finished jobs kept (the oldest go first), and for how long.
const MAX_FINISHED: usize = 256;
const KEEP_FINISHED: Duration = Duration::from_secs(3600);

/// What a finished job produced: the status and body the request would have answered.
pub(crate) type Outcome = Result<(StatusCode, Value), ApiError>;

struct Job {
    /// Who started it: only they see it.
    owner: String,
    plugin: String,
    started_at: i64,
    done: watch::Receiver<Option<(Instant, Outcome)>>,
}

#[derive(Default)]
pub(crate) struct InstallJobs {
    jobs: Mutex<HashMap<String, Job>>,
}

/// Who a job belongs to: the user (any of their sessions), the OAuth client, or the kernel.
fn owner(p: &Principal) -> String {
    match &p.kind {
        PrincipalKind::User { user, .. } => format!("user:{user}"),
        PrincipalKind::Client { client_id } => format!("client:{client_id}"),
        PrincipalKind::System => format!("system:{}", p.institution),
    }
}

/// A started job: its id, and how to wait for it.
pub(crate) struct Started {
    pub(crate) id: String,
    started_at: i64,
    done: watch::Receiver<Option<(Instant, Outcome)>>,
}

impl Started {
    /// What the job answers while it runs (202).
    pub(crate) fn running(&self, plugin: &str) -> InstallJob {
        InstallJob {
            id: self.id.clone(),
            state: "running".into(),
            plugin: plugin.to_owned(),
            started_at: crate::dto::rfc3339(self.started_at),
            status_url: status_url(&self.id),
            result: None,
            problem: None,
        }
    }

    /// Waits at most `wait` for the job's outcome.
    pub(crate) async fn outcome_within(&mut self, wait: Duration) -> Option<Outcome> {
        let finished = tokio::time::timeout(wait, self.done.wait_for(Option::is_some)).await;
        match finished {
            Ok(Ok(v)) => v.as_ref().map(|(_, o)| o.clone()),
            // The job's task ended without an outcome (it panicked): say so.
            Ok(Err(_)) => Some(Err(ApiError::new(&problem::INTERNAL, "the install job stopped without an outcome"))),
            Err(_) => None,
        }
    }
}

impl InstallJobs {
    /// Runs `work` as a job of `p`'s for `plugin`, detached from any request.
    pub(crate) fn start<F>(&self, p: &Principal, plugin: &str, work: F) -> Result<Started, ApiError>
    where
        F: std::future::Future<Output = Outcome> + Send + 'static,
    {
        let id = lectern_auth::secret::random_bytes::<12>()
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>())
            .map_err(|e| ApiError::new(&problem::INTERNAL, format!("cannot make a job id: {e}")))?;
        let (tx, rx) = watch::channel(None);
        let started_at = time::OffsetDateTime::now_utc().unix_timestamp();
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            Self::forget_old(&mut jobs);
            jobs.insert(id.clone(), Job { owner: owner(p), plugin: plugin.to_owned(), started_at, done: rx.clone() });
        }
        tokio::spawn(async move {
            let outcome = work.await;
            let _ = tx.send(Some((Instant::now(), outcome)));
        });
        Ok(Started { id, started_at, done: rx })
    }

    fn forget_old(jobs: &mut HashMap<String, Job>) {
        let now = Instant::now();
        jobs.retain(|_, j| j.done.borrow().as_ref().is_none_or(|(at, _)| now.duration_since(*at) < KEEP_FINISHED));
        let mut finished: Vec<(Instant, String)> =
            jobs.iter().filter_map(|(id, j)| j.done.borrow().as_ref().map(|(at, _)| (*at, id.clone()))).collect();
        if finished.len() > MAX_FINISHED {
            finished.sort();
            for (_, id) in &finished[..finished.len() - MAX_FINISHED] {
                jobs.remove(id);
            }
        }
    }
}

/// An install job: running, or how it ended.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InstallJob {
    id: String,
    /// `running`, `succeeded` or `failed`.
    state: String,
    /// The plugin id asked for (`id@version` once known, in `result`).
    plugin: String,
    /// When it started (RFC 3339).
    started_at: String,
    /// Where to follow it.
    status_url: String,
    /// The install's result (as the request would have answered) once it succeeded.
    #[schema(value_type = Option<crate::routes::marketplace::Installed>)]
    result: Option<Value>,
    /// The problem document (RFC 9457) once it failed.
    #[schema(value_type = Option<crate::dto::Problem>)]
    problem: Option<Value>,
}

pub(crate) fn status_url(id: &str) -> String {
    format!("/api/v1/plugins/install-jobs/{id}")
}

/// An install job started by the caller: running, or how it ended. Jobs are
/// the caller's own (another administrator's job is not found) and kept for
/// an hour after they end.
#[utoipa::path(get, operation_id = "install_job", path = "/api/v1/plugins/install-jobs/{job}", tag = "plugins",
    params(("job" = String, Path)),
    responses((status = 200, body = InstallJob), (status = "4XX", body = crate::dto::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(job): Path<String>,
) -> ApiResult<Json<InstallJob>> {
    let jobs = s.install_jobs.jobs.lock().unwrap_or_else(|e| e.into_inner());
    let j = jobs.get(&job).filter(|j| j.owner == owner(&p)).ok_or_else(|| {
        ApiError::new(
            &problem::NOT_FOUND,
            "install job not found (jobs are kept for an hour after they end, until a restart)",
        )
    })?;
    let (state, result, problem) = match j.done.borrow().as_ref() {
        None => ("running", None, None),
        Some((_, Ok((_, body)))) => ("succeeded", Some(body.clone()), None),
        Some((_, Err(e))) => ("failed", None, Some(e.body())),
    };
    Ok(Json(InstallJob {
        id: job.clone(),
        state: state.into(),
        plugin: j.plugin.clone(),
        started_at: crate::dto::rfc3339(j.started_at),
        status_url: status_url(&job),
        result,
        problem,
    }))
}

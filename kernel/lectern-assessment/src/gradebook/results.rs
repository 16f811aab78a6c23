//! One attempt's result, for whoever may see the attempt: a student's from
//! the gradebook, a staff preview's from its own tree (previews are graded by
//! the same plugin, through the same bus worker, but never recorded as
//! anyone's grade).

use lectern_host::slots::grading::Graded;

use super::attempts::AttemptResult;
use super::{GradeStatus, QuestionResult, grade_key, summarize};
use crate::assessments::attempts::attempt_key;
use crate::authz::Capability;
use crate::error::CoreError;
use crate::events::AttemptSubmitted;
use crate::{Assessments, Principal};

impl Assessments {
    /// The result of one attempt: its student's (or, with `grade:view-all`,
    /// the course staff's) to read. `NotFound("result")` until it is graded.
    pub fn attempt_result(&self, p: &Principal, assessment: &str, attempt: &str) -> Result<AttemptResult, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, Some(Capability::GradeViewAll))?;
        let t = self.t();
        let found = if at.preview {
            t.preview_results.get(attempt_key(a.institution, &at.id))?
        } else {
            t.grade_attempts
                .get(grade_key(a.institution, a.course, at.student, &a.id))?
                .and_then(|rs| rs.results.into_iter().find(|r| r.attempt == at.id))
        };
        found.ok_or(CoreError::NotFound("result"))
    }

    /// A preview attempt graded by the grading plugin: kept for its
    /// previewer, with the same scaling and penalties as a student's.
    /// Grading the same preview again replaces its result.
    pub async fn record_preview_grade(&self, ev: &AttemptSubmitted, results: &[Graded]) -> Result<(), CoreError> {
        // No hand grades exist for a preview: essays stay `needs_manual_grading`, as a student's would.
        let questions: Vec<QuestionResult> = results.iter().map(QuestionResult::from).collect();
        let (points, max_points, status) = summarize(&questions, ev.item_points);
        self.put_preview(
            ev,
            AttemptResult {
                attempt: ev.attempt.clone(),
                submitted_at: ev.submitted_at,
                points,
                max_points,
                status,
                questions,
                error: None,
            },
        )
        .await
    }

    /// The grading plugin gave up on a preview: the previewer sees why.
    pub async fn record_preview_failure(&self, ev: &AttemptSubmitted, error: &str) -> Result<(), CoreError> {
        self.put_preview(
            ev,
            AttemptResult {
                attempt: ev.attempt.clone(),
                submitted_at: ev.submitted_at,
                points: 0.0,
                max_points: 0.0,
                status: GradeStatus::GradingFailed,
                questions: vec![],
                error: Some(error.to_string()),
            },
        )
        .await
    }

    async fn put_preview(&self, ev: &AttemptSubmitted, r: AttemptResult) -> Result<(), CoreError> {
        self.t().preview_results.insert(attempt_key(ev.institution, &ev.attempt), &r)?;
        self.durable().await?;
        tracing::info!(institution = %ev.institution, attempt = %ev.attempt, status = ?r.status, "preview graded");
        Ok(())
    }
}

//! The gradebook: one current grade per student per item, with its full
//! history (who or what changed it, when and why).
//!
//! Automatic grades arrive from the grading worker (`attempt.submitted` →
//! grading plugin → here); people change grades through [`Assessments::set_grade`]
//! and [`Assessments::regrade`]. Every change stages `grade.recorded` in the same
//! transaction, so the event exists exactly when the grade does. Each
//! attempt's result is kept, and the item's grade is what its grading method
//! makes of them ([`attempts`]).

pub mod attempts;
pub mod manual;
mod reads;
mod results;
pub mod totals;

use lectern_host::slots::grading::Graded;
use lectern_storage::Record;

pub use lectern_domain::events::GradeStatus;
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::{
    self, ActivityScored, AttemptSubmitted, GradeRecorded, GradingFailed, KeyChanges, RegradeReason, topics,
};
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub question_id: String,
    /// The grader's status by its Rust name (`Graded`, `NeedsManualGrading`,
    /// `InvalidResponse`), as stored; read it with [`QuestionResult::status`].
    pub status: String,
    pub points: f64,
    pub max_points: f64,
    pub feedback: Vec<String>,
    pub explanation: Vec<String>,
}

impl From<&Graded> for QuestionResult {
    /// The grading plugin's answer for one question, as the gradebook keeps it.
    fn from(g: &Graded) -> Self {
        QuestionResult {
            question_id: g.question_id.clone(),
            status: format!("{:?}", g.status),
            points: g.points,
            max_points: g.max_points,
            feedback: g.feedback.iter().map(|f| f.message.clone()).collect(),
            explanation: g.explanation.clone(),
        }
    }
}

impl QuestionResult {
    /// The stored status (an unknown name waits for a person).
    pub fn status(&self) -> lectern_host::slots::grading::Status {
        use lectern_host::slots::grading::Status;
        match self.status.as_str() {
            Q_GRADED => Status::Graded,
            Q_INVALID => Status::InvalidResponse,
            _ => Status::NeedsManualGrading,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeChange {
    pub at: i64,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    /// `plugin:<id>@<version>` or `user:<id>`.
    pub by: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeEntry {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub item: String,
    pub student: UserId,
    pub attempt: Option<String>,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    pub questions: Vec<QuestionResult>,
    pub error: Option<String>,
    pub graded_by: String,
    pub revision: u32,
    pub updated_at: i64,
    pub history: Vec<GradeChange>,
}

impl Record for GradeEntry {
    const VERSION: u8 = 1;
}

/// A submitted attempt as graded, kept for regrades and hand grading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSubmission(pub AttemptSubmitted);

impl Record for StoredSubmission {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("no upgrade path from version {version}"));
        }
        let v1: SubmittedV1 = lectern_storage::decode_body(body)?;
        Ok(StoredSubmission(AttemptSubmitted {
            institution: v1.institution,
            course: v1.course,
            item: v1.item,
            attempt: v1.attempt,
            student: v1.student,
            submitted_at: v1.submitted_at,
            submissions: v1.submissions,
            item_points: v1.item_points,
            regrade: v1.regrade,
            preview: false,
        }))
    }
}

/// Version 1 of [`StoredSubmission`]: `attempt.submitted` before `preview`
/// (postcard is positional, so every field is listed in order).
#[derive(Deserialize)]
struct SubmittedV1 {
    institution: InstitutionId,
    course: CourseId,
    item: String,
    attempt: String,
    student: UserId,
    submitted_at: i64,
    submissions: Vec<lectern_host::slots::grading::Submission>,
    item_points: Option<f64>,
    regrade: Option<RegradeReason>,
}

pub(crate) fn grade_key(i: InstitutionId, c: CourseId, student: UserId, item: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), student.bytes(), item.as_bytes()].concat()
}

/// One attempt's submission. (The student part has a fixed length, so the
/// attempt needs no separator.)
pub(crate) fn submission_key(i: InstitutionId, c: CourseId, item: &str, student: UserId, attempt: &str) -> Vec<u8> {
    [legacy_submission_key(i, c, item, student).as_slice(), attempt.as_bytes()].concat()
}

/// Where the student's latest submission was kept before every attempt was
/// (grading methods): read, and removed once its attempt is stored again.
pub(crate) fn legacy_submission_key(i: InstitutionId, c: CourseId, item: &str, student: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), item.as_bytes(), &[0], student.bytes()].concat()
}

/// Item ids are 1–128 characters of letters, digits, `.`, `_`, `-`.
/// Checks a gradebook item id (an assessment id or an outline item id).
pub fn validate_item(item: &str) -> Result<(), CoreError> {
    if item.is_empty() || item.len() > 128 || !item.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err(CoreError::invalid("item", "1–128 letters, digits, `.`, `_` or `-`"));
    }
    Ok(())
}

/// A question result's status as stored (the grader's `Status`, by name).
pub(crate) const Q_GRADED: &str = "Graded";
pub(crate) const Q_NEEDS_MANUAL: &str = "NeedsManualGrading";
const Q_INVALID: &str = "InvalidResponse";

/// Sums question results, scaled to the item's points when given; the entry
/// waits for a person while any question does.
pub(crate) fn summarize(questions: &[QuestionResult], item_points: Option<f64>) -> (f64, f64, GradeStatus) {
    let points: f64 = questions.iter().map(|g| g.points).sum();
    let max: f64 = questions.iter().map(|g| g.max_points).sum();
    let (points, max) = match item_points {
        Some(p) if max > 0.0 && p.is_finite() && p >= 0.0 => (points * p / max, p),
        _ => (points, max),
    };
    let status = if questions.iter().any(|q| q.status == Q_NEEDS_MANUAL) {
        GradeStatus::NeedsManualGrading
    } else {
        GradeStatus::Graded
    };
    (round4(points), round4(max), status)
}

pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `user:<id>` or `client:<id>`: who a person-made change is recorded as.
pub(crate) fn actor(p: &Principal) -> String {
    p.user_id().map_or_else(|| format!("client:{}", p.client_id), |u| format!("user:{u}"))
}

type Compute<'a> = dyn Fn(&lectern_storage::Tx<'_>, Option<&GradeEntry>) -> Result<Option<Change>, lectern_storage::TxFail<CoreError>>
    + 'a;

impl Assessments {
    /// Stores an automatic grade for `ev` unless message `message_id` was already
    /// processed. Returns false for a duplicate. Questions a person already
    /// graded for this attempt keep that grade (see [`manual`]), and a regrade
    /// that changes nothing leaves the grade as it is and notifies no one.
    pub async fn record_automatic_grade(
        &self,
        message_id: &str,
        ev: &AttemptSubmitted,
        results: &[Graded],
        graded_by: &str,
    ) -> Result<bool, CoreError> {
        let questions: Vec<QuestionResult> = results.iter().map(QuestionResult::from).collect();
        let t = self.t();
        let recorded = self.apply_grade_change(
            Some(message_id),
            ev.institution,
            ev.course,
            ev.student,
            &ev.item,
            &|tx, previous| {
                let mut questions = questions.clone();
                manual::overlay(&tx.on(&t.manual_grades)?, ev, &mut questions)?;
                let (points, max_points, status) = summarize(&questions, ev.item_points);
                let result = attempts::AttemptResult {
                    attempt: ev.attempt.clone(),
                    submitted_at: ev.submitted_at,
                    points,
                    max_points,
                    status,
                    questions,
                    error: None,
                };
                let reason = match &ev.regrade {
                    Some(r) => format!("regraded ({}) at the request of {}", r.reason, r.by),
                    None => format!("attempt {} graded automatically ({points} of {max_points})", ev.attempt),
                };
                let counted = self.record_result(tx, ev, previous, result)?;
                // A regrade that changes nothing leaves the grade and tells no one;
                // a new attempt is always recorded in the history, counted or not.
                let Some((c, describe)) = counted else { return Ok(None) };
                if ev.regrade.is_some() && previous.is_some_and(|p| c.matches(p)) {
                    return Ok(None);
                }
                Ok(Some(Change {
                    attempt: c.attempt,
                    points: c.points,
                    max_points: c.max_points,
                    status: c.status,
                    questions: Some(c.questions),
                    error: c.error,
                    by: graded_by.to_string(),
                    reason: format!("{reason}{describe}"),
                }))
            },
        )?;
        self.commit_events().await?;
        Ok(recorded)
    }

    /// Marks an item's grade as failed after the grading worker gave up, and tells instructors.
    pub async fn record_grading_failure(&self, ev: &AttemptSubmitted, error: &str) -> Result<(), CoreError> {
        let failed = GradingFailed {
            institution: ev.institution,
            course: ev.course,
            item: ev.item.clone(),
            student: ev.student,
            attempt: ev.attempt.clone(),
            error: error.to_string(),
        };
        let id = self.env().bus.outbox.next_id().map_err(events::bus_error)?;
        self.apply_grade_change(None, ev.institution, ev.course, ev.student, &ev.item, &|tx, previous| {
            events::stage(&self.env().bus.outbox, tx, id, topics::GRADING_FAILED, &ev.student.to_string(), &failed)?;
            // The attempt keeps the points of its last grading (a regrade that failed), or none.
            let key = grade_key(ev.institution, ev.course, ev.student, &ev.item);
            let before = self.results_in(tx, previous, &key)?.into_iter().find(|r| r.attempt == ev.attempt);
            let result = attempts::AttemptResult {
                attempt: ev.attempt.clone(),
                submitted_at: ev.submitted_at,
                points: before.as_ref().map_or(0.0, |r| r.points),
                max_points: before.as_ref().map_or(0.0, |r| r.max_points),
                status: GradeStatus::GradingFailed,
                questions: before.map(|r| r.questions).unwrap_or_default(),
                error: Some(error.to_string()),
            };
            let Some((c, describe)) = self.record_result(tx, ev, previous, result)? else { return Ok(None) };
            Ok(Some(Change {
                attempt: c.attempt,
                points: c.points,
                max_points: c.max_points,
                status: c.status,
                questions: Some(c.questions),
                error: c.error,
                by: "kernel:grading-worker".into(),
                reason: format!("automatic grading of attempt {} failed: {error}{describe}", ev.attempt),
            }))
        })?;
        self.commit_events().await?;
        Ok(())
    }

    /// Inside the grade's transaction: keeps the submission (for regrades and
    /// hand grading) and the attempt's result, and counts the student's
    /// attempts with the item's grading method. Returns the grade they make
    /// and how the history says so.
    fn record_result(
        &self,
        tx: &lectern_storage::Tx<'_>,
        ev: &AttemptSubmitted,
        previous: Option<&GradeEntry>,
        result: attempts::AttemptResult,
    ) -> Result<Option<(attempts::Counted, String)>, lectern_storage::TxInternal> {
        let (i, c, s) = (ev.institution, ev.course, ev.student);
        let key = grade_key(i, c, s, &ev.item);
        // Read before the submission moves to its own key (a grade from before
        // grading methods finds its attempt's submission time there).
        let mut results = self.results_in(tx, previous, &key)?;
        let subs = tx.on(&self.t().submissions)?;
        subs.insert(submission_key(i, c, &ev.item, s, &ev.attempt), &StoredSubmission(ev.clone()))?;
        let legacy = legacy_submission_key(i, c, &ev.item, s);
        if subs.get(&legacy)?.is_some_and(|x| x.0.attempt == ev.attempt) {
            subs.remove(&legacy)?;
        }
        attempts::put(&mut results, result);
        let method = self.method_in(tx, i, c, &ev.item)?;
        let counted = attempts::count(method, &results).map(|x| {
            let d = x.describe(method, results.len());
            (x, d)
        });
        self.store_results(tx, &key, (i, c, s, &ev.item), results)?;
        Ok(counted)
    }

    /// One transaction: the processed mark (when from a message), then
    /// `compute` (which sees the current entry, may write what goes with the
    /// change, and returns `None` to change nothing), the grade with its
    /// history, and `grade.recorded`. Returns false when nothing was written.
    pub(crate) fn apply_grade_change(
        &self,
        message_id: Option<&str>,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
        item: &str,
        compute: &Compute<'_>,
    ) -> Result<bool, CoreError> {
        let t = self.t();
        let bus = &self.env().bus;
        let now = self.now();
        let event_id = bus.outbox.next_id().map_err(events::bus_error)?;
        let key = grade_key(inst, course, student, item);
        let trees = (&t.grades, &t.submissions, &t.manual_grades, bus.outbox.tree(), bus.processed.tree());
        // The item's attempts and its assessment (for the grading method) are read in here too.
        let counting = (&t.grade_attempts, &t.assessments);
        let r: Result<bool, lectern_storage::TxError<CoreError>> =
            self.store().transaction(&[trees.0, trees.1, trees.2, trees.3, trees.4, counting.0, counting.1], |tx| {
                if let Some(id) = message_id
                    && !bus.processed.first_time(tx, "gradebook", id)?
                {
                    return Ok(false);
                }
                let grades = tx.on(&t.grades)?;
                let previous = grades.get(&key)?;
                let Some(change) = compute(tx, previous.as_ref())? else { return Ok(false) };
                let mut entry = previous.clone().unwrap_or(GradeEntry {
                    institution: inst,
                    course,
                    item: item.to_string(),
                    student,
                    attempt: None,
                    points: 0.0,
                    max_points: 0.0,
                    status: change.status,
                    questions: vec![],
                    error: None,
                    graded_by: String::new(),
                    revision: 0,
                    updated_at: now,
                    history: vec![],
                });
                // A change that carries a result says which attempt counts (none
                // for an average); a grade set by hand leaves that as it was.
                if change.questions.is_some() {
                    entry.attempt = change.attempt.clone();
                }
                entry.points = change.points;
                entry.max_points = change.max_points;
                entry.status = change.status;
                if let Some(q) = &change.questions {
                    entry.questions = q.clone();
                }
                entry.error = change.error.clone();
                entry.graded_by = change.by.clone();
                entry.revision += 1;
                entry.updated_at = now;
                entry.history.push(GradeChange {
                    at: now,
                    points: change.points,
                    max_points: change.max_points,
                    status: change.status,
                    by: change.by.clone(),
                    reason: change.reason.clone(),
                });
                grades.insert(&key, &entry)?;
                if change.status != GradeStatus::GradingFailed {
                    let ev = GradeRecorded {
                        institution: inst,
                        course,
                        item: item.to_string(),
                        student,
                        attempt: entry.attempt.clone(),
                        points: entry.points,
                        max_points: entry.max_points,
                        status: entry.status,
                        previous_points: previous.map(|p| p.points),
                        graded_by: entry.graded_by.clone(),
                        revision: entry.revision,
                        reason: change.reason.clone(),
                    };
                    events::stage(&bus.outbox, tx, event_id, topics::GRADE_RECORDED, &student.to_string(), &ev)?;
                }
                Ok(true)
            });
        Ok(r?)
    }

    /// Records an activity plugin's score (`activity.scored`) unless message
    /// `message_id` was already processed. A learner who is no longer a
    /// student of the course (or a staff member's own practice) is not
    /// graded. Scores of one learner arrive in order (the message key is the
    /// learner), so the latest action's score stands. Returns false when
    /// nothing was written.
    pub async fn record_activity_score(&self, message_id: &str, ev: &ActivityScored) -> Result<bool, CoreError> {
        use lectern_domain::model::CourseRole;
        validate_item(&ev.item)?;
        if self.identity().enrolment_role(ev.institution, ev.course, ev.student)? != Some(CourseRole::Student) {
            tracing::info!(item = %ev.item, student = %ev.student, "activity score for someone who is not a student of the course: not recorded");
            return Ok(false);
        }
        if !(ev.max_points.is_finite()
            && ev.max_points > 0.0
            && ev.points.is_finite()
            && (0.0..=ev.max_points).contains(&ev.points))
        {
            return Err(CoreError::invalid("points", "must be between 0 and max_points"));
        }
        let mut reason = format!("activity action (learner state version {})", ev.state_version);
        if ev.actor != ev.student {
            reason.push_str(&format!(", by user:{}", ev.actor));
        }
        if let Some(f) = ev.feedback.as_deref().filter(|f| !f.is_empty()) {
            reason.push_str(": ");
            reason.push_str(f);
        }
        let change = Change {
            attempt: None,
            points: round4(ev.points),
            max_points: round4(ev.max_points),
            status: GradeStatus::Graded,
            questions: None,
            error: None,
            by: ev.by.clone(),
            reason,
        };
        let written = self.apply_grade_change(
            Some(message_id),
            ev.institution,
            ev.course,
            ev.student,
            &ev.item,
            &|_, previous| {
                // The same score again changes nothing and notifies no one.
                let same = previous.is_some_and(|g| {
                    g.status == GradeStatus::Graded && g.points == change.points && g.max_points == change.max_points
                });
                Ok((!same).then(|| change.clone()))
            },
        )?;
        self.commit_events().await?;
        Ok(written)
    }

    /// Sets a grade by hand (essays, corrections). Needs `grade:edit` and a reason.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_grade(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
        item: &str,
        points: f64,
        max_points: f64,
        reason: &str,
    ) -> Result<attempts::GradeView, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::GradeEdit, ctx)?;
        validate_item(item)?;
        if !(max_points.is_finite() && max_points >= 0.0 && points.is_finite() && (0.0..=max_points).contains(&points))
        {
            return Err(CoreError::invalid("points", "must be a number between 0 and max_points"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(CoreError::invalid("reason", "say why the grade changes (1–1000 characters)"));
        }
        if self.identity().enrolment(inst, course, student)?.is_none() {
            return Err(CoreError::invalid("student", "not enrolled in this course"));
        }
        let change = Change {
            attempt: None,
            points: round4(points),
            max_points: round4(max_points),
            status: GradeStatus::Graded,
            questions: None,
            error: None,
            by: actor(p),
            reason: reason.to_string(),
        };
        self.apply_grade_change(None, inst, course, student, item, &|_, _| Ok(Some(change.clone())))?;
        self.commit_events().await?;
        let entry = self.t().grades.get(grade_key(inst, course, student, item))?.ok_or(CoreError::NotFound("grade"))?;
        self.grade_view(entry)
    }

    /// Regrades every stored submission of `item` through the bus, with `changes`
    /// applied to the answer keys. Returns how many submissions were queued.
    pub async fn regrade(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item: &str,
        changes: &KeyChanges,
        reason: &str,
    ) -> Result<usize, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::GradeEdit, ctx)?;
        validate_item(item)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(CoreError::invalid("reason", "say why (1–1000 characters)"));
        }
        let by = actor(p);
        let prefix = [inst.bytes().as_slice(), course.bytes(), item.as_bytes(), &[0]].concat();
        let stored: Vec<(Vec<u8>, StoredSubmission)> = self.t().submissions.page(&prefix, None, usize::MAX)?;
        for question in changes.keys() {
            if !stored.iter().any(|(_, s)| s.0.submissions.iter().any(|q| &q.question.id == question)) {
                return Err(CoreError::invalid("changes", format!("no submission answers question `{question}`")));
            }
        }
        let t = self.t();
        let bus = &self.env().bus;
        for (key, StoredSubmission(mut ev)) in stored.iter().cloned() {
            for s in &mut ev.submissions {
                if let Some(k) = changes.get(&s.question.id) {
                    s.question.key = k.clone();
                }
            }
            ev.regrade = Some(RegradeReason { by: by.clone(), reason: reason.to_string() });
            let id = bus.outbox.next_id().map_err(events::bus_error)?;
            let r: Result<(), lectern_storage::TxError<CoreError>> =
                self.store().transaction(&[&t.submissions, bus.outbox.tree()], |tx| {
                    tx.on(&t.submissions)?.insert(&key, &StoredSubmission(ev.clone()))?;
                    events::stage(&bus.outbox, tx, id, topics::ATTEMPT_SUBMITTED, &ev.attempt, &ev)?;
                    Ok(())
                });
            r?;
        }
        self.commit_events().await?;
        Ok(stored.len())
    }

    /// Every grade of a course (instructors, TAs), with the grading method
    /// and attempts of each; none of draft assessments.
    pub fn gradebook(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Vec<attempts::GradeView>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::GradeViewAll, ctx)?;
        let prefix = [inst.bytes().as_slice(), course.bytes()].concat();
        self.views(inst, course, self.t().grades.page(&prefix, None, usize::MAX)?.into_iter().map(|(_, g)| g))
    }

    /// The course's assessments by id: whether each is a draft, and its grading method.
    pub(crate) fn course_items(
        &self,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<std::collections::BTreeMap<String, (bool, crate::assessments::GradingMethod)>, CoreError> {
        let mut out = std::collections::BTreeMap::new();
        for row in self.t().assessments.scan_prefix(crate::keys::inst_course(inst, course)) {
            let (_, a) = row?;
            out.insert(a.id.clone(), (a.is_draft(), a.settings.grading_method));
        }
        Ok(out)
    }

    /// Grades as views, leaving out those of draft assessments.
    fn views(
        &self,
        inst: InstitutionId,
        course: CourseId,
        entries: impl Iterator<Item = GradeEntry>,
    ) -> Result<Vec<attempts::GradeView>, CoreError> {
        let items = self.course_items(inst, course)?;
        let mut out = vec![];
        for e in entries {
            match items.get(&e.item) {
                Some((true, _)) => {}
                Some((false, m)) => out.push(self.grade_view_of(e, Some(*m))?),
                None => out.push(self.grade_view_of(e, None)?),
            }
        }
        Ok(out)
    }

    /// One student's grades in a course: their own, or anyone's for staff
    /// (none of draft assessments).
    pub fn student_grades(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<Vec<attempts::GradeView>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        if p.user_id() == Some(student) {
            authorize(p, Capability::GradeViewOwn, ctx)?;
        } else {
            authorize(p, Capability::GradeViewAll, ctx)?;
        }
        let prefix = [inst.bytes().as_slice(), course.bytes(), student.bytes()].concat();
        self.views(inst, course, self.t().grades.page(&prefix, None, usize::MAX)?.into_iter().map(|(_, g)| g))
    }
}

#[derive(Clone)]
pub(crate) struct Change {
    pub(crate) attempt: Option<String>,
    pub(crate) points: f64,
    pub(crate) max_points: f64,
    pub(crate) status: GradeStatus,
    pub(crate) questions: Option<Vec<QuestionResult>>,
    pub(crate) error: Option<String>,
    pub(crate) by: String,
    pub(crate) reason: String,
}

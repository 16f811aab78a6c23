//! Which attempts count: every graded attempt of a student for an item is
//! kept (its points, status and question results, hand grades included), and
//! the item's grade is what the assessment's [`GradingMethod`] makes of them —
//! the highest (the default), the first, the last, or the average.
//!
//! Rules (also in the API documentation):
//! - Attempts are ordered by submission time (then id).
//! - `highest` compares percentages of each attempt's worth; of equals the
//!   earliest counts. `average` is the mean percentage applied to the latest
//!   attempt's worth.
//! - The grade waits (`needs_manual_grading`) or failed (`grading_failed`)
//!   while an attempt the method looks at does: the first or last one, or any
//!   attempt for `highest` and `average` (its points could still change the
//!   outcome). Such a grade does not count towards totals until it is graded.
//! - Grades recorded before grading methods existed hold one attempt (the
//!   latest); it is taken from the grade itself when the next result arrives.

use lectern_storage::{Record, Tx, TxInternal};
use serde::{Deserialize, Serialize};

use super::{GradeEntry, GradeStatus, QuestionResult, grade_key, round4};
use crate::Assessments;
use crate::assessments::{Assessment, GradingMethod, assessment_key};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};

/// One attempt's result, as graded (automatically, then by hand where needed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    pub attempt: String,
    pub submitted_at: i64,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    pub questions: Vec<QuestionResult>,
    /// Why automatic grading failed, when it did.
    pub error: Option<String>,
}

/// Every graded attempt of one student for one item, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptResults {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub item: String,
    pub student: UserId,
    pub results: Vec<AttemptResult>,
}

impl Record for AttemptResult {
    const VERSION: u8 = 1;
}

impl Record for AttemptResults {
    const VERSION: u8 = 1;
}

/// A grade with what makes it: the item's grading method (for assessments)
/// and every graded attempt, marked when it counts.
#[derive(Clone, Debug, PartialEq)]
pub struct GradeView {
    pub entry: GradeEntry,
    pub grading_method: Option<GradingMethod>,
    pub attempts: Vec<(AttemptResult, bool)>,
}

/// What a grading method makes of a student's attempts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Counted {
    /// The attempt whose result is the grade; `None` for an average.
    pub attempt: Option<String>,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    pub questions: Vec<QuestionResult>,
    pub error: Option<String>,
}

impl Counted {
    /// The entry already says exactly this.
    pub(crate) fn matches(&self, e: &GradeEntry) -> bool {
        e.attempt == self.attempt
            && (e.points, e.max_points, e.status) == (self.points, self.max_points, self.status)
            && e.questions == self.questions
    }

    /// How the history says which attempts count.
    pub(crate) fn describe(&self, method: GradingMethod, attempts: usize) -> String {
        match (&self.attempt, attempts) {
            (_, 0 | 1) => String::new(),
            (Some(a), n) => format!("; {} (attempt {a} of {n})", method.describe()),
            (None, n) => format!("; {} ({n} attempts)", method.describe()),
        }
    }
}

fn percent(r: &AttemptResult) -> f64 {
    if r.max_points > 0.0 { r.points / r.max_points } else { 0.0 }
}

fn rank(s: GradeStatus) -> u8 {
    match s {
        GradeStatus::Graded => 0,
        GradeStatus::NeedsManualGrading => 1,
        GradeStatus::GradingFailed => 2,
    }
}

/// The least finished status among `rs`, with the error of the first that failed.
fn least_finished<'a>(rs: impl Iterator<Item = &'a AttemptResult>) -> (GradeStatus, Option<String>) {
    let mut status = GradeStatus::Graded;
    let mut error = None;
    for r in rs {
        if rank(r.status) > rank(status) {
            status = r.status;
        }
        if error.is_none() && r.status == GradeStatus::GradingFailed {
            error = r.error.clone();
        }
    }
    (status, error)
}

/// The grade `method` makes of `results` (oldest first); `None` without any.
pub(crate) fn count(method: GradingMethod, results: &[AttemptResult]) -> Option<Counted> {
    let one = |r: &AttemptResult, (status, error): (GradeStatus, Option<String>)| Counted {
        attempt: Some(r.attempt.clone()),
        points: r.points,
        max_points: r.max_points,
        status,
        questions: r.questions.clone(),
        error,
    };
    match method {
        GradingMethod::First => results.first().map(|r| one(r, least_finished(std::iter::once(r)))),
        GradingMethod::Last => results.last().map(|r| one(r, least_finished(std::iter::once(r)))),
        GradingMethod::Highest => {
            let mut best = results.first()?;
            for r in &results[1..] {
                if percent(r) > percent(best) {
                    best = r;
                }
            }
            Some(one(best, least_finished(results.iter())))
        }
        GradingMethod::Average => {
            let last = results.last()?;
            let mean = results.iter().map(percent).sum::<f64>() / results.len() as f64;
            let (status, error) = least_finished(results.iter());
            Some(Counted {
                attempt: None,
                points: round4(mean * last.max_points),
                max_points: last.max_points,
                status,
                questions: vec![],
                error,
            })
        }
    }
}

/// Puts `r` in place of the result of the same attempt, or adds it, keeping
/// submission order.
pub(crate) fn put(results: &mut Vec<AttemptResult>, r: AttemptResult) {
    results.retain(|x| x.attempt != r.attempt);
    results.push(r);
    results.sort_by(|a, b| (a.submitted_at, &a.attempt).cmp(&(b.submitted_at, &b.attempt)));
}

/// The attempts of a grade recorded before grading methods: the one attempt
/// the entry holds (submitted at `submitted_at`, if known).
pub(crate) fn from_entry(e: &GradeEntry, submitted_at: Option<i64>) -> Vec<AttemptResult> {
    match &e.attempt {
        Some(a) if !e.questions.is_empty() => vec![AttemptResult {
            attempt: a.clone(),
            submitted_at: submitted_at.unwrap_or(e.updated_at),
            points: e.points,
            max_points: e.max_points,
            status: e.status,
            questions: e.questions.clone(),
            error: e.error.clone(),
        }],
        _ => vec![],
    }
}

impl Assessments {
    /// The grading method of `item` in the course: the assessment's, or the
    /// default for items that are not assessments. Read inside the grade's
    /// transaction, so a change of method and a new result never cross.
    pub(crate) fn method_in(
        &self,
        tx: &Tx<'_>,
        inst: InstitutionId,
        course: CourseId,
        item: &str,
    ) -> Result<GradingMethod, TxInternal> {
        let a = tx.on(&self.t().assessments)?.get(assessment_key(inst, course, item))?;
        Ok(a.map(|a| a.settings.grading_method).unwrap_or_default())
    }

    /// A student's graded attempts for an item, inside a transaction (taken
    /// from the entry when it predates grading methods).
    pub(crate) fn results_in(
        &self,
        tx: &Tx<'_>,
        entry: Option<&GradeEntry>,
        key: &[u8],
    ) -> Result<Vec<AttemptResult>, TxInternal> {
        if let Some(r) = tx.on(&self.t().grade_attempts)?.get(key)? {
            return Ok(r.results);
        }
        let Some(e) = entry else { return Ok(vec![]) };
        let submitted = match &e.attempt {
            Some(a) => tx
                .on(&self.t().submissions)?
                .get(super::legacy_submission_key(e.institution, e.course, &e.item, e.student))?
                .filter(|s| &s.0.attempt == a)
                .map(|s| s.0.submitted_at),
            None => None,
        };
        Ok(from_entry(e, submitted))
    }

    /// Stores a student's graded attempts for an item (inside a transaction).
    pub(crate) fn store_results(
        &self,
        tx: &Tx<'_>,
        entry_key: &[u8],
        (inst, course, student, item): (InstitutionId, CourseId, UserId, &str),
        results: Vec<AttemptResult>,
    ) -> Result<(), TxInternal> {
        let r = AttemptResults { institution: inst, course, item: item.to_owned(), student, results };
        tx.on(&self.t().grade_attempts)?.insert(entry_key, &r)
    }

    /// A student's graded attempts for an item, outside a transaction.
    pub(crate) fn results_of(&self, e: &GradeEntry) -> Result<Vec<AttemptResult>, CoreError> {
        let key = grade_key(e.institution, e.course, e.student, &e.item);
        if let Some(r) = self.t().grade_attempts.get(&key)? {
            return Ok(r.results);
        }
        let submitted = self
            .t()
            .submissions
            .get(super::legacy_submission_key(e.institution, e.course, &e.item, e.student))?
            .filter(|s| Some(&s.0.attempt) == e.attempt.as_ref())
            .map(|s| s.0.submitted_at);
        Ok(from_entry(e, submitted))
    }

    /// The grade with its method and attempts.
    pub(crate) fn grade_view_of(
        &self,
        entry: GradeEntry,
        method: Option<GradingMethod>,
    ) -> Result<GradeView, CoreError> {
        let results = self.results_of(&entry)?;
        let attempts = results
            .into_iter()
            .map(|r| {
                let counts = method == Some(GradingMethod::Average) || entry.attempt.as_deref() == Some(&r.attempt);
                (r, counts)
            })
            .collect();
        Ok(GradeView { entry, grading_method: method, attempts })
    }

    /// The grade with its method, for an entry of `item` (an assessment or not).
    pub(crate) fn grade_view(&self, entry: GradeEntry) -> Result<GradeView, CoreError> {
        let key = assessment_key(entry.institution, entry.course, &entry.item);
        let method = self.t().assessments.get(key)?.map(|a| a.settings.grading_method);
        self.grade_view_of(entry, method)
    }

    /// Counts every student's attempts at `a` again (after its grading method
    /// changed); grades that change are recorded, with `grade.recorded`.
    pub(crate) async fn recount_grades(&self, a: &Assessment, by: &str) -> Result<(), CoreError> {
        let (inst, course) = (a.institution, a.course);
        let mut students = vec![];
        for row in self.t().grade_attempts.scan_prefix(crate::keys::inst_course(inst, course)) {
            let (_, r) = row?;
            if r.item == a.id {
                students.push(r.student);
            }
        }
        for student in students {
            self.apply_grade_change(None, inst, course, student, &a.id, &|tx, previous| {
                let key = grade_key(inst, course, student, &a.id);
                let results = self.results_in(tx, previous, &key)?;
                let method = self.method_in(tx, inst, course, &a.id)?;
                let Some(c) = count(method, &results) else { return Ok(None) };
                if previous.is_some_and(|p| c.matches(p)) {
                    return Ok(None);
                }
                Ok(Some(super::Change {
                    reason: format!("grading method changed{}", c.describe(method, results.len())),
                    attempt: c.attempt,
                    points: c.points,
                    max_points: c.max_points,
                    status: c.status,
                    questions: Some(c.questions),
                    error: c.error,
                    by: by.to_owned(),
                }))
            })?;
        }
        self.commit_events().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(attempt: &str, at: i64, points: f64, status: GradeStatus) -> AttemptResult {
        AttemptResult {
            attempt: attempt.into(),
            submitted_at: at,
            points,
            max_points: 5.0,
            status,
            questions: vec![],
            error: (status == GradeStatus::GradingFailed).then(|| "boom".into()),
        }
    }

    /// `results` → (counted attempt, points, status) for `method`.
    fn check(method: GradingMethod, results: &[AttemptResult], expected: Option<(Option<&str>, f64, GradeStatus)>) {
        let got = count(method, results).map(|c| (c.attempt, c.points, c.status));
        let expected = expected.map(|(a, p, s)| (a.map(str::to_owned), p, s));
        assert_eq!(got, expected, "{method:?} of {results:?}");
    }

    #[test]
    fn each_method_counts_its_attempts() {
        use GradeStatus::*;
        use GradingMethod::*;
        let two = [r("a", 1, 5.0, Graded), r("b", 2, 2.0, Graded)];
        check(Highest, &two, Some((Some("a"), 5.0, Graded)));
        check(Last, &two, Some((Some("b"), 2.0, Graded)));
        check(First, &two, Some((Some("a"), 5.0, Graded)));
        check(Average, &two, Some((None, 3.5, Graded)));
        for m in [Highest, Last, First, Average] {
            check(m, &[], None);
        }
        // Of equal attempts the earliest counts.
        check(Highest, &[r("a", 1, 3.0, Graded), r("b", 2, 3.0, Graded)], Some((Some("a"), 3.0, Graded)));
        // `highest` compares percentages, not points, when the worth changed.
        let mut worth_more = r("b", 2, 6.0, Graded);
        worth_more.max_points = 20.0;
        check(Highest, &[r("a", 1, 4.0, Graded), worth_more.clone()], Some((Some("a"), 4.0, Graded)));
        check(Average, &[r("a", 1, 4.0, Graded), worth_more], Some((None, 11.0, Graded)));
    }

    #[test]
    fn a_grade_waits_while_an_attempt_it_depends_on_does() {
        use GradeStatus::*;
        use GradingMethod::*;
        let waiting = [r("a", 1, 5.0, Graded), r("b", 2, 2.0, NeedsManualGrading)];
        check(Highest, &waiting, Some((Some("a"), 5.0, NeedsManualGrading)));
        check(Average, &waiting, Some((None, 3.5, NeedsManualGrading)));
        check(First, &waiting, Some((Some("a"), 5.0, Graded)));
        check(Last, &waiting, Some((Some("b"), 2.0, NeedsManualGrading)));
        let failed = [r("a", 1, 5.0, Graded), r("b", 2, 0.0, GradingFailed), r("c", 3, 1.0, NeedsManualGrading)];
        check(Highest, &failed, Some((Some("a"), 5.0, GradingFailed)));
        assert_eq!(count(Highest, &failed).unwrap().error.as_deref(), Some("boom"));
        check(Last, &failed, Some((Some("c"), 1.0, NeedsManualGrading)));
    }

    #[test]
    fn results_keep_submission_order_and_one_per_attempt() {
        let mut rs = vec![];
        put(&mut rs, r("b", 2, 1.0, GradeStatus::Graded));
        put(&mut rs, r("a", 1, 1.0, GradeStatus::Graded));
        put(&mut rs, r("b", 2, 4.0, GradeStatus::Graded));
        let order: Vec<(&str, f64)> = rs.iter().map(|x| (x.attempt.as_str(), x.points)).collect();
        assert_eq!(order, [("a", 1.0), ("b", 4.0)]);
    }
}

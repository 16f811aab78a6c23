//! Grading by a person: the queue of questions that wait for one (essays, and
//! questions whose key the grader could not apply) and grades given with a
//! rubric.
//!
//! A manual grade is stored per (item, student, question, attempt) with the
//! rubric it was given against, and a version. It is written in the same
//! transaction as the attempt's result and the grade entry it changes (and
//! its `grade.recorded`). Any graded attempt can be graded by hand: the
//! item's grading method decides whether it counts.
//! Every automatic (re)grade of the same attempt re-applies it while the
//! question's rubric and worth are unchanged, so a regrade never wipes a
//! person's grade; a changed rubric sends the question back to the queue (the
//! earlier grade stays in the entry's history). Penalties (tries, hints) are
//! not applied to a person's points: the grader decides the points.

use std::collections::BTreeMap;

use lectern_host::slots::grading::{AnswerKey, Question, Response, RubricCriterion};
use lectern_storage::{Record, TxInternal, TxTree, abort};
use serde::{Deserialize, Serialize};

use super::attempts::{AttemptResult, GradeView};
use super::{
    Change, Q_GRADED, Q_NEEDS_MANUAL, QuestionResult, StoredSubmission, actor, grade_key, legacy_submission_key,
    submission_key, summarize,
};
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::AttemptSubmitted;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};

/// A person's grade for one question of one attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualGrade {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub item: String,
    pub student: UserId,
    pub attempt: String,
    pub question: String,
    /// Points per rubric criterion.
    pub criteria: BTreeMap<String, f64>,
    pub comment: String,
    /// The rubric the grade was given against (a changed rubric voids it).
    pub rubric: Vec<RubricCriterion>,
    /// The question's points: the criteria's sum, scaled to the question's worth.
    pub points: f64,
    pub max_points: f64,
    pub by: String,
    pub at: i64,
    /// 1 for the first grade; send the version you saw to change it.
    pub version: u32,
}

impl Record for ManualGrade {
    const VERSION: u8 = 1;
}

/// A question waiting for a person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueEntry {
    pub student: UserId,
    pub attempt: String,
    pub submitted_at: i64,
    pub question_id: String,
    pub prompt: String,
    /// The essay text, for an essay.
    pub essay: Option<String>,
    /// The stored response, whatever its kind.
    pub response: Option<Response>,
    pub rubric: Vec<RubricCriterion>,
    pub max_points: f64,
    /// The grader's explanation (why it waits).
    pub explanation: Vec<String>,
    /// The version to send with the grade (0: never graded by a person).
    pub version: u32,
}

/// A grade given with the rubric.
#[derive(Clone, Debug, PartialEq)]
pub struct RubricGrade {
    pub criteria: BTreeMap<String, f64>,
    pub comment: String,
    /// The version of the question's manual grade the grader saw (0: none).
    pub version: u32,
}

/// Question ids have no 0 byte (see `validate_item`), so the attempt follows one.
fn manual_key(i: InstitutionId, c: CourseId, item: &str, student: UserId, question: &str, attempt: &str) -> Vec<u8> {
    [legacy_manual_key(i, c, item, student, question).as_slice(), &[0], attempt.as_bytes()].concat()
}

/// Where a question's hand grade was kept, for one attempt at a time, before
/// every attempt's result was (grading methods): still read for its attempt.
fn legacy_manual_key(i: InstitutionId, c: CourseId, item: &str, student: UserId, question: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), item.as_bytes(), &[0], student.bytes(), question.as_bytes()].concat()
}

/// The hand grade of one question of one attempt, and the key it is under.
fn find_manual(
    tree: &TxTree<'_, ManualGrade>,
    keys: (InstitutionId, CourseId, &str, UserId),
    question: &str,
    attempt: &str,
) -> Result<Option<(Vec<u8>, ManualGrade)>, TxInternal> {
    let (i, c, item, student) = keys;
    let key = manual_key(i, c, item, student, question, attempt);
    if let Some(m) = tree.get(&key)? {
        return Ok(Some((key, m)));
    }
    let legacy = legacy_manual_key(i, c, item, student, question);
    Ok(tree.get(&legacy)?.filter(|m| m.attempt == attempt).map(|m| (legacy, m)))
}

/// The rubric a person grades a question with: the essay's criteria, or one
/// criterion `points` worth the question's points when there are none (an
/// essay without a rubric, a question whose key the grader could not apply).
pub fn rubric_of(q: &Question) -> Vec<RubricCriterion> {
    match &q.key {
        AnswerKey::Essay(r) if !r.is_empty() => r.clone(),
        _ => vec![RubricCriterion {
            id: "points".into(),
            description: "Points for this question".into(),
            points: if q.points.is_finite() { q.points.max(0.0) } else { 0.0 },
        }],
    }
}

fn round9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// The criteria's sum, scaled from the rubric's total to the question's worth.
fn scaled(criteria: &BTreeMap<String, f64>, rubric: &[RubricCriterion], max_points: f64) -> f64 {
    let raw: f64 = criteria.values().sum();
    let total: f64 = rubric.iter().map(|c| c.points).sum();
    if total > 0.0 { round9((raw * max_points / total).clamp(0.0, max_points)) } else { 0.0 }
}

fn check_criteria(criteria: &BTreeMap<String, f64>, rubric: &[RubricCriterion]) -> Result<(), CoreError> {
    for (id, v) in criteria {
        let Some(c) = rubric.iter().find(|c| &c.id == id) else {
            return Err(CoreError::invalid("criteria", format!("the rubric has no criterion `{id}`")));
        };
        if !v.is_finite() || *v < 0.0 || *v > c.points {
            return Err(CoreError::invalid("criteria", format!("`{id}`: between 0 and {} points", c.points)));
        }
    }
    if let Some(c) = rubric.iter().find(|c| !criteria.contains_key(&c.id)) {
        return Err(CoreError::invalid("criteria", format!("criterion `{}` is not scored", c.id)));
    }
    Ok(())
}

fn question_result(m: &ManualGrade) -> QuestionResult {
    let mut explanation = vec![format!("graded by a person ({}) with the rubric", m.by)];
    for c in &m.rubric {
        let got = m.criteria.get(&c.id).copied().unwrap_or(0.0);
        explanation.push(format!("criterion `{}`: {got} of {} points", c.id, c.points));
    }
    explanation.push(format!("points: {} of {}", m.points, m.max_points));
    QuestionResult {
        question_id: m.question.clone(),
        status: Q_GRADED.into(),
        points: m.points,
        max_points: m.max_points,
        feedback: if m.comment.is_empty() { vec![] } else { vec![m.comment.clone()] },
        explanation,
    }
}

/// Puts back a person's grade on results that wait for one, when it was
/// given for this attempt against the same rubric and worth.
pub(crate) fn overlay(
    tree: &TxTree<'_, ManualGrade>,
    ev: &AttemptSubmitted,
    questions: &mut [QuestionResult],
) -> Result<(), TxInternal> {
    for q in questions.iter_mut().filter(|q| q.status == Q_NEEDS_MANUAL) {
        let Some(s) = ev.submissions.iter().find(|s| s.question.id == q.question_id) else { continue };
        let keys = (ev.institution, ev.course, ev.item.as_str(), ev.student);
        if let Some((_, m)) = find_manual(tree, keys, &q.question_id, &ev.attempt)?
            && m.rubric == rubric_of(&s.question)
            && m.max_points == q.max_points
        {
            *q = question_result(&m);
        }
    }
    Ok(())
}

impl Assessments {
    /// Every question of an assessment that waits for a person, oldest submission first (graders).
    pub fn manual_queue(&self, p: &Principal, assessment: &str) -> Result<Vec<QueueEntry>, CoreError> {
        let a = self.load_assessment(assessment)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::GradeEdit, ctx)?;
        let (inst, course) = (a.institution, a.course);
        let manual = &self.t().manual_grades;
        let mut out = vec![];
        for row in self.t().grades.scan_prefix(crate::keys::inst_course(inst, course)) {
            let (_, g) = row?;
            if g.item != a.id {
                continue;
            }
            // Every attempt that waits, whether it counts now or not: the
            // grading method may make it count once graded.
            for r in self.results_of(&g)? {
                if !r.questions.iter().any(|q| q.status == Q_NEEDS_MANUAL) {
                    continue;
                }
                let Some(ev) = self.stored_submission(inst, course, &a.id, g.student, &r.attempt)? else { continue };
                self.queue_attempt(&a, &r, &ev, manual, &mut out)?;
            }
        }
        out.sort_by(|x, y| {
            (x.submitted_at, &x.attempt, &x.question_id).cmp(&(y.submitted_at, &y.attempt, &y.question_id))
        });
        Ok(out)
    }

    /// One attempt's submission, wherever it is kept.
    fn stored_submission(
        &self,
        inst: InstitutionId,
        course: CourseId,
        item: &str,
        student: UserId,
        attempt: &str,
    ) -> Result<Option<AttemptSubmitted>, CoreError> {
        let subs = &self.t().submissions;
        if let Some(StoredSubmission(ev)) = subs.get(submission_key(inst, course, item, student, attempt))? {
            return Ok(Some(ev));
        }
        Ok(subs
            .get(legacy_submission_key(inst, course, item, student))?
            .map(|s| s.0)
            .filter(|ev| ev.attempt == attempt))
    }

    /// The questions of one attempt that wait for a person, into `out`.
    fn queue_attempt(
        &self,
        a: &crate::assessments::Assessment,
        r: &AttemptResult,
        ev: &AttemptSubmitted,
        manual: &lectern_storage::Tree<ManualGrade>,
        out: &mut Vec<QueueEntry>,
    ) -> Result<(), CoreError> {
        let (inst, course, student) = (a.institution, a.course, ev.student);
        for q in r.questions.iter().filter(|q| q.status == Q_NEEDS_MANUAL) {
            let Some(s) = ev.submissions.iter().find(|s| s.question.id == q.question_id) else { continue };
            let version = match manual.get(manual_key(inst, course, &a.id, student, &q.question_id, &r.attempt))? {
                Some(m) => m.version,
                None => manual
                    .get(legacy_manual_key(inst, course, &a.id, student, &q.question_id))?
                    .filter(|m| m.attempt == r.attempt)
                    .map_or(0, |m| m.version),
            };
            out.push(QueueEntry {
                student,
                attempt: ev.attempt.clone(),
                submitted_at: ev.submitted_at,
                question_id: q.question_id.clone(),
                prompt: a
                    .questions
                    .iter()
                    .find(|x| x.id == q.question_id)
                    .map(|x| x.prompt.clone())
                    .unwrap_or_default(),
                essay: match &s.response {
                    Some(Response::Essay(t)) => Some(t.clone()),
                    _ => None,
                },
                response: s.response.clone(),
                rubric: rubric_of(&s.question),
                max_points: q.max_points,
                explanation: q.explanation.clone(),
                version,
            });
        }
        Ok(())
    }

    /// Grades one question of an attempt with the rubric (`grade:edit`). The
    /// question must wait for a person or have been graded by one for this
    /// attempt; `version` must be the manual grade's current version (so two
    /// graders cannot silently overwrite each other), and the same request
    /// repeated changes nothing.
    pub async fn grade_by_rubric(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        question: &str,
        g: RubricGrade,
    ) -> Result<(GradeView, ManualGrade), CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, Some(Capability::GradeViewAll))?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::GradeEdit, ctx)?;
        let (inst, course, student) = (a.institution, a.course, at.student);
        let comment = g.comment.trim().to_string();
        if comment.chars().count() > 10_000 {
            return Err(CoreError::invalid("comment", "at most 10,000 characters"));
        }
        let Some(ev) = self.stored_submission(inst, course, &a.id, student, attempt)? else {
            return Err(CoreError::Conflict("the attempt has not been graded yet".into()));
        };
        let sub = ev.submissions.iter().find(|s| s.question.id == question).ok_or(CoreError::NotFound("question"))?;
        let rubric = rubric_of(&sub.question);
        check_criteria(&g.criteria, &rubric)?;
        let by = actor(p);
        let now = self.now();
        let mkey = manual_key(inst, course, &a.id, student, question, attempt);
        let gkey = grade_key(inst, course, student, &a.id);
        let t = self.t();
        self.apply_grade_change(None, inst, course, student, &a.id, &|tx, previous| {
            let mut results = self.results_in(tx, previous, &gkey)?;
            let Some(ri) = results.iter().position(|r| r.attempt == attempt) else {
                return abort(CoreError::Conflict("the attempt has not been graded yet".into()));
            };
            let Some(qi) = results[ri].questions.iter().position(|q| q.question_id == question) else {
                return abort(CoreError::NotFound("question"));
            };
            let manual = tx.on(&t.manual_grades)?;
            let current = find_manual(&manual, (inst, course, &a.id, student), question, attempt)?;
            let current_version = current.as_ref().map_or(0, |(_, m)| m.version);
            if g.version != current_version {
                if let Some((_, c)) = &current
                    && c.version == g.version.saturating_add(1)
                    && (&c.criteria, &c.comment, &c.by) == (&g.criteria, &comment, &by)
                {
                    return Ok(None); // the same grade, sent again
                }
                return abort(CoreError::PreconditionFailed { current: u64::from(current_version) });
            }
            let q = &results[ri].questions[qi];
            let by_person = current.as_ref().is_some_and(|(_, c)| c.rubric == rubric);
            if q.status != Q_NEEDS_MANUAL && !by_person {
                return abort(CoreError::Conflict(
                    "this question was graded automatically: correct it with a regrade or by setting the grade".into(),
                ));
            }
            let m = ManualGrade {
                institution: inst,
                course,
                item: a.id.clone(),
                student,
                attempt: attempt.to_string(),
                question: question.to_string(),
                criteria: g.criteria.clone(),
                comment: comment.clone(),
                rubric: rubric.clone(),
                points: scaled(&g.criteria, &rubric, q.max_points),
                max_points: q.max_points,
                by: by.clone(),
                at: now,
                version: current_version + 1,
            };
            if let Some((old_key, _)) = &current
                && old_key != &mkey
            {
                manual.remove(old_key)?;
            }
            manual.insert(&mkey, &m)?;
            let r = &mut results[ri];
            r.questions[qi] = question_result(&m);
            (r.points, r.max_points, r.status) = summarize(&r.questions, ev.item_points);
            let method = self.method_in(tx, inst, course, &a.id)?;
            let Some(c) = super::attempts::count(method, &results) else { return Ok(None) };
            let describe = c.describe(method, results.len());
            self.store_results(tx, &gkey, (inst, course, student, &a.id), results)?;
            Ok(Some(Change {
                attempt: c.attempt,
                points: c.points,
                max_points: c.max_points,
                status: c.status,
                questions: Some(c.questions),
                error: c.error,
                by: by.clone(),
                reason: format!(
                    "question `{question}` of attempt {attempt} graded by hand with the rubric ({} of {}){describe}",
                    m.points, m.max_points
                ),
            }))
        })?;
        self.commit_events().await?;
        let entry = t.grades.get(&gkey)?.ok_or(CoreError::NotFound("grade"))?;
        let m = t.manual_grades.get(&mkey)?.ok_or(CoreError::NotFound("manual grade"))?;
        Ok((self.grade_view(entry)?, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric() -> Vec<RubricCriterion> {
        vec![
            RubricCriterion { id: "thesis".into(), description: "Thesis".into(), points: 4.0 },
            RubricCriterion { id: "evidence".into(), description: "Evidence".into(), points: 6.0 },
        ]
    }

    fn check(criteria: &[(&str, f64)], max: f64, expected: Result<f64, &str>) {
        let c: BTreeMap<String, f64> = criteria.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        match (check_criteria(&c, &rubric()), expected) {
            (Ok(()), Ok(points)) => assert_eq!(scaled(&c, &rubric(), max), points),
            (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{e}"),
            (got, want) => panic!("{criteria:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn rubric_points_are_checked_and_scaled_to_the_question() {
        check(&[("thesis", 3.0), ("evidence", 5.0)], 10.0, Ok(8.0));
        check(&[("thesis", 3.0), ("evidence", 5.0)], 5.0, Ok(4.0));
        check(&[("thesis", 0.0), ("evidence", 0.0)], 10.0, Ok(0.0));
        check(&[("thesis", 4.5), ("evidence", 5.0)], 10.0, Err("between 0 and 4"));
        check(&[("thesis", -1.0), ("evidence", 5.0)], 10.0, Err("between 0 and 4"));
        check(&[("thesis", f64::NAN), ("evidence", 5.0)], 10.0, Err("between 0 and 4"));
        check(&[("thesis", 1.0)], 10.0, Err("`evidence` is not scored"));
        check(&[("thesis", 1.0), ("evidence", 1.0), ("style", 1.0)], 10.0, Err("no criterion `style`"));
    }

    #[test]
    fn a_question_without_a_rubric_has_one_criterion_worth_its_points() {
        let q = Question { id: "q".into(), key: AnswerKey::Essay(vec![]), points: 3.0 };
        assert_eq!(rubric_of(&q).len(), 1);
        assert_eq!(rubric_of(&q)[0].points, 3.0);
        let q = Question { id: "q".into(), key: AnswerKey::Essay(rubric()), points: 3.0 };
        assert_eq!(rubric_of(&q), rubric());
    }
}

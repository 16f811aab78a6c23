//! Course completion: a rule on the course (required items, minimum score),
//! checked whenever a grade is recorded. Meeting it stages `course.completed`
//! once per student and course, whatever the number of grade events (the
//! stored completion is the event itself).

use std::collections::BTreeSet;

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::{self, CourseCompleted, topics};
use crate::gradebook::{GradeStatus, grade_key, validate_item};
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};

/// What a completion rule's validation needs to know of one item of the
/// course's outline (the content context supplies these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineItemRef {
    pub id: String,
    /// The item's kind in lower case (`page`, `video`, `assessment`, ...).
    pub kind: String,
    /// The assessment an assessment item embeds.
    pub assessment: Option<String>,
    /// Graded under its own id (an activity whose kind reports scores).
    pub graded: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionRule {
    /// Gradebook items that must all be graded (not pending manual grading,
    /// not failed): see [`Assessments::set_completion_rule`] for which ids count.
    pub required_items: Vec<String>,
    /// Minimum percentage of the required items' points, 0–100.
    pub min_percent: f64,
    pub updated_at: i64,
}

impl Record for CompletionRule {
    const VERSION: u8 = 1;
}

fn course_key(i: InstitutionId, c: CourseId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes()].concat()
}

fn completion_key(i: InstitutionId, c: CourseId, s: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), s.bytes()].concat()
}

impl Assessments {
    /// Sets the course's completion rule (`course:edit`).
    ///
    /// The rule is met by grades, so it names gradebook items of the course:
    /// its assessments (by assessment id — the `assessment` an assessment
    /// item of the outline names, not that item's own id), its graded
    /// activity items (by item id) and items already graded in it (grades
    /// entered by hand). Any other id is refused: no
    /// grade is ever recorded under it, so the rule could never be met and
    /// would hold back every credential of the course.
    pub async fn set_completion_rule(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        required_items: Vec<String>,
        min_percent: f64,
        outline: &[OutlineItemRef],
    ) -> Result<CompletionRule, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        if required_items.is_empty() || required_items.len() > 500 {
            return Err(CoreError::invalid("required_items", "list 1–500 items"));
        }
        for i in &required_items {
            validate_item(i)?;
        }
        if !(0.0..=100.0).contains(&min_percent) {
            return Err(CoreError::invalid("min_percent", "must be between 0 and 100"));
        }
        let mut items = required_items;
        items.sort();
        items.dedup();
        self.check_gradebook_items(inst, course, &items, outline)?;
        let rule = CompletionRule { required_items: items, min_percent, updated_at: self.now() };
        self.t().completion_rules.insert(course_key(inst, course), &rule)?;
        self.durable().await?;
        Ok(rule)
    }

    /// Refuses every id of `items` that is not a gradebook item of the course,
    /// naming them all (with a hint when one is a content item).
    fn check_gradebook_items(
        &self,
        inst: InstitutionId,
        course: CourseId,
        items: &[String],
        outline: &[OutlineItemRef],
    ) -> Result<(), CoreError> {
        let t = self.t();
        let prefix = course_key(inst, course);
        let mut unknown: BTreeSet<&str> = items.iter().map(String::as_str).collect();
        for row in t.assessments.scan_prefix(&prefix) {
            unknown.remove(row?.1.id.as_str());
        }
        for item in outline {
            if let Some(assessment) = &item.assessment {
                unknown.remove(assessment.as_str());
            }
            if item.graded {
                unknown.remove(item.id.as_str());
            }
        }
        if !unknown.is_empty() {
            for row in t.grades.scan_prefix(&prefix) {
                unknown.remove(row?.1.item.as_str());
                if unknown.is_empty() {
                    break;
                }
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        let named: Vec<String> = unknown
            .into_iter()
            .map(|id| match outline.iter().find(|i| i.id == id) {
                Some(OutlineItemRef { assessment: Some(assessment), .. }) => {
                    format!("`{id}` (a content item: its grades are under its assessment `{assessment}`)")
                }
                Some(item) => format!("`{id}` (a {} content item, which is not graded)", item.kind),
                None => format!("`{id}`"),
            })
            .collect();
        Err(CoreError::invalid(
            "required_items",
            format!(
                "names no gradebook item of this course: {}; name the course's assessments (by assessment id) \
                 or items already graded by hand",
                named.join(", ")
            ),
        ))
    }

    pub fn completion_rule(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Option<CompletionRule>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        Ok(self.t().completion_rules.get(course_key(inst, course))?)
    }

    /// Checks the rule for one student after a grade changed (the completion worker).
    /// Stages `course.completed` the first time the rule is met. Returns whether it did.
    pub async fn evaluate_completion(
        &self,
        message_id: &str,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<bool, CoreError> {
        let Some(rule) = self.t().completion_rules.get(course_key(inst, course))? else { return Ok(false) };
        let t = self.t();
        let bus = &self.env().bus;
        let event_id = bus.outbox.next_id().map_err(events::bus_error)?;
        let now = self.now();
        let r: Result<bool, lectern_storage::TxError<CoreError>> =
            self.store().transaction(&[&t.grades, &t.completions, bus.outbox.tree(), bus.processed.tree()], |tx| {
                if !bus.processed.first_time(tx, "completion", message_id)? {
                    return Ok(false);
                }
                let completions = tx.on(&t.completions)?;
                let key = completion_key(inst, course, student);
                if completions.get(&key)?.is_some() {
                    return Ok(false);
                }
                let grades = tx.on(&t.grades)?;
                let (mut points, mut max) = (0.0, 0.0);
                for item in &rule.required_items {
                    match grades.get(grade_key(inst, course, student, item))? {
                        Some(g) if g.status == GradeStatus::Graded => {
                            points += g.points;
                            max += g.max_points;
                        }
                        _ => return Ok(false),
                    }
                }
                let percent = if max > 0.0 { (points / max * 100.0 * 100.0).round() / 100.0 } else { 100.0 };
                if percent < rule.min_percent {
                    return Ok(false);
                }
                let ev = CourseCompleted { institution: inst, course, student, percent, completed_at: now };
                completions.insert(&key, &ev)?;
                events::stage(&bus.outbox, tx, event_id, topics::COURSE_COMPLETED, &student.to_string(), &ev)?;
                Ok(true)
            });
        let done = r?;
        if done {
            self.commit_events().await?;
        }
        Ok(done)
    }

    /// Whether `student` completed `course`, and with what score.
    pub fn completion(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<Option<CourseCompleted>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        let cap = if p.user_id() == Some(student) { Capability::GradeViewOwn } else { Capability::GradeViewAll };
        authorize(p, cap, ctx)?;
        Ok(self.t().completions.get(completion_key(inst, course, student))?)
    }
}

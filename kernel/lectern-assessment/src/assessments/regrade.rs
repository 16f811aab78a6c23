//! Regrading an assessment after a key change: the assessment's stored keys
//! change (so attempts submitted from now on use them) and every stored
//! submission is queued for grading again through the bus, in one
//! transaction. The grading worker then records the new grades; students
//! whose grade changes are notified through `grade.recorded`, and grades a
//! person gave (essays) are kept (see `gradebook::manual`).

use lectern_host::slots::grading::AnswerKey;
use lectern_storage::abort;

use super::{Assessment, assessment_key, check_questions, kind_name};
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::{self, KeyChanges, RegradeReason, topics};
use crate::gradebook::{StoredSubmission, actor};
use crate::{Assessments, Principal};

/// What a regrade queued.
#[derive(Clone, Debug, PartialEq)]
pub struct Regraded {
    pub assessment: Assessment,
    /// Submissions sent to the grader again.
    pub queued: usize,
}

impl Assessments {
    /// Replaces answer keys of an assessment and regrades every stored
    /// submission (`course:edit` and `grade:edit`). A key must keep its
    /// question's kind (a different kind is a different question).
    pub async fn regrade_assessment(
        &self,
        p: &Principal,
        id: &str,
        keys: &KeyChanges,
        reason: &str,
        if_version: Option<u64>,
    ) -> Result<Regraded, CoreError> {
        let a = self.load_assessment(id)?;
        let (inst, course) = (a.institution, a.course);
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        authorize(p, Capability::GradeEdit, ctx)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(CoreError::invalid("reason", "say why the keys change (1–1000 characters)"));
        }
        if keys.is_empty() {
            return Err(CoreError::invalid("keys", "give at least one question's new key"));
        }
        let mut questions = a.questions.clone();
        for (qid, key) in keys {
            let Some(q) = questions.iter_mut().find(|q| &q.id == qid) else {
                return Err(CoreError::invalid("keys", format!("the assessment has no question `{qid}`")));
            };
            if kind_name(&q.key) != kind_name(key) {
                return Err(CoreError::invalid(
                    "keys",
                    format!("`{qid}` is a {} question; its key must stay one", kind_name(&q.key)),
                ));
            }
            // A plugin's question keeps its plugin and type: only its settings change.
            if let (AnswerKey::Plugin(old), AnswerKey::Plugin(new)) = (&q.key, key)
                && (old.plugin != new.plugin || old.type_id != new.type_id)
            {
                return Err(CoreError::invalid(
                    "keys",
                    format!("`{qid}` is a `{}` question of {}; its key must stay one", old.type_id, old.plugin),
                ));
            }
            q.key = key.clone();
        }
        check_questions(&questions)?;
        self.check_plugin_questions(inst, &questions)?;
        let by = actor(p);
        let t = self.t();
        let bus = &self.env().bus;
        let prefix = [inst.bytes().as_slice(), course.bytes(), a.id.as_bytes(), &[0]].concat();
        let stored: Vec<Vec<u8>> = t.submissions.page(&prefix, None, usize::MAX)?.into_iter().map(|(k, _)| k).collect();
        let ids =
            stored.iter().map(|_| bus.outbox.next_id().map_err(events::bus_error)).collect::<Result<Vec<_>, _>>()?;
        let (now, akey) = (self.now(), assessment_key(inst, course, &a.id));
        let regrade = RegradeReason { by, reason: reason.to_string() };
        let (assessment, queued) =
            self.store().transaction(&[&t.assessments, &t.submissions, bus.outbox.tree()], |tx| {
                let tree = tx.on(&t.assessments)?;
                let Some(mut cur) = tree.get(&akey)? else { return abort(CoreError::NotFound("assessment")) };
                if if_version.is_some_and(|v| v != cur.version) {
                    return abort(CoreError::PreconditionFailed { current: cur.version });
                }
                for q in &mut cur.questions {
                    if let Some(k) = keys.get(&q.id) {
                        q.key = k.clone();
                    }
                }
                cur.version += 1;
                cur.updated_at = now;
                tree.insert(&akey, &cur)?;
                let subs = tx.on(&t.submissions)?;
                let mut queued = 0;
                for (k, id) in stored.iter().zip(&ids) {
                    let Some(StoredSubmission(mut ev)) = subs.get(k)? else { continue };
                    for s in &mut ev.submissions {
                        if let Some(key) = keys.get(&s.question.id) {
                            s.question.key = key.clone();
                        }
                    }
                    ev.regrade = Some(regrade.clone());
                    subs.insert(k, &StoredSubmission(ev.clone()))?;
                    // Keyed by student like a submit, so a student's gradings stay in order.
                    events::stage(&bus.outbox, tx, *id, topics::ATTEMPT_SUBMITTED, &ev.student.to_string(), &ev)?;
                    queued += 1;
                }
                Ok((cur, queued))
            })?;
        self.commit_events().await?;
        tracing::info!(institution = %inst, assessment = %a.id, queued, "assessment regraded");
        Ok(Regraded { assessment, queued })
    }
}

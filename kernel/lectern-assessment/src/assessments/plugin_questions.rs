//! Questions of types that plugins provide (`AnswerKey::Plugin`, 0.2's
//! `question-type` world), in the same assessments and exam flow as the
//! built-in types:
//!
//! - **Authoring**: the type must be offered to the institution (a version
//!   of its plugin active for it) and the settings must pass the type's
//!   settings schema, checked by the kernel before the assessment is stored.
//! - **Start**: each plugin question gets its attempt's *instance* from the
//!   plugin (`instantiate`, seeded from the attempt and the question), stored
//!   once per attempt and question and never replaced: a reload, a regrade
//!   and a plugin upgrade all see the same drawn parameters. The instance's
//!   `data` never leaves the kernel except to the plugin's `grade`; the
//!   student sees its view, sanitised (`lectern_host::view`). A plugin that
//!   cannot make an instance at start (not active, faulting) does not stop
//!   the attempt: that question shows as unavailable and is tried again at
//!   the next read of the attempt.
//! - **Save**: the response (the view's form fields as a JSON object) must
//!   pass the type's response schema, then the plugin's `validate`; only a
//!   deliberate error of the plugin refuses a save (its message is the
//!   student's). A plugin that is down or faults does not: the answer is
//!   saved, because a student must never lose an answer to a plugin outage.
//! - **Grading**: the grading worker sends built-in questions to the grading
//!   slot and each plugin's questions to that plugin's `grade` (no clock, no
//!   kv, fuel-bounded: deterministic), then applies the attempt's penalties
//!   to the plugin's fraction exactly as the first-party grader does for
//!   built-in types (added, capped at `max_total` and 1; a started day late
//!   is a day). A question whose instance was never made (its plugin was
//!   down for the whole attempt, so the student never saw it) goes to a
//!   person: `needs-manual-grading`, 0 points until graded.

use std::collections::BTreeMap;

use lectern_host::slots::grading::{AnswerKey, Graded, Penalties, PluginKey, Status, Submission};
use lectern_host::slots::{CallContext, View, question as q};
use lectern_host::{PluginError, QuestionCheck};
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use super::attempts::{Attempt, attempt_key};
use super::{Assessment, QuestionSpec};
use crate::Assessments;
use crate::error::CoreError;
use crate::ids::InstitutionId;

/// One attempt's instance of a plugin question, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredInstance {
    /// `id@version` of the plugin version that made it.
    pub version: String,
    /// For `grade` only; never shown to the student.
    pub data: String,
    /// As the plugin returned it; sanitised each time it is shown.
    pub view: View,
    pub created_at: i64,
}

impl Record for StoredInstance {
    const VERSION: u8 = 1;
}

/// `attempt key ‖ 0 ‖ question id`: an attempt's instances are one prefix.
fn instance_key(i: InstitutionId, attempt: &str, question: &str) -> Vec<u8> {
    [attempt_key(i, attempt).as_slice(), &[0], question.as_bytes()].concat()
}

/// The seed of one question in one attempt: the same attempt and question
/// always give the same seed, different questions of an attempt differ.
pub(crate) fn seed(attempt_seed: u64, question: &str) -> u64 {
    let h = question.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    // splitmix64's finaliser over the two, so nearby seeds give unrelated draws.
    let mut z = attempt_seed ^ h.rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The question as the plugin sees it.
pub(crate) fn plugin_question(spec: &QuestionSpec, key: &PluginKey) -> q::Question {
    q::Question {
        id: spec.id.clone(),
        type_id: key.type_id.clone(),
        settings: key.settings.clone(),
        points: spec.points,
    }
}

/// A started day late is a day.
const DAY_SECONDS: u64 = 24 * 60 * 60;

fn tidy(x: f64) -> f64 {
    if x.abs() < 1e6 { (x * 1e9).round() / 1e9 } else { x }
}

fn num(x: f64) -> String {
    let t = tidy(x);
    if t.fract() == 0.0 && t.abs() < 1e15 { format!("{}", t as i64) } else { format!("{t}") }
}

/// The points of a plugin's result: its fraction, less the attempt's
/// penalties, times the question's points; with the steps explained.
pub(crate) fn apply_penalties(question_points: f64, p: &Penalties, g: q::Graded) -> Graded {
    let mut explanation = g.explanation;
    let result = |status, raw: f64, points: f64, feedback, explanation| Graded {
        question_id: g.question_id.clone(),
        status,
        points,
        max_points: question_points,
        raw_fraction: raw,
        feedback,
        explanation,
    };
    if g.status != Status::Graded {
        return result(g.status, 0.0, 0.0, g.feedback, explanation);
    }
    let raw = g.fraction;
    if raw == 0.0 {
        explanation.push(format!("points: 0 of {}", num(question_points)));
        return result(Status::Graded, 0.0, 0.0, g.feedback, explanation);
    }
    let late_days = p.late_seconds.div_ceil(DAY_SECONDS);
    let mut sum = 0.0;
    let mut steps = vec![];
    for (count, one, many, rate) in [
        (u64::from(p.previous_tries), "previous try", "previous tries", p.per_try),
        (u64::from(p.hints_used), "hint", "hints", p.per_hint),
        (late_days, "started day late", "started days late", p.per_late_day),
    ] {
        if count > 0 && rate > 0.0 {
            let amount = count as f64 * rate;
            let what = if count == 1 { one } else { many };
            steps.push(format!("penalty: {count} {what} × {} = {}", num(rate), num(amount)));
            sum += amount;
        }
    }
    let fraction = sum.min(p.max_total.clamp(0.0, 1.0));
    if !steps.is_empty() {
        explanation.extend(steps);
        explanation.push(if fraction < sum {
            format!("total penalty {} capped at {}", num(sum), num(fraction))
        } else {
            format!("total penalty {}", num(fraction))
        });
    }
    let earned = tidy(raw * (1.0 - fraction) * question_points).clamp(0.0, question_points);
    explanation.push(if fraction > 0.0 {
        format!(
            "points: {} × (1 − {}) × {} = {} of {}",
            num(raw),
            num(fraction),
            num(question_points),
            num(earned),
            num(question_points)
        )
    } else {
        format!("points: {} × {} = {} of {}", num(raw), num(question_points), num(earned), num(question_points))
    });
    result(Status::Graded, raw, earned, g.feedback, explanation)
}

impl Assessments {
    /// The question types plugins offer the institution's authors.
    pub fn question_types(
        &self,
        p: &crate::Principal,
        inst: InstitutionId,
    ) -> Result<Vec<lectern_host::OfferedQuestionType>, CoreError> {
        crate::authz::authorize(
            p,
            crate::authz::Capability::InstitutionView,
            crate::authz::Context::Institution(inst),
        )?;
        Ok(self.host().question_types(&inst.to_string()))
    }

    /// The authoring check of plugin questions: the type is offered to the
    /// institution and the settings pass its schema.
    pub(crate) fn check_plugin_questions(
        &self,
        inst: InstitutionId,
        questions: &[QuestionSpec],
    ) -> Result<(), CoreError> {
        for spec in questions {
            let AnswerKey::Plugin(k) = &spec.key else { continue };
            let settings: serde_json::Value = serde_json::from_str(&k.settings).map_err(|e| {
                CoreError::invalid("questions.key", format!("`{}`: settings are not JSON: {e}", spec.id))
            })?;
            // `QuestionCheck` displays as the reason (the schema's violations, or which type is not offered).
            self.host()
                .check_question_settings(&inst.to_string(), &k.plugin, &k.type_id, &settings)
                .map_err(|e| CoreError::invalid("questions.key", format!("`{}`: {e}", spec.id)))?;
        }
        Ok(())
    }

    /// The stored instances of an attempt's plugin questions, by question id.
    pub(crate) fn instances(
        &self,
        inst: InstitutionId,
        attempt: &str,
    ) -> Result<BTreeMap<String, StoredInstance>, CoreError> {
        let prefix = [attempt_key(inst, attempt).as_slice(), &[0]].concat();
        let mut out = BTreeMap::new();
        for row in self.t().question_instances.scan_prefix(&prefix) {
            let (k, v) = row?;
            out.insert(String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v);
        }
        Ok(out)
    }

    /// Makes the instances of `at`'s plugin questions that do not exist yet
    /// (see the module's docs). Durable when it returns, if it made any.
    pub(crate) async fn ensure_instances(&self, a: &Assessment, at: &Attempt) -> Result<(), CoreError> {
        let wanted: Vec<(QuestionSpec, PluginKey)> = a
            .questions
            .iter()
            .filter_map(|s| match &s.key {
                AnswerKey::Plugin(k) => Some((s.clone(), k.clone())),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let have = self.instances(a.institution, &at.id)?;
        let missing: Vec<_> = wanted.into_iter().filter(|(s, _)| !have.contains_key(&s.id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let ctx = super::proctoring::student_context(a, at);
        let host = self.host().clone();
        let attempt_seed = at.seed;
        let made = Self::blocking(move || {
            missing
                .into_iter()
                .map(|(spec, key)| {
                    let question = plugin_question(&spec, &key);
                    let r = host.question_instantiate(&key.plugin, &ctx, &question, seed(attempt_seed, &spec.id));
                    (spec.id, r)
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let now = self.now();
        let mut stored = 0;
        for (question, r) in made {
            match r {
                Ok((instance, version)) => {
                    let rec = StoredInstance { version, data: instance.data, view: instance.view, created_at: now };
                    let key = instance_key(a.institution, &at.id, &question);
                    // Never replaced: a concurrent read of the attempt may have stored one first.
                    if self.t().question_instances.compare_and_swap(&key, None, Some(&rec))? {
                        stored += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(attempt = %at.id, question = %question, error = %e, "plugin question has no instance yet")
                }
            }
        }
        if stored > 0 {
            self.durable().await?;
        }
        Ok(())
    }

    /// Checks a response to a plugin question before it is saved (see the module's docs).
    pub(crate) async fn check_plugin_response(
        &self,
        a: &Assessment,
        at: &Attempt,
        spec: &QuestionSpec,
        key: &PluginKey,
        response: &str,
    ) -> Result<(), CoreError> {
        let value: serde_json::Value = serde_json::from_str(response)
            .map_err(|e| CoreError::invalid("response", format!("the fields are not JSON: {e}")))?;
        match self.host().check_question_response(&a.institution.to_string(), &key.plugin, &key.type_id, &value) {
            Ok(()) => {}
            Err(QuestionCheck::Invalid(m)) => return Err(CoreError::invalid("response", m)),
            // The plugin is not serving: saved on the kernel's own checks (see the module's docs).
            Err(QuestionCheck::NotOffered { .. }) => return Ok(()),
        }
        let Some(instance) = self.t().question_instances.get(instance_key(a.institution, &at.id, &spec.id))? else {
            return Ok(());
        };
        let ctx = super::proctoring::student_context(a, at);
        let (host, question, plugin, text) =
            (self.host().clone(), plugin_question(spec, key), key.plugin.clone(), response.to_owned());
        let checked =
            Self::blocking(move || host.question_validate(&plugin, &ctx, &question, &instance.data, &text)).await?;
        match checked {
            Ok(()) => Ok(()),
            Err(PluginError::Guest(g)) => Err(CoreError::invalid("response", guest_message(g))),
            Err(e) => {
                tracing::warn!(attempt = %at.id, question = %spec.id, error = %e, "plugin could not check a response; saved unchecked");
                Ok(())
            }
        }
    }

    /// Grades a submitted attempt's questions: built-in ones through the
    /// institution's grading plugin (one call), each plugin question type's
    /// through its plugin (one call per plugin), results in the order of
    /// `submissions`. Returns the results and who graded them (`id@version`
    /// of every plugin that did, comma-separated). An error is worth a retry
    /// (a plugin not active or faulting, or storage).
    pub async fn grade_submissions(
        &self,
        ctx: &CallContext,
        inst: InstitutionId,
        attempt: &str,
        submissions: &[Submission],
    ) -> Result<(Vec<Graded>, String), String> {
        let builtin: Vec<(usize, Submission)> = submissions
            .iter()
            .enumerate()
            .filter(|(_, s)| !matches!(s.question.key, AnswerKey::Plugin(_)))
            .map(|(i, s)| (i, s.clone()))
            .collect();
        let mut by_plugin: BTreeMap<String, Vec<(usize, q::ToGrade)>> = BTreeMap::new();
        // Questions whose plugin never made this attempt's instance: the student never saw
        // them, so there is nothing to grade automatically; a person decides.
        let mut unseen: Vec<(usize, Graded)> = vec![];
        if builtin.len() < submissions.len() {
            let instances = self.instances(inst, attempt).map_err(|e| e.to_string())?;
            for (i, s) in submissions.iter().enumerate() {
                let AnswerKey::Plugin(k) = &s.question.key else { continue };
                let Some(instance) = instances.get(&s.question.id) else {
                    unseen.push((
                        i,
                        Graded {
                            question_id: s.question.id.clone(),
                            status: Status::NeedsManualGrading,
                            points: 0.0,
                            max_points: s.question.points,
                            raw_fraction: 0.0,
                            feedback: vec![],
                            explanation: vec![format!(
                                "{} never prepared this question for the attempt (it was not shown): a person must grade it",
                                k.plugin
                            )],
                        },
                    ));
                    continue;
                };
                let response = s.response.as_ref().map(|r| match r {
                    lectern_host::slots::grading::Response::Fields(t) => t.clone(),
                    // A response of another shape is never saved for a plugin question (`check_response`).
                    _ => "{}".to_owned(),
                });
                let question = q::Question {
                    id: s.question.id.clone(),
                    type_id: k.type_id.clone(),
                    settings: k.settings.clone(),
                    points: s.question.points,
                };
                by_plugin
                    .entry(k.plugin.clone())
                    .or_default()
                    .push((i, q::ToGrade { question, instance: instance.data.clone(), response }));
            }
        }
        let host = self.host().clone();
        let ctx = ctx.clone();
        let subs = submissions.to_vec();
        Self::blocking(move || {
            let mut out: Vec<Option<Graded>> = vec![None; subs.len()];
            for (i, g) in unseen {
                out[i] = Some(g);
            }
            let mut who = vec![];
            if !builtin.is_empty() {
                let batch: Vec<Submission> = builtin.iter().map(|(_, s)| s.clone()).collect();
                let (graded, version) = host.grade(&ctx, &batch).map_err(|e| format!("grading plugin: {e}"))?;
                for ((i, _), g) in builtin.iter().zip(graded) {
                    out[*i] = Some(g);
                }
                who.push(version);
            }
            for (plugin, items) in by_plugin {
                let batch: Vec<q::ToGrade> = items.iter().map(|(_, t)| t.clone()).collect();
                let (graded, version) = host
                    .question_grade(&plugin, &ctx, &batch)
                    .map_err(|e| format!("question-type plugin {plugin}: {e}"))?;
                for ((i, _), g) in items.iter().zip(graded) {
                    out[*i] = Some(apply_penalties(subs[*i].question.points, &subs[*i].penalties, g));
                }
                who.push(version);
            }
            let results: Option<Vec<Graded>> = out.into_iter().collect();
            let results = results.ok_or_else(|| "a question was left ungraded".to_owned())?;
            Ok((results, who.join(", ")))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// A plugin's deliberate error as the student reads it.
fn guest_message(g: lectern_host::GuestError) -> String {
    use lectern_host::GuestError as G;
    match g {
        G::InvalidInput(m) | G::NotFound(m) | G::Denied(m) | G::Conflict(m) | G::QuotaExceeded(m) => m,
        G::Unavailable(m) | G::Internal(m) => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(fraction: f64) -> q::Graded {
        q::Graded {
            question_id: "q1".into(),
            status: Status::Graded,
            fraction,
            feedback: vec![],
            explanation: vec!["expected 12".into()],
        }
    }

    #[test]
    fn penalties_apply_as_the_first_party_grader_applies_them() {
        let none = Penalties { max_total: 1.0, ..Default::default() };
        let g = apply_penalties(4.0, &none, graded(0.5));
        assert_eq!((g.points, g.max_points, g.raw_fraction), (2.0, 4.0, 0.5));
        assert_eq!(g.explanation.last().map(String::as_str), Some("points: 0.5 × 4 = 2 of 4"));
        // Two tries at 10 % and a hint at 5 %: 25 % off, added not compounded.
        let p = Penalties {
            previous_tries: 2,
            per_try: 0.1,
            hints_used: 1,
            per_hint: 0.05,
            max_total: 1.0,
            ..none.clone()
        };
        assert_eq!(apply_penalties(10.0, &p, graded(1.0)).points, 7.5);
        // Capped at max_total; one second late is a started day.
        let p =
            Penalties { late_seconds: 1, per_late_day: 0.5, previous_tries: 3, per_try: 0.5, max_total: 0.6, ..none };
        let g = apply_penalties(10.0, &p, graded(1.0));
        assert_eq!(g.points, 4.0);
        assert!(g.explanation.iter().any(|l| l.contains("1 started day late")), "{:?}", g.explanation);
        assert!(g.explanation.iter().any(|l| l.contains("capped at 0.6")), "{:?}", g.explanation);
    }

    #[test]
    fn only_graded_results_earn_points() {
        let none = Penalties { max_total: 1.0, ..Default::default() };
        let mut r = graded(1.0);
        r.status = Status::NeedsManualGrading;
        let g = apply_penalties(5.0, &none, r);
        assert_eq!((g.status, g.points, g.max_points), (Status::NeedsManualGrading, 0.0, 5.0));
    }

    #[test]
    fn seeds_are_stable_and_differ_per_question() {
        assert_eq!(seed(42, "q1"), seed(42, "q1"));
        assert_ne!(seed(42, "q1"), seed(42, "q2"));
        assert_ne!(seed(42, "q1"), seed(43, "q1"));
    }
}

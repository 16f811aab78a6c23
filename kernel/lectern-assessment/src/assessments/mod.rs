//! Assessments: questions with answer keys (stored here, graded by the
//! institution's grading plugin over the bus), a time limit, an open/close
//! window, attempts allowed, seeded shuffling, penalties, and the exam flow
//! in [`attempts`].
//!
//! Invariants:
//! - An assessment's id is also its gradebook item, so grades, completion
//!   rules and content items (`assessment` items) all name it the same way.
//! - Students never see answer keys: [`Presented`] is built from the key's
//!   ids and the labels, never from `correct`/`weight`/patterns.
//! - Questions cannot change once an attempt exists (a changed key goes
//!   through regrade, which is explicit and notified).

pub mod attempts;
pub mod plugin_questions;
pub mod proctoring;
mod reads;
pub mod regrade;
pub(crate) mod scoring;

use std::collections::BTreeMap;

use lectern_host::slots::grading::AnswerKey;
use lectern_storage::{Record, abort};
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::gradebook::validate_item;
use crate::ids::{CourseId, InstitutionId};
use crate::{Assessments, Principal};
use lectern_identity::validate_name;

pub use attempts::{Answer, Attempt, AttemptState, AttemptView, StartOutcome, SubmittedBy};

/// A question: what it asks, how it is graded, what it is worth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionSpec {
    pub id: String,
    /// Markdown or plain text shown to the student.
    pub prompt: String,
    pub key: AnswerKey,
    pub points: f64,
    /// Display text of option, item and blank ids used by the key.
    pub labels: BTreeMap<String, String>,
    /// Shown on request, each costing `Settings::per_hint` of the points.
    pub hints: Vec<String>,
}

/// Penalties and timing that apply to every question of an assessment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Per attempt, from its start; `None` means until the window closes.
    pub time_limit_secs: Option<u64>,
    pub opens_at: Option<i64>,
    /// The due time. Attempts may still start until `late_until`, and lose
    /// `per_late_day` of their points per started day after it.
    pub closes_at: Option<i64>,
    pub late_until: Option<i64>,
    pub per_late_day: f64,
    pub attempts_allowed: u32,
    /// Fraction of the points lost per earlier attempt.
    pub per_try: f64,
    /// Fraction lost per hint taken.
    pub per_hint: f64,
    /// Highest fraction penalties may take together.
    pub max_penalty: f64,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    /// The points the assessment is worth; question points are scaled to it. `None` keeps their sum.
    pub points: Option<f64>,
    /// Proctoring: signal weights, threshold, and what happens above it. `None`: not proctored.
    pub proctoring: Option<lectern_host::slots::proctoring::Policy>,
    /// Which attempts make the grade. Absent from assessments stored before
    /// it existed (see [`v1`]): those read as the default, [`GradingMethod::Highest`].
    #[serde(default)]
    pub grading_method: GradingMethod,
}

/// Which of a student's attempts make the item's grade (Moodle's "grading
/// method", with its default). Stored by variant index: append new methods,
/// never reorder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradingMethod {
    /// The best attempt, by percentage of its points (the earliest of equals).
    #[default]
    Highest,
    /// The latest attempt.
    Last,
    /// The first attempt; later ones are practice.
    First,
    /// The mean of every attempt's percentage, applied to the latest attempt's worth.
    Average,
}

impl GradingMethod {
    /// How a grade's history and the gradebook say which attempts count.
    pub fn describe(self) -> &'static str {
        match self {
            GradingMethod::Highest => "the highest attempt counts",
            GradingMethod::Last => "the last attempt counts",
            GradingMethod::First => "the first attempt counts",
            GradingMethod::Average => "the average of all attempts counts",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_limit_secs: None,
            opens_at: None,
            closes_at: None,
            late_until: None,
            per_late_day: 0.0,
            attempts_allowed: 1,
            per_try: 0.0,
            per_hint: 0.0,
            max_penalty: 1.0,
            shuffle_questions: false,
            shuffle_options: false,
            points: None,
            proctoring: None,
            grading_method: GradingMethod::Highest,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: String,
    pub institution: InstitutionId,
    pub course: CourseId,
    pub title: String,
    pub questions: Vec<QuestionSpec>,
    pub settings: Settings,
    /// Students can start attempts only once it is published.
    pub published: bool,
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when it was deleted while students had attempts or grades: it
    /// keeps its grades in the gradebook, but no attempt can start.
    #[serde(default)]
    pub archived_at: Option<i64>,
}

impl Assessment {
    /// Not published and not archived: staff are still writing it. Drafts are
    /// not gradebook columns.
    pub fn is_draft(&self) -> bool {
        !self.published && self.archived_at.is_none()
    }
}

/// Version 2 added `Settings::grading_method` and `Assessment::archived_at`.
impl Record for Assessment {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        match version {
            1 => lectern_storage::decode_body::<v1::Assessment>(body).map(Into::into),
            v => Err(format!("no upgrade path from assessment version {v}")),
        }
    }
}

/// Assessments as stored before grading methods and archiving (record
/// version 1). postcard is positional: these list exactly the old fields, in
/// order, and must never change.
mod v1 {
    use serde::Deserialize;

    use super::{GradingMethod, QuestionSpec};
    use crate::ids::{CourseId, InstitutionId};

    #[derive(Deserialize)]
    pub(super) struct Settings {
        time_limit_secs: Option<u64>,
        opens_at: Option<i64>,
        closes_at: Option<i64>,
        late_until: Option<i64>,
        per_late_day: f64,
        attempts_allowed: u32,
        per_try: f64,
        per_hint: f64,
        max_penalty: f64,
        shuffle_questions: bool,
        shuffle_options: bool,
        points: Option<f64>,
        proctoring: Option<lectern_host::slots::proctoring::Policy>,
    }

    #[derive(Deserialize)]
    pub(super) struct Assessment {
        id: String,
        institution: InstitutionId,
        course: CourseId,
        title: String,
        questions: Vec<QuestionSpec>,
        settings: Settings,
        published: bool,
        version: u64,
        created_at: i64,
        updated_at: i64,
    }

    impl From<Assessment> for super::Assessment {
        fn from(a: Assessment) -> Self {
            let s = a.settings;
            super::Assessment {
                id: a.id,
                institution: a.institution,
                course: a.course,
                title: a.title,
                questions: a.questions,
                settings: super::Settings {
                    time_limit_secs: s.time_limit_secs,
                    opens_at: s.opens_at,
                    closes_at: s.closes_at,
                    late_until: s.late_until,
                    per_late_day: s.per_late_day,
                    attempts_allowed: s.attempts_allowed,
                    per_try: s.per_try,
                    per_hint: s.per_hint,
                    max_penalty: s.max_penalty,
                    shuffle_questions: s.shuffle_questions,
                    shuffle_options: s.shuffle_options,
                    points: s.points,
                    proctoring: s.proctoring,
                    // The default, as for a new assessment. (Before grading
                    // methods the latest attempt's grade stood; grades recorded
                    // then are counted again only when one of them changes.)
                    grading_method: GradingMethod::default(),
                },
                published: a.published,
                version: a.version,
                created_at: a.created_at,
                updated_at: a.updated_at,
                archived_at: None,
            }
        }
    }
}

/// Where an assessment lives (the global index behind `/api/v1/assessments/{id}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    pub institution: InstitutionId,
    pub course: CourseId,
}

impl Record for Located {
    const VERSION: u8 = 1;
}

/// What [`Assessments::delete_assessment`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Removal {
    /// Nobody had attempted it: it is gone.
    Deleted,
    /// Students have attempts or grades: it is archived (as returned).
    Archived(Box<Assessment>),
}

/// A change to an assessment; `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct AssessmentUpdate {
    pub title: Option<String>,
    pub questions: Option<Vec<QuestionSpec>>,
    pub settings: Option<Settings>,
    pub published: Option<bool>,
}

/// A question as a student sees it: no key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Presented {
    pub id: String,
    /// `single_choice`, `multiple_choice`, `true_false`, `numeric`, `short_answer`,
    /// `matching`, `ordering`, `fill_blanks`, `essay`, or `plugin` (a plugin's question type).
    pub kind: &'static str,
    pub prompt: String,
    pub points: f64,
    /// Choices, or the items to order, or the left column of a matching question.
    pub options: Vec<(String, String)>,
    /// The right column of a matching question.
    pub targets: Vec<(String, String)>,
    pub blanks: usize,
    pub hints_available: usize,
    /// Accepted units of a numeric question.
    pub units: Vec<String>,
    /// A plugin's question type: (plugin id, type id).
    pub plugin: Option<(String, String)>,
    /// A plugin question's view for this attempt, sanitised; `None` while
    /// its plugin has not made the attempt's instance (see `plugin_questions`).
    pub view: Option<lectern_host::slots::View>,
}

/// `institution ‖ course ‖ id`: a course's assessments are one prefix.
pub(crate) fn assessment_key(i: InstitutionId, c: CourseId, id: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), id.as_bytes()].concat()
}

const MAX_QUESTIONS: usize = 500;
const MAX_TEXT: usize = 100_000;

fn kind_name(key: &AnswerKey) -> &'static str {
    match key {
        AnswerKey::SingleChoice(_) => "single_choice",
        AnswerKey::MultipleChoice(_) => "multiple_choice",
        AnswerKey::TrueFalse(_) => "true_false",
        AnswerKey::Numeric(_) => "numeric",
        AnswerKey::ShortAnswer(_) => "short_answer",
        AnswerKey::Matching(_) => "matching",
        AnswerKey::Ordering(_) => "ordering",
        AnswerKey::FillBlanks(_) => "fill_blanks",
        AnswerKey::Essay(_) => "essay",
        AnswerKey::Plugin(_) => "plugin",
    }
}

impl QuestionSpec {
    /// The student's view of the question; `order` permutes the options (shuffling).
    pub fn present(&self, shuffle: Option<u64>) -> Presented {
        let label = |id: &str| (id.to_owned(), self.labels.get(id).cloned().unwrap_or_else(|| id.to_owned()));
        let mut options: Vec<(String, String)> = vec![];
        let mut targets = vec![];
        let mut units = vec![];
        let mut blanks = 0;
        let mut plugin = None;
        match &self.key {
            AnswerKey::SingleChoice(k) | AnswerKey::MultipleChoice(k) => {
                options = k.options.iter().map(|o| label(&o.id)).collect();
            }
            AnswerKey::Ordering(items) => {
                options = items.iter().map(|i| label(i)).collect();
                // The key order is the answer: never show it as is.
                let seed = shuffle.unwrap_or(0x9e37_79b9_7f4a_7c15);
                attempts::shuffle(&mut options, seed ^ 0x5eed);
                // A shuffle can leave everything in place (1 in 6 for three items):
                // then move the first item to the end, which differs for distinct items.
                if options.len() > 1 && options.iter().map(|(id, _)| id).eq(items.iter()) {
                    options.rotate_left(1);
                }
            }
            AnswerKey::Matching(pairs) => {
                options = pairs.iter().map(|p| label(&p.left)).collect();
                targets = pairs.iter().map(|p| label(&p.right)).collect();
                targets.sort();
                targets.dedup();
            }
            AnswerKey::Numeric(k) => units = k.units.iter().map(|u| u.name.clone()).collect(),
            AnswerKey::FillBlanks(keys) => blanks = keys.len(),
            AnswerKey::TrueFalse(_) | AnswerKey::ShortAnswer(_) | AnswerKey::Essay(_) => {}
            // Shown through its attempt's instance (`AttemptView` fills `view`).
            AnswerKey::Plugin(k) => plugin = Some((k.plugin.clone(), k.type_id.clone())),
        }
        if let (Some(seed), false) = (shuffle, matches!(self.key, AnswerKey::Ordering(_))) {
            attempts::shuffle(&mut options, seed);
        }
        Presented {
            id: self.id.clone(),
            kind: kind_name(&self.key),
            prompt: self.prompt.clone(),
            points: self.points,
            options,
            targets,
            blanks,
            hints_available: self.hints.len(),
            units,
            plugin,
            view: None,
        }
    }
}

fn check_fraction(field: &'static str, v: f64) -> Result<(), CoreError> {
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(CoreError::invalid(field, "must be a fraction between 0 and 1"));
    }
    Ok(())
}

fn check_questions(questions: &[QuestionSpec]) -> Result<(), CoreError> {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(CoreError::invalid("questions", format!("1–{MAX_QUESTIONS} questions")));
    }
    let mut ids = std::collections::HashSet::new();
    for q in questions {
        validate_item(&q.id).map_err(|_| {
            CoreError::invalid("questions.id", format!("`{}`: 1–128 letters, digits, `.`, `_`, `-`", q.id))
        })?;
        if !ids.insert(q.id.as_str()) {
            return Err(CoreError::invalid("questions.id", format!("`{}` appears twice", q.id)));
        }
        if !q.points.is_finite() || q.points < 0.0 || q.points > 1e6 {
            return Err(CoreError::invalid("questions.points", format!("`{}`: 0–1,000,000", q.id)));
        }
        let text: usize = q.prompt.len()
            + q.hints.iter().map(String::len).sum::<usize>()
            + q.labels.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if text > MAX_TEXT {
            return Err(CoreError::invalid("questions", format!("`{}` is larger than 100,000 characters", q.id)));
        }
        // The grader checks keys in depth; here only what would make a question unanswerable.
        let empty = match &q.key {
            AnswerKey::SingleChoice(k) | AnswerKey::MultipleChoice(k) => k.options.is_empty(),
            AnswerKey::ShortAnswer(k) => k.alternatives.is_empty(),
            AnswerKey::Matching(p) => p.is_empty(),
            AnswerKey::Ordering(i) => i.len() < 2,
            AnswerKey::FillBlanks(k) => k.is_empty(),
            AnswerKey::Numeric(k) => !k.value.is_finite(),
            AnswerKey::TrueFalse(_) | AnswerKey::Essay(_) => false,
            // The type and its settings are checked against the plugin (`check_plugin_questions`).
            AnswerKey::Plugin(k) => k.plugin.is_empty() || k.type_id.is_empty() || k.settings.len() > 64 * 1024,
        };
        if empty {
            return Err(CoreError::invalid("questions.key", format!("`{}`: the key is empty or unusable", q.id)));
        }
    }
    Ok(())
}

fn check_settings(s: &Settings) -> Result<(), CoreError> {
    check_fraction("settings.per_try", s.per_try)?;
    check_fraction("settings.per_hint", s.per_hint)?;
    check_fraction("settings.max_penalty", s.max_penalty)?;
    check_fraction("settings.per_late_day", s.per_late_day)?;
    match (s.closes_at, s.late_until) {
        (None, Some(_)) => return Err(CoreError::invalid("settings.late_until", "needs closes_at (the due time)")),
        (Some(c), Some(l)) if l <= c => {
            return Err(CoreError::invalid("settings.late_until", "must be after closes_at"));
        }
        _ => {}
    }
    if s.attempts_allowed == 0 || s.attempts_allowed > 100 {
        return Err(CoreError::invalid("settings.attempts_allowed", "1–100"));
    }
    if s.time_limit_secs.is_some_and(|t| t == 0 || t > 7 * 86_400) {
        return Err(CoreError::invalid("settings.time_limit_secs", "1 second to 7 days"));
    }
    if let (Some(o), Some(c)) = (s.opens_at, s.closes_at)
        && c <= o
    {
        return Err(CoreError::invalid("settings.closes_at", "must be after opens_at"));
    }
    if s.points.is_some_and(|p| !p.is_finite() || p <= 0.0 || p > 1e6) {
        return Err(CoreError::invalid("settings.points", "0–1,000,000"));
    }
    if let Some(p) = &s.proctoring {
        if !p.flag_threshold.is_finite() || !(0.0..=1.0).contains(&p.flag_threshold) {
            return Err(CoreError::invalid("settings.proctoring.flag_threshold", "a fraction between 0 and 1"));
        }
        if p.weights.iter().any(|(_, w)| !w.is_finite() || !(0.0..=1.0).contains(w)) {
            return Err(CoreError::invalid("settings.proctoring.weights", "each weight is between 0 and 1"));
        }
        if p.heartbeat_interval_ms < 1_000 || p.heartbeat_interval_ms > 600_000 {
            return Err(CoreError::invalid("settings.proctoring.heartbeat_interval_ms", "1,000–600,000"));
        }
    }
    Ok(())
}

impl Assessments {
    pub(crate) fn locate_assessment(&self, id: &str) -> Result<Located, CoreError> {
        self.t().assessment_index.get(id.as_bytes())?.ok_or(CoreError::NotFound("assessment"))
    }

    /// The assessment, decoded once per stored version and shared (every answer
    /// save, signal batch and submit reads it; see `DecodeCache`).
    pub(crate) fn load_assessment_shared(&self, id: &str) -> Result<std::sync::Arc<Assessment>, CoreError> {
        let at = self.locate_assessment(id)?;
        self.t()
            .assessments
            .get_cached(assessment_key(at.institution, at.course, id), &self.inner.assessment_cache)?
            .ok_or(CoreError::NotFound("assessment"))
    }

    pub(crate) fn load_assessment(&self, id: &str) -> Result<Assessment, CoreError> {
        let at = self.locate_assessment(id)?;
        self.t()
            .assessments
            .get(assessment_key(at.institution, at.course, id))?
            .ok_or(CoreError::NotFound("assessment"))
    }

    /// Creates a draft assessment in a course (`course:edit`).
    pub async fn create_assessment(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        title: &str,
        questions: Vec<QuestionSpec>,
        settings: Settings,
    ) -> Result<Assessment, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let title = validate_name("title", title, 200)?;
        check_questions(&questions)?;
        self.check_plugin_questions(inst, &questions)?;
        check_settings(&settings)?;
        let now = self.now();
        let a = Assessment {
            id: uuid::Uuid::now_v7().to_string(),
            institution: inst,
            course,
            title,
            questions,
            settings,
            published: false,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        let t = self.t();
        self.store().transaction(&[&t.assessments, &t.assessment_index], |tx| {
            tx.on(&t.assessments)?.insert(assessment_key(inst, course, &a.id), &a)?;
            tx.on(&t.assessment_index)?.insert(a.id.as_bytes(), &Located { institution: inst, course })?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.durable().await?;
        Ok(a)
    }

    /// Changes questions or settings, or publishes. Questions are frozen once
    /// an attempt exists (a key change is a regrade).
    pub async fn update_assessment(
        &self,
        p: &Principal,
        id: &str,
        update: AssessmentUpdate,
        if_version: Option<u64>,
    ) -> Result<Assessment, CoreError> {
        let AssessmentUpdate { title, questions, settings, published } = update;
        let at = self.locate_assessment(id)?;
        let (_, ctx) = self.identity().course_context(p, at.institution, at.course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let title = title.map(|t| validate_name("title", &t, 200)).transpose()?;
        if let Some(q) = &questions {
            check_questions(q)?;
            self.check_plugin_questions(at.institution, q)?;
        }
        if let Some(s) = &settings {
            check_settings(s)?;
        }
        let has_attempts =
            self.t().attempts_by_student.scan_prefix(attempts::assessment_prefix(at.institution, id)).next().is_some();
        if questions.is_some() && has_attempts {
            return Err(CoreError::Conflict(
                "students have started this assessment: change keys with a regrade instead".into(),
            ));
        }
        let now = self.now();
        let t = self.t();
        let key = assessment_key(at.institution, at.course, id);
        let (a, method_before) = self.store().transaction(&[&t.assessments], |tx| {
            let tree = tx.on(&t.assessments)?;
            let Some(mut a) = tree.get(&key)? else { return abort(CoreError::NotFound("assessment")) };
            if if_version.is_some_and(|v| v != a.version) {
                return abort(CoreError::PreconditionFailed { current: a.version });
            }
            let method_before = a.settings.grading_method;
            if let Some(t) = &title {
                a.title = t.clone();
            }
            if let Some(q) = &questions {
                a.questions = q.clone();
            }
            if let Some(s) = &settings {
                a.settings = s.clone();
            }
            if let Some(p) = published {
                a.published = p;
            }
            a.version += 1;
            a.updated_at = now;
            tree.insert(&key, &a)?;
            Ok((a, method_before))
        })?;
        self.durable().await?;
        if a.settings.grading_method != method_before {
            // Every student's grade is counted again with the new method.
            self.recount_grades(&a, &crate::gradebook::actor(p)).await?;
        }
        Ok(a)
    }

    /// Deletes an assessment nobody has attempted or been graded on. One with
    /// attempts or grades is archived instead: its grades stay in the
    /// gradebook, no attempt can start, and attempts in progress may still be
    /// submitted. Deleting an archived assessment again changes nothing.
    pub async fn delete_assessment(&self, p: &Principal, id: &str) -> Result<Removal, CoreError> {
        let at = self.locate_assessment(id)?;
        let (inst, course) = (at.institution, at.course);
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let now = self.now();
        let t = self.t();
        let key = assessment_key(inst, course, id);
        // Archive first: a start reads the assessment inside its own
        // transaction, so once this commits no attempt can begin, and the
        // look for attempts below cannot miss one that is being started.
        let archived = self.store().transaction(&[&t.assessments], |tx| {
            let tree = tx.on(&t.assessments)?;
            let Some(mut a) = tree.get(&key)? else { return abort(CoreError::NotFound("assessment")) };
            if a.archived_at.is_none() {
                a.archived_at = Some(now);
                a.version += 1;
                a.updated_at = now;
                tree.insert(&key, &a)?;
            }
            Ok(a)
        })?;
        self.durable().await?;
        let attempted = t.attempts_by_student.scan_prefix(attempts::assessment_prefix(inst, id)).next().is_some();
        let mut graded = false;
        for row in t.grades.scan_prefix(crate::keys::inst_course(inst, course)) {
            if row?.1.item == id {
                graded = true;
                break;
            }
        }
        if attempted || graded {
            tracing::info!(institution = %inst, assessment = %id, "assessment archived instead of deleted");
            return Ok(Removal::Archived(Box::new(archived)));
        }
        self.store().transaction(&[&t.assessments, &t.assessment_index], |tx| {
            tx.on(&t.assessments)?.remove(&key)?;
            tx.on(&t.assessment_index)?.remove(id.as_bytes())?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.durable().await?;
        tracing::info!(institution = %inst, assessment = %id, "assessment deleted");
        Ok(Removal::Deleted)
    }

    /// The assessment with its keys, for staff.
    pub fn assessment(&self, p: &Principal, id: &str) -> Result<Assessment, CoreError> {
        let a = self.load_assessment(id)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        Ok(a)
    }

    /// The course's assessments (staff see drafts and archived ones too).
    pub fn list_assessments(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Vec<Assessment>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let staff = authorize(p, Capability::CourseEdit, ctx).is_ok();
        let mut out = vec![];
        for row in self.t().assessments.scan_prefix(crate::keys::inst_course(inst, course)) {
            let (_, a) = row?;
            if staff || (a.published && a.archived_at.is_none()) {
                out.push(a);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use lectern_host::slots::proctoring::{Action, Policy};
    use serde::Serialize;

    use super::*;

    #[test]
    fn an_ordering_question_is_never_shown_in_its_key_order() {
        for n in 2..=6usize {
            let items: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let q = QuestionSpec {
                id: "order".into(),
                prompt: String::new(),
                key: AnswerKey::Ordering(items.clone()),
                points: 1.0,
                labels: BTreeMap::new(),
                hints: vec![],
            };
            for seed in (0..2_000u64).map(Some).chain([None]) {
                let shown: Vec<String> = q.present(seed).options.into_iter().map(|(id, _)| id).collect();
                assert_ne!(shown, items, "{n} items, seed {seed:?}");
                let mut sorted = shown.clone();
                sorted.sort();
                assert_eq!(sorted, items, "a permutation of the items");
            }
        }
    }

    /// An assessment as a build before grading methods wrote it (record
    /// version 1): every field of that time, in its order.
    #[derive(Serialize, Deserialize)]
    struct StoredV1 {
        id: String,
        institution: InstitutionId,
        course: CourseId,
        title: String,
        questions: Vec<QuestionSpec>,
        settings: SettingsV1,
        published: bool,
        version: u64,
        created_at: i64,
        updated_at: i64,
    }

    #[derive(Serialize, Deserialize)]
    struct SettingsV1 {
        time_limit_secs: Option<u64>,
        opens_at: Option<i64>,
        closes_at: Option<i64>,
        late_until: Option<i64>,
        per_late_day: f64,
        attempts_allowed: u32,
        per_try: f64,
        per_hint: f64,
        max_penalty: f64,
        shuffle_questions: bool,
        shuffle_options: bool,
        points: Option<f64>,
        proctoring: Option<Policy>,
    }

    impl Record for StoredV1 {
        const VERSION: u8 = 1;
    }

    #[test]
    fn assessments_stored_before_grading_methods_read_as_highest() {
        let dir = tempfile::tempdir().unwrap();
        let s = lectern_storage::Store::open(dir.path(), Default::default()).unwrap();
        let (institution, course) = (InstitutionId::new(), CourseId::new());
        let question = QuestionSpec {
            id: "q1".into(),
            prompt: "Paris?".into(),
            key: AnswerKey::TrueFalse(true),
            points: 2.0,
            labels: BTreeMap::new(),
            hints: vec!["a city".into()],
        };
        let policy = Policy {
            weights: vec![],
            flag_threshold: 0.3,
            heartbeat_interval_ms: 15_000,
            allow_copy_paste: false,
            action: Action::FlagForReview,
        };
        let old = StoredV1 {
            id: "a1".into(),
            institution,
            course,
            title: "Quiz".into(),
            questions: vec![question.clone()],
            settings: SettingsV1 {
                time_limit_secs: Some(600),
                opens_at: Some(1),
                closes_at: Some(2),
                late_until: Some(3),
                per_late_day: 0.1,
                attempts_allowed: 5,
                per_try: 0.2,
                per_hint: 0.25,
                max_penalty: 0.5,
                shuffle_questions: true,
                shuffle_options: false,
                points: Some(10.0),
                proctoring: Some(policy.clone()),
            },
            published: true,
            version: 7,
            created_at: 100,
            updated_at: 200,
        };
        s.tree::<StoredV1>("assessments").unwrap().insert(b"k", &old).unwrap();
        let a = s.tree::<Assessment>("assessments").unwrap().get(b"k").unwrap().unwrap();
        let expected = Assessment {
            id: "a1".into(),
            institution,
            course,
            title: "Quiz".into(),
            questions: vec![question],
            settings: Settings {
                time_limit_secs: Some(600),
                opens_at: Some(1),
                closes_at: Some(2),
                late_until: Some(3),
                per_late_day: 0.1,
                attempts_allowed: 5,
                per_try: 0.2,
                per_hint: 0.25,
                max_penalty: 0.5,
                shuffle_questions: true,
                shuffle_options: false,
                points: Some(10.0),
                proctoring: Some(policy),
                grading_method: GradingMethod::Highest,
            },
            published: true,
            version: 7,
            created_at: 100,
            updated_at: 200,
            archived_at: None,
        };
        assert_eq!(a, expected);
        // Written again, it is a version 2 record that reads back the same.
        let t = s.tree::<Assessment>("assessments").unwrap();
        let mut changed = a.clone();
        changed.settings.grading_method = GradingMethod::Average;
        changed.archived_at = Some(300);
        t.insert(b"k", &changed).unwrap();
        assert_eq!(t.get(b"k").unwrap(), Some(changed));
    }
}

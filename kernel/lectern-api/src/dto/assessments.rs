//! JSON shapes of assessments and attempts. Answer keys and responses use
//! the same snake_case JSON as `attempt.submitted` on the bus (the grading
//! contract), e.g. `{"single_choice": {"options": [...], "rule": "all_or_nothing"}}`
//! and `{"choices": ["a"]}`.

use std::collections::BTreeMap;

use lectern_core::assessments as a;
use lectern_host::slots::grading::{AnswerKey, Response};
use lectern_host::slots::proctoring::{Action, Policy, Signal, SignalKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::content::time_opt;
use super::rfc3339;
use crate::problem::ApiError;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    #[serde(default)]
    pub prompt: String,
    /// The answer key (grading contract JSON).
    #[schema(value_type = Object)]
    pub key: AnswerKey,
    pub points: f64,
    /// Display text of option, item and pair ids.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub hints: Vec<String>,
}

impl From<Question> for a::QuestionSpec {
    fn from(q: Question) -> Self {
        a::QuestionSpec { id: q.id, prompt: q.prompt, key: q.key, points: q.points, labels: q.labels, hints: q.hints }
    }
}

impl From<a::QuestionSpec> for Question {
    fn from(q: a::QuestionSpec) -> Self {
        Question { id: q.id, prompt: q.prompt, key: q.key, points: q.points, labels: q.labels, hints: q.hints }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub time_limit_secs: Option<u64>,
    /// RFC 3339.
    pub opens_at: Option<String>,
    /// The due time (RFC 3339).
    pub closes_at: Option<String>,
    /// Late attempts may start until then, losing `per_late_day` per started day after `closes_at`.
    pub late_until: Option<String>,
    pub per_late_day: f64,
    pub attempts_allowed: u32,
    pub per_try: f64,
    pub per_hint: f64,
    pub max_penalty: f64,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    /// Points the assessment is worth (question points are scaled); the sum of question points when absent.
    pub points: Option<f64>,
    /// Proctoring policy; absent: not proctored.
    pub proctoring: Option<ProctoringPolicy>,
}

/// How the proctoring plugin weighs signals and what happens above the threshold.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProctoringPolicy {
    /// Weight 0–1 by signal kind (`focus_lost`, `visibility_hidden`, `copy`, `paste`,
    /// `context_menu`, `fullscreen_exit`, `ip_changed`, `device_changed`, `heartbeat`,
    /// `concurrent_session`, `devtools_opened`); kinds left out get the plugin's defaults.
    #[serde(default)]
    pub weights: BTreeMap<String, f32>,
    /// Risk score (0–1) at which the attempt is flagged.
    pub flag_threshold: f32,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval_ms: u64,
    #[serde(default)]
    pub allow_copy_paste: bool,
    /// `record_only`, `flag_for_review`, or `lock_attempt` (the attempt is submitted above the threshold).
    #[schema(value_type = String)]
    pub action: Action,
}

fn default_heartbeat() -> u64 {
    15_000
}

impl ProctoringPolicy {
    fn into_core(self) -> Result<Policy, ApiError> {
        let mut weights = vec![];
        for (k, w) in self.weights {
            let kind: SignalKind = serde_json::from_value(serde_json::Value::String(k.clone())).map_err(|_| {
                ApiError::new(
                    &crate::problem::VALIDATION,
                    format!("`settings.proctoring.weights`: unknown signal kind `{k}`"),
                )
                .with("field", "settings.proctoring.weights")
            })?;
            weights.push((kind, w));
        }
        Ok(Policy {
            weights,
            flag_threshold: self.flag_threshold,
            heartbeat_interval_ms: self.heartbeat_interval_ms,
            allow_copy_paste: self.allow_copy_paste,
            action: self.action,
        })
    }
}

impl From<Policy> for ProctoringPolicy {
    fn from(p: Policy) -> Self {
        let name = |k: SignalKind| {
            serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        };
        ProctoringPolicy {
            weights: p.weights.into_iter().map(|(k, w)| (name(k), w)).collect(),
            flag_threshold: p.flag_threshold,
            heartbeat_interval_ms: p.heartbeat_interval_ms,
            allow_copy_paste: p.allow_copy_paste,
            action: p.action,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        a::Settings::default().into()
    }
}

impl From<a::Settings> for Settings {
    fn from(s: a::Settings) -> Self {
        Settings {
            time_limit_secs: s.time_limit_secs,
            opens_at: s.opens_at.map(rfc3339),
            closes_at: s.closes_at.map(rfc3339),
            late_until: s.late_until.map(rfc3339),
            per_late_day: s.per_late_day,
            attempts_allowed: s.attempts_allowed,
            per_try: s.per_try,
            per_hint: s.per_hint,
            max_penalty: s.max_penalty,
            shuffle_questions: s.shuffle_questions,
            shuffle_options: s.shuffle_options,
            points: s.points,
            proctoring: s.proctoring.map(Into::into),
        }
    }
}

impl Settings {
    pub fn into_core(self) -> Result<a::Settings, ApiError> {
        Ok(a::Settings {
            time_limit_secs: self.time_limit_secs,
            opens_at: time_opt("settings.opens_at", self.opens_at)?,
            closes_at: time_opt("settings.closes_at", self.closes_at)?,
            late_until: time_opt("settings.late_until", self.late_until)?,
            per_late_day: self.per_late_day,
            attempts_allowed: self.attempts_allowed,
            per_try: self.per_try,
            per_hint: self.per_hint,
            max_penalty: self.max_penalty,
            shuffle_questions: self.shuffle_questions,
            shuffle_options: self.shuffle_options,
            points: self.points,
            proctoring: self.proctoring.map(ProctoringPolicy::into_core).transpose()?,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessment {
    pub title: String,
    pub questions: Vec<Question>,
    #[serde(default)]
    pub settings: Settings,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssessment {
    pub title: Option<String>,
    pub questions: Option<Vec<Question>>,
    pub settings: Option<Settings>,
    pub published: Option<bool>,
}

/// An assessment with its keys (staff).
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub questions: Vec<Question>,
    pub settings: Settings,
    pub published: bool,
    pub version: u64,
    pub updated_at: String,
}

impl From<a::Assessment> for Assessment {
    fn from(x: a::Assessment) -> Self {
        Assessment {
            id: x.id,
            course_id: x.course.to_string(),
            title: x.title,
            questions: x.questions.into_iter().map(Into::into).collect(),
            settings: x.settings.into(),
            published: x.published,
            version: x.version,
            updated_at: rfc3339(x.updated_at),
        }
    }
}

/// What a student sees of an assessment before starting.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentSummary {
    pub id: String,
    pub title: String,
    pub questions: usize,
    pub settings: Settings,
    pub published: bool,
}

impl From<a::Assessment> for AssessmentSummary {
    fn from(x: a::Assessment) -> Self {
        AssessmentSummary {
            id: x.id,
            title: x.title,
            questions: x.questions.len(),
            settings: x.settings.into(),
            published: x.published,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentSummary>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartAttempt {
    /// Makes a retried start return the same attempt (the `Idempotency-Key` header works too).
    pub client_request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Choice {
    pub id: String,
    pub text: String,
}

/// A question as the student sees it: no key.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresentedQuestion {
    pub id: String,
    pub kind: String,
    pub prompt: String,
    pub points: f64,
    pub options: Vec<Choice>,
    pub targets: Vec<Choice>,
    pub blanks: usize,
    pub hints_available: usize,
    pub units: Vec<String>,
}

impl From<a::Presented> for PresentedQuestion {
    fn from(p: a::Presented) -> Self {
        let opts = |v: Vec<(String, String)>| v.into_iter().map(|(id, text)| Choice { id, text }).collect();
        PresentedQuestion {
            id: p.id,
            kind: p.kind.into(),
            prompt: p.prompt,
            points: p.points,
            options: opts(p.options),
            targets: opts(p.targets),
            blanks: p.blanks,
            hints_available: p.hints_available,
            units: p.units,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedAnswer {
    #[schema(value_type = Object)]
    pub response: Response,
    pub version: u64,
    pub saved_at: String,
}

impl From<a::Answer> for SavedAnswer {
    fn from(x: a::Answer) -> Self {
        SavedAnswer { response: x.response, version: x.version, saved_at: rfc3339(x.saved_at) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswer {
    /// The answer (grading contract JSON), e.g. `{"choices": ["b"]}` or `{"text": "Paris"}`.
    #[schema(value_type = Object)]
    pub response: Response,
    /// The client's save counter for this question: a save only replaces a lower version.
    pub version: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub id: String,
    pub assessment_id: String,
    pub title: String,
    pub number: u32,
    /// `in_progress` or `submitted`.
    pub state: String,
    pub started_at: String,
    pub deadline: Option<String>,
    pub time_left_secs: Option<i64>,
    pub submitted_at: Option<String>,
    /// `student` or `deadline`.
    pub submitted_by: Option<String>,
    pub questions: Vec<PresentedQuestion>,
    pub answers: BTreeMap<String, SavedAnswer>,
    /// Hints taken so far, by question.
    pub hints: BTreeMap<String, Vec<String>>,
}

impl From<a::AttemptView> for Attempt {
    fn from(v: a::AttemptView) -> Self {
        let at = v.attempt;
        Attempt {
            id: at.id,
            assessment_id: at.assessment,
            title: v.title,
            number: at.number,
            state: match at.state {
                a::AttemptState::InProgress => "in_progress",
                a::AttemptState::Submitted => "submitted",
            }
            .into(),
            started_at: rfc3339(at.started_at),
            deadline: at.deadline.map(rfc3339),
            time_left_secs: v.time_left_secs,
            submitted_at: at.submitted_at.map(rfc3339),
            submitted_by: at.submitted_by.map(|b| {
                match b {
                    a::SubmittedBy::Student => "student",
                    a::SubmittedBy::Deadline => "deadline",
                    a::SubmittedBy::Proctoring => "proctoring",
                }
                .into()
            }),
            questions: v.questions.into_iter().map(Into::into).collect(),
            answers: v.answers.into_iter().map(|(k, x)| (k, x.into())).collect(),
            hints: v.hints,
        }
    }
}

/// A numbered batch of integrity signals from the exam page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBatch {
    /// Grows by at least one per batch; a replayed or older number is refused.
    pub seq: u64,
    /// `{"kind": "focus_lost", "at_ms": …, "duration_ms": …, "detail": …}`.
    #[schema(value_type = Vec<Object>)]
    pub signals: Vec<Signal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `dismissed` or `confirmed`.
    pub decision: String,
    pub comment: String,
}

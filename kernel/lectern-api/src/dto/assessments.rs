//! JSON shapes of assessments and attempts. Answer keys and responses are
//! in [`super::answer_keys`].

use std::collections::BTreeMap;

use lectern_core::assessments as a;
use lectern_core::assessments::proctoring::{self, ClientInfo, Decision};
use lectern_host::slots::proctoring::{Action, Assessment as Scored, Policy, Severity, SignalKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answer_keys::{AnswerKey, AnswerResponse};
use super::content::time_opt;
use super::grades::GradingMethod;
use super::rfc3339;
use crate::problem::ApiError;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    #[serde(default)]
    pub prompt: String,
    /// The answer key; its type is the question's type.
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
        a::QuestionSpec {
            id: q.id,
            prompt: q.prompt,
            key: q.key.into(),
            points: q.points,
            labels: q.labels,
            hints: q.hints,
        }
    }
}

impl From<a::QuestionSpec> for Question {
    fn from(q: a::QuestionSpec) -> Self {
        Question { id: q.id, prompt: q.prompt, key: q.key.into(), points: q.points, labels: q.labels, hints: q.hints }
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
    /// Which attempts make the grade (default `highest`); changing it counts
    /// every student's attempts again.
    pub grading_method: GradingMethod,
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
    /// What happens at the threshold.
    pub action: ProctoringAction,
}

/// `record_only`: score and flags only; `flag_for_review`: the same, for the
/// review queue; `lock_attempt`: the attempt is submitted when its score
/// reaches the threshold. Every action puts such an attempt in the review queue.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProctoringAction {
    RecordOnly,
    FlagForReview,
    LockAttempt,
}

impl From<Action> for ProctoringAction {
    fn from(a: Action) -> Self {
        match a {
            Action::RecordOnly => Self::RecordOnly,
            Action::FlagForReview => Self::FlagForReview,
            Action::LockAttempt => Self::LockAttempt,
        }
    }
}

impl From<ProctoringAction> for Action {
    fn from(a: ProctoringAction) -> Self {
        match a {
            ProctoringAction::RecordOnly => Self::RecordOnly,
            ProctoringAction::FlagForReview => Self::FlagForReview,
            ProctoringAction::LockAttempt => Self::LockAttempt,
        }
    }
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
            action: self.action.into(),
        })
    }
}

impl From<Policy> for ProctoringPolicy {
    fn from(p: Policy) -> Self {
        let name = |k: SignalKind| super::signals::SignalKind::from(k).name().to_owned();
        ProctoringPolicy {
            weights: p.weights.into_iter().map(|(k, w)| (name(k), w)).collect(),
            flag_threshold: p.flag_threshold,
            heartbeat_interval_ms: p.heartbeat_interval_ms,
            allow_copy_paste: p.allow_copy_paste,
            action: p.action.into(),
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
            grading_method: s.grading_method.into(),
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
            grading_method: self.grading_method.into(),
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
    /// When it was archived (by a delete while students had attempts): its
    /// grades stay in the gradebook, no attempt can start.
    pub archived_at: Option<String>,
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
            archived_at: x.archived_at.map(rfc3339),
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
    /// Archived assessments are listed to staff only.
    pub archived_at: Option<String>,
}

impl From<a::Assessment> for AssessmentSummary {
    fn from(x: a::Assessment) -> Self {
        AssessmentSummary {
            id: x.id,
            title: x.title,
            questions: x.questions.len(),
            settings: x.settings.into(),
            published: x.published,
            archived_at: x.archived_at.map(rfc3339),
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
    /// For a `plugin` question: which plugin and type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginType>,
    /// For a `plugin` question: its view for this attempt (sanitised HTML
    /// whose form fields, as a JSON object, are the `fields` response).
    /// Absent while the plugin has not prepared the question: reading the
    /// attempt again retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<PluginView>,
}

/// A question type a plugin offers (`GET …/question-types`).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionType {
    /// The plugin's id: a `plugin` answer key's `plugin`.
    pub plugin: String,
    /// `id@version` of the plugin version that offers it.
    pub version: String,
    /// A `plugin` answer key's `type`.
    #[serde(rename = "type")]
    pub type_id: String,
    pub name: String,
    pub description: String,
    /// JSON Schema of the settings an author writes.
    #[schema(value_type = Object)]
    pub settings_schema: serde_json::Value,
    /// JSON Schema of a response (`fields`).
    #[schema(value_type = Object)]
    pub response_schema: serde_json::Value,
}

impl From<lectern_host::OfferedQuestionType> for QuestionType {
    fn from(t: lectern_host::OfferedQuestionType) -> Self {
        QuestionType {
            plugin: t.plugin,
            version: t.version,
            type_id: t.info.id,
            name: t.info.name,
            description: t.info.description,
            // Compiled at activation, so these parse.
            settings_schema: serde_json::from_str(&t.info.settings_schema).unwrap_or_default(),
            response_schema: serde_json::from_str(&t.info.response_schema).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionTypeList {
    pub items: Vec<QuestionType>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginType {
    pub plugin: String,
    #[serde(rename = "type")]
    pub type_id: String,
}

/// A plugin's view, already sanitised by the kernel (no script, no URL, no
/// style attribute; forms post nowhere).
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub html: String,
    /// Names of files from the plugin's package the view refers to.
    pub assets: Vec<String>,
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
            plugin: p.plugin.map(|(plugin, type_id)| PluginType { plugin, type_id }),
            view: p.view.map(|v| PluginView { html: v.html, assets: v.assets }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedAnswer {
    pub response: AnswerResponse,
    pub version: u64,
    pub saved_at: String,
}

impl From<a::Answer> for SavedAnswer {
    fn from(x: a::Answer) -> Self {
        SavedAnswer { response: x.response.into(), version: x.version, saved_at: rfc3339(x.saved_at) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswer {
    /// The answer, of the kind the question's key takes, e.g. `{"choices": ["b"]}` or `{"text": "Paris"}`.
    pub response: AnswerResponse,
    /// The client's save counter for this question: a save only replaces a lower version.
    pub version: u64,
}

#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    InProgress,
    Submitted,
}

/// Who submitted: the `student`, the `deadline` timer, or the `proctoring` policy (`lock_attempt`).
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmittedBy {
    Student,
    Deadline,
    Proctoring,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub id: String,
    pub assessment_id: String,
    pub title: String,
    pub number: u32,
    pub state: AttemptState,
    pub started_at: String,
    pub deadline: Option<String>,
    pub time_left_secs: Option<i64>,
    pub submitted_at: Option<String>,
    pub submitted_by: Option<SubmittedBy>,
    pub questions: Vec<PresentedQuestion>,
    pub answers: BTreeMap<String, SavedAnswer>,
    /// Hints taken so far, by question.
    pub hints: BTreeMap<String, Vec<String>>,
    /// A staff preview (`POST …/preview`): graded for the previewer only, never a grade.
    pub preview: bool,
}

fn attempt_state(s: a::AttemptState) -> AttemptState {
    match s {
        a::AttemptState::InProgress => AttemptState::InProgress,
        a::AttemptState::Submitted => AttemptState::Submitted,
    }
}

fn submitted_by(b: a::SubmittedBy) -> SubmittedBy {
    match b {
        a::SubmittedBy::Student => SubmittedBy::Student,
        a::SubmittedBy::Deadline => SubmittedBy::Deadline,
        a::SubmittedBy::Proctoring => SubmittedBy::Proctoring,
    }
}

/// One of the caller's attempts, without its questions and answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptSummary {
    pub id: String,
    pub number: u32,
    pub state: AttemptState,
    pub started_at: String,
    pub deadline: Option<String>,
    pub submitted_at: Option<String>,
    pub submitted_by: Option<SubmittedBy>,
}

impl From<a::Attempt> for AttemptSummary {
    fn from(at: a::Attempt) -> Self {
        AttemptSummary {
            id: at.id,
            number: at.number,
            state: attempt_state(at.state),
            started_at: rfc3339(at.started_at),
            deadline: at.deadline.map(rfc3339),
            submitted_at: at.submitted_at.map(rfc3339),
            submitted_by: at.submitted_by.map(submitted_by),
        }
    }
}

/// The caller's attempts at an assessment, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAttempts {
    pub items: Vec<AttemptSummary>,
}

impl From<a::AttemptView> for Attempt {
    fn from(v: a::AttemptView) -> Self {
        let at = v.attempt;
        Attempt {
            id: at.id,
            assessment_id: at.assessment,
            title: v.title,
            number: at.number,
            state: attempt_state(at.state),
            started_at: rfc3339(at.started_at),
            deadline: at.deadline.map(rfc3339),
            time_left_secs: v.time_left_secs,
            submitted_at: at.submitted_at.map(rfc3339),
            submitted_by: at.submitted_by.map(submitted_by),
            questions: v.questions.into_iter().map(Into::into).collect(),
            answers: v.answers.into_iter().map(|(k, x)| (k, x.into())).collect(),
            hints: v.hints,
            preview: at.preview,
        }
    }
}

/// A numbered batch of integrity signals from the exam page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBatch {
    /// Grows by at least one per batch; a replayed or older number is refused.
    pub seq: u64,
    pub signals: Vec<super::signals::Signal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    /// Why (1–4,000 characters); kept in the attempt's audit trail and shown to its student.
    pub comment: String,
}

/// A reviewer's decision on a flagged attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The flags do not indicate misconduct.
    Dismissed,
    /// The reviewer upholds the flags.
    Confirmed,
}

impl From<ReviewDecision> for Decision {
    fn from(d: ReviewDecision) -> Self {
        match d {
            ReviewDecision::Dismissed => Decision::Dismissed,
            ReviewDecision::Confirmed => Decision::Confirmed,
        }
    }
}

impl From<Decision> for ReviewDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Dismissed => ReviewDecision::Dismissed,
            Decision::Confirmed => ReviewDecision::Confirmed,
        }
    }
}

/// A review in an attempt's audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    pub decision: ReviewDecision,
    pub comment: String,
    /// The reviewer's user id.
    pub by: String,
    /// Unix seconds.
    pub at: i64,
}

/// `low`, `medium` or `high`.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagSeverity {
    Low,
    Medium,
    High,
}

/// One rule's flag, with its reason and evidence (plain text: escape it in HTML).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProctoringFlag {
    /// A stable rule id, e.g. `away`, `paste`, `device-changed`; `risk-threshold`
    /// when the score reached the threshold.
    pub id: String,
    pub severity: FlagSeverity,
    pub reason: String,
    pub evidence: Vec<String>,
    /// When the flag's condition first held (ms since the epoch, the client's clock).
    pub at_ms: u64,
}

/// The proctoring plugin's latest scoring of an attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProctoringScore {
    /// 0–1.
    pub risk_score: f32,
    pub flags: Vec<ProctoringFlag>,
    /// Sentences for the student and the reviewer.
    pub explanation: Vec<String>,
    /// The `lock_attempt` policy submitted (or would submit) the attempt.
    pub lock: bool,
}

impl From<Scored> for ProctoringScore {
    fn from(s: Scored) -> Self {
        ProctoringScore {
            risk_score: s.risk_score,
            flags: s
                .flags
                .into_iter()
                .map(|f| ProctoringFlag {
                    id: f.id,
                    severity: match f.severity {
                        Severity::Low => FlagSeverity::Low,
                        Severity::Medium => FlagSeverity::Medium,
                        Severity::High => FlagSeverity::High,
                    },
                    reason: f.reason,
                    evidence: f.evidence,
                    at_ms: f.at_ms,
                })
                .collect(),
            explanation: s.explanation,
            lock: s.lock,
        }
    }
}

/// What the server saw of the client that sent a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProctoringClient {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The login session the batch came with.
    pub session: Option<String>,
}

impl From<ClientInfo> for ProctoringClient {
    fn from(c: ClientInfo) -> Self {
        ProctoringClient { ip: c.ip, user_agent: c.user_agent, session: c.session }
    }
}

/// One attempt's proctoring record: its latest scoring and every review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProctoringState {
    pub institution: String,
    pub course: String,
    pub assessment: String,
    pub attempt: String,
    pub student: String,
    /// The last batch's `seq`.
    pub last_seq: u64,
    /// How many batches were stored.
    pub batches: u64,
    /// The first batch's client, against which changes are detected.
    pub first_client: Option<ProctoringClient>,
    pub opened: bool,
    pub scored: Option<ProctoringScore>,
    /// Unix seconds.
    pub scored_at: Option<i64>,
    /// Why the latest batch could not be scored (it is stored all the same).
    pub plugin_error: Option<String>,
    /// Every review, oldest first.
    pub reviews: Vec<Review>,
    /// The last batch the plugin has scored. Batches are scored just after
    /// they are acknowledged, so the answer to a batch usually shows the
    /// scoring before it: `scored_seq < last_seq` while scoring is pending.
    pub scored_seq: u64,
}

impl From<proctoring::ProctorState> for ProctoringState {
    fn from(s: proctoring::ProctorState) -> Self {
        ProctoringState {
            institution: s.institution.to_string(),
            course: s.course.to_string(),
            assessment: s.assessment,
            attempt: s.attempt,
            student: s.student.to_string(),
            last_seq: s.last_seq,
            batches: s.batches,
            first_client: s.first_client.map(Into::into),
            opened: s.opened,
            scored: s.scored.map(Into::into),
            scored_at: s.scored_at,
            plugin_error: s.plugin_error,
            scored_seq: s.scored_seq,
            reviews: s
                .reviews
                .into_iter()
                .map(|r| Review { decision: r.decision.into(), comment: r.comment, by: r.by.to_string(), at: r.at })
                .collect(),
        }
    }
}

/// A stored batch of signals: the client's, then the server's derived ones.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredSignalBatch {
    pub seq: u64,
    /// Unix seconds.
    pub received_at: i64,
    pub client: ProctoringClient,
    pub signals: Vec<super::signals::Signal>,
}

/// Everything recorded about an attempt's integrity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProctoringRecord {
    pub state: ProctoringState,
    pub batches: Vec<StoredSignalBatch>,
}

impl From<proctoring::ProctorRecord> for ProctoringRecord {
    fn from(r: proctoring::ProctorRecord) -> Self {
        ProctoringRecord {
            state: r.state.into(),
            batches: r
                .batches
                .into_iter()
                .map(|b| StoredSignalBatch {
                    seq: b.seq,
                    received_at: b.received_at,
                    client: b.client.into(),
                    signals: b.signals.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

/// Which flagged attempts the review queue lists.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
pub enum ReviewedFilter {
    /// Not reviewed yet (the default): what waits for a reviewer.
    #[default]
    #[serde(rename = "false")]
    Unreviewed,
    /// Reviewed at least once.
    #[serde(rename = "true")]
    Reviewed,
    /// Both.
    #[serde(rename = "all")]
    All,
}

impl From<ReviewedFilter> for proctoring::ReviewFilter {
    fn from(f: ReviewedFilter) -> Self {
        match f {
            ReviewedFilter::Unreviewed => Self::Unreviewed,
            ReviewedFilter::Reviewed => Self::Reviewed,
            ReviewedFilter::All => Self::All,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlaggedQuery {
    /// `false` (the default): attempts nobody has reviewed; `true`: reviewed
    /// ones; `all`: both.
    #[serde(default)]
    #[param(inline)]
    pub reviewed: ReviewedFilter,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    /// Wait up to this many seconds (0–20, default 0) for a submitted
    /// attempt's grading before answering 404: a page waiting for its result
    /// asks once instead of polling.
    #[serde(default)]
    pub wait_secs: u64,
}

/// An attempt in the review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlaggedAttempt {
    #[serde(flatten)]
    pub state: ProctoringState,
    /// The assessment's current `flag_threshold` (absent: no longer proctored).
    pub flag_threshold: Option<f32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlaggedAttempts {
    /// Highest risk first.
    pub items: Vec<FlaggedAttempt>,
}

impl From<Vec<proctoring::Flagged>> for FlaggedAttempts {
    fn from(v: Vec<proctoring::Flagged>) -> Self {
        FlaggedAttempts {
            items: v
                .into_iter()
                .map(|f| FlaggedAttempt { state: f.state.into(), flag_threshold: f.flag_threshold })
                .collect(),
        }
    }
}

/// What `DELETE /assessments/{id}` did when it could not delete: students had
/// attempts or grades, so the assessment is archived (returned) instead.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentArchived {
    /// Always `archived`.
    pub outcome: RemovalOutcome,
    pub assessment: Assessment,
}

/// `archived`: kept for its grades, no attempt can start.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovalOutcome {
    Archived,
}

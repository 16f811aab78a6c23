//! Version-free types of the slot interfaces. The kernel speaks these; the
//! host converts them to and from whichever WIT version a plugin was built
//! against (`crate::wit::v0_1`, `crate::wit::v0_2`). A field only one
//! version has lives here too; the other version's conversion fills a
//! default or drops it, as its module says.

/// Who a plugin call is for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallContext {
    pub institution: String,
    pub user: Option<String>,
    pub course: Option<String>,
    /// The course item the call is about (an assessment, an activity), if any (0.2 on).
    pub item: Option<String>,
    pub roles: Vec<String>,
    pub locale: String,
    pub request_id: String,
    /// Limits on what the plugin's vector queries may return during this
    /// call, imposed by the kernel (e.g. only items a student may see).
    pub vector_scope: Vec<VectorScope>,
}

/// What a delivered event is about (0.2's `event-context`; 0.1 plugins get
/// the topic only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventContext {
    pub institution: String,
    /// Who caused it; `None` for the system.
    pub actor: Option<String>,
    pub course: Option<String>,
    pub topic: String,
    /// The bus message id; the same id may be delivered again.
    pub message_id: String,
    pub occurred_at_ms: u64,
    pub locale: String,
}

/// Only points whose metadata `key` has one of `any_of`; combined with the
/// plugin's own filter during the search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorScope {
    pub key: String,
    pub any_of: Vec<String>,
}

/// An error a plugin returned on purpose (as opposed to a fault).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuestError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("denied: {0}")]
    Denied(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub data_version: u32,
}

/// Serialisable (snake_case JSON) because submissions travel on the bus in `attempt.submitted`.
pub mod grading {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MultiRule {
        AllOrNothing,
        RightMinusWrong,
        PerOptionWeights,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct ChoiceOption {
        pub id: String,
        pub correct: bool,
        pub weight: f64,
        pub feedback: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct ChoiceKey {
        pub options: Vec<ChoiceOption>,
        pub rule: MultiRule,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Unit {
        pub name: String,
        pub factor: f64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct NumericKey {
        pub value: f64,
        pub absolute_tolerance: Option<f64>,
        pub relative_tolerance: Option<f64>,
        pub units: Vec<Unit>,
        pub unit_missing_credit: f64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct TextAlternative {
        pub pattern: String,
        pub regex: bool,
        pub credit: f64,
        pub feedback: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct TextKey {
        pub alternatives: Vec<TextAlternative>,
        pub case_sensitive: bool,
        pub normalize_whitespace: bool,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Pair {
        pub left: String,
        pub right: String,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct RubricCriterion {
        pub id: String,
        pub description: String,
        pub points: f64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AnswerKey {
        SingleChoice(ChoiceKey),
        MultipleChoice(ChoiceKey),
        TrueFalse(bool),
        Numeric(NumericKey),
        ShortAnswer(TextKey),
        Matching(Vec<Pair>),
        Ordering(Vec<String>),
        FillBlanks(Vec<TextKey>),
        Essay(Vec<RubricCriterion>),
        /// A question of a type a question-type plugin provides (0.2 on). The
        /// kernel grades it through that plugin, never through the grading
        /// slot. Appended: keys are stored by variant index.
        Plugin(PluginKey),
    }

    /// Which plugin's question type, and the author's settings for it.
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct PluginKey {
        /// The plugin's id (reverse DNS), e.g. `org.example.formula`.
        pub plugin: String,
        /// The type's id within the plugin, e.g. `formula`.
        pub type_id: String,
        /// JSON text (an object), valid against the type's settings schema when saved.
        pub settings: String,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Response {
        Choices(Vec<String>),
        Boolean(bool),
        Number {
            value: f64,
            unit: Option<String>,
        },
        Text(String),
        Pairs(Vec<Pair>),
        Sequence(Vec<String>),
        Blanks(Vec<String>),
        Essay(String),
        /// The answer to a plugin's question type: the view's form fields as a
        /// JSON object (text). Appended: responses are stored by variant index.
        Fields(String),
    }

    #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Penalties {
        pub previous_tries: u32,
        pub per_try: f64,
        pub hints_used: u32,
        pub per_hint: f64,
        pub late_seconds: u64,
        pub per_late_day: f64,
        pub max_total: f64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Question {
        pub id: String,
        pub key: AnswerKey,
        pub points: f64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Submission {
        pub question: Question,
        pub response: Option<Response>,
        pub penalties: Penalties,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Status {
        Graded,
        NeedsManualGrading,
        InvalidResponse,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Feedback {
        pub target: Option<String>,
        pub message: String,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Graded {
        pub question_id: String,
        pub status: Status,
        pub points: f64,
        pub max_points: f64,
        pub raw_fraction: f64,
        pub feedback: Vec<Feedback>,
        pub explanation: Vec<String>,
    }
}

/// Serialisable (snake_case JSON) because the kernel stores signals and assessments.
pub mod proctoring {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SignalKind {
        FocusLost,
        FocusRegained,
        VisibilityHidden,
        VisibilityVisible,
        Copy,
        Paste,
        ContextMenu,
        FullscreenExit,
        IpChanged,
        DeviceChanged,
        Heartbeat,
        ConcurrentSession,
        DevtoolsOpened,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Signal {
        pub kind: SignalKind,
        pub at_ms: u64,
        pub duration_ms: Option<u64>,
        pub detail: Option<String>,
    }

    /// Where a batch came from, reduced to what a plugin may see: the
    /// client's network (IPv4 /24, IPv6 /64), never its address; a hash of
    /// the user agent, to compare, never to show.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Client {
        pub network: Option<String>,
        pub user_agent_hash: Option<String>,
        pub session: Option<String>,
    }

    impl Client {
        /// From what the kernel saw of the request: the network it computed
        /// from the address, the user agent (kept only as its hash), the session.
        pub fn observed(network: Option<String>, user_agent: Option<&str>, session: Option<&str>) -> Client {
            Client {
                network,
                user_agent_hash: user_agent.map(|ua| crate::engine::sha256_hex(ua.as_bytes())),
                session: session.map(str::to_owned),
            }
        }
    }

    /// One batch as the client sent it, in `seq` order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Batch {
        pub seq: u64,
        pub received_at_ms: u64,
        pub client: Client,
        pub signals: Vec<Signal>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        RecordOnly,
        FlagForReview,
        LockAttempt,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Policy {
        pub weights: Vec<(SignalKind, f32)>,
        pub flag_threshold: f32,
        pub heartbeat_interval_ms: u64,
        pub allow_copy_paste: bool,
        pub action: Action,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Severity {
        Low,
        Medium,
        High,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Flag {
        pub id: String,
        pub severity: Severity,
        pub reason: String,
        pub evidence: Vec<String>,
        pub at_ms: u64,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub struct Assessment {
        pub risk_score: f32,
        pub flags: Vec<Flag>,
        pub explanation: Vec<String>,
        pub lock: bool,
    }
}

/// An HTML fragment a plugin returns for a page, with the names of static
/// assets from its own package that it refers to. Sanitised by the kernel
/// before any browser sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub html: String,
    pub assets: Vec<String>,
}

/// Question types plugins add to assessments (0.2's `question-type` interface).
pub mod question {
    use super::View;
    use super::grading::{Feedback, Status};

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct TypeInfo {
        pub id: String,
        pub name: String,
        pub description: String,
        /// JSON Schema (text) of the author's settings.
        pub settings_schema: String,
        /// JSON Schema (text) of a response.
        pub response_schema: String,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct Question {
        pub id: String,
        pub type_id: String,
        /// JSON text.
        pub settings: String,
        pub points: f64,
    }

    /// One attempt's version of a question: `data` for grading (never shown
    /// to the student), `view` for the student.
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Instance {
        pub data: String,
        pub view: View,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct ToGrade {
        pub question: Question,
        /// The instance's `data`.
        pub instance: String,
        /// JSON text; `None` when unanswered.
        pub response: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct Graded {
        pub question_id: String,
        pub status: Status,
        /// In [0, 1], before penalties (the kernel applies them).
        pub fraction: f64,
        pub feedback: Vec<Feedback>,
        pub explanation: Vec<String>,
    }
}

pub mod content {
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Heading {
        pub level: u8,
        pub text: String,
        pub anchor: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct RenderedPage {
        pub html: String,
        pub toc: Vec<Heading>,
        pub words: u32,
        pub reading_minutes: u32,
        pub text: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ItemKind {
        Page,
        Video,
        File,
        Link,
        Assessment,
        /// A plugin's activity: `plugin-id/kind-id`. 0.1 content plugins,
        /// whose `item-kind` has no such case, see it as a `link`.
        Activity(String),
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Prerequisite {
        Completed(String),
        ScoredAtLeast(String, f64),
    }

    #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum CompletionRule {
        #[default]
        Viewed,
        Manual,
        MinScore(f64),
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        pub id: String,
        pub kind: ItemKind,
        pub title: String,
        #[serde(default)]
        pub prerequisites: Vec<Prerequisite>,
        #[serde(default)]
        pub release_at_ms: Option<u64>,
        #[serde(default)]
        pub completion: CompletionRule,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Module {
        pub id: String,
        pub title: String,
        #[serde(default)]
        pub items: Vec<Item>,
        #[serde(default)]
        pub release_at_ms: Option<u64>,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Progress {
        pub item_id: String,
        pub completed: bool,
        #[serde(default)]
        pub score: Option<f64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Visibility {
        pub item_id: String,
        pub visible: bool,
        pub locked: bool,
        pub reason: Option<String>,
    }
}

pub mod tutoring {
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Document {
        pub id: String,
        pub course: String,
        pub item: String,
        pub title: String,
        pub text: String,
        pub language: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Turn {
        pub question: String,
        pub answer: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Question {
        pub text: String,
        pub course: String,
        #[serde(default)]
        pub history: Vec<Turn>,
        /// The assessment whose attempt the student has open (0.1 plugins see
        /// only whether it is proctored).
        #[serde(default)]
        pub open_assessment: Option<OpenAssessment>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct OpenAssessment {
        pub id: String,
        pub title: String,
        pub proctored: bool,
        /// Item ids of the material it covers, when the instructor said so.
        #[serde(default)]
        pub covers: Vec<String>,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Citation {
        pub document_id: String,
        pub item: String,
        pub title: String,
        pub excerpt: String,
        pub score: f32,
        /// The section's heading and anchor (0.2 plugins; `None` from 0.1).
        pub heading: Option<String>,
        pub anchor: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Answer {
        pub text: String,
        pub citations: Vec<Citation>,
        pub refusal: Option<String>,
    }
}

/// Kinds of learning activity plugins add to course outlines (0.2's `activity` interface).
pub mod activity {
    use super::View;

    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Kind {
        pub id: String,
        pub name: String,
        pub description: String,
        /// JSON Schema (text) of an item's settings.
        pub settings_schema: String,
        /// Whether items of this kind report scores to the gradebook.
        pub graded: bool,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Item {
        pub id: String,
        pub kind: String,
        pub title: String,
        /// JSON text, valid against the kind's settings schema.
        pub settings: String,
        pub settings_revision: u32,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct LearnerState {
        pub data: Vec<u8>,
        pub version: u64,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Action {
        pub name: String,
        /// JSON text (an object).
        pub payload: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Outcome {
        /// The new state; `None` leaves it as it was.
        pub state: Option<Vec<u8>>,
        pub view: Option<View>,
        pub message: Option<String>,
    }

    /// What an `act` asked of the gradebook through the `gradebook` import,
    /// in order; the kernel applies it after the call (and only if it keeps
    /// the call's new state).
    #[derive(Clone, Debug, PartialEq)]
    pub enum Effect {
        Score { learner: String, points: f64, max_points: f64, feedback: Option<String> },
        Complete { learner: String },
    }

    /// An `act`'s result and its gradebook effects.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Acted {
        pub outcome: Outcome,
        pub effects: Vec<Effect>,
    }
}

//! The events the kernel publishes and consumes, and its handles on the bus.
//!
//! Topic names are part of the public contract (plugins subscribe to them,
//! webhooks deliver them): they are only ever added, never renamed. Payloads
//! are JSON objects; new fields may be added, existing ones keep their meaning.

use std::sync::Arc;

use lectern_bus::embedded::{EmbeddedBus, EmbeddedOptions};
use lectern_bus::idempotency::Processed;
use lectern_bus::outbox::Outbox;
use lectern_bus::{Bus, Outgoing};
use lectern_host::slots::grading::{AnswerKey, Submission};
use lectern_storage::{Store, Tx, TxInternal};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};

pub mod topics {
    /// An attempt was submitted and waits for automatic grading.
    pub const ATTEMPT_SUBMITTED: &str = "attempt.submitted";
    /// A grade was stored in the gradebook (by a grader or a person).
    pub const GRADE_RECORDED: &str = "grade.recorded";
    /// Automatic grading gave up after its retries; an instructor must look.
    pub const GRADING_FAILED: &str = "grading.failed";
    /// A student met a course's completion rule.
    pub const COURSE_COMPLETED: &str = "course.completed";
    /// A course credential was issued.
    pub const CREDENTIAL_ISSUED: &str = "credential.issued";
    /// A course's content changed (outline or page sources); the tutor's index follows it.
    pub const CONTENT_CHANGED: &str = "content.changed";
    /// An activity's plugin scored a learner on an activity item; the
    /// gradebook records it (`grade.recorded` follows).
    pub const ACTIVITY_SCORED: &str = "activity.scored";
    /// Internal: one email to send.
    pub const EMAIL_REQUESTED: &str = "notification.email";
    /// Internal: one webhook delivery to make.
    pub const WEBHOOK_REQUESTED: &str = "notification.webhook";

    /// Event kinds a person or a webhook can be notified about.
    pub const NOTIFIABLE: &[&str] = &[GRADE_RECORDED, GRADING_FAILED, COURSE_COMPLETED, CREDENTIAL_ISSUED];
}

/// `attempt.submitted`: everything the grader needs, so grading never reads
/// assessment state that may have changed since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptSubmitted {
    pub institution: InstitutionId,
    pub course: CourseId,
    /// The gradebook item (an assessment id).
    pub item: String,
    pub attempt: String,
    pub student: UserId,
    pub submitted_at: i64,
    pub submissions: Vec<Submission>,
    /// Points the item is worth; question points are scaled to this. `None` keeps their sum.
    #[serde(default)]
    pub item_points: Option<f64>,
    /// Set on a regrade: who asked and why.
    #[serde(default)]
    pub regrade: Option<RegradeReason>,
    /// A staff member's preview attempt: graded for them, never recorded in the gradebook.
    #[serde(default)]
    pub preview: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegradeReason {
    pub by: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStatus {
    Graded,
    /// Some answers (essays) wait for a person; the points so far are partial.
    NeedsManualGrading,
    /// Automatic grading gave up; see `error`.
    GradingFailed,
}

/// `grade.recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeRecorded {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub item: String,
    pub student: UserId,
    pub attempt: Option<String>,
    pub points: f64,
    pub max_points: f64,
    pub status: GradeStatus,
    pub previous_points: Option<f64>,
    pub graded_by: String,
    pub revision: u32,
    pub reason: String,
}

/// `activity.scored`: what an activity plugin's `gradebook.record-score`
/// asked during an action the kernel kept (staged with the learner's new
/// state, in the same transaction).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityScored {
    pub institution: InstitutionId,
    pub course: CourseId,
    /// The activity item (its id is the gradebook item).
    pub item: String,
    pub student: UserId,
    pub points: f64,
    pub max_points: f64,
    pub feedback: Option<String>,
    /// `plugin:<id>@<version>`.
    pub by: String,
    /// Who acted: the learner themself, or the staff member acting for them.
    pub actor: UserId,
    /// The learner state version the action produced.
    pub state_version: u64,
}

/// `grading.failed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradingFailed {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub item: String,
    pub student: UserId,
    pub attempt: String,
    pub error: String,
}

/// `course.completed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseCompleted {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub student: UserId,
    pub percent: f64,
    pub completed_at: i64,
}

impl lectern_storage::Record for CourseCompleted {
    const VERSION: u8 = 1;
}

/// `credential.issued`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialIssued {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub student: UserId,
    pub credential: String,
    pub url: String,
}

/// `content.changed`: the course's outline is now at `version`. Consumers
/// reconcile against the current content, so redelivery and coalescing are safe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentChanged {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub version: u64,
}

/// New answer keys for a regrade, by question id.
pub type KeyChanges = std::collections::BTreeMap<String, AnswerKey>;

/// The kernel's bus handles.
pub struct BusHandles {
    pub embedded: EmbeddedBus,
    /// The bus workers use: the embedded one, or Pulsar once connected.
    pub active: std::sync::OnceLock<Arc<dyn Bus>>,
    pub outbox: Outbox,
    pub processed: Processed,
    /// Per-worker counters, filled by `start_background`.
    pub worker_counters: std::sync::Mutex<Vec<(String, Arc<lectern_bus::worker::WorkerCounters>)>>,
}

impl BusHandles {
    pub fn open(store: &Store) -> Result<BusHandles, lectern_bus::BusError> {
        Ok(BusHandles {
            embedded: EmbeddedBus::open(store, EmbeddedOptions::default())?,
            active: std::sync::OnceLock::new(),
            outbox: Outbox::open(store, "outbox")?,
            processed: Processed::open(store)?,
            worker_counters: Default::default(),
        })
    }
}

/// The message [`stage`] would stage, built outside a transaction (so the
/// serialising is not done while the transaction holds its locks).
pub fn outgoing<T: Serialize>(topic: &str, key: &str, event: &T) -> Outgoing {
    // Serialising these plain structs cannot fail (no maps with non-string keys).
    Outgoing::new(topic, key, serde_json::to_vec(event).unwrap_or_default())
}

/// Stages `event` on `topic` in the outbox inside `tx`.
pub fn stage<T: Serialize>(
    outbox: &Outbox,
    tx: &Tx<'_>,
    id: u64,
    topic: &str,
    key: &str,
    event: &T,
) -> Result<String, TxInternal> {
    outbox.stage(tx, id, outgoing(topic, key, event))
}

pub fn bus_error(e: lectern_bus::BusError) -> CoreError {
    match e {
        lectern_bus::BusError::Storage(s) => CoreError::Storage(s),
        lectern_bus::BusError::InvalidName(n) => CoreError::invalid("topic", format!("`{n}` is not a valid name")),
        lectern_bus::BusError::UnknownSubscription { .. } => CoreError::NotFound("subscription"),
        other => CoreError::internal("the event bus failed", other),
    }
}

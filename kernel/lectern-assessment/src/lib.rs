//! The assessment context: assessments and their questions, attempts and
//! answers, exam proctoring (signals, risk, review), the gradebook
//! (automatic and manual grades, attempt results, categories and totals),
//! course completion rules, and the Open Badges 3.0 credentials completion
//! awards (issuer keys, status lists, verification).
//!
//! Key types: [`Assessments`] (the context, cheap to clone),
//! [`assessments::Assessment`], [`assessments::Attempt`],
//! [`gradebook::GradeEntry`].
//!
//! Invariants:
//! - Owns the trees listed in `Trees`; no other crate opens them. Other
//!   contexts read grades and assessments through [`Assessments`]'
//!   functions (`learner_scores`, `assessment_title`, ...).
//! - An answer acknowledged to a student is durable before the response.
//! - Grading runs through the grader plugin on the bus (`attempt.submitted`),
//!   never inline in a request; a grade change stages its `grade.recorded`
//!   event in the same transaction.

pub mod assessments;
pub mod completion;
pub mod credentials;
pub mod gradebook;
pub mod privacy;

use std::sync::Arc;

use lectern_domain::{CoreError, Env, Principal, authz, error, events, ids, keys};
use lectern_identity::Identity;

/// The assessment context over one database. Cheap to clone.
#[derive(Clone)]
pub struct Assessments {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    /// Public base URL: credential ids and status lists are URLs under it.
    issuer: String,
    identity: Identity,
    host: lectern_host::Host,
    t: Trees,
    /// In-memory exam observations (answer bursts) awaiting the next signal batch.
    exam_watch: assessments::proctoring::Watch,
    /// Attempts with proctoring batches to score (see `assessments::scoring`).
    scoring: assessments::scoring::ScoringQueue,
    /// Orders an attempt's answer saves, signal batches and submit (see `AttemptLocks`).
    attempt_locks: assessments::attempts::AttemptLocks,
    /// Decoded assessments by storage key, checked against the stored bytes on every read.
    assessment_cache: lectern_storage::DecodeCache<assessments::Assessment>,
}

impl Assessments {
    pub fn open(
        env: Env,
        issuer: String,
        identity: Identity,
        host: lectern_host::Host,
    ) -> Result<Assessments, CoreError> {
        let t = Trees::open(&env.store)?;
        Ok(Assessments {
            inner: Arc::new(Inner {
                env,
                issuer,
                identity,
                host,
                t,
                exam_watch: Default::default(),
                scoring: Default::default(),
                attempt_locks: Default::default(),
                assessment_cache: lectern_storage::DecodeCache::new(256),
            }),
        })
    }

    /// Creates the assessment context's trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    fn host(&self) -> &lectern_host::Host {
        &self.inner.host
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }
}

lectern_domain::context_helpers!(Assessments);

/// The assessment context's trees, opened once; private to this crate.
struct Trees {
    grades: lectern_storage::Tree<gradebook::GradeEntry>,
    submissions: lectern_storage::Tree<gradebook::StoredSubmission>,
    manual_grades: lectern_storage::Tree<gradebook::manual::ManualGrade>,
    grade_attempts: lectern_storage::Tree<gradebook::attempts::AttemptResults>,
    grade_categories: lectern_storage::Tree<gradebook::totals::GradeCategories>,
    assessments: lectern_storage::Tree<assessments::Assessment>,
    assessment_index: lectern_storage::Tree<assessments::Located>,
    attempts: lectern_storage::Tree<assessments::Attempt>,
    attempts_by_student: lectern_storage::Tree<String>,
    attempt_starts: lectern_storage::Tree<String>,
    answers: lectern_storage::Tree<assessments::Answer>,
    /// Attempts' instances of plugin questions (`plugin_questions`).
    question_instances: lectern_storage::Tree<assessments::plugin_questions::StoredInstance>,
    attempt_deadlines: lectern_storage::Tree<()>,
    /// Staff previews' results, by attempt: never a grade.
    preview_results: lectern_storage::Tree<gradebook::attempts::AttemptResult>,
    proctor_states: lectern_storage::Tree<assessments::proctoring::ProctorState>,
    proctor_batches: lectern_storage::Tree<assessments::proctoring::SignalBatch>,
    completion_rules: lectern_storage::Tree<completion::CompletionRule>,
    completions: lectern_storage::Tree<events::CourseCompleted>,
    issuer_keys: lectern_storage::Tree<credentials::IssuerKey>,
    status_lists: lectern_storage::Tree<credentials::StatusListState>,
    credentials: lectern_storage::Tree<credentials::CredentialRecord>,
    credentials_by_award: lectern_storage::Tree<String>,
    credentials_by_user: lectern_storage::Tree<String>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            grades: s.tree("grades")?,
            submissions: s.tree("grade_submissions")?,
            manual_grades: s.tree("grade_manual")?,
            grade_attempts: s.tree("grade_attempts")?,
            grade_categories: s.tree("grade_categories")?,
            assessments: s.tree("assessments")?,
            assessment_index: s.tree("assessment_index")?,
            attempts: s.tree("attempts")?,
            attempts_by_student: s.tree("attempts_by_student")?,
            attempt_starts: s.tree("attempt_starts")?,
            answers: s.tree("attempt_answers")?,
            question_instances: s.tree("attempt_question_instances")?,
            attempt_deadlines: s.tree("attempt_deadlines")?,
            preview_results: s.tree("preview_results")?,
            proctor_states: s.tree("proctor_states")?,
            proctor_batches: s.tree("proctor_batches")?,
            completion_rules: s.tree("completion_rules")?,
            completions: s.tree("completions")?,
            issuer_keys: s.sealed_tree("credential_issuer_keys")?,
            status_lists: s.tree("credential_status_lists")?,
            credentials: s.tree("credentials")?,
            credentials_by_award: s.tree("credentials_by_award")?,
            credentials_by_user: s.tree("credentials_by_user")?,
        })
    }
}

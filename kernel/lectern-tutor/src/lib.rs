//! The tutor context: course-grounded question answering. A course's pages
//! are indexed by the tutoring plugin into the vector index (through the
//! host's `vector` and `embed` services); a student's question is answered
//! from the passages of items the student may open, with citations;
//! instructors see what was asked (insights) under the course's policy.
//!
//! Key types: [`Tutor`] (the context, cheap to clone), [`tutor::TutorTurn`],
//! [`tutor::TutorSettings`].
//!
//! Invariants:
//! - Owns the tutor trees; reads outlines and pages through
//!   `lectern_content`, never their trees.
//! - The only crate that starts the vector index and the embedder
//!   ([`tutor::attach_retrieval`]); plugins reach them only through the host.
//! - A student never gets an answer from an item they may not open, nor any
//!   answer while an attempt of theirs is open in the course.

pub mod privacy;
pub mod tutor;

use std::sync::Arc;

use lectern_assessment::Assessments;
use lectern_content::Content;
use lectern_domain::{CoreError, Env, Principal, authz, error, events, ids};
use lectern_identity::Identity;

/// The tutor context over one database. Cheap to clone.
#[derive(Clone)]
pub struct Tutor {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    config: tutor::TutorSettings,
    identity: Identity,
    content: Content,
    assessments: Assessments,
    host: lectern_host::Host,
    t: Trees,
    /// Recent tutor questions per student and course (rate limits).
    tutor_window: tutor::AskWindow,
}

impl Tutor {
    pub fn open(
        env: Env,
        config: tutor::TutorSettings,
        identity: Identity,
        content: Content,
        assessments: Assessments,
        host: lectern_host::Host,
    ) -> Result<Tutor, CoreError> {
        let t = Trees::open(&env.store)?;
        Ok(Tutor {
            inner: Arc::new(Inner {
                env,
                config,
                identity,
                content,
                assessments,
                host,
                t,
                tutor_window: Default::default(),
            }),
        })
    }

    /// Creates the tutor's trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    fn content(&self) -> &Content {
        &self.inner.content
    }

    fn assessments(&self) -> &Assessments {
        &self.inner.assessments
    }

    fn host(&self) -> &lectern_host::Host {
        &self.inner.host
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }
}

lectern_domain::context_helpers!(Tutor);

/// The tutor's trees, opened once; private to this crate.
struct Trees {
    tutor_turns: lectern_storage::Tree<tutor::TutorTurn>,
    tutor_docs: lectern_storage::Tree<tutor::IndexedDoc>,
    tutor_log: lectern_storage::Tree<tutor::QuestionLog>,
    tutor_policies: lectern_storage::Tree<tutor::TutorPolicy>,
    tutor_pseudonyms: lectern_storage::Tree<u32>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            tutor_turns: s.tree("tutor_turns")?,
            tutor_docs: s.tree("tutor_index_docs")?,
            tutor_log: s.tree("tutor_question_log")?,
            tutor_policies: s.tree("tutor_policies")?,
            tutor_pseudonyms: s.tree("tutor_pseudonyms")?,
        })
    }
}

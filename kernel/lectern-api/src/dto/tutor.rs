//! JSON shapes of the AI tutor: answers with their citations, a student's
//! conversation, the course's policy, index status and insights.

use lectern_core::tutor::{
    CitedItem as CoreCited, IndexStatus as CoreIndex, Insights as CoreInsights, LoggedQuestion as CoreLogged,
    PendingItem as CorePending, TutorCitation as CoreCitation, TutorPolicy as CorePolicy, TutorTurn as CoreTurn,
};
use serde::Serialize;
use utoipa::ToSchema;

/// One cited passage, as a student sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorCitation {
    /// The `[n]` the answer text refers to.
    pub n: u32,
    pub item: String,
    /// The item's title in the course outline.
    pub item_title: String,
    /// The section within the item (`Heading › Subheading`), as the plugin names it.
    pub section: String,
    /// The heading's anchor in the rendered page, when the section names a heading of it.
    pub anchor: Option<String>,
    pub excerpt: String,
    /// The retrieval score. The kernel keeps it as a 32-bit float; it is sent
    /// widened to 64 bits, as it always was (e.g. `0.10000000149011612`).
    pub score: f64,
}

impl From<CoreCitation> for TutorCitation {
    fn from(c: CoreCitation) -> Self {
        TutorCitation {
            n: c.n,
            item: c.item,
            item_title: c.item_title,
            section: c.section,
            anchor: c.anchor,
            excerpt: c.excerpt,
            score: f64::from(c.score),
        }
    }
}

/// A question and its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorTurn {
    pub id: String,
    pub question: String,
    /// Empty when the tutor declined.
    pub answer: String,
    /// Why the tutor declined, shown to the student.
    pub refusal: Option<String>,
    /// `citations[n-1]` is `[n]` in `answer`.
    pub citations: Vec<TutorCitation>,
    /// Whether the text came from the configured generator (else it is extractive).
    pub generated: bool,
    /// Unix seconds.
    pub asked_at: i64,
}

impl From<CoreTurn> for TutorTurn {
    fn from(t: CoreTurn) -> Self {
        TutorTurn {
            id: t.id,
            question: t.question,
            answer: t.answer,
            refusal: t.refusal,
            citations: t.citations.into_iter().map(Into::into).collect(),
            generated: t.generated,
            asked_at: t.asked_at,
        }
    }
}

/// The caller's conversation with a course's tutor, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorConversation {
    pub turns: Vec<TutorTurn>,
}

/// A course's tutor policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorPolicy {
    /// Students may ask the tutor.
    pub enabled: bool,
    /// Instructors see students' names with their questions (else `Student n`).
    pub show_names: bool,
}

impl From<CorePolicy> for TutorPolicy {
    fn from(p: CorePolicy) -> Self {
        TutorPolicy { enabled: p.enabled, show_names: p.show_names }
    }
}

/// A page waiting for (or failing) indexing.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorPendingItem {
    pub item: String,
    pub title: String,
    pub error: Option<String>,
    /// The page is gone from the course and its passages are still to be removed from the index.
    pub removal: bool,
}

impl From<CorePending> for TutorPendingItem {
    fn from(p: CorePending) -> Self {
        TutorPendingItem { item: p.item, title: p.title, error: p.error, removal: p.removal }
    }
}

/// How far the tutor's index of a course is.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorIndexStatus {
    /// The embedding model vectors are made with.
    pub model: Option<String>,
    pub pages: usize,
    pub indexed: usize,
    pub passages: u64,
    pub pending: Vec<TutorPendingItem>,
}

impl From<CoreIndex> for TutorIndexStatus {
    fn from(s: CoreIndex) -> Self {
        TutorIndexStatus {
            model: s.model,
            pages: s.pages,
            indexed: s.indexed,
            passages: s.passages,
            pending: s.pending.into_iter().map(Into::into).collect(),
        }
    }
}

/// The course is being indexed again, in the background (`202`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorReindexQueued {
    /// Always true.
    pub queued: bool,
}

/// An item and how often answers cited it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorCitedItem {
    pub item: String,
    pub title: String,
    pub citations: u64,
}

impl From<CoreCited> for TutorCitedItem {
    fn from(c: CoreCited) -> Self {
        TutorCitedItem { item: c.item, title: c.title, citations: c.citations }
    }
}

/// A question as instructors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorLoggedQuestion {
    /// `Student 3`, or the student's name and email when the policy shows names.
    pub student: String,
    pub question: String,
    pub answered: bool,
    pub refusal: Option<String>,
    pub cited_items: Vec<String>,
    /// Unix seconds.
    pub asked_at: i64,
}

impl From<CoreLogged> for TutorLoggedQuestion {
    fn from(q: CoreLogged) -> Self {
        TutorLoggedQuestion {
            student: q.student,
            question: q.question,
            answered: q.answered,
            refusal: q.refusal,
            cited_items: q.cited_items,
            asked_at: q.asked_at,
        }
    }
}

/// What students ask a course's tutor and which material it cites.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutorInsights {
    pub policy: TutorPolicy,
    pub questions_asked: u64,
    pub answered: u64,
    pub declined: u64,
    pub students: u64,
    /// Items by how often answers cited them, most first.
    pub cited_items: Vec<TutorCitedItem>,
    /// Most recent first, at most `limit`.
    pub recent: Vec<TutorLoggedQuestion>,
    /// Recent questions the material did not answer: where it may be missing.
    pub unanswered: Vec<TutorLoggedQuestion>,
}

impl From<CoreInsights> for TutorInsights {
    fn from(i: CoreInsights) -> Self {
        let list = |v: Vec<CoreLogged>| v.into_iter().map(Into::into).collect();
        TutorInsights {
            policy: i.policy.into(),
            questions_asked: i.questions_asked,
            answered: i.answered,
            declined: i.declined,
            students: i.students,
            cited_items: i.cited_items.into_iter().map(Into::into).collect(),
            recent: list(i.recent),
            unanswered: list(i.unanswered),
        }
    }
}

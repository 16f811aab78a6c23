//! The AI tutor: students ask questions about their course and get answers
//! from its material, with citations.
//!
//! The split: the kernel owns the vector index and the embedder (attached to
//! the plugin host at start, see [`TutorSettings`]), who may ask, what they
//! may see, rate limits, conversation history, the optional generator, and
//! what instructors learn from the questions. The plugin in the `tutoring`
//! slot owns the pedagogy: chunking, retrieval and the answer.
//!
//! Invariants:
//! - A student's question is answered only from items they may open now:
//!   the kernel passes the list as a [`VectorScope`] and the host applies it
//!   inside every search the plugin makes during the call, so no plugin can
//!   quote a hidden or locked page. Staff's searches are scoped to the
//!   course's items, so a deleted page is not quoted while its passages wait
//!   for removal from the index.
//! - While a student has an attempt in progress on an assessment of the
//!   course, the tutor does not answer them in that course (the plugin is
//!   told `in-proctored-attempt`, and the kernel refuses on its own if a
//!   plugin answers anyway).
//! - A generated answer is only ever produced from the passages the plugin
//!   cited, and keeps those citations; when the plugin declines, nothing is
//!   generated.

mod generate;
mod index;
mod insights;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use lectern_host::slots::tutoring as wit;
use lectern_host::{CallContext, VectorScope};
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Principal, Tutor};
use lectern_content::content::{ItemKind, course_key};
use lectern_host::PluginError;

pub use generate::ChatSettings;
pub(crate) use index::IndexedDoc;
pub use index::{IndexStatus, PendingItem};
pub(crate) use insights::QuestionLog;
pub use insights::{CitedItem, Insights, LoggedQuestion, TutorPolicy};

/// Opens the vector index (`<data_dir>/vectors`) and the configured
/// embedder and gives them to the plugin host's `vector` and `embed` services.
pub fn attach_retrieval(
    host: &lectern_host::Host,
    store: &lectern_storage::Store,
    data_dir: &std::path::Path,
    settings: &TutorSettings,
) -> Result<(), CoreError> {
    let vectors = lectern_vector::VectorStore::open(store, data_dir.join("vectors"), Default::default())
        .map_err(|e| CoreError::internal("cannot open the vector index", e))?;
    let embedder = lectern_embed::from_config(&settings.embed, store)
        .map_err(|e| CoreError::invalid("tutor.embed", e.to_string()))?;
    tracing::info!(model = %embedder.model_id(), dimension = embedder.dimension(), "tutor embedder ready");
    host.attach_retrieval(lectern_host::Retrieval { vectors, embedder })
        .map_err(|e| CoreError::internal("cannot attach retrieval to the plugin host", e))
}

/// `[tutor]` in the configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TutorSettings {
    /// Attach the vector index and the embedder to the plugin host.
    pub enabled: bool,
    pub embed: lectern_embed::EmbedConfig,
    /// An OpenAI-compatible chat endpoint for generated answers; extractive answers without it.
    pub chat: Option<ChatSettings>,
    /// Questions one student may ask in one course per hour…
    pub questions_per_hour: u32,
    /// …and per minute (bursts).
    pub questions_per_minute: u32,
    /// Earlier turns of the conversation passed to the plugin.
    pub history_turns: usize,
}

impl Default for TutorSettings {
    fn default() -> Self {
        TutorSettings {
            enabled: true,
            embed: Default::default(),
            chat: None,
            questions_per_hour: 60,
            questions_per_minute: 6,
            history_turns: 6,
        }
    }
}

/// One cited passage, as a student sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub score: f32,
}

/// A question and its answer, kept per student and course.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TutorTurn {
    pub id: String,
    pub question: String,
    /// Empty when the tutor declined.
    pub answer: String,
    /// Why the tutor declined, shown to the student.
    pub refusal: Option<String>,
    pub citations: Vec<TutorCitation>,
    /// Whether the text came from the configured generator (else it is extractive).
    pub generated: bool,
    pub asked_at: i64,
}

impl Record for TutorTurn {
    const VERSION: u8 = 1;
}

/// Longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 2000;
/// Turns kept per student and course (older ones are dropped).
const MAX_TURNS_KEPT: usize = 200;

/// Recent question times per (institution, course, student), for rate limits.
#[derive(Default)]
pub(crate) struct AskWindow(Mutex<HashMap<Vec<u8>, VecDeque<i64>>>);

impl AskWindow {
    /// Records a question at `now` unless over a limit; otherwise the seconds to wait.
    fn admit(&self, key: Vec<u8>, now: i64, per_minute: u32, per_hour: u32) -> Result<(), u64> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let q = map.entry(key).or_default();
        while q.front().is_some_and(|&t| t <= now - 3600) {
            q.pop_front();
        }
        let last_minute = q.iter().filter(|&&t| t > now - 60).count();
        if last_minute >= per_minute as usize {
            let oldest = q.iter().find(|&&t| t > now - 60).copied().unwrap_or(now);
            return Err((oldest + 60 - now).max(1) as u64);
        }
        if q.len() >= per_hour as usize {
            let oldest = q.front().copied().unwrap_or(now);
            return Err((oldest + 3600 - now).max(1) as u64);
        }
        q.push_back(now);
        Ok(())
    }
}

fn turn_prefix(inst: InstitutionId, course: CourseId, user: UserId) -> Vec<u8> {
    [course_key(inst, course).as_slice(), user.bytes()].concat()
}

/// Maps a tutoring-plugin failure for the student.
fn plugin_error(e: PluginError) -> CoreError {
    use lectern_host::slots::GuestError;
    match e {
        PluginError::Guest(GuestError::InvalidInput(m)) => CoreError::invalid("question", m),
        PluginError::NoActivePlugin(_) => CoreError::Unavailable("no tutor is installed for this institution".into()),
        PluginError::CircuitOpen { .. }
        | PluginError::Busy(_)
        | PluginError::Starting { .. }
        | PluginError::Guest(GuestError::Unavailable(_)) => CoreError::Unavailable(format!("the tutor: {e}")),
        other => CoreError::PluginFailed(format!("the tutor: {other}")),
    }
}

/// The anchor of the page heading a section path ends with.
fn anchor_for(toc: &[lectern_content::content::Heading], section: &str) -> Option<String> {
    let last = section.rsplit(" › ").next()?.trim();
    toc.iter().find(|h| h.text.trim() == last).map(|h| h.anchor.clone())
}

impl Tutor {
    fn tutor_settings(&self) -> &TutorSettings {
        &self.inner.config
    }

    /// Asks the course's tutor. Students get answers only from items they
    /// may open, not while an assessment attempt of theirs is open, and
    /// within the rate limits; staff may ask about everything (to check what
    /// students will get).
    pub async fn ask_tutor(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        question: &str,
    ) -> Result<TutorTurn, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let user = p.user_id().ok_or_else(|| CoreError::Forbidden("the tutor answers people, not clients".into()))?;
        let question = question.trim();
        if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
            return Err(CoreError::invalid("question", format!("1–{MAX_QUESTION_CHARS} characters")));
        }
        if question.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(CoreError::invalid("question", "control characters are not allowed"));
        }
        let policy = self.tutor_policy_of(inst, course)?;
        if !policy.enabled {
            return Err(CoreError::Forbidden("the tutor is switched off for this course".into()));
        }
        let settings = self.tutor_settings();
        let now = self.now();
        self.inner
            .tutor_window
            .admit(turn_prefix(inst, course, user), now, settings.questions_per_minute, settings.questions_per_hour)
            .map_err(|retry_after_secs| CoreError::Throttled { retry_after_secs })?;

        // `None`: staff, who may see every item.
        let openable = self.content().openable_items(p, inst, course).await?;
        let open_assessments =
            if openable.is_some() { self.assessments().open_assessments(inst, course, user)? } else { Vec::new() };
        let history = self.tutor_history(inst, course, user, settings.history_turns)?;
        let outline = self.content().load_outline(inst, course)?;
        // Students: the items they may open now. Staff: every item of the
        // course, so that the passages of a deleted page, which stay in the
        // index until the `tutor-index` worker removes them, are not quoted
        // (a course too big for one filter clause goes unscoped for staff).
        let items = match &openable {
            Some(items) => Some(items.clone()),
            None => {
                let all: Vec<String> = outline.items().map(|i| i.id.clone()).collect();
                (all.len() <= lectern_vector::MAX_CLAUSE_VALUES).then_some(all)
            }
        };
        let scope: Vec<VectorScope> =
            items.into_iter().map(|any_of| VectorScope { key: "item".into(), any_of }).collect();
        let call = CallContext {
            institution: inst.to_string(),
            user: Some(user.to_string()),
            course: Some(course.to_string()),
            item: None,
            roles: vec![if openable.is_some() { "student" } else { "instructor" }.into()],
            locale: "en".into(),
            request_id: uuid::Uuid::now_v7().to_string(),
            vector_scope: scope,
        };
        let q = wit::Question {
            text: question.to_owned(),
            course: course.to_string(),
            history: history
                .iter()
                .map(|t| wit::Turn { question: t.question.clone(), answer: t.answer.clone() })
                .collect(),
            open_assessment: open_assessments.first().cloned(),
        };
        let host = self.host().clone();
        let answer = Self::blocking(move || host.tutor_ask(&call, &q)).await?.map_err(plugin_error)?;

        let mut turn = TutorTurn {
            id: uuid::Uuid::now_v7().to_string(),
            question: question.to_owned(),
            answer: String::new(),
            refusal: answer.refusal.clone(),
            citations: vec![],
            generated: false,
            asked_at: now,
        };
        if !open_assessments.is_empty() && answer.refusal.is_none() {
            // The plugin was told and answered anyway: the kernel's rule holds regardless.
            turn.refusal = Some("The tutor is paused while you have an assessment open in this course.".into());
        } else if answer.refusal.is_none() {
            let allowed = |item: &str| openable.as_ref().is_none_or(|o| o.iter().any(|i| i == item));
            for (i, c) in answer.citations.iter().enumerate() {
                let Some(item) = outline.item(&c.item).filter(|it| allowed(&it.id)) else {
                    return Err(CoreError::PluginFailed(format!(
                        "the tutor cited `{}`, which is not an item this learner may open",
                        c.item
                    )));
                };
                // 0.2 plugins name the section in `heading` (and may give its
                // anchor); 0.1 plugins put the section path in `title`.
                let section = c.heading.clone().unwrap_or_else(|| c.title.clone());
                let anchor = if item.kind == ItemKind::Page {
                    self.content().page_record(inst, course, &item.id)?.and_then(|pg| {
                        // A plugin's anchor counts only if the page has it.
                        c.anchor
                            .clone()
                            .filter(|a| pg.toc.iter().any(|h| h.anchor == *a))
                            .or_else(|| anchor_for(&pg.toc, &section))
                    })
                } else {
                    None
                };
                turn.citations.push(TutorCitation {
                    n: i as u32 + 1,
                    item: item.id.clone(),
                    item_title: item.title.clone(),
                    section,
                    anchor,
                    excerpt: c.excerpt.clone(),
                    score: c.score,
                });
            }
            turn.answer = answer.text.clone();
            if let Some(chat) = &settings.chat
                && !turn.citations.is_empty()
            {
                match generate::grounded_answer(chat, question, &history, &turn.citations).await {
                    Ok(generate::Generated::Answer(text)) => {
                        turn.answer = text;
                        turn.generated = true;
                    }
                    Ok(generate::Generated::NotFound) => {
                        turn.answer.clear();
                        turn.citations.clear();
                        turn.refusal = Some(generate::NOT_FOUND.into());
                    }
                    // The extractive answer stands; the student still gets one.
                    Err(e) => tracing::warn!(error = %e, "tutor generator failed; answering extractively"),
                }
            }
        }
        self.record_turn(inst, course, user, &turn).await?;
        Ok(turn)
    }

    fn tutor_history(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        n: usize,
    ) -> Result<Vec<TutorTurn>, CoreError> {
        let mut turns: Vec<TutorTurn> = self
            .t()
            .tutor_turns
            .scan_prefix(turn_prefix(inst, course, user))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.refusal.is_none())
            .collect();
        let skip = turns.len().saturating_sub(n);
        turns.drain(..skip);
        Ok(turns)
    }

    async fn record_turn(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        turn: &TutorTurn,
    ) -> Result<(), CoreError> {
        let t = self.t();
        let prefix = turn_prefix(inst, course, user);
        let key = [prefix.as_slice(), turn.id.as_bytes()].concat();
        t.tutor_turns.insert(&key, turn)?;
        let kept: Vec<Vec<u8>> =
            t.tutor_turns.scan_prefix(&prefix).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
        for old in kept.iter().take(kept.len().saturating_sub(MAX_TURNS_KEPT)) {
            t.tutor_turns.remove(old)?;
        }
        self.log_question(inst, course, user, turn)?;
        self.durable().await
    }

    /// The caller's own conversation with the course's tutor, oldest first.
    pub fn tutor_conversation(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Vec<TutorTurn>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let user = p.user_id().ok_or_else(|| CoreError::Forbidden("the tutor answers people, not clients".into()))?;
        Ok(self
            .t()
            .tutor_turns
            .scan_prefix(turn_prefix(inst, course, user))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_window_limits_bursts_and_hours() {
        let w = AskWindow::default();
        let k = || b"k".to_vec();
        for i in 0..3 {
            assert!(w.admit(k(), 1000 + i, 3, 5).is_ok());
        }
        assert_eq!(w.admit(k(), 1010, 3, 5), Err(50));
        assert!(w.admit(k(), 1061, 3, 5).is_ok());
        assert!(w.admit(k(), 1062, 3, 5).is_ok());
        // Five in the last hour.
        assert_eq!(w.admit(k(), 1200, 3, 5), Err(3400));
        assert!(w.admit(k(), 4601, 3, 5).is_ok());
        // Others are not affected.
        assert!(w.admit(b"other".to_vec(), 1200, 3, 5).is_ok());
    }

    #[test]
    fn anchors_come_from_the_page_toc() {
        let toc = vec![
            lectern_content::content::Heading { level: 2, text: "ARP".into(), anchor: "user-content-arp".into() },
            lectern_content::content::Heading {
                level: 3,
                text: "The cache".into(),
                anchor: "user-content-the-cache".into(),
            },
        ];
        assert_eq!(anchor_for(&toc, "ARP › The cache").as_deref(), Some("user-content-the-cache"));
        assert_eq!(anchor_for(&toc, "ARP").as_deref(), Some("user-content-arp"));
        assert_eq!(anchor_for(&toc, "Link layer"), None);
    }
}

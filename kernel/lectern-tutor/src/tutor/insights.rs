//! What instructors learn from the tutor: which questions students ask,
//! which were declined for lack of material, and which items get cited.
//! Students appear under a stable per-course pseudonym unless the course's
//! policy shows names.

use std::collections::HashMap;

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use super::TutorTurn;
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Principal, Tutor};
use lectern_content::content::course_key;

/// A course's tutor policy, set by its staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TutorPolicy {
    /// Students may ask the tutor.
    pub enabled: bool,
    /// Instructors see students' names with their questions (else a pseudonym).
    pub show_names: bool,
}

impl Default for TutorPolicy {
    fn default() -> Self {
        TutorPolicy { enabled: true, show_names: false }
    }
}

impl Record for TutorPolicy {
    const VERSION: u8 = 1;
}

/// One asked question, as kept for the course's staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct QuestionLog {
    pub user: UserId,
    pub question: String,
    pub refusal: Option<String>,
    pub cited_items: Vec<String>,
    pub generated: bool,
    pub asked_at: i64,
}

impl Record for QuestionLog {
    const VERSION: u8 = 1;
}

/// A question as instructors see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedQuestion {
    /// `Student 3`, or the student's name and email when the policy shows names.
    pub student: String,
    pub question: String,
    pub answered: bool,
    pub refusal: Option<String>,
    pub cited_items: Vec<String>,
    pub asked_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedItem {
    pub item: String,
    pub title: String,
    pub citations: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    pub policy: TutorPolicy,
    pub questions_asked: u64,
    pub answered: u64,
    pub declined: u64,
    pub students: u64,
    /// Items by how often answers cited them, most first.
    pub cited_items: Vec<CitedItem>,
    /// Most recent first, at most `limit`.
    pub recent: Vec<LoggedQuestion>,
    /// Recent questions the material did not answer: where it may be missing.
    pub unanswered: Vec<LoggedQuestion>,
}

/// Questions kept per course for insights.
const MAX_LOGGED: usize = 10_000;

impl Tutor {
    pub(crate) fn tutor_policy_of(&self, inst: InstitutionId, course: CourseId) -> Result<TutorPolicy, CoreError> {
        Ok(self.t().tutor_policies.get(course_key(inst, course))?.unwrap_or_default())
    }

    pub fn tutor_policy(&self, p: &Principal, inst: InstitutionId, course: CourseId) -> Result<TutorPolicy, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        self.tutor_policy_of(inst, course)
    }

    pub async fn set_tutor_policy(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        policy: TutorPolicy,
    ) -> Result<TutorPolicy, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        self.t().tutor_policies.insert(course_key(inst, course), &policy)?;
        self.durable().await?;
        Ok(policy)
    }

    /// Logs a question for the course's staff and gives the student a
    /// pseudonym on their first question.
    pub(crate) fn log_question(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        turn: &TutorTurn,
    ) -> Result<(), CoreError> {
        let t = self.t();
        let prefix = course_key(inst, course);
        let pkey = [prefix.as_slice(), user.bytes()].concat();
        if t.tutor_pseudonyms.get(&pkey)?.is_none() {
            let n = t.tutor_pseudonyms.scan_prefix(&prefix).count() as u32 + 1;
            t.tutor_pseudonyms.insert(&pkey, &n)?;
        }
        let log = QuestionLog {
            user,
            question: turn.question.clone(),
            refusal: turn.refusal.clone(),
            cited_items: turn.citations.iter().map(|c| c.item.clone()).collect(),
            generated: turn.generated,
            asked_at: turn.asked_at,
        };
        t.tutor_log.insert([prefix.as_slice(), turn.id.as_bytes()].concat(), &log)?;
        if t.tutor_log.scan_prefix(&prefix).count() > MAX_LOGGED
            && let Some(Ok((oldest, _))) = t.tutor_log.scan_prefix(&prefix).next()
        {
            t.tutor_log.remove(oldest)?;
        }
        Ok(())
    }

    /// The course's tutor questions and cited material, for its staff.
    pub fn tutor_insights(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        limit: usize,
    ) -> Result<Insights, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::TutorInsightsView, ctx)?;
        let policy = self.tutor_policy_of(inst, course)?;
        let outline = self.content().load_outline(inst, course)?;
        let t = self.t();
        let prefix = course_key(inst, course);
        let mut names: HashMap<UserId, String> = HashMap::new();
        let mut label = |u: UserId| -> Result<String, CoreError> {
            if let Some(n) = names.get(&u) {
                return Ok(n.clone());
            }
            let n = if policy.show_names {
                match self.identity().user(inst, u)? {
                    Some(user) => format!("{} <{}>", user.name, user.email),
                    None => "former student".into(),
                }
            } else {
                let n = t.tutor_pseudonyms.get([prefix.as_slice(), u.bytes()].concat())?.unwrap_or(0);
                format!("Student {n}")
            };
            names.insert(u, n.clone());
            Ok(n)
        };
        let mut out = Insights {
            policy: policy.clone(),
            questions_asked: 0,
            answered: 0,
            declined: 0,
            students: 0,
            cited_items: vec![],
            recent: vec![],
            unanswered: vec![],
        };
        let mut cited: HashMap<String, u64> = HashMap::new();
        let mut students = std::collections::HashSet::new();
        let logs: Vec<QuestionLog> =
            t.tutor_log.scan_prefix(&prefix).map(|r| r.map(|(_, v)| v)).collect::<Result<_, _>>()?;
        for log in logs.iter().rev() {
            out.questions_asked += 1;
            students.insert(log.user);
            let answered = log.refusal.is_none();
            if answered {
                out.answered += 1;
            } else {
                out.declined += 1;
            }
            for item in &log.cited_items {
                *cited.entry(item.clone()).or_default() += 1;
            }
            let not_found = log.refusal.as_deref().is_some_and(|r| r.contains("don't find"));
            if out.recent.len() < limit || (not_found && out.unanswered.len() < limit) {
                let q = LoggedQuestion {
                    student: label(log.user)?,
                    question: log.question.clone(),
                    answered,
                    refusal: log.refusal.clone(),
                    cited_items: log.cited_items.clone(),
                    asked_at: log.asked_at,
                };
                if not_found && out.unanswered.len() < limit {
                    out.unanswered.push(q.clone());
                }
                if out.recent.len() < limit {
                    out.recent.push(q);
                }
            }
        }
        out.students = students.len() as u64;
        out.cited_items = cited
            .into_iter()
            .map(|(item, citations)| CitedItem {
                title: outline.item(&item).map(|i| i.title.clone()).unwrap_or_else(|| "(deleted item)".into()),
                item,
                citations,
            })
            .collect();
        out.cited_items.sort_by(|a, b| b.citations.cmp(&a.citations).then_with(|| a.item.cmp(&b.item)));
        Ok(out)
    }
}

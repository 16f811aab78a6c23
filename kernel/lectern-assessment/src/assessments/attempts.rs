//! The exam flow: start (idempotent per client request id), save answers
//! (durable before acknowledged; a version number keeps the newest), submit
//! (by the student, or by the deadline timer — which survives restarts
//! because deadlines are an index on disk), and read back.
//!
//! The start path reads a handful of keys by prefix and writes one
//! transaction: no plugin call, no scan beyond the student's own attempts, no
//! global lock — the synchronized start of an exam is the spike to survive.

use std::collections::BTreeMap;

use lectern_host::slots::grading::{AnswerKey, Penalties, Question, Response, Submission};
use lectern_storage::{Record, abort};
use serde::{Deserialize, Serialize};

use super::{Assessment, Presented};
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::{self, AttemptSubmitted, topics};
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptState {
    InProgress,
    Submitted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubmittedBy {
    Student,
    /// The deadline passed; the timer submitted what was saved.
    Deadline,
    /// The course's proctoring policy ended the attempt.
    Proctoring,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: String,
    pub institution: InstitutionId,
    pub course: CourseId,
    pub assessment: String,
    pub student: UserId,
    /// 1 for the first attempt.
    pub number: u32,
    pub state: AttemptState,
    pub started_at: i64,
    /// When it is submitted automatically; `None` without a limit or a closing time.
    pub deadline: Option<i64>,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<SubmittedBy>,
    /// Seeds the per-attempt shuffle: the same attempt always shows the same order.
    pub seed: u64,
    pub question_order: Vec<String>,
    pub hints_used: BTreeMap<String, u32>,
    /// A staff member's preview of the assessment (see [`Assessments::start_preview`]):
    /// not one of anyone's attempts, graded but never in the gradebook, never in the review queue.
    pub preview: bool,
}

impl Attempt {
    /// A new attempt in progress, unnumbered: its seed (from its id) fixes the
    /// question order when the assessment shuffles questions.
    fn fresh(a: &Assessment, student: UserId, now: i64, deadline: Option<i64>, preview: bool) -> Attempt {
        let id = uuid::Uuid::now_v7();
        let seed = u64::from_le_bytes(id.as_bytes()[8..16].try_into().unwrap_or_default());
        let mut order: Vec<String> = a.questions.iter().map(|q| q.id.clone()).collect();
        if a.settings.shuffle_questions {
            shuffle(&mut order, seed);
        }
        Attempt {
            id: id.to_string(),
            institution: a.institution,
            course: a.course,
            assessment: a.id.clone(),
            student,
            number: 0,
            state: AttemptState::InProgress,
            started_at: now,
            deadline,
            submitted_at: None,
            submitted_by: None,
            seed,
            question_order: order,
            hints_used: BTreeMap::new(),
            preview,
        }
    }
}

/// Version 1 of [`Attempt`]: everything but `preview`.
#[derive(Deserialize)]
struct AttemptV1 {
    id: String,
    institution: InstitutionId,
    course: CourseId,
    assessment: String,
    student: UserId,
    number: u32,
    state: AttemptState,
    started_at: i64,
    deadline: Option<i64>,
    submitted_at: Option<i64>,
    submitted_by: Option<SubmittedBy>,
    seed: u64,
    question_order: Vec<String>,
    hints_used: BTreeMap<String, u32>,
}

impl Record for Attempt {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("no upgrade path from version {version}"));
        }
        let v1: AttemptV1 = lectern_storage::decode_body(body)?;
        Ok(Attempt {
            id: v1.id,
            institution: v1.institution,
            course: v1.course,
            assessment: v1.assessment,
            student: v1.student,
            number: v1.number,
            state: v1.state,
            started_at: v1.started_at,
            deadline: v1.deadline,
            submitted_at: v1.submitted_at,
            submitted_by: v1.submitted_by,
            seed: v1.seed,
            question_order: v1.question_order,
            hints_used: v1.hints_used,
            preview: false,
        })
    }
}

/// A saved answer. `version` is the client's counter: a save only replaces a lower one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub response: Response,
    pub version: u64,
    pub saved_at: i64,
}

impl Record for Answer {
    const VERSION: u8 = 1;
}

/// An attempt as its student (or staff) sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttemptView {
    pub attempt: Attempt,
    pub title: String,
    pub questions: Vec<Presented>,
    pub answers: BTreeMap<String, Answer>,
    /// Seconds until the deadline (0 once passed); `None` without one.
    pub time_left_secs: Option<i64>,
    /// Hints the student has taken, by question.
    pub hints: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StartOutcome {
    Started(AttemptView),
    /// The same request retried, or an attempt already in progress: no new attempt.
    Existing(AttemptView),
}

/// `institution ‖ assessment id`: the prefix of every attempt of an assessment.
pub(crate) fn assessment_prefix(i: InstitutionId, assessment: &str) -> Vec<u8> {
    [i.bytes().as_slice(), assessment.as_bytes(), &[0]].concat()
}

fn student_prefix(i: InstitutionId, assessment: &str, s: UserId) -> Vec<u8> {
    [assessment_prefix(i, assessment).as_slice(), s.bytes()].concat()
}

pub(crate) fn attempt_key(i: InstitutionId, attempt: &str) -> Vec<u8> {
    [i.bytes().as_slice(), attempt.as_bytes()].concat()
}

fn answer_key(i: InstitutionId, attempt: &str, question: &str) -> Vec<u8> {
    [i.bytes().as_slice(), attempt.as_bytes(), &[0], question.as_bytes()].concat()
}

/// Deadlines sort by time, so the timer reads only what is due.
fn deadline_key(at: i64, i: InstitutionId, attempt: &str) -> Vec<u8> {
    [(at.max(0) as u64).to_be_bytes().as_slice(), i.bytes(), attempt.as_bytes()].concat()
}

/// splitmix64: a tiny, well-mixed generator; the order must be reproducible, not secret.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fisher–Yates with a seeded generator.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut s = seed;
    for i in (1..items.len()).rev() {
        let j = (next(&mut s) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

const MAX_TEXT_ANSWER: usize = 100_000;
const MAX_LIST_ANSWER: usize = 1_000;

/// A response must have the shape its question's key expects.
fn check_response(key: &AnswerKey, r: &Response) -> Result<(), CoreError> {
    let ok = matches!(
        (key, r),
        (AnswerKey::SingleChoice(_) | AnswerKey::MultipleChoice(_), Response::Choices(_))
            | (AnswerKey::TrueFalse(_), Response::Boolean(_))
            | (AnswerKey::Numeric(_), Response::Number { .. })
            | (AnswerKey::ShortAnswer(_), Response::Text(_))
            | (AnswerKey::Matching(_), Response::Pairs(_))
            | (AnswerKey::Ordering(_), Response::Sequence(_))
            | (AnswerKey::FillBlanks(_), Response::Blanks(_))
            | (AnswerKey::Essay(_), Response::Essay(_))
            | (AnswerKey::Plugin(_), Response::Fields(_))
    );
    if !ok {
        return Err(CoreError::invalid("response", format!("this question takes a {} answer", super::kind_name(key))));
    }
    let (texts, items): (usize, usize) = match r {
        Response::Choices(v) | Response::Sequence(v) | Response::Blanks(v) => {
            (v.iter().map(String::len).sum(), v.len())
        }
        Response::Pairs(v) => (v.iter().map(|p| p.left.len() + p.right.len()).sum(), v.len()),
        Response::Text(t) | Response::Essay(t) => (t.len(), 1),
        Response::Fields(t) => {
            if t.len() > lectern_host::questions::MAX_JSON_BYTES {
                return Err(CoreError::invalid("response", "the fields are larger than 64 KiB"));
            }
            (0, 1)
        }
        Response::Number { value, unit } => {
            if !value.is_finite() {
                return Err(CoreError::invalid("response", "the number must be finite"));
            }
            (unit.as_ref().map_or(0, String::len), 1)
        }
        Response::Boolean(_) => (0, 1),
    };
    if texts > MAX_TEXT_ANSWER || items > MAX_LIST_ANSWER {
        return Err(CoreError::invalid("response", "the answer is too large (100,000 characters, 1,000 items)"));
    }
    if let (AnswerKey::FillBlanks(keys), Response::Blanks(b)) = (key, r)
        && b.len() > keys.len()
    {
        return Err(CoreError::invalid("response", format!("this question has {} blanks", keys.len())));
    }
    Ok(())
}

impl Assessments {
    /// Assessments of `course` on which `student` has an attempt in progress
    /// (the tutor stays silent on those while the attempt is open), as the
    /// tutoring plugin is told of them.
    pub fn open_assessments(
        &self,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<Vec<lectern_host::slots::tutoring::OpenAssessment>, CoreError> {
        let t = self.t();
        let course_prefix = [inst.bytes().as_slice(), course.bytes()].concat();
        let mut open = vec![];
        for row in t.assessments.scan_prefix(&course_prefix) {
            let (_, a) = row?;
            for entry in t.attempts_by_student.scan_prefix(student_prefix(inst, &a.id, student)) {
                let (_, id) = entry?;
                if t.attempts.get(attempt_key(inst, &id))?.is_some_and(|x| x.state == AttemptState::InProgress) {
                    open.push(lectern_host::slots::tutoring::OpenAssessment {
                        id: a.id.to_string(),
                        title: a.title.clone(),
                        proctored: a.settings.proctoring.is_some(),
                        covers: vec![],
                    });
                    break;
                }
            }
        }
        Ok(open)
    }

    fn view(&self, a: &Assessment, attempt: Attempt) -> Result<AttemptView, CoreError> {
        let mut answers = BTreeMap::new();
        let prefix = [attempt_key(attempt.institution, &attempt.id).as_slice(), &[0]].concat();
        for row in self.t().answers.scan_prefix(&prefix) {
            let (k, v) = row?;
            answers.insert(String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v);
        }
        let by_id: BTreeMap<&str, &super::QuestionSpec> = a.questions.iter().map(|q| (q.id.as_str(), q)).collect();
        let shuffle = a.settings.shuffle_options.then_some(attempt.seed);
        let instances = if a.questions.iter().any(|q| matches!(q.key, AnswerKey::Plugin(_))) {
            self.instances(attempt.institution, &attempt.id)?
        } else {
            BTreeMap::new()
        };
        let questions = attempt
            .question_order
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|q| {
                let mut p = q.present(shuffle.map(|s| s ^ fxhash(&q.id)));
                if p.plugin.is_some() {
                    // Images from the assets of the version that made the instance.
                    p.view = instances.get(&q.id).map(|i| {
                        let available = self.host().plugin_asset_names(&i.version);
                        lectern_host::view::sanitize_with_assets(&i.view, Some((&i.version, &available)))
                    });
                }
                p
            })
            .collect();
        let now = self.now();
        let hints = a
            .questions
            .iter()
            .filter_map(|q| {
                let n = attempt.hints_used.get(&q.id).copied().unwrap_or(0) as usize;
                (n > 0).then(|| (q.id.clone(), q.hints.iter().take(n).cloned().collect()))
            })
            .collect();
        Ok(AttemptView {
            hints,
            title: a.title.clone(),
            questions,
            answers,
            time_left_secs: attempt.deadline.map(|d| (d - now).max(0)),
            attempt,
        })
    }

    /// Who may act on an attempt: its student, or whoever holds `staff` in
    /// the course (`None`: the student only). Anyone else is told it does not
    /// exist.
    pub(crate) fn attempt_for(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        staff: Option<Capability>,
    ) -> Result<(std::sync::Arc<Assessment>, Attempt), CoreError> {
        let a = self.load_assessment_shared(assessment)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        let at = self
            .t()
            .attempts
            .get(attempt_key(a.institution, attempt))?
            .filter(|x| x.assessment == a.id)
            .ok_or(CoreError::NotFound("attempt"))?;
        let own = p.user_id() == Some(at.student);
        if !own {
            let Some(cap) = staff else { return Err(CoreError::NotFound("attempt")) };
            authorize(p, cap, ctx).map_err(|_| CoreError::NotFound("attempt"))?;
        }
        Ok((a, at))
    }

    /// Starts an attempt, or returns the one this request (same
    /// `client_request_id`) or an unfinished earlier start already opened.
    pub async fn start_attempt(
        &self,
        p: &Principal,
        assessment: &str,
        client_request_id: Option<String>,
    ) -> Result<StartOutcome, CoreError> {
        let a = self.load_assessment(assessment)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::AttemptSubmit, ctx)?;
        let Some(student) = p.user_id() else {
            return Err(CoreError::Forbidden("attempts belong to people, not clients".into()));
        };
        if let Some(id) = &client_request_id
            && (id.is_empty() || id.len() > 128)
        {
            return Err(CoreError::invalid("client_request_id", "1–128 characters"));
        }
        let now = self.now();
        if !a.published {
            return Err(CoreError::Conflict("the assessment is not published".into()));
        }
        if a.archived_at.is_some() {
            return Err(CoreError::Conflict("the assessment is archived: no attempt can start".into()));
        }
        if a.settings.opens_at.is_some_and(|o| now < o) {
            return Err(CoreError::Conflict("the assessment is not open yet".into()));
        }
        // Late work is accepted until `late_until` (with its penalty); nothing after.
        let last_start = a.settings.late_until.or(a.settings.closes_at);
        if last_start.is_some_and(|c| now >= c) {
            return Err(CoreError::Conflict("the assessment has closed".into()));
        }
        let inst = a.institution;
        let deadline = match (a.settings.time_limit_secs, last_start) {
            (Some(l), Some(c)) => Some((now + l as i64).min(c)),
            (Some(l), None) => Some(now + l as i64),
            (None, c) => c,
        };
        let prefix = student_prefix(inst, &a.id, student);
        let start_key = client_request_id.as_ref().map(|c| [prefix.as_slice(), &[0], c.as_bytes()].concat());
        let fresh = Attempt::fresh(&a, student, now, deadline, false);
        let akey = super::assessment_key(inst, a.course, &a.id);
        let (attempt, started) = self.open_attempt(&a, &prefix, start_key.as_deref(), &akey, fresh)?;
        self.ensure_instances(&a, &attempt).await?;
        if started {
            self.durable().await?;
            tracing::info!(institution = %inst, assessment = %a.id, attempt = %attempt.id, "attempt started");
            return Ok(StartOutcome::Started(self.view(&a, attempt)?));
        }
        Ok(StartOutcome::Existing(self.view(&a, attempt)?))
    }

    /// The writes of a start, without a storage transaction (sled 0.34 runs
    /// each one under a database-wide lock, which made starts run one at a
    /// time during an exam's opening minute). Two starts of one student on one
    /// assessment are ordered by that pair's lock; the writes are ordered so
    /// that a crash between any two leaves nothing a reader acts on:
    ///
    /// 1. the deadline entry (the timer skips and removes an entry whose
    ///    attempt does not exist; the deadline is in the future anyway);
    /// 2. the student's numbered slot (a slot whose attempt does not exist is
    ///    free: the next start takes it again);
    /// 3. the attempt itself, the only record anyone reads as an attempt;
    /// 4. the client request id (a retry without it finds the open attempt).
    ///
    /// An assessment archived meanwhile: the archive writes first and then
    /// looks for attempts, and this reads the assessment again after writing
    /// the attempt, so either the archive sees the attempt or this sees the
    /// archive and takes its writes back.
    fn open_attempt(
        &self,
        a: &Assessment,
        prefix: &[u8],
        start_key: Option<&[u8]>,
        akey: &[u8],
        fresh: Attempt,
    ) -> Result<(Attempt, bool), CoreError> {
        let t = self.t();
        let inst = a.institution;
        let archived = |cur: Option<Assessment>| match cur {
            None => Err(CoreError::NotFound("assessment")),
            Some(cur) if cur.archived_at.is_some() => {
                Err(CoreError::Conflict("the assessment is archived: no attempt can start".into()))
            }
            Some(_) => Ok(()),
        };
        archived(t.assessments.get(akey)?)?;
        let _pair = self.inner.attempt_locks.lock_bytes(prefix);
        if let Some(k) = start_key
            && let Some(id) = t.attempt_starts.get(k)?
            && let Some(existing) = t.attempts.get(attempt_key(inst, &id))?
        {
            return Ok((existing, false));
        }
        // The student's attempts: numbered slots 1, 2, … each naming an attempt.
        let mut number = 0u32;
        let mut open: Option<Attempt> = None;
        for n in 1..=a.settings.attempts_allowed.saturating_add(1) {
            let k = [prefix, &n.to_be_bytes()].concat();
            let Some(id) = t.attempts_by_student.get(&k)? else { break };
            // A slot without its attempt is a start that crashed before step 3: free.
            let Some(x) = t.attempts.get(attempt_key(inst, &id))? else { break };
            number = n;
            if x.state == AttemptState::InProgress {
                open = Some(x);
            }
        }
        if let Some(x) = open {
            if let Some(k) = start_key {
                t.attempt_starts.insert(k, &x.id)?;
            }
            return Ok((x, false));
        }
        if number >= a.settings.attempts_allowed {
            return Err(CoreError::Conflict(format!(
                "all {} attempts allowed have been used",
                a.settings.attempts_allowed
            )));
        }
        let mut x = fresh;
        x.number = number + 1;
        let slot = [prefix, &x.number.to_be_bytes()].concat();
        let deadline = x.deadline.map(|d| deadline_key(d, inst, &x.id));
        if let Some(d) = &deadline {
            t.attempt_deadlines.insert(d, &())?;
        }
        t.attempts_by_student.insert(&slot, &x.id)?;
        t.attempts.insert(attempt_key(inst, &x.id), &x)?;
        if let Some(k) = start_key {
            t.attempt_starts.insert(k, &x.id)?;
        }
        if let Err(e) = archived(t.assessments.get(akey)?) {
            // Archived (or deleted) while this started: take the start back, newest write first.
            if let Some(k) = start_key {
                t.attempt_starts.remove(k)?;
            }
            t.attempts.remove(attempt_key(inst, &x.id))?;
            t.attempts_by_student.remove(&slot)?;
            if let Some(d) = &deadline {
                t.attempt_deadlines.remove(d)?;
            }
            return Err(e);
        }
        Ok((x, true))
    }

    /// Starts a preview of the assessment for a member of its course's staff
    /// (`course:edit`): the questions exactly as a student gets them, on the
    /// real exam page, with saves, hints, the time limit and proctoring. A
    /// preview is not one of anyone's attempts: it works on a draft or outside
    /// the window, counts against no limit, is graded by the grading plugin
    /// for the previewer alone (see [`Assessments::attempt_result`]), never
    /// reaches the gradebook, and never enters the review queue.
    pub async fn start_preview(&self, p: &Principal, assessment: &str) -> Result<AttemptView, CoreError> {
        let a = self.load_assessment(assessment)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let Some(user) = p.user_id() else {
            return Err(CoreError::Forbidden("previews belong to people, not clients".into()));
        };
        if a.archived_at.is_some() {
            return Err(CoreError::Conflict("the assessment is archived".into()));
        }
        if a.questions.is_empty() {
            return Err(CoreError::Conflict("the assessment has no questions to preview".into()));
        }
        let inst = a.institution;
        let now = self.now();
        // The time limit as a student would have it; the window does not apply.
        let deadline = a.settings.time_limit_secs.map(|l| now + l as i64);
        let mut x = Attempt::fresh(&a, user, now, deadline, true);
        x.number = 1;
        let t = self.t();
        self.store().transaction(&[&t.attempts, &t.attempt_deadlines], |tx| {
            tx.on(&t.attempts)?.insert(attempt_key(inst, &x.id), &x)?;
            if let Some(d) = x.deadline {
                tx.on(&t.attempt_deadlines)?.insert(deadline_key(d, inst, &x.id), &())?;
            }
            Ok(())
        })?;
        self.durable().await?;
        self.ensure_instances(&a, &x).await?;
        tracing::info!(institution = %inst, assessment = %a.id, attempt = %x.id, "preview started");
        self.view(&a, x)
    }

    /// The caller's own attempts at an assessment, oldest first: what the
    /// start page shows (attempts used, the one in progress to resume).
    pub fn my_attempts(&self, p: &Principal, assessment: &str) -> Result<Vec<Attempt>, CoreError> {
        let a = self.load_assessment(assessment)?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let Some(student) = p.user_id() else { return Ok(vec![]) };
        let t = self.t();
        let mut out = vec![];
        for entry in t.attempts_by_student.scan_prefix(student_prefix(a.institution, &a.id, student)) {
            let (_, id) = entry?;
            if let Some(at) = t.attempts.get(attempt_key(a.institution, &id))? {
                out.push(at);
            }
        }
        out.sort_by_key(|x| x.number);
        Ok(out)
    }

    /// An attempt with its questions (no keys), saved answers and time left.
    /// Plugin questions still without an instance get one now (see `plugin_questions`).
    pub async fn get_attempt(&self, p: &Principal, assessment: &str, attempt: &str) -> Result<AttemptView, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, Some(Capability::GradeViewAll))?;
        if at.state == AttemptState::InProgress {
            self.ensure_instances(&a, &at).await?;
        }
        self.view(&a, at)
    }

    /// Saves one answer. Acknowledged only when durable; a save whose
    /// `version` is not above the stored one is refused (an older save
    /// arriving late cannot overwrite a newer one), unless it is the same
    /// save repeated.
    pub async fn save_answer(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        question: &str,
        response: Response,
        version: u64,
    ) -> Result<Answer, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, None)?;
        let q = a.questions.iter().find(|q| q.id == question).ok_or(CoreError::NotFound("question"))?;
        check_response(&q.key, &response)?;
        if let (AnswerKey::Plugin(k), Response::Fields(text)) = (&q.key, &response)
            && at.state == AttemptState::InProgress
        {
            self.check_plugin_response(&a, &at, q, k, text).await?;
        }
        let now = self.now();
        let inst = a.institution;
        let t = self.t();
        let akey = attempt_key(inst, &at.id);
        let key = answer_key(inst, &at.id, question);
        // No storage transaction: sled runs every transaction under one database-wide
        // exclusive lock, which serialised the whole exam at 10,000 students. The
        // attempt's lock orders this save against the submit instead (see `AttemptLocks`).
        let saved = {
            let _attempt = self.inner.attempt_locks.lock(&at.id);
            let Some(cur) = t.attempts.get(&akey)? else { return Err(CoreError::NotFound("attempt")) };
            if cur.state != AttemptState::InProgress {
                return Err(CoreError::Conflict("the attempt is submitted; answers can no longer change".into()));
            }
            if cur.deadline.is_some_and(|d| now >= d) {
                return Err(CoreError::Conflict("the time is up; answers can no longer change".into()));
            }
            let old = t.answers.get(&key)?;
            let first = old.is_none();
            match old {
                Some(old) if old.version == version && old.response == response => (old, false),
                Some(old) if old.version >= version => {
                    return Err(CoreError::Conflict(format!(
                        "a newer answer (version {}) is already saved",
                        old.version
                    )));
                }
                _ => {
                    let ans = Answer { response, version, saved_at: now };
                    t.answers.insert(&key, &ans)?;
                    (ans, first)
                }
            }
        };
        self.durable().await?;
        let (saved, first) = saved;
        if first && a.settings.proctoring.is_some() {
            self.inner.exam_watch.first_save(&at.id, question);
        }
        Ok(saved)
    }

    /// Reveals the next hint of a question; each costs the assessment's
    /// `per_hint` of that question's points. Returns the attempt.
    pub async fn take_hint(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        question: &str,
    ) -> Result<AttemptView, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, None)?;
        let q = a.questions.iter().find(|q| q.id == question).ok_or(CoreError::NotFound("question"))?;
        let available = q.hints.len() as u32;
        let now = self.now();
        let t = self.t();
        let akey = attempt_key(a.institution, &at.id);
        let updated = self.store().transaction(&[&t.attempts], |tx| {
            let attempts = tx.on(&t.attempts)?;
            let Some(mut cur) = attempts.get(&akey)? else { return abort(CoreError::NotFound("attempt")) };
            if cur.state != AttemptState::InProgress || cur.deadline.is_some_and(|d| now >= d) {
                return abort(CoreError::Conflict("the attempt is over".into()));
            }
            let used = cur.hints_used.entry(question.to_owned()).or_insert(0);
            if *used >= available {
                return abort(CoreError::Conflict(format!("this question has {available} hints, all taken")));
            }
            *used += 1;
            attempts.insert(&akey, &cur)?;
            Ok(cur)
        })?;
        self.durable().await?;
        self.view(&a, updated)
    }

    /// Submits the caller's attempt (idempotent: submitting twice is fine).
    pub async fn submit_attempt(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
    ) -> Result<AttemptView, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, None)?;
        let at = self.submit_as(&a, &at.id, SubmittedBy::Student).await?;
        self.view(&a, at)
    }

    /// Marks the attempt submitted and stages `attempt.submitted` with every
    /// question, key and saved answer; the two are one atomic write.
    pub(crate) async fn submit_as(&self, a: &Assessment, attempt: &str, by: SubmittedBy) -> Result<Attempt, CoreError> {
        let inst = a.institution;
        let t = self.t();
        let bus = &self.env().bus;
        let event_id = bus.outbox.next_id().map_err(events::bus_error)?;
        let now = self.now();
        let akey = attempt_key(inst, attempt);
        let prefix = [akey.as_slice(), &[0]].concat();
        // Held from the first read to the commit: a save either lands before it (and
        // is in the submission) or sees the attempt submitted. Answers change only
        // under this lock, so they are read, and the event is built, before the
        // transaction: sled's transactions stop the whole database while they run.
        let attempt_lock = self.inner.attempt_locks.lock(attempt);
        let (at, changed) = loop {
            let Some(before) = t.attempts.get(&akey)? else { return Err(CoreError::NotFound("attempt")) };
            if before.state == AttemptState::Submitted {
                break (before, false);
            }
            let mut submissions = Vec::with_capacity(a.questions.len());
            for q in &a.questions {
                let response = t.answers.get([prefix.as_slice(), q.id.as_bytes()].concat())?.map(|x| x.response);
                submissions.push(Submission {
                    question: Question { id: q.id.clone(), key: q.key.clone(), points: q.points },
                    response,
                    penalties: Penalties {
                        previous_tries: before.number.saturating_sub(1),
                        per_try: a.settings.per_try,
                        hints_used: before.hints_used.get(&q.id).copied().unwrap_or(0),
                        per_hint: a.settings.per_hint,
                        late_seconds: late_seconds(a, now),
                        per_late_day: a.settings.per_late_day,
                        max_total: a.settings.max_penalty,
                    },
                });
            }
            let mut at = before.clone();
            at.state = AttemptState::Submitted;
            at.submitted_at = Some(now);
            at.submitted_by = Some(by);
            let ev = AttemptSubmitted {
                institution: inst,
                course: a.course,
                item: a.id.clone(),
                attempt: at.id.clone(),
                student: at.student,
                submitted_at: now,
                submissions,
                item_points: a.settings.points,
                regrade: None,
                preview: at.preview,
            };
            let message = events::outgoing(topics::ATTEMPT_SUBMITTED, &at.student.to_string(), &ev);
            let committed =
                self.store().transaction(&[&t.attempts, &t.attempt_deadlines, bus.outbox.tree()], |tx| {
                    let attempts = tx.on(&t.attempts)?;
                    // Anything else that changed the attempt since the read (a hint taken) means
                    // the event would be stale: read again.
                    if attempts.get(&akey)?.as_ref() != Some(&before) {
                        return Ok(false);
                    }
                    attempts.insert(&akey, &at)?;
                    if let Some(d) = at.deadline {
                        tx.on(&t.attempt_deadlines)?.remove(deadline_key(d, inst, &at.id))?;
                    }
                    bus.outbox.stage(tx, event_id, message.clone())?;
                    Ok(true)
                })?;
            if committed {
                break (at, true);
            }
        };
        drop(attempt_lock);
        if changed {
            self.inner.exam_watch.forget(&at.id);
            self.commit_events().await?;
            tracing::info!(institution = %inst, attempt = %at.id, by = ?by, "attempt submitted");
            if a.settings.proctoring.is_some() {
                self.close_proctoring(a, &at).await;
            }
        }
        Ok(at)
    }

    /// Submits every attempt whose deadline has passed (the timer; also after
    /// a restart, since deadlines are stored). Returns how many it submitted.
    pub async fn submit_expired_attempts(&self) -> Result<usize, CoreError> {
        let now = self.now();
        let mut done = 0;
        loop {
            let due = self.t().attempt_deadlines.page(b"", None, 64)?;
            let mut progressed = false;
            for (k, ()) in &due {
                let at = u64::from_be_bytes(k[..8].try_into().unwrap_or_default());
                if at as i64 > now {
                    return Ok(done);
                }
                let (Some(inst), Ok(attempt)) = (InstitutionId::from_slice(&k[8..24]), std::str::from_utf8(&k[24..]))
                else {
                    self.t().attempt_deadlines.remove(k)?;
                    continue;
                };
                let Some(x) = self.t().attempts.get(attempt_key(inst, attempt))? else {
                    self.t().attempt_deadlines.remove(k)?;
                    continue;
                };
                let a = self.load_assessment(&x.assessment)?;
                self.submit_as(&a, attempt, SubmittedBy::Deadline).await?;
                // A submitted attempt's deadline entry goes with the submit; make sure of it.
                self.t().attempt_deadlines.remove(k)?;
                done += 1;
                progressed = true;
            }
            if due.len() < 64 || !progressed {
                self.durable().await?;
                return Ok(done);
            }
        }
    }
}

/// How late a submission at `at` is: seconds past the due time (0 when on time or without one).
fn late_seconds(a: &Assessment, at: i64) -> u64 {
    a.settings.closes_at.map_or(0, |due| (at - due).max(0) as u64)
}

/// A stable per-question mix for the option shuffle (FNV-1a).
fn fxhash(s: &str) -> u64 {
    fxhash_bytes(s.as_bytes())
}

fn fxhash_bytes(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Orders the writes of one attempt that sled's transactions used to: an answer
/// save against the submit (which reads every answer and ends the attempt). An
/// attempt maps to one of a fixed set of locks by hash; two attempts sharing one
/// only wait for each other. Held for a few tree operations, never across an
/// `.await`. In-process: a clustered store would need the same order from its own
/// transactions (a conditional write on the attempt's state).
pub(crate) struct AttemptLocks(Box<[std::sync::Mutex<()>]>);

impl Default for AttemptLocks {
    fn default() -> Self {
        AttemptLocks((0..256).map(|_| std::sync::Mutex::new(())).collect())
    }
}

impl AttemptLocks {
    pub(crate) fn lock(&self, attempt: &str) -> std::sync::MutexGuard<'_, ()> {
        self.lock_bytes(attempt.as_bytes())
    }

    /// The lock of any other key (a student's starts on one assessment).
    pub(crate) fn lock_bytes(&self, key: &[u8]) -> std::sync::MutexGuard<'_, ()> {
        let i = (fxhash_bytes(key) as usize) % self.0.len();
        self.0[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_reproducible_permutation() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        shuffle(&mut a, 42);
        shuffle(&mut b, 42);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        let mut c: Vec<u32> = (0..50).collect();
        shuffle(&mut c, 43);
        assert_ne!(a, c);
    }

    #[test]
    fn responses_must_fit_their_question() {
        let tf = AnswerKey::TrueFalse(true);
        assert!(check_response(&tf, &Response::Boolean(false)).is_ok());
        assert!(check_response(&tf, &Response::Text("true".into())).is_err());
        let num = AnswerKey::Numeric(lectern_host::slots::grading::NumericKey {
            value: 1.0,
            absolute_tolerance: None,
            relative_tolerance: None,
            units: vec![],
            unit_missing_credit: 0.0,
        });
        assert!(check_response(&num, &Response::Number { value: f64::NAN, unit: None }).is_err());
        let essay = AnswerKey::Essay(vec![]);
        assert!(check_response(&essay, &Response::Essay("x".repeat(MAX_TEXT_ANSWER + 1))).is_err());
    }
}

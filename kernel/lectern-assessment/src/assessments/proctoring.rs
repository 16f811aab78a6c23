//! Proctoring of attempts: the exam page sends integrity signals in numbered
//! batches; the kernel stores each batch durably first (a plugin fault never
//! loses what was recorded), adds what only it can see (address, user agent,
//! login session: changes become `ip_changed`, `device_changed`,
//! `concurrent_session` signals), and answers; the institution's proctoring
//! plugin scores the attempt right after, off the request path (see
//! [`super::scoring`]). Staff review flagged attempts; students see
//! everything recorded about them.

use lectern_host::slots::proctoring::{Assessment as Scored, Signal, SignalKind};
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use super::attempts::AttemptState;
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Assessments, Principal};

/// What the kernel knows about the client that sent a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The login session the request came with.
    pub session: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalBatch {
    pub seq: u64,
    pub received_at: i64,
    pub client: ClientInfo,
    /// The client's signals, then the kernel's derived ones.
    pub signals: Vec<Signal>,
}

impl Record for SignalBatch {
    const VERSION: u8 = 1;
}

/// Stored by variant index (postcard): append, never reorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// The flags were reviewed and do not indicate misconduct.
    Dismissed,
    /// The reviewer upholds the flags.
    Confirmed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub decision: Decision,
    pub comment: String,
    pub by: UserId,
    pub at: i64,
}

/// One attempt's proctoring record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProctorState {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub assessment: String,
    pub attempt: String,
    pub student: UserId,
    pub last_seq: u64,
    pub batches: u64,
    /// The first batch's client, against which changes are detected.
    pub first_client: Option<ClientInfo>,
    pub opened: bool,
    /// The plugin's latest scoring, and when.
    pub scored: Option<Scored>,
    pub scored_at: Option<i64>,
    /// Why the latest batch could not be scored (it is stored all the same).
    pub plugin_error: Option<String>,
    /// Every review, oldest first (the audit trail).
    pub reviews: Vec<Review>,
    /// The last batch the plugin has scored: below `last_seq` while scoring
    /// is pending (batches are scored after they are acknowledged).
    pub scored_seq: u64,
}

/// Version 2 added `scored_seq`.
impl Record for ProctorState {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        match version {
            1 => lectern_storage::decode_body::<v1::ProctorState>(body).map(Into::into),
            v => Err(format!("no upgrade path from proctoring record version {v}")),
        }
    }
}

/// Proctoring records as stored before asynchronous scoring (record
/// version 1). postcard is positional: these list exactly the old fields, in
/// order, and must never change.
mod v1 {
    use serde::Deserialize;

    use super::{ClientInfo, Review, Scored};
    use crate::ids::{CourseId, InstitutionId, UserId};

    #[derive(Deserialize)]
    pub(super) struct ProctorState {
        institution: InstitutionId,
        course: CourseId,
        assessment: String,
        attempt: String,
        student: UserId,
        last_seq: u64,
        batches: u64,
        first_client: Option<ClientInfo>,
        opened: bool,
        scored: Option<Scored>,
        scored_at: Option<i64>,
        plugin_error: Option<String>,
        reviews: Vec<Review>,
    }

    impl From<ProctorState> for super::ProctorState {
        /// Version 1 scored every batch before answering: nothing is pending.
        fn from(s: ProctorState) -> Self {
            super::ProctorState {
                institution: s.institution,
                course: s.course,
                assessment: s.assessment,
                attempt: s.attempt,
                student: s.student,
                last_seq: s.last_seq,
                batches: s.batches,
                first_client: s.first_client,
                opened: s.opened,
                scored: s.scored,
                scored_at: s.scored_at,
                plugin_error: s.plugin_error,
                reviews: s.reviews,
                scored_seq: s.last_seq,
            }
        }
    }
}

/// Which attempts of the review queue to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewFilter {
    /// Flagged and not reviewed yet: what waits for a reviewer.
    #[default]
    Unreviewed,
    /// Flagged and reviewed at least once.
    Reviewed,
    /// Every flagged attempt.
    All,
}

/// An attempt in the review queue, with the threshold it was held against.
#[derive(Clone, Debug, PartialEq)]
pub struct Flagged {
    pub state: ProctorState,
    /// The assessment's `flag_threshold` now (`None`: no longer proctored).
    pub flag_threshold: Option<f32>,
}

/// The first-party plugin's flag for "the score reached the threshold"
/// (plugins/proctoring README, *Score*): its own verdict on the attempt.
const THRESHOLD_FLAG: &str = "risk-threshold";

/// Whether a scoring puts an attempt in the review queue: its score reached
/// the course's threshold, or the plugin itself said so (a `risk-threshold`
/// flag, or `lock`). Flags of single rules do not: they are evidence, and a
/// rule flags on evidence far below the threshold (one `devtools-opened` is a
/// low flag worth 0.13). The plugin's verdict counts too because it holds the
/// policy the attempt opened with; the kernel's check because the contract
/// does not oblige a third-party plugin to raise that flag.
pub fn needs_review(scored: &Scored, flag_threshold: Option<f32>) -> bool {
    scored.lock
        || scored.flags.iter().any(|f| f.id == THRESHOLD_FLAG)
        || flag_threshold.is_some_and(|t| scored.risk_score >= t)
}

/// The full record, for the student and for reviewers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProctorRecord {
    pub state: ProctorState,
    pub batches: Vec<SignalBatch>,
}

const MAX_SIGNALS: usize = 500;
const MAX_DETAIL: usize = 256;

pub(crate) fn state_key(i: InstitutionId, c: CourseId, attempt: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), attempt.as_bytes()].concat()
}

/// Where an attempt's batches are, in `seq` order.
pub(crate) fn batch_prefix(i: InstitutionId, attempt: &str) -> Vec<u8> {
    [i.bytes().as_slice(), attempt.as_bytes(), &[0]].concat()
}

fn batch_key(i: InstitutionId, attempt: &str, seq: u64) -> Vec<u8> {
    [batch_prefix(i, attempt).as_slice(), &seq.to_be_bytes()].concat()
}

/// Signals only the kernel may send (the client cannot claim them).
fn kernel_only(k: SignalKind) -> bool {
    matches!(k, SignalKind::IpChanged | SignalKind::DeviceChanged | SignalKind::ConcurrentSession)
}

/// Details that name the kernel's derived checks (sent as `paste`, see the
/// proctoring plugin's README): a client claiming one would pass its own
/// words off as the kernel's observation, so the detail is dropped and the
/// signal stays an ordinary paste. The exam page reports where a paste went
/// with `answer:<question id>`; for a question of this assessment the kernel
/// turns that into the plugin's `paste-into-answer:<question id>`.
fn interpret_client_detail(mut s: Signal, questions: &[super::QuestionSpec]) -> Signal {
    let detail = s.detail.take();
    s.detail = match detail.as_deref() {
        Some(d) if d.starts_with("paste-into-answer:") || d.starts_with("answer-burst:") => None,
        Some(d) if s.kind == SignalKind::Paste => match d.strip_prefix("answer:") {
            Some(q) if questions.iter().any(|x| x.id == q) => Some(format!("paste-into-answer:{q}")),
            _ => detail,
        },
        _ => detail,
    };
    s
}

/// Answer bursts: many different questions answered within seconds is
/// inconsistent with reading them. Observed on saves, reported with the
/// attempt's next signal batch (as a `paste` with `answer-burst:<n>/<ms>`,
/// the proctoring plugin's convention). Kept in memory: a restart forgets a
/// burst in progress, which only ever errs in the student's favour.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    inner: std::sync::Mutex<WatchState>,
}

#[derive(Debug, Default)]
struct WatchState {
    /// attempt → (when, question) of recent first saves.
    recent: std::collections::HashMap<String, std::collections::VecDeque<(std::time::Instant, String)>>,
    /// attempt → details waiting for the next batch.
    pending: std::collections::HashMap<String, Vec<String>>,
}

/// A burst: this many distinct questions within the window.
const BURST_ANSWERS: usize = 5;
const BURST_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

impl Watch {
    /// Notes the first save of `question` in `attempt`.
    pub(crate) fn first_save(&self, attempt: &str, question: &str) {
        let now = std::time::Instant::now();
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let recent = w.recent.entry(attempt.to_owned()).or_default();
        while recent.front().is_some_and(|(t, _)| now.duration_since(*t) > BURST_WINDOW) {
            recent.pop_front();
        }
        recent.push_back((now, question.to_owned()));
        if recent.len() >= BURST_ANSWERS {
            let span = now.duration_since(recent.front().map_or(now, |(t, _)| *t));
            let n = recent.len();
            recent.clear();
            w.pending.entry(attempt.to_owned()).or_default().push(format!("answer-burst:{n}/{}", span.as_millis()));
        }
    }

    fn restore(&self, attempt: &str, details: Vec<String>) {
        if !details.is_empty() {
            let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            w.pending.entry(attempt.to_owned()).or_default().extend(details);
        }
    }

    fn take(&self, attempt: &str) -> Vec<String> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).pending.remove(attempt).unwrap_or_default()
    }

    pub(crate) fn forget(&self, attempt: &str) {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.recent.remove(attempt);
        w.pending.remove(attempt);
    }
}

/// The network an address is in: /24 for IPv4, /64 for IPv6. A change of
/// address within one (DHCP, IPv6 privacy addresses rotating) is no change
/// of place, and the proctoring README asks for network changes only.
pub(crate) fn network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{}/64", std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        Err(_) => ip.to_owned(),
    }
}

/// A proctoring-plugin call on behalf of the attempt's student.
pub(super) fn student_context(a: &super::Assessment, at: &super::Attempt) -> lectern_host::slots::CallContext {
    lectern_host::slots::CallContext {
        institution: a.institution.to_string(),
        user: Some(at.student.to_string()),
        course: Some(a.course.to_string()),
        item: Some(a.id.to_string()),
        roles: vec!["student".into()],
        locale: "en".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        vector_scope: vec![],
    }
}

/// What changed since the first batch, as signals at `now_ms`.
fn derived(first: &ClientInfo, now: &ClientInfo, now_ms: u64) -> Vec<Signal> {
    let mut out = vec![];
    let mut push = |kind, what: &str, a: &Option<String>, b: &Option<String>| {
        if a.is_some() && b.is_some() && a != b {
            out.push(Signal {
                kind,
                at_ms: now_ms,
                duration_ms: None,
                detail: Some(format!("{what}: {} → {}", a.as_deref().unwrap_or("?"), b.as_deref().unwrap_or("?"))),
            });
        }
    };
    let net = |c: &ClientInfo| c.ip.as_deref().map(network);
    push(SignalKind::IpChanged, "network", &net(first), &net(now));
    push(SignalKind::DeviceChanged, "user agent", &first.user_agent, &now.user_agent);
    push(SignalKind::ConcurrentSession, "login session", &first.session, &now.session);
    out
}

impl Assessments {
    /// Records a batch of signals for the caller's attempt, durably, and
    /// queues it for scoring (see `scoring`). `seq` must grow: a replayed or
    /// out-of-order batch, or one for a submitted attempt, is refused and
    /// changes nothing. Returns the record as it stands.
    pub async fn record_signals(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        seq: u64,
        signals: Vec<Signal>,
        client: ClientInfo,
    ) -> Result<ProctorState, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, None)?;
        if at.state != AttemptState::InProgress {
            return Err(CoreError::Conflict("the attempt is submitted".into()));
        }
        if seq == 0 {
            return Err(CoreError::invalid("seq", "sequence numbers start at 1"));
        }
        if signals.is_empty() || signals.len() > MAX_SIGNALS {
            return Err(CoreError::invalid("signals", format!("1–{MAX_SIGNALS} signals per batch")));
        }
        if let Some(s) = signals.iter().find(|s| kernel_only(s.kind)) {
            return Err(CoreError::invalid("signals", format!("{:?} is recorded by the server, not sent", s.kind)));
        }
        if signals.iter().any(|s| s.detail.as_ref().is_some_and(|d| d.len() > MAX_DETAIL)) {
            return Err(CoreError::invalid("signals.detail", format!("at most {MAX_DETAIL} bytes")));
        }
        let signals: Vec<Signal> = signals.into_iter().map(|x| interpret_client_detail(x, &a.questions)).collect();
        let now = self.now();
        // The kernel's signals are stamped on the client's clock (its latest
        // signal is "now" for the client): the plugin refuses a batch whose
        // earliest signal lies over 2 minutes before the latest it has, so a
        // server-time stamp would stop scoring for any client whose clock is
        // more than 2 minutes fast.
        let now_ms = signals.iter().map(|s| s.at_ms).max().unwrap_or_else(|| (now.max(0) as u64).saturating_mul(1000));
        let (inst, course) = (a.institution, a.course);
        let skey = state_key(inst, course, &at.id);
        // Taken before the write; if the batch is refused (a replay, a submitted attempt), put them back.
        let bursts = self.inner.exam_watch.take(&at.id);
        let t = self.t();
        // No storage transaction (sled's are database-wide): the attempt's lock orders
        // batches among themselves and against the submit; the scorer's writes to the
        // same record are compare-and-swap updates, so none of theirs is lost.
        let stored = (|| {
            let _attempt = self.inner.attempt_locks.lock(&at.id);
            // Under the lock, a batch racing the submit either lands before it (and is
            // scored before the plugin's session closes) or is refused.
            let attempt_now = t.attempts.get(super::attempts::attempt_key(inst, &at.id))?;
            if attempt_now.is_none_or(|x| x.state != AttemptState::InProgress) {
                return Err(CoreError::Conflict("the attempt is submitted".into()));
            }
            let current = t.proctor_states.get(&skey)?;
            let last_seq = current.as_ref().map_or(0, |st| st.last_seq);
            if seq <= last_seq {
                return Err(CoreError::Conflict(format!(
                    "batch {seq} is a replay or out of order: the last one received was {last_seq}"
                )));
            }
            let first_client = current.as_ref().and_then(|st| st.first_client.clone());
            let mut all = signals;
            all.extend(bursts.iter().map(|d| Signal {
                kind: SignalKind::Paste,
                at_ms: now_ms,
                duration_ms: None,
                detail: Some(d.clone()),
            }));
            if let Some(first) = &first_client {
                all.extend(derived(first, &client, now_ms));
            }
            // The batch first: until the record's `last_seq` reaches it, nothing reads
            // it (the scorer stops at `last_seq`), and a retry of the same `seq` after
            // a crash in between overwrites it.
            let batch = SignalBatch { seq, received_at: now, client: client.clone(), signals: all };
            t.proctor_batches.insert(batch_key(inst, &at.id, seq), &batch)?;
            let fresh = || ProctorState {
                institution: inst,
                course,
                assessment: a.id.clone(),
                attempt: at.id.clone(),
                student: at.student,
                last_seq: 0,
                batches: 0,
                first_client: None,
                opened: false,
                scored: None,
                scored_at: None,
                plugin_error: None,
                reviews: vec![],
                scored_seq: 0,
            };
            let st = t.proctor_states.update(&skey, |old| {
                let mut st = old.unwrap_or_else(fresh);
                st.first_client.get_or_insert_with(|| client.clone());
                st.last_seq = seq;
                st.batches += 1;
                Some(st)
            })?;
            st.ok_or(CoreError::NotFound("proctoring record"))
        })();
        let state = match stored {
            Ok(x) => x,
            Err(e) => {
                self.inner.exam_watch.restore(&at.id, bursts);
                return Err(e);
            }
        };
        // Durable before it is acknowledged (or scored): what was recorded stays recorded.
        self.durable().await?;
        if a.settings.proctoring.is_some() {
            self.inner.scoring.push(skey);
        }
        Ok(state)
    }

    /// After a submit: the plugin's final scoring (an absence still open at
    /// the end counts). Best effort — the attempt is submitted either way,
    /// and a failure is kept on the record.
    pub(crate) async fn close_proctoring(&self, a: &super::Assessment, at: &super::Attempt) {
        let key = state_key(a.institution, a.course, &at.id);
        // Batches acknowledged before the submit are scored before the session closes.
        // (Boxed: scoring can submit, and a submit closes the session.)
        if let Err(e) = Box::pin(self.score_pending(&key)).await {
            tracing::warn!(attempt = %at.id, error = %e, "cannot score the last proctoring batches");
        }
        let Ok(Some(st)) = self.t().proctor_states.get(&key) else { return };
        if !st.opened {
            return;
        }
        let ctx = student_context(a, at);
        let host = self.host().clone();
        let attempt = at.id.clone();
        let ended_ms = (at.submitted_at.unwrap_or_else(|| self.now()).max(0) as u64).saturating_mul(1000);
        let closed = Self::blocking(move || host.proctor_close(&ctx, &attempt, ended_ms)).await;
        let outcome = match closed {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(format!("proctoring: {e}")),
            Err(e) => Err(e.to_string()),
        };
        let stored = match self.store_scoring(&st, st.scored_seq, Some(outcome)) {
            Ok(_) => self.durable().await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            tracing::warn!(attempt = %at.id, error = %e, "cannot store the final proctoring scoring");
        }
    }

    /// Everything recorded about an attempt: for its student and the course's staff.
    pub fn proctoring_record(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
    ) -> Result<ProctorRecord, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, Some(Capability::IntegrityView))?;
        let state = self
            .t()
            .proctor_states
            .get(state_key(a.institution, a.course, &at.id))?
            .ok_or(CoreError::NotFound("proctoring record"))?;
        let prefix = [a.institution.bytes().as_slice(), at.id.as_bytes(), &[0]].concat();
        let batches =
            self.t().proctor_batches.scan_prefix(&prefix).map(|r| r.map(|(_, b)| b)).collect::<Result<_, _>>()?;
        Ok(ProctorRecord { state, batches })
    }

    /// The review queue: the course's attempts whose scoring reached the
    /// threshold (see [`needs_review`]), by default those nobody has reviewed
    /// yet, highest risk first.
    pub fn flagged_attempts(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        filter: ReviewFilter,
    ) -> Result<Vec<Flagged>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::IntegrityView, ctx)?;
        let prefix = crate::keys::inst_course(inst, course);
        let mut thresholds = std::collections::HashMap::new();
        for row in self.t().assessments.scan_prefix(&prefix) {
            let (_, a) = row?;
            thresholds.insert(a.id, a.settings.proctoring.map(|p| p.flag_threshold));
        }
        let mut out: Vec<Flagged> = vec![];
        for row in self.t().proctor_states.scan_prefix(&prefix) {
            let (_, st) = row?;
            let flag_threshold = thresholds.get(&st.assessment).copied().flatten();
            let reviewed = !st.reviews.is_empty();
            let wanted = match filter {
                ReviewFilter::Unreviewed => !reviewed,
                ReviewFilter::Reviewed => reviewed,
                ReviewFilter::All => true,
            };
            // A staff preview is proctored like an attempt, to show what a student would meet,
            // but is nobody's integrity record to review.
            let preview = || -> Result<bool, CoreError> {
                Ok(self.t().attempts.get(super::attempts::attempt_key(inst, &st.attempt))?.is_some_and(|x| x.preview))
            };
            if wanted && st.scored.as_ref().is_some_and(|s| needs_review(s, flag_threshold)) && !preview()? {
                out.push(Flagged { state: st, flag_threshold });
            }
        }
        let risk = |f: &Flagged| f.state.scored.as_ref().map_or(0.0, |x| x.risk_score);
        out.sort_by(|a, b| risk(b).total_cmp(&risk(a)));
        Ok(out)
    }

    /// A reviewer dismisses or confirms an attempt's flags, with a comment kept in its audit trail.
    pub async fn review_attempt(
        &self,
        p: &Principal,
        assessment: &str,
        attempt: &str,
        decision: Decision,
        comment: &str,
    ) -> Result<ProctorState, CoreError> {
        let (a, at) = self.attempt_for(p, assessment, attempt, Some(Capability::IntegrityView))?;
        let (_, ctx) = self.identity().course_context(p, a.institution, a.course)?;
        authorize(p, Capability::IntegrityReview, ctx)?;
        let Some(by) = p.user_id() else { return Err(CoreError::Forbidden("reviews are signed by a person".into())) };
        let comment = comment.trim();
        if comment.is_empty() || comment.len() > 4_000 {
            return Err(CoreError::invalid("comment", "1–4,000 characters: say why"));
        }
        let now = self.now();
        let review = Review { decision, comment: comment.to_owned(), by, at: now };
        let st = self
            .t()
            .proctor_states
            .update(state_key(a.institution, a.course, &at.id), |old| {
                old.map(|mut st| {
                    st.reviews.push(review.clone());
                    st
                })
            })?
            .ok_or(CoreError::NotFound("proctoring record"))?;
        self.durable().await?;
        tracing::info!(attempt = %at.id, reviewer = %by, decision = ?decision, "proctoring review");
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_record_upgrades_with_nothing_pending() {
        let st = ProctorState {
            institution: InstitutionId::new(),
            course: CourseId::new(),
            assessment: "a".into(),
            attempt: "t".into(),
            student: UserId::new(),
            last_seq: 7,
            batches: 7,
            first_client: Some(ClientInfo { ip: Some("10.0.0.1".into()), user_agent: None, session: None }),
            opened: true,
            scored: None,
            scored_at: Some(5),
            plugin_error: Some("e".into()),
            reviews: vec![Review { decision: Decision::Dismissed, comment: "ok".into(), by: UserId::new(), at: 6 }],
            scored_seq: 0,
        };
        // postcard is positional: version 1 is version 2 without the last field (one byte for 0).
        let mut body = postcard::to_allocvec(&st).unwrap();
        assert_eq!(body.pop(), Some(0));
        let up = ProctorState::upgrade(1, &body).unwrap();
        assert_eq!(up, ProctorState { scored_seq: 7, ..st }, "version 1 scored every batch before answering");
        assert!(ProctorState::upgrade(9, &body).is_err());
    }

    #[test]
    fn changes_of_client_become_signals() {
        let first =
            ClientInfo { ip: Some("10.0.0.1".into()), user_agent: Some("A".into()), session: Some("s1".into()) };
        assert!(derived(&first, &first, 5).is_empty());
        let moved =
            ClientInfo { ip: Some("10.0.9.1".into()), user_agent: Some("B".into()), session: Some("s2".into()) };
        let kinds: Vec<SignalKind> = derived(&first, &moved, 5).into_iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [SignalKind::IpChanged, SignalKind::DeviceChanged, SignalKind::ConcurrentSession]);
        assert_eq!(derived(&first, &moved, 5)[0].detail.as_deref(), Some("network: 10.0.0.0/24 → 10.0.9.0/24"));
        // Another address in the same network is not a move.
        let near = ClientInfo { ip: Some("10.0.0.200".into()), ..first.clone() };
        assert!(derived(&first, &near, 5).is_empty());
        let v6 = |ip: &str| ClientInfo { ip: Some(ip.into()), ..first.clone() };
        assert!(derived(&v6("2001:db8:1:2::1"), &v6("2001:db8:1:2:abcd::9"), 5).is_empty());
        assert_eq!(derived(&v6("2001:db8:1:2::1"), &v6("2001:db8:1:3::1"), 5).len(), 1);
        // Unknown on either side is not a change.
        assert!(derived(&first, &ClientInfo::default(), 5).is_empty());
    }

    #[test]
    fn clients_cannot_claim_the_kernels_derived_checks() {
        let paste = |d: &str| Signal { kind: SignalKind::Paste, at_ms: 1, duration_ms: None, detail: Some(d.into()) };
        let questions = vec![super::super::QuestionSpec {
            id: "q1".into(),
            prompt: String::new(),
            key: lectern_host::slots::grading::AnswerKey::TrueFalse(true),
            points: 1.0,
            labels: Default::default(),
            hints: vec![],
        }];
        let check = |d: &str| interpret_client_detail(paste(d), &questions).detail;
        assert_eq!(check("paste-into-answer:q1"), None);
        assert_eq!(check("answer-burst:3/2000"), None);
        assert_eq!(check("from the clipboard").as_deref(), Some("from the clipboard"));
        // Where the page says the paste went, for a real question, is the kernel's derived check.
        assert_eq!(check("answer:q1").as_deref(), Some("paste-into-answer:q1"));
        assert_eq!(check("answer:nope").as_deref(), Some("answer:nope"));
    }

    #[test]
    fn only_a_score_at_the_threshold_or_the_plugins_verdict_queues_an_attempt() {
        use lectern_host::slots::proctoring::{Flag, Severity};
        let flag =
            |id: &str, severity| Flag { id: id.into(), severity, reason: String::new(), evidence: vec![], at_ms: 0 };
        let scored = |risk_score, flags, lock| Scored { risk_score, flags, explanation: vec![], lock };
        // The attempt: one low `devtools-opened` flag, 0.133 against 0.30.
        let devtools = scored(0.133, vec![flag("devtools-opened", Severity::Low)], false);
        assert!(!needs_review(&devtools, Some(0.3)));
        assert!(!needs_review(&devtools, None));
        assert!(needs_review(&devtools, Some(0.13)), "a lower threshold now");
        // At the threshold exactly, with or without the plugin's flag.
        assert!(needs_review(&scored(0.5, vec![], false), Some(0.5)));
        assert!(!needs_review(&scored(0.49, vec![], false), Some(0.5)));
        // The plugin's verdict stands when the threshold was raised since the attempt opened, or is gone.
        let reached = scored(0.5, vec![flag("risk-threshold", Severity::Medium)], false);
        assert!(needs_review(&reached, Some(0.9)));
        assert!(needs_review(&reached, None));
        assert!(needs_review(&scored(0.2, vec![], true), Some(0.9)), "a locked attempt");
    }

    #[test]
    fn five_first_saves_within_seconds_are_a_burst() {
        let w = Watch::default();
        for q in ["a", "b", "c", "d"] {
            w.first_save("t", q);
        }
        assert!(w.take("t").is_empty());
        w.first_save("t", "e");
        let got = w.take("t");
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("answer-burst:5/"), "{got:?}");
        assert!(w.take("t").is_empty(), "reported once");
    }
}

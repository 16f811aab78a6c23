//! The per-attempt state and how a batch of signals is folded into it.
//!
//! Everything here is a pure function of the stored state and the batch:
//! no kv, no clock. The same signals give the same state on every run and
//! every target, which is what lets an instructor (or a student disputing a
//! flag) replay an attempt and get the same answer.
//!
//! The state only ever grows (counts, totals, first-flagged times), so the
//! score computed from it (`assess`) can only rise within an attempt: a flag
//! never silently disappears, and a lock never lifts by itself.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::{Batch, Signal, SignalKind};
use serde::{Deserialize, Serialize};

use crate::assess::{self, Rule};
use crate::policy::{StoredPolicy, kind_index, kind_name};
use crate::time::format_utc;

/// Layout of [`Session`]; the manifest's `data_version` moves with it.
pub const STATE_VERSION: u32 = 1;
/// More signals than any honest client sends between two batches: a
/// heartbeat a second for a quarter of an hour is 900.
pub const MAX_BATCH: usize = 1000;
/// `detail` is a short note, not a payload; this also bounds stored evidence.
pub const MAX_DETAIL_BYTES: usize = 256;
/// Evidence kept per rule; later occurrences are counted, not listed. The
/// first ones are kept because they are the ones that raised the flag.
pub const MAX_EVIDENCE: usize = 16;
/// Fingerprints of recent signals, to recognise a retried batch: those of
/// the last [`REORDER_WINDOW_MS`], and never more than this many. A retry
/// that comes later than that is refused as out of order, which is just as
/// safe (nothing is counted twice) and keeps the state small.
pub const MAX_REMEMBERED: usize = 1024;
/// A client clock may run a little behind the kernel's `started-at-ms`.
pub const EARLY_TOLERANCE_MS: u64 = 5 * 60_000;
/// No exam attempt lasts a week; a later time is a broken clock.
pub const MAX_ATTEMPT_MS: u64 = 7 * 86_400_000;
/// No single interval lasts longer than a day.
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// How far a signal may lag behind the latest one already ingested: kernel
/// signals (stamped by the server) and client signals (stamped by the
/// browser) interleave, and two tabs of one attempt send their own batches.
pub const REORDER_WINDOW_MS: u64 = 2 * 60_000;

/// One occurrence a rule keeps as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Item {
    pub kind: String,
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The batch it arrived in (0: before 0.2 numbered batches, or the
    /// plugin's own conclusion at close).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What one rule has seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Tally {
    /// Occurrences: signals, or for `away` and `heartbeat-gap` intervals.
    pub count: u64,
    /// Time away, or heartbeat time missing; 0 for counted rules.
    pub total_ms: u64,
    /// The first [`MAX_EVIDENCE`] occurrences.
    pub items: Vec<Item>,
    /// When the rule's flag condition first held (stable flag time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged_at_ms: Option<u64>,
}

/// Everything stored for one attempt, under one kv key so that a batch is
/// applied atomically (compare-and-swap in `lib.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Session {
    pub v: u32,
    pub policy: StoredPolicy,
    pub started_at_ms: u64,
    pub closed: bool,
    /// The latest `at-ms` ingested.
    pub latest_ms: Option<u64>,
    pub last_heartbeat_ms: Option<u64>,
    /// End of the latest absence, to merge overlapping ones (`focus-lost`
    /// and `visibility-hidden` usually fire together for one tab switch).
    pub away_until_ms: u64,
    /// An absence whose end has not been reported yet: (since, kind).
    pub away_open: Option<(u64, String)>,
    /// Rule id → what it has seen; only rules that saw something.
    pub tallies: BTreeMap<String, Tally>,
    /// (at-ms, fingerprint) of recent signals, see [`MAX_REMEMBERED`].
    pub remembered: VecDeque<(u64, u64)>,
    pub accepted: u64,
    pub duplicates: u64,
    /// When the score first reached the policy's threshold.
    pub threshold_reached_at_ms: Option<u64>,
    /// Rules whose flags an instructor dismissed: they no longer count.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dismissed: BTreeSet<String>,
    /// The score at which an instructor unlocked the attempt: the policy's
    /// action applies again only above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlocked_at_score: Option<f32>,
    /// The batch being folded in (not stored: each item keeps its own).
    #[serde(skip)]
    pub seq: u64,
}

/// Why a batch was refused; nothing of it was applied.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Invalid(String),
    TooLarge(String),
    Closed,
}

impl Session {
    pub fn new(policy: StoredPolicy, started_at_ms: u64) -> Session {
        Session {
            v: STATE_VERSION,
            policy,
            started_at_ms,
            closed: false,
            latest_ms: None,
            last_heartbeat_ms: None,
            away_until_ms: 0,
            away_open: None,
            tallies: BTreeMap::new(),
            remembered: VecDeque::new(),
            accepted: 0,
            duplicates: 0,
            threshold_reached_at_ms: None,
            dismissed: BTreeSet::new(),
            unlocked_at_score: None,
            seq: 0,
        }
    }

    /// Folds batches in `seq` order; all or nothing (the caller stores the
    /// session only if every batch was accepted).
    pub fn ingest_batches(&mut self, batches: &[Batch]) -> Result<(), Refusal> {
        let total: usize = batches.iter().map(|b| b.signals.len()).sum();
        if total > MAX_BATCH {
            return Err(Refusal::TooLarge(format!("a call holds at most {MAX_BATCH} signals, this one has {total}")));
        }
        let mut sorted: Vec<&Batch> = batches.iter().collect();
        sorted.sort_by_key(|b| b.seq);
        for b in sorted {
            self.seq = b.seq;
            self.ingest(&b.signals)?;
        }
        self.seq = 0;
        Ok(())
    }

    /// An instructor dismissed the flag `id`: its rule stops counting.
    pub fn dismiss(&mut self, id: &str) -> Result<(), String> {
        if !assess::RULES.iter().any(|r| r.id() == id) {
            return Err(format!("no flag `{id}` to dismiss; dismiss a rule's flag by its id"));
        }
        self.dismissed.insert(id.to_owned());
        Ok(())
    }

    /// An instructor let the attempt continue at its current score.
    pub fn unlock(&mut self) {
        self.unlocked_at_score = Some(assess::score(self));
    }

    pub fn tally(&self, rule: Rule) -> Option<&Tally> {
        self.tallies.get(rule.id())
    }

    /// Validates the whole batch, then applies it; a refused batch changes
    /// nothing, so the kernel may fix and resend it.
    pub fn ingest(&mut self, batch: &[Signal]) -> Result<(), Refusal> {
        if self.closed {
            return Err(Refusal::Closed);
        }
        if batch.len() > MAX_BATCH {
            return Err(Refusal::TooLarge(format!(
                "a batch holds at most {MAX_BATCH} signals, this one has {}",
                batch.len()
            )));
        }
        for s in batch {
            self.check(s).map_err(Refusal::Invalid)?;
        }
        // Client batching must not change the outcome, so a batch is read in
        // time order; ties are broken by every field, which makes the order
        // (and so the result) independent of how the batch was listed.
        let mut sorted: Vec<&Signal> = batch.iter().collect();
        sorted.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));

        let mut fresh = Vec::with_capacity(sorted.len());
        let mut seen: Vec<u64> = Vec::new();
        for s in sorted {
            let fp = fingerprint(s);
            if self.remembered.iter().any(|(_, f)| *f == fp) || seen.contains(&fp) {
                continue; // a retry: already counted once
            }
            seen.push(fp);
            fresh.push((s, fp));
        }
        if let (Some(latest), Some((first, _))) = (self.latest_ms, fresh.first())
            && first.at_ms.saturating_add(REORDER_WINDOW_MS) < latest
        {
            return Err(Refusal::Invalid(format!(
                "time went backwards: `{}` at {} is more than {} s before the latest signal already ingested ({}); signals must be sent in time order",
                kind_name(first.kind),
                format_utc(first.at_ms),
                REORDER_WINDOW_MS / 1000,
                format_utc(latest)
            )));
        }

        self.duplicates += (batch.len() - fresh.len()) as u64;
        for (s, fp) in fresh {
            self.remembered.push_back((s.at_ms, fp));
            if self.remembered.len() > MAX_REMEMBERED {
                self.remembered.pop_front();
            }
            self.accepted += 1;
            self.latest_ms = Some(self.latest_ms.map_or(s.at_ms, |l| l.max(s.at_ms)));
            self.fold(s);
        }
        if let Some(latest) = self.latest_ms {
            self.remembered.retain(|(at, _)| at.saturating_add(REORDER_WINDOW_MS) >= latest);
        }
        self.note_threshold();
        Ok(())
    }

    /// Ends the attempt: an absence still open counts until the latest
    /// signal (the last moment anything was heard from the attempt).
    /// Idempotent.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        if let (Some((since, kind)), Some(latest)) = (self.away_open.take(), self.latest_ms) {
            self.add_away(since, latest, &kind);
            self.mark_flagged(Rule::Away, latest);
        }
        self.closed = true;
        self.note_threshold();
    }

    fn check(&self, s: &Signal) -> Result<(), String> {
        let name = kind_name(s.kind);
        if s.at_ms.saturating_add(EARLY_TOLERANCE_MS) < self.started_at_ms {
            return Err(format!(
                "`{name}` at {} is before the attempt started ({})",
                format_utc(s.at_ms),
                format_utc(self.started_at_ms)
            ));
        }
        if s.at_ms > self.started_at_ms.saturating_add(MAX_ATTEMPT_MS) {
            return Err(format!(
                "`{name}` at {} is more than 7 days after the attempt started ({})",
                format_utc(s.at_ms),
                format_utc(self.started_at_ms)
            ));
        }
        if s.duration_ms.is_some_and(|d| d > MAX_DURATION_MS) {
            return Err(format!("`{name}` at {} lasts more than a day", format_utc(s.at_ms)));
        }
        if s.detail.as_ref().is_some_and(|d| d.len() > MAX_DETAIL_BYTES) {
            return Err(format!("the detail of `{name}` at {} exceeds {MAX_DETAIL_BYTES} bytes", format_utc(s.at_ms)));
        }
        Ok(())
    }

    fn fold(&mut self, s: &Signal) {
        let name = kind_name(s.kind);
        let rule = match s.kind {
            SignalKind::FocusLost | SignalKind::VisibilityHidden => {
                match s.duration_ms {
                    Some(d) => self.add_away(s.at_ms, s.at_ms.saturating_add(d), name),
                    // Already away: the second of focus-lost/visibility-hidden
                    // for the same tab switch.
                    None if self.away_open.is_some() => {}
                    None => self.away_open = Some((s.at_ms, name.to_owned())),
                }
                Rule::Away
            }
            SignalKind::FocusRegained | SignalKind::VisibilityVisible => {
                if let Some((since, kind)) = self.away_open.take() {
                    self.add_away(since, s.at_ms.max(since), &kind);
                } else if let Some(d) = s.duration_ms {
                    // The client reported the absence when it ended.
                    self.add_away(s.at_ms.saturating_sub(d), s.at_ms, name);
                }
                Rule::Away
            }
            SignalKind::Heartbeat => {
                self.heartbeat(s.at_ms);
                Rule::HeartbeatGap
            }
            SignalKind::Paste => {
                let rule = derived_check(s.detail.as_deref()).unwrap_or(Rule::Paste);
                self.count(rule, s);
                rule
            }
            kind => {
                let rule = Rule::for_kind(kind);
                self.count(rule, s);
                rule
            }
        };
        self.mark_flagged(rule, s.at_ms);
    }

    /// Remembers when `rule`'s flag condition first held, so the flag's
    /// time stays put as evidence keeps coming.
    fn mark_flagged(&mut self, rule: Rule, at_ms: u64) {
        let policy = &self.policy;
        if let Some(t) = self.tallies.get_mut(rule.id())
            && t.flagged_at_ms.is_none()
            && assess::judge(rule, t, policy).flagged
        {
            t.flagged_at_ms = Some(at_ms);
        }
    }

    fn count(&mut self, rule: Rule, s: &Signal) {
        let t = self.tallies.entry(rule.id().to_owned()).or_default();
        t.count += 1;
        push_item(
            t,
            Item {
                kind: kind_name(s.kind).to_owned(),
                at_ms: s.at_ms,
                duration_ms: s.duration_ms,
                detail: s.detail.clone(),
                seq: self.seq,
            },
        );
    }

    /// Records the absence [start, end), merged with one it overlaps.
    fn add_away(&mut self, start: u64, end: u64, kind: &str) {
        if end <= start || end <= self.away_until_ms {
            return; // empty, or inside an absence already counted
        }
        let t = self.tallies.entry(Rule::Away.id().to_owned()).or_default();
        if start < self.away_until_ms {
            // Overlaps the latest absence: extend it rather than count a new one.
            t.total_ms += end - self.away_until_ms;
            let stored_all = t.items.len() as u64 == t.count;
            if let (true, Some(last)) = (stored_all, t.items.last_mut()) {
                last.duration_ms = Some(end - last.at_ms);
            }
        } else {
            t.count += 1;
            t.total_ms += end - start;
            push_item(
                t,
                Item {
                    kind: kind.to_owned(),
                    at_ms: start,
                    duration_ms: Some(end - start),
                    detail: None,
                    seq: self.seq,
                },
            );
        }
        self.away_until_ms = end;
    }

    fn heartbeat(&mut self, at: u64) {
        let interval = self.policy.heartbeat_interval_ms;
        match self.last_heartbeat_ms {
            // A heartbeat older than the last one arrived late (reordered
            // batches); it can neither open nor close a gap any more.
            Some(prev) if at <= prev => {}
            Some(prev) => {
                let gap = at - prev;
                if interval > 0 && gap > gap_threshold_ms(interval) {
                    let t = self.tallies.entry(Rule::HeartbeatGap.id().to_owned()).or_default();
                    t.count += 1;
                    t.total_ms += gap - interval;
                    push_item(
                        t,
                        Item {
                            kind: "heartbeat".to_owned(),
                            at_ms: prev,
                            duration_ms: Some(gap),
                            detail: None,
                            seq: self.seq,
                        },
                    );
                }
                self.last_heartbeat_ms = Some(at);
            }
            None => self.last_heartbeat_ms = Some(at),
        }
    }

    fn note_threshold(&mut self) {
        if self.threshold_reached_at_ms.is_none() && assess::score(self) >= self.policy.flag_threshold {
            self.threshold_reached_at_ms = Some(self.latest_ms.unwrap_or(self.started_at_ms));
        }
    }
}

/// The pause between two heartbeats beyond which it is a gap: twice the
/// interval (one heartbeat may be lost) plus 10 s (timer throttling in
/// background tabs, network jitter).
pub fn gap_threshold_ms(interval_ms: u64) -> u64 {
    interval_ms.saturating_mul(2).saturating_add(10_000)
}

/// The kernel's derived checks, carried on `paste` signals (see the README):
/// `paste-into-answer:<question-id>` and `answer-burst:<answers>/<window-ms>`.
/// Anything else, or a malformed value, is an ordinary paste whose detail is
/// shown as evidence.
pub fn derived_check(detail: Option<&str>) -> Option<Rule> {
    let detail = detail?;
    if let Some(q) = detail.strip_prefix("paste-into-answer:") {
        return (!q.is_empty()).then_some(Rule::PasteIntoAnswer);
    }
    let (n, ms) = detail.strip_prefix("answer-burst:")?.split_once('/')?;
    let ok = n.parse::<u32>().is_ok_and(|n| n >= 2) && ms.parse::<u64>().is_ok();
    ok.then_some(Rule::AnswerBurst)
}

fn push_item(t: &mut Tally, item: Item) {
    if t.items.len() < MAX_EVIDENCE {
        t.items.push(item);
    }
}

fn sort_key(s: &Signal) -> (u64, usize, Option<u64>, Option<&str>) {
    (s.at_ms, kind_index(s.kind), s.duration_ms, s.detail.as_deref())
}

/// FNV-1a over every field. Stored in kv, so it must not change between
/// builds or Rust versions, which rules out `std`'s `DefaultHasher`.
fn fingerprint(s: &Signal) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&[kind_index(s.kind) as u8]);
    eat(&s.at_ms.to_le_bytes());
    match s.duration_ms {
        Some(d) => {
            eat(&[1]);
            eat(&d.to_le_bytes());
        }
        None => eat(&[0]),
    }
    match &s.detail {
        Some(d) => {
            eat(&[1]);
            eat(&(d.len() as u64).to_le_bytes());
            eat(d.as_bytes());
        }
        None => eat(&[0]),
    }
    h
}

//! Asynchronous scoring of proctoring batches.
//!
//! `record_signals` stores a batch durably and answers; the proctoring
//! plugin scores it afterwards, here. The request path thereby loses a
//! plugin call, a hand-off to the blocking pool and a second durable write,
//! and an attempt whose batches arrive faster than they are scored has them
//! scored together (up to the plugin's batch limit per call).
//!
//! Invariants:
//! - A stored batch is scored: `ProctorState::scored_seq` says how far the
//!   plugin got, and at start the worker queues every record whose
//!   `scored_seq` is behind its `last_seq` (a crash or a stop between storing
//!   and scoring loses no batch).
//! - Batches reach the plugin in `seq` order, one caller per attempt at a
//!   time (the worker, or a submit scoring what is left before the session is
//!   closed: a lock per attempt), so scoring is what the synchronous path
//!   computed. The worker scores one attempt at a time; a submit scores its
//!   own attempt meanwhile. (Scoring 16 attempts at once was measured: in the
//!   examload closed loop batches fell from ~6,800 to ~1,900/s and cost
//!   0.85-0.90 ms of CPU instead of 0.21, because each call then joins fewer
//!   batches and every call rewrites the plugin's whole session: 42 KiB
//!   written to storage per batch against 10.6.)
//! - Delivery to the plugin is at least once: a crash after the plugin stored
//!   its session and before `scored_seq` reached the disk repeats those
//!   batches, which the first-party plugin recognises (it remembers recent
//!   signals' fingerprints and counts repeats as duplicates, not evidence).
//! - A batch the plugin refuses (or a plugin fault) is recorded as
//!   `plugin_error` and counts as scored, as before: a refused batch cannot
//!   hold back every later one. A failure of the kernel's own (storage, the
//!   blocking pool) leaves the batches pending and is retried a second later.
//! - `lock_attempt` takes effect when the batch that crosses the threshold is
//!   scored: on an idle server within milliseconds of the answer; BENCHMARKS.md
//!   ("Exam day, cost per request") reports the lag under load.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use lectern_host::slots::proctoring::{Action, Assessment as Scored, Batch, Client};

use super::attempts::{AttemptState, SubmittedBy, attempt_key};
use super::proctoring::{ProctorState, SignalBatch, batch_prefix, network, student_context};
use crate::Assessments;
use crate::error::CoreError;

/// The plugin's limit on signals per call (plugins/proctoring `MAX_BATCH`);
/// pending batches are joined up to it.
const SIGNALS_PER_CALL: usize = 1000;
/// Batches read per round trip to the store while catching up.
const BATCHES_PER_READ: usize = 64;
/// State keys in arrival order, and the same keys as a set (each is queued once).
type Waiting = (VecDeque<Vec<u8>>, HashSet<Vec<u8>>);

/// Attempts with batches waiting, in arrival order, each once.
pub(crate) struct ScoringQueue {
    waiting: std::sync::Mutex<Waiting>,
    wake: tokio::sync::Notify,
    /// One lock per attempt being scored (by state key), held across the plugin
    /// call; an entry lives only while someone holds or waits for it. Per
    /// attempt, not striped: at 10,000 students, 64 stripes queued each submit
    /// behind ~150 others' scoring (seconds).
    scoring: std::sync::Mutex<HashMap<Vec<u8>, Arc<tokio::sync::Mutex<()>>>>,
}

/// The scoring lock of one attempt; removes its entry when the last holder goes.
pub(crate) struct ScoringGuard<'a> {
    queue: &'a ScoringQueue,
    key: Vec<u8>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for ScoringGuard<'_> {
    fn drop(&mut self) {
        drop(self.held.take());
        let mut map = self.queue.scoring.lock().unwrap_or_else(|e| e.into_inner());
        // Nobody else holds or waits for it (they would hold a clone, taken under this map's lock).
        if map.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.key);
        }
    }
}

impl Default for ScoringQueue {
    fn default() -> Self {
        ScoringQueue { waiting: Default::default(), wake: tokio::sync::Notify::new(), scoring: Default::default() }
    }
}

impl ScoringQueue {
    /// Queues an attempt's record (by its state key) for scoring.
    pub(crate) fn push(&self, key: Vec<u8>) {
        {
            let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            if w.1.insert(key.clone()) {
                w.0.push_back(key);
            }
        }
        self.wake.notify_one();
    }

    fn take_all(&self) -> Vec<Vec<u8>> {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        w.1.clear();
        w.0.drain(..).collect()
    }

    async fn lock(&self, key: &[u8]) -> ScoringGuard<'_> {
        let m = {
            let mut map = self.scoring.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.to_vec()).or_default().clone()
        };
        let mut guard = ScoringGuard { queue: self, key: key.to_vec(), held: None };
        guard.held = Some(m.lock_owned().await);
        guard
    }
}

impl Assessments {
    /// Scores queued batches until `shutdown` turns true. Queues, first, every
    /// record with batches stored and not scored (see the module's invariants).
    pub async fn run_proctoring_scorer(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        match self.unscored_records() {
            Ok(keys) if !keys.is_empty() => {
                tracing::info!(attempts = keys.len(), "proctoring: scoring batches stored before a restart");
                for k in keys {
                    self.inner.scoring.push(k);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "proctoring: cannot list unscored batches"),
        }
        loop {
            let keys = self.inner.scoring.take_all();
            if keys.is_empty() {
                tokio::select! {
                    _ = self.inner.scoring.wake.notified() => continue,
                    _ = shutdown.changed() => return,
                }
            }
            let mut scored = 0;
            for key in keys {
                match self.score_pending(&key).await {
                    Ok(n) => scored += n,
                    // Its assessment or attempt is gone: nothing left to score against.
                    Err(e @ CoreError::NotFound(_)) => tracing::warn!(error = %e, "proctoring: scoring skipped"),
                    // Storage or the blocking pool failed: the batches stay pending; try again shortly.
                    Err(e) => {
                        tracing::warn!(error = %e, "proctoring: scoring failed; retrying in 1 s");
                        let this = self.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            this.inner.scoring.push(key);
                        });
                    }
                }
            }
            // One flush for the round; a crash before it repeats the round (see the invariants).
            if scored > 0
                && let Err(e) = self.durable().await
            {
                tracing::error!(error = %e, "proctoring: cannot make scorings durable");
            }
        }
    }

    fn unscored_records(&self) -> Result<Vec<Vec<u8>>, CoreError> {
        let mut out = vec![];
        for row in self.t().proctor_states.scan_prefix(b"") {
            let (k, st) = row?;
            if st.scored_seq < st.last_seq {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// Scores the batches of one attempt (by state key) that the plugin has
    /// not seen, in `seq` order; returns how many. Applies a `lock_attempt`
    /// policy's verdict. The caller makes the result durable.
    pub(crate) async fn score_pending(&self, key: &[u8]) -> Result<usize, CoreError> {
        let guard = self.inner.scoring.lock(key).await;
        let t = self.t();
        let Some(st) = t.proctor_states.get(key)? else { return Ok(0) };
        if st.scored_seq >= st.last_seq {
            return Ok(0);
        }
        let inst = st.institution;
        let a = self.load_assessment_shared(&st.assessment)?;
        let at = t.attempts.get(attempt_key(inst, &st.attempt))?.ok_or(CoreError::NotFound("attempt"))?;
        let Some(policy) = a.settings.proctoring.clone() else {
            // No longer proctored: nothing to score against; the batches stay stored.
            self.store_scoring(&st, st.last_seq, None)?;
            return Ok(0);
        };
        // The pending batches, joined into calls of at most the plugin's limit.
        let prefix = batch_prefix(inst, &st.attempt);
        // (through seq, batches, their signal count)
        let mut calls: Vec<(u64, Vec<Batch>, usize)> = vec![];
        let mut after = [prefix.as_slice(), &st.scored_seq.to_be_bytes()].concat();
        let mut count = 0;
        'read: loop {
            let page = t.proctor_batches.page(&prefix, Some(&after), BATCHES_PER_READ)?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            for (_, b) in page {
                if b.seq > st.last_seq {
                    break 'read;
                }
                count += 1;
                let (seq, n) = (b.seq, b.signals.len());
                let batch = plugin_batch(b);
                match calls.last_mut() {
                    Some((through, joined, signals)) if *signals + n <= SIGNALS_PER_CALL => {
                        *through = seq;
                        *signals += n;
                        joined.push(batch);
                    }
                    _ => calls.push((seq, vec![batch], n)),
                }
            }
        }
        if calls.is_empty() {
            self.store_scoring(&st, st.last_seq, None)?;
            return Ok(0);
        }
        let ctx = student_context(&a, &at);
        let host = self.host().clone();
        let attempt = st.attempt.clone();
        let open = !st.opened;
        let started_ms = (at.started_at.max(0) as u64).saturating_mul(1000);
        // One blocking task for the whole catch-up: (through seq, outcome) of the last call made.
        let (through, outcome) = Self::blocking(move || {
            if open && let Err(e) = host.proctor_open(&ctx, &attempt, &policy, started_ms) {
                let through = calls.last().map_or(0, |c| c.0);
                return (through, Err(format!("proctoring: {e}")));
            }
            let mut last = (0, Err(String::new()));
            for (through, batches, _) in calls {
                match host.proctor_ingest(&ctx, &attempt, &batches) {
                    Ok(s) => last = (through, Ok(s)),
                    // Later batches are still scored: the plugin refused this one whole.
                    Err(e) => last = (through, Err(format!("proctoring: {e}"))),
                }
            }
            last
        })
        .await?;
        let through = if through == 0 { st.last_seq } else { through };
        if let Err(e) = &outcome {
            tracing::warn!(attempt = %st.attempt, error = %e, "proctoring plugin could not score a batch");
        }
        let lock = matches!(&outcome, Ok(s) if s.lock);
        self.store_scoring(&st, through, Some(outcome))?;
        drop(guard);
        let locking = a.settings.proctoring.as_ref().is_some_and(|p| p.action == Action::LockAttempt);
        if lock && locking && at.state == AttemptState::InProgress {
            tracing::warn!(attempt = %at.id, "proctoring policy submits the attempt");
            self.submit_as(&a, &at.id, SubmittedBy::Proctoring).await?;
        }
        Ok(count)
    }

    /// Records a scoring (or the plugin's error) and that the plugin has seen
    /// every batch through `through`. Not durable by itself.
    pub(crate) fn store_scoring(
        &self,
        st: &ProctorState,
        through: u64,
        outcome: Option<Result<Scored, String>>,
    ) -> Result<ProctorState, CoreError> {
        let now = self.now();
        let key = super::proctoring::state_key(st.institution, st.course, &st.attempt);
        self.t()
            .proctor_states
            .update(key, |old| {
                old.map(|mut st| {
                    st.scored_seq = st.scored_seq.max(through);
                    match &outcome {
                        Some(Ok(s)) => {
                            st.opened = true;
                            st.scored = Some(s.clone());
                            st.scored_at = Some(now);
                            st.plugin_error = None;
                        }
                        Some(Err(e)) => st.plugin_error = Some(e.clone()),
                        None => {}
                    }
                    st
                })
            })?
            .ok_or(CoreError::NotFound("proctoring record"))
    }
}

/// A stored batch as the proctoring plugin sees it (no address, no user agent).
fn plugin_batch(b: SignalBatch) -> Batch {
    Batch {
        seq: b.seq,
        received_at_ms: (b.received_at.max(0) as u64).saturating_mul(1000),
        client: Client::observed(
            b.client.ip.as_deref().map(network),
            b.client.user_agent.as_deref(),
            b.client.session.as_deref(),
        ),
        signals: b.signals,
    }
}

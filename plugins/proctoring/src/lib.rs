//! `org.lectern.proctoring`: Lectern's first-party proctoring plugin, and the
//! reference for anyone writing a proctoring plugin of their own.
//!
//! It owns one decision the kernel deliberately does not make: what the
//! integrity signals of an exam attempt (focus, visibility, clipboard,
//! heartbeats, and the kernel's own network/device/session observations)
//! amount to. It answers with an [`Assessment`]: a risk score in [0, 1],
//! flags that each carry a plain-language reason and the evidence (which
//! signals, when), an explanation a student can be shown, and whether the
//! course policy says to lock the attempt.
//!
//! Fairness is the design constraint: every rule has a grace allowance so
//! that one innocuous event never counts, every flag says what else its
//! evidence can mean, and the result is a deterministic function of the
//! signals (no clock, no randomness), so it can be replayed in a dispute.
//! It must never panic: a trap fails the call, and although the kernel keeps
//! the exam going without us, the batch's evidence would be lost.
//!
//! Layout: this file is the only one that touches kv and the export side of
//! the bindings. [`session`] folds signals into the stored state, [`assess`]
//! holds the rules and the score, [`policy`] validates the course policy;
//! they are pure and tested natively with `cargo test`.

pub mod assess;
pub mod policy;
pub mod session;
pub mod time;

#[cfg(test)]
mod tests;

use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::{self, Assessment, Batch, Decision, Policy};
use lectern_sdk::v0_2::proctoring::lectern::plugin::kv;
use lectern_sdk::v0_2::proctoring::lectern::plugin::log::Level;
use lectern_sdk::v0_2::proctoring::lectern::plugin::types::{Context, Error};

use crate::policy::StoredPolicy;
use crate::session::{Refusal, STATE_VERSION, Session};
use crate::store::{encode, load, log, update};

/// Must match `manifest.json`; the host refuses a component whose `info`
/// disagrees with its manifest.
pub const ID: &str = "org.lectern.proctoring";
pub const VERSION: &str = "1.1.0";
/// Layout of the stored [`Session`]; bump it with a `migrate` when it changes.
pub const DATA_VERSION: u32 = STATE_VERSION;

/// Attempt ids are kernel UUIDs; this leaves room for other kernels' ids
/// while keeping kv keys short and printable.
const MAX_ATTEMPT_ID_BYTES: usize = 128;

// Natively (unit tests) nothing exports it, see the bottom of the file.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Plugin;

lectern_sdk::simple_lifecycle!(
    v0_2::proctoring,
    Plugin,
    id = ID,
    name = "Lectern proctoring",
    version = VERSION,
    data_version = DATA_VERSION
);

impl proctor::Guest for Plugin {
    fn open_session(ctx: Context, attempt_id: String, policy: Policy, started_at_ms: u64) -> Result<(), Error> {
        let key = key(&attempt_id)?;
        let policy = StoredPolicy::from_wit(&policy).map_err(Error::InvalidInput)?;
        let fresh = Session::new(policy, started_at_ms);
        let bytes = encode(&fresh)?;
        if kv::compare_and_swap(&key, None, Some(&bytes))? {
            log(Level::Info, &ctx, &attempt_id, "proctoring session opened");
            return Ok(());
        }
        // The session exists. A retried open (same policy, same start) must
        // not reset it: that would erase evidence already recorded.
        let (_, existing) = load(&key, &attempt_id)?;
        if existing.policy == fresh.policy && existing.started_at_ms == started_at_ms {
            Ok(())
        } else {
            Err(Error::Conflict(format!(
                "attempt `{attempt_id}` already has a proctoring session with another policy or start time; a retried open-session must send the same values"
            )))
        }
    }

    fn ingest(ctx: Context, attempt_id: String, batches: Vec<Batch>) -> Result<Assessment, Error> {
        let session = update(&attempt_id, |s| {
            s.ingest_batches(&batches).map_err(|r| match r {
                Refusal::Invalid(m) => Error::InvalidInput(m),
                Refusal::TooLarge(m) => Error::QuotaExceeded(m),
                Refusal::Closed => Error::Conflict(format!(
                    "the proctoring session of attempt `{attempt_id}` is closed; later signals are not scored"
                )),
            })
        });
        if let Err(e) = &session {
            let n: usize = batches.iter().map(|b| b.signals.len()).sum();
            log(Level::Warn, &ctx, &attempt_id, &format!("{} batch(es), {n} signals, refused: {e:?}", batches.len()));
        }
        Ok(assess::assess(&session?))
    }

    fn close_session(ctx: Context, attempt_id: String, _ended_at_ms: u64) -> Result<Assessment, Error> {
        // Kept, not deleted: the assessment is reviewed (and may be disputed)
        // after the attempt, and a retried close must give the same answer.
        // An absence still open counts until the last signal heard, not the
        // end time: the student gets the benefit of the doubt.
        let session = update(&attempt_id, |s| {
            s.close();
            Ok(())
        })?;
        log(Level::Info, &ctx, &attempt_id, "proctoring session closed");
        Ok(assess::assess(&session))
    }

    fn decide(ctx: Context, attempt_id: String, decision: Decision) -> Result<Assessment, Error> {
        let what = match &decision {
            Decision::Dismiss(id) => format!("flag `{id}` dismissed"),
            Decision::Unlock => "attempt unlocked".to_owned(),
            Decision::Cleared => "reviewed, nothing to do".to_owned(),
        };
        let session = update(&attempt_id, |s| match &decision {
            Decision::Dismiss(id) => s.dismiss(id).map_err(Error::InvalidInput),
            Decision::Unlock => {
                s.unlock();
                Ok(())
            }
            Decision::Cleared => Ok(()),
        })?;
        log(Level::Info, &ctx, &attempt_id, &format!("instructor's decision: {what}"));
        Ok(assess::assess(&session))
    }

    fn drop_session(ctx: Context, attempt_id: String) -> Result<(), Error> {
        kv::delete(&key(&attempt_id)?)?;
        log(Level::Info, &ctx, &attempt_id, "proctoring session dropped");
        Ok(())
    }
}

/// The kv key of an attempt. The kernel already prefixes it with the plugin
/// and the institution; `attempt/` leaves room for other kinds of keys.
fn key(attempt_id: &str) -> Result<String, Error> {
    let ok = !attempt_id.is_empty()
        && attempt_id.len() <= MAX_ATTEMPT_ID_BYTES
        && attempt_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(format!("attempt/{attempt_id}"))
    } else {
        Err(Error::InvalidInput(format!(
            "attempt id must be 1–{MAX_ATTEMPT_ID_BYTES} characters of letters, digits, - _ . :"
        )))
    }
}

/// The kv plumbing: everything that reads or writes the store. Natively
/// (unit tests) no export calls it, hence the `allow`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod store {
    use lectern_sdk::v0_2::proctoring::lectern::plugin::kv;
    use lectern_sdk::v0_2::proctoring::lectern::plugin::log::Level;
    use lectern_sdk::v0_2::proctoring::lectern::plugin::types::{Context, Error};

    use crate::session::{STATE_VERSION, Session};

    /// Compare-and-swap rounds before giving up on a contended attempt (two
    /// tabs of one attempt ingesting at once). Each round is one kv read and
    /// one write; losing this many in a row means something is looping.
    const CAS_ROUNDS: usize = 8;

    pub fn encode(s: &Session) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(s).map_err(|e| Error::Internal(format!("cannot encode the session: {e}")))
    }

    pub fn load(key: &str, attempt_id: &str) -> Result<(Vec<u8>, Session), Error> {
        let bytes = kv::get(key)?.ok_or_else(|| {
            Error::NotFound(format!("no proctoring session for attempt `{attempt_id}`; call open-session first"))
        })?;
        let s: Session = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("the stored session of attempt `{attempt_id}` is unreadable: {e}")))?;
        if s.v != STATE_VERSION {
            return Err(Error::Internal(format!(
                "the stored session of attempt `{attempt_id}` has layout {}, this version reads {STATE_VERSION}",
                s.v
            )));
        }
        Ok((bytes, s))
    }

    /// Read, change, compare-and-swap: the whole batch lands or none of it,
    /// even with two calls for one attempt racing (the kernel may call us
    /// concurrently, e.g. for two tabs).
    pub fn update(
        attempt_id: &str,
        mut change: impl FnMut(&mut Session) -> Result<(), Error>,
    ) -> Result<Session, Error> {
        let key = crate::key(attempt_id)?;
        for _ in 0..CAS_ROUNDS {
            let (old, mut s) = load(&key, attempt_id)?;
            change(&mut s)?;
            let new = encode(&s)?;
            // A batch of retries changes only the duplicate counter; a retried
            // close changes nothing. Skip the write when nothing changed.
            if new == old || kv::compare_and_swap(&key, Some(&old), Some(&new))? {
                return Ok(s);
            }
        }
        Err(Error::Unavailable(format!(
            "the proctoring session of attempt `{attempt_id}` kept changing under concurrent updates; retry the call"
        )))
    }

    pub fn log(level: Level, ctx: &Context, attempt_id: &str, message: &str) {
        lectern_sdk::v0_2::proctoring::log::with_fields(
            level,
            message,
            &[("attempt", attempt_id), ("request", &ctx.request_id)],
        );
    }
}

// Only for WebAssembly: the export names (`lectern:plugin/proctor@0.1.0#…`)
// are not valid symbol names for a native linker, and the native build of
// this crate exists only to run the unit tests.
#[cfg(target_arch = "wasm32")]
lectern_sdk::v0_2::proctoring::export!(Plugin);

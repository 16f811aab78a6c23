//! A per-plugin-version circuit breaker. Faults (traps, timeouts, exhausted
//! limits — not errors a plugin returns on purpose) are counted; after
//! `threshold` consecutive faults the breaker opens and calls fail fast. After
//! the backoff one probe call is let through (half-open): success closes the
//! breaker, another fault reopens it with a doubled backoff, up to a cap.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct BreakerConfig {
    pub threshold: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { threshold: 5, initial_backoff: Duration::from_secs(5), max_backoff: Duration::from_secs(300) }
    }
}

/// What the admin sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { retry_in: Duration, reason: String },
    HalfOpen { reason: String },
}

#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    consecutive: u32,
    backoff: Duration,
    open_until: Option<Instant>,
    probing: bool,
    last_fault: String,
    trips: u64,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Breaker {
        Breaker { config, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned breaker lock only means a panic elsewhere mid-update; the
        // counters are still meaningful.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may proceed; the error carries the reason the breaker opened.
    pub(crate) fn admit(&self) -> Result<(), String> {
        let mut s = self.lock();
        match s.open_until {
            None => Ok(()),
            Some(until) if Instant::now() < until => Err(s.last_fault.clone()),
            Some(_) if s.probing => Err(s.last_fault.clone()),
            Some(_) => {
                s.probing = true;
                Ok(())
            }
        }
    }

    pub(crate) fn success(&self) {
        let mut s = self.lock();
        s.consecutive = 0;
        s.open_until = None;
        s.probing = false;
        s.backoff = Duration::ZERO;
    }

    /// Records a fault; returns true when this fault opened the breaker.
    pub(crate) fn fault(&self, reason: &str) -> bool {
        let mut s = self.lock();
        s.consecutive = s.consecutive.saturating_add(1);
        s.last_fault = reason.to_owned();
        let was_probe = std::mem::take(&mut s.probing);
        if was_probe || s.consecutive >= self.config.threshold {
            s.backoff = if s.backoff.is_zero() {
                self.config.initial_backoff
            } else {
                (s.backoff * 2).min(self.config.max_backoff)
            };
            s.open_until = Some(Instant::now() + s.backoff);
            s.trips += 1;
            return true;
        }
        false
    }

    pub(crate) fn state(&self) -> BreakerState {
        let s = self.lock();
        match s.open_until {
            None => BreakerState::Closed,
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    BreakerState::Open { retry_in: until - now, reason: s.last_fault.clone() }
                } else {
                    BreakerState::HalfOpen { reason: s.last_fault.clone() }
                }
            }
        }
    }

    pub(crate) fn trips(&self) -> u64 {
        self.lock().trips
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_probes_then_closes() {
        let b = Breaker::new(BreakerConfig {
            threshold: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(1),
        });
        assert!(!b.fault("trap"));
        assert!(!b.fault("trap"));
        b.success();
        assert!(!b.fault("trap"));
        assert!(!b.fault("trap"));
        assert!(b.fault("timeout"), "third consecutive fault opens");
        assert_eq!(b.admit(), Err("timeout".into()));
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        std::thread::sleep(Duration::from_millis(25));
        assert!(b.admit().is_ok(), "one probe after the backoff");
        assert!(b.admit().is_err(), "only one probe at a time");
        assert!(b.fault("trap again"), "a failed probe reopens");
        assert!(b.admit().is_err());
        std::thread::sleep(Duration::from_millis(45));
        assert!(b.admit().is_ok());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.trips(), 2);
    }
}

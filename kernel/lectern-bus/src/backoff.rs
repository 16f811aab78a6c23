use std::hash::BuildHasher;
use std::time::Duration;

/// Retries with exponential backoff and full jitter, then dead-lettering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryPolicy {
    /// Deliveries before a message is dead-lettered (the first try counts).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// The ceiling for the delay after failed attempt `attempt` (1-based): base·2^(attempt−1), capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(30)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay before redelivering after failed attempt `attempt`: uniform in [ceiling/2, ceiling],
    /// so retries of many failed messages do not arrive in lockstep.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let spread = (ceiling - half).as_nanos() as u64;
        let r = std::collections::hash_map::RandomState::new().hash_one((attempt, std::time::Instant::now()));
        half + Duration::from_nanos(if spread == 0 { 0 } else { r % (spread + 1) })
    }

    pub fn exhausted(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_cap_and_stay_within_jitter_bounds() {
        let p =
            RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        for (attempt, ceiling_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
            assert_eq!(p.ceiling(attempt), Duration::from_millis(ceiling_ms), "attempt {attempt}");
            for _ in 0..50 {
                let d = p.delay(attempt);
                assert!(d >= Duration::from_millis(ceiling_ms / 2) && d <= Duration::from_millis(ceiling_ms), "{d:?}");
            }
        }
        assert!(!p.exhausted(4));
        assert!(p.exhausted(5));
    }
}

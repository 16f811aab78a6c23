//! Login throttling with progressive delay, persisted so a restart does not
//! reset an attacker's counters.
//!
//! Two counters per attempt: one for the (account, client address) pair and
//! one for the account across all addresses. Each allows some free failures,
//! then demands a wait that doubles with each further failure up to a cap. The
//! pair counter is strict (an attacker guessing from one address waits up to
//! 15 minutes); the account counter is mild (capped at 60 s) so that an
//! attacker spraying failures from many addresses cannot lock the real user
//! out — the user waits at most a minute, never indefinitely. A success clears
//! both. A per-address rate limit across accounts lives in the HTTP layer.

use crate::Identity;
use crate::error::CoreError;
use crate::ids::InstitutionId;
use crate::model::FailureCounter;

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub pair_free_failures: u32,
    pub pair_max_delay_secs: i64,
    pub account_free_failures: u32,
    pub account_max_delay_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            pair_free_failures: 5,
            pair_max_delay_secs: 900,
            account_free_failures: 20,
            account_max_delay_secs: 60,
        }
    }
}

fn delay(counter: &FailureCounter, free: u32, max: i64) -> i64 {
    if counter.failures < free {
        return 0;
    }
    let exp = (counter.failures - free).min(30);
    (1i64 << exp).min(max)
}

fn keys(inst: InstitutionId, email: &str, ip: &str) -> (Vec<u8>, Vec<u8>) {
    let account = [inst.bytes().as_slice(), b"a\0", email.as_bytes()].concat();
    let pair = [inst.bytes().as_slice(), b"p\0", email.as_bytes(), b"\0", ip.as_bytes()].concat();
    (account, pair)
}

impl Identity {
    pub(crate) fn throttle_check(&self, inst: InstitutionId, email: &str, ip: &str) -> Result<(), CoreError> {
        let policy = self.config().throttle;
        let (account, pair) = keys(inst, email, ip);
        let now = self.now();
        let mut wait = 0;
        if let Some(c) = self.t().login_failures.get(&pair)? {
            wait = wait.max(c.last_failure_at + delay(&c, policy.pair_free_failures, policy.pair_max_delay_secs) - now);
        }
        if let Some(c) = self.t().login_failures.get(&account)? {
            wait = wait
                .max(c.last_failure_at + delay(&c, policy.account_free_failures, policy.account_max_delay_secs) - now);
        }
        if wait > 0 {
            return Err(CoreError::Throttled { retry_after_secs: wait as u64 });
        }
        Ok(())
    }

    pub(crate) fn throttle_failure(&self, inst: InstitutionId, email: &str, ip: &str) -> Result<(), CoreError> {
        let now = self.now();
        let (account, pair) = keys(inst, email, ip);
        for key in [account, pair] {
            self.t().login_failures.update(&key, |old| {
                let mut c = old.unwrap_or_default();
                c.failures = c.failures.saturating_add(1);
                c.last_failure_at = now;
                Some(c)
            })?;
        }
        Ok(())
    }

    pub(crate) fn throttle_success(&self, inst: InstitutionId, email: &str, ip: &str) -> Result<(), CoreError> {
        let (account, pair) = keys(inst, email, ip);
        self.t().login_failures.remove(&account)?;
        self.t().login_failures.remove(&pair)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap() {
        let c = |failures| FailureCounter { failures, last_failure_at: 0 };
        let d: Vec<i64> = [0, 4, 5, 6, 7, 10, 40].iter().map(|f| delay(&c(*f), 5, 900)).collect();
        assert_eq!(d, vec![0, 0, 1, 2, 4, 32, 900]);
    }
}

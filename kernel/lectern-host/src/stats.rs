//! Per-version call statistics for the admin API and metrics.

use std::sync::Mutex;
use std::time::Duration;

const WINDOW: usize = 2048;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    calls: u64,
    errors: u64,
    faults: u64,
    fuel: u128,
    /// The last `WINDOW` call durations in microseconds (a ring).
    recent_us: Vec<u32>,
    next: usize,
}

/// What the admin sees about a version's calls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsSnapshot {
    pub calls: u64,
    /// Calls that returned an error value (including faults).
    pub errors: u64,
    /// Traps, timeouts and exhausted limits.
    pub faults: u64,
    pub p50_us: u32,
    pub p99_us: u32,
    pub fuel_used: u128,
}

impl Stats {
    pub(crate) fn record(&self, took: Duration, ok: bool, fault: bool, fuel: Option<u64>) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.calls += 1;
        s.errors += u64::from(!ok);
        s.faults += u64::from(fault);
        s.fuel += u128::from(fuel.unwrap_or(0));
        let us = took.as_micros().min(u128::from(u32::MAX)) as u32;
        if s.recent_us.len() < WINDOW {
            s.recent_us.push(us);
        } else {
            let i = s.next;
            s.recent_us[i] = us;
        }
        s.next = (s.next + 1) % WINDOW;
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut v = s.recent_us.clone();
        v.sort_unstable();
        let pct = |p: f64| if v.is_empty() { 0 } else { v[((v.len() - 1) as f64 * p).round() as usize] };
        StatsSnapshot {
            calls: s.calls,
            errors: s.errors,
            faults: s.faults,
            p50_us: pct(0.5),
            p99_us: pct(0.99),
            fuel_used: s.fuel,
        }
    }
}

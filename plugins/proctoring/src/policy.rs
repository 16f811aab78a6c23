//! The course policy as this plugin stores and applies it: validated once at
//! `open-session`, with every weight resolved (the policy's own, or the
//! documented default for a kind it omits), and kept with the attempt.
//!
//! Storing the resolved weights, not the defaults' names, means a later
//! version of the plugin with other defaults never changes the rules of an
//! attempt that already started.

use std::collections::BTreeMap;

use lectern_sdk::proctoring::exports::lectern::plugin::proctor::{Action, Policy, SignalKind};
use serde::{Deserialize, Serialize};

/// Every kind, in the WIT enum's order (also the tie-break order when two
/// signals of a batch share a time, see `session`).
pub const KINDS: [SignalKind; 13] = [
    SignalKind::FocusLost,
    SignalKind::FocusRegained,
    SignalKind::VisibilityHidden,
    SignalKind::VisibilityVisible,
    SignalKind::Copy,
    SignalKind::Paste,
    SignalKind::ContextMenu,
    SignalKind::FullscreenExit,
    SignalKind::IpChanged,
    SignalKind::DeviceChanged,
    SignalKind::Heartbeat,
    SignalKind::ConcurrentSession,
    SignalKind::DevtoolsOpened,
];

/// The WIT name of a kind: what stored state, evidence and the README use.
pub fn kind_name(kind: SignalKind) -> &'static str {
    match kind {
        SignalKind::FocusLost => "focus-lost",
        SignalKind::FocusRegained => "focus-regained",
        SignalKind::VisibilityHidden => "visibility-hidden",
        SignalKind::VisibilityVisible => "visibility-visible",
        SignalKind::Copy => "copy",
        SignalKind::Paste => "paste",
        SignalKind::ContextMenu => "context-menu",
        SignalKind::FullscreenExit => "fullscreen-exit",
        SignalKind::IpChanged => "ip-changed",
        SignalKind::DeviceChanged => "device-changed",
        SignalKind::Heartbeat => "heartbeat",
        SignalKind::ConcurrentSession => "concurrent-session",
        SignalKind::DevtoolsOpened => "devtools-opened",
    }
}

/// Position in [`KINDS`]; `SignalKind` has no `Ord` of its own.
pub fn kind_index(kind: SignalKind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(KINDS.len())
}

/// The weight of a kind the policy does not list. Chosen so that the
/// kernel's own observations (a second device, a second session) weigh more
/// than browser events, which have innocent explanations more often.
/// `heartbeat`'s weight is that of the `heartbeat-gap` rule; `away` takes
/// the larger of `focus-lost` and `visibility-hidden`; `focus-regained` and
/// `visibility-visible` only end an absence and their weights are unused.
pub fn default_weight(kind: SignalKind) -> f32 {
    match kind {
        SignalKind::FocusLost | SignalKind::VisibilityHidden => 0.3,
        SignalKind::FocusRegained | SignalKind::VisibilityVisible => 0.0,
        SignalKind::Copy => 0.1,
        SignalKind::Paste => 0.3,
        SignalKind::ContextMenu => 0.05,
        SignalKind::FullscreenExit => 0.1,
        SignalKind::IpChanged => 0.4,
        SignalKind::DeviceChanged => 0.5,
        SignalKind::Heartbeat => 0.25,
        SignalKind::ConcurrentSession => 0.6,
        SignalKind::DevtoolsOpened => 0.4,
    }
}

/// What the plugin does when the score reaches the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredAction {
    RecordOnly,
    FlagForReview,
    LockAttempt,
}

/// A validated policy with every weight resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredPolicy {
    /// Kind name → weight in [0, 1], for all 13 kinds.
    pub weights: BTreeMap<String, f32>,
    pub flag_threshold: f32,
    /// 0: the course does not expect heartbeats, and gaps are not checked.
    pub heartbeat_interval_ms: u64,
    pub allow_copy_paste: bool,
    pub action: StoredAction,
}

/// Heartbeats further apart than an hour are not a heartbeat.
pub const MAX_HEARTBEAT_INTERVAL_MS: u64 = 3_600_000;
/// Faster than a second would be most of a batch's signals.
pub const MIN_HEARTBEAT_INTERVAL_MS: u64 = 1_000;

impl StoredPolicy {
    /// Validates `policy`; the message says which rule it breaks.
    pub fn from_wit(policy: &Policy) -> Result<StoredPolicy, String> {
        let t = policy.flag_threshold;
        // A threshold of 0 would flag every attempt, including one with no
        // signals at all; above 1 it could never be reached.
        if !(t.is_finite() && t > 0.0 && t <= 1.0) {
            return Err(format!("flag-threshold must be in (0, 1], got {t}"));
        }
        let hb = policy.heartbeat_interval_ms;
        if hb != 0 && !(MIN_HEARTBEAT_INTERVAL_MS..=MAX_HEARTBEAT_INTERVAL_MS).contains(&hb) {
            return Err(format!(
                "heartbeat-interval-ms must be 0 (no heartbeats) or {MIN_HEARTBEAT_INTERVAL_MS}–{MAX_HEARTBEAT_INTERVAL_MS}, got {hb}"
            ));
        }
        let mut weights: BTreeMap<String, f32> =
            KINDS.iter().map(|k| (kind_name(*k).to_owned(), default_weight(*k))).collect();
        let mut seen = Vec::new();
        for w in &policy.weights {
            let name = kind_name(w.kind);
            // Weights are the largest share of the score one rule can
            // take (see `assess`), so they live in [0, 1] like the score.
            if !(w.weight.is_finite() && (0.0..=1.0).contains(&w.weight)) {
                return Err(format!("the weight of `{name}` must be in [0, 1], got {}", w.weight));
            }
            // Two weights for one kind would make the policy's meaning
            // depend on list order.
            if seen.contains(&name) {
                return Err(format!("`{name}` has more than one weight"));
            }
            seen.push(name);
            weights.insert(name.to_owned(), w.weight);
        }
        let action = match policy.action {
            Action::RecordOnly => StoredAction::RecordOnly,
            Action::FlagForReview => StoredAction::FlagForReview,
            Action::LockAttempt => StoredAction::LockAttempt,
        };
        Ok(StoredPolicy {
            weights,
            flag_threshold: t,
            heartbeat_interval_ms: hb,
            allow_copy_paste: policy.allow_copy_paste,
            action,
        })
    }

    pub fn weight(&self, kind: SignalKind) -> f32 {
        // Every kind is present (`from_wit`); the default covers state
        // written by hand or by a future version that dropped a kind.
        self.weights.get(kind_name(kind)).copied().unwrap_or_else(|| default_weight(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_sdk::proctoring::exports::lectern::plugin::proctor::Weight;

    fn policy(weights: Vec<Weight>, threshold: f32, hb: u64) -> Policy {
        Policy {
            weights,
            flag_threshold: threshold,
            heartbeat_interval_ms: hb,
            allow_copy_paste: true,
            action: Action::FlagForReview,
        }
    }

    #[test]
    fn resolves_defaults_and_overrides() {
        let p =
            StoredPolicy::from_wit(&policy(vec![Weight { kind: SignalKind::Copy, weight: 0.7 }], 0.5, 15_000)).unwrap();
        assert_eq!(p.weights.len(), KINDS.len());
        assert_eq!(p.weight(SignalKind::Copy), 0.7);
        assert_eq!(p.weight(SignalKind::IpChanged), 0.4);
    }

    #[test]
    fn rejects_bad_policies() {
        let check = |p: Policy, needle: &str| {
            let e = StoredPolicy::from_wit(&p).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        check(policy(vec![], 0.0, 0), "flag-threshold");
        check(policy(vec![], 1.5, 0), "flag-threshold");
        check(policy(vec![], f32::NAN, 0), "flag-threshold");
        check(policy(vec![], 0.5, 10), "heartbeat-interval-ms");
        check(policy(vec![Weight { kind: SignalKind::Paste, weight: 2.0 }], 0.5, 0), "`paste` must be in [0, 1]");
        let twice =
            vec![Weight { kind: SignalKind::Paste, weight: 0.1 }, Weight { kind: SignalKind::Paste, weight: 0.2 }];
        check(policy(twice, 0.5, 0), "more than one weight");
    }
}

//! The course policy as this plugin stores and applies it: validated once at
//! `open-session`, with every weight resolved (the policy's own, or the
//! documented default for a kind it omits), and kept with the attempt.
//!
//! Storing the resolved weights, not the defaults' names, means a later
//! version of the plugin with other defaults never changes the rules of an
//! attempt that already started.

use std::collections::BTreeMap;

use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::{Action, Policy, SignalKind, WeightTarget};
use serde::{Deserialize, Serialize};

/// The kinds whose weights every stored policy resolves (0.1's thirteen),
/// in the WIT enum's order (also the tie-break order when two signals of a
/// batch share a time, see `session`). The kernel's derived checks
/// (`answer-burst`, `paste-into-answer`) come after them: their weight is
/// their own when the policy gives one, else `paste`'s (as in 0.1, where
/// they arrived as `paste`).
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
        SignalKind::AnswerBurst => "answer-burst",
        SignalKind::PasteIntoAnswer => "paste-into-answer",
    }
}

/// The kind of a stored name (evidence keeps kinds by name).
pub fn kind_of(name: &str) -> Option<SignalKind> {
    KINDS.into_iter().chain(DERIVED).find(|k| kind_name(*k) == name)
}

/// The kernel's derived checks, which have kinds of their own since 0.2.
pub const DERIVED: [SignalKind; 2] = [SignalKind::AnswerBurst, SignalKind::PasteIntoAnswer];

/// Position in [`KINDS`] then [`DERIVED`]; `SignalKind` has no `Ord` of its own.
pub fn kind_index(kind: SignalKind) -> usize {
    KINDS.into_iter().chain(DERIVED).position(|k| k == kind).unwrap_or(KINDS.len() + DERIVED.len())
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
        // Only when no weight of theirs or `paste`'s is stored (see `KINDS`).
        SignalKind::AnswerBurst | SignalKind::PasteIntoAnswer => 0.3,
    }
}

/// What the plugin does when the score reaches the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredAction {
    RecordOnly,
    FlagForReview,
    LockAttempt,
    /// Submit the attempt at the flag threshold (0.2).
    AutoSubmit,
}

/// A validated policy with every weight resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredPolicy {
    /// Kind name → weight in [0, 1], for all 13 kinds of [`KINDS`], and for
    /// the derived kinds the policy weighs.
    pub weights: BTreeMap<String, f32>,
    /// Rule id → weight in [0, 1], for the rules the policy weighs by id
    /// (0.2); such a weight replaces the rule's kind-based one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rule_weights: BTreeMap<String, f32>,
    /// At or above it, the attempt is shown for review (0.2); `None`: the flag threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_threshold: Option<f32>,
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
        let r = policy.review_threshold;
        if !(r.is_finite() && r > 0.0 && r <= t) {
            return Err(format!("review-threshold must be in (0, flag-threshold {t}], got {r}"));
        }
        let mut weights: BTreeMap<String, f32> =
            KINDS.iter().map(|k| (kind_name(*k).to_owned(), default_weight(*k))).collect();
        let mut rule_weights = BTreeMap::new();
        let mut seen = Vec::new();
        for w in &policy.weights {
            let name = match &w.target {
                WeightTarget::Kind(k) => kind_name(*k).to_owned(),
                WeightTarget::Rule(id) => {
                    if !crate::assess::RULES.iter().any(|r| r.id() == id) {
                        let ids: Vec<&str> = crate::assess::RULES.iter().map(|r| r.id()).collect();
                        return Err(format!("no rule `{id}` to weigh; the rules are {}", ids.join(", ")));
                    }
                    format!("rule {id}")
                }
            };
            // Weights are the largest share of the score one rule can
            // take (see `assess`), so they live in [0, 1] like the score.
            if !(w.weight.is_finite() && (0.0..=1.0).contains(&w.weight)) {
                return Err(format!("the weight of `{name}` must be in [0, 1], got {}", w.weight));
            }
            // Two weights for one target would make the policy's meaning
            // depend on list order.
            if seen.contains(&name) {
                return Err(format!("`{name}` has more than one weight"));
            }
            match &w.target {
                WeightTarget::Kind(_) => weights.insert(name.clone(), w.weight),
                WeightTarget::Rule(id) => rule_weights.insert(id.clone(), w.weight),
            };
            seen.push(name);
        }
        let action = match policy.action {
            Action::RecordOnly => StoredAction::RecordOnly,
            Action::FlagForReview => StoredAction::FlagForReview,
            Action::LockAttempt => StoredAction::LockAttempt,
            Action::AutoSubmit => StoredAction::AutoSubmit,
        };
        Ok(StoredPolicy {
            weights,
            rule_weights,
            review_threshold: (r < t).then_some(r),
            flag_threshold: t,
            heartbeat_interval_ms: hb,
            allow_copy_paste: policy.allow_copy_paste,
            action,
        })
    }

    pub fn weight(&self, kind: SignalKind) -> f32 {
        // Every kind of `KINDS` is present (`from_wit`); a derived kind
        // without a weight of its own rides on `paste`'s.
        match self.weights.get(kind_name(kind)) {
            Some(w) => *w,
            None if DERIVED.contains(&kind) => self.weight(SignalKind::Paste),
            None => default_weight(kind),
        }
    }

    /// The threshold from which the attempt is shown for review.
    pub fn review_threshold(&self) -> f32 {
        self.review_threshold.unwrap_or(self.flag_threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::Weight;

    fn kind(kind: SignalKind, weight: f32) -> Weight {
        Weight { target: WeightTarget::Kind(kind), weight }
    }

    fn policy(weights: Vec<Weight>, threshold: f32, hb: u64) -> Policy {
        Policy {
            weights,
            review_threshold: if threshold.is_finite() && threshold > 0.0 { threshold.min(1.0) } else { 0.5 },
            flag_threshold: threshold,
            heartbeat_interval_ms: hb,
            allow_copy_paste: true,
            action: Action::FlagForReview,
        }
    }

    #[test]
    fn resolves_defaults_and_overrides() {
        let p = StoredPolicy::from_wit(&policy(vec![kind(SignalKind::Copy, 0.7)], 0.5, 15_000)).unwrap();
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
        check(policy(vec![kind(SignalKind::Paste, 2.0)], 0.5, 0), "`paste` must be in [0, 1]");
        let twice = vec![kind(SignalKind::Paste, 0.1), kind(SignalKind::Paste, 0.2)];
        check(policy(twice, 0.5, 0), "more than one weight");
        let unknown = Weight { target: WeightTarget::Rule("telepathy".into()), weight: 0.5 };
        check(policy(vec![unknown], 0.5, 0), "no rule `telepathy`");
        let mut above = policy(vec![], 0.5, 0);
        above.review_threshold = 0.7;
        check(above, "review-threshold");
    }

    #[test]
    fn rule_weights_and_derived_kinds() {
        let mut wit = policy(vec![Weight { target: WeightTarget::Rule("away".into()), weight: 0.9 }], 0.6, 0);
        wit.review_threshold = 0.4;
        let p = StoredPolicy::from_wit(&wit).unwrap();
        assert_eq!(p.rule_weights.get("away"), Some(&0.9));
        assert_eq!(p.review_threshold(), 0.4);
        // The derived checks ride on paste's weight unless given their own.
        assert_eq!(p.weight(SignalKind::AnswerBurst), p.weight(SignalKind::Paste));
        let own = StoredPolicy::from_wit(&policy(vec![kind(SignalKind::AnswerBurst, 0.05)], 0.6, 0)).unwrap();
        assert_eq!(own.weight(SignalKind::AnswerBurst), 0.05);
    }
}

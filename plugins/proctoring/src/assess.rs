//! The rules, the risk score and the assessment: what the plugin concludes
//! from a [`Session`], and how it explains it.
//!
//! Each rule decides from what it has seen whether to flag, and while it
//! flags, a *strength* in (0, 1] that grows with the evidence. A rule that
//! does not flag adds nothing to the score: one innocuous event (a brief
//! focus loss, one accidental copy) never flags, so it never counts either,
//! and every part of the score has a flag that explains it. The score is
//!
//! ```text
//! risk = 1 − Π over rules (1 − weight × strength)
//! ```
//!
//! the chance that at least one rule "fires" if each fired independently
//! with probability weight × strength. Unlike a capped sum it stays in
//! [0, 1] without a cut-off that hides further evidence, rises with every
//! rule's strength (each factor only shrinks), and lets no single rule take
//! more than its weight: the policy's weight of a kind is exactly the most
//! that kind can contribute on its own.

use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::{
    Assessment, Evidence, Flag, Severity, SignalKind,
};

use crate::policy::{StoredAction, StoredPolicy, kind_of};
use crate::session::{Session, Tally, gap_threshold_ms};
use crate::time::{format_duration, format_utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Away,
    HeartbeatGap,
    Copy,
    Paste,
    ContextMenu,
    PasteIntoAnswer,
    AnswerBurst,
    FullscreenExit,
    DevtoolsOpened,
    IpChanged,
    DeviceChanged,
    ConcurrentSession,
}

/// Every rule, in the order flags and explanations list them: the kernel's
/// strong observations first.
pub const RULES: [Rule; 12] = [
    Rule::ConcurrentSession,
    Rule::DeviceChanged,
    Rule::IpChanged,
    Rule::Away,
    Rule::HeartbeatGap,
    Rule::PasteIntoAnswer,
    Rule::AnswerBurst,
    Rule::Paste,
    Rule::Copy,
    Rule::ContextMenu,
    Rule::FullscreenExit,
    Rule::DevtoolsOpened,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Low,
    Medium,
    High,
}

/// The thresholds of a rule that counts events: flagged from `flag_at`
/// events, with strength rising in equal steps to 1 at `full`; at medium
/// severity from `medium_at` and high from `high_at` (`NEVER`: not that high).
struct Counted {
    flag_at: u64,
    full: u64,
    medium_at: u64,
    high_at: u64,
}

const NEVER: u64 = u64::MAX;

impl Rule {
    /// Also the flag id: stable, one flag per rule and attempt.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Away => "away",
            Rule::HeartbeatGap => "heartbeat-gap",
            Rule::Copy => "copy",
            Rule::Paste => "paste",
            Rule::ContextMenu => "context-menu",
            Rule::PasteIntoAnswer => "paste-into-answer",
            Rule::AnswerBurst => "answer-burst",
            Rule::FullscreenExit => "fullscreen-exit",
            Rule::DevtoolsOpened => "devtools-opened",
            Rule::IpChanged => "ip-changed",
            Rule::DeviceChanged => "device-changed",
            Rule::ConcurrentSession => "concurrent-session",
        }
    }

    pub fn for_kind(kind: SignalKind) -> Rule {
        match kind {
            SignalKind::FocusLost
            | SignalKind::FocusRegained
            | SignalKind::VisibilityHidden
            | SignalKind::VisibilityVisible => Rule::Away,
            SignalKind::Heartbeat => Rule::HeartbeatGap,
            SignalKind::Copy => Rule::Copy,
            SignalKind::Paste => Rule::Paste,
            SignalKind::ContextMenu => Rule::ContextMenu,
            SignalKind::FullscreenExit => Rule::FullscreenExit,
            SignalKind::DevtoolsOpened => Rule::DevtoolsOpened,
            SignalKind::IpChanged => Rule::IpChanged,
            SignalKind::DeviceChanged => Rule::DeviceChanged,
            SignalKind::ConcurrentSession => Rule::ConcurrentSession,
            SignalKind::AnswerBurst => Rule::AnswerBurst,
            SignalKind::PasteIntoAnswer => Rule::PasteIntoAnswer,
        }
    }

    /// A policy may weigh a rule by its id; otherwise its kinds decide: the
    /// derived checks have kinds of their own (which ride on `paste` unless
    /// weighed, as in 0.1 where they arrived as `paste`), and `away` takes
    /// the larger weight of the two kinds that start an absence, since
    /// browsers usually send both for one tab switch.
    pub fn weight(self, p: &StoredPolicy) -> f64 {
        if let Some(w) = p.rule_weights.get(self.id()) {
            return f64::from(*w);
        }
        let w = match self {
            Rule::Away => p.weight(SignalKind::FocusLost).max(p.weight(SignalKind::VisibilityHidden)),
            Rule::HeartbeatGap => p.weight(SignalKind::Heartbeat),
            Rule::Copy => p.weight(SignalKind::Copy),
            Rule::Paste => p.weight(SignalKind::Paste),
            Rule::PasteIntoAnswer => p.weight(SignalKind::PasteIntoAnswer),
            Rule::AnswerBurst => p.weight(SignalKind::AnswerBurst),
            Rule::ContextMenu => p.weight(SignalKind::ContextMenu),
            Rule::FullscreenExit => p.weight(SignalKind::FullscreenExit),
            Rule::DevtoolsOpened => p.weight(SignalKind::DevtoolsOpened),
            Rule::IpChanged => p.weight(SignalKind::IpChanged),
            Rule::DeviceChanged => p.weight(SignalKind::DeviceChanged),
            Rule::ConcurrentSession => p.weight(SignalKind::ConcurrentSession),
        };
        f64::from(w)
    }

    /// Rules that only apply when the course forbids copy and paste.
    fn clipboard(self) -> bool {
        matches!(self, Rule::Copy | Rule::Paste | Rule::ContextMenu | Rule::PasteIntoAnswer)
    }

    fn counted(self) -> Option<Counted> {
        let c = |flag_at, full, medium_at, high_at| Counted { flag_at, full, medium_at, high_at };
        Some(match self {
            Rule::Away | Rule::HeartbeatGap => return None,
            // The first copy or paste may be a reflex (Ctrl+C on a selection).
            Rule::Copy | Rule::Paste => c(2, 5, 5, NEVER),
            // Right-click also opens spelling suggestions.
            Rule::ContextMenu => c(5, 10, NEVER, NEVER),
            // Text entered an answer against the policy: observed, not inferred.
            Rule::PasteIntoAnswer => c(1, 3, 2, NEVER),
            // A student who drafted on paper types everything at the end once.
            Rule::AnswerBurst => c(2, 3, 3, NEVER),
            // Esc leaves full screen; so does a system dialog.
            Rule::FullscreenExit => c(3, 6, NEVER, NEVER),
            // Browser devtools detection is a heuristic (zoom, docked windows).
            Rule::DevtoolsOpened => c(1, 3, 3, NEVER),
            // The kernel's own observations: strong from the first one.
            Rule::IpChanged | Rule::DeviceChanged | Rule::ConcurrentSession => c(1, 1, 1, 1),
        })
    }
}

/// What a rule concludes from its tally.
pub struct Judgement {
    pub strength: f64,
    pub flagged: bool,
    level: Level,
    /// Why the rule did not flag, for the explanation.
    why_not: String,
}

const MINUTE: u64 = 60_000;

/// Clamps (x − grace) / (full − grace) into [0, 1].
fn ramp(x: u64, grace: u64, full: u64) -> f64 {
    if x <= grace {
        0.0
    } else if x >= full {
        1.0
    } else {
        (x - grace) as f64 / (full - grace) as f64
    }
}

pub fn judge(rule: Rule, t: &Tally, p: &StoredPolicy) -> Judgement {
    let off = |why: &str| Judgement { strength: 0.0, flagged: false, level: Level::Low, why_not: why.to_owned() };
    if rule.clipboard() && p.allow_copy_paste {
        return off("allowed by the course policy");
    }
    if rule.weight(p) == 0.0 {
        return off("recorded only: the course policy gives it no weight");
    }
    let (n, total) = (t.count, t.total_ms);
    let (strength, flagged, level, why_not) = match (rule, rule.counted()) {
        (Rule::Away, _) => (
            ramp(total, 0, 10 * MINUTE),
            (n >= 3 && total >= MINUTE) || total >= 5 * MINUTE,
            if total < 2 * MINUTE {
                Level::Low
            } else if total < 10 * MINUTE {
                Level::Medium
            } else {
                Level::High
            },
            "a flag needs 3 absences and 1 min in total, or 5 min in total".to_owned(),
        ),
        // Never high: a network outage and a closed tab look the same here.
        (Rule::HeartbeatGap, _) => (
            ramp(total, 0, 10 * MINUTE),
            (n >= 2 && total >= MINUTE) || total >= 3 * MINUTE,
            if total < 5 * MINUTE { Level::Low } else { Level::Medium },
            "a flag needs 2 gaps and 1 min missing in total, or 3 min missing".to_owned(),
        ),
        (_, Some(c)) => (
            ramp(n, c.flag_at - 1, c.full),
            n >= c.flag_at,
            if n >= c.high_at {
                Level::High
            } else if n >= c.medium_at {
                Level::Medium
            } else {
                Level::Low
            },
            // Only shown while not flagged, so `flag_at` ≥ 2 here.
            format!("a flag needs {} occurrences", c.flag_at),
        ),
        (_, None) => (0.0, false, Level::Low, String::new()),
    };
    // Unflagged evidence is noted, never counted (see the module comment).
    Judgement { strength: if flagged { strength } else { 0.0 }, flagged, level, why_not }
}

/// The risk score of the session (see the module comment), in [0, 1].
pub fn score(s: &Session) -> f32 {
    let keep: f64 = RULES
        .iter()
        .filter(|r| !s.dismissed.contains(r.id()))
        .filter_map(|r| s.tally(*r).map(|t| 1.0 - r.weight(&s.policy) * judge(*r, t, &s.policy).strength))
        .product();
    (1.0 - keep).clamp(0.0, 1.0) as f32
}

/// The assessment the kernel stores and shows: score, flags, explanation,
/// lock. Written for the student as much as for the instructor: it says
/// what was recorded, what it can innocently mean, and what it counted for.
pub fn assess(s: &Session) -> Assessment {
    let p = &s.policy;
    let risk = score(s);
    let reached = risk >= p.flag_threshold;
    let mut flags = Vec::new();
    let mut explanation = Vec::new();
    let mut terms = Vec::new();

    for rule in RULES {
        let Some(t) = s.tally(rule) else { continue };
        if s.dismissed.contains(rule.id()) {
            explanation.push(format!("{} Dismissed by an instructor: not counted.", summary(rule, t, p)));
            continue;
        }
        let j = judge(rule, t, p);
        let w = rule.weight(p);
        let summary = summary(rule, t, p);
        if j.strength > 0.0 {
            terms.push(format!("{}: weight {w:.2} × strength {:.2} = {:.2}", rule.id(), j.strength, w * j.strength));
        }
        if j.flagged {
            explanation.push(format!(
                "{summary} Flagged ({}): weight {w:.2} × strength {:.2}.",
                level_name(j.level),
                j.strength
            ));
            let unlisted = t.count.saturating_sub(t.items.len() as u64);
            let more = if unlisted > 0 { format!(" ({unlisted} more not listed as evidence.)") } else { String::new() };
            flags.push(Flag {
                id: rule.id().to_owned(),
                severity: severity(j.level),
                reason: format!("{summary} {}{more}", caveat(rule)),
                student_reason: None,
                evidence: evidence(t),
                contribution: (w * j.strength) as f32,
                at_ms: t.flagged_at_ms.or(t.items.first().map(|i| i.at_ms)).unwrap_or(s.started_at_ms),
            });
        } else {
            explanation.push(format!("{summary} Noted, not flagged: {}.", j.why_not));
        }
    }
    if let Some((since, kind)) = &s.away_open {
        explanation.push(format!(
            "Left the exam page at {} ({kind}) with no return recorded yet; the time away counts once it is known.",
            format_utc(*since)
        ));
    }
    if s.duplicates > 0 {
        explanation.push(format!("{} repeated signal(s) ignored (the same signal sent twice).", s.duplicates));
    }

    let action = match p.action {
        StoredAction::RecordOnly => "record only",
        StoredAction::FlagForReview => "flag for review",
        StoredAction::LockAttempt => "lock the attempt",
        StoredAction::AutoSubmit => "submit the attempt",
    };
    explanation.insert(
        0,
        format!(
            "Risk score {risk:.2} of 1 from {} signal(s); the course flags attempts from {:.2} (policy: {action}).",
            s.accepted, p.flag_threshold
        ),
    );
    // After an instructor unlocked the attempt, only a higher score acts again.
    let act = reached
        && matches!(p.action, StoredAction::LockAttempt | StoredAction::AutoSubmit)
        && s.unlocked_at_score.is_none_or(|u| risk > u);
    if let (Some(u), false, true) = (s.unlocked_at_score, act, reached) {
        explanation.push(format!(
            "An instructor let the attempt continue at a score of {u:.2}; only new evidence raising it acts again."
        ));
    }
    if !reached && risk >= p.review_threshold() {
        explanation.push(format!(
            "The score is at or above the course's review threshold {:.2}: an instructor may look at it.",
            p.review_threshold()
        ));
    }
    if reached {
        let high = f64::from(risk) >= (1.0 + f64::from(p.flag_threshold)) / 2.0;
        flags.push(Flag {
            id: "risk-threshold".to_owned(),
            severity: if high { Severity::High } else { Severity::Medium },
            reason: format!(
                "The risk score {risk:.2} reached the course's threshold {:.2}. An instructor should review the evidence of the other flags before drawing any conclusion.",
                p.flag_threshold
            ),
            student_reason: None,
            evidence: vec![],
            contribution: 0.0,
            at_ms: s.threshold_reached_at_ms.unwrap_or(s.started_at_ms),
        });
        if let Some(f) = flags.last_mut() {
            f.reason.push_str(&format!(" Terms: {}.", terms.join("; ")));
        }
        explanation.push(if act && p.action == StoredAction::AutoSubmit {
            "The score reached the threshold: the attempt is submitted as it stands.".to_owned()
        } else if act {
            "The score reached the threshold: the attempt is locked until an instructor unlocks it.".to_owned()
        } else {
            "The score reached the threshold: the attempt is marked for an instructor's review.".to_owned()
        });
    } else if s.tallies.is_empty() {
        explanation.push("Nothing was recorded that counts towards the score.".to_owned());
    }
    Assessment { risk_score: risk, flags, explanation, act }
}

fn summary(rule: Rule, t: &Tally, p: &StoredPolicy) -> String {
    let n = t.count;
    let times = if n == 1 { "once".to_owned() } else { format!("{n} times") };
    match rule {
        Rule::Away => format!("Left the exam page {times}, {} in total.", format_duration(t.total_ms)),
        Rule::HeartbeatGap => format!(
            "The exam page stopped reporting {times} (heartbeat expected every {}, a gap is a pause longer than {}), {} missing in total.",
            format_duration(p.heartbeat_interval_ms),
            format_duration(gap_threshold_ms(p.heartbeat_interval_ms)),
            format_duration(t.total_ms)
        ),
        Rule::Copy => format!("Copied text {times}."),
        Rule::Paste => format!("Pasted text {times}."),
        Rule::ContextMenu => format!("Opened the context menu {times}."),
        Rule::PasteIntoAnswer => format!("Pasted text into an answer {times}."),
        Rule::AnswerBurst => format!("Saved many answers in a short time {times}."),
        Rule::FullscreenExit => format!("Left full screen {times}."),
        Rule::DevtoolsOpened => format!("Browser developer tools appeared open {times}."),
        Rule::IpChanged => format!("The network address changed {times} during the attempt."),
        Rule::DeviceChanged => format!("The device changed {times} during the attempt."),
        Rule::ConcurrentSession => format!("Another session was active on this attempt {times}."),
    }
}

/// What else the evidence can mean: a flag is a reason to look, not a verdict.
fn caveat(rule: Rule) -> &'static str {
    match rule {
        Rule::Away => "Switching to another window or tab causes this; so can a system dialog or notification.",
        Rule::HeartbeatGap => {
            "Either the connection was lost (Wi-Fi, a sleeping laptop) or the exam tab was closed; the signals cannot tell which."
        }
        Rule::Copy | Rule::Paste | Rule::ContextMenu | Rule::PasteIntoAnswer => {
            "The course does not allow copy and paste during this exam."
        }
        Rule::AnswerBurst => {
            "The answers were saved faster than the time spent on the questions suggests; a student who drafted elsewhere (on paper) also does this."
        }
        Rule::FullscreenExit => "Pressing Esc or a system dialog also leaves full screen.",
        Rule::DevtoolsOpened => "Detection is a heuristic: zooming or docked windows can trigger it.",
        Rule::IpChanged => {
            "Moving between networks (Wi-Fi to mobile data, a VPN reconnecting) also changes the address."
        }
        Rule::DeviceChanged => "Continuing the attempt on another computer or browser causes this.",
        Rule::ConcurrentSession => "The attempt was open in two places at once, e.g. two browsers or two devices.",
    }
}

/// The observations a flag rests on, as recorded (client text cleaned of
/// control characters).
fn evidence(t: &Tally) -> Vec<Evidence> {
    t.items
        .iter()
        .filter_map(|i| {
            Some(Evidence {
                kind: kind_of(&i.kind)?,
                at_ms: i.at_ms,
                duration_ms: i.duration_ms,
                seq: i.seq,
                detail: i
                    .detail
                    .as_ref()
                    .map(|d| d.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()),
            })
        })
        .collect()
}

fn severity(l: Level) -> Severity {
    match l {
        Level::Low => Severity::Low,
        Level::Medium => Severity::Medium,
        Level::High => Severity::High,
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "high",
    }
}

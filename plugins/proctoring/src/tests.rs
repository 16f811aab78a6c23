//! The scoring suite: pure functions over [`Session`], no kv. Each test
//! states one rule of the README; `run` folds batches the way `ingest` does.

use lectern_sdk::v0_2::proctoring::exports::lectern::plugin::proctor::{
    Action, Assessment, Batch, Client, Evidence, Flag, Policy, Severity, Signal, SignalKind, Weight, WeightTarget,
};

use crate::assess::assess;
use crate::policy::{KINDS, StoredPolicy, kind_name};
use crate::session::{MAX_BATCH, MAX_EVIDENCE, Refusal, Session};
use crate::time::{format_duration, format_utc};

/// 2026-12-01 09:00:00 UTC.
const T0: u64 = 1_796_115_600_000;

use SignalKind::*;

/// A signal `secs` seconds into the attempt.
fn sig(kind: SignalKind, secs: u64, duration_s: Option<u64>) -> Signal {
    Signal { kind, at_ms: T0 + secs * 1000, duration_ms: duration_s.map(|d| d * 1000), detail: None }
}

fn with_detail(mut s: Signal, detail: &str) -> Signal {
    s.detail = Some(detail.to_owned());
    s
}

fn policy(allow_copy_paste: bool, action: Action) -> Policy {
    Policy {
        weights: vec![],
        review_threshold: 0.5,
        flag_threshold: 0.5,
        heartbeat_interval_ms: 15_000,
        allow_copy_paste,
        action,
    }
}

fn session(p: &Policy) -> Session {
    Session::new(StoredPolicy::from_wit(p).expect("test policies are valid"), T0)
}

fn run(p: &Policy, batches: &[Vec<Signal>]) -> (Session, Assessment) {
    let mut s = session(p);
    for b in batches {
        s.ingest(b).expect("test batches are valid");
    }
    let a = assess(&s);
    (s, a)
}

fn flag_ids(a: &Assessment) -> Vec<&str> {
    a.flags.iter().map(|f| f.id.as_str()).collect()
}

fn flag<'a>(a: &'a Assessment, id: &str) -> &'a Flag {
    a.flags.iter().find(|f| f.id == id).unwrap_or_else(|| panic!("no `{id}` flag in {:?}", flag_ids(a)))
}

/// A flag's evidence as a reviewer reads it.
fn lines(f: &Flag) -> Vec<String> {
    f.evidence.iter().map(line).collect()
}

fn line(e: &Evidence) -> String {
    let kind = kind_name(e.kind);
    let mut line = format!("{kind} at {}", format_utc(e.at_ms));
    match (kind, e.duration_ms) {
        ("heartbeat", Some(d)) => {
            line = format!(
                "no heartbeat from {} to {} ({})",
                format_utc(e.at_ms),
                format_utc(e.at_ms + d),
                format_duration(d)
            );
        }
        (_, Some(d)) => line.push_str(&format!(" for {}", format_duration(d))),
        (_, None) => {}
    }
    if let Some(d) = &e.detail {
        line.push_str(&format!(" ({d})"));
    }
    line
}

/// Table: one batch, the flags expected (by id), and whether the score is 0.
fn check(p: &Policy, batch: Vec<Signal>, flags: &[&str], zero_score: bool) {
    let (_, a) = run(p, std::slice::from_ref(&batch));
    assert_eq!(flag_ids(&a), flags, "batch {batch:?}\nexplanation {:#?}", a.explanation);
    assert_eq!(a.risk_score == 0.0, zero_score, "score {} for {batch:?}", a.risk_score);
}

#[test]
fn one_innocuous_event_never_counts() {
    let forbid = policy(false, Action::LockAttempt);
    for kind in [FocusLost, VisibilityHidden, Copy, Paste, ContextMenu, FullscreenExit, Heartbeat, FocusRegained] {
        check(&forbid, vec![sig(kind, 60, Some(5))], &[], true);
    }
    // A brief absence is noted in the explanation, so the student sees it.
    let (_, a) = run(&forbid, &[vec![sig(FocusLost, 60, Some(5))]]);
    assert!(
        a.explanation.iter().any(|l| l.contains("Left the exam page once, 5 s in total. Noted, not flagged")),
        "{:#?}",
        a.explanation
    );
    assert!(!a.act);
}

#[test]
fn absences() {
    let p = policy(true, Action::FlagForReview);
    let lost = |at, d| sig(FocusLost, at, Some(d));
    // Two short ones: below 3 absences, noted and not counted.
    check(&p, vec![lost(60, 20), lost(300, 30)], &[], true);
    // Three absences, but under a minute in total: not flagged.
    check(&p, vec![lost(60, 10), lost(300, 10), lost(600, 10)], &[], true);
    // Three absences and a minute: flagged.
    check(&p, vec![lost(60, 20), lost(300, 20), lost(600, 20)], &["away"], false);
    // One long absence of 5 minutes: flagged on its own.
    check(&p, vec![lost(60, 300)], &["away"], false);
    // focus-lost and visibility-hidden of one tab switch are one absence.
    let both =
        vec![lost(60, 40), sig(VisibilityHidden, 61, Some(38)), lost(300, 40), sig(VisibilityHidden, 300, Some(41))];
    let (s, _) = run(&p, &[both]);
    let t = s.tally(crate::assess::Rule::Away).unwrap();
    assert_eq!((t.count, t.total_ms), (2, 81_000));
    // Lost/regained pairs without durations.
    let pairs = vec![sig(FocusLost, 60, None), sig(VisibilityHidden, 60, None), sig(FocusRegained, 100, None)];
    let (s, _) = run(&p, &[pairs]);
    let t = s.tally(crate::assess::Rule::Away).unwrap();
    assert_eq!((t.count, t.total_ms), (1, 40_000));
}

#[test]
fn repeated_long_absences_are_flagged_with_evidence() {
    let p = policy(true, Action::FlagForReview);
    let batch: Vec<Signal> = (0..4).map(|i| sig(FocusLost, 60 + i * 600, Some(30))).collect();
    let (_, a) = run(&p, &[batch]);
    let f = flag(&a, "away");
    assert_eq!(f.severity, Severity::Medium); // 2 min in total
    assert_eq!(
        lines(f),
        [
            "focus-lost at 2026-12-01 09:01:00 UTC for 30 s",
            "focus-lost at 2026-12-01 09:11:00 UTC for 30 s",
            "focus-lost at 2026-12-01 09:21:00 UTC for 30 s",
            "focus-lost at 2026-12-01 09:31:00 UTC for 30 s",
        ]
    );
    assert!(f.reason.starts_with("Left the exam page 4 times, 2 min in total."), "{}", f.reason);
    // The flag's time is when the condition first held: the end of the third absence.
    assert_eq!(f.at_ms, T0 + 1_260_000);
}

#[test]
fn copy_paste_depends_on_the_policy() {
    let batch = || vec![sig(Copy, 10, None), sig(Copy, 20, None), sig(Paste, 30, None), sig(Paste, 40, None)];
    check(&policy(true, Action::FlagForReview), batch(), &[], true);
    check(&policy(false, Action::FlagForReview), batch(), &["paste", "copy"], false);
    // Context menus need five (spelling suggestions are a right-click away).
    let menus = |n| (0..n).map(|i| sig(ContextMenu, 10 + i, None)).collect::<Vec<_>>();
    check(&policy(false, Action::FlagForReview), menus(4), &[], true);
    check(&policy(false, Action::FlagForReview), menus(5), &["context-menu"], false);
}

#[test]
fn heartbeat_gaps() {
    let p = policy(true, Action::FlagForReview);
    let beats = |times: &[u64]| times.iter().map(|t| sig(Heartbeat, *t, None)).collect::<Vec<_>>();
    // Regular beats, and a pause just under 2 × 15 s + 10 s: no gap.
    check(&p, beats(&[0, 15, 30, 45, 85]), &[], true);
    // One gap of 2 min (105 s missing): noted, not flagged.
    let (s, a) = run(&p, &[beats(&[0, 15, 135, 150])]);
    let t = s.tally(crate::assess::Rule::HeartbeatGap).unwrap();
    assert_eq!((t.count, t.total_ms), (1, 105_000));
    assert!(flag_ids(&a).is_empty());
    // Two gaps: flagged, low, and the reason names both explanations.
    let (_, a) = run(&p, &[beats(&[0, 15, 135, 150, 300])]);
    let f = flag(&a, "heartbeat-gap");
    assert_eq!(f.severity, Severity::Low);
    assert!(f.reason.contains("connection was lost") && f.reason.contains("tab was closed"), "{}", f.reason);
    assert_eq!(lines(f)[0], "no heartbeat from 2026-12-01 09:00:15 UTC to 2026-12-01 09:02:15 UTC (2 min)");
    // Heartbeats not expected (interval 0): never a gap.
    let off = Policy { heartbeat_interval_ms: 0, ..p };
    check(&off, beats(&[0, 600, 1200]), &[], true);
}

#[test]
fn kernel_observations_are_strong() {
    let p = policy(true, Action::FlagForReview);
    for (kind, id) in
        [(IpChanged, "ip-changed"), (DeviceChanged, "device-changed"), (ConcurrentSession, "concurrent-session")]
    {
        let (_, a) = run(&p, &[vec![with_detail(sig(kind, 60, None), "from 203.0.113.0/24 to 198.51.100.0/24")]]);
        let f = flag(&a, id);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(lines(f), [format!("{id} at 2026-12-01 09:01:00 UTC (from 203.0.113.0/24 to 198.51.100.0/24)")]);
    }
    // An ip change alone (0.4) stays below a 0.5 threshold.
    let (_, a) = run(&p, &[vec![sig(IpChanged, 60, None)]]);
    assert!((a.risk_score - 0.4).abs() < 1e-6 && !flag_ids(&a).contains(&"risk-threshold"));
}

#[test]
fn derived_checks_ride_on_paste() {
    let into = |t| with_detail(sig(Paste, t, None), "paste-into-answer:q7");
    let burst = |t| with_detail(sig(Paste, t, None), "answer-burst:12/40000");
    check(&policy(false, Action::FlagForReview), vec![into(10)], &["paste-into-answer"], false);
    check(&policy(true, Action::FlagForReview), vec![into(10)], &[], true);
    // Bursts count whatever the clipboard policy; the first one is free.
    check(&policy(true, Action::FlagForReview), vec![burst(10)], &[], true);
    check(&policy(true, Action::FlagForReview), vec![burst(10), burst(900)], &["answer-burst"], false);
    // A malformed detail is an ordinary paste, its detail shown as evidence.
    let odd = |t| with_detail(sig(Paste, t, None), "answer-burst:lots");
    let (_, a) = run(&policy(false, Action::FlagForReview), &[vec![odd(10), odd(20)]]);
    assert_eq!(lines(flag(&a, "paste"))[0], "paste at 2026-12-01 09:00:10 UTC (answer-burst:lots)");
}

#[test]
fn duplicates_are_ignored() {
    let p = policy(false, Action::FlagForReview);
    let batch = vec![sig(Copy, 10, None), sig(Copy, 20, None), sig(FocusLost, 30, Some(90))];
    let (_, once) = run(&p, std::slice::from_ref(&batch));
    // The same batch retried, and a batch repeating a signal inside itself.
    let (s, twice) = run(&p, &[batch.clone(), batch.clone(), vec![sig(Copy, 10, None), sig(Copy, 10, None)]]);
    assert_eq!(once.risk_score, twice.risk_score);
    assert_eq!(format!("{:?}", once.flags), format!("{:?}", twice.flags));
    assert_eq!((s.accepted, s.duplicates), (3, 5));
    assert!(twice.explanation.iter().any(|l| l.starts_with("5 repeated signal(s) ignored")));
}

#[test]
fn order_within_a_batch_does_not_matter() {
    let p = policy(false, Action::LockAttempt);
    let mut batch = vec![
        sig(Heartbeat, 0, None),
        sig(FocusLost, 20, None),
        sig(FocusRegained, 95, None),
        sig(Heartbeat, 200, None),
        sig(Paste, 210, None),
        sig(Paste, 220, None),
        sig(IpChanged, 230, None),
        sig(Heartbeat, 400, None),
    ];
    let (_, sorted) = run(&p, &[batch.clone()]);
    batch.reverse();
    batch.swap(1, 5);
    let (_, shuffled) = run(&p, &[batch]);
    assert_eq!(format!("{sorted:?}"), format!("{shuffled:?}"));
}

#[test]
fn deterministic() {
    let p = policy(false, Action::LockAttempt);
    let batch = || (0..200).map(|i| sig(KINDS[i % KINDS.len()], i as u64 * 7, Some(i as u64 % 50))).collect::<Vec<_>>();
    let (s1, a1) = run(&p, &[batch()]);
    let (s2, a2) = run(&p, &[batch()]);
    assert_eq!(format!("{a1:?}"), format!("{a2:?}"));
    // Stored state round-trips through JSON unchanged.
    let json = serde_json::to_vec(&s1).unwrap();
    assert_eq!(serde_json::from_slice::<Session>(&json).unwrap(), s2);
}

/// A small deterministic generator, so the property test needs no crate.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

#[test]
fn score_is_monotone_and_bounded() {
    for (seed, allow) in [(1u64, false), (2, true), (3, false)] {
        let everything = Policy {
            weights: KINDS.iter().map(|k| Weight { target: WeightTarget::Kind(*k), weight: 1.0 }).collect(),
            ..policy(allow, Action::LockAttempt)
        };
        for p in [policy(allow, Action::FlagForReview), everything] {
            let mut s = session(&p);
            let (mut seed, mut t, mut last) = (seed, 0u64, 0.0f32);
            for _ in 0..2000 {
                t += lcg(&mut seed) % 40;
                let kind = KINDS[(lcg(&mut seed) % KINDS.len() as u64) as usize];
                let d = (lcg(&mut seed).is_multiple_of(3)).then(|| lcg(&mut seed) % 120);
                s.ingest(&[sig(kind, t, d)]).unwrap();
                let a = assess(&s);
                assert!((0.0..=1.0).contains(&a.risk_score), "{}", a.risk_score);
                assert!(a.risk_score >= last, "score fell from {last} to {}", a.risk_score);
                // Every part of the score is explained by a flag.
                assert_eq!(a.risk_score > 0.0, !a.flags.is_empty(), "{a:?}");
                last = a.risk_score;
            }
            assert!(last > 0.9, "2000 random signals should weigh: {last}");
        }
    }
}

#[test]
fn lock_only_under_lock_attempt() {
    let batch = vec![sig(ConcurrentSession, 10, None), sig(DeviceChanged, 20, None)];
    for (action, lock) in [(Action::RecordOnly, false), (Action::FlagForReview, false), (Action::LockAttempt, true)] {
        let (_, a) = run(&policy(true, action), std::slice::from_ref(&batch));
        assert_eq!(a.act, lock, "{action:?}");
        // Every policy records the flags; only the lock differs.
        assert_eq!(flag_ids(&a), ["concurrent-session", "device-changed", "risk-threshold"]);
        let f = flag(&a, "risk-threshold");
        assert_eq!(f.at_ms, T0 + 20_000);
        assert!(
            f.reason.contains("concurrent-session: weight") && f.reason.contains("device-changed: weight"),
            "{}",
            f.reason
        );
        assert!(f.evidence.is_empty() && f.contribution == 0.0, "the other flags carry the evidence");
        assert!(flag(&a, "device-changed").contribution > 0.0);
    }
    // Below the threshold, no lock even under lock-attempt.
    let (_, a) = run(&policy(true, Action::LockAttempt), &[vec![sig(IpChanged, 10, None)]]);
    assert!(!a.act);
}

#[test]
fn zero_weight_turns_a_rule_off() {
    let off = Weight { target: WeightTarget::Kind(IpChanged), weight: 0.0 };
    let p = Policy { weights: vec![off], ..policy(true, Action::LockAttempt) };
    check(&p, vec![sig(IpChanged, 10, None)], &[], true);
}

#[test]
fn refused_batches_change_nothing() {
    let p = policy(false, Action::FlagForReview);
    let mut s = session(&p);
    s.ingest(&[sig(Copy, 600, None)]).unwrap();
    let before = s.clone();
    let refuse = |s: &mut Session, batch: Vec<Signal>, needle: &str| {
        let r = s.ingest(&batch).unwrap_err();
        let msg = format!("{r:?}");
        assert!(msg.contains(needle), "{msg}");
    };
    // Time going backwards beyond the 2-minute reordering window.
    refuse(&mut s, vec![sig(Copy, 700, None), sig(Paste, 400, None)], "time went backwards");
    // Before the attempt started (beyond 5 minutes of clock skew), or a week later.
    refuse(&mut s, vec![Signal { at_ms: T0 - 600_000, ..sig(Copy, 0, None) }], "before the attempt started");
    refuse(&mut s, vec![sig(Copy, 8 * 86_400, None)], "more than 7 days");
    refuse(&mut s, vec![sig(FocusLost, 700, Some(2 * 86_400))], "lasts more than a day");
    refuse(&mut s, vec![with_detail(sig(Copy, 700, None), &"x".repeat(300))], "exceeds 256 bytes");
    let big = vec![sig(Heartbeat, 700, None); MAX_BATCH + 1];
    assert!(matches!(s.ingest(&big), Err(Refusal::TooLarge(_))));
    assert_eq!(s, before);
    // Within the window, a late signal is accepted.
    s.ingest(&[sig(Paste, 500, None)]).unwrap();
    s.close();
    assert_eq!(s.ingest(&[sig(Copy, 700, None)]), Err(Refusal::Closed));
}

#[test]
fn close_counts_an_open_absence_and_is_idempotent() {
    let p = policy(true, Action::FlagForReview);
    let mut s = session(&p);
    s.ingest(&[sig(FocusLost, 60, None), sig(Heartbeat, 400, None)]).unwrap();
    assert!(assess(&s).explanation.iter().any(|l| l.contains("no return recorded yet")));
    s.close();
    let a = assess(&s);
    let away = flag(&a, "away");
    assert_eq!(lines(away), ["focus-lost at 2026-12-01 09:01:00 UTC for 5 min 40 s"]);
    assert_eq!(away.at_ms, T0 + 400_000, "flagged when the session closed the absence");
    let closed = s.clone();
    s.close();
    assert_eq!(s, closed);
}

#[test]
fn state_is_bounded() {
    // The worst case: every rule with more evidence than it keeps, every
    // detail at its limit, and signals dense enough (100 ms apart) that the
    // 2-minute duplicate window holds the most fingerprints it may.
    let p = policy(false, Action::FlagForReview);
    let mut s = session(&p);
    let detail = "d".repeat(crate::session::MAX_DETAIL_BYTES);
    for b in 0..30u64 {
        let batch: Vec<Signal> = (0..MAX_BATCH as u64)
            .map(|i| {
                let n = b * MAX_BATCH as u64 + i;
                let s = Signal { at_ms: T0 + n * 100, ..sig(KINDS[(n % 13) as usize], 0, Some(n % 7)) };
                with_detail(s, &detail)
            })
            .collect();
        s.ingest(&batch).unwrap();
    }
    let a = assess(&s);
    let copy = flag(&a, "copy");
    assert_eq!(copy.evidence.len(), MAX_EVIDENCE);
    assert!(copy.reason.contains("more not listed as evidence"), "{}", copy.reason);
    assert_eq!(s.remembered.len(), crate::session::MAX_REMEMBERED);
    let bytes = serde_json::to_vec(&s).unwrap().len();
    assert!(bytes < 100 * 1024, "state of {bytes} bytes after 30 000 signals");
}

#[test]
fn attempt_ids() {
    assert_eq!(
        crate::key("0b6f3c1e-8a51-4a8e-9d55-0d6f1b3f0a2c").unwrap(),
        "attempt/0b6f3c1e-8a51-4a8e-9d55-0d6f1b3f0a2c"
    );
    for bad in ["", "a/b", "a b", &"x".repeat(129)] {
        assert!(crate::key(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_two_hour_attempt_stores_little() {
    // Heartbeats every 15 s, twenty short absences, five copies, in batches of 30.
    let mut batch: Vec<Signal> = (0..480).map(|i| sig(Heartbeat, i * 15, None)).collect();
    batch.extend((0..20).map(|i| sig(FocusLost, i * 300 + 7, Some(4))));
    batch.extend((0..5).map(|i| sig(Copy, i * 900 + 9, None)));
    batch.sort_by_key(|s| s.at_ms);
    let mut s = session(&policy(false, Action::LockAttempt));
    for chunk in batch.chunks(30) {
        s.ingest(chunk).unwrap();
    }
    let bytes = serde_json::to_vec(&s).unwrap().len();
    assert!(bytes < 4096, "{bytes} bytes");
}

/// What a student (and the instructor) reads, verbatim.
#[test]
fn student_view() {
    let p = policy(false, Action::LockAttempt);
    let (_, a) = run(
        &p,
        &[vec![
            sig(Heartbeat, 0, None),
            sig(Heartbeat, 15, None),
            sig(FocusLost, 20, Some(3)),
            sig(FocusLost, 100, Some(40)),
            sig(VisibilityHidden, 100, Some(41)),
            sig(Heartbeat, 200, None),
            sig(FocusLost, 400, Some(30)),
            sig(FocusLost, 700, Some(30)),
            sig(Copy, 710, None),
            sig(IpChanged, 800, None),
            with_detail(sig(Paste, 820, None), "paste-into-answer:q3"),
            sig(FocusLost, 900, None),
        ]],
    );
    assert_eq!(
        a.explanation,
        [
            "Risk score 0.49 of 1 from 12 signal(s); the course flags attempts from 0.50 (policy: lock the attempt).",
            "The network address changed once during the attempt. Flagged (high): weight 0.40 × strength 1.00.",
            "Left the exam page 4 times, 1 min 44 s in total. Flagged (low): weight 0.30 × strength 0.17.",
            "The exam page stopped reporting once (heartbeat expected every 15 s, a gap is a pause longer than 40 s), \
             2 min 50 s missing in total. Noted, not flagged: a flag needs 2 gaps and 1 min missing in total, or 3 min missing.",
            "Pasted text into an answer once. Flagged (low): weight 0.30 × strength 0.33.",
            "Copied text once. Noted, not flagged: a flag needs 2 occurrences.",
            "Left the exam page at 2026-12-01 09:15:00 UTC (focus-lost) with no return recorded yet; \
             the time away counts once it is known.",
        ]
    );
    assert_eq!(flag_ids(&a), ["ip-changed", "away", "paste-into-answer"]);
    assert!(!a.act, "0.49 is below the threshold");
}

fn batch(seq: u64, signals: Vec<Signal>) -> Batch {
    Batch { seq, received_at_ms: T0, client: Client { network: None, user_agent_hash: None, session: None }, signals }
}

/// 0.2: batches are folded in `seq` order and each observation keeps the
/// batch it came in; the kernel's derived checks have kinds of their own.
#[test]
fn batches_keep_their_sequence_and_derived_kinds_count() {
    let p = policy(false, Action::FlagForReview);
    let mut s = session(&p);
    s.ingest_batches(&[batch(8, vec![sig(PasteIntoAnswer, 20, None)]), batch(7, vec![sig(Copy, 10, None)])]).unwrap();
    s.ingest_batches(&[batch(9, vec![sig(Copy, 30, None), sig(AnswerBurst, 31, None), sig(AnswerBurst, 900, None)])])
        .unwrap();
    let a = assess(&s);
    assert_eq!(flag(&a, "copy").evidence.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 9]);
    assert_eq!(flag(&a, "paste-into-answer").evidence[0].seq, 8);
    assert_eq!(flag(&a, "answer-burst").evidence.len(), 2);
    // Too many signals in one call: refused whole.
    let many = vec![sig(Heartbeat, 1000, None); MAX_BATCH / 2 + 1];
    let before = s.clone();
    let r = s.ingest_batches(&[batch(10, many.clone()), batch(11, many)]);
    assert!(matches!(r, Err(Refusal::TooLarge(_))), "{r:?}");
    assert_eq!(s, before);
}

/// 0.2: an instructor's decisions. A dismissed flag stops counting; an
/// unlocked attempt is acted on again only if new evidence raises the score.
#[test]
fn decisions_dismiss_and_unlock() {
    let p = policy(true, Action::LockAttempt);
    let mut s = session(&p);
    s.ingest(&[sig(ConcurrentSession, 10, None), sig(DeviceChanged, 20, None)]).unwrap();
    assert!(assess(&s).act);
    s.unlock();
    let a = assess(&s);
    assert!(!a.act, "unlocked at this score");
    assert!(a.explanation.iter().any(|l| l.contains("let the attempt continue")), "{:?}", a.explanation);
    s.ingest(&[sig(IpChanged, 30, None)]).unwrap();
    assert!(assess(&s).act, "new evidence raised the score");
    s.dismiss("concurrent-session").unwrap();
    s.dismiss("device-changed").unwrap();
    s.dismiss("ip-changed").unwrap();
    let a = assess(&s);
    assert_eq!(a.risk_score, 0.0);
    assert!(flag_ids(&a).is_empty(), "{:?}", flag_ids(&a));
    assert!(a.explanation.iter().any(|l| l.contains("Dismissed by an instructor")));
    assert!(s.dismiss("risk-threshold").is_err() && s.dismiss("telepathy").is_err());
}

#[test]
fn auto_submit_acts_and_review_threshold_is_noted() {
    let batch = vec![sig(ConcurrentSession, 10, None), sig(DeviceChanged, 20, None)];
    let (_, a) = run(&policy(true, Action::AutoSubmit), std::slice::from_ref(&batch));
    assert!(a.act);
    assert!(a.explanation.iter().any(|l| l.contains("submitted as it stands")), "{:?}", a.explanation);
    let review = Policy { review_threshold: 0.3, flag_threshold: 0.9, ..policy(true, Action::LockAttempt) };
    let (_, a) = run(&review, &[vec![sig(IpChanged, 10, None)]]);
    assert!(!a.act);
    assert!(a.explanation.iter().any(|l| l.contains("review threshold 0.30")), "{:?}", a.explanation);
}

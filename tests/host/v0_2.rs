//! Guests of `lectern:plugin@0.2.0` (the real `wit/` folder), served beside
//! 0.1 guests by the same host: what 0.2 adds reaches the plugin (the call's
//! item, `on-event`'s context, batches with their sequence and client, the
//! review threshold, the end time at close), and what it answers comes back
//! in the kernel's own types.

use lectern_e2e::guests;
use lectern_host::slots::proctoring::{Action, Batch, Client, Policy, Signal, SignalKind};
use lectern_host::{EventContext, Host, Scope, Slot};

use crate::slots::tf;
use crate::{config, ctx, env, install_active, install_grading_v1, manifest, wasm};

#[test]
fn a_0_2_grader_serves_one_institution_while_a_0_1_grader_serves_the_rest() {
    let e = env();
    let v1 = install_grading_v1(&e.host);
    let m = manifest("test.grading02", "1.0.0", Slot::Grading, 1);
    let grant = m.capabilities.clone();
    let installed = e.host.install(m, &wasm(guests::GRADING_0_2), &grant).unwrap();
    assert!(installed.imports.iter().any(|i| i == "lectern:plugin/kv@0.2.0"), "{:?}", installed.imports);
    let key = installed.manifest.key();
    e.host.activate(Slot::Grading, Scope::Institution("inst-b".into()), &key).unwrap();
    // `init` ran through 0.2's lifecycle and reached 0.2's kv.
    assert_eq!(e.host.plugin_kv("test.grading02", "*", "inits").unwrap(), Some(b"1".to_vec()));

    let (_, who) = e.host.grade(&ctx("inst-a"), &[tf("q", true, Some(true))]).unwrap();
    assert_eq!(who, v1, "the platform default is still the 0.1 grader");

    let mut c = ctx("inst-b");
    c.item = Some("quiz-1".into());
    let (r, who) = e.host.grade(&c, &[tf("right", true, Some(true)), tf("wrong", true, Some(false))]).unwrap();
    assert_eq!(who, key);
    assert_eq!((r[0].points, r[1].points), (2.0, 0.0));
    assert_eq!(r[0].explanation, ["built against lectern:plugin@0.2.0", "call 1 for inst-b item quiz-1"]);

    // After a restart both are served again, each by its own bindings.
    drop(e.host);
    let host = Host::open(&e.store, e.dir.path().join("plugins"), config()).unwrap();
    let (r, who) = host.grade(&c, &[tf("right", true, Some(true))]).unwrap();
    assert_eq!((who.as_str(), r[0].explanation[1].as_str()), (key.as_str(), "call 2 for inst-b item quiz-1"));
    let (_, who) = host.grade(&ctx("inst-a"), &[tf("q", true, Some(true))]).unwrap();
    assert_eq!(who, v1);
}

#[test]
fn on_event_carries_what_the_event_is_about() {
    let e = env();
    let mut m = manifest("test.grading02", "1.0.0", Slot::Grading, 1);
    m.capabilities.subscribe = vec!["grade.recorded".into()];
    install_active(&e.host, m, guests::GRADING_0_2);
    let event = EventContext {
        institution: "inst".into(),
        actor: Some("0190d5a4-0000-7000-8000-000000000001".into()),
        course: Some("course-1".into()),
        topic: "grade.recorded".into(),
        message_id: "m-42".into(),
        occurred_at_ms: 1_700_000_000_123,
        locale: "en".into(),
    };
    let handled = e.host.deliver_event("test.grading02", &event, br#"{"points":3}"#).unwrap();
    assert!(handled.is_some());
    let line = e.host.plugin_kv("test.grading02", "inst", "event/m-42").unwrap().unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap(),
        r#"grade.recorded inst actor=0190d5a4-0000-7000-8000-000000000001 course=course-1 at=1700000000123 locale=en payload={"points":3}"#
    );
    // A topic outside the grant is not delivered at all.
    let other = EventContext { topic: "course.completed".into(), ..event };
    assert_eq!(e.host.deliver_event("test.grading02", &other, b"{}").unwrap(), None);
}

fn signal(kind: SignalKind, at_ms: u64, duration_ms: Option<u64>, detail: Option<&str>) -> Signal {
    Signal { kind, at_ms, duration_ms, detail: detail.map(str::to_owned) }
}

#[test]
fn a_0_2_proctor_sees_batches_and_answers_in_the_kernels_terms() {
    let e = env();
    install_active(&e.host, manifest("test.proctoring02", "1.0.0", Slot::Proctoring, 1), guests::PROCTORING_0_2);
    let mut c = ctx("inst");
    c.item = Some("exam-1".into());
    let policy = Policy {
        weights: vec![(SignalKind::FocusLost, 1.0)],
        flag_threshold: 0.3,
        heartbeat_interval_ms: 15_000,
        allow_copy_paste: false,
        action: Action::LockAttempt,
    };
    e.host.proctor_open(&c, "att-1", &policy, 1_000).unwrap();
    let stored = e.host.plugin_kv("test.proctoring02", "inst", "policy/att-1").unwrap().unwrap();
    // One threshold in the kernel's policy: 0.2's review threshold is the same.
    assert_eq!(
        String::from_utf8(stored).unwrap(),
        "0.3 review=0.3 action=lock-attempt kind-weights=1 started=1000 item=exam-1"
    );

    let client = Client::observed(Some("10.1.2.0/24".into()), Some("Firefox"), Some("s-1"));
    assert_eq!(client.user_agent_hash.as_deref().map(str::len), Some(64), "the user agent only as its SHA-256");
    let batches = [
        Batch {
            seq: 1,
            received_at_ms: 2_000,
            client: client.clone(),
            signals: vec![
                signal(SignalKind::FocusLost, 1_500, Some(200), Some("tab")),
                signal(SignalKind::Heartbeat, 1_900, None, None),
            ],
        },
        Batch { seq: 2, received_at_ms: 4_000, client, signals: vec![signal(SignalKind::Copy, 3_000, None, None)] },
    ];
    let a = e.host.proctor_ingest(&c, "att-1", &batches).unwrap();
    assert_eq!(a.flags.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["batch-1", "batch-2"]);
    assert!(a.flags[0].reason.starts_with("batch 1 received at 2000 from 10.1.2.0/24 ua="), "{}", a.flags[0].reason);
    assert!(a.flags[0].reason.ends_with("session=true"), "{}", a.flags[0].reason);
    // Structured evidence is kept as one line per observation.
    assert_eq!(
        a.flags[0].evidence,
        [
            "focus-lost at 1970-01-01 00:00:01 UTC for 200 ms (batch 1): tab",
            "heartbeat at 1970-01-01 00:00:01 UTC (batch 1)"
        ]
    );
    assert_eq!(a.flags[1].evidence, ["copy at 1970-01-01 00:00:03 UTC (batch 2)"]);
    assert_eq!(a.explanation, ["2 batches in this call"]);
    // `act` (3 signals → 0.3 ≥ the 0.3 threshold) is the kernel's `lock`.
    assert!((a.risk_score - 0.3).abs() < 1e-6 && a.lock, "{a:?}");

    let closed = e.host.proctor_close(&c, "att-1", 9_000).unwrap();
    assert_eq!(closed.explanation, ["closed at 9000"]);
}

//! One well-behaved plugin per slot works through the host.

use lectern_e2e::guests;
use lectern_host::slots::{content as c, grading as g, proctoring as p, tutoring as t};
use lectern_host::{Capabilities, PluginError, Slot};

use crate::{ctx, env, install_active, install_grading_v1, manifest};

pub fn tf(id: &str, key: bool, answer: Option<bool>) -> g::Submission {
    g::Submission {
        question: g::Question { id: id.into(), key: g::AnswerKey::TrueFalse(key), points: 2.0 },
        response: answer.map(g::Response::Boolean),
        penalties: g::Penalties::default(),
    }
}

#[test]
fn grading() {
    let e = env();
    install_grading_v1(&e.host);
    let numeric = g::Submission {
        question: g::Question {
            id: "q-num".into(),
            key: g::AnswerKey::Numeric(g::NumericKey {
                value: 9.81,
                absolute_tolerance: Some(0.05),
                relative_tolerance: None,
                units: vec![],
                unit_missing_credit: 0.0,
            }),
            points: 4.0,
        },
        response: Some(g::Response::Number { value: 9.8, unit: None }),
        penalties: g::Penalties::default(),
    };
    let multi = g::Submission {
        question: g::Question {
            id: "q-mc".into(),
            key: g::AnswerKey::MultipleChoice(g::ChoiceKey {
                options: ["a", "b", "c", "d"]
                    .iter()
                    .map(|o| g::ChoiceOption {
                        id: (*o).into(),
                        correct: *o == "a" || *o == "b",
                        weight: 0.0,
                        feedback: None,
                    })
                    .collect(),
                rule: g::MultiRule::RightMinusWrong,
            }),
            points: 3.0,
        },
        response: Some(g::Response::Choices(vec!["a".into(), "c".into()])),
        penalties: g::Penalties::default(),
    };
    let essay = g::Submission {
        question: g::Question { id: "q-essay".into(), key: g::AnswerKey::Essay(vec![]), points: 10.0 },
        response: Some(g::Response::Essay("Because.".into())),
        penalties: g::Penalties::default(),
    };
    let mismatched = g::Submission { response: Some(g::Response::Text("yes".into())), ..tf("q-bad", true, None) };
    let subs = vec![
        tf("q-tf", true, Some(true)),
        tf("q-tf2", true, Some(false)),
        tf("q-none", true, None),
        numeric,
        multi,
        essay,
        mismatched,
    ];
    let (graded, served_by) = e.host.grade(&ctx("inst-a"), &subs).unwrap();
    assert_eq!(served_by, "test.grading@1.0.0");
    let by_id = |id: &str| graded.iter().find(|x| x.question_id == id).unwrap().clone();
    assert_eq!(by_id("q-tf").points, 2.0);
    assert_eq!(by_id("q-tf2").points, 0.0);
    assert_eq!(by_id("q-none").points, 0.0);
    assert_eq!(by_id("q-num").points, 4.0);
    assert!((by_id("q-mc").points - 0.0).abs() < 1e-9, "right-minus-wrong: 1 right, 1 wrong of 2 → 0");
    assert_eq!(by_id("q-essay").status, g::Status::NeedsManualGrading);
    assert_eq!(by_id("q-bad").status, g::Status::InvalidResponse);
    assert!(by_id("q-tf").explanation[0].contains("test.grading 1.0.0"));
    // Deterministic: the same submission gives the same result.
    let (again, _) = e.host.grade(&ctx("inst-b"), &subs).unwrap();
    assert_eq!(graded, again);
    // Per-institution data: the plugin's counter is separate per institution.
    assert_eq!(e.host.plugin_kv("test.grading", "inst-a", "graded").unwrap(), Some(b"7".to_vec()));
    assert_eq!(e.host.plugin_kv("test.grading", "inst-b", "graded").unwrap(), Some(b"7".to_vec()));
}

#[test]
fn proctoring_publishes_granted_events_only() {
    let e = env();
    let mut m = manifest("test.proctoring", "1.0.0", Slot::Proctoring, 1);
    m.capabilities.clock = true;
    m.capabilities.publish = vec!["proctoring.flagged".into()];
    install_active(&e.host, m, guests::PROCTORING);
    let policy = p::Policy {
        weights: vec![(p::SignalKind::FocusLost, 0.4), (p::SignalKind::Paste, 0.7)],
        flag_threshold: 1.0,
        heartbeat_interval_ms: 5000,
        allow_copy_paste: false,
        action: p::Action::LockAttempt,
    };
    let c = ctx("inst-a");
    e.host.proctor_open(&c, "att-1", &policy, 1_000).unwrap();
    let sig = |kind, at_ms| p::Signal { kind, at_ms, duration_ms: None, detail: None };
    // A 0.1 plugin sees the signals of every batch of a call joined.
    let batch = |seq, signals: Vec<p::Signal>| p::Batch { seq, received_at_ms: 0, client: Default::default(), signals };
    let a = e
        .host
        .proctor_ingest(
            &c,
            "att-1",
            &[
                batch(1, vec![sig(p::SignalKind::FocusLost, 2_000)]),
                batch(2, vec![sig(p::SignalKind::Heartbeat, 3_000)]),
            ],
        )
        .unwrap();
    assert!((a.risk_score - 0.4).abs() < 1e-6);
    assert!(a.flags.is_empty() && !a.lock);
    let a = e.host.proctor_ingest(&c, "att-1", &[batch(3, vec![sig(p::SignalKind::Paste, 4_000)])]).unwrap();
    assert_eq!(a.flags.len(), 1, "{a:?}");
    assert!(a.lock);
    assert!(a.flags[0].evidence.iter().any(|x| x.contains("paste")), "flags explain themselves: {a:?}");
    let out = e.host.event_outbox().peek(10).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].topic, "proctoring.flagged");
    assert_eq!(out[0].properties[lectern_host::INSTITUTION_PROPERTY], "inst-a");
    assert_eq!(out[0].properties[lectern_host::PLUGIN_PROPERTY], "test.proctoring");
    let closed = e.host.proctor_close(&c, "att-1", 5_000).unwrap();
    assert!((closed.risk_score - 1.1).abs() < 1e-6);
    // Unknown attempt: the plugin's own error, not a fault.
    let err = e.host.proctor_ingest(&c, "nope", &[]).unwrap_err();
    assert!(matches!(err, PluginError::Guest(lectern_host::GuestError::NotFound(_))), "{err:?}");
}

#[test]
fn content_renders_and_gates_items() {
    let e = env();
    let mut m = manifest("test.content", "1.0.0", Slot::Content, 1);
    m.capabilities = Capabilities { log: true, ..Default::default() };
    install_active(&e.host, m, guests::CONTENT);
    let page =
        e.host.render_markdown(&ctx("i"), "# Intro & <Outline>\n\nHello <script>alert(1)</script> world").unwrap();
    assert!(page.html.contains("<h1 id=\"intro----outline-\">Intro &amp; &lt;Outline&gt;</h1>"), "{}", page.html);
    assert!(!page.html.contains("<script>"));
    assert_eq!(page.toc.len(), 1);
    let item = |id: &str, pre: Vec<c::Prerequisite>, release: Option<u64>| c::Item {
        id: id.into(),
        kind: c::ItemKind::Page,
        title: id.into(),
        prerequisites: pre,
        release_at_ms: release,
        completion: c::CompletionRule::Viewed,
    };
    let modules = vec![c::Module {
        id: "m1".into(),
        title: "Week 1".into(),
        release_at_ms: None,
        items: vec![
            item("a", vec![], None),
            item("b", vec![c::Prerequisite::Completed("a".into())], None),
            item("c", vec![c::Prerequisite::ScoredAtLeast("b".into(), 0.8)], None),
            item("d", vec![], Some(10_000)),
        ],
    }];
    let progress = vec![
        c::Progress { item_id: "a".into(), completed: true, score: None },
        c::Progress { item_id: "b".into(), completed: true, score: Some(0.5) },
    ];
    let v = e.host.item_visibility(&ctx("i"), &modules, &progress, 5_000).unwrap();
    let get = |id: &str| v.iter().find(|x| x.item_id == id).unwrap().clone();
    assert!(get("a").visible && !get("a").locked);
    assert!(get("b").visible && !get("b").locked);
    assert!(get("c").visible && get("c").locked, "score 0.5 < 0.8");
    assert!(!get("d").visible, "not released yet");
}

/// The harness plugin authors use: the real host on a temporary store.
#[test]
fn the_authors_harness_runs_a_plugin() {
    use lectern_host::harness::Harness;
    let h = Harness::new().unwrap();
    let manifest = br#"{"id":"test.grading","version":"1.0.0","slot":"grading","data_version":1,"capabilities":{"kv_quota_bytes":65536}}"#;
    let key = h.install_active(manifest, &crate::wasm(guests::GRADING_V1)).unwrap();
    assert_eq!(key, "test.grading@1.0.0");
    let (graded, _) = h.host.grade(&Harness::context("inst"), &[tf("q", false, Some(false))]).unwrap();
    assert_eq!(graded[0].points, 2.0);
}

/// The SDK's template, with its own manifest, installs and grades.
#[test]
fn the_sdk_template_works_as_shipped() {
    use lectern_host::harness::Harness;
    let h = Harness::new().unwrap();
    let manifest = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk/template/manifest.json")).unwrap();
    h.install_active(&manifest, &crate::wasm(guests::TEMPLATE)).unwrap();
    let (graded, _) =
        h.host.grade(&Harness::context("inst"), &[tf("q", true, Some(true)), tf("r", true, Some(false))]).unwrap();
    assert_eq!((graded[0].points, graded[1].points), (2.0, 0.0));
}

#[test]
fn tutoring_cites_and_refuses_during_exams() {
    let e = env();
    install_active(&e.host, manifest("test.tutoring", "1.0.0", Slot::Tutoring, 1), guests::TUTORING);
    let c = ctx("inst-a");
    let doc = t::Document {
        id: "d1".into(),
        course: "c-1".into(),
        item: "page-7".into(),
        title: "Photosynthesis".into(),
        text: "Chlorophyll absorbs light. Plants convert light into chemical energy. Mitochondria are elsewhere."
            .into(),
        language: "en".into(),
    };
    assert_eq!(e.host.tutor_index(&c, &doc).unwrap(), 3);
    let q = |text: &str, exam: bool| t::Question {
        text: text.into(),
        course: "c-1".into(),
        history: vec![],
        open_assessment: exam.then(|| t::OpenAssessment {
            id: "exam-1".into(),
            title: "Midterm".into(),
            proctored: false,
            covers: vec![],
        }),
    };
    let a = e.host.tutor_ask(&c, &q("What does chlorophyll absorb?", false)).unwrap();
    assert!(a.refusal.is_none());
    assert_eq!(a.citations[0].item, "page-7");
    assert!(a.citations[0].excerpt.contains("Chlorophyll"));
    let a = e.host.tutor_ask(&c, &q("What does chlorophyll absorb?", true)).unwrap();
    assert!(a.refusal.is_some() && a.citations.is_empty());
    // Another institution does not see the first one's documents.
    let a = e.host.tutor_ask(&ctx("inst-b"), &q("What does chlorophyll absorb?", false)).unwrap();
    assert!(a.citations.is_empty());
}

//! Question-type plugins (`lectern:plugin@0.2.0`, world
//! `question-type-plugin`): the example `plugins/examples/formula-question`
//! through the real host (types offered per institution, schemas checked by
//! the kernel, seeded instances, validation, grading), and a hostile
//! question type contained call by call.

use lectern_e2e::guests;
use lectern_host::slots::grading::Status;
use lectern_host::slots::question::{Question, ToGrade};
use lectern_host::{HostError, Manifest, PluginError, QuestionCheck, Scope, Slot};
use serde_json::{Value, json};

use crate::{ctx, env, wasm};

const FORMULA: &str = "org.example.formula";

fn formula_manifest() -> Manifest {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/examples/formula-question/manifest.json");
    Manifest::parse_json(&std::fs::read(path).unwrap()).unwrap()
}

fn install(host: &lectern_host::Host, m: Manifest, path: &str, scope: Scope) -> String {
    let grant = m.capabilities.clone();
    let key = host.install(m, &wasm(path), &grant).unwrap().manifest.key();
    host.activate(Slot::QuestionType, scope, &key).unwrap();
    key
}

fn speed() -> Value {
    json!({
        "prompt": "A car travels {d} km in {t} h. What is its mean speed?",
        "formula": "d / t",
        "variables": {"d": {"min": 50, "max": 200, "step": 10}, "t": {"min": 1, "max": 4, "step": 0.5}},
        "tolerance": 0.01,
        "partial_tolerance": 0.05,
        "unit": "km/h"
    })
}

fn question(type_id: &str, settings: &Value) -> Question {
    Question { id: "q1".into(), type_id: type_id.into(), settings: settings.to_string(), points: 4.0 }
}

#[test]
fn the_formula_example_is_offered_instantiated_validated_and_graded() {
    let e = env();
    let key =
        install(&e.host, formula_manifest(), guests::EXAMPLE_FORMULA_QUESTION, Scope::Institution("inst-1".into()));
    assert_eq!(key, "org.example.formula@1.0.0");

    // Offered to the institution it is active for, and to no other.
    let offered = e.host.question_types("inst-1");
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert_eq!((offered[0].plugin.as_str(), offered[0].info.id.as_str()), (FORMULA, "formula"));
    assert!(e.host.question_types("inst-2").is_empty());

    // The kernel checks an author's settings against the type's schema.
    assert_eq!(e.host.check_question_settings("inst-1", FORMULA, "formula", &speed()), Ok(()));
    let Err(QuestionCheck::Invalid(why)) =
        e.host.check_question_settings("inst-1", FORMULA, "formula", &json!({"prompt": "x", "formula": 3}))
    else {
        panic!("a formula that is a number must be refused")
    };
    assert!(why.contains("/formula") && why.contains("variables"), "{why}");
    assert!(matches!(
        e.host.check_question_settings("inst-2", FORMULA, "formula", &speed()),
        Err(QuestionCheck::NotOffered { .. })
    ));
    assert!(matches!(
        e.host.check_question_settings("inst-1", FORMULA, "no-such-type", &speed()),
        Err(QuestionCheck::NotOffered { .. })
    ));

    // The same seed gives the same instance (a reload, a regrade); another seed other values.
    let c = ctx("inst-1");
    let q = question("formula", &speed());
    let (a, who) = e.host.question_instantiate(FORMULA, &c, &q, 7).unwrap();
    assert_eq!(who, key);
    assert_eq!(e.host.question_instantiate(FORMULA, &c, &q, 7).unwrap().0, a);
    let draws: std::collections::HashSet<String> =
        (0..20).map(|s| e.host.question_instantiate(FORMULA, &c, &q, s).unwrap().0.data).collect();
    assert!(draws.len() > 10, "20 seeds gave only {} different instances", draws.len());
    let data: Value = serde_json::from_str(&a.data).unwrap();
    let (d, t) = (data["values"]["d"].as_f64().unwrap(), data["values"]["t"].as_f64().unwrap());
    let answer = data["answer"].as_f64().unwrap();
    assert_eq!(answer, d / t);
    assert!(a.view.html.contains(&format!("travels {d} km")), "{}", a.view.html);
    assert!(a.view.html.contains(r#"<input name="value""#), "{}", a.view.html);

    // Validation: the plugin's message is for the student.
    let bad = json!({"value": "twelve"}).to_string();
    let Err(PluginError::Guest(g)) = e.host.question_validate(FORMULA, &c, &q, &a.data, &bad) else {
        panic!("`twelve` must be refused")
    };
    assert!(g.to_string().contains("Enter a number"), "{g}");
    e.host.question_validate(FORMULA, &c, &q, &a.data, &json!({"value": "12,5"}).to_string()).unwrap();

    // Grading: full, half and no credit, unanswered, and not a number.
    let item = |response: Option<String>| ToGrade { question: q.clone(), instance: a.data.clone(), response };
    let answer_text = |x: f64| Some(json!({"value": format!("{x}")}).to_string());
    let items = vec![
        item(answer_text(answer)),
        item(answer_text(answer * 1.03)),
        item(answer_text(answer * 2.0)),
        item(None),
        item(Some(json!({"value": "abc"}).to_string())),
    ];
    let (graded, who) = e.host.question_grade(FORMULA, &c, &items).unwrap();
    assert_eq!(who, key);
    let got: Vec<(Status, f64)> = graded.iter().map(|g| (g.status, g.fraction)).collect();
    assert_eq!(
        got,
        vec![
            (Status::Graded, 1.0),
            (Status::Graded, 0.5),
            (Status::Graded, 0.0),
            (Status::Graded, 0.0),
            (Status::InvalidResponse, 0.0)
        ]
    );
    assert!(graded[0].explanation.iter().any(|l| l.contains("full credit")), "{:?}", graded[0].explanation);
    assert_eq!(graded[2].feedback[0].target.as_deref(), Some("value"));
    // Deterministic: the same batch grades the same.
    assert_eq!(e.host.question_grade(FORMULA, &c, &items).unwrap().0, graded);
}

#[test]
fn question_types_need_contract_0_2_and_no_storage() {
    let e = env();
    // A question type may not ask for kv (or clock, events): grades must be reproducible.
    let mut m = formula_manifest();
    m.capabilities.kv_quota_bytes = Some(1 << 20);
    assert!(matches!(
        e.host.install(m, &wasm(guests::EXAMPLE_FORMULA_QUESTION), &Default::default()),
        Err(HostError::Manifest(_))
    ));
    // A 0.1 component cannot be a question type.
    let mut m = formula_manifest();
    m.id = "test.grading".into();
    let err = e.host.install(m, &wasm(guests::GRADING_V1), &Default::default()).unwrap_err();
    assert!(matches!(err, HostError::WorldNeedsContract { .. }), "{err}");
    // A 0.2 grader is not a question type: refused for its kv import (a question
    // type gets none), and it lacks the `question-type` export besides.
    let mut m = formula_manifest();
    m.id = "test.grading".into();
    let err = e.host.install(m, &wasm(guests::GRADING_0_2), &Default::default()).unwrap_err();
    assert!(matches!(err, HostError::ImportRefused { .. } | HostError::MissingExport { .. }), "{err}");
    assert!(err.to_string().contains("question_type"), "{err}");
}

fn hostile_manifest() -> Manifest {
    Manifest::parse_json(
        br#"{"id":"test.hostile-question-type","version":"1.0.0","slot":"question_type","data_version":1,
             "resources":{"memory_mib":32,"call_timeout_ms":2000}}"#,
    )
    .unwrap()
}

#[test]
fn a_hostile_question_type_is_contained_call_by_call() {
    let e = env();
    install(&e.host, hostile_manifest(), guests::HOSTILE_QUESTION_TYPE, Scope::Platform);
    let id = "test.hostile-question-type";
    let c = ctx("inst-1");
    let grade = |t: &str| {
        let q = question(t, &json!({}));
        e.host.question_grade(id, &c, &[ToGrade { question: q, instance: "{}".into(), response: None }])
    };
    assert!(matches!(grade("loop"), Err(PluginError::OutOfFuel)), "{:?}", grade("loop"));
    assert!(matches!(grade("memory"), Err(PluginError::MemoryLimit { .. })), "{:?}", grade("memory"));
    assert!(matches!(grade("wrong-count"), Err(PluginError::Contract(_))));
    assert!(matches!(grade("bad-fraction"), Err(PluginError::Contract(m)) if m.contains("outside [0, 1]")));

    // Grading sees a frozen clock and seeded randomness: the same every call.
    let first = grade("clock").unwrap().0;
    assert!(first[0].explanation.contains(&"now 0".to_string()), "{:?}", first[0].explanation);
    assert_eq!(grade("clock").unwrap().0, first);

    // A view larger than the host accepts is refused, not stored.
    let huge = e.host.question_instantiate(id, &c, &question("huge-view", &json!({})), 1);
    assert!(matches!(huge, Err(PluginError::ResultTooLarge { .. })), "{huge:?}");

    // A view that tries script, the session, navigation and a foreign form: sanitised away.
    let (inst, _) = e.host.question_instantiate(id, &c, &question("script-view", &json!({})), 1).unwrap();
    let safe = lectern_host::view::sanitize(&inst.view);
    for gone in [
        "script",
        "onmouseover",
        "cookie",
        "evil",
        "javascript",
        "iframe",
        "style",
        " action=",
        "formaction",
        "id=\"app\"",
    ] {
        assert!(!safe.html.contains(gone), "`{gone}` survived: {}", safe.html);
    }
    assert!(safe.html.contains(r#"<input name="value">"#), "{}", safe.html);
    assert!(safe.html.contains(r#"type="button""#), "{}", safe.html);
    assert!(safe.assets.is_empty(), "a path out of the package is not an asset name");

    // A deliberate refusal is the plugin working (a message for the student), not a fault.
    let refused = e.host.question_validate(id, &c, &question("refuse", &json!({})), "{}", "{}");
    assert!(matches!(refused, Err(PluginError::Guest(ref g)) if g.to_string().contains("in words")), "{refused:?}");

    // Still serving after all that.
    assert!(grade("fine").is_ok(), "the breaker must not have opened: two faults are under its threshold");
}

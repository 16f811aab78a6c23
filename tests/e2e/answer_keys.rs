//! The answer-key and response JSON as the OpenAPI document describes it:
//! typed per question type (every type the grading WIT has), with examples
//! that the API accepts as they stand, and with the fields a rule does not
//! use left out.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::World;
use crate::question_types::{Class, start};

/// Which response kind answers which key type (`docs/question-types.md`).
const ANSWERED_WITH: [(&str, &str); 9] = [
    ("single_choice", "choices"),
    ("multiple_choice", "choices"),
    ("true_false", "boolean"),
    ("numeric", "number"),
    ("short_answer", "text"),
    ("matching", "pairs"),
    ("ordering", "sequence"),
    ("fill_blanks", "blanks"),
    ("essay", "essay"),
];

/// The cases of `variant <name> { … }` in every released grading WIT, in snake_case.
fn wit_cases(name: &str) -> Vec<String> {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut cases = vec![];
    for dir in std::fs::read_dir(&wit).unwrap() {
        let path = dir.unwrap().path().join("grading.wit");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let start = text.find(&format!("variant {name} {{")).unwrap_or_else(|| panic!("{path:?}: no {name}"));
        let body = &text[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
        for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")) {
            let case = line.split(['(', ',']).next().unwrap().trim().replace('-', "_");
            if !cases.contains(&case) {
                cases.push(case);
            }
        }
    }
    assert!(!cases.is_empty(), "no grading WIT under {wit:?}");
    cases
}

/// A `oneOf` schema's variants: the one property each allows → its first example.
fn variants(doc: &Value, schema: &str) -> BTreeMap<String, Value> {
    let s = &doc["components"]["schemas"][schema];
    let one_of = s["oneOf"].as_array().unwrap_or_else(|| panic!("{schema} is not a oneOf: {s}"));
    let mut out = BTreeMap::new();
    for v in one_of {
        assert_eq!(v["type"], "object", "{schema}: {v}");
        let props = v["properties"].as_object().unwrap_or_else(|| panic!("{schema}: untyped variant {v}"));
        assert_eq!(props.len(), 1, "{schema}: {v}");
        let (name, inner) = props.iter().next().unwrap();
        assert_eq!(v["required"], json!([name]), "{schema}: {v}");
        assert!(inner.as_object().is_some_and(|o| !o.is_empty()), "{schema}.{name} is untyped: {v}");
        let example = v["examples"][0].clone();
        assert_eq!(example.as_object().map(|o| o.keys().collect::<Vec<_>>()), Some(vec![name]), "{schema}.{name}");
        out.insert(name.clone(), example);
    }
    out
}

/// `v` with every number as f64, so `150` and `150.0` compare equal.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), numbers_as_f64(v))).collect()),
        v => v.clone(),
    }
}

#[tokio::test]
async fn answer_keys_and_responses_are_typed_and_their_examples_are_accepted() {
    let w = World::new().await;
    let doc = w.root.anonymous().get("/api/v1/openapi.json").await.ok().clone();
    let schemas = &doc["components"]["schemas"];
    let mut keys = variants(&doc, "AnswerKey");
    let mut responses = variants(&doc, "AnswerResponse");

    // Every type and response kind the grader knows, and the one kind it never sees: a
    // plugin's question type (`plugin`, answered with `fields`), graded by its own plugin
    // (tests/e2e/plugin_questions.rs takes one through the exam; no plugin offers one here).
    let mut want = wit_cases("answer-key");
    want.push("plugin".into());
    want.sort();
    assert_eq!(keys.keys().cloned().collect::<Vec<_>>(), want, "AnswerKey against the WIT");
    let mut want = wit_cases("response");
    want.push("fields".into());
    want.sort();
    assert_eq!(responses.keys().cloned().collect::<Vec<_>>(), want, "AnswerResponse against the WIT");
    keys.remove("plugin");
    responses.remove("fields");
    assert_eq!(ANSWERED_WITH.len(), keys.len());
    // The bodies point at them.
    let reference = |schema: &str, field: &str| schemas[schema]["properties"][field]["$ref"].clone();
    assert_eq!(reference("Question", "key"), "#/components/schemas/AnswerKey");
    assert_eq!(reference("SaveAnswer", "response"), "#/components/schemas/AnswerResponse");
    assert_eq!(reference("SavedAnswer", "response"), "#/components/schemas/AnswerResponse");
    let regrade = &schemas["RegradeAssessment"]["properties"]["keys"]["additionalProperties"]["$ref"];
    assert_eq!(*regrade, "#/components/schemas/AnswerKey");

    // One question per type, each key exactly the documented example.
    let class = Class::new(&w, "EX").await;
    let questions: Vec<Value> =
        keys.iter().map(|(ty, key)| json!({"id": ty, "prompt": ty, "points": 1, "key": key})).collect();
    let id = class.assessment(json!({"title": "Examples", "questions": questions})).await;
    let (student, _) = class.student(&w, "examples@alpha.test").await;
    let attempt = start(&student, &id).await;
    let presented = student.get(&attempt).await.ok()["questions"].clone();
    for (ty, kind) in ANSWERED_WITH {
        let q = presented.as_array().unwrap().iter().find(|q| q["id"] == ty).unwrap();
        assert_eq!(q["kind"], ty, "{q}");
        let response = &responses[kind];
        let r = student.put(&format!("{attempt}/answers/{ty}"), json!({"response": response, "version": 1})).await;
        assert_eq!(r.status, 200, "{ty} answered with the `{kind}` example {response}: {}", r.body);
        assert_eq!(numbers_as_f64(&r.body["response"]), numbers_as_f64(response), "{ty}");
    }

    // Keys without the fields their rule does not use; read back with the defaults.
    let minimal = [
        (
            json!({"single_choice": {"options": [{"id": "a", "correct": true}, {"id": "b"}]}}),
            json!({"single_choice": {"rule": "all_or_nothing", "options": [
                {"id": "a", "correct": true, "weight": 0.0, "feedback": null},
                {"id": "b", "correct": false, "weight": 0.0, "feedback": null}]}}),
        ),
        (
            json!({"multiple_choice": {"rule": "per_option_weights", "options": [{"id": "a", "weight": 1}, {"id": "b"}]}}),
            json!({"multiple_choice": {"rule": "per_option_weights", "options": [
                {"id": "a", "correct": false, "weight": 1.0, "feedback": null},
                {"id": "b", "correct": false, "weight": 0.0, "feedback": null}]}}),
        ),
        (
            json!({"numeric": {"value": 9.81}}),
            json!({"numeric": {"value": 9.81, "absolute_tolerance": null, "relative_tolerance": null,
                "units": [], "unit_missing_credit": 0.0}}),
        ),
        (
            json!({"numeric": {"value": 2, "units": [{"name": "m"}]}}),
            json!({"numeric": {"value": 2.0, "absolute_tolerance": null, "relative_tolerance": null,
                "units": [{"name": "m", "factor": 1.0}], "unit_missing_credit": 0.0}}),
        ),
        (
            json!({"short_answer": {"alternatives": [{"pattern": "Paris"}]}}),
            json!({"short_answer": {"alternatives": [{"pattern": "Paris", "regex": false, "credit": 1.0, "feedback": null}],
                "case_sensitive": false, "normalize_whitespace": true}}),
        ),
        (
            json!({"fill_blanks": [{"alternatives": [{"pattern": "x"}]}]}),
            json!({"fill_blanks": [{"alternatives": [{"pattern": "x", "regex": false, "credit": 1.0, "feedback": null}],
                "case_sensitive": false, "normalize_whitespace": true}]}),
        ),
        (
            json!({"essay": [{"id": "t", "points": 2}]}),
            json!({"essay": [{"id": "t", "description": "", "points": 2.0}]}),
        ),
    ];
    let questions: Vec<Value> = minimal
        .iter()
        .enumerate()
        .map(|(i, (key, _))| json!({"id": format!("q{i}"), "points": 1, "key": key}))
        .collect();
    let r = class
        .teacher
        .post(&format!("{}/assessments", class.base), json!({"title": "Minimal", "questions": questions}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let minimal_id = r.body["id"].as_str().unwrap().to_owned();
    let stored = class.teacher.get(&format!("/api/v1/assessments/{minimal_id}")).await.ok()["questions"].clone();
    for (i, (sent, expected)) in minimal.iter().enumerate() {
        assert_eq!(stored[i]["key"], *expected, "sent {sent}");
    }
    // A corrected key in a regrade may leave them out too.
    let r = class
        .teacher
        .post(
            &format!("/api/v1/assessments/{minimal_id}/regrade"),
            json!({"keys": {"q4": {"short_answer": {"alternatives": [{"pattern": "Paris"}, {"pattern": "paname", "credit": 0.5}]}}},
                "reason": "Paname is half right"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let stored =
        class.teacher.get(&format!("/api/v1/assessments/{minimal_id}")).await.ok()["questions"][4]["key"].clone();
    assert_eq!(stored["short_answer"]["alternatives"][1]["credit"], 0.5, "{stored}");
    assert_eq!(stored["short_answer"]["normalize_whitespace"], true, "{stored}");

    // Optional is not lax: a misspelt field is refused, not defaulted.
    let typo = json!({"title": "Typo", "questions": [{"id": "q", "points": 1,
        "key": {"short_answer": {"alternatives": [{"pattern": "a"}], "case_sensitve": true}}}]});
    let r = class.teacher.post(&format!("{}/assessments", class.base), typo).await;
    r.assert_problem(400, "malformed-body");
    assert!(r.body["detail"].as_str().unwrap_or_default().contains("case_sensitve"), "{}", r.body);
    w.server.stop().await.unwrap();
}

//! Every question type over HTTP with the real first-party grading plugin
//! (`plugins/grading`): an instructor authors one quiz covering them all,
//! several students each answer one column of a table of cases, and every
//! student's per-question results in the gradebook must be exactly what
//! `plugins/grading/README.md` specifies. Also the refusals at the save
//! boundary, each of which must leave the saved answers as they were.

use std::time::{Duration, Instant};

use lectern_e2e::Api;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::exam::install_grading_plugin;
use crate::{World, create_user};

/// A published course with an instructor, in institution `alpha`.
pub(crate) struct Class {
    pub teacher: Api,
    /// `/api/v1/institutions/alpha/courses/{id}`.
    pub base: String,
}

impl Class {
    pub(crate) async fn new(w: &World, code: &str) -> Class {
        install_grading_plugin(&w.server).await;
        let a = &w.a.slug;
        let email = format!("prof-{}@alpha.test", code.to_lowercase());
        create_user(&w.a.admin, a, &email, "staff").await;
        let teacher = w.login(a, &email).await;
        let r = teacher
            .post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": code, "title": code, "description": ""}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let base = format!("/api/v1/institutions/{a}/courses/{}", r.body["id"].as_str().unwrap());
        teacher.post_empty(&format!("{base}/publish")).await.ok();
        Class { teacher, base }
    }

    /// A new student enrolled in the course, logged in: `(client, user id)`.
    pub(crate) async fn student(&self, w: &World, email: &str) -> (Api, String) {
        let id = create_user(&w.a.admin, &w.a.slug, email, "member").await;
        self.teacher.post(&format!("{}/enrolments", self.base), json!({"user_id": id, "role": "student"})).await.ok();
        (w.login(&w.a.slug, email).await, id)
    }

    /// Creates and publishes an assessment; returns its id.
    pub(crate) async fn assessment(&self, body: Value) -> String {
        let r = self.teacher.post(&format!("{}/assessments", self.base), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        self.teacher.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();
        id
    }

    /// The student's gradebook entry for `item`, once the grader has written it.
    pub(crate) async fn grade(&self, student: &str, item: &str) -> Value {
        let path = format!("{}/students/{student}/grades", self.base);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.teacher.get(&path).await;
            if let Some(e) = r.ok()["items"].as_array().and_then(|v| v.iter().find(|g| g["item"] == item)) {
                return e.clone();
            }
            assert!(Instant::now() < deadline, "no grade for {student} after 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts an attempt; returns its path `/api/v1/assessments/{id}/attempts/{attempt}`.
pub(crate) async fn start(student: &Api, assessment: &str) -> String {
    let r = student.post(&format!("/api/v1/assessments/{assessment}/attempts"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    format!("/api/v1/assessments/{assessment}/attempts/{}", r.body["id"].as_str().unwrap())
}

fn choice(rule: &str, options: &[(&str, bool, f64)]) -> Value {
    let opts: Vec<Value> = options
        .iter()
        .map(|(id, correct, weight)| json!({"id": id, "correct": correct, "weight": weight, "feedback": null}))
        .collect();
    json!({"options": opts, "rule": rule})
}

fn alt(pattern: &str, regex: bool, credit: f64, feedback: Option<&str>) -> Value {
    json!({"pattern": pattern, "regex": regex, "credit": credit, "feedback": feedback})
}

fn text_key(case_sensitive: bool, normalize_whitespace: bool, alternatives: Vec<Value>) -> Value {
    json!({"alternatives": alternatives, "case_sensitive": case_sensitive, "normalize_whitespace": normalize_whitespace})
}

fn pairs(p: &[(&str, &str)]) -> Value {
    json!({"pairs": p.iter().map(|(l, r)| json!({"left": l, "right": r})).collect::<Vec<_>>()})
}

fn num(value: f64, unit: Option<&str>) -> Value {
    json!({"number": {"value": value, "unit": unit}})
}

/// One question of the quiz: id, points, key.
fn questions() -> Vec<(&'static str, f64, Value)> {
    vec![
        (
            "sc",
            2.0,
            json!({"single_choice": choice("all_or_nothing", &[("a", true, 1.0), ("b", false, 0.0), ("c", false, 0.0)])}),
        ),
        (
            "sc_weights",
            4.0,
            json!({"single_choice": choice("per_option_weights", &[("a", true, 1.0), ("b", false, 0.5), ("c", false, -0.5), ("d", false, 2.0)])}),
        ),
        (
            "mc_all",
            3.0,
            json!({"multiple_choice": choice("all_or_nothing", &[("a", true, 1.0), ("b", true, 1.0), ("c", false, 0.0), ("d", false, 0.0)])}),
        ),
        (
            "mc_rmw",
            6.0,
            json!({"multiple_choice": choice("right_minus_wrong",
                &[("a", true, 1.0), ("b", true, 1.0), ("c", true, 1.0), ("d", false, 0.0), ("e", false, 0.0)])}),
        ),
        (
            "mc_weights",
            4.0,
            json!({"multiple_choice": choice("per_option_weights", &[("a", true, 0.5), ("b", true, 0.5), ("c", false, -0.5), ("d", false, 0.25)])}),
        ),
        ("tf", 1.0, json!({"true_false": false})),
        (
            "num_abs",
            4.0,
            json!({"numeric": {"value": 9.81, "absolute_tolerance": 0.05, "relative_tolerance": null, "units": [], "unit_missing_credit": 0.25}}),
        ),
        (
            "num_zero",
            1.0,
            json!({"numeric": {"value": 0.0, "absolute_tolerance": null, "relative_tolerance": null, "units": [], "unit_missing_credit": 0.0}}),
        ),
        (
            "num_units",
            4.0,
            json!({"numeric": {"value": 1.5, "absolute_tolerance": null, "relative_tolerance": 0.01,
                "units": [{"name": "m", "factor": 1.0}, {"name": "cm", "factor": 0.01}, {"name": "km", "factor": 1000.0}],
                "unit_missing_credit": 0.5}}),
        ),
        (
            "sa",
            2.0,
            json!({"short_answer": text_key(false, true, vec![
                alt("Caf\u{e9} au lait", false, 1.0, Some("Right.")),
                alt(r"colou?r(ed)?\s+milk", true, 0.5, None),
                alt("milk", false, 0.0, Some("Which drink?")),
            ])}),
        ),
        ("sa_exact", 1.0, json!({"short_answer": text_key(true, false, vec![alt("NaCl", false, 1.0, None)])})),
        (
            "matching",
            4.0,
            json!({"matching": [{"left": "fr", "right": "paris"}, {"left": "de", "right": "berlin"},
                {"left": "it", "right": "rome"}, {"left": "es", "right": "madrid"}]}),
        ),
        ("ordering", 6.0, json!({"ordering": ["a", "b", "c", "d"]})),
        (
            "blanks",
            4.0,
            json!({"fill_blanks": [
                text_key(false, true, vec![alt("H2O", false, 1.0, None)]),
                text_key(false, true, vec![alt(r"\d+", true, 1.0, None), alt("hundred", false, 0.5, None)]),
            ]}),
        ),
        ("essay", 5.0, json!({"essay": [{"id": "thesis", "description": "States a clear thesis", "points": 5.0}]})),
    ]
}

/// One cell of the table: the response (`None`: left unanswered), the
/// points and status the plugin must give, and text that must appear in
/// the result's feedback or explanation.
struct Case {
    response: Option<Value>,
    points: f64,
    status: &'static str,
    says: &'static str,
}

fn ok(response: Value, points: f64) -> Case {
    Case { response: Some(response), points, status: "graded", says: "" }
}

fn invalid(response: Value) -> Case {
    Case { response: Some(response), points: 0.0, status: "invalid_response", says: "" }
}

fn unanswered() -> Case {
    Case { response: None, points: 0.0, status: "graded", says: "unanswered" }
}

impl Case {
    fn says(mut self, s: &'static str) -> Case {
        self.says = s;
        self
    }
}

/// Column `k` of a question's row is answered by student `k`; a student
/// beyond the row's length leaves the question unanswered.
fn table() -> Vec<(&'static str, Vec<Case>)> {
    let ch = |ids: &[&str]| json!({ "choices": ids });
    let txt = |s: &str| json!({ "text": s });
    let seq = |ids: &[&str]| json!({ "sequence": ids });
    let bl = |ids: &[&str]| json!({ "blanks": ids });
    vec![
        (
            "sc",
            vec![
                ok(ch(&["a"]), 2.0),
                ok(ch(&["b"]), 0.0),
                ok(ch(&["a", "a"]), 2.0).says("counted once"),
                ok(ch(&[]), 0.0).says("no option chosen"),
                invalid(ch(&["a", "b"])),
                invalid(ch(&["z"])).says("not in the question"),
                invalid(ch(&["A"])),       // ids are compared exactly
                invalid(ch(&["\u{430}"])), // Cyrillic а, not Latin a
                unanswered(),
            ],
        ),
        (
            "sc_weights",
            vec![
                ok(ch(&["a"]), 4.0),
                ok(ch(&["b"]), 2.0),
                ok(ch(&["c"]), 0.0).says("clamped"),
                ok(ch(&["d"]), 4.0).says("clamped"),
                ok(ch(&["b", "b"]), 2.0),
            ],
        ),
        (
            "mc_all",
            vec![
                ok(ch(&["a", "b"]), 3.0),
                ok(ch(&["b", "a"]), 3.0),
                ok(ch(&["a"]), 0.0),
                ok(ch(&["a", "b", "c"]), 0.0),
                ok(ch(&["a", "b", "a", "b"]), 3.0).says("counted once"),
                ok(ch(&[]), 0.0),
                invalid(ch(&["a", "x"])),
            ],
        ),
        (
            "mc_rmw",
            vec![
                ok(ch(&["a", "b", "c"]), 6.0),
                ok(ch(&["a", "b"]), 4.0),
                ok(ch(&["a", "b", "d"]), 2.0),
                ok(ch(&["a", "b", "c", "d", "e"]), 2.0), // choosing everything does not pay
                ok(ch(&["d", "e"]), 0.0),
                ok(ch(&["a", "a", "a"]), 2.0),
                ok(ch(&["a", "d", "e"]), 0.0).says("floored at 0"),
            ],
        ),
        (
            "mc_weights",
            vec![
                ok(ch(&["a", "b"]), 4.0),
                ok(ch(&["a", "c"]), 0.0),
                ok(ch(&["a", "d"]), 3.0),
                ok(ch(&["a", "b", "d"]), 4.0), // 1.25, clamped to 1
                ok(ch(&["c"]), 0.0),
                ok(ch(&["a", "b", "c", "d"]), 3.0),
                ok(ch(&["d", "d"]), 1.0),
            ],
        ),
        ("tf", vec![ok(json!({"boolean": false}), 1.0), ok(json!({"boolean": true}), 0.0), unanswered()]),
        (
            "num_abs",
            vec![
                ok(num(9.81, None), 4.0),
                ok(num(9.86, None), 4.0), // on the bound
                ok(num(9.87, None), 0.0),
                ok(num(9.75, None), 0.0),
                ok(num(1e308, None), 0.0),
                ok(num(-9.81, None), 0.0),
                ok(num(9.81, Some("m/s\u{b2}")), 1.0).says("takes no unit"),
                ok(num(9.81, Some("")), 4.0), // an empty unit is no unit
            ],
        ),
        (
            "num_zero",
            vec![
                ok(num(-0.0, None), 1.0),
                ok(num(0.0, None), 1.0),
                ok(num(1e-300, None), 0.0),
                ok(num(1e308, None), 0.0),
                ok(num(f64::MIN_POSITIVE, None), 0.0),
            ],
        ),
        (
            "num_units",
            vec![
                ok(num(1.5, Some("m")), 4.0),
                ok(num(150.0, Some("cm")), 4.0),
                ok(num(151.0, Some("cm")), 4.0),
                ok(num(152.0, Some("cm")), 0.0),
                ok(num(1.5, None), 2.0).says("without a unit"),
                ok(num(1.5, Some("M")), 2.0).says("unknown unit"), // units are case-sensitive
                ok(num(0.0015, Some("km")), 4.0),
                ok(num(1e308, Some("km")), 0.0).says("overflows"),
                ok(num(150.0, Some(" cm ")), 4.0),
                ok(num(150.0, None), 0.0),
            ],
        ),
        (
            "sa",
            vec![
                ok(txt("caf\u{e9} au lait"), 2.0).says("Right."),
                ok(txt("  CAF\u{c9}   au\u{a0}lait\u{3000}"), 2.0), // case, runs of (no-break, ideographic) spaces
                ok(txt("cafe\u{301} au lait"), 2.0),                // NFD equals NFC
                ok(txt("c\u{430}f\u{e9} au lait"), 0.0),            // Cyrillic а is another letter
                ok(txt("\u{ff43}\u{ff41}f\u{e9} au lait"), 0.0),    // full-width is not NFC-equal
                ok(txt("Colored   milk"), 1.0).says("regular expression"),
                ok(txt("colored milk please"), 0.0), // a regex matches the whole answer
                ok(txt(""), 0.0).says("empty answer"),
                ok(txt(" \t\n "), 0.0).says("empty answer"),
                ok(txt("milk"), 0.0).says("Which drink?"),
                invalid(txt(&"x".repeat(20_000))).says("at most 16384"),
            ],
        ),
        (
            "sa_exact",
            vec![
                ok(txt("NaCl"), 1.0),
                ok(txt("nacl"), 0.0),
                ok(txt(" NaCl"), 0.0),
                ok(txt("Na\u{200b}Cl"), 0.0), // a zero-width space is still a character
            ],
        ),
        (
            "matching",
            vec![
                ok(pairs(&[("fr", "paris"), ("de", "berlin"), ("it", "rome"), ("es", "madrid")]), 4.0),
                ok(pairs(&[("fr", "paris"), ("de", "berlin"), ("it", "rome"), ("es", "rome")]), 3.0),
                ok(pairs(&[("fr", "paris"), ("fr", "paris"), ("de", "berlin")]), 2.0),
                ok(pairs(&[("fr", "paris"), ("fr", "lyon"), ("de", "berlin")]), 1.0),
                ok(pairs(&[("uk", "london"), ("fr", "paris")]), 1.0),
                ok(pairs(&[]), 0.0),
                ok(pairs(&[("es", "madrid"), ("it", "rome"), ("de", "berlin"), ("fr", "paris")]), 4.0),
            ],
        ),
        (
            "ordering",
            vec![
                ok(seq(&["a", "b", "c", "d"]), 6.0),
                ok(seq(&["d", "c", "b", "a"]), 0.0),
                ok(seq(&["b", "c", "d", "a"]), 3.0),
                ok(seq(&["b", "a", "c", "d"]), 5.0),
                invalid(seq(&["a", "b", "c"])),
                invalid(seq(&["a", "a", "b", "c", "d"])),
                invalid(seq(&["a", "b", "c", "x"])),
                ok(seq(&[]), 0.0),
            ],
        ),
        (
            "blanks",
            vec![
                ok(bl(&["h2o", "100"]), 4.0),
                ok(bl(&["H2O"]), 2.0).says("missing blanks earn 0"),
                ok(bl(&["water", "100"]), 2.0),
                ok(bl(&["", ""]), 0.0),
                ok(bl(&["h2o", "hundred"]), 3.0),
                ok(bl(&[" H2O ", "1 0 0"]), 2.0),
                ok(bl(&[]), 0.0),
            ],
        ),
        (
            "essay",
            vec![
                Case {
                    response: Some(json!({"essay": "Because."})),
                    points: 0.0,
                    status: "needs_manual_grading",
                    says: "thesis",
                },
                Case { response: Some(json!({"essay": ""})), points: 0.0, status: "needs_manual_grading", says: "" },
                unanswered(),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_question_type_grades_exactly_as_specified() {
    let w = World::new().await;
    let class = Class::new(&w, "QT").await;
    let qs = questions();
    let max_points: f64 = qs.iter().map(|q| q.1).sum();
    let body = json!({
        "title": "Every type",
        "questions": qs.iter().map(|(id, points, key)| json!({"id": id, "prompt": id, "points": points, "key": key})).collect::<Vec<_>>(),
        "settings": {"attempts_allowed": 1},
    });
    let id = class.assessment(body).await;
    let table = table();
    assert_eq!(table.len(), qs.len(), "one row per question");
    let columns = table.iter().map(|(_, cases)| cases.len()).max().unwrap();
    let unanswered = unanswered();

    // Student k answers column k of every row, then submits.
    let mut students = vec![];
    for k in 0..columns {
        let (api, sid) = class.student(&w, &format!("student{k}@alpha.test")).await;
        let attempt = start(&api, &id).await;
        for (q, cases) in &table {
            if let Some(resp) = cases.get(k).and_then(|c| c.response.clone()) {
                let r = api.put(&format!("{attempt}/answers/{q}"), json!({"response": resp, "version": 1})).await;
                assert_eq!(r.status, 200, "student {k}, {q}: {}", r.body);
            }
        }
        assert_eq!(api.post_empty(&format!("{attempt}/submit")).await.ok()["state"], "submitted");
        students.push(sid);
    }

    let mut failures = vec![];
    for (k, sid) in students.iter().enumerate() {
        let entry = class.grade(sid, &id).await;
        let results = entry["questions"].as_array().unwrap_or_else(|| panic!("no questions: {entry}"));
        assert_eq!(results.len(), qs.len(), "{entry}");
        let mut total = 0.0;
        let mut manual = false;
        for ((q, cases), (_, points, _)) in table.iter().zip(&qs) {
            let case = cases.get(k).unwrap_or(&unanswered);
            let got = results.iter().find(|r| r["question_id"] == *q).unwrap_or_else(|| panic!("{q} missing: {entry}"));
            let said = format!("{} {}", got["feedback"], got["explanation"]);
            let points_got = got["points"].as_f64().unwrap_or(f64::NAN);
            if (points_got - case.points).abs() > 1e-9
                || got["status"] != case.status
                || got["max_points"] != *points
                || !said.contains(case.says)
            {
                failures.push(format!(
                    "{q} column {k} ({}): expected {} {} saying {:?}, got {points_got} {} of {}: {said}",
                    case.response.as_ref().map_or("unanswered".into(), Value::to_string),
                    case.points,
                    case.status,
                    case.says,
                    got["status"],
                    got["max_points"],
                ));
            }
            total += case.points;
            manual |= case.status == "needs_manual_grading";
        }
        // The entry sums the questions; with an essay answered it waits for a person.
        let status = if manual { "needs_manual_grading" } else { "graded" };
        if (entry["points"].as_f64().unwrap_or(f64::NAN) - total).abs() > 1e-4
            || entry["max_points"] != max_points
            || entry["status"] != status
        {
            failures.push(format!(
                "column {k} in total: expected {total} of {max_points} {status}, got {} of {} {}",
                entry["points"], entry["max_points"], entry["status"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) graded otherwise than specified:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.server.stop().await.unwrap();
}

/// A save the kernel refuses changes nothing: the answers read back the same.
#[tokio::test]
async fn refused_saves_leave_the_answers_unchanged() {
    let w = World::new().await;
    let class = Class::new(&w, "BAD").await;
    let qs = questions();
    let body = json!({
        "title": "Boundary",
        "questions": qs.iter().map(|(id, points, key)| json!({"id": id, "points": points, "key": key})).collect::<Vec<_>>(),
    });
    let id = class.assessment(body).await;
    let (student, _) = class.student(&w, "edge@alpha.test").await;
    let attempt = start(&student, &id).await;
    let save = |q: &str, response: Value, version: u64| {
        let (student, path) = (student.clone(), format!("{attempt}/answers/{q}"));
        async move { student.put(&path, json!({"response": response, "version": version})).await }
    };

    // Extreme numbers that are still numbers are accepted as given.
    save("num_abs", num(1e308, None), 1).await.ok();
    let r = save("num_zero", num(-0.0, None), 1).await;
    assert!(r.ok()["response"]["number"]["value"].as_f64().unwrap().is_sign_negative(), "{}", r.body);
    save("tf", json!({"boolean": true}), 1).await.ok();
    save("sa", json!({"text": "caf\u{e9}"}), 1).await.ok();
    save("blanks", json!({"blanks": ["h2o", "1"]}), 1).await.ok();
    save("mc_all", json!({"choices": ["a"]}), 1).await.ok();
    let answers = || {
        let (student, attempt) = (student.clone(), attempt.clone());
        async move { student.get(&attempt).await.ok()["answers"].clone() }
    };
    let before = answers().await;
    assert_eq!(before["num_abs"]["response"], num(1e308, None));
    assert_eq!(before.as_object().unwrap().len(), 6, "{before}");

    // Unknown question.
    save("nope", json!({"text": "x"}), 2).await.assert_problem(404, "not-found");
    // Answers of the wrong type for the question.
    save("tf", json!({"text": "false"}), 2).await.assert_problem(422, "validation");
    save("num_abs", json!({"text": "9.81"}), 2).await.assert_problem(422, "validation");
    save("sc", json!({"boolean": true}), 2).await.assert_problem(422, "validation");
    save("essay", json!({"text": "an essay in the short-answer shape"}), 2).await.assert_problem(422, "validation");
    // Oversized answers.
    save("sa", json!({"text": "x".repeat(100_001)}), 2).await.assert_problem(422, "validation");
    let many: Vec<String> = (0..1_001).map(|i| format!("o{i}")).collect();
    save("mc_all", json!({"choices": many}), 2).await.assert_problem(422, "validation");
    save("blanks", json!({"blanks": ["h2o", "1", "extra"]}), 2).await.assert_problem(422, "validation");
    // Bodies that are not a save at all.
    save("num_abs", json!({"number": {"value": "9.81", "unit": null}}), 2).await.assert_problem(400, "malformed-body");
    save("tf", json!({"yes_no": true}), 2).await.assert_problem(400, "malformed-body");
    let raw = |q: &str, body: &'static str| {
        let mut req =
            student.http.put(format!("{}{attempt}/answers/{q}", student.base)).header(CONTENT_TYPE, "application/json");
        if let Some(t) = &student.token {
            req = req.bearer_auth(t);
        }
        Api::finish(req.body(body))
    };
    raw("sa", r#"{"response": {"text": "cafe"}, "version": "#).await.assert_problem(400, "malformed-body");
    raw("sa", "not json").await.assert_problem(400, "malformed-body");
    // NaN has no JSON spelling; a number too large for f64 is the nearest a client gets to ∞.
    raw("num_abs", r#"{"response": {"number": {"value": 1e999, "unit": null}}, "version": 2}"#)
        .await
        .assert_problem(400, "malformed-body");
    raw("num_abs", r#"{"response": {"number": {"value": NaN, "unit": null}}, "version": 2}"#)
        .await
        .assert_problem(400, "malformed-body");

    assert_eq!(answers().await, before, "a refused save changed the saved answers");
    w.server.stop().await.unwrap();
}

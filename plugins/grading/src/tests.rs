//! Whole submissions through `grade_batch`, the function the export calls:
//! one `check(key, response, points, status)` table across every question
//! type, then penalties, scaling, broken questions and the explanation end
//! to end. The per-type rules are tested next to their code.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{
    AnswerKey, ChoiceKey, ChoiceOption, Graded, MultiRule, NumericKey, NumericResponse, Pair, Penalties, Question,
    Response, RubricCriterion, Status, Submission, TextAlternative, TextKey, Unit,
};

use crate::grade_batch;

const NO_PENALTIES: Penalties = Penalties {
    previous_tries: 0,
    per_try: 0.0,
    hints_used: 0,
    per_hint: 0.0,
    late_seconds: 0,
    per_late_day: 0.0,
    max_total: 1.0,
};

fn submission(key: &AnswerKey, points: f64, response: Option<Response>, penalties: Penalties) -> Submission {
    Submission { question: Question { id: "q1".into(), key: key.clone(), points }, response, penalties }
}

fn grade_one(s: Submission) -> Graded {
    let mut out = grade_batch(&[s]);
    assert_eq!(out.len(), 1);
    out.remove(0)
}

/// Grades `response` against `key` for a question worth 2 points, without
/// penalties, and checks the points, the status and the result's invariants.
fn check(key: &AnswerKey, response: Option<Response>, points: f64, status: Status) -> Graded {
    let got = grade_one(submission(key, 2.0, response.clone(), NO_PENALTIES));
    // Points are rounded to 9 decimals (`outcome::tidy`), hence the margin.
    assert!((got.points - points).abs() < 1e-9, "{response:?}: {} != {points}: {:#?}", got.points, got.explanation);
    assert_eq!(got.status, status, "{response:?}: {:#?}", got.explanation);
    invariants(&got);
    got
}

/// What the WIT promises of every result.
fn invariants(g: &Graded) {
    assert!(g.max_points.is_finite() && g.max_points >= 0.0, "{g:?}");
    assert!((0.0..=g.max_points).contains(&g.points), "{g:?}");
    assert!((0.0..=1.0).contains(&g.raw_fraction), "{g:?}");
    if g.status != Status::Graded {
        assert_eq!(g.points, 0.0, "{g:?}");
    }
    assert!(!g.explanation.is_empty());
    assert!(g.explanation.iter().all(|s| !s.contains('\n') && s.len() < 2000), "{g:?}");
}

fn choice_key(options: &[(&str, bool)], rule: MultiRule) -> ChoiceKey {
    ChoiceKey {
        options: options
            .iter()
            .map(|&(id, correct)| ChoiceOption {
                id: id.into(),
                correct,
                weight: if correct { 0.5 } else { -0.5 },
                feedback: None,
            })
            .collect(),
        rule,
    }
}

fn text_key(alts: &[(&str, bool, f64)]) -> TextKey {
    TextKey {
        alternatives: alts
            .iter()
            .map(|&(p, regex, credit)| TextAlternative { pattern: p.into(), regex, credit, feedback: None })
            .collect(),
        case_sensitive: false,
        normalize_whitespace: true,
    }
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<Pair> {
    p.iter().map(|&(l, r)| Pair { left: l.into(), right: r.into() }).collect()
}

fn number(value: f64, unit: Option<&str>) -> Option<Response> {
    Some(Response::Number(NumericResponse { value, unit: unit.map(Into::into) }))
}

#[test]
fn every_question_type() {
    use Status::{Graded, InvalidResponse, NeedsManualGrading};
    let single = AnswerKey::SingleChoice(choice_key(&[("a", false), ("b", true)], MultiRule::AllOrNothing));
    let multi =
        AnswerKey::MultipleChoice(choice_key(&[("a", true), ("b", true), ("c", false)], MultiRule::RightMinusWrong));
    let tf = AnswerKey::TrueFalse(false);
    let numeric = AnswerKey::Numeric(NumericKey {
        value: 9.81,
        absolute_tolerance: Some(0.05),
        relative_tolerance: None,
        units: vec![Unit { name: "m/s²".into(), factor: 1.0 }, Unit { name: "cm/s²".into(), factor: 0.01 }],
        unit_missing_credit: 0.5,
    });
    let short = AnswerKey::ShortAnswer(text_key(&[("Canberra", false, 1.0), ("sydney", false, 0.0)]));
    let matching = AnswerKey::Matching(pairs(&[("H", "1"), ("He", "2")]));
    let ordering = AnswerKey::Ordering(strings(&["1", "2", "3"]));
    let blanks = AnswerKey::FillBlanks(vec![text_key(&[("x", false, 1.0)]), text_key(&[("y", false, 1.0)])]);
    let essay = AnswerKey::Essay(vec![RubricCriterion { id: "c1".into(), description: "Thesis".into(), points: 2.0 }]);

    let cases: Vec<(&AnswerKey, Option<Response>, f64, Status)> = vec![
        (&single, Some(Response::Choices(strings(&["b"]))), 2.0, Graded),
        (&single, Some(Response::Choices(strings(&["a"]))), 0.0, Graded),
        (&single, Some(Response::Choices(vec![])), 0.0, Graded),
        (&single, Some(Response::Choices(strings(&["a", "b"]))), 0.0, InvalidResponse),
        (&multi, Some(Response::Choices(strings(&["a"]))), 1.0, Graded),
        (&multi, Some(Response::Choices(strings(&["a", "a", "b"]))), 2.0, Graded),
        (&multi, Some(Response::Choices(strings(&["a", "b", "c"]))), 1.0, Graded),
        (&multi, Some(Response::Choices(strings(&["z"]))), 0.0, InvalidResponse),
        (&tf, Some(Response::Boolean(false)), 2.0, Graded),
        (&tf, Some(Response::Boolean(true)), 0.0, Graded),
        (&numeric, number(9.8, Some("m/s²")), 2.0, Graded),
        (&numeric, number(981.0, Some("cm/s²")), 2.0, Graded),
        (&numeric, number(9.8, None), 1.0, Graded),
        (&numeric, number(9.0, Some("m/s²")), 0.0, Graded),
        (&numeric, number(f64::NAN, Some("m/s²")), 0.0, InvalidResponse),
        (&numeric, number(f64::MAX, Some("cm/s²")), 0.0, Graded),
        (&short, Some(Response::Text(" canberra ".into())), 2.0, Graded),
        (&short, Some(Response::Text("Sydney".into())), 0.0, Graded),
        (&short, Some(Response::Text("".into())), 0.0, Graded),
        (&matching, Some(Response::Pairs(pairs(&[("H", "1"), ("He", "1")]))), 1.0, Graded),
        (&ordering, Some(Response::Sequence(strings(&["1", "3", "2"]))), 4.0 / 3.0, Graded),
        (&ordering, Some(Response::Sequence(strings(&["1", "2"]))), 0.0, InvalidResponse),
        (&blanks, Some(Response::Blanks(strings(&["X", "z"]))), 1.0, Graded),
        (&blanks, Some(Response::Blanks(strings(&["x"]))), 1.0, Graded),
        (&essay, Some(Response::Essay("My essay".into())), 0.0, NeedsManualGrading),
        // The wrong kind of response for the key.
        (&tf, Some(Response::Text("false".into())), 0.0, InvalidResponse),
        (&short, Some(Response::Essay("Canberra".into())), 0.0, InvalidResponse),
        (&essay, Some(Response::Text("My essay".into())), 0.0, InvalidResponse),
        (&numeric, Some(Response::Text("9.81".into())), 0.0, InvalidResponse),
    ];
    for (key, response, points, status) in cases {
        check(key, response, points, status);
    }
    // Unanswered: graded 0 for every type, essays included.
    for key in [&single, &multi, &tf, &numeric, &short, &matching, &ordering, &blanks, &essay] {
        let got = check(key, None, 0.0, Graded);
        assert_eq!(got.explanation[1], "unanswered: scored 0");
    }
}

#[test]
fn explanation_end_to_end() {
    let key =
        AnswerKey::MultipleChoice(choice_key(&[("a", true), ("b", true), ("c", false)], MultiRule::RightMinusWrong));
    let penalties = Penalties { previous_tries: 1, per_try: 0.1, hints_used: 2, per_hint: 0.05, ..NO_PENALTIES };
    let got = grade_one(submission(&key, 4.0, Some(Response::Choices(strings(&["a", "b", "b"]))), penalties));
    assert_eq!(
        got.explanation,
        [
            "multiple-choice question worth 4 points",
            "chosen more than once, counted once: `b`",
            "chose `a`, `b`",
            "right-minus-wrong: (2 right − 0 wrong) / 2 correct = 1",
            "penalty: 1 previous try × 0.1 = 0.1",
            "penalty: 2 hints × 0.05 = 0.1",
            "total penalty 0.2",
            "points: 1 × (1 − 0.2) × 4 = 3.2 of 4",
        ]
    );
    assert_eq!((got.points, got.max_points, got.raw_fraction), (3.2, 4.0, 1.0));
    assert_eq!(got.question_id, "q1");
}

#[test]
fn penalties_stack_cap_and_scale() {
    let key = AnswerKey::TrueFalse(true);
    let right = || Some(Response::Boolean(true));
    let day = 24 * 60 * 60;
    let cases = [
        (NO_PENALTIES, 10.0, 10.0),
        (Penalties { previous_tries: 2, per_try: 0.25, ..NO_PENALTIES }, 10.0, 5.0),
        (Penalties { previous_tries: 2, per_try: 0.25, hints_used: 1, per_hint: 0.1, ..NO_PENALTIES }, 10.0, 4.0),
        (Penalties { late_seconds: 1, per_late_day: 0.1, ..NO_PENALTIES }, 10.0, 9.0),
        (Penalties { late_seconds: 3 * day, per_late_day: 0.1, ..NO_PENALTIES }, 10.0, 7.0),
        (Penalties { late_seconds: 3 * day + 1, per_late_day: 0.1, ..NO_PENALTIES }, 10.0, 6.0),
        (Penalties { previous_tries: 9, per_try: 0.25, max_total: 0.3, ..NO_PENALTIES }, 10.0, 7.0),
        (Penalties { previous_tries: 9, per_try: 0.25, max_total: 3.0, ..NO_PENALTIES }, 10.0, 0.0),
        (Penalties { previous_tries: 1, per_try: 0.5, ..NO_PENALTIES }, 0.5, 0.25),
        (Penalties { previous_tries: 1, per_try: 0.5, ..NO_PENALTIES }, 0.0, 0.0),
        (NO_PENALTIES, 1e300, 1e300),
    ];
    for (penalties, worth, points) in cases {
        let got = grade_one(submission(&key, worth, right(), penalties));
        assert!((got.points - points).abs() < 1e-9 * worth.max(1.0), "{penalties:?}: {:#?}", got);
        assert_eq!((got.status, got.max_points), (Status::Graded, worth));
        invariants(&got);
    }
    // A wrong answer with broken penalty rates is simply 0: nothing to reduce.
    let broken = Penalties { per_try: f64::NAN, ..NO_PENALTIES };
    let got = grade_one(submission(&key, 1.0, Some(Response::Boolean(false)), broken));
    assert_eq!((got.status, got.points), (Status::Graded, 0.0));
    // A right one goes to a person, with the raw credit already worked out.
    let got = grade_one(submission(&key, 1.0, right(), broken));
    assert_eq!((got.status, got.points, got.raw_fraction), (Status::NeedsManualGrading, 0.0, 1.0));
    assert_eq!(
        got.explanation.last().map(String::as_str),
        Some(
            "the penalty per-try is NaN; it must be a finite number ≥ 0: a person must apply the penalties to the raw credit 1 (0 points for now)"
        )
    );
}

#[test]
fn unusable_questions_go_to_a_person() {
    let tf = AnswerKey::TrueFalse(true);
    for worth in [f64::NAN, -1.0, f64::INFINITY] {
        let got = grade_one(submission(&tf, worth, Some(Response::Boolean(true)), NO_PENALTIES));
        assert_eq!((got.status, got.points, got.max_points), (Status::NeedsManualGrading, 0.0, 0.0), "{worth}");
        invariants(&got);
    }
    // A broken key is reported whatever the response, even none.
    let bad = AnswerKey::ShortAnswer(text_key(&[("[", true, 1.0)]));
    for response in [None, Some(Response::Text("[".into())), Some(Response::Boolean(true))] {
        let got = grade_one(submission(&bad, 3.0, response, NO_PENALTIES));
        assert_eq!((got.status, got.points, got.max_points), (Status::NeedsManualGrading, 0.0, 3.0));
        assert!(
            got.explanation[1]
                .starts_with("the answer key cannot be applied: alternative 1 is not a usable regular expression")
        );
        invariants(&got);
    }
    // A worthless question is fine: 0 of 0.
    let got = grade_one(submission(&tf, 0.0, Some(Response::Boolean(true)), NO_PENALTIES));
    assert_eq!((got.status, got.points, got.raw_fraction), (Status::Graded, 0.0, 1.0));
}

#[test]
fn essays_list_the_rubric() {
    let key = AnswerKey::Essay(vec![
        RubricCriterion { id: "thesis".into(), description: "States a clear thesis".into(), points: 4.0 },
        RubricCriterion { id: "evidence".into(), description: "Cites two sources".into(), points: 6.0 },
    ]);
    let got = check(&key, Some(Response::Essay("…".into())), 0.0, Status::NeedsManualGrading);
    assert_eq!(
        got.explanation,
        [
            "essay question worth 2 points",
            "essay: needs a person, graded against the rubric",
            "rubric `thesis`: States a clear thesis (4 points)",
            "rubric `evidence`: Cites two sources (6 points)",
            "rubric total 10 points",
        ]
    );
    assert_eq!(got.max_points, 2.0);
}

#[test]
fn batches_keep_order_and_are_deterministic() {
    let keys = [
        AnswerKey::TrueFalse(true),
        AnswerKey::Ordering(strings(&["a", "b"])),
        AnswerKey::Matching(pairs(&[("x", "1"), ("y", "2"), ("z", "3")])),
    ];
    let batch: Vec<Submission> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let response = match k {
                AnswerKey::TrueFalse(_) => Response::Boolean(true),
                AnswerKey::Ordering(_) => Response::Sequence(strings(&["b", "a"])),
                _ => Response::Pairs(pairs(&[("z", "3"), ("q", "9"), ("y", "1"), ("x", "1")])),
            };
            let mut s = submission(k, 1.0, Some(response), NO_PENALTIES);
            s.question.id = format!("q{i}");
            s
        })
        .collect();
    let first = grade_batch(&batch);
    let ids: Vec<&str> = first.iter().map(|g| g.question_id.as_str()).collect();
    assert_eq!(ids, ["q0", "q1", "q2"]);
    for _ in 0..3 {
        assert_eq!(format!("{:?}", grade_batch(&batch)), format!("{first:?}"));
    }
    assert!(grade_batch(&[]).is_empty());
}

#[test]
fn hostile_responses_stay_small() {
    // A megabyte option id: invalid, and the explanation quotes 40 characters of it.
    let key = AnswerKey::SingleChoice(choice_key(&[("a", true)], MultiRule::AllOrNothing));
    let huge = "x".repeat(1 << 20);
    let got =
        check(&key, Some(Response::Choices(vec![huge.clone(), huge.clone() + "y"])), 0.0, Status::InvalidResponse);
    assert!(got.explanation.iter().map(String::len).sum::<usize>() < 500, "{:?}", got.explanation);
    let key = AnswerKey::ShortAnswer(text_key(&[("a", false, 1.0)]));
    let got = check(&key, Some(Response::Text(huge.clone())), 0.0, Status::InvalidResponse);
    assert!(got.explanation.iter().map(String::len).sum::<usize>() < 500);
    let key = AnswerKey::Ordering(strings(&["a", "b"]));
    let many: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    check(&key, Some(Response::Sequence(many)), 0.0, Status::InvalidResponse);
}

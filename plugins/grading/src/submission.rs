//! One submission from start to finish: check the question, apply its key
//! to the response, apply penalties, scale to points, and explain each step.
//!
//! Status and points follow from where grading stops:
//! - the question's points or its key cannot be used → `needs-manual-grading`,
//!   0 points, the reason in the explanation (a person must look anyway);
//! - no response → `graded`, 0 points ("unanswered");
//! - a response of another kind than the key's, or one the key's type
//!   cannot read → `invalid-response`, 0 points;
//! - an essay → `needs-manual-grading`, 0 points, the rubric listed;
//! - otherwise `graded`, and points = raw × (1 − penalty) × question points,
//!   clamped to [0, points]. Penalty rates that cannot be used send the
//!   question to a person with the raw fraction already worked out.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{
    AnswerKey, Feedback, Graded, Question, Response, RubricCriterion, Status, Submission,
};

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, exact, num, points, quote, tidy};
use crate::{blanks, choice, matching, numeric, ordering, penalty, text};

pub fn grade(s: &Submission) -> Graded {
    let q = &s.question;
    let mut explanation = vec![format!("{} question worth {}", kind(&q.key), points(q.points))];
    // Points the kernel may add up: a NaN or negative worth would poison
    // the attempt's total, so such a question counts as worth 0.
    if !(q.points.is_finite() && q.points >= 0.0) {
        explanation.push(format!(
            "the question is worth {}, not a finite number ≥ 0: a person must grade it (counted as worth 0)",
            points(q.points)
        ));
        return result(q, Status::NeedsManualGrading, 0.0, 0.0, 0.0, vec![], explanation);
    }
    let outcome = match apply_key(&q.key, s.response.as_ref()) {
        Ok(o) => o,
        Err(KeyError(reason)) => {
            explanation.push(format!("the answer key cannot be applied: {reason}; a person must grade this question"));
            return result(q, Status::NeedsManualGrading, q.points, 0.0, 0.0, vec![], explanation);
        }
    };
    explanation.extend(outcome.explanation);
    if outcome.status != Status::Graded {
        return result(q, outcome.status, q.points, 0.0, 0.0, outcome.feedback, explanation);
    }
    let raw = outcome.raw;
    if raw == 0.0 {
        explanation.push(format!("points: 0 of {}", exact(q.points)));
        return result(q, Status::Graded, q.points, 0.0, 0.0, outcome.feedback, explanation);
    }
    let pen = match penalty::penalty(&s.penalties) {
        Ok(pen) => pen,
        Err(KeyError(reason)) => {
            explanation.push(format!(
                "{reason}: a person must apply the penalties to the raw credit {} (0 points for now)",
                num(raw)
            ));
            return result(q, Status::NeedsManualGrading, q.points, raw, 0.0, outcome.feedback, explanation);
        }
    };
    explanation.extend(pen.explanation);
    // raw ≤ 1 and the penalty fraction is in [0, 1], so this is already in
    // [0, points] before `tidy`; the clamp guards the invariant the WIT
    // promises after rounding.
    let earned = tidy(raw * (1.0 - pen.fraction) * q.points).clamp(0.0, q.points);
    explanation.push(if pen.fraction > 0.0 {
        format!(
            "points: {} × (1 − {}) × {} = {} of {}",
            num(raw),
            num(pen.fraction),
            exact(q.points),
            num(earned),
            exact(q.points)
        )
    } else {
        format!("points: {} × {} = {} of {}", num(raw), exact(q.points), num(earned), exact(q.points))
    });
    result(q, Status::Graded, q.points, raw, earned, outcome.feedback, explanation)
}

fn result(
    q: &Question,
    status: Status,
    max_points: f64,
    raw: f64,
    points: f64,
    feedback: Vec<Feedback>,
    explanation: Vec<String>,
) -> Graded {
    Graded { question_id: q.id.clone(), status, points, max_points, raw_fraction: raw, feedback, explanation }
}

/// The key's type as the WIT spells it, for the first explanation line.
fn kind(key: &AnswerKey) -> &'static str {
    match key {
        AnswerKey::SingleChoice(_) => "single-choice",
        AnswerKey::MultipleChoice(_) => "multiple-choice",
        AnswerKey::TrueFalse(_) => "true-false",
        AnswerKey::Numeric(_) => "numeric",
        AnswerKey::ShortAnswer(_) => "short-answer",
        AnswerKey::Matching(_) => "matching",
        AnswerKey::Ordering(_) => "ordering",
        AnswerKey::FillBlanks(_) => "fill-blanks",
        AnswerKey::Essay(_) => "essay",
    }
}

/// The response variant a key expects, as the WIT spells it.
fn expected(key: &AnswerKey) -> &'static str {
    match key {
        AnswerKey::SingleChoice(_) | AnswerKey::MultipleChoice(_) => "choices",
        AnswerKey::TrueFalse(_) => "boolean",
        AnswerKey::Numeric(_) => "number",
        AnswerKey::ShortAnswer(_) => "text",
        AnswerKey::Matching(_) => "pairs",
        AnswerKey::Ordering(_) => "sequence",
        AnswerKey::FillBlanks(_) => "blanks",
        AnswerKey::Essay(_) => "essay",
    }
}

fn given(response: &Response) -> &'static str {
    match response {
        Response::Choices(_) => "choices",
        Response::Boolean(_) => "boolean",
        Response::Number(_) => "number",
        Response::Text(_) => "text",
        Response::Pairs(_) => "pairs",
        Response::Sequence(_) => "sequence",
        Response::Blanks(_) => "blanks",
        Response::Essay(_) => "essay",
    }
}

/// Checks a key without a response to apply it to, so that a broken key is
/// reported whether or not the student answered.
fn validate(key: &AnswerKey) -> Result<(), KeyError> {
    match key {
        AnswerKey::SingleChoice(k) => choice::validate(k, choice::Kind::Single),
        AnswerKey::MultipleChoice(k) => choice::validate(k, choice::Kind::Multiple),
        AnswerKey::TrueFalse(_) | AnswerKey::Essay(_) => Ok(()),
        AnswerKey::Numeric(k) => numeric::validate(k),
        AnswerKey::ShortAnswer(k) => text::compile(k).map(drop),
        AnswerKey::Matching(k) => matching::validate(k),
        AnswerKey::Ordering(k) => ordering::validate(k),
        AnswerKey::FillBlanks(k) => blanks::compile(k).map(drop),
    }
}

fn apply_key(key: &AnswerKey, response: Option<&Response>) -> Result<Outcome, KeyError> {
    let Some(response) = response else {
        validate(key)?;
        return Ok(Outcome::unanswered());
    };
    match (key, response) {
        (AnswerKey::SingleChoice(k), Response::Choices(c)) => choice::grade_single(k, c),
        (AnswerKey::MultipleChoice(k), Response::Choices(c)) => choice::grade_multiple(k, c),
        (AnswerKey::TrueFalse(k), Response::Boolean(b)) => Ok(true_false(*k, *b)),
        (AnswerKey::Numeric(k), Response::Number(n)) => numeric::grade(k, n),
        (AnswerKey::ShortAnswer(k), Response::Text(t)) => text::grade_short_answer(k, t),
        (AnswerKey::Matching(k), Response::Pairs(p)) => matching::grade(k, p),
        (AnswerKey::Ordering(k), Response::Sequence(s)) => ordering::grade(k, s),
        (AnswerKey::FillBlanks(k), Response::Blanks(b)) => blanks::grade(k, b),
        (AnswerKey::Essay(rubric), Response::Essay(_)) => Ok(essay(rubric)),
        (key, response) => {
            validate(key)?;
            Ok(Outcome::invalid(format!(
                "a {} question takes a `{}` response, not `{}`",
                kind(key),
                expected(key),
                given(response)
            )))
        }
    }
}

fn true_false(key: bool, answer: bool) -> Outcome {
    let right = key == answer;
    Outcome::graded(
        if right { 1.0 } else { 0.0 },
        vec![format!("answered {answer}, {}: credit {}", if right { "right" } else { "wrong" }, u8::from(right))],
    )
}

/// Essays are never scored automatically: the grader routes them to a
/// person and lists the rubric so the explanation is useful to them.
fn essay(rubric: &[RubricCriterion]) -> Outcome {
    let mut explanation = vec!["essay: needs a person, graded against the rubric".to_owned()];
    if rubric.is_empty() {
        explanation.push("the key has no rubric criteria".into());
    }
    // Bounded like everything echoed: a rubric is written by an author, but
    // the result size limit applies to the whole attempt.
    for c in rubric.iter().take(MAX_ITEMS) {
        explanation.push(format!("rubric {}: {} ({})", quote(&c.id), cut(&c.description, 500), points(c.points)));
    }
    if rubric.len() > MAX_ITEMS {
        explanation.push(format!("and {} more criteria", rubric.len() - MAX_ITEMS));
    }
    let total: f64 = rubric.iter().map(|c| c.points).sum();
    if !rubric.is_empty() {
        explanation.push(format!("rubric total {}", points(total)));
    }
    Outcome { status: Status::NeedsManualGrading, raw: 0.0, feedback: Vec::new(), explanation }
}

/// At most `max` characters of `s`, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

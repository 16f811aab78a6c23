//! Single-choice and multiple-choice questions (`answer-key::single-choice`
//! and `::multiple-choice`, answered with `response::choices`).
//!
//! The response is a set: an option chosen twice counts once (the
//! explanation says so, because a client that sends duplicates is probably
//! buggy and an instructor reading the grade should know). An option id the
//! key does not have makes the whole response invalid rather than being
//! ignored: it means the student saw a different question than the key
//! describes, and silently scoring the rest could hide that.

use std::collections::BTreeSet;

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{ChoiceKey, ChoiceOption, Feedback, MultiRule};

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, feedback, key_error, list, num, plural, quote};

/// Which of the two choice keys is being checked: they share a record type
/// but not the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Single,
    Multiple,
}

/// Rejects a key that cannot be applied: no options, duplicate option ids
/// (which one did the author mean?), non-finite weights where the rule uses
/// them, and no correct option where the rule needs one (right-minus-wrong
/// would divide by zero; all-or-nothing would demand the empty selection,
/// which always scores 0).
pub fn validate(key: &ChoiceKey, kind: Kind) -> Result<(), KeyError> {
    if key.options.is_empty() {
        return key_error("the key has no options");
    }
    if key.options.len() > MAX_ITEMS {
        return key_error(format!("the key has {} options; at most {MAX_ITEMS}", key.options.len()));
    }
    let mut ids = BTreeSet::new();
    for o in &key.options {
        if !ids.insert(o.id.as_str()) {
            return key_error(format!("option id {} appears twice in the key", quote(&o.id)));
        }
    }
    if key.rule == MultiRule::PerOptionWeights {
        if let Some(o) = key.options.iter().find(|o| !o.weight.is_finite()) {
            return key_error(format!("option {} has weight {}, not a finite number", quote(&o.id), o.weight));
        }
    } else if !key.options.iter().any(|o| o.correct) {
        let kind = if kind == Kind::Single { "single-choice" } else { "multiple-choice" };
        return key_error(format!("the {kind} key marks no option correct"));
    }
    Ok(())
}

/// The chosen options in key order, after removing duplicates; or why the
/// selection is invalid. Key order (not response order) keeps feedback and
/// explanations stable however a client orders its list.
struct Selection<'k> {
    chosen: Vec<&'k ChoiceOption>,
    notes: Vec<String>,
}

fn select<'k>(key: &'k ChoiceKey, response: &[String]) -> Result<Selection<'k>, Outcome> {
    if response.len() > MAX_ITEMS {
        return Err(Outcome::invalid(format!("{} options chosen; at most {MAX_ITEMS}", response.len())));
    }
    let known: BTreeSet<&str> = key.options.iter().map(|o| o.id.as_str()).collect();
    // BTreeSet, not HashSet: nothing here may depend on hashing order.
    let mut seen = BTreeSet::new();
    let mut duplicates = BTreeSet::new();
    let mut unknown = Vec::new();
    for id in response {
        if !seen.insert(id.as_str()) {
            duplicates.insert(id.as_str());
        } else if !known.contains(id.as_str()) {
            unknown.push(id.as_str());
        }
    }
    if !unknown.is_empty() {
        return Err(Outcome::invalid(format!(
            "{} not in the question: {}",
            if unknown.len() == 1 { "option is" } else { "options are" },
            list(unknown)
        )));
    }
    let mut notes = Vec::new();
    if !duplicates.is_empty() {
        notes.push(format!("chosen more than once, counted once: {}", list(duplicates)));
    }
    let chosen: Vec<&ChoiceOption> = key.options.iter().filter(|o| seen.contains(o.id.as_str())).collect();
    Ok(Selection { chosen, notes })
}

/// The author's feedback for each chosen option that has some.
fn option_feedback(chosen: &[&ChoiceOption]) -> Vec<Feedback> {
    chosen.iter().filter_map(|o| o.feedback.as_deref().map(|m| feedback(Some(o.id.clone()), m))).collect()
}

/// Single choice: one option. Under `all-or-nothing` and `right-minus-wrong`
/// a correct option earns 1 and any other 0; several options marked correct
/// are alternatives, any one of them earns 1. Under `per-option-weights` the
/// chosen option's weight, clamped to [0, 1], is the credit, so an author
/// can give half credit to a nearly-right option.
pub fn grade_single(key: &ChoiceKey, response: &[String]) -> Result<Outcome, KeyError> {
    validate(key, Kind::Single)?;
    let sel = match select(key, response) {
        Ok(sel) => sel,
        Err(invalid) => return Ok(invalid),
    };
    let mut explanation = sel.notes;
    let option = match sel.chosen.as_slice() {
        [] => {
            explanation.push("no option chosen: scored 0".into());
            return Ok(Outcome::graded(0.0, explanation));
        }
        [one] => *one,
        many => {
            return Ok(Outcome::invalid(format!(
                "single-choice question, but {} chosen: {}",
                plural(many.len(), "option"),
                list(many.iter().map(|o| o.id.as_str()))
            )));
        }
    };
    let raw = if key.rule == MultiRule::PerOptionWeights {
        let raw = option.weight.clamp(0.0, 1.0);
        explanation.push(format!(
            "chose {}, weight {}{}: credit {}",
            quote(&option.id),
            num(option.weight),
            if raw == option.weight { "" } else { " clamped to [0, 1]" },
            num(raw)
        ));
        raw
    } else if option.correct {
        explanation.push(format!("chose {}, a correct option: credit 1", quote(&option.id)));
        1.0
    } else {
        explanation.push(format!("chose {}, not a correct option: credit 0", quote(&option.id)));
        0.0
    };
    Ok(Outcome::graded(raw, explanation).with_feedback(option_feedback(&sel.chosen)))
}

/// Multiple choice, by the key's rule:
/// - `all-or-nothing`: 1 if exactly the correct options are chosen, else 0;
/// - `right-minus-wrong`: (right − wrong) / correct, floored at 0, where
///   `right` and `wrong` count chosen correct and chosen incorrect options
///   and `correct` all correct options of the key; so choosing everything
///   does not pay;
/// - `per-option-weights`: the sum of the chosen options' weights, clamped
///   to [0, 1]; `correct` flags are ignored.
///
/// An empty selection scores 0 under every rule.
pub fn grade_multiple(key: &ChoiceKey, response: &[String]) -> Result<Outcome, KeyError> {
    validate(key, Kind::Multiple)?;
    let sel = match select(key, response) {
        Ok(sel) => sel,
        Err(invalid) => return Ok(invalid),
    };
    let mut explanation = sel.notes;
    if sel.chosen.is_empty() {
        explanation.push("no option chosen: scored 0".into());
        return Ok(Outcome::graded(0.0, explanation));
    }
    explanation.push(format!("chose {}", list(sel.chosen.iter().map(|o| o.id.as_str()))));
    let correct = key.options.iter().filter(|o| o.correct).count();
    let right = sel.chosen.iter().filter(|o| o.correct).count();
    let wrong = sel.chosen.len() - right;
    let raw = match key.rule {
        MultiRule::AllOrNothing => {
            let all = right == correct && wrong == 0;
            explanation.push(format!(
                "all-or-nothing: {right} of {correct} correct options and {} chosen: credit {}",
                plural(wrong, "incorrect option"),
                if all { 1 } else { 0 }
            ));
            if all { 1.0 } else { 0.0 }
        }
        MultiRule::RightMinusWrong => {
            // `correct` ≥ 1: `validate` refuses a key without a correct option.
            let raw = ((right as f64 - wrong as f64) / correct as f64).max(0.0);
            explanation.push(format!(
                "right-minus-wrong: ({right} right − {wrong} wrong) / {correct} correct = {}{}",
                num((right as f64 - wrong as f64) / correct as f64),
                if right < wrong { ", floored at 0" } else { "" }
            ));
            raw
        }
        MultiRule::PerOptionWeights => {
            let sum: f64 = sel.chosen.iter().map(|o| o.weight).sum();
            let terms: Vec<String> = sel.chosen.iter().map(|o| format!("{} {}", quote(&o.id), num(o.weight))).collect();
            let raw = sum.clamp(0.0, 1.0);
            explanation.push(format!(
                "per-option weights: {} = {}{}",
                terms.join(" + "),
                num(sum),
                if raw == sum { String::new() } else { format!(", clamped to {}", num(raw)) }
            ));
            raw
        }
    };
    Ok(Outcome::graded(raw, explanation).with_feedback(option_feedback(&sel.chosen)))
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Status;

    use super::*;

    /// `(id, correct, weight)`; every option has feedback `fb ID`.
    fn key(rule: MultiRule, options: &[(&str, bool, f64)]) -> ChoiceKey {
        ChoiceKey {
            options: options
                .iter()
                .map(|&(id, correct, weight)| ChoiceOption {
                    id: id.into(),
                    correct,
                    weight,
                    feedback: Some(format!("fb {id}")),
                })
                .collect(),
            rule,
        }
    }

    fn check(kind: Kind, key: &ChoiceKey, chosen: &[&str], raw: f64, status: Status) -> Outcome {
        let chosen: Vec<String> = chosen.iter().map(|s| s.to_string()).collect();
        let got = match kind {
            Kind::Single => grade_single(key, &chosen),
            Kind::Multiple => grade_multiple(key, &chosen),
        }
        .expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{chosen:?}: {:?}", got.explanation);
        got
    }

    const ABCD: &[(&str, bool, f64)] = &[("a", true, 0.5), ("b", true, 0.5), ("c", false, -0.25), ("d", false, 0.0)];

    #[test]
    fn multiple_choice_rules() {
        use Status::{Graded, InvalidResponse};
        let cases: &[(MultiRule, &[&str], f64, Status)] = &[
            (MultiRule::AllOrNothing, &["a", "b"], 1.0, Graded),
            (MultiRule::AllOrNothing, &["b", "a"], 1.0, Graded),
            (MultiRule::AllOrNothing, &["a"], 0.0, Graded),
            (MultiRule::AllOrNothing, &["a", "b", "c"], 0.0, Graded),
            (MultiRule::AllOrNothing, &[], 0.0, Graded),
            (MultiRule::RightMinusWrong, &["a", "b"], 1.0, Graded),
            (MultiRule::RightMinusWrong, &["a"], 0.5, Graded),
            (MultiRule::RightMinusWrong, &["a", "c"], 0.0, Graded),
            (MultiRule::RightMinusWrong, &["a", "b", "c"], 0.5, Graded),
            (MultiRule::RightMinusWrong, &["a", "b", "c", "d"], 0.0, Graded),
            (MultiRule::RightMinusWrong, &["c", "d"], 0.0, Graded),
            (MultiRule::RightMinusWrong, &[], 0.0, Graded),
            (MultiRule::PerOptionWeights, &["a"], 0.5, Graded),
            (MultiRule::PerOptionWeights, &["a", "b"], 1.0, Graded),
            (MultiRule::PerOptionWeights, &["a", "b", "c"], 0.75, Graded),
            (MultiRule::PerOptionWeights, &["c"], 0.0, Graded),
            (MultiRule::PerOptionWeights, &["c", "d"], 0.0, Graded),
            (MultiRule::PerOptionWeights, &[], 0.0, Graded),
            (MultiRule::AllOrNothing, &["a", "zz"], 0.0, InvalidResponse),
            (MultiRule::RightMinusWrong, &["A"], 0.0, InvalidResponse),
        ];
        for &(rule, chosen, raw, status) in cases {
            check(Kind::Multiple, &key(rule, ABCD), chosen, raw, status);
        }
    }

    #[test]
    fn weights_clamp_above_one() {
        let k = key(MultiRule::PerOptionWeights, &[("a", true, 0.8), ("b", true, 0.8)]);
        let got = check(Kind::Multiple, &k, &["a", "b"], 1.0, Status::Graded);
        assert_eq!(got.explanation, ["chose `a`, `b`", "per-option weights: `a` 0.8 + `b` 0.8 = 1.6, clamped to 1"]);
    }

    #[test]
    fn duplicates_count_once_and_are_explained() {
        let k = key(MultiRule::RightMinusWrong, ABCD);
        let got = check(Kind::Multiple, &k, &["a", "a", "a"], 0.5, Status::Graded);
        assert_eq!(got.explanation[0], "chosen more than once, counted once: `a`");
        // Choosing a wrong option twice costs it once.
        check(Kind::Multiple, &k, &["a", "b", "c", "c"], 0.5, Status::Graded);
        let k = key(MultiRule::PerOptionWeights, ABCD);
        check(Kind::Multiple, &k, &["a", "a"], 0.5, Status::Graded);
    }

    #[test]
    fn feedback_for_each_chosen_option_in_key_order() {
        let got = check(Kind::Multiple, &key(MultiRule::RightMinusWrong, ABCD), &["c", "a"], 0.0, Status::Graded);
        let fb: Vec<(Option<&str>, &str)> =
            got.feedback.iter().map(|f| (f.target.as_deref(), f.message.as_str())).collect();
        assert_eq!(fb, [(Some("a"), "fb a"), (Some("c"), "fb c")]);
    }

    #[test]
    fn unknown_options_are_named() {
        let got =
            check(Kind::Multiple, &key(MultiRule::AllOrNothing, ABCD), &["a", "x", "y"], 0.0, Status::InvalidResponse);
        assert_eq!(got.explanation, ["invalid response: options are not in the question: `x`, `y`; scored 0"]);
        assert!(got.feedback.is_empty());
    }

    #[test]
    fn single_choice() {
        use Status::{Graded, InvalidResponse};
        let k = key(MultiRule::AllOrNothing, &[("a", false, 0.0), ("b", true, 1.0), ("c", false, 0.5)]);
        let cases: &[(&[&str], f64, Status)] = &[
            (&["b"], 1.0, Graded),
            (&["a"], 0.0, Graded),
            (&[], 0.0, Graded),
            (&["b", "b"], 1.0, Graded),
            (&["a", "b"], 0.0, InvalidResponse),
            (&["q"], 0.0, InvalidResponse),
        ];
        for &(chosen, raw, status) in cases {
            check(Kind::Single, &k, chosen, raw, status);
        }
        let got = check(Kind::Single, &k, &["a"], 0.0, Graded);
        assert_eq!(got.feedback[0].message, "fb a");
        // Weights give partial credit to a nearly-right option.
        let w = ChoiceKey { rule: MultiRule::PerOptionWeights, ..k.clone() };
        check(Kind::Single, &w, &["c"], 0.5, Graded);
        check(Kind::Single, &w, &["b"], 1.0, Graded);
        // Two correct options are alternatives.
        let two = key(MultiRule::AllOrNothing, &[("a", true, 0.0), ("b", true, 0.0), ("c", false, 0.0)]);
        check(Kind::Single, &two, &["a"], 1.0, Graded);
        check(Kind::Single, &two, &["b"], 1.0, Graded);
    }

    #[test]
    fn unusable_keys() {
        let check_err = |k: ChoiceKey, kind: Kind, want: &str| {
            assert_eq!(validate(&k, kind), Err(KeyError(want.into())));
            let got = if kind == Kind::Single { grade_single(&k, &[]) } else { grade_multiple(&k, &[]) };
            assert_eq!(got.unwrap_err(), KeyError(want.into()));
        };
        check_err(key(MultiRule::AllOrNothing, &[]), Kind::Multiple, "the key has no options");
        check_err(
            key(MultiRule::AllOrNothing, &[("a", true, 0.0), ("a", false, 0.0)]),
            Kind::Single,
            "option id `a` appears twice in the key",
        );
        check_err(
            key(MultiRule::PerOptionWeights, &[("a", true, f64::NAN)]),
            Kind::Multiple,
            "option `a` has weight NaN, not a finite number",
        );
        check_err(
            key(MultiRule::RightMinusWrong, &[("a", false, 1.0)]),
            Kind::Multiple,
            "the multiple-choice key marks no option correct",
        );
        // Weights do not need a correct flag, and NaN weights do not matter
        // to rules that ignore weights.
        assert_eq!(validate(&key(MultiRule::PerOptionWeights, &[("a", false, 1.0)]), Kind::Multiple), Ok(()));
        assert_eq!(validate(&key(MultiRule::AllOrNothing, &[("a", true, f64::NAN)]), Kind::Multiple), Ok(()));
    }
}

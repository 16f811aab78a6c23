//! Matching questions (`answer-key::matching`, answered with
//! `response::pairs`): connect each left item to a right item.
//!
//! Credit is the fraction of the key's pairs the response reproduces. Wrong
//! pairs cost nothing beyond the credit they do not earn: a student who
//! guesses every pair is already scored by how many guesses were right.
//! Two cases need a rule:
//! - A left item paired more than once: identical repeats count once; two
//!   *different* rights for the same left make that left wrong, because
//!   otherwise pairing every left with every right would score full marks.
//! - A left item the key does not have: it earns nothing and is named in
//!   the explanation, but does not invalidate the response (unlike an
//!   unknown choice option, a stray pair cannot change what the other
//!   pairs mean).

use std::collections::{BTreeMap, BTreeSet};

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Pair;

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, key_error, list, num, quote};

/// Unusable: no pairs, or a left item listed twice (the key would not say
/// which right is correct). Two lefts may share a right (sorting items into
/// categories is a matching question too).
pub fn validate(key: &[Pair]) -> Result<(), KeyError> {
    if key.is_empty() {
        return key_error("the key has no pairs");
    }
    if key.len() > MAX_ITEMS {
        return key_error(format!("the key has {} pairs; at most {MAX_ITEMS}", key.len()));
    }
    let mut lefts = BTreeSet::new();
    for p in key {
        if !lefts.insert(p.left.as_str()) {
            return key_error(format!("left item {} appears twice in the key", quote(&p.left)));
        }
    }
    Ok(())
}

pub fn grade(key: &[Pair], response: &[Pair]) -> Result<Outcome, KeyError> {
    validate(key)?;
    if response.len() > MAX_ITEMS {
        return Ok(Outcome::invalid(format!("{} pairs; at most {MAX_ITEMS}", response.len())));
    }
    let expected: BTreeMap<&str, &str> = key.iter().map(|p| (p.left.as_str(), p.right.as_str())).collect();
    // Every distinct right given for each left, in a deterministic order.
    let mut given: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    let mut repeated = BTreeSet::new();
    for p in response {
        if !expected.contains_key(p.left.as_str()) {
            unknown.insert(p.left.as_str());
        } else if !given.entry(p.left.as_str()).or_default().insert(p.right.as_str()) {
            repeated.insert(p.left.as_str());
        }
    }
    let mut explanation = Vec::new();
    if response.is_empty() {
        explanation.push("no pairs given: credit 0".into());
        return Ok(Outcome::graded(0.0, explanation));
    }
    if !repeated.is_empty() {
        explanation.push(format!("the same pair given more than once, counted once, for {}", list(repeated)));
    }
    let contradictory: Vec<&str> = given.iter().filter(|(_, r)| r.len() > 1).map(|(l, _)| *l).collect();
    if !contradictory.is_empty() {
        explanation.push(format!("paired with more than one item, so wrong: {}", list(contradictory)));
    }
    if !unknown.is_empty() {
        explanation.push(format!("not in the question, ignored: {}", list(unknown)));
    }
    let right = expected.iter().filter(|(l, r)| given.get(*l).is_some_and(|g| g.len() == 1 && g.contains(*r))).count();
    let wrong: Vec<&str> =
        given.iter().filter(|(l, g)| g.len() == 1 && !g.contains(expected[*l])).map(|(l, _)| *l).collect();
    if !wrong.is_empty() {
        explanation.push(format!("wrongly paired: {}", list(wrong)));
    }
    let raw = right as f64 / key.len() as f64;
    explanation.push(format!("{right} of {} pairs right: credit {}", key.len(), num(raw)));
    Ok(Outcome::graded(raw, explanation))
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Status;

    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<Pair> {
        p.iter().map(|&(l, r)| Pair { left: l.into(), right: r.into() }).collect()
    }

    fn check(key: &[(&str, &str)], response: &[(&str, &str)], raw: f64, status: Status) -> Outcome {
        let got = grade(&pairs(key), &pairs(response)).expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{response:?}: {:?}", got.explanation);
        got
    }

    const KEY: &[(&str, &str)] = &[("fr", "Paris"), ("de", "Berlin"), ("it", "Rome"), ("es", "Madrid")];

    #[test]
    fn credit_by_pairs() {
        use Status::Graded;
        let cases: &[(&[(&str, &str)], f64)] = &[
            (&[("fr", "Paris"), ("de", "Berlin"), ("it", "Rome"), ("es", "Madrid")], 1.0),
            (&[("es", "Madrid"), ("it", "Rome"), ("de", "Berlin"), ("fr", "Paris")], 1.0),
            (&[("fr", "Paris"), ("de", "Rome"), ("it", "Berlin")], 0.25),
            (&[("fr", "Paris"), ("fr", "Paris")], 0.25),
            // Hedging: both rights for one left earns nothing for it.
            (&[("fr", "Paris"), ("fr", "Berlin"), ("de", "Berlin")], 0.25),
            (&[("fr", "Paris"), ("xx", "Paris")], 0.25),
            (&[("fr", "paris")], 0.0),
            (&[], 0.0),
        ];
        for &(response, raw) in cases {
            check(KEY, response, raw, Graded);
        }
        // Shared rights in the key.
        check(
            &[("cat", "mammal"), ("dog", "mammal"), ("eel", "fish")],
            &[("cat", "mammal"), ("dog", "mammal"), ("eel", "mammal")],
            2.0 / 3.0,
            Graded,
        );
    }

    #[test]
    fn explanations() {
        let got = check(
            KEY,
            &[("fr", "Paris"), ("fr", "Paris"), ("de", "Rome"), ("de", "Berlin"), ("xx", "Oslo"), ("it", "Madrid")],
            0.25,
            Status::Graded,
        );
        assert_eq!(
            got.explanation,
            [
                "the same pair given more than once, counted once, for `fr`",
                "paired with more than one item, so wrong: `de`",
                "not in the question, ignored: `xx`",
                "wrongly paired: `it`",
                "1 of 4 pairs right: credit 0.25",
            ]
        );
    }

    #[test]
    fn unusable_keys() {
        assert_eq!(grade(&[], &[]).unwrap_err(), KeyError("the key has no pairs".into()));
        assert_eq!(
            grade(&pairs(&[("a", "1"), ("a", "2")]), &[]).unwrap_err(),
            KeyError("left item `a` appears twice in the key".into())
        );
    }
}

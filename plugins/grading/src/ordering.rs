//! Ordering questions (`answer-key::ordering`, answered with
//! `response::sequence`): put items in the right order.
//!
//! Credit is Kendall-style: the fraction of the n(n − 1)/2 pairs of items
//! whose relative order in the response is the key's. Unlike "items in the
//! right position", one item moved from first to last costs only the n − 1
//! pairs it is part of, not every position, which matches how people judge
//! an almost-right order. A fully reversed order scores 0.
//!
//! The response must be a permutation of the key's items (each exactly
//! once); anything else is invalid, because relative order is meaningless
//! for a missing or repeated item. An empty sequence is an unanswered
//! question, scored 0.

use std::collections::{BTreeMap, BTreeSet};

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, key_error, list, num, quote};

/// Unusable: no items, or an item listed twice.
pub fn validate(key: &[String]) -> Result<(), KeyError> {
    if key.is_empty() {
        return key_error("the key has no items");
    }
    if key.len() > MAX_ITEMS {
        return key_error(format!("the key has {} items; at most {MAX_ITEMS}", key.len()));
    }
    let mut seen = BTreeSet::new();
    for item in key {
        if !seen.insert(item.as_str()) {
            return key_error(format!("item {} appears twice in the key", quote(item)));
        }
    }
    Ok(())
}

pub fn grade(key: &[String], response: &[String]) -> Result<Outcome, KeyError> {
    validate(key)?;
    if response.is_empty() {
        return Ok(Outcome::graded(0.0, vec!["no order given: credit 0".into()]));
    }
    if response.len() > MAX_ITEMS {
        return Ok(Outcome::invalid(format!("{} items; at most {MAX_ITEMS}", response.len())));
    }
    let rank: BTreeMap<&str, usize> = key.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let mut seen = BTreeSet::new();
    let (mut unknown, mut repeated) = (BTreeSet::new(), BTreeSet::new());
    for item in response {
        if !rank.contains_key(item.as_str()) {
            unknown.insert(item.as_str());
        } else if !seen.insert(item.as_str()) {
            repeated.insert(item.as_str());
        }
    }
    let missing: Vec<&str> = key.iter().map(String::as_str).filter(|s| !seen.contains(s)).collect();
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(format!("not in the question: {}", list(unknown)));
    }
    if !repeated.is_empty() {
        problems.push(format!("given more than once: {}", list(repeated)));
    }
    if !missing.is_empty() {
        problems.push(format!("missing: {}", list(missing)));
    }
    if !problems.is_empty() {
        return Ok(Outcome::invalid(format!("not an order of the question's items ({})", problems.join("; "))));
    }

    // A permutation: each response position mapped to the item's key rank.
    let ranks: Vec<usize> = response.iter().map(|s| rank[s.as_str()]).collect();
    let n = ranks.len();
    let total = n * (n - 1) / 2;
    if total == 0 {
        return Ok(Outcome::graded(1.0, vec!["a single item is always in order: credit 1".into()]));
    }
    // O(n²) with n ≤ MAX_ITEMS: at most half a million comparisons, simpler
    // to check than a merge-sort inversion count.
    let mut concordant = 0usize;
    for i in 0..n {
        for j in i + 1..n {
            if ranks[i] < ranks[j] {
                concordant += 1;
            }
        }
    }
    let raw = concordant as f64 / total as f64;
    let misplaced: Vec<&str> = response.iter().zip(key).filter(|(r, k)| r != k).map(|(r, _)| r.as_str()).collect();
    let mut explanation =
        vec![format!("{concordant} of {total} item pairs in the right relative order: credit {}", num(raw))];
    if !misplaced.is_empty() {
        explanation.insert(0, format!("not in their key position: {}", list(misplaced)));
    }
    Ok(Outcome::graded(raw, explanation))
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Status;

    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn check(key: &[&str], response: &[&str], raw: f64, status: Status) -> Outcome {
        let got = grade(&strings(key), &strings(response)).expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{response:?}: {:?}", got.explanation);
        got
    }

    #[test]
    fn kendall_credit() {
        use Status::{Graded, InvalidResponse};
        let key = &["a", "b", "c", "d"];
        let cases: &[(&[&str], f64, Status)] = &[
            (&["a", "b", "c", "d"], 1.0, Graded),
            (&["b", "a", "c", "d"], 5.0 / 6.0, Graded),
            // The first item moved last: 3 of 6 pairs broken.
            (&["b", "c", "d", "a"], 0.5, Graded),
            (&["d", "c", "b", "a"], 0.0, Graded),
            (&[], 0.0, Graded),
            (&["a", "b", "c"], 0.0, InvalidResponse),
            (&["a", "b", "c", "d", "e"], 0.0, InvalidResponse),
            (&["a", "a", "c", "d"], 0.0, InvalidResponse),
            (&["a", "b", "c", "D"], 0.0, InvalidResponse),
        ];
        for &(response, raw, status) in cases {
            check(key, response, raw, status);
        }
        check(&["only"], &["only"], 1.0, Graded);
        check(&["x", "y"], &["y", "x"], 0.0, Graded);
    }

    #[test]
    fn explanations() {
        let got = check(&["a", "b", "c"], &["a", "c", "b"], 2.0 / 3.0, Status::Graded);
        assert_eq!(
            got.explanation,
            ["not in their key position: `c`, `b`", "2 of 3 item pairs in the right relative order: credit 0.6667"]
        );
        let got = check(&["a", "b", "c"], &["a", "a", "x"], 0.0, Status::InvalidResponse);
        assert_eq!(
            got.explanation,
            [
                "invalid response: not an order of the question's items (not in the question: `x`; given more than once: `a`; missing: `b`, `c`); scored 0"
            ]
        );
    }

    #[test]
    fn the_largest_order_is_cheap_enough() {
        let key: Vec<String> = (0..MAX_ITEMS).map(|i| format!("i{i}")).collect();
        let reversed: Vec<String> = key.iter().rev().cloned().collect();
        let got = grade(&key, &reversed).expect("key is valid");
        assert_eq!(got.raw, 0.0);
        assert_eq!(grade(&key, &key).expect("key is valid").raw, 1.0);
    }

    #[test]
    fn unusable_keys() {
        assert_eq!(grade(&[], &[]).unwrap_err(), KeyError("the key has no items".into()));
        assert_eq!(
            grade(&strings(&["a", "a"]), &[]).unwrap_err(),
            KeyError("item `a` appears twice in the key".into())
        );
    }
}

//! Numeric questions (`answer-key::numeric`, answered with
//! `response::number`).
//!
//! Floating point needs three decisions the WIT leaves open:
//! - **Rounding slack.** "Exact" and the tolerance bounds are widened by 4
//!   units in the last place of the larger magnitude, so that `30 cm` ×
//!   0.01 = 0.30000000000000004 still equals a key of 0.3, and 1.1 is within
//!   0.1 of 1.0 (the subtraction gives 0.10000000000000009). Four ulps is
//!   far below any tolerance a person would set.
//! - **Non-finite numbers** (NaN, ±∞) in a response are invalid: they are
//!   not answers to a question about a quantity, and they must never
//!   compare equal to anything. A finite response whose conversion
//!   overflows (1e308 km in metres) is a wrong answer, not a crash.
//! - **Negative zero** is zero: IEEE 754 already compares −0 == 0.

use std::collections::BTreeSet;

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{NumericKey, NumericResponse};
use unicode_normalization::UnicodeNormalization;

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, exact, key_error, num, quote, sig};

const SLACK_ULPS: f64 = 4.0;

/// Unit names compare after NFC and trimming, and case-sensitively: `mS`
/// (millisiemens) and `ms` (milliseconds) are different units.
fn unit_name(s: &str) -> String {
    s.trim().nfc().collect()
}

/// Rejects a key that cannot be applied: a non-finite value, a negative or
/// non-finite tolerance, a unit with an empty name, a duplicate name, or a
/// factor that is not a positive finite number (it would turn every answer
/// into 0 or NaN), and a `unit-missing-credit` outside [0, 1].
pub fn validate(key: &NumericKey) -> Result<(), KeyError> {
    if !key.value.is_finite() {
        return key_error(format!("the key's value is {}, not a finite number", key.value));
    }
    for (name, tolerance) in [("absolute", key.absolute_tolerance), ("relative", key.relative_tolerance)] {
        if let Some(t) = tolerance
            && !(t.is_finite() && t >= 0.0)
        {
            return key_error(format!("the {name} tolerance is {t}; it must be a finite number ≥ 0"));
        }
    }
    if key.units.len() > MAX_ITEMS {
        return key_error(format!("the key has {} units; at most {MAX_ITEMS}", key.units.len()));
    }
    let mut names = BTreeSet::new();
    for unit in &key.units {
        let name = unit_name(&unit.name);
        if name.is_empty() {
            return key_error("a unit of the key has an empty name");
        }
        if !(unit.factor.is_finite() && unit.factor > 0.0) {
            return key_error(format!(
                "unit {} has factor {}; it must be a finite number > 0",
                quote(&name),
                unit.factor
            ));
        }
        if !names.insert(name.clone()) {
            return key_error(format!("unit {} appears twice in the key", quote(&name)));
        }
    }
    let c = key.unit_missing_credit;
    if !(0.0..=1.0).contains(&c) {
        return key_error(format!("unit-missing-credit is {c}; it must be between 0 and 1"));
    }
    Ok(())
}

/// Grades a number:
/// 1. The unit. With no units in the key the response must have none. With
///    units, the response's unit must be one of them, and its value is
///    multiplied by that unit's factor to get the key's unit. A missing or
///    unknown unit (or any unit when the key has none) leaves the number as
///    given and caps the credit at `unit-missing-credit`.
/// 2. The number. Within `absolute-tolerance` or within
///    `relative-tolerance` × |value| (either is enough); with neither set,
///    equal (up to rounding slack, see the module comment).
/// 3. Credit: 1 for a right number with a right unit, `unit-missing-credit`
///    for a right number without one, 0 for a wrong number.
pub fn grade(key: &NumericKey, response: &NumericResponse) -> Result<Outcome, KeyError> {
    validate(key)?;
    let given = response.value;
    if !given.is_finite() {
        return Ok(Outcome::invalid(format!("{} is not a finite number", exact(given))));
    }
    // An empty or blank unit is no unit: clients send "" for an empty field.
    let unit = response.unit.as_deref().map(unit_name).filter(|u| !u.is_empty());
    let mut explanation = Vec::new();
    let (value, unit_ok) = match (&unit, key.units.as_slice()) {
        (None, []) => {
            explanation.push(format!("answer {}", exact(given)));
            (given, true)
        }
        (Some(u), []) => {
            explanation.push(format!(
                "answer {} {}; the question takes no unit, so the number is compared as given",
                exact(given),
                quote(u)
            ));
            (given, false)
        }
        (None, _) => {
            explanation.push(format!("answer {} without a unit; compared as if in the key's unit", exact(given)));
            (given, false)
        }
        (Some(u), units) => match units.iter().find(|k| unit_name(&k.name) == *u) {
            Some(k) => {
                let converted = given * k.factor;
                if k.factor == 1.0 {
                    explanation.push(format!("answer {} {}", exact(given), quote(u)));
                } else {
                    explanation.push(format!(
                        "answer {} {} × {} = {} in the key's unit",
                        exact(given),
                        quote(u),
                        exact(k.factor),
                        sig(converted)
                    ));
                }
                (converted, true)
            }
            None => {
                explanation.push(format!(
                    "answer {} {}: unknown unit; compared as if in the key's unit",
                    exact(given),
                    quote(u)
                ));
                (given, false)
            }
        },
    };
    if !value.is_finite() {
        explanation.push("the converted value overflows: wrong, credit 0".into());
        return Ok(Outcome::graded(0.0, explanation));
    }

    let diff = (value - key.value).abs();
    let slack = SLACK_ULPS * f64::EPSILON * value.abs().max(key.value.abs());
    let mut bounds = Vec::new();
    let mut within = false;
    if let Some(a) = key.absolute_tolerance {
        bounds.push(format!("± {}", exact(a)));
        within |= diff <= a + slack;
    }
    if let Some(r) = key.relative_tolerance {
        let bound = r * key.value.abs();
        bounds.push(format!("± {} ({}%)", sig(bound), sig(r * 100.0)));
        within |= diff <= bound + slack;
    }
    if bounds.is_empty() {
        within = diff <= slack;
        explanation.push(format!("key {} exactly: {}", exact(key.value), if within { "equal" } else { "not equal" }));
    } else {
        explanation.push(format!(
            "key {} {}: off by {}, {}",
            exact(key.value),
            bounds.join(" or "),
            sig(diff),
            if within { "within tolerance" } else { "outside tolerance" }
        ));
    }
    let raw = match (within, unit_ok) {
        (false, _) => 0.0,
        (true, true) => 1.0,
        (true, false) => key.unit_missing_credit,
    };
    if within && !unit_ok {
        explanation.push(format!("right number, unit missing or wrong: unit-missing-credit {}", num(raw)));
    }
    explanation.push(format!("credit {}", num(raw)));
    Ok(Outcome::graded(raw, explanation))
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{Status, Unit};

    use super::*;

    fn key(value: f64, abs: Option<f64>, rel: Option<f64>, units: &[(&str, f64)], missing: f64) -> NumericKey {
        NumericKey {
            value,
            absolute_tolerance: abs,
            relative_tolerance: rel,
            units: units.iter().map(|&(n, f)| Unit { name: n.into(), factor: f }).collect(),
            unit_missing_credit: missing,
        }
    }

    fn check(key: &NumericKey, value: f64, unit: Option<&str>, raw: f64, status: Status) -> Outcome {
        let got = grade(key, &NumericResponse { value, unit: unit.map(Into::into) }).expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{value} {unit:?}: {:?}", got.explanation);
        got
    }

    #[test]
    fn tolerances() {
        use Status::{Graded, InvalidResponse};
        let exact_key = key(0.3, None, None, &[], 0.0);
        let abs = key(1.0, Some(0.1), None, &[], 0.0);
        let rel = key(200.0, None, Some(0.01), &[], 0.0);
        let both = key(100.0, Some(0.5), Some(0.02), &[], 0.0);
        let zero = key(0.0, None, None, &[], 0.0);
        let cases: &[(&NumericKey, f64, f64, Status)] = &[
            (&exact_key, 0.3, 1.0, Graded),
            (&exact_key, 0.1 + 0.2, 1.0, Graded),
            (&exact_key, 0.3001, 0.0, Graded),
            (&abs, 1.1, 1.0, Graded),
            (&abs, 0.9, 1.0, Graded),
            (&abs, 1.1001, 0.0, Graded),
            (&rel, 202.0, 1.0, Graded),
            (&rel, 197.99, 0.0, Graded),
            // Either tolerance is enough: 2 % of 100 is wider than ± 0.5.
            (&both, 101.9, 1.0, Graded),
            (&both, 102.1, 0.0, Graded),
            (&zero, -0.0, 1.0, Graded),
            (&zero, 5e-324, 0.0, Graded),
            (&exact_key, f64::NAN, 0.0, InvalidResponse),
            (&exact_key, f64::INFINITY, 0.0, InvalidResponse),
            (&exact_key, f64::NEG_INFINITY, 0.0, InvalidResponse),
            (&abs, 1e308, 0.0, Graded),
            (&abs, -f64::MAX, 0.0, Graded),
            (&rel, f64::MAX, 0.0, Graded),
        ];
        for &(k, value, raw, status) in cases {
            check(k, value, None, raw, status);
        }
        // Negative zero in the key too, and explained as plain 0.
        let got = check(&key(-0.0, None, None, &[], 0.0), 0.0, None, 1.0, Graded);
        assert_eq!(got.explanation, ["answer 0", "key 0 exactly: equal", "credit 1"]);
    }

    #[test]
    fn units() {
        use Status::Graded;
        let k = key(1.5, Some(0.01), None, &[("m", 1.0), ("cm", 0.01), ("km", 1000.0)], 0.5);
        let cases: &[(f64, Option<&str>, f64)] = &[
            (1.5, Some("m"), 1.0),
            (150.0, Some("cm"), 1.0),
            (150.0, Some(" cm "), 1.0),
            (0.0015, Some("km"), 1.0),
            (1.5, Some("cm"), 0.0),
            (1.5, None, 0.5),
            (1.5, Some(""), 0.5),
            (1.5, Some("furlong"), 0.5),
            // Units are case-sensitive.
            (1.5, Some("M"), 0.5),
            (150.0, None, 0.0),
            (1e308, Some("km"), 0.0),
        ];
        for &(value, unit, raw) in cases {
            check(&k, value, unit, raw, Graded);
        }
        let got = check(&k, 150.0, Some("cm"), 1.0, Graded);
        assert_eq!(got.explanation[0], "answer 150 `cm` × 0.01 = 1.5 in the key's unit");
        let got = check(&k, 1e308, Some("km"), 0.0, Graded);
        assert_eq!(got.explanation[1], "the converted value overflows: wrong, credit 0");
        // Rounding of the conversion does not break an exact key.
        let exact_key = key(0.3, None, None, &[("m", 1.0), ("cm", 0.01)], 0.0);
        check(&exact_key, 30.0, Some("cm"), 1.0, Graded);
        // No units in the key: a unit in the answer is a wrong unit.
        let bare = key(2.0, None, None, &[], 0.25);
        check(&bare, 2.0, None, 1.0, Graded);
        check(&bare, 2.0, Some("kg"), 0.25, Graded);
    }

    #[test]
    fn unusable_keys() {
        let bad = |k: NumericKey, want: &str| {
            assert_eq!(grade(&k, &NumericResponse { value: 1.0, unit: None }).unwrap_err(), KeyError(want.into()));
        };
        bad(key(f64::NAN, None, None, &[], 0.0), "the key's value is NaN, not a finite number");
        bad(key(1.0, Some(-0.1), None, &[], 0.0), "the absolute tolerance is -0.1; it must be a finite number ≥ 0");
        bad(key(1.0, None, Some(f64::NAN), &[], 0.0), "the relative tolerance is NaN; it must be a finite number ≥ 0");
        bad(key(1.0, None, None, &[("m", 0.0)], 0.0), "unit `m` has factor 0; it must be a finite number > 0");
        bad(key(1.0, None, None, &[("m", 1.0), (" m", 2.0)], 0.0), "unit `m` appears twice in the key");
        bad(key(1.0, None, None, &[(" ", 1.0)], 0.0), "a unit of the key has an empty name");
        bad(key(1.0, None, None, &[], f64::NAN), "unit-missing-credit is NaN; it must be between 0 and 1");
        bad(key(1.0, None, None, &[], 1.5), "unit-missing-credit is 1.5; it must be between 0 and 1");
    }
}

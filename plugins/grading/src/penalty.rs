//! Penalties for retries, hints and lateness (`penalties` of a submission).
//!
//! The three are added, not compounded: two tries at 10 % and one hint at
//! 5 % take 25 %, which is what an instructor who set those numbers
//! expects to read. The total is then capped at `max-total` and at 1. A
//! day late is any started day: one second late is one day.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Penalties;

use crate::outcome::{KeyError, key_error, num};

const DAY_SECONDS: u64 = 24 * 60 * 60;

/// The fraction of the points taken, in [0, 1], and the steps that got it.
#[derive(Debug)]
pub struct Penalty {
    pub fraction: f64,
    pub explanation: Vec<String>,
}

/// Rates and the cap must be finite and ≥ 0: a negative rate would be a
/// bonus, which the result's [0, points] range cannot express honestly, and
/// NaN would make the score NaN. Rates above 1 are allowed (a per-day rate
/// of 1 means "nothing after the deadline"); the total is capped anyway.
pub fn penalty(p: &Penalties) -> Result<Penalty, KeyError> {
    for (name, rate) in
        [("per-try", p.per_try), ("per-hint", p.per_hint), ("per-late-day", p.per_late_day), ("max-total", p.max_total)]
    {
        if !(rate.is_finite() && rate >= 0.0) {
            return key_error(format!("the penalty {name} is {rate}; it must be a finite number ≥ 0"));
        }
    }
    let late_days = p.late_seconds.div_ceil(DAY_SECONDS);
    let parts: [(u64, &str, &str, f64); 3] = [
        (p.previous_tries.into(), "previous try", "previous tries", p.per_try),
        (p.hints_used.into(), "hint", "hints", p.per_hint),
        (late_days, "started day late", "started days late", p.per_late_day),
    ];
    let mut explanation = Vec::new();
    let mut sum = 0.0;
    for (count, one, many, rate) in parts {
        if count > 0 && rate > 0.0 {
            // An absurd rate can overflow this to +∞ (never NaN: nothing is
            // negative); the cap below still makes the fraction finite.
            let amount = count as f64 * rate;
            let what = if count == 1 { one } else { many };
            explanation.push(format!("penalty: {count} {what} × {} = {}", num(rate), num(amount)));
            sum += amount;
        }
    }
    let cap = p.max_total.min(1.0);
    let fraction = sum.min(cap);
    if explanation.is_empty() {
        return Ok(Penalty { fraction: 0.0, explanation: vec!["no penalties".into()] });
    }
    if fraction < sum {
        let by = if p.max_total < 1.0 { format!("max-total {}", num(p.max_total)) } else { "1".into() };
        explanation.push(format!("total penalty {} capped at {by}: {}", num(sum), num(fraction)));
    } else {
        explanation.push(format!("total penalty {}", num(fraction)));
    }
    Ok(Penalty { fraction, explanation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(tries: u32, per_try: f64, hints: u32, per_hint: f64, late: u64, per_day: f64, max: f64) -> Penalties {
        Penalties {
            previous_tries: tries,
            per_try,
            hints_used: hints,
            per_hint,
            late_seconds: late,
            per_late_day: per_day,
            max_total: max,
        }
    }

    fn check(penalties: Penalties, fraction: f64) -> Vec<String> {
        let got = penalty(&penalties).expect("valid penalties");
        assert!((got.fraction - fraction).abs() < 1e-12, "{penalties:?}: {got:?}");
        got.explanation
    }

    #[test]
    fn stacking_and_capping() {
        let day = DAY_SECONDS;
        let cases = [
            (p(0, 0.1, 0, 0.05, 0, 0.2, 1.0), 0.0),
            (p(2, 0.1, 0, 0.05, 0, 0.2, 1.0), 0.2),
            (p(2, 0.1, 1, 0.05, 0, 0.2, 1.0), 0.25),
            (p(0, 0.1, 0, 0.05, 1, 0.2, 1.0), 0.2),
            (p(0, 0.1, 0, 0.05, day, 0.2, 1.0), 0.2),
            (p(0, 0.1, 0, 0.05, day + 1, 0.2, 1.0), 0.4),
            (p(2, 0.1, 1, 0.05, day + 1, 0.2, 1.0), 0.65),
            (p(2, 0.1, 1, 0.05, day + 1, 0.2, 0.5), 0.5),
            (p(9, 0.2, 0, 0.0, 0, 0.0, 5.0), 1.0),
            (p(u32::MAX, 1.0, u32::MAX, 1.0, u64::MAX, 1.0, 1.0), 1.0),
            (p(3, 0.1, 0, 0.0, 0, 0.0, 0.0), 0.0),
        ];
        for (penalties, fraction) in cases {
            check(penalties, fraction);
        }
        assert_eq!(
            check(p(2, 0.1, 1, 0.05, day + 1, 0.2, 0.5), 0.5),
            [
                "penalty: 2 previous tries × 0.1 = 0.2",
                "penalty: 1 hint × 0.05 = 0.05",
                "penalty: 2 started days late × 0.2 = 0.4",
                "total penalty 0.65 capped at max-total 0.5: 0.5",
            ]
        );
        assert_eq!(check(p(9, 0.2, 0, 0.0, 0, 0.0, 5.0), 1.0)[1], "total penalty 1.8 capped at 1: 1");
        assert_eq!(check(p(0, 0.5, 0, 0.5, 0, 0.5, 1.0), 0.0), ["no penalties"]);
    }

    #[test]
    fn unusable_rates() {
        for (penalties, name) in [
            (p(0, f64::NAN, 0, 0.0, 0, 0.0, 1.0), "per-try is NaN"),
            (p(0, 0.0, 0, -0.1, 0, 0.0, 1.0), "per-hint is -0.1"),
            (p(0, 0.0, 0, 0.0, 0, f64::INFINITY, 1.0), "per-late-day is inf"),
            (p(0, 0.0, 0, 0.0, 0, 0.0, f64::NAN), "max-total is NaN"),
        ] {
            let err = penalty(&penalties).unwrap_err();
            assert_eq!(err, KeyError(format!("the penalty {name}; it must be a finite number ≥ 0")));
        }
    }
}

//! What grading one response against one key found, before points and
//! penalties, and the small helpers every question type shares to explain
//! itself.
//!
//! Explanations and feedback travel back to the kernel, which refuses a
//! result over its size limit and would then fail the student's whole
//! attempt. So anything that comes from the response (a student can send a
//! megabyte as an option id) is quoted through [`quote`] and lists through
//! [`list`], both bounded.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{Feedback, Status};

/// Longest text answer (short answer, one blank, in bytes) that is graded.
/// Matching is linear, but the host's fuel budget is per call and shared by
/// the whole batch: without a bound one student's pasted novel could exhaust
/// it and fail every question of the attempt. 16 KiB is pages of text,
/// far beyond any short answer.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Most entries in any list of a key or a response (options, pairs, items,
/// blanks, units, alternatives). Ordering credit is quadratic in the number
/// of items; 1000 items is 499 500 pairs, well inside the fuel budget.
pub const MAX_ITEMS: usize = 1000;

/// The result of applying a key to a response.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    /// The fraction of the question earned before penalties, in [0, 1];
    /// 0 unless `status` is `graded`.
    pub raw: f64,
    pub feedback: Vec<Feedback>,
    pub explanation: Vec<String>,
}

impl Outcome {
    pub fn graded(raw: f64, explanation: Vec<String>) -> Outcome {
        // Every rule already lands in [0, 1]; this is the last line of
        // defence, and it maps NaN to 0 because NaN fails both comparisons.
        let raw = if raw >= 0.0 { raw.min(1.0) } else { 0.0 };
        Outcome { status: Status::Graded, raw, feedback: Vec::new(), explanation }
    }

    /// The response does not fit the question: scored zero, with the reason.
    pub fn invalid(reason: String) -> Outcome {
        Outcome {
            status: Status::InvalidResponse,
            raw: 0.0,
            feedback: Vec::new(),
            explanation: vec![format!("invalid response: {reason}; scored 0")],
        }
    }

    /// No response at all. Not invalid: leaving a question blank is allowed.
    pub fn unanswered() -> Outcome {
        Outcome::graded(0.0, vec!["unanswered: scored 0".into()])
    }

    pub fn with_feedback(mut self, feedback: Vec<Feedback>) -> Outcome {
        self.feedback = feedback;
        self
    }
}

/// The key (or the question around it) cannot be applied as written: the
/// question goes to a person, with this reason. Not an error of the batch:
/// one broken key must not stop the other questions of the attempt from
/// being graded (see the README, *Errors*).
#[derive(Debug, PartialEq)]
pub struct KeyError(pub String);

pub fn key_error<T>(reason: impl Into<String>) -> Result<T, KeyError> {
    Err(KeyError(reason.into()))
}

/// Feedback about one part of the response (`target`), or the whole of it.
pub fn feedback(target: Option<String>, message: &str) -> Feedback {
    Feedback { target, message: message.to_owned() }
}

/// `s` in backticks, cut to 40 characters (with `…`) and with line breaks
/// shown as `⏎`, so an explanation stays one short line per step.
pub fn quote(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::from("`");
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.push(if c == '\n' || c == '\r' { '⏎' } else { c });
    }
    out.push('`');
    out
}

/// Quoted items joined by `, `; after 10 of them, `and N more`.
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    const MAX: usize = 10;
    let items: Vec<&str> = items.into_iter().collect();
    let mut out: Vec<String> = items.iter().take(MAX).map(|s| quote(s)).collect();
    if items.len() > MAX {
        out.push(format!("and {} more", items.len() - MAX));
    }
    out.join(", ")
}

/// A fraction or a number of points for an explanation: at most 4 decimals,
/// trailing zeros dropped, `-0` shown as `0`. Very large or very small
/// magnitudes use exponent notation so a line never runs to 300 digits.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() || x.abs() >= 1e15 || x.abs() < 1e-4 {
        return format!("{x:e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A number as given (a response or a key value): the shortest text that
/// reads back as the same `f64`, exponent notation outside 1e-6..1e15.
pub fn exact(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() || x.abs() >= 1e15 || x.abs() < 1e-6 {
        return format!("{x:e}");
    }
    format!("{x}")
}

/// A computed number (a converted value, a bound, a difference): 6
/// significant digits, so that floating-point noise such as
/// 0.009810000000000001 reads 0.00981.
pub fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return exact(x);
    }
    if x.abs() >= 1e15 || x.abs() < 1e-6 {
        let s = format!("{x:.5e}");
        return match s.split_once('e') {
            Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
            None => s,
        };
    }
    // Integer digits minus one; the cast is exact for |x| in [1e-6, 1e15).
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}")).to_owned()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

/// Points after scaling, with floating-point noise removed: 0.8 × 3 is
/// 2.4000000000000004 in `f64`, and a gradebook should say 2.4. Rounded to
/// 9 decimals, far below any meaningful fraction of a point; magnitudes of
/// a million and more are left alone (the rounding would overflow first).
pub fn tidy(x: f64) -> f64 {
    if x.abs() < 1e6 { (x * 1e9).round() / 1e9 } else { x }
}

/// `1 point` or `N points`, N as given.
pub fn points(x: f64) -> String {
    if x == 1.0 { "1 point".into() } else { format!("{} points", exact(x)) }
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        for (x, want) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (0.5, "0.5"),
            (1.0 / 3.0, "0.3333"),
            (-0.00001, "-1e-5"),
            (-0.00004999, "-4.999e-5"),
            (2.5, "2.5"),
            (1e308, "1e308"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(num(x), want, "{x}");
        }
        for (x, want) in [(-0.0, "0"), (0.1, "0.1"), (1.23456, "1.23456"), (1e-7, "1e-7"), (1e300, "1e300")] {
            assert_eq!(exact(x), want, "{x}");
        }
        for (x, want) in [
            (0.009810000000000001, "0.00981"),
            (0.009999999999999787, "0.01"),
            (0.30000000000000004, "0.3"),
            (123456.789, "123457"),
            (-9.999999, "-10"),
            (1.5e-9, "1.5e-9"),
            (f64::MAX, "1.79769e308"),
        ] {
            assert_eq!(sig(x), want, "{x}");
        }
        assert_eq!(tidy(2.4000000000000004), 2.4);
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(tidy(1e300), 1e300);
    }

    #[test]
    fn quoting_is_bounded() {
        assert_eq!(quote("a\nb"), "`a⏎b`");
        let long = "x".repeat(1_000_000);
        assert_eq!(quote(&long).chars().count(), 43);
        let many: Vec<String> = (0..25).map(|i| i.to_string()).collect();
        assert_eq!(
            list(many.iter().map(String::as_str)),
            "`0`, `1`, `2`, `3`, `4`, `5`, `6`, `7`, `8`, `9`, and 15 more"
        );
    }
}

//! Fill-in-the-blanks questions (`answer-key::fill-blanks`, answered with
//! `response::blanks`): one text key per blank, each graded exactly like a
//! short answer (see `text`), credit the average over the key's blanks.
//!
//! A response with the wrong number of blanks is still graded, blank by
//! blank: a missing blank earns 0, an extra one is ignored, and the
//! explanation says so. Being strict here (invalid-response) would cost a
//! student every blank they did fill because a client dropped a trailing
//! empty one. An answer to one blank that is too long is 0 for that blank.
//!
//! Feedback `target`s are the blank's 0-based index as text (`"0"`, `"1"`…),
//! the position in the `blanks` list; explanations count from 1 for people.

use crate::outcome::{KeyError, MAX_ITEMS, Outcome, feedback, key_error, num, plural};
use crate::text;

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::TextKey;

pub fn compile(keys: &[TextKey]) -> Result<Vec<text::Compiled<'_>>, KeyError> {
    if keys.is_empty() {
        return key_error("the key has no blanks");
    }
    if keys.len() > MAX_ITEMS {
        return key_error(format!("the key has {} blanks; at most {MAX_ITEMS}", keys.len()));
    }
    keys.iter()
        .enumerate()
        .map(|(i, k)| text::compile(k).map_err(|KeyError(e)| KeyError(format!("blank {}: {e}", i + 1))))
        .collect()
}

pub fn grade(keys: &[TextKey], response: &[String]) -> Result<Outcome, KeyError> {
    let compiled = compile(keys)?;
    if response.len() > MAX_ITEMS {
        return Ok(Outcome::invalid(format!("{} blanks; at most {MAX_ITEMS}", response.len())));
    }
    let n = keys.len();
    let mut explanation = Vec::new();
    if response.len() != n {
        explanation.push(format!(
            "{} given for {}: {}",
            plural(response.len(), "blank"),
            plural(n, "blank"),
            if response.len() < n { "missing blanks earn 0" } else { "extra blanks are ignored" }
        ));
    }
    let mut fb = Vec::new();
    let mut sum = 0.0;
    for (i, key) in compiled.iter().enumerate() {
        let Some(answer) = response.get(i) else {
            explanation.push(format!("blank {}: missing, credit 0", i + 1));
            continue;
        };
        match key.apply(answer) {
            Err(reason) => explanation.push(format!("blank {}: {reason}; credit 0", i + 1)),
            Ok(g) => {
                sum += g.raw;
                explanation.extend(g.explanation.into_iter().map(|s| format!("blank {}: {s}", i + 1)));
                if let Some(m) = g.winner.and_then(|w| w.feedback.as_deref()) {
                    fb.push(feedback(Some(i.to_string()), m));
                }
            }
        }
    }
    let raw = sum / n as f64;
    explanation.push(format!("average over {}: {} / {n} = {}", plural(n, "blank"), num(sum), num(raw)));
    Ok(Outcome::graded(raw, explanation).with_feedback(fb))
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{Status, TextAlternative};

    use super::*;
    use crate::outcome::MAX_TEXT_BYTES;

    fn blank(alts: &[(&str, f64)]) -> TextKey {
        TextKey {
            alternatives: alts
                .iter()
                .map(|&(p, credit)| TextAlternative {
                    pattern: p.into(),
                    regex: false,
                    credit,
                    feedback: Some(format!("fb {p}")),
                })
                .collect(),
            case_sensitive: false,
            normalize_whitespace: true,
        }
    }

    fn check(keys: &[TextKey], answers: &[&str], raw: f64, status: Status) -> Outcome {
        let answers: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
        let got = grade(keys, &answers).expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{answers:?}: {:?}", got.explanation);
        got
    }

    #[test]
    fn average_per_blank() {
        use Status::Graded;
        let keys = [blank(&[("H", 1.0)]), blank(&[("2", 1.0)]), blank(&[("O", 1.0), ("oxygen", 0.5)])];
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let cases: &[(&[&str], f64)] = &[
            (&["H", "2", "O"], 1.0),
            (&["h", " 2 ", "oxygen"], 2.5 / 3.0),
            (&["H", "3", "O"], 2.0 / 3.0),
            (&["H", "2"], 2.0 / 3.0),
            (&["H", "2", "O", "extra"], 1.0),
            (&[], 0.0),
            (&["", "", ""], 0.0),
            (&["H", &long, "O"], 2.0 / 3.0),
        ];
        for &(answers, raw) in cases {
            check(&keys, answers, raw, Graded);
        }
    }

    #[test]
    fn explanations_and_feedback() {
        let keys = [blank(&[("H", 1.0)]), blank(&[("2", 1.0)]), blank(&[("O", 1.0), ("oxygen", 0.5)])];
        let got = check(&keys, &["H", "oxygen"], 1.0 / 3.0, Status::Graded);
        assert_eq!(
            got.explanation,
            [
                "2 blanks given for 3 blanks: missing blanks earn 0",
                "blank 1: answer `h` (NFC, white space collapsed, case-insensitive)",
                "blank 1: matches alternative 1 of 1 (literal), credit 1",
                "blank 2: answer `oxygen` (NFC, white space collapsed, case-insensitive)",
                "blank 2: matches no alternative: credit 0",
                "blank 3: missing, credit 0",
                "average over 3 blanks: 1 / 3 = 0.3333",
            ]
        );
        let fb: Vec<(Option<&str>, &str)> =
            got.feedback.iter().map(|f| (f.target.as_deref(), f.message.as_str())).collect();
        assert_eq!(fb, [(Some("0"), "fb H")]);
    }

    #[test]
    fn unusable_keys() {
        assert_eq!(grade(&[], &[]).unwrap_err(), KeyError("the key has no blanks".into()));
        let bad = TextKey { alternatives: vec![], case_sensitive: true, normalize_whitespace: true };
        assert_eq!(
            grade(&[blank(&[("a", 1.0)]), bad], &[]).unwrap_err(),
            KeyError("blank 2: the key has no alternatives".into())
        );
    }
}

//! Text answers: short-answer questions (`answer-key::short-answer`,
//! answered with `response::text`) and each blank of a fill-blanks question.
//!
//! Comparison happens on normalised text, in this order:
//! 1. NFC, always: "é" typed as one code point and as "e" + U+0301 are the
//!    same answer. NFC is *canonical* equivalence only, so look-alikes from
//!    other scripts (Cyrillic "а" for Latin "a") and compatibility forms
//!    ("ﬁ" for "fi", full-width "Ａ") stay different: deciding that they are
//!    the same word is the author's call, through an alternative.
//! 2. With `normalize-whitespace`: runs of Unicode white space become one
//!    space, leading and trailing white space goes.
//! 3. Without `case-sensitive`: Unicode lower case (`str::to_lowercase`,
//!    which also knows Greek final sigma), not full case folding, so "ß"
//!    and "SS" stay different.
//!
//! Literal alternatives get the same treatment and compare equal as
//! strings. Regex alternatives match against the text after steps 1–2, case
//! being handled by the regex's own case-insensitive flag (lower-casing a
//! pattern would turn `\D` into `\d`). A pattern always has to match the
//! *whole* answer: it is wrapped in `\A(?:…)\z` after checking that it
//! parses on its own, so a pattern like `a)|(b` cannot break out of the
//! anchors.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{TextAlternative, TextKey};
use regex::{Regex, RegexBuilder};
use unicode_normalization::UnicodeNormalization;

use crate::outcome::{KeyError, MAX_ITEMS, MAX_TEXT_BYTES, Outcome, feedback, key_error, num, quote};

/// Compiled-program cap per pattern. The regex crate matches in linear
/// time whatever the pattern, so the risks are memory and compile time,
/// which come out of the batch's shared fuel budget. A Unicode `\w` is
/// about 40 KiB of program per copy, so `\w+` and `\w{10}` fit, while
/// `\w{30}` (about 2 MiB, 40 ms to compile natively) is refused, quickly:
/// the limit is checked while compiling. ASCII classes are tiny
/// (`(?-u:\w){30}` fits easily).
const REGEX_SIZE_LIMIT: usize = 512 * 1024;
/// Lazy-DFA cache cap; when full the engine falls back to a slower but
/// still linear search instead of growing.
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;
/// Parenthesis and repetition nesting; deep nesting costs stack.
const REGEX_NEST_LIMIT: u32 = 64;

/// A text key whose regexes are compiled: built once per key, then applied
/// to answers.
pub struct Compiled<'k> {
    key: &'k TextKey,
    matchers: Vec<Matcher>,
}

enum Matcher {
    /// The literal pattern, normalised like an answer.
    Literal(String),
    Regex(Box<Regex>),
}

/// Steps 1–2 of the module comment.
fn nfc_and_spaces(s: &str, normalize_whitespace: bool) -> String {
    let s: String = s.nfc().collect();
    if normalize_whitespace { s.split_whitespace().collect::<Vec<_>>().join(" ") } else { s }
}

/// All three steps: what literal patterns and answers compare as.
fn normalize(s: &str, key: &TextKey) -> String {
    let s = nfc_and_spaces(s, key.normalize_whitespace);
    if key.case_sensitive { s } else { s.to_lowercase() }
}

fn compile_regex(pattern: &str, case_sensitive: bool) -> Result<Regex, String> {
    let pattern: String = pattern.nfc().collect();
    // Parse alone first: only a pattern that is a complete expression by
    // itself may be wrapped in the anchors (see the module comment).
    regex_syntax::ParserBuilder::new()
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(&pattern)
        .map_err(|e| one_line(&e.to_string()))?;
    RegexBuilder::new(&format!(r"\A(?:{pattern})\z"))
        .case_insensitive(!case_sensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// Regex errors draw a caret diagram over several lines; an explanation
/// step is one line.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Checks and compiles a key. Unusable: no alternatives, a credit that is
/// not a number in [0, 1], a regex that does not parse or exceeds the size
/// limits. Every alternative is checked, whatever the answer, so a broken
/// key is found on the first submission rather than the first unlucky one.
pub fn compile(key: &TextKey) -> Result<Compiled<'_>, KeyError> {
    if key.alternatives.is_empty() {
        return key_error("the key has no alternatives");
    }
    if key.alternatives.len() > MAX_ITEMS {
        return key_error(format!("the key has {} alternatives; at most {MAX_ITEMS}", key.alternatives.len()));
    }
    let mut matchers = Vec::with_capacity(key.alternatives.len());
    for (i, alt) in key.alternatives.iter().enumerate() {
        if !(0.0..=1.0).contains(&alt.credit) {
            return key_error(format!("alternative {} has credit {}; it must be between 0 and 1", i + 1, alt.credit));
        }
        matchers.push(if alt.regex {
            let regex = compile_regex(&alt.pattern, key.case_sensitive)
                .or_else(|e| key_error(format!("alternative {} is not a usable regular expression: {e}", i + 1)))?;
            Matcher::Regex(Box::new(regex))
        } else {
            Matcher::Literal(normalize(&alt.pattern, key))
        });
    }
    Ok(Compiled { key, matchers })
}

/// What one answer earned against a compiled key.
pub struct TextGrade<'k> {
    pub raw: f64,
    /// The winning alternative, if any matched.
    pub winner: Option<&'k TextAlternative>,
    pub explanation: Vec<String>,
}

impl<'k> Compiled<'k> {
    /// Applies the key to `answer`. An answer that normalises to nothing
    /// scores 0 without matching (so an empty pattern or `.*` cannot pay
    /// for a blank). Otherwise every alternative is tried and the one with
    /// the highest credit wins, the first of equals; alternatives with
    /// credit 0 therefore work as "known wrong answers" whose feedback is
    /// returned when nothing better matches. `Err` is an invalid response.
    pub fn apply(&self, answer: &str) -> Result<TextGrade<'k>, String> {
        if answer.len() > MAX_TEXT_BYTES {
            return Err(format!("the answer is {} bytes long; at most {MAX_TEXT_BYTES} are graded", answer.len()));
        }
        let spaced = nfc_and_spaces(answer, self.key.normalize_whitespace);
        let normal = if self.key.case_sensitive { spaced.clone() } else { spaced.to_lowercase() };
        let mut steps = Vec::new();
        let mut how = vec!["NFC"];
        if self.key.normalize_whitespace {
            how.push("white space collapsed");
        }
        how.push(if self.key.case_sensitive { "case-sensitive" } else { "case-insensitive" });
        if normal.is_empty() {
            steps.push(format!("empty answer ({}): credit 0", how.join(", ")));
            return Ok(TextGrade { raw: 0.0, winner: None, explanation: steps });
        }
        steps.push(format!("answer {} ({})", quote(&normal), how.join(", ")));
        let mut best: Option<(usize, &'k TextAlternative)> = None;
        for (i, (alt, matcher)) in self.key.alternatives.iter().zip(&self.matchers).enumerate() {
            let hit = match matcher {
                Matcher::Literal(p) => *p == normal,
                Matcher::Regex(r) => r.is_match(&spaced),
            };
            if hit && best.is_none_or(|(_, b)| alt.credit > b.credit) {
                best = Some((i, alt));
            }
        }
        let n = self.key.alternatives.len();
        match best {
            Some((i, alt)) => {
                steps.push(format!(
                    "matches alternative {} of {n} ({}), credit {}",
                    i + 1,
                    if alt.regex { "regular expression" } else { "literal" },
                    num(alt.credit)
                ));
                Ok(TextGrade { raw: alt.credit, winner: Some(alt), explanation: steps })
            }
            None => {
                steps.push("matches no alternative: credit 0".into());
                Ok(TextGrade { raw: 0.0, winner: None, explanation: steps })
            }
        }
    }
}

/// A short-answer question: the winning alternative's credit and feedback.
pub fn grade_short_answer(key: &TextKey, answer: &str) -> Result<Outcome, KeyError> {
    let compiled = compile(key)?;
    Ok(match compiled.apply(answer) {
        Err(reason) => Outcome::invalid(reason),
        Ok(g) => {
            let fb = g.winner.and_then(|w| w.feedback.as_deref()).map(|m| feedback(None, m)).into_iter().collect();
            Outcome::graded(g.raw, g.explanation).with_feedback(fb)
        }
    })
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::Status;

    use super::*;

    /// `(pattern, regex, credit)`; feedback is `fb N` for alternative N.
    fn key(case_sensitive: bool, normalize_whitespace: bool, alts: &[(&str, bool, f64)]) -> TextKey {
        TextKey {
            alternatives: alts
                .iter()
                .enumerate()
                .map(|(i, &(p, regex, credit))| TextAlternative {
                    pattern: p.into(),
                    regex,
                    credit,
                    feedback: Some(format!("fb {}", i + 1)),
                })
                .collect(),
            case_sensitive,
            normalize_whitespace,
        }
    }

    fn check(key: &TextKey, answer: &str, raw: f64, status: Status) -> Outcome {
        let got = grade_short_answer(key, answer).expect("key is valid");
        assert_eq!((got.raw, got.status), (raw, status), "{answer:?}: {:?}", got.explanation);
        got
    }

    #[test]
    fn literals_and_normalisation() {
        use Status::Graded;
        let lax = key(false, true, &[("Paris", false, 1.0), ("paris, france", false, 0.5)]);
        let strict = key(true, false, &[("Paris", false, 1.0)]);
        let cases: &[(&TextKey, &str, f64)] = &[
            (&lax, "Paris", 1.0),
            (&lax, "  pARIS \t", 1.0),
            (&lax, "Paris,\n  France", 0.5),
            (&lax, "Pari", 0.0),
            (&lax, "", 0.0),
            (&lax, " \n ", 0.0),
            (&strict, "Paris", 1.0),
            (&strict, "paris", 0.0),
            (&strict, "Paris ", 0.0),
            (&strict, " ", 0.0),
        ];
        for &(k, answer, raw) in cases {
            check(k, answer, raw, Graded);
        }
    }

    #[test]
    fn unicode() {
        use Status::Graded;
        // Key precomposed, answer decomposed, and the other way round.
        let cafe = key(true, false, &[("caf\u{e9}", false, 1.0)]);
        check(&cafe, "cafe\u{301}", 1.0, Graded);
        let decomposed = key(true, false, &[("cafe\u{301}", false, 1.0)]);
        check(&decomposed, "caf\u{e9}", 1.0, Graded);
        // Cyrillic а (U+0430) is not Latin a, even case-insensitively.
        let a = key(false, true, &[("paris", false, 1.0), ("p[a]ris", true, 1.0)]);
        check(&a, "p\u{430}ris", 0.0, Graded);
        // Compatibility forms are not folded by NFC either.
        check(&key(false, true, &[("fi", false, 1.0)]), "\u{fb01}", 0.0, Graded);
        // Unicode-aware lower case: Greek, Cyrillic, accented capitals.
        let greek = key(false, false, &[("οδός", false, 1.0)]);
        check(&greek, "ΟΔΌΣ", 1.0, Graded);
        check(&key(false, false, &[("Ärger", false, 1.0)]), "äRGER", 1.0, Graded);
        check(&key(false, false, &[("москва", false, 1.0)]), "МОСКВА", 1.0, Graded);
        // And in regexes, through the case-insensitive flag.
        check(&key(false, false, &[("é+", true, 1.0)]), "E\u{301}\u{c9}", 1.0, Graded);
        // No-break and ideographic spaces are white space.
        check(&key(true, true, &[("New York", false, 1.0)]), "New\u{a0}\u{3000}York", 1.0, Graded);
    }

    #[test]
    fn regex_alternatives() {
        use Status::Graded;
        let k = key(
            false,
            true,
            &[(r"(the )?mitochondri(a|on)", true, 1.0), (r"\d+", true, 0.25), ("powerhouse", false, 0.0)],
        );
        let cases: &[(&str, f64, Option<&str>)] = &[
            ("The Mitochondria", 1.0, Some("fb 1")),
            ("mitochondrion", 1.0, Some("fb 1")),
            // Anchored: a match inside a longer answer does not count.
            ("not the mitochondria", 0.0, None),
            ("mitochondria!", 0.0, None),
            ("42", 0.25, Some("fb 2")),
            ("42 mitochondria", 0.0, None),
            // A credit-0 alternative is a known wrong answer with feedback.
            ("Powerhouse", 0.0, Some("fb 3")),
            ("", 0.0, None),
        ];
        for &(answer, raw, fb) in cases {
            let got = check(&k, answer, raw, Graded);
            assert_eq!(got.feedback.first().map(|f| f.message.as_str()), fb, "{answer}");
        }
        // A pattern that tries to escape the anchors is refused, not run.
        let escape = key(true, false, &[("a)|(b", true, 1.0)]);
        let err = grade_short_answer(&escape, "xbx").unwrap_err();
        assert!(err.0.starts_with("alternative 1 is not a usable regular expression: regex parse error:"), "{err:?}");
        // Case-insensitive regexes keep their classes: \D stays non-digits.
        check(&key(false, false, &[(r"\D+", true, 1.0)]), "ABC", 1.0, Graded);
        check(&key(false, false, &[(r"\D+", true, 1.0)]), "AB1", 0.0, Graded);
    }

    #[test]
    fn best_credit_wins_first_of_equals() {
        let k = key(false, true, &[("colour", false, 0.5), ("colou?r", true, 1.0), ("colour", false, 1.0)]);
        let got = check(&k, "colour", 1.0, Status::Graded);
        assert_eq!(got.feedback[0].message, "fb 2");
        assert_eq!(got.explanation[1], "matches alternative 2 of 3 (regular expression), credit 1");
    }

    #[test]
    fn regex_catastrophes_stay_linear() {
        // Exponential for a backtracking engine; linear here.
        for pattern in [r"(a+)+$", r"(a|aa)+b", r"(a*)*b", r"(x+x+)+y", r"(.*a){20}"] {
            let k = key(true, false, &[(pattern, true, 1.0)]);
            let long = "a".repeat(MAX_TEXT_BYTES - 1) + "!";
            check(&k, &long, 0.0, Status::Graded);
        }
        // Over the length limit: invalid, never run.
        let k = key(true, false, &[("a*", true, 1.0)]);
        let got = check(&k, &"a".repeat(MAX_TEXT_BYTES + 1), 0.0, Status::InvalidResponse);
        assert_eq!(
            got.explanation,
            ["invalid response: the answer is 16385 bytes long; at most 16384 are graded; scored 0"]
        );
        check(&k, &"a".repeat(MAX_TEXT_BYTES), 1.0, Status::Graded);
    }

    #[test]
    fn ordinary_patterns_fit_the_limits() {
        for p in [
            r"\w+",
            r"\w{10}",
            r"(?-u:\w){30}",
            r"\p{L}+( \p{L}+)*",
            r"\p{Greek}+",
            r"[[:alpha:]]+",
            r"[-+]?\d{1,3}(,\d{3})*(\.\d+)?",
            r"(?i)h[ae]llo,? w(o|ö)rld!*",
        ] {
            for case_sensitive in [true, false] {
                assert!(compile_regex(p, case_sensitive).is_ok(), "{p} case_sensitive={case_sensitive}");
            }
        }
    }

    #[test]
    fn unusable_keys() {
        let bad = |k: TextKey, starts: &str| {
            let err = grade_short_answer(&k, "x").unwrap_err();
            assert!(err.0.starts_with(starts), "{err:?} should start with {starts:?}");
            assert!(!err.0.contains('\n'), "{err:?}");
        };
        bad(key(true, true, &[]), "the key has no alternatives");
        bad(key(true, true, &[("x", false, f64::NAN)]), "alternative 1 has credit NaN; it must be between 0 and 1");
        bad(key(true, true, &[("x", false, 1.0), ("y", false, -0.5)]), "alternative 2 has credit -0.5");
        bad(
            key(true, true, &[("x", false, 1.0), ("(", true, 1.0)]),
            "alternative 2 is not a usable regular expression",
        );
        // Too big once compiled: refused by the size limit, quickly.
        bad(key(true, true, &[(r"\w{30}", true, 1.0)]), "alternative 1 is not a usable regular expression");
        bad(key(true, true, &[(r"\w{1000}{1000}", true, 1.0)]), "alternative 1 is not a usable regular expression");
        bad(key(true, true, &[(r"a{100000}", true, 1.0)]), "alternative 1 is not a usable regular expression");
        bad(key(true, true, &[(&"(".repeat(100), true, 1.0)]), "alternative 1 is not a usable regular expression");
        // Reachable only by a broken key, never by the answer: a valid
        // key with an answer that would not compile as a regex is fine.
        check(&key(true, true, &[("(", false, 1.0)]), "(", 1.0, Status::Graded);
    }
}

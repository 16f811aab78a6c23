//! Anchors for headings and footnotes: GitHub-style slugs, unique per page.

use std::collections::{HashMap, HashSet};

/// Hands out slugs that are unique within one page.
///
/// Headings and footnotes share one `Slugger`, so a heading called
/// "fn 1" can never take the anchor of footnote 1 (or the other way round):
/// every `id` the renderer writes is distinct, which the sanitizer relies on.
#[derive(Default)]
pub struct Slugger {
    taken: HashSet<String>,
    /// The last suffix tried for each base, so that the thousandth "Intro"
    /// does not try "intro-1" … "intro-999" again: without it a page of
    /// 25 000 equal headings took a minute (quadratic), with it milliseconds.
    last_suffix: HashMap<String, usize>,
}

impl Slugger {
    /// The slug of `text`, suffixed `-1`, `-2`, … if an earlier call already
    /// produced it (the numbering GitHub uses, so links people copy from a
    /// GitHub preview of the same file still work).
    pub fn claim(&mut self, text: &str) -> String {
        let base = slugify(text);
        let mut candidate = base.clone();
        // Still a loop, not just the counter: "a-1", "a", "a" must give
        // "a-1", "a", "a-2" and never a second "a-1".
        if self.taken.contains(&candidate) {
            let n = self.last_suffix.entry(base.clone()).or_insert(0);
            loop {
                *n += 1;
                candidate = format!("{base}-{n}");
                if !self.taken.contains(&candidate) {
                    break;
                }
            }
        }
        self.taken.insert(candidate.clone());
        candidate
    }

    /// Every slug handed out.
    pub fn into_claimed(self) -> HashSet<String> {
        self.taken
    }
}

/// GitHub's rule: lower-case; keep letters, digits (any script), `-` and `_`;
/// turn each whitespace character into `-`; drop everything else.
///
/// Non-ASCII letters are kept rather than transliterated: "Über" becomes
/// "über", which browsers match against a percent-encoded `#%C3%BCber`.
/// A heading with nothing slug-worthy ("!!!") becomes "section", because an
/// empty `id` is not a valid anchor.
pub fn slugify(text: &str) -> String {
    let slug: String = text
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect();
    if slug.is_empty() { "section".to_owned() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headings: &[&str], expected: &[&str]) {
        let mut slugger = Slugger::default();
        let got: Vec<String> = headings.iter().map(|h| slugger.claim(h)).collect();
        assert_eq!(got, expected, "headings: {headings:?}");
    }

    #[test]
    fn slugs_like_github() {
        check(&["Hello, World!"], &["hello-world"]);
        check(&["  Padded  "], &["padded"]);
        check(&["snake_case and-dash"], &["snake_case-and-dash"]);
        check(&["Über Größe"], &["über-größe"]);
        check(&["日本語の見出し"], &["日本語の見出し"]);
        check(&["C++ & Rust"], &["c--rust"]);
        check(&["!!!"], &["section"]);
        check(&[""], &["section"]);
        check(&["<script>"], &["script"]);
    }

    #[test]
    fn deduplicates_in_order() {
        check(&["Intro", "Intro", "Intro"], &["intro", "intro-1", "intro-2"]);
        check(&["a-1", "a", "a"], &["a-1", "a", "a-2"]);
        check(&["A", "a", "A!"], &["a", "a-1", "a-2"]);
        check(&["!!", "?"], &["section", "section-1"]);
        check(&["a", "a-2", "a", "a", "a"], &["a", "a-2", "a-1", "a-3", "a-4"]);
    }

    #[test]
    fn many_equal_headings_take_linear_time() {
        let mut slugger = Slugger::default();
        let start = std::time::Instant::now();
        for _ in 0..100_000 {
            slugger.claim("Intro");
        }
        assert_eq!(slugger.claim("Intro"), "intro-100000");
        // Quadratic would be minutes; linear is milliseconds even unoptimized.
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "{:?}", start.elapsed());
    }
}

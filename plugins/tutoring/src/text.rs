//! Plain-text helpers: Markdown inline syntax stripped for passages, terms for
//! matching a question against a passage, sentences, and a stable hash.

/// Words that carry no meaning for matching a question to a passage.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before",
    "being", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "each", "explain", "for",
    "from", "get", "gets", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me",
    "more", "most", "my", "no", "not", "of", "on", "one", "or", "other", "our", "out", "over", "should", "so", "some",
    "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to",
    "too", "under", "up", "use", "used", "using", "very", "was", "we", "what", "when", "where", "which", "while",
    "who", "why", "will", "with", "would", "you", "your",
];

/// Removes inline Markdown (emphasis, code ticks, link targets, images,
/// list and quote markers, table pipes) so passages read as prose.
pub fn strip_inline(line: &str) -> String {
    let t = line.trim_start();
    let t = t.strip_prefix("> ").unwrap_or(t);
    let t = strip_list_marker(t);
    let mut out = String::with_capacity(t.len());
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '!' if chars.get(i + 1) == Some(&'[') => i += 1,
            '[' => {
                // `[text](url)` → `text`; a lone `[` stays.
                if let Some(close) = chars[i + 1..].iter().position(|&x| x == ']').map(|p| p + i + 1)
                    && chars.get(close + 1) == Some(&'(')
                    && let Some(end) = chars[close + 2..].iter().position(|&x| x == ')').map(|p| p + close + 2)
                {
                    out.extend(&chars[i + 1..close]);
                    i = end + 1;
                    continue;
                }
                out.push(c);
                i += 1;
            }
            '*' | '_' | '`' => i += 1,
            '|' => {
                out.push(' ');
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_list_marker(t: &str) -> &str {
    for m in ["- [ ] ", "- [x] ", "- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(m) {
            return rest;
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return r;
        }
    }
    t
}

/// A crude English stemmer: enough to match "routers" with "router" and
/// "routing" with "route" without a dictionary.
pub fn stem(w: &str) -> String {
    let w = w.to_lowercase();
    for suffix in ["ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s"] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.chars().count() >= 3
        {
            return match suffix {
                "ies" => format!("{base}y"),
                _ => base.trim_end_matches('e').to_owned(),
            };
        }
    }
    w.trim_end_matches('e').to_owned()
}

/// The meaningful terms of a text, stemmed, in order (duplicates kept).
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()) && (w.len() > 1 || w.chars().all(|c| c.is_ascii_digit())))
        .map(|w| stem(&w))
        .collect()
}

/// Splits prose into sentences at `.`, `!`, `?` followed by a space and an
/// upper-case letter, digit or quote, or at line ends.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        for i in 0..chars.len() {
            let end_mark = matches!(chars[i], '.' | '!' | '?');
            let next_starts = chars.get(i + 1) == Some(&' ')
                && chars.get(i + 2).is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || *c == '"');
            if end_mark && next_starts {
                push_sentence(&mut out, &chars[start..=i]);
                start = i + 2;
            }
        }
        if start < chars.len() {
            push_sentence(&mut out, &chars[start..]);
        }
    }
    out
}

fn push_sentence(out: &mut Vec<String>, chars: &[char]) {
    let s: String = chars.iter().collect::<String>().trim().to_owned();
    if !s.is_empty() {
        out.push(s);
    }
}

/// FNV-1a, 64 bits: detects a changed passage; not a security boundary.
pub fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// At most `max` characters, cut at a sentence or word boundary, with `…`.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let at = cut.rfind(". ").map(|i| i + 1).filter(|&i| i > max / 2).or_else(|| cut.rfind(' ')).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markdown_is_stripped() {
        assert_eq!(
            strip_inline("- **TCP** uses a [three-way handshake](https://x.org/h) and `SYN`"),
            "TCP uses a three-way handshake and SYN"
        );
        assert_eq!(strip_inline("| Port | Service |"), "Port Service");
        assert_eq!(strip_inline("12. Twelfth step"), "Twelfth step");
        assert_eq!(strip_inline("![diagram](a.png) below"), "diagram below");
    }

    #[test]
    fn terms_drop_stopwords_and_stem() {
        assert_eq!(terms("How do routers route packets?"), vec!["router", "rout", "packet"]);
        assert_eq!(stem("addresses"), "address");
        assert_eq!(stem("queries"), "query");
        assert_eq!(terms("IPv6 and 128 bits"), vec!["ipv6", "128", "bit"]);
    }

    #[test]
    fn sentences_split_at_ends_not_abbreviations_inside_words() {
        assert_eq!(
            sentences("ARP maps IPs. It uses broadcast! Is it safe? no."),
            vec!["ARP maps IPs.", "It uses broadcast!", "Is it safe? no."]
        );
        assert_eq!(sentences("Version 1.2 is out.\nNext line"), vec!["Version 1.2 is out.", "Next line"]);
    }

    #[test]
    fn excerpt_cuts_at_boundaries() {
        assert_eq!(excerpt("short", 10), "short");
        let e = excerpt("One sentence here. Another sentence that is long.", 30);
        assert_eq!(e, "One sentence here.…");
        assert_eq!(hash("a"), hash("a"));
        assert_ne!(hash("a"), hash("b"));
    }
}

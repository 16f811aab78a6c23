//! The request headers that decide how an immutable blob is delivered
//! (RFC 9110): `Range` (§14.2), `If-Range` (§13.1.5), `If-None-Match`
//! (§13.1.2) and `Accept-Encoding` (§12.5.3). Pure parsing, no I/O.

/// What a `Range` header asks of a representation of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// No usable range: serve the whole representation (no header, another
    /// unit, or more ranges than we serve — RFC 9110 lets a server ignore it).
    Whole,
    /// Inclusive byte ranges, sorted, overlapping and adjacent ones coalesced.
    Parts(Vec<(u64, u64)>),
    /// Malformed, or no range overlaps the representation: 416.
    Unsatisfiable,
}

/// Parses `Range` for `len` bytes; more than `max_parts` (after coalescing)
/// are served as the whole representation, so a request of many tiny ranges
/// cannot multiply the response.
pub(crate) fn parse_range(header: &str, len: u64, max_parts: usize) -> Ranges {
    let Some((unit, set)) = header.split_once('=') else { return Ranges::Unsatisfiable };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranges::Whole;
    }
    let number = |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok());
    let mut parts = vec![];
    let mut specs = 0;
    for spec in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        specs += 1;
        let Some((first, last)) = spec.split_once('-') else { return Ranges::Unsatisfiable };
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            // Suffix range: the last N bytes (N beyond u64 means all of them).
            let Some(n) = number(last) else { return Ranges::Unsatisfiable };
            let n = n.unwrap_or(u64::MAX);
            if n > 0 && len > 0 {
                parts.push((len.saturating_sub(n), len - 1));
            }
            continue;
        }
        let Some(first) = number(first) else { return Ranges::Unsatisfiable };
        let end = if last.is_empty() {
            None
        } else {
            let Some(n) = number(last) else { return Ranges::Unsatisfiable };
            Some(n.unwrap_or(u64::MAX))
        };
        let Some(first) = first else { continue }; // beyond u64: past any end
        if end.is_some_and(|e| e < first) {
            return Ranges::Unsatisfiable;
        }
        if first < len {
            parts.push((first, end.unwrap_or(u64::MAX).min(len - 1)));
        }
    }
    if specs == 0 || parts.is_empty() {
        return Ranges::Unsatisfiable;
    }
    parts.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(parts.len());
    for (a, b) in parts {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    if merged.len() > max_parts { Ranges::Whole } else { Ranges::Parts(merged) }
}

/// `If-None-Match` against the selected representation's `etag` (quoted):
/// `*` or any listed tag, compared weakly (a `W/` prefix is ignored).
pub(crate) fn none_match(header: &str, etag: &str) -> bool {
    let header = header.trim();
    header == "*" || header.split(',').map(|t| t.trim()).any(|t| t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// `If-Range`: the range applies only if it names `etag` exactly (strong
/// comparison). A date never matches: blobs have no `Last-Modified`.
pub(crate) fn if_range_matches(header: &str, etag: &str) -> bool {
    header.trim() == etag
}

/// A content coding we may store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

/// Chooses the coding from `Accept-Encoding` among the stored variants: the
/// highest q-value wins, ties going to br, then gzip, then identity; identity
/// not listed counts as the lowest acceptable weight. No header means identity. When everything stored is refused (say
/// `identity;q=0` and no variant) identity is sent anyway, as RFC 9110 allows,
/// rather than a 406.
pub(crate) fn choose_coding(accept: Option<&str>, has_br: bool, has_gzip: bool) -> Coding {
    let Some(accept) = accept else { return Coding::Identity };
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for item in accept.split(',') {
        let mut fields = item.split(';');
        let coding = fields.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = Some(1.0f32);
        for p in fields {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q));
            }
        }
        let Some(q) = q else { continue }; // a malformed weight: ignore the entry
        match coding.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "identity" => identity = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let q_br = if has_br { br.or(star).unwrap_or(0.0) } else { 0.0 };
    let q_gzip = if has_gzip { gzip.or(star).unwrap_or(0.0) } else { 0.0 };
    // Unlisted, identity stays acceptable but is the last choice (0.001 is the
    // smallest weight a client can send).
    let q_identity = identity.or(star).unwrap_or(0.001);
    let mut best = (Coding::Identity, 0.0f32);
    for (c, q) in [(Coding::Brotli, q_br), (Coding::Gzip, q_gzip), (Coding::Identity, q_identity)] {
        if q > best.1 {
            best = (c, q);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(h: &str, len: u64, want: Ranges) {
        assert_eq!(parse_range(h, len, 4), want, "{h} of {len}");
    }

    #[test]
    fn ranges() {
        use Ranges::*;
        range("bytes=0-99", 1000, Parts(vec![(0, 99)]));
        range("bytes=100-", 1000, Parts(vec![(100, 999)]));
        range("bytes=-500", 1000, Parts(vec![(500, 999)]));
        range("bytes=-5000", 1000, Parts(vec![(0, 999)]));
        range("bytes=990-5000", 1000, Parts(vec![(990, 999)]));
        range("Bytes = 0-0 , 2-3", 10, Parts(vec![(0, 0), (2, 3)]));
        range("bytes=5-9,0-1", 10, Parts(vec![(0, 1), (5, 9)]));
        // Overlapping and adjacent ranges are coalesced.
        range("bytes=0-4,3-8,9-9", 10, Parts(vec![(0, 9)]));
        range("bytes=0-1,5-6,1-2", 10, Parts(vec![(0, 2), (5, 6)]));
        // Unsatisfiable ranges are dropped; none left is a 416.
        range("bytes=1000-1001", 1000, Unsatisfiable);
        range("bytes=5-6,1000-", 1000, Parts(vec![(5, 6)]));
        range("bytes=-0", 1000, Unsatisfiable);
        range("bytes=0-", 0, Unsatisfiable);
        range("bytes=99999999999999999999999-", 10, Unsatisfiable);
        range("bytes=0-99999999999999999999999", 10, Parts(vec![(0, 9)]));
        // Malformed is a 416; another unit is ignored.
        for bad in ["bytes=5-1", "bytes=a-b", "bytes=", "bytes=1", "bytes=--1", "bytes=+1-2", "0-1"] {
            range(bad, 10, Unsatisfiable);
        }
        range("items=0-1", 10, Whole);
        // Too many distinct ranges: the whole file, not an amplified response.
        range("bytes=0-0,2-2,4-4,6-6,8-8", 10, Whole);
        range("bytes=0-0,1-1,2-2,3-3,4-4,5-5", 10, Parts(vec![(0, 5)]));
    }

    #[test]
    fn conditionals() {
        let tag = "\"abc\"";
        assert!(none_match("\"abc\"", tag));
        assert!(none_match("W/\"abc\"", tag), "If-None-Match compares weakly");
        assert!(none_match("\"x\", W/\"abc\" ,\"y\"", tag));
        assert!(none_match(" * ", tag));
        assert!(!none_match("\"abc.br\"", tag));
        assert!(!none_match("abc", tag));
        assert!(if_range_matches("\"abc\"", tag));
        assert!(!if_range_matches("W/\"abc\"", tag), "If-Range compares strongly");
        assert!(!if_range_matches("Sun, 29 Nov 2026 10:00:00 GMT", tag));
    }

    #[test]
    fn codings() {
        use Coding::*;
        let all = |h: Option<&str>| choose_coding(h, true, true);
        assert_eq!(all(None), Identity);
        assert_eq!(all(Some("gzip, deflate, br, zstd")), Brotli);
        assert_eq!(all(Some("gzip")), Gzip);
        assert_eq!(all(Some("br;q=0.5, gzip;q=0.8")), Gzip);
        assert_eq!(all(Some("br;q=0, gzip;q=0")), Identity);
        assert_eq!(all(Some("identity")), Identity);
        assert_eq!(all(Some("*")), Brotli);
        assert_eq!(all(Some("*;q=0.5, identity")), Identity);
        assert_eq!(all(Some("gzip;q=0.1, identity;q=0")), Gzip);
        assert_eq!(all(Some("BR; Q=1")), Brotli);
        assert_eq!(all(Some("br;q=2")), Identity, "a malformed weight ignores the entry");
        assert_eq!(all(Some("")), Identity);
        assert_eq!(choose_coding(Some("br"), false, true), Identity);
        assert_eq!(choose_coding(Some("br, gzip"), false, true), Gzip);
        assert_eq!(choose_coding(Some("br, identity;q=0"), false, false), Identity, "nothing else to send");
    }
}

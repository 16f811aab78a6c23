//! Email addresses as login identifiers: one normal form, a strict syntax,
//! and look-alike detection.
//!
//! - **Normal form**: trimmed, Unicode NFKC (fullwidth `ｓｔｕ` is `stu`), and
//!   the lookup key is its lowercase. Login and every lookup use the same key,
//!   so an address typed in another width finds the same account.
//! - **Refused**: control, format (zero-width, bidirectional overrides, soft
//!   hyphen) and whitespace characters; quoted local parts, comments, display
//!   names and domain literals; anything RFC 5322 / 6531 does not allow in a
//!   dot-atom (`<script>@…`), checked by the `email_address` crate. The domain
//!   must have a dot (or be `localhost`).
//! - **Look-alikes**: two addresses whose Unicode TR39 confusable skeletons
//!   are equal are the same person's address to a reader, so an address that
//!   looks like an existing account's is refused as a duplicate — when either
//!   of the two has a non-ASCII character. Two ASCII addresses are compared
//!   exactly (case-insensitively): `arnie@` and `amie@` have one skeleton
//!   (`rn` looks like `m`) and are different people.

use email_address::{EmailAddress, Options};
use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

use crate::error::CoreError;

/// Longest accepted address (RFC 5321's path limit less the brackets).
const MAX_LEN: usize = 254;

/// Normalises and checks an email address; returns (display form, key form).
pub fn validate_email(email: &str) -> Result<(String, String), CoreError> {
    let bad = |why: String| Err(CoreError::invalid("email", why));
    let e: String = email.trim().nfkc().collect();
    if e.is_empty() || e.chars().count() > MAX_LEN {
        return bad(format!("must be 1–{MAX_LEN} characters"));
    }
    if let Some(c) = e.chars().find(|&c| invisible(c)) {
        return bad(format!("must not contain spaces, control or invisible characters (U+{:04X})", c as u32));
    }
    let Some((local, domain)) = e.rsplit_once('@') else { return bad("must contain @".into()) };
    if local.is_empty() || domain.is_empty() || !domain.contains('.') && domain != "localhost" {
        return bad("must look like name@domain".into());
    }
    if local.starts_with('"') {
        return bad("quoted local parts are not accepted".into());
    }
    let options = Options { allow_display_text: false, allow_domain_literal: false, ..Options::default() }
        .with_no_minimum_sub_domains();
    if let Err(why) = EmailAddress::parse_with_options(&e, options) {
        return bad(format!("is not a valid address: {}", why.to_string().trim_end_matches('.').to_lowercase()));
    }
    let key = e.to_lowercase();
    Ok((e, key))
}

/// The lookup key of whatever a person typed (login, bulk rows, the CLI):
/// the same normal form as [`validate_email`]'s, without its checks.
pub(crate) fn lookup_key(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// The TR39 confusable skeleton of a key.
pub(crate) fn skeleton(key: &str) -> String {
    unicode_security::skeleton(key).collect()
}

/// Whether two different keys with equal skeletons count as look-alikes
/// (see the module docs).
pub(crate) fn lookalikes(a: &str, b: &str) -> bool {
    a != b && (!a.is_ascii() || !b.is_ascii()) && skeleton(a) == skeleton(b)
}

fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            get_general_category(c),
            GeneralCategory::Format | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        )
        // Default-ignorable characters outside Cf (combining grapheme joiner,
        // Hangul fillers, variation selectors).
        || matches!(c, '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{FE00}'..='\u{FE0F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_and_key() {
        assert_eq!(validate_email(" Ada@Example.EDU ").unwrap(), ("Ada@Example.EDU".into(), "ada@example.edu".into()));
        // Fullwidth letters are their ASCII selves.
        assert_eq!(validate_email("ｓｔｕ@u.test").unwrap().1, "stu@u.test");
        assert_eq!(lookup_key(" ＳＴＵ@U.test"), "stu@u.test");
        // Internationalised addresses (RFC 6531) stay accepted.
        assert!(validate_email("josé@universidad.es").is_ok());
        assert!(validate_email("学生@大学.中国").is_ok());
        assert!(validate_email("root@localhost").is_ok());
    }

    #[test]
    fn refused() {
        for bad in [
            "",
            "no-at",
            "@x.y",
            "a@",
            "a b@x.y",
            "a@nodot",
            "stu\u{200b}@u.test",
            "stu\u{200d}@u.test",
            "\u{202e}stu@u.test",
            "stu\u{00ad}@u.test",
            "stu\u{034f}@u.test",
            "<script>@u.test",
            "\"quoted\"@u.test",
            "a@[127.0.0.1]",
            "Name <a@b.c>",
            "a..b@u.test",
            ".a@u.test",
            "a@-u.test",
            "a@u..test",
            "a\0@x.y",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@u.test", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn lookalike_rules() {
        // Cyrillic ѕ (U+0455) looks like s.
        assert!(lookalikes("ѕtu@u.test", "stu@u.test"));
        assert!(lookalikes("stu@u.test", "ѕtu@u.test"));
        // Greek omicron for o.
        assert!(lookalikes("bοb@u.test", "bob@u.test"));
        // Two ASCII addresses are never look-alikes, even with one skeleton.
        assert_eq!(skeleton("arnie@u.test"), skeleton("amie@u.test"));
        assert!(!lookalikes("arnie@u.test", "amie@u.test"));
        assert!(!lookalikes("stu@u.test", "stu@u.test"));
        // A diacritic is not a look-alike of its absence.
        assert!(!lookalikes("josé@u.test", "jose@u.test"));
    }
}

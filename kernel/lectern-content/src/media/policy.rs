//! What may be uploaded, and whether the bytes are what the uploader says.
//!
//! Accepted (declared `Content-Type`, parameters ignored, a few common aliases
//! folded in): `video/mp4`, `video/webm`, `audio/mpeg`, `audio/ogg`,
//! `audio/wav`, `application/pdf`, `image/png`, `image/jpeg`, `image/gif`,
//! `image/webp`, `text/plain`, `text/markdown`, `text/csv`, `text/vtt`
//! (captions: must open with the WebVTT signature).
//!
//! Refused: SVG (an SVG document can carry script), HTML (it would run as a
//! page on this origin), and everything else — archives, executables, office
//! formats — which an LMS page cannot show inline anyway.
//!
//! A declared type is checked against the first bytes: binary types must
//! carry their own magic number (sniffed with `infer`), text types must be
//! UTF-8 without NUL bytes, not a known binary format, and must not open with
//! HTML, SVG or XML markup. A file that fails is a "lying" upload and is
//! refused, so a stored blob is always served with a type its bytes support.

use crate::error::CoreError;

/// One accepted type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// The canonical type, stored and served.
    pub essence: &'static str,
    /// Types `infer` may report for genuine files of this type; empty = text.
    sniffed: &'static [&'static str],
}

impl Accepted {
    pub fn is_text(&self) -> bool {
        self.sniffed.is_empty()
    }

    /// The `Content-Type` stored with the blob: text is UTF-8 (checked).
    pub fn stored_type(&self) -> String {
        if self.is_text() { format!("{}; charset=utf-8", self.essence) } else { self.essence.to_owned() }
    }
}

const ACCEPTED: &[Accepted] = &[
    Accepted { essence: "video/mp4", sniffed: &["video/mp4", "video/x-m4v"] },
    Accepted { essence: "video/webm", sniffed: &["video/webm"] },
    Accepted { essence: "audio/mpeg", sniffed: &["audio/mpeg"] },
    Accepted { essence: "audio/ogg", sniffed: &["audio/ogg", "audio/opus"] },
    Accepted { essence: "audio/wav", sniffed: &["audio/x-wav"] },
    Accepted { essence: "application/pdf", sniffed: &["application/pdf"] },
    Accepted { essence: "image/png", sniffed: &["image/png"] },
    Accepted { essence: "image/jpeg", sniffed: &["image/jpeg"] },
    Accepted { essence: "image/gif", sniffed: &["image/gif"] },
    Accepted { essence: "image/webp", sniffed: &["image/webp"] },
    Accepted { essence: "text/plain", sniffed: &[] },
    Accepted { essence: "text/markdown", sniffed: &[] },
    Accepted { essence: "text/csv", sniffed: &[] },
    // Captions and subtitles for videos; the file must open with the `WEBVTT` signature.
    Accepted { essence: "text/vtt", sniffed: &[] },
];

const ALIASES: &[(&str, &str)] = &[
    ("audio/mp3", "audio/mpeg"),
    ("audio/x-wav", "audio/wav"),
    ("audio/wave", "audio/wav"),
    ("audio/vnd.wave", "audio/wav"),
    ("image/jpg", "image/jpeg"),
    ("text/x-markdown", "text/markdown"),
];

/// Markup a text upload must not open with: browsers and viewers that ignore
/// the declared type would run it.
const MARKUP: &[&str] = &["<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe"];

/// The accepted type a declared `Content-Type` names, or why it is refused.
pub(crate) fn accept(declared: &str) -> Result<&'static Accepted, CoreError> {
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let essence = ALIASES.iter().find(|(a, _)| *a == essence).map(|(_, c)| (*c).to_owned()).unwrap_or(essence);
    if let Some(a) = ACCEPTED.iter().find(|a| a.essence == essence) {
        return Ok(a);
    }
    let why = match essence.as_str() {
        "" => "a Content-Type is required".to_owned(),
        "image/svg+xml" => "SVG is refused: an SVG document can carry script".to_owned(),
        "text/html" | "application/xhtml+xml" => {
            "HTML is refused: it would run as a page on this origin; upload Markdown or PDF".to_owned()
        }
        other => format!(
            "`{}` is not accepted; accepted types: {}",
            other.chars().take(100).collect::<String>(),
            ACCEPTED.iter().map(|a| a.essence).collect::<Vec<_>>().join(", ")
        ),
    };
    Err(CoreError::UnsupportedMediaType(why))
}

/// Checks the first bytes of an upload (`head`, of a file of `size` bytes)
/// against the accepted type.
pub(crate) fn check_bytes(a: &Accepted, head: &[u8], size: u64) -> Result<(), CoreError> {
    let detected = infer::get(head);
    let lie = |what: String| CoreError::ContentMismatch(format!("declared {}, but {what}", a.essence));
    if !a.is_text() {
        return match detected {
            Some(t) if a.sniffed.contains(&t.mime_type()) => Ok(()),
            Some(t) => Err(lie(format!("the bytes are {}", t.mime_type()))),
            None if looks_like_markup(head) => Err(lie("the bytes are markup (HTML/SVG/XML)".into())),
            None => Err(lie(format!("the bytes are not {}", a.essence))),
        };
    }
    if let Some(t) = detected
        && t.matcher_type() != infer::MatcherType::Text
    {
        return Err(lie(format!("the bytes are {}", t.mime_type())));
    }
    if head.contains(&0) {
        return Err(lie("the bytes are binary (NUL bytes)".into()));
    }
    if let Err(e) = std::str::from_utf8(head) {
        // The head may end inside a character when the file goes on.
        let cut_short = e.error_len().is_none() && (head.len() as u64) < size;
        if !cut_short {
            return Err(lie("the bytes are not UTF-8 text".into()));
        }
    }
    if looks_like_markup(head) {
        return Err(lie("the text is HTML, SVG or XML markup".into()));
    }
    // WebVTT §4.1: an optional BOM, `WEBVTT`, then a space, tab or line end.
    if a.essence == "text/vtt" {
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let signed = body.strip_prefix(b"WEBVTT").is_some_and(|rest| {
            rest.is_empty() && (head.len() as u64) == size || matches!(rest.first(), Some(b' ' | b'\t' | b'\n' | b'\r'))
        });
        if !signed {
            return Err(lie("the file does not open with the `WEBVTT` signature".into()));
        }
    }
    Ok(())
}

fn looks_like_markup(head: &[u8]) -> bool {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(body.len());
    let lead: Vec<u8> = body[start..].iter().take(16).map(u8::to_ascii_lowercase).collect();
    MARKUP.iter().any(|m| lead.starts_with(m.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
    const ELF: &[u8] = &[
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 56, 0, 1, 0, 0, 0,
    ];
    const ZIP: &[u8] = b"PK\x03\x04\x14\0\0\0\x08\0";
    const MP4: &[u8] = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2mp41\0\0\0\x08free";

    /// `Ok(())`, or the error's kind and message.
    fn check(declared: &str, bytes: &[u8], expected: Result<&str, &str>) {
        let got = accept(declared).and_then(|a| check_bytes(a, bytes, bytes.len() as u64).map(|()| a.stored_type()));
        match (got, expected) {
            (Ok(t), Ok(want)) => assert_eq!(t, want, "{declared}"),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{declared}: `{e}` lacks `{want}`"),
            (got, want) => panic!("{declared}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn captions_must_be_webvtt() {
        let vtt = b"WEBVTT\n\n00:00.000 --> 00:02.000\nStomata open.\n";
        check("text/vtt", vtt, Ok("text/vtt; charset=utf-8"));
        check("text/vtt", b"\xEF\xBB\xBFWEBVTT - Leaves\n", Ok("text/vtt; charset=utf-8"));
        check("text/vtt", b"WEBVTT", Ok("text/vtt; charset=utf-8"));
        check("text/vtt", b"1\n00:00:00,000 --> 00:00:02,000\nSRT\n", Err("WEBVTT"));
        check("text/vtt", b"WEBVTTX\n", Err("WEBVTT"));
        check("text/vtt", b"<script>alert(1)</script>", Err("markup"));
    }

    #[test]
    fn genuine_files_are_accepted_under_their_canonical_type() {
        check("image/png", PNG, Ok("image/png"));
        check("application/pdf", PDF, Ok("application/pdf"));
        check("video/mp4", MP4, Ok("video/mp4"));
        check("Image/JPG", b"\xff\xd8\xff\xe0\0\x10JFIF\0", Ok("image/jpeg"));
        check("text/plain; charset=utf-8", "héllo, wörld\n".as_bytes(), Ok("text/plain; charset=utf-8"));
        check("text/markdown", b"# Week 1\n\n<b>bold</b> inside is fine\n", Ok("text/markdown; charset=utf-8"));
        check("text/csv", b"a,b\n1,2\n", Ok("text/csv; charset=utf-8"));
        check("text/plain", b"#!/bin/sh\necho shell scripts are text\n", Ok("text/plain; charset=utf-8"));
    }

    #[test]
    fn refused_types() {
        check("image/svg+xml", b"<svg/>", Err("SVG is refused"));
        check("text/html", b"<p>hi</p>", Err("HTML is refused"));
        check("application/zip", ZIP, Err("`application/zip` is not accepted"));
        check("", b"x", Err("Content-Type is required"));
    }

    #[test]
    fn lying_types_are_caught() {
        check("image/png", PDF, Err("declared image/png, but the bytes are application/pdf"));
        check("image/png", b"<html><script>alert(1)</script>", Err("the bytes are text/html"));
        check("image/png", b"not a png", Err("the bytes are not image/png"));
        check("text/plain", PDF, Err("the bytes are application/pdf"));
        check("text/plain", ELF, Err("the bytes are application/x-executable"));
        check("text/csv", ZIP, Err("the bytes are application/zip"));
        check("text/plain", b"abc\0def", Err("NUL"));
        check("text/plain", b"\xff\xfe\xfd", Err("not UTF-8"));
        check("text/markdown", b"\xEF\xBB\xBF  <!DOCTYPE html><html>", Err("markup"));
        check("text/plain", b"<svg onload=alert(1)>", Err("markup"));
        check("video/mp4", PNG, Err("the bytes are image/png"));
    }

    #[test]
    fn a_head_cut_inside_a_character_is_fine_when_the_file_goes_on() {
        let text = "é".repeat(10);
        let head = &text.as_bytes()[..5];
        let a = accept("text/plain").unwrap();
        assert!(check_bytes(a, head, 20).is_ok());
        assert!(check_bytes(a, head, 5).is_err(), "a complete file must be valid UTF-8");
    }
}

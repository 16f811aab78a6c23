//! `org.lectern.tutoring`: Lectern's first-party tutor. It answers a
//! student's question from their course's pages and cites the passages.
//!
//! The split with the kernel: the kernel owns the vector index, the keyword
//! index and the embedding model (the `vector` and `embed` services) and
//! decides what a student may see — during `ask` it limits every search to
//! the items the student may open, so a hidden or locked page can never be
//! quoted, whatever a plugin does. The plugin owns the pedagogy: how pages
//! become passages ([`chunk`]), how the two searches are fused and when the
//! material is too thin to answer ([`retrieve`]), and what the answer says.
//!
//! Data: one collection per course (`course-<id>`), points `<doc>:<n>` with
//! metadata `course`, `item`, `doc`, `section`, `pos`, `hash` and the passage
//! as `$text`; and in kv, per document, the passages last indexed (id, hash,
//! model) so an edit re-embeds only the passages that changed.
//!
//! It must never panic: a panic traps the call and the student sees an error.

// Natively (unit tests) nothing calls the WIT glue below.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod chunk;
pub mod retrieve;
pub mod text;

use lectern_sdk::v0_2::tutoring::exports::lectern::plugin::tutor::{self, Answer, Citation, Document, Question};
use lectern_sdk::v0_2::tutoring::lectern::plugin::types::{Context, Error, Field};
use lectern_sdk::v0_2::tutoring::lectern::plugin::{embed, vector};
use lectern_sdk::v0_2::tutoring::store;
use serde::{Deserialize, Serialize};

use crate::retrieve::{Candidate, Hit, Thresholds};

/// Must match `manifest.json`.
pub const ID: &str = "org.lectern.tutoring";
/// The crate version (plugins/tutoring/Cargo.toml), which `manifest.json` must match.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Candidates taken from each search before fusion.
const CANDIDATES: u32 = 20;
/// Texts per `embed` call.
const EMBED_BATCH: usize = 32;
/// Longest question accepted, in characters.
const MAX_QUESTION: usize = 2000;
/// Longest excerpt in a citation, in characters.
const EXCERPT_CHARS: usize = 600;
/// Refusal text when retrieval is weak; the kernel and UI may match on it.
pub const NOT_FOUND: &str = "I don't find this in the course material.";

struct Plugin;

lectern_sdk::simple_lifecycle!(
    v0_2::tutoring,
    Plugin,
    id = ID,
    name = "Lectern tutor",
    version = VERSION,
    data_version = 1
);

/// What was indexed for one document.
#[derive(Serialize, Deserialize, Default)]
struct Indexed {
    model: String,
    /// (point id, passage hash), in order.
    passages: Vec<(String, String)>,
}

fn collection(course: &str) -> String {
    format!("course-{course}")
}

fn doc_key(course: &str, doc: &str) -> String {
    format!("doc/{course}/{doc}")
}

fn field(key: &str, value: impl Into<String>) -> Field {
    Field { key: key.to_owned(), value: value.into() }
}

fn course_of(ctx: &Context) -> Result<String, Error> {
    ctx.course.clone().ok_or_else(|| Error::InvalidInput("the call names no course".into()))
}

fn embed_all(texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
    let mut out = Vec::with_capacity(texts.len());
    for batch in texts.chunks(EMBED_BATCH) {
        out.extend(embed::embed(batch)?);
    }
    if out.len() != texts.len() {
        return Err(Error::Internal(format!("the embedder returned {} vectors for {} texts", out.len(), texts.len())));
    }
    Ok(out)
}

fn ensure(course: &str) -> Result<(), Error> {
    vector::ensure_collection(&vector::CollectionSpec {
        name: collection(course),
        dimension: embed::dimension(),
        distance: vector::Distance::Cosine,
    })
}

fn to_hit(h: vector::Hit) -> Hit {
    Hit { id: h.id, score: h.score, metadata: h.metadata.into_iter().map(|f| (f.key, f.value)).collect() }
}

/// The text searched for: a follow-up ("and what about its cache?") borrows
/// the previous question's words; any other question is searched by itself.
fn search_text(question: &str, history: &[tutor::Turn]) -> String {
    match history.last() {
        Some(prev) if retrieve::is_follow_up(question) => format!("{} {question}", prev.question),
        _ => question.to_owned(),
    }
}

fn refusal(why: &str) -> Answer {
    Answer { text: String::new(), citations: vec![], refusal: Some(why.to_owned()) }
}

impl tutor::Guest for Plugin {
    fn index_document(ctx: Context, doc: Document) -> Result<u32, Error> {
        let course = if doc.course.is_empty() { course_of(&ctx)? } else { doc.course.clone() };
        if doc.id.is_empty() || doc.id.contains('/') || doc.id.len() > 200 {
            return Err(Error::InvalidInput("document ids are 1–200 bytes without `/`".into()));
        }
        ensure(&course)?;
        let model = embed::model();
        let key = doc_key(&course, &doc.id);
        let old: Indexed = store::get(&key)?.unwrap_or_default();
        let chunks = chunk::chunk(&doc.text);
        let passages: Vec<(String, String)> = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("{}:{i}", doc.id), text::hash(&c.indexed_text(&doc.title))))
            .collect();
        // Unchanged passages embedded by the same model stay as they are.
        let changed: Vec<usize> =
            (0..chunks.len()).filter(|&i| old.model != model || old.passages.get(i) != Some(&passages[i])).collect();
        let texts: Vec<String> = changed.iter().map(|&i| chunks[i].indexed_text(&doc.title)).collect();
        let vectors = embed_all(&texts)?;
        let points: Vec<vector::Point> = changed
            .iter()
            .zip(vectors)
            .map(|(&i, v)| vector::Point {
                id: passages[i].0.clone(),
                vector: v,
                metadata: vec![
                    field("course", course.clone()),
                    field("item", doc.item.clone()),
                    field("doc", doc.id.clone()),
                    field("title", doc.title.clone()),
                    field("section", chunks[i].section(&doc.title)),
                    field("pos", i.to_string()),
                    field("hash", passages[i].1.clone()),
                    field("language", doc.language.clone()),
                    field("$text", texts_for_index(&doc.title, &chunks[i])),
                ],
            })
            .collect();
        for batch in points.chunks(64) {
            vector::upsert(&collection(&course), batch)?;
        }
        let stale: Vec<String> = old.passages.iter().skip(passages.len()).map(|(id, _)| id.clone()).collect();
        if !stale.is_empty() {
            vector::delete(&collection(&course), &stale)?;
        }
        store::put(&key, &Indexed { model, passages })?;
        Ok(chunks.len() as u32)
    }

    fn remove_document(ctx: Context, id: String) -> Result<(), Error> {
        let course = course_of(&ctx)?;
        let key = doc_key(&course, &id);
        let Some(old) = store::get::<Indexed>(&key)? else { return Ok(()) };
        let ids: Vec<String> = old.passages.into_iter().map(|(id, _)| id).collect();
        match vector::delete(&collection(&course), &ids) {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        store::delete(&key)?;
        Ok(())
    }

    fn ask(ctx: Context, q: Question) -> Result<Answer, Error> {
        if let Some(open) = &q.open_assessment {
            return Ok(refusal(&format!(
                "The tutor is paused while you have an assessment open in this course (“{}”); it is back once you submit.",
                open.title
            )));
        }
        let question = q.text.trim();
        if question.is_empty() || question.chars().count() > MAX_QUESTION {
            return Err(Error::InvalidInput(format!("a question is 1–{MAX_QUESTION} characters")));
        }
        let course = if q.course.is_empty() { course_of(&ctx)? } else { q.course.clone() };
        let search = search_text(question, &q.history);
        // The history may rank the passages, never decide whether to answer.
        let judged = retrieve::judged_text(question, &search);
        let name = collection(&course);
        let texts = if judged == search { vec![search.clone()] } else { vec![search.clone(), judged.to_owned()] };
        let mut vectors = embed_all(&texts)?.into_iter();
        let Some(v) = vectors.next() else {
            return Err(Error::Internal("the embedder returned no vector".into()));
        };
        let by_vector = match vector::query(&name, &v, CANDIDATES, None) {
            Ok(h) => h,
            Err(Error::NotFound(_)) => return Ok(refusal("This course's material has not been indexed yet.")),
            Err(e) => return Err(e),
        };
        let keyword_filter = vector::Filter { must: vec![field("$keywords", search.clone())] };
        let by_keyword = vector::query(&name, &v, CANDIDATES, Some(&keyword_filter))?;
        let fused =
            retrieve::fuse(by_vector.into_iter().map(to_hit).collect(), by_keyword.into_iter().map(to_hit).collect());
        // A follow-up was searched with the previous question: how close the
        // material is to what the student asked now takes a search of its own.
        let best_similarity = match vectors.next() {
            Some(own) => vector::query(&name, &own, CANDIDATES, None)?.iter().map(|h| h.score).reduce(f32::max),
            None => retrieve::best_similarity(&fused),
        };
        if retrieve::is_weak(judged, best_similarity, &fused, Thresholds::for_model(&embed::model())) {
            return Ok(refusal(NOT_FOUND));
        }
        let cited: Vec<Candidate> = fused.into_iter().take(retrieve::CITATIONS).collect();
        let answer = retrieve::compose(question, &cited);
        let citations = cited
            .iter()
            .map(|c| {
                let (title, section) = (c.hit.get("title"), c.hit.get("section"));
                Citation {
                    document_id: c.hit.id.clone(),
                    item: c.hit.get("item").to_owned(),
                    title: if title.is_empty() { section.to_owned() } else { title.to_owned() },
                    // The section path when the passage is under a heading; the
                    // kernel finds its anchor in the page it renders.
                    heading: (!section.is_empty() && section != title).then(|| section.to_owned()),
                    anchor: None,
                    excerpt: text::excerpt(passage_body(c.hit.get("$text")), EXCERPT_CHARS),
                    score: c.fused,
                }
            })
            .collect();
        Ok(Answer { text: answer, citations, refusal: None })
    }
}

/// The keyword index sees the title and headings too (as the embedder does).
fn texts_for_index(title: &str, c: &chunk::Chunk) -> String {
    c.indexed_text(title)
}

/// The passage without the `Title › Heading` line added for indexing.
fn passage_body(indexed: &str) -> &str {
    indexed.split_once('\n').map(|(_, body)| body).unwrap_or(indexed)
}

// Only for WebAssembly: the export names (`lectern:plugin/tutor@0.1.0#…`)
// are not valid symbol names for a native linker, and the native build of
// this crate exists only to run the unit tests.
#[cfg(target_arch = "wasm32")]
lectern_sdk::v0_2::tutoring::export!(Plugin);

//! Hybrid retrieval and the extractive answer: vector and keyword (BM25)
//! hits fused by reciprocal rank, a test for weak retrieval, and sentences
//! chosen from the best passages, each marked with its citation.

use crate::text;

/// Reciprocal rank fusion's constant (Cormack et al. 2009 use 60).
pub const RRF_K: f32 = 60.0;
/// Passages cited in an answer.
pub const CITATIONS: usize = 3;
/// Sentences quoted in an extractive answer.
pub const ANSWER_SENTENCES: usize = 3;

/// A hit from either search, with the metadata the plugin stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub metadata: Vec<(String, String)>,
}

impl Hit {
    pub fn get(&self, key: &str) -> &str {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub hit: Hit,
    /// Similarity from the vector search, when it found this passage.
    pub similarity: Option<f32>,
    /// BM25 score from the keyword search, when it found this passage.
    pub bm25: Option<f32>,
    pub fused: f32,
}

/// Fuses two rankings: each list contributes `1 / (RRF_K + rank)`.
pub fn fuse(vector: Vec<Hit>, keyword: Vec<Hit>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for (list, is_vector) in [(vector, true), (keyword, false)] {
        for (rank, h) in list.into_iter().enumerate() {
            let add = 1.0 / (RRF_K + rank as f32 + 1.0);
            let score = h.score;
            let c = match out.iter_mut().find(|c| c.hit.id == h.id) {
                Some(c) => c,
                None => {
                    out.push(Candidate { hit: h, similarity: None, bm25: None, fused: 0.0 });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            c.fused += add;
            if is_vector {
                c.similarity = Some(score);
            } else {
                c.bm25 = Some(score);
            }
        }
    }
    out.sort_by(|a, b| b.fused.total_cmp(&a.fused).then_with(|| a.hit.id.cmp(&b.hit.id)));
    out
}

/// Share of the question's distinct terms that occur in `passage`.
pub fn coverage(question: &str, passage: &str) -> f32 {
    let mut q = text::terms(question);
    q.sort();
    q.dedup();
    if q.is_empty() {
        return 0.0;
    }
    let p = text::terms(passage);
    q.iter().filter(|t| p.contains(t)).count() as f32 / q.len() as f32
}

/// Thresholds for "the material doesn't cover this", per embedding model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Below this best vector similarity the semantic side found nothing close…
    pub min_similarity: f32,
    /// …and below this share of the question's terms the keyword side neither.
    pub min_coverage: f32,
}

impl Thresholds {
    /// Measured on the retrieval test course's in-scope and out-of-scope
    /// questions (see README): the lexical embedder's similarities run lower
    /// than a sentence model's for the same relevance.
    pub fn for_model(model: &str) -> Thresholds {
        if model.contains("lexical") {
            Thresholds { min_similarity: 0.30, min_coverage: 0.5 }
        } else {
            Thresholds { min_similarity: 0.45, min_coverage: 0.5 }
        }
    }
}

/// The best vector similarity among the candidates, if the vector search found any.
pub fn best_similarity(candidates: &[Candidate]) -> Option<f32> {
    candidates.iter().filter_map(|c| c.similarity).reduce(f32::max)
}

/// Whether retrieval is too weak to answer `question` from: the best vector
/// similarity *of that question* (`best_similarity`) is not close, and no
/// passage about to be cited covers its terms.
///
/// Both measures must belong to the text being judged. A follow-up is
/// searched together with the previous question, and that search is always
/// close to the material (the previous question was answered): judging an
/// off-topic question by it would answer it with the previous question's
/// passages. See [`judged_text`].
pub fn is_weak(question: &str, best_similarity: Option<f32>, cited: &[Candidate], t: Thresholds) -> bool {
    let close = best_similarity.is_some_and(|s| s >= t.min_similarity);
    let best_cov = cited.iter().take(CITATIONS).map(|c| coverage(question, c.hit.get("$text"))).fold(0.0, f32::max);
    !close && best_cov < t.min_coverage
}

/// Words that point back into the conversation ("how long is *it* kept?").
const REFERRING: &[&str] = &[
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "he", "she", "him", "his", "her",
];
/// Openings that continue the previous question ("and for UDP?", "what about DNS?").
const CONTINUING: &[&[&str]] =
    &[&["and"], &["but"], &["also"], &["so"], &["then"], &["what", "about"], &["how", "about"]];

/// Whether `question` leans on the previous one: it has no words of its own
/// ("why?"), or it is short and refers back or continues ("and what about
/// its cache?", "how long is it kept?"). A short question that stands on its own ("What is the
/// capital of France?") is searched by itself.
pub fn is_follow_up(question: &str) -> bool {
    let own = text::terms(question).len();
    if own == 0 {
        return true;
    }
    let words: Vec<String> =
        question.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let refers = words.iter().any(|w| REFERRING.contains(&w.as_str()));
    let continues = CONTINUING
        .iter()
        .any(|opening| opening.len() <= words.len() && opening.iter().zip(&words).all(|(a, b)| *a == b.as_str()));
    own < 3 && (refers || continues)
}

/// The text the decline rule judges: the student's question itself, so the
/// history can rank passages (what "its" refers to) but never make an
/// off-topic question answerable. Only a question with no words of its own
/// ("why?", "how does that work?") is judged with the question it continues.
pub fn judged_text<'a>(question: &'a str, search: &'a str) -> &'a str {
    if text::terms(question).is_empty() { search } else { question }
}

/// The extractive answer: the sentences of the cited passages that share
/// most terms with the question, in passage order, each followed by its
/// citation number. Falls back to the best passage's opening sentences when
/// no sentence shares a term (a paraphrased question found by meaning).
pub fn compose(question: &str, cited: &[Candidate]) -> String {
    let q: Vec<String> = text::terms(question);
    let mut scored: Vec<(f32, usize, usize, String)> = Vec::new();
    for (ci, c) in cited.iter().enumerate() {
        for (si, s) in text::sentences(c.hit.get("$text")).into_iter().enumerate() {
            let st = text::terms(&s);
            let overlap = q.iter().filter(|t| st.contains(t)).count() as f32;
            if overlap > 0.0 {
                // Earlier passages and opening sentences weigh a little more.
                let score = overlap - 0.2 * ci as f32 - 0.01 * si as f32;
                scored.push((score, ci, si, s));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.truncate(ANSWER_SENTENCES);
    if scored.is_empty()
        && let Some(first) = cited.first()
    {
        scored = text::sentences(first.hit.get("$text"))
            .into_iter()
            .take(2)
            .enumerate()
            .map(|(si, s)| (0.0, 0, si, s))
            .collect();
    }
    scored.sort_by_key(|(_, ci, si, _)| (*ci, *si));
    scored.into_iter().map(|(_, ci, _, s)| format!("{s} [{}]", ci + 1)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, score: f32, text: &str) -> Hit {
        Hit { id: id.into(), score, metadata: vec![("$text".into(), text.into())] }
    }

    #[test]
    fn fusion_rewards_agreement() {
        let v = vec![hit("a", 0.9, ""), hit("b", 0.8, ""), hit("c", 0.7, "")];
        let k = vec![hit("c", 12.0, ""), hit("d", 9.0, "")];
        let f = fuse(v, k);
        let ids: Vec<&str> = f.iter().map(|c| c.hit.id.as_str()).collect();
        // c is in both lists (ranks 3 and 1): it beats a (rank 1 in one list).
        assert_eq!(ids, vec!["c", "a", "b", "d"]);
        assert_eq!(f[0].similarity, Some(0.7));
        assert_eq!(f[0].bm25, Some(12.0));
        assert_eq!(f[3].similarity, None);
    }

    #[test]
    fn weak_retrieval_needs_both_sides_to_fail() {
        let t = Thresholds { min_similarity: 0.5, min_coverage: 0.5 };
        let c = |sim: f32, text: &str| Candidate {
            hit: hit("x", sim, text),
            similarity: Some(sim),
            bm25: None,
            fused: 1.0,
        };
        let q = "what is the TCP handshake";
        let check = |cands: &[Candidate]| is_weak(q, best_similarity(cands), cands, t);
        assert!(!check(&[c(0.9, "nothing alike")]));
        assert!(!check(&[c(0.1, "The TCP handshake has three steps.")]));
        assert!(check(&[c(0.1, "Ethernet frames carry MAC addresses.")]));
        assert!(check(&[]));
    }

    #[test]
    fn follow_ups_refer_back_or_continue_and_standalone_questions_do_not() {
        for q in ["and what about its cache?", "How long is it kept?", "Why?", "What about DNS?", "And for UDP?"] {
            assert!(is_follow_up(q), "{q}");
        }
        for q in [
            "What is the capital of France?",
            "What is DNS caching?",
            "How does ARP find a MAC address?",
            // Long enough to stand on its own even though it says `that`.
            "Which protocol maps an IPv4 address that a host knows to a MAC address?",
        ] {
            assert!(!is_follow_up(q), "{q}");
        }
    }

    /// The history ranks a follow-up's passages but never vouches for a
    /// question of its own: an off-topic question after an on-topic one is
    /// judged by its own similarity and terms, whatever the search borrowed.
    #[test]
    fn the_decline_rule_judges_the_question_not_the_history() {
        let t = Thresholds { min_similarity: 0.3, min_coverage: 0.5 };
        let arp = |sim: f32, text: &str| Candidate {
            hit: hit("arp", sim, text),
            similarity: Some(sim),
            bm25: Some(3.0),
            fused: 1.0,
        };
        let cited = [
            arp(0.6, "ARP maps an IPv4 address to a MAC address."),
            arp(0.5, "Replies are kept in the ARP cache for a few minutes."),
        ];
        let off_topic = "What is the capital of France?";
        let search = format!("How does ARP find a MAC address? {off_topic}");
        assert_eq!(judged_text(off_topic, &search), off_topic);
        // The history-augmented search is close to ARP (0.6): that must not answer it…
        assert!(!is_weak(off_topic, best_similarity(&cited), &cited, t), "the old rule answered it");
        // …its own similarity (0.1) and its own terms (none in the passages) decline it.
        assert!(is_weak(off_topic, Some(0.1), &cited, t));
        // A follow-up's own terms are in the passages its search found: answered.
        assert!(!is_weak("and what about its cache?", Some(0.1), &cited, t));
        // A question with no words of its own is judged with the one it continues.
        let search = "How does ARP find a MAC address? Why?";
        assert_eq!(judged_text("Why?", search), search);
        assert!(!is_weak(judged_text("Why?", search), Some(0.1), &cited, t));
    }

    #[test]
    fn answers_quote_matching_sentences_with_citations() {
        let cited = vec![
            Candidate {
                hit: hit(
                    "1",
                    0.9,
                    "ARP resolves an IPv4 address to a MAC address. It broadcasts a request. Replies are cached.",
                ),
                similarity: Some(0.9),
                bm25: None,
                fused: 1.0,
            },
            Candidate {
                hit: hit("2", 0.5, "The ARP cache expires entries."),
                similarity: Some(0.5),
                bm25: None,
                fused: 0.5,
            },
        ];
        let a = compose("How does ARP find a MAC address?", &cited);
        assert_eq!(a, "ARP resolves an IPv4 address to a MAC address. [1] The ARP cache expires entries. [2]");
        // No shared term: the best passage's opening.
        let a = compose("zzz", &cited);
        assert_eq!(a, "ARP resolves an IPv4 address to a MAC address. [1] It broadcasts a request. [1]");
    }
}

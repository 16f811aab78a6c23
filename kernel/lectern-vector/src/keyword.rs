//! BM25 keyword search over each point's optional text.
//!
//! Tokens: Unicode lowercase, split on anything that is not alphanumeric, a
//! small English stopword list dropped, no stemming. Postings are append-only
//! per internal id; dead ids are skipped through the caller's visibility check
//! and disappear when the collection is compacted. Document frequencies and
//! lengths are kept exact as documents come and go.

use std::collections::HashMap;

const K1: f32 = 1.2;
const B: f32 = 0.75;
const MAX_TOKEN_CHARS: usize = 64;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if", "in", "into", "is",
    "it", "its", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "were", "will", "with",
];

pub(crate) fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && t.chars().count() <= MAX_TOKEN_CHARS)
        .map(str::to_lowercase)
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
}

/// Term → count for one text, in a stable order.
pub(crate) fn term_counts(text: &str) -> Vec<(String, u32)> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for t in tokenize(text) {
        *counts.entry(t).or_default() += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort();
    v
}

#[derive(Default)]
pub(crate) struct Bm25 {
    terms: HashMap<String, u32>,
    names: Vec<String>,
    postings: Vec<Vec<(u32, u32)>>,
    df: Vec<u32>,
    /// Per internal id: its terms and counts (empty when it has no live text).
    docs: Vec<Box<[(u32, u32)]>>,
    /// Per internal id: its token count.
    lens: Vec<u32>,
    live_docs: u32,
    total_len: u64,
}

impl Bm25 {
    /// Indexes `counts` as the text of internal id `slot` (which has no text yet).
    pub(crate) fn add(&mut self, slot: u32, counts: &[(String, u32)]) {
        let s = slot as usize;
        if self.docs.len() <= s {
            self.docs.resize_with(s + 1, Default::default);
            self.lens.resize(s + 1, 0);
        }
        if counts.is_empty() {
            return;
        }
        let mut doc = Vec::with_capacity(counts.len());
        for (term, tf) in counts {
            let id = match self.terms.get(term) {
                Some(&id) => id,
                None => {
                    let id = self.names.len() as u32;
                    self.terms.insert(term.clone(), id);
                    self.names.push(term.clone());
                    self.postings.push(Vec::new());
                    self.df.push(0);
                    id
                }
            };
            self.postings[id as usize].push((slot, *tf));
            self.df[id as usize] += 1;
            self.total_len += u64::from(*tf);
            doc.push((id, *tf));
        }
        self.live_docs += 1;
        self.lens[s] = counts.iter().map(|(_, tf)| tf).sum();
        self.docs[s] = doc.into_boxed_slice();
    }

    /// Forgets the text of `slot` (overwritten or deleted).
    pub(crate) fn remove(&mut self, slot: u32) {
        let Some(doc) = self.docs.get_mut(slot as usize) else { return };
        let doc = std::mem::take(doc);
        if doc.is_empty() {
            return;
        }
        for (id, tf) in doc.iter() {
            self.df[*id as usize] -= 1;
            self.total_len -= u64::from(*tf);
        }
        self.live_docs -= 1;
    }

    /// The term counts of `slot`, to carry a document into a compacted index.
    pub(crate) fn counts(&self, slot: u32) -> Vec<(String, u32)> {
        self.docs
            .get(slot as usize)
            .map(|d| d.iter().map(|(id, tf)| (self.names[*id as usize].clone(), *tf)).collect())
            .unwrap_or_default()
    }

    /// The `k` best visible documents for `query`, best first.
    pub(crate) fn search(&self, query: &str, k: usize, visible: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        if self.live_docs == 0 {
            return Vec::new();
        }
        let n = self.live_docs as f32;
        let avgdl = (self.total_len as f32 / n).max(1.0);
        let mut qterms: Vec<u32> = tokenize(query).filter_map(|t| self.terms.get(&t).copied()).collect();
        qterms.sort_unstable();
        qterms.dedup();
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for t in qterms {
            let df = self.df[t as usize] as f32;
            if df == 0.0 {
                continue;
            }
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(slot, tf) in &self.postings[t as usize] {
                // A posting of a replaced document is stale: its slot's text is gone.
                if self.docs.get(slot as usize).is_none_or(|d| d.is_empty()) || !visible(slot) {
                    continue;
                }
                let dl = self.lens[slot as usize];
                let tf = tf as f32;
                let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl as f32 / avgdl));
                *scores.entry(slot).or_default() += s;
            }
        }
        let mut out: Vec<(u32, f32)> = scores.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_lowercases_splits_and_drops_stopwords() {
        let t: Vec<String> = tokenize("The Quick-brown fox's Ünïcode, and 42 apples!").collect();
        assert_eq!(t, ["quick", "brown", "fox", "s", "ünïcode", "42", "apples"]);
    }

    #[test]
    fn bm25_prefers_rarer_terms_and_shorter_documents() {
        let mut idx = Bm25::default();
        idx.add(0, &term_counts("photosynthesis in plants"));
        idx.add(1, &term_counts("plants and animals and plants"));
        idx.add(2, &term_counts("animals of the ocean, a very long text about animals and many other things"));
        let hits = idx.search("photosynthesis plants", 10, |_| true);
        assert_eq!(hits[0].0, 0);
        assert_eq!(hits.len(), 2);
        let hits = idx.search("animals", 10, |_| true);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 2]);
        idx.remove(0);
        assert!(idx.search("photosynthesis", 10, |_| true).is_empty());
        assert_eq!(idx.search("plants", 10, |s| s != 1), vec![]);
    }
}

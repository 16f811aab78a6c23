//! The built-in embedder: feature hashing of words, word bigrams and character n-grams.
//!
//! A text becomes three bags of features:
//!
//! - word unigrams: lowercased runs of alphanumeric characters, English stop
//!   words dropped (they would make every pair of English texts look alike);
//! - word bigrams: adjacent words of that list ("learning rate");
//! - character 3-, 4- and 5-grams of each word with `<`/`>` marking its ends
//!   (fastText's subwords), so "photosyntesis" shares most of its features
//!   with "photosynthesis" and "rates" with "rate".
//!
//! Each distinct feature gets the sublinear weight √tf and is added with a
//! sign to one of `dimension` buckets, both taken from a 64-bit hash (the
//! "hashing trick" with a sign hash, which keeps colliding features from
//! adding up in expectation). Each bag is L2-normalised on its own, so that
//! the dozen character n-grams of a word do not drown its one unigram, then
//! the bags are added with weights 1 (words), 0.5 (bigrams), 1.5 (n-grams) and
//! the sum normalised. The n-gram weight was picked on a handful of pairs:
//! at 1.5 a query with a typo ("photosyntesis") scores 0.37 against its
//! passage and 0.04 against an unrelated one; at 0.8 it scored 0.20, and at
//! 2.0 unrelated texts rose to 0.05–0.08 from spelling alone.
//!
//! Determinism: the hash is FNV-1a with a murmur3 finaliser, written out here
//! (never `std`'s seeded `RandomState`), features are summed in sorted hash
//! order, and the arithmetic is `+ × ÷ √` only, which IEEE 754 rounds the
//! same everywhere. So a text has bit-identical vectors on every platform;
//! `√tf` rather than `1 + ln tf` for that reason (`ln` is not correctly
//! rounded on every libm).

use crate::util::{check_batch, empty_vector, normalize};
use crate::{EmbedError, Embedder};

/// The default dimension: the same as MiniLM's, so one vector index
/// configuration serves both providers.
pub const DEFAULT_DIMENSION: usize = 384;

const WEIGHT_WORDS: f32 = 1.0;
const WEIGHT_BIGRAMS: f32 = 0.5;
const WEIGHT_NGRAMS: f32 = 1.5;
const NGRAM_SIZES: std::ops::RangeInclusive<usize> = 3..=5;

// One namespace byte per bag, so the word "the" and the trigram "the" differ.
const NS_WORD: u8 = 1;
const NS_BIGRAM: u8 = 2;
const NS_NGRAM: u8 = 3;

/// Hashed lexical embedding; see the module docs. No model, no state, no I/O.
#[derive(Clone, Debug)]
pub struct Lexical {
    dimension: usize,
    model_id: String,
}

impl Default for Lexical {
    fn default() -> Self {
        Lexical::new()
    }
}

impl Lexical {
    /// 384 dimensions, model id `lectern-lexical-v1`.
    pub fn new() -> Lexical {
        Lexical { dimension: DEFAULT_DIMENSION, model_id: "lectern-lexical-v1".into() }
    }

    /// Another dimension (at least 2), e.g. to measure what more buckets buy;
    /// the model id then names it (`lectern-lexical-v1-d1024`).
    pub fn with_dimension(dimension: usize) -> Result<Lexical, EmbedError> {
        if dimension < 2 {
            return Err(EmbedError::InvalidInput(format!("lexical dimension must be at least 2, got {dimension}")));
        }
        if dimension == DEFAULT_DIMENSION {
            return Ok(Lexical::new());
        }
        Ok(Lexical { dimension, model_id: format!("lectern-lexical-v1-d{dimension}") })
    }

    /// One text's vector (no length check).
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let all: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        let content: Vec<&str> = all.iter().map(String::as_str).filter(|w| !is_stop_word(w)).collect();
        // A query made only of stop words ("what is it") still deserves a vector built from them.
        let words: Vec<&str> = if content.is_empty() { all.iter().map(String::as_str).collect() } else { content };
        if words.is_empty() {
            return empty_vector(self.dimension);
        }

        let mut out = vec![0.0f32; self.dimension];
        let mut features = Vec::with_capacity(words.len() * 12);

        features.extend(words.iter().map(|w| hash(NS_WORD, &[w.as_bytes()])));
        self.add_bag(&mut out, &mut features, WEIGHT_WORDS);

        features.extend(words.windows(2).map(|p| hash(NS_BIGRAM, &[p[0].as_bytes(), b"\0", p[1].as_bytes()])));
        self.add_bag(&mut out, &mut features, WEIGHT_BIGRAMS);

        let mut marked = String::new();
        let mut bounds = Vec::new();
        for w in &words {
            marked.clear();
            marked.push('<');
            marked.push_str(w);
            marked.push('>');
            bounds.clear();
            bounds.extend(marked.char_indices().map(|(i, _)| i));
            bounds.push(marked.len());
            let chars = bounds.len() - 1;
            for n in NGRAM_SIZES {
                for start in 0..chars.saturating_sub(n - 1) {
                    features.push(hash(NS_NGRAM, &[&marked.as_bytes()[bounds[start]..bounds[start + n]]]));
                }
            }
        }
        self.add_bag(&mut out, &mut features, WEIGHT_NGRAMS);

        if normalize(&mut out) { out } else { empty_vector(self.dimension) }
    }

    /// Adds the normalised bag of `features` (hashes, drained) times `weight` to `out`.
    fn add_bag(&self, out: &mut [f32], features: &mut Vec<u64>, weight: f32) {
        if features.is_empty() {
            return;
        }
        features.sort_unstable();
        let mut bag = vec![0.0f32; self.dimension];
        for run in features.chunk_by(|a, b| a == b) {
            let h = run[0];
            // Lemire's multiply-shift on the low half picks the bucket, the top bit the sign.
            let bucket = (((h & 0xffff_ffff) * self.dimension as u64) >> 32) as usize;
            let tf = (run.len() as f32).sqrt();
            bag[bucket] += if h >> 63 == 1 { -tf } else { tf };
        }
        features.clear();
        if normalize(&mut bag) {
            for (o, b) in out.iter_mut().zip(&bag) {
                *o += weight * b;
            }
        }
    }
}

impl Embedder for Lexical {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        check_batch(texts)?;
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

/// FNV-1a over a namespace byte and `parts`, then murmur3's 64-bit finaliser
/// (FNV alone mixes its low bits poorly for short inputs).
fn hash(namespace: u8, parts: &[&[u8]]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = (OFFSET ^ u64::from(namespace)).wrapping_mul(PRIME);
    for part in parts {
        for &b in *part {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn is_stop_word(w: &str) -> bool {
    // Sorted, for the binary search. Function words of English only: they
    // carry no topic. Other languages keep theirs (a known gap).
    const STOP: &[&str] = &[
        "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been",
        "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had", "has", "have",
        "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
        "me", "more", "most", "my", "no", "nor", "not", "of", "on", "only", "or", "other", "our", "ours", "own", "s",
        "same", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their", "theirs", "them", "then",
        "there", "these", "they", "this", "those", "to", "too", "very", "was", "we", "were", "what", "when", "where",
        "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
    ];
    STOP.binary_search(&w).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MAX_BATCH, MAX_TEXT_BYTES, cosine};

    fn sim(a: &str, b: &str) -> f32 {
        let e = Lexical::new();
        cosine(&e.embed_one(a), &e.embed_one(b))
    }

    #[test]
    fn stop_words_are_sorted() {
        let probe = ["a", "the", "yours", "whom", "because"];
        assert!(probe.iter().all(|w| is_stop_word(w)));
        assert!(!is_stop_word("photosynthesis"));
    }

    #[test]
    fn unit_norm_and_dimension() {
        let e = Lexical::new();
        let texts = ["Photosynthesis converts light into chemical energy.", "x", "the", "42", "Ünïcödé ÇAFÉ 東京"];
        for v in e.embed(&texts).unwrap() {
            assert_eq!(v.len(), 384);
            assert!(v.iter().all(|x| x.is_finite()));
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        }
        assert_eq!(e.dimension(), 384);
        assert_eq!(e.model_id(), "lectern-lexical-v1");
        assert_eq!(Lexical::with_dimension(1024).unwrap().model_id(), "lectern-lexical-v1-d1024");
        assert_eq!(Lexical::with_dimension(1024).unwrap().embed(&["a b"]).unwrap()[0].len(), 1024);
        assert!(Lexical::with_dimension(1).is_err());
    }

    #[test]
    fn deterministic_to_the_bit() {
        // Pinned: a change here changes every stored vector, so bump the model id.
        let v = Lexical::new().embed_one("The mitochondria is the powerhouse of the cell; mitochondria make ATP.");
        let bits = v.iter().fold(0u64, |acc, x| acc.rotate_left(5) ^ u64::from(x.to_bits()));
        assert_eq!(bits, PINNED_BITS, "vectors changed: bump the model id and re-pin");
        assert_eq!(
            v,
            Lexical::new().embed_one("The mitochondria is the powerhouse of the cell; mitochondria make ATP.")
        );
    }
    const PINNED_BITS: u64 = 14959700361130010711;

    #[test]
    fn near_duplicates_are_closer_than_unrelated_texts() {
        let a = "The derivative of a function measures how its output changes as the input changes.";
        let near = "A function's derivative measures how the output changes when its input changes.";
        let unrelated = "Medieval castles were built with thick stone walls and a moat for defence.";
        let (s_near, s_far) = (sim(a, near), sim(a, unrelated));
        assert!(s_near > 0.6, "{s_near}");
        assert!(s_far < 0.2, "{s_far}");
    }

    #[test]
    fn a_typo_stays_close() {
        let typo = sim("how does photosyntesis work", "photosynthesis in plants");
        let other = sim("how does photosyntesis work", "the french revolution in paris");
        assert!(typo > 0.3 && typo > other + 0.25, "typo {typo}, other {other}");
        assert!(sim("learning rates", "the learning rate") > 0.5);
    }

    #[test]
    fn stop_words_alone_still_embed() {
        let e = Lexical::new();
        assert_ne!(e.embed_one("what is it"), empty_vector(384));
        assert!(sim("what is it", "what is it?") > 0.99);
    }

    #[test]
    fn empty_and_huge_input() {
        let e = Lexical::new();
        assert_eq!(e.embed(&["", "  ...  "]).unwrap(), vec![empty_vector(384), empty_vector(384)]);
        let huge = "word ".repeat(MAX_TEXT_BYTES / 5);
        assert_eq!(e.embed(&[&huge]).unwrap().len(), 1);
        let too_long = "a".repeat(MAX_TEXT_BYTES + 1);
        assert!(matches!(e.embed(&[&too_long]), Err(EmbedError::InvalidInput(_))));
        assert!(matches!(e.embed(&vec!["a"; MAX_BATCH + 1]), Err(EmbedError::InvalidInput(_))));
        assert!(e.embed(&[]).unwrap().is_empty());
    }
}

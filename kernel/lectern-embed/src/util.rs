//! Input limits and vector helpers shared by every provider.

use crate::EmbedError;

/// Most texts one [`crate::Embedder::embed`] call accepts.
pub const MAX_BATCH: usize = 256;

/// Largest answer read from an embedding or chat server: 256 vectors of 4096
/// floats as JSON are about 20 MB, so this leaves room without letting a
/// broken server fill memory.
pub(crate) const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Longest text, in bytes of UTF-8, one call accepts. MiniLM reads only the
/// first 256 word pieces (≈ 1 KiB of English) anyway; the limit keeps one
/// request from making the lexical embedder or a server chew megabytes.
pub const MAX_TEXT_BYTES: usize = 32 * 1024;

/// The vector every provider returns for the empty string: the first unit
/// basis vector `[1, 0, 0, …]`. Fixed, so it is the same across providers and
/// versions, and orthogonal to nothing in particular.
pub fn empty_vector(dimension: usize) -> Vec<f32> {
    let mut v = vec![0.0; dimension];
    if let Some(first) = v.first_mut() {
        *first = 1.0;
    }
    v
}

/// Refuses a batch outside the limits, naming the first offending text.
pub(crate) fn check_batch(texts: &[&str]) -> Result<(), EmbedError> {
    if texts.len() > MAX_BATCH {
        return Err(EmbedError::InvalidInput(format!("a batch holds at most {MAX_BATCH} texts, got {}", texts.len())));
    }
    if let Some((i, t)) = texts.iter().enumerate().find(|(_, t)| t.len() > MAX_TEXT_BYTES) {
        return Err(EmbedError::InvalidInput(format!(
            "text {i} is {} bytes long; the limit is {MAX_TEXT_BYTES}",
            t.len()
        )));
    }
    Ok(())
}

/// Scales `v` to unit length in place; `false` (and `v` untouched) when it is
/// zero or not finite.
pub(crate) fn normalize(v: &mut [f32]) -> bool {
    // Accumulate in f64: a 384-term sum in f32 drifts in the last bits.
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return false;
    }
    for x in v.iter_mut() {
        *x = (f64::from(*x) / norm) as f32;
    }
    true
}

/// Embeds the non-empty texts with `f` (in order, in one call) and puts
/// [`empty_vector`] where the empty ones were. `f` is not called when every
/// text is empty.
pub(crate) fn with_empties(
    texts: &[&str],
    dimension: usize,
    f: impl FnOnce(&[&str]) -> Result<Vec<Vec<f32>>, EmbedError>,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let non_empty: Vec<&str> = texts.iter().copied().filter(|t| !t.is_empty()).collect();
    let mut embedded = if non_empty.is_empty() { Vec::new() } else { f(&non_empty)? };
    if embedded.len() != non_empty.len() {
        return Err(EmbedError::Model(format!("asked for {} vectors, got {}", non_empty.len(), embedded.len())));
    }
    if non_empty.len() == texts.len() {
        return Ok(embedded);
    }
    let mut rest = embedded.drain(..);
    Ok(texts
        .iter()
        .map(|t| if t.is_empty() { empty_vector(dimension) } else { rest.next().unwrap_or_default() })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(check_batch(&[""; MAX_BATCH]).is_ok());
        assert!(matches!(check_batch(&[""; MAX_BATCH + 1]), Err(EmbedError::InvalidInput(_))));
        let long = "a".repeat(MAX_TEXT_BYTES + 1);
        let err = check_batch(&["ok", &long]).unwrap_err().to_string();
        assert!(err.contains("text 1"), "{err}");
        assert!(check_batch(&[&long[1..]]).is_ok());
    }

    #[test]
    fn normalize_refuses_zero_and_nan() {
        let mut v = vec![0.0; 4];
        assert!(!normalize(&mut v));
        let mut v = vec![f32::NAN, 1.0];
        assert!(!normalize(&mut v));
        let mut v = vec![3.0, 4.0];
        assert!(normalize(&mut v));
        assert_eq!(v, vec![0.6, 0.8]);
    }

    #[test]
    fn empties_keep_their_place() {
        let out = with_empties(&["", "a", "", "b"], 2, |t| {
            assert_eq!(t, ["a", "b"]);
            Ok(vec![vec![0.0, 1.0], vec![0.0, -1.0]])
        })
        .unwrap();
        assert_eq!(out, vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 0.0], vec![0.0, -1.0]]);
        let out = with_empties(&[""], 2, |_| panic!("not called")).unwrap();
        assert_eq!(out, vec![vec![1.0, 0.0]]);
    }
}

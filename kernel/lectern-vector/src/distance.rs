//! Distance kernels and the int8 representation the graph stores.
//!
//! The graph holds each vector as `[scale: f32 | norm²: f32 | q: i8 × dim]`
//! (the two floats as their little-endian bytes), `x ≈ scale · q` with a
//! per-vector scale `max|x| / 127`. A quarter of the bytes of f32 means a
//! quarter of the cache misses while walking the graph, which is where the
//! time goes at 384 dimensions. Candidates are re-ranked with the exact f32
//! vectors kept beside the graph, so scores are exact.
//!
//! [`QDist`] replaces anndists' distances, which assert on the tiny negative
//! values float rounding produces for unit vectors (and panic on NaN inside
//! rayon workers): ours clamps to `>= 0` and never panics.
//!
//! The loops are written chunk-wise with independent accumulators so LLVM
//! vectorizes them, and run through `pulp`'s runtime dispatch so they are
//! compiled for AVX2/FMA too and use it when the CPU has it (the baseline
//! x86-64 target only has SSE2; `unsafe` is not allowed here, pulp wraps it).

use anndists::dist::distances::Distance as AnnDistance;

use crate::types::Distance;

pub(crate) const HEADER: usize = 8;
const LANES: usize = 16;

static ARCH: std::sync::LazyLock<pulp::Arch> = std::sync::LazyLock::new(pulp::Arch::new);

/// One kernel call, compiled once per instruction set by `pulp`.
macro_rules! dispatched {
    ($name:ident, $body:ident, $t:ty, $out:ty) => {
        pub fn $name(a: &[$t], b: &[$t]) -> $out {
            struct Op<'a>(&'a [$t], &'a [$t]);
            impl pulp::WithSimd for Op<'_> {
                type Output = $out;
                #[inline(always)]
                fn with_simd<S: pulp::Simd>(self, _: S) -> $out {
                    $body(self.0, self.1)
                }
            }
            ARCH.dispatch(Op(a, b))
        }
    };
}

dispatched!(dot_f32, dot_f32_body, f32, f32);
dispatched!(l2sq_f32, l2sq_f32_body, f32, f32);
dispatched!(dot_i8, dot_i8_body, i8, i32);

#[inline(always)]
fn dot_f32_body(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[inline(always)]
fn l2sq_f32_body(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += (x - y) * (x - y);
    }
    s
}

#[inline(always)]
fn dot_i8_body(a: &[i8], b: &[i8]) -> i32 {
    const W: usize = 32;
    let mut acc = [0i32; W];
    let (ca, cb) = (a.chunks_exact(W), b.chunks_exact(W));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..W {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let mut s: i32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += i32::from(*x) * i32::from(*y);
    }
    s
}

/// The exact "higher is better" score of `v` for the (already prepared) query `q`.
pub(crate) fn score(kind: Distance, q: &[f32], v: &[f32]) -> f32 {
    match kind {
        Distance::Cosine | Distance::Dot => dot_f32(q, v),
        Distance::Euclidean => -l2sq_f32(q, v).sqrt(),
    }
}

/// Cosine vectors are stored and queried unit-length; others as given.
pub(crate) fn prepare(kind: Distance, v: &[f32]) -> Vec<f32> {
    match kind {
        Distance::Cosine => {
            let n = dot_f32(v, v).sqrt();
            v.iter().map(|x| x / n).collect()
        }
        Distance::Dot | Distance::Euclidean => v.to_vec(),
    }
}

/// The int8 form of a prepared vector.
pub(crate) fn quantize(v: &[f32]) -> Vec<i8> {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut out = Vec::with_capacity(HEADER + v.len());
    out.extend(scale.to_le_bytes().map(|b| b as i8));
    out.extend(dot_f32(v, v).to_le_bytes().map(|b| b as i8));
    out.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
    out
}

fn header(v: &[i8]) -> (f32, f32) {
    let f = |i: usize| f32::from_le_bytes([v[i] as u8, v[i + 1] as u8, v[i + 2] as u8, v[i + 3] as u8]);
    (f(0), f(4))
}

/// The distance the graph is built and searched with (over [`quantize`]d vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QDist {
    pub(crate) kind: Distance,
}

impl AnnDistance<i8> for QDist {
    fn eval(&self, a: &[i8], b: &[i8]) -> f32 {
        if a.len() < HEADER || a.len() != b.len() {
            return f32::MAX;
        }
        let ((sa, na), (sb, nb)) = (header(a), header(b));
        let ip = sa * sb * dot_i8(&a[HEADER..], &b[HEADER..]) as f32;
        let d = match self.kind {
            Distance::Cosine => 1.0 - ip,
            // A positive, increasing function of −ip, finite everywhere: the graph
            // code asserts distances are ≥ 0, and inner products are unbounded.
            Distance::Dot => {
                if ip <= 0.0 {
                    1.0 - ip
                } else {
                    1.0 / (1.0 + ip)
                }
            }
            Distance::Euclidean => na + nb - 2.0 * ip,
        };
        if d.is_nan() { f32::MAX } else { d.max(0.0) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kernels_match_naive_sums() {
        for n in [1, 7, 16, 33, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!((dot_f32(&a, &b) - dot).abs() < 1e-3);
            assert!((l2sq_f32(&a, &b) - l2).abs() < 1e-3);
            let qa: Vec<i8> = (0..n).map(|i| (i % 255) as i8).collect();
            let qb: Vec<i8> = (0..n).map(|i| (i * 7 % 255) as i8).collect();
            let naive: i32 = qa.iter().zip(&qb).map(|(x, y)| i32::from(*x) * i32::from(*y)).sum();
            assert_eq!(dot_i8(&qa, &qb), naive);
        }
    }

    #[test]
    fn quantized_distances_track_exact_ones_and_never_go_negative() {
        let a = prepare(Distance::Cosine, &(0..384).map(|i| (i as f32).sin()).collect::<Vec<_>>());
        let b = prepare(Distance::Cosine, &(0..384).map(|i| (i as f32 * 1.1).sin()).collect::<Vec<_>>());
        let (qa, qb) = (quantize(&a), quantize(&b));
        let d = QDist { kind: Distance::Cosine };
        assert!((d.eval(&qa, &qb) - (1.0 - dot_f32(&a, &b))).abs() < 0.02);
        assert_eq!(d.eval(&qa, &qa).max(0.0), d.eval(&qa, &qa), "self distance clamps at 0");
        assert!(d.eval(&qa, &qa) < 0.01);
        let e = QDist { kind: Distance::Euclidean };
        assert!((e.eval(&qa, &qb) - l2sq_f32(&a, &b)).abs() < 0.05);
        let dot = QDist { kind: Distance::Dot };
        let big: Vec<f32> = a.iter().map(|x| x * 1e3).collect();
        assert!(dot.eval(&qa, &quantize(&big)) >= 0.0);
        assert!(dot.eval(&qa, &quantize(&big)) < dot.eval(&qa, &quantize(&a)), "larger inner product is closer");
    }
}

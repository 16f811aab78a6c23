//! Deterministic clustered unit vectors for tests and benchmarks (no `rand`
//! dependency: a splitmix64 stream and Box–Muller normals).

/// splitmix64: small, fast, and the same sequence on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

/// Gaussian clusters around random unit centres, every sample normalized.
#[derive(Debug, Clone)]
pub struct Clusters {
    pub dim: usize,
    centers: Vec<f32>,
    spread: f32,
}

fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|x| *x /= n);
}

impl Clusters {
    /// `spread` is the noise norm relative to the unit centre (1.0: a point's
    /// cosine to its centre is about 0.7).
    pub fn new(dim: usize, clusters: usize, spread: f32, seed: u64) -> Clusters {
        let mut rng = Rng::new(seed);
        let mut centers = Vec::with_capacity(dim * clusters);
        for _ in 0..clusters {
            let mut c: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            normalize(&mut c);
            centers.extend(c);
        }
        Clusters { dim, centers, spread }
    }

    /// `n` samples, flattened (`n × dim`).
    pub fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let k = self.centers.len() / self.dim;
        let noise = self.spread / (self.dim as f32).sqrt();
        let mut out = Vec::with_capacity(n * self.dim);
        for _ in 0..n {
            let c = rng.below(k) * self.dim;
            let mut v: Vec<f32> = (0..self.dim).map(|i| self.centers[c + i] + noise * rng.normal()).collect();
            normalize(&mut v);
            out.extend(v);
        }
        out
    }
}

/// Exact top-`k` by inner product (cosine for unit vectors): indices, best first.
pub fn exact_top_k(data: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> =
        data.chunks_exact(dim).enumerate().map(|(i, v)| (i, crate::distance::dot_f32(q, v))).collect();
    let by = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scored.len() > k {
        scored.select_nth_unstable_by(k, by);
        scored.truncate(k);
    }
    scored.sort_unstable_by(by);
    scored.into_iter().map(|(i, _)| i).collect()
}

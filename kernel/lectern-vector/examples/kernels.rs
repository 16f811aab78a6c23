//! Nanoseconds per distance-kernel call (`cargo run --release -p lectern-vector --example kernels`).
use std::time::Instant;

use lectern_vector::kernels::{dot_f32, dot_i8, l2sq_f32};

fn main() {
    let dim: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(384);
    let a: Vec<f32> = (0..dim).map(|i| (i as f32).sin()).collect();
    let b: Vec<f32> = (0..dim).map(|i| (i as f32).cos()).collect();
    let qa: Vec<i8> = (0..dim).map(|i| (i % 200) as i8).collect();
    let qb: Vec<i8> = (0..dim).map(|i| (i % 77) as i8).collect();
    // The fastest of 40 rounds: other work on the machine only ever adds time.
    let reps = 100_000u32;
    let time = |name: &str, f: &dyn Fn()| {
        let best = (0..40)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..reps {
                    f();
                }
                t.elapsed().as_nanos() as f64 / f64::from(reps)
            })
            .fold(f64::INFINITY, f64::min);
        println!("{name}: {best:.1} ns (fastest of 40 rounds)");
    };
    time("dot_f32", &|| {
        std::hint::black_box(dot_f32(std::hint::black_box(&a), std::hint::black_box(&b)));
    });
    time("l2sq_f32", &|| {
        std::hint::black_box(l2sq_f32(std::hint::black_box(&a), std::hint::black_box(&b)));
    });
    time("dot_i8", &|| {
        std::hint::black_box(dot_i8(std::hint::black_box(&qa), std::hint::black_box(&qb)));
    });
}

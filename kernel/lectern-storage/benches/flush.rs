#![allow(clippy::expect_used)] // a benchmark aborts on setup failure
//! Acknowledged-write throughput: group commit versus one flush per write.
//!
//! `cargo bench -p lectern-storage --bench flush` — each writer thread inserts a
//! record and waits until it is durable before the next, exactly as an HTTP
//! handler does before answering 2xx. Prints median and min–max of 5 runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_storage::{Store, StoreOptions};

const RUN: Duration = Duration::from_secs(2);

fn run(writers: usize, grouped: bool) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
    let tree = store.tree::<Vec<u8>>("bench").expect("tree");
    let stop = Instant::now() + RUN;
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let (store, tree, done) = (store.clone(), tree.clone(), done.clone());
            s.spawn(move || {
                let mut i = 0u64;
                while Instant::now() < stop {
                    let key = [(w as u64).to_be_bytes(), i.to_be_bytes()].concat();
                    tree.insert(key, &vec![7u8; 200]).expect("insert");
                    if grouped {
                        store.durable_blocking().expect("durable");
                    } else {
                        store.flush_unbatched().expect("flush");
                    }
                    i += 1;
                }
                done.fetch_add(i, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    done.load(std::sync::atomic::Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn summary(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.total_cmp(b));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep it short then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 5 };
    println!("acknowledged writes/s (200-byte values, each write durable before the next)");
    println!(
        "{:>8} {:>28} {:>28} {:>7}",
        "writers", "group commit (median, min–max)", "flush per write (median, min–max)", "ratio"
    );
    for writers in [1usize, 8, 64] {
        if quick && writers > 8 {
            break;
        }
        let g = summary((0..runs).map(|_| run(writers, true)).collect());
        let u = summary((0..runs).map(|_| run(writers, false)).collect());
        println!(
            "{writers:>8} {:>10.0} ({:>6.0}–{:>6.0}) {:>12.0} ({:>6.0}–{:>6.0}) {:>6.1}×",
            g.0,
            g.1,
            g.2,
            u.0,
            u.1,
            u.2,
            g.0 / u.0
        );
    }
}

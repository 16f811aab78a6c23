//! The same grading plugin in Rust, Python and JavaScript through the real
//! host, in one run: the `lectern plugin new grading` templates (which grade
//! alike and pass the same test cases), built by `lectern plugin build` with
//! the pinned toolchains (cargo; componentize-py; esbuild + componentize-js).
//! Per language: component size, compile (install) time, activation, a fresh
//! instance + one grading call (how the kernel calls plugins by default), a
//! call on a warm instance (one instance called in a loop), the same plugin
//! opting in to warm instances (`resources.reuse_calls = 1000`) called through
//! the kernel's `grade` path, a batch of 100, calls per second on every core, memory per
//! live instance, and how many live instances fit in the default instance
//! pool (256 component instances). Prints figures; asserts nothing.
//!
//! `cargo build --release -p lectern && cargo bench -p lectern-e2e --bench languages`
//! (or `cargo xtask bench`). Projects are made under `$CARGO_TARGET_DIR/lang-bench`
//! on the first run (`LECTERN_LANG_BENCH_CALLS` sets the calls per figure,
//! 2,000 by default); `cargo test` skips this benchmark (it needs the release
//! binary and the package registries).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on setup failure

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lectern_host::slots::grading as g;
use lectern_host::{CallContext, Capabilities, Host, HostConfig, Manifest, Resources, Scope, Slot};
use lectern_storage::{Store, StoreOptions};

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0) * 4096
}

/// Makes (first run) and builds the template project; returns its component.
fn build(lectern: &Path, lang: &str, id: &str) -> PathBuf {
    let dir = target_dir().join("lang-bench").join(lang);
    if !dir.exists() {
        let out = Command::new(lectern)
            .args(["plugin", "new", "grading", "--lang", lang, "--id", id, "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "plugin new: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(lectern)
        .args(["plugin", "build", "--dir"])
        .arg(&dir)
        // Rust projects build into the guests' target directory, whose dependencies are warm.
        .env("CARGO_TARGET_DIR", target_dir().join("guests"))
        .output()
        .unwrap();
    assert!(out.status.success(), "plugin build ({lang}): {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let built = stdout.lines().find_map(|l| l.strip_prefix("built ")).expect("`built <path>`").trim();
    let path = Path::new(built);
    if path.is_absolute() { path.to_path_buf() } else { dir.join(path) }
}

/// What the templates' lectern.toml asks for (the Rust template's manifest.json asks for 64 MiB).
fn manifest(id: &str) -> Manifest {
    Manifest {
        id: id.into(),
        version: "0.1.0".into(),
        slot: Slot::Grading,
        data_version: 1,
        capabilities: Capabilities { kv_quota_bytes: Some(1 << 20), ..Default::default() },
        resources: Resources { memory_mib: 128, call_timeout_ms: 5_000, fuel: None, reuse_calls: 0 },
    }
}

/// True/false and single choice (which the template grades) and an essay (which it routes to a person).
fn batch(n: usize) -> Vec<g::Submission> {
    let none = g::Penalties { max_total: 1.0, ..Default::default() };
    (0..n)
        .map(|i| {
            let (key, response) = match i % 3 {
                0 => (g::AnswerKey::TrueFalse(i % 2 == 0), g::Response::Boolean(i % 4 == 0)),
                1 => (
                    g::AnswerKey::SingleChoice(g::ChoiceKey {
                        options: ["a", "b", "c"]
                            .iter()
                            .map(|o| g::ChoiceOption {
                                id: (*o).into(),
                                correct: *o == "b",
                                weight: 0.0,
                                feedback: None,
                            })
                            .collect(),
                        rule: g::MultiRule::AllOrNothing,
                    }),
                    g::Response::Choices(vec![["a", "b"][i % 2].into()]),
                ),
                _ => (g::AnswerKey::Essay(vec![]), g::Response::Essay("Because it is.".into())),
            };
            g::Submission {
                question: g::Question { id: format!("q{i}"), key, points: 1.0 },
                response: Some(response),
                penalties: none.clone(),
            }
        })
        .collect()
}

/// One-submission grading calls per second, for 3 s, on `threads` threads at once.
fn calls_per_second(host: &Host, ctx: &CallContext, one: &[g::Submission], threads: usize) -> f64 {
    let started = Instant::now();
    let calls: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut k = 0;
                    while started.elapsed().as_secs_f64() < 3.0 {
                        host.grade(ctx, one).unwrap();
                        k += 1;
                    }
                    k
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    calls as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "languages benchmark: skipped under `cargo test` (run `cargo bench -p lectern-e2e --bench languages`)"
        );
        return;
    }
    let lectern = std::env::var_os("LECTERN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release").join("lectern"));
    assert!(lectern.exists(), "{} is missing: cargo build --release -p lectern", lectern.display());
    let n = std::env::var("LECTERN_LANG_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000usize);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    println!("the grading template in three languages, through the host — {threads} cores, {n} calls each");
    let langs =
        [("rust", "edu.bench.rust-grader"), ("python", "edu.bench.python-grader"), ("js", "edu.bench.js-grader")];
    let components: Vec<(&str, &str, PathBuf)> =
        langs.iter().map(|(l, id)| (*l, *id, build(&lectern, l, id))).collect();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
    // One compile cache for the two hosts of a language (fresh instances, and warm ones).
    let config = HostConfig { compile_cache_dir: Some(dir.path().join("compiled")), ..HostConfig::default() };
    let one = batch(1);
    let hundred = batch(100);
    let mut stores = vec![];
    println!(
        "{:<7} {:>8} {:>10} {:>9} | {:>17} | {:>17} | {:>17} | {:>10} | {:>9} | {:>9} | {:>9} | {:>8}",
        "",
        "size",
        "compile",
        "activate",
        "fresh call p50/p99",
        "warm call p50/p99",
        "reused p50/p99",
        "batch 100",
        "calls/s",
        "reused/s",
        "RSS/inst",
        "pool fit"
    );
    for (lang, id, wasm_path) in components {
        let wasm = std::fs::read(&wasm_path).unwrap();
        // A host per language, each on its own directory: nothing compiled is shared.
        let host = Host::open(&store, dir.path().join(lang), config.clone()).unwrap();
        let m = manifest(id);
        let t = Instant::now();
        host.install(m.clone(), &wasm, &m.capabilities).unwrap();
        let compile = t.elapsed();
        let a = host.activate(Slot::Grading, Scope::Platform, &format!("{id}@0.1.0")).unwrap();
        let ctx = CallContext {
            institution: format!("bench-{lang}"),
            locale: "en".into(),
            request_id: "bench".into(),
            ..Default::default()
        };
        for _ in 0..20 {
            host.grade(&ctx, &one).unwrap();
        }
        let mut fresh: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                host.grade(&ctx, &one).unwrap();
                t.elapsed()
            })
            .collect();
        let mut warm = host.grade_warm(&ctx, &one, n).unwrap();
        let mut big: Vec<Duration> = (0..(n / 20).max(10))
            .map(|_| {
                let t = Instant::now();
                host.grade(&ctx, &hundred).unwrap();
                t.elapsed()
            })
            .collect();
        let rate = calls_per_second(&host, &ctx, &one, threads);
        // The same plugin opting in to warm instances (`resources.reuse_calls`), through the
        // same `grade` path the kernel takes: a second host, the compiled component from the cache.
        // Its own store: the registry of installed versions lives in the store, and this host
        // installs the same id@version with another manifest. Kept open to the end of the run
        // (sled 0.34 can hang when one database closes while another commits: ARCHITECTURE.md).
        let reuse_store = Store::open(dir.path().join(format!("{lang}-reuse-db")), StoreOptions::default()).unwrap();
        let reusing = Host::open(&reuse_store, dir.path().join(format!("{lang}-reuse")), config.clone()).unwrap();
        stores.push(reuse_store);
        let mut m2 = manifest(id);
        m2.resources.reuse_calls = 1000;
        reusing.install(m2.clone(), &wasm, &m2.capabilities).unwrap();
        reusing.activate(Slot::Grading, Scope::Platform, &format!("{id}@0.1.0")).unwrap();
        let ctx2 = CallContext { institution: format!("bench-{lang}-reuse"), ..ctx.clone() };
        for _ in 0..20 {
            reusing.grade(&ctx2, &one).unwrap();
        }
        let mut reused: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                reusing.grade(&ctx2, &one).unwrap();
                t.elapsed()
            })
            .collect();
        let reused_rate = calls_per_second(&reusing, &ctx2, &one, threads);
        drop(reusing);
        let before = rss_bytes();
        let held = host.hold_instances(Slot::Grading, &ctx.institution, 40).unwrap();
        let per = rss_bytes().saturating_sub(before) as f64 / 1048576.0 / held.len() as f64;
        drop(held);
        // How many instances of this plugin fit in the default pool (256 component instances).
        let capacity = host.hold_instances(Slot::Grading, &ctx.institution, 256).unwrap().len();
        println!(
            "{:<7} {:>6.1}MB {:>8.2} s {:>6.1} ms | {:>7.0} / {:>7.0} µs | {:>7.0} / {:>7.0} µs | {:>7.0} / {:>7.0} µs | {:>7.2} ms | {:>9.0} | {:>9.0} | {:>6.2} MiB | {:>4}/256",
            lang,
            wasm.len() as f64 / 1e6,
            compile.as_secs_f64(),
            a.took.as_secs_f64() * 1e3,
            pct(&mut fresh, 0.5),
            pct(&mut fresh, 0.99),
            pct(&mut warm, 0.5),
            pct(&mut warm, 0.99),
            pct(&mut reused, 0.5),
            pct(&mut reused, 0.99),
            pct(&mut big, 0.5) / 1e3,
            rate,
            reused_rate,
            per,
            capacity
        );
    }
    // Leave without closing the stores one after another (see above).
    std::mem::forget(stores);
    std::mem::forget(store);
    let _ = std::fs::remove_dir_all(dir.path());
    std::process::exit(0);
}

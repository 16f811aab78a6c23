//! Vector index benchmark (targets.md, "vector index"): Lectern's index side
//! by side with hnswlib on the same vectors, queries and exact ground truth.
//!
//! Generates `--n` clustered unit vectors of `--dim` dimensions and `--queries`
//! queries (fixed seed), writes them with the exact top-10 (brute force, whose
//! single-thread rate is reported as the floor) to files in a temp dir, then
//! runs each index in its own process so resident memory is its own:
//! Lectern (this binary as `--child lectern`: build through the public upsert
//! API, including the store commits), raw hnsw_rs with its own f32 cosine
//! distance (`--child raw`, for context), and `tests/benches/hnswlib_peer.py`.
//! Each sweeps ef_search and reports recall@10 and single-thread queries/s
//! (median of `--runs` runs, with min–max). Prints figures; asserts nothing.
//!
//! Build: `cargo build --release -p lectern-e2e --bin vectorbench`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly on setup errors

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use lectern_e2e::report::{loadavg, machine, thousands};
use lectern_storage::{Store, StoreOptions};
use lectern_vector::synthetic::{Clusters, exact_top_k};
use lectern_vector::{CollectionKey, CollectionSpec, Distance, Params, Point, Query, Tuning, VectorStore};
use serde_json::{Value, json};

const K: usize = 10;

#[derive(Clone)]
struct Args {
    n: usize,
    dim: usize,
    queries: usize,
    clusters: usize,
    runs: usize,
    m: usize,
    ef_construction: usize,
    efs: Vec<usize>,
    dir: Option<PathBuf>,
    raw: bool,
    peer: bool,
    /// Lectern answers by an exact scan up to this many points (`Tuning::exact_scan_max`).
    exact_scan_max: Option<usize>,
    child: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        n: 100_000,
        dim: 384,
        queries: 1000,
        clusters: 100,
        runs: 3,
        m: 16,
        ef_construction: 200,
        efs: vec![10, 16, 24, 32, 48, 64, 96, 128],
        dir: None,
        raw: true,
        peer: true,
        exact_scan_max: None,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num =
            |what: &str| -> anyhow::Result<usize> { Ok(it.next().context(format!("{what} needs a number"))?.parse()?) };
        match arg.as_str() {
            "--n" => a.n = num("--n")?,
            "--dim" => a.dim = num("--dim")?,
            "--queries" => a.queries = num("--queries")?,
            "--clusters" => a.clusters = num("--clusters")?,
            "--runs" => a.runs = num("--runs")?.max(1),
            "--m" => a.m = num("--m")?,
            "--ef-construction" => a.ef_construction = num("--ef-construction")?,
            "--efs" => {
                let list = it.next().context("--efs needs a list")?;
                a.efs = list.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--dir" => a.dir = Some(it.next().context("--dir needs a path")?.into()),
            "--no-raw" => a.raw = false,
            "--no-peer" => a.peer = false,
            "--exact-scan-max" => a.exact_scan_max = Some(num("--exact-scan-max")?),
            "--child" => a.child = Some(it.next().context("--child needs lectern or raw")?),
            other => bail!(
                "unknown argument {other}; use --n N --dim D --queries Q --clusters C --runs R --m M \
                 --ef-construction E --efs 16,32,64 --dir PATH --no-raw --no-peer --exact-scan-max N"
            ),
        }
    }
    Ok(a)
}

fn rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn write_f32(path: &Path, v: &[f32]) {
    std::fs::write(path, v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn read_gt(dir: &Path) -> Vec<Vec<u32>> {
    let raw = std::fs::read(dir.join("gt.u32")).unwrap();
    let ids: Vec<u32> = raw.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    ids.chunks(K).map(<[u32]>::to_vec).collect()
}

fn recall(got: &[u32], want: &[u32]) -> f64 {
    got.iter().filter(|g| want.contains(g)).count() as f64 / want.len() as f64
}

/// Recall@10 and single-thread rate for each ef: `search(query, ef)` returns ids.
fn sweep(a: &Args, queries: &[f32], gt: &[Vec<u32>], mut search: impl FnMut(&[f32], usize) -> Vec<u32>) -> Vec<Value> {
    let mut rows = Vec::new();
    for &ef in &a.efs {
        let mut rates = Vec::new();
        let mut r = 0.0;
        for _ in 0..a.runs {
            let t = Instant::now();
            let found: Vec<Vec<u32>> = queries.chunks_exact(a.dim).map(|q| search(q, ef)).collect();
            rates.push(gt.len() as f64 / t.elapsed().as_secs_f64());
            r = found.iter().zip(gt).map(|(f, g)| recall(f, g)).sum::<f64>() / gt.len() as f64;
        }
        rates.sort_by(f64::total_cmp);
        rows.push(json!({"ef": ef, "recall": r, "qps": rates[rates.len() / 2], "qps_min": rates[0], "qps_max": rates[rates.len() - 1]}));
    }
    rows
}

fn child_lectern(a: &Args, dir: &Path) -> Value {
    let base = read_f32(&dir.join("base.f32"));
    let queries = read_f32(&dir.join("queries.f32"));
    let gt = read_gt(dir);
    let before = rss_bytes();
    // A small page cache keeps sled's share of the resident memory visible as such.
    let opts = StoreOptions { cache_capacity: Some(32 << 20), temporary: true, ..Default::default() };
    let store = Store::open(dir.join("lectern-db"), opts).unwrap();
    let params = Params { m: a.m, ef_construction: a.ef_construction, max_points: a.n.max(1), ..Params::default() };
    let mut tuning = Tuning::default();
    if let Some(max) = a.exact_scan_max {
        tuning.exact_scan_max = max;
    }
    let vs = VectorStore::open_with(&store, dir.join("lectern-dumps"), params, tuning).unwrap();
    let key = CollectionKey::new("bench", "bench", "vectors");
    let spec = CollectionSpec { dimension: a.dim as u32, distance: Distance::Cosine, model: None, params };
    vs.ensure_collection(&key, &spec).unwrap();
    let t = Instant::now();
    for (b, chunk) in base.chunks(1000 * a.dim).enumerate() {
        let points = chunk
            .chunks_exact(a.dim)
            .enumerate()
            .map(|(i, v)| Point { id: (b * 1000 + i).to_string(), vector: v.to_vec(), metadata: vec![], text: None })
            .collect();
        vs.upsert(&key, points).unwrap();
    }
    let build_s = t.elapsed().as_secs_f64();
    let rss = rss_bytes() - before;
    let rows = sweep(a, &queries, &gt, |q, ef| {
        let hits = vs.query(&key, &Query { vector: q, k: K, filter: None, ef_search: Some(ef) }).unwrap();
        hits.iter().map(|h| h.id.parse().unwrap()).collect()
    });
    let t = Instant::now();
    vs.checkpoint_with(1).unwrap();
    let dump_s = t.elapsed().as_secs_f64();
    drop(vs);
    let t = Instant::now();
    let reopened = VectorStore::open_with(&store, dir.join("lectern-dumps"), params, tuning).unwrap();
    let load = reopened.stats(&key).unwrap().load;
    let reload_s = t.elapsed().as_secs_f64();
    let bpv = reopened.stats(&key).unwrap().bytes_per_vector;
    json!({"name": "lectern", "build_s": build_s, "rss_bytes": rss, "rows": rows,
           "note": format!("dump {dump_s:.1} s; reopen {reload_s:.1} s ({load:?}); estimate {bpv} B/vector; exact scan up to {} points", tuning.exact_scan_max)})
}

fn child_raw(a: &Args, dir: &Path) -> Value {
    use hnsw_rs::anndists::dist::distances::DistCosine;
    use hnsw_rs::hnsw::Hnsw;
    let base = read_f32(&dir.join("base.f32"));
    let queries = read_f32(&dir.join("queries.f32"));
    let gt = read_gt(dir);
    let before = rss_bytes();
    let t = Instant::now();
    let h: Hnsw<f32, DistCosine> = Hnsw::new(a.m, a.n, 16, a.ef_construction, DistCosine {});
    let items: Vec<(&[f32], usize)> = base.chunks_exact(a.dim).enumerate().map(|(i, v)| (v, i)).collect();
    h.parallel_insert_slice(&items);
    let build_s = t.elapsed().as_secs_f64();
    let rss = rss_bytes() - before;
    let rows = sweep(a, &queries, &gt, |q, ef| h.search(q, K, ef).iter().map(|n| n.d_id as u32).collect());
    json!({"name": "hnsw_rs raw (DistCosine, f32)", "build_s": build_s, "rss_bytes": rss, "rows": rows})
}

/// Writes the data set, the queries and the exact top-10; returns brute-force queries/s (one thread).
fn prepare(a: &Args, dir: &Path) -> f64 {
    let clusters = Clusters::new(a.dim, a.clusters, 1.0, 42);
    let base = clusters.sample(a.n, 1);
    let queries = clusters.sample(a.queries, 2);
    write_f32(&dir.join("base.f32"), &base);
    write_f32(&dir.join("queries.f32"), &queries);
    let meta = json!({"n": a.n, "dim": a.dim, "queries": a.queries, "k": K});
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let probe = a.queries.min(100);
    let t = Instant::now();
    for q in queries.chunks_exact(a.dim).take(probe) {
        std::hint::black_box(exact_top_k(&base, a.dim, q, K));
    }
    let brute_qps = probe as f64 / t.elapsed().as_secs_f64();
    // Ground truth on every core.
    let qs: Vec<&[f32]> = queries.chunks_exact(a.dim).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = qs.len().div_ceil(cores);
    let gt: Vec<u32> = std::thread::scope(|s| {
        let parts: Vec<_> = qs
            .chunks(per.max(1))
            .map(|part| {
                let base = &base;
                s.spawn(move || {
                    part.iter().flat_map(|q| exact_top_k(base, a.dim, q, K)).map(|i| i as u32).collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap()).collect()
    });
    std::fs::write(dir.join("gt.u32"), gt.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    brute_qps
}

/// Nanoseconds per call of the index's distance kernels at `dim` (data in cache).
fn kernel_ns(dim: usize) -> String {
    use lectern_vector::kernels::{dot_f32, dot_i8};
    let a: Vec<f32> = (0..dim).map(|i| (i as f32).sin()).collect();
    let b: Vec<f32> = (0..dim).map(|i| (i as f32).cos()).collect();
    let qa: Vec<i8> = (0..dim).map(|i| (i % 200) as i8).collect();
    let qb: Vec<i8> = (0..dim).map(|i| (i % 77) as i8).collect();
    let reps = 2_000_000;
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(dot_f32(std::hint::black_box(&a), std::hint::black_box(&b)));
    }
    let f = t.elapsed().as_nanos() as f64 / reps as f64;
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(dot_i8(std::hint::black_box(&qa), std::hint::black_box(&qb)));
    }
    let q = t.elapsed().as_nanos() as f64 / reps as f64;
    format!("distance kernels at {dim} dims: f32 dot {f:.1} ns, int8 dot {q:.1} ns per call")
}

fn run_child(kind: &str, dir: &Path) -> anyhow::Result<Value> {
    let out = Command::new(std::env::current_exe()?)
        .args(std::env::args().skip(1))
        .args(["--child", kind, "--dir"])
        .arg(dir)
        .output()?;
    result_line(kind, &out)
}

fn result_line(kind: &str, out: &std::process::Output) -> anyhow::Result<Value> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) {
        Some(j) => Ok(serde_json::from_str(j)?),
        None => {
            bail!("{kind} produced no result ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr))
        }
    }
}

fn peer(a: &Args, dir: &Path) -> anyhow::Result<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/hnswlib_peer.py");
    let efs: Vec<String> = a.efs.iter().map(ToString::to_string).collect();
    let run = || {
        Command::new("python3")
            .arg(&script)
            .arg("--dir")
            .arg(dir)
            .args(["--m", &a.m.to_string(), "--ef-construction", &a.ef_construction.to_string()])
            .args(["--efs", &efs.join(","), "--runs", &a.runs.to_string()])
            .output()
    };
    let mut out = run()?;
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("No module named") {
        eprintln!("installing hnswlib and numpy with pip");
        Command::new("python3").args(["-m", "pip", "install", "--quiet", "hnswlib", "numpy"]).status()?;
        out = run()?;
    }
    result_line("hnswlib", &out)
}

fn print_system(r: &Value) {
    let mib = r["rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0;
    println!(
        "\n{}: build {:.1} s, resident memory +{mib:.0} MiB",
        r["name"].as_str().unwrap_or("?"),
        r["build_s"].as_f64().unwrap_or(0.0)
    );
    if let Some(note) = r["note"].as_str() {
        println!("  {note}");
    }
    println!("  {:>5} {:>10} {:>11} {:>17}", "ef", "recall@10", "q/s median", "min–max");
    for row in r["rows"].as_array().into_iter().flatten() {
        println!(
            "  {:>5} {:>10.3} {:>11} {:>8}–{}",
            row["ef"],
            row["recall"].as_f64().unwrap_or(0.0),
            thousands(row["qps"].as_f64().unwrap_or(0.0)),
            thousands(row["qps_min"].as_f64().unwrap_or(0.0)),
            thousands(row["qps_max"].as_f64().unwrap_or(0.0))
        );
    }
}

/// The fastest row with recall@10 ≥ `floor`: (ef, recall, q/s).
fn best_at(r: &Value, floor: f64) -> Option<(u64, f64, f64)> {
    r["rows"]
        .as_array()?
        .iter()
        .filter(|row| row["recall"].as_f64().unwrap_or(0.0) >= floor)
        .map(|row| {
            (row["ef"].as_u64().unwrap_or(0), row["recall"].as_f64().unwrap_or(0.0), row["qps"].as_f64().unwrap_or(0.0))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
}

fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    if let Some(kind) = &a.child {
        let dir = a.dir.clone().context("--child needs --dir")?;
        let r = match kind.as_str() {
            "lectern" => child_lectern(&a, &dir),
            "raw" => child_raw(&a, &dir),
            other => bail!("unknown child {other}"),
        };
        println!("RESULT {r}");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let dir = a.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    println!(
        "vectorbench: {} × {} clustered unit vectors ({} clusters), {} queries, k = {K}",
        a.n, a.dim, a.clusters, a.queries
    );
    println!("machine: {}; load average {}", machine(), loadavg());
    println!("M = {}, ef_construction = {}, {} run(s) per ef, queries on one thread", a.m, a.ef_construction, a.runs);
    let t = Instant::now();
    let brute = prepare(&a, &dir);
    println!(
        "data and exact ground truth in {:.1} s; brute force: {} q/s (one thread, the floor)",
        t.elapsed().as_secs_f64(),
        thousands(brute)
    );
    println!("{}", kernel_ns(a.dim));
    let mut results = vec![run_child("lectern", &dir)?];
    if a.raw {
        results.push(run_child("raw", &dir)?);
    }
    if a.peer {
        match peer(&a, &dir) {
            Ok(r) => results.push(r),
            Err(e) => println!("hnswlib peer did not run: {e:#}"),
        }
    }
    for r in &results {
        print_system(r);
    }
    println!("\nat recall@10 ≥ 0.95 (fastest ef reaching it):");
    println!("  {:<32} {:>5} {:>8} {:>10} {:>9} {:>9}", "index", "ef", "recall", "q/s", "build s", "RSS MiB");
    let hnswlib_qps = results.iter().find(|r| r["name"] == "hnswlib").and_then(|r| best_at(r, 0.95)).map(|b| b.2);
    for r in &results {
        let (ef, rec, qps) =
            best_at(r, 0.95).map_or(("—".into(), f64::NAN, f64::NAN), |(e, r, q)| (e.to_string(), r, q));
        let ratio = hnswlib_qps.map_or(String::new(), |h| format!("  ×{:.2} vs hnswlib", qps / h));
        println!(
            "  {:<32} {:>5} {:>8.3} {:>10} {:>9.1} {:>9.0}{ratio}",
            r["name"].as_str().unwrap_or("?"),
            ef,
            rec,
            thousands(qps),
            r["build_s"].as_f64().unwrap_or(0.0),
            r["rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0
        );
    }
    Ok(())
}

//! Embedding throughput benchmark (lectern-embed): chunks/s and word pieces/s
//! of each provider on ~200-word-piece chunks of the networking course in
//! tests/fixtures/courses, median of 3 runs with min–max.
//!
//! Cases: Lexical (384 and 1024 dimensions); MiniLM at batch 1, 8 and 32 with
//! 1 and 2 threads; a cached re-embed (every text a hit) in front of each.
//! Also prints two retrieval checks of the raw embedders (no BM25, no
//! fusion: the tutor's own figures are the lead's): a 12-word span of each
//! chunk as the query, is its own chunk ranked first (self-recall@1)? And for
//! the course's labelled questions (questions.json), is the labelled `##`/`###`
//! section among the 3 sections closest to the question (hit@3)?
//!
//! Needs the MiniLM files (`cargo xtask setup`). `cargo xtask bench` builds it
//! in release mode and runs it. Prints figures; asserts nothing.
//!
//! Usage: embedbench [--minilm-chunks N] [--runs N]

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly on setup errors

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use lectern_e2e::report::{loadavg, machine, thousands};
use lectern_embed::{Cached, Embedder, Lexical, MiniLm, cosine, default_model_dir};
use lectern_storage::{Store, StoreOptions};

/// Words per chunk: about 200 word pieces of this course's English.
const WORDS_PER_CHUNK: usize = 150;

struct Args {
    minilm_chunks: usize,
    runs: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args { minilm_chunks: 32, runs: 3 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value =
            || it.next().with_context(|| format!("{arg} needs a value"))?.parse::<usize>().map_err(anyhow::Error::from);
        match arg.as_str() {
            "--minilm-chunks" => a.minilm_chunks = value()?,
            "--runs" => a.runs = value()?.max(1),
            other => bail!("unknown argument {other}; usage: embedbench [--minilm-chunks N] [--runs N]"),
        }
    }
    Ok(a)
}

/// The course's pages cut into chunks of [`WORDS_PER_CHUNK`] words.
fn corpus() -> anyhow::Result<Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/courses");
    let mut pages: Vec<_> = walk(&dir)?.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    pages.sort();
    let mut chunks = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page)?;
        let words: Vec<&str> = text.split_whitespace().collect();
        chunks.extend(words.chunks(WORDS_PER_CHUNK).filter(|c| c.len() > WORDS_PER_CHUNK / 2).map(|c| c.join(" ")));
    }
    if chunks.is_empty() {
        bail!("no Markdown pages under {}", dir.display());
    }
    Ok(chunks)
}

fn walk(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// Embeds `chunks` in calls of `batch` texts, `runs` times; chunks/s of each run, sorted.
fn measure(e: &dyn Embedder, chunks: &[&str], batch: usize, runs: usize, repeat: usize) -> Vec<f64> {
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..repeat {
                for call in chunks.chunks(batch) {
                    let v = e.embed(call).unwrap();
                    std::hint::black_box(v);
                }
            }
            (chunks.len() * repeat) as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates
}

fn report(name: &str, rates: &[f64], tokens_per_chunk: f64) {
    let (min, med, max) = (rates[0], rates[rates.len() / 2], rates[rates.len() - 1]);
    let fmt = |x: f64| if x < 100.0 { format!("{x:.1}") } else { thousands(x) };
    println!(
        "{name:<40} {:>10} chunks/s ({}–{})   {:>12} word pieces/s",
        fmt(med),
        fmt(min),
        fmt(max),
        thousands(med * tokens_per_chunk)
    );
}

/// Self-recall@1: the fraction of chunks whose 12-word span (from its middle) ranks it first.
fn self_recall(e: &dyn Embedder, chunks: &[&str]) -> f64 {
    let docs: Vec<Vec<f32>> = chunks.chunks(32).flat_map(|c| e.embed(c).unwrap()).collect();
    let queries: Vec<String> = chunks
        .iter()
        .map(|c| {
            let words: Vec<&str> = c.split_whitespace().collect();
            let mid = words.len() / 2;
            words[mid.saturating_sub(6)..(mid + 6).min(words.len())].join(" ")
        })
        .collect();
    let queries: Vec<&str> = queries.iter().map(String::as_str).collect();
    let qv: Vec<Vec<f32>> = queries.chunks(32).flat_map(|c| e.embed(c).unwrap()).collect();
    let hits = qv
        .iter()
        .enumerate()
        .filter(|(i, q)| {
            let best = docs.iter().map(|d| cosine(q, d)).enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(j, _)| j);
            best == Some(*i)
        })
        .count();
    hits as f64 / chunks.len() as f64
}

/// A page's `##`/`###` sections as (file, heading, text); text before the first heading has heading "".
fn sections() -> anyhow::Result<Vec<(String, String, String)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/courses/networking");
    let mut pages: Vec<_> = walk(&dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    pages.sort();
    let mut out = Vec::new();
    for page in pages {
        let file = page.file_name().unwrap().to_string_lossy().into_owned();
        let mut current = (String::new(), String::new());
        for line in std::fs::read_to_string(&page)?.lines() {
            if let Some(h) = line.strip_prefix("### ").or_else(|| line.strip_prefix("## ")) {
                out.push((file.clone(), std::mem::take(&mut current.0), std::mem::take(&mut current.1)));
                current = (h.trim().to_owned(), format!("{}\n", h.trim()));
            } else {
                current.1.push_str(line);
                current.1.push('\n');
            }
        }
        out.push((file.clone(), current.0, current.1));
    }
    out.retain(|(_, _, text)| !text.trim().is_empty());
    Ok(out)
}

/// hit@3 per question kind over questions.json: (kind, hits, questions).
fn labelled_hits(
    e: &dyn Embedder,
    sections: &[(String, String, String)],
) -> anyhow::Result<Vec<(String, usize, usize)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/courses/networking/questions.json");
    let questions: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let texts: Vec<&str> = sections.iter().map(|s| s.2.as_str()).collect();
    let docs: Vec<Vec<f32>> = texts.chunks(32).flat_map(|c| e.embed(c).unwrap()).collect();
    let mut tally: Vec<(String, usize, usize)> = Vec::new();
    for q in &questions {
        let (Some(text), Some(file), Some(heading), Some(kind)) =
            (q["q"].as_str(), q["file"].as_str(), q["heading"].as_str(), q["kind"].as_str())
        else {
            continue; // out of scope: no labelled section
        };
        let qv = e.embed(&[text])?.remove(0);
        let mut ranked: Vec<(f32, usize)> = docs.iter().map(|d| cosine(&qv, d)).zip(0..).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let hit = ranked.iter().take(3).any(|&(_, i)| sections[i].0 == file && sections[i].1 == heading);
        match tally.iter_mut().find(|t| t.0 == kind) {
            Some(t) => {
                t.1 += usize::from(hit);
                t.2 += 1;
            }
            None => tally.push((kind.to_owned(), usize::from(hit), 1)),
        }
    }
    Ok(tally)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let chunks = corpus()?;
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let dir = default_model_dir();
    let load = |threads| {
        MiniLm::load(&dir, Some(threads))
            .with_context(|| format!("MiniLM is not installed in {}: run `cargo xtask setup`", dir.display()))
    };
    let minilm2 = load(2)?;
    let pieces: Vec<usize> = chunks.iter().map(|c| minilm2.token_count(c).unwrap()).collect();
    let tokens = pieces.iter().sum::<usize>() as f64 / chunks.len() as f64;
    let m = args.minilm_chunks.min(chunks.len());
    let m_tokens = pieces[..m].iter().sum::<usize>() as f64 / m as f64;

    println!("embedbench: lectern-embed throughput, median of {} runs (min–max)", args.runs);
    println!("machine: {}; load average before: {}", machine(), loadavg());
    println!(
        "corpus: {} chunks of {WORDS_PER_CHUNK} words from tests/fixtures/courses, {tokens:.0} word pieces per chunk on average \
         (MiniLM's tokenizer, [CLS]/[SEP] included; MiniLM cases use the first {m}, {m_tokens:.0} pieces on average)",
        chunks.len()
    );
    println!();

    let lexical = Lexical::new();
    let lexical_1024 = Lexical::with_dimension(1024)?;
    let _ = lexical.embed(&chunks[..8])?;
    report("lexical (384), batch 32", &measure(&lexical, &chunks, 32, args.runs, 20), tokens);
    report("lexical (1024), batch 32", &measure(&lexical_1024, &chunks, 32, args.runs, 20), tokens);

    let store_dir = tempfile::tempdir()?;
    let store = Store::open(store_dir.path(), StoreOptions::default())?;
    let cached_lexical = Cached::new(Lexical::new(), &store)?;
    let _ = measure(&cached_lexical, &chunks, 32, 1, 1); // fill
    report("lexical, cached re-embed (all hits)", &measure(&cached_lexical, &chunks, 32, args.runs, 20), tokens);

    let sample = &chunks[..m];
    let _ = minilm2.embed(&sample[..2])?;
    for threads in [1, 2] {
        for batch in [1, 8, 32] {
            let model = load(threads)?.with_batch_size(batch)?;
            let rates = measure(&model, sample, batch, args.runs, 1);
            report(&format!("minilm, {threads} thread(s), batch {batch}"), &rates, m_tokens);
        }
    }
    let cached_minilm = Cached::new(load(2)?, &store)?;
    let _ = measure(&cached_minilm, sample, 32, 1, 1); // fill
    report("minilm, cached re-embed (all hits)", &measure(&cached_minilm, sample, 32, args.runs, 20), m_tokens);

    println!();
    println!("self-recall@1 (12-word span of each chunk finds its chunk among all {}):", chunks.len());
    for (name, e) in [("lexical 384", &lexical as &dyn Embedder), ("lexical 1024", &lexical_1024), ("minilm", &minilm2)]
    {
        println!("  {name:<14} {:.3}", self_recall(e, &chunks));
    }
    let sections = sections()?;
    println!("labelled questions: the labelled section among the 3 closest of {} sections (hit@3):", sections.len());
    for (name, e) in [("lexical 384", &lexical as &dyn Embedder), ("lexical 1024", &lexical_1024), ("minilm", &minilm2)]
    {
        let tally = labelled_hits(e, &sections)?;
        let parts: Vec<String> = tally.iter().map(|(k, h, n)| format!("{k} {h}/{n}")).collect();
        println!("  {name:<14} {}", parts.join(", "));
    }
    println!("load average after: {}", loadavg());
    Ok(())
}

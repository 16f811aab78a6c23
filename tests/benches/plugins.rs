//! Plugin host benchmark: compile, activation, fresh-instance and warm calls,
//! instance throughput, memory per live instance, the same grading routine
//! natively versus through the host, observer delivery (an event through
//! `on-event` to the example grade webhook, which POSTs it over `wasi:http`
//! to a receiver on a local socket), the example flashcards activity's
//! render and act, and the example formula question type's instantiate,
//! validate and grade. Prints figures; asserts nothing.
//!
//! `cargo bench -p lectern-e2e --bench plugins` (or `cargo xtask bench`); `cargo test` runs it briefly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on setup failure

#[path = "../fixtures/grading-core.rs"]
#[allow(dead_code)]
mod grading_core;

use std::time::{Duration, Instant};

use lectern_e2e::guests;
use lectern_host::slots::grading as g;
use lectern_host::{CallContext, Capabilities, EventContext, Host, HostConfig, Manifest, Resources, Scope, Slot};
use lectern_storage::{Store, StoreOptions};

fn ctx() -> CallContext {
    CallContext { institution: "bench".into(), locale: "en".into(), request_id: "bench".into(), ..Default::default() }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// A mixed batch: true/false, single and multiple choice, numeric, short answer.
fn batch(n: usize) -> Vec<g::Submission> {
    let opt = |id: &str, correct: bool| g::ChoiceOption {
        id: id.into(),
        correct,
        weight: if correct { 0.5 } else { -0.25 },
        feedback: None,
    };
    (0..n)
        .map(|i| {
            let (key, resp) = match i % 5 {
                0 => (g::AnswerKey::TrueFalse(i % 2 == 0), g::Response::Boolean(i % 3 == 0)),
                1 => (
                    g::AnswerKey::SingleChoice(g::ChoiceKey {
                        options: vec![opt("a", true), opt("b", false), opt("c", false), opt("d", false)],
                        rule: g::MultiRule::AllOrNothing,
                    }),
                    g::Response::Choices(vec![["a", "b"][i % 2].into()]),
                ),
                2 => (
                    g::AnswerKey::MultipleChoice(g::ChoiceKey {
                        options: vec![
                            opt("a", true),
                            opt("b", true),
                            opt("c", false),
                            opt("d", false),
                            opt("e", true),
                            opt("f", false),
                        ],
                        rule: g::MultiRule::RightMinusWrong,
                    }),
                    g::Response::Choices(vec!["a".into(), "c".into(), "e".into()]),
                ),
                3 => (
                    g::AnswerKey::Numeric(g::NumericKey {
                        value: 9.81,
                        absolute_tolerance: Some(0.01),
                        relative_tolerance: Some(0.001),
                        units: vec![],
                        unit_missing_credit: 0.0,
                    }),
                    g::Response::Number { value: 9.8 + (i % 7) as f64 * 0.003, unit: None },
                ),
                _ => (
                    g::AnswerKey::ShortAnswer(g::TextKey {
                        alternatives: ["the mitochondria", "mitochondrion", "the powerhouse of the cell"]
                            .iter()
                            .map(|p| g::TextAlternative {
                                pattern: (*p).into(),
                                regex: false,
                                credit: 1.0,
                                feedback: None,
                            })
                            .collect(),
                        case_sensitive: false,
                        normalize_whitespace: true,
                    }),
                    g::Response::Text(format!(
                        "  The   Powerhouse of the   CELL {}",
                        if i % 4 == 0 { "" } else { "!" }
                    )),
                ),
            };
            g::Submission {
                question: g::Question { id: format!("q{i}"), key, points: 1.0 },
                response: Some(resp),
                penalties: g::Penalties::default(),
            }
        })
        .collect()
}

/// The native side: the same routine the plugin runs, over the same input.
fn native(subs: &[g::Submission]) -> f64 {
    use grading_core::{Key, Outcome, Resp, Rule};
    let mut total = 0.0;
    for s in subs {
        let key = match &s.question.key {
            g::AnswerKey::TrueFalse(b) => Key::TrueFalse(*b),
            g::AnswerKey::SingleChoice(c) | g::AnswerKey::MultipleChoice(c) => Key::Choice {
                options: c.options.iter().map(|o| (o.id.clone(), o.correct, o.weight)).collect(),
                multiple: matches!(s.question.key, g::AnswerKey::MultipleChoice(_)),
                rule: match c.rule {
                    g::MultiRule::AllOrNothing => Rule::AllOrNothing,
                    g::MultiRule::RightMinusWrong => Rule::RightMinusWrong,
                    g::MultiRule::PerOptionWeights => Rule::Weights,
                },
            },
            g::AnswerKey::Numeric(n) => Key::Numeric {
                value: n.value,
                abs: n.absolute_tolerance.unwrap_or(0.0),
                rel: n.relative_tolerance.unwrap_or(0.0),
            },
            g::AnswerKey::ShortAnswer(t) => {
                Key::Text { alternatives: t.alternatives.iter().map(|a| (a.pattern.clone(), a.credit)).collect() }
            }
            _ => Key::Essay,
        };
        let resp = match s.response.as_ref() {
            Some(g::Response::Boolean(b)) => Some(Resp::Bool(*b)),
            Some(g::Response::Choices(c)) => Some(Resp::Choices(c.clone())),
            Some(g::Response::Number { value, .. }) => Some(Resp::Number(*value)),
            Some(g::Response::Text(t)) => Some(Resp::Text(t.clone())),
            _ => None,
        };
        let mut explanation = vec![format!("graded by test.grading-bench 1.0.0")];
        if let Outcome::Graded(f) = grading_core::grade(&key, resp.as_ref(), &mut explanation) {
            total += f * s.question.points;
        }
        std::hint::black_box(&explanation);
    }
    total
}

fn manifest() -> Manifest {
    Manifest {
        id: "test.grading-bench".into(),
        version: "1.0.0".into(),
        slot: Slot::Grading,
        data_version: 1,
        capabilities: Capabilities { log: true, kv_quota_bytes: Some(1 << 20), ..Default::default() },
        resources: Resources { memory_mib: 64, call_timeout_ms: 10_000, fuel: None, reuse_calls: 0 },
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this briefly without it.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n_calls = if quick { 200 } else { 5000 };
    let secs = if quick { 0.5 } else { 3.0 };
    let live = if quick { 50 } else { 1000 };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
    let mut config = HostConfig { max_concurrent_instances: (live + 64) as u32, ..HostConfig::default() };
    // For comparing pool settings in one build: LECTERN_POOL_KEEP_RESIDENT=bytes, LECTERN_POOL_DECOMMIT_BATCH=n.
    let knob = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    if let Some(b) = knob("LECTERN_POOL_KEEP_RESIDENT") {
        config.memory_keep_resident_bytes = b;
        config.table_keep_resident_bytes = b.min(64 * 1024);
    }
    if let Some(n) = knob("LECTERN_POOL_DECOMMIT_BATCH") {
        config.decommit_batch_size = n;
    }
    println!(
        "pool: keep resident {} KiB of memory, {} KiB of tables; decommit batch {}",
        config.memory_keep_resident_bytes / 1024,
        config.table_keep_resident_bytes / 1024,
        config.decommit_batch_size
    );
    let wasm = std::fs::read(guests::GRADING_BENCH).unwrap();
    println!(
        "lectern plugin host benchmark — {} cores; component {} KB",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        wasm.len() / 1024
    );

    let host = Host::open(&store, dir.path().join("plugins"), config.clone()).unwrap();
    let t = Instant::now();
    let m = manifest();
    host.install(m.clone(), &wasm, &m.capabilities).unwrap();
    println!("install (validate + Cranelift compile + link):      {:>9.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let a = host.activate(Slot::Grading, Scope::Platform, "test.grading-bench@1.0.0").unwrap();
    println!("activation, compiled in memory (info + init + swap): {:>9.2} ms", a.took.as_secs_f64() * 1e3);
    drop(host);
    let t = Instant::now();
    let host = Host::open(&store, dir.path().join("plugins"), config).unwrap();
    println!("restart: open host + re-activate from disk cache:    {:>9.2} ms", t.elapsed().as_secs_f64() * 1e3);
    let a = host.activate(Slot::Grading, Scope::Platform, "test.grading-bench@1.0.0").unwrap();
    println!(
        "activation of a precompiled version:                 {:>9.2} ms (from cache: {})",
        a.took.as_secs_f64() * 1e3,
        a.compiled_from_cache
    );

    let one = batch(1);
    let c = ctx();
    // For a profiler: `LECTERN_PLUGIN_BENCH_PROFILE_SECS=20 <bench binary> --bench` only
    // repeats the fresh instance + call for that long (`perf record -g -p <pid>` meanwhile).
    if let Some(secs) = std::env::var("LECTERN_PLUGIN_BENCH_PROFILE_SECS").ok().and_then(|s| s.parse::<f64>().ok()) {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed().as_secs_f64() < secs {
            host.grade(&c, &one).unwrap();
            n += 1;
        }
        println!("profiling loop: {n} fresh calls in {secs} s ({:.1} µs each)", secs * 1e6 / n as f64);
        return;
    }
    let mut fresh: Vec<Duration> = (0..n_calls)
        .map(|_| {
            let t = Instant::now();
            host.grade(&c, &one).unwrap();
            t.elapsed()
        })
        .collect();
    println!(
        "fresh instance + one grading call:  p50 {:>7.1} µs   p99 {:>7.1} µs   ({n_calls} calls)",
        pct(&mut fresh, 0.5),
        pct(&mut fresh, 0.99)
    );
    let mut warm = host.grade_warm(&c, &one, n_calls).unwrap();
    println!(
        "warm call (same instance):          p50 {:>7.1} µs   p99 {:>7.1} µs",
        pct(&mut warm, 0.5),
        pct(&mut warm, 0.99)
    );

    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let started = Instant::now();
    let total: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let (host, c, one) = (host.clone(), c.clone(), one.clone());
                s.spawn(move || {
                    let mut n = 0;
                    while started.elapsed().as_secs_f64() < secs {
                        host.grade(&c, &one).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!(
        "fresh instances + call per second on {threads} threads: {:>9.0}/s",
        total as f64 / started.elapsed().as_secs_f64()
    );

    let before = rss_bytes();
    let held = host.hold_instances(Slot::Grading, "bench", live).unwrap();
    let after = rss_bytes();
    println!(
        "{} live instances: RSS +{:.1} MiB → {:.1} KiB per instance",
        held.len(),
        (after.saturating_sub(before)) as f64 / 1048576.0,
        (after.saturating_sub(before)) as f64 / 1024.0 / held.len() as f64
    );
    drop(held);

    let big = batch(1000);
    let reps = if quick { 3 } else { 30 };
    let mut nat: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(native(std::hint::black_box(&big)));
            t.elapsed()
        })
        .collect();
    let mut wasm_fresh: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            host.grade(&c, &big).unwrap();
            t.elapsed()
        })
        .collect();
    let mut wasm_warm = host.grade_warm(&c, &big, reps).unwrap();
    let (n50, f50, w50) = (pct(&mut nat, 0.5), pct(&mut wasm_fresh, 0.5), pct(&mut wasm_warm, 0.5));
    println!("grading 1,000 mixed submissions (median of {reps}):");
    println!("  native (same routine, same conversions):   {:>9.1} µs", n50);
    println!("  through the host, fresh instance:          {:>9.1} µs   → throughput {:.2}× native", f50, n50 / f50);
    println!("  through the host, warm instance:           {:>9.1} µs   → throughput {:.2}× native", w50, n50 / w50);

    observer_delivery(&store, dir.path(), if quick { 50 } else { 2000 }, secs);
    activity_calls(&store, dir.path(), if quick { 50 } else { 5000 });
    question_type_calls(&store, dir.path(), if quick { 50 } else { 5000 });
}

/// The example formula question type through the host: `instantiate` (at an
/// attempt's start), `validate` (at every save of its answer) and `grade` of
/// one question (the grading worker, per attempt), each on a fresh instance.
fn question_type_calls(store: &Store, dir: &std::path::Path, n: usize) {
    use lectern_host::slots::question::{Question, ToGrade};
    let host = Host::open(store, dir.join("question-type"), HostConfig::default()).unwrap();
    let manifest =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/examples/formula-question/manifest.json"))
            .unwrap();
    let m = Manifest::parse_json(&manifest).unwrap();
    let grant = m.capabilities.clone();
    host.install(m, &std::fs::read(guests::EXAMPLE_FORMULA_QUESTION).unwrap(), &grant).unwrap();
    host.activate(Slot::QuestionType, Scope::Platform, "org.example.formula@1.0.0").unwrap();
    let plugin = "org.example.formula";
    let q = Question {
        id: "speed".into(),
        type_id: "formula".into(),
        settings: serde_json::json!({
            "prompt": "A car travels {d} km in {t} h. What is its mean speed?",
            "formula": "d / t",
            "variables": {"d": {"min": 50, "max": 200, "step": 10}, "t": {"min": 1, "max": 4, "step": 0.5}},
            "tolerance": 0.01
        })
        .to_string(),
        points: 4.0,
    };
    let c = ctx();
    let (mut make, mut check, mut grade) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let t = Instant::now();
        let (instance, _) = host.question_instantiate(plugin, &c, &q, i as u64).unwrap();
        make.push(t.elapsed());
        let response = serde_json::json!({"value": "61.5"}).to_string();
        let t = Instant::now();
        host.question_validate(plugin, &c, &q, &instance.data, &response).unwrap();
        check.push(t.elapsed());
        let item = ToGrade { question: q.clone(), instance: instance.data, response: Some(response) };
        let t = Instant::now();
        host.question_grade(plugin, &c, &[item]).unwrap();
        grade.push(t.elapsed());
    }
    for (what, v) in
        [("instantiate (start)", &mut make), ("validate (save)", &mut check), ("grade (1 question)", &mut grade)]
    {
        println!(
            "question type (formula) {what:<20} fresh instance:       p50 {:>7.1} µs   p99 {:>7.1} µs   ({n} calls)",
            pct(v, 0.5),
            pct(v, 0.99)
        );
    }
}

/// The example flashcards activity through the host: `render` of a learner's
/// view and `act` (turn the card, answer it; state in, state out, a
/// gradebook effect when mastery changes), each call on a fresh instance.
fn activity_calls(store: &Store, dir: &std::path::Path, n: usize) {
    use lectern_host::slots::activity::{Action, Item, LearnerState};
    let host = Host::open(store, dir.join("activity"), HostConfig::default()).unwrap();
    let manifest =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/examples/flashcards/manifest.json")).unwrap();
    let m = Manifest::parse_json(&manifest).unwrap();
    let grant = m.capabilities.clone();
    host.install(m, &std::fs::read(guests::EXAMPLE_FLASHCARDS).unwrap(), &grant).unwrap();
    host.activate(Slot::Activity, Scope::Platform, "org.example.flashcards@1.0.0").unwrap();
    let cards: Vec<serde_json::Value> = (0..40)
        .map(|i| serde_json::json!({"front": format!("Term {i}"), "back": format!("The definition of term {i}, a sentence long.")}))
        .collect();
    let item = Item {
        id: "deck".into(),
        kind: "flashcards".into(),
        title: "Deck".into(),
        settings: serde_json::json!({ "cards": cards }).to_string(),
        settings_revision: 1,
    };
    let learner = CallContext { user: Some("learner".into()), ..ctx() };
    let plugin = "org.example.flashcards";
    let mut state: Option<LearnerState> = None;
    let (mut render, mut act) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let t = Instant::now();
        host.activity_render(plugin, &learner, &item, state.as_ref()).unwrap();
        render.push(t.elapsed());
        let name = if i % 2 == 0 {
            "reveal"
        } else if i % 6 == 5 {
            "again"
        } else {
            "knew"
        };
        let action = Action { name: name.into(), payload: "{}".into() };
        let t = Instant::now();
        let acted = host.activity_act(plugin, &learner, &item, state.as_ref(), &action, Some("learner")).unwrap();
        act.push(t.elapsed());
        let version = state.as_ref().map_or(1, |s| s.version + 1);
        state = acted.outcome.state.map(|data| LearnerState { data, version });
    }
    println!(
        "activity render (flashcards, 40 cards, fresh instance):     p50 {:>7.1} µs   p99 {:>7.1} µs   ({n} calls)",
        pct(&mut render, 0.5),
        pct(&mut render, 0.99)
    );
    println!(
        "activity act (turn/answer a card, state in and out):         p50 {:>7.1} µs   p99 {:>7.1} µs   ({n} calls)",
        pct(&mut act, 0.5),
        pct(&mut act, 0.99)
    );
}

/// An HTTP/1.1 receiver on 127.0.0.1 answering 204 to every request, one
/// thread per connection (the webhook opens a connection per request).
fn receiver() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end().to_ascii_lowercase();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
            });
        }
    });
    port
}

fn observer_delivery(store: &Store, dir: &std::path::Path, n: usize, secs: f64) {
    let port = receiver();
    let host = Host::open(store, dir.join("observer"), HostConfig::default()).unwrap();
    let id = "org.example.grade-webhook";
    let mut m = manifest();
    m.id = id.into();
    m.slot = Slot::Observer;
    m.capabilities =
        Capabilities { kv_quota_bytes: Some(1 << 20), subscribe: vec!["grade.recorded".into()], ..Default::default() };
    m.capabilities.outbound_hosts = vec!["*".into()];
    m.resources = Resources { memory_mib: 32, call_timeout_ms: 5_000, fuel: None, reuse_calls: 0 };
    let grant = Capabilities { outbound_hosts: vec![format!("127.0.0.1:{port}")], ..m.capabilities.clone() };
    let wasm = std::fs::read(guests::EXAMPLE_GRADE_WEBHOOK).unwrap();
    host.install(m, &wasm, &grant).unwrap();
    host.activate(Slot::Observer, Scope::Platform, &format!("{id}@1.0.0")).unwrap();
    let settings = serde_json::json!({ "endpoint": format!("http://127.0.0.1:{port}/grades"), "token": "bench" });
    host.set_settings(id, &Scope::Platform, Some(&settings)).unwrap();
    let payload = br#"{"institution":"bench","course":"c","item":"q","student":"s","points":3.0,"max_points":4.0}"#;
    let event = |i: usize| EventContext {
        institution: "bench".into(),
        actor: None,
        course: Some("c".into()),
        topic: "grade.recorded".into(),
        message_id: format!("m-{i}"),
        occurred_at_ms: 0,
        locale: "en".into(),
    };
    let mut each: Vec<Duration> = (0..n)
        .map(|i| {
            let t = Instant::now();
            host.deliver_event(id, &event(i), payload).unwrap();
            t.elapsed()
        })
        .collect();
    println!(
        "observer delivery (on-event + HTTP POST to a local receiver): p50 {:>7.1} µs   p99 {:>7.1} µs   ({n} events, one at a time)",
        pct(&mut each, 0.5),
        pct(&mut each, 0.99)
    );
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let started = Instant::now();
    let total: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let host = host.clone();
                s.spawn(move || {
                    let mut k = 0;
                    while started.elapsed().as_secs_f64() < secs {
                        host.deliver_event(id, &event(1_000_000 * (t + 1) + k), payload).unwrap();
                        k += 1;
                    }
                    k
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!(
        "observer deliveries per second on {threads} threads:            {:>9.0}/s",
        total as f64 / started.elapsed().as_secs_f64()
    );
}

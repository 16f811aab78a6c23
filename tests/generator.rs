//! Generated tutor answers (`tutor.chat`) against a REAL OpenAI-compatible chat
//! server, not a stand-in: `cargo xtask generator-check` starts llama-cpp-python's
//! server with Gemma 3 270M (Q4_K_M) and runs this binary with
//! `LECTERN_CHAT_URL` / `LECTERN_CHAT_MODEL` set. It is gated behind the
//! `generator-check` feature so that the ordinary suite never needs the model.
//!
//! A 270M model is weak: beyond "the kernel passed its reply on, with the
//! citations it was given", nothing here asserts what the model says. The
//! question, the answer and the latency are printed for the report.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::time::{Duration, Instant};

use lectern_core::tutor::ChatSettings;
use lectern_e2e::tutor_pages::{ARP, DNS};
use lectern_e2e::{Api, Options, PASSWORD, TestServer, bootstrap_admin, guests};
use serde_json::{Value, json};

const CONTENT_MANIFEST: &str = include_str!("../plugins/content/manifest.json");
const TUTORING_MANIFEST: &str = include_str!("../plugins/tutoring/manifest.json");
const NOT_FOUND: &str = "I don't find this in the course material.";

/// In scope: `(question, the page the first citation must point at)`.
const IN_SCOPE: [(&str, &str); 2] = [
    ("How does ARP find the MAC address for an IPv4 address?", "arp"),
    ("What does a DNS resolver do with a name?", "dns"),
];
/// Course vocabulary, but the pages don't say (RFC 826; port 53): retrieval
/// answers them (weakly), so the model's own not-found path is what should
/// decline them. ("What year was ARP standardised and by whom?" is no good:
/// too few of its terms are in the pages, and retrieval declines it itself.)
const WEAK: [&str; 2] =
    ["Which RFC defines the ARP request and the ARP reply?", "Which port does a DNS resolver use to ask name servers?"];
/// Nothing in the course: lexical retrieval declines it before the generator.
const OUT_OF_SCOPE: &str = "What is a good recipe for sourdough bread?";

/// The two tests share the machine's two cores with one single-threaded model
/// server: run them one at a time so the latencies are the generator's own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn chat_from_env() -> ChatSettings {
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!(
                "{name} is not set: this test needs a running OpenAI-compatible chat server. \
                 Run `cargo xtask generator-check`, which starts llama-cpp-python's server with \
                 Gemma 3 270M and sets LECTERN_CHAT_URL and LECTERN_CHAT_MODEL"
            )
        })
    };
    ChatSettings {
        url: var("LECTERN_CHAT_URL"),
        model: var("LECTERN_CHAT_MODEL"),
        api_key_env: None,
        timeout_secs: 120,
        max_tokens: 160,
    }
}

/// A kernel with the content and tutoring plugins, a published course with
/// the ARP and DNS pages indexed, its teacher and an enrolled student.
struct Course {
    server: TestServer,
    _dir: tempfile::TempDir,
    base: String,
    student: Api,
}

async fn course(chat: ChatSettings) -> Course {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(
        &dir.path().join("data"),
        Options {
            kernel: Box::new(move |c| {
                c.tutor.chat = Some(chat);
                c.tutor.questions_per_minute = 100;
                c.tutor.questions_per_hour = 1000;
            }),
            ..Default::default()
        },
    )
    .await
    .expect("the kernel starts");
    let root = bootstrap_admin(&server).await;
    for (manifest, wasm) in [(CONTENT_MANIFEST, guests::CONTENT_PLUGIN), (TUTORING_MANIFEST, guests::TUTORING_PLUGIN)] {
        let wasm = std::fs::read(wasm).expect("the plugin was built");
        let b = server.kernel.plugins().install_bundled(manifest, &wasm).await.expect("installs");
        assert!(b.activated, "{b:?}");
    }
    let r = root.post("/api/v1/institutions", json!({"slug": "alpha", "name": "University alpha"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user = |email: &'static str, role: &'static str| {
        let root = root.clone();
        async move {
            let r = root
                .post(
                    "/api/v1/institutions/alpha/users",
                    json!({"email": email, "name": email, "role": role, "password": PASSWORD}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            let (api, lr) = root.anonymous().login("alpha", email, PASSWORD).await;
            lr.ok();
            (api, r.body["id"].as_str().unwrap().to_owned())
        }
    };
    let (teacher, _) = user("prof@alpha.test", "staff").await;
    let (student, student_id) = user("ana@alpha.test", "member").await;
    let r = teacher
        .post("/api/v1/institutions/alpha/courses", json!({"code": "NET-1", "title": "Networks", "description": ""}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let base = format!("/api/v1/institutions/alpha/courses/{}", r.body["id"].as_str().unwrap());
    teacher.post_empty(&format!("{base}/publish")).await.ok();
    teacher.post(&format!("{base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Links"})).await.ok();
    for (id, title, markdown) in [("arp", "ARP", ARP), ("dns", "DNS", DNS)] {
        let r = teacher
            .post(
                &format!("{base}/content/modules/m1/items"),
                json!({"id": id, "kind": "page", "title": title, "markdown": markdown}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = teacher.get(&format!("{base}/tutor/index")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["pages"] == 2 && r.body["indexed"] == 2 && r.body["pending"].as_array().is_some_and(|p| p.is_empty())
        {
            break;
        }
        assert!(Instant::now() < deadline, "the tutor index did not catch up: {}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Course { server, _dir: dir, base, student }
}

/// Asks as the student; prints the question, the reply and the latency.
async fn ask(c: &Course, question: &str) -> Value {
    let started = Instant::now();
    let r = c.student.post(&format!("{}/tutor/questions", c.base), json!({"question": question})).await;
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{question}: {}", r.body);
    let a = r.body;
    let cited: Vec<String> = a["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("[{}] {} — {}", c["n"], c["item"].as_str().unwrap(), c["section"].as_str().unwrap()))
        .collect();
    println!(
        "\nQ: {question}\n   {:.2} s, generated: {}, refusal: {}, citations: {cited:?}\nA: {}",
        took.as_secs_f64(),
        a["generated"],
        a["refusal"],
        a["answer"].as_str().unwrap_or_default()
    );
    a
}

fn cited_items(a: &Value) -> Vec<&str> {
    a["citations"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect()
}

/// Every in-scope question gets a non-empty answer, generated or extractive,
/// whose first citation is the right page.
async fn answers_in_scope(c: &Course, generated: bool) {
    for (question, page) in IN_SCOPE {
        let a = ask(c, question).await;
        assert!(a["refusal"].is_null(), "{question}: {a}");
        assert_eq!(a["generated"], generated, "{question}: {a}");
        assert!(!a["answer"].as_str().unwrap().trim().is_empty(), "{a}");
        assert_eq!(cited_items(&a).first().copied(), Some(page), "{question}: {a}");
    }
}

#[tokio::test]
async fn a_real_chat_model_phrases_cited_answers_and_declines() {
    let chat = chat_from_env();
    let _one = ONE_AT_A_TIME.lock().await;
    println!("chat server: {} (model {})", chat.url, chat.model);
    let c = course(chat).await;

    // In scope: the model writes the answer from the cited passages.
    answers_in_scope(&c, true).await;

    // Retrieval answers this one (the extractive test below checks it), so
    // the generator sees passages that don't say: the model should decline,
    // but a 270M model may not. Either way the kernel's reply is coherent.
    for question in WEAK {
        let a = ask(&c, question).await;
        if a["refusal"].is_null() {
            assert_eq!(a["generated"], true, "{a}");
            assert!(!a["answer"].as_str().unwrap().trim().is_empty(), "{a}");
            assert!(!cited_items(&a).is_empty(), "{a}");
            println!("   (the model answered instead of declining)");
        } else {
            assert_eq!(a["refusal"], NOT_FOUND, "{a}");
            assert!(cited_items(&a).is_empty(), "{a}");
            println!("   (the model declined: the generator's not-found path)");
        }
    }

    // Nothing in the course: declined before the model is asked.
    let a = ask(&c, OUT_OF_SCOPE).await;
    assert_eq!(a["refusal"], NOT_FOUND, "{a}");
    assert!(cited_items(&a).is_empty(), "{a}");
    assert_eq!(a["generated"], false, "{a}");
    c.server.stop().await.unwrap();
}

#[tokio::test]
async fn the_extractive_answer_stands_when_the_chat_server_is_down() {
    let _one = ONE_AT_A_TIME.lock().await;
    // A port nothing listens on: bound, read, released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = course(ChatSettings {
        url: format!("http://127.0.0.1:{port}"),
        model: "nobody".into(),
        api_key_env: None,
        timeout_secs: 5,
        max_tokens: 160,
    })
    .await;
    answers_in_scope(&c, false).await;
    // The weak questions reach the generator at all: retrieval does answer them.
    for question in WEAK {
        let a = ask(&c, question).await;
        assert!(a["refusal"].is_null(), "retrieval declined `{question}`, so it never reaches the model: {a}");
        assert!(!cited_items(&a).is_empty(), "{a}");
    }
    c.server.stop().await.unwrap();
}

//! The AI tutor end to end, over HTTP with the real compiled first-party
//! content and tutoring plugins, the kernel's vector index on disk and the
//! built-in lexical embedder: pages are indexed in the background as they
//! are written, students get cited answers only from material they may
//! open, the tutor declines when the material is silent or an assessment
//! attempt is open, edits and deletions reach the index, and instructors see
//! what was asked.

use std::time::{Duration, Instant};

use lectern_e2e::tutor_pages::{ARP, DNS};
use lectern_e2e::{Api, Options, guests};
use serde_json::{Value, json};

use crate::World;
use crate::content::install_content_plugin;
use crate::question_types::{Class, start};

const TUTORING_MANIFEST: &str = include_str!("../../plugins/tutoring/manifest.json");
const NOT_FOUND: &str = "I don't find this in the course material.";

pub(crate) async fn install_tutoring_plugin(w: &World) {
    let wasm = std::fs::read(guests::TUTORING_PLUGIN).expect("the tutoring plugin was built");
    let b = w.server.kernel.plugins().install_bundled(TUTORING_MANIFEST, &wasm).await.expect("installs");
    assert!(b.activated, "{b:?}");
}

/// Waits until the tutor's index holds `pages` pages and nothing is pending.
pub(crate) async fn indexed(staff: &Api, base: &str, pages: u64) -> Value {
    // MiniLM on a busy 2-core machine embeds a few passages a second.
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let r = staff.get(&format!("{base}/tutor/index")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let done = r.body["pages"] == pages
            && r.body["indexed"] == pages
            && r.body["pending"].as_array().is_some_and(|p| p.is_empty());
        if done {
            return r.body;
        }
        assert!(Instant::now() < deadline, "the tutor index did not catch up: {}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn ask(api: &Api, base: &str, q: &str) -> Value {
    let r = api.post(&format!("{base}/tutor/questions"), json!({ "question": q })).await;
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.body
}

fn cited_items(answer: &Value) -> Vec<String> {
    answer["citations"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap().to_owned()).collect()
}

const NAT: &str = "## Network address translation

NAT lets many hosts share one public IPv4 address: the router rewrites the source address and port of \
outgoing packets and keeps a translation table to send replies back to the right inside host.
";

/// Deleting a page takes its passages out of the index in the background:
/// until they are gone the index status says so (a client waiting for the
/// index to catch up waits for the removal too), and nobody is quoted the
/// deleted page meanwhile — staff included, whose searches are scoped to the
/// course's items (before, the plugin could cite the deleted page and the
/// teacher got a 502).
#[tokio::test]
async fn a_deleted_page_is_pending_and_not_quoted_until_its_passages_are_removed() {
    let mut w = World::new().await;
    install_content_plugin(&w).await;
    install_tutoring_plugin(&w).await;
    let class = Class::new(&w, "NET-2").await;
    let (base, teacher) = (class.base.clone(), class.teacher.clone());
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Links"})).await.ok();
    for (id, title, markdown) in [("arp", "ARP", ARP), ("nat", "NAT", NAT)] {
        let item = json!({"id": id, "kind": "page", "title": title, "markdown": markdown});
        let r = teacher.post(&format!("{base}/content/modules/m1/items"), item).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    indexed(&teacher, &base, 2).await;
    let q = "How does NAT share one public address?";
    assert_eq!(cited_items(&ask(&teacher, &base, q).await)[0], "nat");

    // The index worker is held: the deletion has not reached the index yet.
    w.server.pause_background().await;
    let r = teacher.delete(&format!("{base}/content/items/nat")).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
    let r = teacher.get(&format!("{base}/tutor/index")).await;
    let status = r.ok();
    assert_eq!((status["pages"].as_u64(), status["indexed"].as_u64()), (Some(1), Some(1)), "{status}");
    assert_eq!(status["pending"], json!([{"item": "nat", "title": "NAT", "error": null, "removal": true}]), "{status}");
    let a = ask(&teacher, &base, q).await;
    assert!(!cited_items(&a).contains(&"nat".to_owned()), "{a}");

    // Once the worker runs, the removal is done and nothing is pending.
    w.server.resume_background().await.expect("background restarts");
    let status = indexed(&teacher, &base, 1).await;
    assert_eq!(status["pending"], json!([]), "{status}");
    let a = ask(&teacher, &base, q).await;
    assert!(!cited_items(&a).contains(&"nat".to_owned()), "{a}");
}

/// The conversation helps a follow-up find its passages but never answers an
/// off-topic question. Before, a question with fewer than three content
/// words ("What is the capital of France?") was searched together with the
/// previous question, and the decline rule took the similarity of that
/// search: after one question about ARP the student got `refusal: null` and
/// three ARP citations. Now it is declined however the conversation went,
/// while "its" in a real follow-up still finds the ARP cache.
#[tokio::test]
async fn an_off_topic_question_is_declined_after_an_on_topic_one() {
    let w = World::new().await;
    install_content_plugin(&w).await;
    install_tutoring_plugin(&w).await;
    let class = Class::new(&w, "NET-3").await;
    let (base, teacher) = (class.base.clone(), class.teacher.clone());
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Links"})).await.ok();
    for (id, title, markdown) in [("arp", "ARP", ARP), ("dns", "DNS", DNS)] {
        let item = json!({"id": id, "kind": "page", "title": title, "markdown": markdown});
        let r = teacher.post(&format!("{base}/content/modules/m1/items"), item).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    indexed(&teacher, &base, 2).await;
    let off_topic = "What is the capital of France?";
    for email in ["ana@alpha.test", "ben@alpha.test"] {
        let (student, _) = class.student(&w, email).await;
        let a = ask(&student, &base, off_topic).await;
        assert_eq!(a["refusal"], NOT_FOUND, "a fresh conversation: {a}");
        let a = ask(&student, &base, "How does ARP find a MAC address?").await;
        assert!(a["refusal"].is_null(), "{a}");
        assert_eq!(cited_items(&a)[0], "arp", "{a}");
        let a = ask(&student, &base, off_topic).await;
        assert_eq!(a["refusal"], NOT_FOUND, "after an ARP question: {a}");
        assert_eq!(a["citations"], json!([]), "{a}");
        // A follow-up still leans on the conversation: "its" is ARP's (DNS
        // resolvers cache too), and the answer quotes the ARP cache.
        let a = ask(&student, &base, "And what about its cache?").await;
        assert!(a["refusal"].is_null(), "{a}");
        assert!(cited_items(&a).iter().all(|i| i == "arp"), "{a}");
        let sections: Vec<&str> =
            a["citations"].as_array().unwrap().iter().filter_map(|c| c["section"].as_str()).collect();
        assert!(sections.contains(&"How ARP resolves addresses › The ARP cache"), "{a}");
        assert!(a["answer"].as_str().unwrap().contains("Replies are kept in the ARP cache"), "{a}");
    }
}

#[tokio::test]
async fn students_get_cited_answers_only_from_what_they_may_open() {
    let w = World::with(Options {
        kernel: Box::new(|c| {
            c.tutor.questions_per_minute = 8;
            c.tutor.questions_per_hour = 1000;
        }),
        ..Default::default()
    })
    .await;
    install_content_plugin(&w).await;
    install_tutoring_plugin(&w).await;
    let class = Class::new(&w, "NET-1").await;
    let (student, _) = class.student(&w, "ana@alpha.test").await;
    let base = class.base.clone();
    let teacher = &class.teacher;

    let now = time::OffsetDateTime::now_utc();
    let in_days =
        |d: i64| (now + time::Duration::days(d)).format(&time::format_description::well_known::Rfc3339).unwrap();
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Links"})).await.ok();
    let add = |body: Value| {
        let teacher = teacher.clone();
        let path = format!("{base}/content/modules/m1/items");
        async move {
            let r = teacher.post(&path, body).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    add(json!({"id": "arp", "kind": "page", "title": "ARP", "markdown": ARP})).await;
    add(json!({"id": "dns", "kind": "page", "title": "DNS", "markdown": DNS, "release_at": in_days(7)})).await;
    add(json!({"id": "nat", "kind": "page", "title": "NAT", "markdown": NAT,
        "prerequisites": [{"kind": "completed", "item": "arp"}]}))
    .await;
    let status = indexed(teacher, &base, 3).await;
    crate::schema::assert_matches_openapi(teacher, &status, "TutorIndexStatus").await;
    assert_eq!(status["model"], "lectern-lexical-v1");
    assert!(status["passages"].as_u64().unwrap() >= 4, "{status}");

    // A cited, extractive answer from the page, with its section and anchor.
    let a = ask(&student, &base, "How does ARP find the MAC address for an IPv4 address?").await;
    crate::schema::assert_matches_openapi(teacher, &a, "TutorTurn").await;
    assert!(a["refusal"].is_null(), "{a}");
    assert_eq!(a["citations"][0]["item"], "arp", "{a}");
    assert_eq!(a["citations"][0]["item_title"], "ARP");
    assert_eq!(a["citations"][0]["section"], "How ARP resolves addresses");
    assert_eq!(a["citations"][0]["anchor"], "user-content-how-arp-resolves-addresses");
    assert_eq!(a["citations"][0]["n"], 1);
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("maps an IPv4 address to a MAC address") && text.contains("[1]"), "{text}");
    assert_eq!(a["generated"], false);

    // Unreleased (dns) and locked (nat) pages are never quoted to the student…
    for q in ["What does a DNS resolver do with a name?", "How does NAT share one public address?"] {
        let a = ask(&student, &base, q).await;
        let items = cited_items(&a);
        assert!(!items.iter().any(|i| i == "dns" || i == "nat"), "{q}: {a}");
    }
    // …but staff may ask about everything.
    let a = ask(teacher, &base, "What does a DNS resolver do with a name?").await;
    assert_eq!(cited_items(&a)[0], "dns", "{a}");

    // Opening ARP completes it, which unlocks NAT: now the tutor may quote it.
    student.get(&format!("{base}/content/items/arp")).await.ok();
    let a = ask(&student, &base, "How does NAT share one public address?").await;
    assert_eq!(cited_items(&a)[0], "nat", "{a}");

    // Nothing in the material: the tutor says so instead of inventing.
    let a = ask(&student, &base, "What is a good recipe for sourdough bread?").await;
    assert_eq!(a["refusal"], NOT_FOUND, "{a}");
    assert!(a["citations"].as_array().unwrap().is_empty());

    // Per-student rate limit (8 a minute): 5 asked so far.
    for _ in 0..3 {
        ask(&student, &base, "What is the ARP cache for?").await;
    }
    let r = student.post(&format!("{base}/tutor/questions"), json!({"question": "And again?"})).await;
    r.assert_problem(429, "throttled");
    assert!(r.header("retry-after").is_some());
    w.server.clock.advance(61);

    // Edits and deletions reach the index.
    let r = teacher
        .patch(
            &format!("{base}/content/items/nat"),
            json!({"markdown": format!("{NAT}\n## Port forwarding\n\nA zebracast rule forwards one outside port to an inside host.\n")}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    indexed(teacher, &base, 3).await;
    let a = ask(&student, &base, "What is a zebracast rule?").await;
    assert_eq!(a["citations"][0]["section"], "Port forwarding", "{a}");
    let r = teacher.delete(&format!("{base}/content/items/nat")).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
    indexed(teacher, &base, 2).await;
    let a = ask(teacher, &base, "What is a zebracast rule?").await;
    assert!(!cited_items(&a).contains(&"nat".to_owned()), "{a}");

    // While an assessment attempt is open, the tutor is paused for the student.
    let quiz = class
        .assessment(json!({"title": "Quiz", "questions": [{"id": "q1", "prompt": "ARP?", "points": 1.0,
            "key": {"short_answer": {"alternatives": [{"pattern": "mac", "regex": false, "credit": 1.0, "feedback": null}],
            "case_sensitive": false, "normalize_whitespace": true}}}]}))
        .await;
    let attempt = start(&student, &quiz).await;
    let a = ask(&student, &base, "How does ARP find the MAC address for an IPv4 address?").await;
    assert!(a["refusal"].as_str().unwrap().contains("assessment open"), "{a}");
    assert!(a["citations"].as_array().unwrap().is_empty());
    student.post_empty(&format!("{attempt}/submit")).await.ok();
    let a = ask(&student, &base, "How does ARP find the MAC address for an IPv4 address?").await;
    assert!(a["refusal"].is_null(), "{a}");

    // The student's conversation, oldest first.
    let r = student.get(&format!("{base}/tutor/conversation")).await;
    let turns = r.ok()["turns"].as_array().unwrap().clone();
    assert_eq!(turns.len(), 11, "{}", r.body);
    crate::schema::assert_matches_openapi(teacher, r.ok(), "TutorConversation").await;
    assert!(turns[0]["question"].as_str().unwrap().starts_with("How does ARP"));

    // Instructors see what was asked, pseudonymous by default, and what was cited.
    let r = student.get(&format!("{base}/tutor/insights")).await;
    r.assert_problem(403, "forbidden");
    let r = teacher.get(&format!("{base}/tutor/insights")).await;
    let ins = r.ok();
    crate::schema::assert_matches_openapi(teacher, ins, "TutorInsights").await;
    assert_eq!(ins["questions_asked"], 13, "{ins}");
    assert_eq!(ins["students"], 2, "the teacher asked too: {ins}");
    assert_eq!(ins["cited_items"][0]["item"], "arp", "{ins}");
    let unanswered = ins["unanswered"].as_array().unwrap();
    assert!(unanswered.iter().any(|q| q["question"] == "What is a good recipe for sourdough bread?"), "{ins}");
    assert!(ins["recent"].as_array().unwrap().iter().any(|q| q["student"] == "Student 1"), "{ins}");
    assert!(!ins.to_string().contains("ana@alpha.test"));
    let r = teacher.put(&format!("{base}/tutor/policy"), json!({"enabled": true, "show_names": true})).await;
    crate::schema::assert_matches_openapi(teacher, r.ok(), "TutorPolicy").await;
    let ins = teacher.get(&format!("{base}/tutor/insights")).await.body;
    assert!(ins.to_string().contains("ana@alpha.test"), "{ins}");

    // Bad input, other institutions, and a switched-off tutor.
    let r = student.post(&format!("{base}/tutor/questions"), json!({"question": "   "})).await;
    r.assert_problem(422, "validation");
    let r = student.post(&format!("{base}/tutor/questions"), json!({"question": "x".repeat(2001)})).await;
    r.assert_problem(422, "validation");
    let r = student.post(&format!("{base}/tutor/questions"), json!({"text": "wrong field"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = w.b.admin.post(&format!("{base}/tutor/questions"), json!({"question": "ARP?"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    teacher.put(&format!("{base}/tutor/policy"), json!({"enabled": false, "show_names": false})).await.ok();
    let r = student.post(&format!("{base}/tutor/questions"), json!({"question": "ARP?"})).await;
    r.assert_problem(403, "forbidden");
}

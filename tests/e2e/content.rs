//! Course content end to end, over HTTP with the real compiled first-party
//! content plugin (`plugins/content`): an instructor builds a course with
//! modules, pages using every Markdown feature, a video and a PDF,
//! prerequisites and release dates; a student sees only what is released
//! and unlocked, progresses and resumes; the course is exported and imported
//! into another institution, where it comes out identical.

use lectern_e2e::{Api, Reply, guests};
use serde_json::{Value, json};

use crate::{World, create_user};

const CONTENT_MANIFEST: &str = include_str!("../../plugins/content/manifest.json");

/// Every Markdown feature the issue lists: CommonMark, tables, footnotes, math, task lists.
const INTRO: &str = r#"# Introduction to Signals

Welcome! This page uses **every** feature.[^note]

## A table

| Signal | Hz |
|--------|---:|
| Alpha  | 10 |
| Beta   | 20 |

## Math

Inline $e^{i\pi} + 1 = 0$ and on its own line:

$$\int_0^1 x^2\,dx = \frac{1}{3}$$

## Tasks

- [x] watch the lecture
- [ ] read the slides

~~Old~~ text, `code`, and a [link](https://example.org/signals).

```rust
fn main() {}
```

[^note]: A footnote with *emphasis*.
"#;

/// Content that tries to run script or restyle the page, every way we know.
const HOSTILE: &str = r#"# Hostile

<script>alert('script')</script>

<img src="x" onerror="alert('onerror')">

[click](javascript:alert('js-url')) and [again](JaVaScRiPt:alert(1)) and [data](data:text/html,<script>alert(1)</script>)

<svg onload="alert('svg')"><circle r="1"/></svg>

<style>body { background: url(javascript:alert('css')) }</style>

<p style="position:fixed;top:0">overlay</p>

<iframe src="https://evil.example/"></iframe>

<a href="https://example.org/" onclick="alert('click')">ok link</a>
"#;

pub(crate) async fn install_content_plugin(w: &World) {
    let wasm = std::fs::read(guests::CONTENT_PLUGIN).expect("the content plugin was built");
    let b = w.server.kernel.plugins().install_bundled(CONTENT_MANIFEST, &wasm).await.expect("installs");
    assert!(b.installed && b.activated, "{b:?}");
    // What `lectern serve` does at every start: the second time is a no-op.
    let again = w.server.kernel.plugins().install_bundled(CONTENT_MANIFEST, &wasm).await.expect("idempotent");
    assert!(!again.installed && !again.activated, "{again:?}");
}

pub(crate) async fn upload(api: &Api, path: &str, bytes: Vec<u8>, content_type: &str) -> Reply {
    let req = api
        .http
        .post(format!("{}{path}", api.base))
        .header("content-type", content_type)
        .body(bytes)
        .bearer_auth(api.token.as_deref().unwrap_or_default());
    Api::finish(req).await
}

/// A few bytes an MP4 sniffer recognises (an `ftyp` box), then filler.
pub(crate) fn fake_mp4(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    v.extend((0..len.saturating_sub(v.len())).map(|i| (i * 31 % 251) as u8));
    v
}

pub(crate) fn fake_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

fn ids(view: &Value) -> Vec<String> {
    view["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()))
        .collect()
}

fn item<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["items"].as_array().unwrap().iter())
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {view}"))
}

/// A world with the content plugin and a course of alpha's administrator; returns the course's API base.
async fn world_with_course(code: &str) -> (World, String) {
    let w = World::new().await;
    install_content_plugin(&w).await;
    let a = w.a.slug.clone();
    let body = json!({"code": code, "title": format!("Course {code}"), "description": ""});
    let r = w.a.admin.post(&format!("/api/v1/institutions/{a}/courses"), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let course = r.body["id"].as_str().unwrap().to_owned();
    (w, format!("/api/v1/institutions/{a}/courses/{course}"))
}

/// The outline without what legitimately differs between two courses.
fn comparable(outline: &Value) -> Value {
    let mut o = outline.clone();
    o.as_object_mut().unwrap().remove("version");
    o.as_object_mut().unwrap().remove("updated_at");
    // A media URL is signed for its course: the copy's differs in the query only.
    for m in o["modules"].as_array_mut().unwrap() {
        for i in m["items"].as_array_mut().unwrap() {
            if let Some(url) = i["body"]["url"].as_str().filter(|u| u.starts_with("/blobs/")) {
                i["body"]["url"] = Value::from(url.split('?').next().unwrap());
            }
        }
    }
    o
}

#[tokio::test]
async fn build_study_resume_export_import() {
    let w = World::new().await;
    install_content_plugin(&w).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "teacher@alpha.test", "staff").await;
    let student_id = create_user(&w.a.admin, a, "student@alpha.test", "member").await;
    let teacher = w.login(a, "teacher@alpha.test").await;
    let student = w.login(a, "student@alpha.test").await;

    let r = teacher
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({"code": "SIG-101", "title": "Signals", "description": "Waves"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let course = r.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/{a}/courses/{course}");
    teacher.post(&format!("{base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{base}/publish")).await.ok();

    // Media: a video and a PDF, content-addressed.
    let video = fake_mp4(3 * 1024 * 1024 + 17);
    let r = upload(&teacher, &format!("{base}/media?filename=lecture.mp4"), video.clone(), "video/mp4").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let video_sha = r.body["sha256"].as_str().unwrap().to_owned();
    let r = upload(&teacher, &format!("{base}/media?filename=slides.pdf"), fake_pdf(), "application/pdf").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pdf_sha = r.body["sha256"].as_str().unwrap().to_owned();

    // The outline: week 1 now, week 2 in a week.
    let now = time::OffsetDateTime::now_utc();
    let at =
        |days: i64| (now + time::Duration::days(days)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let r = teacher.post(&format!("{base}/content/modules"), json!({"id": "week-1", "title": "Week 1"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"1\""));
    teacher
        .post(&format!("{base}/content/modules"), json!({"id": "week-2", "title": "Week 2", "release_at": at(7)}))
        .await
        .ok();
    let add = |module: &str, body: Value| {
        let teacher = teacher.clone();
        let path = format!("{base}/content/modules/{module}/items");
        async move {
            let r = teacher.post(&path, body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body
        }
    };
    let intro = add("week-1", json!({"id": "intro", "kind": "page", "title": "Introduction", "markdown": INTRO})).await;
    assert_eq!(intro["body"]["type"], "page");
    assert!(intro["body"]["reading_minutes"].as_u64().unwrap() >= 1);
    add(
        "week-1",
        json!({"id": "lecture", "kind": "video", "title": "Lecture 1", "media": video_sha,
        "prerequisites": [{"kind": "completed", "item": "intro"}]}),
    )
    .await;
    add(
        "week-1",
        json!({"id": "slides", "kind": "file", "title": "Slides", "media": pdf_sha,
        "prerequisites": [{"kind": "completed", "item": "intro"}]}),
    )
    .await;
    add(
        "week-1",
        json!({"id": "reading", "kind": "link", "title": "Further reading", "url": "https://example.org/read",
        "completion": {"kind": "manual"}}),
    )
    .await;
    add("week-1", json!({"id": "quiz-1", "kind": "assessment", "title": "Quiz 1", "assessment": "quiz-1"})).await;
    add(
        "week-1",
        json!({"id": "advanced", "kind": "page", "title": "Advanced", "markdown": "# Advanced\n\nDeep.",
        "prerequisites": [{"kind": "scored_at_least", "item": "quiz-1", "min": 0.7}], "release_at": at(-1)}),
    )
    .await;
    add("week-1", json!({"id": "later", "kind": "page", "title": "Later", "markdown": "Soon.", "release_at": at(1)}))
        .await;
    add("week-2", json!({"id": "week-2-intro", "kind": "page", "title": "Week 2", "markdown": "# Week 2"})).await;

    // Bad structure is refused with a problem document and changes nothing.
    let r = teacher
        .patch(
            &format!("{base}/content/items/intro"),
            json!({"prerequisites": [{"kind": "completed", "item": "lecture"}]}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("cycle"), "{}", r.body);
    let r = teacher
        .post(
            &format!("{base}/content/modules/week-1/items"),
            json!({"kind": "video", "title": "x", "media": "0".repeat(64)}),
        )
        .await;
    r.assert_problem(422, "validation");
    let r = teacher
        .post(
            &format!("{base}/content/modules/week-1/items"),
            json!({"kind": "link", "title": "x", "url": "javascript:alert(1)"}),
        )
        .await;
    r.assert_problem(422, "validation");
    let r = teacher.delete(&format!("{base}/content/items/intro")).await;
    r.assert_problem(409, "conflict");
    let r = student.post(&format!("{base}/content/modules"), json!({"title": "Mine"})).await;
    r.assert_problem(403, "forbidden");
    // Two authors: an edit against a stale version is refused, naming the current one.
    let current = teacher.get(&format!("{base}/content/outline")).await;
    let etag = current.header("etag").unwrap().to_owned();
    let stale = teacher
        .http
        .patch(format!("{}{base}/content/modules/week-1", teacher.base))
        .bearer_auth(teacher.token.as_deref().unwrap())
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Week one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(teacher.get(&format!("{base}/content/outline")).await.body, current.body, "nothing changed");

    // The rendering: every feature, sanitised, with a table of contents.
    let page = teacher.get(&format!("{base}/content/items/intro/page")).await;
    let html = page.ok()["html"].as_str().unwrap().to_owned();
    for needle in [
        "<table",
        "<th",
        "footnote",
        "math",
        "e^{i\\pi}",
        "type=\"checkbox\"",
        "<del>",
        "<code",
        "id=\"user-content-a-table\"",
    ] {
        assert!(html.contains(needle), "rendered page lacks {needle}: {html}");
    }
    let toc: Vec<&str> = page.body["toc"].as_array().unwrap().iter().map(|h| h["text"].as_str().unwrap()).collect();
    assert_eq!(toc, ["Introduction to Signals", "A table", "Math", "Tasks"]);
    assert!(page.body["rendered_by"].as_str().unwrap().starts_with("org.lectern.content@"));
    let html_url = page.body["html_url"].as_str().unwrap().to_owned();
    let doc = reqwest::get(format!("{}{html_url}", w.server.base)).await.unwrap();
    assert_eq!(doc.status(), 200);
    assert!(doc.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(doc.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(doc.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let first = doc.text().await.unwrap();
    assert!(first.contains("<title>Introduction</title>"));
    // Served again from the in-memory cache of small blobs: the same bytes.
    let again = reqwest::get(format!("{}{html_url}", w.server.base)).await.unwrap().text().await.unwrap();
    assert_eq!(again, first);

    // The editor's preview: the same plugin's rendering of unsaved Markdown, stored nowhere.
    let before = teacher.get(&format!("{base}/content/outline")).await.ok()["version"].clone();
    let preview = teacher
        .post(
            &format!("{base}/content/preview"),
            json!({"markdown": "# Draft\n\n<script>x()</script>\n\nHello *there*"}),
        )
        .await;
    let pv = preview.ok();
    assert!(pv["html"].as_str().unwrap().contains("<em>there</em>"), "{pv}");
    assert!(!pv["html"].as_str().unwrap().contains("<script"), "{pv}");
    assert_eq!(pv["toc"][0]["text"], "Draft");
    assert!(pv["rendered_by"].as_str().unwrap().starts_with("org.lectern.content@"));
    assert_eq!(
        teacher.get(&format!("{base}/content/outline")).await.ok()["version"],
        before,
        "a preview changes nothing"
    );
    student.post(&format!("{base}/content/preview"), json!({"markdown": "x"})).await.assert_problem(403, "forbidden");

    // The student: only what is released; locks with reasons.
    let view = student.get(&format!("{base}/content")).await;
    let v = view.ok();
    assert_eq!(ids(v), ["intro", "lecture", "slides", "reading", "quiz-1", "advanced"], "{v}");
    assert_eq!(item(v, "lecture")["locked"], true);
    assert!(item(v, "lecture")["reason"].as_str().unwrap().contains("Introduction"), "{v}");
    assert_eq!(item(v, "advanced")["locked"], true);
    assert_eq!(item(v, "intro")["locked"], false);
    assert_eq!(v["progress"], json!({"completed": 0, "total": 8, "percent": 0.0, "resume": "intro"}));
    // Each item says how it completes and, for assessments, which assessment it opens;
    // items hidden until a date ahead are listed with it, soonest first.
    assert_eq!(item(v, "quiz-1")["assessment_id"].as_str().is_some(), true, "{v}");
    assert_eq!(item(v, "intro")["assessment_id"], Value::Null);
    assert!(item(v, "intro")["completion"]["kind"].is_string(), "{v}");
    let upcoming: Vec<&str> = v["upcoming"].as_array().unwrap().iter().map(|u| u["title"].as_str().unwrap()).collect();
    assert!(upcoming.contains(&"Later"), "{v}");
    let dates: Vec<&str> =
        v["upcoming"].as_array().unwrap().iter().map(|u| u["release_at"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    student.get(&format!("{base}/content/items/lecture")).await.assert_problem(403, "forbidden");
    student.get(&format!("{base}/content/items/later")).await.assert_problem(404, "not-found");
    student.get(&format!("{base}/content/items/week-2-intro")).await.assert_problem(404, "not-found");
    student.get(&format!("{base}/content/outline")).await.assert_problem(403, "forbidden");

    // Progress: opening the intro completes it and unlocks the video and slides.
    let opened = student.get(&format!("{base}/content/items/intro")).await;
    assert_eq!(opened.ok()["completed"], true);
    assert_eq!(opened.body["html"].as_str().unwrap(), html);
    let v = student.get(&format!("{base}/content")).await.body;
    assert_eq!(item(&v, "lecture")["locked"], false);
    assert_eq!(v["progress"]["completed"], 1);
    let lecture = student.get(&format!("{base}/content/items/lecture")).await;
    let media_url = lecture.ok()["item"]["body"]["url"].as_str().unwrap().to_owned();
    assert!(media_url.starts_with(&format!("/blobs/{video_sha}?m=")), "a signed URL: {media_url}");
    let bytes = reqwest::get(format!("{}{media_url}", w.server.base)).await.unwrap().bytes().await.unwrap();
    assert!(bytes.as_ref() == video.as_slice(), "the video comes back byte for byte");

    // Where to continue, across sessions: the next item to do in outline
    // order (the slides), not the lecture opened last, which is done.
    let again = w.login(a, "student@alpha.test").await;
    let v = again.get(&format!("{base}/content")).await.body;
    assert_eq!(v["progress"]["resume"], "slides");

    // Manual completion only where the rule says so.
    student.post_empty(&format!("{base}/content/items/intro/complete")).await.assert_problem(409, "conflict");
    let v = student.post_empty(&format!("{base}/content/items/reading/complete")).await;
    assert_eq!(item(v.ok(), "reading")["completed"], true);

    // A score of 0.8 on the quiz completes it and opens the advanced page.
    let r = teacher
        .put(
            &format!("{base}/students/{student_id}/grades/quiz-1"),
            json!({"points": 8.0, "max_points": 10.0, "reason": "paper quiz"}),
        )
        .await;
    r.ok();
    let v = student.get(&format!("{base}/content")).await.body;
    assert_eq!(item(&v, "quiz-1")["completed"], true);
    assert_eq!(item(&v, "quiz-1")["score"], 0.8);
    assert_eq!(item(&v, "advanced")["locked"], false, "{v}");
    assert_eq!(v["progress"]["completed"], 4); // intro, lecture (viewed), reading, quiz-1

    // Time passes (tokens expire with it: log in again): tomorrow's page, then next week's module.
    w.server.clock.advance(2 * 86_400);
    let student = w.login(a, "student@alpha.test").await;
    let v = student.get(&format!("{base}/content")).await;
    assert!(ids(v.ok()).contains(&"later".to_owned()));
    w.server.clock.advance(6 * 86_400);
    let student = w.login(a, "student@alpha.test").await;
    let v = student.get(&format!("{base}/content")).await.ok().clone();
    assert_eq!(ids(&v).last().map(String::as_str), Some("week-2-intro"));

    // Staff see the student's view too.
    let teacher = w.login(a, "teacher@alpha.test").await;
    let staff_view = teacher.get(&format!("{base}/content/progress/{student_id}")).await;
    assert_eq!(staff_view.ok()["progress"], v["progress"]);

    // After a plugin upgrade or swap, authors can render every page again.
    let r = teacher.post_empty(&format!("{base}/content/rerender")).await;
    assert_eq!(r.ok()["pages"], 4);

    // Export, then import into the other institution: identical.
    let original = teacher.get(&format!("{base}/content/outline")).await.body;
    let resp = teacher
        .http
        .get(format!("{}{base}/content/export", w.server.base))
        .bearer_auth(teacher.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    let archive = resp.bytes().await.unwrap().to_vec();
    assert!(archive.len() > video.len());

    let b = &w.b.slug;
    let b_admin = w.login(b, "admin@beta.test").await;
    let r = upload(&b_admin, &format!("/api/v1/institutions/{b}/courses/import"), archive.clone(), "application/x-tar")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["code"], "SIG-101");
    assert_eq!(r.body["state"], "draft");
    let copy = r.body["id"].as_str().unwrap().to_owned();
    let copy_base = format!("/api/v1/institutions/{b}/courses/{copy}");
    let imported = b_admin.get(&format!("{copy_base}/content/outline")).await.body;
    assert_eq!(comparable(&imported), comparable(&original));
    for id in ["intro", "advanced", "later", "week-2-intro"] {
        let p1 = teacher.get(&format!("{base}/content/items/{id}/page")).await.body;
        let p2 = b_admin.get(&format!("{copy_base}/content/items/{id}/page")).await.body;
        for field in ["markdown", "html", "toc", "words", "reading_minutes"] {
            assert_eq!(p1[field], p2[field], "{id}.{field}");
        }
        // The same rendered document, under each course's own signature.
        let doc = |p: &Value| p["html_url"].as_str().unwrap().split('?').next().unwrap().to_owned();
        assert_eq!(doc(&p1), doc(&p2), "{id}.html_url");
    }
    let listed = b_admin.get(&format!("{copy_base}/media")).await;
    let mut shas: Vec<&str> =
        listed.ok()["items"].as_array().unwrap().iter().map(|m| m["sha256"].as_str().unwrap()).collect();
    shas.sort();
    let mut want = vec![video_sha.as_str(), pdf_sha.as_str()];
    want.sort();
    assert_eq!(shas, want);

    // The same archive again: the code is taken, so nothing is created.
    let r = upload(&b_admin, &format!("/api/v1/institutions/{b}/courses/import"), archive.clone(), "application/x-tar")
        .await;
    r.assert_problem(409, "conflict");
    let r = upload(
        &b_admin,
        &format!("/api/v1/institutions/{b}/courses/import?code=SIG-101b"),
        archive.clone(),
        "application/x-tar",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    w.server.stop().await.unwrap();
}

/// `progress.resume` is the next item to do in outline order. Before, it was
/// the item opened last while that stayed open: a page the student had
/// already read (opening completes it), even with the quiz still to do, and
/// even at 100 %.
#[tokio::test]
async fn resume_is_the_next_item_to_do_and_null_when_everything_is_done() {
    let (w, base) = world_with_course("RES-1").await;
    let (a, admin) = (w.a.slug.clone(), &w.a.admin);
    let student_id = create_user(admin, &a, "student@alpha.test", "member").await;
    admin.post(&format!("{base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    admin.post_empty(&format!("{base}/publish")).await.ok();
    admin.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Week 1"})).await.ok();
    for body in [
        json!({"id": "p1", "kind": "page", "title": "One", "markdown": "# One"}),
        json!({"id": "p2", "kind": "page", "title": "Two", "markdown": "# Two"}),
        json!({"id": "quiz", "kind": "assessment", "title": "Quiz", "assessment": "quiz-a"}),
    ] {
        let r = admin.post(&format!("{base}/content/modules/m1/items"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let student = w.login(&a, "student@alpha.test").await;
    let progress = async || student.get(&format!("{base}/content")).await.ok()["progress"].clone();
    assert_eq!(progress().await["resume"], "p1");

    // Both pages read, p2 last: the quiz is next.
    for id in ["p1", "p2"] {
        assert_eq!(student.get(&format!("{base}/content/items/{id}")).await.ok()["completed"], true);
    }
    let p = progress().await;
    assert_eq!(p["completed"], 2, "{p}");
    assert_eq!(p["resume"], "quiz", "{p}");
    // Opening the quiz does not complete it (its score does): still next.
    student.get(&format!("{base}/content/items/quiz")).await.ok();
    student.get(&format!("{base}/content/items/p1")).await.ok();
    assert_eq!(progress().await["resume"], "quiz");

    // Scored: everything is done, nothing to resume.
    let grade = json!({"points": 9.0, "max_points": 10.0, "reason": "paper quiz"});
    admin.put(&format!("{base}/students/{student_id}/grades/quiz-a"), grade).await.ok();
    let p = progress().await;
    assert_eq!(p["percent"], 100.0, "{p}");
    assert_eq!(p["resume"], Value::Null, "{p}");
}

#[tokio::test]
async fn tampered_or_tricky_archives_are_refused_and_leave_nothing() {
    let (w, base) = world_with_course("ARC").await;
    let r = upload(&w.a.admin, &format!("{base}/media?filename=slides.pdf"), fake_pdf(), "application/pdf").await;
    let sha = r.body["sha256"].as_str().unwrap().to_owned();
    w.a.admin.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "M"})).await.ok();
    let r =
        w.a.admin
            .post(
                &format!("{base}/content/modules/m/items"),
                json!({"id": "s", "kind": "file", "title": "S", "media": sha}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let resp =
        w.a.admin
            .http
            .get(format!("{}{base}/content/export", w.server.base))
            .bearer_auth(w.a.admin.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
    let archive = resp.bytes().await.unwrap().to_vec();

    // Rebuild archives entry by entry with the tar crate's reader.
    let entries: Vec<(String, Vec<u8>)> = {
        let mut t = tar::Archive::new(archive.as_slice());
        t.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut data = vec![];
                std::io::Read::read_to_end(&mut e, &mut data).unwrap();
                (name, data)
            })
            .collect()
    };
    assert_eq!(entries[0].0, "lectern-course.json");
    assert_eq!(entries[1].0, format!("media/{sha}"));
    let build = |list: &[(String, Vec<u8>)]| {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in list {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // `append_data` would refuse `..`; write the raw name like an attacker would.
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, data.as_slice()).unwrap();
        }
        b.into_inner().unwrap()
    };
    let mut tampered = entries.clone();
    tampered[1].1[10] ^= 1;
    let mut traversal = entries.clone();
    traversal.push(("../../etc/cron.d/evil".into(), b"* * * * * root true\n".to_vec()));
    let mut missing = entries.clone();
    missing.pop();
    let mut not_first = entries.clone();
    not_first.swap(0, 1);
    let mut bad_json = entries.clone();
    bad_json[0].1 = b"{\"format\": \"something-else\"}".to_vec();
    let b = &w.b.slug;
    for (what, list, needle) in [
        ("tampered medium", &tampered, "SHA-256"),
        ("path traversal", &traversal, "unexpected entry"),
        ("missing medium", &missing, "missing"),
        ("json not first", &not_first, "must start with"),
        ("not a course archive", &bad_json, "lectern-course.json"),
    ] {
        let r =
            upload(&w.b.admin, &format!("/api/v1/institutions/{b}/courses/import"), build(list), "application/x-tar")
                .await;
        r.assert_problem(422, "validation");
        assert!(r.body["detail"].as_str().unwrap().contains(needle), "{what}: {}", r.body);
    }
    let r = upload(
        &w.b.admin,
        &format!("/api/v1/institutions/{b}/courses/import"),
        b"not a tar at all".repeat(100),
        "application/x-tar",
    )
    .await;
    r.assert_problem(422, "validation");
    let courses = w.b.admin.get(&format!("/api/v1/institutions/{b}/courses")).await;
    assert_eq!(courses.ok()["items"].as_array().unwrap().len(), 0, "nothing half-imported: {}", courses.body);
    // An administrator of another institution cannot import into this one.
    let r = upload(&w.a.admin, &format!("/api/v1/institutions/{b}/courses/import"), archive, "application/x-tar").await;
    r.assert_problem(403, "forbidden");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn script_and_style_injection_in_markdown_is_neutralised() {
    let (w, base) = world_with_course("SEC").await;
    w.a.admin.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "M"})).await.ok();
    let r =
        w.a.admin
            .post(
                &format!("{base}/content/modules/m/items"),
                json!({"id": "h", "kind": "page", "title": "<script>alert(1)</script>", "markdown": HOSTILE}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let page = w.a.admin.get(&format!("{base}/content/items/h/page")).await;
    let html = page.ok()["html"].as_str().unwrap().to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "data:text/html",
        "<svg",
        "<style",
        "style=",
        "<iframe",
    ] {
        assert!(!html.contains(bad), "`{bad}` survived sanitising: {html}");
    }
    assert!(html.contains("ok link"), "harmless content stays: {html}");
    assert!(html.contains("noopener"), "links cannot reach back: {html}");
    // The standalone document escapes the title and forbids script by policy too.
    let url = page.body["html_url"].as_str().unwrap();
    let doc = reqwest::get(format!("{}{url}", w.server.base)).await.unwrap();
    let csp = doc.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "{csp}");
    let text = doc.text().await.unwrap().to_lowercase();
    assert!(!text.contains("<script"), "{text}");
    w.server.stop().await.unwrap();
}

/// Captions: WebVTT files uploaded as course media, attached to a video item
/// as tracks, checked, read by learners with the item, gone with the item.
#[tokio::test]
async fn captions_for_a_video() {
    let w = World::new().await;
    install_content_plugin(&w).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "teacher@alpha.test", "staff").await;
    let student_id = create_user(&w.a.admin, a, "student@alpha.test", "member").await;
    let teacher = w.login(a, "teacher@alpha.test").await;
    let student = w.login(a, "student@alpha.test").await;
    let r =
        teacher.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "CAP", "title": "Captions"})).await;
    let base = format!("/api/v1/institutions/{a}/courses/{}", r.ok()["id"].as_str().unwrap());
    teacher.post(&format!("{base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{base}/publish")).await.ok();
    let sha = |r: Reply| {
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["sha256"].as_str().unwrap().to_owned()
    };
    let video = sha(upload(&teacher, &format!("{base}/media?filename=v.mp4"), fake_mp4(4096), "video/mp4").await);
    let vtt = b"WEBVTT\n\n00:00.000 --> 00:02.000\nStomata open in the light.\n".to_vec();
    let en = sha(upload(&teacher, &format!("{base}/media?filename=en.vtt"), vtt, "text/vtt").await);
    let fr_vtt = b"WEBVTT\n\n00:00.000 --> 00:02.000\nLes stomates s'ouvrent.\n".to_vec();
    let fr = sha(upload(&teacher, &format!("{base}/media?filename=fr.vtt"), fr_vtt, "text/vtt").await);
    let pdf = sha(upload(&teacher, &format!("{base}/media?filename=s.pdf"), fake_pdf(), "application/pdf").await);
    // An SRT file declared as WebVTT is refused at upload.
    let srt = b"1\n00:00:00,000 --> 00:00:02,000\nSRT\n".to_vec();
    let r = upload(&teacher, &format!("{base}/media?filename=x.vtt"), srt, "text/vtt").await;
    r.assert_problem(422, "content-mismatch");

    teacher.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "M"})).await.ok();
    let item = |body: Value| {
        let teacher = teacher.clone();
        let path = format!("{base}/content/modules/m/items");
        async move { teacher.post(&path, body).await.ok().clone() }
    };
    item(json!({"id": "lecture", "kind": "video", "title": "Lecture", "media": video})).await;
    item(json!({"id": "slides", "kind": "file", "title": "Slides", "media": pdf})).await;
    let captions = format!("{base}/content/items/lecture/captions");
    let put = |path: String, tracks: Value| {
        let teacher = teacher.clone();
        async move { teacher.put(&path, json!({ "tracks": tracks })).await }
    };

    // Refusals, each naming the problem and changing nothing.
    for (tracks, why) in [
        (json!([{"media": pdf, "lang": "en", "label": "English"}]), "WebVTT"),
        (json!([{"media": "0".repeat(64), "lang": "en", "label": "English"}]), "no such media"),
        (json!([{"media": en, "lang": "english!", "label": "English"}]), "BCP 47"),
        (json!([{"media": en, "lang": "en", "label": " "}]), "label"),
        (
            json!([{"media": en, "lang": "en", "label": "A", "default": true},
                   {"media": fr, "lang": "fr", "label": "B", "default": true}]),
            "one track",
        ),
        (
            json!([{"media": en, "lang": "en", "label": "A"}, {"media": fr, "lang": "EN", "label": "A"}]),
            "same language",
        ),
    ] {
        let r = put(captions.clone(), tracks).await;
        r.assert_problem(422, "validation");
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{why}: {}", r.body);
    }
    put(format!("{base}/content/items/slides/captions"), json!([{"media": en, "lang": "en", "label": "English"}]))
        .await
        .assert_problem(422, "validation");
    put(format!("{base}/content/items/nope/captions"), json!([])).await.assert_problem(404, "not-found");
    // Students cannot set them.
    student.put(&captions, json!({"tracks": []})).await.assert_problem(403, "forbidden");

    let r = put(
        captions.clone(),
        json!([{"media": en, "lang": "en", "label": "English", "default": true},
               {"media": fr, "lang": "fr-ca", "label": "Français"}]),
    )
    .await;
    let tracks = r.ok()["tracks"].as_array().unwrap().clone();
    assert_eq!(tracks[1]["lang"], "fr-CA", "canonical case");
    assert!(tracks[0]["url"].as_str().unwrap().starts_with(&format!("/blobs/{en}?m=")), "{}", tracks[0]);

    // The learner gets them with the item, in order, and the file is served as WebVTT.
    let opened = student.get(&format!("{base}/content/items/lecture")).await;
    let got = opened.ok()["captions"].as_array().unwrap().clone();
    assert_eq!(got.iter().map(|t| t["label"].as_str().unwrap()).collect::<Vec<_>>(), ["English", "Français"]);
    assert_eq!(got[0]["default"], true);
    let file = student.http.get(format!("{}{}", student.base, got[0]["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(file.headers()["content-type"], "text/vtt; charset=utf-8");

    // A track whose file is deleted from the media disappears; an empty list removes the rest.
    teacher.delete(&format!("{base}/media/{fr}")).await;
    let opened = student.get(&format!("{base}/content/items/lecture")).await;
    assert_eq!(opened.ok()["captions"].as_array().unwrap().len(), 1, "{}", opened.body);
    put(captions.clone(), json!([])).await.ok();
    let opened = student.get(&format!("{base}/content/items/lecture")).await;
    assert_eq!(opened.ok()["captions"], json!([]));
    w.server.stop().await.unwrap();
}

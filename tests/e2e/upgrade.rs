//! A data directory written by the previous release opens with today's kernel
//! and serves the same data. `tests/fixtures/data-0.1/data-0.1.tar.gz` was made
//! by `populate.sh` beside it, driving wave 1's `lectern serve` (commit 24cff73)
//! over HTTP; records written then (assessments before grading methods, grades
//! before per-attempt results, hand-grade queues, credentials and their keys,
//! installed plugin components) must read back, and the write paths must work
//! on top of them.

use std::path::Path;

use lectern_e2e::{Api, Options, TestServer};
use serde_json::{Value, json};

use crate::eventually;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/data-0.1/data-0.1.tar.gz");
/// The address `populate.sh` served the fixture at. An upgraded server keeps
/// its public URL (credentials and their status lists name it), so this one
/// takes it as its issuer too.
const PUBLIC_URL: &str = "http://127.0.0.1:18931";

fn unpack(into: &Path) -> Value {
    let status = std::process::Command::new("tar").arg("-xzf").arg(FIXTURE).arg("-C").arg(into).status().unwrap();
    assert!(status.success(), "cannot unpack {FIXTURE}");
    serde_json::from_str(&std::fs::read_to_string(into.join("data/FIXTURE.json")).unwrap()).unwrap()
}

async fn login(server: &TestServer, email: &str, password: &str) -> Api {
    let (api, r) = server.client().login("uni", email, password).await;
    r.ok();
    api
}

#[tokio::test]
async fn a_data_directory_of_the_previous_release_opens_and_serves_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let ids = unpack(dir.path());
    let id = |k: &str| ids[k].as_str().unwrap().to_owned();
    let password = id("password");
    let options = Options { kernel: Box::new(|k| k.issuer = PUBLIC_URL.into()), ..Options::default() };
    let server = TestServer::start(&dir.path().join("data"), options).await.unwrap();
    assert_eq!(server.bootstrap_token, None, "the platform administrator still exists");

    let ines = login(&server, "ines@uni.test", &password).await;
    let ann = login(&server, "ann@uni.test", &password).await;
    let bob = login(&server, "bob@uni.test", &password).await;
    let course = format!("/api/v1/institutions/uni/courses/{}", id("course"));
    let (quiz, essay) = (id("quiz"), id("essay"));

    // The course, its content and the page as rendered then.
    let c = ines.get(&course).await;
    assert_eq!(c.ok()["code"], "NET101", "{}", c.body);
    // The plugins' compiled artifacts are for the previous release's engine, so they compile
    // in the background after the start: the content engine answers 503 (starting) until then.
    let item = format!("{course}/content/items/arp");
    let page = eventually("the content engine, compiled again", async || {
        let r = ann.get(&item).await;
        if r.status == 503 {
            assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("is starting")), "{}", r.body);
            return None;
        }
        Some(r.ok().clone())
    })
    .await;
    assert!(page["html"].as_str().unwrap().contains("broadcasting a request"), "{page}");

    // Assessments stored before grading methods read as `highest`.
    let a = ines.get(&format!("/api/v1/assessments/{quiz}")).await;
    assert_eq!(a.ok()["settings"]["grading_method"], "highest", "{}", a.body);

    // Ann's automatic grade, and her essay still waiting for a person.
    let grades = ann.get(&format!("{course}/students/{}/grades", id("ann"))).await;
    let items = grades.ok()["items"].as_array().unwrap().clone();
    let quiz_grade = items.iter().find(|g| g["item"] == quiz).unwrap_or_else(|| panic!("{}", grades.body));
    assert_eq!((quiz_grade["status"].as_str(), quiz_grade["points"].as_f64()), (Some("graded"), Some(2.0)));
    let queue = ines.get(&format!("/api/v1/assessments/{essay}/manual-queue")).await;
    assert!(queue.ok().to_string().contains(&id("ann_essay_attempt")), "{}", queue.body);

    // Her credential, signed with the institution's key of then, still verifies.
    let creds = ann.get("/api/v1/me/credentials").await;
    let cred = creds.ok()["items"][0]["credential"].clone();
    assert!(cred.is_object(), "{}", creds.body);
    let v = server.client().post("/api/v1/credentials/verify", cred).await;
    assert_eq!(v.ok()["verified"], true, "{}", v.body);

    // Bob's attempt in progress kept its saved answer; finishing it now grades it
    // with the grading plugin installed then, next to the grades of old.
    let attempt = format!("/api/v1/assessments/{quiz}/attempts/{}", id("bob_attempt"));
    let r = bob.get(&attempt).await;
    assert_eq!(r.ok()["answers"]["q1"]["response"], json!({"choices": ["ip"]}), "{}", r.body);
    bob.put(&format!("{attempt}/answers/q1"), json!({"response": {"choices": ["mac"]}, "version": 2})).await.ok();
    bob.post_empty(&format!("{attempt}/submit")).await.ok();
    let path = format!("{course}/students/{}/grades", id("bob"));
    let g = eventually("Bob's grade", async || {
        let r = bob.get(&path).await;
        r.ok()["items"].as_array()?.iter().find(|g| g["item"] == quiz && g["status"] == "graded").cloned()
    })
    .await;
    assert_eq!(g["points"], 2.0, "{g}");

    // A hand grade on the essay written then completes Ann's record.
    let mark = format!("/api/v1/assessments/{essay}/attempts/{}/questions/e1/manual-grade", id("ann_essay_attempt"));
    let r = ines.put(&mark, json!({"criteria": {"clarity": 3.0}, "comment": "Clear.", "version": 0})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The OAuth client registered then is still listed.
    let clients = server.client().login("uni", "admin@uni.test", &password).await.0;
    let list = clients.get("/api/v1/institutions/uni/oauth-clients").await;
    assert!(list.ok().to_string().contains("SIS sync"), "{}", list.body);

    // Schema migration 2 indexed the accounts of then: a look-alike of one
    // (Cyrillic а) is refused as a duplicate.
    let r = clients
        .post("/api/v1/institutions/uni/users", json!({"email": "\u{0430}nn@uni.test", "name": "Not Ann"}))
        .await;
    r.assert_problem(409, "conflict");
    server.stop().await.unwrap();
}

//! A backup of a running server, taken while students save answers, restored
//! into a second server on a fresh data directory.

use std::time::{Duration, Instant};

use lectern_e2e::{Options, PASSWORD, TestServer};
use serde_json::json;

use crate::exam::{install_grading_plugin, quiz};
use crate::{World, create_user, eventually};

const STUDENTS: usize = 8;

#[tokio::test]
async fn a_backup_taken_during_an_exam_restores_every_acknowledged_answer() {
    let w = World::new().await;
    install_grading_plugin(&w.server).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    let r = teacher.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "BK", "title": "Backups"})).await;
    let course = format!("/api/v1/institutions/{a}/courses/{}", r.ok()["id"].as_str().unwrap());
    let mut students = vec![];
    for i in 0..STUDENTS {
        let email = format!("s{i}@alpha.test");
        let id = create_user(&w.a.admin, a, &email, "member").await;
        teacher.post(&format!("{course}/enrolments"), json!({"user_id": id, "role": "student"})).await.ok();
        students.push((email, id));
    }
    teacher.post_empty(&format!("{course}/publish")).await.ok();
    let quiz_id = teacher.post(&format!("{course}/assessments"), quiz()).await.ok()["id"].as_str().unwrap().to_owned();
    let exam = format!("/api/v1/assessments/{quiz_id}");
    teacher.patch(&exam, json!({"published": true})).await.ok();

    // Each student saves the same answer again and again, a newer version
    // each time, and notes when each was acknowledged.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = vec![];
    for (email, _) in &students {
        let api = w.login(a, email).await;
        let attempt = api.post(&format!("{exam}/attempts"), json!({})).await.ok()["id"].as_str().unwrap().to_owned();
        let (stop, path) = (stop.clone(), format!("{exam}/attempts/{attempt}/answers/author"));
        load.push(tokio::spawn(async move {
            let mut acked: Vec<(u64, Instant)> = vec![];
            let mut v = 1u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = api.put(&path, json!({"response": {"text": format!("Shakespeare {v}")}, "version": v})).await;
                assert_eq!(r.status, 200, "{}", r.body);
                acked.push((v, Instant::now()));
                v += 1;
            }
            (attempt, acked)
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;

    // The backup, mid-exam, over HTTP like `lectern admin backup`.
    let begun = Instant::now();
    let resp = w
        .root
        .http
        .get(format!("{}/api/v1/admin/backup", w.root.base))
        .bearer_auth(w.root.token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    let bytes = resp.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut results = vec![];
    for l in load {
        results.push(l.await.unwrap());
    }
    // Students and administrators other than the platform's may not take one.
    teacher.get("/api/v1/admin/backup").await.assert_problem(403, "forbidden");
    w.a.admin.get("/api/v1/admin/backup").await.assert_problem(403, "forbidden");
    let audit = w.root.get("/api/v1/admin/audit?action=admin.backup").await.ok().clone();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // A fresh machine: restore into an empty directory, start a server on it.
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("backup.tar");
    std::fs::write(&archive, &bytes).unwrap();
    let data = dir.path().join("restored");
    // The secrets key is not in the backup: without it the restored database's
    // signing keys and webhook secrets stay sealed, and the server says which key it needs.
    let names = tar_names(&bytes);
    assert!(names.iter().all(|n| !n.contains("secrets")), "{names:?}");
    let key_file = w.server.data_dir.join("secrets.key");
    let key_id = lectern_core::secrets::read_key_file(&key_file).map(lectern_storage::SealingKey::new).unwrap().id();
    let keyless = dir.path().join("keyless");
    let manifest = lectern_core::backup::restore(&archive, &keyless, None).unwrap();
    assert_eq!(manifest.sealing_key.as_deref(), Some(key_id.as_str()));
    let refused = TestServer::start(&keyless, Options::default()).await.err().expect("no key, no start").to_string();
    assert!(refused.contains(&key_id) && refused.contains("no key file"), "{refused}");
    assert!(!keyless.join("secrets.key").exists());
    // Another key is refused too, by the restore and by the server.
    let wrong = dir.path().join("wrong.key");
    lectern_core::secrets::create_key_file(&wrong).unwrap();
    let e = lectern_core::backup::restore(&archive, &dir.path().join("wrong"), Some(&wrong)).unwrap_err().to_string();
    assert!(e.contains(&key_id), "{e}");
    std::fs::copy(&wrong, keyless.join("secrets.key")).unwrap();
    let refused = TestServer::start(&keyless, Options::default()).await.err().expect("wrong key, no start").to_string();
    assert!(refused.contains(&key_id) && refused.contains("not this server's"), "{refused}");

    let manifest = lectern_core::backup::restore(&archive, &data, Some(&key_file)).unwrap();
    assert!(manifest.database_records > 0 && manifest.files > 0, "{manifest:?}");
    // Not over data that exists.
    assert!(lectern_core::backup::restore(&archive, &data, None).unwrap_err().to_string().contains("not empty"));
    let second = TestServer::start(&data, Options::default()).await.unwrap();
    assert_eq!(second.bootstrap_token, None, "the platform administrator came back");

    // Every answer acknowledged before the backup began is there (or a newer one).
    for ((email, _), (attempt, acked)) in students.iter().zip(&results) {
        let before = acked.iter().filter(|(_, at)| *at < begun).map(|(v, _)| *v).max().unwrap_or(0);
        let newest = acked.last().map(|(v, _)| *v).unwrap_or(0);
        assert!(before > 0, "{email} saved before the backup");
        let (api, r) = second.client().login(a, email, PASSWORD).await;
        r.ok();
        let view = api.get(&format!("{exam}/attempts/{attempt}")).await;
        let restored = view.ok()["answers"]["author"]["version"].as_u64().unwrap_or(0);
        assert!(
            (before..=newest).contains(&restored),
            "{email}: version {restored} restored; {before} was acknowledged before the backup, {newest} in all"
        );
        assert_eq!(view.body["answers"]["author"]["response"]["text"], format!("Shakespeare {restored}"));
    }

    // The restored server grades: the plugin components came back too.
    let (api, _) = second.client().login(a, &students[0].0, PASSWORD).await;
    let attempt = &results[0].0;
    assert_eq!(api.post_empty(&format!("{exam}/attempts/{attempt}/submit")).await.status, 200);
    let prof = second.client().login(a, "prof@alpha.test", PASSWORD).await.0;
    let grades = format!("{course}/students/{}/grades", students[0].1);
    let entry = eventually("the restored server's grade", async || {
        let r = prof.get(&grades).await;
        r.body["items"].as_array()?.iter().find(|g| g["item"] == quiz_id.as_str()).cloned()
    })
    .await;
    assert_eq!(entry["status"], "graded", "{entry}");
    assert!(entry["graded_by"].as_str().unwrap().starts_with("plugin:org.lectern.grading@"), "{entry}");
    // The audit log came back whole.
    let root = second.client().login("platform", "root@platform.test", PASSWORD).await.0;
    let v = root.get("/api/v1/admin/audit/verify").await;
    assert_eq!(v.ok()["ok"], true, "{}", v.body);
    second.stop().await.unwrap();
}

/// The names of a tar archive's entries.
fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut tar = tar::Archive::new(bytes);
    tar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect()
}

//! Tests of the `lectern` binary as an operator runs it: a child process,
//! real sled on disk, real HTTP, SIGKILL and SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on setup errors

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    child: Child,
    base: String,
    bootstrap: Option<String>,
    _lines: mpsc::Receiver<String>,
}

fn lectern(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lectern"));
    c.env("LECTERN_DATA_DIR", data)
        .env("LECTERN_HTTP__LISTEN", "127.0.0.1:0")
        .env("LECTERN_LOG__FILTER", "warn")
        .env_remove("LECTERN_CONFIG");
    c
}

fn start(data: &Path) -> Server {
    start_with(data, &[])
}

fn start_with(data: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = lectern(data);
    cmd.envs(env.iter().copied());
    let mut child = cmd
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("LECTERN_TEST_SERVER_STDERR").is_some() { Stdio::inherit() } else { Stdio::null() })
        .spawn()
        .expect("spawn lectern serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut bootstrap = None;
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not print its address within 30 s");
        };
        if let Some(i) = line.find("lbt_") {
            bootstrap = Some(line[i..].split('"').next().unwrap_or_default().to_owned());
        }
        if let Some(addr) = line.strip_prefix("lectern: listening on ") {
            return Server { child, base: addr.trim().to_owned(), bootstrap, _lines: rx };
        }
    }
}

impl Drop for Server {
    /// No test leaves a server running, even when it fails.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(
    c: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = c.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await?;
    let status = r.status().as_u16();
    let v = r.json().await.unwrap_or(Value::Null);
    Ok((status, v))
}

/// Redeems the first start's bootstrap token: root@p.test becomes platform admin.
async fn bootstrap_root(c: &reqwest::Client, s: &Server) {
    let token = s.bootstrap.clone().expect("the first start prints a bootstrap token");
    let body = json!({ "token": token, "email": "root@p.test", "name": "Root", "password": PASSWORD });
    let (st, v) = post(c, format!("{}/api/v1/bootstrap", s.base), None, body).await.expect("bootstrap");
    assert_eq!(st, 201, "{v}");
}

async fn login(c: &reqwest::Client, base: &str, inst: &str, email: &str) -> String {
    let (s, v) = post(
        c,
        format!("{base}/api/v1/auth/login"),
        None,
        json!({ "institution": inst, "email": email, "password": PASSWORD }),
    )
    .await
    .expect("login");
    assert_eq!(s, 200, "{v}");
    v["access_token"].as_str().expect("token").to_owned()
}

async fn all_course_codes(c: &reqwest::Client, base: &str, token: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/institutions/crash/courses?limit=500");
        if let Some(cur) = &cursor {
            url.push_str(&format!("&cursor={cur}"));
        }
        let v: Value = c.get(url).bearer_auth(token).send().await.expect("list").json().await.expect("json");
        for item in v["items"].as_array().expect("items") {
            out.insert(item["code"].as_str().unwrap_or_default().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => return out,
        }
    }
}

/// Acknowledged writes survive `kill -9` mid-load, cycle after cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let c = reqwest::Client::new();

    let mut s = start(&data);
    bootstrap_root(&c, &s).await;
    let root = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, v) =
        post(&c, format!("{}/api/v1/institutions", s.base), Some(&root), json!({ "slug": "crash", "name": "Crash U" }))
            .await
            .expect("institution");
    assert_eq!(st, 201, "{v}");
    let (st, v) = post(
        &c,
        format!("{}/api/v1/institutions/crash/users", s.base),
        Some(&root),
        json!({ "email": "staff@crash.test", "name": "Staff", "role": "admin", "password": PASSWORD }),
    )
    .await
    .expect("user");
    assert_eq!(st, 201, "{v}");

    let mut acknowledged: Vec<String> = vec![];
    let cycles = 6;
    for cycle in 0..cycles {
        let token = login(&c, &s.base, "crash", "staff@crash.test").await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut writers = vec![];
        for w in 0..8 {
            let (c, base, token, tx) = (c.clone(), s.base.clone(), token.clone(), tx.clone());
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let code = format!("C{cycle}-{w}-{i}");
                    match post(
                        &c,
                        format!("{base}/api/v1/institutions/crash/courses"),
                        Some(&token),
                        json!({ "code": code, "title": "t" }),
                    )
                    .await
                    {
                        Ok((201, _)) => {
                            let _ = tx.send(code);
                        }
                        Ok((status, body)) => panic!("unexpected {status}: {body}"),
                        Err(_) => return, // the server died under us
                    }
                }
            }));
        }
        drop(tx);
        // Let load build up, then kill without warning. Durations vary per cycle
        // so the kill lands at different points of the flush cycle.
        tokio::time::sleep(Duration::from_millis(150 + 97 * cycle as u64)).await;
        s.child.kill().expect("SIGKILL");
        s.child.wait().expect("reap");
        for w in writers {
            w.await.expect("writer task");
        }
        while let Some(code) = rx.recv().await {
            acknowledged.push(code);
        }
        s = start(&data);
        let token = login(&c, &s.base, "crash", "staff@crash.test").await;
        let present = all_course_codes(&c, &s.base, &token).await;
        let lost: Vec<&String> = acknowledged.iter().filter(|code| !present.contains(*code)).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} acknowledged writes lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        // The unique-code index survived too: re-creating an acknowledged code conflicts.
        if let Some(code) = acknowledged.last() {
            let (st, _) = post(
                &c,
                format!("{}/api/v1/institutions/crash/courses", s.base),
                Some(&token),
                json!({ "code": code, "title": "dup" }),
            )
            .await
            .expect("dup");
            assert_eq!(st, 409);
        }
        println!("cycle {cycle}: {} acknowledged writes so far, all present after SIGKILL", acknowledged.len());
    }
    assert!(acknowledged.len() > 50, "the load produced too few writes to mean anything: {}", acknowledged.len());
    s.child.kill().ok();
    s.child.wait().ok();
}

/// SIGTERM drains and exits cleanly; data written before it is there after restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_a_clean_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = start(&data);
    let c = reqwest::Client::new();
    bootstrap_root(&c, &s).await;
    // SAFETY: sending a signal to our own child process by its pid.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = s.child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    let s2 = start(&data);
    assert!(s2.bootstrap.is_none(), "the administrator exists, so no new bootstrap token");
    login(&c, &s2.base, "platform", "root@p.test").await;
    drop(s2);
}

/// `lectern serve` installs the first-party plugins it carries (content,
/// grading, proctoring) and makes them
/// the platform default once; later starts change nothing, and
/// `plugins.first_party = false` installs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_installs_the_first_party_plugins_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let c = reqwest::Client::new();
    let plugins = |base: String, token: String| {
        let c = c.clone();
        async move {
            let v: Value = c
                .get(format!("{base}/api/v1/plugins"))
                .bearer_auth(token)
                .send()
                .await
                .expect("list plugins")
                .json()
                .await
                .expect("json");
            v.as_array().cloned().expect("a list")
        }
    };
    let s = start(&data);
    bootstrap_root(&c, &s).await;
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    let list = plugins(s.base.clone(), token.clone()).await;
    for (id, slot) in [
        ("org.lectern.content", "content"),
        ("org.lectern.grading", "grading"),
        ("org.lectern.proctoring", "proctoring"),
        ("org.lectern.tutoring", "tutoring"),
    ] {
        let found: Vec<&Value> = list.iter().filter(|p| p["id"] == id).collect();
        assert_eq!(found.len(), 1, "{id}: {list:?}");
        assert_eq!(found[0]["slot"], slot);
        assert_eq!(found[0]["active_in"], json!(["platform"]), "{id} is the platform default");
    }
    let content: Vec<&Value> = list.iter().filter(|p| p["id"] == "org.lectern.content").collect();
    let installed_at = content[0]["installed_at"].clone();
    drop(s);

    let s = start(&data);
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    let list = plugins(s.base.clone(), token).await;
    let content: Vec<&Value> = list.iter().filter(|p| p["id"] == "org.lectern.content").collect();
    assert_eq!(content.len(), 1, "installed once: {list:?}");
    assert_eq!(content[0]["installed_at"], installed_at);
    drop(s);

    let s = start_with(&dir.path().join("empty"), &[("LECTERN_PLUGINS__FIRST_PARTY", "false")]);
    bootstrap_root(&c, &s).await;
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    assert!(plugins(s.base.clone(), token).await.is_empty(), "plugins.first_party = false installs nothing");
}

#[test]
fn config_check_names_the_bad_key_and_redacts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("lectern.toml");
    std::fs::write(&file, "[http]\nlisten = \"127.0.0.1:9\"\nmax_body_byte = 5\n").expect("write");
    let out = lectern(dir.path()).args(["config", "check", "--config"]).arg(&file).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http.max_body_byte"), "{err}");

    std::fs::write(&file, "[http]\nlisten = \"127.0.0.1:9\"\n").expect("write");
    // File value for http.listen (the helper's env override removed); env value for the TTL.
    let out = lectern(dir.path())
        .args(["config", "check", "--config"])
        .arg(&file)
        .env_remove("LECTERN_HTTP__LISTEN")
        .env("LECTERN_AUTH__ACCESS_TOKEN_TTL_SECS", "120")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listen = \"127.0.0.1:9\"") && text.contains("access_token_ttl_secs = 120"), "{text}");

    let out = lectern(dir.path())
        .args(["config", "check"])
        .env("LECTERN_AUTH__ACCESS_TOKEN_TTL_SECS", "soon")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.access_token_ttl_secs"));
    let missing = lectern(dir.path()).args(["config", "check", "--config", "/nonexistent.toml"]).output().expect("run");
    assert!(!missing.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_cli_manages_a_stopped_server_and_refuses_a_running_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = lectern(&data);
        cmd.arg("admin").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        if let Some(s) = stdin {
            child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("write stdin");
        } else {
            drop(child.stdin.take());
        }
        child.wait_with_output().expect("output")
    };
    let out = run(&["create-institution", "--slug", "cli-u", "--name", "CLI University"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(
        &[
            "create-user",
            "--institution",
            "cli-u",
            "--email",
            "ada@cli.test",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["create-user", "--institution", "cli-u", "--email", "bo@cli.test", "--name", "Bo"], None);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let generated =
        text.lines().find_map(|l| l.strip_prefix("password: ")).expect("generated password printed").to_owned();
    let out = run(
        &["create-user", "--institution", "cli-u", "--email", "weak@cli.test", "--name", "W", "--password-stdin"],
        Some("password\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("common"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["create-user", "--institution", "nowhere", "--email", "x@cli.test", "--name", "X"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("institution not found"));

    let s = start(&data);
    let c = reqwest::Client::new();
    login(&c, &s.base, "cli-u", "ada@cli.test").await;
    let (st, _) = post(
        &c,
        format!("{}/api/v1/auth/login", s.base),
        None,
        json!({ "institution": "cli-u", "email": "bo@cli.test", "password": generated }),
    )
    .await
    .expect("login");
    assert_eq!(st, 200);
    // The running server holds the database: the CLI says so instead of corrupting it.
    let out = run(&["bootstrap-token"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"), "{}", String::from_utf8_lossy(&out.stderr));
    drop(s);

    let out = run(
        &["reset-password", "--institution", "cli-u", "--email", "ada@cli.test", "--password-stdin"],
        Some("another long passphrase\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["bootstrap-token"], None);
    assert!(String::from_utf8_lossy(&out.stdout).trim().starts_with("lbt_"));
}

/// `lectern admin backup` takes a backup of a running server over HTTP;
/// `lectern admin restore` puts it into a new data directory, which a new
/// server then serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_running_server_and_restore_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let s = start(&data);
    let c = reqwest::Client::new();
    bootstrap_root(&c, &s).await;
    let root = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, v) =
        post(&c, format!("{}/api/v1/institutions", s.base), Some(&root), json!({"slug": "bk", "name": "Backed Up"}))
            .await
            .expect("institution");
    assert_eq!(st, 201, "{v}");
    let archive = dir.path().join("nightly.tar");
    let admin = |data: &Path, args: &[&str], token: Option<&str>| {
        let mut cmd = lectern(data);
        cmd.arg("admin").args(args).env_remove("LECTERN_TOKEN");
        if let Some(t) = token {
            cmd.env("LECTERN_TOKEN", t);
        }
        cmd.output().expect("run lectern admin")
    };
    let out = admin(&data, &["backup", "--url", &s.base, "--out", archive.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LECTERN_TOKEN"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = admin(&data, &["backup", "--url", &s.base, "--out", archive.to_str().unwrap()], Some("not-a-token"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!archive.exists(), "a refused backup leaves no file");
    let out = admin(&data, &["backup", "--url", &s.base, "--out", archive.to_str().unwrap()], Some(&root));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&archive).expect("the backup").len() > 0);
    drop(s);

    // Without the secrets key the restore says which key the server will need.
    let out = admin(&dir.path().join("keyless"), &["restore", "--from", archive.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sealed with key"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let restored = dir.path().join("restored");
    let key = data.join("secrets.key");
    let out = admin(
        &restored,
        &["restore", "--from", archive.to_str().unwrap(), "--secrets-key", key.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("start `lectern serve`"));
    let out = admin(&restored, &["restore", "--from", archive.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = admin(&dir.path().join("other"), &["restore", "--from", data.join("db").to_str().unwrap()], None);
    assert!(!out.status.success(), "a directory is not a backup");

    let s = start(&restored);
    assert_eq!(s.bootstrap, None, "the platform administrator came back with the backup");
    let root = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, v) = get(&c, format!("{}/api/v1/institutions/bk", s.base), &root).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["name"], "Backed Up");
    // The audit log up to the backup came back, and still verifies (the
    // backup's own entry is written after its snapshot, so it is not in it).
    let (st, v) = get(&c, format!("{}/api/v1/admin/audit?action=POST%20/api/v1/institutions", s.base), &root).await;
    assert_eq!((st, v["items"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    let (st, v) = get(&c, format!("{}/api/v1/admin/audit/verify", s.base), &root).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
}

/// Runs `lectern <args>` in `cwd` and returns its standard output; fails the test on an error exit.
fn cli(cwd: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lectern"));
    cmd.current_dir(cwd).args(args).env_remove("LECTERN_CONFIG");
    // New plugin projects build into the guests' target directory, whose dependencies are warm.
    let guests = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("guests");
    cmd.env("CARGO_TARGET_DIR", guests);
    let out = cmd.output().expect("run lectern");
    assert!(
        out.status.success(),
        "lectern {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sets a plugin project's version in Cargo.toml, manifest.json and the lifecycle info.
fn set_version(project: &Path, from: &str, to: &str) {
    for (file, pattern) in [
        ("Cargo.toml", "version = \"{}\""),
        ("manifest.json", "\"version\": \"{}\""),
        ("src/lib.rs", "version = \"{}\""),
    ] {
        let path = project.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        let (old, new) = (pattern.replace("{}", from), pattern.replace("{}", to));
        assert!(text.contains(&old), "{file} has no {old}");
        std::fs::write(&path, text.replacen(&old, &new, 1)).expect("write");
    }
}

async fn get(c: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().await.expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Submits a true/false answer for grading over the bus and returns who graded it.
async fn graded_by(c: &reqwest::Client, base: &str, token: &str, ids: (&str, &str, &str), attempt: &str) -> String {
    let (inst, course, student) = ids;
    let payload = json!({
        "institution": inst, "course": course, "item": "quiz-1", "attempt": attempt, "student": student, "submitted_at": 0,
        "submissions": [{
            "question": { "id": "q1", "key": { "true_false": true }, "points": 1.0 },
            "response": { "boolean": true },
            "penalties": { "previous_tries": 0, "per_try": 0.0, "hints_used": 0, "per_hint": 0.0,
                           "late_seconds": 0, "per_late_day": 0.0, "max_total": 1.0 }
        }],
        "item_points": 1.0
    });
    let url = format!("{base}/api/v1/admin/bus/topics/attempt.submitted/messages");
    let (s, v) = post(c, url, Some(token), json!({ "key": attempt, "payload": payload })).await.expect("publish");
    assert_eq!(s, 202, "{v}");
    let grades = format!("{base}/api/v1/institutions/{inst}/courses/{course}/students/{student}/grades");
    // Generous: after a restart without the compile cache, eight 12-18 MB
    // components compile two at a time on a 2-core CI machine before the
    // grader serves (a CI run once needed more than 60 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let (s, v) = get(c, grades.clone(), token).await;
        assert_eq!(s, 200, "{v}");
        // The item's grade lists every graded attempt (the grading method decides
        // which counts); the history says which plugin version graded this one.
        let graded = v["items"].as_array().into_iter().flatten().find_map(|g| {
            let a = g["attempts"].as_array()?.iter().find(|a| a["attempt"] == attempt && a["status"] == "graded")?;
            let by =
                g["history"].as_array()?.iter().rev().find(|h| {
                    h["reason"].as_str().is_some_and(|r| r.starts_with(&format!("attempt {attempt} graded")))
                })?;
            Some((a.clone(), by["by"].as_str()?.to_owned()))
        });
        if let Some((a, by)) = graded {
            assert_eq!(a["points"], 1.0, "{a}");
            return by;
        }
        assert!(std::time::Instant::now() < deadline, "{attempt} was not graded: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A running `lectern marketplace serve` of `dir`, stopped on drop, and its URL.
struct Market(Child);

impl Drop for Market {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_marketplace(dir: &Path) -> (Market, String) {
    let mut market = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .args(["marketplace", "serve"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve the marketplace");
    let mut line = String::new();
    BufReader::new(market.stdout.take().expect("stdout")).read_line(&mut line).expect("a line");
    let url = line.rsplit(" on ").next().expect("address").trim().to_owned();
    (Market(market), url)
}

/// `lectern serve` on `t/data` without the first-party plugins, trusting the local marketplace in `t/market`.
fn start_on_market(t: &Path, market_url: &str) -> Server {
    let root_json = t.join("market/metadata/1.root.json");
    start_with(
        &t.join("data"),
        &[
            ("LECTERN_PLUGINS__FIRST_PARTY", "false"),
            ("LECTERN_MARKETPLACE__URL", market_url),
            ("LECTERN_MARKETPLACE__ROOT", root_json.to_str().expect("utf-8")),
        ],
    )
}

/// Institution `uni` with course Q-1 and an enrolled student sam@uni.test: (institution, course, student) ids.
async fn course_with_student(c: &reqwest::Client, base: &str, token: &str) -> (String, String, String) {
    let (st, inst) = post(c, format!("{base}/api/v1/institutions"), Some(token), json!({"slug": "uni", "name": "Uni"}))
        .await
        .expect("institution");
    assert_eq!(st, 201, "{inst}");
    let (st, student) = post(
        c,
        format!("{base}/api/v1/institutions/uni/users"),
        Some(token),
        json!({"email": "sam@uni.test", "name": "Sam", "role": "member", "password": PASSWORD}),
    )
    .await
    .expect("user");
    assert_eq!(st, 201, "{student}");
    let (st, course) = post(
        c,
        format!("{base}/api/v1/institutions/uni/courses"),
        Some(token),
        json!({"code": "Q-1", "title": "Quizzes", "description": "."}),
    )
    .await
    .expect("course");
    assert_eq!(st, 201, "{course}");
    let (inst, student, course) = (
        inst["id"].as_str().expect("id").to_owned(),
        student["id"].as_str().expect("id").to_owned(),
        course["id"].as_str().expect("id").to_owned(),
    );
    let url = format!("{base}/api/v1/institutions/uni/courses/{course}/enrolments");
    let (st, v) = post(c, url, Some(token), json!({"user_id": student, "role": "student"})).await.expect("enrol");
    assert_eq!(st, 201, "{v}");
    (inst, course, student)
}

/// The publisher's workflow as a new user follows the docs: `plugin new grading` → build →
/// pack → sign → publish to a local marketplace served over HTTP → install into a
/// running Lectern over HTTP → it grades → upgrade → roll back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_install_upgrade_and_roll_back_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let out = cli(t, &["publisher", "keygen", "--out", "me"]);
    assert!(out.contains("key id:"), "{out}");
    cli(t, &["marketplace", "init", "market", "--keys", "keys"]);
    cli(
        t,
        &["marketplace", "add-publisher", "market", "--keys", "keys", "--id", "edu.example", "--key", "me.pub.json"],
    );
    cli(t, &["plugin", "new", "grading", "--id", "edu.example.quiz", "--dir", "quiz"]);
    let project = t.join("quiz");
    // The template passes its own test cases (the same file as the Python and JavaScript templates').
    let tested = cli(&project, &["plugin", "test"]);
    assert!(tested.contains("4 passed, 0 failed"), "{tested}");
    let publish = |version: &str| {
        let built = cli(&project, &["plugin", "build"]);
        assert!(built.contains(".wasm"), "{built}");
        let packed = cli(&project, &["plugin", "pack"]);
        assert!(packed.contains(&format!("edu.example.quiz@{version}")), "{packed}");
        let pkg = format!("edu.example.quiz-{version}.lpkg");
        let unsigned = cli(&project, &["plugin", "inspect", &pkg]);
        assert!(unsigned.contains("signature:   unsigned"), "{unsigned}");
        cli(&project, &["plugin", "sign", &pkg, "--key", "../me.pem"]);
        let inspected = cli(
            &project,
            &["plugin", "inspect", &pkg, "--marketplace", "../market", "--root", "../market/metadata/1.root.json"],
        );
        assert!(inspected.contains("imports match the manifest"), "{inspected}");
        assert!(inspected.contains("signature:   valid"), "{inspected}");
        assert!(inspected.contains("lectern:plugin/kv@0.2.0"), "{inspected}");
        cli(&project, &["marketplace", "add", "../market", &pkg, "--key", "../me.pem", "--keys", "../keys"]);
    };
    publish("0.1.0");

    // The marketplace, served over HTTP by `lectern marketplace serve`.
    let (_market, market_url) = serve_marketplace(&t.join("market"));

    let s = start_on_market(t, &market_url);
    let c = reqwest::Client::new();
    bootstrap_root(&c, &s).await;
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, cat) = get(&c, format!("{}/api/v1/marketplace/plugins", s.base), &token).await;
    assert_eq!(st, 200, "{cat}");
    assert_eq!(cat["plugins"][0]["id"], "edu.example.quiz", "{cat}");
    assert_eq!(cat["plugins"][0]["latest_compatible"], "0.1.0", "{cat}");

    let install = |body: Value| {
        let (c, base, token) = (c.clone(), s.base.clone(), token.clone());
        async move { post(&c, format!("{base}/api/v1/plugins/install"), Some(&token), body).await.expect("install") }
    };
    let (st, v) = install(json!({"id": "edu.example.quiz", "grant": "requested"})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["active"], "edu.example.quiz@0.1.0", "{v}");

    // A course with a student, graded by the new plugin.
    let (inst, course, student) = course_with_student(&c, &s.base, &token).await;
    let ids = (inst.as_str(), course.as_str(), student.as_str());
    assert_eq!(graded_by(&c, &s.base, &token, ids, "att-1").await, "plugin:edu.example.quiz@0.1.0");

    // Upgrade: a new version, published and installed the same way; the old one stays the rollback target.
    set_version(&project, "0.1.0", "0.2.0");
    publish("0.2.0");
    let (st, v) = install(json!({"id": "edu.example.quiz", "grant": "requested"})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["active"], "edu.example.quiz@0.2.0", "{v}");
    assert_eq!(v["previous"], "edu.example.quiz@0.1.0", "{v}");
    assert_eq!(graded_by(&c, &s.base, &token, ids, "att-2").await, "plugin:edu.example.quiz@0.2.0");

    // Roll back.
    let (st, v) = post(&c, format!("{}/api/v1/plugins/slots/grading/rollback", s.base), Some(&token), json!({}))
        .await
        .expect("rollback");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["active"], "edu.example.quiz@0.1.0", "{v}");
    assert_eq!(graded_by(&c, &s.base, &token, ids, "att-3").await, "plugin:edu.example.quiz@0.1.0");
    // Installing the older version again is a downgrade: only with force.
    let (st, v) = install(json!({"id": "edu.example.quiz", "version": "0.1.0", "grant": "requested"})).await;
    assert_eq!((st, v["reason"].as_str()), (409, Some("downgrade")), "{v}");
    let (st, v) =
        install(json!({"id": "edu.example.quiz", "version": "0.1.0", "grant": "requested", "force": true})).await;
    assert_eq!(st, 200, "{v}");

    // The operator's yearly chores: a new root version, re-signed targets and publisher role;
    // the running kernel follows the root through the one it trusts.
    cli(t, &["marketplace", "resign-root", "market", "--root-keys", "keys"]);
    cli(t, &["marketplace", "refresh", "market", "--keys", "keys", "--targets"]);
    cli(
        t,
        &[
            "marketplace",
            "resign-publisher",
            "market",
            "--publisher",
            "edu.example",
            "--key",
            "me.pem",
            "--keys",
            "keys",
        ],
    );
    let (st, v) =
        post(&c, format!("{}/api/v1/marketplace/refresh", s.base), Some(&token), json!({})).await.expect("refresh");
    assert_eq!((st, v["root_version"].as_u64()), (200, Some(2)), "{v}");
}

/// Installs from the marketplace; when the kernel answers 202 (the install goes on as a job,
/// at once with `Prefer: respond-async`), follows the job's status URL to its result.
async fn install_following(c: &reqwest::Client, base: &str, token: &str, body: Value, respond_async: bool) -> Value {
    let mut req = c.post(format!("{base}/api/v1/plugins/install")).bearer_auth(token).json(&body);
    if respond_async {
        req = req.header("Prefer", "respond-async");
    }
    let r = req.send().await.expect("install");
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if status != 202 {
        assert!(!respond_async, "respond-async answers 202: {status} {v}");
        assert!(status == 201 || status == 200, "{status} {v}");
        return v;
    }
    assert_eq!(v["state"], "running", "{v}");
    let url = location.expect("a Location");
    assert_eq!(v["status_url"], url.as_str(), "{v}");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (st, job) = get(c, format!("{base}{url}"), token).await;
        assert_eq!(st, 200, "{job}");
        match job["state"].as_str() {
            Some("succeeded") => return job["result"].clone(),
            Some("running") => {}
            _ => panic!("the install job failed: {job}"),
        }
        assert!(std::time::Instant::now() < deadline, "the install job did not end: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Python and JavaScript plugins as a new developer makes them, from the
/// templates: `plugin new --lang python|js` for the grading, question-type
/// and activity worlds → `plugin test` (which builds them with the pinned
/// componentize-py or componentize-js, installed into the project from PyPI
/// or npm) → pack → sign → publish → install into a running Lectern over
/// HTTP → they grade a real attempt submitted over the bus, and their
/// question types are answered and graded in a real exam.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_javascript_plugins_from_the_templates_work_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    cli(t, &["publisher", "keygen", "--out", "me"]);
    cli(t, &["marketplace", "init", "market", "--keys", "keys"]);
    cli(
        t,
        &["marketplace", "add-publisher", "market", "--keys", "keys", "--id", "edu.example", "--key", "me.pub.json"],
    );
    let projects = [
        ("python", "grading", "edu.example.py-grader", "4 passed"),
        ("js", "grading", "edu.example.js-grader", "4 passed"),
        ("python", "question-type", "edu.example.py-arith", "8 passed"),
        ("js", "question-type", "edu.example.js-arith", "8 passed"),
        // Installed over HTTP, placed in the course and used by the student (below), with
        // the Python content engine serving the course's outline and pages.
        ("python", "content", "edu.example.py-content", "6 passed"),
        ("python", "activity", "edu.example.py-checklist", "7 passed"),
        ("js", "activity", "edu.example.js-checklist", "7 passed"),
    ];
    for (lang, world, id, passed) in projects {
        let name = id.rsplit('.').next().expect("a name");
        cli(t, &["plugin", "new", world, "--lang", lang, "--id", id, "--dir", name]);
        let project = t.join(name);
        let tested = cli(&project, &["plugin", "test"]);
        assert!(tested.contains(&format!("{passed}, 0 failed")), "{lang} {world}: {tested}");
        let packed = cli(&project, &["plugin", "pack"]);
        assert!(packed.contains(&format!("{id}@0.1.0")), "{packed}");
        let pkg = format!("{id}-0.1.0.lpkg");
        cli(&project, &["plugin", "sign", &pkg, "--key", "../me.pem"]);
        let inspected = cli(
            &project,
            &["plugin", "inspect", &pkg, "--marketplace", "../market", "--root", "../market/metadata/1.root.json"],
        );
        assert!(inspected.contains("imports match the manifest"), "{inspected}");
        assert!(inspected.contains("signature:   valid"), "{inspected}");
        cli(&project, &["marketplace", "add", "../market", &pkg, "--key", "../me.pem", "--keys", "../keys"]);
    }

    let (_market, market_url) = serve_marketplace(&t.join("market"));
    let s = start_on_market(t, &market_url);
    let c = reqwest::Client::new();
    bootstrap_root(&c, &s).await;
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    let install = |id: &'static str| {
        let (c, base, token) = (c.clone(), s.base.clone(), token.clone());
        async move {
            let v = install_following(&c, &base, &token, json!({"id": id, "grant": "requested"}), false).await;
            assert_eq!(v["active"], format!("{id}@0.1.0"), "{v}");
        }
    };
    let (inst, course, student) = course_with_student(&c, &s.base, &token).await;
    let ids = (inst.as_str(), course.as_str(), student.as_str());

    // A client that goes away mid-install (the 18 MB Python component compiles for seconds):
    // the install still ends installed *and* active, as asked.
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().expect("client");
    let gone = impatient
        .post(format!("{}/api/v1/plugins/install", s.base))
        .bearer_auth(&token)
        .json(&json!({"id": "edu.example.py-grader", "grant": "requested"}))
        .send()
        .await;
    assert!(gone.is_err_and(|e| e.is_timeout()), "the client gave up before the install ended");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (st, list) = get(&c, format!("{}/api/v1/plugins", s.base), &token).await;
        assert_eq!(st, 200, "{list}");
        let p = list.as_array().expect("plugins").iter().find(|p| p["key"] == "edu.example.py-grader@0.1.0").cloned();
        if p.as_ref().is_some_and(|p| p["active_in"] == json!(["platform"])) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not installed and active after the client left: {p:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each grader grades a real attempt submitted over the bus (the JavaScript one replaces the Python one).
    assert_eq!(graded_by(&c, &s.base, &token, ids, "att-py").await, "plugin:edu.example.py-grader@0.1.0");
    // `Prefer: respond-async`: 202 at once, and the job says how it ended.
    let v = install_following(&c, &s.base, &token, json!({"id": "edu.example.js-grader", "grant": "requested"}), true)
        .await;
    assert_eq!(v["active"], "edu.example.js-grader@0.1.0", "{v}");
    assert_eq!(v["previous"], "edu.example.py-grader@0.1.0", "{v}");
    assert_eq!(graded_by(&c, &s.base, &token, ids, "att-js").await, "plugin:edu.example.js-grader@0.1.0");

    // Both question types, offered side by side, in one exam.
    install("edu.example.py-arith").await;
    install("edu.example.js-arith").await;
    let (st, types) = get(&c, format!("{}/api/v1/institutions/uni/question-types", s.base), &token).await;
    assert_eq!(st, 200, "{types}");
    let offered: Vec<&str> =
        types["items"].as_array().expect("items").iter().filter_map(|t| t["plugin"].as_str()).collect();
    assert!(offered.contains(&"edu.example.py-arith") && offered.contains(&"edu.example.js-arith"), "{types}");
    let course_base = format!("{}/api/v1/institutions/uni/courses/{course}", s.base);
    let (st, v) = post(&c, format!("{course_base}/publish"), Some(&token), json!({})).await.expect("publish");
    assert!(st == 200 || st == 204, "{v}");
    let question = |id: &str, plugin: &str, op: &str| {
        json!({"id": id, "prompt": "", "points": 2.0,
               "key": {"plugin": {"plugin": plugin, "type": "arithmetic", "settings": {"operation": op, "min": 2, "max": 30}}}})
    };
    let quiz = json!({"title": "Drill", "settings": {"attempts_allowed": 1}, "questions": [
        question("py", "edu.example.py-arith", "add"), question("js", "edu.example.js-arith", "multiply")]});
    let (st, v) = post(&c, format!("{course_base}/assessments"), Some(&token), quiz).await.expect("assessment");
    assert_eq!(st, 201, "{v}");
    let assessment = format!("{}/api/v1/assessments/{}", s.base, v["id"].as_str().expect("id"));
    let r = c.patch(&assessment).bearer_auth(&token).json(&json!({"published": true})).send().await.expect("publish");
    assert_eq!(r.status().as_u16(), 200);

    let sam = login(&c, &s.base, "uni", "sam@uni.test").await;
    let (st, attempt) = post(&c, format!("{assessment}/attempts"), Some(&sam), json!({})).await.expect("start");
    assert_eq!(st, 201, "{attempt}");
    let ab = format!("{assessment}/attempts/{}", attempt["id"].as_str().expect("id"));
    let save = |q: &str, answer: String, version: u64| {
        let (c, url, sam) = (c.clone(), format!("{ab}/answers/{q}"), sam.clone());
        async move {
            let body = json!({"response": {"fields": {"answer": answer}}, "version": version});
            let r = c.put(url).bearer_auth(&sam).json(&body).send().await.expect("save");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for q in attempt["questions"].as_array().expect("questions") {
        // "What is A + B?" or "What is A × B?", drawn for this attempt by the plugin.
        let html = q["view"]["html"].as_str().expect("a view");
        let words: Vec<&str> =
            html.split("What is ").nth(1).expect("a prompt").split('?').next().expect("?").split(' ').collect();
        let (a, b): (i64, i64) = (words[0].parse().expect("a"), words[2].parse().expect("b"));
        let right = if words[1] == "+" { a + b } else { a * b };
        let id = q["id"].as_str().expect("id");
        // The plugin's own check refuses what is not a whole number, with its message; nothing is kept.
        let (st, v) = save(id, "ten".into(), 1).await;
        assert_eq!(st, 422, "{v}");
        assert!(v["detail"].as_str().is_some_and(|d| d.contains("Write a whole number")), "{v}");
        let (st, v) = save(id, right.to_string(), 1).await;
        assert_eq!(st, 200, "{id}: {v}");
    }
    let (st, v) = post(&c, format!("{ab}/submit"), Some(&sam), json!({})).await.expect("submit");
    assert_eq!(st, 200, "{v}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (st, result) = get(&c, format!("{ab}/result"), &sam).await;
        if st == 200 {
            assert_eq!((result["points"].as_f64(), result["max_points"].as_f64()), (Some(4.0), Some(4.0)), "{result}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the attempt was not graded: {st} {result}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The activity templates, installed over HTTP side by side (activities are not a slot),
    // each placed in the course as a checklist the student ticks off: the plugin's scores
    // reach the gradebook and the last step completes the item.
    install("edu.example.py-content").await;
    install("edu.example.py-checklist").await;
    install("edu.example.js-checklist").await;
    let (st, v) = post(&c, format!("{course_base}/content/modules"), Some(&token), json!({"id": "m", "title": "Lab"}))
        .await
        .expect("module");
    assert_eq!(st, 201, "{v}");
    // A page rendered by the Python content engine (markdown-it-py): its heading anchors.
    let page = json!({"id": "intro", "kind": "page", "title": "Safety first",
                      "markdown": "# Safety first\n\nWear **goggles**.\n\n## Before you start\n\nRead the sheet."});
    let (st, v) = post(&c, format!("{course_base}/content/modules/m/items"), Some(&token), page).await.expect("page");
    assert_eq!(st, 201, "{v}");
    let (st, v) = get(&c, format!("{course_base}/content/items/intro"), &sam).await;
    assert_eq!(st, 200, "{v}");
    let html = v["html"].as_str().unwrap_or_default();
    assert!(html.contains("<strong>goggles</strong>") && html.contains("before-you-start"), "{v}");
    for (item, plugin) in [("py-list", "edu.example.py-checklist"), ("js-list", "edu.example.js-checklist")] {
        let body = json!({"id": item, "kind": "activity", "title": "Before the lab",
            "activity": {"plugin": plugin, "kind": "checklist", "settings": {"steps": ["Read", "Watch", "Try"]}}});
        let (st, v) =
            post(&c, format!("{course_base}/content/modules/m/items"), Some(&token), body).await.expect("item");
        assert_eq!(st, 201, "{item}: {v}");
        let act = format!("{course_base}/content/items/{item}/activity/actions");
        let mut last = Value::Null;
        for step in ["0", "1", "2"] {
            let body = json!({"action": "toggle", "payload": {"step": step}});
            let (st, v) = post(&c, act.clone(), Some(&sam), body).await.expect("act");
            assert_eq!(st, 200, "{item}: {v}");
            last = v;
        }
        assert_eq!(last["view"]["completed"], true, "{item}: {last}");
        assert_eq!(last["score"], json!({"points": 3.0, "max_points": 3.0}), "{item}: {last}");
        assert!(last["view"]["html"].as_str().is_some_and(|h| h.contains("3 of 3 steps done")), "{last}");
        let grades = format!("{course_base}/students/{student}/grades");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, v) = get(&c, grades.clone(), &token).await;
            let entry = v["items"].as_array().and_then(|g| g.iter().find(|g| g["item"] == item && g["points"] == 3.0));
            if let Some(entry) = entry {
                assert_eq!(entry["graded_by"], format!("plugin:{plugin}@0.1.0"), "{entry}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{item}'s score is not in the gradebook: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // A restart after the compiled-artifact cache was deleted (documented as safe to delete):
    // the server listens at once, the plugins say `starting` while they compile in the
    // background, then serve; an attempt submitted meanwhile is graded once the grader is ready.
    drop(s);
    std::fs::remove_dir_all(t.join("data/plugins/compiled")).expect("delete the compile cache");
    let restarted = std::time::Instant::now();
    let s = start_on_market(t, &market_url);
    let listening_after = restarted.elapsed();
    let token = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, list) = get(&c, format!("{}/api/v1/plugins", s.base), &token).await;
    assert_eq!(st, 200, "{list}");
    let starting = list.as_array().expect("plugins").iter().filter(|p| p["status"] == "starting").count();
    assert!(
        starting > 0,
        "four 12-18 MB components cannot all have compiled {listening_after:?} after the start: {list}"
    );
    let graded = graded_by(&c, &s.base, &token, ids, "att-after-restart").await;
    assert_eq!(graded, "plugin:edu.example.js-grader@0.1.0");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, list) = get(&c, format!("{}/api/v1/plugins", s.base), &token).await;
        if list.as_array().expect("plugins").iter().all(|p| p["status"] == "active" || p["status"] == "standby") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still starting: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("listening {listening_after:?} after a start without the compile cache ({starting} plugins starting)");
}

/// The CLI refuses what would hurt an operator or a publisher, with a clear error.
#[test]
fn marketplace_cli_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let run =
        |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_lectern")).current_dir(t).args(args).output().expect("run");
    // Private keys inside the served directory.
    let out = run(&["marketplace", "init", "m", "--keys", "m/keys"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the served directory"), "{out:?}");
    assert!(!t.join("m/keys").exists(), "nothing left behind");
    cli(t, &["marketplace", "init", "m", "--keys", "k"]);
    // A dotted --out keeps its dots.
    cli(t, &["publisher", "keygen", "--out", "edu.example"]);
    assert!(t.join("edu.example.pem").exists() && t.join("edu.example.pub.json").exists());
    cli(t, &["publisher", "keygen", "--out", "other"]);
    // Not a package; a signature by another key: errors, with a non-zero exit.
    std::fs::write(t.join("junk.lpkg"), b"not a package").expect("write");
    let out = run(&["plugin", "inspect", "junk.lpkg"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a usable package"), "{out:?}");
    cli(t, &["plugin", "new", "content", "--id", "edu.example.pages", "--dir", "pages"]);
    cli(&t.join("pages"), &["plugin", "pack"]);
    cli(&t.join("pages"), &["plugin", "sign", "edu.example.pages-0.1.0.lpkg", "--key", "../other.pem"]);
    let out =
        run(&["plugin", "inspect", "pages/edu.example.pages-0.1.0.lpkg", "--publisher-key", "edu.example.pub.json"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("REFUSED"), "{out:?}");
    // Publishing needs the namespace delegated to the signing key.
    let out =
        run(&["marketplace", "add", "m", "pages/edu.example.pages-0.1.0.lpkg", "--key", "other.pem", "--keys", "k"]);
    assert!(!out.status.success(), "{out:?}");
    // Unknown slot, id without a namespace.
    assert!(!run(&["plugin", "new", "karaoke", "--id", "edu.example.k"]).status.success());
    assert!(!run(&["plugin", "new", "grading", "--id", "grader"]).status.success());
}

/// `plugin new observer` starts a working observer project (the example grade webhook,
/// renamed, on this tree's lectern:plugin@0.2.0): it builds, packs, and its package asks
/// for outbound HTTP to the hosts the administrator names.
#[test]
fn plugin_new_observer_builds_and_packs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let out = cli(t, &["plugin", "new", "observer", "--id", "edu.example.sis-sync", "--dir", "sis"]);
    assert!(out.contains("observer plugin edu.example.sis-sync"), "{out}");
    let project = t.join("sis");
    let source = std::fs::read_to_string(project.join("src/lib.rs")).expect("lib.rs");
    assert!(source.contains("\"edu.example.sis-sync\"") && !source.contains("org.example"), "renamed");
    let built = cli(&project, &["plugin", "build"]);
    assert!(built.contains(".wasm"), "{built}");
    let packed = cli(&project, &["plugin", "pack"]);
    assert!(packed.contains("edu.example.sis-sync@0.1.0"), "{packed}");
    let inspected = cli(&project, &["plugin", "inspect", "edu.example.sis-sync-0.1.0.lpkg"]);
    for want in
        ["observer", "wasi:http/outgoing-handler@0.2", "lectern:plugin/settings@0.2.0", "imports match the manifest"]
    {
        assert!(inspected.contains(want), "{want}: {inspected}");
    }
}

#[test]
fn plugin_new_question_type_builds_and_packs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let out = cli(t, &["plugin", "new", "question-type", "--id", "edu.example.chem-formula", "--dir", "chem"]);
    assert!(out.contains("question type plugin edu.example.chem-formula"), "{out}");
    let project = t.join("chem");
    let source = std::fs::read_to_string(project.join("src/lib.rs")).expect("lib.rs");
    assert!(source.contains("\"edu.example.chem-formula\"") && !source.contains("org.example"), "renamed");
    assert!(project.join("src/expr.rs").exists(), "every file of the example");
    let manifest = std::fs::read_to_string(project.join("manifest.json")).expect("manifest.json");
    assert!(manifest.contains("\"slot\": \"question_type\""), "{manifest}");
    let built = cli(&project, &["plugin", "build"]);
    assert!(built.contains(".wasm"), "{built}");
    let packed = cli(&project, &["plugin", "pack"]);
    assert!(packed.contains("edu.example.chem-formula@0.1.0"), "{packed}");
    let inspected = cli(&project, &["plugin", "inspect", "edu.example.chem-formula-0.1.0.lpkg"]);
    for want in ["question_type", "lectern:plugin/question-type@0.2.0", "imports match the manifest"] {
        assert!(inspected.contains(want), "{want}: {inspected}");
    }
}

#[test]
fn plugin_new_activity_builds_and_packs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let out = cli(t, &["plugin", "new", "activity", "--id", "edu.example.vocab-cards", "--dir", "vocab"]);
    assert!(out.contains("activity plugin edu.example.vocab-cards"), "{out}");
    let project = t.join("vocab");
    let source = std::fs::read_to_string(project.join("src/lib.rs")).expect("lib.rs");
    assert!(source.contains("\"edu.example.vocab-cards\"") && !source.contains("org.example"), "renamed");
    let built = cli(&project, &["plugin", "build"]);
    assert!(built.contains(".wasm"), "{built}");
    let packed = cli(&project, &["plugin", "pack"]);
    assert!(packed.contains("edu.example.vocab-cards@0.1.0"), "{packed}");
    let inspected = cli(&project, &["plugin", "inspect", "edu.example.vocab-cards-0.1.0.lpkg"]);
    for want in
        ["activity", "lectern:plugin/gradebook@0.2.0", "lectern:plugin/activity@0.2.0", "imports match the manifest"]
    {
        assert!(inspected.contains(want), "{want}: {inspected}");
    }
}

/// Every world of the contract has a Python and a JavaScript template that
/// builds with `lectern plugin build` (the pinned toolchains, and the content
/// template's Markdown library, from PyPI and npm), passes its own cases in
/// the real host (`lectern plugin test`, the tutor's on a real vector index),
/// and packs with imports that match its manifest. (Grading, question types
/// and activities go further, to a marketplace and a server, in
/// `python_and_javascript_plugins_from_the_templates_work_end_to_end`.)
#[test]
fn every_world_has_python_and_javascript_templates_that_pass_their_own_tests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let worlds =
        [("content", "6 passed"), ("proctoring", "10 passed"), ("tutoring", "7 passed"), ("observer", "7 passed")];
    for (world, passed) in worlds {
        for lang in ["python", "js"] {
            let name = format!("{world}-{lang}");
            let id = format!("edu.example.{name}");
            let out = cli(t, &["plugin", "new", world, "--lang", lang, "--id", &id, "--dir", &name]);
            assert!(out.contains(&format!("{world} plugin {id}")), "{out}");
            let project = t.join(&name);
            let tested = cli(&project, &["plugin", "test"]);
            assert!(tested.contains(&format!("{passed}, 0 failed")), "{lang} {world}: {tested}");
            cli(&project, &["plugin", "pack"]);
            let inspected = cli(&project, &["plugin", "inspect", &format!("{id}-0.1.0.lpkg")]);
            assert!(inspected.contains("imports match the manifest"), "{lang} {world}: {inspected}");
        }
    }
    let err = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .current_dir(t)
        .args(["plugin", "new", "gradebook", "--lang", "python", "--id", "edu.example.nope"])
        .output()
        .expect("run lectern");
    assert!(!err.status.success());
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("unknown world `gradebook`: use grading, question-type, activity, content"), "{stderr}");
}

/// `plugin pack` for a project in any language: `lectern.toml` (the plugin's
/// manifest plus a `[package]` table) and a component built elsewhere, no
/// `Cargo.toml`; and the clear errors of a project that lacks what it needs.
#[test]
fn plugin_pack_needs_no_cargo_toml() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wasm = lectern_guest_build::build(&repo, "lectern-plugin-template");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path();
    let run = |cwd: &Path, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lectern")).current_dir(cwd).args(args).output().expect("run");
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };

    // A project with lectern.toml and a prebuilt component, as a Python or JS author has.
    let p = t.join("py-grader");
    std::fs::create_dir_all(p.join("build")).expect("mkdir");
    std::fs::copy(&wasm, p.join("build/grader.wasm")).expect("copy");
    std::fs::write(
        p.join("lectern.toml"),
        r#"id = "edu.example.template"
version = "0.1.0"
slot = "grading"
data_version = 1

[capabilities]
kv_quota_bytes = 1048576

[resources]
memory_mib = 64
call_timeout_ms = 2000

[package]
name = "Template grader (packed from lectern.toml)"
description = "Grades true/false questions."
license = "Apache-2.0"
repository = "https://example.edu/grader"
component = "build/grader.wasm"
"#,
    )
    .expect("write");
    let (ok, out) = run(&p, &["plugin", "pack"]);
    assert!(ok && out.contains("packed edu.example.template@0.1.0"), "{out}");
    let (ok, out) = run(&p, &["plugin", "inspect", "edu.example.template-0.1.0.lpkg"]);
    assert!(ok, "{out}");
    for want in [
        "Template grader (packed from lectern.toml)",
        "Apache-2.0",
        "imports match the manifest",
        "https://example.edu/grader",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }

    // The project's own build command (here a copy standing in for componentize-py or jco):
    // `plugin build` runs it in the project and reports the component; `plugin pack` builds first.
    let toml = std::fs::read_to_string(p.join("lectern.toml")).expect("read");
    std::fs::write(p.join("prebuilt.wasm"), std::fs::read(&wasm).expect("read")).expect("write");
    std::fs::remove_file(p.join("build/grader.wasm")).expect("rm");
    std::fs::write(
        p.join("lectern.toml"),
        toml.replace(
            "component = \"build/grader.wasm\"",
            "component = \"build/grader.wasm\"\nbuild = [\"cp\", \"prebuilt.wasm\", \"build/grader.wasm\"]",
        ),
    )
    .expect("write");
    let (ok, out) = run(&p, &["plugin", "build"]);
    assert!(ok && out.contains("cp prebuilt.wasm build/grader.wasm") && out.contains("built "), "{out}");
    std::fs::remove_file(p.join("build/grader.wasm")).expect("rm");
    let (ok, out) = run(&p, &["plugin", "pack"]);
    assert!(ok && out.contains("packed edu.example.template@0.1.0"), "{out}");
    std::fs::write(
        p.join("lectern.toml"),
        toml.replace("component = \"build/grader.wasm\"", "component = \"build/grader.wasm\"\nbuild = [\"false\"]"),
    )
    .expect("write");
    let (ok, out) = run(&p, &["plugin", "build"]);
    assert!(!ok && out.contains("the build command failed"), "{out}");

    // Refusals, each naming what is missing, never a panic.
    let bare = t.join("bare");
    std::fs::create_dir_all(&bare).expect("mkdir");
    let (ok, out) = run(&bare, &["plugin", "pack", "--component", wasm.to_str().expect("utf-8")]);
    assert!(!ok && out.contains("no lectern.toml"), "{out}");
    std::fs::write(
        bare.join("manifest.json"),
        r#"{"id":"edu.example.template","version":"0.1.0","slot":"grading","data_version":1,"capabilities":{"kv_quota_bytes":1048576}}"#,
    )
    .expect("write");
    std::fs::write(bare.join("Cargo.toml"), "").expect("write");
    let (ok, out) = run(&bare, &["plugin", "pack", "--component", wasm.to_str().expect("utf-8")]);
    assert!(!ok && out.contains("set `license`") && !out.contains("panicked"), "{out}");
    let (ok, out) = run(&bare, &["plugin", "pack"]);
    assert!(!ok && !out.contains("panicked"), "{out}");
    std::fs::remove_file(bare.join("Cargo.toml")).expect("rm");
    let (ok, out) = run(&bare, &["plugin", "pack"]);
    assert!(!ok && out.contains("set `license`"), "{out}");
    std::fs::write(p.join("lectern.toml"), "id = \"edu.example.template\"\nslot = \"grading\"\n").expect("write");
    let (ok, out) = run(&p, &["plugin", "pack"]);
    assert!(!ok && out.contains("lectern.toml"), "{out}");
}

/// A webhook receiver on loopback: every request's `Lectern-Delivery` and `Lectern-Event`.
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}:")))
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push((header("lectern-delivery"), header("lectern-event")));
                let _ =
                    sock.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    (url, seen)
}

async fn put(c: &reqwest::Client, url: String, token: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
    let r = c.put(url).bearer_auth(token).json(&body).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

/// aiosmtpd (`kernel/lectern-notify/tests/smtp_sink.py`): a real SMTP server storing each
/// message it accepts as `<n>.eml`; stopped on drop.
struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let import = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        assert!(import.is_ok_and(|o| o.status.success()), "python3 with aiosmtpd is needed: run `cargo xtask setup`");
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lectern-notify/tests/smtp_sink.py");
        let mut child =
            Command::new("python3").arg(script).arg(dir.path()).stdout(Stdio::piped()).spawn().expect("smtp sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("port");
        SmtpSink { child, port: line.trim().parse().expect("smtp_sink prints its port"), dir }
    }

    /// The `Message-ID` of every message received, in arrival order (resends included).
    fn message_ids(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(p).ok()?;
                text.lines()
                    .find_map(|l| l.to_ascii_lowercase().starts_with("message-id:").then(|| l[11..].trim().to_owned()))
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One student's progress as the server acknowledged it.
#[derive(Clone, Default)]
struct Taken {
    attempt: Option<String>,
    /// The newest acknowledged version of the written answer (`q2`); whether `q1` is saved.
    written: u64,
    q1: bool,
    submitted: bool,
}

/// A student's exam session: start (idempotent), answer, keep saving, submit
/// late in the run; stops at the first transport error (the server died).
async fn sit_exam(
    c: reqwest::Client,
    base: String,
    token: String,
    quiz: String,
    me: usize,
    state: Arc<Mutex<Taken>>,
    submit_after: u64,
) {
    loop {
        let t = state.lock().unwrap().clone();
        if t.submitted {
            return;
        }
        let Some(attempt) = t.attempt.clone() else {
            let url = format!("{base}/api/v1/assessments/{quiz}/attempts");
            match post(&c, url, Some(&token), json!({"client_request_id": format!("student-{me}")})).await {
                Ok((200 | 201, v)) => state.lock().unwrap().attempt = Some(v["id"].as_str().expect("id").to_owned()),
                Ok((s, v)) => panic!("start: {s} {v}"),
                Err(_) => return,
            }
            continue;
        };
        let ab = format!("{base}/api/v1/assessments/{quiz}/attempts/{attempt}");
        if !t.q1 {
            match put(&c, format!("{ab}/answers/q1"), &token, json!({"response": {"boolean": true}, "version": 1}))
                .await
            {
                Ok((200 | 409, _)) => state.lock().unwrap().q1 = true,
                Ok((s, v)) => panic!("save q1: {s} {v}"),
                Err(_) => return,
            }
            continue;
        }
        if t.written >= submit_after {
            match post(&c, format!("{ab}/submit"), Some(&token), json!({})).await {
                Ok((200, _)) => state.lock().unwrap().submitted = true,
                // Submitted before the crash, acknowledged or not: it is submitted.
                Ok((409, v)) if v["detail"].as_str().is_some_and(|d| d.contains("submitted")) => {
                    state.lock().unwrap().submitted = true
                }
                Ok((s, v)) => panic!("submit: {s} {v}"),
                Err(_) => return,
            }
            continue;
        }
        let next = t.written + 1;
        let body = json!({"response": {"text": format!("draft {next} of student {me}")}, "version": next});
        match put(&c, format!("{ab}/answers/q2"), &token, body).await {
            Ok((200, _)) => {
                let mut s = state.lock().unwrap();
                s.written = s.written.max(next);
            }
            // A save that landed before the crash without its answer reaching us: read where it stands.
            // (Or a submission that landed unacknowledged: the attempt is closed.)
            Ok((409, _)) => {
                let r = c.get(&ab).bearer_auth(&token).send().await;
                let Ok(r) = r else { return };
                let v: Value = r.json().await.unwrap_or(Value::Null);
                let stored = v["answers"]["q2"]["version"].as_u64().unwrap_or(0);
                let mut s = state.lock().unwrap();
                s.written = s.written.max(stored);
                if v["state"] == "submitted" {
                    s.submitted = true;
                }
            }
            Ok((s, v)) => panic!("save: {s} {v}"),
            Err(_) => return,
        }
    }
}

/// Exam load through ten `kill -9`s: students start, save and submit while
/// the server is killed at random moments and restarted on the same data.
/// Afterwards every acknowledged answer is there, every submitted attempt is
/// graded exactly once, every completion has exactly one credential, one
/// in-app notification, and its webhook — sent again after a crash only with
/// the same `Lectern-Delivery` id (at least once, receivers dedupe by it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exam_survives_ten_sigkills() {
    const STUDENTS: usize = 16;
    const CRASHES: u64 = 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let c = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let (hook_url, hooks) = webhook_receiver().await;
    let smtp = SmtpSink::start();
    let smtp_port = smtp.port.to_string();
    let env = [
        // Each start listens on a new port; the issuer of the students' tokens stays the same.
        ("LECTERN_PUBLIC_URL", "http://exam.lectern.test"),
        ("LECTERN_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true"),
        ("LECTERN_EMAIL__SMTP_HOST", "127.0.0.1"),
        ("LECTERN_EMAIL__SMTP_PORT", smtp_port.as_str()),
        ("LECTERN_EMAIL__TLS", "none"),
        ("LECTERN_EMAIL__FROM", "Lectern <no-reply@exam.test>"),
    ];
    let mut s = start_with(&data, &env);
    bootstrap_root(&c, &s).await;
    let root = login(&c, &s.base, "platform", "root@p.test").await;
    let (st, v) =
        post(&c, format!("{}/api/v1/institutions", s.base), Some(&root), json!({"slug": "exam", "name": "Exam U"}))
            .await
            .expect("institution");
    assert_eq!(st, 201, "{v}");
    let base_api = format!("{}/api/v1/institutions/exam", s.base);
    let (st, course) = post(&c, format!("{base_api}/courses"), Some(&root), json!({"code": "FIN-1", "title": "Final"}))
        .await
        .expect("course");
    assert_eq!(st, 201, "{course}");
    let course = course["id"].as_str().expect("id").to_owned();
    let cb = format!("{base_api}/courses/{course}");
    let mut students = vec![];
    for i in 0..STUDENTS {
        let email = format!("s{i}@exam.test");
        let (st, u) = post(
            &c,
            format!("{base_api}/users"),
            Some(&root),
            json!({"email": email, "name": format!("Student {i}"), "role": "member", "password": PASSWORD}),
        )
        .await
        .expect("user");
        assert_eq!(st, 201, "{u}");
        let id = u["id"].as_str().expect("id").to_owned();
        let (st, v) = post(&c, format!("{cb}/enrolments"), Some(&root), json!({"user_id": id, "role": "student"}))
            .await
            .expect("enrol");
        assert_eq!(st, 201, "{v}");
        students.push((id, email));
    }
    post(&c, format!("{cb}/publish"), Some(&root), json!({})).await.expect("publish");
    let quiz = json!({"title": "Final", "questions": [
        {"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}},
        {"id": "q2", "prompt": "Name it.", "points": 1.0, "key": {"short_answer": {"alternatives": [
            {"pattern": "final answer", "regex": false, "credit": 1.0, "feedback": null}], "case_sensitive": false, "normalize_whitespace": true}}}],
        "settings": {"time_limit_secs": 3600}});
    let (st, quiz) = post(&c, format!("{cb}/assessments"), Some(&root), quiz).await.expect("quiz");
    assert_eq!(st, 201, "{quiz}");
    let quiz = quiz["id"].as_str().expect("id").to_owned();
    let (st, v) = c
        .patch(format!("{}/api/v1/assessments/{quiz}", s.base))
        .bearer_auth(&root)
        .json(&json!({"published": true}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("publish quiz");
    assert_eq!(st, 200, "{v:?}");
    // Passing needs the true/false question only (every draft of the other is wrong).
    let (st, v) =
        put(&c, format!("{cb}/completion-rule"), &root, json!({"required_items": [quiz], "min_percent": 40.0}))
            .await
            .expect("rule");
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(
        &c,
        format!("{base_api}/webhooks"),
        Some(&root),
        json!({"url": hook_url, "events": ["credential.issued"]}),
    )
    .await
    .expect("webhook");
    assert_eq!(st, 201, "{v}");
    let mut tokens = vec![];
    for (_, email) in &students {
        tokens.push(login(&c, &s.base, "exam", email).await);
    }

    let states: Vec<Arc<Mutex<Taken>>> = (0..STUDENTS).map(|_| Arc::default()).collect();
    // A small deterministic generator for the kill moments and submission points.
    let mut seed: u64 = 0x5eed_1e55;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    // About a hundred saves per student per second here: submissions land across the crashes.
    let submit_after: Vec<u64> = (0..STUDENTS).map(|_| 300 + rand(2500)).collect();
    for crash in 0..CRASHES {
        let tasks: Vec<_> = (0..STUDENTS)
            .map(|i| {
                tokio::spawn(sit_exam(
                    c.clone(),
                    s.base.clone(),
                    tokens[i].clone(),
                    quiz.clone(),
                    i,
                    states[i].clone(),
                    submit_after[i],
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + rand(1200))).await;
        s.child.kill().expect("SIGKILL");
        s.child.wait().expect("reap");
        for t in tasks {
            t.await.expect("a student's task");
        }
        let saved: u64 = states.iter().map(|s| s.lock().unwrap().written).sum();
        let submitted = states.iter().filter(|s| s.lock().unwrap().submitted).count();
        eprintln!("crash {}: {saved} saves acknowledged in all, {submitted} of {STUDENTS} submitted", crash + 1);
        s = start_with(&data, &env);
    }
    // After the last restart everyone finishes and submits.
    let finish: Vec<_> = (0..STUDENTS)
        .map(|i| {
            tokio::spawn(sit_exam(c.clone(), s.base.clone(), tokens[i].clone(), quiz.clone(), i, states[i].clone(), 0))
        })
        .collect();
    for t in finish {
        t.await.expect("a student's task");
    }
    assert!(states.iter().all(|s| s.lock().unwrap().submitted), "every student submitted");

    // Every acknowledged answer is there.
    for (i, st) in states.iter().enumerate() {
        let t = st.lock().unwrap().clone();
        let attempt = t.attempt.expect("an attempt");
        let (code, v) = get(&c, format!("{}/api/v1/assessments/{quiz}/attempts/{attempt}", s.base), &root).await;
        assert_eq!(code, 200, "{v}");
        let stored = v["answers"]["q2"]["version"].as_u64().unwrap_or(0);
        assert!(stored >= t.written, "student {i}: version {} was acknowledged, {stored} is stored", t.written);
        if stored > 0 {
            assert_eq!(v["answers"]["q2"]["response"]["text"], format!("draft {stored} of student {i}"), "{v}");
        }
        assert_eq!(v["answers"]["q1"]["response"]["boolean"], true, "student {i}: {v}");
    }

    // Every submitted attempt is graded exactly once: one attempt in the item's grade and one automatic grading in its history.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    for (i, (id, _)) in students.iter().enumerate() {
        let attempt = states[i].lock().unwrap().attempt.clone().expect("attempt");
        loop {
            let url = format!("{}/api/v1/institutions/exam/courses/{course}/students/{id}/grades", s.base);
            let (code, v) = get(&c, url, &root).await;
            assert_eq!(code, 200, "{v}");
            let entry = v["items"].as_array().into_iter().flatten().find(|g| g["item"] == quiz.as_str()).cloned();
            if let Some(g) = entry.filter(|g| g["attempts"].as_array().is_some_and(|a| !a.is_empty())) {
                let attempts = g["attempts"].as_array().expect("attempts");
                assert_eq!(attempts.len(), 1, "student {i}: {g}");
                assert_eq!(attempts[0]["attempt"], attempt.as_str(), "{g}");
                let gradings = g["history"]
                    .as_array()
                    .expect("history")
                    .iter()
                    .filter(|h| {
                        h["reason"].as_str().is_some_and(|r| r.starts_with(&format!("attempt {attempt} graded")))
                    })
                    .count();
                assert_eq!(gradings, 1, "student {i}: graded {gradings} times: {g}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "student {i}'s attempt was not graded: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Exactly one credential per completion, one notification of it, and its webhook.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut credentials = std::collections::HashSet::new();
    for (i, token) in tokens.iter().enumerate() {
        loop {
            let (_, v) = get(&c, format!("{}/api/v1/me/credentials", s.base), token).await;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            assert!(items.len() <= 1, "student {i} has {} credentials: {v}", items.len());
            if let Some(cred) = items.first() {
                credentials.insert(cred["id"].as_str().expect("id").to_owned());
                break;
            }
            assert!(std::time::Instant::now() < deadline, "student {i} has no credential");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (_, v) = get(&c, format!("{}/api/v1/me/notifications", s.base), token).await;
        let issued = v["items"].as_array().into_iter().flatten().filter(|n| n["kind"] == "credential.issued").count();
        assert_eq!(issued, 1, "student {i}: {v}");
    }
    assert_eq!(credentials.len(), STUDENTS);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let seen = hooks.lock().unwrap().clone();
        let ids: std::collections::HashSet<&String> = seen.iter().map(|(d, _)| d).collect();
        if ids.len() >= STUDENTS {
            assert_eq!(ids.len(), STUDENTS, "one delivery id per credential: {seen:?}");
            assert!(seen.iter().all(|(_, e)| e == "credential.issued"));
            let duplicates = seen.len() - ids.len();
            eprintln!(
                "webhooks: {} deliveries of {} events ({duplicates} sent again after a crash)",
                seen.len(),
                ids.len()
            );
            assert!(duplicates as u64 <= CRASHES, "{duplicates} duplicate deliveries for {CRASHES} crashes: {seen:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {STUDENTS} credential webhooks arrived: {seen:?}",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Email the same way: every notification's message once, or again after a crash with
    // the same Message-ID. Each student has at least the credential's and the grade's.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let ids = smtp.message_ids();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        if unique.len() >= 2 * STUDENTS {
            let duplicates = ids.len() - unique.len();
            eprintln!(
                "email: {} messages, {} distinct ({duplicates} sent again after a crash)",
                ids.len(),
                unique.len()
            );
            assert!(duplicates as u64 <= CRASHES, "{duplicates} duplicate emails for {CRASHES} crashes: {ids:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{} emails of at least {}: {ids:?}", unique.len(), 2 * STUDENTS);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

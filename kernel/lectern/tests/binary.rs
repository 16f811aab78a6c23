//! Tests of the `lectern` binary as an operator runs it: a child process,
//! real sled on disk, real HTTP, SIGKILL and SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benchmarks fail loudly on setup errors

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
    let mut child = cmd.arg("serve").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn lectern serve");
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

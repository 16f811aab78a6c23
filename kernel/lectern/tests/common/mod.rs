//! What the tests of the `lectern` binary share: a real `lectern serve` child
//! process on a free port with a fresh data directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; setup fails loudly

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `lectern serve` child process; killed when dropped, also when the test fails.
pub struct Server {
    child: Child,
    pub base: String,
    pub bootstrap: Option<String>,
    /// Keeps the reader thread draining the server's stdout.
    _lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on a free port with a fresh data directory, and reads
/// the bootstrap token from its banner (the line with the bootstrap command).
/// The lines a child prints, as they come, on a channel (so a wait can time out).
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn start_server(dir: &Path, env: &[(&str, &str)]) -> Server {
    let log = std::fs::File::create(dir.join("server.log")).expect("server log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .arg("serve")
        .current_dir(dir)
        .env("LECTERN_DATA_DIR", dir.join("data"))
        .env("LECTERN_HTTP__LISTEN", "127.0.0.1:0")
        // `LECTERN_TEST_LOG=info` (any tracing filter) keeps more of the server's log for a failure.
        .env("LECTERN_LOG__FILTER", std::env::var("LECTERN_TEST_LOG").unwrap_or_else(|_| "warn".into()))
        .env_remove("LECTERN_CONFIG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn lectern serve");
    let stdout = child.stdout.take().expect("stdout");
    let rx = lines_of(stdout);
    let mut bootstrap = None;
    let mut seen = String::new();
    loop {
        // Installing the built-in plugins compiles them first: allow for a loaded machine.
        let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("the server did not print its address within 120 s; stdout:\n{seen}\nlog:\n{log}");
        };
        seen.push_str(&line);
        seen.push('\n');
        if let Some(i) = line.find("\"token\":\"lbt_") {
            let token = &line[i + "\"token\":\"".len()..];
            bootstrap = Some(token.split('"').next().unwrap_or_default().to_owned());
        }
        if let Some(addr) = line.strip_prefix("lectern: listening on ") {
            return Server { child, base: addr.trim().to_owned(), bootstrap, _lines: rx };
        }
    }
}

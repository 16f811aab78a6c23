//! The README's day-one walkthrough, run as a reader runs it: the `sh` blocks
//! marked `<!-- walkthrough -->` in README.md, in order, as one bash script
//! (`set -euo pipefail`) against a fresh `lectern serve` with the first-party
//! plugins built into the binary (`plugins.first_party`, on by default). The
//! only change to the text is the `BOOTSTRAP=` line, which gets the token the
//! server printed, as the README tells a reader to paste it. `LECTERN` points
//! the blocks at this server. A failing command fails the test with the block
//! it is in and that block's output.
//!
//! It lives in the `lectern` package, not the end-to-end crate, because only
//! the package that builds the binary gets its path (`CARGO_BIN_EXE_lectern`),
//! built before its tests run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::mpsc;

use common::{lines_of, start_server};

/// The line before each block of the walkthrough.
const MARKER: &str = "<!-- walkthrough -->";
/// The line the script prints before each block's commands (not a README line).
const BLOCK_START: &str = "@@ walkthrough block ";
/// The whole walkthrough waits for grading and issuing for at most a minute each.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(300);

/// A marked block: its text and the README line its first command is on.
#[derive(Debug, PartialEq)]
struct Block {
    line: usize,
    text: String,
}

/// The marked blocks of a Markdown text, in order. A marker must be followed
/// directly by a ```` ```sh ```` fence that is closed.
fn walkthrough_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = vec![];
    let mut lines = markdown.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, line)) = lines.next() {
        if line.trim() != MARKER {
            continue;
        }
        match lines.next() {
            Some((_, fence)) if fence.trim_end() == "```sh" => {}
            other => {
                return Err(format!(
                    "line {n}: {MARKER} must be followed by a ```sh line, not {:?}",
                    other.map(|o| o.1)
                ));
            }
        }
        let mut text = String::new();
        loop {
            match lines.next() {
                Some((_, l)) if l.trim_end() == "```" => break,
                Some((_, l)) => {
                    text.push_str(l);
                    text.push('\n');
                }
                None => return Err(format!("line {n}: the block after this {MARKER} is never closed")),
            }
        }
        blocks.push(Block { line: n + 2, text });
    }
    Ok(blocks)
}

/// Replaces the one `BOOTSTRAP=` assignment with the server's token, as a
/// reader pastes it; anything else would make the test run other text than
/// the README's.
fn paste_bootstrap_token(blocks: &mut [Block], token: &str) -> Result<(), String> {
    if !(token.starts_with("lbt_") && token[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) {
        return Err(format!("{token:?} does not look like a bootstrap token"));
    }
    let mut pasted = 0;
    for b in blocks.iter_mut() {
        let mut text = String::new();
        for l in b.text.lines() {
            if l.starts_with("BOOTSTRAP=") {
                pasted += 1;
                let _ = writeln!(text, "BOOTSTRAP='{token}'");
            } else {
                text.push_str(l);
                text.push('\n');
            }
        }
        b.text = text;
    }
    match pasted {
        1 => Ok(()),
        n => Err(format!("the walkthrough must have exactly one `BOOTSTRAP=` line for the reader to edit, found {n}")),
    }
}

/// One bash script: strict mode, then each block after a line naming it.
fn script(blocks: &[Block]) -> String {
    // The trace shows the commands with their values (ids, bodies) when a block fails.
    let mut s = String::from(
        "set -euo pipefail\nexec 2>&1\ntrap 'echo \"walkthrough: exit status $? from: $BASH_COMMAND\"' ERR\nset -x\n",
    );
    for (i, b) in blocks.iter().enumerate() {
        let _ = write!(s, "\necho '{BLOCK_START}{i}'\n{}", b.text);
    }
    s
}

/// The extractor and the token paste, on small texts.
#[test]
fn readme_walkthrough_blocks_are_found_in_order_and_malformed_markers_refused() {
    let ok = "intro\n<!-- walkthrough -->\n```sh\na=1\n```\n\n```sh\nillustrative\n```\n<!-- walkthrough -->\n```sh\necho $a\nb\n```\n";
    assert_eq!(
        walkthrough_blocks(ok).unwrap(),
        vec![Block { line: 4, text: "a=1\n".into() }, Block { line: 12, text: "echo $a\nb\n".into() }]
    );
    let check_refused = |md: &str, why: &str| {
        let e = walkthrough_blocks(md).expect_err(md);
        assert!(e.contains(why), "{md:?}: {e}");
    };
    check_refused("<!-- walkthrough -->\n```rust\nx\n```\n", "must be followed by a ```sh line");
    check_refused("<!-- walkthrough -->\n\n```sh\nx\n```\n", "must be followed by a ```sh line");
    check_refused("<!-- walkthrough -->\n", "must be followed by a ```sh line");
    check_refused("<!-- walkthrough -->\n```sh\nx\n", "never closed");

    let mut blocks =
        walkthrough_blocks("<!-- walkthrough -->\n```sh\nBOOTSTRAP='lbt_…'  # paste\nnext\n```\n").unwrap();
    paste_bootstrap_token(&mut blocks, "lbt_Ab-9_z").unwrap();
    assert_eq!(blocks[0].text, "BOOTSTRAP='lbt_Ab-9_z'\nnext\n");
    assert!(paste_bootstrap_token(&mut blocks, "lbt_x'; rm -rf ~").is_err(), "never pasted into the script");
    let mut none = walkthrough_blocks(ok).unwrap();
    assert!(paste_bootstrap_token(&mut none, "lbt_x").unwrap_err().contains("found 0"));
}

/// Runs the script with bash; returns whether it succeeded and everything it printed.
fn run_script(dir: &Path, script: &str, base: &str) -> (bool, String) {
    let path = dir.join("walkthrough.sh");
    std::fs::write(&path, script).expect("write the script");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut child = Command::new("bash")
        .arg(&path)
        .current_dir(dir)
        .env("LECTERN", base)
        // The reader's own ~/.curlrc, ~/.jq or proxy settings are not the README's.
        .env("HOME", &home)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run bash");
    let stdout = child.stdout.take().expect("stdout");
    let rx = lines_of(stdout);
    let deadline = Instant::now() + SCRIPT_DEADLINE;
    let mut out = String::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = writeln!(out, "walkthrough: killed after {} s", SCRIPT_DEADLINE.as_secs());
                return (false, out);
            }
        }
    }
    let status = child.wait().expect("wait for bash");
    (status.success(), out)
}

/// The block a failing run stopped in, with what it printed.
fn failure_report(blocks: &[Block], out: &str) -> String {
    let mut current: Option<usize> = None;
    let mut since = String::new();
    for line in out.lines() {
        if let Some(i) = line.strip_prefix(BLOCK_START).and_then(|n| n.parse::<usize>().ok()) {
            current = Some(i);
            since.clear();
        } else {
            since.push_str(line);
            since.push('\n');
        }
    }
    match current.and_then(|i| blocks.get(i).map(|b| (i, b))) {
        Some((i, b)) => format!(
            "the README walkthrough failed in block {} of {} (README.md line {}):\n{}\n-- its output --\n{since}",
            i + 1,
            blocks.len(),
            b.line,
            b.text
        ),
        None => format!("the README walkthrough failed before its first block:\n{out}"),
    }
}

#[test]
fn readme_walkthrough_runs_against_a_fresh_server() {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(
            found.is_ok_and(|s| s.success()),
            "the README walkthrough needs `{tool}` on PATH (`cargo xtask test` installs curl and jq when missing)"
        );
    }
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let markdown = std::fs::read_to_string(&readme).expect("README.md");
    let mut blocks = walkthrough_blocks(&markdown).unwrap_or_else(|e| panic!("README.md: {e}"));
    assert!(!blocks.is_empty(), "README.md has no blocks marked {MARKER}");

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path(), &[]);
    let token = server.bootstrap.clone().expect("a fresh server prints a bootstrap token");
    paste_bootstrap_token(&mut blocks, &token).unwrap_or_else(|e| panic!("README.md: {e}"));

    let (ok, out) = run_script(dir.path(), &script(&blocks), &server.base);
    if !ok {
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        panic!("{}\n-- server log --\n{log}", failure_report(&blocks, &out));
    }
    println!("{out}"); // shown with --nocapture
    // Every block ran, and the last one's answer is the verified credential.
    let last = format!("{BLOCK_START}{}", blocks.len() - 1);
    assert!(out.lines().any(|l| l == last), "the script stopped before its last block:\n{out}");
    assert!(
        out.lines().any(|l| l.trim().trim_end_matches(',') == "\"verified\": true"),
        "the walkthrough ends with a verified credential, but printed:\n{out}"
    );
    drop(server);
}

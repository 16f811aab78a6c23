//! Project automation. `cargo xtask <command>`:
//!
//! - `run`   — build the release server and run `lectern serve` with embedded defaults.
//! - `test`  — the whole test suite (what `.ci/run` calls).
//! - `bench` — storage, plugin-host, event-bus, HTTP, read-path and exam-day (1,000 students) benchmarks
//!   in release mode; prints figures. Installs `wrk` (Debian package) when missing: the read-path bench drives the server with it.
//! - `setup` — install the `wasm32-wasip2` target (every command above does it first) and the Python
//!   `aiosmtpd` package, the real SMTP server that `lectern-notify`'s tests send mail to.

use std::process::Command;

use anyhow::{Context, bail};

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut cmd: Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|| std::path::PathBuf::from("target"))
}

/// Plugins and test fixtures are WebAssembly components: make sure the target is there.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "wasm32-wasip2") => Ok(()),
        Ok(_) => {
            let mut c = Command::new("rustup");
            c.args(["target", "add", "wasm32-wasip2"]);
            run(c)
        }
        Err(e) => bail!("cannot run rustup to check for the wasm32-wasip2 target: {e}"),
    }
}

/// `lectern-notify`'s email tests run a real SMTP server (aiosmtpd): install it unless it is importable.
fn ensure_aiosmtpd() -> anyhow::Result<()> {
    let present = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
    match present {
        Ok(out) if out.status.success() => Ok(()),
        Ok(_) => {
            let mut c = Command::new("python3");
            c.args(["-m", "pip", "install", "--quiet", "aiosmtpd"]);
            run(c)
        }
        Err(e) => bail!("cannot run python3 to check for aiosmtpd (lectern-notify's tests need both): {e}"),
    }
}

/// The read-path benchmark (`readbench`) measures with `wrk` from a separate process: install
/// Debian's package unless `wrk` runs, refreshing the package lists once if the first try fails.
fn ensure_wrk() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    let apt = |args: &[&str]| Command::new("apt-get").args(args).status().is_ok_and(|s| s.success());
    if apt(&["install", "-y", "wrk"]) || (apt(&["update"]) && apt(&["install", "-y", "wrk"])) {
        return Ok(());
    }
    bail!(
        "the read-path benchmark needs wrk, and `apt-get install -y wrk` failed (it needs root and Debian/Ubuntu); \
         install wrk 4 and put it on PATH, then rerun"
    )
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo xtask run -- --config x`: the separator is for us, not for lectern.
    if args.get(1).map(String::as_str) == Some("--") {
        args.remove(1);
    }
    if matches!(args.first().map(String::as_str), Some("run" | "test" | "bench" | "setup")) {
        ensure_wasm_target()?;
    }
    match args.first().map(String::as_str) {
        Some("setup") => ensure_aiosmtpd(),
        Some("run") => {
            let mut c = cargo();
            c.args(["run", "--release", "--package", "lectern", "--", "serve"]).args(&args[1..]);
            run(c)
        }
        Some("test") => {
            ensure_aiosmtpd()?;
            let mut c = cargo();
            c.args(["test", "--workspace", "--all-targets"]).args(&args[1..]);
            run(c)?;
            // The first-party plugins' own unit tests run natively in the guest
            // workspace, one package at a time (the SDK's slot features must not unify).
            for pkg in ["lectern-content", "lectern-grading", "lectern-proctoring"] {
                let mut c = cargo();
                c.args(["test", "--manifest-path", "plugins/Cargo.toml", "-p", pkg]).args(&args[1..]);
                run(c)?;
            }
            Ok(())
        }
        Some("bench") => {
            ensure_wrk()?;
            let mut c = cargo();
            c.args(["build", "--release", "--package", "lectern", "--package", "lectern-e2e", "--bins"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-storage", "--bench", "flush"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-e2e", "--bench", "plugins"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-bus", "--bench", "bus"]);
            run(c)?;
            let release = target_dir().join("release");
            let mut c = Command::new(release.join("loadgen"));
            c.arg("--lectern").arg(release.join("lectern")).args(&args[1..]);
            run(c)?;
            let mut c = Command::new(release.join("readbench"));
            c.arg("--lectern").arg(release.join("lectern"));
            run(c)?;
            let mut c = Command::new(release.join("examload"));
            c.arg("--lectern").arg(release.join("lectern")).args(["--students", "1000"]);
            run(c)
        }
        _ => bail!("usage: cargo xtask <run|test|bench|setup> [extra arguments]"),
    }
}

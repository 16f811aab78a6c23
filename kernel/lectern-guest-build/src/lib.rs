//! Compiles a crate of the guest workspace (`plugins/Cargo.toml`) to a
//! `wasm32-wasip2` component, from a build script. Used by the `lectern`
//! binary (which embeds the first-party plugins) and by the end-to-end tests
//! (which build their fixtures from source).
//!
//! Each guest is its own `cargo build -p`, so the SDK's per-slot features are
//! not unified across guests. Guests go to `<CARGO_TARGET_DIR>/guests`, shared
//! by every build script, so a guest is compiled once per change whoever asks.
//! It never reads the outer build's flags: nothing of the host build applies
//! to a guest.

#![allow(clippy::expect_used)] // a build script reports failure by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

/// The first-party plugins, in the order `lectern serve` installs them:
/// (guest package in `plugins/Cargo.toml`, folder under `plugins/` holding its
/// `manifest.json`). The one list the `lectern` build (which embeds them), the
/// local marketplace of `cargo xtask run` and `cargo xtask test` read.
pub const FIRST_PARTY: &[(&str, &str)] = &[
    ("lectern-content", "content"),
    ("lectern-grading", "grading"),
    ("lectern-proctoring", "proctoring"),
    ("lectern-tutoring", "tutoring"),
];

/// The file name cargo gives guest package `pkg`'s component.
pub fn component_file(pkg: &str) -> String {
    format!("{}.wasm", pkg.replace('-', "_"))
}

/// The repository root, from the calling crate's `CARGO_MANIFEST_DIR` and its depth below the root.
pub fn repo_root(depth: usize) -> PathBuf {
    let mut dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for _ in 0..depth {
        dir = dir.parent().expect("the crate sits below the repository root").to_path_buf();
    }
    dir
}

/// Where guests are built.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("guests"),
        None => root.join("target").join("guests"),
    }
}

/// Tells cargo to rerun the build script when the guest workspace or the WIT changes.
pub fn rerun_if_guests_change(root: &Path, extra: &[&str]) {
    for dir in ["wit", "sdk", "plugins/Cargo.toml", "plugins/Cargo.lock"].iter().chain(extra) {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
}

/// Builds guest package `pkg` in release mode; returns the component's path.
pub fn build(root: &Path, pkg: &str) -> PathBuf {
    let target_dir = target_dir(root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(root.join("plugins").join("Cargo.toml"))
        .args(["-p", pkg])
        .env("CARGO_TARGET_DIR", &target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run cargo for a guest crate");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let hint = if err.contains("wasm32-wasip2") && err.contains("target may not be installed") {
            "\nThe wasm32-wasip2 target is missing: run `rustup target add wasm32-wasip2` (every `cargo xtask` command does this).\n"
        } else {
            ""
        };
        panic!("building guest `{pkg}` failed:{hint}\n{err}");
    }
    target_dir.join("wasm32-wasip2").join("release").join(component_file(pkg))
}

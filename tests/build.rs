//! Builds the guest fixtures (tests/fixtures/*) and the first-party plugins
//! (plugins/*) for wasm32-wasip2 from source
//! and tells the tests where the components are (`guests.rs` in OUT_DIR).
//! Each guest is its own `cargo build -p` so that the SDK's per-slot feature
//! is not unified across guests.

#![allow(clippy::expect_used)] // a build script reports failure by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

const GUESTS: &[(&str, &str)] = &[
    ("GRADING_V1", "grading-v1"),
    ("GRADING_V2", "grading-v2"),
    ("GRADING_V3_BAD_MIGRATE", "grading-v3-bad-migrate"),
    ("GRADING_BENCH", "grading-bench"),
    ("PROCTORING", "proctoring-basic"),
    ("CONTENT", "content-basic"),
    ("TUTORING", "tutoring-basic"),
    ("HOSTILE", "hostile"),
    ("UNDECLARED", "undeclared"),
    ("TEMPLATE", "lectern-plugin-template"),
    // First-party plugins: tests run the real ones, not only fixtures.
    ("CONTENT_PLUGIN", "lectern-content"),
];

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = here.parent().expect("tests/ has a parent").to_path_buf();
    for dir in ["wit", "sdk", "tests/fixtures", "plugins/Cargo.toml", "plugins/Cargo.lock", "plugins/content"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("guests"),
        None => root.join("target").join("guests"),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = root.join("plugins").join("Cargo.toml");
    let mut consts = String::new();
    for (name, pkg) in GUESTS {
        build(&cargo, &manifest, &target_dir, pkg);
        let file = target_dir.join("wasm32-wasip2").join("release").join(format!("{}.wasm", pkg.replace('-', "_")));
        consts.push_str(&format!(
            "/// The `{pkg}` component.\npub const {name}: &str = {:?};\n",
            file.display().to_string()
        ));
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("guests.rs");
    std::fs::write(out, consts).expect("write guests.rs");
}

fn build(cargo: &str, manifest: &Path, target_dir: &Path, pkg: &str) {
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(manifest)
        .args(["-p", pkg])
        .env("CARGO_TARGET_DIR", target_dir);
    // Nothing of the outer build (flags, clippy as a wrapper) applies to guests.
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
    let out = cmd.output().expect("run cargo for the guest fixtures");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let hint = if err.contains("wasm32-wasip2") && err.contains("target may not be installed") {
            "\nThe wasm32-wasip2 target is missing: run `rustup target add wasm32-wasip2` (cargo xtask test does this).\n"
        } else {
            ""
        };
        panic!("building guest fixture `{pkg}` failed:{hint}\n{err}");
    }
}

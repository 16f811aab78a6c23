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

/// Sets up a local marketplace in `dir` (keys in `keys`) with the first-party
/// plugins published under a local `org.lectern` publisher key, through the
/// same `lectern` CLI (`bin`) a third-party publisher and an operator use:
/// `marketplace init`, `publisher keygen`, `marketplace add-publisher`, then
/// `plugin pack`, `plugin sign` and `marketplace add` for each component in
/// `components` not yet published, and a fresh timestamp (`marketplace
/// refresh`: a timestamp is valid for a day). Returns the environment that
/// makes `lectern serve` pin the marketplace's root of trust and install the
/// plugins from it. Used by `cargo xtask run` and the browser tests.
pub fn local_marketplace(
    bin: &Path,
    repo: &Path,
    components: &Path,
    dir: &Path,
    keys: &Path,
) -> Result<Vec<(String, String)>, String> {
    use std::ffi::OsStr;
    let lectern = |args: &[&OsStr]| {
        let shown =
            format!("{} {}", bin.display(), args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "));
        let out = Command::new(bin).args(args).output().map_err(|e| format!("cannot run {shown}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{shown} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let s = OsStr::new;
    let publisher = keys.join("org.lectern");
    let (private, public) = (keys.join("org.lectern.pem"), keys.join("org.lectern.pub.json"));
    if !dir.join("metadata").join("root.json").exists() {
        lectern(&[s("marketplace"), s("init"), dir.as_os_str(), s("--keys"), keys.as_os_str()])?;
    }
    if !private.exists() {
        lectern(&[s("publisher"), s("keygen"), s("--out"), publisher.as_os_str()])?;
        let (d, k) = (dir.as_os_str(), keys.as_os_str());
        lectern(&[
            s("marketplace"),
            s("add-publisher"),
            d,
            s("--keys"),
            k,
            s("--id"),
            s("org.lectern"),
            s("--key"),
            public.as_os_str(),
        ])?;
    }
    let staging = keys.join("staging");
    std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    let mut ids = vec![];
    for (pkg, folder) in FIRST_PARTY {
        let path = repo.join("plugins").join(folder).join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let manifest: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let field = |name: &str| {
            manifest[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{} has no string `{name}`", path.display()))
        };
        let (id, version) = (field("id")?, field("version")?);
        ids.push(serde_json::to_string(&id).map_err(|e| e.to_string())?);
        let file = format!("{id}-{version}.lpkg");
        if dir.join("packages").join(&id).join(&version).join(&file).exists() {
            continue;
        }
        let component = components.join(component_file(pkg));
        let package = staging.join(&file);
        let plugin_dir = repo.join("plugins").join(folder);
        let (p, c) = (package.as_os_str(), component.as_os_str());
        lectern(&[s("plugin"), s("pack"), s("--dir"), plugin_dir.as_os_str(), s("--component"), c, s("--out"), p])?;
        lectern(&[s("plugin"), s("sign"), p, s("--key"), private.as_os_str()])?;
        lectern(&[
            s("marketplace"),
            s("add"),
            dir.as_os_str(),
            p,
            s("--key"),
            private.as_os_str(),
            s("--keys"),
            keys.as_os_str(),
        ])?;
    }
    lectern(&[s("marketplace"), s("refresh"), dir.as_os_str(), s("--keys"), keys.as_os_str()])?;
    Ok(vec![
        ("LECTERN_PLUGINS__FIRST_PARTY".into(), "false".into()),
        ("LECTERN_MARKETPLACE__URL".into(), format!("file://{}", dir.display())),
        ("LECTERN_MARKETPLACE__ROOT".into(), dir.join("metadata").join("1.root.json").display().to_string()),
        ("LECTERN_MARKETPLACE__INSTALL".into(), format!("[{}]", ids.join(","))),
    ])
}

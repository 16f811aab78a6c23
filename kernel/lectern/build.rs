//! Builds the first-party plugins (plugins/*) for wasm32-wasip2 and embeds
//! them, with their manifests, in the binary (`first_party.rs` in OUT_DIR):
//! one binary carries everything `lectern serve` installs on a fresh data
//! directory.

use lectern_guest_build::FIRST_PARTY;

fn main() {
    let root = lectern_guest_build::repo_root(2);
    let dirs: Vec<String> = FIRST_PARTY.iter().map(|(_, d)| format!("plugins/{d}")).collect();
    let extra: Vec<&str> = dirs.iter().map(String::as_str).collect();
    lectern_guest_build::rerun_if_guests_change(&root, &extra);
    let mut out = String::from(
        "/// First-party plugins: (manifest JSON, component bytes).\npub const FIRST_PARTY: &[(&str, &[u8])] = &[\n",
    );
    for (pkg, dir) in FIRST_PARTY {
        let wasm = lectern_guest_build::build(&root, pkg);
        let manifest = root.join("plugins").join(dir).join("manifest.json");
        out.push_str(&format!(
            "    (include_str!({:?}), include_bytes!({:?})),\n",
            manifest.display().to_string(),
            wasm.display().to_string()
        ));
    }
    out.push_str("];\n");
    commit(&root);
    let dest = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("first_party.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// `LECTERN_COMMIT` for `/api/v1/admin/about`: the checkout's commit, when
/// built from a git checkout with git at hand (a source tarball has none).
fn commit(root: &std::path::Path) {
    let git = root.join(".git");
    for f in ["HEAD", "packed-refs"] {
        println!("cargo:rerun-if-changed={}", git.join(f).display());
    }
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        println!("cargo:rerun-if-changed={}", git.join(r).display());
    }
    let out = std::process::Command::new("git").arg("-C").arg(root).args(["rev-parse", "--short=12", "HEAD"]).output();
    if let Ok(o) = out
        && o.status.success()
    {
        // The commit only: uncommitted changes are not tracked (the script reruns when HEAD moves).
        println!("cargo:rustc-env=LECTERN_COMMIT={}", String::from_utf8_lossy(&o.stdout).trim());
    }
}

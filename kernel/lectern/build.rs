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
    let dest = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("first_party.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

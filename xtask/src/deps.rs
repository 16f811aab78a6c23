//! `cargo xtask lint`: the crate dependency rules of ARCHITECTURE.md, checked
//! against `cargo metadata` (declared normal dependencies of the workspace's
//! crates; dev- and build-dependencies are free, since tests start real
//! outside systems of their own).
//!
//! Two rules:
//! 1. **One owner per outside system**: only the owning crate may depend on it
//!    (sled only in lectern-storage, wasmtime only in lectern-host, ...).
//! 2. **Layering**: each kernel crate may depend only on the lectern crates
//!    listed for it; a new workspace crate without a row fails until it gets one.
//!
//! Known debts (edges the rules forbid that are still to be removed) are listed apart,
//! each with the reason; a debt that no longer exists fails too, so the list
//! only shrinks.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, bail};

/// Outside system (crate) → the one workspace crate that may use it.
const OWNERS: &[(&str, &str)] = &[
    ("sled", "lectern-storage"),
    ("wasmtime", "lectern-host"),
    ("wasmtime-wasi", "lectern-host"),
    ("lettre", "lectern-notify"),
    ("candle-core", "lectern-embed"),
    ("candle-nn", "lectern-embed"),
    ("candle-transformers", "lectern-embed"),
    ("tokenizers", "lectern-embed"),
    ("hnsw_rs", "lectern-vector"),
    ("pulsar", "lectern-bus"),
    ("axum", "lectern-api"),
    ("tower-http", "lectern-api"),
    ("utoipa", "lectern-api"),
    ("reqwest", "lectern-http"),
];

/// Workspace crate → the lectern crates it may depend on.
const LAYERS: &[(&str, &[&str])] = &[
    ("lectern-storage", &[]),
    ("lectern-auth", &[]),
    ("lectern-credentials", &[]),
    ("lectern-manifest", &[]),
    ("lectern-marketplace", &["lectern-manifest"]),
    ("lectern-guest-build", &[]),
    ("lectern-http", &[]),
    ("lectern-notify", &["lectern-http"]),
    ("lectern-bus", &["lectern-storage"]),
    ("lectern-vector", &["lectern-storage"]),
    ("lectern-embed", &["lectern-storage", "lectern-http"]),
    ("lectern-host", &["lectern-storage", "lectern-bus", "lectern-vector", "lectern-embed", "lectern-manifest"]),
    // The shared vocabulary: no context crate.
    ("lectern-domain", &["lectern-auth", "lectern-bus", "lectern-host", "lectern-storage"]),
    // The bounded contexts, each above the ones it reads.
    ("lectern-identity", &["lectern-auth", "lectern-domain", "lectern-storage"]),
    (
        "lectern-assessment",
        &[
            "lectern-auth",
            "lectern-credentials",
            "lectern-domain",
            "lectern-host",
            "lectern-identity",
            "lectern-storage",
        ],
    ),
    (
        "lectern-content",
        &["lectern-assessment", "lectern-domain", "lectern-host", "lectern-identity", "lectern-storage"],
    ),
    (
        "lectern-tutor",
        &[
            "lectern-assessment",
            "lectern-bus",
            "lectern-content",
            "lectern-domain",
            "lectern-embed",
            "lectern-host",
            "lectern-identity",
            "lectern-storage",
            "lectern-vector",
        ],
    ),
    (
        "lectern-notifications",
        &[
            "lectern-assessment",
            "lectern-auth",
            "lectern-bus",
            "lectern-domain",
            "lectern-identity",
            "lectern-notify",
            "lectern-storage",
        ],
    ),
    (
        "lectern-plugin-admin",
        &[
            "lectern-domain",
            "lectern-host",
            "lectern-http",
            "lectern-identity",
            "lectern-marketplace",
            "lectern-storage",
        ],
    ),
    // The facade: opens the contexts and runs the workers. Not the vector
    // index, the embedder, the marketplace crate or an HTTP client.
    (
        "lectern-core",
        &[
            "lectern-assessment",
            "lectern-bus",
            "lectern-content",
            "lectern-domain",
            "lectern-host",
            "lectern-identity",
            "lectern-notifications",
            "lectern-plugin-admin",
            "lectern-storage",
            "lectern-tutor",
        ],
    ),
    ("lectern-api", &["lectern-auth", "lectern-core", "lectern-host"]),
    // The binary; lectern-http for `lectern admin backup`, a client of the running server.
    ("lectern", &["lectern-api", "lectern-core", "lectern-http", "lectern-marketplace"]),
];

/// Test and tooling crates: they drive the real systems, so no rule applies.
const EXEMPT: &[&str] = &["lectern-e2e", "xtask"];

/// (crate, dependency, why it is still there): edges the rules forbid that
/// are still to be removed. Each is a reason to change, not a permission.
const DEBTS: &[(&str, &str, &str)] = &[];

/// One violation, as a line for the report.
fn check(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    check_with(deps, DEBTS)
}

fn check_with(deps: &BTreeMap<String, Vec<String>>, debts: &[(&str, &str, &str)]) -> Vec<String> {
    let mut bad = vec![];
    let debt = |krate: &str, dep: &str| debts.iter().any(|(c, d, _)| *c == krate && *d == dep);
    let mut used_debts = vec![];
    for (krate, list) in deps {
        if EXEMPT.contains(&krate.as_str()) {
            continue;
        }
        let Some((_, allowed)) = LAYERS.iter().find(|(c, _)| c == krate) else {
            bad.push(format!(
                "{krate}: a workspace crate with no layering rule (add it to LAYERS in xtask/src/deps.rs)"
            ));
            continue;
        };
        for dep in list {
            let problem = if let Some((_, owner)) = OWNERS.iter().find(|(sys, _)| sys == dep) {
                (owner != krate).then(|| format!("{krate} depends on `{dep}`, which only {owner} may use"))
            } else if dep.starts_with("lectern") && !allowed.contains(&dep.as_str()) {
                Some(format!("{krate} depends on {dep}, which its layer does not allow (allowed: {allowed:?})"))
            } else {
                None
            };
            match problem {
                Some(_) if debt(krate, dep) => used_debts.push((krate.clone(), dep.clone())),
                Some(p) => bad.push(p),
                None if debt(krate, dep) => {
                    bad.push(format!("{krate} → {dep} is listed as a debt but is allowed: drop it from DEBTS"))
                }
                None => {}
            }
        }
    }
    for (krate, dep, why) in debts {
        if !used_debts.iter().any(|(c, d)| c == krate && d == dep) {
            bad.push(format!("the debt {krate} → {dep} ({why}) is paid: remove it from DEBTS in xtask/src/deps.rs"));
        }
    }
    bad
}

/// Each workspace crate's declared normal dependencies, from `cargo metadata`.
fn workspace_deps() -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata printed no JSON")?;
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().context("cargo metadata has no packages")? {
        let name = p["name"].as_str().context("a package without a name")?.to_owned();
        let normal = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect();
        deps.insert(name, normal);
    }
    Ok(deps)
}

pub fn lint() -> anyhow::Result<()> {
    let bad = check(&workspace_deps()?);
    if bad.is_empty() {
        println!("crate dependency rules: ok ({} known debts, see xtask/src/deps.rs)", DEBTS.len());
        return Ok(());
    }
    for b in &bad {
        eprintln!("dependency rule broken: {b}");
    }
    bail!("{} crate dependency rule(s) broken (ARCHITECTURE.md, Architecture invariants)", bad.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        let mut g: BTreeMap<String, Vec<String>> = LAYERS.iter().map(|(c, _)| ((*c).to_owned(), vec![])).collect();
        for (c, ds) in DEBTS.iter().map(|(c, d, _)| (*c, *d)).collect::<Vec<_>>() {
            g.entry(c.to_owned()).or_default().push(ds.to_owned());
        }
        for (c, ds) in edges {
            g.entry((*c).to_owned()).or_default().extend(ds.iter().map(|d| (*d).to_owned()));
        }
        g
    }

    #[test]
    fn the_rules_as_written_hold_for_the_allowed_graph() {
        assert_eq!(check(&graph(&[])), Vec::<String>::new());
    }

    #[test]
    fn a_second_owner_of_an_outside_system_fails() {
        let bad = check(&graph(&[("lectern-core", &["sled"])]));
        assert_eq!(bad, ["lectern-core depends on `sled`, which only lectern-storage may use"]);
    }

    #[test]
    fn a_layer_violation_and_an_unruled_crate_fail() {
        let bad = check(&graph(&[("lectern-storage", &["lectern-core"]), ("lectern-new", &[])]));
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad[0].contains("no layering rule"), "{bad:?}");
        assert!(bad[1].starts_with("lectern-storage depends on lectern-core"), "{bad:?}");
    }

    #[test]
    fn a_paid_debt_must_be_removed_from_the_list() {
        let debts = [("lectern-embed", "reqwest", "an example debt")];
        let bad = check_with(&graph(&[]), &debts);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].contains("is paid"), "{bad:?}");
    }

    #[test]
    fn a_listed_debt_excuses_its_edge_only() {
        let debts = [("lectern-embed", "reqwest", "an example debt")];
        let g = graph(&[("lectern-embed", &["reqwest"]), ("lectern-vector", &["reqwest"])]);
        assert_eq!(check_with(&g, &debts), ["lectern-vector depends on `reqwest`, which only lectern-http may use"]);
    }
}

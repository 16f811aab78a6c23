//! `lectern plugin …`, `lectern publisher …` and `lectern marketplace …`:
//! the publisher's workflow (new → build → pack → sign → publish) and the
//! marketplace operator's tools (init, publishers, yank, revoke, serve).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use lectern_marketplace::keys::{KeyPair, PublicKey};
use lectern_marketplace::package::{self, Limits, Package, PackageManifest};
use lectern_marketplace::tuf::{OnlineKeys, RepoKeys, Repository, TrustedState};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Start a plugin project for a slot (grading, content, proctoring, tutoring), an
    /// observer (an integration reacting to kernel events), a question type (a new kind
    /// of question for assessments) or an activity (a new kind of course item). Rust
    /// projects of the four slots target lectern:plugin@0.1, the other three and every
    /// Python and JavaScript project lectern:plugin@0.2.
    New {
        slot: String,
        /// Reverse-DNS id, e.g. `edu.example.quiz-grader`; its first two parts are the publisher namespace.
        #[arg(long)]
        id: String,
        /// Directory to create (default: the last part of the id).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Human name shown to administrators.
        #[arg(long)]
        name: Option<String>,
        /// The language: rust, python or js (every world in each).
        #[arg(long, value_enum, default_value = "rust")]
        lang: crate::polyglot::Lang,
        /// The Lectern SDK for the language (`sdk/lectern-sdk`, `sdk/python` or `sdk/js` of a Lectern source tree).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build the project's WebAssembly component (release, wasm32-wasip2).
    Build {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Make an (unsigned) package from the component and the project's lectern.toml (else manifest.json and Cargo.toml).
    Pack {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The component (default: build it with `plugin build`).
        #[arg(long)]
        component: Option<PathBuf>,
        /// Output file or directory (default: the project directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Publisher namespace (default: `package.metadata.lectern.publisher`, else the id's first two parts).
        #[arg(long)]
        publisher: Option<String>,
        /// Source repository URL (default: `package.repository`).
        #[arg(long)]
        repository: Option<String>,
        /// Commit the component was built from (default: `git rev-parse HEAD`, else `unknown`).
        #[arg(long)]
        commit: Option<String>,
    },
    /// Run the project's test cases (`tests/*.toml`, `tests/*.json`) against its
    /// component in the real plugin host, on a temporary store; builds first. A case
    /// names a call of its world: grade; types, instantiate, validate, grade (question
    /// type); kinds, render, act (activity); open-session, ingest, close-session
    /// (proctoring); render-markdown, item-visibility (content); index-document,
    /// remove-document, ask (tutoring, on a vector index with the built-in lexical
    /// embedder); event (every world: a delivery to lifecycle.on-event).
    Test {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The component (default: build it as `plugin pack` does).
        #[arg(long)]
        component: Option<PathBuf>,
        /// Case files (default: every .toml and .json file under tests/).
        #[arg(long = "cases")]
        cases: Vec<PathBuf>,
        /// Run only the cases whose name contains this text.
        filter: Option<String>,
    },
    /// Sign a package with the publisher's key (replaces any signature).
    Sign {
        package: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Show a package: manifest, real imports and exports, capabilities, signature status.
    Inspect {
        package: PathBuf,
        /// Check the signature against this public key file.
        #[arg(long)]
        publisher_key: Option<PathBuf>,
        /// Check the signature against the key the marketplace delegates the namespace to.
        #[arg(long, requires = "root")]
        marketplace: Option<String>,
        /// The marketplace's root of trust (root.json) for `--marketplace`.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum PublisherCommand {
    /// Make a publisher key pair: `<out>.pem` (private, mode 0600) and `<out>.pub.json`.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum MarketplaceCommand {
    /// Create a marketplace directory and its keys.
    Init {
        /// The directory to serve (metadata/ and packages/).
        dir: PathBuf,
        /// Where the keys go; keep it outside `dir`, and the root keys offline.
        #[arg(long)]
        keys: PathBuf,
        #[arg(long, default_value_t = 1)]
        root_keys: usize,
        /// Root keys needed to sign a new root.
        #[arg(long, default_value_t = 1)]
        threshold: u32,
    },
    /// Delegate a namespace (`edu.example`) to a publisher's key.
    AddPublisher {
        dir: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// The publisher id: the namespace its plugins' ids start with.
        #[arg(long)]
        id: String,
        /// The publisher's public key file (`publisher keygen` writes it).
        #[arg(long)]
        key: PathBuf,
    },
    /// Publish a signed package (run by the publisher, with their key).
    Add {
        dir: PathBuf,
        package: PathBuf,
        /// The publisher's private key (signs the publisher's index role).
        #[arg(long)]
        key: PathBuf,
        /// The marketplace's online keys (snapshot.pem, timestamp.pem).
        #[arg(long)]
        keys: PathBuf,
    },
    /// Yank a version: kept for running installs, refused for new ones.
    Yank {
        dir: PathBuf,
        /// `id@version`.
        plugin: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        keys: PathBuf,
    },
    /// Revoke a publisher or a package version: kernels stop it at their next refresh.
    Revoke {
        dir: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long, conflicts_with = "package", required_unless_present = "package")]
        publisher: Option<String>,
        /// `id@version`.
        #[arg(long)]
        package: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// Re-sign the snapshot and timestamp (run it daily: a timestamp lives one day).
    Refresh {
        dir: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// Also re-sign the top-level targets metadata (valid one year) with targets.pem.
        #[arg(long)]
        targets: bool,
    },
    /// Re-sign a publisher's role (valid one year) with the publisher's key.
    ResignPublisher {
        dir: PathBuf,
        /// The publisher id (namespace).
        #[arg(long)]
        publisher: String,
        /// The publisher's private key.
        #[arg(long)]
        key: PathBuf,
        /// The marketplace's online keys.
        #[arg(long)]
        keys: PathBuf,
    },
    /// Sign a new root version (valid one year) with the root keys in `--root-keys`
    /// (root-1.pem …); with `--new-root-keys`, rotate to those keys (signed by old and new).
    ResignRoot {
        dir: PathBuf,
        #[arg(long)]
        root_keys: PathBuf,
        #[arg(long)]
        new_root_keys: Option<PathBuf>,
        /// Root keys needed to sign the next root (default: the current threshold).
        #[arg(long)]
        threshold: Option<u32>,
    },
    /// Serve the marketplace directory over HTTP (any static server works too).
    Serve {
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
    },
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_owned());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn read_package(path: &Path) -> anyhow::Result<(Package, Vec<u8>)> {
    let bytes = read(path)?;
    let pkg = Package::read(&bytes, &Limits::default())
        .with_context(|| format!("{} is not a usable package", path.display()))?;
    Ok((pkg, bytes))
}

pub fn plugin(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::New { slot, id, dir, name, lang, sdk } => new_project(&slot, &id, dir, name, lang, sdk),
        PluginCommand::Build { dir } => build(&dir).map(|wasm| println!("built {}", wasm.display())),
        PluginCommand::Pack { dir, component, out, publisher, repository, commit } => {
            pack(&dir, component, out, publisher, repository, commit).map(|_| ())
        }
        PluginCommand::Test { dir, component, cases, filter } => {
            crate::plugin_test::run(&dir, component, cases, filter)
        }
        PluginCommand::Sign { package, key } => {
            let key = KeyPair::read(&key)?;
            let (mut pkg, _) = read_package(&package)?;
            pkg.sign(&key)?;
            let bytes = pkg.pack()?;
            write_atomic(&package, &bytes)?;
            println!("signed {} with key {}", pkg.manifest.key(), key.public().key_id());
            println!("sha256 {}", package::sha256_hex(&bytes));
            Ok(())
        }
        PluginCommand::Inspect { package, publisher_key, marketplace, root } => {
            inspect(&package, publisher_key, marketplace, root)
        }
    }
}

pub fn publisher(cmd: PublisherCommand) -> anyhow::Result<()> {
    match cmd {
        PublisherCommand::Keygen { out } => {
            let key = KeyPair::generate()?;
            // Appended, not replaced: `--out edu.example` gives edu.example.pem.
            let private = PathBuf::from(format!("{}.pem", out.display()));
            let public = PathBuf::from(format!("{}.pub.json", out.display()));
            if public.exists() {
                bail!("{} exists already; not overwriting a key", public.display());
            }
            key.write(&private)?;
            std::fs::write(&public, serde_json::to_vec_pretty(&key.public())?)
                .with_context(|| format!("cannot write {}", public.display()))?;
            println!("private key: {} (keep it secret; it signs your packages)", private.display());
            println!("public key:  {} (give it to the marketplace operator)", public.display());
            println!("key id:      {}", key.public().key_id());
            Ok(())
        }
    }
}

const TEMPLATE_LOCK: &str = include_str!("../../../plugins/Cargo.lock");

/// (template source, the SDK feature it uses, manifest capabilities, extra
/// dependencies) of a slot. The grading template speaks
/// `lectern:plugin@0.2.0`; the content, proctoring and tutoring ones are
/// still the 0.1 fixtures (they run on every kernel that serves 0.1).
fn template(slot: &str) -> anyhow::Result<(&'static str, &'static str, &'static str, &'static str)> {
    Ok(match slot {
        "grading" => {
            (include_str!("../../../sdk/template/src/lib.rs"), "v0_2-grading", r#"{ "kv_quota_bytes": 1048576 }"#, "")
        }
        "content" => (include_str!("../../../tests/fixtures/content-basic/src/lib.rs"), "content", "{}", ""),
        "proctoring" => (
            include_str!("../../../tests/fixtures/proctoring-basic/src/lib.rs"),
            "proctoring",
            r#"{ "kv_quota_bytes": 1048576, "clock": true, "publish": ["proctoring.flagged"] }"#,
            "serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n",
        ),
        "tutoring" => (
            include_str!("../../../tests/fixtures/tutoring-basic/src/lib.rs"),
            "tutoring",
            r#"{ "kv_quota_bytes": 4194304 }"#,
            "serde = { version = \"1\", features = [\"derive\"] }\n",
        ),
        other => bail!(
            "unknown slot `{other}`: use grading, content, proctoring, tutoring, observer, question-type or activity"
        ),
    })
}

/// Replaces the `id`, `name` and `version` of the template's `simple_lifecycle!`.
fn personalise(source: &str, id: &str, name: &str, slot: &str) -> String {
    let header = format!(
        "//! {name}: a Lectern {slot} plugin, started from the SDK's template.\n//! Build it with `lectern plugin build`, package it with `lectern plugin pack`.\n"
    );
    header
        + &source
            .lines()
            .skip_while(|l| l.starts_with("//!"))
            .map(|l| {
                let t = l.trim_start();
                let indent = &l[..l.len() - t.len()];
                if t.starts_with("id = \"") {
                    format!("{indent}id = \"{id}\",")
                } else if t.starts_with("name = \"") {
                    format!("{indent}name = \"{name}\",")
                } else if t.starts_with("version = \"") {
                    format!("{indent}version = \"0.1.0\",")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
        + "\n"
}

fn default_sdk() -> Option<PathBuf> {
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/lectern-sdk");
    compiled_in.join("Cargo.toml").exists().then(|| compiled_in.canonicalize().unwrap_or(compiled_in))
}

fn new_project(
    slot: &str,
    id: &str,
    dir: Option<PathBuf>,
    name: Option<String>,
    lang: crate::polyglot::Lang,
    sdk: Option<PathBuf>,
) -> anyhow::Result<()> {
    if !package::is_reverse_dns(id) || id.split('.').count() < 3 {
        bail!(
            "id `{id}` must be reverse-DNS with at least three parts (publisher namespace + name), e.g. edu.example.quiz-grader"
        );
    }
    if lang != crate::polyglot::Lang::Rust {
        // Refuse an unknown world before making the directory.
        let known = crate::polyglot::worlds();
        if !known.contains(&slot.replace('-', "_").as_str()) {
            bail!("unknown world `{slot}`: use {}", crate::polyglot::world_list());
        }
        let dir = empty_project_dir(id, dir)?;
        let last = id.rsplit('.').next().unwrap_or(id);
        let name = name.unwrap_or_else(|| format!("{last} ({})", slot.replace(['_', '-'], " ")));
        return crate::polyglot::new_project(lang, slot, id, &dir, &name, sdk, &kernel_range());
    }
    match slot.replace('-', "_").as_str() {
        "observer" => return new_from_example(&OBSERVER, id, dir, name),
        "question_type" => return new_from_example(&QUESTION_TYPE, id, dir, name),
        "activity" => return new_from_example(&ACTIVITY, id, dir, name),
        _ => {}
    }
    let (source, feature, caps, extra_deps) = template(slot)?;
    let sdk = match sdk.or_else(default_sdk) {
        Some(s) => s.canonicalize().with_context(|| format!("the SDK at {} is not there", s.display()))?,
        None => bail!("pass --sdk <path to sdk/lectern-sdk of a Lectern source tree>"),
    };
    let dir = empty_project_dir(id, dir)?;
    let last = id.rsplit('.').next().unwrap_or(id);
    let name = name.unwrap_or_else(|| format!("{last} ({slot})"));
    let deps =
        format!("lectern-sdk = {{ path = {:?}, features = [\"{feature}\"] }}\n{extra_deps}", sdk.display().to_string());
    let resources = r#"{ "memory_mib": 64, "call_timeout_ms": 2000 }"#;
    write_project(&dir, id, &name, slot, &deps, caps, resources)?;
    std::fs::write(dir.join("src/lib.rs"), personalise(source, id, &name, slot))?;
    // The grading template's test cases, shared with its Python and JavaScript
    // versions (the other Rust templates are 0.1 plugins of their own).
    if let Some(cases) = crate::polyglot::cases(slot).filter(|_| slot == "grading") {
        std::fs::create_dir_all(dir.join("tests"))?;
        std::fs::write(dir.join("tests/cases.toml"), cases)?;
    }
    println!("created {} ({slot} plugin {id})", dir.display());
    println!(
        "next: cd {} && lectern plugin build && lectern plugin pack && lectern plugin sign <package> --key <your key.pem>",
        dir.display()
    );
    Ok(())
}

/// The Lectern source tree's `wit/lectern-plugin@0.2.0` (observers are
/// written against it with wit-bindgen, needing nothing but the WIT).
fn default_wit_0_2() -> Option<PathBuf> {
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/lectern-plugin@0.2.0");
    compiled_in.join("worlds.wit").exists().then(|| compiled_in.canonicalize().unwrap_or(compiled_in))
}

/// A world of `lectern:plugin@0.2.0` whose `plugin new` template is one of
/// the examples in `plugins/examples`, renamed, built with wit-bindgen
/// against this source tree's 0.2 contract (templates needing nothing but the WIT).
struct Example {
    slot: &'static str,
    /// (file under `src/`, contents); `lib.rs` first.
    files: &'static [(&'static str, &'static str)],
    id: &'static str,
    name: &'static str,
    capabilities: &'static str,
    resources: &'static str,
    next: &'static str,
}

const OBSERVER: Example = Example {
    slot: "observer",
    files: &[("lib.rs", include_str!("../../../plugins/examples/grade-webhook/src/lib.rs"))],
    id: "org.example.grade-webhook",
    name: "Grade webhook (example observer)",
    capabilities: r#"{ "kv_quota_bytes": 65536, "subscribe": ["grade.recorded"], "outbound_hosts": ["*"] }"#,
    resources: r#"{ "memory_mib": 32, "call_timeout_ms": 5000 }"#,
    next: "install it with a grant naming the hosts it may reach",
};

const QUESTION_TYPE: Example = Example {
    slot: "question_type",
    files: &[
        ("lib.rs", include_str!("../../../plugins/examples/formula-question/src/lib.rs")),
        ("expr.rs", include_str!("../../../plugins/examples/formula-question/src/expr.rs")),
    ],
    id: "org.example.formula",
    name: "Formula question (example question type)",
    capabilities: "{}",
    resources: r#"{ "memory_mib": 32, "call_timeout_ms": 2000 }"#,
    next: "install and activate it (slot question_type); authors then find its types at GET /api/v1/institutions/{institution}/question-types",
};

const ACTIVITY: Example = Example {
    slot: "activity",
    files: &[("lib.rs", include_str!("../../../plugins/examples/flashcards/src/lib.rs"))],
    id: "org.example.flashcards",
    name: "Flashcards (example activity)",
    capabilities: "{}",
    resources: r#"{ "memory_mib": 32, "call_timeout_ms": 2000 }"#,
    next: "install and activate it (slot activity); its kinds are then offered to the institution's instructors",
};

fn new_from_example(ex: &Example, id: &str, dir: Option<PathBuf>, name: Option<String>) -> anyhow::Result<()> {
    let Some(wit) = default_wit_0_2() else {
        bail!(
            "the {} template needs wit/lectern-plugin@0.2.0 from the Lectern source tree this binary was built from",
            ex.slot
        );
    };
    let dir = empty_project_dir(id, dir)?;
    let last = id.rsplit('.').next().unwrap_or(id);
    let world = ex.slot.replace('_', " ");
    let name = name.unwrap_or_else(|| format!("{last} ({world})"));
    let deps = "wit-bindgen = \"0.61.1\"\nserde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n";
    write_project(&dir, id, &name, ex.slot, deps, ex.capabilities, ex.resources)?;
    for (file, text) in ex.files {
        let source = text
            .replace("path: \"../../../wit/lectern-plugin@0.2.0\"", &format!("path: {:?}", wit.display().to_string()))
            .replace(ex.id, id)
            .replace(ex.name, &name)
            .replace("version: \"1.0.0\".into()", "version: \"0.1.0\".into()");
        std::fs::write(dir.join("src").join(file), source)?;
    }
    println!("created {} ({world} plugin {id}, lectern:plugin@0.2.0)", dir.display());
    println!("next: cd {} && lectern plugin build && lectern plugin pack; {}", dir.display(), ex.next);
    Ok(())
}

/// The directory of a new project (default: the id's last part), which must not exist or be empty.
fn empty_project_dir(id: &str, dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(id.rsplit('.').next().unwrap_or(id)));
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} exists and is not empty", dir.display());
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A new project's Cargo.toml (its own workspace, the release profile plugins use, the
/// package metadata `lectern plugin pack` reads), Cargo.lock, manifest.json and .gitignore.
fn write_project(
    dir: &Path,
    id: &str,
    name: &str,
    slot: &str,
    dependencies: &str,
    capabilities: &str,
    resources: &str,
) -> anyhow::Result<()> {
    let world = slot.replace('_', " ");
    let publisher = id.split('.').take(2).collect::<Vec<_>>().join(".");
    let crate_name = id.replace('.', "-");
    // Kernel versions, not contract versions: this kernel series serves lectern:plugin@0.1 and 0.2.
    let kernel = kernel_range();
    std::fs::create_dir_all(dir.join("src"))?;
    let cargo = format!(
        r#"[package]
name = "{crate_name}"
version = "0.1.0"
edition = "2024"
license = "Apache-2.0"
description = "{name}: a Lectern {world} plugin."
publish = false

# What `lectern plugin pack` puts in the package manifest besides manifest.json.
[package.metadata.lectern]
name = "{name}"
publisher = "{publisher}"
kernel = "{kernel}"

[lib]
crate-type = ["cdylib"]

[dependencies]
{dependencies}
# A project of its own, not part of an enclosing workspace.
[workspace]

[profile.release]
opt-level = 3
debug = false
strip = true
panic = "abort"
codegen-units = 4
"#
    );
    let manifest = format!(
        "{{\n  \"id\": \"{id}\",\n  \"version\": \"0.1.0\",\n  \"slot\": \"{slot}\",\n  \"data_version\": 1,\n  \"capabilities\": {capabilities},\n  \"resources\": {resources}\n}}\n"
    );
    std::fs::write(dir.join("Cargo.toml"), cargo)?;
    std::fs::write(dir.join("Cargo.lock"), TEMPLATE_LOCK)?;
    std::fs::write(dir.join("manifest.json"), manifest)?;
    std::fs::write(dir.join(".gitignore"), "/target\n*.lpkg\n")?;
    Ok(())
}

/// The kernel range a new package declares: this kernel's minor series.
fn kernel_range() -> String {
    let v = semver::Version::parse(lectern_core::marketplace::KERNEL_VERSION).unwrap_or(semver::Version::new(0, 1, 0));
    if v.major == 0 {
        format!(">={}.{}, <{}.{}", v.major, v.minor, v.major, v.minor + 1)
    } else {
        format!(">={}.0, <{}.0", v.major, v.major + 1)
    }
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "wasm32-wasip2") => Ok(()),
        Ok(_) => {
            let status = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status()?;
            if !status.success() {
                bail!("`rustup target add wasm32-wasip2` failed");
            }
            Ok(())
        }
        // No rustup: let cargo say whether the target is there.
        Err(_) => Ok(()),
    }
}

/// Builds the component and returns its path: the project's own build
/// command when its `lectern.toml` names one (`[package] build`, then its
/// `component`), else cargo (the path read from cargo's artifact messages).
/// The build's progress and warnings go to the terminal as they come.
pub fn build(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.join(PROJECT_MANIFEST).exists() {
        let project = Project::read(dir)?;
        if let Some(cmd) = project.meta.get("build") {
            return build_with(dir, &project, cmd);
        }
    }
    ensure_wasm_target()?;
    let manifest = dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "{} has no Cargo.toml: a project in another language names its build command and component in [package] of {PROJECT_MANIFEST}",
            dir.display()
        );
    }
    eprintln!("building {} (cargo, release, wasm32-wasip2)", dir.display());
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env_remove("CARGO_BUILD_TARGET")
        // Progress ("Compiling …") and every warning, as cargo prints them; the
        // artifact messages (JSON) on stdout say where the component is.
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run cargo")?;
    if !out.status.success() {
        bail!("the build failed (cargo's messages are above)");
    }
    let mut wasm = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|x| x == "cdylib"));
        if let (true, Some(files)) = (is_cdylib, msg["filenames"].as_array()) {
            wasm = files.iter().filter_map(|f| f.as_str()).find(|f| f.ends_with(".wasm")).map(PathBuf::from).or(wasm);
        }
    }
    wasm.ok_or_else(|| anyhow::anyhow!("cargo built no .wasm (is `crate-type = [\"cdylib\"]` set?)"))
}

/// Runs a project's own build command (`[package] build`: a list, the
/// program then its arguments, run in the project directory without a
/// shell) and returns its `component`.
fn build_with(dir: &Path, project: &Project, cmd: &toml::Value) -> anyhow::Result<PathBuf> {
    let argv: Vec<String> = cmd
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .filter(|v: &Vec<String>| !v.is_empty() && v.len() == cmd.as_array().map_or(0, Vec::len))
        .ok_or_else(|| anyhow::anyhow!("`build` in [package] of {PROJECT_MANIFEST} must be a list of strings, e.g. [\"componentize-py\", \"…\"]"))?;
    let component = project.meta.get("component").and_then(|v| v.as_str()).map(|c| dir.join(c)).ok_or_else(|| {
        anyhow::anyhow!("set `component` in [package] of {PROJECT_MANIFEST}: the file the build makes")
    })?;
    let language = project.meta.get("language").and_then(|v| v.as_str()).unwrap_or("rust");
    let crate::polyglot::Toolchain { paths, vars } = crate::polyglot::prepare(dir, language)?;
    if let Some(parent) = component.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // The project's own tools (.venv/bin, node_modules/.bin) come first on PATH.
    let path = std::env::join_paths(
        paths
            .iter()
            .map(|p| p.clone().into_os_string())
            .chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths).map(PathBuf::into_os_string)),
    )?;
    let program =
        paths.iter().map(|p| p.join(&argv[0])).find(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(&argv[0]));
    eprintln!("building {}: {}", dir.display(), argv.join(" "));
    let status = Command::new(&program)
        .args(&argv[1..])
        .current_dir(dir)
        .env("PATH", path)
        .envs(vars)
        .status()
        .with_context(|| format!("cannot run `{}`", argv[0]))?;
    if !status.success() {
        bail!("the build command failed ({status}); its messages are above");
    }
    if !component.is_file() {
        bail!("the build did not make {} (the `component` of {PROJECT_MANIFEST})", component.display());
    }
    Ok(component)
}

fn git_commit(dir: &Path) -> String {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// What `plugin pack` reads of a project, whatever its language: `lectern.toml`
/// (the plugin's manifest, as in `manifest.json`, plus a `[package]` table),
/// else `manifest.json`; `Cargo.toml`, when there is one, fills what neither
/// says (description, license, repository) and must agree on the version.
struct Project {
    host: lectern_core::plugins::Manifest,
    /// `[package]` of lectern.toml, else `[package.metadata.lectern]` of Cargo.toml.
    meta: toml::Table,
    /// `[package]` of Cargo.toml (empty without one).
    cargo: toml::Table,
}

/// The file a project's manifest is in.
pub const PROJECT_MANIFEST: &str = "lectern.toml";

impl Project {
    fn read(dir: &Path) -> anyhow::Result<Project> {
        let cargo_path = dir.join("Cargo.toml");
        let cargo = if cargo_path.exists() {
            let v: toml::Table = toml::from_str(&String::from_utf8_lossy(&read(&cargo_path)?))
                .with_context(|| format!("{} is not TOML", cargo_path.display()))?;
            match v.get("package") {
                Some(toml::Value::Table(t)) => t.clone(),
                Some(_) => bail!("{}: `package` must be a table", cargo_path.display()),
                None => toml::Table::new(),
            }
        } else {
            toml::Table::new()
        };
        let toml_path = dir.join(PROJECT_MANIFEST);
        let (host, meta) = if toml_path.exists() {
            let mut v: toml::Table = toml::from_str(&String::from_utf8_lossy(&read(&toml_path)?))
                .with_context(|| format!("{} is not TOML", toml_path.display()))?;
            let meta = match v.remove("package") {
                Some(toml::Value::Table(t)) => t,
                Some(_) => bail!("{}: `package` must be a table", toml_path.display()),
                None => toml::Table::new(),
            };
            let json = serde_json::to_vec(&v)?;
            let host = lectern_core::plugins::Manifest::parse_json(&json).with_context(|| {
                format!(
                    "{} (the plugin's fields: id, version, slot, data_version, [capabilities], [resources])",
                    toml_path.display()
                )
            })?;
            (host, meta)
        } else {
            let json_path = dir.join("manifest.json");
            if !json_path.exists() {
                bail!(
                    "{} has no {PROJECT_MANIFEST} (or manifest.json): `lectern plugin new` writes one; see sdk/README.md",
                    dir.display()
                );
            }
            let host = lectern_core::plugins::Manifest::parse_json(&read(&json_path)?)
                .with_context(|| format!("{}", json_path.display()))?;
            let meta = cargo
                .get("metadata")
                .and_then(|m| m.get("lectern"))
                .and_then(|l| l.as_table())
                .cloned()
                .unwrap_or_default();
            (host, meta)
        };
        if let Some(v) = cargo.get("version").and_then(|v| v.as_str())
            && v != host.version
        {
            bail!("Cargo.toml says version {v} but the plugin's manifest says {}: make them agree", host.version);
        }
        Ok(Project { host, meta, cargo })
    }

    /// A text field: the project manifest's `[package]`, else Cargo's `[package]`.
    fn text(&self, key: &str) -> Option<String> {
        self.meta.get(key).or_else(|| self.cargo.get(key)).and_then(|v| v.as_str()).map(str::to_owned)
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.meta
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// The component to pack: `--component`; else built by the project's
    /// `[package] build` command; else `[package] component` of lectern.toml
    /// (relative to the project) as it is; else built with cargo.
    fn component(&self, dir: &Path, given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
        if let Some(c) = given {
            return Ok(c);
        }
        if let Some(cmd) = self.meta.get("build") {
            return build_with(dir, self, cmd);
        }
        if let Some(c) = self.meta.get("component").and_then(|v| v.as_str()) {
            return Ok(dir.join(c));
        }
        if dir.join("Cargo.toml").exists() {
            return build(dir);
        }
        bail!(
            "no component to pack: pass --component <file.wasm>, or set `component` in [package] of {PROJECT_MANIFEST} \
             (a Rust project is built with cargo instead)"
        )
    }
}

/// The plugin's manifest and its component (built as `plugin pack` would),
/// for `plugin test`.
pub(crate) fn manifest_and_component(
    dir: &Path,
    component: Option<PathBuf>,
) -> anyhow::Result<(lectern_core::plugins::Manifest, PathBuf)> {
    let project = Project::read(dir)?;
    let wasm = project.component(dir, component)?;
    Ok((project.host, wasm))
}

/// Packs a project; returns the package path.
pub fn pack(
    dir: &Path,
    component: Option<PathBuf>,
    out: Option<PathBuf>,
    publisher: Option<String>,
    repository: Option<String>,
    commit: Option<String>,
) -> anyhow::Result<PathBuf> {
    let project = Project::read(dir)?;
    let host = &project.host;
    let license = project.text("license").ok_or_else(|| {
        anyhow::anyhow!("set `license` (an SPDX expression, e.g. Apache-2.0) in [package] of {PROJECT_MANIFEST}")
    })?;
    let wasm = project.component(dir, component)?;
    let component = read(&wasm)?;
    let pb = spinner("packing");
    let wit = package::component_interfaces(&component).context("the component")?;
    let publisher = publisher
        .or_else(|| project.meta.get("publisher").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_else(|| host.id.split('.').take(2).collect::<Vec<_>>().join("."));
    let manifest = PackageManifest {
        format: package::FORMAT,
        id: host.id.clone(),
        version: host.version.clone(),
        publisher: package::Publisher { id: publisher, key_id: String::new() },
        name: project.meta.get("name").and_then(|v| v.as_str()).map(str::to_owned).unwrap_or_else(|| host.id.clone()),
        description: project.text("description").unwrap_or_default(),
        license,
        source: package::Source {
            repository: repository.or_else(|| project.text("repository")).unwrap_or_else(|| "unknown".into()),
            commit: commit.unwrap_or_else(|| git_commit(dir)),
        },
        slot: host.slot,
        component: package::FileRef { path: package::COMPONENT.into(), sha256: String::new(), size: 0 },
        assets: vec![],
        wit,
        capabilities: package::Capabilities::request(&host.capabilities, project.list("vector-collections")),
        resources: host.resources.clone(),
        kernel: project.meta.get("kernel").and_then(|v| v.as_str()).map(str::to_owned).unwrap_or_else(kernel_range),
        data_version: host.data_version,
    };
    let mut assets = BTreeMap::new();
    let assets_dir = dir.join("assets");
    if assets_dir.is_dir() {
        collect_assets(&assets_dir, "assets", &mut assets)?;
    }
    let pkg = Package::new(manifest, component, assets)?;
    let bytes = pkg.pack()?;
    pb.finish_and_clear();
    let out = match out {
        Some(o) if o.is_dir() => o.join(pkg.manifest.file_name()),
        Some(o) => o,
        None => dir.join(pkg.manifest.file_name()),
    };
    write_atomic(&out, &bytes)?;
    println!("packed {} ({} bytes, unsigned) -> {}", pkg.manifest.key(), bytes.len(), out.display());
    println!("imports: {}", pkg.manifest.wit.imports.join(", "));
    Ok(out)
}

fn collect_assets(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{prefix}/{name}");
        let ty = entry.file_type()?;
        if ty.is_symlink() {
            bail!("{}: links are not packed", entry.path().display());
        } else if ty.is_dir() {
            collect_assets(&entry.path(), &path, out)?;
        } else {
            out.insert(path, read(&entry.path())?);
        }
    }
    Ok(())
}

fn inspect(
    path: &Path,
    publisher_key: Option<PathBuf>,
    marketplace: Option<String>,
    root: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (pkg, bytes) = read_package(path)?;
    let m = &pkg.manifest;
    println!("{} — {}", m.key(), m.name);
    println!("  slot:        {}", m.slot);
    println!(
        "  publisher:   {} (key {})",
        m.publisher.id,
        if m.publisher.key_id.is_empty() { "none" } else { &m.publisher.key_id }
    );
    println!("  license:     {}", m.license);
    println!("  source:      {} @ {}", m.source.repository, m.source.commit);
    println!("  kernel:      {}", m.kernel);
    println!("  data:        version {}", m.data_version);
    println!("  package:     {} bytes, sha256 {}", bytes.len(), package::sha256_hex(&bytes));
    println!("  component:   {} bytes, sha256 {}", m.component.size, m.component.sha256);
    for a in &m.assets {
        println!("  asset:       {} ({} bytes)", a.path, a.size);
    }
    println!("  capabilities: {}", serde_json::to_string(&m.capabilities)?);
    let warm = match m.resources.reuse_calls {
        0 | 1 => "a fresh instance per call".to_owned(),
        n => format!("warm instances: up to {n} calls each, within one institution"),
    };
    println!("  resources:   {} MiB, {} ms per call, {warm}", m.resources.memory_mib, m.resources.call_timeout_ms);
    let real = package::component_interfaces(&pkg.component)?;
    println!("  imports (real):  {}", real.imports.join(", "));
    println!("  exports (real):  {}", real.exports.join(", "));
    let mut refused = false;
    match package::check_declared_imports(&real, &m.wit) {
        Ok(()) => println!("  imports match the manifest"),
        Err(e) => {
            refused = true;
            println!("  REFUSED: {e}");
        }
    }
    let status = match (&pkg.signature, publisher_key, marketplace) {
        (None, _, _) => "unsigned".to_owned(),
        (Some(s), Some(k), _) => {
            let key = PublicKey::read(&k)?;
            match pkg.verify_signature(std::slice::from_ref(&key)) {
                Ok(_) => format!("valid, by key {}", s.keyid),
                Err(e) => format!("REFUSED: {e}"),
            }
        }
        (Some(s), None, Some(url)) => {
            let root = read(&root.unwrap_or_default())?;
            let state = TrustedState::from_root(&root)?;
            let fetch = lectern_core::marketplace::Source::new(&url)?;
            let pb = spinner("verifying the marketplace index");
            let state = state.update(&fetch, now())?;
            pb.finish_and_clear();
            match state.publisher_keys(&m.publisher.id) {
                Err(e) => format!("REFUSED: {e}"),
                Ok(keys) => match pkg.verify_signature(&keys) {
                    Ok(_) => format!("valid, by key {} delegated to {} in the marketplace", s.keyid, m.publisher.id),
                    Err(e) => format!("REFUSED: {e}"),
                },
            }
        }
        (Some(s), None, None) => {
            format!("signed by key {} (not checked: pass --publisher-key or --marketplace)", s.keyid)
        }
    };
    println!("  signature:   {status}");
    if refused || status.starts_with("REFUSED") {
        bail!("the package would be refused");
    }
    Ok(())
}

/// Refuses a keys directory inside (or equal to) the served directory. Both
/// must exist, so the comparison is between resolved paths.
fn check_keys_outside(dir: &Path, keys: &Path) -> anyhow::Result<()> {
    let d = dir.canonicalize().with_context(|| format!("cannot resolve {}", dir.display()))?;
    let k = keys.canonicalize().with_context(|| format!("cannot resolve {}", keys.display()))?;
    if k.starts_with(&d) {
        bail!("keep the keys ({}) outside the served directory ({})", keys.display(), dir.display());
    }
    Ok(())
}

/// The operator's targets key and the online keys (the root keys may be offline).
fn operator_keys(keys: &Path) -> anyhow::Result<(KeyPair, OnlineKeys)> {
    Ok((KeyPair::read(&keys.join("targets.pem"))?, OnlineKeys::read(keys)?))
}

pub fn marketplace(cmd: MarketplaceCommand) -> anyhow::Result<()> {
    match cmd {
        MarketplaceCommand::Init { dir, keys, root_keys, threshold } => {
            std::fs::create_dir_all(&dir)?;
            if keys.join("targets.pem").exists() {
                bail!("{} already holds keys", keys.display());
            }
            let created = !keys.exists();
            std::fs::create_dir_all(&keys)?;
            if let Err(e) = check_keys_outside(&dir, &keys) {
                if created {
                    let _ = std::fs::remove_dir(&keys);
                }
                return Err(e);
            }
            let k = RepoKeys::generate_with(root_keys.max(1))?;
            let repo = Repository::init(&dir, &k, threshold, now())?;
            k.write(&keys)?;
            println!("marketplace created in {}", repo.dir().display());
            println!("keys in {} — move root-*.pem and targets.pem offline", keys.display());
            println!(
                "pin this root of trust in each kernel (`marketplace.root`): {}",
                repo.meta_path("1.root.json").display()
            );
            Ok(())
        }
        MarketplaceCommand::AddPublisher { dir, keys, id, key } => {
            let (targets, online) = operator_keys(&keys)?;
            let public = PublicKey::read(&key)?;
            Repository::open(&dir)?.add_publisher(&targets, &online, &id, std::slice::from_ref(&public), 1, now())?;
            println!("namespace {id} delegated to key {}", public.key_id());
            Ok(())
        }
        MarketplaceCommand::Add { dir, package: path, key, keys } => {
            let online = OnlineKeys::read(&keys)?;
            let key = KeyPair::read(&key)?;
            let (pkg, bytes) = read_package(&path)?;
            pkg.verify_signature(&[key.public()])
                .context("sign the package with this key first (`lectern plugin sign`)")?;
            let m = &pkg.manifest;
            let custom = m.listing();
            let pb = spinner("publishing");
            Repository::open(&dir)?.add_target(
                &online,
                &m.publisher.id,
                &[key],
                &m.target_path(),
                &bytes,
                Some(custom),
                now(),
            )?;
            pb.finish_and_clear();
            println!("published {} as {}", m.key(), m.target_path());
            Ok(())
        }
        MarketplaceCommand::Yank { dir, plugin, reason, key, keys } => {
            let (id, version) =
                plugin.split_once('@').ok_or_else(|| anyhow::anyhow!("give the plugin as id@version"))?;
            let online = OnlineKeys::read(&keys)?;
            let key = KeyPair::read(&key)?;
            let repo = Repository::open(&dir)?;
            let target = format!("{id}/{version}/{id}-{version}.{}", package::EXTENSION);
            let publisher = repo
                .targets()?
                .delegated_roles()
                .iter()
                .map(|r| r.name.clone())
                .find(|p| id.starts_with(&format!("{p}.")))
                .ok_or_else(|| anyhow::anyhow!("no publisher's namespace covers {id}"))?;
            repo.yank(&online, &publisher, &[key], &target, &reason, now())?;
            println!("yanked {plugin}: new installs refuse it; running installs keep it");
            Ok(())
        }
        MarketplaceCommand::Revoke { dir, keys, publisher, package, reason } => {
            let (targets, online) = operator_keys(&keys)?;
            let repo = Repository::open(&dir)?;
            match (publisher, package) {
                (Some(p), _) => {
                    repo.revoke_publisher(&targets, &online, &p, &reason, now())?;
                    println!("revoked publisher {p}: kernels stop its plugins at their next refresh");
                }
                (None, Some(pkg)) => {
                    let (id, version) =
                        pkg.split_once('@').ok_or_else(|| anyhow::anyhow!("give the package as id@version"))?;
                    repo.revoke_package(&targets, &online, id, version, &reason, now())?;
                    println!("revoked {pkg}: kernels stop it at their next refresh");
                }
                (None, None) => bail!("give --publisher or --package"),
            }
            Ok(())
        }
        MarketplaceCommand::Refresh { dir, keys, targets } => {
            let repo = Repository::open(&dir)?;
            if targets {
                let (targets, online) = operator_keys(&keys)?;
                repo.refresh_targets(&targets, &online, now())?;
                println!("targets, snapshot and timestamp re-signed");
            } else {
                repo.refresh_snapshot(&OnlineKeys::read(&keys)?, now())?;
                println!("snapshot and timestamp re-signed");
            }
            Ok(())
        }
        MarketplaceCommand::ResignPublisher { dir, publisher, key, keys } => {
            let online = OnlineKeys::read(&keys)?;
            let key = KeyPair::read(&key)?;
            Repository::open(&dir)?.resign_publisher(&online, &publisher, &[key], now())?;
            println!("{publisher}'s role re-signed");
            Ok(())
        }
        MarketplaceCommand::ResignRoot { dir, root_keys, new_root_keys, threshold } => {
            let read_root = |d: &Path| -> anyhow::Result<Vec<KeyPair>> {
                let mut keys = vec![];
                while d.join(format!("root-{}.pem", keys.len() + 1)).exists() {
                    keys.push(KeyPair::read(&d.join(format!("root-{}.pem", keys.len() + 1)))?);
                }
                if keys.is_empty() {
                    bail!("no root-1.pem in {}", d.display());
                }
                Ok(keys)
            };
            let repo = Repository::open(&dir)?;
            let old = read_root(&root_keys)?;
            let new = read_root(new_root_keys.as_deref().unwrap_or(&root_keys))?;
            let current = repo.root()?;
            let threshold = threshold.unwrap_or_else(|| current.roles.get("root").map_or(1, |r| r.threshold));
            repo.rotate_root(&old, &new, threshold, now())?;
            println!("root version {} signed; kernels accept it through the root they trust", repo.root()?.version);
            Ok(())
        }
        MarketplaceCommand::Serve { dir, listen } => serve(dir, listen),
    }
}

fn serve(dir: PathBuf, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    Repository::open(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // The line tests and scripts wait for; keep its shape stable.
        println!("marketplace: serving {} on http://{addr}", dir.display());
        lectern_api::serve_marketplace_dir(listener, dir, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
}

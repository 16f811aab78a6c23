//! Plugins in Python and JavaScript: `lectern plugin new <world> --lang
//! python|js` writes a project (its `lectern.toml` names the language and the
//! build command, the WIT it is built against is copied into `wit/`), and
//! `lectern plugin build` prepares the project-local toolchain before running
//! that command: a virtual environment in `.venv` from `requirements.txt`
//! (componentize-py and the Python SDK, pinned) or `node_modules` from
//! `package.json` (componentize-js, esbuild and the JavaScript SDK, pinned),
//! installed again only when those files change.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// The pinned toolchains (PyPI and npm). Changing one is a deliberate act:
/// the templates, the guides and the figures in BENCHMARKS.md name them.
pub const COMPONENTIZE_PY: &str = "0.25.1";
pub const COMPONENTIZE_JS: &str = "0.23.0";
pub const ESBUILD: &str = "0.27.0";
/// componentize-js 0.23.0 imports `@bytecodealliance/preview2-shim` without
/// declaring it (it comes hoisted from jco's optional peer, which `npm ci`
/// leaves out), and takes jco by a caret range: both pinned in the template.
pub const PREVIEW2_SHIM: &str = "0.25.0";
pub const JCO: &str = "1.35.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    #[value(alias = "javascript")]
    Js,
}

/// The WIT package new Python and JavaScript projects are built against,
/// compiled into this binary so it needs no source tree.
const WIT_0_2: &[(&str, &str)] = &[
    ("activity.wit", include_str!("../../../wit/lectern-plugin@0.2.0/activity.wit")),
    ("content.wit", include_str!("../../../wit/lectern-plugin@0.2.0/content.wit")),
    ("grading.wit", include_str!("../../../wit/lectern-plugin@0.2.0/grading.wit")),
    ("lifecycle.wit", include_str!("../../../wit/lectern-plugin@0.2.0/lifecycle.wit")),
    ("proctoring.wit", include_str!("../../../wit/lectern-plugin@0.2.0/proctoring.wit")),
    ("question-type.wit", include_str!("../../../wit/lectern-plugin@0.2.0/question-type.wit")),
    ("services.wit", include_str!("../../../wit/lectern-plugin@0.2.0/services.wit")),
    ("tutoring.wit", include_str!("../../../wit/lectern-plugin@0.2.0/tutoring.wit")),
    ("types.wit", include_str!("../../../wit/lectern-plugin@0.2.0/types.wit")),
    ("worlds.wit", include_str!("../../../wit/lectern-plugin@0.2.0/worlds.wit")),
    ("deps/cli.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/cli.wit")),
    ("deps/clocks.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/clocks.wit")),
    ("deps/filesystem.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/filesystem.wit")),
    ("deps/http.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/http.wit")),
    ("deps/io.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/io.wit")),
    ("deps/random.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/random.wit")),
    ("deps/sockets.wit", include_str!("../../../wit/lectern-plugin@0.2.0/deps/sockets.wit")),
];

/// A world's template: its source per language, its test cases, what its
/// manifest asks for.
struct Template {
    slot: &'static str,
    /// The contract's world it implements (e.g. `grading-plugin`).
    contract: &'static str,
    /// The world the project is built against: the contract's own, or one of
    /// the project's with only these imports (componentize-py and
    /// componentize-js import every interface of the world they build, and
    /// the manifest must declare each of those), written into `wit/plugin.wit`.
    own_imports: Option<&'static [&'static str]>,
    /// The interfaces the world exports besides `lifecycle`.
    exports: &'static [&'static str],
    python: &'static str,
    js: &'static str,
    cases: &'static str,
    capabilities: &'static str,
    /// Extra packages, pinned: requirement lines for Python, (name, version) for npm.
    python_requires: &'static [&'static str],
    npm_dependencies: &'static [(&'static str, &'static str)],
    /// Their type declarations, for the editor and `tsc` only.
    npm_types: &'static [(&'static str, &'static str)],
    next: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        slot: "grading",
        contract: "grading-plugin",
        own_imports: None,
        exports: &["grader"],
        python: include_str!("../../../sdk/templates/python/grading.py"),
        js: include_str!("../../../sdk/templates/js/grading.js"),
        cases: include_str!("../../../sdk/templates/tests/grading.toml"),
        capabilities: "kv_quota_bytes = 1048576\n",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install it and activate it in the grading slot",
    },
    Template {
        slot: "question_type",
        contract: "question-type-plugin",
        own_imports: None,
        exports: &["question-type"],
        python: include_str!("../../../sdk/templates/python/question-type.py"),
        js: include_str!("../../../sdk/templates/js/question-type.js"),
        cases: include_str!("../../../sdk/templates/tests/question-type.toml"),
        capabilities: "",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install and activate it (slot question_type); authors then find its types at GET /api/v1/institutions/{institution}/question-types",
    },
    Template {
        slot: "activity",
        contract: "activity-plugin",
        own_imports: Some(&["log", "gradebook"]),
        exports: &["activity"],
        python: include_str!("../../../sdk/templates/python/activity.py"),
        js: include_str!("../../../sdk/templates/js/activity.js"),
        cases: include_str!("../../../sdk/templates/tests/activity.toml"),
        capabilities: "",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install and activate it (slot activity); its kinds are then offered to the institution's instructors",
    },
    Template {
        slot: "content",
        contract: "content-plugin",
        own_imports: Some(&["log"]),
        exports: &["content"],
        python: include_str!("../../../sdk/templates/python/content.py"),
        js: include_str!("../../../sdk/templates/js/content.js"),
        cases: include_str!("../../../sdk/templates/tests/content.toml"),
        capabilities: "",
        python_requires: &["markdown-it-py==3.0.0", "mdurl==0.1.2"],
        npm_dependencies: &[("markdown-it", "14.1.0")],
        npm_types: &[("@types/markdown-it", "14.1.2")],
        next: "install it and activate it in the content slot (for an institution, or platform-wide)",
    },
    Template {
        slot: "proctoring",
        contract: "proctoring-plugin",
        own_imports: Some(&["log", "kv", "events"]),
        exports: &["proctor"],
        python: include_str!("../../../sdk/templates/python/proctoring.py"),
        js: include_str!("../../../sdk/templates/js/proctoring.js"),
        cases: include_str!("../../../sdk/templates/tests/proctoring.toml"),
        capabilities: "kv_quota_bytes = 4194304\npublish = [\"proctoring.flagged\"]\n",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install it and activate it in the proctoring slot",
    },
    Template {
        slot: "tutoring",
        contract: "tutoring-plugin",
        own_imports: Some(&["log", "kv", "vector", "embed"]),
        exports: &["tutor"],
        python: include_str!("../../../sdk/templates/python/tutoring.py"),
        js: include_str!("../../../sdk/templates/js/tutoring.js"),
        cases: include_str!("../../../sdk/templates/tests/tutoring.toml"),
        capabilities: "kv_quota_bytes = 4194304\nvector = true\nembed = true\n",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install it and activate it in the tutoring slot; the kernel then asks it to index each course's pages",
    },
    Template {
        slot: "observer",
        contract: "observer-plugin",
        own_imports: Some(&["log", "kv", "events", "settings"]),
        exports: &[],
        python: include_str!("../../../sdk/templates/python/observer.py"),
        js: include_str!("../../../sdk/templates/js/observer.js"),
        cases: include_str!("../../../sdk/templates/tests/observer.toml"),
        capabilities: "kv_quota_bytes = 4194304\npublish = [\"learner.at-risk\"]\nsubscribe = [\"grade.recorded\"]\n",
        python_requires: &[],
        npm_dependencies: &[],
        npm_types: &[],
        next: "install and activate it (slot observer); set its settings per institution",
    },
];

/// The text of `wit/plugin.wit`: the contract's world with only the imports the template uses.
fn own_world(t: &Template, imports: &[&str]) -> String {
    let mut body = String::new();
    for i in imports {
        body.push_str(&format!("    import {i};\n"));
    }
    body.push_str("    export lifecycle;\n");
    for e in t.exports {
        body.push_str(&format!("    export {e};\n"));
    }
    let contract = t.contract;
    format!(
        r#"package lectern:plugin@0.2.0;

/// The world this project is built against: the contract's `{contract}`
/// with only the imports this plugin uses (componentize-py and
/// componentize-js import every interface of the world they build, and the
/// kernel refuses a component that imports a service its manifest does not
/// declare). Yours to edit: add another import of `{contract}` (see
/// worlds.wit) when your code needs it, and declare it in lectern.toml's
/// [capabilities] (`kv_quota_bytes`, `clock = true`, `publish`, `vector = true`,
/// `embed = true`); log, gradebook and settings need no declaration. The
/// other files in wit/ are the contract: do not edit them.
world plugin {{
{body}}}
"#
    )
}

/// The worlds with a Python and JavaScript template (every world of the contract).
pub fn worlds() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.slot).collect()
}

/// The worlds as `plugin new` takes them (`question-type`), for messages.
pub fn world_list() -> String {
    worlds().iter().map(|w| w.replace('_', "-")).collect::<Vec<_>>().join(", ")
}

/// The test cases a template ships (shared by its languages, Rust included).
pub fn cases(slot: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|t| t.slot == slot).map(|t| t.cases)
}

fn sdk_dir(lang: Lang) -> Option<PathBuf> {
    let sub = match lang {
        Lang::Python => "python",
        Lang::Js => "js",
        Lang::Rust => "lectern-sdk",
    };
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk").join(sub);
    compiled_in.is_dir().then(|| compiled_in.canonicalize().unwrap_or(compiled_in))
}

/// Writes a Python or JavaScript project for `slot` into `dir` (empty).
pub fn new_project(
    lang: Lang,
    slot: &str,
    id: &str,
    dir: &Path,
    name: &str,
    sdk: Option<PathBuf>,
    kernel: &str,
) -> anyhow::Result<()> {
    let slot = slot.replace('-', "_");
    let Some(t) = TEMPLATES.iter().find(|t| t.slot == slot) else {
        bail!("unknown world `{slot}`: use {}", world_list());
    };
    let sdk = match sdk.or_else(|| sdk_dir(lang)) {
        Some(s) => s.canonicalize().with_context(|| format!("the SDK at {} is not there", s.display()))?,
        None => bail!(
            "pass --sdk <path to sdk/{} of a Lectern source tree> (the package is not on {} yet)",
            if lang == Lang::Python { "python" } else { "js" },
            if lang == Lang::Python { "PyPI" } else { "npm" }
        ),
    };
    let publisher = id.split('.').take(2).collect::<Vec<_>>().join(".");
    // The name as a string literal where the code quotes it (a JSON string is a valid Python
    // and JavaScript literal, whatever quotes the name holds), on one line in comments.
    let literal = serde_json::to_string(name)?;
    let fill = |s: &str| {
        s.replace("{{id}}", id)
            .replace("\"{{name}}\"", &literal)
            .replace("'{{name}}'", &literal)
            .replace("{{name}}", &name.replace(['\n', '\r'], " "))
    };
    for (file, text) in WIT_0_2 {
        let path = dir.join("wit").join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    let world = match t.own_imports {
        Some(imports) => {
            std::fs::write(dir.join("wit/plugin.wit"), own_world(t, imports))?;
            "plugin"
        }
        None => t.contract,
    };
    std::fs::create_dir_all(dir.join("tests"))?;
    std::fs::write(dir.join("tests/cases.toml"), t.cases)?;
    let (language, component, build, memory) = match lang {
        Lang::Python => {
            std::fs::write(dir.join("app.py"), fill(t.python))?;
            std::fs::write(
                dir.join("requirements.txt"),
                format!(
                    "# The build toolchain and the SDK, pinned: `lectern plugin build` installs them into .venv\n\
                     # (again whenever this file changes).\n\
                     componentize-py=={COMPONENTIZE_PY}\n\
                     # Once lectern-sdk is on PyPI: lectern-sdk==0.2.0\n\
                     lectern-sdk @ file://{}\n{}",
                    sdk.display(),
                    t.python_requires.iter().map(|r| format!("{r}\n")).collect::<String>(),
                ),
            )?;
            std::fs::write(dir.join(".gitignore"), "/.venv\n/build\n__pycache__/\n*.lpkg\n")?;
            let build = format!(
                r#"["componentize-py", "--wit-path", "wit", "--world", "{world}", "componentize", "app", "--output", "build/plugin.wasm"]"#
            );
            ("python", "build/plugin.wasm", build, 128)
        }
        Lang::Js => {
            std::fs::create_dir_all(dir.join("src"))?;
            std::fs::write(dir.join("src/plugin.js"), fill(t.js))?;
            let mut package = serde_json::json!({
                "name": id.replace('.', "-"),
                "version": "0.1.0",
                "private": true,
                "type": "module",
                "scripts": {
                    // esbuild bundles the plugin with the SDK (componentize-js takes one module);
                    // the lectern:plugin imports stay imports of the component.
                    "build": format!(
                        "esbuild src/plugin.js --bundle --format=esm --platform=neutral --main-fields=module,main --external:lectern:* --outfile=build/bundle.js \
                         && componentize-js build/bundle.js --wit wit --world-name {world} --disable http fetch-event --out build/plugin.wasm"
                    )
                },
                "devDependencies": {
                    "@bytecodealliance/componentize-js": COMPONENTIZE_JS,
                    "@bytecodealliance/preview2-shim": PREVIEW2_SHIM,
                    "esbuild": ESBUILD,
                    "@lectern/sdk": format!("file:{}", sdk.display()),
                },
                "dependencies": t.npm_dependencies.iter().map(|(n, v)| (n.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
                "overrides": { "@bytecodealliance/jco": JCO },
            });
            if t.npm_dependencies.is_empty() {
                package.as_object_mut().map(|p| p.remove("dependencies"));
            }
            for (name, version) in t.npm_types {
                package["devDependencies"][name] = serde_json::json!(version);
            }
            std::fs::write(dir.join("package.json"), serde_json::to_string_pretty(&package)? + "\n")?;
            // Editors (and `tsc --noEmit`) check the plugin against the types generated from the WIT.
            let jsconfig = serde_json::json!({
                "compilerOptions": {"checkJs": true, "noEmit": true, "module": "nodenext", "target": "es2022"},
                "include": ["src", format!("node_modules/@lectern/sdk/types/{}.d.ts", t.contract)],
            });
            std::fs::write(dir.join("jsconfig.json"), serde_json::to_string_pretty(&jsconfig)? + "\n")?;
            std::fs::write(dir.join(".gitignore"), "/node_modules\n/build\n*.lpkg\n")?;
            ("javascript", "build/plugin.wasm", r#"["npm", "run", "--silent", "build"]"#.to_owned(), 128)
        }
        Lang::Rust => unreachable!("Rust projects are written by market::new_project"),
    };
    let kind = slot.replace('_', " ");
    let manifest = format!(
        r#"# The plugin's manifest (what the kernel checks and grants) and how to build and package it.
id = "{id}"
version = "0.1.0"
slot = "{slot}"
data_version = 1

[capabilities]
{caps}
[resources]
# Interpreted guests carry their runtime: give them room (measured figures in sdk/{lang_dir}.md).
memory_mib = {memory}
call_timeout_ms = 5000
# Warm instances: up to this many calls, one after another, on one instance (same
# institution), skipping the interpreter's fresh start on each. Only if nothing the code
# keeps in memory depends on who called (sdk/README.md, "Warm instances").
# reuse_calls = 1000

[package]
name = {name_toml}
description = {description_toml}
license = "Apache-2.0"
publisher = "{publisher}"
kernel = "{kernel}"
language = "{language}"
component = "{component}"
build = {build}
"#,
        caps = t.capabilities,
        // Quoted by TOML's rules: a name may hold quotes or backslashes.
        name_toml = toml::Value::String(name.to_owned()),
        description_toml = toml::Value::String(format!("{name}: a Lectern {kind} plugin in {}.", lang_name(lang))),
        lang_dir = if lang == Lang::Python { "python" } else { "javascript" },
    );
    std::fs::write(dir.join(crate::market::PROJECT_MANIFEST), manifest)?;
    println!("created {} ({kind} plugin {id}, {}, lectern:plugin@0.2.0)", dir.display(), lang_name(lang));
    println!(
        "next: cd {} && lectern plugin build && lectern plugin test && lectern plugin pack; {}",
        dir.display(),
        t.next
    );
    Ok(())
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "Rust",
        Lang::Python => "Python",
        Lang::Js => "JavaScript",
    }
}

fn digest(dir: &Path, files: &[&str]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.as_bytes());
        h.update(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    format!("{:x}", h.finalize())
}

/// What a project's build command runs with.
#[derive(Default)]
pub struct Toolchain {
    /// Directories to put first on `PATH` (`.venv/bin`, `node_modules/.bin`).
    pub paths: Vec<PathBuf>,
    /// Variables to set (`VIRTUAL_ENV`, which componentize-py reads to find the packages).
    pub vars: Vec<(String, String)>,
}

/// Prepares the project-local toolchain of a `language` for its build
/// command. Installs only when the stamp of the inputs changed.
pub fn prepare(dir: &Path, language: &str) -> anyhow::Result<Toolchain> {
    match language {
        "python" => {
            let venv = dir.join(".venv");
            let python = venv.join("bin/python");
            if !python.exists() {
                let base = std::env::var("LECTERN_PYTHON").unwrap_or_else(|_| "python3".into());
                eprintln!("creating the project's Python environment (.venv) with {base}");
                run(
                    Command::new(&base).args(["-m", "venv"]).arg(&venv),
                    "create .venv (is Python 3 with venv installed?)",
                )?;
            }
            let stamp = venv.join(".lectern-requirements");
            let want = digest(dir, &["requirements.txt"]);
            if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
                if !dir.join("requirements.txt").exists() {
                    bail!("{} has no requirements.txt (componentize-py and lectern-sdk, pinned)", dir.display());
                }
                eprintln!("installing requirements.txt into .venv (pip)");
                run(
                    Command::new(&python)
                        .args(["-m", "pip", "install", "--disable-pip-version-check", "-r", "requirements.txt"])
                        .current_dir(dir),
                    "pip install -r requirements.txt",
                )?;
                std::fs::write(&stamp, want)?;
            }
            Ok(Toolchain {
                paths: vec![venv.join("bin")],
                vars: vec![("VIRTUAL_ENV".into(), venv.display().to_string())],
            })
        }
        "javascript" | "js" | "typescript" => {
            let modules = dir.join("node_modules");
            let stamp = modules.join(".lectern-packages");
            let lock = dir.join("package-lock.json").exists();
            let want = digest(dir, &["package.json", "package-lock.json"]);
            if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
                if !dir.join("package.json").exists() {
                    bail!("{} has no package.json (componentize-js, esbuild and @lectern/sdk, pinned)", dir.display());
                }
                // With a lock file, exactly what it records; the first install writes it.
                let verb = if lock { "ci" } else { "install" };
                eprintln!("installing the project's packages (npm {verb})");
                run(
                    Command::new("npm").args([verb, "--no-audit", "--no-fund"]).current_dir(dir),
                    &format!("npm {verb} (is Node.js with npm installed?)"),
                )?;
                std::fs::write(&stamp, digest(dir, &["package.json", "package-lock.json"]))?;
            }
            Ok(Toolchain { paths: vec![modules.join(".bin")], vars: vec![] })
        }
        "rust" => Ok(Toolchain::default()),
        other => bail!("unknown `language` {other:?} in [package] of lectern.toml: python, javascript or rust"),
    }
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("cannot {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status}); its messages are above");
    }
    Ok(())
}

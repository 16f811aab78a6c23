//! Validating response bodies against JSON Schemas with Ajv (`tests/js/validate.mjs`): the
//! schemas the server documents in its OpenAPI document, and the Open Badges 3.0 credential
//! schema in `tests/js/schemas/`. Needs Node.js; `tests/js/node_modules` is installed with
//! `npm ci` from the committed lock file when it is missing or lacks a package added since.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use lectern_e2e::Api;
use serde_json::Value;

pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

fn installed(js: &Path) -> bool {
    ["ajv-formats", "@digitalbazaar/vc", "openapi-typescript", "typescript"]
        .iter()
        .all(|p| js.join("node_modules").join(p).join("package.json").is_file())
}

/// Runs `npm ci` for tests/js unless every package its scripts import is there. The packages
/// are installed in a staging directory and moved into place with one rename, so end-to-end
/// tests running side by side in other processes never see, or delete, a half-made tree.
pub fn ensure_node_modules() {
    static ONCE: Mutex<()> = Mutex::new(());
    let _one = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let js = js_dir();
    if installed(&js) {
        return;
    }
    let staging = tempfile::Builder::new().prefix(".npm-ci-").tempdir_in(&js).unwrap();
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(js.join(file), staging.path().join(file)).unwrap();
    }
    let out = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(staging.path()).output();
    let out = out.expect("npm runs (Node.js 20+ and npm are needed by the tests in tests/js)");
    assert!(out.status.success(), "npm ci failed: {}", String::from_utf8_lossy(&out.stderr));
    if !installed(&js) {
        let target = js.join("node_modules");
        if target.exists() {
            // An older install without a package added since: set it aside (removed with the staging directory).
            let _ = std::fs::rename(&target, staging.path().join("stale"));
        }
        // Loses harmlessly to another process that moved its own install into place first.
        let _ = std::fs::rename(staging.path().join("node_modules"), &target);
    }
    assert!(installed(&js), "tests/js/node_modules is incomplete after npm ci");
}

/// Validates `data` with `node validate.mjs <schema> <data> [component]`; the errors when invalid.
pub fn validate(schema: &Value, data: &Value, component: Option<&str>) -> Result<(), String> {
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let (s, d) = (dir.path().join("schema.json"), dir.path().join("data.json"));
    std::fs::write(&s, schema.to_string()).unwrap();
    std::fs::write(&d, data.to_string()).unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(js_dir().join("validate.mjs")).arg(&s).arg(&d);
    if let Some(c) = component {
        cmd.arg(c);
    }
    let out = cmd.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(stdout),
        _ => panic!("validate.mjs failed: {stdout} {}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// Asserts `body` is valid against `components.schemas.<component>` of the server's OpenAPI document.
pub async fn assert_matches_openapi(api: &Api, body: &Value, component: &str) {
    let doc = api.get("/api/v1/openapi.json").await;
    if let Err(errors) = validate(doc.ok(), body, Some(component)) {
        panic!("the body does not match the documented schema {component}: {errors}\nbody: {body}");
    }
}

/// Asserts the OpenAPI document says `method path` answers `status` with `components.schemas.<component>`.
pub async fn assert_documented_response(api: &Api, method: &str, path: &str, status: &str, component: &str) {
    let doc = api.get("/api/v1/openapi.json").await;
    let content = &doc.ok()["paths"][path][method]["responses"][status]["content"]["application/json"];
    assert_eq!(
        content["schema"]["$ref"],
        format!("#/components/schemas/{component}"),
        "{method} {path} {status} is documented as {content}"
    );
}

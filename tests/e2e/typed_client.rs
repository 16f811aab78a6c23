//! A typed client generated from the server's OpenAPI document compiles, and
//! has no `any`/`unknown`/`Record<string, never>` where a success body
//! should be: `openapi-typescript` (pinned in `tests/js/package.json`) turns
//! `/api/v1/openapi.json` into `schema.d.ts`, and `tsc --noEmit --strict`
//! compiles `tests/js/typed_client.ts` against it, with the free-form bodies
//! and fields `lectern_api::free_form` allows as the only exceptions. Needs
//! Node.js, like the other tests that run `tests/js`.

use std::path::Path;
use std::process::Command;

use lectern_e2e::{Options, TestServer};

use crate::schema::{ensure_node_modules, js_dir};

/// Runs `node <script> <args>` in `dir`; panics with its output unless it succeeds.
fn node(script: &Path, args: &[&str], dir: &Path) -> String {
    let out = Command::new("node").arg(script).args(args).current_dir(dir).output().expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "node {} {} failed:\n{text}", script.display(), args.join(" "));
    text
}

/// `allowlist.ts`: the free-form bodies and fields the API documents on purpose.
fn allowlist() -> String {
    let union = |items: Vec<String>| if items.is_empty() { "never".to_owned() } else { items.join(" | ") };
    let bodies = lectern_api::free_form::BODIES
        .iter()
        .map(|b| format!("`{} {} ${{string}}` /* {} */", b.method, b.path, b.why.replace("*/", "* /")))
        .collect();
    let fields = lectern_api::free_form::FIELDS
        .iter()
        .map(|f| format!("\"{}.{}\" /* {} */", f.schema, f.field, f.why.replace("*/", "* /")))
        .collect();
    format!(
        "// Written by tests/e2e/typed_client.rs from lectern_api::free_form.\n\
         export type AllowedBodies = {};\nexport type AllowedFields = {};\n",
        union(bodies),
        union(fields)
    )
}

#[tokio::test]
async fn a_typed_client_generated_from_the_openapi_document_compiles() {
    ensure_node_modules();
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path(), Options::default()).await.unwrap();
    let doc = server.client().anonymous().get("/api/v1/openapi.json").await.ok().clone();
    server.stop().await.unwrap();
    assert_eq!(
        doc,
        serde_json::to_value(lectern_api::openapi()).unwrap(),
        "the served document is lectern_api::openapi()"
    );

    let js = js_dir();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    node(
        &js.join("node_modules/openapi-typescript/bin/cli.js"),
        &["openapi.json", "--output", "schema.d.ts"],
        dir.path(),
    );
    let generated = std::fs::read_to_string(dir.path().join("schema.d.ts")).unwrap();
    // The generator ran on the whole document, not an empty one.
    for name in ["\"/api/v1/me/notifications\"", "NotificationList:", "TutorTurn:", "Gradebook:", "Problem:"] {
        assert!(generated.contains(name), "schema.d.ts has no {name}");
    }
    let code = generated.lines().filter(|l| !l.trim_start().starts_with(['*', '/']));
    let any: Vec<&str> = code.filter(|l| l.contains(": any") || l.contains("<any>") || l.contains("| any")).collect();
    assert!(any.is_empty(), "schema.d.ts has `any`: {any:#?}");

    // The web application compiles against the same generated types, committed so that its
    // build needs no server: they must be this document's.
    let committed = js.join("../../web/src/api/schema.d.ts");
    if std::env::var_os("LECTERN_BLESS").is_some() {
        std::fs::write(&committed, &generated).unwrap();
    }
    assert!(
        std::fs::read_to_string(&committed).is_ok_and(|c| c == generated),
        "web/src/api/schema.d.ts is not the API's current OpenAPI document: \
         run `LECTERN_BLESS=1 cargo xtask test -- typed_client` and rebuild the web application"
    );

    std::fs::write(dir.path().join("allowlist.ts"), allowlist()).unwrap();
    std::fs::copy(js.join("typed_client.ts"), dir.path().join("typed_client.ts")).unwrap();
    // Every compiler option is here; `types: []` keeps any @types directory out.
    let tsconfig = serde_json::json!({
        "compilerOptions": {
            "noEmit": true,
            "strict": true,
            "noUncheckedIndexedAccess": true,
            "exactOptionalPropertyTypes": true,
            "target": "es2022",
            "module": "esnext",
            "moduleResolution": "bundler",
            "types": [],
            "pretty": false
        },
        "files": ["typed_client.ts"]
    });
    std::fs::write(dir.path().join("tsconfig.json"), tsconfig.to_string()).unwrap();
    let tsc = js.join("node_modules/typescript/bin/tsc");
    let out = Command::new("node")
        .arg(&tsc)
        .args(["-p", "tsconfig.json"])
        .current_dir(dir.path())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the typed client does not compile against the generated types (the full list of free-form \
         schemas: `cargo test -p lectern-api typed_responses`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

//! Independent verification: credentials issued here are checked by the Digital Bazaar JavaScript
//! libraries (`tests/js/verify.mjs`), which share no code with this crate. Needs Node.js and npm;
//! `tests/js/node_modules` is installed with `npm ci` from the committed lock file when missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use lectern_credentials::proof::{EddsaJcs2022, ProofOptions, sign};
use lectern_credentials::{
    AchievementInput, StatusEntry, StatusList, SubjectIdentifier, achievement_credential, did_key,
    status_list_credential, verify,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const LIST_ID: &str = "https://lms.example/status/1";

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/js")
}

/// Installs the pinned packages once per test run; panics (never skips) when Node.js or npm is absent.
fn ensure_node_modules() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let dir = js_dir();
        for tool in ["node", "npm"] {
            match Command::new(tool).arg("--version").output() {
                Ok(out) if out.status.success() => {}
                _ => {
                    return Err(format!(
                        "`{tool}` is required by the JavaScript interoperability test (tests/js): install Node.js 20+ \
                         and npm, e.g. `apt-get install nodejs npm`"
                    ));
                }
            }
        }
        if dir.join("node_modules").is_dir() {
            return Ok(());
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("running npm ci in {}: {e}", dir.display()))?;
        if !out.status.success() {
            return Err(format!(
                "npm ci in {} failed:\n{}{}",
                dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    });
    if let Err(e) = ready {
        panic!("{e}");
    }
}

#[derive(Debug)]
struct JsVerdict {
    verified: bool,
    error: String,
    status: Vec<Value>,
}

/// Runs `node verify.mjs` on `credential` (and the status list credentials) from temporary files.
fn js_verify(credential: &Value, status_lists: &[&Value]) -> JsVerdict {
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path
    };
    let mut args = vec![js_dir().join("verify.mjs"), write("credential.json", credential)];
    for (i, list) in status_lists.iter().enumerate() {
        args.push(write(&format!("status-list-{i}.json"), list));
    }
    let out = Command::new("node").args(&args).output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "verify.mjs crashed ({code:?}):\n{stdout}\n{stderr}");
    let line = stdout.lines().last().unwrap_or_default();
    let report: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let verdict = JsVerdict {
        verified: report["verified"].as_bool().unwrap(),
        error: report["error"].as_str().unwrap_or_default().to_owned(),
        status: report["status"].as_array().cloned().unwrap_or_default(),
    };
    assert_eq!(verdict.verified, code == Some(0), "exit code disagrees with the report: {stdout}");
    verdict
}

struct Issuer {
    key: SigningKey,
    now: OffsetDateTime,
}

impl Issuer {
    fn random() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        // Whole seconds, as the issued documents carry them.
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        Self { key: SigningKey::from_bytes(&seed), now }
    }

    fn did(&self) -> String {
        did_key(&self.key.verifying_key())
    }

    fn sign(&self, document: &Value) -> Value {
        sign(document, &EddsaJcs2022, &self.key, ProofOptions::assertion(&self.key.verifying_key(), self.now)).unwrap()
    }

    fn badge(&self, status: Option<StatusEntry>) -> Value {
        self.sign(&achievement_credential(&AchievementInput {
            credential_id: "https://lms.example/credentials/0b5e".into(),
            issuer_id: self.did(),
            issuer_name: "Lectern Test University".into(),
            issuer_url: Some("https://lms.example".into()),
            subject_id: Some("did:example:learner-1".into()),
            subject_identifiers: vec![SubjectIdentifier {
                identity_type: "emailAddress".into(),
                value: "ada@lms.example".into(),
                salt: "5a1t".into(),
            }],
            subject_name: Some("Ada Lovelace".into()),
            achievement_id: "https://lms.example/courses/rust-101".into(),
            achievement_name: "Rust 101".into(),
            achievement_description: "Ownership, borrowing and lifetimes — «ünïcödé» included.".into(),
            criteria_narrative: "Passed every graded assignment with at least 50 %.".into(),
            achievement_type: "Course".into(),
            valid_from: self.now - time::Duration::hours(1),
            valid_until: Some(datetime!(2099-01-01 00:00 UTC)),
            result_description: Some("92 %".into()),
            status,
        }))
    }

    /// A signed status list credential with the given indexes set.
    fn status_list(&self, revoked: &[u64]) -> Value {
        let mut list = StatusList::new();
        for &i in revoked {
            list.set(i, true).unwrap();
        }
        self.sign(&status_list_credential(LIST_ID, &self.did(), &list, self.now - time::Duration::hours(2)))
    }
}

fn entry(index: u64) -> StatusEntry {
    StatusEntry::new(LIST_ID, "revocation", index)
}

#[test]
fn js_verifies_a_credential_issued_here() {
    let issuer = Issuer::random();
    let credential = issuer.badge(None);
    assert!(verify(&credential, issuer.now, &|_| Ok(false)).verified);
    let verdict = js_verify(&credential, &[]);
    assert!(verdict.verified, "{verdict:?}\n{credential:#}");
}

#[test]
fn js_verifies_status_and_reads_the_same_bits() {
    let issuer = Issuer::random();
    let credential = issuer.badge(Some(entry(94_567)));
    // Neighbouring bits set: a wrong bit order or off-by-one would read one of them.
    let list = issuer.status_list(&[0, 94_560, 94_566, 94_568, 94_575, 131_071]);
    let verdict = js_verify(&credential, &[&list]);
    assert!(verdict.verified, "{verdict:?}");
    assert_eq!(verdict.status, [json!({"purpose": "revocation", "index": "94567", "set": false})]);
}

#[test]
fn js_rejects_a_revoked_credential() {
    let issuer = Issuer::random();
    let credential = issuer.badge(Some(entry(94_567)));
    let list = issuer.status_list(&[94_567]);
    let verdict = js_verify(&credential, &[&list]);
    assert!(!verdict.verified, "{verdict:?}");
    assert!(verdict.error.contains("revocation bit set"), "{verdict:?}");
    assert_eq!(verdict.status, [json!({"purpose": "revocation", "index": "94567", "set": true})]);
}

#[test]
fn js_rejects_a_tampered_achievement_name() {
    let issuer = Issuer::random();
    let mut credential = issuer.badge(None);
    credential["credentialSubject"]["achievement"]["name"] = json!("Rust 999");
    let verdict = js_verify(&credential, &[]);
    assert!(!verdict.verified, "{verdict:?}");
    assert!(verdict.error.to_lowercase().contains("signature"), "{verdict:?}");
}

#[test]
fn js_rejects_a_bad_proof_value() {
    let issuer = Issuer::random();
    let mut credential = issuer.badge(None);
    let proof_value = credential["proof"]["proofValue"].as_str().unwrap();
    let mut signature = bs58::decode(&proof_value[1..]).into_vec().unwrap();
    signature[5] ^= 0x01;
    credential["proof"]["proofValue"] = json!(format!("z{}", bs58::encode(signature).into_string()));
    let verdict = js_verify(&credential, &[]);
    assert!(!verdict.verified, "{verdict:?}");
    assert!(verdict.error.to_lowercase().contains("signature"), "{verdict:?}");
}

#[test]
fn js_rejects_a_key_that_is_not_the_issuers() {
    let issuer = Issuer::random();
    let mallory = Issuer::random();
    // Mallory signs a credential that names the real issuer.
    let unsigned = {
        let mut c = issuer.badge(None);
        c.as_object_mut().unwrap().remove("proof");
        c
    };
    let forged = mallory.sign(&unsigned);
    let verdict = js_verify(&forged, &[]);
    assert!(!verdict.verified, "{verdict:?}");
    assert!(verdict.error.contains("issuer must match"), "{verdict:?}");
    assert!(!verify(&forged, issuer.now, &|_| Ok(false)).verified);
}

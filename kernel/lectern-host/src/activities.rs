//! Kinds of learning activity plugins provide (0.2's `activity` world):
//! what a version declares when it starts, checked once, with each kind's
//! settings schema compiled for the kernel's check of an instructor's
//! settings (the same rules as question types: `crate::questions`).

use crate::questions::{MAX_TYPES, QuestionCheck, check, is_local_id, schema};
use crate::slots::activity::Kind;

/// Largest learner state the kernel stores per item and learner.
pub const MAX_STATE_BYTES: usize = 64 * 1024;
/// Largest action payload (JSON) the kernel passes to `act`.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// An activity kind of a loaded version, its settings schema compiled.
pub(crate) struct KindSpec {
    pub(crate) info: Kind,
    settings: jsonschema::Validator,
}

impl std::fmt::Debug for KindSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindSpec").field("id", &self.info.id).finish()
    }
}

impl KindSpec {
    pub(crate) fn check_settings(&self, v: &serde_json::Value) -> Result<(), QuestionCheck> {
        check(&self.settings, v, "settings")
    }
}

/// Checks what `kinds()` returned and compiles the schemas.
pub(crate) fn compile(kinds: Vec<Kind>) -> Result<Vec<KindSpec>, String> {
    if kinds.is_empty() {
        return Err("`kinds` returned no activity kind".into());
    }
    if kinds.len() > MAX_TYPES {
        return Err(format!("`kinds` returned {} activity kinds; at most {MAX_TYPES}", kinds.len()));
    }
    let mut out: Vec<KindSpec> = Vec::with_capacity(kinds.len());
    for info in kinds {
        if !is_local_id(&info.id) {
            return Err(format!("activity kind id `{}` must be 1–64 characters of a–z, 0–9 and -", info.id));
        }
        if out.iter().any(|k| k.info.id == info.id) {
            return Err(format!("activity kind `{}` is declared twice", info.id));
        }
        if info.name.trim().is_empty() || info.name.len() > 200 || info.description.len() > 2_000 {
            return Err(format!(
                "activity kind `{}`: a name of 1–200 bytes and a description of at most 2,000",
                info.id
            ));
        }
        let settings = schema(&format!("activity kind `{}`", info.id), "settings", &info.settings_schema)?;
        out.push(KindSpec { info, settings });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(id: &str, schema: &str) -> Kind {
        Kind {
            id: id.into(),
            name: "Poll".into(),
            description: String::new(),
            settings_schema: schema.into(),
            graded: false,
        }
    }

    #[test]
    fn kinds_are_checked_and_compiled() {
        let ok = r#"{"type":"object","required":["question"]}"#;
        let specs = compile(vec![kind("poll", ok)]).unwrap();
        assert!(specs[0].check_settings(&serde_json::json!({"question": "?"})).is_ok());
        assert!(specs[0].check_settings(&serde_json::json!({})).is_err());
        for (kinds, says) in [
            (vec![], "no activity kind"),
            (vec![kind("Poll", ok)], "a–z"),
            (vec![kind("poll", ok), kind("poll", ok)], "twice"),
            (vec![kind("poll", r#"{"$ref":"https://127.0.0.1:9/s.json"}"#)], "not a usable JSON Schema"),
        ] {
            let err = compile(kinds).unwrap_err();
            assert!(err.contains(says), "{err} should say {says}");
        }
    }
}

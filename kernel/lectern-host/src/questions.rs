//! Question types plugins provide (0.2's `question-type` world): what a
//! version declares when it starts, checked once and compiled, and the
//! kernel-side checks of an author's settings and a student's response
//! against the type's JSON Schemas.
//!
//! Invariants:
//! - A version's types are read once per loaded version (at its first
//!   activation or restart) and never change while it is loaded: a plugin
//!   cannot offer different types to different calls.
//! - A schema is compiled without any way to fetch: `$ref` to a URL or a
//!   file does not resolve, and the version is refused. The kernel never
//!   makes a request, or reads a file, because of a plugin's schema.
//! - The JSON a plugin receives as settings or a response has passed its
//!   schema (the WIT promises it).

use crate::slots::question::TypeInfo;

/// At most this many types per plugin.
pub const MAX_TYPES: usize = 32;
/// At most this many bytes per schema.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// At most this many bytes of settings or response JSON.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// A question type of a loaded version, its schemas compiled.
pub(crate) struct TypeSpec {
    pub(crate) info: TypeInfo,
    settings: jsonschema::Validator,
    response: jsonschema::Validator,
}

impl std::fmt::Debug for TypeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeSpec").field("id", &self.info.id).finish()
    }
}

/// `[a-z0-9-]{1,64}`: type and activity-kind ids.
pub fn is_local_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks what `types()` returned and compiles the schemas; the error says
/// what is wrong, for the activation failure.
pub(crate) fn compile(types: Vec<TypeInfo>) -> Result<Vec<TypeSpec>, String> {
    if types.is_empty() {
        return Err("`types` returned no question type".into());
    }
    if types.len() > MAX_TYPES {
        return Err(format!("`types` returned {} question types; at most {MAX_TYPES}", types.len()));
    }
    let mut out: Vec<TypeSpec> = Vec::with_capacity(types.len());
    for info in types {
        if !is_local_id(&info.id) {
            return Err(format!("question type id `{}` must be 1–64 characters of a–z, 0–9 and -", info.id));
        }
        if out.iter().any(|t| t.info.id == info.id) {
            return Err(format!("question type `{}` is declared twice", info.id));
        }
        if info.name.trim().is_empty() || info.name.len() > 200 || info.description.len() > 2_000 {
            return Err(format!(
                "question type `{}`: a name of 1–200 bytes and a description of at most 2,000",
                info.id
            ));
        }
        let what = format!("question type `{}`", info.id);
        let settings = schema(&what, "settings", &info.settings_schema)?;
        let response = schema(&what, "response", &info.response_schema)?;
        out.push(TypeSpec { info, settings, response });
    }
    Ok(out)
}

pub(crate) fn schema(id: &str, which: &str, text: &str) -> Result<jsonschema::Validator, String> {
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(format!(
            "question type `{id}`: the {which} schema is {} bytes; at most {MAX_SCHEMA_BYTES}",
            text.len()
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("question type `{id}`: the {which} schema is not JSON: {e}"))?;
    jsonschema::validator_for(&value)
        .map_err(|e| format!("question type `{id}`: the {which} schema is not a usable JSON Schema: {e}"))
}

/// Why a question's settings or a response were refused by the kernel.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuestionCheck {
    /// No version of `plugin` is active for the institution, or it does not offer `type_id`.
    #[error("no active plugin offers the question type `{type_id}` of `{plugin}`")]
    NotOffered { plugin: String, type_id: String },
    /// The JSON does not match the type's schema (each line one violation).
    #[error("{0}")]
    Invalid(String),
}

impl TypeSpec {
    pub(crate) fn check_settings(&self, v: &serde_json::Value) -> Result<(), QuestionCheck> {
        check(&self.settings, v, "settings")
    }

    pub(crate) fn check_response(&self, v: &serde_json::Value) -> Result<(), QuestionCheck> {
        check(&self.response, v, "response")
    }
}

pub(crate) fn check(validator: &jsonschema::Validator, v: &serde_json::Value, what: &str) -> Result<(), QuestionCheck> {
    if !v.is_object() {
        return Err(QuestionCheck::Invalid(format!("the {what} must be a JSON object")));
    }
    let size = v.to_string().len();
    if size > MAX_JSON_BYTES {
        return Err(QuestionCheck::Invalid(format!("the {what} are {size} bytes; at most {MAX_JSON_BYTES}")));
    }
    let errors: Vec<String> = validator
        .iter_errors(v)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(QuestionCheck::Invalid(errors.join("; "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, settings: &str, response: &str) -> TypeInfo {
        TypeInfo {
            id: id.into(),
            name: "Formula".into(),
            description: String::new(),
            settings_schema: settings.into(),
            response_schema: response.into(),
        }
    }

    const OBJECT: &str = r#"{"type":"object","properties":{"formula":{"type":"string"}},"required":["formula"]}"#;

    #[test]
    fn schemas_compile_and_check() {
        let specs = compile(vec![info("formula", OBJECT, r#"{"type":"object"}"#)]).unwrap();
        let t = &specs[0];
        assert!(t.check_settings(&serde_json::json!({"formula": "a+b"})).is_ok());
        let err = t.check_settings(&serde_json::json!({"formula": 3})).unwrap_err().to_string();
        assert!(err.contains("/formula"), "{err}");
        let err = t.check_settings(&serde_json::json!({})).unwrap_err().to_string();
        assert!(err.contains("formula"), "{err}");
        assert!(t.check_response(&serde_json::json!([1])).is_err(), "not an object");
    }

    #[test]
    fn bad_declarations_are_refused_with_a_reason() {
        let ok = r#"{"type":"object"}"#;
        for (types, says) in [
            (vec![], "no question type"),
            (vec![info("Formula", ok, ok)], "a–z"),
            (vec![info("f", ok, ok), info("f", ok, ok)], "twice"),
            (vec![info("f", "{", ok)], "not JSON"),
            (vec![info("f", ok, r#"{"type": 12}"#)], "not a usable JSON Schema"),
            // Never fetched: remote and file references do not resolve.
            (vec![info("f", r#"{"$ref":"http://127.0.0.1:9/x.json"}"#, ok)], "not a usable JSON Schema"),
            (vec![info("f", r#"{"$ref":"file:///etc/passwd"}"#, ok)], "not a usable JSON Schema"),
        ] {
            let err = compile(types).unwrap_err();
            assert!(err.contains(says), "{err} should say {says}");
        }
    }
}

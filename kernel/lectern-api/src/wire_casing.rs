//! Every string enum of the API is spelled in snake_case on the wire, in
//! requests and responses alike: lower-case ASCII letters, digits and `_`.
//! The test walks the OpenAPI document the server serves, so a DTO enum
//! without `#[serde(rename_all = "snake_case")]` (`"Dismissed"`,
//! `"NeedsManualGrading"`) fails here.
//!
//! Values that are someone else's identifiers keep their own spelling. OAuth
//! and OIDC names (`authorization_code`, `client_credentials`) already are
//! snake_case; anything else (a MIME type, an HTTP auth scheme, a JOSE
//! algorithm) goes in [`EXTERNAL`] with where it comes from. Enums a DTO
//! documents only as a `String` escape this test: give them a schema.

use serde_json::Value;

/// `(schema path suffix, value)` pairs spelled by an outside standard.
const EXTERNAL: &[(&str, &str)] = &[];

fn snake_case(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Every `enum`/`const` string under `v`, with its JSON path.
fn enum_values(v: &Value, path: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let ("enum", Value::Array(values)) = (k.as_str(), x) {
                    for s in values.iter().filter_map(Value::as_str) {
                        out.push((path.join("/"), s.to_owned()));
                    }
                }
                if let ("const", Value::String(s)) = (k.as_str(), x) {
                    out.push((path.join("/"), s.clone()));
                }
                path.push(k.clone());
                enum_values(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                enum_values(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn every_enum_value_in_the_openapi_document_is_snake_case() {
    let doc = serde_json::to_value(crate::openapi()).expect("the document is JSON");
    let mut found = vec![];
    enum_values(&doc, &mut vec![], &mut found);
    // The walk must see the enums it exists for, or it proves nothing.
    for known in ["dismissed", "needs_manual_grading", "highest", "in_progress", "teaching_assistant"] {
        assert!(found.iter().any(|(_, v)| v == known), "`{known}` is not in the document: {found:?}");
    }
    let wrong: Vec<&(String, String)> = found
        .iter()
        .filter(|(p, v)| !snake_case(v) && !EXTERNAL.iter().any(|(suffix, x)| p.ends_with(suffix) && x == v))
        .collect();
    assert!(wrong.is_empty(), "enum values not in snake_case (path, value): {wrong:#?}");
}

#[test]
fn the_casing_rule() {
    for ok in ["dismissed", "needs_manual_grading", "true", "all", "utf8", "a_1"] {
        assert!(snake_case(ok), "{ok}");
    }
    for bad in ["Dismissed", "NeedsManualGrading", "key-shared", "text/csv", "", "camelCase", "a b"] {
        assert!(!snake_case(bad), "{bad}");
    }
}

//! Every success (2XX) response body the OpenAPI document describes is
//! typed, all the way down: an object has `properties` or a typed
//! `additionalProperties`, an array has typed `items`. A free-form schema
//! (`{}`, `{"type": "object"}`, an array of those) is what `body = Object`,
//! `#[schema(value_type = Object)]` or a bare `serde_json::Value` produce;
//! a client generated from such a document gets `unknown` or
//! `Record<string, never>` there. The tests walk the document the server
//! serves (`crate::openapi`) and fail on any such schema, in a success body
//! or a request body, that is not listed in [`crate::free_form`] with its
//! reason, and on a listed entry that matches nothing.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::free_form;

const REF_PREFIX: &str = "#/components/schemas/";

/// Walks schemas, collecting where a free-form one sits: `get /path 200`
/// for a whole body, `Schema.field` (`[]` for array items, `{}` for map
/// values) inside a component.
struct Walk<'a> {
    components: &'a Map<String, Value>,
    visited: BTreeSet<String>,
    free: BTreeSet<String>,
    /// Responses and components looked at, so the test can tell it walked something.
    seen: BTreeSet<String>,
}

impl<'a> Walk<'a> {
    fn new(components: &'a Map<String, Value>) -> Self {
        Walk { components, visited: BTreeSet::new(), free: BTreeSet::new(), seen: BTreeSet::new() }
    }

    fn schema(&mut self, s: &Value, at: &str) {
        let Value::Object(m) = s else {
            // `true` accepts anything; `false` nothing: neither is a type.
            self.free.insert(at.to_owned());
            return;
        };
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix(REF_PREFIX) {
                Some(name) => self.component(name),
                None => {
                    self.free.insert(format!("{at} (unresolvable $ref {r})"));
                }
            }
            return;
        }
        let mut typed = m.contains_key("enum") || m.contains_key("const");
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(alternatives)) = m.get(key) {
                typed = true;
                for a in alternatives {
                    self.schema(a, at);
                }
            }
        }
        let types: Vec<&str> = match m.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let properties = m.get("properties").and_then(Value::as_object).filter(|p| !p.is_empty());
        if let Some(properties) = properties {
            typed = true;
            for (name, p) in properties {
                self.schema(p, &format!("{at}.{name}"));
            }
        }
        if types.contains(&"object") || m.contains_key("additionalProperties") {
            match m.get("additionalProperties") {
                Some(v @ Value::Object(_)) => {
                    typed = true;
                    self.schema(v, &format!("{at}{{}}"));
                }
                // A map of anything, or an object with no property at all.
                _ if properties.is_none() && !typed => {
                    self.free.insert(at.to_owned());
                    return;
                }
                _ => {}
            }
        }
        if types.contains(&"array") {
            match m.get("items") {
                Some(items) => {
                    typed = true;
                    self.schema(items, &format!("{at}[]"));
                }
                None if !typed => {
                    self.free.insert(at.to_owned());
                    return;
                }
                None => {}
            }
        }
        let scalar = ["string", "number", "integer", "boolean", "null"];
        if types.iter().any(|t| scalar.contains(t)) {
            typed = true;
        }
        if !typed {
            self.free.insert(at.to_owned());
        }
    }

    fn component(&mut self, name: &str) {
        if !self.visited.insert(name.to_owned()) {
            return;
        }
        self.seen.insert(name.to_owned());
        match self.components.get(name) {
            Some(s) => self.schema(s, name),
            None => {
                self.free.insert(format!("{name} (missing component)"));
            }
        }
    }

    /// Every request body of every operation.
    fn requests(&mut self, doc: &Value) {
        let paths = doc["paths"].as_object().into_iter().flatten();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let at = format!("{method} {path} request");
                for (media, content) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                    self.seen.insert(at.clone());
                    match content.get("schema") {
                        Some(s) => self.schema(s, &at),
                        None => {
                            self.free.insert(format!("{at} ({media} without a schema)"));
                        }
                    }
                }
            }
        }
    }

    /// Every 2XX response of every operation.
    fn document(&mut self, doc: &Value) {
        let paths = doc["paths"].as_object().into_iter().flatten();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let responses = op["responses"].as_object().into_iter().flatten();
                for (status, response) in responses.filter(|(s, _)| s.starts_with('2')) {
                    let at = format!("{method} {path} {status}");
                    self.seen.insert(at.clone());
                    for (media, content) in response["content"].as_object().into_iter().flatten() {
                        match content.get("schema") {
                            Some(s) => self.schema(s, &at),
                            None => {
                                self.free.insert(format!("{at} ({media} without a schema)"));
                            }
                        }
                    }
                }
            }
        }
    }
}

fn body_matches(b: &free_form::Body, at: &str, what: fn(&str) -> bool) -> bool {
    at.strip_prefix(&format!("{} {} ", b.method, b.path)).is_some_and(what)
}

fn success(status: &str) -> bool {
    status.starts_with('2')
}

fn request(rest: &str) -> bool {
    rest == "request"
}

fn field_matches(f: &free_form::Field, at: &str) -> bool {
    at == format!("{}.{}", f.schema, f.field)
}

fn allowed_response(at: &str) -> bool {
    free_form::BODIES.iter().any(|b| body_matches(b, at, success))
        || free_form::FIELDS.iter().any(|f| field_matches(f, at))
}

fn allowed_request(at: &str) -> bool {
    free_form::REQUESTS.iter().any(|b| body_matches(b, at, request))
        || free_form::FIELDS.iter().any(|f| field_matches(f, at))
}

/// What the walks found: free-form success bodies and fields, free-form
/// request bodies and fields, and every response, request and component walked.
struct Found {
    responses: BTreeSet<String>,
    requests: BTreeSet<String>,
    seen: BTreeSet<String>,
}

fn free_form_in(doc: &Value) -> Found {
    let empty = Map::new();
    let components = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    let mut walk = Walk::new(components);
    walk.document(doc);
    let mut requests = Walk::new(components);
    requests.requests(doc);
    let mut seen = walk.seen;
    seen.extend(requests.seen);
    Found { responses: walk.free, requests: requests.free, seen }
}

fn document() -> Value {
    serde_json::to_value(crate::openapi()).expect("the document is JSON")
}

#[test]
fn every_success_body_in_the_openapi_document_is_typed() {
    let found = free_form_in(&document());
    // The walk must reach the bodies it exists for, or it proves nothing.
    for known in [
        "get /api/v1/me 200",
        "get /api/v1/plugins 200",
        "get /api/v1/me/notifications 200",
        "post /api/v1/institutions/{institution}/webhooks 201",
        "Gradebook",
        "Plugin",
        "AnswerResponse",
    ] {
        assert!(found.seen.contains(known), "the walk did not reach `{known}`");
    }
    assert!(found.seen.len() > 150, "only {} responses and schemas walked", found.seen.len());
    let unexplained: Vec<&String> = found.responses.iter().filter(|at| !allowed_response(at)).collect();
    assert!(
        unexplained.is_empty(),
        "free-form success bodies or fields (type them with a DTO, or list them in free_form.rs with why): {unexplained:#?}"
    );
}

#[test]
fn every_request_body_in_the_openapi_document_is_typed() {
    let found = free_form_in(&document());
    for known in ["post /api/v1/auth/login request", "put /api/v1/me/notification-preferences request", "SignalBatch"] {
        assert!(found.seen.contains(known), "the walk did not reach `{known}`");
    }
    let unexplained: Vec<&String> = found.requests.iter().filter(|at| !allowed_request(at)).collect();
    assert!(
        unexplained.is_empty(),
        "free-form request bodies or fields (type them with a DTO, or list them in free_form.rs with why): {unexplained:#?}"
    );
}

/// An entry of `free_form` that matches nothing any more is a stale excuse.
#[test]
fn every_free_form_entry_is_still_needed() {
    let found = free_form_in(&document());
    for b in free_form::BODIES {
        assert!(
            found.responses.iter().any(|at| body_matches(b, at, success)),
            "free_form::BODIES lists {} {}, whose success bodies are typed",
            b.method,
            b.path
        );
    }
    for b in free_form::REQUESTS {
        assert!(
            found.requests.iter().any(|at| body_matches(b, at, request)),
            "free_form::REQUESTS lists {} {}, whose request body is typed",
            b.method,
            b.path
        );
    }
    for f in free_form::FIELDS {
        let at = format!("{}.{}", f.schema, f.field);
        assert!(
            found.responses.contains(&at) || found.requests.contains(&at),
            "free_form::FIELDS lists {at}, which is typed or gone"
        );
    }
    for why in free_form::BODIES
        .iter()
        .chain(free_form::REQUESTS)
        .map(|b| b.why)
        .chain(free_form::FIELDS.iter().map(|f| f.why))
    {
        assert!(why.len() > 20, "say why a free-form entry is free-form: `{why}`");
    }
}

/// Generators name a client's functions (and TypeScript's `operations`
/// members) by operationId; utoipa takes it from the handler's name, so two
/// `list` handlers would collide. Name such a handler with `operation_id`.
#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    let mut twice = vec![];
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            match op["operationId"].as_str() {
                Some(id) if !ids.insert(id) => twice.push(format!("{id}: {method} {path}")),
                Some(_) => {}
                None => twice.push(format!("no operationId: {method} {path}")),
            }
        }
    }
    assert!(ids.len() > 100, "only {} operations", ids.len());
    assert!(twice.is_empty(), "operationIds used more than once (or missing): {twice:#?}");
}

#[test]
fn the_free_form_rule() {
    use serde_json::json;
    let components = json!({
        "Typed": { "type": "object", "properties": { "a": { "type": "string" } } },
        "Loose": { "type": "object", "properties": { "a": { "type": "object" }, "b": { "type": "array", "items": {} } } },
    });
    let check = |schema: Value| {
        let mut w = Walk::new(components.as_object().expect("an object"));
        w.schema(&schema, "body");
        w.free.into_iter().collect::<Vec<_>>()
    };
    for typed in [
        json!({ "type": "string" }),
        json!({ "type": ["integer", "null"] }),
        json!({ "type": "string", "enum": ["a", "b"] }),
        json!({ "$ref": "#/components/schemas/Typed" }),
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Typed" } }),
        json!({ "type": "object", "additionalProperties": { "type": "number" } }),
        json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Typed" }] }),
        json!({ "type": "object", "oneOf": [{ "type": "object", "properties": { "x": { "type": "boolean" } } }] }),
    ] {
        assert_eq!(check(typed.clone()), Vec::<String>::new(), "{typed}");
    }
    for free in [
        json!({}),
        json!(true),
        json!({ "type": "object" }),
        json!({ "type": ["object", "null"] }),
        json!({ "type": "object", "additionalProperties": true }),
        json!({ "type": "object", "additionalProperties": false }),
        json!({ "type": "array" }),
        json!({ "description": "anything" }),
    ] {
        assert_eq!(check(free.clone()), vec!["body".to_owned()], "{free}");
    }
    assert_eq!(check(json!({ "type": "array", "items": {} })), vec!["body[]".to_owned()]);
    assert_eq!(
        check(json!({ "type": "object", "additionalProperties": { "type": "object" } })),
        vec!["body{}".to_owned()]
    );
    assert_eq!(
        check(json!({ "$ref": "#/components/schemas/Loose" })),
        vec!["Loose.a".to_owned(), "Loose.b[]".to_owned()]
    );
    assert_eq!(
        check(json!({ "$ref": "#/components/schemas/Nowhere" })),
        vec!["Nowhere (missing component)".to_owned()]
    );
}

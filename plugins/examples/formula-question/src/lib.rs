//! `org.example.formula`: an example *question-type* plugin
//! (`lectern:plugin@0.2.0`, world `question-type-plugin`). It adds the type
//! `formula`: a numeric question whose parameters are drawn at random for
//! each attempt, e.g.
//!
//! ```json
//! { "prompt": "A car travels {d} km in {t} h. What is its mean speed in km/h?",
//!   "formula": "d / t",
//!   "variables": { "d": { "min": 50, "max": 200, "step": 10 },
//!                  "t": { "min": 1, "max": 4, "step": 0.5 } },
//!   "tolerance": 0.01, "partial_tolerance": 0.05, "unit": "km/h" }
//! ```
//!
//! Each attempt gets its own values from the kernel's seed (derived from the
//! attempt and the question), so a reload shows the same numbers and a
//! regrade computes the same answer. An answer within `tolerance` (relative,
//! default 1 %) of the formula's value earns full credit; within
//! `partial_tolerance` (if set) half; otherwise none. Grading evaluates the
//! formula as it is now with the attempt's drawn values, so a regrade that
//! corrects the formula grades with it. Grading is pure: no clock, no
//! storage, nothing but the question, the attempt's instance and the
//! response.

wit_bindgen::generate!({
    path: "../../../wit/lectern-plugin@0.2.0",
    world: "question-type-plugin",
    generate_all,
});

mod expr;

use std::collections::BTreeMap;

use exports::lectern::plugin::lifecycle::{self, PluginInfo};
use exports::lectern::plugin::question_type::{self, Feedback, Graded, Instance, Question, Status, ToGrade, TypeInfo};
use lectern::plugin::types::{Context, Error, EventContext, View};
use serde_json::{Value, json};

struct Plugin;

const TYPE: &str = "formula";
const MAX_VARIABLES: usize = 10;
/// Draws tried before giving up on values for which the formula is finite.
const DRAWS: u64 = 20;

impl lifecycle::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "org.example.formula".into(),
            name: "Formula question (example question type)".into(),
            version: "1.0.0".into(),
            data_version: 1,
        }
    }

    fn init() -> Result<(), Error> {
        Ok(())
    }

    fn migrate(_from: u32) -> Result<(), Error> {
        Ok(())
    }

    fn on_event(_ctx: EventContext, _payload: Vec<u8>) -> Result<(), Error> {
        Ok(())
    }
}

fn settings_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["prompt", "formula", "variables"],
        "additionalProperties": false,
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 4000,
                       "description": "The question; {name} shows the drawn value of a variable."},
            "formula": {"type": "string", "minLength": 1, "maxLength": 500,
                        "description": "The right answer in terms of the variables: + - * / ^, sqrt, abs, exp, ln, log10, sin, cos, tan, pi, e."},
            "variables": {
                "type": "object",
                "maxProperties": MAX_VARIABLES,
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,31}$"},
                "additionalProperties": {
                    "type": "object",
                    "required": ["min", "max"],
                    "additionalProperties": false,
                    "properties": {
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "step": {"type": "number", "exclusiveMinimum": 0,
                                 "description": "Values are min, min + step, … up to max (default 1)."}
                    }
                }
            },
            "tolerance": {"type": "number", "minimum": 0, "maximum": 1,
                          "description": "Relative tolerance for full credit (default 0.01)."},
            "partial_tolerance": {"type": "number", "minimum": 0, "maximum": 1,
                                  "description": "Relative tolerance for half credit (none by default)."},
            "unit": {"type": "string", "maxLength": 32, "description": "Shown after the input."}
        }
    })
}

fn response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["value"],
        "additionalProperties": false,
        "properties": {"value": {"type": "string", "maxLength": 64}}
    })
}

/// The settings, read and checked beyond their schema.
struct Settings {
    prompt: String,
    formula: expr::Expr,
    formula_text: String,
    /// name → (min, max, step), in name order.
    variables: BTreeMap<String, (f64, f64, f64)>,
    tolerance: f64,
    partial_tolerance: Option<f64>,
    unit: Option<String>,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::InvalidInput(m.into())
}

fn settings(text: &str) -> Result<Settings, Error> {
    let v: Value = serde_json::from_str(text).map_err(|e| invalid(format!("the settings are not JSON: {e}")))?;
    let str_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let formula_text = str_of("formula").ok_or_else(|| invalid("`formula` is missing"))?;
    let formula = expr::parse(&formula_text).map_err(|e| invalid(format!("`formula`: {e}")))?;
    let mut variables = BTreeMap::new();
    for (name, spec) in v.get("variables").and_then(Value::as_object).into_iter().flatten() {
        let num = |k: &str| spec.get(k).and_then(Value::as_f64);
        let (Some(min), Some(max)) = (num("min"), num("max")) else {
            return Err(invalid(format!("variable `{name}` needs `min` and `max`")));
        };
        let step = num("step").unwrap_or(1.0);
        if !(min.is_finite() && max.is_finite() && min <= max && step > 0.0) {
            return Err(invalid(format!("variable `{name}`: min ≤ max and a step above 0")));
        }
        if (max - min) / step > 1e9 {
            return Err(invalid(format!("variable `{name}` has more than a billion values; use a larger step")));
        }
        variables.insert(name.clone(), (min, max, step));
    }
    let mut used = vec![];
    formula.variables(&mut used);
    if let Some(missing) = used.iter().find(|u| !variables.contains_key(*u)) {
        return Err(invalid(format!("the formula uses `{missing}`, which is not among the variables")));
    }
    Ok(Settings {
        prompt: str_of("prompt").unwrap_or_default(),
        formula,
        formula_text,
        variables,
        tolerance: v.get("tolerance").and_then(Value::as_f64).unwrap_or(0.01),
        partial_tolerance: v.get("partial_tolerance").and_then(Value::as_f64),
        unit: str_of("unit").filter(|u| !u.is_empty()),
    })
}

/// splitmix64: small and well mixed; the draw must be reproducible, not secret.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Rounds away binary noise (0.1 + 0.2) for display and comparison.
fn tidy(x: f64) -> f64 {
    if x.abs() < 1e12 { (x * 1e9).round() / 1e9 } else { x }
}

fn show(x: f64) -> String {
    let t = tidy(x);
    if t.fract() == 0.0 && t.abs() < 1e15 { format!("{}", t as i64) } else { format!("{t}") }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Draws each variable's value (in name order) until the formula is finite.
fn draw(s: &Settings, seed: u64) -> Result<(BTreeMap<String, f64>, f64), Error> {
    let mut state = seed;
    for _ in 0..DRAWS {
        let mut values = BTreeMap::new();
        for (name, (min, max, step)) in &s.variables {
            let count = ((max - min) / step).floor() as u64 + 1;
            let k = next(&mut state) % count;
            values.insert(name.clone(), tidy(min + step * k as f64));
        }
        let answer = s.formula.eval(&values).map_err(invalid)?;
        if answer.is_finite() {
            return Ok((values, answer));
        }
    }
    Err(invalid(format!("the formula `{}` has no finite value for {DRAWS} draws of its variables", s.formula_text)))
}

/// A student's number: `12.5`, `12,5`, `-3`, `1.2e3`, with spaces ignored.
fn number(text: &str) -> Option<f64> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace(',', ".");
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn answer_of(response: &str) -> Option<String> {
    serde_json::from_str::<Value>(response).ok()?.get("value")?.as_str().map(str::to_owned)
}

impl question_type::Guest for Plugin {
    fn types() -> Vec<TypeInfo> {
        vec![TypeInfo {
            id: TYPE.into(),
            name: "Formula with random values".into(),
            description: "A numeric answer computed from a formula whose values are drawn for each attempt.".into(),
            settings_schema: settings_schema().to_string(),
            response_schema: response_schema().to_string(),
        }]
    }

    fn instantiate(_ctx: Context, q: Question, seed: u64) -> Result<Instance, Error> {
        if q.type_id != TYPE {
            return Err(invalid(format!("this plugin has no question type `{}`", q.type_id)));
        }
        let s = settings(&q.settings)?;
        let (values, answer) = draw(&s, seed)?;
        let mut prompt = escape(&s.prompt);
        for (name, value) in &values {
            prompt = prompt.replace(&format!("{{{name}}}"), &show(*value));
        }
        let unit = s.unit.as_deref().map(|u| format!(" <span class=\"unit\">{}</span>", escape(u))).unwrap_or_default();
        let html = format!(
            "<p class=\"prompt\">{prompt}</p><label class=\"answer\">Your answer \
             <input name=\"value\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" maxlength=\"64\">{unit}</label>"
        );
        Ok(Instance {
            data: json!({"values": values, "answer": answer}).to_string(),
            view: View { html, assets: vec![] },
        })
    }

    fn validate(_ctx: Context, _q: Question, _instance: String, response: String) -> Result<(), Error> {
        match answer_of(&response) {
            Some(text) if text.trim().is_empty() || number(&text).is_some() => Ok(()),
            _ => Err(invalid("Enter a number, like 12.5 (a comma works too).")),
        }
    }

    fn grade(_ctx: Context, items: Vec<ToGrade>) -> Result<Vec<Graded>, Error> {
        Ok(items.into_iter().map(grade_one).collect())
    }
}

fn grade_one(item: ToGrade) -> Graded {
    let id = item.question.id.clone();
    let result = |status, fraction, feedback: Vec<Feedback>, explanation: Vec<String>| Graded {
        question_id: id.clone(),
        status,
        fraction,
        feedback,
        explanation,
    };
    let s = match settings(&item.question.settings) {
        Ok(s) => s,
        Err(Error::InvalidInput(m)) | Err(Error::Internal(m)) => {
            return result(Status::NeedsManualGrading, 0.0, vec![], vec![format!("the settings cannot be used: {m}")]);
        }
        Err(_) => return result(Status::NeedsManualGrading, 0.0, vec![], vec!["the settings cannot be used".into()]),
    };
    let instance: Value = serde_json::from_str(&item.instance).unwrap_or_default();
    // The attempt's drawn values with the formula as it is now, so a regrade that corrects the
    // formula grades with it; the answer stored at the start if the values no longer fit it.
    let drawn: BTreeMap<String, f64> = instance
        .get("values")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x))).collect())
        .unwrap_or_default();
    let recomputed = s.formula.eval(&drawn).ok().filter(|x| x.is_finite());
    let Some(expected) = recomputed.or_else(|| instance.get("answer").and_then(Value::as_f64)) else {
        return result(Status::NeedsManualGrading, 0.0, vec![], vec!["the attempt's instance has no answer".into()]);
    };
    let values = instance
        .get("values")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k} = {}", show(v.as_f64().unwrap_or(f64::NAN)))).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut explanation = vec![
        format!("values: {}", if values.is_empty() { "none".into() } else { values.join(", ") }),
        format!("{} = {}", s.formula_text, show(expected)),
    ];
    let Some(text) = item.response.as_deref().and_then(answer_of).filter(|t| !t.trim().is_empty()) else {
        explanation.push("unanswered".into());
        return result(Status::Graded, 0.0, vec![], explanation);
    };
    let Some(given) = number(&text) else {
        explanation.push(format!("`{text}` is not a number"));
        return result(Status::InvalidResponse, 0.0, vec![], explanation);
    };
    let off = (given - expected).abs();
    let within = |rel: f64| off <= (rel * expected.abs()).max(1e-9);
    let (fraction, verdict) = if within(s.tolerance) {
        (1.0, format!("within {} % of {}: full credit", show(s.tolerance * 100.0), show(expected)))
    } else if let Some(p) = s.partial_tolerance.filter(|p| within(*p)) {
        (0.5, format!("within {} % of {}: half credit", show(p * 100.0), show(expected)))
    } else {
        (0.0, format!("more than {} % away from {}: no credit", show(s.tolerance * 100.0), show(expected)))
    };
    explanation.push(format!("answer {}: {verdict}", show(given)));
    let feedback = if fraction < 1.0 {
        vec![Feedback { target: Some("value".into()), message: format!("The expected answer was {}.", show(expected)) }]
    } else {
        vec![]
    };
    result(Status::Graded, fraction, feedback, explanation)
}

export!(Plugin);

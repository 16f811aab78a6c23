//! The JSON of answer keys and of students' responses: one property named
//! for the question type (`{"single_choice": {…}}`, `{"choices": ["b"]}`).
//!
//! These mirror the grading contract's version-free types in
//! `lectern_host::slots::grading`, which are also stored (postcard) and sent
//! on the bus, so they cannot change shape. Here, at the edge, fields that
//! only some rules use may be left out and get the defaults below; what goes
//! out (a stored key read back) always carries every field. The WIT spells
//! the same names in kebab-case (`single-choice`); the JSON API in
//! snake_case. `docs/question-types.md` is the reference for people.

use lectern_host::slots::grading as g;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An answer key: exactly one property, named for the question type. Each
/// type is answered with one kind of response (`AnswerResponse`):
/// `single_choice` and `multiple_choice` ← `choices`, `true_false` ←
/// `boolean`, `numeric` ← `number`, `short_answer` ← `text`, `matching` ←
/// `pairs`, `ordering` ← `sequence`, `fill_blanks` ← `blanks`, `essay` ←
/// `essay`, `plugin` (a question type a plugin provides) ← `fields`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKey {
    /// One option may be chosen; any option marked `correct` earns full
    /// credit (under `per_option_weights`, the chosen option's weight).
    /// Answered with `choices`.
    #[schema(
        title = "single_choice",
        examples(json!({"single_choice": {"options": [
            {"id": "a"},
            {"id": "b", "correct": true, "feedback": "Yes: Paris."},
            {"id": "c"}
        ]}}))
    )]
    SingleChoice(ChoiceKey),
    /// Any options may be chosen; credit per `rule`. Answered with `choices`.
    #[schema(
        title = "multiple_choice",
        examples(json!({"multiple_choice": {"rule": "right_minus_wrong", "options": [
            {"id": "a", "correct": true},
            {"id": "b", "correct": true},
            {"id": "c"},
            {"id": "d"}
        ]}}))
    )]
    MultipleChoice(ChoiceKey),
    /// The right answer. Answered with `boolean`.
    #[schema(title = "true_false", examples(json!({"true_false": true})))]
    TrueFalse(bool),
    /// A number with tolerances and units. Answered with `number`.
    #[schema(
        title = "numeric",
        examples(json!({"numeric": {
            "value": 1.5,
            "relative_tolerance": 0.01,
            "units": [{"name": "m"}, {"name": "cm", "factor": 0.01}],
            "unit_missing_credit": 0.5
        }}))
    )]
    Numeric(NumericKey),
    /// Accepted (and known wrong) answers, literal or regular expressions;
    /// the best-matching alternative's credit wins. Answered with `text`.
    #[schema(
        title = "short_answer",
        examples(json!({"short_answer": {"alternatives": [
            {"pattern": "Paris"},
            {"pattern": "Paris,? France", "regex": true},
            {"pattern": "Lyon", "credit": 0, "feedback": "Lyon is not the capital."}
        ]}}))
    )]
    ShortAnswer(TextKey),
    /// The correct pairs; credit = pairs reproduced / pairs in the key.
    /// Answered with `pairs`.
    #[schema(
        title = "matching",
        examples(json!({"matching": [
            {"left": "h2o", "right": "water"},
            {"left": "nacl", "right": "salt"}
        ]}))
    )]
    Matching(Vec<Pair>),
    /// The item ids in the correct order (students see them shuffled); credit
    /// = fraction of item pairs in the right relative order. Answered with `sequence`.
    #[schema(title = "ordering", examples(json!({"ordering": ["mercury", "venus", "earth", "mars"]})))]
    Ordering(Vec<String>),
    /// One text key per blank, in order; credit = mean over the blanks.
    /// Answered with `blanks`.
    #[schema(
        title = "fill_blanks",
        examples(json!({"fill_blanks": [
            {"alternatives": [{"pattern": "mitochondria"}, {"pattern": "mitochondrion"}]},
            {"alternatives": [{"pattern": "ATP"}], "case_sensitive": true}
        ]}))
    )]
    FillBlanks(Vec<TextKey>),
    /// The rubric; never graded automatically (it waits in the manual queue).
    /// Answered with `essay`.
    #[schema(
        title = "essay",
        examples(json!({"essay": [
            {"id": "thesis", "description": "States a clear thesis", "points": 4},
            {"id": "evidence", "description": "Supports it with evidence", "points": 6}
        ]}))
    )]
    Essay(Vec<RubricCriterion>),
    /// A question type an active question-type plugin provides (listed at
    /// `GET /api/v1/institutions/{institution}/question-types`), with the
    /// author's settings, which must match the type's settings schema.
    /// Answered with `fields`.
    #[schema(
        title = "plugin",
        examples(json!({"plugin": {
            "plugin": "org.lectern.examples.formula",
            "type": "formula",
            "settings": {"prompt": "A car travels {d} km in {t} h. Its mean speed in km/h?", "formula": "d / t",
                "variables": {"d": {"min": 50, "max": 200, "step": 10}, "t": {"min": 1, "max": 4, "step": 0.5}},
                "tolerance": 0.01}
        }}))
    )]
    Plugin(PluginQuestionKey),
}

/// A question of a plugin's type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginQuestionKey {
    /// The plugin's id.
    pub plugin: String,
    /// The type's id within the plugin.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The author's settings: a JSON object valid against the type's settings schema.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

/// How a choice question turns the chosen options into credit:
/// `all_or_nothing`, full credit for exactly the correct options (single
/// choice: any one correct option), else 0; `right_minus_wrong`,
/// max(0, (right − wrong) / correct) (single choice: as `all_or_nothing`);
/// `per_option_weights`, the sum of the chosen options' `weight`s clamped
/// to [0, 1], ignoring `correct`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceRule {
    #[default]
    AllOrNothing,
    RightMinusWrong,
    PerOptionWeights,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceKey {
    pub options: Vec<ChoiceOption>,
    #[serde(default)]
    #[schema(default = "all_or_nothing")]
    pub rule: ChoiceRule,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// What the response's `choices` name; its display text goes in the question's `labels`.
    pub id: String,
    /// Ignored under `per_option_weights`.
    #[serde(default)]
    #[schema(default = false)]
    pub correct: bool,
    /// Used only by `per_option_weights` (may be negative there).
    #[serde(default)]
    #[schema(default = 0.0)]
    pub weight: f64,
    /// Shown to a student who chose this option.
    #[serde(default)]
    pub feedback: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumericKey {
    pub value: f64,
    /// Right if |answer − value| ≤ this (either tolerance is enough; with neither, equal).
    #[serde(default)]
    pub absolute_tolerance: Option<f64>,
    /// Fraction of |value|, e.g. 0.01 for 1 %.
    #[serde(default)]
    pub relative_tolerance: Option<f64>,
    /// Accepted units; empty: the answer must carry no unit.
    #[serde(default)]
    pub units: Vec<NumericUnit>,
    /// Credit (0–1) for the right number with a missing, unknown or unexpected unit.
    #[serde(default)]
    #[schema(default = 0.0)]
    pub unit_missing_credit: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumericUnit {
    /// Compared exactly (case-sensitive) with the response's `unit`.
    pub name: String,
    /// Multiplies an answer in this unit to get the key's unit (`cm` → `m`: 0.01).
    #[serde(default = "one")]
    #[schema(default = 1.0)]
    pub factor: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextKey {
    /// Tried in turn; the highest credit wins.
    pub alternatives: Vec<TextAlternative>,
    #[serde(default)]
    #[schema(default = false)]
    pub case_sensitive: bool,
    /// Collapse runs of white space and trim before comparing (text is always NFC-normalised).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub normalize_whitespace: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextAlternative {
    /// Literal text, or a regular expression (matched against the whole answer) when `regex` is set.
    pub pattern: String,
    #[serde(default)]
    #[schema(default = false)]
    pub regex: bool,
    /// Credit (0–1) this alternative earns; 0 marks a known wrong answer (its feedback is shown).
    #[serde(default = "one")]
    #[schema(default = 1.0)]
    pub credit: f64,
    #[serde(default)]
    pub feedback: Option<String>,
}

/// A left item matched with a right item (ids; display text in `labels`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    pub left: String,
    pub right: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricCriterion {
    pub id: String,
    /// Shown to graders in the manual queue.
    #[serde(default)]
    pub description: String,
    pub points: f64,
}

/// A student's answer to one question: exactly one property, named for the
/// kind of answer its question takes (see `AnswerKey`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerResponse {
    /// Option ids, for `single_choice` (one) and `multiple_choice` (any number).
    #[schema(title = "choices", examples(json!({"choices": ["b"]})))]
    Choices(Vec<String>),
    /// For `true_false`.
    #[schema(title = "boolean", examples(json!({"boolean": true})))]
    Boolean(bool),
    /// For `numeric`.
    #[schema(title = "number", examples(json!({"number": {"value": 150, "unit": "cm"}})))]
    Number(NumericResponse),
    /// For `short_answer`.
    #[schema(title = "text", examples(json!({"text": "paris"})))]
    Text(String),
    /// For `matching`: left ids paired with right ids.
    #[schema(
        title = "pairs",
        examples(json!({"pairs": [{"left": "h2o", "right": "water"}, {"left": "nacl", "right": "water"}]}))
    )]
    Pairs(Vec<Pair>),
    /// For `ordering`: every item id once, in the student's order.
    #[schema(title = "sequence", examples(json!({"sequence": ["mercury", "earth", "venus", "mars"]})))]
    Sequence(Vec<String>),
    /// For `fill_blanks`: one text per blank, in order (at most as many as the question has).
    #[schema(title = "blanks", examples(json!({"blanks": ["Mitochondria", "atp"]})))]
    Blanks(Vec<String>),
    /// For `essay`.
    #[schema(title = "essay", examples(json!({"essay": "The Estates-General met because the crown was bankrupt…"})))]
    Essay(String),
    /// For `plugin`: the question view's form fields by name, a JSON object
    /// the type's response schema accepts (values are strings, or lists of
    /// strings for repeated names, unless the type's schema says otherwise).
    #[schema(title = "fields", value_type = std::collections::HashMap<String, serde_json::Value>, examples(json!({"fields": {"value": "12.5"}})))]
    Fields(serde_json::Map<String, serde_json::Value>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumericResponse {
    pub value: f64,
    /// One of the key's unit names; absent or null for none.
    #[serde(default)]
    pub unit: Option<String>,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

fn list<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

impl From<AnswerKey> for g::AnswerKey {
    fn from(k: AnswerKey) -> Self {
        match k {
            AnswerKey::SingleChoice(c) => g::AnswerKey::SingleChoice(c.into()),
            AnswerKey::MultipleChoice(c) => g::AnswerKey::MultipleChoice(c.into()),
            AnswerKey::TrueFalse(b) => g::AnswerKey::TrueFalse(b),
            AnswerKey::Numeric(n) => g::AnswerKey::Numeric(n.into()),
            AnswerKey::ShortAnswer(t) => g::AnswerKey::ShortAnswer(t.into()),
            AnswerKey::Matching(p) => g::AnswerKey::Matching(list(p)),
            AnswerKey::Ordering(i) => g::AnswerKey::Ordering(i),
            AnswerKey::FillBlanks(t) => g::AnswerKey::FillBlanks(list(t)),
            AnswerKey::Essay(r) => g::AnswerKey::Essay(list(r)),
            AnswerKey::Plugin(p) => g::AnswerKey::Plugin(g::PluginKey {
                plugin: p.plugin,
                type_id: p.type_id,
                settings: p.settings.to_string(),
            }),
        }
    }
}

impl From<g::AnswerKey> for AnswerKey {
    fn from(k: g::AnswerKey) -> Self {
        match k {
            g::AnswerKey::SingleChoice(c) => AnswerKey::SingleChoice(c.into()),
            g::AnswerKey::MultipleChoice(c) => AnswerKey::MultipleChoice(c.into()),
            g::AnswerKey::TrueFalse(b) => AnswerKey::TrueFalse(b),
            g::AnswerKey::Numeric(n) => AnswerKey::Numeric(n.into()),
            g::AnswerKey::ShortAnswer(t) => AnswerKey::ShortAnswer(t.into()),
            g::AnswerKey::Matching(p) => AnswerKey::Matching(list(p)),
            g::AnswerKey::Ordering(i) => AnswerKey::Ordering(i),
            g::AnswerKey::FillBlanks(t) => AnswerKey::FillBlanks(list(t)),
            g::AnswerKey::Essay(r) => AnswerKey::Essay(list(r)),
            g::AnswerKey::Plugin(p) => AnswerKey::Plugin(PluginQuestionKey {
                plugin: p.plugin,
                type_id: p.type_id,
                settings: serde_json::from_str(&p.settings).unwrap_or_default(),
            }),
        }
    }
}

impl From<ChoiceRule> for g::MultiRule {
    fn from(r: ChoiceRule) -> Self {
        match r {
            ChoiceRule::AllOrNothing => g::MultiRule::AllOrNothing,
            ChoiceRule::RightMinusWrong => g::MultiRule::RightMinusWrong,
            ChoiceRule::PerOptionWeights => g::MultiRule::PerOptionWeights,
        }
    }
}

impl From<g::MultiRule> for ChoiceRule {
    fn from(r: g::MultiRule) -> Self {
        match r {
            g::MultiRule::AllOrNothing => ChoiceRule::AllOrNothing,
            g::MultiRule::RightMinusWrong => ChoiceRule::RightMinusWrong,
            g::MultiRule::PerOptionWeights => ChoiceRule::PerOptionWeights,
        }
    }
}

impl From<ChoiceKey> for g::ChoiceKey {
    fn from(c: ChoiceKey) -> Self {
        g::ChoiceKey { options: list(c.options), rule: c.rule.into() }
    }
}

impl From<g::ChoiceKey> for ChoiceKey {
    fn from(c: g::ChoiceKey) -> Self {
        ChoiceKey { options: list(c.options), rule: c.rule.into() }
    }
}

impl From<ChoiceOption> for g::ChoiceOption {
    fn from(o: ChoiceOption) -> Self {
        g::ChoiceOption { id: o.id, correct: o.correct, weight: o.weight, feedback: o.feedback }
    }
}

impl From<g::ChoiceOption> for ChoiceOption {
    fn from(o: g::ChoiceOption) -> Self {
        ChoiceOption { id: o.id, correct: o.correct, weight: o.weight, feedback: o.feedback }
    }
}

impl From<NumericKey> for g::NumericKey {
    fn from(n: NumericKey) -> Self {
        g::NumericKey {
            value: n.value,
            absolute_tolerance: n.absolute_tolerance,
            relative_tolerance: n.relative_tolerance,
            units: list(n.units),
            unit_missing_credit: n.unit_missing_credit,
        }
    }
}

impl From<g::NumericKey> for NumericKey {
    fn from(n: g::NumericKey) -> Self {
        NumericKey {
            value: n.value,
            absolute_tolerance: n.absolute_tolerance,
            relative_tolerance: n.relative_tolerance,
            units: list(n.units),
            unit_missing_credit: n.unit_missing_credit,
        }
    }
}

impl From<NumericUnit> for g::Unit {
    fn from(u: NumericUnit) -> Self {
        g::Unit { name: u.name, factor: u.factor }
    }
}

impl From<g::Unit> for NumericUnit {
    fn from(u: g::Unit) -> Self {
        NumericUnit { name: u.name, factor: u.factor }
    }
}

impl From<TextKey> for g::TextKey {
    fn from(t: TextKey) -> Self {
        g::TextKey {
            alternatives: list(t.alternatives),
            case_sensitive: t.case_sensitive,
            normalize_whitespace: t.normalize_whitespace,
        }
    }
}

impl From<g::TextKey> for TextKey {
    fn from(t: g::TextKey) -> Self {
        TextKey {
            alternatives: list(t.alternatives),
            case_sensitive: t.case_sensitive,
            normalize_whitespace: t.normalize_whitespace,
        }
    }
}

impl From<TextAlternative> for g::TextAlternative {
    fn from(a: TextAlternative) -> Self {
        g::TextAlternative { pattern: a.pattern, regex: a.regex, credit: a.credit, feedback: a.feedback }
    }
}

impl From<g::TextAlternative> for TextAlternative {
    fn from(a: g::TextAlternative) -> Self {
        TextAlternative { pattern: a.pattern, regex: a.regex, credit: a.credit, feedback: a.feedback }
    }
}

impl From<Pair> for g::Pair {
    fn from(p: Pair) -> Self {
        g::Pair { left: p.left, right: p.right }
    }
}

impl From<g::Pair> for Pair {
    fn from(p: g::Pair) -> Self {
        Pair { left: p.left, right: p.right }
    }
}

impl From<RubricCriterion> for g::RubricCriterion {
    fn from(r: RubricCriterion) -> Self {
        g::RubricCriterion { id: r.id, description: r.description, points: r.points }
    }
}

impl From<g::RubricCriterion> for RubricCriterion {
    fn from(r: g::RubricCriterion) -> Self {
        RubricCriterion { id: r.id, description: r.description, points: r.points }
    }
}

impl From<AnswerResponse> for g::Response {
    fn from(r: AnswerResponse) -> Self {
        match r {
            AnswerResponse::Choices(c) => g::Response::Choices(c),
            AnswerResponse::Boolean(b) => g::Response::Boolean(b),
            AnswerResponse::Number(NumericResponse { value, unit }) => g::Response::Number { value, unit },
            AnswerResponse::Text(t) => g::Response::Text(t),
            AnswerResponse::Pairs(p) => g::Response::Pairs(list(p)),
            AnswerResponse::Sequence(s) => g::Response::Sequence(s),
            AnswerResponse::Blanks(b) => g::Response::Blanks(b),
            AnswerResponse::Essay(e) => g::Response::Essay(e),
            AnswerResponse::Fields(f) => g::Response::Fields(serde_json::Value::Object(f).to_string()),
        }
    }
}

impl From<g::Response> for AnswerResponse {
    fn from(r: g::Response) -> Self {
        match r {
            g::Response::Choices(c) => AnswerResponse::Choices(c),
            g::Response::Boolean(b) => AnswerResponse::Boolean(b),
            g::Response::Number { value, unit } => AnswerResponse::Number(NumericResponse { value, unit }),
            g::Response::Text(t) => AnswerResponse::Text(t),
            g::Response::Pairs(p) => AnswerResponse::Pairs(list(p)),
            g::Response::Sequence(s) => AnswerResponse::Sequence(s),
            g::Response::Blanks(b) => AnswerResponse::Blanks(b),
            g::Response::Essay(e) => AnswerResponse::Essay(e),
            g::Response::Fields(f) => AnswerResponse::Fields(
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&f).unwrap_or_default(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::*;

    /// `json` read through the DTO must give the grading type `expected`.
    fn check_key(json: Value, expected: g::AnswerKey) {
        let dto: AnswerKey = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(g::AnswerKey::from(dto), expected, "{json}");
    }

    /// Keys in the full shape (every field given) read exactly as the
    /// grading type reads them, and a stored key goes out as it always did.
    #[test]
    fn full_keys_keep_their_meaning_and_their_json() {
        let keys = [
            json!({"single_choice": {"options": [
                {"id": "a", "correct": true, "weight": 0.5, "feedback": "yes"},
                {"id": "b", "correct": false, "weight": -0.25, "feedback": null}], "rule": "per_option_weights"}}),
            json!({"multiple_choice": {"options": [{"id": "a", "correct": true, "weight": 1.0, "feedback": null}],
                "rule": "right_minus_wrong"}}),
            json!({"true_false": false}),
            json!({"numeric": {"value": 9.81, "absolute_tolerance": 0.05, "relative_tolerance": null,
                "units": [{"name": "cm", "factor": 0.01}], "unit_missing_credit": 0.25}}),
            json!({"short_answer": {"alternatives": [{"pattern": "x+", "regex": true, "credit": 0.5, "feedback": null}],
                "case_sensitive": true, "normalize_whitespace": false}}),
            json!({"matching": [{"left": "a", "right": "1"}]}),
            json!({"ordering": ["a", "b"]}),
            json!({"fill_blanks": [{"alternatives": [{"pattern": "p", "regex": false, "credit": 1.0, "feedback": "f"}],
                "case_sensitive": false, "normalize_whitespace": true}]}),
            json!({"essay": [{"id": "t", "description": "Thesis", "points": 2.0}]}),
        ];
        for k in keys {
            let slot: g::AnswerKey = serde_json::from_value(k.clone()).unwrap();
            check_key(k.clone(), slot.clone());
            assert_eq!(serde_json::to_value(AnswerKey::from(slot)).unwrap(), k);
        }
    }

    #[test]
    fn fields_a_rule_does_not_use_may_be_left_out() {
        let option = |id: &str, correct: bool| g::ChoiceOption { id: id.into(), correct, weight: 0.0, feedback: None };
        check_key(
            json!({"single_choice": {"options": [{"id": "a"}, {"id": "b", "correct": true}]}}),
            g::AnswerKey::SingleChoice(g::ChoiceKey {
                options: vec![option("a", false), option("b", true)],
                rule: g::MultiRule::AllOrNothing,
            }),
        );
        check_key(
            json!({"numeric": {"value": 2, "units": [{"name": "m"}]}}),
            g::AnswerKey::Numeric(g::NumericKey {
                value: 2.0,
                absolute_tolerance: None,
                relative_tolerance: None,
                units: vec![g::Unit { name: "m".into(), factor: 1.0 }],
                unit_missing_credit: 0.0,
            }),
        );
        let paris = g::TextKey {
            alternatives: vec![g::TextAlternative {
                pattern: "Paris".into(),
                regex: false,
                credit: 1.0,
                feedback: None,
            }],
            case_sensitive: false,
            normalize_whitespace: true,
        };
        check_key(
            json!({"short_answer": {"alternatives": [{"pattern": "Paris"}]}}),
            g::AnswerKey::ShortAnswer(paris.clone()),
        );
        check_key(
            json!({"fill_blanks": [{"alternatives": [{"pattern": "Paris"}]}]}),
            g::AnswerKey::FillBlanks(vec![paris]),
        );
        check_key(
            json!({"essay": [{"id": "t", "points": 1}]}),
            g::AnswerKey::Essay(vec![g::RubricCriterion { id: "t".into(), description: String::new(), points: 1.0 }]),
        );
        let r: AnswerResponse = serde_json::from_value(json!({"number": {"value": 3}})).unwrap();
        assert_eq!(g::Response::from(r), g::Response::Number { value: 3.0, unit: None });
    }

    /// With fields optional, a misspelt one must not silently become its default.
    #[test]
    fn misspelt_fields_are_refused() {
        for bad in [
            json!({"short_answer": {"alternatives": [{"pattern": "a"}], "case_sensitve": true}}),
            json!({"single_choice": {"options": [{"id": "a", "corect": true}]}}),
            json!({"numeric": {"value": 1, "tolerance": 0.1}}),
        ] {
            assert!(serde_json::from_value::<AnswerKey>(bad.clone()).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<AnswerResponse>(json!({"number": {"value": 1, "units": "m"}})).is_err());
    }

    /// Each `oneOf` variant's first example, by its title.
    fn examples<T: PartialSchema>() -> Vec<(String, Value)> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let variants = schema["oneOf"].as_array().unwrap().clone();
        variants.iter().map(|v| (v["title"].as_str().unwrap().to_owned(), v["examples"][0].clone())).collect()
    }

    /// Every example in the schema reads as its own variant (the e2e test
    /// also sends them over HTTP).
    #[test]
    fn every_example_is_valid() {
        let keys = examples::<AnswerKey>();
        assert_eq!(keys.len(), 10);
        for (title, ex) in keys {
            let k: AnswerKey = serde_json::from_value(ex.clone()).unwrap_or_else(|e| panic!("{title}: {ex}: {e}"));
            let name = serde_json::to_value(&k).unwrap().as_object().unwrap().keys().next().unwrap().clone();
            assert_eq!(name, title);
        }
        let responses = examples::<AnswerResponse>();
        assert_eq!(responses.len(), 9);
        for (title, ex) in responses {
            let r: AnswerResponse = serde_json::from_value(ex.clone()).unwrap_or_else(|e| panic!("{title}: {ex}: {e}"));
            let name = serde_json::to_value(&r).unwrap().as_object().unwrap().keys().next().unwrap().clone();
            assert_eq!(name, title);
        }
    }
}

//! The only places where a request or a success response of the API
//! carries JSON whose shape the OpenAPI document does not spell out.
//! Everything else is a typed DTO with a schema, so a client generated from
//! `/api/v1/openapi.json` has no `any`/`unknown` in it.
//!
//! Each entry says why the JSON is free-form: it is defined by someone else
//! (a W3C/1EdTech document, a publisher's index, a topic's payload). The
//! tests in `typed_responses.rs` fail on a free-form body or field that is
//! not listed here, and on an entry here that no longer matches anything;
//! `tests/e2e/typed_client.rs` checks the success bodies and component
//! fields of the TypeScript client `openapi-typescript` generates.

/// A request or success (2XX) body that is free-form as a whole.
#[derive(Clone, Copy, Debug)]
pub struct Body {
    /// Lower-case HTTP method, as in the OpenAPI document.
    pub method: &'static str,
    /// The templated path, as in the OpenAPI document.
    pub path: &'static str,
    pub why: &'static str,
}

/// A free-form field of a typed body (request or response).
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The component schema (`components.schemas.<schema>`).
    pub schema: &'static str,
    /// The property of that schema.
    pub field: &'static str,
    pub why: &'static str,
}

/// Success bodies that are free-form as a whole: none. (The public
/// credential documents at `/credentials/{id}` and the status lists are
/// JSON-LD too, but they are served outside `/api/v1` and not in the document.)
pub const BODIES: &[Body] = &[];

/// Request bodies that are free-form as a whole.
pub const REQUESTS: &[Body] = &[Body {
    method: "post",
    path: "/api/v1/credentials/verify",
    why: "any Open Badges 3.0 / W3C Verifiable Credential: JSON-LD defined by 1EdTech and the W3C, \
          checked by the verifier, whose `structure` check answers for anything that is not one",
}];

/// Why an activity item's settings are free-form (three request fields carry them).
const ACTIVITY_SETTINGS: &str = "an instructor's settings for a plugin's activity kind: their shape is the kind's, \
     given by its settings schema (listed at GET /api/v1/institutions/{institution}/activity-kinds), \
     which the kernel checks them against before storing them";

/// Why a privacy export's sections are free-form.
const PERSON_EXPORT: &str = "a privacy export's section: the kernel's records about the person as stored (each context's own \
     field names), an archive for the person or another system (GDPR art. 20), not an API resource; \
     lectern_core::privacy lists what each section holds";

/// Free-form fields of typed bodies.
pub const FIELDS: &[Field] = &[
    Field { schema: "PersonExport", field: "person", why: PERSON_EXPORT },
    Field { schema: "PersonExport", field: "assessment", why: PERSON_EXPORT },
    Field { schema: "PersonExport", field: "content", why: PERSON_EXPORT },
    Field { schema: "PersonExport", field: "tutor", why: PERSON_EXPORT },
    Field { schema: "PersonExport", field: "notifications", why: PERSON_EXPORT },
    Field { schema: "PersonExport", field: "audit", why: PERSON_EXPORT },
    Field {
        schema: "MyCredential",
        field: "credential",
        why: "the signed Open Badges 3.0 AchievementCredential exactly as issued: JSON-LD defined by \
              1EdTech and the W3C, signed over these bytes, so it is passed through and never re-shaped",
    },
    Field {
        schema: "CatalogueEntry",
        field: "capabilities",
        why: "what the publisher's signed index listing states, passed through as listed (lectern-core \
              hands it over as JSON); the package's own manifest is what install checks",
    },
    Field {
        schema: "PluginSettings",
        field: "settings",
        why: "a plugin's own settings (an endpoint, a key, which courses to sync): their shape is the \
              plugin's, which alone reads them through lectern:plugin/settings; the kernel only checks \
              that they are a JSON object of at most 64 KiB",
    },
    Field {
        schema: "PutSettings",
        field: "settings",
        why: "a plugin's own settings, as for PluginSettings.settings: the plugin defines their shape",
    },
    Field {
        schema: "PluginQuestionKey",
        field: "settings",
        why: "an author's settings for a plugin's question type: their shape is the type's, given by \
              its settings schema (listed at GET /api/v1/institutions/{institution}/question-types), \
              which the kernel checks them against when the assessment is saved",
    },
    Field {
        schema: "AnswerResponse",
        field: "fields{}",
        why: "a response to a plugin's question type: its shape is the type's, given by its response \
              schema, which the kernel checks before saving (a view's form fields give strings, or \
              lists of strings for repeated names)",
    },
    Field {
        schema: "QuestionType",
        field: "settings_schema",
        why: "a JSON Schema document, as the question-type plugin declared it (any valid JSON Schema)",
    },
    Field {
        schema: "QuestionType",
        field: "response_schema",
        why: "a JSON Schema document, as the question-type plugin declared it (any valid JSON Schema)",
    },
    Field { schema: "ActivityInput", field: "settings", why: ACTIVITY_SETTINGS },
    Field { schema: "UpdateItem", field: "activity_settings", why: ACTIVITY_SETTINGS },
    Field { schema: "ActivitySettingsViewRequest", field: "settings", why: ACTIVITY_SETTINGS },
    Field {
        schema: "Body",
        field: "settings",
        why: "an activity item's settings as the instructor wrote them (staff; null for learners): \
              their shape is the activity kind's, given by its settings schema",
    },
    Field {
        schema: "ActivityKind",
        field: "settings_schema",
        why: "a JSON Schema document, as the activity plugin declared it (any valid JSON Schema)",
    },
    Field {
        schema: "PublishEvent",
        field: "payload",
        why: "an event payload for any topic, a kernel event's or a plugin's own: its shape is the \
              topic's, checked by the topic's consumers",
    },
];

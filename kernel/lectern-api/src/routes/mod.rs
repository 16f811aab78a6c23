//! Route table. Every `/api/v1` and OAuth route is registered through
//! `utoipa_axum::routes!`, so the OpenAPI document and the router cannot drift.

mod admin;
mod assessments;
mod audit;
mod auth;
pub(crate) mod blobs;
mod content;
mod courses;
pub(crate) mod credential_pages;
mod events;
mod gradebook;
pub(crate) mod install_jobs;
mod institutions;
pub(crate) mod marketplace;
mod media;
mod oauth;
mod plugins;
pub(crate) mod system;
mod tutor;
mod users;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::parse_id;
use crate::problem::ApiResult;

#[derive(OpenApi)]
#[openapi(
    info(title = "Lectern API", version = "1.0.0", description = "The Lectern kernel's HTTP API. Errors are RFC 9457 problem documents (`application/problem+json`) whose `type` is stable per kind of error."),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Login, sessions and the caller"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect"),
        (name = "institutions", description = "Tenants (platform administrators)"),
        (name = "users", description = "Accounts within an institution"),
        (name = "courses", description = "Courses and enrolments"),
        (name = "media", description = "Course media uploads and content-addressed blob delivery (`/blobs/{sha256}`)"),
        (name = "content", description = "Course content: modules, items, pages, progress, archives"),
        (name = "assessments", description = "Assessments and the exam flow: attempts, answers, submission"),
        (name = "plugins", description = "WebAssembly plugins: install, activate, roll back"),
        (name = "marketplace", description = "The plugin marketplace: verified catalogue, refresh, security alerts"),
        (name = "grades", description = "Gradebook, regrades and course completion"),
        (name = "credentials", description = "Open Badges 3.0 course credentials"),
        (name = "notifications", description = "In-app notifications and preferences"),
        (name = "webhooks", description = "Institution webhooks"),
        (name = "audit", description = "The audit log: who did what to whom, when and from where; hash-chained"),
        (name = "bus", description = "The event bus: topics, backlogs, dead letters (platform administrators)"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "lectern_session",
                "The login session cookie (`__Host-lectern_session` when `http.secure_cookies` is set).",
            ))),
        );
    }
}

pub(crate) fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::bootstrap))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::my_sessions))
        .routes(routes!(auth::revoke_my_session))
        .routes(routes!(auth::change_my_password))
        .routes(routes!(auth::my_courses))
        .routes(routes!(oauth::authorize))
        .routes(routes!(oauth::consent_prompt, oauth::consent_decide))
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::revoke))
        .routes(routes!(oauth::userinfo))
        .routes(routes!(institutions::create, institutions::list))
        .routes(routes!(institutions::get, institutions::update))
        .routes(routes!(institutions::rotate_key))
        .routes(routes!(institutions::signing_keys))
        .routes(routes!(institutions::create_client, institutions::list_clients))
        .routes(routes!(institutions::revoke_client))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(audit::list_all))
        .routes(routes!(audit::verify))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::import))
        .routes(routes!(users::reset_sessions))
        .routes(routes!(users::export_person))
        .routes(routes!(users::erase_person))
        .routes(routes!(users::export_my_data))
        .routes(routes!(users::get, users::update))
        .routes(routes!(users::deactivate))
        .routes(routes!(users::reactivate))
        .routes(routes!(users::set_password))
        .routes(routes!(courses::create, courses::list))
        .routes(routes!(courses::get, courses::update, courses::delete))
        .routes(routes!(courses::publish))
        .routes(routes!(courses::archive))
        .routes(routes!(courses::enrol, courses::list_enrolments))
        .routes(routes!(courses::import_enrolments))
        .routes(routes!(courses::change_role, courses::unenrol))
        .routes(routes!(media::delete, media::update))
        .routes(routes!(blobs::blob))
        .routes(routes!(blobs::plugin_asset))
        .routes(routes!(content::learner_view))
        .routes(routes!(content::outline))
        .routes(routes!(content::add_module))
        .routes(routes!(content::update_module, content::delete_module))
        .routes(routes!(content::add_item))
        .routes(routes!(content::open_item, content::update_item, content::delete_item))
        .routes(routes!(content::reorder))
        .routes(routes!(content::page))
        .routes(routes!(content::set_captions))
        .routes(routes!(content::preview))
        .routes(routes!(content::complete))
        .routes(routes!(content::activity_kinds))
        .routes(routes!(content::render_activity))
        .routes(routes!(content::act_on_activity))
        .routes(routes!(content::activity_settings_view))
        .routes(routes!(content::student_progress))
        .routes(routes!(content::rerender))
        .routes(routes!(assessments::create, assessments::list))
        .routes(routes!(assessments::question_types))
        .routes(routes!(assessments::get, assessments::update, assessments::delete))
        .routes(routes!(assessments::start, assessments::my_attempts))
        .routes(routes!(assessments::get_attempt))
        .routes(routes!(assessments::preview))
        .routes(routes!(assessments::attempt_result))
        .routes(routes!(assessments::save_answer))
        .routes(routes!(assessments::submit))
        .routes(routes!(assessments::hint))
        .routes(routes!(assessments::signals))
        .routes(routes!(assessments::proctoring_record))
        .routes(routes!(assessments::flagged))
        .routes(routes!(assessments::review))
        .routes(routes!(plugins::list))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(plugins::install))
                .layer(axum::extract::DefaultBodyLimit::max(PLUGIN_UPLOAD_LIMIT)),
        )
        .routes(routes!(marketplace::install))
        .routes(routes!(install_jobs::get))
        .routes(routes!(marketplace::catalogue))
        .routes(routes!(marketplace::alerts))
        .routes(routes!(marketplace::refresh))
        .routes(routes!(plugins::activate))
        .routes(routes!(plugins::rollback))
        .routes(routes!(plugins::deactivate))
        .routes(routes!(plugins::get_settings, plugins::put_settings))
        .routes(routes!(plugins::use_platform_default))
        .routes(routes!(plugins::uninstall))
        .routes(routes!(events::gradebook))
        .routes(routes!(events::student_grades))
        .routes(routes!(events::set_grade))
        .routes(routes!(events::regrade))
        .routes(routes!(gradebook::manual_queue))
        .routes(routes!(gradebook::manual_grade))
        .routes(routes!(gradebook::regrade_assessment))
        .routes(routes!(gradebook::get_categories, gradebook::set_categories))
        .routes(routes!(gradebook::gradebook_csv))
        .routes(routes!(tutor::ask))
        .routes(routes!(tutor::conversation))
        .routes(routes!(tutor::get_policy, tutor::set_policy))
        .routes(routes!(tutor::index_status, tutor::reindex))
        .routes(routes!(tutor::insights))
        .routes(routes!(events::get_completion_rule, events::set_completion_rule))
        .routes(routes!(events::verify_credential))
        .routes(routes!(events::my_credentials))
        .routes(routes!(events::revoke_credential))
        .routes(routes!(events::my_notifications))
        .routes(routes!(events::mark_read))
        .routes(routes!(events::mark_all_read))
        .routes(routes!(events::get_preferences, events::set_preferences))
        .routes(routes!(events::create_webhook, events::list_webhooks))
        .routes(routes!(events::delete_webhook))
        .routes(routes!(events::enable_webhook))
        .routes(routes!(events::webhook_deliveries))
        .routes(routes!(events::bus_topics))
        .routes(routes!(admin::about))
        .routes(routes!(admin::check_email))
        .routes(routes!(events::publish))
        .routes(routes!(events::dead_letters))
        .routes(routes!(events::replay))
        .routes(routes!(events::discard))
}

/// Routes that read long request bodies: no overall deadline (each chunk must
/// arrive within the request timeout instead) and no global body limit (the
/// kernel's media limit applies while streaming).
pub(crate) fn streaming_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media::upload, media::list))
        .routes(routes!(content::import))
        // Exports are written to a temporary file before the first byte is sent.
        .routes(routes!(content::export))
        // A backup can take longer than the request deadline to write.
        .routes(routes!(admin::backup))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Components of interpreted-language plugins run to tens of MB.
const PLUGIN_UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The institution (slug or id) and course id of a `/institutions/{institution}/courses/{course_id}/…` path.
fn ids(s: &AppState, inst: &str, course: &str) -> ApiResult<(lectern_core::InstitutionId, lectern_core::CourseId)> {
    Ok((s.kernel.identity().resolve_institution(inst)?, parse_id("course_id", course)?))
}

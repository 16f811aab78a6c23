//! Course content: the outline authors build, the view learners get,
//! progress, and course archives (export/import).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_core::UserId;
use lectern_core::content::{self as c, ImportOptions};
use serde::Deserialize;

use super::ids;
use crate::AppState;
use crate::dto::{self, content as d};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, if_match, parse_id};
use crate::problem::{ApiError, ApiResult};

fn outline_response(
    s: &AppState,
    (i, cid): (lectern_core::InstitutionId, lectern_core::CourseId),
    status: StatusCode,
    o: c::Outline,
) -> Response {
    let etag = format!("\"{}\"", o.version);
    (status, [(header::ETAG, etag)], Json(d::Outline::new(o, &urls(s, i, cid)))).into_response()
}

/// Signs the blob URLs of course `(i, cid)`'s records for this response.
fn urls(s: &AppState, i: lectern_core::InstitutionId, cid: lectern_core::CourseId) -> d::BlobUrls<'_> {
    d::BlobUrls::new(s.kernel.content(), i, cid)
}

/// The course's content as the caller sees it: released items (locked ones
/// with the reason), completion, progress and where to continue. Staff see everything.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = d::StudentOutline), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn learner_view(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::StudentOutline>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.content().learner_outline(&p, i, cid).await?.into()))
}

/// The whole outline for authors. The `ETag` is its version: send it as
/// `If-Match` with a change to avoid overwriting a concurrent edit.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/outline", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = d::Outline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn outline(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(outline_response(&s, (i, cid), StatusCode::OK, s.kernel.content().content_outline(&p, i, cid)?))
}

/// Adds a module at the end of the outline.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/modules", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = d::CreateModule,
    responses((status = 201, body = d::Outline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn add_module(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::CreateModule>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let input = c::ModuleInput { id: b.id, title: b.title, release_at: d::time_opt("release_at", b.release_at)? };
    let o = s.kernel.content().add_module(&p, i, cid, input, if_match(&headers)?).await?;
    Ok(outline_response(&s, (i, cid), StatusCode::CREATED, o))
}

/// Renames a module or changes its release date (`null` clears it).
#[utoipa::path(patch, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("module_id" = String, Path)), request_body = d::UpdateModule,
    responses((status = 200, body = d::Outline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update_module(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course, module)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::UpdateModule>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let release_at = b.release_at.map(|r| d::time_opt("release_at", r)).transpose()?;
    let patch = c::ModulePatch { title: b.title, release_at };
    Ok(outline_response(
        &s,
        (i, cid),
        StatusCode::OK,
        s.kernel.content().update_module(&p, i, cid, &module, patch, if_match(&headers)?).await?,
    ))
}

/// Deletes an empty module.
#[utoipa::path(delete, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("module_id" = String, Path)),
    responses((status = 200, body = d::Outline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_module(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course, module)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(outline_response(
        &s,
        (i, cid),
        StatusCode::OK,
        s.kernel.content().delete_module(&p, i, cid, &module, if_match(&headers)?).await?,
    ))
}

/// Adds an item at the end of a module. Pages are rendered by the content
/// plugin now; media items name a blob uploaded to the course.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}/items", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("module_id" = String, Path)), request_body = d::CreateItem,
    responses((status = 201, body = d::Item), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn add_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course, module)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::CreateItem>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let input = c::ItemInput {
        id: b.id,
        kind: b.kind.into(),
        title: b.title,
        markdown: b.markdown,
        media: b.media,
        url: b.url,
        assessment: b.assessment,
        activity: b.activity.map(Into::into),
        prerequisites: b.prerequisites.into_iter().map(Into::into).collect(),
        release_at: d::time_opt("release_at", b.release_at)?,
        completion: b.completion.map(Into::into),
    };
    let (item, o) = s.kernel.content().add_item(&p, i, cid, &module, input, if_match(&headers)?).await?;
    let item = d::Item::new(item, &urls(&s, i, cid));
    Ok((StatusCode::CREATED, [(header::ETAG, format!("\"{}\"", o.version))], Json(item)).into_response())
}

/// Changes an item; `module`/`position` move it.
#[utoipa::path(patch, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)), request_body = d::UpdateItem,
    responses((status = 200, body = d::Item), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::UpdateItem>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let patch = c::ItemPatch {
        title: b.title,
        markdown: b.markdown,
        media: b.media,
        url: b.url,
        assessment: b.assessment,
        activity_settings: b.activity_settings,
        prerequisites: b.prerequisites.map(|l| l.into_iter().map(Into::into).collect()),
        release_at: b.release_at.map(|r| d::time_opt("release_at", r)).transpose()?,
        completion: b.completion.map(Into::into),
        module: b.module,
        position: b.position,
    };
    let (item, o) = s.kernel.content().update_item(&p, i, cid, &item, patch, if_match(&headers)?).await?;
    Ok(([(header::ETAG, format!("\"{}\"", o.version))], Json(d::Item::new(item, &urls(&s, i, cid)))).into_response())
}

/// Deletes an item no other item requires.
#[utoipa::path(delete, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (i, cid) = ids(&s, &inst, &course)?;
    s.kernel.content().delete_item(&p, i, cid, &item, if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the order of modules and of the items in them (and moves items between
/// modules): every module and item exactly once.
#[utoipa::path(put, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/order", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = d::Order,
    responses((status = 200, body = d::Outline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn reorder(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::Order>,
) -> ApiResult<Response> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let order = b.modules.into_iter().map(|m| c::OrderEntry { module: m.id, items: m.items }).collect();
    Ok(outline_response(
        &s,
        (i, cid),
        StatusCode::OK,
        s.kernel.content().reorder_content(&p, i, cid, order, if_match(&headers)?).await?,
    ))
}

/// Opens an item: 404 while it is not released, 403 with the reason while it
/// is locked. Opening records progress and the place to continue from.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)),
    responses((status = 200, body = d::ItemDetail), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn open_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::ItemDetail>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let detail = s.kernel.content().open_item(&p, i, cid, &item).await?;
    Ok(Json(d::ItemDetail::new(detail, &urls(&s, i, cid))))
}

/// Replaces a video item's caption and subtitle tracks (course editors):
/// WebVTT files already uploaded to the course's media, each with a BCP 47
/// language and a label; an empty list removes them. Learners get them with
/// the item.
#[utoipa::path(put, operation_id = "set_captions", path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/captions", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)), request_body = d::SetCaptions,
    responses((status = 200, body = d::Captions), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn set_captions(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::SetCaptions>,
) -> ApiResult<Json<d::Captions>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let tracks = b.tracks.into_iter().map(Into::into).collect();
    let stored = s.kernel.content().set_captions(&p, i, cid, &item, tracks).await?;
    let urls = urls(&s, i, cid);
    Ok(Json(d::Captions { tracks: stored.into_iter().map(|t| d::CaptionTrack::new(t, &urls)).collect() }))
}

/// A page's Markdown source and rendering, for authors.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/page", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)),
    responses((status = 200, body = d::Page), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn page(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::Page>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(d::Page::new(s.kernel.content().content_page(&p, i, cid, &item)?, &urls(&s, i, cid))))
}

/// Renders Markdown with the institution's content plugin exactly as saving a
/// page would, and stores nothing (no outline change, no version bump, no
/// blob): the editor's live preview, before the text reaches students.
#[utoipa::path(post, operation_id = "preview_page", path = "/api/v1/institutions/{institution}/courses/{course_id}/content/preview", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = d::PreviewPage,
    responses((status = 200, body = d::PagePreview), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::PreviewPage>,
) -> ApiResult<Json<d::PagePreview>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.content().preview_page(&p, i, cid, b.markdown).await?.into()))
}

/// The activity kinds plugins offer this institution's instructors, with
/// their settings schemas (an `activity` item names one).
#[utoipa::path(get, operation_id = "list_activity_kinds", path = "/api/v1/institutions/{institution}/activity-kinds", tag = "content",
    params(("institution" = String, Path)),
    responses((status = 200, body = d::ActivityKindList), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn activity_kinds(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
) -> ApiResult<Json<d::ActivityKindList>> {
    let i = s.kernel.identity().resolve_institution(&inst)?;
    let items = s.kernel.content().activity_kinds(&p, i)?.into_iter().map(Into::into).collect();
    Ok(Json(d::ActivityKindList { items }))
}

/// An activity item's view for the caller, from their state (404 while the
/// item is hidden, 403 while locked, 503 while its plugin is not active).
#[utoipa::path(get, operation_id = "render_activity", path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/activity", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)),
    responses((status = 200, body = d::ActivityView), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn render_activity(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::ActivityView>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.content().render_activity(&p, i, cid, &item).await?.into()))
}

/// A learner's action on an activity item. The plugin computes the new
/// state; the kernel keeps it, with the completion and score the plugin
/// reported, unless another action changed the state meanwhile (then the
/// plugin is asked again with the newer state). A refusal by the plugin
/// (422, its words in `detail`) changes nothing.
#[utoipa::path(post, operation_id = "act_on_activity", path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/activity/actions", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)), request_body = d::ActivityAction,
    responses((status = 200, body = d::ActivityOutcome), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn act_on_activity(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<d::ActivityAction>,
) -> ApiResult<Json<d::ActivityOutcome>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(
        s.kernel.content().act_on_activity(&p, i, cid, &item, b.action, serde_json::json!(b.payload)).await?.into(),
    ))
}

/// An activity kind's settings form as its plugin draws it (course editors);
/// `view: null` when the plugin leaves it to a form built from the schema.
#[utoipa::path(post, operation_id = "activity_settings_view", path = "/api/v1/institutions/{institution}/courses/{course_id}/content/activity-settings-view", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)), request_body = d::ActivitySettingsViewRequest,
    responses((status = 200, body = d::ActivitySettingsView), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn activity_settings_view(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<d::ActivitySettingsViewRequest>,
) -> ApiResult<Json<d::ActivitySettingsView>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let v = s.kernel.content().activity_settings_view(&p, i, cid, b.plugin, b.kind, b.settings).await?;
    Ok(Json(d::ActivitySettingsView { view: v.map(|v| d::PluginView { html: v.html, assets: v.assets }) }))
}

/// Marks a `manual` item complete for the caller.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/complete", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("item_id" = String, Path)),
    responses((status = 200, body = d::StudentOutline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn complete(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, item)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::StudentOutline>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(s.kernel.content().complete_item(&p, i, cid, &item).await?.into()))
}

/// A student's view of the course and their progress, for the course's staff.
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/progress/{user_id}", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = d::StudentOutline), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn student_progress(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, user)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<d::StudentOutline>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    let uid: UserId = parse_id("user_id", &user)?;
    Ok(Json(s.kernel.content().student_progress(&p, i, cid, uid).await?.into()))
}

/// Renders every page again with the content plugin active now (after an upgrade or swap).
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/rerender", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = d::Rerendered), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn rerender(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<d::Rerendered>> {
    let (i, cid) = ids(&s, &inst, &course)?;
    Ok(Json(d::Rerendered { pages: s.kernel.content().rerender_pages(&p, i, cid).await? }))
}

fn io_error(e: impl Into<lectern_core::error::BoxError>) -> ApiError {
    ApiError::from(lectern_core::CoreError::internal("streaming a course archive failed", e))
}

/// The course as a `lectern-course` archive (POSIX tar: `lectern-course.json`, then `media/<sha256>`).
#[utoipa::path(get, path = "/api/v1/institutions/{institution}/courses/{course_id}/content/export", tag = "content",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, content_type = "application/x-tar", body = dto::Binary), (status = "4XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn export(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    use std::io::{Seek, SeekFrom};
    let (i, cid) = ids(&s, &inst, &course)?;
    let (code, _) = s.kernel.identity().get_course(&p, i, cid).map(|(c, r)| (c.code, r))?;
    let kernel = s.kernel.clone();
    let dir = kernel.config().data_dir.clone();
    // Written to an unnamed temporary file first (media can be gigabytes),
    // then streamed; the file disappears with its last handle.
    let (file, size) = tokio::task::spawn_blocking(move || -> ApiResult<(std::fs::File, u64)> {
        let mut f = tempfile::tempfile_in(&dir).map_err(io_error)?;
        kernel.content().export_course(&p, i, cid, std::io::BufWriter::new(&mut f))?;
        let size = f.seek(SeekFrom::End(0)).map_err(io_error)?;
        f.seek(SeekFrom::Start(0)).map_err(io_error)?;
        Ok((f, size))
    })
    .await
    .map_err(io_error)??;
    let stream = tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 64 * 1024);
    let name: String =
        code.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' { ch } else { '_' }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.lectern.tar\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    /// A course code for the new course (default: the archive's).
    code: Option<String>,
    /// A title for the new course (default: the archive's).
    title: Option<String>,
}

/// Creates a draft course from a `lectern-course` archive (the request body,
/// `application/x-tar`). The caller becomes its instructor; a refused archive leaves nothing behind.
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/import", tag = "content",
    params(("institution" = String, Path), ImportQuery),
    request_body(content = dto::Binary, content_type = "application/x-tar"),
    responses((status = 201, body = dto::Course), (status = "4XX", body = dto::Problem), (status = "5XX", body = dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn import(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(inst): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Body,
) -> ApiResult<Response> {
    use futures_util::StreamExt;
    use std::io::{Seek, SeekFrom};
    use tokio::io::AsyncWriteExt;
    let i = s.kernel.identity().resolve_institution(&inst)?;
    // Refuse early, before reading a byte, when the caller may not create courses.
    lectern_core::authz::authorize(
        &p,
        lectern_core::Capability::CourseCreate,
        lectern_core::authz::Context::Institution(i),
    )?;
    let limit = s.kernel.config().media.max_upload_bytes;
    let dir = s.kernel.config().data_dir.clone();
    let std_file =
        tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir)).await.map_err(io_error)?.map_err(io_error)?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    // No overall deadline (see `streaming_router`): each chunk must come within the request timeout.
    let idle = s.config.request_timeout;
    loop {
        let next = tokio::time::timeout(idle, stream.next())
            .await
            .map_err(|_| ApiError::new(&crate::problem::TIMEOUT, "the upload stalled: no data within the timeout"))?;
        let Some(chunk) = next else { break };
        let chunk =
            chunk.map_err(|e| ApiError::new(&crate::problem::MALFORMED_BODY, format!("reading the body: {e}")))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::new(&crate::problem::BODY_TOO_LARGE, format!("the archive exceeds {limit} bytes")));
        }
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    let mut std_file = file.into_std().await;
    std_file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let reader = std::io::BufReader::with_capacity(256 * 1024, std_file);
    let course =
        s.kernel.content().import_course(&p, i, reader, ImportOptions { code: q.code, title: q.title }).await?;
    let location = format!("/api/v1/institutions/{}/courses/{}", i, course.id);
    let role = p.user_id().map(|_| lectern_core::model::CourseRole::Instructor);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(dto::Course::new(course, role))).into_response())
}

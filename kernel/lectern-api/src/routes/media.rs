//! Course media uploads. The body is the raw file with its `Content-Type`,
//! streamed chunk by chunk into the kernel's blob writer on a blocking thread,
//! never held whole. These routes have no overall deadline (a 2 GiB upload
//! takes as long as the client's uplink): instead each chunk must arrive
//! within the request timeout.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use lectern_core::media::{BlobScope, MediaRecord, MediaUpload, NewMedia};
use lectern_core::{CoreError, CourseId, InstitutionId};

use crate::AppState;
use crate::dto::media::{Media, MediaList, UpdateMedia, UploadQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, parse_id};
use crate::problem::{self, ApiError, ApiResult};

/// After refusing an upload, read (and discard) at most this much more of the
/// body, so the client sees the answer instead of a reset connection.
const DRAIN_LIMIT: u64 = 4 * 1024 * 1024;

/// Uploads a file to the course (instructors and editors). The body is the
/// raw file and `Content-Type` its type. Refused: over the size limit (413,
/// also up front from `Content-Length`), a type that is not accepted (415),
/// bytes that contradict the declared type (422).
#[utoipa::path(post, path = "/api/v1/institutions/{institution}/courses/{course_id}/media", tag = "media",
    params(("institution" = String, Path), ("course_id" = String, Path), UploadQuery),
    request_body(content = crate::dto::Binary, content_type = "application/octet-stream", description = "The raw file; send its real Content-Type."),
    responses((status = 201, body = Media), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn upload(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let idle = s.config.request_timeout;
    let mut stream = body.into_data_stream();
    let mut polled = false;
    let result = receive(&s, &p, &inst, &course, q, &headers, &mut stream, &mut polled, idle).await;
    let Err(e) = result else { return result };
    // A client that sent `Expect: 100-continue` and was refused before its body
    // was read never sends it. Anyone else gets the rest of a refused body read
    // (bounded), so they see this answer rather than a reset connection.
    let waiting = headers.get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if (waiting && !polled) || drain(&mut stream, idle).await {
        return Err(e);
    }
    Err(e.header(header::CONNECTION, "close"))
}

#[allow(clippy::too_many_arguments)] // one call site: the handler's extractors
async fn receive(
    s: &AppState,
    p: &lectern_core::Principal,
    inst: &str,
    course: &str,
    q: UploadQuery,
    headers: &HeaderMap,
    stream: &mut axum::body::BodyDataStream,
    polled: &mut bool,
    idle: Duration,
) -> ApiResult<Response> {
    let id = s.kernel.identity().resolve_institution(inst)?;
    let cid: CourseId = parse_id("course_id", course)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let declared_size = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let upload = s.kernel.content().begin_media_upload(
        p,
        id,
        cid,
        NewMedia { content_type, filename: q.filename, declared_size },
    )?;
    *polled = true;
    let upload = pump(upload, stream, idle).await?;
    let rec = s.kernel.content().finish_media_upload(p, upload).await?;
    let media = media_dto(s, id, cid, rec)?;
    Ok((StatusCode::CREATED, [(header::LOCATION, media.url.clone())], Json(media)).into_response())
}

/// The JSON of a course's file, with the URL that serves it.
fn media_dto(s: &AppState, inst: InstitutionId, course: CourseId, m: MediaRecord) -> ApiResult<Media> {
    let content = s.kernel.content();
    let public = content.media_is_public(inst, course, &m.sha256)?;
    let url = if public {
        content.blob_url(&m.sha256)
    } else {
        let base = &s.kernel.identity().config().issuer;
        format!("{}{}", base.trim_end_matches('/'), content.signed_blob_url(BlobScope::Media, inst, course, &m.sha256))
    };
    Ok(Media::new(m, url, public))
}

/// Feeds the body into the upload on a blocking thread, a few chunks in flight.
async fn pump(
    mut upload: MediaUpload,
    stream: &mut axum::body::BodyDataStream,
    idle: Duration,
) -> ApiResult<MediaUpload> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            upload.write(&chunk)?;
        }
        Ok::<_, CoreError>(upload)
    });
    let mut failure = None;
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                failure = Some(ApiError::new(&problem::TIMEOUT, "the upload stalled: no data within the timeout"));
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                failure = Some(ApiError::new(&problem::MALFORMED_BODY, format!("the upload was interrupted: {e}")));
                break;
            }
            // A send fails only when the writer stopped on an error, reported below.
            Ok(Some(Ok(chunk))) => {
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| CoreError::internal("upload writer failed", e))?;
    // The writer's own error (too large, disk) explains a stop best.
    let upload = written?;
    match failure {
        Some(e) => Err(e), // dropping `upload` discards the partial file
        None => Ok(upload),
    }
}

/// Discards what is left of a refused body, bounded in bytes and time;
/// whether it reached the end (the connection can then be kept).
async fn drain(stream: &mut axum::body::BodyDataStream, idle: Duration) -> bool {
    let mut left = DRAIN_LIMIT;
    loop {
        match tokio::time::timeout(idle.min(Duration::from_secs(5)), stream.next()).await {
            Ok(None) => return true,
            Ok(Some(Ok(chunk))) => {
                left = left.saturating_sub(chunk.len() as u64);
                if left == 0 {
                    return false;
                }
            }
            Ok(Some(Err(_))) | Err(_) => return false,
        }
    }
}

/// The course's uploaded media (instructors and editors).
#[utoipa::path(get, operation_id = "list_media", path = "/api/v1/institutions/{institution}/courses/{course_id}/media", tag = "media",
    params(("institution" = String, Path), ("course_id" = String, Path)),
    responses((status = 200, body = MediaList), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course)): ApiPath<(String, String)>,
) -> ApiResult<Json<MediaList>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let items = s.kernel.content().list_media(&p, id, cid)?;
    Ok(Json(MediaList { items: items.into_iter().map(|m| media_dto(&s, id, cid, m)).collect::<ApiResult<_>>()? }))
}

/// Makes a course's file public (served at `/blobs/{sha256}` to anyone, and
/// cacheable forever) or private again (only through signed URLs the
/// course hands its readers). Instructors and editors.
#[utoipa::path(patch, operation_id = "update_media", path = "/api/v1/institutions/{institution}/courses/{course_id}/media/{sha256}", tag = "media",
    params(("institution" = String, Path), ("course_id" = String, Path), ("sha256" = String, Path)), request_body = UpdateMedia,
    responses((status = 200, body = Media), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, sha)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<UpdateMedia>,
) -> ApiResult<Json<Media>> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    let rec = s.kernel.content().set_media_public(&p, id, cid, &sha, b.public).await?;
    Ok(Json(media_dto(&s, id, cid, rec)?))
}

/// Removes a file from the course: its URLs stop working at once (unless
/// another course holds the same bytes, under its own URLs).
#[utoipa::path(delete, operation_id = "delete_media", path = "/api/v1/institutions/{institution}/courses/{course_id}/media/{sha256}", tag = "media",
    params(("institution" = String, Path), ("course_id" = String, Path), ("sha256" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::dto::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((inst, course, sha)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let id = s.kernel.identity().resolve_institution(&inst)?;
    let cid: CourseId = parse_id("course_id", &course)?;
    s.kernel.content().delete_media(&p, id, cid, &sha).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `GET`/`HEAD /blobs/{sha256}`: content-addressed files, served through
//! signed, expiring URLs the course hands its readers or, for files an
//! instructor made public, as public capability URLs (see
//! `lectern_core::media`); shaped for a CDN in front: caching bounded by the
//! URL's expiry (immutable for public files), strong ETags per
//! representation, conditional GET, byte ranges (single, multipart, 416),
//! and precompressed br/gzip variants for text. File bodies are streamed
//! from disk in chunks; only small ones (≤ 64 KiB) are read whole.

use std::io::SeekFrom;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use lectern_core::CoreError;
use lectern_core::media::{BLOB_NOT_FOUND, BlobAccess, BlobFiles, BlobScope, BlobSignature};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::AppState;
use crate::delivery::{Coding, Ranges, choose_coding, if_range_matches, none_match, parse_range};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{self, ApiError, ApiResult};

/// More distinct ranges than this are answered with the whole file.
const MAX_RANGES: usize = 16;
/// Read size per chunk of a streamed body.
const CHUNK: usize = 256 * 1024;
/// Bodies up to this size are read whole instead of streamed, and kept in the cache.
const SMALL: u64 = 64 * 1024;
/// Bytes the cache of small bodies may hold.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Whole small representations by file path (a path names one immutable
/// representation: `<sha256>`, `.br` or `.gz`), so the hot rendered pages
/// skip the file system.
pub(crate) type BlobCache = quick_cache::sync::Cache<std::path::PathBuf, Bytes, ByLength>;

#[derive(Clone, Copy, Debug)]
pub(crate) struct ByLength;

impl quick_cache::Weighter<std::path::PathBuf, Bytes> for ByLength {
    fn weight(&self, key: &std::path::PathBuf, val: &Bytes) -> u64 {
        (key.as_os_str().len() + val.len()) as u64
    }
}

pub(crate) fn new_cache() -> BlobCache {
    BlobCache::with_weighter(4096, CACHE_BYTES, ByLength)
}
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For anything a browser could render as a document (rendered pages, text):
/// no script, no plugins, a unique origin.
const CSP: &str = "default-src 'none'; img-src 'self' https: data:; media-src 'self' https:; style-src 'self'; sandbox";

type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The signature of a blob URL, as the API hands it out (never built by hand).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlobQuery {
    /// `<institution>.<course>` whose media the file is.
    m: Option<String>,
    /// `<institution>.<course>` whose rendered page the document is.
    p: Option<String>,
    /// Expiry, Unix seconds.
    e: Option<i64>,
    /// The signature.
    s: Option<String>,
}

impl BlobQuery {
    /// `Ok(None)`: no signature at all (a public file's URL); `Err`: a
    /// signature with parts missing or doubled, which no valid URL has.
    fn signature(self) -> Result<Option<BlobSignature>, CoreError> {
        let scoped = match (self.m, self.p) {
            (Some(c), None) => Some((BlobScope::Media, c)),
            (None, Some(c)) => Some((BlobScope::Page, c)),
            (None, None) => None,
            _ => return Err(CoreError::NotFound(BLOB_NOT_FOUND)),
        };
        match (scoped, self.e, self.s) {
            (None, None, None) => Ok(None),
            (Some((scope, course)), Some(expires), Some(sig)) => {
                Ok(Some(BlobSignature { scope, course, expires, sig }))
            }
            _ => Err(CoreError::NotFound(BLOB_NOT_FOUND)),
        }
    }
}

/// A stored blob. `ETag` is `"<sha256>"` for the bytes as uploaded and
/// `"<sha256>.br"` / `"<sha256>.gz"` for the precompressed variants. `Range`
/// applies to the uncompressed bytes only. Without a valid signature, only a
/// file a course made public is served; anything else is 404.
#[utoipa::path(get, path = "/blobs/{sha256}", tag = "media", params(("sha256" = String, Path, description = "Lowercase hex SHA-256 of the bytes"), BlobQuery),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream", body = crate::dto::Binary), (status = 206, description = "A byte range, or `multipart/byteranges`"),
        (status = 304, description = "Not modified"), (status = 404, body = crate::dto::Problem), (status = 416, body = crate::dto::Problem)))]
pub(crate) async fn blob(
    State(s): State<AppState>,
    method: Method,
    headers: HeaderMap,
    ApiPath(sha): ApiPath<String>,
    ApiQuery(q): ApiQuery<BlobQuery>,
) -> ApiResult<Response> {
    let signature = q.signature()?;
    let (files, access) = s.kernel.content().blob_for_request(&sha, signature.as_ref())?;
    let cache_control = match access {
        BlobAccess::Public => IMMUTABLE.to_owned(),
        // The URL names its expiry: a cache may keep the bytes until then.
        BlobAccess::Signed { max_age_secs } => format!("public, max-age={max_age_secs}, immutable"),
    };
    let len = files.meta.size;
    let identity_tag = format!("\"{}\"", files.meta.sha256);
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());

    // Range is defined for GET only, and only while If-Range still names these bytes.
    let ranges = match text(header::RANGE) {
        Some(r)
            if method == Method::GET && text(header::IF_RANGE).is_none_or(|t| if_range_matches(t, &identity_tag)) =>
        {
            parse_range(r, len, MAX_RANGES)
        }
        _ => Ranges::Whole,
    };
    let coding = match ranges {
        Ranges::Whole => choose_coding(text(header::ACCEPT_ENCODING), files.brotli.is_some(), files.gzip.is_some()),
        _ => Coding::Identity,
    };
    let (etag, path, size, encoding) = match (coding, &files.brotli, &files.gzip) {
        (Coding::Brotli, Some(p), _) => (format!("\"{}.br\"", files.meta.sha256), p, files.meta.br_size, Some("br")),
        (Coding::Gzip, _, Some(p)) => (format!("\"{}.gz\"", files.meta.sha256), p, files.meta.gzip_size, Some("gzip")),
        _ => (identity_tag, &files.identity, Some(len), None),
    };
    let size = size.unwrap_or(len);

    let mut common = HeaderMap::new();
    set(&mut common, header::ETAG, &etag);
    set(&mut common, header::CACHE_CONTROL, &cache_control);
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if files.brotli.is_some() || files.gzip.is_some() {
        common.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if is_document(&files.meta.content_type) {
        common.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }

    if text(header::IF_NONE_MATCH).is_some_and(|inm| none_match(inm, &etag)) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let head = method == Method::HEAD;
    let mut resp = match ranges {
        Ranges::Unsatisfiable => {
            let e = ApiError::new(&problem::RANGE_NOT_SATISFIABLE, format!("the blob has {len} bytes"))
                .header(header::CONTENT_RANGE, &format!("bytes */{len}"));
            let mut r = e.into_response();
            r.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(r);
        }
        Ranges::Whole => {
            let mut r = whole(&s.blob_cache, head, path, size).await?.into_response();
            set(r.headers_mut(), header::CONTENT_TYPE, &files.meta.content_type);
            if let Some(e) = encoding {
                set(r.headers_mut(), header::CONTENT_ENCODING, e);
            }
            set(r.headers_mut(), header::CONTENT_LENGTH, &size.to_string());
            r
        }
        Ranges::Parts(parts) if parts.len() == 1 => {
            let (a, b) = parts[0];
            let mut r = (StatusCode::PARTIAL_CONTENT, body(head, path, a, b - a + 1).await?).into_response();
            set(r.headers_mut(), header::CONTENT_TYPE, &files.meta.content_type);
            set(r.headers_mut(), header::CONTENT_RANGE, &format!("bytes {a}-{b}/{len}"));
            set(r.headers_mut(), header::CONTENT_LENGTH, &(b - a + 1).to_string());
            r
        }
        Ranges::Parts(parts) => multipart(&files, &parts).await?,
    };
    resp.headers_mut().extend(common);
    Ok(resp)
}

/// Types a browser would open as a document get the sandboxing CSP. Media and
/// PDF do not: a `sandbox` CSP stops browsers' built-in PDF viewers.
fn is_document(content_type: &str) -> bool {
    !["image/", "audio/", "video/", "application/pdf"].iter().any(|p| content_type.starts_with(p))
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn io_error(e: std::io::Error) -> ApiError {
    CoreError::internal("cannot read a blob", e).into()
}

/// `len` bytes of the file at `path` from `start`, streamed.
async fn file_stream(path: &std::path::Path, start: u64, len: u64) -> ApiResult<ByteStream> {
    let mut f = tokio::fs::File::open(path).await.map_err(io_error)?;
    if start > 0 {
        f.seek(SeekFrom::Start(start)).await.map_err(io_error)?;
    }
    Ok(Box::pin(ReaderStream::with_capacity(f.take(len), CHUNK)))
}

/// The whole representation: small ones from (or into) the cache.
async fn whole(cache: &BlobCache, head: bool, path: &std::path::Path, len: u64) -> ApiResult<Body> {
    if head || len > SMALL {
        return body(head, path, 0, len).await;
    }
    if let Some(bytes) = cache.get(path) {
        return Ok(Body::from(bytes));
    }
    let bytes = Bytes::from(tokio::fs::read(path).await.map_err(io_error)?);
    if bytes.len() as u64 != len {
        return Err(CoreError::internal_msg(format!("blob file {} has an unexpected size", path.display())).into());
    }
    cache.insert(path.to_path_buf(), bytes.clone());
    Ok(Body::from(bytes))
}

async fn body(head: bool, path: &std::path::Path, start: u64, len: u64) -> ApiResult<Body> {
    if head {
        return Ok(Body::empty());
    }
    if len <= SMALL {
        // A rendered page or a thumbnail: one read and one buffer beat a stream.
        let mut f = tokio::fs::File::open(path).await.map_err(io_error)?;
        if start > 0 {
            f.seek(SeekFrom::Start(start)).await.map_err(io_error)?;
        }
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).await.map_err(io_error)?;
        return Ok(Body::from(buf));
    }
    Ok(Body::from_stream(file_stream(path, start, len).await?))
}

/// `206 multipart/byteranges`: each part is its own header block and a
/// streamed slice of the file.
async fn multipart(files: &BlobFiles, parts: &[(u64, u64)]) -> ApiResult<Response> {
    let meta = &files.meta;
    // The bytes cannot contain a boundary derived from their own hash.
    let boundary = format!("lectern-byteranges-{}", &meta.sha256[..32]);
    let mut streams: Vec<ByteStream> = Vec::with_capacity(parts.len() * 2 + 1);
    let mut total = 0u64;
    for (i, &(a, b)) in parts.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let part_head = format!(
            "{lead}--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {a}-{b}/{}\r\n\r\n",
            meta.content_type, meta.size
        );
        total += part_head.len() as u64 + (b - a + 1);
        streams.push(Box::pin(stream::once(async move { Ok(Bytes::from(part_head)) })));
        streams.push(file_stream(&files.identity, a, b - a + 1).await?);
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    total += tail.len() as u64;
    streams.push(Box::pin(stream::once(async move { Ok(Bytes::from(tail)) })));
    let mut r = (StatusCode::PARTIAL_CONTENT, Body::from_stream(stream::iter(streams).flatten())).into_response();
    set(r.headers_mut(), header::CONTENT_TYPE, &format!("multipart/byteranges; boundary={boundary}"));
    set(r.headers_mut(), header::CONTENT_LENGTH, &total.to_string());
    Ok(r)
}

/// A static asset of an installed plugin version (`id@version`), from its
/// verified package: what plugin views show as images. Public like blobs,
/// immutable (a version's assets never change), never run as a document in
/// this origin (a sandboxing CSP, `nosniff`, and anything a browser would
/// execute is served as `application/octet-stream`).
#[utoipa::path(get, path = "/plugin-assets/{plugin}/{name}", tag = "plugins",
    params(("plugin" = String, Path, description = "`id@version` of an installed plugin version"),
           ("name" = String, Path, description = "The asset's file name in the package (under `assets/`)")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream", body = crate::dto::Binary),
        (status = 304, description = "Not modified"), (status = 404, body = crate::dto::Problem)))]
pub(crate) async fn plugin_asset(
    State(s): State<AppState>,
    method: Method,
    headers: HeaderMap,
    ApiPath((plugin, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let found = s.kernel.host().plugin_asset(&plugin, &name).map_err(CoreError::Plugin)?;
    let Some((file, path)) = found else { return Err(CoreError::NotFound("plugin asset").into()) };
    let etag = format!("\"{}\"", file.sha256);
    let common = |b: axum::http::response::Builder| {
        b.header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, IMMUTABLE)
            .header(header::CONTENT_SECURITY_POLICY, CSP)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header("cross-origin-resource-policy", "same-origin")
    };
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|h| none_match(h, &etag)) {
        return Ok(common(Response::builder().status(StatusCode::NOT_MODIFIED))
            .body(Body::empty())
            .map_err(|e| CoreError::internal("a response", e))?);
    }
    let bytes = tokio::fs::read(&path).await.map_err(|e| CoreError::internal("reading a plugin asset", e))?;
    let len = bytes.len();
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(bytes) };
    Ok(common(Response::builder().status(StatusCode::OK))
        .header(header::CONTENT_TYPE, file.content_type)
        .header(header::CONTENT_LENGTH, len)
        .body(body)
        .map_err(|e| CoreError::internal("a response", e))?)
}

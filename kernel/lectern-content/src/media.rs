//! Course media: files instructors upload (video, audio, PDF, images, text),
//! kept in the content-addressed blob store of `lectern-storage`, and the
//! kernel's own rendered pages.
//!
//! A course refers to a blob by its SHA-256; the blob itself belongs to no
//! one, so the same bytes uploaded twice (or to two courses) are stored once.
//! [`policy`] decides what may be uploaded and refuses a declared type the
//! bytes contradict; uploads are limited by [`MediaSettings::max_upload_bytes`].
//!
//! Delivery (`/blobs/{sha256}`): a blob is served to whoever holds a
//! **signed, expiring URL** for it, which the kernel hands only to readers
//! the course authorized ([`Content::signed_blob_url`]): an HMAC-SHA256 under
//! a key of this deployment over the blob, its course, what it is to the
//! course (media or a rendered page) and the expiry. Expiries fall on
//! [`URL_WINDOW_SECS`] boundaries, so everyone reading a course in the same
//! window gets the same URL and a CDN can cache it. A media URL is also
//! refused as soon as the course no longer holds the file: deleting it stops
//! serving at once (a CDN may keep what it cached until the expiry). An
//! instructor may make a file **public** ([`Content::set_media_public`]):
//! then `/blobs/{sha256}` without a signature serves it, as a capability URL
//! that is cached forever. Everything else is not found, so the hash of a
//! guessed file confirms nothing.

pub(crate) mod policy;

use std::io::Read;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};

pub use lectern_storage::BlobMeta;
use lectern_storage::{BlobWriter, Encoding, Record, StorageError};
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Content, Principal, keys};

/// Media settings of a deployment.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings { max_upload_bytes: 2 * 1024 * 1024 * 1024 }
    }
}

/// A course's reference to an uploaded blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub sha256: String,
    pub size: u64,
    /// The canonical type (text types carry `charset=utf-8`).
    pub content_type: String,
    pub filename: Option<String>,
    /// `None` when the kernel itself stored it.
    pub uploaded_by: Option<UserId>,
    pub uploaded_at: i64,
}

impl Record for MediaRecord {
    const VERSION: u8 = 1;
}

/// A course made one of its files public (key: sha256, institution, course).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PublicMark {
    pub since: i64,
    pub by: Option<UserId>,
}

impl Record for PublicMark {
    const VERSION: u8 = 1;
}

/// The deployment's key for blob URL signatures (one record, `blob-urls`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UrlKey {
    pub key: [u8; 32],
    pub created_at: i64,
}

impl Record for UrlKey {
    const VERSION: u8 = 1;
}

/// Signed blob URLs expire at the end of the window after the one they are
/// issued in: valid for 4–8 hours, identical for every reader meanwhile.
pub const URL_WINDOW_SECS: i64 = 4 * 3600;

/// What every refused `/blobs/{sha256}` request is: the same answer whether
/// the blob is missing, private, or the link is forged or expired.
pub const BLOB_NOT_FOUND: &str = "blob (or a link to it that is still valid)";

/// What a blob is to the course a signed URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobScope {
    /// A file in the course's media: served while the course holds it.
    Media,
    /// A page the kernel rendered for the course: served while the course exists.
    Page,
}

impl BlobScope {
    /// The URL parameter naming the course for this scope.
    pub fn param(self) -> &'static str {
        match self {
            BlobScope::Media => "m",
            BlobScope::Page => "p",
        }
    }
}

/// The signature parameters of a `/blobs/{sha256}` request.
#[derive(Clone, Debug)]
pub struct BlobSignature {
    pub scope: BlobScope,
    /// `<institution>.<course>` as the URL carries it.
    pub course: String,
    pub expires: i64,
    pub sig: String,
}

/// How a blob may be cached, decided by how it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobAccess {
    /// A public file: the capability URL, cacheable forever.
    Public,
    /// A signed URL, valid for this many more seconds.
    Signed { max_age_secs: i64 },
}

/// What an uploader declares before sending the bytes.
#[derive(Clone, Debug)]
pub struct NewMedia {
    /// The declared `Content-Type`.
    pub content_type: String,
    pub filename: Option<String>,
    /// The announced length (`Content-Length`), refused up front when over the limit.
    pub declared_size: Option<u64>,
}

/// An upload in progress: feed it with [`MediaUpload::write`] (blocking file
/// I/O: call it from a blocking thread), then [`Content::finish_media_upload`].
/// Dropping it discards what was written.
#[derive(Debug)]
pub struct MediaUpload {
    inst: InstitutionId,
    course: CourseId,
    accepted: &'static policy::Accepted,
    filename: Option<String>,
    writer: BlobWriter,
}

impl MediaUpload {
    /// Appends bytes; fails with [`CoreError::PayloadTooLarge`] past the limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), CoreError> {
        self.writer.write(chunk).map_err(storage_error)
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.writer.size()
    }
}

/// A blob's representations on disk, for delivery.
#[derive(Clone, Debug)]
pub struct BlobFiles {
    pub meta: BlobMeta,
    pub identity: PathBuf,
    pub gzip: Option<PathBuf>,
    pub brotli: Option<PathBuf>,
}

fn storage_error(e: StorageError) -> CoreError {
    match e {
        StorageError::TooLarge { limit } => CoreError::PayloadTooLarge { limit },
        other => CoreError::Storage(other),
    }
}

fn validate_filename(name: Option<String>) -> Result<Option<String>, CoreError> {
    let Some(name) = name else { return Ok(None) };
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > 255 || name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(CoreError::invalid(
            "filename",
            "must be at most 255 characters, without / \\ or control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

fn media_key(inst: InstitutionId, course: CourseId, sha: &str) -> Vec<u8> {
    [keys::inst_course(inst, course).as_slice(), sha.as_bytes()].concat()
}

/// Public marks are keyed by the blob first: "is any course serving it
/// publicly" is one prefix scan.
fn public_key(sha: &str, inst: InstitutionId, course: CourseId) -> Vec<u8> {
    [sha.as_bytes(), keys::inst_course(inst, course).as_slice()].concat()
}

/// The MAC of blob URL signatures under the deployment's key, which is made
/// (and flushed, before any URL is signed with it) on first start.
pub(crate) fn url_mac(
    store: &lectern_storage::Store,
    t: &crate::Trees,
    now: i64,
) -> Result<Hmac<sha2::Sha256>, CoreError> {
    const NAME: &[u8] = b"blob-urls";
    let key = match t.url_keys.get(NAME)? {
        Some(k) => k.key,
        None => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| CoreError::internal_msg(format!("no OS randomness: {e}")))?;
            t.url_keys.insert(NAME, &UrlKey { key, created_at: now })?;
            store.durable_blocking()?;
            key
        }
    };
    Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| CoreError::internal("the blob URL key", e))
}

impl Content {
    fn authorize_media_edit(&self, p: &Principal, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)
    }

    /// Starts an upload into a course: authorizes, refuses a type that is not
    /// accepted and an announced size over the limit, before any byte is read.
    pub fn begin_media_upload(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        new: NewMedia,
    ) -> Result<MediaUpload, CoreError> {
        self.authorize_media_edit(p, inst, course)?;
        let accepted = policy::accept(&new.content_type)?;
        let filename = validate_filename(new.filename)?;
        let limit = self.config().media.max_upload_bytes;
        if new.declared_size.is_some_and(|n| n > limit) {
            return Err(CoreError::PayloadTooLarge { limit });
        }
        let writer = self.inner.blobs.begin(limit)?;
        Ok(MediaUpload { inst, course, accepted, filename, writer })
    }

    /// Checks the bytes against the declared type, stores the blob and records
    /// it in the course. Returns once both are durable.
    pub async fn finish_media_upload(&self, p: &Principal, upload: MediaUpload) -> Result<MediaRecord, CoreError> {
        // Again: a long upload may outlive the caller's role or the course.
        self.authorize_media_edit(p, upload.inst, upload.course)?;
        policy::check_bytes(upload.accepted, upload.writer.head(), upload.writer.size())?;
        let now = self.now();
        let content_type = upload.accepted.stored_type();
        let writer = upload.writer;
        let meta = Self::blocking(move || writer.commit(&content_type, now)).await?.map_err(storage_error)?;
        let rec = self.record_media(upload.inst, upload.course, &meta, upload.filename, p.user_id(), now)?;
        self.durable().await?;
        tracing::info!(institution = %upload.inst, course = %upload.course, sha256 = %rec.sha256, size = rec.size, "media uploaded");
        Ok(rec)
    }

    /// The course's media, in SHA-256 order (a course holds hundreds at
    /// most, so no paging).
    pub fn list_media(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Vec<MediaRecord>, CoreError> {
        self.authorize_media_edit(p, inst, course)?;
        self.t()
            .media
            .scan_prefix(keys::inst_course(inst, course))
            .map(|r| r.map(|(_, m)| m).map_err(CoreError::from))
            .collect()
    }

    /// Drops every media reference of a course (a failed import, a deleted
    /// course). The blobs stay: other courses or pages may use the same bytes.
    pub(crate) fn forget_course_media(&self, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        let keys: Vec<Vec<u8>> = self
            .t()
            .media
            .scan_prefix(keys::inst_course(inst, course))
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        for k in keys {
            if let Some(sha) = k.get(keys::inst_course(inst, course).len()..).and_then(|b| std::str::from_utf8(b).ok())
            {
                self.t().public_media.remove(public_key(sha, inst, course))?;
            }
            self.t().media.remove(k)?;
        }
        Ok(())
    }

    /// Removes a course's reference to a blob (the bytes stay while other
    /// references or rendered pages may use them).
    pub async fn delete_media(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        sha256: &str,
    ) -> Result<(), CoreError> {
        self.authorize_media_edit(p, inst, course)?;
        if !lectern_storage::blobs::is_blob_id(sha256) {
            return Err(CoreError::NotFound("media"));
        }
        self.t().media.remove(media_key(inst, course, sha256))?.ok_or(CoreError::NotFound("media"))?;
        self.t().public_media.remove(public_key(sha256, inst, course))?;
        self.durable().await
    }

    fn record_media(
        &self,
        inst: InstitutionId,
        course: CourseId,
        meta: &BlobMeta,
        filename: Option<String>,
        uploaded_by: Option<UserId>,
        now: i64,
    ) -> Result<MediaRecord, CoreError> {
        let rec = MediaRecord {
            sha256: meta.sha256.clone(),
            size: meta.size,
            content_type: meta.content_type.clone(),
            filename,
            uploaded_by,
            uploaded_at: now,
        };
        self.t().media.insert(media_key(inst, course, &rec.sha256), &rec)?;
        Ok(rec)
    }

    /// A course's record of a blob, if the course refers to it (no authorization:
    /// for kernel code that already authorized the course).
    pub(crate) fn course_media(
        &self,
        inst: InstitutionId,
        course: CourseId,
        sha256: &str,
    ) -> Result<Option<MediaRecord>, CoreError> {
        if !lectern_storage::blobs::is_blob_id(sha256) {
            return Ok(None);
        }
        Ok(self.t().media.get(media_key(inst, course, sha256))?)
    }

    /// Stores media read from `reader` (a course import) under the same policy
    /// and limit as an upload. Blocking: call it from a blocking thread, and
    /// await `durable()` before acknowledging.
    pub(crate) fn import_media(
        &self,
        inst: InstitutionId,
        course: CourseId,
        uploaded_by: UserId,
        mut reader: impl Read,
        declared_type: &str,
        filename: Option<String>,
    ) -> Result<MediaRecord, CoreError> {
        let accepted = policy::accept(declared_type)?;
        let filename = validate_filename(filename)?;
        let mut writer = self.inner.blobs.begin(self.config().media.max_upload_bytes)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CoreError::invalid("archive", format!("cannot be read: {e}"))),
            };
            writer.write(&buf[..n]).map_err(storage_error)?;
        }
        policy::check_bytes(accepted, writer.head(), writer.size())?;
        let now = self.now();
        let meta = writer.commit(&accepted.stored_type(), now).map_err(storage_error)?;
        self.record_media(inst, course, &meta, filename, Some(uploaded_by), now)
    }

    /// Stores a page the kernel rendered (trusted `text/html`, precompressed).
    /// Blocking; the caller awaits `durable()` before acknowledging.
    pub(crate) fn put_rendered(&self, html: &[u8]) -> Result<BlobMeta, CoreError> {
        self.inner.blobs.put_bytes(html, "text/html; charset=utf-8", self.now()).map_err(storage_error)
    }

    /// The identity file of a stored blob (course export).
    pub(crate) fn blob_path(&self, sha256: &str) -> Result<Option<PathBuf>, CoreError> {
        Ok(self.blob(sha256)?.map(|b| b.identity))
    }

    /// Makes a course's file public (served at `/blobs/{sha256}` without a
    /// signature, to anyone with the URL) or private again. Instructors and
    /// editors. A file public in another course stays public there.
    pub async fn set_media_public(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        sha256: &str,
        public: bool,
    ) -> Result<MediaRecord, CoreError> {
        self.authorize_media_edit(p, inst, course)?;
        let rec = self.course_media(inst, course, sha256)?.ok_or(CoreError::NotFound("media"))?;
        let key = public_key(sha256, inst, course);
        if public {
            self.t().public_media.insert(key, &PublicMark { since: self.now(), by: p.user_id() })?;
        } else {
            self.t().public_media.remove(key)?;
        }
        self.durable().await?;
        tracing::info!(institution = %inst, course = %course, sha256, public, "media visibility changed");
        Ok(rec)
    }

    /// Whether the course holds this file (no authorization: for signing
    /// URLs in records the caller was already authorized to read).
    pub fn course_holds_media(&self, inst: InstitutionId, course: CourseId, sha256: &str) -> bool {
        self.t().media.contains(media_key(inst, course, sha256)).unwrap_or(false)
    }

    /// Whether the course made this file public.
    pub fn media_is_public(&self, inst: InstitutionId, course: CourseId, sha256: &str) -> Result<bool, CoreError> {
        Ok(self.t().public_media.contains(public_key(sha256, inst, course))?)
    }

    /// A URL (path and query) that serves a course's blob to whoever holds it
    /// until the end of the next [`URL_WINDOW_SECS`] window. Hand it only to
    /// readers the course authorized.
    pub fn signed_blob_url(&self, scope: BlobScope, inst: InstitutionId, course: CourseId, sha256: &str) -> String {
        let expires = (self.now().div_euclid(URL_WINDOW_SECS) + 2) * URL_WINDOW_SECS;
        let course = format!("{inst}.{course}");
        let sig = self.blob_signature(scope, &course, sha256, expires);
        format!("/blobs/{sha256}?{}={course}&e={expires}&s={sig}", scope.param())
    }

    fn blob_signature(&self, scope: BlobScope, course: &str, sha256: &str, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.blob_mac(scope, course, sha256, expires).finalize().into_bytes())
    }

    fn blob_mac(&self, scope: BlobScope, course: &str, sha256: &str, expires: i64) -> Hmac<sha2::Sha256> {
        let mut mac = self.inner.url_mac.clone();
        mac.update(format!("lectern-blob-url-v1\n{}\n{course}\n{sha256}\n{expires}", scope.param()).as_bytes());
        mac
    }

    /// A blob for delivery at `/blobs/{sha256}`: with a valid, unexpired
    /// signature whose course still holds it, or without one when a course
    /// made it public. Anything else is "not found", whether or not the blob
    /// exists.
    pub fn blob_for_request(
        &self,
        sha256: &str,
        signature: Option<&BlobSignature>,
    ) -> Result<(BlobFiles, BlobAccess), CoreError> {
        let not_found = || CoreError::NotFound(BLOB_NOT_FOUND);
        if !lectern_storage::blobs::is_blob_id(sha256) {
            return Err(not_found());
        }
        let access = match signature {
            None => {
                if self.t().public_media.scan_prefix(sha256.as_bytes()).next().is_none() {
                    return Err(not_found());
                }
                BlobAccess::Public
            }
            Some(sig) => {
                if sig.expires <= self.now() {
                    return Err(not_found());
                }
                let presented = URL_SAFE_NO_PAD.decode(&sig.sig).map_err(|_| not_found())?;
                // verify_slice compares in constant time.
                if self.blob_mac(sig.scope, &sig.course, sha256, sig.expires).verify_slice(&presented).is_err() {
                    return Err(not_found());
                }
                let (inst, course) = sig
                    .course
                    .split_once('.')
                    .and_then(|(i, c)| Some((i.parse::<InstitutionId>().ok()?, c.parse::<CourseId>().ok()?)))
                    .ok_or_else(not_found)?;
                let live = match sig.scope {
                    BlobScope::Media => self.t().media.contains(media_key(inst, course, sha256))?,
                    BlobScope::Page => {
                        self.t().pages.scan_prefix(crate::content::course_key(inst, course)).next().is_some()
                    }
                };
                if !live {
                    return Err(not_found());
                }
                BlobAccess::Signed { max_age_secs: sig.expires - self.now() }
            }
        };
        Ok((self.blob(sha256)?.ok_or_else(not_found)?, access))
    }

    /// A stored blob and its representation files (no access check: see
    /// [`Content::blob_for_request`] for delivery). `None` for unknown or
    /// malformed ids.
    pub fn blob(&self, sha256: &str) -> Result<Option<BlobFiles>, CoreError> {
        let blobs = &self.inner.blobs;
        let Some(meta) = blobs.meta(sha256)? else { return Ok(None) };
        let Some(identity) = blobs.path(sha256, Encoding::Identity) else { return Ok(None) };
        let gzip = meta.gzip_size.and_then(|_| blobs.path(sha256, Encoding::Gzip));
        let brotli = meta.br_size.and_then(|_| blobs.path(sha256, Encoding::Brotli));
        Ok(Some(BlobFiles { meta, identity, gzip, brotli }))
    }

    /// The absolute URL of a blob.
    pub fn blob_url(&self, sha256: &str) -> String {
        format!("{}/blobs/{sha256}", self.config().issuer.trim_end_matches('/'))
    }
}

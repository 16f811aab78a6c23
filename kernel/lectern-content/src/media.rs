//! Course media: files instructors upload (video, audio, PDF, images, text),
//! kept in the content-addressed blob store of `lectern-storage`, and the
//! kernel's own rendered pages.
//!
//! A course refers to a blob by its SHA-256; the blob itself belongs to no
//! one, so the same bytes uploaded twice (or to two courses) are stored once.
//! [`policy`] decides what may be uploaded and refuses a declared type the
//! bytes contradict; uploads are limited by [`MediaSettings::max_upload_bytes`].
//!
//! Delivery: blobs are served at the public URL `/blobs/{sha256}` without
//! authentication. That is a capability URL: the name is the SHA-256 of the
//! bytes, so it cannot be guessed by anyone who does not already have them,
//! and is learned only from the course's own (authorized) pages and listings.
//! Being immutable, these URLs can be cached forever by browsers and CDNs.
//! The flip side: a URL once shared stays valid while the blob exists.

pub(crate) mod policy;

use std::io::Read;
use std::path::PathBuf;

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

    /// A stored blob and its representation files, for delivery at the
    /// public capability URL `/blobs/{sha256}` (see the module docs). `None`
    /// for unknown or malformed ids.
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

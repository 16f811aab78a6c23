//! JSON shapes of course media.

use lectern_core::media::MediaRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;

/// An uploaded file of a course.
#[derive(Debug, Serialize, ToSchema)]
pub struct Media {
    /// Lowercase hex SHA-256 of the bytes; names the blob.
    pub sha256: String,
    pub size: u64,
    /// The canonical type it is served with.
    pub content_type: String,
    pub filename: Option<String>,
    /// Where the file is served. A public file: `/blobs/{sha256}`, permanent
    /// and cacheable forever. Otherwise a signed URL valid for 4–8 hours
    /// while the course holds the file (ask again for a fresh one).
    pub url: String,
    /// Whether the course made the file public (`PATCH` it to change).
    pub public: bool,
    pub uploaded_by: Option<String>,
    pub uploaded_at: String,
}

impl Media {
    pub fn new(m: MediaRecord, url: String, public: bool) -> Media {
        Media {
            sha256: m.sha256,
            size: m.size,
            content_type: m.content_type,
            filename: m.filename,
            url,
            public,
            uploaded_by: m.uploaded_by.map(|u| u.to_string()),
            uploaded_at: rfc3339(m.uploaded_at),
        }
    }
}

/// A course's media.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaList {
    pub items: Vec<Media>,
}

/// A change to a course's file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMedia {
    /// Public: anyone with the URL `/blobs/{sha256}` may fetch it, for good
    /// (a handout linked from outside the course). Private (the default):
    /// only through signed URLs the course hands its readers.
    pub public: bool,
}

/// Query of an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The original file name, kept for display and downloads.
    pub filename: Option<String>,
}

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
    /// The public, immutable, content-addressed URL (`/blobs/{sha256}`).
    pub url: String,
    pub uploaded_by: Option<String>,
    pub uploaded_at: String,
}

impl Media {
    pub fn new(m: MediaRecord, url: String) -> Media {
        Media {
            sha256: m.sha256,
            size: m.size,
            content_type: m.content_type,
            filename: m.filename,
            url,
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

/// Query of an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The original file name, kept for display and downloads.
    pub filename: Option<String>,
}

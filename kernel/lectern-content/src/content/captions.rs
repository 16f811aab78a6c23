//! Captions and subtitles for video items: WebVTT files uploaded as course
//! media, attached to a video item as tracks (language, label, default).
//!
//! They are kept beside the outline, keyed by item, not inside it: a track
//! list changes without touching the outline's version (no edit conflict
//! with someone reordering modules), and a deleted item takes its tracks
//! with it. A track whose file was deleted from the course's media is left
//! out when the item is read. They are read with the item (`open_item`), so
//! a locked item's captions are as locked as its video.

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use super::{ItemKind, item_key};
use crate::Content;
use crate::Principal;
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};

/// At most this many tracks per video.
pub const MAX_TRACKS: usize = 20;

/// One text track of a video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptionTrack {
    /// The WebVTT file: a `text/vtt` blob of this course's media.
    pub sha256: String,
    /// BCP 47, canonical case (`en`, `pt-BR`).
    pub lang: String,
    /// What the player's menu shows ("English", "Français (SDH)").
    pub label: String,
    /// Shown without the learner asking (at most one track).
    pub default: bool,
}

/// Every track of one item, in the order the player lists them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Captions {
    pub tracks: Vec<CaptionTrack>,
}

impl Record for Captions {
    const VERSION: u8 = 1;
}

/// A track as an author gives it.
#[derive(Clone, Debug)]
pub struct TrackInput {
    pub media: String,
    pub lang: String,
    pub label: String,
    pub default: bool,
}

impl Content {
    /// Replaces a video item's caption tracks (an empty list removes them).
    /// Each file must be WebVTT media of the course; languages are BCP 47.
    pub async fn set_captions(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
        tracks: Vec<TrackInput>,
    ) -> Result<Vec<CaptionTrack>, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let outline = self.load_outline(inst, course)?;
        let item = outline.item(item_id).ok_or(CoreError::NotFound("item"))?;
        if item.kind != ItemKind::Video {
            return Err(CoreError::invalid("item", "only video items have captions"));
        }
        if tracks.len() > MAX_TRACKS {
            return Err(CoreError::invalid("tracks", format!("at most {MAX_TRACKS} tracks")));
        }
        if tracks.iter().filter(|t| t.default).count() > 1 {
            return Err(CoreError::invalid("tracks", "at most one track is the default"));
        }
        let mut out: Vec<CaptionTrack> = Vec::with_capacity(tracks.len());
        for (i, t) in tracks.into_iter().enumerate() {
            let bad = |what: &str, why: &str| CoreError::invalid("tracks", format!("track {}: {what} {why}", i + 1));
            let m = self
                .course_media(inst, course, &t.media)?
                .ok_or_else(|| bad("media:", "no such media in this course; upload it first"))?;
            if !m.content_type.starts_with("text/vtt") {
                return Err(bad("media:", &format!("captions are WebVTT (text/vtt) files, not {}", m.content_type)));
            }
            let lang = lectern_identity::validate_locale(&t.lang)
                .map_err(|_| bad("lang:", "must be a BCP 47 language tag such as `en` or `pt-BR`"))?;
            let label = t.label.trim();
            if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
                return Err(bad("label:", "1–100 characters, no control characters"));
            }
            if out.iter().any(|x| x.lang == lang && x.label == label) {
                return Err(bad("label:", "another track has the same language and label"));
            }
            out.push(CaptionTrack { sha256: m.sha256, lang, label: label.to_owned(), default: t.default });
        }
        let key = item_key(inst, course, item_id);
        if out.is_empty() {
            self.t().captions.remove(&key)?;
        } else {
            self.t().captions.insert(&key, &Captions { tracks: out.clone() })?;
        }
        self.durable().await?;
        Ok(out)
    }

    /// A video item's tracks whose files are still in the course's media.
    pub(crate) fn captions_of(
        &self,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<Vec<CaptionTrack>, CoreError> {
        let Some(c) = self.t().captions.get(item_key(inst, course, item_id))? else { return Ok(vec![]) };
        let mut out = Vec::with_capacity(c.tracks.len());
        for t in c.tracks {
            if self.course_media(inst, course, &t.sha256)?.is_some() {
                out.push(t);
            }
        }
        Ok(out)
    }
}

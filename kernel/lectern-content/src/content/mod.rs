//! Course content: the outline (modules → items), pages authored in
//! Markdown, media and file items, links and assessment items, with release
//! dates, prerequisites and per-item completion rules.
//!
//! The split with the content plugin: the kernel stores the outline, the page
//! sources and every byte, and serves them; the plugin owning the `content`
//! slot decides what a page looks like (`render-markdown`, called when a page
//! is saved, its output stored and served as a content-addressed blob) and
//! what a student may see (`item-visibility`, called on every student read,
//! so a release date or a newly met prerequisite takes effect at once).
//!
//! Invariants:
//! - Prerequisites name items of the same course and never form a cycle (a
//!   cycle would lock its items forever); an item others depend on cannot be
//!   deleted.
//! - A media or file item names a blob this course owns (uploaded to it or
//!   imported with it).
//! - Item ids are stable across export and import. An item's score is the
//!   gradebook entry of its id (of its `assessment` for assessment items), so
//!   `scored-at-least` and `min-score` read the gradebook, never a copy.

pub mod activity;
mod archive;
mod authoring;
pub mod captions;
mod reads;
pub(crate) mod view;

use lectern_host::slots::{CallContext, content as wit};
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};
use lectern_host::PluginError;

pub use archive::{ARCHIVE_FORMAT, ImportOptions};
pub use authoring::{ActivityInput, ItemInput, ItemPatch, ModuleInput, ModulePatch, OrderEntry};
pub use view::{CourseProgress, ItemDetail, ItemState, StudentItem, StudentModule, StudentOutline, UpcomingItem};

// Records are postcard-encoded: enums stay externally tagged (postcard cannot
// read internally tagged ones); the JSON shapes live in lectern-api's DTOs.

/// A course's structure. Small: page sources live in their own records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outline {
    pub modules: Vec<Module>,
    /// Bumped by every change; the HTTP layer's `ETag`/`If-Match`.
    pub version: u64,
    pub updated_at: i64,
}

impl Record for Outline {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub title: String,
    /// Unix seconds; hidden from students before.
    pub release_at: Option<i64>,
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Page,
    Video,
    File,
    Link,
    Assessment,
    /// A kind of activity a plugin provides (which one: [`Body::Activity`]).
    Activity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prerequisite {
    /// The item must be completed.
    Completed { item: String },
    /// The item must be scored at least `min` (a fraction, 0–1).
    ScoredAtLeast { item: String, min: f64 },
}

impl Prerequisite {
    pub fn item(&self) -> &str {
        match self {
            Prerequisite::Completed { item } | Prerequisite::ScoredAtLeast { item, .. } => item,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// Complete once the student has opened it.
    Viewed,
    /// Complete when the student marks it so.
    Manual,
    /// Complete with a gradebook score of at least `min` (a fraction, 0–1).
    MinScore { min: f64 },
    /// Activity items: complete when the activity's plugin reports the
    /// learner complete (`gradebook.mark-complete`).
    Reported,
}

/// What an item holds besides its place in the outline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// The source and rendering are in the page record.
    Page {
        words: u32,
        reading_minutes: u32,
    },
    /// A video or file item: a blob of this course.
    Media {
        sha256: String,
        content_type: String,
        size: u64,
        filename: Option<String>,
    },
    Link {
        url: String,
    },
    /// An assessment; its grades are recorded under the item's id.
    Assessment {
        assessment: String,
    },
    /// A plugin's activity; its scores are recorded under the item's id.
    Activity {
        plugin: String,
        kind: String,
        /// JSON text valid against the kind's settings schema when stored.
        settings: String,
        /// Grows with each change of `settings` (the plugin may keep
        /// per-revision data, and learner state outlives a change).
        settings_revision: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub prerequisites: Vec<Prerequisite>,
    pub release_at: Option<i64>,
    pub completion: Completion,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub anchor: String,
}

/// Markdown rendered by the content plugin without being stored (the editor's preview).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PagePreview {
    /// Sanitised HTML fragment, as a save would store it.
    pub html: String,
    pub toc: Vec<Heading>,
    pub words: u32,
    pub reading_minutes: u32,
    /// The plugin version that rendered it.
    pub rendered_by: String,
}

/// A page's Markdown and what the content plugin made of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub markdown: String,
    /// Sanitised HTML fragment.
    pub html: String,
    pub toc: Vec<Heading>,
    pub words: u32,
    pub reading_minutes: u32,
    /// Plain text (search, tutoring).
    pub text: String,
    /// The blob holding the page as a standalone HTML document (`/blobs/{sha256}`).
    pub html_sha256: String,
    /// `id@version` of the plugin that rendered it.
    pub rendered_by: String,
    pub updated_at: i64,
}

impl Record for Page {
    const VERSION: u8 = 1;
}

/// The key prefix of one course's records (`institution ‖ course`).
pub fn course_key(i: InstitutionId, c: CourseId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes()].concat()
}

/// Item ids are at most 128 bytes of `[A-Za-z0-9._-]`, so they end a key unambiguously.
/// The key of one item of a course (`institution ‖ course ‖ item id`).
pub fn item_key(i: InstitutionId, c: CourseId, item: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), item.as_bytes()].concat()
}

impl Outline {
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.modules.iter().flat_map(|m| m.items.iter())
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().find(|i| i.id == id)
    }

    fn item_mut(&mut self, id: &str) -> Option<&mut Item> {
        self.modules.iter_mut().flat_map(|m| m.items.iter_mut()).find(|i| i.id == id)
    }

    /// The module containing an item, and the item's position in it.
    fn locate(&self, id: &str) -> Option<(usize, usize)> {
        self.modules.iter().enumerate().find_map(|(mi, m)| m.items.iter().position(|i| i.id == id).map(|ii| (mi, ii)))
    }

    /// What the content plugin sees: times in milliseconds, no bodies.
    pub(crate) fn to_wit(&self) -> Vec<wit::Module> {
        let ms = |t: Option<i64>| t.map(|s| (s.max(0) as u64).saturating_mul(1000));
        self.modules
            .iter()
            .map(|m| wit::Module {
                id: m.id.clone(),
                title: m.title.clone(),
                release_at_ms: ms(m.release_at),
                items: m
                    .items
                    .iter()
                    .map(|i| wit::Item {
                        id: i.id.clone(),
                        kind: match (&i.kind, &i.body) {
                            (ItemKind::Page, _) => wit::ItemKind::Page,
                            (ItemKind::Video, _) => wit::ItemKind::Video,
                            (ItemKind::File, _) => wit::ItemKind::File,
                            (ItemKind::Link, _) => wit::ItemKind::Link,
                            (ItemKind::Assessment, _) => wit::ItemKind::Assessment,
                            (ItemKind::Activity, Body::Activity { plugin, kind, .. }) => {
                                wit::ItemKind::Activity(format!("{plugin}/{kind}"))
                            }
                            (ItemKind::Activity, _) => wit::ItemKind::Activity(String::new()),
                        },
                        title: i.title.clone(),
                        prerequisites: i
                            .prerequisites
                            .iter()
                            .map(|p| match p {
                                Prerequisite::Completed { item } => wit::Prerequisite::Completed(item.clone()),
                                Prerequisite::ScoredAtLeast { item, min } => {
                                    wit::Prerequisite::ScoredAtLeast(item.clone(), *min)
                                }
                            })
                            .collect(),
                        release_at_ms: ms(i.release_at),
                        completion: match i.completion {
                            Completion::Viewed => wit::CompletionRule::Viewed,
                            Completion::Manual => wit::CompletionRule::Manual,
                            Completion::MinScore { min } => wit::CompletionRule::MinScore(min),
                            // The content slot's rule set has no `reported`:
                            // like `manual`, the learner's progress says whether it is done.
                            Completion::Reported => wit::CompletionRule::Manual,
                        },
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Maps a content-plugin failure: the author's input is at fault only when
/// the plugin says so; everything else is the platform's problem.
pub(crate) fn plugin_error(e: PluginError, field: &'static str) -> CoreError {
    use lectern_host::slots::GuestError;
    match e {
        PluginError::Guest(GuestError::InvalidInput(m)) => CoreError::invalid(field, m),
        PluginError::NoActivePlugin(_) | PluginError::CircuitOpen { .. } | PluginError::Starting { .. } => {
            CoreError::Unavailable(format!("content engine: {e}"))
        }
        other => CoreError::PluginFailed(format!("content engine: {other}")),
    }
}

pub(crate) fn call_context(
    p: &crate::Principal,
    inst: InstitutionId,
    course: CourseId,
    roles: Vec<String>,
) -> CallContext {
    CallContext {
        institution: inst.to_string(),
        user: p.user_id().map(|u| u.to_string()),
        course: Some(course.to_string()),
        item: None,
        roles,
        locale: "en".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        vector_scope: vec![],
    }
}

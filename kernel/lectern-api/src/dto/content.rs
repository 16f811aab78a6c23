//! JSON shapes of course content. Times are RFC 3339; scores and thresholds
//! are fractions 0–1.

use lectern_core::content as c;
use serde::{Deserialize, Deserializer, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::rfc3339;
use crate::problem::ApiError;

/// Signs the blob URLs in one course's records, for a reader the course
/// authorized (see `lectern_core::media`): media files while the course holds
/// them, rendered pages while it exists.
#[derive(Clone, Copy)]
pub struct BlobUrls<'a> {
    content: &'a lectern_core::Content,
    inst: lectern_core::InstitutionId,
    course: lectern_core::CourseId,
}

impl<'a> BlobUrls<'a> {
    pub fn new(
        content: &'a lectern_core::Content,
        inst: lectern_core::InstitutionId,
        course: lectern_core::CourseId,
    ) -> Self {
        BlobUrls { content, inst, course }
    }

    pub fn media(&self, sha256: &str) -> String {
        self.content.signed_blob_url(lectern_core::media::BlobScope::Media, self.inst, self.course, sha256)
    }

    pub fn page(&self, sha256: &str) -> String {
        self.content.signed_blob_url(lectern_core::media::BlobScope::Page, self.inst, self.course, sha256)
    }

    /// Rewrites unsigned `/blobs/{sha256}` references in page HTML (an image
    /// an author linked by its media URL) to signed URLs, for files this
    /// course holds; any other reference is left as written.
    pub fn sign_html(&self, html: String) -> String {
        const PREFIX: &str = "/blobs/";
        if !html.contains(PREFIX) {
            return html;
        }
        let mut out = String::with_capacity(html.len() + 128);
        let mut rest = html.as_str();
        while let Some(at) = rest.find(PREFIX) {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            let sha = from.get(PREFIX.len()..PREFIX.len() + 64).filter(|h| {
                h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    && !from[PREFIX.len() + 64..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '?')
            });
            match sha {
                Some(sha) if self.content.course_holds_media(self.inst, self.course, sha) => {
                    out.push_str(&self.media(sha));
                    rest = &from[PREFIX.len() + 64..];
                }
                _ => {
                    out.push_str(PREFIX);
                    rest = &from[PREFIX.len()..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Parses an optional RFC 3339 time into Unix seconds.
pub fn time_opt(field: &'static str, v: Option<String>) -> Result<Option<i64>, ApiError> {
    v.map(|s| {
        time::OffsetDateTime::parse(&s, &Rfc3339).map(|t| t.unix_timestamp()).map_err(|_| {
            ApiError::new(
                &crate::problem::VALIDATION,
                format!("`{field}` must be an RFC 3339 time, e.g. 2026-12-01T09:00:00Z"),
            )
            .with("field", field)
        })
    })
    .transpose()
}

/// Absent → `None` (leave as is); `null` → `Some(None)` (clear); a value → `Some(Some(v))`.
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Page,
    Video,
    File,
    Link,
    Assessment,
    /// A kind of activity a plugin provides (`activity` says which).
    Activity,
}

impl From<ItemKind> for c::ItemKind {
    fn from(k: ItemKind) -> Self {
        match k {
            ItemKind::Page => c::ItemKind::Page,
            ItemKind::Video => c::ItemKind::Video,
            ItemKind::File => c::ItemKind::File,
            ItemKind::Link => c::ItemKind::Link,
            ItemKind::Assessment => c::ItemKind::Assessment,
            ItemKind::Activity => c::ItemKind::Activity,
        }
    }
}

impl From<c::ItemKind> for ItemKind {
    fn from(k: c::ItemKind) -> Self {
        match k {
            c::ItemKind::Page => ItemKind::Page,
            c::ItemKind::Video => ItemKind::Video,
            c::ItemKind::File => ItemKind::File,
            c::ItemKind::Link => ItemKind::Link,
            c::ItemKind::Assessment => ItemKind::Assessment,
            c::ItemKind::Activity => ItemKind::Activity,
        }
    }
}

/// What must hold before an item opens.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Prerequisite {
    /// `item` must be completed.
    Completed { item: String },
    /// `item` must be scored at least `min` (0–1).
    ScoredAtLeast { item: String, min: f64 },
}

impl From<Prerequisite> for c::Prerequisite {
    fn from(p: Prerequisite) -> Self {
        match p {
            Prerequisite::Completed { item } => c::Prerequisite::Completed { item },
            Prerequisite::ScoredAtLeast { item, min } => c::Prerequisite::ScoredAtLeast { item, min },
        }
    }
}

impl From<c::Prerequisite> for Prerequisite {
    fn from(p: c::Prerequisite) -> Self {
        match p {
            c::Prerequisite::Completed { item } => Prerequisite::Completed { item },
            c::Prerequisite::ScoredAtLeast { item, min } => Prerequisite::ScoredAtLeast { item, min },
        }
    }
}

/// When an item counts as completed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ItemCompletion {
    Viewed,
    Manual,
    /// Assessments and graded activities: a gradebook score of at least `min` (0–1).
    MinScore {
        min: f64,
    },
    /// Activities: when the activity's plugin reports the learner complete.
    Reported,
}

impl From<ItemCompletion> for c::Completion {
    fn from(x: ItemCompletion) -> Self {
        match x {
            ItemCompletion::Viewed => c::Completion::Viewed,
            ItemCompletion::Manual => c::Completion::Manual,
            ItemCompletion::MinScore { min } => c::Completion::MinScore { min },
            ItemCompletion::Reported => c::Completion::Reported,
        }
    }
}

impl From<c::Completion> for ItemCompletion {
    fn from(x: c::Completion) -> Self {
        match x {
            c::Completion::Viewed => ItemCompletion::Viewed,
            c::Completion::Manual => ItemCompletion::Manual,
            c::Completion::MinScore { min } => ItemCompletion::MinScore { min },
            c::Completion::Reported => ItemCompletion::Reported,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Page {
        words: u32,
        reading_minutes: u32,
    },
    /// `url` is the content-addressed delivery URL.
    Media {
        sha256: String,
        content_type: String,
        size: u64,
        filename: Option<String>,
        url: String,
    },
    Link {
        url: String,
    },
    Assessment {
        assessment: String,
    },
    /// A plugin's activity. Learners get `settings: null` (settings may hold
    /// what they are to find); staff get the instructor's settings.
    Activity {
        plugin: String,
        kind: String,
        #[schema(value_type = Option<Object>)]
        settings: Option<serde_json::Value>,
        /// Grows with each change of the settings.
        settings_revision: u32,
    },
}

impl Body {
    pub fn new(b: c::Body, urls: &BlobUrls) -> Self {
        match b {
            c::Body::Page { words, reading_minutes } => Body::Page { words, reading_minutes },
            c::Body::Media { sha256, content_type, size, filename } => {
                Body::Media { url: urls.media(&sha256), sha256, content_type, size, filename }
            }
            c::Body::Link { url } => Body::Link { url },
            c::Body::Assessment { assessment } => Body::Assessment { assessment },
            c::Body::Activity { plugin, kind, settings, settings_revision } => Body::Activity {
                plugin,
                kind,
                settings: serde_json::from_str::<serde_json::Value>(&settings).ok().filter(|v| !v.is_null()),
                settings_revision,
            },
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub prerequisites: Vec<Prerequisite>,
    pub release_at: Option<String>,
    pub completion: ItemCompletion,
    pub body: Body,
}

impl Item {
    pub fn new(i: c::Item, urls: &BlobUrls) -> Self {
        Item {
            id: i.id,
            kind: i.kind.into(),
            title: i.title,
            prerequisites: i.prerequisites.into_iter().map(Into::into).collect(),
            release_at: i.release_at.map(rfc3339),
            completion: i.completion.into(),
            body: Body::new(i.body, urls),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Module {
    pub id: String,
    pub title: String,
    pub release_at: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Outline {
    /// Also the `ETag`.
    pub version: u64,
    pub updated_at: Option<String>,
    pub modules: Vec<Module>,
}

impl Outline {
    pub fn new(o: c::Outline, urls: &BlobUrls) -> Self {
        Outline {
            version: o.version,
            updated_at: (o.updated_at > 0).then(|| rfc3339(o.updated_at)),
            modules: o
                .modules
                .into_iter()
                .map(|m| Module {
                    id: m.id,
                    title: m.title,
                    release_at: m.release_at.map(rfc3339),
                    items: m.items.into_iter().map(|i| Item::new(i, urls)).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateModule {
    /// Letters, digits, `.`, `_`, `-`; generated when absent.
    pub id: Option<String>,
    pub title: String,
    pub release_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateModule {
    pub title: Option<String>,
    /// `null` clears the release date.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub release_at: Option<Option<String>>,
}

/// An activity item's plugin, kind and settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    /// The plugin's id (`GET /api/v1/institutions/{institution}/activity-kinds`).
    pub plugin: String,
    pub kind: String,
    /// Valid against the kind's `settings_schema`.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

impl From<ActivityInput> for c::ActivityInput {
    fn from(a: ActivityInput) -> Self {
        c::ActivityInput { plugin: a.plugin, kind: a.kind, settings: a.settings }
    }
}

/// A new item: `page` takes `markdown`, `video`/`file` take `media` (the
/// SHA-256 of an upload to this course), `link` takes `url`, `assessment`
/// takes `assessment`, `activity` takes `activity`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItem {
    pub id: Option<String>,
    pub kind: ItemKind,
    pub title: String,
    pub markdown: Option<String>,
    pub media: Option<String>,
    pub url: Option<String>,
    pub assessment: Option<String>,
    pub activity: Option<ActivityInput>,
    #[serde(default)]
    pub prerequisites: Vec<Prerequisite>,
    pub release_at: Option<String>,
    /// Default: `min_score` 0 for assessments, `reported` for activities, `viewed` otherwise.
    pub completion: Option<ItemCompletion>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateItem {
    pub title: Option<String>,
    pub markdown: Option<String>,
    pub media: Option<String>,
    pub url: Option<String>,
    pub assessment: Option<String>,
    /// Activity items: new settings for the same plugin and kind.
    #[schema(value_type = Option<Object>)]
    pub activity_settings: Option<serde_json::Value>,
    pub prerequisites: Option<Vec<Prerequisite>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub release_at: Option<Option<String>>,
    pub completion: Option<ItemCompletion>,
    /// Move to this module.
    pub module: Option<String>,
    /// Position within the (new) module, 0-based; the end when absent.
    pub position: Option<usize>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderModule {
    pub id: String,
    pub items: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub modules: Vec<OrderModule>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub anchor: String,
}

/// Markdown to render for the editor's preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewPage {
    /// At most 1 MiB.
    pub markdown: String,
}

/// The content plugin's rendering of previewed Markdown; nothing was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct PagePreview {
    /// The sanitised HTML fragment a save would store.
    pub html: String,
    pub toc: Vec<Heading>,
    pub words: u32,
    pub reading_minutes: u32,
    /// The content plugin version that rendered it.
    pub rendered_by: String,
}

impl From<c::PagePreview> for PagePreview {
    fn from(p: c::PagePreview) -> Self {
        PagePreview {
            html: p.html,
            toc: p.toc.into_iter().map(Into::into).collect(),
            words: p.words,
            reading_minutes: p.reading_minutes,
            rendered_by: p.rendered_by,
        }
    }
}

impl From<c::Heading> for Heading {
    fn from(h: c::Heading) -> Self {
        Heading { level: h.level, text: h.text, anchor: h.anchor }
    }
}

/// A page for its authors: source and rendering.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Page {
    pub markdown: String,
    pub html: String,
    pub toc: Vec<Heading>,
    pub words: u32,
    pub reading_minutes: u32,
    /// The page as a standalone HTML document, content-addressed and cacheable.
    pub html_url: String,
    pub rendered_by: String,
    pub updated_at: String,
}

impl Page {
    pub fn new(p: c::Page, urls: &BlobUrls) -> Self {
        Page {
            markdown: p.markdown,
            html: urls.sign_html(p.html),
            toc: p.toc.into_iter().map(Into::into).collect(),
            words: p.words,
            reading_minutes: p.reading_minutes,
            html_url: urls.page(&p.html_sha256),
            rendered_by: p.rendered_by,
            updated_at: rfc3339(p.updated_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct StudentItem {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub locked: bool,
    /// Why it is locked.
    pub reason: Option<String>,
    pub completed: bool,
    pub score: Option<f64>,
    /// When it is (or was) released: the later of the item's and its module's date.
    pub release_at: Option<String>,
    /// How it counts as completed; `manual`: the student marks it (`POST …/complete`).
    pub completion: ItemCompletion,
    /// Assessment items: the assessment they open.
    pub assessment_id: Option<String>,
}

/// An item not visible yet because its release date is ahead.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct UpcomingItem {
    /// The module's title.
    pub module: String,
    pub title: String,
    pub kind: ItemKind,
    pub release_at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct StudentModule {
    pub id: String,
    pub title: String,
    pub items: Vec<StudentItem>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Progress {
    pub completed: usize,
    /// Every item of the course, released or not.
    pub total: usize,
    pub percent: f64,
    /// The next item to do: the first item, in outline order, that is open to
    /// the student and not completed; `null` when there is none (everything
    /// done, or what is left is not open yet).
    pub resume: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct StudentOutline {
    pub modules: Vec<StudentModule>,
    pub progress: Progress,
    /// Items hidden until a release date ahead, soonest first: what is coming.
    pub upcoming: Vec<UpcomingItem>,
}

impl From<c::StudentOutline> for StudentOutline {
    fn from(o: c::StudentOutline) -> Self {
        StudentOutline {
            modules: o
                .modules
                .into_iter()
                .map(|m| StudentModule {
                    id: m.id,
                    title: m.title,
                    items: m
                        .items
                        .into_iter()
                        .map(|i| StudentItem {
                            id: i.id,
                            kind: i.kind.into(),
                            title: i.title,
                            locked: i.locked,
                            reason: i.reason,
                            completed: i.completed,
                            score: i.score,
                            release_at: i.release_at.map(crate::dto::rfc3339),
                            completion: i.completion.into(),
                            assessment_id: i.assessment,
                        })
                        .collect(),
                })
                .collect(),
            progress: Progress {
                completed: o.progress.completed,
                total: o.progress.total,
                percent: o.progress.percent,
                resume: o.progress.resume,
            },
            upcoming: o
                .upcoming
                .into_iter()
                .map(|u| UpcomingItem {
                    module: u.module,
                    title: u.title,
                    kind: u.kind.into(),
                    release_at: crate::dto::rfc3339(u.release_at),
                })
                .collect(),
        }
    }
}

/// An opened item.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ItemDetail {
    pub item: Item,
    pub module: String,
    /// Pages: the sanitised HTML fragment.
    pub html: Option<String>,
    pub toc: Vec<Heading>,
    /// Pages: the standalone document, content-addressed and cacheable.
    pub html_url: Option<String>,
    pub completed: bool,
    /// Videos: their caption and subtitle tracks, for `<track>` elements.
    pub captions: Vec<CaptionTrack>,
}

/// One WebVTT text track of a video.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CaptionTrack {
    /// The course media holding the WebVTT file.
    pub media: String,
    /// Where the file is served (`text/vtt`).
    pub url: String,
    /// BCP 47.
    pub lang: String,
    pub label: String,
    /// Shown without the learner asking.
    pub default: bool,
}

impl CaptionTrack {
    pub fn new(t: c::captions::CaptionTrack, urls: &BlobUrls) -> Self {
        CaptionTrack { url: urls.media(&t.sha256), media: t.sha256, lang: t.lang, label: t.label, default: t.default }
    }
}

/// A video's tracks, replacing the ones it had (an empty list removes them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCaptions {
    /// At most 20.
    pub tracks: Vec<CaptionInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptionInput {
    /// The sha256 of a WebVTT (`text/vtt`) file uploaded to the course's media.
    pub media: String,
    /// BCP 47 (`en`, `pt-BR`).
    pub lang: String,
    /// 1–100 characters: what the player's menu shows.
    pub label: String,
    /// At most one track is the default.
    #[serde(default)]
    pub default: bool,
}

impl From<CaptionInput> for c::captions::TrackInput {
    fn from(t: CaptionInput) -> Self {
        c::captions::TrackInput { media: t.media, lang: t.lang, label: t.label, default: t.default }
    }
}

/// A video's tracks as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Captions {
    pub tracks: Vec<CaptionTrack>,
}

impl ItemDetail {
    pub fn new(d: c::ItemDetail, urls: &BlobUrls) -> Self {
        ItemDetail {
            item: Item::new(d.item, urls),
            module: d.module,
            html: d.html.map(|h| urls.sign_html(h)),
            toc: d.toc.into_iter().map(Into::into).collect(),
            html_url: d.html_sha256.map(|s| urls.page(&s)),
            completed: d.completed,
            captions: d.captions.into_iter().map(|t| CaptionTrack::new(t, urls)).collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Rerendered {
    pub pages: usize,
}

/// A kind of activity a plugin offers the institution.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivityKind {
    /// The plugin's id: an `activity` item's `plugin`.
    pub plugin: String,
    /// `id@version` of the plugin version that offers it.
    pub version: String,
    /// An `activity` item's `kind`.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// JSON Schema of the settings an instructor writes.
    #[schema(value_type = Object)]
    pub settings_schema: serde_json::Value,
    /// Whether its items report scores to the gradebook.
    pub graded: bool,
}

impl From<lectern_host::OfferedActivityKind> for ActivityKind {
    fn from(k: lectern_host::OfferedActivityKind) -> Self {
        ActivityKind {
            plugin: k.plugin,
            version: k.version,
            kind: k.info.id,
            name: k.info.name,
            description: k.info.description,
            settings_schema: serde_json::from_str(&k.info.settings_schema).unwrap_or_default(),
            graded: k.info.graded,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivityKindList {
    pub items: Vec<ActivityKind>,
}

/// An activity's view for the caller: an HTML fragment the kernel
/// sanitised (no script, style, URL or submitting control). An element with
/// `data-action="name"` sends that action, with its enclosing form's fields
/// as the payload, to `POST …/activity/actions`.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivityView {
    pub html: String,
    /// Names of static assets of the plugin's package the view uses.
    pub assets: Vec<String>,
    /// The caller's state version the view shows (0: none yet).
    pub state_version: u64,
    /// Whether the item counts as completed for the caller.
    pub completed: bool,
}

impl From<c::activity::ActivityView> for ActivityView {
    fn from(v: c::activity::ActivityView) -> Self {
        ActivityView { html: v.html, assets: v.assets, state_version: v.state_version, completed: v.completed }
    }
}

/// A learner's action on an activity item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityAction {
    /// The `data-action` of the element used: 1–64 characters of a–z, 0–9, `-`.
    pub action: String,
    /// The enclosing form's fields by name; at most 64 KiB.
    #[serde(default)]
    pub payload: std::collections::BTreeMap<String, FieldValue>,
}

/// A form field's value: one string, or a list for a name used more than
/// once (or a multiple select).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(untagged)]
pub enum FieldValue {
    One(String),
    Many(Vec<String>),
}

/// The score an action recorded for the caller.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivityScore {
    pub points: f64,
    pub max_points: f64,
}

/// What an action did: the next view (empty `html` when the plugin could
/// not draw it after keeping the action: fetch the view again), and a
/// message for the learner.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivityOutcome {
    pub view: ActivityView,
    /// A short message for the learner, to announce.
    pub message: Option<String>,
    /// The score this action recorded (the gradebook shows it moments later).
    pub score: Option<ActivityScore>,
}

impl From<c::activity::ActivityOutcome> for ActivityOutcome {
    fn from(o: c::activity::ActivityOutcome) -> Self {
        ActivityOutcome {
            view: o.view.into(),
            message: o.message,
            score: o.score.map(|(points, max_points)| ActivityScore { points, max_points }),
        }
    }
}

/// A kind's settings form as its plugin draws it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivitySettingsViewRequest {
    pub plugin: String,
    pub kind: String,
    /// The item's current settings; absent for a new item.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

/// `view: null`: the plugin draws no form; build one from the kind's settings schema.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct ActivitySettingsView {
    pub view: Option<PluginView>,
}

/// An HTML fragment from a plugin, sanitised by the kernel.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct PluginView {
    pub html: String,
    pub assets: Vec<String>,
}

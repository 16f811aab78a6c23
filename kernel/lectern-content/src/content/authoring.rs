//! Building a course's outline: modules, items, order, pages. Every change
//! is one transaction on the outline (and the page it touches), guarded by
//! an optional expected version so two authors cannot silently overwrite
//! each other.

use lectern_host::Slot;
use lectern_storage::abort;

use super::{
    Body, Completion, Heading, Item, ItemKind, Module, Outline, Page, PagePreview, Prerequisite, course_key, item_key,
};
use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::events::{self, ContentChanged, topics};
use crate::ids::{CourseId, InstitutionId};
use crate::{Content, Principal};
use lectern_assessment::gradebook::validate_item;
use lectern_identity::validate_name;

/// Page sources above this are refused before the plugin sees them.
pub const MAX_MARKDOWN_BYTES: usize = 1024 * 1024;
const MAX_PREREQUISITES: usize = 20;
pub(super) const MAX_ITEMS: usize = 2_000;

#[derive(Clone, Debug, Default)]
pub struct ModuleInput {
    pub id: Option<String>,
    pub title: String,
    pub release_at: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct ModulePatch {
    pub title: Option<String>,
    /// `Some(None)` clears the release date.
    pub release_at: Option<Option<i64>>,
}

/// A plugin's activity kind and an instructor's settings for it.
#[derive(Clone, Debug)]
pub struct ActivityInput {
    pub plugin: String,
    pub kind: String,
    /// Checked against the kind's settings schema.
    pub settings: serde_json::Value,
}

/// A new item. Which of `markdown`, `media`, `url`, `assessment`, `activity`
/// is required depends on `kind`; the others must be absent.
#[derive(Clone, Debug)]
pub struct ItemInput {
    pub id: Option<String>,
    pub kind: ItemKind,
    pub title: String,
    pub markdown: Option<String>,
    /// SHA-256 of a blob uploaded to this course.
    pub media: Option<String>,
    pub url: Option<String>,
    pub assessment: Option<String>,
    pub activity: Option<ActivityInput>,
    pub prerequisites: Vec<Prerequisite>,
    pub release_at: Option<i64>,
    /// Defaults: `min_score` 0 for assessments, `reported` for activities, `viewed` otherwise.
    pub completion: Option<Completion>,
}

#[derive(Clone, Debug, Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub markdown: Option<String>,
    pub media: Option<String>,
    pub url: Option<String>,
    pub assessment: Option<String>,
    /// Activity items: new settings (same plugin and kind), checked against
    /// the kind's schema; the item's settings revision grows.
    pub activity_settings: Option<serde_json::Value>,
    pub prerequisites: Option<Vec<Prerequisite>>,
    pub release_at: Option<Option<i64>>,
    pub completion: Option<Completion>,
    /// Move the item to this module (at the end unless `position` is given).
    pub module: Option<String>,
    pub position: Option<usize>,
}

/// The kind-specific fields of an item, one of which its kind takes.
pub(super) struct BodyFields {
    markdown: Option<String>,
    media: Option<String>,
    url: Option<String>,
    assessment: Option<String>,
    activity: Option<ActivityInput>,
}

/// One module's place in a new order and its items, in order.
#[derive(Clone, Debug)]
pub struct OrderEntry {
    pub module: String,
    pub items: Vec<String>,
}

fn new_id(prefix: &str) -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &u[..12])
}

fn check_fraction(field: &'static str, v: f64) -> Result<(), CoreError> {
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(CoreError::invalid(field, "must be a fraction between 0 and 1"));
    }
    Ok(())
}

pub(super) fn check_url(url: &str) -> Result<String, CoreError> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| CoreError::invalid("url", e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || url.len() > 2048 {
        return Err(CoreError::invalid("url", "must be an http or https URL of at most 2,048 characters"));
    }
    Ok(parsed.to_string())
}

pub(super) fn check_id(id: &str) -> Result<(), CoreError> {
    validate_item(id).map_err(|_| CoreError::invalid("id", format!("`{id}`: 1–128 letters, digits, `.`, `_` or `-`")))
}

fn check_prerequisite_list(list: &[Prerequisite]) -> Result<(), CoreError> {
    if list.len() > MAX_PREREQUISITES {
        return Err(CoreError::invalid("prerequisites", format!("at most {MAX_PREREQUISITES}")));
    }
    for pr in list {
        if let Prerequisite::ScoredAtLeast { min, .. } = pr {
            check_fraction("prerequisites.min", *min)?;
        }
    }
    Ok(())
}

/// Rules on an item's own fields (its relations are checked on the outline).
pub(super) fn check_item_rules(item: &Item) -> Result<(), CoreError> {
    check_prerequisite_list(&item.prerequisites)?;
    check_completion(item.kind, &item.completion)
}

fn check_completion(kind: ItemKind, c: &Completion) -> Result<(), CoreError> {
    match c {
        Completion::MinScore { min } => {
            check_fraction("completion.min", *min)?;
            if !matches!(kind, ItemKind::Assessment | ItemKind::Activity) {
                return Err(CoreError::invalid(
                    "completion",
                    "min_score applies to assessment and activity items only",
                ));
            }
        }
        Completion::Reported if kind != ItemKind::Activity => {
            return Err(CoreError::invalid("completion", "reported applies to activity items only"));
        }
        _ => {}
    }
    Ok(())
}

impl Outline {
    fn id_taken(&self, id: &str) -> bool {
        self.modules.iter().any(|m| m.id == id) || self.item(id).is_some()
    }

    /// Every prerequisite names another existing item, and following them never comes back.
    pub(super) fn check_prerequisites(&self) -> Result<(), CoreError> {
        for item in self.items() {
            for p in &item.prerequisites {
                if p.item() == item.id {
                    return Err(CoreError::invalid("prerequisites", format!("`{}` cannot require itself", item.id)));
                }
                if self.item(p.item()).is_none() {
                    return Err(CoreError::invalid(
                        "prerequisites",
                        format!("`{}` requires `{}`, which is not an item of this course", item.id, p.item()),
                    ));
                }
            }
        }
        // Depth-first search for a cycle; 0 = unvisited, 1 = on the path, 2 = done.
        let ids: Vec<&str> = self.items().map(|i| i.id.as_str()).collect();
        let mut state = vec![0u8; ids.len()];
        let index = |id: &str| ids.iter().position(|x| *x == id);
        fn visit(o: &Outline, ids: &[&str], i: usize, state: &mut [u8], index: &dyn Fn(&str) -> Option<usize>) -> bool {
            state[i] = 1;
            let Some(item) = o.item(ids[i]) else { return false };
            for p in &item.prerequisites {
                let Some(j) = index(p.item()) else { continue };
                if state[j] == 1 || (state[j] == 0 && visit(o, ids, j, state, index)) {
                    return true;
                }
            }
            state[i] = 2;
            false
        }
        for i in 0..ids.len() {
            if state[i] == 0 && visit(self, &ids, i, &mut state, &index) {
                return Err(CoreError::invalid(
                    "prerequisites",
                    format!(
                        "the prerequisites through `{}` form a cycle, which would lock those items forever",
                        ids[i]
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The standalone document a rendered page is served as (`/blobs/{sha256}`).
fn standalone_document(title: &str, html: &str) -> String {
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\n<body><article>\n{html}</article></body></html>\n"
    )
}

impl Content {
    /// Staff see and edit the whole outline.
    pub(crate) fn authorize_content_edit(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<(), CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)
    }

    /// A course's outline (empty when it has none), without authorization.
    pub fn load_outline(&self, inst: InstitutionId, course: CourseId) -> Result<Outline, CoreError> {
        Ok(self.t().outlines.get(course_key(inst, course))?.unwrap_or_default())
    }

    /// The whole outline, as authors see it.
    pub fn content_outline(&self, p: &Principal, inst: InstitutionId, course: CourseId) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        self.load_outline(inst, course)
    }

    /// A page's source and rendering, as authors see it.
    pub fn content_page(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item: &str,
    ) -> Result<Page, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        self.t().pages.get(item_key(inst, course, item))?.ok_or(CoreError::NotFound("page"))
    }

    /// Renders Markdown with the institution's content plugin exactly as a
    /// save would, and stores nothing: the editor's live preview. The outline,
    /// its version and the blobs are untouched, so nothing reaches students.
    pub async fn preview_page(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        markdown: String,
    ) -> Result<PagePreview, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        if markdown.len() > MAX_MARKDOWN_BYTES {
            return Err(CoreError::invalid("markdown", "must be at most 1 MiB"));
        }
        let ctx = super::call_context(p, inst, course, vec!["instructor".into()]);
        let kernel = self.clone();
        Self::blocking(move || -> Result<PagePreview, CoreError> {
            let host = kernel.host();
            let r = host.render_markdown(&ctx, &markdown).map_err(|e| super::plugin_error(e, "markdown"))?;
            Ok(PagePreview {
                html: r.html,
                toc: r.toc.into_iter().map(|h| Heading { level: h.level, text: h.text, anchor: h.anchor }).collect(),
                words: r.words,
                reading_minutes: r.reading_minutes,
                rendered_by: host.active_for(Slot::Content, &ctx.institution).unwrap_or_default(),
            })
        })
        .await?
    }

    /// Renders Markdown with the institution's content plugin and stores the
    /// standalone document as a blob.
    pub(crate) async fn render_page(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        title: &str,
        markdown: String,
    ) -> Result<Page, CoreError> {
        if markdown.len() > MAX_MARKDOWN_BYTES {
            return Err(CoreError::invalid("markdown", "must be at most 1 MiB"));
        }
        let ctx = super::call_context(p, inst, course, vec!["instructor".into()]);
        let kernel = self.clone();
        let title = title.to_owned();
        let now = self.now();
        let page = Self::blocking(move || -> Result<Page, CoreError> {
            let host = kernel.host();
            let r = host.render_markdown(&ctx, &markdown).map_err(|e| super::plugin_error(e, "markdown"))?;
            let rendered_by = host.active_for(Slot::Content, &ctx.institution).unwrap_or_default();
            let blob = kernel.put_rendered(standalone_document(&title, &r.html).as_bytes())?;
            Ok(Page {
                markdown,
                html: r.html,
                toc: r.toc.into_iter().map(|h| Heading { level: h.level, text: h.text, anchor: h.anchor }).collect(),
                words: r.words,
                reading_minutes: r.reading_minutes,
                text: r.text,
                html_sha256: blob.sha256,
                rendered_by,
                updated_at: now,
            })
        })
        .await??;
        Ok(page)
    }

    /// Applies `change` to the outline in one transaction, checking the
    /// expected version and the outline's invariants; writes `page` with it.
    async fn change_outline<R>(
        &self,
        inst: InstitutionId,
        course: CourseId,
        if_version: Option<u64>,
        page: Option<(String, Page)>,
        change: impl Fn(&mut Outline) -> Result<R, CoreError>,
    ) -> Result<(R, Outline), CoreError> {
        let t = self.t();
        let now = self.now();
        let bus = &self.env().bus;
        let event_id = bus.outbox.next_id().map_err(crate::events::bus_error)?;
        let out = self.store().transaction(&[&t.outlines, &t.pages, bus.outbox.tree()], |tx| {
            let outlines = tx.on(&t.outlines)?;
            let key = course_key(inst, course);
            let mut outline = outlines.get(&key)?.unwrap_or_default();
            if if_version.is_some_and(|v| v != outline.version) {
                return abort(CoreError::PreconditionFailed { current: outline.version });
            }
            let r = match change(&mut outline).and_then(|r| outline.check_prerequisites().map(|()| r)) {
                Ok(r) => r,
                Err(e) => return abort(e),
            };
            if outline.items().count() > MAX_ITEMS {
                return abort(CoreError::invalid("items", format!("a course holds at most {MAX_ITEMS} items")));
            }
            outline.version += 1;
            outline.updated_at = now;
            outlines.insert(&key, &outline)?;
            if let Some((item, page)) = &page {
                tx.on(&t.pages)?.insert(item_key(inst, course, item), page)?;
            }
            let changed = ContentChanged { institution: inst, course, version: outline.version };
            events::stage(&bus.outbox, tx, event_id, topics::CONTENT_CHANGED, &course.to_string(), &changed)?;
            Ok((r, outline))
        })?;
        self.commit_events().await?;
        Ok(out)
    }

    pub async fn add_module(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        input: ModuleInput,
        if_version: Option<u64>,
    ) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let title = validate_name("title", &input.title, 200)?;
        let id = match input.id {
            Some(id) => {
                check_id(&id)?;
                id
            }
            None => new_id("m"),
        };
        let (_, outline) = self
            .change_outline(inst, course, if_version, None, |o| {
                if o.id_taken(&id) {
                    return Err(CoreError::Conflict(format!("`{id}` is already used in this course")));
                }
                if o.modules.len() >= 200 {
                    return Err(CoreError::invalid("modules", "a course holds at most 200 modules"));
                }
                o.modules.push(Module {
                    id: id.clone(),
                    title: title.clone(),
                    release_at: input.release_at,
                    items: vec![],
                });
                Ok(())
            })
            .await?;
        Ok(outline)
    }

    pub async fn update_module(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        module: &str,
        patch: ModulePatch,
        if_version: Option<u64>,
    ) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let title = patch.title.as_deref().map(|t| validate_name("title", t, 200)).transpose()?;
        let (_, outline) = self
            .change_outline(inst, course, if_version, None, |o| {
                let m = o.modules.iter_mut().find(|m| m.id == module).ok_or(CoreError::NotFound("module"))?;
                if let Some(t) = &title {
                    m.title = t.clone();
                }
                if let Some(r) = patch.release_at {
                    m.release_at = r;
                }
                Ok(())
            })
            .await?;
        Ok(outline)
    }

    /// Deletes an empty module.
    pub async fn delete_module(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        module: &str,
        if_version: Option<u64>,
    ) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let (_, outline) = self
            .change_outline(inst, course, if_version, None, |o| {
                let i = o.modules.iter().position(|m| m.id == module).ok_or(CoreError::NotFound("module"))?;
                if !o.modules[i].items.is_empty() {
                    return Err(CoreError::Conflict("the module still has items: move or delete them first".into()));
                }
                o.modules.remove(i);
                Ok(())
            })
            .await?;
        Ok(outline)
    }

    /// Checks the kind-specific fields and builds the body (rendering pages).
    async fn item_body(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        kind: ItemKind,
        title: &str,
        fields: BodyFields,
    ) -> Result<(Body, Option<Page>), CoreError> {
        let BodyFields { markdown, media, url, assessment, activity } = fields;
        let given: Vec<&str> = [
            markdown.as_ref().map(|_| "markdown"),
            media.as_ref().map(|_| "media"),
            url.as_ref().map(|_| "url"),
            assessment.as_ref().map(|_| "assessment"),
            activity.as_ref().map(|_| "activity"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let wanted = match kind {
            ItemKind::Page => "markdown",
            ItemKind::Video | ItemKind::File => "media",
            ItemKind::Link => "url",
            ItemKind::Assessment => "assessment",
            ItemKind::Activity => "activity",
        };
        if given != [wanted] {
            return Err(CoreError::invalid(
                "kind",
                format!(
                    "a {kind:?} item takes `{wanted}` and nothing of `markdown`, `media`, `url`, `assessment`, `activity` else"
                )
                .to_lowercase(),
            ));
        }
        Ok(match kind {
            ItemKind::Page => {
                let page = self.render_page(p, inst, course, title, markdown.unwrap_or_default()).await?;
                (Body::Page { words: page.words, reading_minutes: page.reading_minutes }, Some(page))
            }
            ItemKind::Video | ItemKind::File => {
                let sha = media.unwrap_or_default();
                let m = self
                    .course_media(inst, course, &sha)?
                    .ok_or_else(|| CoreError::invalid("media", "no such media in this course: upload it first"))?;
                if kind == ItemKind::Video
                    && !(m.content_type.starts_with("video/") || m.content_type.starts_with("audio/"))
                {
                    return Err(CoreError::invalid(
                        "media",
                        format!("a video item needs video or audio, not {}", m.content_type),
                    ));
                }
                (
                    Body::Media { sha256: m.sha256, content_type: m.content_type, size: m.size, filename: m.filename },
                    None,
                )
            }
            ItemKind::Link => (Body::Link { url: check_url(&url.unwrap_or_default())? }, None),
            ItemKind::Assessment => {
                let a = assessment.unwrap_or_default();
                validate_item(&a)
                    .map_err(|_| CoreError::invalid("assessment", "1–128 letters, digits, `.`, `_` or `-`"))?;
                (Body::Assessment { assessment: a }, None)
            }
            ItemKind::Activity => {
                let a = activity.ok_or_else(|| CoreError::invalid("activity", "missing"))?;
                let settings = self.check_activity_settings(inst, &a.plugin, &a.kind, &a.settings)?;
                (Body::Activity { plugin: a.plugin, kind: a.kind, settings, settings_revision: 1 }, None)
            }
        })
    }

    pub async fn add_item(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        module: &str,
        input: ItemInput,
        if_version: Option<u64>,
    ) -> Result<(Item, Outline), CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let title = validate_name("title", &input.title, 200)?;
        let id = match input.id {
            Some(id) => {
                check_id(&id)?;
                id
            }
            None => new_id("i"),
        };
        check_prerequisite_list(&input.prerequisites)?;
        let completion = input.completion.unwrap_or(match input.kind {
            ItemKind::Assessment => Completion::MinScore { min: 0.0 },
            ItemKind::Activity => Completion::Reported,
            _ => Completion::Viewed,
        });
        check_completion(input.kind, &completion)?;
        // Cheap checks first: a taken id must not cost a render.
        let current = self.load_outline(inst, course)?;
        if current.id_taken(&id) {
            return Err(CoreError::Conflict(format!("`{id}` is already used in this course")));
        }
        if !current.modules.iter().any(|m| m.id == module) {
            return Err(CoreError::NotFound("module"));
        }
        let fields = BodyFields {
            markdown: input.markdown,
            media: input.media,
            url: input.url,
            assessment: input.assessment,
            activity: input.activity,
        };
        let (body, page) = self.item_body(p, inst, course, input.kind, &title, fields).await?;
        let item = Item {
            id: id.clone(),
            kind: input.kind,
            title,
            prerequisites: input.prerequisites,
            release_at: input.release_at,
            completion,
            body,
        };
        let (_, outline) = self
            .change_outline(inst, course, if_version, page.map(|pg| (id.clone(), pg)), |o| {
                if o.id_taken(&id) {
                    return Err(CoreError::Conflict(format!("`{id}` is already used in this course")));
                }
                let m = o.modules.iter_mut().find(|m| m.id == module).ok_or(CoreError::NotFound("module"))?;
                m.items.push(item.clone());
                Ok(())
            })
            .await?;
        Ok((item, outline))
    }

    pub async fn update_item(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
        patch: ItemPatch,
        if_version: Option<u64>,
    ) -> Result<(Item, Outline), CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let current = self.load_outline(inst, course)?;
        let old = current.item(item_id).ok_or(CoreError::NotFound("item"))?.clone();
        let title = patch.title.as_deref().map(|t| validate_name("title", t, 200)).transpose()?;
        if let Some(list) = &patch.prerequisites {
            check_prerequisite_list(list)?;
        }
        if let Some(c) = &patch.completion {
            check_completion(old.kind, c)?;
        }
        let new_title = title.clone().unwrap_or_else(|| old.title.clone());
        let touches_body =
            patch.markdown.is_some() || patch.media.is_some() || patch.url.is_some() || patch.assessment.is_some();
        let (body, page) = if let Some(settings) = &patch.activity_settings {
            let Body::Activity { plugin, kind, settings_revision, .. } = &old.body else {
                return Err(CoreError::invalid("activity_settings", "only an activity item has activity settings"));
            };
            if touches_body {
                return Err(CoreError::invalid("activity_settings", "an activity item takes no other body field"));
            }
            let text = self.check_activity_settings(inst, plugin, kind, settings)?;
            let body = Body::Activity {
                plugin: plugin.clone(),
                kind: kind.clone(),
                settings: text,
                settings_revision: settings_revision + 1,
            };
            (Some(body), None)
        } else if touches_body {
            let fields = BodyFields {
                markdown: patch.markdown.clone(),
                media: patch.media.clone(),
                url: patch.url.clone(),
                assessment: patch.assessment.clone(),
                activity: None,
            };
            let (b, pg) = self.item_body(p, inst, course, old.kind, &new_title, fields).await?;
            (Some(b), pg)
        } else if title.is_some() && old.kind == ItemKind::Page {
            // The standalone document carries the title: render it again.
            let md = self.t().pages.get(item_key(inst, course, item_id))?.map(|pg| pg.markdown).unwrap_or_default();
            let pg = self.render_page(p, inst, course, &new_title, md).await?;
            (None, Some(pg))
        } else {
            (None, None)
        };
        let (item, outline) = self
            .change_outline(inst, course, if_version, page.map(|pg| (item_id.to_owned(), pg)), |o| {
                let (mi, ii) = o.locate(item_id).ok_or(CoreError::NotFound("item"))?;
                {
                    let it = o.item_mut(item_id).ok_or(CoreError::NotFound("item"))?;
                    if let Some(t) = &title {
                        it.title = t.clone();
                    }
                    if let Some(b) = &body {
                        it.body = b.clone();
                    }
                    if let Some(list) = &patch.prerequisites {
                        it.prerequisites = list.clone();
                    }
                    if let Some(r) = patch.release_at {
                        it.release_at = r;
                    }
                    if let Some(c) = &patch.completion {
                        it.completion = c.clone();
                    }
                }
                if patch.module.is_some() || patch.position.is_some() {
                    let target = match &patch.module {
                        Some(m) => o.modules.iter().position(|x| x.id == *m).ok_or(CoreError::NotFound("module"))?,
                        None => mi,
                    };
                    let it = o.modules[mi].items.remove(ii);
                    let items = &mut o.modules[target].items;
                    let at = patch.position.unwrap_or(items.len()).min(items.len());
                    items.insert(at, it);
                }
                o.item(item_id).cloned().ok_or(CoreError::NotFound("item"))
            })
            .await?;
        Ok((item, outline))
    }

    /// Deletes an item no other item depends on. Progress and grades stay (they are records of what happened).
    pub async fn delete_item(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
        if_version: Option<u64>,
    ) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let (_, outline) = self
            .change_outline(inst, course, if_version, None, |o| {
                let (mi, ii) = o.locate(item_id).ok_or(CoreError::NotFound("item"))?;
                if let Some(dep) = o.items().find(|i| i.prerequisites.iter().any(|p| p.item() == item_id)) {
                    return Err(CoreError::Conflict(format!(
                        "`{}` requires this item: change its prerequisites first",
                        dep.id
                    )));
                }
                o.modules[mi].items.remove(ii);
                Ok(())
            })
            .await?;
        self.t().pages.remove(item_key(inst, course, item_id))?;
        self.t().captions.remove(item_key(inst, course, item_id))?;
        self.durable().await?;
        Ok(outline)
    }

    /// Reorders modules and items: `order` must name every module and every item exactly once.
    pub async fn reorder_content(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        order: Vec<OrderEntry>,
        if_version: Option<u64>,
    ) -> Result<Outline, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let (_, outline) = self
            .change_outline(inst, course, if_version, None, |o| {
                let mut modules: Vec<Module> = std::mem::take(&mut o.modules);
                let mut items: Vec<Item> = modules.iter_mut().flat_map(|m| std::mem::take(&mut m.items)).collect();
                let (module_count, item_count) = (modules.len(), items.len());
                let mut out = Vec::with_capacity(module_count);
                for entry in &order {
                    let i = modules.iter().position(|m| m.id == entry.module).ok_or_else(|| {
                        CoreError::invalid("order", format!("unknown or repeated module `{}`", entry.module))
                    })?;
                    let mut m = modules.remove(i);
                    for id in &entry.items {
                        let j = items
                            .iter()
                            .position(|x| x.id == *id)
                            .ok_or_else(|| CoreError::invalid("order", format!("unknown or repeated item `{id}`")))?;
                        m.items.push(items.remove(j));
                    }
                    out.push(m);
                }
                if !modules.is_empty() || !items.is_empty() {
                    return Err(CoreError::invalid(
                        "order",
                        format!("must list all {module_count} modules and {item_count} items exactly once"),
                    ));
                }
                o.modules = out;
                Ok(())
            })
            .await?;
        Ok(outline)
    }

    /// Removes a course's outline, pages, learner progress and media
    /// references (when the course itself is deleted). The blobs stay: other
    /// courses may share them.
    /// Forgets a course's outline, pages, progress and media references (the
    /// course itself was deleted).
    pub fn forget_course_content(&self, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        let t = self.t();
        let prefix = course_key(inst, course);
        fn clear<T: lectern_storage::Record>(tree: &lectern_storage::Tree<T>, prefix: &[u8]) -> Result<(), CoreError> {
            let keys: Vec<Vec<u8>> = tree.scan_prefix(prefix).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in keys {
                tree.remove(k)?;
            }
            Ok(())
        }
        clear(&t.pages, &prefix)?;
        clear(&t.item_states, &prefix)?;
        clear(&t.resume, &prefix)?;
        clear(&t.activity_states, &prefix)?;
        t.outlines.remove(&prefix)?;
        self.forget_course_media(inst, course)
    }

    /// Renders every page again with the content plugin now active (after an
    /// upgrade or a swap). Returns how many pages were rendered.
    pub async fn rerender_pages(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<usize, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let outline = self.load_outline(inst, course)?;
        let mut n = 0;
        for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
            let Some(old) = self.t().pages.get(item_key(inst, course, &item.id))? else { continue };
            let page = self.render_page(p, inst, course, &item.title, old.markdown).await?;
            self.t().pages.insert(item_key(inst, course, &item.id), &page)?;
            n += 1;
        }
        self.durable().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, pre: &[&str]) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::Link,
            title: id.into(),
            prerequisites: pre.iter().map(|p| Prerequisite::Completed { item: (*p).into() }).collect(),
            release_at: None,
            completion: Completion::Viewed,
            body: Body::Link { url: "https://example.org/".into() },
        }
    }

    fn outline(items: Vec<Item>) -> Outline {
        Outline {
            modules: vec![Module { id: "m".into(), title: "M".into(), release_at: None, items }],
            ..Default::default()
        }
    }

    #[test]
    fn prerequisites_must_exist_and_not_cycle() {
        assert!(outline(vec![item("a", &[]), item("b", &["a"]), item("c", &["a", "b"])]).check_prerequisites().is_ok());
        for (o, why) in [
            (outline(vec![item("a", &["a"])]), "itself"),
            (outline(vec![item("a", &["zz"])]), "not an item"),
            (outline(vec![item("a", &["c"]), item("b", &["a"]), item("c", &["b"])]), "cycle"),
        ] {
            let e = o.check_prerequisites().unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn standalone_document_escapes_the_title() {
        let d = standalone_document("<script>x</script> & co", "<p>hi</p>");
        assert!(d.contains("<title>&lt;script&gt;x&lt;/script&gt; &amp; co</title>"));
        assert!(d.contains("<article>\n<p>hi</p></article>"));
    }
}

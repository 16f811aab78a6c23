//! Keeping the tutor's index in step with course content.
//!
//! Every outline change stages `content.changed` in the same transaction;
//! the `tutor-index` worker then reconciles the whole course: pages whose
//! source, title or embedding model changed since they were indexed go to
//! the plugin's `index-document`, items no longer pages of the course go to
//! `remove-document`. Reconciling (rather than replaying each change) makes
//! redelivery and coalescing safe. At start, a catch-up pass does the same
//! for every course whose index is behind (first start, a new model, a
//! plugin activated while the kernel was down).

use lectern_host::CallContext;
use lectern_host::slots::tutoring as wit;
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};
use crate::{Principal, Tutor};
use lectern_content::content::{ItemKind, course_key, item_key};
use lectern_host::PluginError;

/// What the tutor's index holds for one page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexedDoc {
    /// `updated_at` of the page record that was indexed.
    pub page_updated_at: i64,
    pub title: String,
    pub model: String,
    /// `id@version` of the plugin that indexed it.
    pub plugin: String,
    pub passages: u32,
    pub indexed_at: i64,
    /// The last failure, when the page could not be indexed.
    pub error: Option<String>,
}

impl Record for IndexedDoc {
    const VERSION: u8 = 1;
}

/// What one reconciliation pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    pub indexed: usize,
    pub removed: usize,
    /// The time budget ran out with pages left.
    pub more: bool,
}

/// A page waiting for (or failing) indexing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingItem {
    pub item: String,
    pub title: String,
    pub error: Option<String>,
    /// The page is gone from the course and its passages are still to be
    /// removed from the index (until then a search may still find them).
    #[serde(default)]
    pub removal: bool,
}

/// How far the tutor's index is for a course.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexStatus {
    /// The embedding model vectors are made with.
    pub model: Option<String>,
    pub pages: usize,
    pub indexed: usize,
    pub passages: u64,
    pub pending: Vec<PendingItem>,
}

impl Tutor {
    fn retrieval_model(&self) -> Option<String> {
        self.host().retrieval().map(|r| r.embedder.model_id().to_owned())
    }

    fn index_context(inst: InstitutionId, course: CourseId) -> CallContext {
        CallContext {
            institution: inst.to_string(),
            user: None,
            course: Some(course.to_string()),
            item: None,
            roles: vec!["system".into()],
            locale: "en".into(),
            request_id: uuid::Uuid::now_v7().to_string(),
            vector_scope: vec![],
        }
    }

    /// Whether this page's index entry is current.
    fn is_current(doc: Option<&IndexedDoc>, page_updated_at: i64, title: &str, model: &str) -> bool {
        doc.is_some_and(|d| {
            d.error.is_none() && d.page_updated_at == page_updated_at && d.title == title && d.model == model
        })
    }

    /// Brings the tutor's index of one course up to date, for at most
    /// `budget` (a slow embedder on a big course takes minutes; the caller
    /// continues later). Returns how many pages were (re)indexed and removed
    /// and whether work is left; an error when any page failed (the others
    /// are done, and a retry only does what is left).
    pub async fn sync_tutor_index(
        &self,
        inst: InstitutionId,
        course: CourseId,
        budget: Option<std::time::Duration>,
    ) -> Result<Synced, CoreError> {
        let started = std::time::Instant::now();
        let Some(model) = self.retrieval_model() else { return Ok(Synced::default()) };
        let Some(plugin) = self.host().active_key(lectern_host::Slot::Tutoring, &inst.to_string()) else {
            return Ok(Synced::default());
        };
        let t = self.t();
        let outline = self.content().load_outline(inst, course)?;
        let (mut indexed, mut removed, mut failures) = (0, 0, Vec::new());
        for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
            let key = item_key(inst, course, &item.id);
            let Some(page) = self.content().page_record(inst, course, &item.id)? else { continue };
            let old = t.tutor_docs.get(&key)?;
            if Self::is_current(old.as_ref(), page.updated_at, &item.title, &model)
                && old.as_ref().is_some_and(|d| d.plugin == plugin)
            {
                continue;
            }
            if budget.is_some_and(|b| started.elapsed() >= b) {
                self.durable().await?;
                return Ok(Synced { indexed, removed, more: true });
            }
            let doc = wit::Document {
                id: item.id.clone(),
                course: course.to_string(),
                item: item.id.clone(),
                title: item.title.clone(),
                text: page.markdown.clone(),
                language: "en".into(),
            };
            let ctx = Self::index_context(inst, course);
            let host = self.host().clone();
            let result = Self::blocking(move || host.tutor_index(&ctx, &doc)).await?;
            let mut rec = IndexedDoc {
                page_updated_at: page.updated_at,
                title: item.title.clone(),
                model: model.clone(),
                plugin: plugin.clone(),
                passages: 0,
                indexed_at: self.now(),
                error: None,
            };
            match result {
                Ok(n) => {
                    rec.passages = n;
                    indexed += 1;
                }
                Err(PluginError::NoActivePlugin(_)) => return Ok(Synced { indexed, removed, more: false }),
                Err(e) => {
                    tracing::warn!(course = %course, item = %item.id, error = %e, "tutor could not index a page");
                    rec.error = Some(e.to_string());
                    failures.push(item.id.clone());
                }
            }
            t.tutor_docs.insert(&key, &rec)?;
        }
        // Pages that are gone (deleted items, modules, or no longer pages).
        for (key, id, _) in self.stale_tutor_docs(inst, course, &outline)? {
            let ctx = Self::index_context(inst, course);
            let host = self.host().clone();
            let doc_id = id.clone();
            match Self::blocking(move || host.tutor_remove(&ctx, &doc_id)).await? {
                Ok(()) => {
                    t.tutor_docs.remove(&key)?;
                    removed += 1;
                }
                Err(e) => failures.push(format!("{id} (removal: {e})")),
            }
        }
        self.durable().await?;
        if !failures.is_empty() {
            return Err(CoreError::Unavailable(format!("the tutor could not index {}", failures.join(", "))));
        }
        if indexed + removed > 0 {
            tracing::info!(course = %course, indexed, removed, "tutor index updated");
        }
        Ok(Synced { indexed, removed, more: false })
    }

    /// Index entries of pages that are no longer pages of the course
    /// (deleted items or modules, or items that changed kind): their passages
    /// are in the index until `remove-document` takes them out.
    fn stale_tutor_docs(
        &self,
        inst: InstitutionId,
        course: CourseId,
        outline: &lectern_content::content::Outline,
    ) -> Result<Vec<(Vec<u8>, String, IndexedDoc)>, CoreError> {
        let prefix = course_key(inst, course);
        let mut out = vec![];
        for row in self.t().tutor_docs.scan_prefix(&prefix) {
            let (k, doc) = row?;
            let Ok(id) = String::from_utf8(k[prefix.len()..].to_vec()) else { continue };
            if !outline.item(&id).is_some_and(|i| i.kind == ItemKind::Page) {
                out.push((k, id, doc));
            }
        }
        Ok(out)
    }

    /// Asks the `tutor-index` worker to look at the course again.
    pub async fn request_tutor_sync(&self, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        let version = self.content().load_outline(inst, course)?.version;
        let ev = crate::events::ContentChanged { institution: inst, course, version };
        let payload = serde_json::to_vec(&ev).map_err(|e| CoreError::internal("cannot encode an index event", e))?;
        let msg = lectern_bus::Outgoing::new(crate::events::topics::CONTENT_CHANGED, course.to_string(), payload);
        self.env().bus.outbox.put(msg).await.map_err(crate::events::bus_error)?;
        Ok(())
    }

    /// Courses whose tutor index is behind their content: what the start-up catch-up syncs.
    pub fn courses_behind_tutor_index(&self) -> Result<Vec<(InstitutionId, CourseId)>, CoreError> {
        let Some(model) = self.retrieval_model() else { return Ok(vec![]) };
        let t = self.t();
        let mut out = vec![];
        for (inst, course, outline) in self.content().all_outlines()? {
            let docs_prefix = course_key(inst, course);
            let mut behind = false;
            for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
                let k = item_key(inst, course, &item.id);
                let page_at =
                    self.content().page_record(inst, course, &item.id)?.map(|p| p.updated_at).unwrap_or_default();
                if !Self::is_current(t.tutor_docs.get(&k)?.as_ref(), page_at, &item.title, &model) {
                    behind = true;
                    break;
                }
            }
            if !behind {
                let pages = outline.items().filter(|i| i.kind == ItemKind::Page).count();
                behind = t.tutor_docs.scan_prefix(&docs_prefix).count() != pages;
            }
            if behind {
                out.push((inst, course));
            }
        }
        Ok(out)
    }

    /// How far the course's tutor index is (for the course's staff).
    pub fn tutor_index_status(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<IndexStatus, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let model = self.retrieval_model();
        let outline = self.content().load_outline(inst, course)?;
        let t = self.t();
        let mut status = IndexStatus { model: model.clone(), pages: 0, indexed: 0, passages: 0, pending: vec![] };
        for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
            status.pages += 1;
            let k = item_key(inst, course, &item.id);
            let page_at = self.content().page_record(inst, course, &item.id)?.map(|p| p.updated_at).unwrap_or_default();
            let doc = t.tutor_docs.get(&k)?;
            if Self::is_current(doc.as_ref(), page_at, &item.title, model.as_deref().unwrap_or("")) {
                status.indexed += 1;
                status.passages += doc.map(|d| u64::from(d.passages)).unwrap_or(0);
            } else {
                status.pending.push(PendingItem {
                    item: item.id.clone(),
                    title: item.title.clone(),
                    error: doc.and_then(|d| d.error),
                    removal: false,
                });
            }
        }
        // A deleted page is not caught up until its passages are out of the
        // index: until then a search (staff's, say) may still find them.
        for (_, id, doc) in self.stale_tutor_docs(inst, course, &outline)? {
            status.pending.push(PendingItem { item: id, title: doc.title, error: None, removal: true });
        }
        Ok(status)
    }

    /// Forgets what was indexed for the course and indexes it again (after a
    /// plugin upgrade that chunks differently, say). Runs in the background.
    pub async fn reindex_tutor(&self, p: &Principal, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let t = self.t();
        let keys: Vec<Vec<u8>> =
            t.tutor_docs.scan_prefix(course_key(inst, course)).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
        for k in keys {
            t.tutor_docs.update(&k, |d| d.map(|d| IndexedDoc { error: Some("reindex requested".into()), ..d }))?;
        }
        self.request_tutor_sync(inst, course).await
    }
}

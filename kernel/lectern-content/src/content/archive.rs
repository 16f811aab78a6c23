//! Course archives: a course's content moved between institutions (or
//! servers) as one POSIX tar file.
//!
//! Layout, in this order: `lectern-course.json` (the course, its outline and
//! page sources, and the list of media), then `media/<sha256>` for each
//! medium. The JSON comes first so an import can check every medium as it
//! streams past; nothing else may appear in the archive (no directories, no
//! links, no other names), which rules out path tricks by construction.
//! Media are re-hashed on import and must match their names; pages are
//! rendered again by the importing institution's content plugin.

use std::io::{Read, Write};

use lectern_storage::blobs::is_blob_id;
use serde::{Deserialize, Serialize};

use super::{Body, ItemKind, Module, Outline, course_key, item_key};
use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};
use lectern_identity::NewCourse;
use lectern_identity::model::Course;

use crate::{Content, Principal};

/// The `format` field of `lectern-course.json`.
pub const ARCHIVE_FORMAT: &str = "lectern-course";
const FORMAT_VERSION: u32 = 1;
const COURSE_JSON: &str = "lectern-course.json";
const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct ArchiveCourse {
    format: String,
    format_version: u32,
    exported_at: i64,
    course: ArchiveMeta,
    modules: Vec<Module>,
    /// Page sources by item id.
    pages: std::collections::BTreeMap<String, String>,
    media: Vec<ArchiveMedia>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArchiveMeta {
    code: String,
    title: String,
    description: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ArchiveMedia {
    sha256: String,
    content_type: String,
    size: u64,
    filename: Option<String>,
}

/// Overrides for an import (the code must be unique in the institution).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub code: Option<String>,
    pub title: Option<String>,
}

fn archive_error(e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("archive", e.to_string())
}

impl Content {
    /// Writes the course's archive to `out` (blocking: run it off the async workers).
    pub fn export_course(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        out: impl Write,
    ) -> Result<(), CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        let (c, _) = self.identity().get_course(p, inst, course)?;
        let outline = self.load_outline(inst, course)?;
        let mut pages = std::collections::BTreeMap::new();
        for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
            if let Some(pg) = self.t().pages.get(item_key(inst, course, &item.id))? {
                pages.insert(item.id.clone(), pg.markdown);
            }
        }
        // Every medium of the course travels, also those only linked from pages.
        let media: Vec<ArchiveMedia> = self
            .list_media(p, inst, course)?
            .into_iter()
            .map(|m| ArchiveMedia {
                sha256: m.sha256,
                content_type: m.content_type,
                size: m.size,
                filename: m.filename,
            })
            .collect();
        let now = self.now();
        let doc = ArchiveCourse {
            format: ARCHIVE_FORMAT.into(),
            format_version: FORMAT_VERSION,
            exported_at: now,
            course: ArchiveMeta { code: c.code, title: c.title, description: c.description },
            modules: outline.modules,
            pages,
            media: media.clone(),
        };
        let json =
            serde_json::to_vec_pretty(&doc).map_err(|e| CoreError::internal("cannot encode the course archive", e))?;
        let io = |e: std::io::Error| CoreError::internal("writing the archive", e);
        let mut tar = tar::Builder::new(out);
        let header = |size: u64| {
            let mut h = tar::Header::new_ustar();
            h.set_size(size);
            h.set_mode(0o644);
            h.set_mtime(now.max(0) as u64);
            h.set_entry_type(tar::EntryType::Regular);
            h
        };
        tar.append_data(&mut header(json.len() as u64), COURSE_JSON, json.as_slice()).map_err(io)?;
        for m in &media {
            let path = self.blob_path(&m.sha256)?.ok_or_else(|| {
                CoreError::internal_msg(format!("medium {} of the course is missing from the blob store", m.sha256))
            })?;
            let file = std::fs::File::open(&path).map_err(io)?;
            let size = file.metadata().map_err(io)?.len();
            tar.append_data(&mut header(size), format!("media/{}", m.sha256), file).map_err(io)?;
        }
        tar.into_inner().map_err(io)?.flush().map_err(io)?;
        Ok(())
    }

    /// Creates a draft course in `inst` from an archive; the caller becomes its
    /// instructor. Nothing is left behind when the archive is refused.
    pub async fn import_course(
        &self,
        p: &Principal,
        inst: InstitutionId,
        archive: impl Read + Send + 'static,
        opts: ImportOptions,
    ) -> Result<Course, CoreError> {
        authorize(p, Capability::CourseCreate, Context::Institution(inst))?;
        let course_id = CourseId::new();
        let uploader = p.user_id().unwrap_or_default();
        let kernel = self.clone();
        let read = Self::blocking(move || kernel.read_archive(inst, course_id, uploader, archive)).await?;
        let doc = match read {
            Ok(doc) => doc,
            Err(e) => {
                self.forget_course_media(inst, course_id)?;
                return Err(e);
            }
        };
        match self.build_imported(p, inst, course_id, doc, opts).await {
            Ok(c) => Ok(c),
            Err(e) => {
                // The course (if it got created) and its media go; the blobs
                // themselves stay until garbage collection, as after a delete.
                let _ = self.remove_imported(inst, course_id).await;
                Err(e)
            }
        }
    }

    fn read_archive(
        &self,
        inst: InstitutionId,
        course: CourseId,
        uploader: crate::ids::UserId,
        archive: impl Read,
    ) -> Result<ArchiveCourse, CoreError> {
        let mut tar = tar::Archive::new(archive);
        let entries = tar.entries().map_err(archive_error)?;
        let mut doc: Option<ArchiveCourse> = None;
        let mut seen = std::collections::HashSet::new();
        for entry in entries {
            let mut entry = entry.map_err(archive_error)?;
            let name = entry.path().map_err(archive_error)?.to_string_lossy().into_owned();
            if entry.header().entry_type() != tar::EntryType::Regular {
                return Err(archive_error(format!("`{name}` is not a regular file; archives hold only files")));
            }
            let Some(d) = &doc else {
                if name != COURSE_JSON {
                    return Err(archive_error(format!("the archive must start with {COURSE_JSON}, not `{name}`")));
                }
                if entry.size() > MAX_JSON_BYTES {
                    return Err(archive_error(format!("{COURSE_JSON} is larger than 64 MiB")));
                }
                let mut buf = Vec::with_capacity(entry.size() as usize);
                entry.by_ref().take(MAX_JSON_BYTES).read_to_end(&mut buf).map_err(archive_error)?;
                let parsed: ArchiveCourse =
                    serde_json::from_slice(&buf).map_err(|e| archive_error(format!("{COURSE_JSON}: {e}")))?;
                if parsed.format != ARCHIVE_FORMAT || parsed.format_version != FORMAT_VERSION {
                    return Err(archive_error(format!(
                        "not a {ARCHIVE_FORMAT} archive of version {FORMAT_VERSION} (found `{}` version {})",
                        parsed.format, parsed.format_version
                    )));
                }
                doc = Some(parsed);
                continue;
            };
            let sha = name.strip_prefix("media/").filter(|s| is_blob_id(s)).ok_or_else(|| {
                archive_error(format!("unexpected entry `{name}`: only {COURSE_JSON} and media/<sha256> belong here"))
            })?;
            let listed = d
                .media
                .iter()
                .find(|m| m.sha256 == sha)
                .ok_or_else(|| archive_error(format!("`{name}` is not listed in {COURSE_JSON}")))?
                .clone();
            if !seen.insert(sha.to_owned()) {
                return Err(archive_error(format!("`{name}` appears twice")));
            }
            let stored =
                self.import_media(inst, course, uploader, &mut entry, &listed.content_type, listed.filename)?;
            if stored.sha256 != sha {
                return Err(archive_error(format!("`{name}` does not match its SHA-256 ({})", stored.sha256)));
            }
        }
        let doc = doc.ok_or_else(|| archive_error(format!("the archive has no {COURSE_JSON}")))?;
        if let Some(m) = doc.media.iter().find(|m| !seen.contains(&m.sha256)) {
            return Err(archive_error(format!("media/{} is listed but missing", m.sha256)));
        }
        Ok(doc)
    }

    async fn build_imported(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course_id: CourseId,
        doc: ArchiveCourse,
        opts: ImportOptions,
    ) -> Result<Course, CoreError> {
        let new = NewCourse {
            code: opts.code.unwrap_or(doc.course.code),
            title: opts.title.unwrap_or(doc.course.title),
            description: doc.course.description,
        };
        let mut outline = Outline { modules: doc.modules, version: 0, updated_at: 0 };
        self.check_imported_outline(inst, course_id, &mut outline)?;
        // Render before anything is written: a page the plugin refuses refuses the import.
        let mut pages = vec![];
        for item in outline.items().filter(|i| i.kind == ItemKind::Page) {
            let md = doc
                .pages
                .get(&item.id)
                .cloned()
                .ok_or_else(|| archive_error(format!("page `{}` has no source in {COURSE_JSON}", item.id)))?;
            pages.push((item.id.clone(), self.render_page(p, inst, course_id, &item.title, md).await?));
        }
        for m in outline.modules.iter_mut() {
            for i in m.items.iter_mut() {
                if let Some((_, pg)) = pages.iter().find(|(id, _)| *id == i.id) {
                    i.body = Body::Page { words: pg.words, reading_minutes: pg.reading_minutes };
                }
            }
        }
        let course = self.identity().create_course_with_id(p, inst, new, course_id).await?;
        let t = self.t();
        outline.version = 1;
        outline.updated_at = self.now();
        let bus = &self.env().bus;
        let event_id = bus.outbox.next_id().map_err(crate::events::bus_error)?;
        self.store().transaction(&[&t.outlines, &t.pages, bus.outbox.tree()], |tx| {
            tx.on(&t.outlines)?.insert(course_key(inst, course_id), &outline)?;
            let pt = tx.on(&t.pages)?;
            for (id, pg) in &pages {
                pt.insert(item_key(inst, course_id, id), pg)?;
            }
            let changed =
                crate::events::ContentChanged { institution: inst, course: course_id, version: outline.version };
            let key = course_id.to_string();
            crate::events::stage(&bus.outbox, tx, event_id, crate::events::topics::CONTENT_CHANGED, &key, &changed)?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.commit_events().await?;
        tracing::info!(institution = %inst, course = %course_id, items = outline.items().count(), "course imported");
        Ok(course)
    }

    /// The same rules authoring enforces, applied to an outline from outside.
    fn check_imported_outline(
        &self,
        inst: InstitutionId,
        course: CourseId,
        outline: &mut Outline,
    ) -> Result<(), CoreError> {
        let mut ids = std::collections::HashSet::new();
        for m in outline.modules.iter_mut() {
            super::authoring::check_id(&m.id)?;
            m.title = lectern_identity::validate_name("title", &m.title, 200)?;
            if !ids.insert(m.id.clone()) {
                return Err(archive_error(format!("`{}` is used twice", m.id)));
            }
            for i in m.items.iter_mut() {
                super::authoring::check_id(&i.id)?;
                if !ids.insert(i.id.clone()) {
                    return Err(archive_error(format!("`{}` is used twice", i.id)));
                }
                super::authoring::check_item_rules(i)?;
                i.title = lectern_identity::validate_name("title", &i.title, 200)?;
                match (&i.kind, &mut i.body) {
                    (ItemKind::Page, Body::Page { .. }) => {}
                    (ItemKind::Video | ItemKind::File, Body::Media { sha256, content_type, size, filename }) => {
                        let m = self.course_media(inst, course, sha256)?.ok_or_else(|| {
                            archive_error(format!("item `{}` names media {sha256}, which is not in the archive", i.id))
                        })?;
                        if i.kind == ItemKind::Video
                            && !(m.content_type.starts_with("video/") || m.content_type.starts_with("audio/"))
                        {
                            return Err(archive_error(format!("video item `{}` names {}", i.id, m.content_type)));
                        }
                        (*content_type, *size, *filename) = (m.content_type, m.size, m.filename);
                    }
                    (ItemKind::Link, Body::Link { url }) => *url = super::authoring::check_url(url)?,
                    (ItemKind::Assessment, Body::Assessment { assessment }) => super::authoring::check_id(assessment)?,
                    (ItemKind::Activity, Body::Activity { plugin, kind, settings, .. }) => {
                        let v: serde_json::Value =
                            serde_json::from_str(settings).ok().filter(serde_json::Value::is_object).ok_or_else(
                                || archive_error(format!("activity `{}`: its settings are not a JSON object", i.id)),
                            )?;
                        // Checked against the kind's schema when this institution
                        // offers it; otherwise kept as they are, so the course
                        // moves whole and the item works once the plugin is installed.
                        let offered =
                            self.host().active_extension(lectern_host::Slot::Activity, plugin, &inst.to_string());
                        if offered.is_some() {
                            *settings = self
                                .check_activity_settings(inst, plugin, kind, &v)
                                .map_err(|e| archive_error(format!("activity `{}`: {e}", i.id)))?;
                        }
                    }
                    _ => return Err(archive_error(format!("item `{}`: its body does not fit its kind", i.id))),
                }
            }
        }
        if outline.items().count() > super::authoring::MAX_ITEMS {
            return Err(archive_error("too many items"));
        }
        outline.check_prerequisites()
    }

    async fn remove_imported(&self, inst: InstitutionId, course: CourseId) -> Result<(), CoreError> {
        if self.identity().course(inst, course)?.is_some() {
            self.identity().delete_course(&Principal::system(inst), inst, course).await?;
        }
        self.forget_course_content(inst, course)?;
        self.durable().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_names_are_strict() {
        assert!(is_blob_id(&"a".repeat(64)));
        for bad in ["../etc/passwd", &"A".repeat(64), &"a".repeat(63), &format!("{}/", "a".repeat(63))] {
            assert!(!is_blob_id(bad), "{bad}");
        }
    }
}

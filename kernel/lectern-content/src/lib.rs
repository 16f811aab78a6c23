//! The learning-content context: a course's outline (modules and items with
//! prerequisites), pages (Markdown sources rendered by the content plugin),
//! media (content-addressed uploads), activity items that plugins provide
//! (with each learner's state), each learner's progress, and course
//! archives (export and import).
//!
//! Key types: [`Content`] (the context, cheap to clone), [`content::Outline`],
//! [`content::Page`], [`media::MediaRecord`].
//!
//! Invariants:
//! - Owns the trees listed in `Trees` and the course side of the blob store;
//!   no other crate opens them. Other contexts read outlines and pages
//!   through [`Content`]'s functions (`load_outline`, `page_record`, ...).
//! - Prerequisites that depend on scores read the gradebook through
//!   `lectern_assessment`, never a copy.
//! - A changed outline or page stages `content.changed` so the tutor's index
//!   follows it.

pub mod content;
pub mod media;
pub mod privacy;

use std::sync::Arc;

use lectern_assessment::Assessments;
use lectern_domain::{CoreError, Env, Principal, authz, error, events, ids, keys};
use lectern_identity::Identity;

/// The content context's settings, from the kernel's configuration.
#[derive(Clone, Debug)]
pub struct ContentSettings {
    /// Public base URL (blob links are absolute).
    pub issuer: String,
    /// Uploads and content-addressed blobs.
    pub media: media::MediaSettings,
}

/// The learning-content context over one database. Cheap to clone.
#[derive(Clone)]
pub struct Content {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    config: ContentSettings,
    identity: Identity,
    assessments: Assessments,
    host: lectern_host::Host,
    /// Content-addressed media and rendered pages (`<data_dir>/blobs`).
    blobs: lectern_storage::BlobStore,
    t: Trees,
    /// Striped locks that queue one learner's actions on one activity item
    /// behind each other in this process (a double click, two tabs), so the
    /// state's compare-and-swap fails only across processes.
    activity_locks: Box<[tokio::sync::Mutex<()>]>,
    /// The MAC of signed blob URLs, keyed (see [`media`]).
    url_mac: hmac::Hmac<sha2::Sha256>,
}

impl Content {
    pub fn open(
        env: Env,
        config: ContentSettings,
        identity: Identity,
        assessments: Assessments,
        host: lectern_host::Host,
        blobs: lectern_storage::BlobStore,
    ) -> Result<Content, CoreError> {
        let t = Trees::open(&env.store)?;
        let activity_locks = (0..256).map(|_| tokio::sync::Mutex::new(())).collect();
        let url_mac = media::url_mac(&env.store, &t, env.clock.now())?;
        Ok(Content {
            inner: Arc::new(Inner { env, config, identity, assessments, host, blobs, t, activity_locks, url_mac }),
        })
    }

    /// Creates the content context's trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn config(&self) -> &ContentSettings {
        &self.inner.config
    }

    fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    fn assessments(&self) -> &Assessments {
        &self.inner.assessments
    }

    fn host(&self) -> &lectern_host::Host {
        &self.inner.host
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }

    /// The lock that queues actions on the state under `key`.
    fn activity_lock(&self, key: &[u8]) -> &tokio::sync::Mutex<()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let locks = &self.inner.activity_locks;
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        &locks[(h % locks.len() as u64) as usize]
    }
}

lectern_domain::context_helpers!(Content);

/// The content context's trees, opened once; private to this crate.
pub(crate) struct Trees {
    media: lectern_storage::Tree<media::MediaRecord>,
    outlines: lectern_storage::Tree<content::Outline>,
    pages: lectern_storage::Tree<content::Page>,
    item_states: lectern_storage::Tree<content::ItemState>,
    resume: lectern_storage::Tree<content::view::Resume>,
    captions: lectern_storage::Tree<content::captions::Captions>,
    activity_states: lectern_storage::Tree<content::activity::ActivityState>,
    public_media: lectern_storage::Tree<media::PublicMark>,
    url_keys: lectern_storage::Tree<media::UrlKey>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            media: s.tree("course_media")?,
            outlines: s.tree("content_outlines")?,
            pages: s.tree("content_pages")?,
            item_states: s.tree("content_item_states")?,
            resume: s.tree("content_resume")?,
            captions: s.tree("content_captions")?,
            activity_states: s.tree("content_activity_states")?,
            public_media: s.tree("content_public_media")?,
            url_keys: s.sealed_tree("content_url_keys")?,
        })
    }
}

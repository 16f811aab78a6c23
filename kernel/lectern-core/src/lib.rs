//! The Lectern kernel's domain: institutions (tenants), users, courses,
//! enrolments, login sessions, OAuth 2 / OIDC, signing keys, and the one
//! authorization function every operation goes through.
//!
//! Key types: [`Kernel`] (the entry point, cheap to clone), [`Principal`]
//! (who is asking), [`authz::Capability`] and [`authz::authorize`].
//!
//! Invariants:
//! - Every record key starts with its institution id; every operation takes
//!   a [`Principal`] and calls [`authz::authorize`] before it reads or writes
//!   tenant data, so no path crosses tenants without the platform-admin check.
//! - A write is acknowledged (the async fn returns `Ok`) only after
//!   [`lectern_storage::Store::durable`].
//! - No HTTP types, no JSON DTOs, no sled: those belong to `lectern-api` and
//!   `lectern-storage`.

pub mod assessments;
pub mod authz;
mod bootstrap;
mod clock;
pub mod completion;
pub mod content;
mod courses;
pub mod credentials;
mod enrolments;
mod error;
pub mod events;
pub mod gradebook;
mod ids;
mod institutions;
mod keys;
pub mod marketplace;
pub mod media;
mod migrations;
pub mod model;
pub mod notifications;
pub mod oauth;
mod paging;
pub mod plugins;
mod sessions;
mod signing;
mod sweep;
mod throttle;
pub mod tutor;
mod users;
pub mod webhooks;
pub mod workers;

use std::sync::Arc;

pub use authz::{Capability, Principal, PrincipalKind};
pub use clock::Clock;
pub use courses::{CourseUpdate, NewCourse};
pub use error::{AuthFailure, CoreError};
pub use ids::{CourseId, InstitutionId, SessionId, UserId};
pub use institutions::NewInstitution;
pub use lectern_auth::password::PolicyViolation;
pub use lectern_storage::FlushObserver;
pub use paging::{Page, PageRequest};
pub use sessions::{LoginOutcome, LoginRequest, SessionInfo, SessionToken};
pub use sweep::Swept;
pub use throttle::ThrottlePolicy;
pub use users::{NewUser, UserUpdate};

pub use lectern_auth::password::PasswordHasher;
use lectern_storage::{Store, StoreOptions};

/// An argon2id hasher with explicit parameters (memory KiB, iterations, lanes).
pub fn password_hasher(m_kib: u32, t: u32, p: u32) -> Result<PasswordHasher, CoreError> {
    Ok(PasswordHasher::new(m_kib, t, p)?)
}

/// A random password that passes the policy (for CLI-created accounts).
pub fn generate_password() -> Result<String, CoreError> {
    // 18 random bytes → 24 base64url characters, ~144 bits.
    let s = lectern_auth::secret::new_secret("")?;
    Ok(s.chars().take(24).collect())
}

/// Settings the domain needs; the binary builds this from the configuration file.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    pub data_dir: std::path::PathBuf,
    /// Public base URL; the OAuth/OIDC issuer.
    pub issuer: String,
    /// The `aud` of access tokens this deployment issues and accepts.
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub auth_code_ttl_secs: i64,
    pub throttle: ThrottlePolicy,
    pub password_hasher: PasswordHasher,
    pub cache_capacity_bytes: Option<u64>,
    /// The WebAssembly plugin host's engine settings.
    pub plugins: lectern_host::HostConfig,
    /// The event bus and its workers.
    pub bus: workers::BusSettings,
    /// Outgoing email; `None` sends none (in-app notifications still work).
    pub email: Option<lectern_notify::SmtpConfig>,
    pub webhooks: lectern_notify::WebhookOptions,
    /// Uploads and content-addressed blobs.
    pub media: media::MediaSettings,
    /// The AI tutor: embedder, vector index, generator, limits.
    pub tutor: tutor::TutorSettings,
    /// Where plugins are installed from, and the root of trust pinned for it.
    pub marketplace: marketplace::MarketplaceSettings,
}

impl KernelConfig {
    /// Defaults for a data directory: one-hour-free sessions are not a thing in
    /// an exam, so idle timeout is generous (2 h) and absolute is 12 h.
    pub fn new(data_dir: impl Into<std::path::PathBuf>, issuer: impl Into<String>) -> KernelConfig {
        KernelConfig {
            data_dir: data_dir.into(),
            issuer: issuer.into(),
            audience: "lectern-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            session_idle_secs: 2 * 3600,
            session_absolute_secs: 12 * 3600,
            auth_code_ttl_secs: 5 * 60,
            throttle: ThrottlePolicy::default(),
            password_hasher: PasswordHasher::default(),
            cache_capacity_bytes: None,
            plugins: lectern_host::HostConfig::default(),
            bus: workers::BusSettings::default(),
            email: None,
            webhooks: lectern_notify::WebhookOptions {
                timeout: std::time::Duration::from_secs(10),
                allow_private_addresses: false,
                user_agent: "Lectern-Webhooks/1".into(),
            },
            media: media::MediaSettings::default(),
            tutor: tutor::TutorSettings::default(),
            marketplace: marketplace::MarketplaceSettings::default(),
        }
    }
}

/// The kernel's domain services over one database.
#[derive(Clone)]
pub struct Kernel {
    inner: Arc<Inner>,
}

struct Inner {
    config: KernelConfig,
    clock: Clock,
    store: Store,
    t: trees::Trees,
    host: lectern_host::Host,
    bus: events::BusHandles,
    /// Content-addressed media and rendered pages (`<data_dir>/blobs`).
    blobs: lectern_storage::BlobStore,
    /// Public halves of signing keys by kid: derived once, not per request.
    public_keys: std::sync::RwLock<std::collections::HashMap<String, [u8; 32]>>,
    /// In-memory exam observations (answer bursts) awaiting the next signal batch.
    exam_watch: assessments::proctoring::Watch,
    /// Recent tutor questions per student and course (rate limits).
    tutor_window: tutor::AskWindow,
    /// Held while the marketplace index is refreshed.
    market_refresh: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel").field("data_dir", &self.inner.config.data_dir).finish_non_exhaustive()
    }
}

/// What opening the kernel found.
#[derive(Debug)]
pub struct Opened {
    pub kernel: Kernel,
    /// Present when no platform admin exists yet: the one-time token that
    /// creates the first one (`POST /api/v1/bootstrap`).
    pub bootstrap_token: Option<String>,
    pub migrations_ran: Vec<u32>,
}

impl Kernel {
    /// Opens the database, runs migrations, ensures the platform institution
    /// exists, and issues a bootstrap token if there is no platform admin.
    pub fn open(
        config: KernelConfig,
        clock: Clock,
        flush_observer: Option<FlushObserver>,
    ) -> Result<Opened, CoreError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            CoreError::Internal(format!("cannot create data directory {}: {e}", config.data_dir.display()))
        })?;
        let store = Store::open(
            config.data_dir.join("db"),
            StoreOptions { cache_capacity: config.cache_capacity_bytes, flush_observer, temporary: false },
        )?;
        let migrations_ran = store.migrate(migrations::ALL)?;
        let t = trees::Trees::open(&store)?;
        let blobs = lectern_storage::BlobStore::open(&store, config.data_dir.join("blobs"))?;
        let host = lectern_host::Host::open(&store, config.data_dir.join("plugins"), config.plugins.clone())
            .map_err(|e| CoreError::Internal(format!("cannot start the plugin host: {e}")))?;
        let bus = events::BusHandles::open(&store).map_err(events::bus_error)?;
        if config.tutor.enabled {
            tutor::attach_retrieval(&host, &store, &config)?;
        }
        let kernel = Kernel {
            inner: Arc::new(Inner {
                config,
                clock,
                store,
                t,
                host,
                bus,
                blobs,
                public_keys: Default::default(),
                exam_watch: Default::default(),
                tutor_window: Default::default(),
                market_refresh: Default::default(),
            }),
        };
        kernel.ensure_platform_institution()?;
        let bootstrap_token = kernel.bootstrap_if_needed()?;
        Ok(Opened { kernel, bootstrap_token, migrations_ran })
    }

    /// How many handles to this kernel exist (the database closes with the last).
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    pub fn config(&self) -> &KernelConfig {
        &self.inner.config
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The plugin host (plugin calls go through it; management goes through
    /// the authorized operations in [`plugins`]).
    pub fn host(&self) -> &lectern_host::Host {
        &self.inner.host
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn t(&self) -> &trees::Trees {
        &self.inner.t
    }

    /// Readiness: the database answers.
    pub fn check(&self) -> Result<(), CoreError> {
        Ok(self.inner.store.check()?)
    }

    /// Bytes the database occupies on disk.
    pub fn storage_bytes(&self) -> Result<u64, CoreError> {
        Ok(self.inner.store.size_on_disk()?)
    }

    async fn durable(&self) -> Result<(), CoreError> {
        Ok(self.inner.store.durable().await?)
    }

    /// Runs CPU-heavy work (password hashing) off the async workers.
    async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, CoreError> {
        tokio::task::spawn_blocking(f).await.map_err(|e| CoreError::Internal(format!("blocking task failed: {e}")))
    }
}

mod trees {
    use lectern_storage::{StorageError, Store, Tree};

    use crate::ids::{CourseId, InstitutionId, UserId};
    use crate::model::*;

    /// Every tree the kernel uses, opened once.
    pub(crate) struct Trees {
        pub institutions: Tree<Institution>,
        pub institutions_by_slug: Tree<InstitutionId>,
        pub users: Tree<User>,
        pub users_by_email: Tree<UserId>,
        pub courses: Tree<Course>,
        pub courses_by_code: Tree<CourseId>,
        pub enrolments: Tree<Enrolment>,
        pub enrolments_by_user: Tree<()>,
        pub sessions: Tree<Session>,
        pub sessions_by_user: Tree<Vec<u8>>,
        pub signing_keys: Tree<SigningKeyRecord>,
        pub kid_index: Tree<InstitutionId>,
        pub oauth_clients: Tree<OAuthClient>,
        pub auth_codes: Tree<AuthCode>,
        pub refresh_tokens: Tree<RefreshToken>,
        pub refresh_families: Tree<RefreshFamily>,
        pub login_failures: Tree<FailureCounter>,
        pub bootstrap: Tree<BootstrapToken>,
        pub grades: Tree<crate::gradebook::GradeEntry>,
        pub submissions: Tree<crate::gradebook::StoredSubmission>,
        pub manual_grades: Tree<crate::gradebook::manual::ManualGrade>,
        pub grade_attempts: Tree<crate::gradebook::attempts::AttemptResults>,
        pub grade_categories: Tree<crate::gradebook::totals::GradeCategories>,
        pub completion_rules: Tree<crate::completion::CompletionRule>,
        pub completions: Tree<crate::events::CourseCompleted>,
        pub issuer_keys: Tree<crate::credentials::IssuerKey>,
        pub status_lists: Tree<crate::credentials::StatusListState>,
        pub credentials: Tree<crate::credentials::CredentialRecord>,
        pub credentials_by_award: Tree<String>,
        pub credentials_by_user: Tree<String>,
        pub notifications: Tree<crate::notifications::Notification>,
        pub notification_prefs: Tree<crate::notifications::Preferences>,
        pub webhooks: Tree<crate::webhooks::Webhook>,
        pub webhook_log: Tree<crate::webhooks::DeliveryLog>,
        pub webhooks_sent: Tree<crate::webhooks::SentMark>,
        pub emails_sent: Tree<crate::webhooks::SentMark>,
        pub media: Tree<crate::media::MediaRecord>,
        pub outlines: Tree<crate::content::Outline>,
        pub pages: Tree<crate::content::Page>,
        pub item_states: Tree<crate::content::ItemState>,
        pub resume: Tree<crate::content::view::Resume>,
        pub assessments: Tree<crate::assessments::Assessment>,
        pub assessment_index: Tree<crate::assessments::Located>,
        pub attempts: Tree<crate::assessments::Attempt>,
        pub attempts_by_student: Tree<String>,
        pub attempt_starts: Tree<String>,
        pub answers: Tree<crate::assessments::Answer>,
        pub attempt_deadlines: Tree<()>,
        pub proctor_states: Tree<crate::assessments::proctoring::ProctorState>,
        pub proctor_batches: Tree<crate::assessments::proctoring::SignalBatch>,
        pub tutor_turns: Tree<crate::tutor::TutorTurn>,
        pub tutor_docs: Tree<crate::tutor::IndexedDoc>,
        pub tutor_log: Tree<crate::tutor::QuestionLog>,
        pub tutor_policies: Tree<crate::tutor::TutorPolicy>,
        pub tutor_pseudonyms: Tree<u32>,
        /// The newest verified marketplace index (JSON of `tuf::TrustedState`).
        pub market_state: Tree<Vec<u8>>,
        pub market_installs: Tree<crate::marketplace::Provenance>,
        pub market_alerts: Tree<crate::marketplace::Alert>,
    }

    impl Trees {
        pub fn open(s: &Store) -> Result<Trees, StorageError> {
            Ok(Trees {
                institutions: s.tree("institutions")?,
                institutions_by_slug: s.tree("institutions_by_slug")?,
                users: s.tree("users")?,
                users_by_email: s.tree("users_by_email")?,
                courses: s.tree("courses")?,
                courses_by_code: s.tree("courses_by_code")?,
                enrolments: s.tree("enrolments")?,
                enrolments_by_user: s.tree("enrolments_by_user")?,
                sessions: s.tree("sessions")?,
                sessions_by_user: s.tree("sessions_by_user")?,
                signing_keys: s.tree("signing_keys")?,
                kid_index: s.tree("kid_index")?,
                oauth_clients: s.tree("oauth_clients")?,
                auth_codes: s.tree("auth_codes")?,
                refresh_tokens: s.tree("refresh_tokens")?,
                refresh_families: s.tree("refresh_families")?,
                login_failures: s.tree("login_failures")?,
                bootstrap: s.tree("bootstrap")?,
                grades: s.tree("grades")?,
                submissions: s.tree("grade_submissions")?,
                manual_grades: s.tree("grade_manual")?,
                grade_attempts: s.tree("grade_attempts")?,
                grade_categories: s.tree("grade_categories")?,
                completion_rules: s.tree("completion_rules")?,
                completions: s.tree("completions")?,
                issuer_keys: s.tree("credential_issuer_keys")?,
                status_lists: s.tree("credential_status_lists")?,
                credentials: s.tree("credentials")?,
                credentials_by_award: s.tree("credentials_by_award")?,
                credentials_by_user: s.tree("credentials_by_user")?,
                notifications: s.tree("notifications")?,
                notification_prefs: s.tree("notification_prefs")?,
                webhooks: s.tree("webhooks")?,
                webhook_log: s.tree("webhook_deliveries")?,
                webhooks_sent: s.tree("webhooks_sent")?,
                emails_sent: s.tree("emails_sent")?,
                media: s.tree("course_media")?,
                outlines: s.tree("content_outlines")?,
                pages: s.tree("content_pages")?,
                item_states: s.tree("content_item_states")?,
                resume: s.tree("content_resume")?,
                assessments: s.tree("assessments")?,
                assessment_index: s.tree("assessment_index")?,
                attempts: s.tree("attempts")?,
                attempts_by_student: s.tree("attempts_by_student")?,
                attempt_starts: s.tree("attempt_starts")?,
                answers: s.tree("attempt_answers")?,
                attempt_deadlines: s.tree("attempt_deadlines")?,
                proctor_states: s.tree("proctor_states")?,
                proctor_batches: s.tree("proctor_batches")?,
                tutor_turns: s.tree("tutor_turns")?,
                tutor_docs: s.tree("tutor_index_docs")?,
                tutor_log: s.tree("tutor_question_log")?,
                tutor_policies: s.tree("tutor_policies")?,
                tutor_pseudonyms: s.tree("tutor_pseudonyms")?,
                market_state: s.tree("marketplace_state")?,
                market_installs: s.tree("marketplace_installs")?,
                market_alerts: s.tree("marketplace_alerts")?,
            })
        }
    }
}

//! The Lectern kernel: a thin facade over the bounded contexts, the schema
//! migrations, and the background workers on the bus.
//!
//! The domain lives in one crate per context, each owning its storage trees:
//! `lectern-identity` (institutions, users, courses, enrolments, sessions,
//! OAuth), `lectern-assessment` (assessments, attempts, proctoring, gradebook,
//! completion, credentials), `lectern-content` (outlines, pages, media,
//! progress, archives), `lectern-tutor`, `lectern-notifications` (in-app,
//! email, webhooks) and `lectern-plugin-admin` (plugins and the marketplace),
//! over the shared vocabulary of `lectern-domain`.
//!
//! Key types: [`Kernel`] (opens the database and every context, cheap to
//! clone), [`KernelConfig`].
//!
//! Invariants:
//! - The kernel opens the database, the blob store, the plugin host and the
//!   bus once, and hands each context what it needs; contexts never open
//!   another context's trees.
//! - A facade method exists only where an operation spans contexts
//!   ([`Kernel::delete_course`], [`Kernel::set_completion_rule`]); everything
//!   else is called on its context (`kernel.identity().create_user(...)`).
//! - No HTTP types, no JSON DTOs, no sled: those belong to `lectern-api` and
//!   `lectern-storage`.

pub mod backup;
mod migrations;
pub mod privacy;
pub mod secrets;
pub mod workers;

use std::sync::Arc;

pub use lectern_assessment::{Assessments, assessments, completion, credentials, gradebook};
pub use lectern_content::{Content, content, media};
pub use lectern_domain::{
    AuthFailure, Capability, Clock, CoreError, CourseId, Env, InstitutionId, MarketFailure, MarketFailureKind, Page,
    PageRequest, Principal, PrincipalKind, SessionId, UserId, audit, authz, error, events,
};
pub use lectern_identity::{
    CourseUpdate, Identity, LoginOutcome, LoginRequest, NewCourse, NewInstitution, NewUser, PasswordHasher,
    PolicyViolation, SessionInfo, SessionToken, SigningKeyInfo, Swept, ThrottlePolicy, UserUpdate, bulk,
    generate_password, model, oauth, password_hasher,
};
pub use lectern_notifications::{Notifications, email_check as notifications_check, notifications, webhooks};
pub use lectern_plugin_admin::{PluginAdmin, marketplace, plugins};
pub use lectern_storage::FlushObserver;
pub use lectern_tutor::{Tutor, tutor};

use lectern_domain::BusHandles;
use lectern_storage::{Store, StoreOptions};

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
    pub email: Option<lectern_notifications::SmtpConfig>,
    pub webhooks: lectern_notifications::WebhookOptions,
    /// Uploads and content-addressed blobs.
    pub media: lectern_content::media::MediaSettings,
    /// The AI tutor: embedder, vector index, generator, limits.
    pub tutor: tutor::TutorSettings,
    /// Where plugins are installed from, and the root of trust pinned for it.
    pub marketplace: marketplace::MarketplaceSettings,
    /// The key that seals secrets at rest (module [`secrets`]).
    pub secrets: secrets::SecretsSettings,
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
            webhooks: lectern_notifications::WebhookOptions {
                timeout: std::time::Duration::from_secs(10),
                allow_private_addresses: false,
                user_agent: "Lectern-Webhooks/1".into(),
            },
            media: lectern_content::media::MediaSettings::default(),
            tutor: tutor::TutorSettings::default(),
            marketplace: marketplace::MarketplaceSettings::default(),
            secrets: secrets::SecretsSettings::default(),
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
    /// The id of the key sealing secrets at rest (named in backups).
    sealing_key_id: String,
    env: Env,
    host: lectern_host::Host,
    blobs: lectern_storage::BlobStore,
    identity: Identity,
    assessments: Assessments,
    content: Content,
    tutor: Tutor,
    notifications: Notifications,
    plugins: PluginAdmin,
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
    /// Opens the database, runs migrations, opens every context (identity
    /// ensures the platform institution exists), and issues a bootstrap token
    /// if there is no platform admin.
    pub fn open(
        config: KernelConfig,
        clock: Clock,
        flush_observer: Option<FlushObserver>,
    ) -> Result<Opened, CoreError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            CoreError::internal(format!("cannot create data directory {}", config.data_dir.display()), e)
        })?;
        let store = Store::open(
            config.data_dir.join("db"),
            StoreOptions {
                cache_capacity: config.cache_capacity_bytes,
                flush_observer,
                temporary: false,
                keyring: None,
            },
        )?;
        let in_use = store.sealing_keys_in_use(secrets::SEALED_TREES)?;
        let keyring = Arc::new(secrets::keyring(&config.secrets, &config.data_dir, &in_use)?);
        store.set_keyring(keyring.clone())?;
        let migrations_ran = store.migrate(migrations::ALL)?;
        // Seals secrets written before sealing existed, and completes a key rotation.
        let resealed = store.reseal(secrets::SEALED_TREES)?;
        if resealed > 0 {
            tracing::info!(resealed, key = %keyring.current().id(), "secrets resealed under the current key");
        }
        let blobs = lectern_storage::BlobStore::open(&store, config.data_dir.join("blobs"))?;
        let host = lectern_host::Host::open(&store, config.data_dir.join("plugins"), config.plugins.clone())
            .map_err(|e| CoreError::internal("cannot start the plugin host", e))?;
        let bus = BusHandles::open(&store).map_err(events::bus_error)?;
        if config.tutor.enabled {
            tutor::attach_retrieval(&host, &store, &config.data_dir, &config.tutor)?;
        }
        let audit = lectern_domain::audit::AuditLog::open(&store)?;
        let env = Env { store, clock, bus: Arc::new(bus), audit };
        let (identity, bootstrap_token) = Identity::open(
            env.clone(),
            lectern_identity::IdentitySettings {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                access_token_ttl_secs: config.access_token_ttl_secs,
                refresh_token_ttl_secs: config.refresh_token_ttl_secs,
                session_idle_secs: config.session_idle_secs,
                session_absolute_secs: config.session_absolute_secs,
                auth_code_ttl_secs: config.auth_code_ttl_secs,
                throttle: config.throttle,
                password_hasher: config.password_hasher.clone(),
            },
        )?;
        let assessments = Assessments::open(env.clone(), config.issuer.clone(), identity.clone(), host.clone())?;
        let content = Content::open(
            env.clone(),
            lectern_content::ContentSettings { issuer: config.issuer.clone(), media: config.media.clone() },
            identity.clone(),
            assessments.clone(),
            host.clone(),
            blobs.clone(),
        )?;
        let tutor = Tutor::open(
            env.clone(),
            config.tutor.clone(),
            identity.clone(),
            content.clone(),
            assessments.clone(),
            host.clone(),
        )?;
        let notifications = Notifications::open(
            env.clone(),
            lectern_notifications::NotificationSettings {
                email: config.email.clone(),
                webhooks: config.webhooks.clone(),
            },
            identity.clone(),
            assessments.clone(),
        )?;
        let plugins = PluginAdmin::open(env.clone(), config.marketplace.clone(), identity.clone(), host.clone())?;
        let kernel = Kernel {
            inner: Arc::new(Inner {
                config,
                sealing_key_id: keyring.current().id(),
                env,
                host,
                blobs,
                identity,
                assessments,
                content,
                tutor,
                notifications,
                plugins,
            }),
        };
        Ok(Opened { kernel, bootstrap_token, migrations_ran })
    }

    /// How many handles to this kernel facade exist. Contexts handed to
    /// workers hold the database too: to know when it is closed, watch
    /// [`Kernel::database`].
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// A watch on the database that does not keep it open: released once
    /// every handle (the facade's, the contexts', the host's, the bus's) is gone.
    pub fn database(&self) -> lectern_storage::WeakStore {
        self.inner.env.store.downgrade()
    }

    pub fn config(&self) -> &KernelConfig {
        &self.inner.config
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.env.clock
    }

    /// The plugin host (plugin calls go through it; management goes through
    /// the authorized operations of [`Kernel::plugins`]).
    pub fn host(&self) -> &lectern_host::Host {
        &self.inner.host
    }

    /// The blob store (media and rendered pages).
    pub fn blobs(&self) -> &lectern_storage::BlobStore {
        &self.inner.blobs
    }

    /// The audit log (reads authorize; see [`audit`]).
    pub fn audit(&self) -> &audit::AuditLog {
        &self.inner.env.audit
    }

    /// Removes audit entries older than `retention_days` (`0` keeps
    /// everything); returns how many went. Blocking.
    pub fn sweep_audit(&self, retention_days: u64) -> Result<u64, CoreError> {
        if retention_days == 0 {
            return Ok(0);
        }
        let now = self.clock().now();
        let cutoff =
            now.saturating_sub(i64::try_from(retention_days).unwrap_or(i64::MAX / 86_400).saturating_mul(86_400));
        let removed = self.inner.env.audit.sweep(cutoff, now)?;
        if removed > 0 {
            self.inner.env.store.durable_blocking()?;
        }
        Ok(removed)
    }

    /// Appends to the audit log and waits until the entry is on disk.
    pub async fn record_audit(&self, entry: audit::NewAuditEntry) -> Result<(), CoreError> {
        self.inner.env.audit(entry);
        self.inner.env.durable().await
    }

    /// Institutions, users, courses, enrolments, sessions, OAuth.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// Assessments, attempts, proctoring, the gradebook, completion, credentials.
    pub fn assessments(&self) -> &Assessments {
        &self.inner.assessments
    }

    /// Outlines, pages, media, learner progress, archives.
    pub fn content(&self) -> &Content {
        &self.inner.content
    }

    /// The AI tutor.
    pub fn tutor(&self) -> &Tutor {
        &self.inner.tutor
    }

    /// In-app notifications, email and webhooks.
    pub fn notifications(&self) -> &Notifications {
        &self.inner.notifications
    }

    /// Plugin administration and the marketplace.
    pub fn plugins(&self) -> &PluginAdmin {
        &self.inner.plugins
    }

    /// Readiness: the database answers.
    pub fn check(&self) -> Result<(), CoreError> {
        Ok(self.inner.env.store.check()?)
    }

    /// Bytes the database occupies on disk.
    pub fn storage_bytes(&self) -> Result<u64, CoreError> {
        Ok(self.inner.env.store.size_on_disk()?)
    }

    /// Deletes a draft course, its enrolments (identity), then its content and
    /// media. Published or archived courses hold student records and can only
    /// be archived.
    /// The course's gradebook with every column named: assessments by their
    /// title (the assessment context knows them), other graded items of the
    /// outline (activities, items graded by hand) by the item's title.
    pub fn course_gradebook(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<lectern_assessment::gradebook::totals::CourseGradebook, CoreError> {
        let mut g = self.assessments().course_gradebook(p, inst, course)?;
        let outline = self.content().load_outline(inst, course)?;
        for c in g.columns.iter_mut().filter(|c| c.grading_method.is_none()) {
            if let Some(item) = outline.item(&c.item) {
                c.title = format!("{} ({})", item.title, c.item);
            }
        }
        Ok(g)
    }

    /// [`Kernel::course_gradebook`] as CSV, with the file name to download it as.
    pub fn gradebook_csv(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<(String, String), CoreError> {
        use lectern_assessment::gradebook::totals::{csv_file_name, to_csv};
        let g = self.course_gradebook(p, inst, course)?;
        Ok((csv_file_name(&g), to_csv(&g)))
    }

    pub async fn delete_course(&self, p: &Principal, inst: InstitutionId, id: CourseId) -> Result<(), CoreError> {
        self.identity().delete_course(p, inst, id).await?;
        self.content().forget_course_content(inst, id)?;
        self.inner.env.durable().await
    }

    /// Sets the course's completion rule. Its items are checked against the
    /// course's gradebook items, with the outline's items named in the error
    /// when one is a content item rather than a gradebook item.
    pub async fn set_completion_rule(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        required_items: Vec<String>,
        min_percent: f64,
    ) -> Result<completion::CompletionRule, CoreError> {
        let outline = self.content().outline_refs(inst, course)?;
        self.assessments().set_completion_rule(p, inst, course, required_items, min_percent, &outline).await
    }
}

//! The notifications context: in-app notifications and each user's channel
//! preferences, outgoing email (through `lectern-notify`'s SMTP mailer) and
//! signed webhooks with a delivery log. A notifiable event (`grade.recorded`,
//! `course.completed`, ...) is fanned out by a bus worker into one in-app
//! notification plus email and webhook jobs, each delivered exactly once.
//!
//! Key types: [`Notifications`] (the context, cheap to clone),
//! [`notifications::Notification`], [`webhooks::Webhook`].
//!
//! Invariants:
//! - Owns the notification and webhook trees; names courses and assessments
//!   through `lectern_identity` and `lectern_assessment`, never their trees.
//! - Sends nothing from a request: only its bus workers send, and each
//!   email or webhook delivery is marked sent once (`emails_sent`,
//!   `webhooks_sent`) so a redelivered job does not send twice.

pub mod email_check;
pub mod notifications;
pub mod privacy;
pub mod webhooks;

use std::sync::Arc;

use lectern_assessment::Assessments;
use lectern_domain::{CoreError, Env, Principal, authz, error, events, ids};
use lectern_identity::Identity;

pub use lectern_notify::{SmtpConfig, TlsMode, WebhookOptions};

/// The notifications context's settings, from the kernel's configuration.
#[derive(Clone, Debug)]
pub struct NotificationSettings {
    /// Outgoing email; `None` sends none (in-app notifications still work).
    pub email: Option<SmtpConfig>,
    pub webhooks: WebhookOptions,
}

/// The notifications context over one database. Cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    config: NotificationSettings,
    identity: Identity,
    assessments: Assessments,
    t: Trees,
}

impl Notifications {
    pub fn open(
        env: Env,
        config: NotificationSettings,
        identity: Identity,
        assessments: Assessments,
    ) -> Result<Notifications, CoreError> {
        let t = Trees::open(&env.store)?;
        Ok(Notifications { inner: Arc::new(Inner { env, config, identity, assessments, t }) })
    }

    /// Creates the notification trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    fn assessments(&self) -> &Assessments {
        &self.inner.assessments
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }
}

lectern_domain::context_helpers!(Notifications);

/// The notification trees, opened once; private to this crate.
struct Trees {
    notifications: lectern_storage::Tree<notifications::Notification>,
    notification_prefs: lectern_storage::Tree<notifications::Preferences>,
    webhooks: lectern_storage::Tree<webhooks::Webhook>,
    webhook_log: lectern_storage::Tree<webhooks::DeliveryLog>,
    webhooks_sent: lectern_storage::Tree<webhooks::SentMark>,
    emails_sent: lectern_storage::Tree<webhooks::SentMark>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            notifications: s.tree("notifications")?,
            notification_prefs: s.tree("notification_prefs")?,
            webhooks: s.sealed_tree("webhooks")?,
            webhook_log: s.tree("webhook_deliveries")?,
            webhooks_sent: s.tree("webhooks_sent")?,
            emails_sent: s.tree("emails_sent")?,
        })
    }
}

//! JSON shapes of notifications (the in-app inbox and preferences) and of
//! institution webhooks with their delivery log.

use std::collections::BTreeMap;

use lectern_core::notifications as n;
use lectern_core::webhooks as w;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An in-app notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    /// The event kind, e.g. `grade.recorded`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Where it leads: a path of the web application (`/courses/{id}/grades`),
    /// or an absolute URL (a credential's public page).
    pub link: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; null while unread.
    pub read_at: Option<i64>,
}

impl From<n::Notification> for Notification {
    fn from(x: n::Notification) -> Self {
        Notification {
            id: x.id,
            kind: x.kind,
            title: x.title,
            body: x.body,
            link: x.link,
            created_at: x.created_at,
            read_at: x.read_at,
        }
    }
}

/// The caller's notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<Notification>,
}

/// Channels for one event kind.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
}

/// Notification preferences. Requests are read as leniently as before this
/// type existed (unknown fields are ignored), so no client that worked breaks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Preferences {
    /// By event kind (`grade.recorded`, `grading.failed`, `course.completed`,
    /// `credential.issued`); kinds not listed have both channels on.
    pub kinds: BTreeMap<String, Channels>,
}

impl From<n::Preferences> for Preferences {
    fn from(p: n::Preferences) -> Self {
        Preferences {
            kinds: p.kinds.into_iter().map(|(k, c)| (k, Channels { in_app: c.in_app, email: c.email })).collect(),
        }
    }
}

impl From<Preferences> for n::Preferences {
    fn from(p: Preferences) -> Self {
        n::Preferences {
            kinds: p.kinds.into_iter().map(|(k, c)| (k, n::Channels { in_app: c.in_app, email: c.email })).collect(),
        }
    }
}

/// An institution webhook. The signing secret is only in [`CreatedWebhook`].
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// Event kinds delivered.
    pub events: Vec<String>,
    /// False once switched off after repeated failed deliveries.
    pub active: bool,
    pub consecutive_failures: u32,
    pub disabled_reason: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<&w::Webhook> for Webhook {
    fn from(h: &w::Webhook) -> Self {
        Webhook {
            id: h.id.clone(),
            url: h.url.clone(),
            events: h.events.clone(),
            active: h.active,
            consecutive_failures: h.consecutive_failures,
            disabled_reason: h.disabled_reason.clone(),
            created_at: h.created_at,
        }
    }
}

/// A webhook as registered: the only response that carries its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 key deliveries are signed with; store it now.
    pub secret: String,
}

impl From<&w::Webhook> for CreatedWebhook {
    fn from(h: &w::Webhook) -> Self {
        CreatedWebhook { webhook: h.into(), secret: h.secret.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// One delivery attempt of a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The `Lectern-Delivery` id (the same for every attempt of one delivery).
    pub delivery: String,
    pub event: String,
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Unix seconds.
    pub at: i64,
}

impl From<w::DeliveryLog> for WebhookDelivery {
    fn from(d: w::DeliveryLog) -> Self {
        WebhookDelivery {
            delivery: d.delivery,
            event: d.event,
            attempt: d.attempt,
            status: d.status,
            ok: d.ok,
            error: d.error,
            duration_ms: d.duration_ms,
            at: d.at,
        }
    }
}

/// A webhook's delivery log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveries {
    pub items: Vec<WebhookDelivery>,
}

/// How many notifications a "mark all read" changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: usize,
}

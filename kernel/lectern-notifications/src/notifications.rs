//! Notifications: an in-app inbox per user, email, and institution webhooks,
//! with per-user preferences by event kind.
//!
//! The fan-out worker turns a notifiable event into inbox entries plus one
//! `notification.email` job per recipient and one `notification.webhook` job
//! per subscribed webhook, all in one transaction with its processed mark, so
//! a redelivered event notifies nobody twice. The email and webhook workers
//! each record what they sent, so a redelivered job is not sent twice either
//! (a crash between the send and that record can still repeat one; the
//! stable Message-ID / delivery id lets the receiver drop it).

use std::collections::BTreeMap;

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::events::{self, topics};
use crate::ids::{InstitutionId, UserId};
use crate::{Notifications, Principal};
use lectern_domain::model::CourseRole;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl Record for Notification {
    const VERSION: u8 = 1;
}

/// Channels for one event kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Channels { in_app: true, email: true }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// By event kind; kinds not listed use the defaults (in-app and email on).
    pub kinds: BTreeMap<String, Channels>,
}

impl Record for Preferences {
    const VERSION: u8 = 1;
}

impl Preferences {
    pub fn channels(&self, kind: &str) -> Channels {
        self.kinds.get(kind).copied().unwrap_or_default()
    }
}

/// `notification.email`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmailJob {
    pub institution: InstitutionId,
    pub user: UserId,
    pub notification: String,
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// `notification.webhook`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WebhookJob {
    pub institution: InstitutionId,
    pub webhook: String,
    pub delivery: String,
    pub event: String,
    pub body: String,
}

pub(crate) fn inbox_key(i: InstitutionId, u: UserId, id: &str) -> Vec<u8> {
    [i.bytes().as_slice(), u.bytes(), id.as_bytes()].concat()
}

fn prefs_key(i: InstitutionId, u: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), u.bytes()].concat()
}

/// What a person is told about an event, and who.
struct Message {
    recipients: Vec<UserId>,
    title: String,
    body: String,
    link: Option<String>,
}

impl Notifications {
    fn me(p: &Principal) -> Result<UserId, CoreError> {
        p.user_id().ok_or_else(|| CoreError::Forbidden("only a signed-in user has notifications".into()))
    }

    /// The caller's notifications, newest first.
    pub fn my_notifications(
        &self,
        p: &Principal,
        unread_only: bool,
        limit: usize,
    ) -> Result<Vec<Notification>, CoreError> {
        let me = Self::me(p)?;
        if !(1..=500).contains(&limit) {
            return Err(CoreError::invalid("limit", "must be between 1 and 500"));
        }
        let prefix = prefs_key(p.institution, me);
        let mut out: Vec<Notification> = self
            .t()
            .notifications
            .scan_prefix(&prefix)
            .filter_map(Result::ok)
            .map(|(_, n)| n)
            .filter(|n| !unread_only || n.read_at.is_none())
            .collect();
        out.reverse();
        out.truncate(limit);
        Ok(out)
    }

    /// Marks one of the caller's notifications read (idempotent).
    pub async fn mark_read(&self, p: &Principal, id: &str) -> Result<Notification, CoreError> {
        let me = Self::me(p)?;
        let now = self.now();
        let key = inbox_key(p.institution, me, id);
        let n = self
            .t()
            .notifications
            .update(&key, |old| {
                old.map(|mut n| {
                    n.read_at.get_or_insert(now);
                    n
                })
            })?
            .ok_or(CoreError::NotFound("notification"))?;
        self.durable().await?;
        Ok(n)
    }

    /// Marks every unread notification of the caller read, in one durable
    /// transaction; returns how many changed.
    pub async fn mark_all_read(&self, p: &Principal) -> Result<usize, CoreError> {
        let me = Self::me(p)?;
        let now = self.now();
        let t = self.t();
        // Read the candidates first: sled must not be iterated inside its own transaction.
        let keys: Vec<Vec<u8>> = t
            .notifications
            .scan_prefix(prefs_key(p.institution, me))
            .filter_map(Result::ok)
            .filter(|(_, n)| n.read_at.is_none())
            .map(|(k, _)| k)
            .collect();
        let changed = self.store().transaction(&[&t.notifications], |tx| {
            let inbox = tx.on(&t.notifications)?;
            let mut changed = 0;
            for key in &keys {
                // Re-read inside the transaction: another request may have marked it meanwhile.
                if let Some(mut n) = inbox.get(key)?
                    && n.read_at.is_none()
                {
                    n.read_at = Some(now);
                    inbox.insert(key, &n)?;
                    changed += 1;
                }
            }
            Ok(changed)
        })?;
        self.durable().await?;
        Ok(changed)
    }

    pub fn my_preferences(&self, p: &Principal) -> Result<Preferences, CoreError> {
        let me = Self::me(p)?;
        Ok(self.t().notification_prefs.get(prefs_key(p.institution, me))?.unwrap_or_default())
    }

    /// Replaces the caller's preferences; unknown event kinds are refused.
    pub async fn set_my_preferences(&self, p: &Principal, prefs: Preferences) -> Result<Preferences, CoreError> {
        let me = Self::me(p)?;
        for kind in prefs.kinds.keys() {
            if !topics::NOTIFIABLE.contains(&kind.as_str()) {
                return Err(CoreError::invalid(
                    "kinds",
                    format!("unknown event kind `{kind}`; known: {}", topics::NOTIFIABLE.join(", ")),
                ));
            }
        }
        self.t().notification_prefs.insert(prefs_key(p.institution, me), &prefs)?;
        self.durable().await?;
        Ok(prefs)
    }

    fn describe(&self, kind: &str, v: &serde_json::Value) -> Result<Option<(InstitutionId, Message)>, CoreError> {
        let field = |name: &str| v.get(name).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        let Ok(inst) = field("institution").parse::<InstitutionId>() else { return Ok(None) };
        let course_title = |course: &str| -> String {
            course
                .parse()
                .ok()
                .and_then(|c| self.identity().course(inst, c).ok().flatten())
                .map(|c| c.title)
                .unwrap_or_else(|| "your course".into())
        };
        let user = |name: &str| field(name).parse::<UserId>().ok();
        // An item is named by its assessment's title; other items (grades set
        // by hand) have only their id.
        let item_title = || -> String {
            let item = field("item");
            field("course")
                .parse()
                .ok()
                .and_then(|c| self.assessments().assessment_title(inst, c, &item).ok().flatten())
                .unwrap_or(item)
        };
        let msg = match kind {
            topics::GRADE_RECORDED => {
                let Some(student) = user("student") else { return Ok(None) };
                let points = v.get("points").and_then(|x| x.as_f64()).unwrap_or(0.0);
                let max = v.get("max_points").and_then(|x| x.as_f64()).unwrap_or(0.0);
                let changed = v.get("previous_points").is_some_and(|x| !x.is_null());
                Message {
                    recipients: vec![student],
                    title: if changed {
                        format!("Your grade for {} changed", item_title())
                    } else {
                        format!("{} has been graded", item_title())
                    },
                    body: format!(
                        "{}: {points} of {max} points ({}).",
                        course_title(&field("course")),
                        field("reason")
                    ),
                    link: Some(format!("/courses/{}/grades", field("course"))),
                }
            }
            topics::GRADING_FAILED => {
                let Ok(course) = field("course").parse() else { return Ok(None) };
                let instructors = self
                    .identity()
                    .course_enrolments(inst, course)?
                    .into_iter()
                    .filter(|e| e.role == CourseRole::Instructor)
                    .map(|e| e.user)
                    .collect();
                Message {
                    recipients: instructors,
                    title: format!("Automatic grading failed for {}", item_title()),
                    body: format!(
                        "{}: attempt {} could not be graded: {}. It needs your attention in the gradebook.",
                        course_title(&field("course")),
                        field("attempt"),
                        field("error")
                    ),
                    link: None,
                }
            }
            topics::COURSE_COMPLETED => {
                let Some(student) = user("student") else { return Ok(None) };
                Message {
                    recipients: vec![student],
                    title: format!("You completed {}", course_title(&field("course"))),
                    body: "Congratulations! Your credential is being issued.".into(),
                    link: Some("/credentials".into()),
                }
            }
            topics::CREDENTIAL_ISSUED => {
                let Some(student) = user("student") else { return Ok(None) };
                Message {
                    recipients: vec![student],
                    title: format!("Your credential for {} is ready", course_title(&field("course"))),
                    body: format!("View, print or share it at {}", field("url")),
                    link: Some(field("url")),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some((inst, msg)))
    }

    /// The fan-out worker: inbox entries, email jobs and webhook jobs for one event.
    pub(crate) async fn fan_out(&self, message_id: &str, kind: &str, payload: &[u8]) -> Result<bool, CoreError> {
        let v: serde_json::Value =
            serde_json::from_slice(payload).map_err(|e| CoreError::invalid("payload", e.to_string()))?;
        let Some((inst, msg)) = self.describe(kind, &v)? else { return Ok(false) };
        let t = self.t();
        let bus = &self.env().bus;
        let now = self.now();
        let email_on = self.inner.config.email.is_some();
        // Links are paths of the web application; an email needs the whole address.
        let absolute_link = msg.link.as_ref().map(|l| {
            if l.starts_with('/') {
                format!("{}{l}", self.identity().config().issuer.trim_end_matches('/'))
            } else {
                l.clone()
            }
        });
        // Ids are reserved before the transaction (they are not transactional).
        let mut plan = vec![];
        for user in &msg.recipients {
            let Ok(u) = self.identity().load_user(inst, *user) else { continue };
            if !u.active {
                continue;
            }
            let prefs = t.notification_prefs.get(prefs_key(inst, *user))?.unwrap_or_default().channels(kind);
            let id = uuid::Uuid::now_v7().to_string();
            let email_id = bus.outbox.next_id().map_err(events::bus_error)?;
            plan.push((u, prefs, id, email_id));
        }
        let hooks = self.webhooks_for(inst, kind)?;
        let mut hook_plan = vec![];
        for h in hooks {
            hook_plan.push((h, uuid::Uuid::now_v7().to_string(), bus.outbox.next_id().map_err(events::bus_error)?));
        }
        let r: Result<bool, lectern_storage::TxError<CoreError>> =
            self.store().transaction(&[&t.notifications, bus.outbox.tree(), bus.processed.tree()], |tx| {
                if !bus.processed.first_time(tx, "notifications", message_id)? {
                    return Ok(false);
                }
                let inbox = tx.on(&t.notifications)?;
                for (u, prefs, id, email_id) in &plan {
                    if prefs.in_app {
                        let n = Notification {
                            id: id.clone(),
                            kind: kind.to_string(),
                            title: msg.title.clone(),
                            body: msg.body.clone(),
                            link: msg.link.clone(),
                            created_at: now,
                            read_at: None,
                        };
                        inbox.insert(inbox_key(inst, u.id, id), &n)?;
                    }
                    if prefs.email && email_on {
                        let job = EmailJob {
                            institution: inst,
                            user: u.id,
                            notification: id.clone(),
                            to: format!("{} <{}>", u.name.replace(['<', '>', '"'], ""), u.email),
                            subject: msg.title.clone(),
                            text: format!("{}\n\n{}\n", msg.body, absolute_link.clone().unwrap_or_default()),
                        };
                        events::stage(&bus.outbox, tx, *email_id, topics::EMAIL_REQUESTED, &u.id.to_string(), &job)?;
                    }
                }
                for (hook, delivery, id) in &hook_plan {
                    let body = serde_json::json!({
                        "id": delivery,
                        "type": kind,
                        "created": now,
                        "institution": inst,
                        "data": v,
                    });
                    let job = WebhookJob {
                        institution: inst,
                        webhook: hook.id.clone(),
                        delivery: delivery.clone(),
                        event: kind.to_string(),
                        body: body.to_string(),
                    };
                    events::stage(&bus.outbox, tx, *id, topics::WEBHOOK_REQUESTED, &hook.id, &job)?;
                }
                Ok(true)
            });
        let done = r?;
        if done {
            self.commit_events().await?;
        }
        Ok(done)
    }
}

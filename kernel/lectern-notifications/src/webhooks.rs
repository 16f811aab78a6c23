//! Institution webhooks (registry, delivery log, auto-disable) and the email
//! and webhook delivery workers.

use std::sync::Arc;

use lectern_bus::worker::{Failure, Handler};
use lectern_bus::{Delivery, SubscriptionType};
use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::events::topics;
use crate::ids::InstitutionId;
use crate::notifications::{EmailJob, WebhookJob};
use crate::{Notifications, Principal};
use lectern_domain::workers::{BusSettings, WorkerDef};

/// Dead-lettered deliveries in a row after which a webhook is switched off.
pub const DISABLE_AFTER_FAILURES: u32 = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub institution: InstitutionId,
    pub url: String,
    pub events: Vec<String>,
    /// The HMAC key. Shown once at creation; kept to sign deliveries.
    pub secret: String,
    pub active: bool,
    pub consecutive_failures: u32,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
}

impl Record for Webhook {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub delivery: String,
    pub event: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: i64,
}

impl Record for DeliveryLog {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SentMark {
    pub at: i64,
}

impl Record for SentMark {
    const VERSION: u8 = 1;
}

fn hook_key(i: InstitutionId, id: &str) -> Vec<u8> {
    [i.bytes().as_slice(), id.as_bytes()].concat()
}

fn log_key(i: InstitutionId, hook: &str, seq: &str) -> Vec<u8> {
    [i.bytes().as_slice(), hook.as_bytes(), &[0], seq.as_bytes()].concat()
}

impl Notifications {
    /// Registers a webhook (`institution:manage`). The returned record carries the secret; later reads do not.
    pub async fn create_webhook(
        &self,
        p: &Principal,
        inst: InstitutionId,
        url: &str,
        events: Vec<String>,
    ) -> Result<Webhook, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        let parsed = url::Url::parse(url).map_err(|e| CoreError::invalid("url", e.to_string()))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() || url.len() > 2000 {
            return Err(CoreError::invalid("url", "an http(s) URL with a host, at most 2000 characters"));
        }
        if !self.inner.config.webhooks.allow_private_addresses {
            lectern_notify::webhook::check_destination(&parsed).await.map_err(|why| CoreError::invalid("url", why))?;
        }
        if events.is_empty() {
            return Err(CoreError::invalid(
                "events",
                format!("list at least one of: {}", topics::NOTIFIABLE.join(", ")),
            ));
        }
        for e in &events {
            if !topics::NOTIFIABLE.contains(&e.as_str()) {
                return Err(CoreError::invalid(
                    "events",
                    format!("unknown event `{e}`; known: {}", topics::NOTIFIABLE.join(", ")),
                ));
            }
        }
        let hook = Webhook {
            id: uuid::Uuid::now_v7().to_string(),
            institution: inst,
            url: parsed.to_string(),
            events,
            secret: lectern_auth::secret::new_secret("whsec_")?,
            active: true,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: self.now(),
        };
        self.t().webhooks.insert(hook_key(inst, &hook.id), &hook)?;
        self.durable().await?;
        Ok(hook)
    }

    pub fn list_webhooks(&self, p: &Principal, inst: InstitutionId) -> Result<Vec<Webhook>, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        Ok(self.t().webhooks.page(inst.bytes(), None, usize::MAX)?.into_iter().map(|(_, h)| h).collect())
    }

    pub fn get_webhook(&self, p: &Principal, inst: InstitutionId, id: &str) -> Result<Webhook, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        self.t().webhooks.get(hook_key(inst, id))?.ok_or(CoreError::NotFound("webhook"))
    }

    pub async fn delete_webhook(&self, p: &Principal, inst: InstitutionId, id: &str) -> Result<(), CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        self.t().webhooks.remove(hook_key(inst, id))?.ok_or(CoreError::NotFound("webhook"))?;
        self.durable().await
    }

    /// Switches a webhook back on after it was disabled, resetting its failure count.
    pub async fn enable_webhook(&self, p: &Principal, inst: InstitutionId, id: &str) -> Result<Webhook, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        let h = self
            .t()
            .webhooks
            .update(hook_key(inst, id), |old| {
                old.map(|mut h| {
                    h.active = true;
                    h.consecutive_failures = 0;
                    h.disabled_reason = None;
                    h
                })
            })?
            .ok_or(CoreError::NotFound("webhook"))?;
        self.durable().await?;
        Ok(h)
    }

    /// The delivery log of a webhook, newest first.
    pub fn webhook_deliveries(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryLog>, CoreError> {
        self.get_webhook(p, inst, id)?;
        let prefix = [inst.bytes().as_slice(), id.as_bytes(), &[0]].concat();
        let mut out: Vec<DeliveryLog> =
            self.t().webhook_log.page(&prefix, None, usize::MAX)?.into_iter().map(|(_, d)| d).collect();
        out.reverse();
        out.truncate(limit.clamp(1, 500));
        Ok(out)
    }

    pub(crate) fn webhooks_for(&self, inst: InstitutionId, kind: &str) -> Result<Vec<Webhook>, CoreError> {
        Ok(self
            .t()
            .webhooks
            .page(inst.bytes(), None, usize::MAX)?
            .into_iter()
            .map(|(_, h)| h)
            .filter(|h| h.active && h.events.iter().any(|e| e == kind))
            .collect())
    }

    fn log_delivery(&self, job: &WebhookJob, entry: DeliveryLog) -> Result<(), CoreError> {
        let seq = format!("{}-{:04}", job.delivery, entry.attempt);
        self.t().webhook_log.insert(log_key(job.institution, &job.webhook, &seq), &entry)?;
        Ok(())
    }

    /// The fan-out worker per notifiable event kind, and the webhook and email senders.
    pub fn notification_workers(&self, settings: &BusSettings) -> Result<Vec<WorkerDef>, CoreError> {
        let shared = |topic: &'static str, sub: &'static str, concurrency: usize, handler: Arc<dyn Handler>| {
            let mut w = WorkerDef::new(topic, sub, SubscriptionType::Shared, settings.default, concurrency, handler);
            w.label = format!("{sub}:{topic}");
            w
        };
        let mut out: Vec<WorkerDef> = topics::NOTIFIABLE
            .iter()
            .map(|kind| shared(kind, "notifications", 1, Arc::new(FanOut(self.clone()))))
            .collect();
        let webhooks = lectern_notify::WebhookClient::new(self.inner.config.webhooks.clone())
            .map_err(|e| CoreError::internal("webhook client", e))?;
        out.push(shared(
            topics::WEBHOOK_REQUESTED,
            "webhooks",
            2,
            Arc::new(WebhookSender { k: self.clone(), client: webhooks }),
        ));
        if let Some(cfg) = &self.inner.config.email {
            let mailer = lectern_notify::Mailer::new(cfg).map_err(|e| CoreError::invalid("email", e.to_string()))?;
            out.push(shared(topics::EMAIL_REQUESTED, "email", 2, Arc::new(EmailSender { k: self.clone(), mailer })));
        }
        Ok(out)
    }
}

struct FanOut(Notifications);

#[async_trait::async_trait]
impl Handler for FanOut {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        match self.0.fan_out(&d.message_id(), &d.topic, &d.payload).await {
            Ok(_) => Ok(()),
            Err(e @ CoreError::Invalid { .. }) => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(Failure::Retry(e.to_string())),
        }
    }
}

struct EmailSender {
    k: Notifications,
    mailer: lectern_notify::Mailer,
}

#[async_trait::async_trait]
impl Handler for EmailSender {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let job: EmailJob =
            serde_json::from_slice(&d.payload).map_err(|e| Failure::Permanent(format!("malformed email job: {e}")))?;
        let sent = &self.k.t().emails_sent;
        let mark = job.notification.as_bytes();
        if sent.contains(mark).map_err(|e| Failure::Retry(e.to_string()))? {
            return Ok(());
        }
        let host = url::Url::parse(&self.k.identity().config().issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "lectern.invalid".into());
        let email = lectern_notify::Email {
            to: job.to.clone(),
            subject: job.subject.clone(),
            text: job.text.clone(),
            html: None,
            message_id: format!("{}@{host}", job.notification),
        };
        match self.mailer.send(&email).await {
            Ok(()) => {
                sent.insert(mark, &SentMark { at: self.k.now() }).map_err(|e| Failure::Retry(e.to_string()))?;
                self.k.durable().await.map_err(|e| Failure::Retry(e.to_string()))?;
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(Failure::Retry(e.to_string())),
        }
    }
}

struct WebhookSender {
    k: Notifications,
    client: lectern_notify::WebhookClient,
}

#[async_trait::async_trait]
impl Handler for WebhookSender {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let job: WebhookJob = serde_json::from_slice(&d.payload)
            .map_err(|e| Failure::Permanent(format!("malformed webhook job: {e}")))?;
        let t = self.k.t();
        let Some(hook) =
            t.webhooks.get(hook_key(job.institution, &job.webhook)).map_err(|e| Failure::Retry(e.to_string()))?
        else {
            return Ok(()); // deleted since
        };
        if !hook.active {
            return Ok(());
        }
        if t.webhooks_sent.contains(job.delivery.as_bytes()).map_err(|e| Failure::Retry(e.to_string()))? {
            return Ok(());
        }
        let outcome = self
            .client
            .deliver(&lectern_notify::WebhookRequest {
                url: &hook.url,
                secret: hook.secret.as_bytes(),
                event: &job.event,
                delivery_id: &job.delivery,
                body: job.body.as_bytes(),
                timestamp: self.k.now(),
            })
            .await;
        let entry = DeliveryLog {
            delivery: job.delivery.clone(),
            event: job.event.clone(),
            attempt: d.attempt,
            status: outcome.status,
            ok: outcome.ok(),
            error: outcome.error.clone().or_else(|| (!outcome.ok()).then(|| outcome.response_excerpt.clone())),
            duration_ms: outcome.duration.as_millis() as u64,
            at: self.k.now(),
        };
        self.k.log_delivery(&job, entry).map_err(|e| Failure::Retry(e.to_string()))?;
        if outcome.ok() {
            t.webhooks_sent
                .insert(job.delivery.as_bytes(), &SentMark { at: self.k.now() })
                .map_err(|e| Failure::Retry(e.to_string()))?;
            t.webhooks
                .update(hook_key(job.institution, &job.webhook), |old| {
                    old.map(|mut h| {
                        h.consecutive_failures = 0;
                        h
                    })
                })
                .map_err(|e| Failure::Retry(e.to_string()))?;
            self.k.durable().await.map_err(|e| Failure::Retry(e.to_string()))?;
            return Ok(());
        }
        let why = match (outcome.status, &outcome.error) {
            (Some(s), _) => format!("the receiver answered {s}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        };
        if outcome.retryable() { Err(Failure::Retry(why)) } else { Err(Failure::Permanent(why)) }
    }

    async fn gave_up(&self, d: &Delivery, error: &str) {
        let Ok(job) = serde_json::from_slice::<WebhookJob>(&d.payload) else { return };
        let now = self.k.now();
        let r = self.k.t().webhooks.update(hook_key(job.institution, &job.webhook), |old| {
            old.map(|mut h| {
                h.consecutive_failures += 1;
                if h.consecutive_failures >= DISABLE_AFTER_FAILURES && h.active {
                    h.active = false;
                    h.disabled_reason = Some(format!(
                        "disabled at {now} after {} deliveries in a row failed; last error: {error}",
                        h.consecutive_failures
                    ));
                }
                h
            })
        });
        if let Ok(Some(h)) = r
            && !h.active
        {
            tracing::warn!(webhook = %h.id, institution = %h.institution, "webhook disabled after repeated failures");
        }
    }
}

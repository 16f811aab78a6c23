//! The kernel's background work over the bus: the outbox relays, the grading
//! pipeline, completion, certificates, notifications, plugin event delivery
//! and log retention. Every handler is idempotent (see `lectern_bus::idempotency`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lectern_bus::worker::{self, Failure, Handler, WorkerCounters, WorkerSpec};
use lectern_bus::{Bus, Delivery, Outgoing, StartPosition, SubscribeSpec, SubscriptionType};
use lectern_host::slots::{CallContext, EventContext};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::CoreError;
use crate::Kernel;
use crate::events::{self, ActivityScored, AttemptSubmitted, CourseCompleted, GradeRecorded, topics};

pub use lectern_bus::RetryPolicy;
pub use lectern_domain::workers::{BusSettings, WorkerDef};
pub use lectern_notifications::{SmtpConfig, TlsMode, WebhookOptions};

/// What [`Kernel::start_background`] started.
pub struct Background {
    pub tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").field("tasks", &self.tasks.len()).finish()
    }
}

fn parse<T: DeserializeOwned>(d: &Delivery) -> Result<T, Failure> {
    serde_json::from_slice(&d.payload).map_err(|e| Failure::Permanent(format!("malformed {} payload: {e}", d.topic)))
}

fn retry(e: CoreError) -> Failure {
    Failure::Retry(e.to_string())
}

struct Grading(Kernel);

#[async_trait::async_trait]
impl Handler for Grading {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let ev: AttemptSubmitted = parse(d)?;
        let id = d.message_id();
        if self.0.inner.env.bus.processed.contains("gradebook", &id).map_err(|e| Failure::Retry(e.to_string()))? {
            return Ok(());
        }
        // After a start without the compile cache the plugins compile in the
        // background (tens of seconds for interpreted ones): wait for them,
        // within the handler's time, rather than spend this submission's attempts.
        let until = std::time::Instant::now() + self.0.inner.config.bus.handler_timeout * 2 / 3;
        let institution = ev.institution.to_string();
        while self.0.host().grading_is_starting(&institution) && std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let ctx = CallContext {
            institution: ev.institution.to_string(),
            user: Some(ev.student.to_string()),
            course: Some(ev.course.to_string()),
            item: None,
            roles: vec![],
            locale: "en".into(),
            request_id: id.clone(),
            vector_scope: vec![],
        };
        // Built-in questions through the grading slot, plugin question types through their plugins.
        let (results, who) = self
            .0
            .assessments()
            .grade_submissions(&ctx, ev.institution, &ev.attempt, &ev.submissions)
            .await
            .map_err(Failure::Retry)?;
        if ev.preview {
            return self.0.assessments().record_preview_grade(&ev, &results).await.map_err(retry);
        }
        self.0
            .assessments()
            .record_automatic_grade(&id, &ev, &results, &format!("plugin:{who}"))
            .await
            .map_err(retry)?;
        Ok(())
    }

    async fn gave_up(&self, d: &Delivery, error: &str) {
        let Ok(ev) = serde_json::from_slice::<AttemptSubmitted>(&d.payload) else { return };
        let recorded = if ev.preview {
            self.0.assessments().record_preview_failure(&ev, error).await
        } else {
            self.0.assessments().record_grading_failure(&ev, error).await
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, attempt = %ev.attempt, "could not record the grading failure");
        }
    }
}

struct CompletionCheck(Kernel);

#[async_trait::async_trait]
impl Handler for CompletionCheck {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let ev: GradeRecorded = parse(d)?;
        self.0
            .assessments()
            .evaluate_completion(&d.message_id(), ev.institution, ev.course, ev.student)
            .await
            .map_err(retry)?;
        Ok(())
    }
}

/// Activity scores into the gradebook (`activity.scored`).
struct ActivityScores(Kernel);

#[async_trait::async_trait]
impl Handler for ActivityScores {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let ev: ActivityScored = parse(d)?;
        match self.0.assessments().record_activity_score(&d.message_id(), &ev).await {
            Ok(_) => Ok(()),
            Err(e @ CoreError::Invalid { .. }) => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(retry(e)),
        }
    }
}

struct Certificates(Kernel);

#[async_trait::async_trait]
impl Handler for Certificates {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let ev: CourseCompleted = parse(d)?;
        match self.0.assessments().issue_course_credential(&d.message_id(), &ev).await {
            Ok(Some(id)) => {
                tracing::info!(credential = %id, course = %ev.course, student = %ev.student, "credential issued")
            }
            Ok(None) => tracing::debug!(course = %ev.course, student = %ev.student, "credential already issued"),
            Err(e @ CoreError::NotFound(_)) => return Err(Failure::Permanent(e.to_string())),
            Err(e) => return Err(retry(e)),
        }
        Ok(())
    }
}

/// Delivers one topic to one plugin's `on-event`.
struct PluginEvents {
    kernel: Kernel,
    plugin: String,
}

#[async_trait::async_trait]
impl Handler for PluginEvents {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        // Kernel events name their institution; plugin events carry it as a property.
        let institution = d.properties.get(lectern_host::INSTITUTION_PROPERTY).cloned().or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&d.payload)
                .ok()
                .and_then(|v| v.get("institution").and_then(|i| i.as_str()).map(str::to_owned))
        });
        let Some(institution) = institution else { return Ok(()) };
        let host = self.kernel.inner.host.clone();
        let (plugin, event, payload) = (self.plugin.clone(), event_context(d, institution), d.payload.clone());
        tokio::task::spawn_blocking(move || host.deliver_event(&plugin, &event, &payload))
            .await
            .map_err(|e| Failure::Retry(format!("delivery task failed: {e}")))?
            .map_err(|e| Failure::Retry(format!("plugin on-event: {e}")))?;
        Ok(())
    }
}

/// What a delivery is about, for 0.2's `on-event`. The course comes from the
/// payload; the actor is who caused the event where the kernel's payload
/// says so (the student who submitted, whoever asked for a regrade, the
/// person who graded), `None` for the system and for plugins' events.
fn event_context(d: &Delivery, institution: String) -> EventContext {
    let v: serde_json::Value = serde_json::from_slice(&d.payload).unwrap_or_default();
    let text = |key: &str| v.get(key).and_then(|x| x.as_str()).map(str::to_owned);
    let person = |s: Option<String>| s.filter(|s| s.parse::<crate::UserId>().is_ok());
    let plugin_event = d.properties.contains_key(lectern_host::PLUGIN_PROPERTY);
    let actor = match d.topic.as_str() {
        _ if plugin_event => None,
        topics::ATTEMPT_SUBMITTED => {
            person(v.get("regrade").and_then(|r| r.get("by")).and_then(|b| b.as_str()).map(str::to_owned))
                .or_else(|| person(text("student")))
        }
        topics::GRADE_RECORDED => person(text("graded_by")),
        _ => None,
    };
    EventContext {
        institution,
        actor,
        course: if plugin_event { None } else { text("course") },
        topic: d.topic.clone(),
        message_id: d.message_id(),
        occurred_at_ms: d.publish_time_ms,
        locale: "en".into(),
    }
}

impl Kernel {
    /// The bus workers use: Pulsar when connected, else the embedded log.
    pub fn bus(&self) -> Arc<dyn Bus> {
        match self.inner.env.bus.active.get() {
            Some(b) => b.clone(),
            None => Arc::new(self.inner.env.bus.embedded.clone()),
        }
    }

    /// Events staged but not yet handed to the bus.
    pub fn outbox_pending(&self) -> usize {
        self.inner.env.bus.outbox.pending()
    }

    /// Connects the configured bus and starts every background task. Call once.
    pub async fn start_background(&self, shutdown: watch::Receiver<bool>) -> Result<Background, CoreError> {
        let settings = self.inner.config.bus.clone();
        let bus = self.connect_bus(&settings).await?;
        let _ = self.inner.env.bus.active.set(bus.clone());
        let mut tasks = vec![tokio::spawn(self.inner.env.bus.outbox.clone().run(bus.clone(), shutdown.clone()))];
        tasks.push(tokio::spawn(self.inner.host.event_outbox().clone().run(bus.clone(), shutdown.clone())));
        let mut workers = vec![
            WorkerDef::new(
                topics::ATTEMPT_SUBMITTED,
                "grading",
                SubscriptionType::KeyShared,
                settings.grading,
                2,
                Arc::new(Grading(self.clone())),
            ),
            WorkerDef::new(
                topics::GRADE_RECORDED,
                "completion",
                SubscriptionType::KeyShared,
                settings.default,
                1,
                Arc::new(CompletionCheck(self.clone())),
            ),
            WorkerDef::new(
                topics::ACTIVITY_SCORED,
                "activity-scores",
                SubscriptionType::KeyShared,
                settings.default,
                1,
                Arc::new(ActivityScores(self.clone())),
            ),
            WorkerDef::new(
                topics::COURSE_COMPLETED,
                "certificates",
                SubscriptionType::Shared,
                settings.default,
                1,
                Arc::new(Certificates(self.clone())),
            ),
        ];
        workers.push(WorkerDef::new(
            topics::CONTENT_CHANGED,
            "tutor-index",
            SubscriptionType::KeyShared,
            settings.default,
            1,
            Arc::new(TutorIndex(self.clone())),
        ));
        workers.extend(self.notifications().notification_workers(&settings)?);
        let mut counters = vec![];
        for w in workers {
            let mut subscribe = SubscribeSpec::new(w.topic, w.subscription, w.kind);
            subscribe.start = StartPosition::Earliest;
            let spec = WorkerSpec {
                subscribe,
                policy: w.policy,
                concurrency: w.concurrency,
                handler_timeout: settings.handler_timeout,
            };
            let c = Arc::new(WorkerCounters::default());
            let spawned = worker::spawn(bus.clone(), spec, w.handler, c.clone(), shutdown.clone()).await;
            tasks.extend(spawned.map_err(events::bus_error)?);
            counters.push((w.label, c));
        }
        tasks.push(tokio::spawn(plugin_dispatch(self.clone(), bus.clone(), settings.clone(), shutdown.clone())));
        tasks.push(tokio::spawn(retention(self.clone(), settings.retention_interval, shutdown.clone())));
        tasks.push(tokio::spawn(tutor_catch_up(self.clone())));
        tasks.push(tokio::spawn(vector_checkpoints(self.clone(), shutdown.clone())));
        let assessments = self.assessments().clone();
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move { assessments.run_proctoring_scorer(stop).await }));
        tasks.push(tokio::spawn(deadline_timer(self.clone(), shutdown)));
        *self.inner.env.bus.worker_counters.lock().unwrap_or_else(|e| e.into_inner()) = counters;
        Ok(Background { tasks })
    }

    async fn connect_bus(&self, settings: &BusSettings) -> Result<Arc<dyn Bus>, CoreError> {
        match &settings.pulsar_url {
            None => Ok(Arc::new(self.inner.env.bus.embedded.clone())),
            #[cfg(feature = "pulsar")]
            Some(url) => {
                let b = lectern_bus::pulsar::PulsarBus::connect(url, Default::default())
                    .await
                    .map_err(events::bus_error)?;
                Ok(Arc::new(b))
            }
            #[cfg(not(feature = "pulsar"))]
            Some(_) => Err(CoreError::invalid(
                "bus.pulsar_url",
                "this build has no Pulsar support; rebuild with `--features pulsar`",
            )),
        }
    }

    /// Publishes an event as a platform administrator (operations, replays, tests).
    pub async fn publish_event(
        &self,
        p: &crate::Principal,
        topic: &str,
        key: &str,
        payload: Vec<u8>,
    ) -> Result<String, CoreError> {
        crate::authz::authorize(p, crate::Capability::PlatformManage, crate::authz::Context::Platform)?;
        if !lectern_bus::valid_topic(topic) {
            return Err(CoreError::invalid("topic", "1–200 letters, digits, `.`, `_` or `-`"));
        }
        if key.len() > 512 {
            return Err(CoreError::invalid("key", "at most 512 bytes"));
        }
        self.inner.env.bus.outbox.put(Outgoing::new(topic, key, payload)).await.map_err(events::bus_error)
    }
}

struct TutorIndex(Kernel);

#[async_trait::async_trait]
impl Handler for TutorIndex {
    async fn handle(&self, d: &Delivery) -> Result<(), Failure> {
        let ev: crate::events::ContentChanged = parse(d)?;
        // Well inside the handler timeout: a big course with a slow embedder
        // continues in a follow-up delivery instead of timing out and retrying.
        let budget = self.0.inner.config.bus.handler_timeout / 2;
        let done = self.0.tutor().sync_tutor_index(ev.institution, ev.course, Some(budget)).await.map_err(retry)?;
        if done.more {
            self.0.tutor().request_tutor_sync(ev.institution, ev.course).await.map_err(retry)?;
        }
        Ok(())
    }
}

/// Once at start: brings every course whose tutor index is behind up to date
/// (first start with the bundled tutor, a new embedding model, a tutor
/// activated while the kernel was down).
async fn tutor_catch_up(k: Kernel) {
    let behind = match k.tutor().courses_behind_tutor_index() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not check the tutor index");
            return;
        }
    };
    if !behind.is_empty() {
        tracing::info!(courses = behind.len(), "bringing the tutor index up to date");
    }
    for (inst, course) in behind {
        if let Err(e) = k.tutor().sync_tutor_index(inst, course, None).await {
            tracing::warn!(course = %course, error = %e, "tutor catch-up left work for the next change");
        }
    }
}

/// Dumps vector collections with a long replay tail, every minute and at
/// shutdown, so a restart reloads graphs instead of rebuilding them.
async fn vector_checkpoints(k: Kernel, mut shutdown: watch::Receiver<bool>) {
    let Some(vectors) = k.host().retrieval().map(|r| r.vectors.clone()) else { return };
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => false,
            _ = shutdown.changed() => true,
        };
        let v = vectors.clone();
        match tokio::task::spawn_blocking(move || v.checkpoint()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "vector checkpoint failed"),
            Err(e) => tracing::warn!(error = %e, "vector checkpoint task failed"),
        }
        if stop {
            return;
        }
    }
}

/// Keeps one worker per (plugin, subscribed topic) in step with what is active.
async fn plugin_dispatch(k: Kernel, bus: Arc<dyn Bus>, settings: BusSettings, mut shutdown: watch::Receiver<bool>) {
    let mut running: HashMap<(String, String), watch::Sender<bool>> = HashMap::new();
    loop {
        let wanted: Vec<(String, String)> = k
            .inner
            .host
            .event_subscribers()
            .into_iter()
            .flat_map(|(id, _, topics)| topics.into_iter().map(move |t| (id.clone(), t)))
            .collect();
        running.retain(|pair, stop| {
            let keep = wanted.contains(pair);
            if !keep {
                let _ = stop.send(true);
            }
            keep
        });
        for (plugin, topic) in wanted {
            if running.contains_key(&(plugin.clone(), topic.clone())) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let mut subscribe = SubscribeSpec::new(&topic, format!("plugin.{plugin}"), SubscriptionType::Shared);
            subscribe.start = StartPosition::Latest;
            let spec = WorkerSpec {
                subscribe,
                policy: settings.default,
                concurrency: 1,
                handler_timeout: settings.handler_timeout,
            };
            let handler = Arc::new(PluginEvents { kernel: k.clone(), plugin: plugin.clone() });
            match worker::spawn(bus.clone(), spec, handler, Arc::default(), stopped).await {
                Ok(_) => {
                    tracing::info!(%plugin, %topic, "delivering events to plugin");
                    running.insert((plugin, topic), stop);
                }
                Err(e) => tracing::warn!(%plugin, %topic, error = %e, "cannot subscribe plugin"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => {
                for (_, stop) in running.drain() {
                    let _ = stop.send(true);
                }
                return;
            }
        }
    }
}

async fn retention(k: Kernel, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let bus = k.inner.env.bus.embedded.clone();
        match tokio::task::spawn_blocking(move || bus.apply_retention()).await {
            Ok(Ok(n)) if n > 0 => tracing::debug!(removed = n, "bus retention"),
            Ok(Err(e)) => tracing::warn!(error = %e, "bus retention failed"),
            _ => {}
        }
    }
}

/// Submits attempts whose time is up, once a second. Deadlines are stored, so
/// attempts that expired while the server was down are submitted at start.
async fn deadline_timer(k: Kernel, mut shutdown: watch::Receiver<bool>) {
    loop {
        match k.assessments().submit_expired_attempts().await {
            Ok(n) if n > 0 => tracing::info!(submitted = n, "expired attempts submitted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "submitting expired attempts failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A dead letter, for the admin API.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeadLetter {
    pub topic: String,
    pub offset: u64,
    pub key: String,
    pub origin_topic: Option<String>,
    pub origin_subscription: Option<String>,
    pub attempts: Option<u32>,
    pub last_error: Option<String>,
    pub dead_lettered_at_ms: Option<u64>,
    /// The payload as text when it is UTF-8 (events are JSON), else base64-free hex length only.
    pub payload: String,
    pub properties: std::collections::BTreeMap<String, String>,
}

impl Kernel {
    fn platform_admin(p: &crate::Principal) -> Result<(), CoreError> {
        crate::authz::authorize(p, crate::Capability::PlatformManage, crate::authz::Context::Platform)
    }

    /// Topics, subscriptions and backlogs (platform administrators).
    pub fn bus_stats(&self, p: &crate::Principal) -> Result<Vec<lectern_bus::TopicStats>, CoreError> {
        Self::platform_admin(p)?;
        self.bus().stats().map_err(events::bus_error)
    }

    /// Dead letters of every dead-letter topic, oldest first.
    pub fn dead_letters(&self, p: &crate::Principal, limit: usize) -> Result<Vec<DeadLetter>, CoreError> {
        Self::platform_admin(p)?;
        let bus = self.bus();
        let mut out = vec![];
        for t in bus.stats().map_err(events::bus_error)? {
            if !t.topic.ends_with("-DLQ") {
                continue;
            }
            let stored = match bus.browse(&t.topic, worker::DEAD_LETTER_SUBSCRIPTION, None, limit.clamp(1, 500)) {
                Ok(s) => s,
                Err(lectern_bus::BusError::UnknownSubscription { .. }) => continue,
                Err(e) => return Err(events::bus_error(e)),
            };
            for m in stored {
                let get = |k: &str| m.properties.get(k).cloned();
                out.push(DeadLetter {
                    topic: t.topic.clone(),
                    offset: m.offset,
                    key: m.key,
                    origin_topic: get(lectern_bus::props::ORIGIN_TOPIC),
                    origin_subscription: get(lectern_bus::props::ORIGIN_SUBSCRIPTION),
                    attempts: get(lectern_bus::props::ATTEMPTS).and_then(|a| a.parse().ok()),
                    last_error: get(lectern_bus::props::LAST_ERROR),
                    dead_lettered_at_ms: get(lectern_bus::props::DEAD_LETTERED_AT).and_then(|a| a.parse().ok()),
                    payload: String::from_utf8(m.payload.clone())
                        .unwrap_or_else(|_| format!("<{} bytes of binary payload>", m.payload.len())),
                    properties: m.properties,
                });
            }
        }
        out.truncate(limit.clamp(1, 500));
        Ok(out)
    }

    /// Republishes a dead letter to its origin topic. Returns its new offset there.
    pub async fn replay_dead_letter(&self, p: &crate::Principal, topic: &str, offset: u64) -> Result<u64, CoreError> {
        Self::platform_admin(p)?;
        if !topic.ends_with("-DLQ") || !lectern_bus::valid_topic(topic) {
            return Err(CoreError::invalid("topic", "not a dead-letter topic"));
        }
        worker::replay(self.bus().as_ref(), topic, offset)
            .await
            .map_err(events::bus_error)?
            .ok_or(CoreError::NotFound("dead letter"))
    }

    /// Drops a dead letter for good.
    pub async fn discard_dead_letter(&self, p: &crate::Principal, topic: &str, offset: u64) -> Result<(), CoreError> {
        Self::platform_admin(p)?;
        if !topic.ends_with("-DLQ") || !lectern_bus::valid_topic(topic) {
            return Err(CoreError::invalid("topic", "not a dead-letter topic"));
        }
        match self.bus().ack_offset(topic, worker::DEAD_LETTER_SUBSCRIPTION, offset).map_err(events::bus_error)? {
            true => Ok(()),
            false => Err(CoreError::NotFound("dead letter")),
        }
    }

    /// Per-worker counters (handled, retried, dead-lettered) by subscription.
    pub fn worker_counters(&self) -> Vec<(String, Arc<WorkerCounters>)> {
        self.inner.env.bus.worker_counters.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Counters of the embedded log (zero when Pulsar carries the traffic).
    pub fn bus_counters(&self) -> &lectern_bus::embedded::Counters {
        self.inner.env.bus.embedded.counters()
    }
}

//! Running handlers over a subscription, with the retry policy applied above
//! the [`Bus`] trait: a failed message is nacked with exponential backoff and
//! jitter, and after the policy's last attempt it is published to the
//! subscription's dead-letter topic (with its origin and last error) and acked.
//! Doing this here rather than in each backend gives Pulsar, whose client
//! redelivers nacked messages at once, the same behaviour as the embedded log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::{Bus, BusError, Consumer, Delivery, Outgoing, RetryPolicy, StartPosition, SubscribeSpec, props};

/// The subscription that holds a dead-letter topic's messages until an admin replays or discards them.
pub const DEAD_LETTER_SUBSCRIPTION: &str = "dead-letters";

/// Why a handler did not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again later (timeouts, a plugin fault, a peer that is down).
    Retry(String),
    /// Will never succeed (a malformed payload): dead-letter at once.
    Permanent(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Retry(e) => write!(f, "{e}"),
            Failure::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}

/// Processes one message. Must be idempotent: a message can arrive more than once.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure>;

    /// Called once the policy gave up on a message, before it is dead-lettered.
    async fn gave_up(&self, _delivery: &Delivery, _error: &str) {}
}

/// How a worker consumes.
#[derive(Clone, Debug)]
pub struct WorkerSpec {
    pub subscribe: SubscribeSpec,
    pub policy: RetryPolicy,
    /// Consumers attached in parallel (1 for exclusive and failover subscriptions).
    pub concurrency: usize,
    /// A handler running longer than this counts as a failed attempt.
    pub handler_timeout: Duration,
}

/// Per-worker counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    pub handled: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
}

/// Attaches the worker's consumers and runs them until `shutdown` turns true.
/// Returns once every consumer is attached, so callers know the subscription exists.
pub async fn spawn(
    bus: Arc<dyn Bus>,
    spec: WorkerSpec,
    handler: Arc<dyn Handler>,
    counters: Arc<WorkerCounters>,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, BusError> {
    ensure_dead_letter_subscription(bus.as_ref(), &spec.subscribe.topic, &spec.subscribe.subscription).await?;
    let mut tasks = Vec::new();
    for _ in 0..spec.concurrency.max(1) {
        let consumer = bus.subscribe(spec.subscribe.clone()).await?;
        let ctx = Run { bus: bus.clone(), spec: spec.clone(), handler: handler.clone(), counters: counters.clone() };
        tasks.push(tokio::spawn(ctx.run(consumer, shutdown.clone())));
    }
    Ok(tasks)
}

/// Creates the dead-letter topic's holding subscription so retention keeps dead letters.
pub async fn ensure_dead_letter_subscription(bus: &dyn Bus, topic: &str, subscription: &str) -> Result<(), BusError> {
    let mut spec = SubscribeSpec::new(
        crate::dead_letter_topic(topic, subscription),
        DEAD_LETTER_SUBSCRIPTION,
        crate::SubscriptionType::Shared,
    );
    spec.start = StartPosition::Earliest;
    drop(bus.subscribe(spec).await?);
    Ok(())
}

struct Run {
    bus: Arc<dyn Bus>,
    spec: WorkerSpec,
    handler: Arc<dyn Handler>,
    counters: Arc<WorkerCounters>,
}

impl Run {
    async fn run(self, mut consumer: Box<dyn Consumer>, mut shutdown: watch::Receiver<bool>) {
        let sub = &self.spec.subscribe;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let d = tokio::select! {
                d = consumer.receive() => d,
                _ = shutdown.changed() => return,
            };
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(topic = %sub.topic, subscription = %sub.subscription, error = %e, "receive failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if let Err(e) = self.process(consumer.as_mut(), &d).await {
                tracing::warn!(topic = %sub.topic, subscription = %sub.subscription, offset = d.offset, error = %e, "could not settle message; it will be redelivered");
            }
        }
    }

    async fn process(&self, consumer: &mut dyn Consumer, d: &Delivery) -> Result<(), BusError> {
        let outcome = match tokio::time::timeout(self.spec.handler_timeout, self.handler.handle(d)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Retry(format!("handler timed out after {:?}", self.spec.handler_timeout))),
        };
        match outcome {
            Ok(()) => {
                self.counters.handled.fetch_add(1, Ordering::Relaxed);
                consumer.ack(d).await
            }
            Err(f) => {
                let permanent = matches!(f, Failure::Permanent(_));
                let error = f.to_string();
                if permanent || self.spec.policy.exhausted(d.attempt) {
                    self.handler.gave_up(d, &error).await;
                    dead_letter(self.bus.as_ref(), &self.spec.subscribe.subscription, d, &error).await?;
                    self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(topic = %d.topic, offset = d.offset, attempts = d.attempt, %error, "dead-lettered");
                    consumer.ack(d).await
                } else {
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(topic = %d.topic, offset = d.offset, attempt = d.attempt, %error, "will retry");
                    consumer.nack(d, self.spec.policy.delay(d.attempt)).await
                }
            }
        }
    }
}

/// Publishes `d` to its dead-letter topic with where it came from and why it died.
pub async fn dead_letter(bus: &dyn Bus, subscription: &str, d: &Delivery, error: &str) -> Result<u64, BusError> {
    let mut msg = Outgoing::new(crate::dead_letter_topic(&d.topic, subscription), d.key.clone(), d.payload.clone());
    msg.properties = d.properties.clone();
    msg.properties.insert(props::ORIGIN_TOPIC.into(), d.topic.clone());
    msg.properties.insert(props::ORIGIN_OFFSET.into(), d.offset.to_string());
    msg.properties.insert(props::ORIGIN_SUBSCRIPTION.into(), subscription.into());
    msg.properties.insert(props::ATTEMPTS.into(), d.attempt.to_string());
    msg.properties.insert(props::LAST_ERROR.into(), truncate(error, 2000));
    msg.properties.insert(props::DEAD_LETTERED_AT.into(), crate::now_ms().to_string());
    msg.properties.entry(props::MESSAGE_ID.into()).or_insert_with(|| d.message_id());
    bus.publish(msg).await
}

/// Republishes dead letter `offset` of `dead_letter_topic` to its origin topic and
/// removes it from the dead letters. Returns the new offset in the origin topic.
pub async fn replay(bus: &dyn Bus, dead_letter_topic: &str, offset: u64) -> Result<Option<u64>, BusError> {
    let found = bus.browse(dead_letter_topic, DEAD_LETTER_SUBSCRIPTION, offset.checked_sub(1), 1)?;
    let Some(m) = found.into_iter().find(|m| m.offset == offset) else { return Ok(None) };
    let Some(origin) = m.properties.get(props::ORIGIN_TOPIC).cloned() else { return Ok(None) };
    let mut msg = Outgoing::new(origin, m.key, m.payload);
    msg.properties = m.properties;
    for p in [
        props::ORIGIN_TOPIC,
        props::ORIGIN_OFFSET,
        props::ORIGIN_SUBSCRIPTION,
        props::ATTEMPTS,
        props::LAST_ERROR,
        props::DEAD_LETTERED_AT,
    ] {
        msg.properties.remove(p);
    }
    let new_offset = bus.publish(msg).await?;
    bus.ack_offset(dead_letter_topic, DEAD_LETTER_SUBSCRIPTION, offset)?;
    Ok(Some(new_offset))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

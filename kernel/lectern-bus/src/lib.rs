//! The kernel's event bus.
//!
//! Owns: the narrow [`Bus`]/[`Consumer`] trait every backend implements, the
//! embedded backend ([`embedded::EmbeddedBus`], an append-only durable log on
//! the kernel's [`lectern_storage::Store`]), the transactional [`outbox`], the
//! idempotent-consumer helper ([`idempotency`]), and the [`worker`] layer that
//! does retries with backoff and dead-lettering above the trait (so the Pulsar
//! backend, whose client has no delayed nack, behaves the same).
//!
//! Delivery is at least once. A publish returns only once the message is
//! durable; a consumer that crashes or drops without acking gets its messages
//! back; handlers make redelivery harmless with [`idempotency`].
//!
//! This crate knows nothing about the domain (no grades, no courses) and never
//! talks HTTP; it must never drop a message some subscription has not acked.

mod backoff;
pub mod embedded;
mod error;
pub mod idempotency;
mod message;
pub mod outbox;
#[cfg(feature = "pulsar")]
pub mod pulsar;
pub mod worker;

use std::time::Duration;

pub use backoff::RetryPolicy;
pub use error::BusError;
pub use message::{Delivery, Outgoing, Properties, props};

/// How the consumers of one subscription share its messages (Pulsar's four types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionType {
    /// One consumer at a time; a second one is refused.
    Exclusive,
    /// Many may attach; the oldest gets everything, the next takes over when it leaves.
    Failover,
    /// Messages go to whichever consumer asks, in any order across consumers.
    Shared,
    /// Like shared, but a key's messages go one at a time, in order.
    KeyShared,
}

/// Where a new subscription starts reading. An existing one resumes at its cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartPosition {
    Earliest,
    Latest,
}

/// What [`Bus::subscribe`] needs.
#[derive(Clone, Debug)]
pub struct SubscribeSpec {
    pub topic: String,
    pub subscription: String,
    pub kind: SubscriptionType,
    pub start: StartPosition,
    /// A delivery not acked or nacked within this time is given to a consumer again.
    pub ack_timeout: Duration,
}

impl SubscribeSpec {
    pub fn new(topic: impl Into<String>, subscription: impl Into<String>, kind: SubscriptionType) -> Self {
        SubscribeSpec {
            topic: topic.into(),
            subscription: subscription.into(),
            kind,
            start: StartPosition::Earliest,
            ack_timeout: Duration::from_secs(30),
        }
    }
}

/// A topic as the admin sees it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TopicStats {
    pub topic: String,
    /// Offset the next message will get (messages ever published to the topic).
    pub next_offset: u64,
    /// Messages still stored (not yet removed by retention).
    pub stored: u64,
    pub subscriptions: Vec<SubscriptionStats>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SubscriptionStats {
    pub subscription: String,
    /// Every offset below this one is acknowledged.
    pub cursor: u64,
    /// Messages published but not yet acknowledged by this subscription.
    pub backlog: u64,
    pub in_flight: u64,
    pub consumers: u64,
}

/// A message still in a topic's log, for browsing (dead letters, mostly).
#[derive(Clone, Debug)]
pub struct Stored {
    pub offset: u64,
    pub key: String,
    pub payload: Vec<u8>,
    pub properties: Properties,
    pub publish_time_ms: u64,
}

/// Publish/subscribe with durable, at-least-once delivery.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Which backend this is (`embedded`, `pulsar`), for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Appends `msg` to its topic; returns its offset once the message is durable.
    async fn publish(&self, msg: Outgoing) -> Result<u64, BusError>;

    /// Publishes several messages, in order; returns once all are durable.
    async fn publish_batch(&self, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            out.push(self.publish(m).await?);
        }
        Ok(out)
    }

    /// Attaches a consumer, creating the subscription (durably) if it is new.
    async fn subscribe(&self, spec: SubscribeSpec) -> Result<Box<dyn Consumer>, BusError>;

    /// Topics, subscriptions and backlogs. Backends without an admin view say so.
    fn stats(&self) -> Result<Vec<TopicStats>, BusError> {
        Err(BusError::Unsupported("topic statistics"))
    }

    /// Up to `limit` messages of `topic` not yet acknowledged by `subscription`, from `after` on.
    fn browse(
        &self,
        _topic: &str,
        _subscription: &str,
        _after: Option<u64>,
        _limit: usize,
    ) -> Result<Vec<Stored>, BusError> {
        Err(BusError::Unsupported("browsing a subscription"))
    }

    /// Acknowledges one message on behalf of `subscription` without delivering it (discarding a dead letter).
    fn ack_offset(&self, _topic: &str, _subscription: &str, _offset: u64) -> Result<bool, BusError> {
        Err(BusError::Unsupported("acknowledging by offset"))
    }
}

/// One attached consumer of a subscription. Dropping it hands its unacked messages back.
#[async_trait::async_trait]
pub trait Consumer: Send {
    /// Waits for the next message for this consumer.
    async fn receive(&mut self) -> Result<Delivery, BusError>;
    /// Marks `d` processed; it is never delivered to this subscription again.
    async fn ack(&mut self, d: &Delivery) -> Result<(), BusError>;
    /// Gives `d` back, to be delivered again no sooner than `delay` from now.
    async fn nack(&mut self, d: &Delivery, delay: Duration) -> Result<(), BusError>;
}

/// The dead-letter topic for a subscription of `topic` (Pulsar's naming).
pub fn dead_letter_topic(topic: &str, subscription: &str) -> String {
    format!("{topic}-{subscription}-DLQ")
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A topic name is 1–200 bytes of ASCII letters, digits, `.`, `_` and `-`.
pub fn valid_topic(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

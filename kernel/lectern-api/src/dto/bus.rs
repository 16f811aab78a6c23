//! JSON shapes of the event bus's admin view: topics and backlogs, dead
//! letters, and what publishing or replaying did.

use std::collections::BTreeMap;

use lectern_core::workers::DeadLetter as CoreDeadLetter;
use serde::Serialize;
use utoipa::ToSchema;

/// A subscription of a topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionStats {
    pub subscription: String,
    /// Every offset below this one is acknowledged.
    pub cursor: u64,
    /// Messages published but not yet acknowledged by this subscription.
    pub backlog: u64,
    pub in_flight: u64,
    pub consumers: u64,
}

/// A topic as the admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicStats {
    pub topic: String,
    /// Offset the next message will get (messages ever published to the topic).
    pub next_offset: u64,
    /// Messages still stored (not yet removed by retention).
    pub stored: u64,
    pub subscriptions: Vec<SubscriptionStats>,
}

/// The bus: its backend, the outbox, and every topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct BusTopics {
    /// `embedded` or `pulsar`.
    pub backend: String,
    /// Events committed but not yet on the bus.
    pub outbox_pending: usize,
    pub topics: Vec<TopicStats>,
}

/// A message that exhausted its retries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetter {
    /// The dead-letter topic (`<topic>-<subscription>-DLQ`).
    pub topic: String,
    pub offset: u64,
    pub key: String,
    pub origin_topic: Option<String>,
    pub origin_subscription: Option<String>,
    pub attempts: Option<u32>,
    pub last_error: Option<String>,
    /// Unix milliseconds.
    pub dead_lettered_at_ms: Option<u64>,
    /// The payload as text when it is UTF-8 (events are JSON).
    pub payload: String,
    /// The message's properties.
    pub properties: BTreeMap<String, String>,
}

impl From<CoreDeadLetter> for DeadLetter {
    fn from(d: CoreDeadLetter) -> Self {
        DeadLetter {
            topic: d.topic,
            offset: d.offset,
            key: d.key,
            origin_topic: d.origin_topic,
            origin_subscription: d.origin_subscription,
            attempts: d.attempts,
            last_error: d.last_error,
            dead_lettered_at_ms: d.dead_lettered_at_ms,
            payload: d.payload,
            properties: d.properties,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetter>,
}

/// An event accepted for publishing (`202`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub message_id: String,
}

/// A dead letter sent back to its origin topic (`202`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Its offset in the origin topic.
    pub republished_at_offset: u64,
}

use std::collections::BTreeMap;

/// Message properties (string headers), ordered so encodings are stable.
pub type Properties = BTreeMap<String, String>;

/// Well-known property names.
pub mod props {
    /// A publisher-assigned unique id; consumers deduplicate on it.
    pub const MESSAGE_ID: &str = "lectern-message-id";
    /// On a dead letter: where it came from and why it died.
    pub const ORIGIN_TOPIC: &str = "lectern-origin-topic";
    pub const ORIGIN_OFFSET: &str = "lectern-origin-offset";
    pub const ORIGIN_SUBSCRIPTION: &str = "lectern-origin-subscription";
    pub const ATTEMPTS: &str = "lectern-attempts";
    pub const LAST_ERROR: &str = "lectern-last-error";
    pub const DEAD_LETTERED_AT: &str = "lectern-dead-lettered-at-ms";
}

/// A message to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub topic: String,
    /// Messages with the same key are kept in order (key-shared subscriptions).
    pub key: String,
    pub payload: Vec<u8>,
    pub properties: Properties,
}

impl Outgoing {
    pub fn new(topic: impl Into<String>, key: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        Outgoing { topic: topic.into(), key: key.into(), payload: payload.into(), properties: Properties::new() }
    }

    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }
}

/// A message handed to a consumer.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub topic: String,
    /// Position in the topic (embedded) or the broker's entry id (Pulsar).
    pub offset: u64,
    pub key: String,
    pub payload: Vec<u8>,
    pub properties: Properties,
    pub publish_time_ms: u64,
    /// 1 on first delivery, then counts redeliveries.
    pub attempt: u32,
    /// Backend bookkeeping that ties an ack to this delivery.
    #[doc(hidden)]
    pub handle: u64,
}

impl Delivery {
    /// The id consumers deduplicate on: the publisher's id, else topic and offset.
    pub fn message_id(&self) -> String {
        match self.properties.get(props::MESSAGE_ID) {
            Some(id) => id.clone(),
            None => format!("{}@{}", self.topic, self.offset),
        }
    }
}

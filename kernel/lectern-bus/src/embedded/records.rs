//! What the embedded backend keeps on disk, and its key layout.
//!
//! `bus_log`      topic 0x00 first offset(BE)        → [`LogRecord`] (messages first, first + 1, …)
//! `bus_topics`   topic                              → [`TopicRecord`]
//! `bus_subs`     topic 0x00 subscription            → [`SubRecord`]
//! `bus_acks`     topic 0x00 subscription 0x00 offset → [`AckMark`] (acked at or above the cursor)
//! `bus_attempts` topic 0x00 subscription 0x00 offset → [`Attempts`] (deliveries so far, once retried)

use lectern_storage::{Record, decode_body};
use serde::{Deserialize, Serialize};

use crate::Properties;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogEntry {
    pub key: String,
    pub payload: Vec<u8>,
    pub properties: Properties,
    pub publish_time_ms: u64,
}

/// Version 1 of the log held one message per record; kept so a test can
/// write one and show that [`LogRecord`] still reads it.
impl Record for LogEntry {
    const VERSION: u8 = 1;
}

/// Consecutive messages of one topic, written by one append: the messages
/// publishers handed over while the previous append was being flushed. One
/// storage insert (and one key) for many messages is what lets one topic take
/// more than ~55,000 durable messages a second (BENCHMARKS.md, issue 18).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogRecord {
    pub entries: Vec<LogEntry>,
}

impl LogRecord {
    /// The offset of the last message, given the record's key offset.
    pub fn last_offset(&self, first: u64) -> u64 {
        first + (self.entries.len() as u64).saturating_sub(1)
    }
}

impl Record for LogRecord {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        match version {
            1 => Ok(LogRecord { entries: vec![decode_body::<LogEntry>(body)?] }),
            v => Err(format!("no upgrade path from version {v}")),
        }
    }
}

/// Survives retention so offsets are never reused after old messages are removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TopicRecord {
    pub next_offset: u64,
    pub created_ms: u64,
}

impl Record for TopicRecord {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubRecord {
    /// Every offset below this is acknowledged.
    pub cursor: u64,
    pub created_ms: u64,
}

impl Record for SubRecord {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AckMark {
    pub at_ms: u64,
}

impl Record for AckMark {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Attempts {
    pub deliveries: u32,
}

impl Record for Attempts {
    const VERSION: u8 = 1;
}

pub(crate) fn topic_prefix(topic: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic.len() + 1);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k
}

pub(crate) fn log_key(topic: &str, offset: u64) -> Vec<u8> {
    let mut k = topic_prefix(topic);
    k.extend_from_slice(&offset.to_be_bytes());
    k
}

pub(crate) fn sub_key(topic: &str, sub: &str) -> Vec<u8> {
    let mut k = topic_prefix(topic);
    k.extend_from_slice(sub.as_bytes());
    k
}

pub(crate) fn sub_prefix(topic: &str, sub: &str) -> Vec<u8> {
    let mut k = sub_key(topic, sub);
    k.push(0);
    k
}

pub(crate) fn sub_offset_key(topic: &str, sub: &str, offset: u64) -> Vec<u8> {
    let mut k = sub_prefix(topic, sub);
    k.extend_from_slice(&offset.to_be_bytes());
    k
}

/// The offset at the end of a key built by [`log_key`] or [`sub_offset_key`].
pub(crate) fn offset_of(key: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

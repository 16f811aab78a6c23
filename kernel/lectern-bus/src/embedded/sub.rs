//! One subscription's in-memory dispatch state: what is ready, what is leased
//! to which consumer, and the cursor plus individually acked offsets.
//!
//! The durable truth is the cursor and ack marks in the store; everything else
//! here is rebuilt from them on restart, which is what makes every unacked
//! message come back after a crash.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::records::LogEntry;
use crate::{Delivery, SubscriptionType};

/// How many messages a subscription reads ahead of its consumers.
pub(crate) const WINDOW: usize = 1024;

pub(crate) struct Ready {
    pub entry: Arc<LogEntry>,
    pub not_before: Option<Instant>,
}

pub(crate) struct Lease {
    pub consumer: u64,
    pub deadline: Instant,
    pub entry: Arc<LogEntry>,
}

pub(crate) struct SubState {
    pub kind: Option<SubscriptionType>,
    /// Attached consumers in the order they joined (failover: the first is active).
    pub consumers: Vec<u64>,
    pub ack_timeout: Duration,
    pub cursor: u64,
    pub acked: BTreeSet<u64>,
    /// Next offset to read from the log into `ready`.
    pub read_pos: u64,
    pub ready: BTreeMap<u64, Ready>,
    pub inflight: HashMap<u64, Lease>,
    /// Deliveries so far per offset (kept until acked).
    pub attempts: HashMap<u64, u32>,
}

impl SubState {
    pub fn new(cursor: u64, acked: BTreeSet<u64>, attempts: HashMap<u64, u32>) -> Self {
        SubState {
            kind: None,
            consumers: Vec::new(),
            ack_timeout: Duration::from_secs(30),
            cursor,
            acked,
            read_pos: cursor,
            ready: BTreeMap::new(),
            inflight: HashMap::new(),
            attempts,
        }
    }

    /// Leases past their deadline go back to `ready`. Returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let expired: Vec<u64> = self.inflight.iter().filter(|(_, l)| l.deadline <= now).map(|(o, _)| *o).collect();
        for off in &expired {
            if let Some(lease) = self.inflight.remove(off) {
                self.ready.insert(*off, Ready { entry: lease.entry, not_before: None });
            }
        }
        expired.len()
    }

    /// Puts every message leased to `consumer` back (it detached without acking).
    pub fn release(&mut self, consumer: u64) -> usize {
        let held: Vec<u64> = self.inflight.iter().filter(|(_, l)| l.consumer == consumer).map(|(o, _)| *o).collect();
        for off in &held {
            if let Some(lease) = self.inflight.remove(off) {
                self.ready.insert(*off, Ready { entry: lease.entry, not_before: None });
            }
        }
        held.len()
    }

    /// The offset `consumer` should get next, if any may go to it now.
    pub fn pick(&self, consumer: u64, now: Instant) -> Option<u64> {
        let due = |r: &Ready| r.not_before.is_none_or(|t| t <= now);
        match self.kind? {
            SubscriptionType::Exclusive | SubscriptionType::Failover => {
                if self.consumers.first() != Some(&consumer) {
                    return None;
                }
                self.ready.iter().find(|(_, r)| due(r)).map(|(o, _)| *o)
            }
            SubscriptionType::Shared => self.ready.iter().find(|(_, r)| due(r)).map(|(o, _)| *o),
            SubscriptionType::KeyShared => {
                // One unacked message per key at a time, oldest first: per-key
                // order then holds even across nacks and redeliveries.
                let mut blocked: HashSet<&str> = self.inflight.values().map(|l| l.entry.key.as_str()).collect();
                for (off, r) in &self.ready {
                    let key = r.entry.key.as_str();
                    if blocked.contains(key) {
                        continue;
                    }
                    if due(r) && self.owner(key) == Some(consumer) {
                        return Some(*off);
                    }
                    blocked.insert(key);
                }
                None
            }
        }
    }

    /// Rendezvous hashing: a key stays with its consumer while membership is stable.
    fn owner(&self, key: &str) -> Option<u64> {
        self.consumers.iter().copied().max_by_key(|c| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (key, *c).hash(&mut h);
            h.finish()
        })
    }

    /// Leases `offset` to `consumer` and builds the delivery.
    pub fn lease(&mut self, topic: &str, offset: u64, consumer: u64, now: Instant) -> Option<Delivery> {
        let ready = self.ready.remove(&offset)?;
        let attempt = self.attempts.entry(offset).or_insert(0);
        *attempt += 1;
        let d = Delivery {
            topic: topic.to_string(),
            offset,
            key: ready.entry.key.clone(),
            payload: ready.entry.payload.clone(),
            properties: ready.entry.properties.clone(),
            publish_time_ms: ready.entry.publish_time_ms,
            attempt: *attempt,
            handle: consumer,
        };
        self.inflight.insert(offset, Lease { consumer, deadline: now + self.ack_timeout, entry: ready.entry });
        Some(d)
    }

    /// Records an ack. Returns the new cursor if it moved.
    pub fn ack(&mut self, offset: u64) -> Option<u64> {
        self.inflight.remove(&offset);
        self.ready.remove(&offset);
        self.attempts.remove(&offset);
        if offset < self.cursor || !self.acked.insert(offset) {
            return None;
        }
        let before = self.cursor;
        while self.acked.remove(&self.cursor) {
            self.cursor += 1;
        }
        (self.cursor != before).then_some(self.cursor)
    }

    /// Puts a leased message back to be delivered after `delay`. False if it was not leased.
    pub fn nack(&mut self, offset: u64, delay: Duration, now: Instant) -> bool {
        match self.inflight.remove(&offset) {
            Some(lease) => {
                let not_before = (!delay.is_zero()).then(|| now + delay);
                self.ready.insert(offset, Ready { entry: lease.entry, not_before });
                true
            }
            None => false,
        }
    }

    /// When a waiting consumer should look again even if nothing is published.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        let ready = self.ready.values().filter_map(|r| r.not_before).filter(|t| *t > now).min();
        let lease = self.inflight.values().map(|l| l.deadline).min();
        match (ready, lease) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn backlog(&self, next_offset: u64) -> u64 {
        next_offset.saturating_sub(self.cursor).saturating_sub(self.acked.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Arc<LogEntry> {
        Arc::new(LogEntry { key: key.into(), payload: vec![], properties: Default::default(), publish_time_ms: 0 })
    }

    fn state(kind: SubscriptionType, consumers: &[u64], keys: &[&str]) -> SubState {
        let mut s = SubState::new(0, BTreeSet::new(), HashMap::new());
        s.kind = Some(kind);
        s.consumers = consumers.to_vec();
        for (i, k) in keys.iter().enumerate() {
            s.ready.insert(i as u64, Ready { entry: entry(k), not_before: None });
        }
        s.read_pos = keys.len() as u64;
        s
    }

    #[test]
    fn cursor_advances_over_contiguous_acks_only() {
        let mut s = state(SubscriptionType::Shared, &[1], &["a", "b", "c", "d"]);
        assert_eq!(s.ack(1), None, "a gap at 0 holds the cursor");
        assert_eq!(s.ack(2), None);
        assert_eq!(s.ack(0), Some(3));
        assert!(s.acked.is_empty());
        assert_eq!(s.ack(0), None, "acking twice is harmless");
        assert_eq!(s.backlog(4), 1);
    }

    #[test]
    fn failover_feeds_only_the_oldest_consumer() {
        let s = state(SubscriptionType::Failover, &[7, 8], &["a"]);
        assert_eq!(s.pick(8, Instant::now()), None);
        assert_eq!(s.pick(7, Instant::now()), Some(0));
    }

    #[test]
    fn key_shared_holds_a_key_while_one_of_its_messages_is_unacked() {
        let now = Instant::now();
        let mut s = state(SubscriptionType::KeyShared, &[1], &["k", "k", "j"]);
        let first = s.pick(1, now).unwrap();
        s.lease("t", first, 1, now).unwrap();
        assert_eq!(s.pick(1, now), Some(2), "k is busy, j is free");
        s.nack(first, Duration::from_secs(60), now);
        assert_eq!(s.pick(1, now), Some(2), "k's head is backing off, so k's second message must wait");
        s.ack(2);
        assert_eq!(s.pick(1, now), None);
        assert_eq!(s.pick(1, now + Duration::from_secs(61)), Some(0));
    }

    #[test]
    fn nack_delay_is_respected_and_expired_leases_return() {
        let now = Instant::now();
        let mut s = state(SubscriptionType::Shared, &[1], &["a"]);
        s.lease("t", 0, 1, now).unwrap();
        assert!(s.nack(0, Duration::from_millis(500), now));
        assert_eq!(s.pick(1, now), None);
        assert_eq!(s.next_wake(now), Some(now + Duration::from_millis(500)));
        let d = s.lease("t", 0, 1, now + Duration::from_millis(500)).unwrap();
        assert_eq!(d.attempt, 2);
        assert_eq!(s.expire(now + Duration::from_secs(31)), 1);
        assert_eq!(s.pick(1, now + Duration::from_secs(31)), Some(0));
    }
}

//! The embedded backend: an append-only log per topic in the kernel's store.
//!
//! Offsets are per topic, contiguous and never reused (a topic record keeps
//! the next offset after retention removes old messages). A publish appends
//! under the topic's lock, then waits for the store's group-committed flush;
//! only then does the message become visible to consumers, so nothing a
//! consumer saw can vanish in a crash. Cursors and ack marks are written as
//! acks happen and reach disk with the next flush; losing some on a crash only
//! means redelivery, never loss.

mod records;
mod sub;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lectern_storage::{Store, Tree};
use tokio::sync::Notify;

use self::records::*;
use self::sub::{Ready, SubState, WINDOW};
use crate::{
    Bus, BusError, Consumer, Delivery, Outgoing, StartPosition, Stored, SubscribeSpec, SubscriptionStats, TopicStats,
    now_ms, valid_topic,
};

/// Largest payload accepted, to keep one message from crowding the store.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// Tuning for the embedded backend.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Topics with no subscription keep messages this long (a new subscriber
    /// starting at `earliest` can still read them). Messages some subscription
    /// has not acked are never removed.
    pub unsubscribed_retention: Duration,
    /// Flush once per publish on the caller's thread instead of sharing group
    /// commits. Only for benchmarks that measure what group commit buys.
    pub flush_per_publish: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions { unsubscribed_retention: Duration::from_secs(7 * 24 * 3600), flush_per_publish: false }
    }
}

/// Counters since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub published: AtomicU64,
    pub delivered: AtomicU64,
    pub redelivered: AtomicU64,
    pub acked: AtomicU64,
    pub nacked: AtomicU64,
    pub lease_expired: AtomicU64,
    pub removed_by_retention: AtomicU64,
}

/// The embedded bus. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    log: Tree<LogEntry>,
    topics_tree: Tree<TopicRecord>,
    subs_tree: Tree<SubRecord>,
    acks: Tree<AckMark>,
    attempts: Tree<Attempts>,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    next_consumer: AtomicU64,
    options: EmbeddedOptions,
    counters: Counters,
}

struct Topic {
    name: String,
    /// The next offset to assign; appends happen under this lock.
    append: Mutex<u64>,
    /// Offsets below this are durable and may be delivered.
    visible: AtomicU64,
    published: Notify,
    subs: Mutex<HashMap<String, Arc<Sub>>>,
}

struct Sub {
    name: String,
    state: Mutex<SubState>,
    changed: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks except on a bug that already
    // aborted the operation; the protected state stays consistent, so a
    // poisoned lock is used as is.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBus").field("store", &self.inner.store).finish()
    }
}

impl EmbeddedBus {
    pub fn open(store: &Store, options: EmbeddedOptions) -> Result<EmbeddedBus, BusError> {
        Ok(EmbeddedBus {
            inner: Arc::new(Inner {
                store: store.clone(),
                log: store.tree("bus_log")?,
                topics_tree: store.tree("bus_topics")?,
                subs_tree: store.tree("bus_subs")?,
                acks: store.tree("bus_acks")?,
                attempts: store.tree("bus_attempts")?,
                topics: Mutex::new(HashMap::new()),
                next_consumer: AtomicU64::new(1),
                options,
                counters: Counters::default(),
            }),
        })
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    fn topic(&self, name: &str) -> Result<Arc<Topic>, BusError> {
        if !valid_topic(name) {
            return Err(BusError::InvalidName(name.to_string()));
        }
        let mut topics = lock(&self.inner.topics);
        if let Some(t) = topics.get(name) {
            return Ok(t.clone());
        }
        let record = self.inner.topics_tree.get(name)?;
        let last = self.last_offset(name)?;
        let next = last.map(|o| o + 1).unwrap_or(0).max(record.as_ref().map(|r| r.next_offset).unwrap_or(0));
        if record.is_none() {
            self.inner.topics_tree.insert(name, &TopicRecord { next_offset: next, created_ms: now_ms() })?;
        }
        let t = Arc::new(Topic {
            name: name.to_string(),
            append: Mutex::new(next),
            visible: AtomicU64::new(next),
            published: Notify::new(),
            subs: Mutex::new(HashMap::new()),
        });
        topics.insert(name.to_string(), t.clone());
        Ok(t)
    }

    fn last_offset(&self, topic: &str) -> Result<Option<u64>, BusError> {
        // Offsets are big-endian, so the last key under the prefix is the highest.
        Ok(self.inner.log.last_key(topic_prefix(topic))?.and_then(|k| offset_of(&k)))
    }

    fn first_offset(&self, topic: &str) -> Result<Option<u64>, BusError> {
        Ok(self.inner.log.page(&topic_prefix(topic), None, 1)?.first().and_then(|(k, _)| offset_of(k)))
    }

    /// Appends without waiting for durability. Returns the offsets.
    fn append(&self, topic: &Topic, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        let now = now_ms();
        let mut next = lock(&topic.append);
        let mut offsets = Vec::with_capacity(msgs.len());
        for m in msgs {
            let entry = LogEntry { key: m.key, payload: m.payload, properties: m.properties, publish_time_ms: now };
            self.inner.log.insert(log_key(&topic.name, *next), &entry)?;
            offsets.push(*next);
            *next += 1;
        }
        Ok(offsets)
    }

    async fn publish_to(&self, topic_name: &str, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        for m in &msgs {
            if m.payload.len() > MAX_PAYLOAD {
                return Err(BusError::TooLarge { size: m.payload.len(), limit: MAX_PAYLOAD });
            }
        }
        let topic = self.topic(topic_name)?;
        let offsets = self.append(&topic, msgs)?;
        self.durable().await?;
        self.made_durable(&topic, &offsets);
        Ok(offsets)
    }

    /// Makes offsets up to the last of `offsets` visible to consumers (after their flush).
    fn made_durable(&self, topic: &Topic, offsets: &[u64]) {
        if let Some(last) = offsets.last() {
            // Everything appended before `last` was inserted before our flush
            // request, so the flush that answered us covered it too.
            topic.visible.fetch_max(last + 1, Ordering::SeqCst);
            topic.published.notify_waiters();
            self.inner.counters.published.fetch_add(offsets.len() as u64, Ordering::Relaxed);
        }
    }

    async fn durable(&self) -> Result<(), BusError> {
        if self.inner.options.flush_per_publish {
            let store = self.inner.store.clone();
            tokio::task::spawn_blocking(move || store.flush_unbatched()).await.map_err(|_| BusError::Closed)??;
            return Ok(());
        }
        Ok(self.inner.store.durable().await?)
    }

    /// Loads (or creates, durably) a subscription's state.
    async fn sub(&self, topic: &Arc<Topic>, name: &str, start: StartPosition) -> Result<Arc<Sub>, BusError> {
        if !valid_topic(name) {
            return Err(BusError::InvalidName(name.to_string()));
        }
        if let Some(s) = lock(&topic.subs).get(name) {
            return Ok(s.clone());
        }
        let key = sub_key(&topic.name, name);
        let record = match self.inner.subs_tree.get(&key)? {
            Some(r) => r,
            None => {
                let cursor = match start {
                    StartPosition::Earliest => self.first_offset(&topic.name)?.unwrap_or(*lock(&topic.append)),
                    StartPosition::Latest => *lock(&topic.append),
                };
                let r = SubRecord { cursor, created_ms: now_ms() };
                self.inner.subs_tree.insert(&key, &r)?;
                self.inner.store.durable().await?;
                r
            }
        };
        let prefix = sub_prefix(&topic.name, name);
        let mut acked = BTreeSet::new();
        for item in self.inner.acks.scan_prefix(&prefix) {
            let (k, _) = item?;
            match offset_of(&k) {
                Some(o) if o >= record.cursor => {
                    acked.insert(o);
                }
                _ => {
                    self.inner.acks.remove(&k)?;
                }
            }
        }
        let mut attempts = HashMap::new();
        for item in self.inner.attempts.scan_prefix(&prefix) {
            let (k, a) = item?;
            if let Some(o) = offset_of(&k) {
                attempts.insert(o, a.deliveries);
            }
        }
        let mut state = SubState::new(record.cursor, acked, attempts);
        while state.acked.remove(&state.cursor) {
            state.cursor += 1;
        }
        state.read_pos = state.cursor;
        let mut subs = lock(&topic.subs);
        let sub = subs.entry(name.to_string()).or_insert_with(|| {
            Arc::new(Sub { name: name.to_string(), state: Mutex::new(state), changed: Notify::new() })
        });
        Ok(sub.clone())
    }

    /// Reads messages after `read_pos` into `ready`, up to the window.
    fn fill(&self, topic: &Topic, st: &mut SubState) -> Result<(), BusError> {
        let visible = topic.visible.load(Ordering::SeqCst);
        while st.ready.len() < WINDOW && st.read_pos < visible {
            let prefix = topic_prefix(&topic.name);
            let after = st.read_pos.checked_sub(1).map(|o| log_key(&topic.name, o));
            let page = self.inner.log.page(&prefix, after.as_deref(), WINDOW - st.ready.len())?;
            if page.is_empty() {
                st.read_pos = visible;
                break;
            }
            for (k, entry) in page {
                let Some(off) = offset_of(&k) else { continue };
                if off >= visible {
                    st.read_pos = visible;
                    return Ok(());
                }
                st.read_pos = off + 1;
                if off >= st.cursor && !st.acked.contains(&off) && !st.inflight.contains_key(&off) {
                    st.ready.entry(off).or_insert(Ready { entry: Arc::new(entry), not_before: None });
                }
            }
        }
        Ok(())
    }

    fn persist_ack(&self, topic: &str, sub: &str, offset: u64, moved_to: Option<u64>) -> Result<(), BusError> {
        let attempts_key = sub_offset_key(topic, sub, offset);
        self.inner.attempts.remove(&attempts_key)?;
        match moved_to {
            None => self.inner.acks.insert(sub_offset_key(topic, sub, offset), &AckMark { at_ms: now_ms() })?,
            Some(cursor) => {
                let key = sub_key(topic, sub);
                let created_ms = self.inner.subs_tree.get(&key)?.map(|r| r.created_ms).unwrap_or_else(now_ms);
                self.inner.subs_tree.insert(&key, &SubRecord { cursor, created_ms })?;
                // Ack marks below the new cursor are now implied by it.
                let prefix = sub_prefix(topic, sub);
                for item in self.inner.acks.page(&prefix, None, usize::MAX)? {
                    match offset_of(&item.0) {
                        Some(o) if o < cursor => {
                            self.inner.acks.remove(&item.0)?;
                        }
                        _ => break,
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes messages every subscription has acked, and old messages of
    /// topics nobody subscribes to. Returns how many were removed.
    pub fn apply_retention(&self) -> Result<u64, BusError> {
        let now = now_ms();
        let mut removed = 0;
        let topics: Vec<(Vec<u8>, TopicRecord)> = self.inner.topics_tree.page(b"", None, usize::MAX)?;
        for (name, record) in topics {
            let Ok(name) = String::from_utf8(name) else { continue };
            let topic = self.topic(&name)?;
            let next = *lock(&topic.append);
            if record.next_offset < next {
                self.inner.topics_tree.insert(&name, &TopicRecord { next_offset: next, ..record })?;
            }
            let mut floor: Option<u64> = None;
            for item in self.inner.subs_tree.scan_prefix(topic_prefix(&name)) {
                let (_, s) = item?;
                floor = Some(floor.map_or(s.cursor, |f: u64| f.min(s.cursor)));
            }
            let cutoff = now.saturating_sub(self.inner.options.unsubscribed_retention.as_millis() as u64);
            // Lazily, oldest first: stops at the first message that must stay,
            // so a long backlog is never read into memory.
            let mut doomed = Vec::new();
            for item in self.inner.log.scan_prefix(topic_prefix(&name)) {
                let (k, entry) = item?;
                let Some(off) = offset_of(&k) else { continue };
                let acked_by_all = floor.is_some_and(|f| off < f);
                let expired = floor.is_none() && entry.publish_time_ms < cutoff;
                if !(acked_by_all || expired) {
                    break;
                }
                doomed.push(k);
                if doomed.len() >= 4096 {
                    break; // the next run continues; keeps each pass bounded
                }
            }
            for k in doomed {
                self.inner.log.remove(&k)?;
                removed += 1;
            }
        }
        self.inner.counters.removed_by_retention.fetch_add(removed, Ordering::Relaxed);
        Ok(removed)
    }

    /// Removes a subscription so it no longer holds messages back.
    pub fn delete_subscription(&self, topic: &str, subscription: &str) -> Result<bool, BusError> {
        let t = self.topic(topic)?;
        if let Some(s) = lock(&t.subs).get(subscription)
            && !lock(&s.state).consumers.is_empty()
        {
            return Err(BusError::ConsumerBusy { topic: topic.into(), subscription: subscription.into() });
        }
        lock(&t.subs).remove(subscription);
        let existed = self.inner.subs_tree.remove(sub_key(topic, subscription))?.is_some();
        for tree in [&self.inner.acks as &dyn RemovePrefix, &self.inner.attempts] {
            tree.remove_prefix(&sub_prefix(topic, subscription))?;
        }
        Ok(existed)
    }
}

trait RemovePrefix {
    fn remove_prefix(&self, prefix: &[u8]) -> Result<(), BusError>;
}

impl<T: lectern_storage::Record> RemovePrefix for Tree<T> {
    fn remove_prefix(&self, prefix: &[u8]) -> Result<(), BusError> {
        for (k, _) in self.page(prefix, None, usize::MAX)? {
            self.remove(&k)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Bus for EmbeddedBus {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn publish(&self, msg: Outgoing) -> Result<u64, BusError> {
        let topic = msg.topic.clone();
        let offsets = self.publish_to(&topic, vec![msg]).await?;
        offsets.first().copied().ok_or(BusError::Closed)
    }

    async fn publish_batch(&self, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        // Group by topic, keeping each topic's order; one flush covers them all.
        let mut out = vec![0; msgs.len()];
        let mut by_topic: Vec<(String, Vec<(usize, Outgoing)>)> = Vec::new();
        for (i, m) in msgs.into_iter().enumerate() {
            match by_topic.iter_mut().find(|(t, _)| *t == m.topic) {
                Some((_, v)) => v.push((i, m)),
                None => by_topic.push((m.topic.clone(), vec![(i, m)])),
            }
        }
        let mut appended = Vec::new();
        for (name, items) in by_topic {
            if let Some((_, m)) = items.iter().find(|(_, m)| m.payload.len() > MAX_PAYLOAD) {
                return Err(BusError::TooLarge { size: m.payload.len(), limit: MAX_PAYLOAD });
            }
            let topic = self.topic(&name)?;
            let (idx, ms): (Vec<usize>, Vec<Outgoing>) = items.into_iter().unzip();
            let offs = self.append(&topic, ms)?;
            for (i, o) in idx.iter().zip(&offs) {
                out[*i] = *o;
            }
            appended.push((topic, offs));
        }
        self.durable().await?;
        for (topic, offs) in appended {
            self.made_durable(&topic, &offs);
        }
        Ok(out)
    }

    async fn subscribe(&self, spec: SubscribeSpec) -> Result<Box<dyn Consumer>, BusError> {
        let topic = self.topic(&spec.topic)?;
        let sub = self.sub(&topic, &spec.subscription, spec.start).await?;
        let id = self.inner.next_consumer.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = lock(&sub.state);
            if let Some(existing) = st.kind
                && !st.consumers.is_empty()
            {
                if existing != spec.kind {
                    return Err(BusError::TypeMismatch {
                        topic: spec.topic,
                        subscription: spec.subscription,
                        existing: format!("{existing:?}"),
                        requested: format!("{:?}", spec.kind),
                    });
                }
                if existing == crate::SubscriptionType::Exclusive {
                    return Err(BusError::ConsumerBusy { topic: spec.topic, subscription: spec.subscription });
                }
            }
            st.kind = Some(spec.kind);
            st.ack_timeout = spec.ack_timeout;
            st.consumers.push(id);
        }
        sub.changed.notify_waiters();
        Ok(Box::new(EmbeddedConsumer { bus: self.clone(), topic, sub, id }))
    }

    fn stats(&self) -> Result<Vec<TopicStats>, BusError> {
        let mut out = Vec::new();
        for (name, _) in self.inner.topics_tree.page(b"", None, usize::MAX)? {
            let Ok(name) = String::from_utf8(name) else { continue };
            let topic = self.topic(&name)?;
            let next = topic.visible.load(Ordering::SeqCst);
            // Offsets are contiguous and retention removes from the front, so no scan is needed.
            let stored = self.first_offset(&name)?.map_or(0, |first| next.saturating_sub(first));
            let mut subscriptions = Vec::new();
            for item in self.inner.subs_tree.scan_prefix(topic_prefix(&name)) {
                let (k, rec) = item?;
                let sub_name = String::from_utf8_lossy(&k[name.len() + 1..]).into_owned();
                let live = lock(&topic.subs).get(&sub_name).cloned();
                let s = match live {
                    Some(sub) => {
                        let st = lock(&sub.state);
                        SubscriptionStats {
                            subscription: sub_name,
                            cursor: st.cursor,
                            backlog: st.backlog(next),
                            in_flight: st.inflight.len() as u64,
                            consumers: st.consumers.len() as u64,
                        }
                    }
                    None => {
                        let acked = self.inner.acks.scan_prefix(sub_prefix(&name, &sub_name)).count() as u64;
                        SubscriptionStats {
                            subscription: sub_name,
                            cursor: rec.cursor,
                            backlog: next.saturating_sub(rec.cursor).saturating_sub(acked),
                            in_flight: 0,
                            consumers: 0,
                        }
                    }
                };
                subscriptions.push(s);
            }
            out.push(TopicStats { topic: name, next_offset: next, stored, subscriptions });
        }
        Ok(out)
    }

    fn browse(
        &self,
        topic: &str,
        subscription: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Stored>, BusError> {
        let t = self.topic(topic)?;
        let rec = self
            .inner
            .subs_tree
            .get(sub_key(topic, subscription))?
            .ok_or_else(|| BusError::UnknownSubscription { topic: topic.into(), subscription: subscription.into() })?;
        let live = lock(&t.subs).get(subscription).map(|s| {
            let st = lock(&s.state);
            (st.cursor, st.acked.clone())
        });
        let (cursor, acked) = match live {
            Some(x) => x,
            None => {
                let mut acked = BTreeSet::new();
                for item in self.inner.acks.scan_prefix(sub_prefix(topic, subscription)) {
                    if let Some(o) = offset_of(&item?.0) {
                        acked.insert(o);
                    }
                }
                (rec.cursor, acked)
            }
        };
        let start = after.map_or(cursor, |a| (a + 1).max(cursor));
        let visible = t.visible.load(Ordering::SeqCst);
        let from = start.checked_sub(1).map(|o| log_key(topic, o));
        let mut out = Vec::new();
        let mut from = from;
        while out.len() < limit {
            let page = self.inner.log.page(&topic_prefix(topic), from.as_deref(), 256)?;
            let Some((last, _)) = page.last() else { break };
            from = Some(last.clone());
            for (k, e) in page {
                let Some(off) = offset_of(&k) else { continue };
                if off >= visible || out.len() >= limit {
                    return Ok(out);
                }
                if off >= start && !acked.contains(&off) {
                    out.push(Stored {
                        offset: off,
                        key: e.key,
                        payload: e.payload,
                        properties: e.properties,
                        publish_time_ms: e.publish_time_ms,
                    });
                }
            }
        }
        Ok(out)
    }

    fn ack_offset(&self, topic: &str, subscription: &str, offset: u64) -> Result<bool, BusError> {
        let t = self.topic(topic)?;
        if offset >= t.visible.load(Ordering::SeqCst) {
            return Ok(false);
        }
        if self.inner.subs_tree.get(sub_key(topic, subscription))?.is_none() {
            return Err(BusError::UnknownSubscription { topic: topic.into(), subscription: subscription.into() });
        }
        let live = lock(&t.subs).get(subscription).cloned();
        match live {
            Some(sub) => {
                let mut st = lock(&sub.state);
                let was_pending = offset >= st.cursor && !st.acked.contains(&offset);
                let moved = st.ack(offset);
                self.persist_ack(topic, subscription, offset, moved)?;
                drop(st);
                sub.changed.notify_waiters();
                Ok(was_pending)
            }
            None => {
                let rec = self.inner.subs_tree.get(sub_key(topic, subscription))?;
                let cursor = rec.map_or(0, |r| r.cursor);
                let mark = sub_offset_key(topic, subscription, offset);
                if offset < cursor || self.inner.acks.contains(&mark)? {
                    return Ok(false);
                }
                self.inner.acks.insert(mark, &AckMark { at_ms: now_ms() })?;
                Ok(true)
            }
        }
    }
}

/// A consumer attached to an embedded subscription.
struct EmbeddedConsumer {
    bus: EmbeddedBus,
    topic: Arc<Topic>,
    sub: Arc<Sub>,
    id: u64,
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        let mut st = lock(&self.sub.state);
        st.consumers.retain(|c| *c != self.id);
        let released = st.release(self.id);
        drop(st);
        if released > 0 {
            tracing::debug!(topic = %self.topic.name, subscription = %self.sub.name, released, "consumer left with unacked messages");
        }
        self.sub.changed.notify_waiters();
    }
}

#[async_trait::async_trait]
impl Consumer for EmbeddedConsumer {
    async fn receive(&mut self) -> Result<Delivery, BusError> {
        loop {
            let sub_changed = self.sub.changed.notified();
            let published = self.topic.published.notified();
            tokio::pin!(sub_changed, published);
            sub_changed.as_mut().enable();
            published.as_mut().enable();
            let wake = {
                let now = Instant::now();
                let mut st = lock(&self.sub.state);
                let expired = st.expire(now);
                if expired > 0 {
                    self.bus.inner.counters.lease_expired.fetch_add(expired as u64, Ordering::Relaxed);
                }
                self.bus.fill(&self.topic, &mut st)?;
                if let Some(off) = st.pick(self.id, now)
                    && let Some(d) = st.lease(&self.topic.name, off, self.id, now)
                {
                    let c = &self.bus.inner.counters;
                    c.delivered.fetch_add(1, Ordering::Relaxed);
                    if d.attempt > 1 {
                        c.redelivered.fetch_add(1, Ordering::Relaxed);
                        // Best effort (not flushed): a crash loop on a poison message still counts up.
                        let key = sub_offset_key(&self.topic.name, &self.sub.name, off);
                        self.bus.inner.attempts.insert(key, &Attempts { deliveries: d.attempt })?;
                    }
                    return Ok(d);
                }
                st.next_wake(now)
            };
            let sleep = wake.map_or(Duration::from_secs(1), |t| t.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = sub_changed => {}
                _ = published => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    async fn ack(&mut self, d: &Delivery) -> Result<(), BusError> {
        let mut st = lock(&self.sub.state);
        let moved = st.ack(d.offset);
        self.bus.persist_ack(&self.topic.name, &self.sub.name, d.offset, moved)?;
        drop(st);
        self.bus.inner.counters.acked.fetch_add(1, Ordering::Relaxed);
        self.sub.changed.notify_waiters();
        Ok(())
    }

    async fn nack(&mut self, d: &Delivery, delay: Duration) -> Result<(), BusError> {
        let mut st = lock(&self.sub.state);
        st.nack(d.offset, delay, Instant::now());
        drop(st);
        self.bus.inner.counters.nacked.fetch_add(1, Ordering::Relaxed);
        self.sub.changed.notify_waiters();
        Ok(())
    }
}

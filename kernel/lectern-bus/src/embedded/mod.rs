//! The embedded backend: an append-only log per topic in the kernel's store.
//!
//! Offsets are per topic, contiguous and never reused (a topic record keeps
//! the next offset after retention removes old messages). A publish appends
//! its messages as one log record (several messages, one storage insert) and
//! asks for the store's group-committed flush; only when that is done do the
//! messages become visible to consumers and the publisher gets its answer, so
//! nothing a consumer saw can vanish in a crash. While two appends of a topic
//! wait for their flush, new messages queue and are appended together when
//! one is done, so the busier a topic, the more messages each insert and each
//! flush carry. Cursors and ack marks are written as
//! acks happen and reach disk with the next flush; losing some on a crash only
//! means redelivery, never loss.

mod records;
mod sub;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lectern_storage::{Store, Tree};
use tokio::sync::{Notify, oneshot};

use self::records::*;
use self::sub::{Ready, SubState, WINDOW};
use crate::{
    Bus, BusError, Consumer, Delivery, Outgoing, StartPosition, Stored, SubscribeSpec, SubscriptionStats, TopicStats,
    now_ms, valid_topic,
};

/// Largest payload accepted, to keep one message from crowding the store.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// A log record gathers messages up to about this many bytes (a larger
/// message gets a record of its own), so one record never makes a huge value.
const RECORD_BYTES: usize = 64 * 1024;

/// Appends of one topic waiting for their flush at once (see `append_queued`):
/// while two wait, new messages queue and go into the next append together.
const APPENDS_IN_FLIGHT: usize = 2;

/// Log records read per storage page when filling a subscription's window.
const RECORDS_PER_PAGE: usize = 64;

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
    log: Tree<LogRecord>,
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
    /// The next offset to assign and the messages waiting for the writer.
    append: Mutex<Appender>,
    /// Offsets below this are durable and may be delivered.
    visible: AtomicU64,
    published: Notify,
    subs: Mutex<HashMap<String, Arc<Sub>>>,
}

struct Appender {
    next: u64,
    /// Messages waiting for an append slot (see [`APPENDS_IN_FLIGHT`]).
    queue: Vec<Queued>,
    /// Appends written and waiting for their flush.
    in_flight: usize,
}

type Answers = Vec<(oneshot::Sender<Result<Vec<u64>, BusError>>, Vec<u64>)>;

/// One publish call's messages for one topic, and where its offsets go.
struct Queued {
    entries: Vec<LogEntry>,
    done: oneshot::Sender<Result<Vec<u64>, BusError>>,
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
            append: Mutex::new(Appender { next, queue: Vec::new(), in_flight: 0 }),
            visible: AtomicU64::new(next),
            published: Notify::new(),
            subs: Mutex::new(HashMap::new()),
        });
        topics.insert(name.to_string(), t.clone());
        Ok(t)
    }

    fn last_offset(&self, topic: &str) -> Result<Option<u64>, BusError> {
        // Offsets are big-endian, so the last key under the prefix is the highest.
        let last = self.inner.log.floor(&topic_prefix(topic), &log_key(topic, u64::MAX))?;
        Ok(last.and_then(|(k, record)| Some(record.last_offset(offset_of(&k)?))))
    }

    /// The log records from the one holding offset `from` on (or from the first
    /// after it, once retention removed it), in offset order, at most `limit`.
    fn records_from(&self, topic: &str, from: u64, limit: usize) -> Result<Vec<(u64, LogRecord)>, BusError> {
        let prefix = topic_prefix(topic);
        let mut out = Vec::new();
        let mut after = None;
        if let Some((k, record)) = self.inner.log.floor(&prefix, &log_key(topic, from))? {
            if let Some(first) = offset_of(&k)
                && !record.entries.is_empty()
                && record.last_offset(first) >= from
            {
                out.push((first, record));
            }
            after = Some(k);
        }
        for (k, record) in self.inner.log.page(&prefix, after.as_deref(), limit.saturating_sub(out.len()))? {
            if let Some(first) = offset_of(&k) {
                out.push((first, record));
            }
        }
        Ok(out)
    }

    fn first_offset(&self, topic: &str) -> Result<Option<u64>, BusError> {
        Ok(self.inner.log.page(&topic_prefix(topic), None, 1)?.first().and_then(|(k, _)| offset_of(k)))
    }

    /// Appends messages to the topic's log, or queues them while
    /// [`APPENDS_IN_FLIGHT`] appends already wait for their flush. The answer
    /// comes once they are durable: their offsets, in order.
    fn enqueue(&self, topic: &Arc<Topic>, msgs: Vec<Outgoing>) -> oneshot::Receiver<Result<Vec<u64>, BusError>> {
        let (done, answer) = oneshot::channel();
        let entries = msgs
            .into_iter()
            .map(|m| LogEntry { key: m.key, payload: m.payload, properties: m.properties, publish_time_ms: 0 })
            .collect();
        let mut a = lock(&topic.append);
        a.queue.push(Queued { entries, done });
        if a.in_flight < APPENDS_IN_FLIGHT {
            self.append_queued(topic, &mut a);
        }
        answer
    }

    /// Writes everything queued as one append (records of up to
    /// [`RECORD_BYTES`]) and asks for a flush, all under the append lock, so
    /// appends reach the log and the flush queue in offset order. When the
    /// flush is done (on the group-commit thread, without a task switch in
    /// between) the messages become visible, their publishers are answered,
    /// and what queued meanwhile is appended in turn: the busier the topic,
    /// the more messages one insert and one flush carry.
    fn append_queued(&self, topic: &Arc<Topic>, a: &mut Appender) {
        if a.queue.is_empty() {
            return;
        }
        let first = a.next;
        let mut answers: Answers = Vec::with_capacity(a.queue.len());
        let mut entries = Vec::new();
        let mut offset = first;
        for q in a.queue.drain(..) {
            let n = q.entries.len() as u64;
            answers.push((q.done, (offset..offset + n).collect()));
            entries.extend(q.entries);
            offset += n;
        }
        let count = offset - first;
        if let Err(e) = self.write_records(&topic.name, first, entries) {
            // Nothing of this append is in the log; its offsets were not taken.
            for (tx, _) in answers {
                let _ = tx.send(Err(e.clone()));
            }
            return;
        }
        a.next = offset;
        a.in_flight += 1;
        let bus = self.clone();
        let topic_ = topic.clone();
        let then = move |result: Result<(), BusError>| bus.appended(&topic_, first, count, answers, result);
        if self.inner.options.flush_per_publish {
            let store = self.inner.store.clone();
            tokio::task::spawn_blocking(move || then(store.flush_unbatched().map_err(BusError::from)));
            return;
        }
        if let Err(f) = self.inner.store.on_durable(Box::new(move |r| then(r.map_err(BusError::from)))) {
            // The store is shutting down: the write may or may not reach the
            // disk, so the publishers hear that it is closed; nothing is shown.
            a.in_flight -= 1;
            drop(f); // drops the answer channels: publishers get `Closed`
        }
    }

    /// An append's flush is done: make it visible, answer its publishers,
    /// then append what queued meanwhile.
    fn appended(&self, topic: &Arc<Topic>, first: u64, count: u64, answers: Answers, result: Result<(), BusError>) {
        match result {
            Ok(()) => {
                if count > 0 {
                    // A later flush covers every earlier insert, so `fetch_max`
                    // is right whichever answer comes first.
                    topic.visible.fetch_max(first + count, Ordering::SeqCst);
                    topic.published.notify_waiters();
                    self.inner.counters.published.fetch_add(count, Ordering::Relaxed);
                }
                for (tx, offsets) in answers {
                    let _ = tx.send(Ok(offsets)); // a publisher that left needs no answer
                }
            }
            Err(e) => {
                for (tx, _) in answers {
                    let _ = tx.send(Err(e.clone()));
                }
            }
        }
        let mut a = lock(&topic.append);
        a.in_flight -= 1;
        self.append_queued(topic, &mut a);
    }

    /// Inserts `entries` (offsets `first`, `first + 1`, …) as records of up to
    /// [`RECORD_BYTES`]. All or nothing: on an error, the records already
    /// inserted are removed again.
    fn write_records(&self, topic: &str, first: u64, entries: Vec<LogEntry>) -> Result<(), BusError> {
        // About what an entry adds to a record (the fields beside payload and key are small).
        let cost = |e: &LogEntry| e.payload.len() + e.key.len() + 32;
        let now = now_ms();
        let mut inserted: Vec<Vec<u8>> = Vec::new();
        let mut chunk: Vec<LogEntry> = Vec::new();
        let mut chunk_first = first;
        let mut chunk_bytes = 0;
        let mut result = Ok(());
        let mut entries = entries.into_iter().peekable();
        while let Some(mut e) = entries.next() {
            e.publish_time_ms = now;
            chunk_bytes += cost(&e);
            chunk.push(e);
            // The record ends with the last entry or before one that would take it past the bound.
            if entries.peek().is_none_or(|next| chunk_bytes + cost(next) > RECORD_BYTES) {
                let key = log_key(topic, chunk_first);
                chunk_first += chunk.len() as u64;
                let record = LogRecord { entries: std::mem::take(&mut chunk) };
                chunk_bytes = 0;
                if let Err(e) = self.inner.log.insert(&key, &record) {
                    result = Err(e.into());
                    break;
                }
                inserted.push(key);
            }
        }
        if result.is_err() {
            for key in inserted {
                let _ = self.inner.log.remove(&key);
            }
        }
        result
    }

    async fn publish_to(&self, topic_name: &str, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        for m in &msgs {
            if m.payload.len() > MAX_PAYLOAD {
                return Err(BusError::TooLarge { size: m.payload.len(), limit: MAX_PAYLOAD });
            }
        }
        let topic = self.topic(topic_name)?;
        self.enqueue(&topic, msgs).await.map_err(|_| BusError::Closed)?
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
                    StartPosition::Earliest => self.first_offset(&topic.name)?.unwrap_or(lock(&topic.append).next),
                    StartPosition::Latest => lock(&topic.append).next,
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
            let records = self.records_from(&topic.name, st.read_pos, RECORDS_PER_PAGE)?;
            if records.is_empty() {
                st.read_pos = visible;
                break;
            }
            for (first, record) in records {
                for (off, entry) in (first..).zip(record.entries) {
                    if off < st.read_pos {
                        continue;
                    }
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
            let next = lock(&topic.append).next;
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
                let (k, record) = item?;
                let Some(first) = offset_of(&k) else { continue };
                // A record goes as a whole, once its last message may go.
                let last = record.last_offset(first);
                let acked_by_all = floor.is_some_and(|f| last < f);
                let newest = record.entries.iter().map(|e| e.publish_time_ms).max().unwrap_or(0);
                let expired = floor.is_none() && newest < cutoff;
                if !(acked_by_all || expired) {
                    break;
                }
                doomed.push((k, record.entries.len() as u64));
                if doomed.len() >= 4096 {
                    break; // the next run continues; keeps each pass bounded
                }
            }
            for (k, messages) in doomed {
                self.inner.log.remove(&k)?;
                removed += messages;
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
        // Check everything before handing anything over: a refused batch publishes nothing.
        let mut topics = Vec::with_capacity(by_topic.len());
        for (name, items) in &by_topic {
            if let Some((_, m)) = items.iter().find(|(_, m)| m.payload.len() > MAX_PAYLOAD) {
                return Err(BusError::TooLarge { size: m.payload.len(), limit: MAX_PAYLOAD });
            }
            topics.push(self.topic(name)?);
        }
        // Every topic's writer appends and flushes at once; group commit
        // shares the flushes between them.
        let mut waiting = Vec::with_capacity(by_topic.len());
        for ((_, items), topic) in by_topic.into_iter().zip(&topics) {
            let (idx, ms): (Vec<usize>, Vec<Outgoing>) = items.into_iter().unzip();
            waiting.push((idx, self.enqueue(topic, ms)));
        }
        for (idx, answer) in waiting {
            let offs = answer.await.map_err(|_| BusError::Closed)??;
            for (i, o) in idx.iter().zip(&offs) {
                out[*i] = *o;
            }
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
        let mut out = Vec::new();
        let mut from = start;
        while out.len() < limit && from < visible {
            let records = self.records_from(topic, from, RECORDS_PER_PAGE)?;
            if records.is_empty() {
                break;
            }
            for (first, record) in records {
                for (off, e) in (first..).zip(record.entries) {
                    if off >= visible || out.len() >= limit {
                        return Ok(out);
                    }
                    from = off + 1;
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

#[cfg(test)]
mod tests;

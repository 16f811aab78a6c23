//! The Apache Pulsar backend (cargo feature `pulsar`), on the `pulsar` crate
//! (pulsar-rs 6.9, tokio runtime).
//!
//! Each topic name `t` maps to `{topic_prefix}t` (by default
//! `persistent://public/default/t`); subscriptions keep their names and types
//! (exclusive, failover, shared, key-shared map one to one).
//!
//! **Publishing.** One producer per topic is created on first use and cached;
//! a publish returns once the broker's send receipt arrived, i.e. once the
//! message is persisted (the broker answers after the bookies acknowledged the
//! entry). Producers do not batch, so every message is its own ledger entry.
//! `publish_batch` sends everything first, then waits for all receipts; if one
//! fails the whole call fails, although some messages may be stored (at least
//! once: the caller retries, consumers deduplicate).
//!
//! **Offsets.** A delivery's and a publish's offset is the message's Pulsar
//! *entry id*. It grows within a ledger but restarts at 0 when the topic moves
//! to a new ledger (rollover, or a broker reloading the topic), so it is not a
//! message identity. For that, a delivery without the publisher's
//! [`props::MESSAGE_ID`] property gets one, built from the full Pulsar message
//! id (`{topic}@{ledger}:{entry}`, plus `:{partition}:{batch index}` when set),
//! so [`Delivery::message_id`] stays unique and stable across redeliveries.
//!
//! **Consuming.** The client's own ack-timeout redelivery is not used: it starts
//! counting when a message is prefetched rather than handed out, and its timer
//! task keeps a dropped consumer attached to the broker (holding its unacked
//! messages) until another message arrives for it. Instead each consumer
//! keeps, in memory:
//! - a lease per handed-out delivery; when `ack_timeout` passes without an ack
//!   or nack, the message is negatively acknowledged so the broker redelivers it;
//! - a delay queue for [`Consumer::nack`]: the client's nack has no delay, so
//!   the message id waits locally and the client's nack is sent once the delay
//!   has passed. If the message comes back before then (an exclusive or failover
//!   subscription redelivers all unacked messages at once), it is held until due;
//! - for key-shared subscriptions, a gate: while a key has a message handed out,
//!   backing off, or nacked and not yet back, later messages of that key wait
//!   (for at most [`REDELIVERY_WAIT`] after the nack), as in the embedded backend.
//!
//! All of this is driven inside [`Consumer::receive`] (a `select!` between the
//! next message and the earliest timer), so timers fire only while someone
//! waits in `receive`; the worker layer always does. Nothing is lost when a
//! consumer is dropped: the broker redelivers every message the consumer had
//! not acked, including ones whose delayed nack had not fired yet (their delay
//! is then not honoured).
//!
//! **Attempts.** The client does not expose the broker's redelivery count, so
//! `attempt` counts the deliveries of a message to this process's consumers of
//! the same subscription (1 on first delivery). After a process restart counts
//! start over at 1, so a message that crashes the process each time is never
//! dead-lettered by the worker layer.
//!
//! **Limits.** Retries with backoff and dead-lettering come from the
//! [`crate::worker`] layer above the trait. Acks are sent without waiting for
//! a broker answer (Pulsar's default); a lost ack means a redelivery. Topic
//! statistics, browsing and acking by offset need the Pulsar admin REST API,
//! which this client does not use, so [`Bus::stats`], [`Bus::browse`] and
//! [`Bus::ack_offset`] answer [`BusError::Unsupported`] (and dead-letter replay
//! through [`crate::worker::replay`] does too). Building needs `protoc` and the
//! OpenSSL headers (the client's tokio runtime brings native TLS).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use pulsar::consumer::{InitialPosition, Message as PulsarMessage};
use pulsar::error::{ConnectionError, ConsumerError, ProducerError};
use pulsar::producer::Message as OutMessage;
use pulsar::proto::{MessageIdData, ServerError};
use pulsar::{
    Authentication, ConsumerOptions, OperationRetryOptions, Producer, ProducerOptions, Pulsar, SubType, TokioExecutor,
};
use tokio::time::Instant;

use crate::embedded::MAX_PAYLOAD;
use crate::{
    Bus, BusError, Consumer, Delivery, Outgoing, Properties, StartPosition, SubscribeSpec, SubscriptionType, props,
    valid_topic,
};

/// How long a key-shared consumer holds a key back after nacking one of its
/// messages, waiting for the broker to bring that message back (it may go to
/// another consumer when the subscription's membership changed).
pub const REDELIVERY_WAIT: Duration = Duration::from_secs(5);

/// Most messages a consumer buffers locally while their keys are held back.
const LOCAL_BUFFER: usize = 1000;
/// Acked message ids remembered per consumer, to re-ack rather than redeliver
/// a message the broker sends again before our ack reached it.
const RECENT_ACKS: usize = 4096;
/// Attempt counts are pruned once this many are kept...
const ATTEMPT_BOOK_PRUNE_AT: usize = 100_000;
/// ...dropping those not delivered for this long.
const ATTEMPT_MEMORY: Duration = Duration::from_secs(3600);

/// Connection and tuning for [`PulsarBus`].
#[derive(Clone)]
pub struct PulsarOptions {
    /// Prepended to every topic name: `persistent://<tenant>/<namespace>/`.
    pub topic_prefix: String,
    /// Time limit for one broker operation (lookup, subscribe, producer creation, send receipt).
    pub operation_timeout: Duration,
    /// How often the client retries an operation the broker answered with a
    /// transient error (service not ready, consumer or producer busy).
    pub operation_retries: u32,
    pub retry_delay: Duration,
    /// Messages a consumer of an exclusive or failover subscription may have
    /// prefetched from the broker.
    pub prefetch: u32,
    /// The same for shared and key-shared subscriptions. Kept small so messages
    /// go to whichever consumer asks rather than to the first one attached.
    pub shared_prefetch: u32,
    /// A JWT for the broker's token authentication, if it requires one.
    pub token: Option<String>,
}

impl Default for PulsarOptions {
    fn default() -> Self {
        PulsarOptions {
            topic_prefix: "persistent://public/default/".into(),
            operation_timeout: Duration::from_secs(30),
            operation_retries: 3,
            retry_delay: Duration::from_millis(500),
            prefetch: 100,
            shared_prefetch: 1,
            token: None,
        }
    }
}

impl fmt::Debug for PulsarOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PulsarOptions")
            .field("topic_prefix", &self.topic_prefix)
            .field("operation_timeout", &self.operation_timeout)
            .field("operation_retries", &self.operation_retries)
            .field("retry_delay", &self.retry_delay)
            .field("prefetch", &self.prefetch)
            .field("shared_prefetch", &self.shared_prefetch)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

type Client = Pulsar<TokioExecutor>;
type PulsarConsumerHandle = pulsar::Consumer<Vec<u8>, TokioExecutor>;
/// A topic's producer, created on first use; `None` after a failure so the next publish makes a new one.
type ProducerSlot = Arc<tokio::sync::Mutex<Option<Producer<TokioExecutor>>>>;

/// A message's identity within one topic: ledger, entry, partition, batch index.
type MsgKey = (u64, u64, i32, i32);

fn msg_key(id: &MessageIdData) -> MsgKey {
    (id.ledger_id, id.entry_id, id.partition.unwrap_or(-1), id.batch_index.unwrap_or(-1))
}

/// The bus on a Pulsar cluster. Cheap to clone.
#[derive(Clone)]
pub struct PulsarBus {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    url: String,
    options: PulsarOptions,
    producers: StdMutex<HashMap<String, ProducerSlot>>,
    attempts: StdMutex<AttemptBook>,
    /// Makes consumer names unique across processes and within this one.
    instance: String,
    next_consumer: AtomicU64,
}

impl fmt::Debug for PulsarBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PulsarBus").field("url", &self.inner.url).field("options", &self.inner.options).finish()
    }
}

fn lock<T>(m: &StdMutex<T>) -> MutexGuard<'_, T> {
    // These locks guard plain maps and are never held across an await or a
    // call that can panic midway, so a poisoned lock's data is still sound.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn broker(context: impl fmt::Display, e: impl fmt::Display) -> BusError {
    BusError::Broker(format!("{context}: {e}"))
}

/// The broker's error code and text, when the client error carries one.
fn server_error(e: &pulsar::Error) -> Option<(ServerError, &str)> {
    let conn = match e {
        pulsar::Error::Connection(c)
        | pulsar::Error::Consumer(ConsumerError::Connection(c))
        | pulsar::Error::Producer(ProducerError::Connection(c)) => c,
        _ => return None,
    };
    match conn {
        ConnectionError::PulsarError(Some(kind), text) => Some((*kind, text.as_deref().unwrap_or(""))),
        _ => None,
    }
}

impl PulsarBus {
    /// Connects to the cluster at `url` (`pulsar://host:6650` or `pulsar+ssl://…`).
    ///
    /// An unreachable broker is reported once the client's connection retries
    /// run out (about 40 s for a refused connection).
    pub async fn connect(url: &str, options: PulsarOptions) -> Result<PulsarBus, BusError> {
        let mut builder = Pulsar::builder(url, TokioExecutor).with_operation_retry_options(OperationRetryOptions {
            operation_timeout: options.operation_timeout,
            retry_delay: options.retry_delay,
            max_retries: Some(options.operation_retries),
        });
        if let Some(token) = &options.token {
            builder = builder.with_auth(Authentication { name: "token".into(), data: token.clone().into_bytes() });
        }
        let client = builder.build().await.map_err(|e| broker(format_args!("connecting to Pulsar at {url}"), e))?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Ok(PulsarBus {
            inner: Arc::new(Inner {
                client,
                url: url.to_string(),
                options,
                producers: StdMutex::new(HashMap::new()),
                attempts: StdMutex::new(AttemptBook::default()),
                instance: format!("{}-{:x}", std::process::id(), started & 0xffff_ffff),
                next_consumer: AtomicU64::new(1),
            }),
        })
    }

    fn full_topic(&self, topic: &str) -> Result<String, BusError> {
        if !valid_topic(topic) {
            return Err(BusError::InvalidName(topic.to_string()));
        }
        Ok(format!("{}{topic}", self.inner.options.topic_prefix))
    }

    fn slot(&self, topic: &str) -> ProducerSlot {
        lock(&self.inner.producers).entry(topic.to_string()).or_default().clone()
    }

    /// Sends `msgs` (all for `topic`, in order) and returns their receipts' futures.
    async fn send_all(&self, topic: &str, msgs: Vec<Outgoing>) -> Result<Vec<pulsar::producer::SendFuture>, BusError> {
        let full = self.full_topic(topic)?;
        let slot = self.slot(topic);
        let mut guard = slot.lock().await;
        let producer = match guard.as_mut() {
            Some(p) => p,
            None => {
                let built = self
                    .inner
                    .client
                    .producer()
                    .with_topic(&full)
                    .with_options(ProducerOptions { block_queue_if_full: true, ..Default::default() })
                    .build();
                let p = tokio::time::timeout(self.inner.options.operation_timeout, built)
                    .await
                    .map_err(|_| broker(format_args!("creating a producer for {full}"), "timed out"))?
                    .map_err(|e| broker(format_args!("creating a producer for {full}"), e))?;
                guard.insert(p)
            }
        };
        let mut receipts = Vec::with_capacity(msgs.len());
        for m in msgs {
            let out = OutMessage {
                payload: m.payload,
                properties: m.properties.into_iter().collect(),
                partition_key: (!m.key.is_empty()).then_some(m.key),
                ..Default::default()
            };
            match producer.send_non_blocking(out).await {
                Ok(f) => receipts.push(f),
                Err(e) => {
                    // A producer that failed is rebuilt on the next publish.
                    *guard = None;
                    return Err(broker(format_args!("publishing to {full}"), e));
                }
            }
        }
        Ok(receipts)
    }

    /// Waits for one send receipt; returns the message's entry id.
    async fn receipt(&self, topic: &str, f: pulsar::producer::SendFuture) -> Result<u64, BusError> {
        let context = || format!("publishing to {topic}");
        let receipt = match tokio::time::timeout(self.inner.options.operation_timeout, f).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                self.evict(topic).await;
                return Err(broker(context(), e));
            }
            Err(_) => {
                self.evict(topic).await;
                return Err(broker(context(), "no receipt from the broker within the operation timeout"));
            }
        };
        receipt.message_id.map(|id| id.entry_id).ok_or_else(|| broker(context(), "receipt without a message id"))
    }

    async fn evict(&self, topic: &str) {
        let slot = self.slot(topic);
        *slot.lock().await = None;
    }

    async fn build_consumer(
        &self,
        spec: &SubscribeSpec,
        full: &str,
        name: &str,
    ) -> Result<PulsarConsumerHandle, BusError> {
        let (sub_type, prefetch) = match spec.kind {
            SubscriptionType::Exclusive => (SubType::Exclusive, self.inner.options.prefetch),
            SubscriptionType::Failover => (SubType::Failover, self.inner.options.prefetch),
            SubscriptionType::Shared => (SubType::Shared, self.inner.options.shared_prefetch),
            SubscriptionType::KeyShared => (SubType::KeyShared, self.inner.options.shared_prefetch),
        };
        let prefetch = prefetch.max(1);
        let initial = match spec.start {
            StartPosition::Earliest => InitialPosition::Earliest,
            StartPosition::Latest => InitialPosition::Latest,
        };
        let options = ConsumerOptions::default().with_initial_position(initial).with_receiver_queue_size(prefetch);
        let built = self
            .inner
            .client
            .consumer()
            .with_topic(full)
            .with_subscription(&spec.subscription)
            .with_subscription_type(sub_type)
            .with_consumer_name(name)
            .with_batch_size(prefetch)
            .with_options(options)
            // Leases are kept here instead (see the module doc).
            .with_unacked_message_resend_delay(None)
            .build::<Vec<u8>>();
        let subscribing = || format!("subscribing `{}` to {full}", spec.subscription);
        match tokio::time::timeout(self.inner.options.operation_timeout, built).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(match server_error(&e) {
                Some((ServerError::ConsumerBusy, text)) if text.contains("different type") => BusError::TypeMismatch {
                    topic: spec.topic.clone(),
                    subscription: spec.subscription.clone(),
                    existing: "another type".into(),
                    requested: format!("{:?}", spec.kind),
                },
                Some((ServerError::ConsumerBusy, _)) => {
                    BusError::ConsumerBusy { topic: spec.topic.clone(), subscription: spec.subscription.clone() }
                }
                _ => broker(subscribing(), e),
            }),
            Err(_) => Err(broker(subscribing(), "timed out")),
        }
    }
}

#[async_trait::async_trait]
impl Bus for PulsarBus {
    fn backend(&self) -> &'static str {
        "pulsar"
    }

    async fn publish(&self, msg: Outgoing) -> Result<u64, BusError> {
        let mut offsets = self.publish_batch(vec![msg]).await?;
        offsets.pop().ok_or(BusError::Closed)
    }

    async fn publish_batch(&self, msgs: Vec<Outgoing>) -> Result<Vec<u64>, BusError> {
        for m in &msgs {
            if m.payload.len() > MAX_PAYLOAD {
                return Err(BusError::TooLarge { size: m.payload.len(), limit: MAX_PAYLOAD });
            }
            self.full_topic(&m.topic)?;
        }
        // Group by topic, keeping each topic's order; send everything, then await the receipts.
        let total = msgs.len();
        let mut by_topic: Vec<(String, Vec<usize>, Vec<Outgoing>)> = Vec::new();
        for (i, m) in msgs.into_iter().enumerate() {
            match by_topic.iter_mut().find(|(t, _, _)| *t == m.topic) {
                Some((_, idx, v)) => {
                    idx.push(i);
                    v.push(m);
                }
                None => by_topic.push((m.topic.clone(), vec![i], vec![m])),
            }
        }
        let mut pending = Vec::with_capacity(by_topic.len());
        for (topic, idx, ms) in by_topic {
            let receipts = self.send_all(&topic, ms).await?;
            pending.push((topic, idx, receipts));
        }
        let mut out = vec![0; total];
        for (topic, idx, receipts) in pending {
            for (i, f) in idx.into_iter().zip(receipts) {
                out[i] = self.receipt(&topic, f).await?;
            }
        }
        Ok(out)
    }

    async fn subscribe(&self, spec: SubscribeSpec) -> Result<Box<dyn Consumer>, BusError> {
        let full = self.full_topic(&spec.topic)?;
        if !valid_topic(&spec.subscription) {
            return Err(BusError::InvalidName(spec.subscription));
        }
        let n = self.inner.next_consumer.fetch_add(1, Ordering::Relaxed);
        let name = format!("lectern-{}-{n}", self.inner.instance);
        let consumer = self.build_consumer(&spec, &full, &name).await?;
        let book_key = format!("{full}\u{0}{}", spec.subscription);
        Ok(Box::new(PulsarConsumer {
            bus: self.clone(),
            consumer: Some(consumer),
            spec,
            full,
            name,
            book_key,
            next_handle: 1,
            ready: BTreeMap::new(),
            inflight: HashMap::new(),
            delayed: HashMap::new(),
            due: BTreeSet::new(),
            awaiting: HashMap::new(),
            recent_acks: RecentAcks::default(),
        }))
    }
}

/// Deliveries per message, per subscription, in this process.
#[derive(Default)]
struct AttemptBook {
    counts: HashMap<(String, MsgKey), (u32, Instant)>,
}

impl AttemptBook {
    fn bump(&mut self, sub: &str, mk: MsgKey, now: Instant) -> u32 {
        if self.counts.len() >= ATTEMPT_BOOK_PRUNE_AT {
            self.counts.retain(|_, (_, seen)| now.saturating_duration_since(*seen) < ATTEMPT_MEMORY);
        }
        let entry = self.counts.entry((sub.to_string(), mk)).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        entry.0
    }

    fn forget(&mut self, sub: &str, mk: MsgKey) {
        self.counts.remove(&(sub.to_string(), mk));
    }
}

/// The last acked message ids of one consumer.
#[derive(Default)]
struct RecentAcks {
    order: VecDeque<MsgKey>,
    set: HashSet<MsgKey>,
}

impl RecentAcks {
    fn insert(&mut self, mk: MsgKey) {
        if self.set.insert(mk) {
            self.order.push_back(mk);
            if self.order.len() > RECENT_ACKS
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, mk: &MsgKey) -> bool {
        self.set.contains(mk)
    }
}

/// A message received from the broker, not yet handed out.
struct Arrived {
    id: MessageIdData,
    key: String,
    payload: Vec<u8>,
    properties: Properties,
    publish_time_ms: u64,
}

/// A handed-out delivery, not yet acked or nacked.
struct Held {
    mk: MsgKey,
    id: MessageIdData,
    key: String,
    deadline: Instant,
    /// The lease ran out and the message was given back to the broker; an ack still counts.
    expired: bool,
    /// Received by a client consumer that has since ended; the broker redelivers it on its own.
    stale: bool,
}

/// A nacked message waiting for its delay to pass.
struct Delayed {
    id: MessageIdData,
    key: String,
    at: Instant,
    /// The broker sent it again before the delay passed; handed out when due.
    parked: Option<Arrived>,
    /// False once the consumer was re-created: the broker redelivers it on its own.
    nack_needed: bool,
}

struct PulsarConsumer {
    bus: PulsarBus,
    /// `None` after the client's consumer ended; made again on the next `receive`.
    consumer: Option<PulsarConsumerHandle>,
    spec: SubscribeSpec,
    full: String,
    name: String,
    /// Key of this subscription in the bus's attempt book.
    book_key: String,
    next_handle: u64,
    /// Received, not yet handed out, in message id order.
    ready: BTreeMap<MsgKey, Arrived>,
    /// Handed out, by delivery handle.
    inflight: HashMap<u64, Held>,
    delayed: HashMap<MsgKey, Delayed>,
    /// `delayed`, by due time.
    due: BTreeSet<(Instant, MsgKey)>,
    /// Key-shared only: nacked messages the broker should bring back, with their key and how long to wait.
    awaiting: HashMap<MsgKey, (String, Instant)>,
    recent_acks: RecentAcks,
}

impl PulsarConsumer {
    fn key_shared(&self) -> bool {
        self.spec.kind == SubscriptionType::KeyShared
    }

    /// Asks the broker to redeliver `id` now. Failures only delay redelivery
    /// until the consumer closes, so they are logged, not returned.
    async fn client_nack(&mut self, mk: MsgKey, id: MessageIdData, key: String, now: Instant) {
        if let Some(c) = self.consumer.as_mut()
            && let Err(e) = c.nack_with_id(&self.full, id).await
        {
            tracing::warn!(topic = %self.spec.topic, subscription = %self.spec.subscription, error = %e, "could not nack; the message comes back when the consumer closes");
        }
        if self.key_shared() {
            self.awaiting.insert(mk, (key, now + REDELIVERY_WAIT));
        }
    }

    /// Fires due nacks, expires leases and stale waits.
    async fn run_timers(&mut self, now: Instant) {
        while let Some(&(at, mk)) = self.due.first() {
            if at > now {
                break;
            }
            self.due.pop_first();
            let Some(d) = self.delayed.remove(&mk) else { continue };
            if d.at != at {
                // Re-nacked later under a newer due time.
                self.delayed.insert(mk, d);
                continue;
            }
            match d.parked {
                Some(arrived) => {
                    self.ready.insert(mk, arrived);
                }
                None if d.nack_needed => self.client_nack(mk, d.id, d.key, now).await,
                None => {}
            }
        }
        let expired: Vec<u64> =
            self.inflight.iter().filter(|(_, h)| !h.expired && h.deadline <= now).map(|(k, _)| *k).collect();
        for handle in expired {
            let Some(h) = self.inflight.get_mut(&handle) else { continue };
            h.expired = true;
            let (mk, id, key) = (h.mk, h.id.clone(), h.key.clone());
            tracing::debug!(topic = %self.spec.topic, subscription = %self.spec.subscription, entry = mk.1, "ack timeout; giving the message back");
            self.client_nack(mk, id, key, now).await;
        }
        self.awaiting.retain(|_, (_, until)| *until > now);
    }

    /// The earliest timer, if any.
    fn next_wake(&self) -> Option<Instant> {
        let due = self.due.first().map(|(t, _)| *t);
        let lease = self.inflight.values().filter(|h| !h.expired).map(|h| h.deadline).min();
        let wait = self.awaiting.values().map(|(_, t)| *t).min();
        [due, lease, wait].into_iter().flatten().min()
    }

    /// Hands out the oldest message that may go now.
    fn hand_out(&mut self, now: Instant) -> Option<Delivery> {
        let mk = if self.key_shared() {
            let blocked: HashSet<&str> = self
                .inflight
                .values()
                .filter(|h| !h.expired)
                .map(|h| h.key.as_str())
                .chain(self.delayed.values().map(|d| d.key.as_str()))
                .chain(self.awaiting.values().map(|(k, _)| k.as_str()))
                .collect();
            *self.ready.iter().find(|(_, a)| !blocked.contains(a.key.as_str()))?.0
        } else {
            *self.ready.keys().next()?
        };
        let a = self.ready.remove(&mk)?;
        let attempt = lock(&self.bus.inner.attempts).bump(&self.book_key, mk, now);
        let handle = self.next_handle;
        self.next_handle += 1;
        // Supersedes earlier deliveries of the same message whose lease ran out.
        self.inflight.retain(|_, h| h.mk != mk);
        self.inflight.insert(
            handle,
            Held {
                mk,
                id: a.id,
                key: a.key.clone(),
                deadline: now + self.spec.ack_timeout,
                expired: false,
                stale: false,
            },
        );
        Some(Delivery {
            topic: self.spec.topic.clone(),
            offset: mk.1,
            key: a.key,
            payload: a.payload,
            properties: a.properties,
            publish_time_ms: a.publish_time_ms,
            attempt,
            handle,
        })
    }

    /// Takes in a message from the broker.
    async fn arrive(&mut self, msg: PulsarMessage<Vec<u8>>) {
        let id = msg.message_id().clone();
        let mk = msg_key(&id);
        if self.recent_acks.contains(&mk) {
            // Sent again before our ack reached the broker: ack again.
            if let Some(c) = self.consumer.as_mut()
                && let Err(e) = c.ack_with_id(&self.full, id).await
            {
                tracing::debug!(topic = %self.spec.topic, error = %e, "could not re-ack");
            }
            return;
        }
        let arrived = to_arrived(&self.spec.topic, msg, id);
        if let Some(d) = self.delayed.get_mut(&mk) {
            d.parked = Some(arrived);
            return;
        }
        if self.ready.contains_key(&mk) || self.inflight.values().any(|h| h.mk == mk && !h.expired) {
            // A copy of a message already here (an exclusive subscription redelivers everything unacked).
            return;
        }
        self.awaiting.remove(&mk);
        self.ready.insert(mk, arrived);
    }

    /// The consumer's stream ended (the client gave up reconnecting): the broker
    /// redelivers everything it held, so local state about it is dropped.
    fn lost_consumer(&mut self) {
        self.consumer = None;
        self.ready.clear();
        self.awaiting.clear();
        for d in self.delayed.values_mut() {
            d.nack_needed = false;
        }
        for h in self.inflight.values_mut() {
            h.expired = true;
            h.stale = true;
        }
    }

    fn settle(&mut self, d: &Delivery) -> Result<Held, BusError> {
        let held = self.inflight.remove(&d.handle).ok_or_else(|| {
            BusError::Broker(format!(
                "delivery of {}@{} is not held by this consumer (already acked or nacked?)",
                d.topic, d.offset
            ))
        })?;
        Ok(held)
    }
}

fn to_arrived(topic: &str, mut msg: PulsarMessage<Vec<u8>>, id: MessageIdData) -> Arrived {
    let key = if msg.has_base64_encoded_key() {
        match msg.key_bytes() {
            Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => msg.key().unwrap_or_default(),
        }
    } else {
        msg.key().unwrap_or_default()
    };
    let meta = &msg.payload.metadata;
    let mut properties: Properties = meta.properties.iter().map(|kv| (kv.key.clone(), kv.value.clone())).collect();
    properties.entry(props::MESSAGE_ID.to_string()).or_insert_with(|| {
        let mut s = format!("{topic}@{}:{}", id.ledger_id, id.entry_id);
        if id.partition.is_some_and(|p| p >= 0) || id.batch_index.is_some_and(|b| b >= 0) {
            s.push_str(&format!(":{}:{}", id.partition.unwrap_or(-1), id.batch_index.unwrap_or(-1)));
        }
        s
    });
    let publish_time_ms = meta.publish_time;
    let payload = std::mem::take(&mut msg.payload.data);
    Arrived { id, key, payload, properties, publish_time_ms }
}

#[async_trait::async_trait]
impl Consumer for PulsarConsumer {
    async fn receive(&mut self) -> Result<Delivery, BusError> {
        loop {
            let now = Instant::now();
            self.run_timers(now).await;
            if let Some(d) = self.hand_out(now) {
                return Ok(d);
            }
            if self.consumer.is_none() {
                let c = self.bus.build_consumer(&self.spec, &self.full, &self.name).await?;
                tracing::info!(topic = %self.spec.topic, subscription = %self.spec.subscription, "re-created the Pulsar consumer");
                self.consumer = Some(c);
            }
            let wake = self.next_wake().unwrap_or(now + Duration::from_secs(1));
            let pull = self.ready.len() < LOCAL_BUFFER;
            let Some(consumer) = self.consumer.as_mut() else { continue };
            let next = tokio::select! {
                m = consumer.next(), if pull => Some(m),
                _ = tokio::time::sleep_until(wake) => None,
            };
            match next {
                None => {}
                Some(Some(Ok(msg))) => self.arrive(msg).await,
                Some(Some(Err(e))) => return Err(broker(format_args!("receiving from {}", self.full), e)),
                Some(None) => {
                    self.lost_consumer();
                    return Err(BusError::Broker(format!(
                        "the consumer of `{}` on {} stopped; it is re-created on the next receive",
                        self.spec.subscription, self.full
                    )));
                }
            }
        }
    }

    async fn ack(&mut self, d: &Delivery) -> Result<(), BusError> {
        let held = self.settle(d)?;
        // Other (expired) deliveries of the same message are settled by this ack too.
        self.inflight.retain(|_, h| h.mk != held.mk);
        self.recent_acks.insert(held.mk);
        lock(&self.bus.inner.attempts).forget(&self.book_key, held.mk);
        let consumer = self.consumer.as_mut().ok_or_else(|| {
            BusError::Broker(format!(
                "the consumer of {} is being re-created; the message may be redelivered (and is then acked again)",
                self.full
            ))
        })?;
        consumer.ack_with_id(&self.full, held.id).await.map_err(|e| broker(format_args!("acking on {}", self.full), e))
    }

    async fn nack(&mut self, d: &Delivery, delay: Duration) -> Result<(), BusError> {
        let held = self.settle(d)?;
        let now = Instant::now();
        if delay.is_zero() {
            if !held.stale {
                self.client_nack(held.mk, held.id, held.key, now).await;
            }
            return Ok(());
        }
        let at = now + delay;
        self.due.insert((at, held.mk));
        let nack_needed = !held.stale;
        self.delayed.insert(held.mk, Delayed { id: held.id, key: held.key, at, parked: None, nack_needed });
        Ok(())
    }
}

impl Drop for PulsarConsumer {
    fn drop(&mut self) {
        // Dropping the client's consumer closes it on the broker, which redelivers
        // everything unacked, including messages whose delayed nack had not fired.
        let unsettled = self.inflight.len() + self.delayed.len();
        if unsettled > 0 {
            tracing::debug!(topic = %self.spec.topic, subscription = %self.spec.subscription, consumer = %self.name, unsettled, "consumer left with unacked messages");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_order_like_the_log() {
        let id = |ledger, entry, batch: Option<i32>| MessageIdData {
            ledger_id: ledger,
            entry_id: entry,
            batch_index: batch,
            ..Default::default()
        };
        assert!(msg_key(&id(7, 3, None)) < msg_key(&id(7, 4, None)));
        assert!(msg_key(&id(7, 900, None)) < msg_key(&id(8, 0, None)), "a newer ledger sorts after");
        assert!(msg_key(&id(7, 3, Some(0))) < msg_key(&id(7, 3, Some(1))));
    }

    #[test]
    fn attempts_count_per_subscription_and_reset_on_ack() {
        let mut book = AttemptBook::default();
        let now = Instant::now();
        let mk = (1, 2, -1, -1);
        assert_eq!(book.bump("t\0a", mk, now), 1);
        assert_eq!(book.bump("t\0a", mk, now), 2);
        assert_eq!(book.bump("t\0b", mk, now), 1, "another subscription counts separately");
        book.forget("t\0a", mk);
        assert_eq!(book.bump("t\0a", mk, now), 1);
    }

    #[test]
    fn recent_acks_forget_the_oldest() {
        let mut r = RecentAcks::default();
        for e in 0..(RECENT_ACKS as u64 + 10) {
            r.insert((1, e, -1, -1));
        }
        assert!(!r.contains(&(1, 0, -1, -1)));
        assert!(r.contains(&(1, RECENT_ACKS as u64 + 9, -1, -1)));
        assert_eq!(r.order.len(), RECENT_ACKS);
    }

    #[test]
    fn options_debug_hides_the_token() {
        let o = PulsarOptions { token: Some("secret".into()), ..Default::default() };
        assert!(!format!("{o:?}").contains("secret"));
    }
}

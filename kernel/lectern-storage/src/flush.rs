//! Group commit: one thread owns `fsync`, callers queue behind it.
//!
//! A caller that needs its writes on disk sends a waiter and blocks (or
//! awaits). The flusher takes every waiter queued so far, flushes once, and
//! answers them all. Because a waiter is only sent after the caller's writes
//! were applied, and the flush starts after the waiter was received, every
//! answered waiter's writes are covered by the flush that answered it.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::StorageError;

/// Called after each group flush with its duration and how many waiters it released.
pub type FlushObserver = Arc<dyn Fn(Duration, usize) + Send + Sync>;

type Answer = Result<(), Arc<str>>;

/// Run on the flush thread once the flush that covers the caller's writes is
/// done. The next flush waits for it, so it must be short, must not panic
/// (that would stop group commit) and must never wait for a flush itself;
/// registering another callback is fine.
pub type OnDurable = Box<dyn FnOnce(Result<(), StorageError>) + Send>;

enum Waiter {
    Async(tokio::sync::oneshot::Sender<Answer>),
    Blocking(mpsc::SyncSender<Answer>),
    Callback(OnDurable),
}

impl Waiter {
    fn answer(self, answer: Answer) {
        // A waiter that gave up (dropped its receiver) no longer cares.
        let _ = match self {
            Waiter::Async(tx) => tx.send(answer).map_err(|_| ()),
            Waiter::Blocking(tx) => tx.send(answer).map_err(|_| ()),
            Waiter::Callback(f) => {
                f(answer.map_err(|e| StorageError::Io(e.to_string())));
                Ok(())
            }
        };
    }
}

pub(crate) struct GroupFlusher {
    queue: Option<mpsc::Sender<Waiter>>,
    thread: Option<JoinHandle<()>>,
}

impl GroupFlusher {
    pub(crate) fn start(db: sled::Db, observer: Option<FlushObserver>) -> Result<Self, StorageError> {
        let (queue, rx) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("lectern-flush".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    let started = Instant::now();
                    let result: Answer = db.flush().map(|_| ()).map_err(|e| Arc::from(e.to_string()));
                    if let Some(observe) = &observer {
                        observe(started.elapsed(), batch.len());
                    }
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "storage flush failed");
                    }
                    for w in batch {
                        w.answer(result.clone());
                    }
                }
            })
            .map_err(|e| StorageError::Io(format!("cannot start flush thread: {e}")))?;
        Ok(GroupFlusher { queue: Some(queue), thread: Some(thread) })
    }

    pub(crate) async fn wait(&self) -> Result<(), StorageError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Waiter::Async(tx))?;
        match rx.await {
            Ok(answer) => answer.map_err(|e| StorageError::Io(e.to_string())),
            Err(_) => Err(StorageError::Closed),
        }
    }

    /// Joins the queue for a flush now; `f` runs on the flush thread once it
    /// is done. If the flusher has stopped, `f` comes back, not run.
    pub(crate) fn on_flushed(&self, f: OnDurable) -> Result<(), OnDurable> {
        let Some(q) = &self.queue else { return Err(f) };
        match q.send(Waiter::Callback(f)) {
            Ok(()) => Ok(()),
            Err(mpsc::SendError(Waiter::Callback(f))) => Err(f),
            Err(_) => Ok(()), // what was sent is a callback
        }
    }

    pub(crate) fn wait_blocking(&self) -> Result<(), StorageError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Waiter::Blocking(tx))?;
        match rx.recv() {
            Ok(answer) => answer.map_err(|e| StorageError::Io(e.to_string())),
            Err(_) => Err(StorageError::Closed),
        }
    }

    fn send(&self, w: Waiter) -> Result<(), StorageError> {
        self.queue.as_ref().ok_or(StorageError::Closed)?.send(w).map_err(|_| StorageError::Closed)
    }
}

impl Drop for GroupFlusher {
    fn drop(&mut self) {
        // Closing the queue ends the thread after it answers what is queued;
        // joining releases its handle on the database before sled closes.
        self.queue.take();
        if let Some(t) = self.thread.take() {
            // The last handle on the store can be dropped by an `on_durable`
            // callback, on the flush thread itself: that thread ends by
            // itself once the queue is closed, and cannot wait for itself.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

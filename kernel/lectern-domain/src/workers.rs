//! What a context hands the kernel to run on the bus: its workers, and the
//! settings they run under.

use std::sync::Arc;
use std::time::Duration;

use lectern_bus::SubscriptionType;
use lectern_bus::worker::Handler;

pub use lectern_bus::RetryPolicy;

/// Settings for the bus and its workers.
#[derive(Clone, Debug)]
pub struct BusSettings {
    /// `pulsar://host:6650` to use an Apache Pulsar cluster instead of the embedded log.
    pub pulsar_url: Option<String>,
    /// Retries for automatic grading (plugin errors and timeouts).
    pub grading: RetryPolicy,
    /// Retries for everything else (completion, certificates, notifications).
    pub default: RetryPolicy,
    /// A handler running longer than this is a failed attempt.
    pub handler_timeout: Duration,
    /// How often retention removes messages every subscription acked.
    pub retention_interval: Duration,
}

impl Default for BusSettings {
    fn default() -> Self {
        BusSettings {
            pulsar_url: None,
            grading: RetryPolicy {
                max_attempts: 5,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
            default: RetryPolicy::default(),
            handler_timeout: Duration::from_secs(30),
            retention_interval: Duration::from_secs(60),
        }
    }
}

/// One worker to start: what it consumes, how, and its metrics label.
pub struct WorkerDef {
    pub label: String,
    pub topic: &'static str,
    pub subscription: &'static str,
    pub kind: SubscriptionType,
    pub policy: RetryPolicy,
    pub concurrency: usize,
    pub handler: Arc<dyn Handler>,
}

impl WorkerDef {
    pub fn new(
        topic: &'static str,
        subscription: &'static str,
        kind: SubscriptionType,
        policy: RetryPolicy,
        concurrency: usize,
        handler: Arc<dyn Handler>,
    ) -> WorkerDef {
        WorkerDef { label: subscription.to_string(), topic, subscription, kind, policy, concurrency, handler }
    }
}

//! Backends the conformance suite runs against.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use lectern_bus::embedded::{EmbeddedBus, EmbeddedOptions};
use lectern_bus::{Bus, Consumer, Delivery};
use lectern_storage::{Store, StoreOptions};

/// A backend under test: opens the bus, restarts it (a fresh process's view), and names topics.
#[async_trait::async_trait]
pub trait Harness: Send {
    async fn bus(&mut self) -> Arc<dyn Bus>;
    /// Drops `old` (every consumer must already be dropped) and opens the bus again.
    async fn restart(&mut self, old: Arc<dyn Bus>) -> Arc<dyn Bus>;
    /// A topic name unique to this run (brokers outlive test runs).
    fn topic(&self, base: &str) -> String;
    /// Runs retention now, where the backend has it under our control.
    fn apply_retention(&self, bus: &Arc<dyn Bus>);
}

pub struct Embedded {
    pub dir: tempfile::TempDir,
    store: Option<Store>,
    bus: Option<EmbeddedBus>,
}

impl Embedded {
    pub fn new() -> Self {
        Embedded { dir: tempfile::tempdir().unwrap(), store: None, bus: None }
    }

    fn open(&mut self) -> Arc<dyn Bus> {
        let store = Store::open(self.dir.path().join("db"), StoreOptions::default()).unwrap();
        let bus = EmbeddedBus::open(&store, EmbeddedOptions::default()).unwrap();
        self.store = Some(store);
        self.bus = Some(bus.clone());
        Arc::new(bus)
    }
}

#[async_trait::async_trait]
impl Harness for Embedded {
    async fn bus(&mut self) -> Arc<dyn Bus> {
        self.open()
    }

    async fn restart(&mut self, old: Arc<dyn Bus>) -> Arc<dyn Bus> {
        drop(old);
        self.bus = None;
        self.store = None;
        self.open()
    }

    fn topic(&self, base: &str) -> String {
        base.to_string()
    }

    fn apply_retention(&self, _bus: &Arc<dyn Bus>) {
        self.bus.as_ref().unwrap().apply_retention().unwrap();
    }
}

/// The Pulsar harness, when a broker is configured and the feature is built.
pub fn pulsar() -> Option<Box<dyn Harness>> {
    #[cfg(feature = "pulsar")]
    {
        let url = std::env::var("LECTERN_TEST_PULSAR_URL").ok()?;
        return Some(Box::new(pulsar_harness::Pulsar::new(url)));
    }
    #[allow(unreachable_code)]
    None
}

#[cfg(feature = "pulsar")]
mod pulsar_harness {
    use super::*;

    pub struct Pulsar {
        url: String,
        run: String,
    }

    impl Pulsar {
        pub fn new(url: String) -> Self {
            let run =
                format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
            Pulsar { url, run }
        }
    }

    #[async_trait::async_trait]
    impl Harness for Pulsar {
        async fn bus(&mut self) -> Arc<dyn Bus> {
            Arc::new(lectern_bus::pulsar::PulsarBus::connect(&self.url, Default::default()).await.unwrap())
        }

        async fn restart(&mut self, old: Arc<dyn Bus>) -> Arc<dyn Bus> {
            drop(old);
            self.bus().await
        }

        fn topic(&self, base: &str) -> String {
            format!("{base}-{}", self.run)
        }

        fn apply_retention(&self, _bus: &Arc<dyn Bus>) {}
    }
}

pub async fn recv(c: &mut Box<dyn Consumer>) -> Delivery {
    tokio::time::timeout(std::time::Duration::from_secs(10), c.receive())
        .await
        .expect("no message within 10 s")
        .unwrap()
}

/// Receives nothing within `ms` milliseconds.
pub async fn quiet(c: &mut Box<dyn Consumer>, ms: u64) {
    if let Ok(d) = tokio::time::timeout(std::time::Duration::from_millis(ms), c.receive()).await {
        panic!(
            "expected no delivery, got offset {} ({:?})",
            d.as_ref().map(|d| d.offset).unwrap_or(0),
            d.map(|d| d.key)
        );
    }
}

pub fn text(d: &Delivery) -> String {
    String::from_utf8(d.payload.clone()).unwrap()
}

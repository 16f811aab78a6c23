//! Prometheus metrics: request counts and latency per route, storage flush
//! latency and batch size. Rendered in the text exposition format at `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The kernel's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    flush_seconds: Histogram,
    flush_batch: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lectern");
        let requests = Family::<RequestLabels, Counter>::default();
        // 50 µs … ~26 s
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.00005, 2.0, 20))
        });
        let flush_seconds = Histogram::new(exponential_buckets(0.00005, 2.0, 18));
        let flush_batch = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register("http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by method and route", latency.clone());
        registry.register(
            "storage_flush_duration_seconds",
            "Duration of each group-committed storage flush",
            flush_seconds.clone(),
        );
        registry.register(
            "storage_flush_batch_size",
            "Durable-write waiters released by each flush",
            flush_batch.clone(),
        );
        Metrics { registry, requests, latency, flush_seconds, flush_batch }
    }

    /// The observer to hand to storage so flushes are measured.
    pub fn flush_observer(self: &Arc<Self>) -> lectern_core::FlushObserver {
        let m = Arc::clone(self);
        Arc::new(move |d: Duration, n: usize| {
            m.flush_seconds.observe(d.as_secs_f64());
            m.flush_batch.observe(n as f64);
        })
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware recording every request under its route template (never the raw
/// path, so ids do not explode label cardinality).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    metrics
        .requests
        .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status: resp.status().as_u16() })
        .inc();
    metrics.latency.get_or_create(&RouteLabels { method, route }).observe(elapsed);
    resp
}

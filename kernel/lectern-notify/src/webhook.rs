//! Signed webhook deliveries: one `POST` per call, nothing followed, nothing retried.
//!
//! Each request carries `Content-Type: application/json`, `Lectern-Event`,
//! `Lectern-Delivery` (the caller's delivery id, the same on every attempt),
//! `Lectern-Timestamp` and `Lectern-Signature` ([`crate::signature_header`]).
//! Redirects are not followed (a 3xx is the answer) and proxies from the
//! environment are ignored, so the request goes where the guard looked.

use std::time::{Duration, Instant};

use lectern_http::{Client, ClientOptions, HttpError};

use crate::{NotifyError, signature_header};

/// At most this much of a receiver's answer is kept for the delivery log.
const EXCERPT_BYTES: usize = 512;

/// How the client behaves; fixed for its lifetime.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Limit on the whole exchange: resolving, connecting, sending and reading the answer.
    pub timeout: Duration,
    /// Lets deliveries reach loopback, private, link-local and other non-public addresses
    /// (tests, or a deployment that deliberately posts to its own network).
    pub allow_private_addresses: bool,
    pub user_agent: String,
}

/// Refuses, at registration, a webhook URL that the delivery guard would
/// never let through (see `lectern_http::guard::check_destination`): the
/// reason, or `Ok` for a public destination.
pub async fn check_destination(url: &url::Url) -> Result<(), String> {
    lectern_http::guard::check_destination(url).await.map_err(|e| match e {
        lectern_http::HttpError::Refused(why) => why,
        other => other.to_string(),
    })
}

/// One delivery attempt, everything passed in by the caller.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub url: &'a str,
    pub secret: &'a [u8],
    pub event: &'a str,
    pub delivery_id: &'a str,
    /// The JSON document to send, as bytes (it is signed exactly as given).
    pub body: &'a [u8],
    /// Unix seconds; signed, and sent as `Lectern-Timestamp`.
    pub timestamp: i64,
}

/// What happened to one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOutcome {
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub duration: Duration,
    /// Why no answer came (refusal, DNS, connection, timeout), when none did.
    pub error: Option<String>,
    /// The request was never sent: a malformed URL or header value, a scheme other than
    /// http/https, or a destination the SSRF guard forbids. Such a failure is permanent.
    pub refused: bool,
    /// The first 512 bytes of the answer's body, decoded lossily as UTF-8.
    pub response_excerpt: String,
}

impl WebhookOutcome {
    /// The receiver accepted the delivery (2xx).
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Another attempt may succeed: a network failure or timeout, 408, 429 or a 5xx.
    /// Refusals and other statuses (4xx, 3xx) are permanent.
    pub fn retryable(&self) -> bool {
        match self.status {
            Some(s) => s == 408 || s == 429 || (500..600).contains(&s),
            None => !self.refused,
        }
    }

    fn failed(started: Instant, error: String, refused: bool) -> WebhookOutcome {
        WebhookOutcome {
            status: None,
            duration: started.elapsed(),
            error: Some(error),
            refused,
            response_excerpt: String::new(),
        }
    }
}

/// Delivers webhooks; cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: Client,
}

impl WebhookClient {
    pub fn new(opts: WebhookOptions) -> Result<WebhookClient, NotifyError> {
        if opts.timeout.is_zero() {
            return Err(NotifyError::Config("webhook timeout is zero".into()));
        }
        let mut http = ClientOptions::new(opts.timeout);
        http.user_agent = opts.user_agent;
        // Tenant-chosen URLs: public destinations only, no redirects, no proxies
        // (so the request goes where the guard looked). A deployment may lift it.
        http.public_only = !opts.allow_private_addresses;
        let http = Client::new(http).map_err(|e| NotifyError::Config(format!("webhook HTTP client: {e}")))?;
        Ok(WebhookClient { http })
    }

    /// Sends one signed `POST` and reports what happened; never retries.
    pub async fn deliver(&self, req: &WebhookRequest<'_>) -> WebhookOutcome {
        let started = Instant::now();
        let timestamp = req.timestamp.to_string();
        let signature = signature_header(req.secret, req.timestamp, req.body);
        let headers = [
            ("content-type", "application/json"),
            ("lectern-event", req.event),
            ("lectern-delivery", req.delivery_id),
            ("lectern-timestamp", timestamp.as_str()),
            ("lectern-signature", signature.as_str()),
        ];
        match self.http.post(req.url, &headers, req.body.to_vec(), EXCERPT_BYTES).await {
            Ok(response) => WebhookOutcome {
                status: Some(response.status),
                duration: started.elapsed(),
                error: None,
                refused: false,
                response_excerpt: String::from_utf8_lossy(&response.body).into_owned(),
            },
            Err(e @ (HttpError::Refused(_) | HttpError::Config(_))) => {
                WebhookOutcome::failed(started, e.to_string(), true)
            }
            Err(e) => WebhookOutcome::failed(started, e.to_string(), false),
        }
    }
}

//! Signed webhook deliveries: one `POST` per call, nothing followed, nothing retried.
//!
//! Each request carries `Content-Type: application/json`, `Lectern-Event`,
//! `Lectern-Delivery` (the caller's delivery id, the same on every attempt),
//! `Lectern-Timestamp` and `Lectern-Signature` ([`crate::signature_header`]).
//! Redirects are not followed (a 3xx is the answer) and proxies from the
//! environment are ignored, so the request goes where the guard looked.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::redirect;

use crate::guard::{self, GuardedResolver};
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
    http: reqwest::Client,
    allow_private_addresses: bool,
}

impl WebhookClient {
    pub fn new(opts: WebhookOptions) -> Result<WebhookClient, NotifyError> {
        if opts.timeout.is_zero() {
            return Err(NotifyError::Config("webhook timeout is zero".into()));
        }
        let user_agent = HeaderValue::from_str(&opts.user_agent)
            .map_err(|_| NotifyError::Config(format!("user agent {:?} is not a header value", opts.user_agent)))?;
        let mut builder = reqwest::Client::builder()
            .timeout(opts.timeout)
            .redirect(redirect::Policy::none())
            .no_proxy()
            .user_agent(user_agent);
        if !opts.allow_private_addresses {
            builder = builder.dns_resolver(std::sync::Arc::new(GuardedResolver));
        }
        let http = builder.build().map_err(|e| NotifyError::Config(format!("webhook HTTP client: {e}")))?;
        Ok(WebhookClient { http, allow_private_addresses: opts.allow_private_addresses })
    }

    /// Sends one signed `POST` and reports what happened; never retries.
    pub async fn deliver(&self, req: &WebhookRequest<'_>) -> WebhookOutcome {
        let started = Instant::now();
        let (url, headers) = match self.prepare(req) {
            Ok(prepared) => prepared,
            Err(e) => return WebhookOutcome::failed(started, e.to_string(), true),
        };
        let sent = self.http.post(url).headers(headers).body(req.body.to_vec()).send().await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                return match refusal_in(&e) {
                    Some(refused) => WebhookOutcome::failed(started, refused.to_string(), true),
                    None => WebhookOutcome::failed(started, error_chain(&e), false),
                };
            }
        };
        let status = response.status().as_u16();
        // The status is the answer; a body that breaks off only shortens the excerpt.
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        WebhookOutcome {
            status: Some(status),
            duration: started.elapsed(),
            error: None,
            refused: false,
            response_excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
        }
    }

    fn prepare(&self, req: &WebhookRequest<'_>) -> Result<(url::Url, HeaderMap), NotifyError> {
        let url = url::Url::parse(req.url)
            .map_err(|e| NotifyError::Refused(format!("webhook URL {:?} is not a URL: {e}", req.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NotifyError::Refused(format!("scheme {:?} is not http or https", url.scheme())));
        }
        let host = url.host().ok_or_else(|| NotifyError::Refused(format!("webhook URL {:?} has no host", req.url)))?;
        if !self.allow_private_addresses {
            guard::check_literal(&host)?;
        }
        let value = |name: &str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| NotifyError::Refused(format!("{name} {v:?} is not a header value")))
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("lectern-event", value("event", req.event)?);
        headers.insert("lectern-delivery", value("delivery id", req.delivery_id)?);
        headers.insert("lectern-timestamp", HeaderValue::from(req.timestamp));
        headers
            .insert("lectern-signature", value("signature", &signature_header(req.secret, req.timestamp, req.body))?);
        Ok((url, headers))
    }
}

/// The guard's refusal, if that is what stopped the request (it travels inside reqwest's error).
fn refusal_in(e: &reqwest::Error) -> Option<&NotifyError> {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(refused @ NotifyError::Refused(_)) = err.downcast_ref::<NotifyError>() {
            return Some(refused);
        }
        source = err.source();
    }
    None
}

/// reqwest's message and its causes ("error sending request: ... connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { format!("timed out: {e}") } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

//! Outbound notifications for the Lectern kernel.
//!
//! The only crate that talks SMTP and the only one that sends webhooks to
//! addresses chosen by tenants (over `lectern-http`'s guarded client). It owns:
//!
//! - [`email`]: building a message (plain text, optionally with an HTML
//!   alternative, and a caller-chosen stable `Message-ID`) and handing it to
//!   one SMTP relay with `lettre`, in plain text, STARTTLS or implicit TLS
//!   (rustls with the webpki roots);
//! - [`webhook`]: one signed `POST` per delivery through a `public_only`
//!   `lectern_http::Client`: no redirects followed, and an SSRF guard that
//!   refuses private, loopback, link-local and other non-public
//!   destinations, checked on every resolved address and pinned for the
//!   connection so DNS rebinding cannot slip past it;
//! - [`signature`]: the `Lectern-Signature` header (HMAC-SHA256 over
//!   `"<timestamp>." ++ body`) and its constant-time verification, for
//!   receivers and for our own tests.
//!
//! What it never does: store anything, know the domain (callers pass the
//! recipient, text, secret, timestamp and ids in), read the clock for
//! anything but measuring a request's duration, or retry. A failure is
//! reported once, classified as permanent or transient
//! ([`NotifyError::is_permanent`], [`WebhookOutcome::retryable`]); the
//! kernel's event bus owns retries with backoff and dead-lettering.

pub mod email;
pub mod signature;
pub mod webhook;

pub use email::{Email, Mailer, SmtpConfig, TlsMode};
pub use signature::{signature_header, verify_signature};
pub use webhook::{WebhookClient, WebhookOptions, WebhookOutcome, WebhookRequest};

/// Errors from sending email, configuring a client, or verifying a webhook signature.
///
/// Webhook deliveries report their result as a [`WebhookOutcome`] instead, since a
/// receiver's answer (any status) is information the caller records, not an error.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The configuration (SMTP relay, sender, credentials, HTTP client options) cannot work.
    #[error("invalid notification configuration: {0}")]
    Config(String),
    /// A recipient address does not parse as an RFC 5322 mailbox.
    #[error("invalid email address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    /// The message itself cannot be sent as given (header injection, malformed Message-ID).
    #[error("invalid email message: {0}")]
    InvalidMessage(String),
    /// The SMTP server answered with a 5xx reply: sending the same message again will fail again.
    #[error("SMTP server rejected the message ({code}): {message}")]
    SmtpRejected { code: u16, message: String },
    /// The SMTP server answered with a 4xx reply: it asks us to try again later.
    #[error("SMTP server deferred the message ({code}): {message}")]
    SmtpDeferred { code: u16, message: String },
    /// Connecting to or talking with the SMTP server timed out.
    #[error("SMTP timed out: {0}")]
    Timeout(String),
    /// The SMTP connection failed (refused, reset, TLS handshake, unparsable reply).
    #[error("SMTP connection failed: {0}")]
    Connection(String),
    /// The webhook destination is forbidden: a scheme other than http/https, or an address the
    /// SSRF guard refuses.
    #[error("refused webhook destination: {0}")]
    Refused(String),
    /// A `Lectern-Signature` header that does not have the `t=<ts>,v1=<hex>` form.
    #[error("malformed webhook signature header: {0}")]
    MalformedSignature(String),
    /// No `v1` signature in the header matches the body under the secret.
    #[error("webhook signature does not match the body")]
    BadSignature,
    /// The signature's timestamp is further from `now` than the tolerance allows.
    #[error("webhook signature timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})")]
    StaleSignature { timestamp: i64, now: i64, tolerance_secs: i64 },
}

impl NotifyError {
    /// Whether trying the same thing again cannot succeed: a 5xx SMTP reply, a bad address,
    /// message or configuration, a refused destination, or a signature that does not verify.
    /// Connection failures, timeouts and 4xx SMTP replies are transient.
    pub fn is_permanent(&self) -> bool {
        match self {
            NotifyError::SmtpDeferred { .. } | NotifyError::Timeout(_) | NotifyError::Connection(_) => false,
            NotifyError::Config(_)
            | NotifyError::InvalidAddress { .. }
            | NotifyError::InvalidMessage(_)
            | NotifyError::SmtpRejected { .. }
            | NotifyError::Refused(_)
            | NotifyError::MalformedSignature(_)
            | NotifyError::BadSignature
            | NotifyError::StaleSignature { .. } => true,
        }
    }
}

//! Operations: what is running, the email check, signing keys.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;

/// The running server.
#[derive(Debug, Serialize, ToSchema)]
pub struct About {
    /// The release (`Cargo.toml`'s version).
    pub version: String,
    /// The git commit it was built from, when the build knew it.
    pub commit: Option<String>,
    /// `release` or `debug`.
    pub build_profile: String,
    pub started_at: String,
    pub uptime_secs: u64,
    /// `embedded` or `pulsar`.
    pub bus: String,
    /// Whether outgoing email is configured.
    pub email_configured: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailCheckRequest {
    /// Where to send the test message.
    pub to: String,
}

/// One test message through the configured relay, and what the relay said.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailCheck {
    pub configured: bool,
    /// `host:port`.
    pub relay: Option<String>,
    /// `none`, `starttls` or `tls`.
    pub tls: Option<String>,
    pub from: Option<String>,
    /// The relay accepted the message.
    pub sent: bool,
    pub error: Option<String>,
    /// Whether trying again can help.
    pub transient: Option<bool>,
    pub took_ms: u64,
}

impl From<lectern_core::notifications_check::EmailCheck> for EmailCheck {
    fn from(c: lectern_core::notifications_check::EmailCheck) -> Self {
        EmailCheck {
            configured: c.configured,
            relay: c.relay,
            tls: c.tls.map(str::to_owned),
            from: c.from,
            sent: c.sent,
            error: c.error,
            transient: c.transient,
            took_ms: c.took_ms,
        }
    }
}

/// One of the institution's token signing keys (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    pub kid: String,
    pub created_at: String,
    /// Set once a rotation replaced it: it verifies tokens until then.
    pub retire_at: Option<String>,
    /// `active` (signs new tokens), `retiring` (verifies until `retire_at`) or `retired`.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeys {
    /// Newest first.
    pub items: Vec<SigningKey>,
}

impl SigningKey {
    pub fn from_info(k: lectern_core::SigningKeyInfo, now: i64) -> Self {
        let state = match k.retire_at {
            None => "active",
            Some(t) if t > now => "retiring",
            Some(_) => "retired",
        };
        SigningKey {
            kid: k.kid,
            created_at: rfc3339(k.created_at),
            retire_at: k.retire_at.map(rfc3339),
            state: state.into(),
        }
    }
}

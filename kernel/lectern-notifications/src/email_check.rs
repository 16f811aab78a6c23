//! The operators' email check: one test message through the configured relay,
//! sent now (not through the bus), with the relay's answer.

use std::time::Instant;

use lectern_notify::{Email, Mailer, TlsMode};

use crate::authz::{Capability, Context, authorize};
use crate::{CoreError, Notifications, Principal};

/// The longest the whole check may take.
const CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the check found.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailCheck {
    /// Whether `email` is configured at all (without it no email is ever sent).
    pub configured: bool,
    /// `host:port` of the relay.
    pub relay: Option<String>,
    pub tls: Option<&'static str>,
    pub from: Option<String>,
    /// The relay accepted the message.
    pub sent: bool,
    /// Why not, as the relay or the connection said.
    pub error: Option<String>,
    /// Whether trying again can help (`false` for a refused address or a bad configuration).
    pub transient: Option<bool>,
    pub took_ms: u64,
}

impl Notifications {
    /// Sends one test message to `to` through the configured relay (platform administrators).
    pub async fn check_email(&self, p: &Principal, to: &str) -> Result<EmailCheck, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let to = to.trim();
        if to.is_empty() || to.len() > 320 {
            return Err(CoreError::invalid("to", "an email address"));
        }
        let Some(cfg) = &self.inner.config.email else {
            return Ok(EmailCheck {
                configured: false,
                relay: None,
                tls: None,
                from: None,
                sent: false,
                error: Some("no `email` section in the configuration: Lectern sends no email".into()),
                transient: None,
                took_ms: 0,
            });
        };
        let tls = match cfg.tls {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        };
        let started = Instant::now();
        let host = url::Url::parse(&self.identity().config().issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "lectern.invalid".into());
        let email = Email {
            to: to.to_owned(),
            subject: "Lectern email check".into(),
            text: format!(
                "This message was sent by an administrator's email check on {}.\nIf it arrived, Lectern's outgoing email works.\n",
                self.identity().config().issuer
            ),
            html: None,
            message_id: format!("check-{}@{host}", uuid::Uuid::now_v7()),
        };
        // The whole check ends within CHECK_LIMIT, well inside the request's deadline: a relay that
        // accepts and never answers is reported as such, not as the request timing out (the SMTP
        // client's own timeout does not cover every wait of the dialogue).
        let mut quick = cfg.clone();
        quick.timeout = cfg.timeout.min(CHECK_LIMIT);
        let sent: Result<(), (String, bool)> = match Mailer::new(&quick) {
            Err(e) => Err((e.to_string(), e.is_permanent())),
            Ok(m) => match tokio::time::timeout(CHECK_LIMIT, m.send(&email)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err((e.to_string(), e.is_permanent())),
                Err(_) => Err((
                    format!("the relay did not finish the SMTP dialogue within {} s", CHECK_LIMIT.as_secs()),
                    false,
                )),
            },
        };
        tracing::info!(relay = %format!("{}:{}", cfg.host, cfg.port), ok = sent.is_ok(), "email check");
        Ok(EmailCheck {
            configured: true,
            relay: Some(format!("{}:{}", cfg.host, cfg.port)),
            tls: Some(tls),
            from: Some(cfg.from.clone()),
            sent: sent.is_ok(),
            transient: sent.as_ref().err().map(|(_, permanent)| !permanent),
            error: sent.err().map(|(e, _)| e),
            took_ms: started.elapsed().as_millis() as u64,
        })
    }
}

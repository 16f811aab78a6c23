//! Email over SMTP: one relay, one connection per message.
//!
//! A [`Mailer`] is built once from an [`SmtpConfig`] (checked then, without
//! connecting) and sends each [`Email`] over a fresh connection: nothing is
//! kept open between messages, so a relay restart never surfaces as a stale
//! pooled connection. The `Message-ID` comes from the caller and is stable per
//! notification, so a message sent again after a timeout is recognisably the
//! same one to the recipient's mail system.

use std::fmt;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{self, authentication::Credentials};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::NotifyError;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain text (a relay on the same host or a trusted network). Credentials are refused.
    None,
    /// Plain connection upgraded with STARTTLS, which the relay must offer (usually port 587).
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Where and as whom mail is sent.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender mailbox, e.g. `Lectern <no-reply@example.org>`; its domain is also the EHLO name.
    pub from: String,
    /// Limit on connecting and on each reply of the SMTP dialogue.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient mailbox: `someone@example.org` or `Some One <someone@example.org>`.
    pub to: String,
    pub subject: String,
    /// The plain-text body (always sent).
    pub text: String,
    /// An HTML alternative; with it the message is `multipart/alternative`.
    pub html: Option<String>,
    /// `id@domain`, with or without the angle brackets; stable per notification.
    pub message_id: String,
}

/// Sends [`Email`]s through one SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the configuration and prepares the transport; does not connect.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, NotifyError> {
        if cfg.host.trim().is_empty() {
            return Err(NotifyError::Config("SMTP host is empty".into()));
        }
        if cfg.port == 0 {
            return Err(NotifyError::Config("SMTP port is 0".into()));
        }
        if cfg.timeout.is_zero() {
            return Err(NotifyError::Config("SMTP timeout is zero".into()));
        }
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| NotifyError::Config(format!("sender address {:?} is not a mailbox: {e}", cfg.from)))?;
        let credentials = match (&cfg.username, &cfg.password) {
            (None, None) => None,
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.clone())),
            _ => return Err(NotifyError::Config("SMTP username and password must be given together".into())),
        };
        if credentials.is_some() && cfg.tls == TlsMode::None {
            return Err(NotifyError::Config(
                "SMTP credentials would be sent in the clear: use tls = \"starttls\" or \"tls\"".into(),
            ));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
            .port(cfg.port)
            .timeout(Some(cfg.timeout))
            .hello_name(ClientId::Domain(from.email.domain().to_owned()));
        if cfg.tls != TlsMode::None {
            let params = TlsParameters::new(cfg.host.clone())
                .map_err(|e| NotifyError::Config(format!("TLS for SMTP host {:?}: {e}", cfg.host)))?;
            builder = builder.tls(match cfg.tls {
                TlsMode::StartTls => Tls::Required(params),
                _ => Tls::Wrapper(params),
            });
        }
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        Ok(Mailer { transport: builder.build(), from })
    }

    /// Builds the message and hands it to the relay. No retries: the error says whether a
    /// later attempt can succeed ([`NotifyError::is_permanent`]).
    pub async fn send(&self, email: &Email) -> Result<(), NotifyError> {
        let message = self.build(email)?;
        self.transport.send(message).await.map(drop).map_err(classify)
    }

    fn build(&self, email: &Email) -> Result<Message, NotifyError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| NotifyError::InvalidAddress { address: email.to.clone(), reason: format!("{e}") })?;
        if email.subject.chars().any(char::is_control) {
            return Err(NotifyError::InvalidMessage("the subject contains a control character".into()));
        }
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str())
            .message_id(Some(message_id(&email.message_id)?));
        let built = match &email.html {
            None => builder.header(ContentType::TEXT_PLAIN).body(email.text.clone()),
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(email.text.clone(), html.clone())),
        };
        built.map_err(|e| NotifyError::InvalidMessage(e.to_string()))
    }
}

/// `<left@right>` from a caller's id, refusing anything that could break the header.
fn message_id(id: &str) -> Result<String, NotifyError> {
    let bare = id.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(id);
    let valid = bare.split_once('@').is_some_and(|(left, right)| !left.is_empty() && !right.is_empty())
        && bare.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
    if !valid {
        return Err(NotifyError::InvalidMessage(format!("Message-ID {id:?} is not of the form id@domain")));
    }
    Ok(format!("<{bare}>"))
}

fn classify(e: smtp::Error) -> NotifyError {
    // The server's own text when it answered; lettre's description otherwise.
    let message = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_else(|| e.to_string());
    match e.status().map(u16::from) {
        Some(code) if e.is_permanent() => NotifyError::SmtpRejected { code, message },
        Some(code) => NotifyError::SmtpDeferred { code, message },
        None if e.is_timeout() => NotifyError::Timeout(e.to_string()),
        None => NotifyError::Connection(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SmtpConfig {
        SmtpConfig {
            host: "localhost".into(),
            port: 2525,
            tls: TlsMode::None,
            username: None,
            password: None,
            from: "Lectern <no-reply@example.org>".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn message_ids_are_bracketed_and_checked() {
        assert_eq!(message_id("n-1@lectern.example").unwrap(), "<n-1@lectern.example>");
        assert_eq!(message_id("<n-1@lectern.example>").unwrap(), "<n-1@lectern.example>");
        for bad in ["", "no-at-sign", "@x", "x@", "a b@c", "a@b\r\nBcc: x@y", "<a@b", "a<b@c"] {
            assert!(matches!(message_id(bad), Err(NotifyError::InvalidMessage(_))), "{bad:?}");
        }
    }

    #[test]
    fn configuration_is_checked_up_front() {
        assert!(Mailer::new(&config()).is_ok());
        let cases: [fn(&mut SmtpConfig); 6] = [
            |c| c.host = " ".into(),
            |c| c.port = 0,
            |c| c.timeout = Duration::ZERO,
            |c| c.from = "not a mailbox".into(),
            |c| c.username = Some("u".into()),
            |c| {
                c.username = Some("u".into());
                c.password = Some("p".into());
            },
        ];
        for (i, change) in cases.iter().enumerate() {
            let mut cfg = config();
            change(&mut cfg);
            let err = Mailer::new(&cfg).unwrap_err();
            assert!(matches!(err, NotifyError::Config(_)) && err.is_permanent(), "case {i}: {err}");
        }
        let mut cfg = config();
        (cfg.username, cfg.password, cfg.tls) = (Some("u".into()), Some("p".into()), TlsMode::StartTls);
        assert!(Mailer::new(&cfg).is_ok());
        cfg.tls = TlsMode::Tls;
        assert!(Mailer::new(&cfg).is_ok());
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let mut cfg = config();
        cfg.password = Some("hunter2".into());
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn tls_mode_names() {
        let names: Vec<String> = [TlsMode::None, TlsMode::StartTls, TlsMode::Tls]
            .iter()
            .map(|m| serde_json::to_string(m).unwrap())
            .collect();
        assert_eq!(names, ["\"none\"", "\"starttls\"", "\"tls\""]);
    }

    #[test]
    fn bad_recipients_and_subjects_are_specific_permanent_errors() {
        let mailer = Mailer::new(&config()).unwrap();
        let mut email = Email {
            to: "student@example.org".into(),
            subject: "Hello".into(),
            text: "Hi".into(),
            html: None,
            message_id: "a@b".into(),
        };
        assert!(mailer.build(&email).is_ok());
        email.to = "not an address".into();
        let err = mailer.build(&email).unwrap_err();
        assert!(matches!(err, NotifyError::InvalidAddress { ref address, .. } if address == "not an address"));
        assert!(err.is_permanent());
        email.to = "student@example.org".into();
        email.subject = "Hello\r\nBcc: everyone@example.org".into();
        assert!(matches!(mailer.build(&email), Err(NotifyError::InvalidMessage(_))));
    }
}

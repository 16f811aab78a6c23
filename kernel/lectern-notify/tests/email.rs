//! Email against a real SMTP server: `tests/smtp_sink.py` (aiosmtpd) in a child process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lectern_notify::{Email, Mailer, NotifyError, SmtpConfig, TlsMode};

/// The SMTP server child; killed and reaped on drop, whatever the test did.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let import = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        match import {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "the email tests need Python's aiosmtpd; run `cargo xtask setup` to install it ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("the email tests need python3 with aiosmtpd; run `cargo xtask setup` ({e})"),
        }
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path().join("mail"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // The guard owns the child from here on, so a failure below still kills it.
        let stdout = child.stdout.take().unwrap();
        let mut sink = SmtpSink { child, port: 0, dir };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the SMTP sink did not start within 20 s");
        sink.port = line.trim().parse().unwrap_or_else(|_| panic!("the SMTP sink printed {line:?}, not a port"));
        // It prints the port once it listens; check that it accepts all the same.
        std::net::TcpStream::connect(("127.0.0.1", sink.port)).expect("the SMTP sink does not accept connections");
        sink
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: TlsMode::None,
            username: None,
            password: None,
            from: "Lectern <no-reply@lectern.example>".into(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The stored message number `n` (from 1) and its envelope.
    fn message(&self, n: usize) -> (String, serde_json::Value) {
        let stem: PathBuf = self.dir.path().join("mail").join(n.to_string());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stem.with_extension("eml").exists() {
            assert!(Instant::now() < deadline, "message {n} was not stored");
            std::thread::sleep(Duration::from_millis(20));
        }
        let raw = std::fs::read_to_string(stem.with_extension("eml")).unwrap();
        let envelope = serde_json::from_str(&std::fs::read_to_string(stem.with_extension("json")).unwrap()).unwrap();
        (raw, envelope)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn email(to: &str) -> Email {
    Email {
        to: to.into(),
        subject: "Grade published: Essay 1".into(),
        text: "Your essay was graded: 17/20.\r\nSee the course page for comments.".into(),
        html: None,
        message_id: "grade-42.7@lectern.example".into(),
    }
}

/// The value of header `name` in a raw message (first occurrence, unfolded lines only).
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next()?;
    head.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
}

#[tokio::test]
async fn a_message_arrives_with_its_headers_and_body() {
    let sink = SmtpSink::start();
    let mailer = Mailer::new(&sink.config()).unwrap();
    mailer.send(&email("Ada Student <ada@students.example>")).await.unwrap();

    let (raw, envelope) = sink.message(1);
    assert_eq!(header(&raw, "To"), Some("\"Ada Student\" <ada@students.example>"), "{raw}");
    assert_eq!(header(&raw, "From"), Some("Lectern <no-reply@lectern.example>"), "{raw}");
    assert_eq!(header(&raw, "Subject"), Some("Grade published: Essay 1"), "{raw}");
    assert_eq!(header(&raw, "Message-ID"), Some("<grade-42.7@lectern.example>"), "{raw}");
    assert!(header(&raw, "Date").is_some(), "{raw}");
    assert!(header(&raw, "Content-Type").is_some_and(|v| v.starts_with("text/plain")), "{raw}");
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    assert!(body.contains("Your essay was graded: 17/20.\r\nSee the course page for comments."), "{body}");
    assert_eq!(envelope["mail_from"], "no-reply@lectern.example");
    assert_eq!(envelope["rcpt_tos"], serde_json::json!(["ada@students.example"]));
    assert_eq!(envelope["ehlo"], "lectern.example");

    // With an HTML alternative: multipart/alternative with both parts.
    let mut with_html = email("ada@students.example");
    with_html.message_id = "<grade-42.8@lectern.example>".into();
    with_html.html = Some("<p>Your essay was graded: <b>17/20</b>.</p>".into());
    mailer.send(&with_html).await.unwrap();
    let (raw, _) = sink.message(2);
    assert_eq!(header(&raw, "Message-ID"), Some("<grade-42.8@lectern.example>"), "{raw}");
    assert!(header(&raw, "Content-Type").is_some_and(|v| v.starts_with("multipart/alternative")), "{raw}");
    assert!(raw.contains("Content-Type: text/plain") && raw.contains("Content-Type: text/html"), "{raw}");
    assert!(raw.contains("<p>Your essay was graded: <b>17/20</b>.</p>"), "{raw}");
}

#[tokio::test]
async fn replies_5xx_are_permanent_and_4xx_transient() {
    let sink = SmtpSink::start();
    let mailer = Mailer::new(&sink.config()).unwrap();

    let err = mailer.send(&email("reject-me@students.example")).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpRejected { code: 550, ref message } if message.contains("No such mailbox")));
    assert!(err.is_permanent(), "{err}");

    let err = mailer.send(&email("defer-me@students.example")).await.unwrap_err();
    assert!(matches!(err, NotifyError::SmtpDeferred { code: 451, .. }), "{err}");
    assert!(!err.is_permanent(), "{err}");

    // Neither reached the mailbox; the next good message is the first one stored.
    mailer.send(&email("ada@students.example")).await.unwrap();
    let (_, envelope) = sink.message(1);
    assert_eq!(envelope["rcpt_tos"], serde_json::json!(["ada@students.example"]));
}

#[tokio::test]
async fn an_invalid_recipient_is_a_specific_permanent_error() {
    let sink = SmtpSink::start();
    let mailer = Mailer::new(&sink.config()).unwrap();
    for bad in ["not an address", "ada@", "ada@students.example, eve@evil.example", ""] {
        let err = mailer.send(&email(bad)).await.unwrap_err();
        assert!(matches!(err, NotifyError::InvalidAddress { ref address, .. } if address == bad), "{bad:?}: {err}");
        assert!(err.is_permanent());
    }
    let mut bad_id = email("ada@students.example");
    bad_id.message_id = "no id".into();
    assert!(matches!(mailer.send(&bad_id).await, Err(NotifyError::InvalidMessage(_))));
}

#[tokio::test]
async fn a_closed_port_is_a_transient_error() {
    // A port that was just free: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::None,
        username: None,
        password: None,
        from: "no-reply@lectern.example".into(),
        timeout: Duration::from_secs(5),
    };
    let err = Mailer::new(&cfg).unwrap().send(&email("ada@students.example")).await.unwrap_err();
    assert!(matches!(err, NotifyError::Connection(_)), "{err:?}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn tls_modes_never_fall_back_to_plain_text() {
    // The sink speaks plain SMTP only and offers no STARTTLS: both TLS modes must fail
    // without handing it the message.
    let sink = SmtpSink::start();
    for tls in [TlsMode::StartTls, TlsMode::Tls] {
        let cfg = SmtpConfig { tls, ..sink.config() };
        let err = Mailer::new(&cfg).unwrap().send(&email("ada@students.example")).await.unwrap_err();
        assert!(matches!(err, NotifyError::Connection(_)) && !err.is_permanent(), "{tls:?}: {err:?}");
    }
    assert!(!sink.dir.path().join("mail/1.eml").exists(), "a message was sent in the clear");
}

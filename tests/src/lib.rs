//! Harness for end-to-end tests and the load generator: the real kernel,
//! real sled on disk, real HTTP over a loopback socket.

pub mod report;
pub mod tutor_pages;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lectern_api::{ApiConfig, AppState, Metrics};
use lectern_core::{Clock, Kernel, KernelConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running kernel on an ephemeral loopback port.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub clock: Clock,
    pub kernel: Kernel,
    pub data_dir: PathBuf,
    pub bootstrap_token: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    stop_background: tokio::sync::watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Knobs a test may turn before the server starts.
pub struct Options {
    pub kernel: Box<dyn FnOnce(&mut KernelConfig) + Send>,
    pub api: ApiConfig,
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options { kernel: Box::new(|_| {}), api: ApiConfig::default(), clock: Clock::system() }
    }
}

impl TestServer {
    pub async fn start(data_dir: &Path, options: Options) -> anyhow::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mut config = KernelConfig::new(data_dir, base.clone());
        // Many test servers share one process: keep each plugin pool small.
        config.plugins.max_concurrent_instances = 32;
        (options.kernel)(&mut config);
        let metrics = Arc::new(Metrics::new());
        let opened = Kernel::open(config, options.clock.clone(), Some(metrics.flush_observer()))?;
        let state = AppState::new(opened.kernel.clone(), metrics, options.api);
        let (stop_background, stopped) = tokio::sync::watch::channel(false);
        let background = opened.kernel.start_background(stopped).await?.tasks;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(lectern_api::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Ok(TestServer {
            base,
            addr,
            clock: options.clock,
            kernel: opened.kernel,
            data_dir: data_dir.to_path_buf(),
            bootstrap_token: opened.bootstrap_token,
            shutdown: Some(tx),
            task: Some(task),
            stop_background,
            background,
        })
    }

    /// Graceful shutdown; returns once the server has stopped and released the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        let _ = self.stop_background.send(true);
        for t in self.background.drain(..) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
        // Connection tasks, worker handlers and blocking tasks may still be
        // dropping their handles (on the kernel or on one of its contexts);
        // the database is released only when the last one goes.
        let database = self.kernel.database();
        drop(self.kernel);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !database.is_released() {
            anyhow::ensure!(std::time::Instant::now() < deadline, "database handles still alive 10 s after shutdown");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        Ok(())
    }

    pub fn client(&self) -> Api {
        Api::new(&self.base)
    }

    /// Stops the background work (the outbox relay, event workers, timers)
    /// while the API keeps serving: holds the system between a change and its
    /// asynchronous effects, whatever the machine's load.
    pub async fn pause_background(&mut self) {
        let _ = self.stop_background.send(true);
        for t in self.background.drain(..) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }

    /// Starts the background work again after [`TestServer::pause_background`];
    /// it picks up what was left undelivered.
    pub async fn resume_background(&mut self) -> anyhow::Result<()> {
        let (stop_background, stopped) = tokio::sync::watch::channel(false);
        self.background = self.kernel.start_background(stopped).await?.tasks;
        self.stop_background = stop_background;
        Ok(())
    }
}

/// A small JSON client with an optional bearer token and a cookie jar.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

/// A response: status, headers and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts this is a problem document of `type` `/problems/<slug>`.
    pub fn assert_problem(&self, status: u16, slug: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{:?}", self.body);
        assert_eq!(self.body["type"], format!("/problems/{slug}"), "{}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self
    }

    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.body);
        &self.body
    }
}

impl Api {
    pub fn new(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Api { base: base.to_owned(), http, token: None }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api { token: Some(token.to_owned()), ..self.clone() }
    }

    /// A client without a token or cookies.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.base)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::finish(req).await
    }

    pub async fn finish(req: reqwest::RequestBuilder) -> Reply {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(Method::POST, path, None).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// A request as the web application sends it: the session cookie (no
    /// bearer token) and, when `csrf`, the `Lectern-CSRF` header.
    pub async fn cookie_send(&self, method: Method, path: &str, body: Option<Value>, csrf: bool) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if csrf {
            req = req.header("lectern-csrf", "1");
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::finish(req).await
    }

    /// Form POST (OAuth endpoints).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        Self::finish(self.http.post(format!("{}{path}", self.base)).form(fields)).await
    }

    /// `POST /oauth/token` with the client-credentials grant, the client
    /// authenticated by HTTP Basic.
    pub async fn client_credentials(&self, client_id: &str, secret: &str) -> Reply {
        let req = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        Self::finish(req).await
    }

    /// Logs in; on success the cookie jar holds the session and the returned
    /// client also carries the access token.
    pub async fn login(&self, institution: &str, email: &str, password: &str) -> (Api, Reply) {
        let r = self
            .post(
                "/api/v1/auth/login",
                serde_json::json!({ "institution": institution, "email": email, "password": password }),
            )
            .await;
        let token = r.body["access_token"].as_str().map(String::from);
        let mut api = self.clone();
        api.token = token;
        (api, r)
    }
}

/// A strong password for test accounts (the policy refuses common ones).
pub const PASSWORD: &str = "correct horse battery staple";

/// Bootstraps the platform admin and returns a client logged in as them.
pub async fn bootstrap_admin(server: &TestServer) -> Api {
    let api = server.client();
    let token = server.bootstrap_token.clone().unwrap_or_default();
    api.post(
        "/api/v1/bootstrap",
        serde_json::json!({ "token": token, "email": "root@platform.test", "name": "Root", "password": PASSWORD }),
    )
    .await
    .ok();
    let (admin, r) = api.login("platform", "root@platform.test", PASSWORD).await;
    r.ok();
    admin
}

/// Paths of the guest fixture components, built from `tests/fixtures` by `build.rs`.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

//! Outbound HTTP: the one crate that makes HTTP requests to other servers
//! (reqwest). Its callers are the webhook sender (`lectern-notify`), the
//! embedding and chat model clients (`lectern-embed`) and the marketplace
//! fetcher (`lectern-plugin-admin`); each asks for a client with the policy
//! it needs, and the policy lives here:
//!
//! - **Bounded**: every client has a timeout; every read has a size limit
//!   ([`BlockingClient::get`] refuses a larger body; [`Client::post`] keeps
//!   an excerpt of the answer and stops reading).
//! - **SSRF guard** ([`ClientOptions::public_only`]): tenant-chosen URLs may
//!   reach public unicast addresses only, checked for IP literals before the
//!   request and for names at resolution, so DNS rebinding cannot get past
//!   it (see [`guard`]).
//! - **Errors say what happened** ([`HttpError`]): refused before sending,
//!   timed out, unreachable (with the transport's chain of causes), too large.
//!
//! Key types: [`ClientOptions`], [`Client`] (async), [`BlockingClient`]
//! (for callers on blocking threads), [`Response`], [`HttpError`].

pub mod guard;

use std::io::Read;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// How a client behaves.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Bounds a whole request, connection to last byte.
    pub timeout: Duration,
    /// Bounds connecting alone (defaults to `timeout`).
    pub connect_timeout: Option<Duration>,
    pub user_agent: String,
    /// Only public unicast destinations (tenant-chosen URLs).
    pub public_only: bool,
}

impl ClientOptions {
    pub fn new(timeout: Duration) -> ClientOptions {
        ClientOptions {
            timeout,
            connect_timeout: None,
            user_agent: concat!("Lectern/", env!("CARGO_PKG_VERSION")).into(),
            public_only: false,
        }
    }
}

/// Why a request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The client cannot be built as configured.
    #[error("invalid HTTP client configuration: {0}")]
    Config(String),
    /// Refused before anything was sent: not an http(s) URL, a forbidden
    /// destination, a header value that would break the request.
    #[error("{0}")]
    Refused(String),
    #[error("{url}: timed out after {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// Could not connect, or the connection broke; `detail` is the transport's
    /// message with its causes ("error sending request: … connection refused").
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
}

/// An answer: its status and (up to the limit asked for) its body.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn check_url(url: &str, public_only: bool) -> Result<url::Url, HttpError> {
    let parsed = url::Url::parse(url).map_err(|e| HttpError::Refused(format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(HttpError::Refused(format!("scheme {:?} is not http or https", parsed.scheme())));
    }
    let host = parsed.host().ok_or_else(|| HttpError::Refused(format!("{url:?} has no host")))?;
    if public_only {
        guard::check_literal(&host)?;
    }
    Ok(parsed)
}

fn headers(list: &[(&str, &str)]) -> Result<HeaderMap, HttpError> {
    let mut map = HeaderMap::new();
    for (name, value) in list {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpError::Refused(format!("{name:?} is not a header name")))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| HttpError::Refused(format!("{name} {value:?} is not a header value")))?;
        map.insert(n, v);
    }
    Ok(map)
}

/// What went wrong with a sent request, as an [`HttpError`]: the guard's
/// refusal when that is what stopped it (it travels inside reqwest's error).
fn classify(e: &reqwest::Error, url: &str, timeout: Duration) -> HttpError {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(HttpError::Refused(why)) = err.downcast_ref::<HttpError>() {
            return HttpError::Refused(why.clone());
        }
        source = err.source();
    }
    if e.is_timeout() {
        return HttpError::Timeout { url: url.into(), timeout };
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        detail.push_str(": ");
        detail.push_str(&err.to_string());
        source = err.source();
    }
    HttpError::Unreachable { url: url.into(), detail }
}

fn user_agent(opts: &ClientOptions) -> Result<HeaderValue, HttpError> {
    HeaderValue::from_str(&opts.user_agent)
        .map_err(|_| HttpError::Config(format!("user agent {:?} is not a header value", opts.user_agent)))
}

/// An async client for one-shot requests (webhooks): redirects are not
/// followed and proxies are not used. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    opts: ClientOptions,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client, HttpError> {
        if opts.timeout.is_zero() {
            return Err(HttpError::Config("the timeout is zero".into()));
        }
        // A 3xx is the answer and proxies from the environment are ignored,
        // so a request goes where it was sent (and where the guard looked).
        let mut builder = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout.unwrap_or(opts.timeout))
            .user_agent(user_agent(&opts)?)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if opts.public_only {
            builder = builder.dns_resolver(std::sync::Arc::new(guard::GuardedResolver));
        }
        let http = builder.build().map_err(|e| HttpError::Config(format!("HTTP client: {e}")))?;
        Ok(Client { http, opts })
    }

    /// One `POST`; never retried. The answer's body is read up to `keep`
    /// bytes (an excerpt: a body that breaks off only shortens it).
    pub async fn post(
        &self,
        url: &str,
        header_list: &[(&str, &str)],
        body: Vec<u8>,
        keep: usize,
    ) -> Result<Response, HttpError> {
        let parsed = check_url(url, self.opts.public_only)?;
        let map = headers(header_list)?;
        let mut response = self
            .http
            .post(parsed)
            .headers(map)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(&e, url, self.opts.timeout))?;
        let status = response.status().as_u16();
        let mut excerpt = Vec::new();
        while excerpt.len() < keep {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(keep);
        Ok(Response { status, body: excerpt })
    }
}

/// A client for blocking threads (the marketplace fetcher, the model
/// clients, which run off the async workers).
#[derive(Clone, Debug)]
pub struct BlockingClient {
    http: reqwest::blocking::Client,
    opts: ClientOptions,
}

impl BlockingClient {
    pub fn new(opts: ClientOptions) -> Result<BlockingClient, HttpError> {
        if opts.public_only {
            // The guard's resolver is async; no blocking caller takes tenant-chosen URLs.
            return Err(HttpError::Config("the blocking client does not take tenant-chosen URLs".into()));
        }
        if opts.timeout.is_zero() {
            return Err(HttpError::Config("the timeout is zero".into()));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout.unwrap_or(opts.timeout))
            .user_agent(user_agent(&opts)?)
            .build()
            .map_err(|e| HttpError::Config(format!("HTTP client: {e}")))?;
        Ok(BlockingClient { http, opts })
    }

    /// `GET url`; an answer over `max_len` bytes is [`HttpError::TooLarge`].
    pub fn get(&self, url: &str, max_len: u64) -> Result<Response, HttpError> {
        let parsed = check_url(url, false)?;
        let resp = self.http.get(parsed).send().map_err(|e| classify(&e, url, self.opts.timeout))?;
        self.read(url, resp, max_len)
    }

    /// `POST url` with a JSON body (and a bearer token when given); an answer
    /// over `max_len` bytes is [`HttpError::TooLarge`].
    pub fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &T,
        max_len: u64,
    ) -> Result<Response, HttpError> {
        let parsed = check_url(url, false)?;
        let mut req = self.http.post(parsed).json(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().map_err(|e| classify(&e, url, self.opts.timeout))?;
        self.read(url, resp, max_len)
    }

    /// `GET url` with a bearer token, the body copied to `out` as it
    /// arrives (no size limit: a backup). A non-2xx answer's body (a problem
    /// document) comes back in the `Response` instead, up to 64 KiB; a 2xx
    /// one comes back with an empty body and the bytes copied.
    pub fn download(
        &self,
        url: &str,
        bearer: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(Response, u64), HttpError> {
        let parsed = check_url(url, false)?;
        let mut resp =
            self.http.get(parsed).bearer_auth(bearer).send().map_err(|e| classify(&e, url, self.opts.timeout))?;
        if !resp.status().is_success() {
            return Ok((self.read(url, resp, 64 * 1024)?, 0));
        }
        let status = resp.status().as_u16();
        let n = std::io::copy(&mut resp, out)
            .map_err(|e| HttpError::Unreachable { url: url.into(), detail: format!("reading the answer: {e}") })?;
        Ok((Response { status, body: Vec::new() }, n))
    }

    fn read(&self, url: &str, resp: reqwest::blocking::Response, max_len: u64) -> Result<Response, HttpError> {
        let status = resp.status().as_u16();
        if resp.content_length().is_some_and(|n| n > max_len) {
            return Err(HttpError::TooLarge { url: url.into(), limit: max_len });
        }
        let mut body = Vec::new();
        resp.take(max_len + 1)
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Unreachable { url: url.into(), detail: format!("reading the answer: {e}") })?;
        if body.len() as u64 > max_len {
            return Err(HttpError::TooLarge { url: url.into(), limit: max_len });
        }
        Ok(Response { status, body })
    }
}

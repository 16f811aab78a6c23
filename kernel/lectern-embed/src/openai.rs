//! A server speaking OpenAI's embeddings protocol: OpenAI itself, llama.cpp's
//! `llama-server --embeddings`, vLLM, Ollama, LiteLLM…
//!
//! `POST {base_url}/v1/embeddings` with `{"model": …, "input": [texts]}`,
//! answered by `{"data": [{"index": i, "embedding": [floats]}, …]}`. Vectors
//! are put back in input order by `index`, checked for length and
//! finiteness, and normalised again (not every server normalises).
//! HTTP 5xx, 408, 429, timeouts and refused connections are
//! [`EmbedError::Unavailable`] (worth retrying); other answers that are not a
//! well-formed success are [`EmbedError::Model`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::util::{check_batch, normalize, with_empties};
use crate::{EmbedError, Embedder};

/// Texts per request unless told otherwise (OpenAI takes up to 2,048; small servers prefer fewer).
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// How much of an error body an error message quotes.
const SNIPPET_CHARS: usize = 300;

/// A client of one model on one OpenAI-compatible server.
#[derive(Debug)]
pub struct OpenAiCompatible {
    client: lectern_http::BlockingClient,
    endpoint: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
    dimension: usize,
    batch_size: usize,
    model_id: String,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [&'a str],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiCompatible {
    /// A client that learns the dimension from one probe request now
    /// (so the server must be up; [`EmbedError::Unavailable`] otherwise).
    /// `base_url` is the part before `/v1/embeddings`; `timeout` bounds each request.
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<OpenAiCompatible, EmbedError> {
        let mut this = OpenAiCompatible::with_dimension(base_url, model, api_key, timeout, 0)?;
        let probe = this.request(&["dimension probe"])?;
        let dimension = probe.first().map(Vec::len).unwrap_or(0);
        if dimension == 0 {
            return Err(EmbedError::Model(format!("{} returned an empty vector for the probe", this.endpoint)));
        }
        this.dimension = dimension;
        this.model_id = model_id(model, dimension);
        Ok(this)
    }

    /// A client of a model whose dimension is known; makes no request now.
    /// Every answer must then have exactly `dimension` values.
    pub fn with_dimension(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        timeout: Duration,
        dimension: usize,
    ) -> Result<OpenAiCompatible, EmbedError> {
        let mut options = lectern_http::ClientOptions::new(timeout);
        options.connect_timeout = Some(timeout.min(Duration::from_secs(10)));
        let client = lectern_http::BlockingClient::new(options)
            .map_err(|e| EmbedError::Unavailable(format!("cannot build an HTTP client: {e}")))?;
        Ok(OpenAiCompatible {
            client,
            endpoint: format!("{}/v1/embeddings", base_url.trim_end_matches('/')),
            model: model.to_owned(),
            api_key,
            timeout,
            dimension,
            batch_size: DEFAULT_BATCH_SIZE,
            model_id: model_id(model, dimension),
        })
    }

    /// Texts per request (1..=256).
    pub fn with_batch_size(mut self, batch_size: usize) -> Result<OpenAiCompatible, EmbedError> {
        if batch_size == 0 || batch_size > crate::MAX_BATCH {
            return Err(EmbedError::InvalidInput(format!("batch size must be 1..=256, got {batch_size}")));
        }
        self.batch_size = batch_size;
        Ok(self)
    }

    /// One request; vectors in input order, normalised, of `self.dimension` values (any when 0).
    fn request(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = &self.endpoint;
        let resp = self
            .client
            .post_json(
                url,
                self.api_key.as_deref(),
                &Request { model: &self.model, input: texts },
                crate::MAX_ANSWER_BYTES,
            )
            .map_err(|e| match e {
                lectern_http::HttpError::Timeout { .. } => {
                    EmbedError::Unavailable(format!("{url} did not answer within {:?}", self.timeout))
                }
                e => EmbedError::Unavailable(e.to_string()),
            })?;
        let (status, body) = (resp.status, resp.body);
        if !(200..300).contains(&status) {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(SNIPPET_CHARS).collect();
            let msg = format!("{url} answered {status}: {snippet}");
            let retryable = status >= 500 || status == 408 || status == 429;
            return Err(if retryable { EmbedError::Unavailable(msg) } else { EmbedError::Model(msg) });
        }
        let parsed: Response = serde_json::from_slice(&body)
            .map_err(|e| EmbedError::Model(format!("{url} answered with an unexpected body ({e})")))?;
        if parsed.data.len() != texts.len() {
            return Err(EmbedError::Model(format!(
                "{url} returned {} vectors for {} texts",
                parsed.data.len(),
                texts.len()
            )));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for Item { index, mut embedding } in parsed.data {
            if self.dimension != 0 && embedding.len() != self.dimension {
                return Err(EmbedError::Model(format!(
                    "{url} returned a vector of {} values; model {} has {}",
                    embedding.len(),
                    self.model,
                    self.dimension
                )));
            }
            if !normalize(&mut embedding) {
                return Err(EmbedError::Model(format!("{url} returned a zero or non-finite vector")));
            }
            match out.get_mut(index) {
                Some(slot @ None) => *slot = Some(embedding),
                _ => return Err(EmbedError::Model(format!("{url} returned a bad or repeated index {index}"))),
            }
        }
        // Every slot is filled: as many items as texts, each index distinct and in range.
        Ok(out.into_iter().flatten().collect())
    }
}

fn model_id(model: &str, dimension: usize) -> String {
    format!("openai-compatible/{model}/d{dimension}")
}

impl Embedder for OpenAiCompatible {
    /// `openai-compatible/<model>/d<dimension>`. The server is not part of it:
    /// the same model behind another URL shares cache entries, and a server
    /// that ignores the model name (llama.cpp) must be configured with the
    /// name of what it serves.
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        check_batch(texts)?;
        with_empties(texts, self.dimension, |texts| {
            let mut out = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(self.batch_size) {
                out.extend(self.request(chunk)?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Json;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response as HttpResponse};
    use serde_json::{Value, json};

    use super::*;

    /// How the test server misbehaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Fine,
        Reversed,
        FiveValues,
        Fail500,
        NeverAnswer,
    }

    #[derive(Clone)]
    struct Shared {
        mode: Mode,
        /// Number of inputs of each request received.
        requests: Arc<Mutex<Vec<usize>>>,
    }

    /// A real `/v1/embeddings` server on a loopback port, on its own runtime.
    struct Server {
        base: String,
        shared: Shared,
        _runtime: tokio::runtime::Runtime,
    }

    impl Server {
        fn start(mode: Mode) -> Server {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let shared = Shared { mode, requests: Arc::default() };
            let app =
                axum::Router::new().route("/v1/embeddings", axum::routing::post(embeddings)).with_state(shared.clone());
            runtime.spawn(async move { axum::serve(listener, app).await });
            Server { base, shared, _runtime: runtime }
        }

        fn requests(&self) -> Vec<usize> {
            self.shared.requests.lock().unwrap().clone()
        }
    }

    /// The server's "model": 4 values from the text, deliberately not unit length.
    fn fake_vector(text: &str) -> Vec<f32> {
        vec![text.len() as f32, 1.0, text.matches('a').count() as f32, 2.0]
    }

    fn expected(text: &str) -> Vec<f32> {
        let mut v = fake_vector(text);
        assert!(normalize(&mut v));
        v
    }

    async fn embeddings(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> HttpResponse {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk-test") {
            return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid api key"}"#).into_response();
        }
        assert_eq!(body["model"], "fake-embed");
        let inputs: Vec<String> = serde_json::from_value(body["input"].clone()).unwrap();
        s.requests.lock().unwrap().push(inputs.len());
        match s.mode {
            Mode::Fail500 => return (StatusCode::INTERNAL_SERVER_ERROR, "model exploded").into_response(),
            Mode::NeverAnswer => std::future::pending::<()>().await,
            Mode::Fine | Mode::Reversed | Mode::FiveValues => {}
        }
        let mut data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let mut v = fake_vector(text);
                if s.mode == Mode::FiveValues {
                    v.push(0.5);
                }
                json!({"object": "embedding", "index": index, "embedding": v})
            })
            .collect();
        if s.mode == Mode::Reversed {
            data.reverse();
        }
        Json(json!({"object": "list", "data": data, "model": "fake-embed"})).into_response()
    }

    fn client(server: &Server, timeout: Duration) -> Result<OpenAiCompatible, EmbedError> {
        OpenAiCompatible::new(&server.base, "fake-embed", Some("sk-test".into()), timeout)
    }

    #[test]
    fn happy_path_probes_batches_and_normalises() {
        let server = Server::start(Mode::Fine);
        let e = client(&server, Duration::from_secs(10)).unwrap().with_batch_size(2).unwrap();
        assert_eq!(e.dimension(), 4);
        assert_eq!(e.model_id(), "openai-compatible/fake-embed/d4");
        let texts = ["a", "banana", "", "cat", "data"];
        let got = e.embed(&texts).unwrap();
        assert_eq!(
            got,
            texts.iter().map(|t| if t.is_empty() { crate::empty_vector(4) } else { expected(t) }).collect::<Vec<_>>()
        );
        // The probe, then the four non-empty texts two at a time.
        assert_eq!(server.requests(), vec![1, 2, 2]);
    }

    #[test]
    fn answers_out_of_order_are_put_back_by_index() {
        let server = Server::start(Mode::Reversed);
        let e = client(&server, Duration::from_secs(10)).unwrap();
        let texts = ["first", "second one", "third aaa"];
        assert_eq!(e.embed(&texts).unwrap(), texts.iter().map(|t| expected(t)).collect::<Vec<_>>());
    }

    #[test]
    fn a_vector_of_the_wrong_dimension_is_a_model_error() {
        let server = Server::start(Mode::FiveValues);
        let e = OpenAiCompatible::with_dimension(
            &server.base,
            "fake-embed",
            Some("sk-test".into()),
            Duration::from_secs(10),
            4,
        )
        .unwrap();
        let err = e.embed(&["x"]).unwrap_err();
        assert!(matches!(err, EmbedError::Model(_)), "{err}");
        assert!(err.to_string().contains("5 values"), "{err}");
    }

    #[test]
    fn a_500_is_unavailable_and_quotes_the_body() {
        let server = Server::start(Mode::Fail500);
        let err = client(&server, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("500") && msg.contains("model exploded"), "{msg}");
    }

    #[test]
    fn a_wrong_key_is_a_model_error() {
        let server = Server::start(Mode::Fine);
        let err = OpenAiCompatible::new(&server.base, "fake-embed", Some("sk-wrong".into()), Duration::from_secs(10))
            .unwrap_err();
        assert!(matches!(err, EmbedError::Model(_)), "{err}");
        assert!(err.to_string().contains("401"), "{err}");
    }

    #[test]
    fn a_silent_server_times_out() {
        let server = Server::start(Mode::NeverAnswer);
        let e = OpenAiCompatible::with_dimension(
            &server.base,
            "fake-embed",
            Some("sk-test".into()),
            Duration::from_millis(300),
            4,
        )
        .unwrap();
        let started = std::time::Instant::now();
        let err = e.embed(&["x"]).unwrap_err();
        assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
        assert!(err.to_string().contains("did not answer"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_closed_port_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let err =
            OpenAiCompatible::new(&format!("http://127.0.0.1:{port}/"), "m", None, Duration::from_secs(5)).unwrap_err();
        assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
    }
}

//! A client of an OpenAI-compatible chat endpoint (`POST {base}/v1/chat/completions`):
//! OpenAI, llama.cpp's `llama-server`, llama-cpp-python's server, vLLM,
//! Ollama… The tutor uses it to phrase an answer from passages it retrieved.
//!
//! Like the embeddings client it is synchronous (call it from a blocking
//! thread) and only ever talks to the server an administrator configured.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::EmbedError;

/// `[tutor.chat]`: where and how to generate answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// Base URL without `/v1/chat/completions`, e.g. `http://127.0.0.1:8081`.
    pub url: String,
    /// The server's model name.
    pub model: String,
    /// Name of the environment variable holding the API key, if the server needs one.
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Longest answer, in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
}

fn default_timeout() -> u64 {
    60
}

fn default_max_tokens() -> u32 {
    300
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    max_tokens: u32,
    /// Answers grounded in given passages should not wander.
    temperature: f32,
}

#[derive(Deserialize)]
struct Response {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChatMessage,
}

/// One chat model on one server.
#[derive(Debug)]
pub struct ChatClient {
    client: lectern_http::BlockingClient,
    endpoint: String,
    model: String,
    api_key: Option<String>,
    max_tokens: u32,
}

impl ChatClient {
    pub fn new(cfg: &ChatConfig) -> Result<ChatClient, EmbedError> {
        let base = cfg.url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(EmbedError::InvalidInput(format!("tutor.chat.url must be an http(s) URL, got `{}`", cfg.url)));
        }
        let api_key = match &cfg.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                EmbedError::InvalidInput(format!("tutor.chat.api_key_env names `{var}`, which is not set"))
            })?),
            None => None,
        };
        let client = lectern_http::BlockingClient::new(lectern_http::ClientOptions::new(Duration::from_secs(
            cfg.timeout_secs.max(1),
        )))
        .map_err(|e| EmbedError::Unavailable(format!("cannot build the HTTP client: {e}")))?;
        Ok(ChatClient {
            client,
            endpoint: format!("{base}/v1/chat/completions"),
            model: cfg.model.clone(),
            api_key,
            max_tokens: cfg.max_tokens.clamp(1, 4096),
        })
    }

    /// The assistant's reply to `messages`.
    pub fn complete(&self, messages: &[ChatMessage]) -> Result<String, EmbedError> {
        let body = Request { model: &self.model, messages, max_tokens: self.max_tokens, temperature: 0.1 };
        let resp = self
            .client
            .post_json(&self.endpoint, self.api_key.as_deref(), &body, crate::MAX_ANSWER_BYTES)
            .map_err(|e| EmbedError::Unavailable(e.to_string()))?;
        let status = resp.status;
        if !resp.is_success() {
            let text: String = String::from_utf8_lossy(&resp.body).chars().take(300).collect();
            return Err(if status >= 500 || status == 429 || status == 408 {
                EmbedError::Unavailable(format!("{} answered {status}: {text}", self.endpoint))
            } else {
                EmbedError::Model(format!("{} answered {status}: {text}", self.endpoint))
            });
        }
        let parsed: Response = serde_json::from_slice(&resp.body)
            .map_err(|e| EmbedError::Model(format!("{} sent a malformed reply: {e}", self.endpoint)))?;
        parsed
            .choices
            .into_iter()
            .next()
            .map(|c| c.message.content.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| EmbedError::Model(format!("{} sent no answer", self.endpoint)))
    }
}

//! `org.example.grade-webhook`: an example *observer* plugin
//! (`lectern:plugin@0.2.0`, world `observer-plugin`). It subscribes to
//! `grade.recorded` and posts each grade, with what the event is about, to
//! the endpoint the institution configured in the plugin's settings:
//!
//! ```json
//! { "endpoint": "https://sis.example.edu/lectern/grades", "token": "…" }
//! ```
//!
//! An institution with no endpoint (and no platform-wide one) is skipped.
//! The host the endpoint names must also be among the manifest's
//! `outbound_hosts` and granted by the administrator at install; the kernel
//! refuses a request to any other host before it connects. Delivery is at
//! least once: the request carries the bus message id as
//! `Idempotency-Key`, so the receiver can drop a redelivery. A non-2xx
//! answer or a network error fails the call, and the kernel retries with
//! backoff, then dead-letters the event. The outcome of the last attempt is
//! kept in kv (`last-outcome`) for the administrator to inspect.

wit_bindgen::generate!({
    path: "../../../wit/lectern-plugin@0.2.0",
    world: "observer-plugin",
    generate_all,
});

use exports::lectern::plugin::lifecycle::{self, PluginInfo};
use lectern::plugin::types::{Error, EventContext};
use lectern::plugin::{kv, log, settings};
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

struct Plugin;

impl lifecycle::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "org.example.grade-webhook".into(),
            name: "Grade webhook (example observer)".into(),
            version: "1.0.0".into(),
            data_version: 1,
        }
    }

    fn init() -> Result<(), Error> {
        Ok(())
    }

    fn migrate(_from: u32) -> Result<(), Error> {
        Ok(())
    }

    fn on_event(ctx: EventContext, payload: Vec<u8>) -> Result<(), Error> {
        if ctx.topic != "grade.recorded" {
            return Ok(());
        }
        let settings: serde_json::Value = serde_json::from_str(&settings::get())
            .map_err(|e| Error::Internal(format!("the kernel sent settings that are not JSON: {e}")))?;
        // An institution without an endpoint (nor a platform-wide one) does not
        // take part: its grades are skipped, not failed (a failure would be
        // retried and dead-lettered for every grade it records).
        let Some(endpoint) = settings.get("endpoint").and_then(|v| v.as_str()) else {
            log::log(log::Level::Debug, "no endpoint configured for this institution; grade not sent", &[]);
            return kv::set(
                "last-outcome",
                format!("{} skipped: no `endpoint` in the settings", ctx.message_id).as_bytes(),
            );
        };
        let token = settings.get("token").and_then(|v| v.as_str());
        let grade: serde_json::Value = serde_json::from_slice(&payload)
            .map_err(|e| Error::InvalidInput(format!("grade.recorded payload is not JSON: {e}")))?;
        let body = serde_json::json!({
            "event": ctx.topic,
            "message_id": ctx.message_id,
            "institution": ctx.institution,
            "course": ctx.course,
            "actor": ctx.actor,
            "occurred_at_ms": ctx.occurred_at_ms,
            "grade": grade,
        });
        let outcome = post(endpoint, token, &ctx.message_id, body.to_string().as_bytes());
        let note = match &outcome {
            Ok(status) => format!("{} delivered: HTTP {status}", ctx.message_id),
            Err(e) => format!("{} failed: {e}", ctx.message_id),
        };
        kv::set("last-outcome", note.as_bytes())?;
        match outcome {
            Ok(status) if (200..300).contains(&status) => {
                log::log(log::Level::Info, "grade delivered", &[]);
                Ok(())
            }
            Ok(status) => Err(Error::Unavailable(format!("the endpoint answered HTTP {status}"))),
            Err(e) => Err(Error::Unavailable(e)),
        }
    }
}

/// `http://host[:port]/path` → (scheme, authority, path and query).
fn split_url(url: &str) -> Result<(Scheme, &str, &str), String> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (Scheme::Http, r)
    } else {
        return Err(format!("endpoint `{url}` must start with http:// or https://"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("endpoint `{url}` has no host"));
    }
    Ok((scheme, authority, path))
}

/// POSTs `body` as JSON; the response status, or why there is none.
fn post(url: &str, token: Option<&str>, idempotency_key: &str, body: &[u8]) -> Result<u16, String> {
    let (scheme, authority, path) = split_url(url)?;
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        ("content-type".into(), b"application/json".to_vec()),
        ("idempotency-key".into(), idempotency_key.as_bytes().to_vec()),
        // Known length rather than chunked: every receiver understands it.
        ("content-length".into(), body.len().to_string().into_bytes()),
    ];
    if let Some(t) = token {
        headers.push(("authorization".into(), format!("Bearer {t}").into_bytes()));
    }
    let fields = Fields::from_list(&headers).map_err(|e| format!("headers: {e:?}"))?;
    let req = OutgoingRequest::new(fields);
    req.set_method(&Method::Post).map_err(|()| "method refused".to_string())?;
    req.set_scheme(Some(&scheme)).map_err(|()| "scheme refused".to_string())?;
    req.set_authority(Some(authority)).map_err(|()| format!("authority `{authority}` refused"))?;
    req.set_path_with_query(Some(path)).map_err(|()| format!("path `{path}` refused"))?;
    let out = req.body().map_err(|()| "request body unavailable".to_string())?;
    {
        let stream = out.write().map_err(|()| "request body stream unavailable".to_string())?;
        for chunk in body.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| format!("writing the body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(out, None).map_err(|e| format!("finishing the body: {e:?}"))?;
    let pending = outgoing_handler::handle(req, None).map_err(|e| format!("{e:?}"))?;
    pending.subscribe().block();
    let resp = pending
        .get()
        .ok_or_else(|| "no response".to_string())?
        .map_err(|()| "response already taken".to_string())?
        .map_err(|e| format!("{e:?}"))?;
    Ok(resp.status())
}

export!(Plugin);

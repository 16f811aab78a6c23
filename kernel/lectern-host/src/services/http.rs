//! Outbound HTTP for observer plugins (`wasi:http/outgoing-handler`), to
//! the hosts the administrator granted and nowhere else.
//!
//! The check is made on the request's URI before anything touches the
//! network: scheme (`http` or `https`), host and port must match a granted
//! entry (`Capabilities::allows_host`: a bare host allows the scheme's
//! default port, `host:port` exactly that port). A refused request fails
//! with `wasi:http`'s `HTTP-request-denied` error code, and the kernel's log
//! names the plugin and the host it tried. Redirects are not followed by
//! the host (a guest that follows one makes a new request, checked again).
//! Timeouts are capped at the call's own budget, so a slow server cannot
//! hold a plugin call past its deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::state::{Identity, PluginState};

/// The per-call `wasi:http` policy: who is calling, and its time budget.
pub(crate) struct Outbound {
    pub who: Arc<Identity>,
    pub budget: Duration,
}

type Sent = Box<
    dyn Future<Output = Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>>
        + Send,
>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        _ = fut;
        let uri = request.uri();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        if !self.who.grants.allows_host(&host, port, https) {
            tracing::warn!(plugin = %self.who.id, version = %self.who.version, host = %host, port,
                "outbound request refused: the host is not among those granted to the plugin");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let cap = |t: Option<Duration>| Some(t.map_or(self.budget, |t| t.min(self.budget)));
        let options = RequestOptions {
            connect_timeout: cap(options.and_then(|o| o.connect_timeout)),
            first_byte_timeout: cap(options.and_then(|o| o.first_byte_timeout)),
            between_bytes_timeout: cap(options.and_then(|o| o.between_bytes_timeout)),
        };
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}

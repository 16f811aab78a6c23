//! The web application's files (`web/dist`, built by Vite) served at `/`.
//!
//! Every `GET` that no API route claims lands here: a file of the build when
//! one exists at that path, else `index.html` (the pages route on the client
//! with the History API). Paths under the API's prefixes, and paths that look
//! like files (`/assets/…`, anything with an extension), are never answered
//! with `index.html`: a missing script must be a 404, not an HTML page parsed
//! as JavaScript.
//!
//! Every response carries the application's Content-Security-Policy: scripts
//! and styles only from this origin (no inline script, no `eval`), no plugins,
//! no framing by other sites. Built assets have content-hashed names and are
//! cached for a year; `index.html` is revalidated on every load so a new build
//! is picked up at once.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;
use crate::problem::{self, ApiError};

/// The pages' policy. Course pages are HTML from the content plugin, sanitized
/// again in the page before insertion; with no `'unsafe-inline'` in
/// `script-src`, neither a `<script>` nor an `on…=` attribute that slipped
/// through could run. Images and media may come from other HTTPS origins
/// because course authors embed them; scripts, styles and fonts never do.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; \
media-src 'self' blob: https:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-src 'none'; frame-ancestors 'none'";

/// Path prefixes that belong to the API and its documents, never to the pages.
const RESERVED: &[&str] =
    &["/api/", "/oauth/", "/blobs/", "/.well-known/", "/problems", "/metrics", "/healthz", "/readyz"];

/// Where the built web application is, if this server serves one.
#[derive(Clone, Debug)]
pub struct WebRoot(PathBuf);

impl WebRoot {
    /// `dir` must hold `index.html` (a Vite build's output directory).
    pub fn new(dir: impl Into<PathBuf>) -> Result<WebRoot, String> {
        let dir = dir.into();
        if dir.join("index.html").is_file() {
            Ok(WebRoot(dir))
        } else {
            Err(format!(
                "{} has no index.html: build the web application first (`npm ci && npm run build` in web/; \
                 `cargo xtask run` does it)",
                dir.display()
            ))
        }
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// Whether `path` may be answered with the application's `index.html`.
fn is_page_path(path: &str) -> bool {
    if RESERVED.iter().any(|p| path.starts_with(p)) || path.starts_with("/assets/") {
        return false;
    }
    let last = path.rsplit('/').next().unwrap_or("");
    !last.contains('.')
}

/// The router's fallback: the web application for `GET`/`HEAD`, else the API's 404 problem.
pub(crate) async fn fallback(State(s): State<AppState>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_owned();
    let Some(root) = s.config.web_root.as_ref().filter(|_| matches!(*req.method(), Method::GET | Method::HEAD)) else {
        return crate::routes::system::no_route(req.uri().clone()).await.into_response();
    };
    if RESERVED.iter().any(|p| path.starts_with(p)) {
        return crate::routes::system::no_route(req.uri().clone()).await.into_response();
    }
    let index = root.path().join("index.html");
    let served = if is_page_path(&path) && !root.path().join(path.trim_start_matches('/')).is_file() {
        ServeFile::new(&index).oneshot(req).await
    } else {
        ServeDir::new(root.path()).oneshot(req).await
    };
    let mut response = match served {
        Ok(r) => r.map(Body::new),
        Err(e) => {
            return ApiError::new(&problem::INTERNAL, format!("cannot read the web application: {e}")).into_response();
        }
    };
    if response.status() == StatusCode::NOT_FOUND {
        return ApiError::new(&problem::NOT_FOUND, format!("no file at {path}")).into_response();
    }
    let headers = response.headers_mut();
    let cache = if path.starts_with("/assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    security_headers(headers);
    response
}

/// The headers every page and asset carries.
pub(crate) fn security_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
}

#[cfg(test)]
mod tests {
    use super::is_page_path;

    #[test]
    fn only_extensionless_paths_outside_the_api_get_the_application() {
        for page in ["/", "/courses/abc", "/courses/abc/items/def", "/oauth-help", "/account"] {
            assert!(is_page_path(page), "{page}");
        }
        for not in
            ["/api/v1/me", "/assets/index-abc.js", "/favicon.svg", "/oauth/authorize", "/blobs/00", "/problems/x"]
        {
            assert!(!is_page_path(not), "{not}");
        }
    }
}

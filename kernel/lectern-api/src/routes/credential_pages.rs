//! Public credential URLs: `/credentials/{id}` answers JSON to machines and a
//! printable HTML page to people (content negotiation on `Accept`), and
//! `/credentials/status/{institution}` serves the signed status list.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::AppState;
use crate::extract::ApiPath;
use crate::problem::ApiResult;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/credentials/status/{institution}", get(status_list))
        .route("/credentials/{credential_id}", get(credential))
}

fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let html = accept.find("text/html");
    let json =
        ["application/json", "application/ld+json", "application/vc"].iter().filter_map(|m| accept.find(m)).min();
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

async fn credential(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = id.strip_suffix(".json").map(str::to_owned).unwrap_or(id);
    let rec = s.kernel.assessments().credential(&id)?;
    let doc = crate::dto::credentials::document(&rec)?;
    if !wants_html(&headers) {
        return Ok(([(header::CONTENT_TYPE, "application/vc+ld+json")], Json(doc)).into_response());
    }
    let v = s.kernel.assessments().verify_credential(&doc);
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page(&id, &doc, v.verified, rec.revoked_at.is_some(), &s.kernel.assessments().credential_url(&id)),
    )
        .into_response())
}

async fn status_list(State(s): State<AppState>, ApiPath(inst): ApiPath<String>) -> ApiResult<Response> {
    let i = inst.parse().map_err(|_| lectern_core::CoreError::NotFound("status list"))?;
    let doc = s.kernel.assessments().status_list(i)?;
    Ok(([(header::CONTENT_TYPE, "application/vc+ld+json"), (header::CACHE_CONTROL, "public, max-age=60")], Json(doc))
        .into_response())
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(id: &str, doc: &Value, verified: bool, revoked: bool, url: &str) -> String {
    let str_at = |ptr: &str| doc.pointer(ptr).and_then(Value::as_str).unwrap_or("").to_string();
    let learner = str_at("/credentialSubject/name");
    let course = str_at("/credentialSubject/achievement/name");
    let description = str_at("/credentialSubject/achievement/description");
    let issuer = str_at("/issuer/name");
    let issued = str_at("/validFrom");
    let result = doc
        .pointer("/credentialSubject/result/0/value")
        .and_then(Value::as_str)
        .map(|r| format!("<p class=\"result\">Result: {}</p>", esc(r)))
        .unwrap_or_default();
    let state = match (verified, revoked) {
        (_, true) => "<p class=\"state bad\">This credential has been revoked by its issuer.</p>",
        (true, false) => "<p class=\"state ok\">Signature, dates and status verified.</p>",
        (false, false) => "<p class=\"state bad\">This credential could not be verified.</p>",
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{course} — {learner}</title>
<style>
body{{font-family:Georgia,serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}}
.cert{{border:6px double #444;padding:2.5rem;text-align:center}}
h1{{font-size:2rem;margin:.2rem 0 1rem}} .learner{{font-size:1.6rem;font-style:italic}}
.state{{font-family:sans-serif;font-size:.9rem}} .ok{{color:#1a6b2a}} .bad{{color:#a11}}
footer{{font-family:sans-serif;font-size:.8rem;color:#555;margin-top:1.5rem;word-break:break-all}}
@media print{{footer .noprint{{display:none}}}}
</style></head>
<body><main class="cert">
<p>{issuer} certifies that</p>
<p class="learner">{learner}</p>
<p>has completed</p>
<h1>{course}</h1>
<p>{description}</p>
{result}
<p>Issued {issued}</p>
{state}
</main>
<footer><p>Credential {id}: <a href="{url}">{url}</a> (Open Badges 3.0, signed with eddsa-jcs-2022).</p>
<p class="noprint">Machine-readable form: request this URL with <code>Accept: application/json</code>, or verify it at <code>POST /api/v1/credentials/verify</code>.</p></footer>
</body></html>
"#,
        course = esc(&course),
        learner = esc(&learner),
        issuer = esc(&issuer),
        description = esc(&description),
        issued = esc(&issued),
        id = esc(id),
        url = esc(url),
    )
}

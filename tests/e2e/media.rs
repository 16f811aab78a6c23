//! Course media over the real server: uploads (policy, limits, authorization)
//! and CDN-ready delivery of `/blobs/{sha256}` (ETags, 304, ranges,
//! multipart, 416, precompressed variants, HEAD, immutable caching).

use std::io::Read;

use lectern_e2e::{Api, Options, Reply};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{World, create_user};

const LIMIT: u64 = 256 * 1024;
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n";

struct Setup {
    w: World,
    instructor: Api,
    path: String,
}

async fn setup() -> Setup {
    let w = World::with(Options { kernel: Box::new(|c| c.media.max_upload_bytes = LIMIT), ..Options::default() }).await;
    let a = w.a.slug.clone();
    create_user(&w.a.admin, &a, "ines@alpha.test", "staff").await;
    let instructor = w.login(&a, "ines@alpha.test").await;
    let r = instructor
        .post(&format!("/api/v1/institutions/{a}/courses"), json!({ "code": "MED1", "title": "Media" }))
        .await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    Setup { path: format!("/api/v1/institutions/{a}/courses/{course}/media"), w, instructor }
}

async fn upload(api: &Api, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = api.http.post(format!("{}{path}?filename=notes.md", api.base)).body(body);
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    Api::finish(req).await
}

/// A raw GET/HEAD of a blob with extra headers: status, headers, exact bytes.
async fn fetch(
    api: &Api,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = api.http.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let (status, h) = (resp.status(), resp.headers().clone());
    (status, h, resp.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Splits a `multipart/byteranges` body into (Content-Range, bytes) parts.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).unwrap().trim_matches('"');
    let delim = format!("--{boundary}");
    let mut parts = vec![];
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, delim.as_bytes()).unwrap();
    rest = &rest[start + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").unwrap();
        let end_head = find(rest, b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&rest[..end_head]).unwrap().to_owned();
        rest = &rest[end_head + 4..];
        let next = find(rest, format!("\r\n{delim}").as_bytes()).unwrap();
        let range = head.lines().find_map(|l| l.strip_prefix("Content-Range: ")).unwrap().to_owned();
        parts.push((range, rest[..next].to_vec()));
        rest = &rest[next + 2 + delim.len()..];
    }
    parts
}

#[tokio::test]
async fn blob_delivery_is_cdn_ready() {
    let s = setup().await;
    let text: String = (0..2000).map(|i| format!("Line {i}: Lectern serves course media to learners.\n")).collect();
    let original = text.into_bytes();
    let len = original.len();
    let r = upload(&s.instructor, &s.path, Some("text/markdown"), original.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sha = sha_hex(&original);
    assert_eq!(r.body["sha256"], sha);
    assert_eq!(r.body["size"], len);
    assert_eq!(r.body["content_type"], "text/markdown; charset=utf-8");
    assert_eq!(r.body["filename"], "notes.md");
    assert_eq!(r.body["public"], false);
    assert!(r.body["url"].as_str().unwrap().starts_with(&format!("{}/blobs/{sha}?m=", s.w.server.base)));
    // A public file (the instructor's choice) is what a CDN may cache for
    // good: the plain capability URL. Signed URLs are tested in trust.rs.
    let r = s.instructor.patch(&format!("{}/{sha}", s.path), json!({ "public": true })).await;
    assert_eq!(r.ok()["public"], true);
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{}/blobs/{sha}", s.w.server.base));
    let anon = s.w.server.client().anonymous();
    let get = |h: &'static [(&'static str, &'static str)]| fetch(&anon, reqwest::Method::GET, &url, h);
    let id_tag = format!("\"{sha}\"");

    // Identity: exact bytes and every caching header a CDN needs.
    let (st, h, body) = get(&[]).await;
    assert_eq!(st, 200);
    assert_eq!(body, original);
    assert_eq!(header(&h, "etag"), id_tag);
    assert_eq!(header(&h, "cache-control"), IMMUTABLE);
    assert_eq!(header(&h, "accept-ranges"), "bytes");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(header(&h, "vary"), "accept-encoding");
    assert_eq!(header(&h, "content-type"), "text/markdown; charset=utf-8");
    assert_eq!(header(&h, "content-length"), len.to_string());
    assert!(header(&h, "content-security-policy").contains("sandbox"));
    assert_eq!(header(&h, "content-encoding"), "");

    // Precompressed variants when accepted, each with its own strong ETag.
    let (st, h, body) = get(&[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!((st, header(&h, "content-encoding")), (StatusCode::OK, "br"));
    let br_tag = format!("\"{sha}.br\"");
    assert_eq!(header(&h, "etag"), br_tag);
    assert_eq!(header(&h, "cache-control"), IMMUTABLE);
    assert!(body.len() < len / 5, "brotli: {} of {len}", body.len());
    let mut decoded = vec![];
    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, original);
    let (st, h, body) = get(&[("accept-encoding", "gzip")]).await;
    assert_eq!((st, header(&h, "content-encoding")), (StatusCode::OK, "gzip"));
    assert_eq!(header(&h, "etag"), format!("\"{sha}.gz\""));
    let mut decoded = vec![];
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, original);
    for refuse in ["identity", "br;q=0, gzip;q=0", "br;q=0.5, gzip;q=0, identity"] {
        let (_, h, body) = fetch(&anon, reqwest::Method::GET, &url, &[("accept-encoding", refuse)]).await;
        assert_eq!((header(&h, "content-encoding"), header(&h, "etag")), ("", id_tag.as_str()), "{refuse}");
        assert_eq!(body, original, "{refuse}");
    }

    // Conditional GET: 304 with the same strong ETag, for identity and for br.
    let (st, h, body) = fetch(&anon, reqwest::Method::GET, &url, &[("if-none-match", &id_tag)]).await;
    assert_eq!(st, 304);
    assert_eq!(header(&h, "etag"), id_tag);
    assert_eq!(header(&h, "cache-control"), IMMUTABLE);
    assert!(body.is_empty());
    let (st, h, _) =
        fetch(&anon, reqwest::Method::GET, &url, &[("if-none-match", &br_tag), ("accept-encoding", "br")]).await;
    assert_eq!((st, header(&h, "etag")), (StatusCode::NOT_MODIFIED, br_tag.as_str()));
    let (st, _, _) = fetch(&anon, reqwest::Method::GET, &url, &[("if-none-match", "\"other\", W/\"x\"")]).await;
    assert_eq!(st, 200);
    let (st, _, _) = get(&[("if-none-match", "*")]).await;
    assert_eq!(st, 304);

    // Ranges: exact bytes of the identity representation, even when br is accepted.
    let (st, h, body) = get(&[("range", "bytes=0-99"), ("accept-encoding", "br")]).await;
    assert_eq!(st, 206);
    assert_eq!(header(&h, "content-range"), format!("bytes 0-99/{len}"));
    assert_eq!((header(&h, "content-encoding"), header(&h, "etag")), ("", id_tag.as_str()));
    assert_eq!(body, &original[..100]);
    let (st, h, body) = get(&[("range", "bytes=-500")]).await;
    assert_eq!(
        (st, header(&h, "content-range")),
        (StatusCode::PARTIAL_CONTENT, &*format!("bytes {}-{}/{len}", len - 500, len - 1))
    );
    assert_eq!(body, &original[len - 500..]);
    let (st, h, body) = get(&[("range", "bytes=100-")]).await;
    assert_eq!(
        (st, header(&h, "content-range")),
        (StatusCode::PARTIAL_CONTENT, &*format!("bytes 100-{}/{len}", len - 1))
    );
    assert_eq!(body, &original[100..]);
    assert_eq!(header(&h, "content-length"), (len - 100).to_string());

    // Several ranges: multipart/byteranges, sorted, overlapping ones coalesced.
    let (st, h, body) = get(&[("range", "bytes=2000-2009, 0-9, 100-149, 120-199")]).await;
    assert_eq!(st, 206);
    let ct = header(&h, "content-type");
    assert!(ct.starts_with("multipart/byteranges; boundary="), "{ct}");
    assert_eq!(header(&h, "content-length"), body.len().to_string());
    let parts = parse_multipart(ct, &body);
    let want = [(0usize, 9usize), (100, 199), (2000, 2009)];
    assert_eq!(parts.len(), want.len());
    for ((range, bytes), (a, b)) in parts.iter().zip(want) {
        assert_eq!(range, &format!("bytes {a}-{b}/{len}"));
        assert_eq!(bytes, &original[a..=b]);
    }

    // Unsatisfiable: 416 with the length.
    let (st, h, body) = get(&[("range", "bytes=999999-")]).await;
    assert_eq!(st, 416);
    assert_eq!(header(&h, "content-range"), format!("bytes */{len}"));
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["type"], "/problems/range-not-satisfiable");
    let (st, h, _) = get(&[("range", "bytes=9-1")]).await;
    assert_eq!((st, header(&h, "content-range")), (StatusCode::RANGE_NOT_SATISFIABLE, &*format!("bytes */{len}")));

    // If-Range: the range only while the ETag still matches; otherwise all of it.
    let (st, _, body) =
        fetch(&anon, reqwest::Method::GET, &url, &[("range", "bytes=0-9"), ("if-range", "\"stale\"")]).await;
    assert_eq!((st, body.len()), (StatusCode::OK, len));
    let (st, _, body) =
        fetch(&anon, reqwest::Method::GET, &url, &[("range", "bytes=0-9"), ("if-range", &id_tag)]).await;
    assert_eq!((st, body), (StatusCode::PARTIAL_CONTENT, original[..10].to_vec()));

    // HEAD: the same headers, no body.
    let (st, h, body) = fetch(&anon, reqwest::Method::HEAD, &url, &[]).await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-length"), len.to_string());
    assert_eq!((header(&h, "etag"), header(&h, "cache-control")), (id_tag.as_str(), IMMUTABLE));
    assert!(body.is_empty());

    // Unknown and malformed names.
    anon.get(&format!("/blobs/{}", "0".repeat(64))).await.assert_problem(404, "not-found");
    anon.get("/blobs/..%2f..%2fetc%2fpasswd").await.assert_problem(404, "not-found");
    anon.get(&format!("/blobs/{}", sha.to_uppercase())).await.assert_problem(404, "not-found");
}

#[tokio::test]
async fn uploads_are_checked_and_authorized() {
    let s = setup().await;
    let (w, path, instructor) = (&s.w, &s.path, &s.instructor);

    // A genuine PNG: stored once, served as an image (no variants, no document CSP).
    let r = upload(instructor, path, Some("image/png"), PNG.to_vec()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sha = sha_hex(PNG);
    assert_eq!(r.body["sha256"], sha);
    let again = upload(instructor, path, Some("image/png"), PNG.to_vec()).await;
    assert_eq!(again.body["sha256"], sha, "same bytes, same name");
    let (st, h, body) = fetch(
        &w.server.client(),
        reqwest::Method::GET,
        r.body["url"].as_str().unwrap(),
        &[("accept-encoding", "br, gzip")],
    )
    .await;
    assert_eq!((st, body.as_slice()), (StatusCode::OK, PNG));
    assert_eq!((header(&h, "content-type"), header(&h, "content-encoding"), header(&h, "vary")), ("image/png", "", ""));
    assert_eq!(header(&h, "content-security-policy"), "");
    // A signed URL may be cached until it expires, 4–8 hours from now.
    let cc = header(&h, "cache-control");
    let max_age: i64 =
        cc.strip_prefix("public, max-age=").and_then(|r| r.strip_suffix(", immutable")).unwrap().parse().unwrap();
    assert!((4 * 3600 - 5..=8 * 3600).contains(&max_age), "{cc}");
    let listed = instructor.get(path).await;
    let items = listed.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["content_type"], "image/png");

    // Lying types.
    upload(instructor, path, Some("image/png"), PDF.to_vec()).await.assert_problem(422, "content-mismatch");
    upload(instructor, path, Some("text/plain"), PDF.to_vec()).await.assert_problem(422, "content-mismatch");
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(4096, 0);
    upload(instructor, path, Some("text/plain"), elf).await.assert_problem(422, "content-mismatch");
    upload(instructor, path, Some("text/plain"), b"<!DOCTYPE html><script>alert(1)</script>".to_vec())
        .await
        .assert_problem(422, "content-mismatch");
    upload(instructor, path, Some("application/pdf"), PDF.to_vec()).await.ok();
    // Refused types.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    upload(instructor, path, Some("image/svg+xml"), svg).await.assert_problem(415, "media-type-refused");
    upload(instructor, path, Some("text/html"), b"<p>hi</p>".to_vec()).await.assert_problem(415, "media-type-refused");
    upload(instructor, path, Some("application/zip"), b"PK\x03\x04".to_vec())
        .await
        .assert_problem(415, "media-type-refused");
    upload(instructor, path, None, PNG.to_vec()).await.assert_problem(415, "media-type-refused");

    // Over the limit: refused from Content-Length, and while streaming without one.
    let big = vec![b'a'; (LIMIT + 1) as usize];
    let r = upload(instructor, path, Some("text/plain"), big.clone()).await;
    r.assert_problem(413, "body-too-large");
    assert_eq!(r.body["limit"], LIMIT);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let req = instructor
        .http
        .post(format!("{}{path}", instructor.base))
        .bearer_auth(instructor.token.clone().unwrap())
        .header("content-type", "text/plain")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)));
    Api::finish(req).await.assert_problem(413, "body-too-large");
    // Exactly at the limit is fine.
    let r = upload(instructor, path, Some("text/plain"), vec![b'a'; LIMIT as usize]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(instructor.get(path).await.ok()["items"].as_array().unwrap().len(), 3, "png, pdf, text");

    // Authorization: a student of the course, another institution, nobody.
    let a = &w.a.slug;
    let student = create_user(&w.a.admin, a, "sam@alpha.test", "member").await;
    let course_path = path.trim_end_matches("/media");
    let r =
        instructor.post(&format!("{course_path}/enrolments"), json!({ "user_id": student, "role": "student" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    instructor.post_empty(&format!("{course_path}/publish")).await.ok();
    let sam = w.login(a, "sam@alpha.test").await;
    upload(&sam, path, Some("image/png"), PNG.to_vec()).await.assert_problem(403, "forbidden");
    sam.get(path).await.assert_problem(403, "forbidden");
    create_user(&w.b.admin, &w.b.slug, "bea@beta.test", "staff").await;
    let bea = w.login(&w.b.slug, "bea@beta.test").await;
    upload(&bea, path, Some("image/png"), PNG.to_vec()).await.assert_problem(403, "forbidden");
    upload(&w.b.admin, path, Some("image/png"), PNG.to_vec()).await.assert_problem(403, "forbidden");
    upload(&w.server.client(), path, Some("image/png"), PNG.to_vec()).await.assert_problem(401, "unauthenticated");

    // Removing the course's reference.
    assert_eq!(instructor.delete(&format!("{path}/{sha}")).await.status, 204);
    instructor.delete(&format!("{path}/{sha}")).await.assert_problem(404, "not-found");
    assert_eq!(instructor.get(path).await.ok()["items"].as_array().unwrap().len(), 2);
}

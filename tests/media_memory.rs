//! A media file of several hundred MB goes up and comes back down through the
//! real server without being held in memory: the test streams it from disk,
//! the server streams it into the blob store and back out, the test hashes
//! the downloads as they arrive. Its own test binary (process), so the peak
//! resident set (`VmHWM`) measured here is this transfer's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: fail loudly

use std::io::Write;

use futures_util::StreamExt;
use lectern_e2e::{Api, Options, PASSWORD, TestServer, bootstrap_admin};
use serde_json::json;
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;
const SIZE: u64 = 400 * MIB;
/// Allowed growth of the peak resident set across the transfers.
const MAX_GROWTH: u64 = 64 * MIB;

/// Peak resident set size of this process so far, in bytes.
fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// Writes `SIZE` bytes that sniff as MP4 (an `ftyp` box, then noise);
/// returns the SHA-256 of all of it and of `range`.
fn write_video(path: &std::path::Path, range: (u64, u64)) -> (String, String) {
    let mut f = std::io::BufWriter::with_capacity(MIB as usize, std::fs::File::create(path).unwrap());
    let (mut all, mut part) = (Sha256::new(), Sha256::new());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut chunk = vec![0u8; MIB as usize];
    let mut offset = 0u64;
    while offset < SIZE {
        for w in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        if offset == 0 {
            chunk[..32].copy_from_slice(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41");
        }
        f.write_all(&chunk).unwrap();
        all.update(&chunk);
        let (a, b) = (range.0.max(offset), (range.1 + 1).min(offset + MIB));
        if a < b {
            part.update(&chunk[(a - offset) as usize..(b - offset) as usize]);
        }
        offset += MIB;
    }
    f.flush().unwrap();
    (hex::encode(all.finalize()), hex::encode(part.finalize()))
}

/// Hashes a response body as it streams; returns (hash, bytes).
async fn hash_body(resp: reqwest::Response) -> (String, u64) {
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (hex::encode(h.finalize()), n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_video_streams_through_without_being_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lecture.mp4");
    let range = (123 * MIB + 7, 323 * MIB + 11);
    let (sha, range_sha) = write_video(&file, range);

    let server = TestServer::start(&dir.path().join("data"), Options::default()).await.unwrap();
    let root = bootstrap_admin(&server).await;
    root.post("/api/v1/institutions", json!({ "slug": "alpha", "name": "Alpha" })).await.ok();
    root.post(
        "/api/v1/institutions/alpha/users",
        json!({ "email": "ines@alpha.test", "name": "Ines", "role": "staff", "password": PASSWORD }),
    )
    .await
    .ok();
    let (ines, r) = server.client().login("alpha", "ines@alpha.test", PASSWORD).await;
    r.ok();
    let r = ines.post("/api/v1/institutions/alpha/courses", json!({ "code": "V1", "title": "Video" })).await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let before = vm_hwm();

    // Up: from disk, chunk by chunk (no Content-Length: chunked transfer).
    let started = std::time::Instant::now();
    let source = tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::open(&file).await.unwrap(), 256 * 1024);
    let req = ines
        .http
        .post(format!("{}/api/v1/institutions/alpha/courses/{course}/media?filename=lecture.mp4", ines.base))
        .bearer_auth(ines.token.clone().unwrap())
        .header("content-type", "video/mp4")
        .body(reqwest::Body::wrap_stream(source));
    let r = Api::finish(req).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["sha256"], sha);
    assert_eq!(r.body["size"], SIZE);
    let url = r.body["url"].as_str().unwrap().to_owned();
    let up = started.elapsed();

    // Down: a 200 MB range, then all of it, hashed as it arrives.
    let started = std::time::Instant::now();
    let client = reqwest::Client::new();
    let resp = client.get(&url).header("range", format!("bytes={}-{}", range.0, range.1)).send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"].to_str().unwrap(), format!("bytes {}-{}/{SIZE}", range.0, range.1));
    assert_eq!(hash_body(resp).await, (range_sha, range.1 - range.0 + 1));
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // Served through the course's signed URL: cacheable until it expires.
    let cc = resp.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cc.starts_with("public, max-age=") && cc.ends_with(", immutable"), "{cc}");
    assert_eq!(hash_body(resp).await, (sha, SIZE));
    let down = started.elapsed();

    let after = vm_hwm();
    let growth = after.saturating_sub(before);
    println!(
        "media memory: {} MiB up in {:.1} s, {} MiB down in {:.1} s; peak RSS {} MiB before, {} MiB after (+{} MiB)",
        SIZE / MIB,
        up.as_secs_f64(),
        (SIZE + range.1 - range.0 + 1) / MIB,
        down.as_secs_f64(),
        before / MIB,
        after / MIB,
        growth / MIB
    );
    assert!(growth < MAX_GROWTH, "peak RSS grew by {} MiB moving {} MiB", growth / MIB, SIZE / MIB);
    server.stop().await.unwrap();
}

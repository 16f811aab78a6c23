//! Content-addressed blob files next to the database.
//!
//! A blob is named by the lowercase hex SHA-256 of its bytes and lives at
//! `<dir>/ab/cd/<hex>` (two levels of fan-out keep directories small);
//! compressible types may also have `<hex>.gz` and `<hex>.br` beside it. Its
//! [`BlobMeta`] sits in the `blobs` tree, inserted only after the files are in
//! place, so a blob without metadata does not exist for readers.
//!
//! Writes go to `<dir>/tmp/` first (hashed as they stream, size-limited), are
//! fsynced, then renamed into place and the directory fsynced: a crash leaves
//! at worst a temp file (removed at the next open) or an orphan file without
//! metadata (adopted by the next upload of the same bytes). The caller awaits
//! [`crate::Store::durable`] for the metadata before acknowledging.
//!
//! The API is synchronous (std::fs): async callers use `spawn_blocking`.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Record, StorageError, Store, Tree};

/// How many leading bytes a writer keeps for content sniffing.
pub const HEAD_BYTES: usize = 8 * 1024;

/// A variant is kept only if it is at most this fraction of the original (saves ≥ 10 %).
const MIN_SAVING_NUM: u64 = 9;
const MIN_SAVING_DEN: u64 = 10;

/// What is known about a stored blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    /// Lowercase hex SHA-256 of the identity bytes.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// Size of the precompressed gzip variant, when one is stored.
    pub gzip_size: Option<u64>,
    /// Size of the precompressed brotli variant, when one is stored.
    pub br_size: Option<u64>,
    /// Unix seconds of the first store.
    pub created_at: i64,
}

impl Record for BlobMeta {
    const VERSION: u8 = 1;
}

/// A stored representation of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl BlobMeta {
    /// The size of a representation, if it is stored.
    pub fn size_of(&self, e: Encoding) -> Option<u64> {
        match e {
            Encoding::Identity => Some(self.size),
            Encoding::Gzip => self.gzip_size,
            Encoding::Brotli => self.br_size,
        }
    }
}

/// Whether `s` is a blob id: 64 lowercase hex digits. Checked before any
/// path is built from it, so no input can walk the filesystem.
pub fn is_blob_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Types worth precompressing: text and text-like structured formats. Media
/// and archives are already compressed.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/x-ndjson"
                | "application/ld+json"
                | "image/svg+xml"
        )
}

/// The blob files and their metadata. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    tmp: PathBuf,
    meta: Tree<BlobMeta>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("dir", &self.inner.dir).finish()
    }
}

fn io(context: &str, path: &Path, e: std::io::Error) -> StorageError {
    StorageError::Io(format!("{context} {}: {e}", path.display()))
}

fn sync_dir(path: &Path) -> Result<(), StorageError> {
    File::open(path).and_then(|d| d.sync_all()).map_err(|e| io("cannot fsync directory", path, e))
}

/// Writes `bytes` to `path` so that, once this returns, the file survives a
/// crash whole: a temp file beside it is written and fsynced, renamed over
/// `path`, and the directory fsynced. A crash before the rename leaves no
/// file at `path` (only a `.tmp` that the next write replaces). For files
/// whose record commits afterwards (plugin components), as blobs are.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let dir = path.parent().ok_or_else(|| StorageError::Io(format!("{} has no directory", path.display())))?;
    let mut tmp = tempfile::Builder::new()
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("cannot create a temp file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| io("cannot write", tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| io("cannot fsync", tmp.path(), e))?;
    tmp.persist(path).map_err(|e| io("cannot move a file to", path, e.error))?;
    sync_dir(dir)
}

impl BlobStore {
    /// Opens (creating) the blob directory `dir`, with metadata in `store`.
    /// Temp files a crash left behind are removed.
    pub fn open(store: &Store, dir: impl Into<PathBuf>) -> Result<BlobStore, StorageError> {
        let dir = dir.into();
        let tmp = dir.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io("cannot clear", &tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
        let meta = store.tree("blobs")?;
        Ok(BlobStore { inner: Arc::new(Inner { dir, tmp, meta }) })
    }

    /// Starts a streaming write that refuses more than `limit` bytes.
    pub fn begin(&self, limit: u64) -> Result<BlobWriter, StorageError> {
        let file = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.inner.tmp)
            .map_err(|e| io("cannot create a temp file in", &self.inner.tmp, e))?;
        Ok(BlobWriter {
            store: self.clone(),
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::with_capacity(HEAD_BYTES),
        })
    }

    /// Stores everything `reader` yields (at most `limit` bytes).
    pub fn put_reader(
        &self,
        mut reader: impl Read,
        limit: u64,
        content_type: &str,
        now: i64,
    ) -> Result<BlobMeta, StorageError> {
        let mut w = self.begin(limit)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StorageError::Io(format!("cannot read the blob source: {e}"))),
            };
            w.write(&buf[..n])?;
        }
        w.commit(content_type, now)
    }

    /// Stores `bytes` (no size limit: the caller already holds them).
    pub fn put_bytes(&self, bytes: &[u8], content_type: &str, now: i64) -> Result<BlobMeta, StorageError> {
        let mut w = self.begin(u64::MAX)?;
        w.write(bytes)?;
        w.commit(content_type, now)
    }

    /// Metadata of a stored blob; `None` for unknown or malformed ids.
    pub fn meta(&self, sha256: &str) -> Result<Option<BlobMeta>, StorageError> {
        if !is_blob_id(sha256) {
            return Ok(None);
        }
        self.inner.meta.get(sha256.as_bytes())
    }

    /// Where a representation's file is (whether or not it exists); `None`
    /// for a malformed id.
    pub fn path(&self, sha256: &str, encoding: Encoding) -> Option<PathBuf> {
        if !is_blob_id(sha256) {
            return None;
        }
        let name = match encoding {
            Encoding::Identity => sha256.to_owned(),
            Encoding::Gzip => format!("{sha256}.gz"),
            Encoding::Brotli => format!("{sha256}.br"),
        };
        Some(self.inner.dir.join(&sha256[0..2]).join(&sha256[2..4]).join(name))
    }

    /// Compresses the identity file into a variant if that saves enough.
    fn make_variant(&self, src: &Path, dst: &Path, size: u64, enc: Encoding) -> Result<Option<u64>, StorageError> {
        let input = File::open(src).map_err(|e| io("cannot open", src, e))?;
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let tmp = tempfile::Builder::new()
            .prefix("variant-")
            .tempfile_in(&self.inner.tmp)
            .map_err(|e| io("cannot create a temp file in", &self.inner.tmp, e))?;
        let out = tmp.as_file().try_clone().map_err(|e| io("cannot clone", tmp.path(), e))?;
        let small = size <= 1024 * 1024;
        let result = match enc {
            Encoding::Gzip => {
                let level = if small { flate2::Compression::best() } else { flate2::Compression::default() };
                let mut gz = flate2::write::GzEncoder::new(out, level);
                std::io::copy(&mut input, &mut gz).and_then(|_| gz.finish()).map(|_| ())
            }
            Encoding::Brotli => {
                // Quality 11 is slow; only small (typical rendered-page) blobs get it.
                let quality = if small { 11 } else { 6 };
                let mut br = brotli::CompressorWriter::new(out, 64 * 1024, quality, 22);
                std::io::copy(&mut input, &mut br).and_then(|_| br.flush())
            }
            Encoding::Identity => return Ok(None),
        };
        result.map_err(|e| io("cannot compress", src, e))?;
        let compressed = tmp.as_file().metadata().map_err(|e| io("cannot stat", tmp.path(), e))?.len();
        if compressed * MIN_SAVING_DEN > size * MIN_SAVING_NUM {
            return Ok(None);
        }
        tmp.as_file().sync_all().map_err(|e| io("cannot fsync", tmp.path(), e))?;
        tmp.persist(dst).map_err(|e| io("cannot move a variant to", dst, e.error))?;
        Ok(Some(compressed))
    }
}

/// A blob being written: hashed as it streams, refused past its limit.
/// Dropping it (or a failed write) removes the temp file.
pub struct BlobWriter {
    store: BlobStore,
    file: Option<tempfile::NamedTempFile>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter").field("size", &self.size).field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Appends bytes. Past the limit it fails with [`StorageError::TooLarge`]
    /// and the temp file is gone; later writes fail the same way.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        let too_large = StorageError::TooLarge { limit: self.limit };
        let Some(file) = self.file.as_mut() else { return Err(too_large) };
        if self.size.saturating_add(bytes.len() as u64) > self.limit {
            self.file = None;
            return Err(too_large);
        }
        if self.head.len() < HEAD_BYTES {
            let n = (HEAD_BYTES - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
        }
        self.hasher.update(bytes);
        file.write_all(bytes).map_err(|e| StorageError::Io(format!("cannot write a blob: {e}")))?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// The first bytes written (up to [`HEAD_BYTES`]), for sniffing.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Moves the blob into place (or drops it when the same bytes are already
    /// stored), makes compressed variants for compressible types, and records
    /// its metadata. `now` is the creation time (unix seconds) for a new blob.
    pub fn commit(mut self, content_type: &str, now: i64) -> Result<BlobMeta, StorageError> {
        let Some(file) = self.file.take() else { return Err(StorageError::TooLarge { limit: self.limit }) };
        let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let store = &self.store;
        if let Some(existing) = store.meta(&sha)? {
            // Dedup: same bytes, already complete. The first content type stays:
            // the URL names bytes, not a type.
            return Ok(existing);
        }
        let dst = store.path(&sha, Encoding::Identity).ok_or_else(|| StorageError::Io("bad digest".into()))?;
        let leaf = dst.parent().map(Path::to_path_buf).unwrap_or_else(|| store.inner.dir.clone());
        std::fs::create_dir_all(&leaf).map_err(|e| io("cannot create", &leaf, e))?;
        if dst.exists() {
            // An orphan from a crash between rename and metadata: same name, same bytes.
            drop(file);
        } else {
            file.as_file().sync_all().map_err(|e| io("cannot fsync", file.path(), e))?;
            file.persist(&dst).map_err(|e| io("cannot move a blob to", &dst, e.error))?;
        }
        let (mut gzip_size, mut br_size) = (None, None);
        if is_compressible(content_type) && self.size > 0 {
            for (enc, slot) in [(Encoding::Gzip, &mut gzip_size), (Encoding::Brotli, &mut br_size)] {
                if let Some(path) = store.path(&sha, enc) {
                    *slot = store.make_variant(&dst, &path, self.size, enc)?;
                }
            }
        }
        // The new names must survive a crash before the metadata that points at them.
        sync_dir(&leaf)?;
        for d in [leaf.parent(), leaf.parent().and_then(Path::parent)].into_iter().flatten() {
            sync_dir(d)?;
        }
        let meta = BlobMeta {
            sha256: sha.clone(),
            size: self.size,
            content_type: content_type.to_owned(),
            gzip_size,
            br_size,
            created_at: now,
        };
        store.inner.meta.insert(sha.as_bytes(), &meta)?;
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::StoreOptions;

    #[test]
    fn write_durably_replaces_whole_files_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wasm");
        write_durably(&path, b"first").unwrap();
        write_durably(&path, b"second version").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second version");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["c.wasm"]);
        let err = write_durably(&dir.path().join("missing/c.wasm"), b"x").unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    fn open() -> (tempfile::TempDir, Store, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
        let blobs = BlobStore::open(&store, dir.path().join("blobs")).unwrap();
        (dir, store, blobs)
    }

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
        }
        out
    }

    #[test]
    fn round_trip_in_chunks() {
        let (_d, _s, blobs) = open();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = blobs.begin(1 << 20).unwrap();
        for c in data.chunks(4096) {
            w.write(c).unwrap();
        }
        assert_eq!(w.head(), &data[..HEAD_BYTES]);
        let m = w.commit("application/octet-stream", 7).unwrap();
        assert_eq!(m.sha256, sha(&data));
        assert_eq!((m.size, m.created_at, m.gzip_size, m.br_size), (100_000, 7, None, None));
        let p = blobs.path(&m.sha256, Encoding::Identity).unwrap();
        assert!(p.ends_with(format!("{}/{}/{}", &m.sha256[..2], &m.sha256[2..4], m.sha256)));
        assert_eq!(std::fs::read(p).unwrap(), data);
        assert_eq!(blobs.meta(&m.sha256).unwrap(), Some(m));
    }

    #[test]
    fn same_bytes_are_stored_once() {
        let (d, _s, blobs) = open();
        let a = blobs.put_bytes(b"hello", "text/plain", 1).unwrap();
        let b = blobs.put_reader(&b"hello"[..], 10, "text/plain", 2).unwrap();
        assert_eq!(a, b, "the first store's metadata stays");
        let blob_files: Vec<_> = files_under(&d.path().join("blobs"))
            .into_iter()
            .filter(|p| !p.starts_with(d.path().join("blobs/tmp")))
            .collect();
        assert_eq!(blob_files.len(), 1, "{blob_files:?}");
    }

    #[test]
    fn limit_is_enforced_and_leaves_nothing() {
        let (d, _s, blobs) = open();
        let mut w = blobs.begin(10).unwrap();
        w.write(b"0123456789").unwrap();
        assert!(matches!(w.write(b"x"), Err(StorageError::TooLarge { limit: 10 })));
        assert!(matches!(w.write(b"x"), Err(StorageError::TooLarge { .. })), "stays refused");
        assert!(files_under(&d.path().join("blobs/tmp")).is_empty(), "temp file removed at once");
        assert!(matches!(w.commit("text/plain", 0), Err(StorageError::TooLarge { .. })));
        assert!(matches!(blobs.put_reader(&[0u8; 11][..], 10, "a/b", 0), Err(StorageError::TooLarge { .. })));
        assert!(files_under(&d.path().join("blobs")).is_empty());
    }

    #[test]
    fn temp_files_are_never_blobs() {
        let (d, store, blobs) = open();
        // An abandoned write (a crash mid-upload) is only a temp file…
        let mut w = blobs.begin(100).unwrap();
        w.write(b"partial").unwrap();
        std::mem::forget(w);
        assert_eq!(files_under(&d.path().join("blobs/tmp")).len(), 1);
        assert_eq!(blobs.meta(&sha(b"partial")).unwrap(), None);
        // …removed at the next open.
        let reopened = BlobStore::open(&store, d.path().join("blobs")).unwrap();
        assert!(files_under(&d.path().join("blobs/tmp")).is_empty());
        // An orphan file without metadata (crash after rename) is adopted, not duplicated.
        let s = sha(b"orphan");
        let p = reopened.path(&s, Encoding::Identity).unwrap();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"orphan").unwrap();
        assert_eq!(reopened.meta(&s).unwrap(), None, "no metadata, no blob");
        assert_eq!(reopened.put_bytes(b"orphan", "text/plain", 3).unwrap().sha256, s);
        assert_eq!(std::fs::read(&p).unwrap(), b"orphan");
    }

    #[test]
    fn ids_are_validated_before_paths() {
        let (_d, _s, blobs) = open();
        for bad in ["", "../../etc/passwd", &"A".repeat(64), &"a".repeat(63), &format!("{}/", "a".repeat(63))] {
            assert!(blobs.path(bad, Encoding::Identity).is_none(), "{bad}");
            assert_eq!(blobs.meta(bad).unwrap(), None);
        }
    }

    #[test]
    fn only_compressible_types_that_shrink_get_variants() {
        let (_d, _s, blobs) = open();
        let text = "<p>Lectern renders course pages.</p>\n".repeat(200);
        let m = blobs.put_bytes(text.as_bytes(), "text/html; charset=utf-8", 0).unwrap();
        let (gz, br) = (m.gzip_size.unwrap(), m.br_size.unwrap());
        assert!(gz < m.size && br < m.size);
        let gz_bytes = std::fs::read(blobs.path(&m.sha256, Encoding::Gzip).unwrap()).unwrap();
        assert_eq!(gz_bytes.len() as u64, gz);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz_bytes[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
        let br_bytes = std::fs::read(blobs.path(&m.sha256, Encoding::Brotli).unwrap()).unwrap();
        let mut out = String::new();
        brotli::Decompressor::new(&br_bytes[..], 4096).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);

        // Same bytes as a video: no variants (media is already compressed).
        let video = blobs.put_bytes(&text.as_bytes()[1..], "video/mp4", 0).unwrap();
        assert_eq!((video.gzip_size, video.br_size), (None, None));
        // Bytes that do not compress (noise) save < 10 %: no variants.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let n = blobs.put_bytes(&noise, "text/plain", 0).unwrap();
        assert_eq!((n.gzip_size, n.br_size), (None, None));
        assert!(!blobs.path(&n.sha256, Encoding::Gzip).unwrap().exists());
        for (ct, want) in [
            ("text/markdown", true),
            ("application/json", true),
            ("Text/CSV; charset=utf-8", true),
            ("image/png", false),
            ("application/pdf", false),
            ("audio/mpeg", false),
            ("application/zip", false),
        ] {
            assert_eq!(is_compressible(ct), want, "{ct}");
        }
    }
}

//! Backups of a running server, and their restore on a fresh machine.
//!
//! A backup is one tar archive:
//! - `lectern-backup.json`: the format, when, the schema version, and the
//!   database export's size and record count;
//! - `database.ldb`: the database exported while the server runs
//!   (`lectern_storage::Store::export`: every tree, including keys,
//!   credentials' issuer keys, installed-plugin records, the bus and the
//!   audit log);
//! - `blobs/…`: the media and rendered pages (content-addressed files,
//!   written before their metadata commits, never changed);
//! - `plugins/components/…`: installed plugin components and their assets.
//!
//! The secrets key (`secrets.key`) is never in a backup: the signing keys,
//! issuer keys and webhook secrets in the database are sealed with it, so a
//! stolen backup signs nothing. Keep the key apart from the backups; restore
//! needs it (`--secrets-key`), and the manifest names its id.
//!
//! Compiled plugin code, vector-index dumps and temporary files are left
//! out: they are caches, rebuilt after a restore (the plugins compile in the
//! background as on any start without the cache).
//!
//! **Point in time.** Everything acknowledged before the backup began is in
//! it: the database is exported after the request arrives, and an
//! acknowledged write is already flushed. Writes made while it runs may be
//! in it or not, each on its own (see `lectern_storage::Store::export`). The
//! files are copied after the database: every blob and component the
//! exported database names exists by then (files are written before the
//! records naming them, and neither is removed while referenced), and files
//! written later may be in the archive without a record, which is harmless.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lectern_storage::{Store, StoreOptions};
use serde::{Deserialize, Serialize};

use crate::{Capability, CoreError, Kernel, Principal, authz};

const FORMAT: &str = "lectern-backup/1";
const MANIFEST: &str = "lectern-backup.json";
const DATABASE: &str = "database.ldb";
/// What of the data directory a backup holds besides the database.
const FILE_DIRS: &[&str] = &["blobs", "plugins/components"];

/// The backup's first entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackupManifest {
    pub format: String,
    /// Unix seconds when the export began.
    pub created_at: i64,
    pub lectern_version: String,
    pub schema_version: u32,
    pub database_bytes: u64,
    pub database_records: u64,
    pub files: u64,
    /// The id of the key the backup's secrets are sealed with: the restored
    /// server needs that key, which a backup never holds.
    #[serde(default)]
    pub sealing_key: Option<String>,
}

fn io_err(what: impl Into<String>, e: impl std::error::Error + Send + Sync + 'static) -> CoreError {
    CoreError::internal(what.into(), e)
}

impl Kernel {
    /// Writes a backup of the running server to `out` (platform
    /// administrators). Blocking: run it off the async workers. The database
    /// export goes to a temporary file beside `tmp_dir` first.
    pub fn backup(&self, p: &Principal, out: impl Write, tmp_dir: &Path) -> Result<BackupManifest, CoreError> {
        authz::authorize(p, Capability::PlatformManage, authz::Context::Platform)?;
        let created_at = self.clock().now();
        let store = &self.inner.env.store;
        let db = tempfile::NamedTempFile::new_in(tmp_dir).map_err(|e| io_err("a temporary file for the backup", e))?;
        let stats = store.export(BufWriter::new(db.as_file()))?;
        let mut manifest = BackupManifest {
            format: FORMAT.into(),
            created_at,
            lectern_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: store.schema_version()?,
            database_bytes: stats.bytes,
            database_records: stats.records,
            files: 0,
            sealing_key: Some(self.inner.sealing_key_id.clone()),
        };
        let data_dir = &self.inner.config.data_dir;
        let files: Vec<(PathBuf, String)> = FILE_DIRS
            .iter()
            .flat_map(|d| walk(&data_dir.join(d)).into_iter().map(move |f| (f, d)))
            .filter_map(|(f, d)| {
                let rel = f.strip_prefix(data_dir.join(d)).ok()?.to_str()?.to_owned();
                // Unfinished uploads.
                (!rel.starts_with("tmp/") && !rel.ends_with(".tmp")).then(|| (f.clone(), format!("{d}/{rel}")))
            })
            .collect();
        manifest.files = files.len() as u64;
        let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, out));
        tar.mode(tar::HeaderMode::Deterministic);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err("the backup manifest", e))?;
        append_bytes(&mut tar, MANIFEST, &json)?;
        tar.append_path_with_name(db.path(), DATABASE).map_err(|e| io_err("writing the backup", e))?;
        for (path, name) in &files {
            // A file removed since the walk (an unreferenced component) is skipped.
            match std::fs::File::open(path) {
                Ok(mut f) => tar.append_file(name, &mut f).map_err(|e| io_err("writing the backup", e))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(format!("reading {}", path.display()), e)),
            }
        }
        let mut w = tar.into_inner().map_err(|e| io_err("writing the backup", e))?;
        w.flush().map_err(|e| io_err("writing the backup", e))?;
        tracing::info!(records = stats.records, files = manifest.files, "backup written");
        Ok(manifest)
    }
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<(), CoreError> {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o600);
    h.set_cksum();
    tar.append_data(&mut h, name, bytes).map_err(|e| io_err("writing the backup", e))
}

/// Every regular file under `dir` (none if it does not exist).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Restores a backup into `data_dir`, which must not exist or be empty (a
/// fresh machine, a new directory): the database is imported (its checksum
/// checked first) and the files are put back. Start `lectern serve` on it
/// afterwards; migrations of a newer build run then as on any upgrade.
/// Nothing outside `data_dir` is written, whatever the archive names.
///
/// `key_file`, the secrets key of the server that made the backup, is
/// checked against the manifest and copied to `<data_dir>/secrets.key`;
/// without it the restored server needs the key configured before it starts.
pub fn restore(archive: &Path, data_dir: &Path, key_file: Option<&Path>) -> Result<BackupManifest, CoreError> {
    let key = key_file.map(crate::secrets::read_key_file).transpose()?;
    if data_dir.exists() && std::fs::read_dir(data_dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(CoreError::invalid(
            "data_dir",
            format!("{} is not empty: restore into a new directory", data_dir.display()),
        ));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| io_err(format!("creating {}", data_dir.display()), e))?;
    let bad = |why: String| CoreError::invalid("backup", why);
    let file = std::fs::File::open(archive).map_err(|e| bad(format!("cannot open {}: {e}", archive.display())))?;
    let mut tar = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, file));
    let staging = data_dir.join(".restore");
    let mut manifest: Option<BackupManifest> = None;
    let mut database = None;
    for entry in tar.entries().map_err(|e| bad(format!("not a tar archive: {e}")))? {
        let mut entry = entry.map_err(|e| bad(format!("a damaged archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| bad(format!("an entry's name: {e}")))?.to_string_lossy().into_owned();
        let safe = !name.split('/').any(|c| c.is_empty() || c == "." || c == "..") && !name.starts_with('/');
        if name == MANIFEST {
            let mut json = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut json).map_err(|e| bad(format!("the manifest: {e}")))?;
            let m: BackupManifest =
                serde_json::from_slice(&json).map_err(|e| bad(format!("the manifest is not a backup's: {e}")))?;
            if m.format != FORMAT {
                return Err(bad(format!("format `{}` is not {FORMAT}", m.format)));
            }
            manifest = Some(m);
        } else if name == DATABASE {
            std::fs::create_dir_all(&staging).map_err(|e| io_err("a staging directory", e))?;
            let to = staging.join(DATABASE);
            entry.unpack(&to).map_err(|e| bad(format!("the database: {e}")))?;
            database = Some(to);
        } else if safe && FILE_DIRS.iter().any(|d| name.starts_with(&format!("{d}/"))) {
            let to = data_dir.join(&name);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_err(format!("creating {}", parent.display()), e))?;
            }
            entry.unpack(&to).map_err(|e| bad(format!("{name}: {e}")))?;
        } else {
            return Err(bad(format!("unexpected entry `{name}`")));
        }
    }
    let manifest = manifest.ok_or_else(|| bad(format!("no {MANIFEST}: not a Lectern backup")))?;
    if let (Some(key), Some(want)) = (key, &manifest.sealing_key) {
        let id = lectern_storage::SealingKey::new(key).id();
        if id != *want {
            return Err(bad(format!("the backup's secrets are sealed with key {want}; the key given is {id}")));
        }
    }
    let database = database.ok_or_else(|| bad(format!("no {DATABASE} in the backup")))?;
    let store = Store::open(data_dir.join("db"), StoreOptions::default())?;
    let stats = store.import(&database)?;
    if stats.records != manifest.database_records {
        return Err(bad(format!(
            "the database holds {} records, the manifest says {}",
            stats.records, manifest.database_records
        )));
    }
    drop(store);
    if let Some(key) = key {
        crate::secrets::write_key_file(&data_dir.join("secrets.key"), key)?;
    }
    std::fs::remove_dir_all(&staging).map_err(|e| io_err("removing the staging directory", e))?;
    tracing::info!(records = stats.records, files = manifest.files, "backup restored");
    Ok(manifest)
}

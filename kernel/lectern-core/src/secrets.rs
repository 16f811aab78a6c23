//! The key that seals secrets at rest, kept outside the database.
//!
//! Institutions' token-signing keys, credential issuer keys, signed-URL keys
//! and webhook secrets live in sealed trees (`lectern_storage::seal`): a
//! stolen copy of the database directory alone signs nothing. The key comes
//! from `LECTERN_SECRETS_KEY` (64 hex digits) or a key file (default
//! `<data_dir>/secrets.key`, created with a random key on first start, mode
//! 0600). Rotation: make a new key, name the old file in
//! `secrets.previous_key_files`, start; every secret is resealed under the
//! new key at start, after which the old key can go.

use std::path::{Path, PathBuf};

use lectern_storage::{Keyring, SealingKey};

use crate::CoreError;

/// Trees whose values are sealed (every context that keeps secrets names its
/// trees here, so that [`lectern_storage::Store::reseal`] covers them).
pub const SEALED_TREES: &[&str] = &["signing_keys", "credential_issuer_keys", "content_url_keys", "webhooks"];

/// Where the sealing key comes from.
#[derive(Clone, Debug, Default)]
pub struct SecretsSettings {
    /// The key itself (the binary reads `LECTERN_SECRETS_KEY` into it); wins over the file.
    pub key: Option<[u8; 32]>,
    /// The key file; `None` is `<data_dir>/secrets.key`.
    pub key_file: Option<PathBuf>,
    /// Keys sealed with before a rotation, still read (and resealed at start).
    pub previous_key_files: Vec<PathBuf>,
}

impl SecretsSettings {
    pub fn key_path(&self, data_dir: &Path) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| data_dir.join("secrets.key"))
    }
}

fn invalid(why: String) -> CoreError {
    CoreError::invalid("secrets", why)
}

/// Parses a key: 64 hex digits, surrounding whitespace ignored.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = hex::decode(text).map_err(|_| "a secrets key is 64 hexadecimal digits".to_owned())?;
    bytes.try_into().map_err(|_| "a secrets key is 64 hexadecimal digits (32 bytes)".to_owned())
}

/// Reads a key file.
pub fn read_key_file(path: &Path) -> Result<[u8; 32], CoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    parse_key(&text).map_err(|why| invalid(format!("{}: {why}", path.display())))
}

/// Writes a new random key to `path` (mode 0600), refusing to replace one.
pub fn create_key_file(path: &Path) -> Result<[u8; 32], CoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| CoreError::internal("the operating system's random source", e))?;
    write_key_file(path, key)?;
    Ok(key)
}

/// Writes `key` to a new file at `path` (mode 0600, durable), refusing to replace one.
pub fn write_key_file(path: &Path, key: [u8; 32]) -> Result<(), CoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| invalid(format!("cannot create {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut f, format!("{}\n", hex::encode(key)).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
    // The new name is durable once its directory is.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| CoreError::internal("syncing the key's directory", e))?;
    }
    Ok(())
}

/// The keyring for a data directory: the configured key, or the key file —
/// made with a random key when it is the default one, absent, and nothing is
/// sealed yet (`in_use`: the ids of the keys the database's secrets are
/// sealed with). Refuses a key under which the database's secrets do not open.
pub fn keyring(
    settings: &SecretsSettings,
    data_dir: &Path,
    in_use: &std::collections::BTreeSet<String>,
) -> Result<Keyring, CoreError> {
    let path = settings.key_path(data_dir);
    let needed = || in_use.iter().cloned().collect::<Vec<_>>().join(", ");
    let current = match settings.key {
        Some(k) => k,
        None => {
            if path.exists() {
                read_key_file(&path)?
            } else if !in_use.is_empty() {
                return Err(invalid(format!(
                    "the database's secrets are sealed with key {}, and there is no key file at {}: put the \
                     secrets.key of the server that wrote them there (or set LECTERN_SECRETS__KEY)",
                    needed(),
                    path.display()
                )));
            } else if settings.key_file.is_none() {
                tracing::warn!(path = %path.display(), "no secrets key: created one; back it up apart from the data");
                create_key_file(&path)?
            } else {
                return Err(invalid(format!("the secrets key file {} does not exist", path.display())));
            }
        }
    };
    let previous = settings
        .previous_key_files
        .iter()
        .map(|p| read_key_file(p).map(SealingKey::new))
        .collect::<Result<Vec<_>, _>>()?;
    let ring = Keyring::new(SealingKey::new(current), previous);
    let known: Vec<String> = std::iter::once(ring.current()).chain(ring.previous()).map(SealingKey::id).collect();
    if let Some(unknown) = in_use.iter().find(|id| !known.contains(id)) {
        return Err(invalid(format!(
            "the database's secrets are sealed with key {unknown}, which is not this server's ({}): start it with the \
             key the data was written with, and name an older one under `secrets.previous_key_files` after a rotation",
            known.join(", ")
        )));
    }
    Ok(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let settings = SecretsSettings::default();
        let none = std::collections::BTreeSet::new();
        let first = keyring(&settings, dir.path(), &none).unwrap();
        let again = keyring(&settings, dir.path(), &none).unwrap();
        assert_eq!(first.current().id(), again.current().id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(create_key_file(&dir.path().join("secrets.key")).is_err(), "an existing key is never replaced");
        // A named file that is missing is an error, not a new key.
        let named = SecretsSettings { key_file: Some(dir.path().join("elsewhere.key")), ..Default::default() };
        assert!(keyring(&named, dir.path(), &none).unwrap_err().to_string().contains("does not exist"));
        // A database sealed under a key this server lacks: refused, naming the key.
        let sealed = std::collections::BTreeSet::from(["0badc0de".to_owned()]);
        let e = keyring(&settings, dir.path(), &sealed).unwrap_err().to_string();
        assert!(e.contains("0badc0de"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = keyring(&settings, empty.path(), &sealed).unwrap_err().to_string();
        assert!(e.contains("no key file"), "{e}");
        assert!(!empty.path().join("secrets.key").exists(), "no key is made for a database that has secrets");
        assert!(parse_key("abc").is_err());
        assert!(parse_key(&"0".repeat(64)).is_ok());
    }
}

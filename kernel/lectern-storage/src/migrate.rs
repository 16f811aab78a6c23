//! Schema versions and the migrations that move a database between them.
//!
//! The schema version lives in the `__meta` tree. [`Store::migrate`] runs, in
//! order and each exactly once, every migration newer than the stored version,
//! recording each version durably as it completes, and refuses to touch a
//! database written by a newer build.

use crate::{StorageError, Store};

/// One step of the schema.
#[derive(Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub run: fn(&Store) -> Result<(), StorageError>,
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Migration({} {})", self.version, self.name)
    }
}

const KEY: &[u8] = b"schema_version";

impl Store {
    /// The schema version recorded in the database (0 for a new database).
    pub fn schema_version(&self) -> Result<u32, StorageError> {
        let meta = self.meta()?;
        match meta.get(KEY)? {
            None => Ok(0),
            Some(b) => {
                let bytes: [u8; 4] = b.as_ref().try_into().map_err(|_| StorageError::Corrupt {
                    tree: "__meta".into(),
                    detail: "schema_version is not 4 bytes".into(),
                })?;
                Ok(u32::from_be_bytes(bytes))
            }
        }
    }

    /// Brings the database up to the last of `migrations` (sorted by version).
    /// Returns the versions that ran.
    pub fn migrate(&self, migrations: &[Migration]) -> Result<Vec<u32>, StorageError> {
        let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        let current = self.schema_version()?;
        if current > known {
            return Err(StorageError::SchemaTooNew { found: current, known });
        }
        let mut ran = vec![];
        for m in migrations.iter().filter(|m| m.version > current) {
            tracing::info!(version = m.version, name = m.name, "running storage migration");
            (m.run)(self).map_err(|e| StorageError::Migration {
                version: m.version,
                name: m.name,
                detail: e.to_string(),
            })?;
            self.meta()?.insert(KEY, &m.version.to_be_bytes())?;
            self.durable_blocking()?;
            ran.push(m.version);
        }
        Ok(ran)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreOptions;

    fn seed(s: &Store) -> Result<(), StorageError> {
        s.tree::<String>("t")?.insert(b"k", &"v1".to_string())
    }
    fn upper(s: &Store) -> Result<(), StorageError> {
        let t = s.tree::<String>("t")?;
        for kv in t.scan_prefix(b"").collect::<Vec<_>>() {
            let (k, v) = kv?;
            t.insert(k, &v.to_uppercase())?;
        }
        Ok(())
    }
    fn fail(_: &Store) -> Result<(), StorageError> {
        Err(StorageError::Io("boom".into()))
    }

    const V1: Migration = Migration { version: 1, name: "seed", run: seed };
    const V2: Migration = Migration { version: 2, name: "upper", run: upper };

    #[test]
    fn runs_each_migration_once_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
            assert_eq!(s.migrate(&[V1]).unwrap(), vec![1]);
        }
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        assert_eq!(s.migrate(&[V1, V2]).unwrap(), vec![2]);
        assert_eq!(s.migrate(&[V1, V2]).unwrap(), Vec::<u32>::new());
        assert_eq!(s.tree::<String>("t").unwrap().get(b"k").unwrap().as_deref(), Some("V1"));
        assert_eq!(s.schema_version().unwrap(), 2);
    }

    #[test]
    fn refuses_newer_database_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        s.migrate(&[V1, V2]).unwrap();
        assert!(matches!(s.migrate(&[V1]), Err(StorageError::SchemaTooNew { found: 2, known: 1 })));
        let v3 = Migration { version: 3, name: "fail", run: fail };
        assert!(matches!(s.migrate(&[V1, V2, v3]), Err(StorageError::Migration { version: 3, .. })));
        assert_eq!(s.schema_version().unwrap(), 2, "a failed migration does not bump the version");
    }
}

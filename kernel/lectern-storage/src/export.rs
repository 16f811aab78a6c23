//! A database as one file, and back (`lectern admin backup` / `restore`).
//!
//! The format (`LECTERN-DB/1`): the magic line, then frames — `T` tree
//! (u32 name length, name), `K` record (u32 key length, key, u32 value
//! length, value), `I` the id counter (u64), `E` end — and the SHA-256 of
//! every byte before it. Integers are big-endian. Records are copied as
//! stored (their own version byte included), so an export restores into the
//! same build or a later one, whose migrations upgrade it as they would the
//! original database.
//!
//! **What an export holds**: it reads each tree in turn while the database
//! stays open for writes. Every write acknowledged before the export began
//! is in it (acknowledged means flushed, and the export reads after). A
//! write made while it runs may be in it or not, and two writes of one
//! operation to two trees may land on either side of it; the kernel's
//! writes are ordered so that either half alone is safe for a reader (the
//! same reasoning that makes a crash at that point safe).

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use crate::{StorageError, Store};

const MAGIC: &[u8] = b"LECTERN-DB/1\n";

/// What an export or import moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub trees: u64,
    pub records: u64,
    pub bytes: u64,
}

struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::Corrupt { tree: "(export)".into(), detail: e.to_string() }
}

fn bad(detail: impl Into<String>) -> StorageError {
    StorageError::Corrupt { tree: "(import)".into(), detail: detail.into() }
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes())?;
    w.write_all(b)
}

impl Store {
    /// Writes every tree of the database to `out` (see the module docs).
    pub fn export(&self, out: impl Write) -> Result<ExportStats, StorageError> {
        let mut w = Hashing { inner: std::io::BufWriter::with_capacity(1 << 20, out), hash: Sha256::new(), bytes: 0 };
        let mut stats = ExportStats::default();
        w.write_all(MAGIC).map_err(io)?;
        // The id counter first: ids handed out during the export are above it.
        let next_id = self.generate_id()?;
        w.write_all(b"I").map_err(io)?;
        w.write_all(&next_id.to_be_bytes()).map_err(io)?;
        for name in self.db().tree_names() {
            let tree = self.db().open_tree(&name)?;
            w.write_all(b"T").map_err(io)?;
            put_bytes(&mut w, &name).map_err(io)?;
            stats.trees += 1;
            for row in tree.iter() {
                let (k, v) = row?;
                w.write_all(b"K").map_err(io)?;
                put_bytes(&mut w, &k).map_err(io)?;
                put_bytes(&mut w, &v).map_err(io)?;
                stats.records += 1;
            }
        }
        w.write_all(b"E").map_err(io)?;
        let digest = w.hash.clone().finalize();
        w.inner.write_all(&digest).map_err(io)?;
        w.inner.flush().map_err(io)?;
        stats.bytes = w.bytes + 32;
        Ok(stats)
    }

    /// Loads an export file into this database, which must be empty (a
    /// fresh directory), and flushes it. The file's digest is checked in a
    /// first pass, before the first record is written, so a damaged or
    /// truncated file writes nothing; records then stream in.
    pub fn import(&self, path: &std::path::Path) -> Result<ExportStats, StorageError> {
        if self.db().tree_names().iter().any(|n| self.db().open_tree(n).map(|t| !t.is_empty()).unwrap_or(true)) {
            return Err(bad("the database to restore into is not empty"));
        }
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len < (MAGIC.len() + 33) as u64 {
            return Err(bad("not a Lectern database export (too short)"));
        }
        let body_len = len - 32;
        let open = || std::fs::File::open(path).map(|f| std::io::BufReader::with_capacity(1 << 20, f)).map_err(io);
        let mut hash = Sha256::new();
        let mut digest = [0u8; 32];
        {
            let mut f = open()?;
            std::io::copy(&mut (&mut f).take(body_len), &mut HashSink(&mut hash)).map_err(io)?;
            f.read_exact(&mut digest).map_err(io)?;
        }
        if hash.finalize()[..] != digest[..] {
            return Err(bad("the export's checksum does not match: the file is damaged or incomplete"));
        }
        let mut r = open()?.take(body_len);
        let mut magic = vec![0u8; MAGIC.len()];
        r.read_exact(&mut magic).map_err(io)?;
        if magic != MAGIC {
            return Err(bad("not a Lectern database export"));
        }
        let u32_of = |r: &mut dyn Read| -> Result<usize, StorageError> {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|_| bad("the export ends early"))?;
            Ok(u32::from_be_bytes(b) as usize)
        };
        let bytes_of = |r: &mut dyn Read, n: usize| -> Result<Vec<u8>, StorageError> {
            let mut v = vec![0u8; n];
            r.read_exact(&mut v).map_err(|_| bad("the export ends early"))?;
            Ok(v)
        };
        let mut stats = ExportStats { bytes: len, ..Default::default() };
        let mut tree: Option<sled::Tree> = None;
        let mut next_id = 0u64;
        loop {
            let mut tag = [0u8; 1];
            r.read_exact(&mut tag).map_err(|_| bad("the export ends early"))?;
            match tag[0] {
                b'I' => {
                    let mut b = [0u8; 8];
                    r.read_exact(&mut b).map_err(|_| bad("the export ends early"))?;
                    next_id = u64::from_be_bytes(b);
                }
                b'T' => {
                    let n = u32_of(&mut r)?;
                    tree = Some(self.db().open_tree(bytes_of(&mut r, n)?)?);
                    stats.trees += 1;
                }
                b'K' => {
                    let n = u32_of(&mut r)?;
                    let k = bytes_of(&mut r, n)?;
                    let n = u32_of(&mut r)?;
                    let v = bytes_of(&mut r, n)?;
                    tree.as_ref().ok_or_else(|| bad("a record before its tree"))?.insert(k, v)?;
                    stats.records += 1;
                }
                b'E' => break,
                other => return Err(bad(format!("unknown frame {other:#x}"))),
            }
        }
        self.set_id_floor(next_id)?;
        self.durable_blocking()?;
        Ok(stats)
    }
}

struct HashSink<'a>(&'a mut Sha256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Record, Store, StoreOptions};

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Row(String);
    impl Record for Row {
        const VERSION: u8 = 1;
    }

    #[test]
    fn an_export_restores_every_tree_and_the_id_counter() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path().join("a"), StoreOptions::default()).unwrap();
        let t = a.tree::<Row>("things").unwrap();
        for i in 0..1000 {
            t.insert(format!("k{i:04}"), &Row(format!("v{i}"))).unwrap();
        }
        a.tree::<Row>("empty").unwrap();
        let ids: Vec<u64> = (0..5).map(|_| a.generate_id().unwrap()).collect();
        let file = dir.path().join("export");
        let stats = a.export(std::fs::File::create(&file).unwrap()).unwrap();
        assert!(stats.records >= 1000);
        assert_eq!(stats.bytes, std::fs::metadata(&file).unwrap().len());

        let b = Store::open(dir.path().join("b"), StoreOptions::default()).unwrap();
        let back = b.import(&file).unwrap();
        assert_eq!((back.records, back.trees), (stats.records, stats.trees));
        let t = b.tree::<Row>("things").unwrap();
        assert_eq!(t.get("k0999").unwrap(), Some(Row("v999".into())));
        assert!(b.generate_id().unwrap() > *ids.last().unwrap(), "ids keep growing after a restore");
        // Not into a database that holds anything.
        assert!(b.import(&file).is_err());
    }

    #[test]
    fn a_damaged_export_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path().join("a"), StoreOptions::default()).unwrap();
        a.tree::<Row>("things").unwrap().insert("k", &Row("v".into())).unwrap();
        let mut file = Vec::new();
        a.export(&mut file).unwrap();
        let path = dir.path().join("damaged");
        for damage in [file.len() / 2, file.len() - 1] {
            let mut f = file.clone();
            f[damage] ^= 1;
            std::fs::write(&path, &f).unwrap();
            let b = Store::open(dir.path().join(format!("b{damage}")), StoreOptions::default()).unwrap();
            let e = b.import(&path).unwrap_err().to_string();
            assert!(e.contains("checksum"), "{e}");
            assert!(b.tree::<Row>("things").unwrap().get("k").unwrap().is_none());
        }
        std::fs::write(&path, &file[..file.len() - 40]).unwrap();
        let c = Store::open(dir.path().join("c"), StoreOptions::default()).unwrap();
        assert!(c.import(&path).is_err(), "a truncated file");
    }
}

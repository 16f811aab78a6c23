use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::codec::{decode, encode};
use crate::flush::{FlushObserver, GroupFlusher, OnDurable};
use crate::seal::Keyring;
use crate::{Record, StorageError};

/// Tuning for [`Store::open`].
#[derive(Clone, Default)]
pub struct StoreOptions {
    /// Page cache size in bytes; `None` keeps sled's default (1 GiB upper bound).
    pub cache_capacity: Option<u64>,
    /// Called after every group flush (duration, waiters released).
    pub flush_observer: Option<FlushObserver>,
    /// A throwaway database that is deleted on drop (tests, benchmarks).
    pub temporary: bool,
    /// The keys of [`Store::sealed_tree`]s; without one, opening a sealed tree fails.
    pub keyring: Option<Arc<Keyring>>,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("cache_capacity", &self.cache_capacity)
            .field("temporary", &self.temporary)
            .field("keyring", &self.keyring.as_ref().map(|k| k.current().id()))
            .finish_non_exhaustive()
    }
}

/// A handle on the kernel's database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    // Field order matters: the flusher (which holds a database handle on its
    // thread) is dropped and joined before `db`.
    flusher: GroupFlusher,
    db: sled::Db,
    path: PathBuf,
    /// Added to sled's id counter (set by a restore; 0 otherwise).
    id_floor: std::sync::atomic::AtomicU64,
    keyring: std::sync::OnceLock<Arc<Keyring>>,
}

/// `__meta` key of [`Inner::id_floor`].
const ID_FLOOR: &[u8] = b"id_floor";

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

/// A handle that does not keep the database open: it tells when the last
/// [`Store`] is gone (and with it sled's lock on the directory).
#[derive(Clone)]
pub struct WeakStore(std::sync::Weak<Inner>);

impl WeakStore {
    /// Whether every [`Store`] handle on this database has been dropped.
    pub fn is_released(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl Store {
    /// A handle that watches this database without keeping it open.
    pub fn downgrade(&self) -> WeakStore {
        WeakStore(Arc::downgrade(&self.inner))
    }

    /// Opens (creating if needed) the database in `path`.
    pub fn open(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store, StorageError> {
        let path = path.as_ref().to_path_buf();
        let mut config = sled::Config::new().path(&path).temporary(options.temporary);
        if let Some(c) = options.cache_capacity {
            config = config.cache_capacity(c);
        }
        let db = config.open().map_err(|e| match e {
            sled::Error::Io(io) if is_lock_error(&io) => StorageError::Locked { path: path.clone() },
            other => other.into(),
        })?;
        let id_floor = match db.open_tree("__meta")?.get(ID_FLOOR)? {
            Some(b) => u64::from_be_bytes(b.as_ref().try_into().map_err(|_| StorageError::Corrupt {
                tree: "__meta".into(),
                detail: "id_floor is not 8 bytes".into(),
            })?),
            None => 0,
        };
        let flusher = GroupFlusher::start(db.clone(), options.flush_observer)?;
        Ok(Store {
            inner: Arc::new(Inner {
                flusher,
                db,
                path,
                id_floor: std::sync::atomic::AtomicU64::new(id_floor),
                keyring: options.keyring.map(std::sync::OnceLock::from).unwrap_or_default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Opens the tree called `name`, holding records of type `T`.
    pub fn tree<T: Record>(&self, name: &'static str) -> Result<Tree<T>, StorageError> {
        Ok(Tree { tree: self.inner.db.open_tree(name)?, codec: Codec { name, seal: None }, _record: PhantomData })
    }

    /// Opens the tree called `name`, whose values are stored encrypted with
    /// the store's [`Keyring`] (module [`crate::seal`]): for secrets.
    pub fn sealed_tree<T: Record>(&self, name: &'static str) -> Result<Tree<T>, StorageError> {
        let ring = self.inner.keyring.get().cloned().ok_or(StorageError::NoKeyring(name))?;
        Ok(Tree { tree: self.inner.db.open_tree(name)?, codec: Codec { name, seal: Some(ring) }, _record: PhantomData })
    }

    #[cfg(test)]
    pub(crate) fn raw_tree(&self, name: &str) -> sled::Tree {
        self.inner.db.open_tree(name).unwrap()
    }

    /// Gives a store opened without one its [`Keyring`] (once: a second call
    /// with another current key is refused).
    pub fn set_keyring(&self, ring: Arc<Keyring>) -> Result<(), StorageError> {
        let set = self.inner.keyring.get_or_init(|| ring.clone());
        if set.current().id() != ring.current().id() {
            return Err(StorageError::Io("the store already has another secrets key".into()));
        }
        Ok(())
    }

    /// The ids of the keys the values of the trees `names` are sealed with
    /// (hex), read without any key: to tell which key a database needs.
    pub fn sealing_keys_in_use(
        &self,
        names: &[&'static str],
    ) -> Result<std::collections::BTreeSet<String>, StorageError> {
        let mut ids = std::collections::BTreeSet::new();
        for name in names {
            for entry in self.inner.db.open_tree(name)?.iter() {
                let (_, v) = entry?;
                if let Some(id) = Keyring::sealed_with(&v) {
                    ids.insert(hex::encode(id));
                }
            }
        }
        Ok(ids)
    }

    /// Rewrites every value of the sealed trees `names` that is stored in the
    /// clear or under a previous key, under the current key; returns how many
    /// values it rewrote. Each value is swapped only if unchanged since it was
    /// read, so concurrent writers are safe. Run at every start: it is how
    /// secrets written before sealing existed get sealed, and how a key
    /// rotation completes.
    pub fn reseal(&self, names: &[&'static str]) -> Result<usize, StorageError> {
        let ring =
            self.inner.keyring.get().cloned().ok_or(StorageError::NoKeyring(names.first().copied().unwrap_or("")))?;
        let mut rewritten = 0;
        for name in names {
            let tree = self.inner.db.open_tree(name)?;
            for entry in tree.iter() {
                let (k, v) = entry?;
                if ring.is_current(&v) {
                    continue;
                }
                let plain = if Keyring::sealed_with(&v).is_some() { ring.open(name, &k, &v)? } else { v.to_vec() };
                let sealed = ring.seal(name, &k, &plain);
                if tree.compare_and_swap(&k, Some(&v), Some(sealed))?.is_ok() {
                    rewritten += 1;
                }
            }
        }
        if rewritten > 0 {
            self.inner.db.flush()?;
        }
        Ok(rewritten)
    }

    /// Waits until every write made before this call is on disk.
    /// Concurrent callers share one flush.
    pub async fn durable(&self) -> Result<(), StorageError> {
        self.inner.flusher.wait().await
    }

    /// [`Store::durable`] as a callback: `f` runs on the group-commit thread
    /// once everything written before this call is on disk (or the flush
    /// failed). It must be quick and must not wait for another flush. If the
    /// store is shutting down, `f` comes back unrun.
    pub fn on_durable(&self, f: OnDurable) -> Result<(), OnDurable> {
        self.inner.flusher.on_flushed(f)
    }

    /// [`Store::durable`] for synchronous callers (CLI, migrations, benchmarks).
    pub fn durable_blocking(&self) -> Result<(), StorageError> {
        self.inner.flusher.wait_blocking()
    }

    /// Flushes right now on the caller's thread, bypassing group commit.
    /// Exists so benchmarks can compare the two; kernel code uses `durable`.
    pub fn flush_unbatched(&self) -> Result<(), StorageError> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// A process-wide monotonic id (survives restarts, and a backup's
    /// restore: see [`Store::import`]), for ordered logs such as outboxes.
    pub fn generate_id(&self) -> Result<u64, StorageError> {
        Ok(self.inner.db.generate_id()? + self.inner.id_floor.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Makes every id this database generates from now on larger than
    /// `last` (a restored database continues the counter of the original).
    pub(crate) fn set_id_floor(&self, last: u64) -> Result<(), StorageError> {
        let floor = last + 1;
        self.meta()?.insert(ID_FLOOR, &floor.to_be_bytes())?;
        self.inner.id_floor.store(floor, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn db(&self) -> &sled::Db {
        &self.inner.db
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// A cheap liveness probe used by readiness checks.
    pub fn check(&self) -> Result<(), StorageError> {
        self.inner.db.open_tree("__meta")?.get(b"schema_version")?;
        Ok(())
    }

    pub(crate) fn meta(&self) -> Result<sled::Tree, StorageError> {
        Ok(self.inner.db.open_tree("__meta")?)
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock")
}

/// A decoded record with the stored bytes it was decoded from.
type Decoded<T> = (sled::IVec, Arc<T>);

/// Decoded records of one tree, each with the stored bytes it was decoded
/// from; see [`Tree::get_cached`]. For records read far more often than
/// written whose decoding shows in profiles (an assessment on every answer
/// save). At most `capacity` keys.
pub struct DecodeCache<T> {
    map: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Decoded<T>>>,
    capacity: usize,
}

impl<T> DecodeCache<T> {
    pub fn new(capacity: usize) -> Self {
        DecodeCache { map: Default::default(), capacity: capacity.max(1) }
    }
}

impl<T> std::fmt::Debug for DecodeCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecodeCache(capacity {})", self.capacity)
    }
}

/// A record as read by [`Tree::get_stamped`]: its value and the bytes it
/// was stored as (which a compare-and-swap compares, so a record stored by
/// an older layout still matches after its upgrade on read).
#[derive(Clone, Debug)]
pub struct Stamped<T> {
    pub value: T,
    bytes: sled::IVec,
}

impl<T> Stamped<T> {
    /// How many bytes the record takes as stored.
    pub fn stored_len(&self) -> usize {
        self.bytes.len()
    }
}

/// A named tree of `T` records keyed by bytes.
pub struct Tree<T> {
    pub(crate) tree: sled::Tree,
    pub(crate) codec: Codec,
    _record: PhantomData<fn() -> T>,
}

/// How one tree's values become bytes: the record encoding, sealed or not.
#[derive(Clone)]
pub(crate) struct Codec {
    pub(crate) name: &'static str,
    seal: Option<Arc<Keyring>>,
}

impl Codec {
    pub(crate) fn enc<T: Record>(&self, key: &[u8], value: &T) -> Vec<u8> {
        let plain = encode(value);
        match &self.seal {
            None => plain,
            Some(ring) => ring.seal(self.name, key, &plain),
        }
    }

    pub(crate) fn dec<T: Record>(&self, key: &[u8], bytes: &[u8]) -> Result<T, StorageError> {
        match &self.seal {
            None => decode(self.name, bytes),
            Some(ring) => decode(self.name, &ring.open(self.name, key, bytes)?),
        }
    }
}

impl<T> Clone for Tree<T> {
    fn clone(&self) -> Self {
        Tree { tree: self.tree.clone(), codec: self.codec.clone(), _record: PhantomData }
    }
}

impl<T> std::fmt::Debug for Tree<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tree({})", self.codec.name)
    }
}

impl<T: Record> Tree<T> {
    pub fn name(&self) -> &'static str {
        self.codec.name
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<T>, StorageError> {
        let key = key.as_ref();
        match self.tree.get(key)? {
            Some(bytes) => Ok(Some(self.codec.dec(key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// [`Tree::get`] through `cache`: when the stored bytes are the ones the
    /// cache decoded last time for this key, the same decoded record again
    /// (no decoding, no allocation but the key's lookup). Always what is
    /// stored now: the bytes are compared on every call, so no write path
    /// has to invalidate anything.
    pub fn get_cached(&self, key: impl AsRef<[u8]>, cache: &DecodeCache<T>) -> Result<Option<Arc<T>>, StorageError> {
        let key = key.as_ref();
        let Some(bytes) = self.tree.get(key)? else { return Ok(None) };
        {
            let map = cache.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((cached, value)) = map.get(key)
                && *cached == bytes
            {
                return Ok(Some(value.clone()));
            }
        }
        let value = Arc::new(self.codec.dec::<T>(key, &bytes)?);
        let mut map = cache.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= cache.capacity && !map.contains_key(key) {
            // Simple bound: the working set (the assessments being taken now) is small.
            map.clear();
        }
        map.insert(key.to_vec(), (bytes, value.clone()));
        Ok(Some(value))
    }

    /// The record at `key` with the exact bytes it is stored as, for a later
    /// [`Tree::compare_and_swap`].
    pub fn get_stamped(&self, key: impl AsRef<[u8]>) -> Result<Option<Stamped<T>>, StorageError> {
        let key = key.as_ref();
        match self.tree.get(key)? {
            Some(bytes) => Ok(Some(Stamped { value: self.codec.dec(key, &bytes)?, bytes })),
            None => Ok(None),
        }
    }

    /// Stores `new` (`None` removes the key) if the stored bytes are still
    /// those of `expected` (`None`: if the key is absent). One atomic step on
    /// one key: no transaction, so no database-wide lock (sled 0.34 runs
    /// every transaction under one). `Ok(false)`: someone wrote in between.
    pub fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        expected: Option<&Stamped<T>>,
        new: Option<&T>,
    ) -> Result<bool, StorageError> {
        let key = key.as_ref();
        let old = expected.map(|s| s.bytes.clone());
        Ok(self.tree.compare_and_swap(key, old, new.map(|v| self.codec.enc(key, v)))?.is_ok())
    }

    pub fn contains(&self, key: impl AsRef<[u8]>) -> Result<bool, StorageError> {
        Ok(self.tree.contains_key(key)?)
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: &T) -> Result<(), StorageError> {
        let key = key.as_ref();
        self.tree.insert(key, self.codec.enc(key, value))?;
        Ok(())
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<T>, StorageError> {
        let key = key.as_ref();
        match self.tree.remove(key)? {
            Some(bytes) => Ok(Some(self.codec.dec(key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Atomically replaces the value at `key` with `update(old)`; `None` removes it.
    /// `update` may run more than once under contention.
    pub fn update(
        &self,
        key: impl AsRef<[u8]>,
        mut update: impl FnMut(Option<T>) -> Option<T>,
    ) -> Result<Option<T>, StorageError> {
        let key = key.as_ref();
        let mut error = None;
        let out = self.tree.update_and_fetch(key, |old| {
            let old = match old.map(|b| self.codec.dec::<T>(key, b)).transpose() {
                Ok(v) => v,
                Err(e) => {
                    error = Some(e);
                    return old.map(|b| b.to_vec());
                }
            };
            update(old).map(|v| self.codec.enc(key, &v))
        })?;
        if let Some(e) = error {
            return Err(e);
        }
        out.map(|b| self.codec.dec(key, &b)).transpose()
    }

    /// All records whose key starts with `prefix`, in key order.
    pub fn scan_prefix(
        &self,
        prefix: impl AsRef<[u8]>,
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StorageError>> + '_ {
        self.tree.scan_prefix(prefix).map(move |r| {
            let (k, v) = r?;
            Ok((k.to_vec(), self.codec.dec(&k, &v)?))
        })
    }

    /// One page of records under `prefix`, strictly after `after` (a full key
    /// returned by an earlier page), at most `limit` long.
    pub fn page(&self, prefix: &[u8], after: Option<&[u8]>, limit: usize) -> Result<Vec<(Vec<u8>, T)>, StorageError> {
        let iter = match after {
            Some(after) if after.starts_with(prefix) => {
                let mut start = after.to_vec();
                start.push(0); // the smallest key strictly greater than `after`
                self.tree.range(start..)
            }
            _ => self.tree.range(prefix.to_vec()..),
        };
        let mut out = Vec::with_capacity(limit.min(256));
        for r in iter {
            let (k, v) = r?;
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push((k.to_vec(), self.codec.dec(&k, &v)?));
        }
        Ok(out)
    }

    /// The record with the greatest key under `prefix` that is at most `key`
    /// (`key` itself when stored), if any.
    pub fn floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<(Vec<u8>, T)>, StorageError> {
        if !key.starts_with(prefix) {
            return Ok(None);
        }
        match self.tree.range(prefix.to_vec()..=key.to_vec()).next_back() {
            Some(r) => {
                let (k, v) = r?;
                Ok(Some((k.to_vec(), self.codec.dec(&k, &v)?)))
            }
            None => Ok(None),
        }
    }

    /// The greatest key under `prefix`, if any.
    pub fn last_key(&self, prefix: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StorageError> {
        match self.tree.scan_prefix(prefix).next_back() {
            Some(r) => Ok(Some(r?.0.to_vec())),
            None => Ok(None),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
        (dir, s)
    }

    #[test]
    fn typed_tree_basics() {
        let (_d, s) = store();
        let t = s.tree::<String>("names").unwrap();
        assert_eq!(t.get(b"a").unwrap(), None);
        t.insert(b"a", &"ada".to_string()).unwrap();
        assert_eq!(t.get(b"a").unwrap().as_deref(), Some("ada"));
        let up = t.update(b"a", |old| old.map(|s| s + "!")).unwrap();
        assert_eq!(up.as_deref(), Some("ada!"));
        assert_eq!(t.remove(b"a").unwrap().as_deref(), Some("ada!"));
        assert!(t.is_empty());
    }

    /// The cache answers what is stored now, whichever way it was written.
    #[test]
    fn cached_reads_follow_every_write() {
        let (_d, s) = store();
        let t = s.tree::<String>("names").unwrap();
        let cache = DecodeCache::new(2);
        assert_eq!(t.get_cached(b"a", &cache).unwrap(), None);
        t.insert(b"a", &"ada".to_string()).unwrap();
        let first = t.get_cached(b"a", &cache).unwrap().unwrap();
        assert_eq!(*first, "ada");
        let again = t.get_cached(b"a", &cache).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again), "unchanged bytes: the same decoded record");
        // A plain insert, an update and a transaction: each is seen at once.
        t.insert(b"a", &"bea".to_string()).unwrap();
        assert_eq!(*t.get_cached(b"a", &cache).unwrap().unwrap(), "bea");
        t.update(b"a", |old| old.map(|s| s + "!")).unwrap();
        assert_eq!(*t.get_cached(b"a", &cache).unwrap().unwrap(), "bea!");
        s.transaction::<_, ()>(&[&t], |tx| {
            tx.on(&t)?.insert(b"a", &"cy".to_string())?;
            Ok(())
        })
        .unwrap();
        assert_eq!(*t.get_cached(b"a", &cache).unwrap().unwrap(), "cy");
        t.remove(b"a").unwrap();
        assert_eq!(t.get_cached(b"a", &cache).unwrap(), None);
        // Over capacity it starts again, and still answers right.
        for k in ["x", "y", "z"] {
            t.insert(k, &k.to_string()).unwrap();
            assert_eq!(*t.get_cached(k, &cache).unwrap().unwrap(), k);
        }
        assert_eq!(*t.get_cached("x", &cache).unwrap().unwrap(), "x");
    }

    #[test]
    fn pages_walk_a_prefix_exactly_once() {
        let (_d, s) = store();
        let t = s.tree::<u32>("n").unwrap();
        for i in 0..25u32 {
            t.insert(format!("p/{i:03}"), &i).unwrap();
            t.insert(format!("q/{i:03}"), &i).unwrap();
        }
        let mut seen = vec![];
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = t.page(b"p/", after.as_deref(), 10).unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().0.clone());
            seen.extend(page.into_iter().map(|(_, v)| v));
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn second_open_of_same_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _a = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let b = Store::open(dir.path(), StoreOptions::default());
        assert!(matches!(b, Err(StorageError::Locked { .. })), "{b:?}");
    }

    #[test]
    fn durable_writes_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
            let t = s.tree::<u64>("x").unwrap();
            t.insert(b"k", &42).unwrap();
            s.durable_blocking().unwrap();
        }
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        assert_eq!(s.tree::<u64>("x").unwrap().get(b"k").unwrap(), Some(42));
    }

    #[test]
    fn on_durable_runs_after_the_flush_and_may_chain() {
        let dir = tempfile::tempdir().unwrap();
        let flushes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let f = flushes.clone();
        let observer: FlushObserver = Arc::new(move |_, _| {
            f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let s = Store::open(dir.path(), StoreOptions { flush_observer: Some(observer), ..StoreOptions::default() })
            .unwrap();
        let t = s.tree::<u64>("x").unwrap();
        t.insert(b"a", &1).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (s2, t2, fl) = (s.clone(), t.clone(), flushes.clone());
        s.on_durable(Box::new(move |r| {
            let seen = fl.load(std::sync::atomic::Ordering::SeqCst);
            tx.send(("first", r.is_ok(), seen)).unwrap();
            // From inside a callback: write again and ask for the next flush.
            t2.insert(b"b", &2).unwrap();
            let tx2 = tx.clone();
            let fl2 = fl.clone();
            let again = s2.on_durable(Box::new(move |r| {
                tx2.send(("second", r.is_ok(), fl2.load(std::sync::atomic::Ordering::SeqCst))).unwrap();
            }));
            assert!(again.is_ok());
        }))
        .unwrap_or_else(|_| panic!("the flusher runs"));
        let first = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        let second = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!((first.0, first.1), ("first", true));
        assert!(first.2 >= 1, "the callback ran after a flush");
        assert_eq!((second.0, second.1), ("second", true));
        assert!(second.2 > first.2, "the chained callback waited for a later flush");
        drop((t, s));
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        assert_eq!(s.tree::<u64>("x").unwrap().get(b"b").unwrap(), Some(2));
    }

    #[test]
    fn a_flush_callback_holding_the_last_handle_closes_the_store_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
        s.tree::<u64>("x").unwrap().insert(b"k", &7).unwrap();
        let (dropped, wait_for_drop) = std::sync::mpsc::channel::<()>();
        let (done, callback_done) = std::sync::mpsc::channel::<bool>();
        let held = s.clone();
        s.on_durable(Box::new(move |r| {
            // Wait until the test has let go of its handle, so this one is the last.
            let _ = wait_for_drop.recv_timeout(std::time::Duration::from_secs(10));
            // Closes the store on the flush thread itself; it once panicked
            // here ("failed to join thread: Resource deadlock avoided").
            let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(held))).is_ok();
            let _ = done.send(r.is_ok() && closed);
        }))
        .unwrap_or_else(|_| panic!("the flusher runs"));
        drop(s);
        dropped.send(()).unwrap();
        assert!(callback_done.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let reopened = loop {
            match Store::open(dir.path(), StoreOptions::default()) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(std::time::Instant::now() < deadline, "the store stayed locked: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        };
        assert_eq!(reopened.tree::<u64>("x").unwrap().get(b"k").unwrap(), Some(7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_durable_calls_share_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let flushes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waiters = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (f, w) = (flushes.clone(), waiters.clone());
        let s = Store::open(
            dir.path(),
            StoreOptions {
                flush_observer: Some(Arc::new(move |_, n| {
                    f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    w.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                })),
                ..Default::default()
            },
        )
        .unwrap();
        let t = s.tree::<u64>("x").unwrap();
        let mut tasks = vec![];
        for i in 0..200u64 {
            let (s, t) = (s.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                t.insert(i.to_be_bytes(), &i).unwrap();
                s.durable().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let (f, w) =
            (flushes.load(std::sync::atomic::Ordering::SeqCst), waiters.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(w, 200, "every waiter answered exactly once");
        assert!(f < 200, "200 concurrent writers should share flushes, got {f} flushes");
    }
}

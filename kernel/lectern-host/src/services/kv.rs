//! `kv`: plugin-private key-value storage. Every key lives under
//! `plugin id ‖ 0 ‖ scope ‖ 0`, and a guest key cannot contain NUL, so no
//! guest key can reach outside its plugin's and institution's namespace.

use super::ServiceError;
use crate::state::PluginState;

pub(crate) const MAX_KEY_BYTES: usize = 512;
pub(crate) const MAX_VALUE_BYTES: usize = 1024 * 1024;
pub(crate) const MAX_LIST: u32 = 1000;

impl PluginState {
    /// `plugin id ‖ 0 ‖ scope ‖ 0`: the guest's key is appended to this.
    fn prefix(&self) -> Vec<u8> {
        [self.who.id.as_bytes(), b"\0", self.scope.as_bytes(), b"\0"].concat()
    }

    fn usage_key(&self) -> Vec<u8> {
        [self.who.id.as_bytes(), b"\0", self.scope.as_bytes()].concat()
    }

    fn check_key(key: &str) -> Result<(), ServiceError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(ServiceError::InvalidInput(format!("keys must be 1–{MAX_KEY_BYTES} bytes")));
        }
        if key.contains('\0') {
            return Err(ServiceError::InvalidInput("keys must not contain NUL".into()));
        }
        Ok(())
    }

    pub(crate) fn storage_error(e: impl std::fmt::Display) -> ServiceError {
        tracing::error!(error = %e, "plugin kv storage failure");
        ServiceError::Unavailable("storage is unavailable".into())
    }

    /// Writes or deletes `key`; `expected` makes it a compare-and-swap.
    /// Durable before returning.
    ///
    /// No storage transaction (sled 0.34 runs each one under a database-wide
    /// lock, which stalled every other request while the proctoring plugin
    /// saved a session). Instead the key is swapped atomically against the
    /// value read, and the quota is kept with atomic updates of the usage
    /// counter in an order that never lets it fall below what is stored:
    /// growth is reserved before the swap (and given back if the swap loses a
    /// race), shrinkage released after it. A crash between the two steps
    /// leaves the counter too high by that one write, never too low, so the
    /// quota is never exceeded.
    fn write(&mut self, key: &str, expected: Option<Option<&[u8]>>, new: Option<&[u8]>) -> Result<bool, ServiceError> {
        Self::check_key(key)?;
        if let Some(v) = new
            && v.len() > MAX_VALUE_BYTES
        {
            return Err(ServiceError::QuotaExceeded(format!("values are at most {MAX_VALUE_BYTES} bytes")));
        }
        let full = [self.prefix(), key.as_bytes().to_vec()].concat();
        let new_value = new.map(<[u8]>::to_vec);
        let new_size = new.map(|v| (full.len() + v.len()) as u64).unwrap_or(0);
        let s = &self.services;
        let wrote = loop {
            let old = s.kv.get_stamped(&full).map_err(Self::storage_error)?;
            if let Some(exp) = expected
                && old.as_ref().map(|o| o.value.as_slice()) != exp
            {
                return Ok(false);
            }
            if old.is_none() && new.is_none() {
                break false;
            }
            let old_size = old.as_ref().map(|o| (full.len() + o.value.len()) as u64).unwrap_or(0);
            let grow = new_size.saturating_sub(old_size);
            if grow > 0 {
                self.reserve(grow)?;
            }
            if s.kv.compare_and_swap(&full, old.as_ref(), new_value.as_ref()).map_err(Self::storage_error)? {
                let shrink = old_size.saturating_sub(new_size);
                if shrink > 0 {
                    self.release(shrink)?;
                }
                break true;
            }
            // Another write to this key came first: give the reservation back
            // and start again from what is stored now.
            if grow > 0 {
                self.release(grow)?;
            }
        };
        if wrote {
            self.services.store.durable_blocking().map_err(Self::storage_error)?;
        }
        Ok(wrote)
    }

    /// Adds `bytes` to this namespace's usage unless that passes the quota.
    fn reserve(&self, bytes: u64) -> Result<(), ServiceError> {
        let quota = self.who.grants.kv_quota_bytes.unwrap_or(0);
        let mut over = false;
        self.services
            .usage
            .update(self.usage_key(), |used| {
                let used = used.unwrap_or(0);
                let next = used.saturating_add(bytes);
                over = next > quota;
                Some(if over { used } else { next })
            })
            .map_err(Self::storage_error)?;
        if over {
            return Err(ServiceError::QuotaExceeded(format!(
                "kv quota of {quota} bytes for this institution would be exceeded"
            )));
        }
        Ok(())
    }

    fn release(&self, bytes: u64) -> Result<(), ServiceError> {
        self.services
            .usage
            .update(self.usage_key(), |used| Some(used.unwrap_or(0).saturating_sub(bytes)))
            .map_err(Self::storage_error)
            .map(|_| ())
    }

    pub(crate) fn kv_get(&mut self, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        Self::check_key(key)?;
        let full = [self.prefix(), key.as_bytes().to_vec()].concat();
        self.services.kv.get(full).map_err(Self::storage_error)
    }

    pub(crate) fn kv_set(&mut self, key: &str, value: &[u8]) -> Result<(), ServiceError> {
        self.write(key, None, Some(value)).map(|_| ())
    }

    /// Returns whether the key existed (a delete stores no new value).
    pub(crate) fn kv_delete(&mut self, key: &str) -> Result<bool, ServiceError> {
        self.write(key, None, None)
    }

    pub(crate) fn kv_list_keys(
        &mut self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, ServiceError> {
        if prefix.contains('\0') || after.is_some_and(|a| a.contains('\0')) {
            return Err(ServiceError::InvalidInput("keys must not contain NUL".into()));
        }
        let ns = self.prefix();
        let full_prefix = [ns.as_slice(), prefix.as_bytes()].concat();
        let after_full = after.map(|a| [ns.as_slice(), a.as_bytes()].concat());
        let rows = self
            .services
            .kv
            .page(&full_prefix, after_full.as_deref(), limit.clamp(1, MAX_LIST) as usize)
            .map_err(Self::storage_error)?;
        Ok(rows.into_iter().map(|(k, _)| String::from_utf8_lossy(&k[ns.len()..]).into_owned()).collect())
    }

    pub(crate) fn kv_compare_and_swap(
        &mut self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, ServiceError> {
        self.write(key, Some(expected), new)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use lectern_storage::{Store, StoreOptions};
    use wasmtime::StoreLimits;
    use wasmtime::component::ResourceTable;
    use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

    use super::*;
    use crate::manifest::Capabilities;
    use crate::state::{Identity, Services};

    pub(crate) fn state(services: &Services, quota: u64) -> PluginState {
        let grants = Capabilities { kv_quota_bytes: Some(quota), ..Default::default() };
        let who = Arc::new(Identity { id: "test.kv".into(), version: "1.0.0".into(), grants });
        PluginState {
            wasi: wasmtime_wasi::WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limits: StoreLimits::default(),
            who: who.clone(),
            scope: "inst".into(),
            request_id: "r".into(),
            services: services.clone(),
            vector_scope: vec![],
            stdout: MemoryOutputPipe::new(1),
            stderr: MemoryOutputPipe::new(1),
            flushed: [0, 0],
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            outbound: crate::services::http::Outbound { who, budget: std::time::Duration::from_secs(1) },
            activity: None,
        }
    }

    fn used(s: &PluginState) -> u64 {
        s.services.usage.get(s.usage_key()).unwrap().unwrap_or(0)
    }

    /// `test.kv\0inst\0` is 13 bytes; a key's size is that, the key and the value.
    const NS: u64 = 13;

    #[test]
    fn usage_follows_every_write_and_the_quota_refuses_without_storing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
        let services = Services::open(&store).unwrap();
        let mut s = state(&services, 200);
        s.kv_set("a", &[1; 100]).unwrap();
        assert_eq!(used(&s), NS + 1 + 100);
        s.kv_set("a", &[2; 10]).unwrap();
        assert_eq!(used(&s), NS + 1 + 10);
        let e = s.kv_set("b", &[3; 200]).unwrap_err();
        assert!(matches!(e, ServiceError::QuotaExceeded(_)), "{e:?}");
        assert_eq!(s.kv_get("b").unwrap(), None, "a refused write stores nothing");
        assert_eq!(used(&s), NS + 1 + 10, "and reserves nothing");
        assert!(!s.kv_compare_and_swap("a", Some(&[9]), Some(&[4; 5])).unwrap(), "a stale expectation loses");
        assert_eq!(s.kv_get("a").unwrap(), Some(vec![2; 10]));
        assert!(s.kv_compare_and_swap("a", Some(&[2; 10]), Some(&[4; 5])).unwrap());
        assert!(s.kv_compare_and_swap("c", None, Some(&[5])).unwrap());
        assert!(!s.kv_compare_and_swap("c", None, Some(&[6])).unwrap(), "an absent expectation loses once it exists");
        assert_eq!(used(&s), (NS + 1 + 5) + (NS + 1 + 1));
        assert!(s.kv_delete("a").unwrap());
        assert!(!s.kv_delete("a").unwrap(), "deleting what is gone says so");
        assert!(s.kv_delete("c").unwrap());
        assert_eq!(used(&s), 0);
    }

    fn count(value: &[u8]) -> u64 {
        std::str::from_utf8(value).unwrap().split('/').next().unwrap().parse().unwrap()
    }

    /// Two threads race compare-and-swap increments on one key and plain
    /// writes on their own keys: every increment that reported success is
    /// counted once, and the usage counter ends exactly at what is stored.
    #[test]
    fn racing_writers_lose_no_update_and_keep_usage_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
        let services = Services::open(&store).unwrap();
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let services = services.clone();
                std::thread::spawn(move || {
                    let mut s = state(&services, 1 << 20);
                    let mut won = 0u64;
                    for i in 0..500u64 {
                        loop {
                            let old = s.kv_get("counter").unwrap();
                            let n = old.as_deref().map(count).unwrap_or(0);
                            // The value grows and shrinks with every increment,
                            // so a lost race often held a reservation.
                            let next = format!("{}/{}", n + 1, "x".repeat((n as usize * 7) % 40));
                            if s.kv_compare_and_swap("counter", old.as_deref(), Some(next.as_bytes())).unwrap() {
                                won += 1;
                                break;
                            }
                        }
                        s.kv_set(&format!("t{t}"), &vec![0; (i % 50) as usize]).unwrap();
                    }
                    won
                })
            })
            .collect();
        let won: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let mut s = state(&services, 1 << 20);
        let n = count(&s.kv_get("counter").unwrap().unwrap());
        assert_eq!((won, n), (1000, 1000));
        let stored: u64 = s
            .kv_list_keys("", None, 100)
            .unwrap()
            .iter()
            .map(|k| NS + k.len() as u64 + s.kv_get(k).unwrap().unwrap().len() as u64)
            .sum();
        assert_eq!(used(&s), stored);
    }
}

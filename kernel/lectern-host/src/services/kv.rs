//! `kv`: plugin-private key-value storage. Every key lives under
//! `plugin id ‖ 0 ‖ scope ‖ 0`, and a guest key cannot contain NUL, so no
//! guest key can reach outside its plugin's and institution's namespace.

use lectern_storage::{TxFail, abort};

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

    /// Writes or deletes `key` in one transaction with the quota accounting;
    /// `expected` makes it a compare-and-swap. Durable before returning.
    fn write(&mut self, key: &str, expected: Option<Option<&[u8]>>, new: Option<&[u8]>) -> Result<bool, ServiceError> {
        Self::check_key(key)?;
        if let Some(v) = new
            && v.len() > MAX_VALUE_BYTES
        {
            return Err(ServiceError::QuotaExceeded(format!("values are at most {MAX_VALUE_BYTES} bytes")));
        }
        let quota = self.who.grants.kv_quota_bytes.unwrap_or(0);
        let full = [self.prefix(), key.as_bytes().to_vec()].concat();
        let usage_key = self.usage_key();
        let s = &self.services;
        let wrote = s
            .store
            .transaction(&[&s.kv, &s.usage], |tx| {
                let kvt = tx.on(&s.kv)?;
                let old = kvt.get(&full)?;
                if let Some(exp) = expected
                    && old.as_deref() != exp
                {
                    return Ok(false);
                }
                let old_size = old.as_ref().map(|v| (full.len() + v.len()) as u64).unwrap_or(0);
                let new_size = new.map(|v| (full.len() + v.len()) as u64).unwrap_or(0);
                let ut = tx.on(&s.usage)?;
                let used = ut.get(&usage_key)?.unwrap_or(0);
                let next = used.saturating_sub(old_size).saturating_add(new_size);
                if new_size > old_size && next > quota {
                    return abort(ServiceError::QuotaExceeded(format!(
                        "kv quota of {quota} bytes for this institution would be exceeded"
                    )));
                }
                match new {
                    Some(v) => kvt.insert(&full, &v.to_vec())?,
                    None => {
                        kvt.remove(&full)?;
                    }
                }
                ut.insert(&usage_key, &next)?;
                Ok::<bool, TxFail<ServiceError>>(old.is_some() || new.is_some())
            })
            .map_err(|e| match e {
                lectern_storage::TxError::Aborted(e) => e,
                lectern_storage::TxError::Storage(e) => Self::storage_error(e),
            })?;
        if wrote {
            s.store.durable_blocking().map_err(Self::storage_error)?;
        }
        Ok(wrote)
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

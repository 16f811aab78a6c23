//! Canonical JSON (RFC 8785, JSON Canonicalization Scheme): the bytes that
//! are signed. For the integers and ASCII strings TUF metadata holds, this is
//! byte-for-byte the "canonical JSON" the TUF reference implementation signs.

use serde::Serialize;

use crate::MarketError;

/// The RFC 8785 form of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, MarketError> {
    serde_jcs::to_vec(value)
        .map_err(|e| MarketError::Malformed { what: "canonical JSON".into(), detail: e.to_string() })
}

/// Re-serialises `bytes` canonically; `Ok(true)` when they already were canonical.
pub fn is_canonical(bytes: &[u8]) -> Result<bool, MarketError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| MarketError::Malformed { what: "JSON".into(), detail: e.to_string() })?;
    Ok(to_vec(&v)? == bytes)
}

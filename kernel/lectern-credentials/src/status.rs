//! W3C Bitstring Status List v1.0 (<https://www.w3.org/TR/vc-bitstring-status-list/>): the
//! `BitstringStatusListEntry` a credential carries, the list itself (one bit per credential, index 0
//! the left-most bit of the first byte) and the unsigned `BitstringStatusListCredential` that
//! publishes it as GZIP, base64url, multibase `u`.

use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::multibase::{decode_base64url, encode_base64url, preview};
use crate::{CredentialError, VC_V2_CONTEXT, datetime};

/// The spec's minimum list length: 131,072 entries, 16 KiB uncompressed.
pub const MIN_ENTRIES: u64 = 131_072;
/// The largest list [`StatusList::decode`] accepts (64 MiB of bits, 512 Mi entries): a bound on what
/// a hostile GZIP stream can make us allocate.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";

/// One `credentialStatus` entry of type `BitstringStatusListEntry` (`statusSize` 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The entry's own id, conventionally `<list_credential>#<list_index>`.
    pub id: String,
    /// `revocation` or `suspension`.
    pub purpose: String,
    pub list_index: u64,
    /// URL of the `BitstringStatusListCredential`.
    pub list_credential: String,
}

impl StatusEntry {
    /// An entry whose id is `<list_credential>#<list_index>`.
    pub fn new(list_credential: &str, purpose: &str, list_index: u64) -> Self {
        Self {
            id: format!("{list_credential}#{list_index}"),
            purpose: purpose.to_owned(),
            list_index,
            list_credential: list_credential.to_owned(),
        }
    }

    /// The JSON form; `statusListIndex` is a base-10 string, as the spec requires.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": ENTRY_TYPE,
            "statusPurpose": self.purpose,
            "statusListIndex": self.list_index.to_string(),
            "statusListCredential": self.list_credential,
        })
    }

    /// Reads one entry. Multi-bit entries (`statusSize` > 1) and other status types are refused.
    pub fn from_json(value: &Value) -> Result<Self, CredentialError> {
        let bad = |msg: String| CredentialError::Status(msg);
        let entry = value.as_object().ok_or_else(|| bad("a credentialStatus entry is not a JSON object".into()))?;
        let text = |name: &str| -> Result<String, CredentialError> {
            match entry.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(bad(format!("{name} is not a non-empty string"))),
                None => Err(bad(format!("{name} is missing"))),
            }
        };
        let kind = text("type")?;
        if kind != ENTRY_TYPE {
            return Err(bad(format!("unsupported status type {} (only {ENTRY_TYPE})", preview(&kind))));
        }
        match entry.get("statusSize") {
            None => {}
            Some(size) if size == &json!(1) => {}
            Some(size) => return Err(bad(format!("statusSize {size} is not supported (only 1)"))),
        }
        let index = text("statusListIndex")?;
        // A base-10 integer string; `u64::from_str` alone would also take a leading '+'.
        let list_index = (index.bytes().all(|b| b.is_ascii_digit()))
            .then(|| index.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| bad(format!("statusListIndex {} is not a base-10 integer", preview(&index))))?;
        Ok(Self {
            id: text("id")?,
            purpose: text("statusPurpose")?,
            list_index,
            list_credential: text("statusListCredential")?,
        })
    }
}

/// A status list: bit `i` set means the credential at `statusListIndex` `i` has the list's status.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.bits.iter().map(|b| b.count_ones() as u64).sum::<u64>();
        f.debug_struct("StatusList").field("entries", &self.len()).field("set", &set).finish()
    }
}

impl Default for StatusList {
    fn default() -> Self {
        Self { bits: vec![0; (MIN_ENTRIES / 8) as usize] }
    }
}

impl StatusList {
    /// A list of the minimum size (131,072 entries), all clear.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clear list of at least `entries` entries (rounded up to whole bytes, never below the minimum).
    pub fn with_entries(entries: u64) -> Result<Self, CredentialError> {
        let bytes = usize::try_from(entries.max(MIN_ENTRIES).div_ceil(8)).unwrap_or(usize::MAX);
        if bytes > MAX_BYTES {
            return Err(CredentialError::Status(format!(
                "a list of {entries} entries is larger than {MAX_BYTES} bytes"
            )));
        }
        Ok(Self { bits: vec![0; bytes] })
    }

    /// How many entries the list holds.
    pub fn len(&self) -> u64 {
        self.bits.len() as u64 * 8
    }

    /// Never true: a list has at least [`MIN_ENTRIES`].
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    fn locate(&self, index: u64) -> Result<(usize, u8), CredentialError> {
        let out_of_range = CredentialError::StatusIndexOutOfRange { index, len: self.len() };
        let byte = usize::try_from(index / 8).map_err(|_| out_of_range)?;
        if byte >= self.bits.len() {
            return Err(CredentialError::StatusIndexOutOfRange { index, len: self.len() });
        }
        // Index 0 is the left-most (most significant) bit of the first byte.
        Ok((byte, 0x80 >> (index % 8)))
    }

    pub fn get(&self, index: u64) -> Result<bool, CredentialError> {
        let (byte, mask) = self.locate(index)?;
        Ok(self.bits[byte] & mask != 0)
    }

    pub fn set(&mut self, index: u64, value: bool) -> Result<(), CredentialError> {
        let (byte, mask) = self.locate(index)?;
        if value {
            self.bits[byte] |= mask;
        } else {
            self.bits[byte] &= !mask;
        }
        Ok(())
    }

    /// `encodedList`: multibase base64url (`u`, no padding) of the GZIP-compressed bits.
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = gz.write_all(&self.bits).and_then(|()| gz.finish()).unwrap_or_default();
        encode_base64url(&compressed)
    }

    /// Reads an `encodedList`; refuses lists below the spec's minimum and above [`MAX_BYTES`].
    pub fn decode(encoded: &str) -> Result<Self, CredentialError> {
        let compressed = decode_base64url(encoded)?;
        let mut bits = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bits)
            .map_err(|e| CredentialError::Status(format!("encodedList is not valid GZIP: {e}")))?;
        if bits.len() > MAX_BYTES {
            return Err(CredentialError::Status(format!("encodedList expands beyond {MAX_BYTES} bytes")));
        }
        if (bits.len() as u64) * 8 < MIN_ENTRIES {
            return Err(CredentialError::Status(format!(
                "the list has {} entries, fewer than the minimum {MIN_ENTRIES}",
                bits.len() * 8
            )));
        }
        Ok(Self { bits })
    }
}

/// The unsigned `BitstringStatusListCredential` publishing `list` for the `revocation` purpose.
/// Sign it with [`crate::sign`] like any other credential.
pub fn status_list_credential(id: &str, issuer_id: &str, list: &StatusList, valid_from: OffsetDateTime) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": datetime::format(valid_from),
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": list.encode(),
        },
    })
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;

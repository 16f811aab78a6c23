//! The on-disk value encoding: a two-byte envelope then postcard.
//!
//! Byte 0 is the envelope format (always [`ENVELOPE_POSTCARD`] today), byte 1
//! the record's own schema version. A record type bumps [`Record::VERSION`]
//! when its shape changes and teaches [`Record::upgrade`] to read the old one,
//! so values written by an older build stay readable.

use serde::{Serialize, de::DeserializeOwned};

use crate::StorageError;

const ENVELOPE_POSTCARD: u8 = 1;

/// A value that can live in a [`crate::Tree`].
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Current schema version of this record's encoding.
    const VERSION: u8;

    /// Decode a value written with an older `version`. The default refuses.
    fn upgrade(version: u8, _body: &[u8]) -> Result<Self, String> {
        Err(format!("no upgrade path from version {version}"))
    }
}

/// Decodes the body of a value written by an older version of a record
/// type, for [`Record::upgrade`]: `T` spells out that version's layout
/// (fields are positional, so it must list exactly the old fields in order).
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    postcard::from_bytes(body).map_err(|e| e.to_string())
}

pub(crate) fn encode<T: Record>(value: &T) -> Vec<u8> {
    let mut out = vec![ENVELOPE_POSTCARD, T::VERSION];
    // postcard only fails on writer errors or unsupported serde features
    // (e.g. `deserialize_any`); a Vec writer cannot fail and every Record is
    // round-tripped by tests, so an error here is a programming bug.
    match postcard::to_extend(value, out) {
        Ok(v) => out = v,
        Err(e) => unreachable_encoding(e),
    }
    out
}

#[cold]
fn unreachable_encoding(e: postcard::Error) -> ! {
    // Proven invariant: see `encode`. Panicking here is preferable to writing
    // a record that cannot be read back.
    panic!("record type cannot be encoded with postcard: {e}")
}

pub(crate) fn decode<T: Record>(tree: &str, bytes: &[u8]) -> Result<T, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt { tree: tree.to_owned(), detail };
    match bytes {
        [ENVELOPE_POSTCARD, version, body @ ..] => {
            if *version == T::VERSION {
                postcard::from_bytes(body).map_err(|e| corrupt(e.to_string()))
            } else if *version < T::VERSION {
                T::upgrade(*version, body).map_err(corrupt)
            } else {
                Err(StorageError::UnknownVersion { tree: tree.to_owned(), found: *version, known: T::VERSION })
            }
        }
        [other, ..] => Err(corrupt(format!("unknown envelope format {other}"))),
        [] => Err(corrupt("empty value".into())),
    }
}

macro_rules! plain_record {
    ($($t:ty),*) => { $(impl Record for $t { const VERSION: u8 = 1; })* };
}
plain_record!((), u8, u16, u32, u64, i64, bool, String, Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V2 {
        name: String,
        age: u32,
    }
    impl Record for V2 {
        const VERSION: u8 = 2;
        fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
            match version {
                1 => {
                    let name: String = postcard::from_bytes(body).map_err(|e| e.to_string())?;
                    Ok(V2 { name, age: 0 })
                }
                v => Err(format!("no upgrade from {v}")),
            }
        }
    }

    #[test]
    fn round_trips() {
        let v = V2 { name: "ada".into(), age: 36 };
        assert_eq!(decode::<V2>("t", &encode(&v)).unwrap(), v);
    }

    #[test]
    fn upgrades_old_versions() {
        let old = encode(&"grace".to_string()); // a v1 String record
        assert_eq!(decode::<V2>("t", &old).unwrap(), V2 { name: "grace".into(), age: 0 });
    }

    #[test]
    fn refuses_newer_and_garbage() {
        let mut newer = encode(&V2 { name: "x".into(), age: 1 });
        newer[1] = 9;
        assert!(matches!(decode::<V2>("t", &newer), Err(StorageError::UnknownVersion { found: 9, .. })));
        assert!(matches!(decode::<V2>("t", &[]), Err(StorageError::Corrupt { .. })));
        assert!(matches!(decode::<V2>("t", &[7, 1]), Err(StorageError::Corrupt { .. })));
        assert!(matches!(decode::<V2>("t", &[1, 2, 0xff]), Err(StorageError::Corrupt { .. })));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = decode::<V2>("t", &bytes);
        }
    }
}

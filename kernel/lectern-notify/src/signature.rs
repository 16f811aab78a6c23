//! The `Lectern-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
//!
//! The MAC is over `"<t>." ++ body` with the webhook's secret, so a receiver
//! can check that the body came from us unchanged and, through `t`, that it is
//! not an old delivery replayed. A header may carry several `v1` entries (one
//! per secret while a secret is being rotated); any one matching is enough.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::NotifyError;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value for `body` sent at `timestamp` (unix seconds).
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body)))
}

/// Checks a `Lectern-Signature` header against `body` and `secret`, in constant time, and
/// refuses a timestamp more than `tolerance_secs` away from `now` (both unix seconds).
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), NotifyError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| NotifyError::MalformedSignature(format!("{part:?} is not key=value")))?;
        match key {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| NotifyError::MalformedSignature(format!("timestamp {value:?} is not an integer")))?;
                if timestamp.replace(t).is_some() {
                    return Err(NotifyError::MalformedSignature("more than one timestamp".into()));
                }
            }
            "v1" => candidates.push(value),
            // Other schemes may be added later; receivers skip what they do not know.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| NotifyError::MalformedSignature("no t= timestamp".into()))?;
    if candidates.is_empty() {
        return Err(NotifyError::MalformedSignature("no v1= signature".into()));
    }
    let expected = mac(secret, timestamp, body);
    let matched = candidates
        .iter()
        .filter_map(|c| hex::decode(c).ok())
        .fold(subtle::Choice::from(0), |acc, given| acc | given.as_slice().ct_eq(&expected));
    if !bool::from(matched) {
        return Err(NotifyError::BadSignature);
    }
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(timestamp) > tolerance {
        return Err(NotifyError::StaleSignature { timestamp, now, tolerance_secs });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":"grade.published","id":42}"#;
    // Computed independently:
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test",
    //   b"1700000000." + b"{\"event\":\"grade.published\",\"id\":42}", hashlib.sha256).hexdigest())'
    const EXPECTED: &str = "d17929b7e0a874231e49e200aa34ebb7ce190bc337a7df353a82008c94bbfffc";

    #[test]
    fn known_vector() {
        assert_eq!(signature_header(b"whsec_test", 1_700_000_000, BODY), format!("t=1700000000,v1={EXPECTED}"));
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"key",
        //   b"1.The quick brown fox jumps over the lazy dog", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature_header(b"key", 1, b"The quick brown fox jumps over the lazy dog"),
            "t=1,v1=3ff4d3cc115b639a16dc5b217aa5c89be41d1e4b54efc356d63d0cd2a65b30f1"
        );
    }

    #[test]
    fn verifies_and_rejects() {
        let header = signature_header(b"whsec_test", 1_700_000_000, BODY);
        assert!(verify_signature(b"whsec_test", &header, BODY, 1_700_000_100, 300).is_ok());
        assert!(verify_signature(b"whsec_test", &header, BODY, 1_699_999_900, 300).is_ok());
        assert!(matches!(
            verify_signature(b"other", &header, BODY, 1_700_000_000, 300),
            Err(NotifyError::BadSignature)
        ));
        assert!(matches!(
            verify_signature(b"whsec_test", &header, b"{}", 1_700_000_000, 300),
            Err(NotifyError::BadSignature)
        ));
        assert!(matches!(
            verify_signature(b"whsec_test", &header, BODY, 1_700_000_301, 300),
            Err(NotifyError::StaleSignature { timestamp: 1_700_000_000, .. })
        ));
        // The timestamp is signed: moving it forward breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000301");
        assert!(matches!(
            verify_signature(b"whsec_test", &moved, BODY, 1_700_000_301, 300),
            Err(NotifyError::BadSignature)
        ));
    }

    #[test]
    fn any_matching_v1_is_enough() {
        let header = format!("t=1700000000,v1={},v1={EXPECTED}", "00".repeat(32));
        assert!(verify_signature(b"whsec_test", &header, BODY, 1_700_000_000, 0).is_ok());
        let header = format!("t=1700000000, v1=zz, v1={EXPECTED}, v0=ignored");
        assert!(verify_signature(b"whsec_test", &header, BODY, 1_700_000_000, 0).is_ok());
    }

    #[test]
    fn malformed_headers() {
        for header in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,t=1,v1=00", "garbage"] {
            let err = verify_signature(b"k", header, BODY, 1, 10).unwrap_err();
            assert!(matches!(err, NotifyError::MalformedSignature(_)), "{header:?}: {err}");
        }
    }
}

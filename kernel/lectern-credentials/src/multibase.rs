//! The two multibase encodings the specs use: base58btc (`z`) for keys and signatures,
//! base64url without padding (`u`) for status lists.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::CredentialError;

pub(crate) fn encode_base58btc(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

pub(crate) fn decode_base58btc(value: &str) -> Result<Vec<u8>, CredentialError> {
    let Some(body) = value.strip_prefix('z') else {
        return Err(CredentialError::Multibase(format!("{} does not start with 'z' (base58btc)", preview(value))));
    };
    bs58::decode(body)
        .into_vec()
        .map_err(|e| CredentialError::Multibase(format!("{} is not valid base58btc: {e}", preview(value))))
}

pub(crate) fn encode_base64url(bytes: &[u8]) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn decode_base64url(value: &str) -> Result<Vec<u8>, CredentialError> {
    let Some(body) = value.strip_prefix('u') else {
        return Err(CredentialError::Multibase(format!("{} does not start with 'u' (base64url)", preview(value))));
    };
    URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| CredentialError::Multibase(format!("{} is not unpadded base64url: {e}", preview(value))))
}

/// A value quoted for an error message, cut short so a hostile input cannot flood a report.
pub(crate) fn preview(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((at, _)) => format!("{:?}…", &value[..at]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58btc_round_trips_and_keeps_leading_zeros() {
        for bytes in [&[][..], &[0, 0, 1], &[0xed, 0x01, 0xff], &[7; 64]] {
            let text = encode_base58btc(bytes);
            assert!(text.starts_with('z'));
            assert_eq!(decode_base58btc(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn base64url_round_trips_without_padding() {
        let text = encode_base64url(&[0xfb, 0xff]);
        assert_eq!(text, "u-_8");
        assert_eq!(decode_base64url(&text).unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn wrong_prefix_or_alphabet_is_rejected() {
        for bad in ["", "Q123", "z0OIl", "u"] {
            let _ = decode_base58btc(bad).expect_err(bad);
        }
        for bad in ["", "z-_8", "u-_8=", "u+/"] {
            let _ = decode_base64url(bad).expect_err(bad);
        }
    }

    #[test]
    fn preview_cuts_long_values() {
        assert_eq!(preview("abc"), "\"abc\"");
        let long = "x".repeat(500);
        assert!(preview(&long).len() < 80);
    }
}

//! Ed25519-signed JWTs: OAuth access tokens (RFC 9068 profile, `typ: at+jwt`)
//! and OpenID Connect ID tokens, plus the JWK form of public keys.
//!
//! Expiry is checked against a caller-supplied `now` so that the kernel's
//! clock, not the library's, decides (and tests can move time).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::AuthError;

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated between issuer and verifier, in seconds.
pub const LEEWAY_SECS: i64 = 30;

/// An Ed25519 key pair with its key id. The secret half never leaves the kernel.
#[derive(Clone)]
pub struct KeyPair {
    pub kid: String,
    secret: [u8; 32],
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.kid)
    }
}

impl KeyPair {
    pub fn generate() -> Result<KeyPair, AuthError> {
        let secret = crate::secret::random_bytes::<32>()?;
        let public = SigningKey::from_bytes(&secret).verifying_key().to_bytes();
        // kid: first 16 bytes of the public key, base64url — stable, unique, public.
        Ok(KeyPair { kid: URL_SAFE_NO_PAD.encode(&public[..16]), secret })
    }

    pub fn from_parts(kid: String, secret: [u8; 32]) -> KeyPair {
        KeyPair { kid, secret }
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.secret
    }

    pub fn public_key(&self) -> [u8; 32] {
        SigningKey::from_bytes(&self.secret).verifying_key().to_bytes()
    }

    fn encoding_key(&self) -> Result<EncodingKey, AuthError> {
        let der = SigningKey::from_bytes(&self.secret).to_pkcs8_der().map_err(|e| AuthError::Signing(e.to_string()))?;
        Ok(EncodingKey::from_ed_der(der.as_bytes()))
    }

    fn sign<C: Serialize>(&self, typ: &str, claims: &C) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key()?).map_err(|e| AuthError::Signing(e.to_string()))
    }

    /// Signs an access token.
    pub fn sign_access_token(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        self.sign(ACCESS_TOKEN_TYPE, claims)
    }

    /// Signs an OpenID Connect ID token.
    pub fn sign_id_token(&self, claims: &IdClaims) -> Result<String, AuthError> {
        self.sign("JWT", claims)
    }
}

/// Claims of a Lectern access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// User id, or the OAuth client id for client-credentials tokens.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Institution id the token is valid in.
    pub tenant: String,
    pub client_id: String,
    /// Session id when the token was minted from a login session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The OAuth grant (refresh-token family, hex) a token issued through
    /// the code or refresh grant belongs to: the token dies with the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
}

/// Claims of an OpenID Connect ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub email: String,
    pub name: String,
    pub tenant: String,
}

/// The unverified header fields a verifier needs to pick a key.
pub fn peek_kid(token: &str) -> Result<String, AuthError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::MalformedToken)?;
    if header.alg != Algorithm::EdDSA {
        return Err(AuthError::BadSignature);
    }
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(AuthError::WrongType);
    }
    header.kid.ok_or(AuthError::MalformedToken)
}

/// Verifies signature, type, issuer, audience and validity window of an access token.
pub fn verify_access_token(
    token: &str,
    public_key: &[u8; 32],
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<AccessClaims, AuthError> {
    peek_kid(token)?;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
    // Time is checked below against the kernel's clock.
    v.validate_exp = false;
    v.validate_nbf = false;
    let key =
        DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public_key)).map_err(|_| AuthError::BadSignature)?;
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &v).map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::InvalidEddsaKey => {
            AuthError::BadSignature
        }
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        _ => AuthError::MalformedToken,
    })?;
    let c = data.claims;
    check_window(&c, now)?;
    Ok(c)
}

/// Whether verified claims are inside their validity window at `now`
/// (`exp` and `nbf`, each with [`LEEWAY_SECS`]): checked on every use, also of
/// claims whose signature was verified earlier.
pub fn check_window(c: &AccessClaims, now: i64) -> Result<(), AuthError> {
    if now >= c.exp + LEEWAY_SECS {
        return Err(AuthError::Expired);
    }
    if now + LEEWAY_SECS < c.nbf {
        return Err(AuthError::NotYetValid);
    }
    Ok(())
}

/// A public key as a JSON Web Key (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

impl Jwk {
    pub fn ed25519(kid: &str, public_key: &[u8; 32]) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(public_key),
            kid: kid.into(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://lms.example".into(),
            aud: "lectern".into(),
            sub: "user-1".into(),
            exp: NOW + 900,
            iat: NOW,
            nbf: NOW,
            jti: "j1".into(),
            scope: "lectern".into(),
            tenant: "inst-1".into(),
            client_id: "lectern".into(),
            sid: None,
            grant: None,
        }
    }

    fn verify(token: &str, key: &KeyPair, now: i64) -> Result<AccessClaims, AuthError> {
        verify_access_token(token, &key.public_key(), "https://lms.example", "lectern", now)
    }

    #[test]
    fn round_trip_and_refusals() {
        let key = KeyPair::generate().unwrap();
        let token = key.sign_access_token(&claims()).unwrap();
        assert_eq!(peek_kid(&token).unwrap(), key.kid);
        assert_eq!(verify(&token, &key, NOW + 10).unwrap(), claims());

        assert!(matches!(verify(&token, &key, NOW + 900 + LEEWAY_SECS), Err(AuthError::Expired)));
        assert!(matches!(verify(&token, &key, NOW - 100), Err(AuthError::NotYetValid)));
        let other = KeyPair::generate().unwrap();
        assert!(matches!(verify(&token, &other, NOW), Err(AuthError::BadSignature)));
        let r = verify_access_token(&token, &key.public_key(), "https://lms.example", "other", NOW);
        assert!(matches!(r, Err(AuthError::WrongAudience)));
        let r = verify_access_token(&token, &key.public_key(), "https://evil.example", "lectern", NOW);
        assert!(matches!(r, Err(AuthError::WrongIssuer)));

        // Flip one character of the payload: signature no longer matches.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut payload: Vec<u8> = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let i = payload.iter().position(|b| *b == b'1').unwrap();
        payload[i] = b'2';
        parts[1] = URL_SAFE_NO_PAD.encode(payload);
        assert!(matches!(verify(&parts.join("."), &key, NOW), Err(AuthError::BadSignature)));

        assert!(matches!(verify("garbage", &key, NOW), Err(AuthError::MalformedToken)));
    }

    #[test]
    fn id_tokens_are_not_access_tokens() {
        let key = KeyPair::generate().unwrap();
        let id = key
            .sign_id_token(&IdClaims {
                iss: "https://lms.example".into(),
                aud: "lectern".into(),
                sub: "user-1".into(),
                exp: NOW + 900,
                iat: NOW,
                nonce: None,
                email: "a@b".into(),
                name: "A".into(),
                tenant: "inst-1".into(),
            })
            .unwrap();
        assert!(matches!(verify(&id, &key, NOW), Err(AuthError::WrongType)));
    }

    #[test]
    fn jwk_shape() {
        let key = KeyPair::generate().unwrap();
        let jwk = serde_json::to_value(Jwk::ed25519(&key.kid, &key.public_key())).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap(), key.public_key());
    }
}

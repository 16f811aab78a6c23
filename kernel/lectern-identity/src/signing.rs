//! Per-institution Ed25519 signing keys: issuing and verifying access tokens,
//! JWKS publication, rotation that keeps the old key published until every
//! token it signed has expired.

use std::sync::Arc;

use lectern_auth::AuthError;
use lectern_auth::tokens::{self, AccessClaims, IdClaims, Jwk, KeyPair};

use crate::authz::{Capability, Context, authorize};
use crate::error::{AuthFailure, CoreError};
use crate::ids::InstitutionId;
use crate::model::SigningKeyRecord;
use crate::{Identity, Principal, keys};

impl Identity {
    fn current_key(&self, inst: InstitutionId) -> Result<SigningKeyRecord, CoreError> {
        let mut newest: Option<SigningKeyRecord> = None;
        for row in self.t().signing_keys.scan_prefix(keys::inst(inst)) {
            let (_, k) = row?;
            if k.retire_at.is_none() && newest.as_ref().is_none_or(|n| k.created_at >= n.created_at) {
                newest = Some(k);
            }
        }
        newest.ok_or_else(|| CoreError::internal_msg(format!("institution {inst} has no active signing key")))
    }

    pub(crate) fn sign_access(&self, claims: &AccessClaims, inst: InstitutionId) -> Result<String, CoreError> {
        let k = self.current_key(inst)?;
        Ok(KeyPair::from_parts(k.kid, k.secret).sign_access_token(claims)?)
    }

    pub(crate) fn sign_id(&self, claims: &IdClaims, inst: InstitutionId) -> Result<String, CoreError> {
        let k = self.current_key(inst)?;
        Ok(KeyPair::from_parts(k.kid, k.secret).sign_id_token(claims)?)
    }

    /// Verifies an access token: known and unretired key, signature, type,
    /// issuer, audience, validity window, and that the key belongs to the
    /// institution the token claims.
    ///
    /// The signature check (and the JSON behind it) is done once per token:
    /// the verified claims are kept in a bounded cache keyed by the SHA-256 of
    /// the whole token, so only the identical string hits it. Everything that
    /// can change is checked on every use, hit or miss: the key's retirement,
    /// the validity window here, and the session, the user's deactivation and
    /// the client's revocation in [`Identity::authenticate_bearer`].
    pub(crate) fn verify_access(&self, token: &str) -> Result<Arc<AccessClaims>, AuthFailure> {
        let now = self.now();
        let digest = lectern_auth::secret::hash_secret(token);
        if let Some(hit) = self.inner.verified.get(&digest) {
            let key = self.signing_key(hit.institution, &hit.kid)?;
            if key.retire_at.is_some_and(|t| t <= now) {
                return Err(AuthFailure::UnknownKey);
            }
            tokens::check_window(&hit.claims, now).map_err(map_auth)?;
            return Ok(hit.claims.clone());
        }
        let kid = tokens::peek_kid(token).map_err(map_auth)?;
        let inst = self.t().kid_index.get(kid.as_bytes()).ok().flatten().ok_or(AuthFailure::UnknownKey)?;
        let key = self.signing_key(inst, &kid)?;
        if key.retire_at.is_some_and(|t| t <= now) {
            return Err(AuthFailure::UnknownKey);
        }
        let public = self.public_key(&key);
        let claims = tokens::verify_access_token(token, &public, &self.config().issuer, &self.config().audience, now)
            .map_err(map_auth)?;
        if claims.tenant != inst.to_string() {
            return Err(AuthFailure::BadSignature);
        }
        let claims = Arc::new(claims);
        self.inner.verified.insert(digest, Verified { claims: claims.clone(), kid, institution: inst });
        Ok(claims)
    }

    /// A signing key for verification, through the decode cache (keys are
    /// sealed at rest; a request must not unseal one each time).
    fn signing_key(&self, inst: InstitutionId, kid: &str) -> Result<Arc<SigningKeyRecord>, AuthFailure> {
        self.t()
            .signing_keys
            .get_cached(keys::inst_str(inst, kid), &self.inner.signing_key_cache)
            .ok()
            .flatten()
            .ok_or(AuthFailure::UnknownKey)
    }

    /// The key's public half. Deriving it is a scalar multiplication, so it is
    /// cached by kid (a kid never changes its key).
    fn public_key(&self, k: &SigningKeyRecord) -> [u8; 32] {
        if let Some(p) = self.inner.public_keys.read().unwrap_or_else(|e| e.into_inner()).get(&k.kid) {
            return *p;
        }
        let p = KeyPair::from_parts(k.kid.clone(), k.secret).public_key();
        self.inner.public_keys.write().unwrap_or_else(|e| e.into_inner()).insert(k.kid.clone(), p);
        p
    }

    /// Every public key a verifier may need: active keys and retiring keys
    /// whose tokens may still be live.
    pub fn jwks(&self) -> Result<Vec<Jwk>, CoreError> {
        let now = self.now();
        let mut out = vec![];
        for row in self.t().signing_keys.scan_prefix(b"") {
            let (_, k) = row?;
            if k.retire_at.is_none_or(|t| t > now) {
                out.push(Jwk::ed25519(&k.kid, &self.public_key(&k)));
            }
        }
        Ok(out)
    }

    /// Replaces the institution's signing key. The old key keeps verifying
    /// (and stays in the JWKS) until the longest-lived token it signed expires.
    pub async fn rotate_signing_key(&self, p: &Principal, inst: InstitutionId) -> Result<String, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        let now = self.now();
        let old = self.current_key(inst)?;
        let retire_at = now + self.config().access_token_ttl_secs + tokens::LEEWAY_SECS;
        let new = KeyPair::generate()?;
        let record = SigningKeyRecord {
            kid: new.kid.clone(),
            institution: inst,
            secret: new.secret_bytes(),
            created_at: now,
            retire_at: None,
        };
        let t = self.t();
        self.store().transaction(&[&t.signing_keys, &t.kid_index], |tx| {
            let sk = tx.on(&t.signing_keys)?;
            let mut retired = old.clone();
            retired.retire_at = Some(retire_at);
            sk.insert(keys::inst_str(inst, &old.kid), &retired)?;
            sk.insert(keys::inst_str(inst, &record.kid), &record)?;
            tx.on(&t.kid_index)?.insert(record.kid.as_bytes(), &inst)?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.durable().await?;
        tracing::info!(institution = %inst, old = %old.kid, new = %new.kid, "signing key rotated");
        Ok(new.kid)
    }
}

/// One of an institution's signing keys as its administrators see it (never the secret).
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub created_at: i64,
    /// When a rotation replaced it: it verifies (and stays in the JWKS) until then.
    pub retire_at: Option<i64>,
}

impl Identity {
    /// The institution's signing keys, newest first: the one signing now
    /// (no `retire_at`), those still verifying tokens they signed, and the retired.
    pub fn signing_keys(&self, p: &Principal, inst: InstitutionId) -> Result<Vec<SigningKeyInfo>, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(inst))?;
        let mut out = vec![];
        for row in self.t().signing_keys.scan_prefix(keys::inst(inst)) {
            let (_, k) = row?;
            out.push(SigningKeyInfo { kid: k.kid, created_at: k.created_at, retire_at: k.retire_at });
        }
        // The active key first, then the others newest first (a rotation within the same second
        // as the key's creation gives equal `created_at`: the later retirement is the newer key).
        out.sort_by_key(|k| {
            (k.retire_at.is_some(), std::cmp::Reverse(k.created_at), std::cmp::Reverse(k.retire_at), k.kid.clone())
        });
        Ok(out)
    }
}

/// An access token whose signature, issuer, audience and tenant were checked.
#[derive(Clone)]
pub(crate) struct Verified {
    claims: Arc<AccessClaims>,
    kid: String,
    institution: InstitutionId,
}

/// Verified tokens kept: more than the students of the largest exam (10,000
/// in `targets.md`) with their staff; about 0.5 KiB each.
pub(crate) const VERIFIED_TOKENS: usize = 65_536;

pub(crate) fn verified_cache() -> quick_cache::sync::Cache<[u8; 32], Verified> {
    quick_cache::sync::Cache::new(VERIFIED_TOKENS)
}

fn map_auth(e: AuthError) -> AuthFailure {
    match e {
        AuthError::Expired => AuthFailure::Expired,
        AuthError::NotYetValid => AuthFailure::Expired,
        AuthError::WrongAudience => AuthFailure::WrongAudience,
        AuthError::WrongIssuer => AuthFailure::WrongIssuer,
        AuthError::WrongType => AuthFailure::WrongType,
        AuthError::BadSignature => AuthFailure::BadSignature,
        _ => AuthFailure::Malformed,
    }
}

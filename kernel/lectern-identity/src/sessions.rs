//! Password login, opaque sessions, and turning presented credentials
//! (session secret or bearer token) into a [`Principal`].

use lectern_auth::password::Verified;
use lectern_auth::secret;
use lectern_auth::tokens::AccessClaims;

use crate::authz::{Principal, PrincipalKind};
use crate::error::{AuthFailure, CoreError};
use crate::ids::{InstitutionId, SessionId, UserId};
use crate::model::{RevocationReason, Session, User};
use crate::{Identity, keys};
use lectern_domain::audit::{AuditActor, AuditOutcome, NewAuditEntry};

/// The first-party client id for logins through the kernel's own API.
pub const FIRST_PARTY_CLIENT: &str = "lectern";
/// Only refresh `last_seen_at` this often, to keep reads from turning into writes.
const TOUCH_EVERY_SECS: i64 = 60;

/// What a user's access token lives and dies with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bound {
    /// A login session (first-party clients): logout ends the token.
    Session(SessionId),
    /// An OAuth grant (the refresh-token family of a code exchange):
    /// revoking the grant (replay, reuse, RFC 7009, deactivation) ends it.
    Grant([u8; 16]),
}

#[derive(Clone, Debug)]
pub struct LoginRequest {
    /// Institution id or slug.
    pub institution: String,
    pub email: String,
    pub password: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: SessionId,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub user_agent: String,
    pub ip: String,
    pub current: bool,
}

#[derive(Clone, Debug)]
pub struct LoginOutcome {
    /// The opaque session secret for the cookie; shown once.
    pub session_secret: String,
    pub session: SessionInfo,
    pub access_token: String,
    pub expires_in: i64,
    pub user: User,
}

/// A renewed access token for a login session ([`Identity::refresh_session_token`]).
#[derive(Clone, Debug)]
pub struct SessionToken {
    pub access_token: String,
    pub expires_in: i64,
    pub session: SessionInfo,
}

impl Identity {
    /// Checks a password login, applying the throttle, and opens a session.
    /// Every attempt, whatever its outcome, goes into the audit log (the
    /// address as typed, normalised; never the password).
    pub async fn login(&self, req: LoginRequest) -> Result<LoginOutcome, CoreError> {
        let claimed: String = crate::email::lookup_key(&req.email).chars().take(254).collect();
        let inst = self.resolve_institution(&req.institution).ok();
        let ip = req.ip.clone();
        let result = self.check_login(req).await;
        let (actor, outcome, reason) = match &result {
            Ok(o) => {
                (AuditActor::User { id: o.user.id, institution: o.user.institution }, AuditOutcome::Succeeded, None)
            }
            Err(e) => (
                AuditActor::Anonymous { claimed: Some(claimed.clone()) },
                AuditOutcome::Denied,
                Some(match e {
                    CoreError::InvalidCredentials => "invalid credentials",
                    CoreError::Throttled { .. } => "throttled",
                    CoreError::Unauthenticated(AuthFailure::AccountDisabled) => "account deactivated",
                    _ => "error",
                }),
            ),
        };
        self.env().audit(NewAuditEntry {
            institution: inst,
            actor,
            action: "auth.login".into(),
            target: Some(claimed),
            outcome,
            status: None,
            ip: Some(ip),
            request_id: None,
            details: reason.map(|r| [("reason".to_owned(), r.to_owned())].into()).unwrap_or_default(),
        });
        self.durable().await?;
        result
    }

    async fn check_login(&self, req: LoginRequest) -> Result<LoginOutcome, CoreError> {
        let hasher = self.config().password_hasher.clone();
        let Ok(inst) = self.resolve_institution(&req.institution) else {
            let pw = req.password.clone();
            Self::blocking(move || hasher.verify_dummy(&pw)).await?;
            return Err(CoreError::InvalidCredentials);
        };
        let email_key = crate::email::lookup_key(&req.email);
        self.throttle_check(inst, &email_key, &req.ip)?;
        let user = self.find_user_by_email(inst, &email_key)?;
        let (user, hash) = match user {
            Some(u) if u.password_hash.is_some() => {
                let h = u.password_hash.clone().unwrap_or_default();
                (u, h)
            }
            _ => {
                let pw = req.password.clone();
                Self::blocking(move || hasher.verify_dummy(&pw)).await?;
                self.throttle_failure(inst, &email_key, &req.ip)?;
                return Err(CoreError::InvalidCredentials);
            }
        };
        let pw = req.password.clone();
        let verify_hasher = hasher.clone();
        let verified = Self::blocking(move || verify_hasher.verify(&pw, &hash)).await??;
        let needs_rehash = match verified {
            Verified::Mismatch => {
                self.throttle_failure(inst, &email_key, &req.ip)?;
                return Err(CoreError::InvalidCredentials);
            }
            Verified::Match { needs_rehash } => needs_rehash,
        };
        self.throttle_success(inst, &email_key, &req.ip)?;
        if !user.active {
            return Err(CoreError::Unauthenticated(AuthFailure::AccountDisabled));
        }
        if needs_rehash {
            let pw = req.password.clone();
            let new_hash = Self::blocking(move || hasher.hash(&pw)).await??;
            self.t().users.update(keys::inst_user(inst, user.id), |old| {
                old.map(|mut u| {
                    u.password_hash = Some(new_hash.clone());
                    u
                })
            })?;
            tracing::info!(user = %user.id, "password rehashed with current parameters");
        }

        let now = self.now();
        let secret = secret::new_secret("lsn_")?;
        let hash = secret::hash_secret(&secret);
        let session = Session {
            id: SessionId::new(),
            institution: inst,
            user: user.id,
            created_at: now,
            last_seen_at: now,
            absolute_expires_at: now + self.config().session_absolute_secs,
            user_agent: req.user_agent.chars().take(256).collect(),
            ip: req.ip.clone(),
        };
        let t = self.t();
        self.store().transaction(&[&t.sessions, &t.sessions_by_user], |tx| {
            tx.on(&t.sessions)?.insert(hash, &session)?;
            tx.on(&t.sessions_by_user)?.insert(session_index_key(inst, user.id, session.id), &hash.to_vec())?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        let (access_token, expires_in) =
            self.mint_user_token(&user, Bound::Session(session.id), FIRST_PARTY_CLIENT, "lectern")?;
        self.durable().await?;
        tracing::info!(institution = %inst, user = %user.id, session = %session.id, "login");
        Ok(LoginOutcome {
            session_secret: secret,
            session: self.session_info(&session, true),
            access_token,
            expires_in,
            user,
        })
    }

    /// A fresh access token for a live login session, authenticated by the
    /// session secret (the cookie): first-party clients renew their
    /// 15-minute tokens this way instead of signing in again. Refused once the
    /// session is revoked or expired or the user is deactivated; the token
    /// never outlives the session's absolute expiry.
    pub fn refresh_session_token(&self, session_secret: &str) -> Result<SessionToken, CoreError> {
        // Liveness, the user's state, and the last-seen touch (a refresh is activity).
        self.authenticate_session(session_secret).map_err(CoreError::Unauthenticated)?;
        let hash = secret::hash_secret(session_secret);
        let session = self.t().sessions.get(hash)?.ok_or(CoreError::Unauthenticated(AuthFailure::SessionEnded))?;
        let user = self.active_user(session.institution, session.user).map_err(CoreError::Unauthenticated)?;
        let ttl = self.config().access_token_ttl_secs.min(session.absolute_expires_at - self.now()).max(1);
        let (access_token, expires_in) =
            self.mint_user_token_for(&user, Bound::Session(session.id), FIRST_PARTY_CLIENT, "lectern", ttl)?;
        Ok(SessionToken { access_token, expires_in, session: self.session_info(&session, true) })
    }

    pub(crate) fn mint_user_token(
        &self,
        user: &User,
        bound: Bound,
        client_id: &str,
        scope: &str,
    ) -> Result<(String, i64), CoreError> {
        self.mint_user_token_for(user, bound, client_id, scope, self.config().access_token_ttl_secs)
    }

    fn mint_user_token_for(
        &self,
        user: &User,
        bound: Bound,
        client_id: &str,
        scope: &str,
        ttl: i64,
    ) -> Result<(String, i64), CoreError> {
        let now = self.now();
        let claims = AccessClaims {
            iss: self.config().issuer.clone(),
            aud: self.config().audience.clone(),
            sub: user.id.to_string(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: scope.to_owned(),
            tenant: user.institution.to_string(),
            client_id: client_id.to_owned(),
            sid: match bound {
                Bound::Session(sid) => Some(sid.to_string()),
                Bound::Grant(_) => None,
            },
            grant: match bound {
                Bound::Grant(family) => Some(hex::encode(family)),
                Bound::Session(_) => None,
            },
        };
        Ok((self.sign_access(&claims, user.institution)?, ttl))
    }

    fn session_info(&self, s: &Session, current: bool) -> SessionInfo {
        SessionInfo {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            idle_expires_at: (s.last_seen_at + self.config().session_idle_secs).min(s.absolute_expires_at),
            absolute_expires_at: s.absolute_expires_at,
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            current,
        }
    }

    fn live_session(&self, s: &Session) -> bool {
        let now = self.now();
        now < s.absolute_expires_at && now < s.last_seen_at + self.config().session_idle_secs
    }

    fn active_user(&self, inst: InstitutionId, id: UserId) -> Result<User, AuthFailure> {
        match self.t().users.get(keys::inst_user(inst, id)) {
            Ok(Some(u)) if u.active => Ok(u),
            Ok(Some(_)) => Err(AuthFailure::AccountDisabled),
            _ => Err(AuthFailure::SessionEnded),
        }
    }

    /// Authenticates a session secret from a cookie.
    pub fn authenticate_session(&self, session_secret: &str) -> Result<Principal, AuthFailure> {
        let hash = secret::hash_secret(session_secret);
        let session = self.t().sessions.get(hash).ok().flatten().ok_or(AuthFailure::SessionEnded)?;
        if !self.live_session(&session) {
            let _ = self.remove_session(&hash, &session);
            return Err(AuthFailure::Expired);
        }
        let user = self.active_user(session.institution, session.user)?;
        let now = self.now();
        if now - session.last_seen_at >= TOUCH_EVERY_SECS {
            // Best effort: losing a last-seen update in a crash only shortens the idle window.
            let _ = self.t().sessions.update(hash, |old| {
                old.map(|mut s| {
                    s.last_seen_at = now;
                    s
                })
            });
        }
        Ok(Principal {
            kind: PrincipalKind::User { user: user.id, session: Some(session.id) },
            institution: user.institution,
            platform_admin: user.platform_admin,
            role: user.role,
            scopes: vec!["lectern".into()],
            client_id: FIRST_PARTY_CLIENT.into(),
        })
    }

    /// Authenticates a bearer access token. Tokens minted from a login session
    /// die with the session; every token dies with its user's deactivation.
    pub fn authenticate_bearer(&self, token: &str) -> Result<Principal, AuthFailure> {
        let claims = self.verify_access(token)?;
        let inst: InstitutionId = claims.tenant.parse().map_err(|_| AuthFailure::Malformed)?;
        let scopes: Vec<String> = claims.scope.split_whitespace().map(String::from).collect();
        if let Ok(user_id) = claims.sub.parse::<UserId>() {
            let user = self.active_user(inst, user_id)?;
            let session = match &claims.sid {
                Some(sid) => {
                    let sid: SessionId = sid.parse().map_err(|_| AuthFailure::Malformed)?;
                    let key = session_index_key(inst, user_id, sid);
                    if !self.t().sessions_by_user.contains(key).unwrap_or(false) {
                        return Err(AuthFailure::SessionEnded);
                    }
                    Some(sid)
                }
                None => None,
            };
            if claims.client_id != FIRST_PARTY_CLIENT {
                // A token issued to an OAuth client dies with the client's
                // deactivation and with its grant's revocation.
                let client = self.t().oauth_clients.get(claims.client_id.as_bytes()).ok().flatten();
                if !client.is_some_and(|c| c.active && c.institution == inst) {
                    return Err(AuthFailure::GrantRevoked);
                }
            }
            if let Some(grant) = &claims.grant {
                let mut family = [0u8; 16];
                hex::decode_to_slice(grant, &mut family).map_err(|_| AuthFailure::Malformed)?;
                let live = self.t().refresh_families.get(crate::oauth::family_key(inst, user_id, &family));
                if !matches!(live, Ok(Some(f)) if f.revoked.is_none()) {
                    return Err(AuthFailure::GrantRevoked);
                }
            }
            return Ok(Principal {
                kind: PrincipalKind::User { user: user.id, session },
                institution: inst,
                platform_admin: user.platform_admin,
                role: user.role,
                scopes,
                client_id: claims.client_id.clone(),
            });
        }
        // Client-credentials token: the client must still exist and be active.
        let client =
            self.t().oauth_clients.get(claims.sub.as_bytes()).ok().flatten().ok_or(AuthFailure::SessionEnded)?;
        if !client.active || client.institution != inst {
            return Err(AuthFailure::SessionEnded);
        }
        Ok(Principal {
            kind: PrincipalKind::Client { client_id: client.client_id.clone() },
            institution: inst,
            platform_admin: false,
            role: crate::model::InstitutionRole::Member,
            scopes,
            client_id: client.client_id,
        })
    }

    fn remove_session(&self, hash: &[u8; 32], s: &Session) -> Result<(), CoreError> {
        self.delete_session_rows(hash, &session_index_key(s.institution, s.user, s.id))
    }

    /// Removes a session and its per-user index entry in one transaction.
    fn delete_session_rows(&self, hash: &[u8], index_key: &[u8]) -> Result<(), CoreError> {
        let t = self.t();
        self.store().transaction(&[&t.sessions, &t.sessions_by_user], |tx| {
            tx.on(&t.sessions)?.remove(hash)?;
            tx.on(&t.sessions_by_user)?.remove(index_key)?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        Ok(())
    }

    /// Ends the caller's current session.
    pub async fn logout(&self, p: &Principal) -> Result<(), CoreError> {
        if let PrincipalKind::User { user, session: Some(sid) } = p.kind {
            self.end_session(p.institution, user, sid)?;
            self.durable().await?;
        }
        Ok(())
    }

    fn end_session(&self, inst: InstitutionId, user: UserId, sid: SessionId) -> Result<bool, CoreError> {
        let key = session_index_key(inst, user, sid);
        let Some(hash) = self.t().sessions_by_user.get(&key)? else { return Ok(false) };
        self.delete_session_rows(&hash, &key)?;
        Ok(true)
    }

    /// The caller's own live sessions.
    pub fn list_own_sessions(&self, p: &Principal) -> Result<Vec<SessionInfo>, CoreError> {
        let PrincipalKind::User { user, session } = &p.kind else { return Ok(vec![]) };
        let mut out = vec![];
        let prefix = keys::inst_user(p.institution, *user);
        for row in self.t().sessions_by_user.scan_prefix(prefix) {
            let (_, hash) = row?;
            if let Some(s) = self.t().sessions.get(&hash)?
                && self.live_session(&s)
            {
                out.push(self.session_info(&s, Some(s.id) == *session));
            }
        }
        Ok(out)
    }

    /// Ends one of the caller's own sessions.
    pub async fn revoke_own_session(&self, p: &Principal, sid: SessionId) -> Result<(), CoreError> {
        let user = p.user_id().ok_or(CoreError::NotFound("session"))?;
        if !self.end_session(p.institution, user, sid)? {
            return Err(CoreError::NotFound("session"));
        }
        self.durable().await
    }

    /// Ends every session and refresh-token family of a user (not yet durable).
    pub(crate) fn end_all_sessions(
        &self,
        inst: InstitutionId,
        user: UserId,
        reason: RevocationReason,
    ) -> Result<(), CoreError> {
        let prefix = keys::inst_user(inst, user);
        let rows: Vec<_> = self.t().sessions_by_user.scan_prefix(&prefix).collect::<Result<_, _>>()?;
        for (key, hash) in rows {
            self.delete_session_rows(&hash, &key)?;
        }
        self.revoke_user_refresh_families(inst, user, reason)
    }
}

fn session_index_key(inst: InstitutionId, user: UserId, sid: SessionId) -> Vec<u8> {
    [keys::inst_user(inst, user).as_slice(), sid.bytes()].concat()
}

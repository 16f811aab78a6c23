//! OAuth 2.0 (RFC 6749) and OpenID Connect for the kernel: client
//! registration, the authorization code grant with PKCE (S256 only, exact
//! redirect URI match, single-use codes), the client credentials grant, and
//! refresh tokens rotated on every use with reuse detection (RFC 9700 §4.14):
//! presenting a refresh token that was already rotated away revokes its whole
//! family, because either the client or an attacker holds a stolen copy.

use lectern_auth::tokens::{AccessClaims, IdClaims};
use lectern_auth::{pkce, secret};
use lectern_storage::{TxFail, abort};

use crate::authz::{Capability, Context, authorize, is_known_scope};
use crate::error::CoreError;
use crate::ids::{InstitutionId, UserId};
use crate::model::{AuthCode, GrantType, OAuthClient, RefreshFamily, RefreshToken, RevocationReason, User};
use crate::sessions::Bound;
use crate::{Identity, Principal, keys};

#[derive(Clone, Debug)]
pub struct NewClient {
    pub name: String,
    /// Confidential clients get a secret; public clients (SPAs, native apps) must use PKCE.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
}

/// How a client identified itself at the token endpoint.
#[derive(Clone, Debug, Default)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
}

/// A failed authorization request. Errors about the client or redirect URI
/// must not redirect (the URI is not trusted); the rest go back to the client.
#[derive(Debug)]
pub enum AuthorizeError {
    NoRedirect(CoreError),
    Redirect(String),
}

/// What the consent page asks the user about.
#[derive(Clone, Debug)]
pub struct AuthorizationPrompt {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
}

/// An authorization request that passed every check.
struct ValidAuthorization {
    client: OAuthClient,
    scopes: Vec<String>,
    redirect: url::Url,
    challenge: String,
    /// The approving user, when a principal was given.
    user: Option<UserId>,
}

#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub client: ClientAuth,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub scope: String,
}

fn validate_redirect_uri(uri: &str) -> Result<(), CoreError> {
    let bad = |why: &str| Err(CoreError::invalid("redirect_uris", format!("`{uri}` {why}")));
    let Ok(u) = url::Url::parse(uri) else { return bad("is not an absolute URL") };
    if u.fragment().is_some() {
        return bad("must not contain a fragment");
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" if matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) => Ok(()),
        "http" => bad("must use https (plain http only for loopback)"),
        // RFC 8252 private-use scheme for native apps, e.g. `edu.example.app:/cb`.
        s if s.contains('.') => Ok(()),
        _ => bad("has an unsupported scheme"),
    }
}

fn split_scopes(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split_whitespace().map(String::from).collect();
    v.sort();
    v.dedup();
    v
}

fn invalid_grant(why: &str) -> CoreError {
    CoreError::oauth("invalid_grant", why)
}

pub(crate) fn family_key(inst: InstitutionId, user: UserId, family: &[u8; 16]) -> Vec<u8> {
    [keys::inst_user(inst, user).as_slice(), family].concat()
}

enum Exchange {
    Issued(TokenResponse),
    Replay { inst: InstitutionId, user: UserId, family: [u8; 16], reason: RevocationReason },
}

impl Identity {
    /// Registers an OAuth client. Returns the client and, for confidential
    /// clients, its secret (shown once).
    pub async fn register_client(
        &self,
        p: &Principal,
        inst: InstitutionId,
        new: NewClient,
    ) -> Result<(OAuthClient, Option<String>), CoreError> {
        authorize(p, Capability::OAuthClientManage, Context::Institution(inst))?;
        let name = crate::institutions::validate_name("name", &new.name, 200)?;
        if new.grant_types.is_empty() {
            return Err(CoreError::invalid("grant_types", "must list at least one grant type"));
        }
        if new.grant_types.contains(&GrantType::ClientCredentials) && !new.confidential {
            return Err(CoreError::invalid("grant_types", "client_credentials requires a confidential client"));
        }
        if new.grant_types.contains(&GrantType::AuthorizationCode) {
            if new.redirect_uris.is_empty() {
                return Err(CoreError::invalid(
                    "redirect_uris",
                    "the authorization code grant needs at least one redirect URI",
                ));
            }
            new.redirect_uris.iter().try_for_each(|u| validate_redirect_uri(u))?;
        }
        if let Some(s) = new.scopes.iter().find(|s| !is_known_scope(s)) {
            return Err(CoreError::invalid("scopes", format!("unknown scope `{s}`")));
        }
        let client_secret = if new.confidential { Some(secret::new_secret("lcs_")?) } else { None };
        let client = OAuthClient {
            client_id: format!("lc_{}", uuid::Uuid::new_v4().simple()),
            institution: inst,
            name,
            secret_hash: client_secret.as_deref().map(secret::hash_secret),
            redirect_uris: new.redirect_uris,
            grant_types: new.grant_types,
            scopes: new.scopes,
            created_by: p.user_id().unwrap_or_default(),
            created_at: self.now(),
            active: true,
        };
        self.t().oauth_clients.insert(client.client_id.as_bytes(), &client)?;
        self.durable().await?;
        Ok((client, client_secret))
    }

    pub fn list_clients(&self, p: &Principal, inst: InstitutionId) -> Result<Vec<OAuthClient>, CoreError> {
        authorize(p, Capability::OAuthClientManage, Context::Institution(inst))?;
        let mut out = vec![];
        for row in self.t().oauth_clients.scan_prefix(b"") {
            let (_, c) = row?;
            if c.institution == inst && c.active {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Deactivates a client: its tokens stop working at once.
    pub async fn revoke_client(&self, p: &Principal, inst: InstitutionId, client_id: &str) -> Result<(), CoreError> {
        authorize(p, Capability::OAuthClientManage, Context::Institution(inst))?;
        let updated = self.t().oauth_clients.update(client_id.as_bytes(), |old| {
            old.map(|mut c| {
                if c.institution == inst {
                    c.active = false;
                }
                c
            })
        })?;
        match updated {
            Some(c) if c.institution == inst => self.durable().await,
            _ => Err(CoreError::NotFound("client")),
        }
    }

    fn authenticate_client(&self, auth: &ClientAuth) -> Result<OAuthClient, CoreError> {
        let invalid = || CoreError::oauth("invalid_client", "client authentication failed");
        let client = self.t().oauth_clients.get(auth.client_id.as_bytes())?.ok_or_else(invalid)?;
        if !client.active {
            return Err(invalid());
        }
        match (&client.secret_hash, &auth.client_secret) {
            (Some(h), Some(s)) if secret::ct_eq(h, &secret::hash_secret(s)) => Ok(client),
            (None, None) => Ok(client),
            _ => Err(invalid()),
        }
    }

    /// Checks an authorization request before anyone is asked: the client,
    /// its exact redirect URI, the response type, PKCE (S256) and the scopes.
    /// With a principal, also that a user of the client's institution asks.
    fn validate_authorization(
        &self,
        p: Option<&Principal>,
        req: &AuthorizeRequest,
    ) -> Result<ValidAuthorization, AuthorizeError> {
        let no_redirect = AuthorizeError::NoRedirect;
        let client = self
            .t()
            .oauth_clients
            .get(req.client_id.as_bytes())
            .map_err(|e| no_redirect(e.into()))?
            .filter(|c| c.active)
            .ok_or_else(|| no_redirect(CoreError::invalid("client_id", "unknown client")))?;
        if !client.redirect_uris.iter().any(|u| u == &req.redirect_uri) {
            return Err(no_redirect(CoreError::invalid(
                "redirect_uri",
                "does not exactly match a registered redirect URI",
            )));
        }
        let Ok(redirect) = url::Url::parse(&req.redirect_uri) else {
            return Err(no_redirect(CoreError::invalid("redirect_uri", "is not a URL")));
        };
        let back = |error: &str, description: &str| self.redirect_error(&redirect, req, error, description);
        if req.response_type != "code" {
            return Err(back("unsupported_response_type", "only response_type=code is supported"));
        }
        if !client.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(back("unauthorized_client", "this client may not use the authorization code grant"));
        }
        if req.code_challenge_method.as_deref() != Some("S256") {
            return Err(back("invalid_request", "PKCE with code_challenge_method=S256 is required"));
        }
        let Some(challenge) = req.code_challenge.clone().filter(|c| pkce::is_valid_verifier(c)) else {
            return Err(back("invalid_request", "code_challenge is missing or malformed"));
        };
        let scopes = match &req.scope {
            Some(s) => split_scopes(s),
            None => client.scopes.clone(),
        };
        if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(back("invalid_scope", &format!("scope `{s}` is not allowed for this client")));
        }
        let mut user = None;
        if let Some(p) = p {
            let Some(id) = p.user_id() else {
                return Err(no_redirect(CoreError::Forbidden("only users can authorize clients".into())));
            };
            if p.institution != client.institution {
                return Err(back("access_denied", "this client belongs to another institution"));
            }
            user = Some(id);
        }
        Ok(ValidAuthorization { client, scopes, redirect, challenge, user })
    }

    /// `redirect` with an RFC 6749 §4.1.2.1 error, `state` and RFC 9207 `iss`.
    fn redirect_error(
        &self,
        redirect: &url::Url,
        req: &AuthorizeRequest,
        error: &str,
        description: &str,
    ) -> AuthorizeError {
        let mut u = redirect.clone();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("error", error).append_pair("error_description", description);
            if let Some(s) = &req.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", &self.config().issuer);
        }
        AuthorizeError::Redirect(u.to_string())
    }

    /// Checks an authorization request as it arrives at the authorization
    /// endpoint, before the user is known: what must fail before a consent
    /// page is shown.
    pub fn check_authorization(&self, req: &AuthorizeRequest) -> Result<(), AuthorizeError> {
        self.validate_authorization(None, req).map(|_| ())
    }

    /// What the consent page shows the signed-in user: which client asks for
    /// which scopes, and where the browser goes back to.
    pub fn authorization_prompt(
        &self,
        p: &Principal,
        req: &AuthorizeRequest,
    ) -> Result<AuthorizationPrompt, AuthorizeError> {
        let v = self.validate_authorization(Some(p), req)?;
        Ok(AuthorizationPrompt {
            client_id: v.client.client_id,
            client_name: v.client.name,
            scopes: v.scopes,
            redirect_uri: req.redirect_uri.clone(),
        })
    }

    /// The user declined: the URL to send the browser back to, with `error=access_denied`.
    pub fn deny_authorization(&self, p: &Principal, req: &AuthorizeRequest) -> Result<String, AuthorizeError> {
        let v = self.validate_authorization(Some(p), req)?;
        match self.redirect_error(&v.redirect, req, "access_denied", "the user declined") {
            AuthorizeError::Redirect(url) => Ok(url),
            other => Err(other),
        }
    }

    /// The user approved an authorization request on the consent page:
    /// issues a code and returns the URL to redirect the browser to (with
    /// `code`, `state` and `iss`).
    pub fn authorize_code(&self, p: &Principal, req: &AuthorizeRequest) -> Result<String, AuthorizeError> {
        let no_redirect = AuthorizeError::NoRedirect;
        let ValidAuthorization { client, scopes, mut redirect, challenge, user } =
            self.validate_authorization(Some(p), req)?;
        let Some(user) = user else {
            return Err(no_redirect(CoreError::Forbidden("only users can authorize clients".into())));
        };
        let code = secret::new_secret("lac_").map_err(|e| no_redirect(e.into()))?;
        let record = AuthCode {
            client_id: client.client_id.clone(),
            institution: client.institution,
            user,
            redirect_uri: req.redirect_uri.clone(),
            scope: scopes.join(" "),
            code_challenge: challenge,
            nonce: req.nonce.clone(),
            expires_at: self.now() + self.config().auth_code_ttl_secs.min(600),
            redeemed_family: None,
        };
        self.t().auth_codes.insert(secret::hash_secret(&code), &record).map_err(|e| no_redirect(e.into()))?;
        {
            let mut q = redirect.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(s) = &req.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", &self.config().issuer);
        }
        Ok(redirect.to_string())
    }

    /// The token endpoint.
    pub async fn token(&self, req: TokenRequest) -> Result<TokenResponse, CoreError> {
        let client = self.authenticate_client(&req.client)?;
        let grant = match req.grant_type.as_str() {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            other => {
                return Err(CoreError::oauth(
                    "unsupported_grant_type",
                    format!("grant_type `{other}` is not supported"),
                ));
            }
        };
        // Refresh tokens are only ever issued to clients that may use the code grant.
        let permitted = client.grant_types.contains(&grant)
            || (grant == GrantType::RefreshToken && client.grant_types.contains(&GrantType::AuthorizationCode));
        if !permitted {
            return Err(CoreError::oauth("unauthorized_client", "this client may not use this grant type"));
        }
        let outcome = match grant {
            GrantType::ClientCredentials => Exchange::Issued(self.client_credentials(&client, req.scope.as_deref())?),
            GrantType::AuthorizationCode => self.exchange_code(&client, &req)?,
            GrantType::RefreshToken => self.exchange_refresh(&client, &req)?,
        };
        match outcome {
            Exchange::Issued(t) => {
                self.durable().await?;
                Ok(t)
            }
            Exchange::Replay { inst, user, family, reason } => {
                self.revoke_family(inst, user, &family, reason)?;
                self.durable().await?;
                tracing::warn!(institution = %inst, user = %user, ?reason, "token replay detected; grant revoked");
                Err(invalid_grant(match reason {
                    RevocationReason::CodeReplayed => {
                        "authorization code was already used; tokens issued from it are revoked"
                    }
                    _ => "refresh token was already used; every token of this grant is revoked",
                }))
            }
        }
    }

    fn client_credentials(&self, client: &OAuthClient, scope: Option<&str>) -> Result<TokenResponse, CoreError> {
        let scopes = match scope {
            Some(s) => split_scopes(s),
            None => client.scopes.clone(),
        };
        if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(CoreError::oauth("invalid_scope", format!("scope `{s}` is not allowed for this client")));
        }
        let now = self.now();
        let ttl = self.config().access_token_ttl_secs;
        let scope = scopes.join(" ");
        let claims = AccessClaims {
            iss: self.config().issuer.clone(),
            aud: self.config().audience.clone(),
            sub: client.client_id.clone(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: scope.clone(),
            tenant: client.institution.to_string(),
            client_id: client.client_id.clone(),
            sid: None,
            grant: None,
        };
        Ok(TokenResponse {
            access_token: self.sign_access(&claims, client.institution)?,
            expires_in: ttl,
            refresh_token: None,
            id_token: None,
            scope,
        })
    }

    fn issue_for_user(
        &self,
        client: &OAuthClient,
        user: &User,
        scope: &str,
        nonce: Option<String>,
        grant: [u8; 16],
        refresh_token: String,
    ) -> Result<TokenResponse, CoreError> {
        let (access_token, expires_in) = self.mint_user_token(user, Bound::Grant(grant), &client.client_id, scope)?;
        let id_token = if scope.split_whitespace().any(|s| s == "openid") {
            let now = self.now();
            Some(self.sign_id(
                &IdClaims {
                    iss: self.config().issuer.clone(),
                    aud: client.client_id.clone(),
                    sub: user.id.to_string(),
                    exp: now + self.config().access_token_ttl_secs,
                    iat: now,
                    nonce,
                    email: user.email.clone(),
                    name: user.name.clone(),
                    tenant: user.institution.to_string(),
                },
                user.institution,
            )?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            expires_in,
            refresh_token: Some(refresh_token),
            id_token,
            scope: scope.to_owned(),
        })
    }

    fn exchange_code(&self, client: &OAuthClient, req: &TokenRequest) -> Result<Exchange, CoreError> {
        let code = req.code.as_deref().ok_or_else(|| CoreError::oauth("invalid_request", "code is required"))?;
        let verifier = req
            .code_verifier
            .as_deref()
            .ok_or_else(|| CoreError::oauth("invalid_request", "code_verifier is required"))?;
        let code_hash = secret::hash_secret(code);
        let now = self.now();
        let refresh = secret::new_secret("lrt_")?;
        let refresh_hash = secret::hash_secret(&refresh);
        let family_id: [u8; 16] = secret::random_bytes()?;
        let t = self.t();
        let redeemed = self.store().transaction(&[&t.auth_codes, &t.refresh_tokens, &t.refresh_families], |tx| {
            let codes = tx.on(&t.auth_codes)?;
            let Some(mut c) = codes.get(code_hash)? else { return abort(invalid_grant("unknown authorization code")) };
            if c.client_id != client.client_id {
                return abort(invalid_grant("the code was issued to another client"));
            }
            if let Some(f) = c.redeemed_family {
                return Ok(Err((c.institution, c.user, f)));
            }
            if c.expires_at <= now {
                codes.remove(code_hash)?;
                return abort(invalid_grant("the authorization code has expired"));
            }
            if req.redirect_uri.as_deref() != Some(c.redirect_uri.as_str()) {
                return abort(invalid_grant("redirect_uri does not match the authorization request"));
            }
            if !pkce::verify_s256(verifier, &c.code_challenge) {
                return abort(invalid_grant("code_verifier does not match the code challenge"));
            }
            c.redeemed_family = Some(family_id);
            codes.insert(code_hash, &c)?;
            let family = RefreshFamily {
                id: family_id,
                institution: c.institution,
                user: c.user,
                client_id: client.client_id.clone(),
                scope: c.scope.clone(),
                current_hash: refresh_hash,
                member_hashes: vec![refresh_hash],
                created_at: now,
                expires_at: now + self.config().refresh_token_ttl_secs,
                revoked: None,
            };
            tx.on(&t.refresh_families)?.insert(family_key(c.institution, c.user, &family_id), &family)?;
            tx.on(&t.refresh_tokens)?
                .insert(refresh_hash, &RefreshToken { institution: c.institution, user: c.user, family: family_id })?;
            Ok::<_, TxFail<CoreError>>(Ok(c))
        })?;
        let c = match redeemed {
            Ok(c) => c,
            Err((inst, user, family)) => {
                return Ok(Exchange::Replay { inst, user, family, reason: RevocationReason::CodeReplayed });
            }
        };
        let user = self.load_user(c.institution, c.user)?;
        if !user.active {
            self.revoke_family(c.institution, c.user, &family_id, RevocationReason::UserDeactivated)?;
            return Err(invalid_grant("the user is deactivated"));
        }
        Ok(Exchange::Issued(self.issue_for_user(client, &user, &c.scope, c.nonce, family_id, refresh)?))
    }

    fn exchange_refresh(&self, client: &OAuthClient, req: &TokenRequest) -> Result<Exchange, CoreError> {
        let presented = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| CoreError::oauth("invalid_request", "refresh_token is required"))?;
        let hash = secret::hash_secret(presented);
        let now = self.now();
        let next = secret::new_secret("lrt_")?;
        let next_hash = secret::hash_secret(&next);
        let t = self.t();
        let rotated = self.store().transaction(&[&t.refresh_tokens, &t.refresh_families], |tx| {
            let Some(rt) = tx.on(&t.refresh_tokens)?.get(hash)? else {
                return abort(invalid_grant("unknown refresh token"));
            };
            let fkey = family_key(rt.institution, rt.user, &rt.family);
            let families = tx.on(&t.refresh_families)?;
            let Some(mut fam) = families.get(&fkey)? else { return abort(invalid_grant("unknown refresh token")) };
            if fam.client_id != client.client_id {
                return abort(invalid_grant("the refresh token was issued to another client"));
            }
            if fam.revoked.is_some() {
                return abort(invalid_grant("the grant was revoked"));
            }
            if !secret::ct_eq(&fam.current_hash, &hash) {
                return Ok(Err((rt.institution, rt.user, rt.family)));
            }
            if fam.expires_at <= now {
                return abort(invalid_grant("the refresh token has expired"));
            }
            let scope = match &req.scope {
                None => fam.scope.clone(),
                Some(s) => {
                    let wanted = split_scopes(s);
                    let granted = split_scopes(&fam.scope);
                    if let Some(x) = wanted.iter().find(|w| !granted.contains(w)) {
                        return abort(CoreError::oauth("invalid_scope", format!("scope `{x}` was not granted")));
                    }
                    wanted.join(" ")
                }
            };
            fam.current_hash = next_hash;
            fam.member_hashes.push(next_hash);
            families.insert(&fkey, &fam)?;
            tx.on(&t.refresh_tokens)?
                .insert(next_hash, &RefreshToken { institution: rt.institution, user: rt.user, family: rt.family })?;
            Ok(Ok((rt, scope)))
        })?;
        let (rt, scope) = match rotated {
            Ok(v) => v,
            Err((inst, user, family)) => {
                return Ok(Exchange::Replay { inst, user, family, reason: RevocationReason::ReuseDetected });
            }
        };
        let user = self.load_user(rt.institution, rt.user)?;
        if !user.active {
            return Err(invalid_grant("the user is deactivated"));
        }
        Ok(Exchange::Issued(self.issue_for_user(client, &user, &scope, None, rt.family, next)?))
    }

    fn revoke_family(
        &self,
        inst: InstitutionId,
        user: UserId,
        family: &[u8; 16],
        reason: RevocationReason,
    ) -> Result<(), CoreError> {
        self.t().refresh_families.update(family_key(inst, user, family), |old| {
            old.map(|mut f| {
                f.revoked.get_or_insert(reason);
                f
            })
        })?;
        Ok(())
    }

    pub(crate) fn revoke_user_refresh_families(
        &self,
        inst: InstitutionId,
        user: UserId,
        reason: RevocationReason,
    ) -> Result<(), CoreError> {
        let rows: Vec<_> =
            self.t().refresh_families.scan_prefix(keys::inst_user(inst, user)).collect::<Result<_, _>>()?;
        for (_, f) in rows.into_iter().filter(|(_, f)| f.revoked.is_none()) {
            self.revoke_family(inst, user, &f.id, reason)?;
        }
        Ok(())
    }

    /// Token revocation (RFC 7009): revokes a refresh token's whole grant.
    /// Unknown tokens are not an error, per the RFC.
    pub async fn revoke_token(&self, auth: &ClientAuth, token: &str) -> Result<(), CoreError> {
        let client = self.authenticate_client(auth)?;
        if let Some(rt) = self.t().refresh_tokens.get(secret::hash_secret(token))? {
            let fam = self.t().refresh_families.get(family_key(rt.institution, rt.user, &rt.family))?;
            if fam.is_some_and(|f| f.client_id == client.client_id) {
                self.revoke_family(rt.institution, rt.user, &rt.family, RevocationReason::ClientRevoked)?;
                self.durable().await?;
            }
        }
        Ok(())
    }

    /// The OIDC UserInfo of the caller.
    pub fn userinfo(&self, p: &Principal) -> Result<User, CoreError> {
        if !p.scopes.iter().any(|s| s == "openid" || s == "lectern") {
            return Err(CoreError::Forbidden("the token lacks the openid scope".into()));
        }
        let id = p.user_id().ok_or_else(|| CoreError::Forbidden("client tokens have no user".into()))?;
        self.load_user(p.institution, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in ["https://app.example/cb", "http://127.0.0.1:9000/cb", "http://localhost/cb", "edu.example.app:/cb"] {
            assert!(validate_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in ["http://app.example/cb", "https://app.example/cb#x", "/relative", "javascript:alert(1)"] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}

use lectern_auth::password;
use lectern_storage::abort;

use crate::authz::{Capability, Context, authorize};
use crate::email::{self, validate_email};
use crate::error::CoreError;
use crate::ids::{InstitutionId, UserId};
use crate::institutions::validate_name;
use crate::model::{InstitutionRole, RevocationReason, User};
use crate::paging::{Page, PageRequest};
use crate::{Identity, Principal, keys};

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: InstitutionRole,
    pub platform_admin: bool,
    /// `None` creates an account that cannot log in until a password is set.
    pub password: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<InstitutionRole>,
    /// `Some("")` clears the language (the pages then follow the browser's).
    pub locale: Option<String>,
}

/// Checks a BCP 47 language tag's shape (RFC 5646 §2.1, without the
/// registry lookup): a 2–3 letter language, then 1–8 character alphanumeric
/// subtags, at most 35 characters. Returns it in canonical case (`pt-BR`).
pub fn validate_locale(tag: &str) -> Result<String, CoreError> {
    let bad = || {
        CoreError::invalid(
            "locale",
            format!(
                "`{}` is not a BCP 47 language tag such as `fr` or `pt-BR`",
                tag.chars().take(40).collect::<String>()
            ),
        )
    };
    let tag = tag.trim();
    if tag.len() > 35 {
        return Err(bad());
    }
    let mut parts = tag.split(['-', '_']);
    let language = parts.next().unwrap_or("");
    if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let mut out = language.to_ascii_lowercase();
    for sub in parts {
        if !(1..=8).contains(&sub.len()) || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        out.push('-');
        // Regions are upper case, scripts title case, everything else lower case.
        match sub.len() {
            2 if sub.bytes().all(|b| b.is_ascii_alphabetic()) => out.push_str(&sub.to_ascii_uppercase()),
            4 if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
                out.push_str(&sub[..1].to_ascii_uppercase());
                out.push_str(&sub[1..].to_ascii_lowercase());
            }
            _ => out.push_str(&sub.to_ascii_lowercase()),
        }
    }
    Ok(out)
}

pub(crate) fn needs_admin_grant(role: InstitutionRole) -> bool {
    role == InstitutionRole::Admin
}

/// An administrator's account is administration: changing anything of it
/// (its email, the login identifier, included; its password, sessions or
/// state) needs `user:grant-admin`, and a platform administrator's needs the
/// platform. The caller has already been checked for `user:manage`.
pub(crate) fn authorize_account_change(p: &Principal, inst: InstitutionId, target: &User) -> Result<(), CoreError> {
    if needs_admin_grant(target.role) || target.platform_admin {
        authorize(p, Capability::UserGrantAdmin, Context::Institution(inst))?;
    }
    if target.platform_admin {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
    }
    Ok(())
}

impl Identity {
    async fn hash_new_password(&self, password: String, identity: Vec<String>) -> Result<String, CoreError> {
        let ids: Vec<&str> = identity.iter().map(String::as_str).collect();
        password::check_policy(&password, &ids).map_err(CoreError::WeakPassword)?;
        let hasher = self.config().password_hasher.clone();
        Ok(Self::blocking(move || hasher.hash(&password)).await??)
    }

    /// Creates a user. Granting the admin role needs `user:grant-admin`, the
    /// platform-admin flag needs a platform admin.
    pub async fn create_user(&self, p: &Principal, inst: InstitutionId, new: NewUser) -> Result<User, CoreError> {
        authorize(p, Capability::UserManage, Context::Institution(inst))?;
        if needs_admin_grant(new.role) {
            authorize(p, Capability::UserGrantAdmin, Context::Institution(inst))?;
        }
        if new.platform_admin {
            authorize(p, Capability::PlatformManage, Context::Platform)?;
            if inst != self.platform_institution()? {
                return Err(CoreError::invalid("platform_admin", "platform admins belong to the platform institution"));
            }
        }
        self.insert_user(inst, new).await
    }

    pub(crate) async fn insert_user(&self, inst: InstitutionId, new: NewUser) -> Result<User, CoreError> {
        if !self.t().institutions.contains(inst.bytes())? {
            return Err(CoreError::NotFound("institution"));
        }
        let (email, email_key) = validate_email(&new.email)?;
        self.refuse_lookalike(inst, &email_key, None)?;
        let name = validate_name("name", &new.name, 200)?;
        let password_hash = match new.password {
            Some(pw) => Some(self.hash_new_password(pw, vec![email.clone(), name.clone()]).await?),
            None => None,
        };
        let now = self.now();
        let user = User {
            id: UserId::new(),
            institution: inst,
            email,
            name,
            role: new.role,
            platform_admin: new.platform_admin,
            password_hash,
            active: true,
            created_at: now,
            updated_at: now,
            version: 1,
            locale: None,
        };
        let t = self.t();
        self.store().transaction(&[&t.users, &t.users_by_email, &t.users_by_skeleton], |tx| {
            let by_email = tx.on(&t.users_by_email)?;
            let ekey = keys::inst_str(inst, &email_key);
            if by_email.get(&ekey)?.is_some() {
                return abort(CoreError::Conflict("a user with this email already exists in the institution".into()));
            }
            by_email.insert(&ekey, &user.id)?;
            tx.on(&t.users_by_skeleton)?.insert(skeleton_key(inst, &email_key, user.id), &())?;
            tx.on(&t.users)?.insert(keys::inst_user(inst, user.id), &user)?;
            Ok(())
        })?;
        self.durable().await?;
        tracing::info!(institution = %inst, user = %user.id, role = ?user.role, "user created");
        Ok(user)
    }

    /// A user by id, without authorization (for other contexts that have authorized).
    pub fn load_user(&self, inst: InstitutionId, id: UserId) -> Result<User, CoreError> {
        self.t().users.get(keys::inst_user(inst, id))?.ok_or(CoreError::NotFound("user"))
    }

    pub(crate) fn find_user_by_email(&self, inst: InstitutionId, email: &str) -> Result<Option<User>, CoreError> {
        let key = keys::inst_str(inst, &email::lookup_key(email));
        match self.t().users_by_email.get(key)? {
            Some(id) => Ok(self.t().users.get(keys::inst_user(inst, id))?),
            None => Ok(None),
        }
    }

    /// A user may always read their own record.
    pub fn get_user(&self, p: &Principal, inst: InstitutionId, id: UserId) -> Result<User, CoreError> {
        if !(p.user_id() == Some(id) && p.institution == inst) {
            authorize(p, Capability::UserView, Context::Institution(inst))?;
        }
        self.load_user(inst, id)
    }

    pub fn list_users(&self, p: &Principal, inst: InstitutionId, page: &PageRequest) -> Result<Page<User>, CoreError> {
        authorize(p, Capability::UserView, Context::Institution(inst))?;
        let limit = page.limit()?;
        let rows = self.t().users.page(&keys::inst(inst), page.after()?.as_deref(), limit)?;
        let last = rows.last().map(|(k, _)| k.clone());
        Ok(Page::from_rows(rows.into_iter().map(|(_, v)| v).collect(), last, limit))
    }

    /// Updates a user. Users may change their own name; everything else needs
    /// `user:manage`, and moving into or out of the admin role `user:grant-admin`.
    pub async fn update_user(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: UserId,
        update: UserUpdate,
        if_version: Option<u64>,
    ) -> Result<User, CoreError> {
        // A user may change their own name and language; anything else is user management.
        let own_profile_only =
            p.user_id() == Some(id) && p.institution == inst && update.email.is_none() && update.role.is_none();
        if !own_profile_only {
            authorize(p, Capability::UserManage, Context::Institution(inst))?;
        }
        let current = self.load_user(inst, id)?;
        if !own_profile_only {
            authorize_account_change(p, inst, &current)?;
        }
        if let Some(role) = update.role
            && role != current.role
            && (needs_admin_grant(role) || needs_admin_grant(current.role))
        {
            authorize(p, Capability::UserGrantAdmin, Context::Institution(inst))?;
        }
        let name = update.name.as_deref().map(|n| validate_name("name", n, 200)).transpose()?;
        let email = update.email.as_deref().map(validate_email).transpose()?;
        if let Some((_, key)) = &email {
            self.refuse_lookalike(inst, key, Some(id))?;
        }
        let locale = match update.locale.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(tag) => Some(Some(validate_locale(tag)?)),
        };
        let now = self.now();
        let t = self.t();
        let user = self.store().transaction(&[&t.users, &t.users_by_email, &t.users_by_skeleton], |tx| {
            let users = tx.on(&t.users)?;
            let Some(mut u) = users.get(keys::inst_user(inst, id))? else { return abort(CoreError::NotFound("user")) };
            if let Some(v) = if_version
                && v != u.version
            {
                return abort(CoreError::PreconditionFailed { current: u.version });
            }
            if let Some((display, key)) = &email {
                let by_email = tx.on(&t.users_by_email)?;
                let old_key = keys::inst_str(inst, &u.email.to_lowercase());
                let new_key = keys::inst_str(inst, key);
                if new_key != old_key {
                    if by_email.get(&new_key)?.is_some() {
                        return abort(CoreError::Conflict(
                            "a user with this email already exists in the institution".into(),
                        ));
                    }
                    by_email.remove(&old_key)?;
                    by_email.insert(&new_key, &id)?;
                    let skeletons = tx.on(&t.users_by_skeleton)?;
                    skeletons.remove(skeleton_key(inst, &email::lookup_key(&u.email), id))?;
                    skeletons.insert(skeleton_key(inst, key, id), &())?;
                }
                u.email = display.clone();
            }
            if let Some(n) = &name {
                u.name = n.clone();
            }
            if let Some(r) = update.role {
                u.role = r;
            }
            if let Some(l) = &locale {
                u.locale = l.clone();
            }
            u.updated_at = now;
            u.version += 1;
            users.insert(keys::inst_user(inst, id), &u)?;
            Ok(u)
        })?;
        self.durable().await?;
        Ok(user)
    }

    /// Signs a user out everywhere: ends every session (and the access tokens
    /// minted with them) and revokes every refresh token, without deactivating
    /// the account or changing its password. Returns how many sessions ended.
    pub async fn reset_sessions(&self, p: &Principal, inst: InstitutionId, id: UserId) -> Result<usize, CoreError> {
        authorize(p, Capability::UserManage, Context::Institution(inst))?;
        let target = self.load_user(inst, id)?;
        authorize_account_change(p, inst, &target)?;
        let sessions = self.t().sessions_by_user.scan_prefix(keys::inst_user(inst, id)).count();
        self.end_all_sessions(inst, id, RevocationReason::SessionsReset)?;
        self.durable().await?;
        tracing::info!(institution = %inst, user = %id, sessions, "sessions reset by an administrator");
        Ok(sessions)
    }

    /// Deactivates (ending every session and refresh token at once) or reactivates a user.
    pub async fn set_user_active(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: UserId,
        active: bool,
    ) -> Result<User, CoreError> {
        authorize(p, Capability::UserManage, Context::Institution(inst))?;
        if !active && p.user_id() == Some(id) {
            return Err(CoreError::Conflict("you cannot deactivate your own account".into()));
        }
        let target = self.load_user(inst, id)?;
        authorize_account_change(p, inst, &target)?;
        let now = self.now();
        let user = self
            .t()
            .users
            .update(keys::inst_user(inst, id), |old| {
                old.map(|mut u| {
                    u.active = active;
                    u.updated_at = now;
                    u.version += 1;
                    u
                })
            })?
            .ok_or(CoreError::NotFound("user"))?;
        if !active {
            self.end_all_sessions(inst, id, RevocationReason::UserDeactivated)?;
        }
        self.durable().await?;
        tracing::info!(institution = %inst, user = %id, active, "user activation changed");
        Ok(user)
    }

    /// Sets a user's password (admin reset) and ends all their sessions.
    pub async fn reset_password(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: UserId,
        new_password: String,
    ) -> Result<(), CoreError> {
        authorize(p, Capability::UserManage, Context::Institution(inst))?;
        let target = self.load_user(inst, id)?;
        if p.user_id() != Some(id) {
            authorize_account_change(p, inst, &target)?;
        }
        self.store_password(inst, target, new_password).await
    }

    /// Changes the caller's own password after checking the current one; ends
    /// every other session.
    pub async fn change_own_password(
        &self,
        p: &Principal,
        current: String,
        new_password: String,
    ) -> Result<(), CoreError> {
        let id = p.user_id().ok_or_else(|| CoreError::Forbidden("only users have passwords".into()))?;
        let user = self.load_user(p.institution, id)?;
        let hash = user.password_hash.clone().ok_or(CoreError::InvalidCredentials)?;
        let hasher = self.config().password_hasher.clone();
        let verified = Self::blocking(move || hasher.verify(&current, &hash)).await??;
        if verified == password::Verified::Mismatch {
            return Err(CoreError::InvalidCredentials);
        }
        self.store_password(p.institution, user, new_password).await
    }

    async fn store_password(&self, inst: InstitutionId, user: User, new_password: String) -> Result<(), CoreError> {
        let hash = self.hash_new_password(new_password, vec![user.email.clone(), user.name.clone()]).await?;
        let now = self.now();
        self.t().users.update(keys::inst_user(inst, user.id), |old| {
            old.map(|mut u| {
                u.password_hash = Some(hash.clone());
                u.updated_at = now;
                u.version += 1;
                u
            })
        })?;
        self.end_all_sessions(inst, user.id, RevocationReason::PasswordReset)?;
        self.durable().await?;
        tracing::info!(institution = %inst, user = %user.id, "password changed; sessions ended");
        Ok(())
    }

    /// Refuses an address that looks like another account's (see [`email`]).
    /// Checked before the write's transaction (sled transactions cannot scan):
    /// two look-alikes created in the same instant can both pass.
    pub(crate) fn refuse_lookalike(
        &self,
        inst: InstitutionId,
        key: &str,
        except: Option<UserId>,
    ) -> Result<(), CoreError> {
        let prefix = skeleton_prefix(inst, key);
        for row in self.t().users_by_skeleton.scan_prefix(&prefix) {
            let (k, ()) = row?;
            let Some(other) = k.get(prefix.len()..).and_then(UserId::from_slice) else { continue };
            if Some(other) == except {
                continue;
            }
            if let Some(u) = self.t().users.get(keys::inst_user(inst, other))?
                && email::lookalikes(key, &email::lookup_key(&u.email))
            {
                return Err(CoreError::Conflict(format!(
                    "this address looks the same as an existing account's ({}); use that account or a visibly different address",
                    u.email
                )));
            }
        }
        Ok(())
    }

    /// Admin CLI helper: find a user by institution reference and email.
    pub fn user_by_email(&self, p: &Principal, inst: InstitutionId, email: &str) -> Result<User, CoreError> {
        authorize(p, Capability::UserView, Context::Institution(inst))?;
        self.find_user_by_email(inst, email)?.ok_or(CoreError::NotFound("user"))
    }
}

/// The look-alike index's key: institution, skeleton, NUL, user id.
pub(crate) fn skeleton_key(inst: InstitutionId, key: &str, user: UserId) -> Vec<u8> {
    [skeleton_prefix(inst, key).as_slice(), user.bytes()].concat()
}

/// Every account whose address has `key`'s skeleton: institution, skeleton, NUL.
fn skeleton_prefix(inst: InstitutionId, key: &str) -> Vec<u8> {
    let mut k = keys::inst_str(inst, &email::skeleton(key));
    k.push(0);
    k
}

//! The identity context: institutions (tenants), users, courses and
//! enrolments, login sessions, OAuth 2 / OIDC clients and grants, signing
//! keys, login throttling, bootstrap tokens and the sweep of expired grants.
//!
//! Key types: [`Identity`] (the context, cheap to clone), the records in
//! [`model`], and the inputs [`NewUser`], [`NewCourse`], [`NewInstitution`].
//!
//! Invariants:
//! - Owns the trees listed in `Trees`; no other crate opens them. Other
//!   contexts ask [`Identity`] (`course_context`, `get_course`, `load_user`,
//!   `enrolment_role`, ...).
//! - Every operation takes a [`Principal`] and calls
//!   [`lectern_domain::authz::authorize`] before it reads or writes tenant data.
//! - A write is acknowledged only after the store is durable.
//! - Courses live here rather than with content: an enrolment's target, a
//!   course's state and code are what authorization and every other context
//!   need; a course's outline and pages belong to `lectern-content`.

mod bootstrap;
pub mod bulk;
mod courses;
mod email;
mod enrolments;
mod institutions;
pub mod model;
pub mod oauth;
pub mod privacy;
mod reads;
mod sessions;
mod signing;
pub use signing::SigningKeyInfo;
mod sweep;
mod throttle;
mod users;

use std::sync::Arc;

use lectern_domain::{CoreError, Env, Principal, authz, error, ids, keys, paging};

pub use courses::{CourseUpdate, NewCourse};
pub use email::validate_email;
pub use institutions::{NewInstitution, validate_name, validate_slug};
pub use lectern_auth::password::{PasswordHasher, PolicyViolation};
pub use sessions::{LoginOutcome, LoginRequest, SessionInfo, SessionToken};
pub use sweep::Swept;
pub use throttle::ThrottlePolicy;
pub use users::{NewUser, UserUpdate, validate_locale};

/// Identity's settings, from the kernel's configuration.
#[derive(Clone, Debug)]
pub struct IdentitySettings {
    /// Public base URL; the OAuth/OIDC issuer.
    pub issuer: String,
    /// The `aud` of access tokens this deployment issues and accepts.
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub auth_code_ttl_secs: i64,
    pub throttle: ThrottlePolicy,
    pub password_hasher: PasswordHasher,
}

/// The identity context over one database. Cheap to clone.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    config: IdentitySettings,
    t: Trees,
    /// Public halves of signing keys by kid: derived once, not per request.
    public_keys: std::sync::RwLock<std::collections::HashMap<String, [u8; 32]>>,
    /// Access tokens already verified, by the SHA-256 of the token (see `signing::verify_access`).
    verified: quick_cache::sync::Cache<[u8; 32], signing::Verified>,
    /// Signing keys as decoded (and unsealed) last, checked against the stored
    /// bytes on every read: a request does not decrypt its key again.
    signing_key_cache: lectern_storage::DecodeCache<SigningKeyRecord>,
}

impl Identity {
    /// Opens identity's trees, ensures the platform institution exists, and
    /// returns the one-time bootstrap token when there is no platform admin yet.
    pub fn open(env: Env, config: IdentitySettings) -> Result<(Identity, Option<String>), CoreError> {
        let t = Trees::open(&env.store)?;
        let identity = Identity {
            inner: Arc::new(Inner {
                env,
                config,
                t,
                public_keys: Default::default(),
                verified: signing::verified_cache(),
                signing_key_cache: lectern_storage::DecodeCache::new(256),
            }),
        };
        identity.ensure_platform_institution()?;
        let token = identity.bootstrap_if_needed()?;
        Ok((identity, token))
    }

    /// Creates identity's trees (the first schema migration).
    pub fn create_trees(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        Trees::open(store).map(|_| ())
    }

    /// Schema migration 2: every account's email under the key of today's
    /// normal form (NFKC, lowercase) and in the look-alike index. Two
    /// existing accounts whose addresses now have one key keep their records;
    /// the older keeps the key (logged, for an administrator to resolve).
    pub fn index_email_lookalikes(store: &lectern_storage::Store) -> Result<(), lectern_storage::StorageError> {
        let t = Trees::open(store)?;
        let mut users: Vec<User> = t.users.scan_prefix(b"").map(|r| r.map(|(_, u)| u)).collect::<Result<_, _>>()?;
        users.sort_by_key(|u| u.created_at);
        for u in users {
            let key = email::lookup_key(&u.email);
            let old = keys::inst_str(u.institution, &u.email.to_lowercase());
            let new = keys::inst_str(u.institution, &key);
            t.users_by_skeleton.insert(users::skeleton_key(u.institution, &key, u.id), &())?;
            if old == new {
                continue;
            }
            match t.users_by_email.get(&new)? {
                Some(other) if other != u.id => {
                    tracing::warn!(institution = %u.institution, user = %u.id, other = %other,
                        "two accounts' emails have one normal form; the older keeps the sign-in key");
                }
                _ => {
                    t.users_by_email.insert(&new, &u.id)?;
                    if t.users_by_email.get(&old)? == Some(u.id) {
                        t.users_by_email.remove(&old)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    pub fn config(&self) -> &IdentitySettings {
        &self.inner.config
    }

    fn t(&self) -> &Trees {
        &self.inner.t
    }
}

lectern_domain::context_helpers!(Identity);

use model::*;

/// Identity's trees, opened once; private to this crate.
struct Trees {
    institutions: lectern_storage::Tree<Institution>,
    institutions_by_slug: lectern_storage::Tree<ids::InstitutionId>,
    users: lectern_storage::Tree<User>,
    users_by_email: lectern_storage::Tree<ids::UserId>,
    /// Look-alike index: (institution, TR39 skeleton of the email key, NUL, user id).
    users_by_skeleton: lectern_storage::Tree<()>,
    courses: lectern_storage::Tree<Course>,
    courses_by_code: lectern_storage::Tree<ids::CourseId>,
    enrolments: lectern_storage::Tree<Enrolment>,
    enrolments_by_user: lectern_storage::Tree<()>,
    sessions: lectern_storage::Tree<Session>,
    sessions_by_user: lectern_storage::Tree<Vec<u8>>,
    signing_keys: lectern_storage::Tree<SigningKeyRecord>,
    kid_index: lectern_storage::Tree<ids::InstitutionId>,
    oauth_clients: lectern_storage::Tree<OAuthClient>,
    auth_codes: lectern_storage::Tree<AuthCode>,
    refresh_tokens: lectern_storage::Tree<RefreshToken>,
    refresh_families: lectern_storage::Tree<RefreshFamily>,
    login_failures: lectern_storage::Tree<FailureCounter>,
    bootstrap: lectern_storage::Tree<BootstrapToken>,
}

impl Trees {
    fn open(s: &lectern_storage::Store) -> Result<Trees, lectern_storage::StorageError> {
        Ok(Trees {
            institutions: s.tree("institutions")?,
            institutions_by_slug: s.tree("institutions_by_slug")?,
            users: s.tree("users")?,
            users_by_email: s.tree("users_by_email")?,
            users_by_skeleton: s.tree("users_by_skeleton")?,
            courses: s.tree("courses")?,
            courses_by_code: s.tree("courses_by_code")?,
            enrolments: s.tree("enrolments")?,
            enrolments_by_user: s.tree("enrolments_by_user")?,
            sessions: s.tree("sessions")?,
            sessions_by_user: s.tree("sessions_by_user")?,
            signing_keys: s.sealed_tree("signing_keys")?,
            kid_index: s.tree("kid_index")?,
            oauth_clients: s.tree("oauth_clients")?,
            auth_codes: s.tree("auth_codes")?,
            refresh_tokens: s.tree("refresh_tokens")?,
            refresh_families: s.tree("refresh_families")?,
            login_failures: s.tree("login_failures")?,
            bootstrap: s.tree("bootstrap")?,
        })
    }
}

/// An argon2id hasher with explicit parameters (memory KiB, iterations, lanes).
pub fn password_hasher(m_kib: u32, t: u32, p: u32) -> Result<PasswordHasher, CoreError> {
    Ok(PasswordHasher::new(m_kib, t, p)?)
}

/// A random password that passes the policy (for CLI-created accounts).
pub fn generate_password() -> Result<String, CoreError> {
    // 18 random bytes → 24 base64url characters, ~144 bits.
    let s = lectern_auth::secret::new_secret("")?;
    Ok(s.chars().take(24).collect())
}

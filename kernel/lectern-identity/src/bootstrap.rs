//! First start: a fresh database has a platform institution but no one who
//! can log in. The kernel issues a one-time bootstrap token (printed by the
//! server, stored only as a hash, valid 24 h) that creates the first
//! platform administrator.

use lectern_auth::secret;

use crate::error::CoreError;
use crate::model::{BootstrapToken, InstitutionRole, User};
use crate::{Identity, NewUser, keys};

const TTL_SECS: i64 = 24 * 3600;

impl Identity {
    /// Whether any active platform administrator exists.
    pub fn has_platform_admin(&self) -> Result<bool, CoreError> {
        let inst = self.platform_institution()?;
        for row in self.t().users.scan_prefix(keys::inst(inst)) {
            let (_, u) = row?;
            if u.platform_admin && u.active {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(crate) fn bootstrap_if_needed(&self) -> Result<Option<String>, CoreError> {
        if self.has_platform_admin()? {
            return Ok(None);
        }
        self.new_bootstrap_token().map(Some)
    }

    /// Issues a fresh bootstrap token, replacing any earlier one.
    pub fn new_bootstrap_token(&self) -> Result<String, CoreError> {
        let token = secret::new_secret("lbt_")?;
        let record = BootstrapToken { hash: secret::hash_secret(&token), expires_at: self.now() + TTL_SECS };
        self.t().bootstrap.insert(b"token", &record)?;
        self.store().durable_blocking()?;
        Ok(token)
    }

    /// Redeems the bootstrap token: creates a platform administrator.
    pub async fn redeem_bootstrap(
        &self,
        token: &str,
        email: String,
        name: String,
        password: String,
    ) -> Result<User, CoreError> {
        let stored = self.t().bootstrap.get(b"token")?;
        let valid =
            stored.is_some_and(|s| s.expires_at > self.now() && secret::ct_eq(&s.hash, &secret::hash_secret(token)));
        if !valid {
            return Err(CoreError::Forbidden("the bootstrap token is invalid, expired or already used".into()));
        }
        let inst = self.platform_institution()?;
        let user = self
            .insert_user(
                inst,
                NewUser { email, name, role: InstitutionRole::Admin, platform_admin: true, password: Some(password) },
            )
            .await?;
        self.t().bootstrap.remove(b"token")?;
        self.durable().await?;
        tracing::warn!(user = %user.id, "bootstrap token redeemed: first platform administrator created");
        Ok(user)
    }
}

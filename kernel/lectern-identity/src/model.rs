//! Identity's stored records: institutions, users, courses and enrolments,
//! sessions, OAuth clients and grants, signing keys, login-failure counters
//! and bootstrap tokens. Each implements [`Record`] with a schema version;
//! change a shape by bumping the version and teaching `upgrade` the old one.
//! (The roles and states authorization decides on are in
//! `lectern_domain::model`, re-exported here.)

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

pub use lectern_domain::model::{CourseRole, CourseState, InstitutionRole};

use crate::ids::{CourseId, InstitutionId, SessionId, UserId};

macro_rules! record {
    ($($t:ty),* $(,)?) => { $(impl Record for $t { const VERSION: u8 = 1; })* };
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    pub id: InstitutionId,
    pub slug: String,
    pub name: String,
    /// The platform institution holds platform administrators.
    pub platform: bool,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub institution: InstitutionId,
    pub email: String,
    pub name: String,
    pub role: InstitutionRole,
    pub platform_admin: bool,
    /// PHC string; `None` for accounts that cannot log in with a password.
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: u64,
    /// The user's language for the pages and messages, a BCP 47 tag (`fr`,
    /// `pt-BR`); `None` follows the browser. Added in record version 2.
    pub locale: Option<String>,
}

/// A user as record version 1 stored it (before `locale`).
#[derive(Deserialize)]
struct UserV1 {
    id: UserId,
    institution: InstitutionId,
    email: String,
    name: String,
    role: InstitutionRole,
    platform_admin: bool,
    password_hash: Option<String>,
    active: bool,
    created_at: i64,
    updated_at: i64,
    version: u64,
}

impl Record for User {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("no upgrade path from version {version}"));
        }
        let v1: UserV1 = lectern_storage::decode_body(body)?;
        Ok(User {
            id: v1.id,
            institution: v1.institution,
            email: v1.email,
            name: v1.name,
            role: v1.role,
            platform_admin: v1.platform_admin,
            password_hash: v1.password_hash,
            active: v1.active,
            created_at: v1.created_at,
            updated_at: v1.updated_at,
            version: v1.version,
            locale: None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub id: CourseId,
    pub institution: InstitutionId,
    pub code: String,
    pub title: String,
    pub description: String,
    pub state: CourseState,
    pub created_by: UserId,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub institution: InstitutionId,
    pub course: CourseId,
    pub user: UserId,
    pub role: CourseRole,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub institution: InstitutionId,
    pub user: UserId,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub absolute_expires_at: i64,
    pub user_agent: String,
    pub ip: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub institution: InstitutionId,
    pub secret: [u8; 32],
    pub created_at: i64,
    /// Set when a newer key replaced this one: the key stays published (and
    /// accepted) until then so tokens it signed can expire naturally.
    pub retire_at: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    pub client_id: String,
    pub institution: InstitutionId,
    pub name: String,
    /// SHA-256 of the secret for confidential clients; `None` for public ones.
    pub secret_hash: Option<[u8; 32]>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub created_by: UserId,
    pub created_at: i64,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub institution: InstitutionId,
    pub user: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub expires_at: i64,
    /// Set once the code was exchanged; a second exchange revokes this family.
    pub redeemed_family: Option<[u8; 16]>,
}

/// Where a refresh token hash points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub institution: InstitutionId,
    pub user: UserId,
    pub family: [u8; 16],
}

/// A chain of rotated refresh tokens from one grant. Only `current_hash` is
/// usable; presenting any older member is reuse and revokes the family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub id: [u8; 16],
    pub institution: InstitutionId,
    pub user: UserId,
    pub client_id: String,
    pub scope: String,
    pub current_hash: [u8; 32],
    pub member_hashes: Vec<[u8; 32]>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: Option<RevocationReason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevocationReason {
    ReuseDetected,
    CodeReplayed,
    ClientRevoked,
    UserDeactivated,
    PasswordReset,
    /// An administrator signed the user out everywhere (added last: variants are stored by position).
    SessionsReset,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCounter {
    pub failures: u32,
    pub last_failure_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapToken {
    pub hash: [u8; 32],
    pub expires_at: i64,
}

record!(
    Institution,
    Course,
    Enrolment,
    Session,
    SigningKeyRecord,
    OAuthClient,
    AuthCode,
    RefreshToken,
    RefreshFamily,
    FailureCounter,
    BootstrapToken,
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record type must survive the storage codec (postcard supports a
    /// subset of serde); a new field type that breaks this fails here first.
    #[test]
    fn records_round_trip_through_storage() {
        let dir = tempfile::tempdir().unwrap();
        let s = lectern_storage::Store::open(dir.path(), Default::default()).unwrap();
        let fam = RefreshFamily {
            id: [1; 16],
            institution: InstitutionId::new(),
            user: UserId::new(),
            client_id: "c".into(),
            scope: "openid".into(),
            current_hash: [2; 32],
            member_hashes: vec![[2; 32]],
            created_at: 1,
            expires_at: 2,
            revoked: Some(RevocationReason::ReuseDetected),
        };
        let t = s.tree::<RefreshFamily>("f").unwrap();
        t.insert(b"k", &fam).unwrap();
        assert_eq!(t.get(b"k").unwrap(), Some(fam));
        let user = User {
            id: UserId::new(),
            institution: InstitutionId::new(),
            email: "a@b.c".into(),
            name: "A".into(),
            role: InstitutionRole::Staff,
            platform_admin: false,
            password_hash: None,
            active: true,
            created_at: 0,
            updated_at: 0,
            version: 1,
            locale: Some("fr".into()),
        };
        let t = s.tree::<User>("u").unwrap();
        t.insert(b"k", &user).unwrap();
        assert_eq!(t.get(b"k").unwrap(), Some(user));
    }
}

//! The JSON shapes of the API. Domain types never leave the kernel as JSON
//! directly: they are converted here, so the wire format is stable even when
//! storage records change.

pub mod admin;
pub mod answer_keys;
pub mod assessments;
pub mod audit;
pub mod bulk;
pub mod bus;
pub mod completion;
pub mod content;
pub mod credentials;
pub mod grades;
pub mod manual;
pub mod media;
pub mod notifications;
pub mod plugins;
pub mod privacy;
pub mod signals;
pub mod tutor;

use lectern_core::model::{self, CourseRole, CourseState, InstitutionRole};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// Raw bytes (a file, an archive), not JSON: documented as
/// `{"type": "string", "format": "binary"}`, which client generators turn
/// into a string or a `Blob` rather than an array of numbers.
#[derive(Debug)]
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("Raw bytes"))
            .into()
    }
}

impl ToSchema for Binary {}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionRoleDto {
    Admin,
    Staff,
    Member,
}

impl From<InstitutionRole> for InstitutionRoleDto {
    fn from(r: InstitutionRole) -> Self {
        match r {
            InstitutionRole::Admin => Self::Admin,
            InstitutionRole::Staff => Self::Staff,
            InstitutionRole::Member => Self::Member,
        }
    }
}
impl From<InstitutionRoleDto> for InstitutionRole {
    fn from(r: InstitutionRoleDto) -> Self {
        match r {
            InstitutionRoleDto::Admin => Self::Admin,
            InstitutionRoleDto::Staff => Self::Staff,
            InstitutionRoleDto::Member => Self::Member,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CourseRoleDto {
    Instructor,
    TeachingAssistant,
    Student,
    Observer,
}

impl From<CourseRole> for CourseRoleDto {
    fn from(r: CourseRole) -> Self {
        match r {
            CourseRole::Instructor => Self::Instructor,
            CourseRole::TeachingAssistant => Self::TeachingAssistant,
            CourseRole::Student => Self::Student,
            CourseRole::Observer => Self::Observer,
        }
    }
}
impl From<CourseRoleDto> for CourseRole {
    fn from(r: CourseRoleDto) -> Self {
        match r {
            CourseRoleDto::Instructor => Self::Instructor,
            CourseRoleDto::TeachingAssistant => Self::TeachingAssistant,
            CourseRoleDto::Student => Self::Student,
            CourseRoleDto::Observer => Self::Observer,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CourseStateDto {
    Draft,
    Published,
    Archived,
}

impl From<CourseState> for CourseStateDto {
    fn from(s: CourseState) -> Self {
        match s {
            CourseState::Draft => Self::Draft,
            CourseState::Published => Self::Published,
            CourseState::Archived => Self::Archived,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Institution {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub platform: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<model::Institution> for Institution {
    fn from(i: model::Institution) -> Self {
        Institution {
            id: i.id.to_string(),
            slug: i.slug,
            name: i.name,
            platform: i.platform,
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstitution {
    /// 2–63 characters of a–z, 0–9 and inner hyphens; used in URLs and at login.
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstitution {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub institution_id: String,
    pub email: String,
    pub name: String,
    pub role: InstitutionRoleDto,
    pub platform_admin: bool,
    pub active: bool,
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Also sent as the `ETag`; send it back in `If-Match` to update safely.
    pub version: u64,
    /// The user's language (BCP 47), which selects the pages' language; absent: the browser's.
    pub locale: Option<String>,
}

impl From<model::User> for User {
    fn from(u: model::User) -> Self {
        User {
            id: u.id.to_string(),
            institution_id: u.institution.to_string(),
            email: u.email,
            name: u.name,
            role: u.role.into(),
            platform_admin: u.platform_admin,
            active: u.active,
            has_password: u.password_hash.is_some(),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
            version: u.version,
            locale: u.locale,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    #[serde(default = "member")]
    pub role: InstitutionRoleDto,
    #[serde(default)]
    pub platform_admin: bool,
    /// Optional initial password (policy applies); omit to create an account
    /// that logs in once an admin sets a password.
    #[serde(default)]
    pub password: Option<String>,
}

fn member() -> InstitutionRoleDto {
    InstitutionRoleDto::Member
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<InstitutionRoleDto>,
    /// A BCP 47 language tag (`fr`, `pt-BR`); `""` clears it. Users may set their own.
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Course {
    pub id: String,
    pub institution_id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    pub state: CourseStateDto,
    /// The caller's role in this course, if enrolled.
    pub my_role: Option<CourseRoleDto>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Course {
    pub fn new(c: model::Course, my_role: Option<CourseRole>) -> Self {
        Course {
            id: c.id.to_string(),
            institution_id: c.institution.to_string(),
            code: c.code,
            title: c.title,
            description: c.description,
            state: c.state.into(),
            my_role: my_role.map(Into::into),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCourse {
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourse {
    pub code: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub course_id: String,
    pub user_id: String,
    pub role: CourseRoleDto,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Enrolment {
    pub fn new(e: model::Enrolment, user: Option<model::User>) -> Self {
        Enrolment {
            course_id: e.course.to_string(),
            user_id: e.user.to_string(),
            role: e.role.into(),
            user_name: user.as_ref().map(|u| u.name.clone()),
            user_email: user.map(|u| u.email),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    pub user_id: String,
    pub role: CourseRoleDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: CourseRoleDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Institution slug or id.
    pub institution: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// A short-lived EdDSA-signed JWT (`typ: at+jwt`) for the `Authorization: Bearer` header.
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub session: Session,
    pub user: User,
}

/// A renewed access token for the session the cookie names (`POST /api/v1/auth/refresh`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshResponse {
    /// A short-lived EdDSA-signed JWT (`typ: at+jwt`) for the `Authorization: Bearer` header.
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until it expires: the token lifetime, or less when the session ends sooner.
    pub expires_in: i64,
    pub session: Session,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub idle_expires_at: String,
    pub absolute_expires_at: String,
    pub user_agent: String,
    pub ip: String,
    pub current: bool,
}

impl From<lectern_core::SessionInfo> for Session {
    fn from(s: lectern_core::SessionInfo) -> Self {
        Session {
            id: s.id.to_string(),
            created_at: rfc3339(s.created_at),
            last_seen_at: rfc3339(s.last_seen_at),
            idle_expires_at: rfc3339(s.idle_expires_at),
            absolute_expires_at: rfc3339(s.absolute_expires_at),
            user_agent: s.user_agent,
            ip: s.ip,
            current: s.current,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `user` or `client`.
    pub kind: &'static str,
    pub user: Option<User>,
    pub client_id: String,
    pub institution: Institution,
    pub scopes: Vec<String>,
    /// Capabilities the caller holds institution-wide (course roles add more per course).
    pub capabilities: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    pub token: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GrantTypeDto {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

impl From<GrantTypeDto> for model::GrantType {
    fn from(g: GrantTypeDto) -> Self {
        match g {
            GrantTypeDto::AuthorizationCode => Self::AuthorizationCode,
            GrantTypeDto::ClientCredentials => Self::ClientCredentials,
            GrantTypeDto::RefreshToken => Self::RefreshToken,
        }
    }
}
impl From<model::GrantType> for GrantTypeDto {
    fn from(g: model::GrantType) -> Self {
        match g {
            model::GrantType::AuthorizationCode => Self::AuthorizationCode,
            model::GrantType::ClientCredentials => Self::ClientCredentials,
            model::GrantType::RefreshToken => Self::RefreshToken,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    pub confidential: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantTypeDto>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantTypeDto>,
    pub scopes: Vec<String>,
    pub created_at: String,
    /// Only in the response that created the client; store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl Client {
    pub fn new(c: model::OAuthClient, secret: Option<String>) -> Self {
        Client {
            client_id: c.client_id,
            name: c.name,
            confidential: c.secret_hash.is_some(),
            redirect_uris: c.redirect_uris,
            grant_types: c.grant_types.into_iter().map(Into::into).collect(),
            scopes: c.scopes,
            created_at: rfc3339(c.created_at),
            client_secret: secret,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    pub kid: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// How many sessions an administrator's reset ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsReset {
    pub ended: usize,
}

/// What the OAuth consent page shows: a client asks for scopes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentPrompt {
    pub client_id: String,
    /// The name the institution registered the client under.
    pub client_name: String,
    pub scopes: Vec<String>,
    /// Where the browser goes after the answer.
    pub redirect_uri: String,
}

/// The user's answer to an authorization request: its parameters, as the
/// authorization endpoint received them, and `approve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentDecision {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub approve: bool,
}

/// Where to send the browser: the client's redirect URI with `code` (or `error`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentResult {
    pub redirect_to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub tenant: String,
}

/// Query parameters of every listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1–500, default 50.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<PageQuery> for lectern_core::PageRequest {
    fn from(q: PageQuery) -> Self {
        lectern_core::PageRequest { limit: q.limit, cursor: q.cursor }
    }
}

macro_rules! page {
    ($name:ident, $item:ty) => {
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }
    };
}
page!(InstitutionPage, Institution);
page!(UserPage, User);
page!(CoursePage, Course);
page!(EnrolmentPage, Enrolment);

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the problem kind, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

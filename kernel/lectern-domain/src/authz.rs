//! Authorization: who may do what, where. [`authorize`] is the one function
//! that decides; every domain operation calls it before touching data.
//!
//! A decision has three parts, all of which must allow:
//! 1. **Tenant**: the target's institution is the principal's, unless the
//!    principal is a platform admin.
//! 2. **Scope**: the token's scopes cover the capability (first-party login
//!    sessions carry the `lectern` scope, which covers everything).
//! 3. **Role**: the principal's institution role, or its enrolment role in the
//!    course, grants the capability in the course's current state.
//!
//! `docs/authorization.md` is generated from [`matrix_markdown`] and a test
//! keeps it in step with this code.

use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, SessionId, UserId};
use crate::model::{CourseRole, CourseState, InstitutionRole};

/// Something a principal may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Create and manage institutions (platform level).
    PlatformManage,
    InstitutionView,
    /// Rename the institution, rotate its signing keys.
    InstitutionManage,
    UserView,
    /// Create, update, deactivate users and reset their passwords.
    UserManage,
    /// Grant the institution admin role or platform admin flag.
    UserGrantAdmin,
    CourseCreate,
    CourseView,
    CourseEdit,
    /// Publish or archive.
    CoursePublish,
    EnrolmentView,
    EnrolmentManage,
    AttemptSubmit,
    GradeViewOwn,
    GradeViewAll,
    GradeEdit,
    PluginManage,
    OAuthClientManage,
    /// Read exam-integrity records: proctoring signals, IP addresses,
    /// sessions, user agents, risk scores and the review queue.
    IntegrityView,
    /// Dismiss or confirm an attempt's proctoring flags.
    IntegrityReview,
    /// Read what students asked the course's tutor (tutor insights).
    TutorInsightsView,
    /// Read and export the audit log (an institution's; platform: all of it).
    AuditView,
    /// Answer privacy requests: export everything held about a person, or
    /// erase them (GDPR articles 15, 17 and 20).
    PrivacyManage,
}

impl Capability {
    pub const ALL: [Capability; 23] = [
        Capability::PlatformManage,
        Capability::InstitutionView,
        Capability::InstitutionManage,
        Capability::UserView,
        Capability::UserManage,
        Capability::UserGrantAdmin,
        Capability::CourseCreate,
        Capability::CourseView,
        Capability::CourseEdit,
        Capability::CoursePublish,
        Capability::EnrolmentView,
        Capability::EnrolmentManage,
        Capability::AttemptSubmit,
        Capability::GradeViewOwn,
        Capability::GradeViewAll,
        Capability::GradeEdit,
        Capability::PluginManage,
        Capability::OAuthClientManage,
        Capability::IntegrityView,
        Capability::IntegrityReview,
        Capability::TutorInsightsView,
        Capability::AuditView,
        Capability::PrivacyManage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::PlatformManage => "platform:manage",
            Capability::InstitutionView => "institution:view",
            Capability::InstitutionManage => "institution:manage",
            Capability::UserView => "user:view",
            Capability::UserManage => "user:manage",
            Capability::UserGrantAdmin => "user:grant-admin",
            Capability::CourseCreate => "course:create",
            Capability::CourseView => "course:view",
            Capability::CourseEdit => "course:edit",
            Capability::CoursePublish => "course:publish",
            Capability::EnrolmentView => "enrolment:view",
            Capability::EnrolmentManage => "enrolment:manage",
            Capability::AttemptSubmit => "attempt:submit",
            Capability::GradeViewOwn => "grade:view-own",
            Capability::GradeViewAll => "grade:view-all",
            Capability::GradeEdit => "grade:edit",
            Capability::PluginManage => "plugin:manage",
            Capability::OAuthClientManage => "oauth-client:manage",
            Capability::IntegrityView => "integrity:view",
            Capability::IntegrityReview => "integrity:review",
            Capability::TutorInsightsView => "tutor-insights:view",
            Capability::AuditView => "audit:view",
            Capability::PrivacyManage => "privacy:manage",
        }
    }
}

/// OAuth scopes Lectern understands, and the capabilities each unlocks.
///
/// Grades, exam-integrity records and tutor conversations are three different
/// sensitivities, so each has its own scope: `grades:read` never unlocks the
/// other two. Reviewing flags is signed by a person, so no scope grants
/// `integrity:review` to a service client.
pub const SCOPES: &[(&str, &[Capability])] = &[
    ("openid", &[]),
    ("profile", &[]),
    ("email", &[]),
    ("offline_access", &[]),
    ("institution:read", &[Capability::InstitutionView]),
    ("courses:read", &[Capability::InstitutionView, Capability::CourseView, Capability::EnrolmentView]),
    (
        "courses:write",
        &[
            Capability::InstitutionView,
            Capability::CourseView,
            Capability::CourseCreate,
            Capability::CourseEdit,
            Capability::CoursePublish,
            Capability::EnrolmentView,
            Capability::EnrolmentManage,
        ],
    ),
    ("users:read", &[Capability::InstitutionView, Capability::UserView]),
    ("users:write", &[Capability::InstitutionView, Capability::UserView, Capability::UserManage]),
    ("grades:read", &[Capability::GradeViewOwn, Capability::GradeViewAll]),
    ("proctoring:read", &[Capability::IntegrityView]),
    ("tutor:read", &[Capability::TutorInsightsView]),
    ("lectern", &Capability::ALL),
];

/// Whether `scope` names a known scope.
pub fn is_known_scope(scope: &str) -> bool {
    SCOPES.iter().any(|(s, _)| *s == scope)
}

fn scope_allows(scopes: &[String], cap: Capability) -> bool {
    scopes.iter().any(|s| SCOPES.iter().any(|(name, caps)| name == s && caps.contains(&cap)))
}

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    User {
        user: UserId,
        session: Option<SessionId>,
    },
    /// An OAuth client acting for itself (client credentials grant).
    Client {
        client_id: String,
    },
    /// The kernel itself (CLI, migrations, workers).
    System,
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub institution: InstitutionId,
    pub platform_admin: bool,
    pub role: InstitutionRole,
    pub scopes: Vec<String>,
    /// The OAuth client that obtained the token (`lectern` for first-party logins).
    pub client_id: String,
}

impl Principal {
    /// The kernel acting on its own behalf (admin CLI). Has every capability.
    pub fn system(institution: InstitutionId) -> Principal {
        Principal {
            kind: PrincipalKind::System,
            institution,
            platform_admin: true,
            role: InstitutionRole::Admin,
            scopes: vec!["lectern".into()],
            client_id: "lectern".into(),
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match &self.kind {
            PrincipalKind::User { user, .. } => Some(*user),
            _ => None,
        }
    }
}

/// Where the capability is being exercised.
#[derive(Clone, Copy, Debug)]
pub enum Context {
    Platform,
    Institution(InstitutionId),
    Course {
        institution: InstitutionId,
        course: CourseId,
        state: CourseState,
        /// The principal's enrolment role in this course, if any.
        enrolment: Option<CourseRole>,
    },
}

impl Context {
    fn institution(&self) -> Option<InstitutionId> {
        match self {
            Context::Platform => None,
            Context::Institution(i) | Context::Course { institution: i, .. } => Some(*i),
        }
    }
}

fn institution_role_allows(role: InstitutionRole, cap: Capability) -> bool {
    use Capability::*;
    match role {
        InstitutionRole::Admin => !matches!(cap, PlatformManage),
        InstitutionRole::Staff => matches!(cap, InstitutionView | UserView | CourseCreate),
        InstitutionRole::Member => matches!(cap, InstitutionView),
    }
}

fn course_role_allows(role: CourseRole, state: CourseState, cap: Capability) -> bool {
    use Capability::*;
    let live = state == CourseState::Published;
    let visible = state != CourseState::Draft;
    match role {
        CourseRole::Instructor => matches!(
            cap,
            CourseView
                | CourseEdit
                | CoursePublish
                | EnrolmentView
                | EnrolmentManage
                | GradeViewAll
                | GradeEdit
                | IntegrityView
                | IntegrityReview
                | TutorInsightsView
        ),
        CourseRole::TeachingAssistant => matches!(
            cap,
            CourseView | EnrolmentView | GradeViewAll | GradeEdit | IntegrityView | IntegrityReview | TutorInsightsView
        ),
        CourseRole::Student => match cap {
            CourseView | GradeViewOwn => visible,
            AttemptSubmit => live,
            _ => false,
        },
        CourseRole::Observer => matches!(cap, CourseView) && visible,
    }
}

/// Decides whether `p` may exercise `cap` in `ctx`.
pub fn authorize(p: &Principal, cap: Capability, ctx: Context) -> Result<(), CoreError> {
    let deny = |why: &str| Err(CoreError::Forbidden(format!("{} {why}", cap.name())));
    if !scope_allows(&p.scopes, cap) {
        return deny("is outside the token's scopes");
    }
    if p.platform_admin {
        return Ok(());
    }
    match ctx.institution() {
        None => return deny("requires a platform administrator"),
        Some(i) if i != p.institution => return deny("is not allowed in another institution"),
        Some(_) => {}
    }
    // Clients act institution-wide within their scopes (already checked), but
    // never with admin-only powers.
    if let PrincipalKind::Client { .. } = p.kind {
        return if matches!(
            cap,
            Capability::UserGrantAdmin
                | Capability::PluginManage
                | Capability::OAuthClientManage
                | Capability::InstitutionManage
                | Capability::IntegrityReview
                | Capability::AuditView
                | Capability::PrivacyManage
        ) {
            deny("is not available to service clients")
        } else {
            Ok(())
        };
    }
    if institution_role_allows(p.role, cap) {
        return Ok(());
    }
    if let Context::Course { state, enrolment: Some(role), .. } = ctx
        && course_role_allows(role, state, cap)
    {
        return Ok(());
    }
    deny("is not granted to this account here")
}

/// The role × capability matrix as Markdown (the source of docs/authorization.md).
pub fn matrix_markdown() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# Authorization matrix\n");
    let _ = writeln!(
        s,
        "Generated from `kernel/lectern-domain/src/authz.rs` by `matrix_markdown()`; a unit test fails when this file and the code disagree.\n"
    );
    let _ = writeln!(
        s,
        "Every request is checked by `authz::authorize` in three steps, all of which must allow: the target institution is the caller's own (platform admins excepted); the token's scopes cover the capability; the caller's role grants it. Service clients (client credentials) get exactly their scopes, institution-wide, never `user:grant-admin`, `plugin:manage`, `oauth-client:manage`, `institution:manage`, `integrity:review`, `audit:view` or `privacy:manage`. Grades (`grades:read`), exam-integrity records (`proctoring:read`) and tutor conversations (`tutor:read`) are separate scopes: none implies another. Any change to an administrator's account (email, name, role, password, sessions, deactivation) needs `user:grant-admin`, and to a platform administrator's `platform:manage`, besides `user:manage`; so does a privacy request (export or erasure) about one, besides `privacy:manage`. An access token issued through an OAuth grant dies with the grant (replay, reuse, revocation) and with its client's deactivation.\n"
    );
    let _ = writeln!(s, "## Institution roles (apply to every course in the institution)\n");
    let _ = writeln!(s, "| capability | platform admin | admin | staff | member |\n|---|---|---|---|---|");
    for cap in Capability::ALL {
        let mark = |b: bool| if b { "✓" } else { "" };
        let _ = writeln!(
            s,
            "| `{}` | ✓ | {} | {} | {} |",
            cap.name(),
            mark(institution_role_allows(InstitutionRole::Admin, cap)),
            mark(institution_role_allows(InstitutionRole::Staff, cap)),
            mark(institution_role_allows(InstitutionRole::Member, cap)),
        );
    }
    let _ = writeln!(s, "\n## Course roles (by course state: draft / published / archived)\n");
    let _ = writeln!(s, "| capability | instructor | teaching assistant | student | observer |\n|---|---|---|---|---|");
    for cap in Capability::ALL {
        let cell = |role| {
            let states = [CourseState::Draft, CourseState::Published, CourseState::Archived];
            let v: Vec<&str> =
                states.iter().map(|st| if course_role_allows(role, *st, cap) { "✓" } else { "·" }).collect();
            if v.iter().all(|x| *x == "·") { String::new() } else { v.join(" ") }
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} |",
            cap.name(),
            cell(CourseRole::Instructor),
            cell(CourseRole::TeachingAssistant),
            cell(CourseRole::Student),
            cell(CourseRole::Observer),
        );
    }
    let _ = writeln!(s, "\n## OAuth scopes\n\n| scope | capabilities it can unlock |\n|---|---|");
    for (scope, caps) in SCOPES {
        let names: Vec<String> = caps.iter().map(|c| format!("`{}`", c.name())).collect();
        let list = if *scope == "lectern" {
            "all (first-party sessions)".to_string()
        } else if names.is_empty() {
            "identity only".to_string()
        } else {
            names.join(", ")
        };
        let _ = writeln!(s, "| `{scope}` | {list} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(inst: InstitutionId, role: InstitutionRole) -> Principal {
        Principal {
            kind: PrincipalKind::User { user: UserId::new(), session: None },
            institution: inst,
            platform_admin: false,
            role,
            scopes: vec!["lectern".into()],
            client_id: "lectern".into(),
        }
    }

    fn course(inst: InstitutionId, state: CourseState, enrolment: Option<CourseRole>) -> Context {
        Context::Course { institution: inst, course: CourseId::new(), state, enrolment }
    }

    #[test]
    fn tenants_are_isolated_except_for_platform_admins() {
        let (a, b) = (InstitutionId::new(), InstitutionId::new());
        let admin_a = user(a, InstitutionRole::Admin);
        assert!(authorize(&admin_a, Capability::UserManage, Context::Institution(a)).is_ok());
        assert!(authorize(&admin_a, Capability::UserView, Context::Institution(b)).is_err());
        assert!(
            authorize(
                &admin_a,
                Capability::CourseView,
                course(b, CourseState::Published, Some(CourseRole::Instructor))
            )
            .is_err()
        );
        assert!(authorize(&admin_a, Capability::PlatformManage, Context::Platform).is_err());
        let mut platform = user(a, InstitutionRole::Admin);
        platform.platform_admin = true;
        assert!(authorize(&platform, Capability::UserView, Context::Institution(b)).is_ok());
    }

    #[test]
    fn students_see_only_live_courses_they_are_in() {
        let i = InstitutionId::new();
        let s = user(i, InstitutionRole::Member);
        let check = |state, enr, cap| authorize(&s, cap, course(i, state, enr)).is_ok();
        assert!(check(CourseState::Published, Some(CourseRole::Student), Capability::CourseView));
        assert!(!check(CourseState::Draft, Some(CourseRole::Student), Capability::CourseView));
        assert!(!check(CourseState::Published, None, Capability::CourseView));
        assert!(check(CourseState::Published, Some(CourseRole::Student), Capability::AttemptSubmit));
        assert!(!check(CourseState::Archived, Some(CourseRole::Student), Capability::AttemptSubmit));
        assert!(!check(CourseState::Published, Some(CourseRole::Student), Capability::GradeViewAll));
        assert!(!check(CourseState::Published, Some(CourseRole::Student), Capability::CourseEdit));
        assert!(authorize(&s, Capability::CourseCreate, Context::Institution(i)).is_err());
    }

    #[test]
    fn scopes_narrow_roles() {
        let i = InstitutionId::new();
        let mut admin = user(i, InstitutionRole::Admin);
        admin.scopes = vec!["openid".into(), "courses:read".into()];
        assert!(authorize(&admin, Capability::CourseView, Context::Institution(i)).is_ok());
        assert!(authorize(&admin, Capability::CourseEdit, Context::Institution(i)).is_err());
        assert!(authorize(&admin, Capability::UserManage, Context::Institution(i)).is_err());
    }

    #[test]
    fn clients_never_get_admin_powers() {
        let i = InstitutionId::new();
        let client = Principal {
            kind: PrincipalKind::Client { client_id: "c".into() },
            institution: i,
            platform_admin: false,
            role: InstitutionRole::Member,
            scopes: vec!["lectern".into()],
            client_id: "c".into(),
        };
        assert!(authorize(&client, Capability::CourseEdit, Context::Institution(i)).is_ok());
        assert!(authorize(&client, Capability::UserGrantAdmin, Context::Institution(i)).is_err());
        assert!(authorize(&client, Capability::OAuthClientManage, Context::Institution(i)).is_err());
    }

    #[test]
    fn grade_scope_unlocks_neither_integrity_records_nor_tutor_conversations() {
        let i = InstitutionId::new();
        let client = |scopes: &[&str]| Principal {
            kind: PrincipalKind::Client { client_id: "c".into() },
            institution: i,
            platform_admin: false,
            role: InstitutionRole::Member,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            client_id: "c".into(),
        };
        let ctx = course(i, CourseState::Published, None);
        let grades = client(&["grades:read"]);
        assert!(authorize(&grades, Capability::GradeViewAll, ctx).is_ok());
        for cap in [Capability::IntegrityView, Capability::IntegrityReview, Capability::TutorInsightsView] {
            assert!(authorize(&grades, cap, ctx).is_err(), "{}", cap.name());
        }
        assert!(authorize(&client(&["proctoring:read"]), Capability::IntegrityView, ctx).is_ok());
        assert!(authorize(&client(&["proctoring:read"]), Capability::GradeViewAll, ctx).is_err());
        assert!(authorize(&client(&["tutor:read"]), Capability::TutorInsightsView, ctx).is_ok());
        // Reviews are a person's decision: not even a first-party-scoped client may make one.
        assert!(authorize(&client(&["lectern"]), Capability::IntegrityReview, ctx).is_err());
        // Course staff keep all three.
        let ta = user(i, InstitutionRole::Member);
        let ta_ctx = course(i, CourseState::Published, Some(CourseRole::TeachingAssistant));
        for cap in [Capability::IntegrityView, Capability::IntegrityReview, Capability::TutorInsightsView] {
            assert!(authorize(&ta, cap, ta_ctx).is_ok(), "{}", cap.name());
        }
        let student_ctx = course(i, CourseState::Published, Some(CourseRole::Student));
        for cap in [Capability::IntegrityView, Capability::IntegrityReview, Capability::TutorInsightsView] {
            assert!(authorize(&ta, cap, student_ctx).is_err(), "{}", cap.name());
        }
    }

    #[test]
    fn documentation_matches_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/authorization.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        // The section "Every route" after it belongs to the end-to-end matrix test
        // (tests/e2e/authz_matrix.rs), generated from its table.
        let (head, routes) = match doc.find("## Every route") {
            Some(at) => doc.split_at(at),
            None => (doc.as_str(), ""),
        };
        if std::env::var_os("LECTERN_BLESS").is_some() {
            std::fs::write(path, format!("{}\n{routes}", matrix_markdown())).unwrap();
            return;
        }
        assert_eq!(
            head.trim_end(),
            matrix_markdown().trim_end(),
            "docs/authorization.md is stale: rerun with LECTERN_BLESS=1"
        );
    }
}

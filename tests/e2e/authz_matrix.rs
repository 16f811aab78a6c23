//! The authorization matrix: every operation of the OpenAPI document, asked by
//! every kind of principal, on resources of the caller's own institution and
//! course and on the same resources in another institution, checked against
//! the table in [`rows`]. The table is the specification: the section "Every
//! route" of `docs/authorization.md` is generated from it (`LECTERN_BLESS=1`),
//! an operation of the document without a row fails, a row without an
//! operation fails, and any answer that disagrees with the table fails.
//!
//! An answer is a *denial* when it is 401, 403, or 404 `not-found` (resources
//! of another tenant are invisible rather than forbidden). An *allowed* call
//! must answer 2xx/3xx, a 409 (the state forbids it, which says the caller got
//! past the authorization check), or a status the row names. Operations that
//! destroy their target (deleting, submitting, archiving) get a fresh set of
//! resources for every principal expected to be allowed, so that one
//! principal's success cannot turn into the next one's 404.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use lectern_e2e::{Api, PASSWORD, Reply};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{World, create_user, eventually};

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum P {
    Anon,
    Student,
    Classmate,
    OtherStudent,
    Ta,
    Instructor,
    OtherInstructor,
    Admin,
    OtherAdmin,
    Platform,
    CInstitution,
    CCoursesRead,
    CCoursesWrite,
    CUsersRead,
    CUsersWrite,
    CGrades,
    CProctoring,
    CTutor,
}

const ALL: [P; 18] = [
    P::Anon,
    P::Student,
    P::Classmate,
    P::OtherStudent,
    P::Ta,
    P::Instructor,
    P::OtherInstructor,
    P::Admin,
    P::OtherAdmin,
    P::Platform,
    P::CInstitution,
    P::CCoursesRead,
    P::CCoursesWrite,
    P::CUsersRead,
    P::CUsersWrite,
    P::CGrades,
    P::CProctoring,
    P::CTutor,
];

impl P {
    /// The code used in the table.
    fn code(self) -> &'static str {
        match self {
            P::Anon => "anon",
            P::Student => "stu",
            P::Classmate => "mate",
            P::OtherStudent => "ostu",
            P::Ta => "ta",
            P::Instructor => "ins",
            P::OtherInstructor => "oins",
            P::Admin => "adm",
            P::OtherAdmin => "xadm",
            P::Platform => "plat",
            P::CInstitution => "c:institution",
            P::CCoursesRead => "c:courses-r",
            P::CCoursesWrite => "c:courses-w",
            P::CUsersRead => "c:users-r",
            P::CUsersWrite => "c:users-w",
            P::CGrades => "c:grades",
            P::CProctoring => "c:proctoring",
            P::CTutor => "c:tutor",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            P::Anon => "anonymous (no token)",
            P::Student => "a student of the course (the owner of the attempt, grades and progress addressed)",
            P::Classmate => "another student of the same course",
            P::OtherStudent => "a student of another course of the institution",
            P::Ta => "the course's teaching assistant (institution role member)",
            P::Instructor => "the course's instructor (institution role staff)",
            P::OtherInstructor => "the instructor of another course of the institution (staff)",
            P::Admin => "the institution's administrator",
            P::OtherAdmin => "another institution's administrator",
            P::Platform => "a platform administrator",
            P::CInstitution => "a service client (client credentials) with scope `institution:read`",
            P::CCoursesRead => "a service client with `courses:read`",
            P::CCoursesWrite => "a service client with `courses:write`",
            P::CUsersRead => "a service client with `users:read`",
            P::CUsersWrite => "a service client with `users:write`",
            P::CGrades => "a service client with `grades:read`",
            P::CProctoring => "a service client with `proctoring:read`",
            P::CTutor => "a service client with `tutor:read`",
        }
    }

    fn scope(self) -> Option<&'static str> {
        Some(match self {
            P::CInstitution => "institution:read",
            P::CCoursesRead => "courses:read",
            P::CCoursesWrite => "courses:write",
            P::CUsersRead => "users:read",
            P::CUsersWrite => "users:write",
            P::CGrades => "grades:read",
            P::CProctoring => "proctoring:read",
            P::CTutor => "tutor:read",
            _ => return None,
        })
    }
}

/// Expands a row's "who is allowed" text: codes and these groups.
fn expand(spec: &str) -> BTreeSet<P> {
    let mut out = BTreeSet::new();
    for word in spec.split_whitespace() {
        let group: &[P] = match word {
            // Everyone signed in as a person.
            "people" => &[
                P::Student,
                P::Classmate,
                P::OtherStudent,
                P::Ta,
                P::Instructor,
                P::OtherInstructor,
                P::Admin,
                P::OtherAdmin,
                P::Platform,
            ],
            // The institution's own people (not another institution's admin).
            "members" => &[
                P::Student,
                P::Classmate,
                P::OtherStudent,
                P::Ta,
                P::Instructor,
                P::OtherInstructor,
                P::Admin,
                P::Platform,
            ],
            // Everyone enrolled in the course, and who administers it.
            "course" => &[P::Student, P::Classmate, P::Ta, P::Instructor, P::Admin, P::Platform],
            "staff" => &[P::Ta, P::Instructor, P::Admin, P::Platform],
            "editors" => &[P::Instructor, P::Admin, P::Platform],
            "admins" => &[P::Admin, P::Platform],
            "clients" => &[
                P::CInstitution,
                P::CCoursesRead,
                P::CCoursesWrite,
                P::CUsersRead,
                P::CUsersWrite,
                P::CGrades,
                P::CProctoring,
                P::CTutor,
            ],
            "everyone" => &ALL,
            code => {
                let p = ALL.iter().find(|p| p.code() == code).unwrap_or_else(|| panic!("unknown code {code}"));
                out.insert(*p);
                continue;
            }
        };
        out.extend(group.iter().copied());
    }
    out
}

/// What "another institution's resource" means for a row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Other {
    /// The same resources in another institution: only a platform administrator,
    /// and that institution's own administrator where the row allows the
    /// administrator, may act on them.
    Tenant,
    /// Another person's resource addressed through `/me`: nobody else may.
    Nobody,
    /// The operation addresses nothing that belongs to an institution.
    None,
}

type BodyFn = fn(&Fx, u64) -> Value;

#[derive(Clone, Copy)]
enum Body {
    None,
    Json(BodyFn),
    Raw(&'static str, &'static [u8]),
    Form(fn(&Fx, u64) -> Vec<(String, String)>),
}

#[derive(Clone, Copy)]
struct Row {
    method: &'static str,
    path: &'static str,
    allowed: &'static str,
    other: Other,
    body: Body,
    /// A fresh set of resources for each principal expected to be allowed.
    fresh: bool,
    /// Each principal asks with a new session of its own (the operation ends it).
    own_session: bool,
    /// Statuses besides 2xx, 3xx and 409 an allowed call may answer.
    ok: &'static [u16],
    /// No authorization applies: every principal must get the same status.
    public: bool,
    /// Statuses besides 401, 403 and 404 that deny on this route.
    denial: &'static [u16],
    note: &'static str,
}

const fn row(method: &'static str, path: &'static str, allowed: &'static str) -> Row {
    Row {
        method,
        path,
        allowed,
        other: Other::Tenant,
        body: Body::None,
        fresh: false,
        own_session: false,
        ok: &[],
        public: false,
        denial: &[],
        note: "",
    }
}

impl Row {
    const fn json(mut self, f: BodyFn) -> Row {
        self.body = Body::Json(f);
        self
    }
    const fn raw(mut self, content_type: &'static str, bytes: &'static [u8]) -> Row {
        self.body = Body::Raw(content_type, bytes);
        self
    }
    const fn form(mut self, f: fn(&Fx, u64) -> Vec<(String, String)>) -> Row {
        self.body = Body::Form(f);
        self
    }
    const fn other(mut self, other: Other) -> Row {
        self.other = other;
        self
    }
    const fn global(self) -> Row {
        self.other(Other::None)
    }
    const fn fresh(mut self) -> Row {
        self.fresh = true;
        self
    }
    const fn own_session(mut self) -> Row {
        self.own_session = true;
        self
    }
    const fn ok(mut self, ok: &'static [u16]) -> Row {
        self.ok = ok;
        self
    }
    const fn denial(mut self, statuses: &'static [u16]) -> Row {
        self.denial = statuses;
        self
    }
    const fn public(mut self) -> Row {
        self.public = true;
        self
    }
    const fn note(mut self, note: &'static str) -> Row {
        self.note = note;
        self
    }
}

const A: &str = "/api/v1/assessments/{assessment_id}";
const T: &str = "/api/v1/assessments/{assessment_id}/attempts/{attempt_id}";

/// The specification. `allowed` lists who may act on the caller's own
/// institution's resources (groups: see [`expand`]).
fn rows() -> Vec<Row> {
    let c = |tail: &'static str| -> &'static str {
        Box::leak(format!("/api/v1/institutions/{{institution}}/courses/{{course_id}}{tail}").into_boxed_str())
    };
    let i = |tail: &'static str| -> &'static str {
        Box::leak(format!("/api/v1/institutions/{{institution}}{tail}").into_boxed_str())
    };
    let a = |tail: &'static str| -> &'static str { Box::leak(format!("{A}{tail}").into_boxed_str()) };
    let t = |tail: &'static str| -> &'static str { Box::leak(format!("{T}{tail}").into_boxed_str()) };
    vec![
        // Platform operations.
        row("GET", "/api/v1/admin/about", "plat").global(),
        row("GET", "/api/v1/admin/audit", "plat").global(),
        row("GET", "/api/v1/admin/audit/verify", "plat").global(),
        row("GET", "/api/v1/admin/backup", "plat").global(),
        row("GET", "/api/v1/admin/bus/dead-letters", "plat").global(),
        row("DELETE", "/api/v1/admin/bus/dead-letters/{topic}/{offset}", "plat")
            .global()
            .ok(&[404])
            .note("no such dead letter: allowed callers get 404, the others 403"),
        row("POST", "/api/v1/admin/bus/dead-letters/{topic}/{offset}/replay", "plat")
            .global()
            .ok(&[404])
            .note("no such dead letter: allowed callers get 404, the others 403"),
        row("GET", "/api/v1/admin/bus/topics", "plat").global(),
        row("POST", "/api/v1/admin/bus/topics/{topic}/messages", "plat")
            .global()
            .json(|_, n| json!({"key": format!("matrix-{n}"), "payload": {}})),
        row("POST", "/api/v1/admin/email/check", "plat").global().json(|_, _| json!({"to": "ops@example.org"})),
        // Assessments and attempts.
        row("GET", A, "editors c:courses-w").note("the authoring view, with answer keys; learners use the course's assessment list and their attempts"),
        row("DELETE", A, "editors c:courses-w").fresh(),
        row("PATCH", A, "editors c:courses-w").json(|_, n| json!({"title": format!("Quiz {n}")})),
        row("GET", a("/attempts"), "course c:courses-r c:courses-w").note("the caller's own attempts (none for staff or a client)"),
        row("POST", a("/attempts"), "stu mate adm plat").json(|_, n| json!({"client_request_id": format!("m{n}")})),
        row("GET", T, "stu staff c:grades"),
        row("PUT", t("/answers/{question_id}"), "stu").json(|_, n| json!({"response": {"boolean": true}, "version": n})),
        row("GET", t("/proctoring"), "stu staff c:proctoring"),
        row("POST", t("/proctoring/review"), "staff").json(|_, _| json!({"decision": "dismissed", "comment": "ok"})),
        row("POST", t("/questions/{question_id}/hint"), "stu").ok(&[422]),
        row("PUT", t("/questions/{question_id}/manual-grade"), "staff")
            .json(|_, _| json!({"criteria": {"clarity": 1.0}, "comment": "c", "version": 0})),
        row("GET", t("/result"), "stu staff c:grades"),
        row("POST", t("/signals"), "stu").json(|_, n| {
            json!({"seq": n, "signals": [{"kind": "heartbeat", "at_ms": 1, "duration_ms": null, "detail": null}]})
        }),
        row("POST", t("/submit"), "stu").fresh(),
        row("GET", a("/manual-queue"), "staff"),
        row("POST", a("/preview"), "editors"),
        row("POST", a("/regrade"), "editors").json(|_, _| json!({"keys": {"q1": {"true_false": true}}, "reason": "r"})),
        // Sign-in.
        row("POST", "/api/v1/auth/login", "everyone")
            .global()
            .public()
            .json(|f, _| json!({"institution": f.slug, "email": f.student_email, "password": PASSWORD})),
        row("POST", "/api/v1/auth/logout", "people clients")
            .global()
            .own_session()
            .note("a service client has no session: nothing ends"),
        row("POST", "/api/v1/auth/refresh", "everyone").global().public(),
        row("POST", "/api/v1/bootstrap", "everyone").global().public().json(|_, _| json!({"token": "used"})),
        row("POST", "/api/v1/credentials/verify", "everyone").global().public().json(|f, _| f.credential_doc.clone()),
        row("POST", "/api/v1/credentials/{credential_id}/revoke", "admins").json(|_, _| json!({"reason": "matrix"})),
        // Institutions.
        row("GET", "/api/v1/institutions", "plat").global(),
        row("POST", "/api/v1/institutions", "plat")
            .global()
            .json(|_, n| json!({"slug": format!("matrix-{n}"), "name": "Matrix"})),
        row("GET", "/api/v1/institutions/{institution}", "members c:institution c:courses-r c:courses-w c:users-r c:users-w"),
        row("PATCH", "/api/v1/institutions/{institution}", "admins").json(|f, _| json!({"name": f.inst_name})),
        row("GET", i("/activity-kinds"), "members c:institution c:courses-r c:courses-w c:users-r c:users-w"),
        row("GET", i("/audit"), "admins"),
        row("GET", i("/audit/export"), "admins"),
        row("GET", i("/courses"), "members c:institution c:courses-r c:courses-w c:users-r c:users-w"),
        row("POST", i("/courses"), "ins oins admins c:courses-w")
            .json(|_, n| json!({"code": format!("M{n}"), "title": "Matrix course"})),
        row("POST", i("/courses/import"), "ins oins admins c:courses-w")
            .raw("application/x-tar", b"not a tar archive")
            .ok(&[400, 422]),
        row("GET", c(""), "course c:courses-r c:courses-w"),
        row("DELETE", c(""), "editors c:courses-w").fresh(),
        row("PATCH", c(""), "editors c:courses-w").json(|_, n| json!({"title": format!("Course {n}")})),
        row("POST", c("/archive"), "editors c:courses-w").fresh(),
        row("GET", c("/assessments"), "course c:courses-r c:courses-w"),
        row("POST", c("/assessments"), "editors c:courses-w").json(|_, _| quiz()),
        row("GET", c("/completion-rule"), "course c:courses-r c:courses-w"),
        row("PUT", c("/completion-rule"), "editors c:courses-w")
            .json(|f, _| json!({"required_items": [f.assessment], "min_percent": 50.0})),
        row("GET", c("/content"), "course c:courses-r c:courses-w"),
        row("POST", c("/content/activity-settings-view"), "editors c:courses-w")
            .json(|_, _| json!({"kind": "flashcards", "plugin": "org.example.flashcards"})),
        row("GET", c("/content/export"), "editors c:courses-w"),
        row("GET", c("/content/items/{item_id}"), "course c:courses-r c:courses-w"),
        row("DELETE", c("/content/items/{item_id}"), "editors c:courses-w").fresh(),
        row("PATCH", c("/content/items/{item_id}"), "editors c:courses-w").json(|_, n| json!({"title": format!("Page {n}")})),
        row("GET", c("/content/items/{item_id}/activity"), "course")
            .note("{item_id} is a flashcards activity; the caller's own state (a service client has none)"),
        row("POST", c("/content/items/{item_id}/activity/actions"), "course")
            .json(|_, _| json!({"action": "flip"}))
            .ok(&[422])
            .note("{item_id} is a flashcards activity (staff try it out); an action it does not know is a 422"),
        row("PUT", c("/content/items/{item_id}/captions"), "editors c:courses-w")
            .json(|_, _| json!({"tracks": []}))
            .ok(&[422]),
        row("POST", c("/content/items/{item_id}/complete"), "course")
            .note("{item_id} is completed by hand; the caller's own progress"),
        row("GET", c("/content/items/{item_id}/page"), "editors c:courses-w").note("the page's source, for editing"),
        row("POST", c("/content/modules"), "editors c:courses-w").json(|_, n| json!({"id": format!("m{n}"), "title": "M"})),
        row("DELETE", c("/content/modules/{module_id}"), "editors c:courses-w").fresh(),
        row("PATCH", c("/content/modules/{module_id}"), "editors c:courses-w").json(|_, n| json!({"title": format!("Week {n}")})),
        row("POST", c("/content/modules/{module_id}/items"), "editors c:courses-w")
            .json(|_, n| json!({"id": format!("p{n}"), "kind": "page", "title": "P", "markdown": "text"})),
        row("PUT", c("/content/order"), "editors c:courses-w")
            .json(|f, _| json!({"modules": [{"id": f.module, "items": [f.item]}]}))
            .ok(&[422]),
        row("GET", c("/content/outline"), "editors c:courses-w").note("the authoring outline; learners use `/content`"),
        row("POST", c("/content/preview"), "editors c:courses-w").json(|_, _| json!({"markdown": "# Hi"})),
        row("GET", c("/content/progress/{user_id}"), "staff c:grades")
            .note("{user_id} is the student: a learner reads their own progress in `/content`"),
        row("POST", c("/content/rerender"), "editors c:courses-w"),
        row("GET", c("/enrolments"), "staff c:courses-r c:courses-w"),
        row("POST", c("/enrolments"), "editors c:courses-w").json(|f, _| json!({"user_id": f.outsider, "role": "student"})),
        row("POST", c("/enrolments/import"), "editors c:courses-w")
            .json(|f, _| json!({"dry_run": true, "rows": [{"email": f.outsider_email, "role": "student"}]})),
        row("DELETE", c("/enrolments/{user_id}"), "editors c:courses-w")
            .fresh()
            .note("{user_id} is another student of the course"),
        row("PATCH", c("/enrolments/{user_id}"), "editors c:courses-w")
            .json(|_, _| json!({"role": "student"}))
            .note("{user_id} is another student of the course"),
        row("GET", c("/grade-categories"), "course c:courses-r c:courses-w"),
        row("PUT", c("/grade-categories"), "editors c:courses-w")
            .json(|f, _| json!({"categories": [{"id": "exams", "name": "Exams", "weight": 100.0, "items": [f.assessment]}]})),
        row("GET", c("/gradebook"), "staff c:grades"),
        row("GET", c("/gradebook.csv"), "staff c:grades"),
        row("POST", c("/items/{item}/regrade"), "staff").json(|_, _| json!({"reason": "r"})),
        row("GET", c("/media"), "editors c:courses-w"),
        row("POST", c("/media"), "editors c:courses-w").raw("text/plain", b"matrix notes"),
        row("DELETE", c("/media/{sha256}"), "editors c:courses-w").fresh(),
        row("PATCH", c("/media/{sha256}"), "editors c:courses-w").json(|_, _| json!({"public": false})),
        row("GET", c("/proctoring/flagged"), "staff c:proctoring"),
        row("POST", c("/publish"), "editors c:courses-w"),
        row("GET", c("/students/{user_id}/grades"), "stu staff c:grades").note("{user_id} is the student's own id"),
        row("PUT", c("/students/{user_id}/grades/{item}"), "staff")
            .json(|_, n| json!({"points": (n % 10) as f64, "max_points": 10.0, "reason": "r"})),
        row("GET", c("/tutor/conversation"), "course"),
        row("GET", c("/tutor/index"), "editors c:courses-w"),
        row("POST", c("/tutor/index"), "editors c:courses-w"),
        row("GET", c("/tutor/insights"), "staff c:tutor"),
        row("GET", c("/tutor/policy"), "course c:courses-r c:courses-w"),
        row("PUT", c("/tutor/policy"), "editors c:courses-w").json(|_, _| json!({"enabled": true, "show_names": false})),
        row("POST", c("/tutor/questions"), "course").json(|_, _| json!({"question": "What is this course about?"})),
        // Institution administration.
        row("GET", i("/keys"), "admins"),
        row("POST", i("/keys/rotate"), "admins"),
        row("GET", i("/oauth-clients"), "admins"),
        row("POST", i("/oauth-clients"), "admins").json(|_, n| {
            json!({"name": format!("c{n}"), "confidential": true, "grant_types": ["client_credentials"], "scopes": ["courses:read"]})
        }),
        row("DELETE", i("/oauth-clients/{client_id}"), "admins").fresh(),
        row("GET", i("/question-types"), "members c:institution c:courses-r c:courses-w c:users-r c:users-w"),
        row("GET", i("/users"), "ins oins admins c:users-r c:users-w"),
        row("POST", i("/users"), "admins c:users-w")
            .json(|f, n| json!({"email": format!("new{n}@{}.test", f.slug), "name": "New", "role": "member"})),
        row("POST", i("/users/import"), "admins c:users-w").json(|f, n| {
            json!({"dry_run": true, "rows": [{"email": format!("imp{n}@{}.test", f.slug), "name": "Imp", "role": "member"}]})
        }),
        row("GET", i("/users/{user_id}"), "ins oins admins c:users-r c:users-w").note("{user_id} is a member of the institution"),
        row("PATCH", i("/users/{user_id}"), "admins c:users-w").json(|_, n| json!({"name": format!("Victim {n}")})),
        row("POST", i("/users/{user_id}/deactivate"), "admins c:users-w"),
        row("PUT", i("/users/{user_id}/password"), "admins c:users-w").json(|_, _| json!({"password": PASSWORD})),
        row("POST", i("/users/{user_id}/reactivate"), "admins c:users-w"),
        row("POST", i("/users/{user_id}/sessions/reset"), "admins c:users-w"),
        row("GET", i("/users/{user_id}/export"), "admins").note("everything held about the member: never a service client"),
        row("POST", i("/users/{user_id}/erase"), "admins")
            .fresh()
            .json(|f, _| json!({"confirm_email": f.victim_email})),
        row("GET", i("/webhooks"), "admins"),
        row("POST", i("/webhooks"), "admins")
            .json(|_, n| json!({"url": format!("https://hooks.example.org/{n}"), "events": ["grade.recorded"]})),
        row("DELETE", i("/webhooks/{webhook_id}"), "admins").fresh(),
        row("GET", i("/webhooks/{webhook_id}/deliveries"), "admins"),
        row("POST", i("/webhooks/{webhook_id}/enable"), "admins"),
        // The marketplace and plugins (plugin rows run last: they change the platform).
        row("GET", "/api/v1/marketplace/alerts", "plat").global(),
        row("GET", "/api/v1/marketplace/plugins", "admins xadm").global().note("no marketplace configured: 409"),
        row("POST", "/api/v1/marketplace/refresh", "plat").global(),
        // The signed-in person's own things.
        row("GET", "/api/v1/me", "people clients").global(),
        row("GET", "/api/v1/me/courses", "people clients").global(),
        row("GET", "/api/v1/me/credentials", "people clients").global(),
        row("GET", "/api/v1/me/export", "people").global().note("a service client has no personal data"),
        row("GET", "/api/v1/me/notification-preferences", "people").global(),
        row("PUT", "/api/v1/me/notification-preferences", "people")
            .global()
            .json(|_, _| json!({"kinds": {"credential.issued": {"email": false, "in_app": true}}})),
        row("GET", "/api/v1/me/notifications", "people").global(),
        row("POST", "/api/v1/me/notifications/read-all", "people").global(),
        row("POST", "/api/v1/me/notifications/{notification_id}/read", "stu")
            .other(Other::Nobody)
            .note("{notification_id} is the student's own notification"),
        row("PUT", "/api/v1/me/password", "people")
            .global()
            .own_session()
            .json(|_, _| json!({"current_password": "not the password", "new_password": "another correct horse"}))
            .ok(&[401, 422])
            .note("a wrong current password: the check that the caller is a person comes first"),
        row("GET", "/api/v1/me/sessions", "people clients").global().note("a service client has none"),
        row("DELETE", "/api/v1/me/sessions/{session_id}", "stu")
            .other(Other::Nobody)
            .own_session()
            .note("{session_id} is another session of the student's"),
        row("GET", "/api/v1/oauth/consent", "stu mate ostu ta ins oins adm")
            .global()
            .denial(&[400])
            .note("the application is the institution's: anyone else gets OAuth `access_denied` (400)"),
        row("POST", "/api/v1/oauth/consent", "stu mate ostu ta ins oins adm")
            .global()
            .denial(&[400])
            .note("the application is the institution's: anyone else gets OAuth `access_denied` (400)")
            .json(|f, _| {
            json!({"approve": false, "client_id": f.app_client, "redirect_uri": "https://app.example.org/cb",
                   "response_type": "code", "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                   "code_challenge_method": "S256", "state": "s"})
        }),
        row("GET", "/blobs/{sha256}", "").global().note("a course file by its bare address, not made public: nobody"),
        row("GET", "/oauth/authorize", "everyone").global().public(),
        row("POST", "/oauth/revoke", "everyone").global().public().form(|_, _| vec![("token".into(), "x".into())]),
        row("POST", "/oauth/token", "everyone")
            .global()
            .public()
            .form(|_, _| vec![("grant_type".into(), "client_credentials".into())]),
        row("GET", "/oauth/userinfo", "people").global(),
        row("GET", "/plugin-assets/{plugin}/{name}", "everyone").global().public(),
        row("GET", "/api/v1/plugins", "admins xadm").global(),
        row("POST", "/api/v1/plugins", "plat")
            .global()
            .raw("multipart/form-data; boundary=XYZ", b"--XYZ\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{}\r\n--XYZ--\r\n")
            .ok(&[400, 422]),
        row("POST", "/api/v1/plugins/install", "plat").global().json(|_, _| json!({"id": "nobody.nothing"})),
        row("GET", "/api/v1/plugins/install-jobs/{job}", "plat").global().ok(&[404]),
        row("GET", "/api/v1/plugins/{plugin}/settings", "plat").global(),
        row("PUT", "/api/v1/plugins/{plugin}/settings", "plat").global().json(|_, _| json!({"settings": {}})),
        row("POST", "/api/v1/plugins/slots/{slot}/activate", "plat").global().json(|f, _| json!({"plugin": f.plugin_key})),
        row("POST", "/api/v1/plugins/slots/{slot}/rollback", "plat").global().json(|_, _| json!({})),
        row("DELETE", "/api/v1/plugins/slots/{slot}/institutions/{institution}", "admins"),
        row("POST", "/api/v1/plugins/slots/{slot}/deactivate", "plat").global().json(|f, _| json!({"plugin": f.plugin_key})),
        row("DELETE", "/api/v1/plugins/{plugin}", "plat").global().note("{plugin} is the active grading plugin: 409"),
    ]
}

fn quiz() -> Value {
    json!({"title": "Matrix quiz", "questions": [
        {"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}},
        {"id": "essay", "prompt": "Why?", "points": 2.0, "key": {"essay": [{"id": "clarity", "description": "Clear", "points": 2.0}]}}
    ], "settings": {"attempts_allowed": 50, "time_limit_secs": 3600, "proctoring": {
        "weights": {"focus_lost": 0.3, "heartbeat": 0.25}, "flag_threshold": 0.5, "heartbeat_interval_ms": 15000,
        "allow_copy_paste": true, "action": "flag_for_review"}}})
}

/// What every fixture shares: the platform's plugins, an OAuth application, a dead-letter topic.
struct Globals {
    plugin_key: String,
    plugin_id: String,
    app_client: String,
    dead_letter_topic: String,
}

/// People of one institution (for the other institution, its own people).
struct Side {
    slug: String,
    name: String,
    admin: Api,
    instructor: Api,
    student: Api,
    student_email: String,
    people: Vec<(String, &'static str)>, // user id, course role
    outsider: String,
    outsider_email: String,
}

/// One set of resources in one institution.
struct Fx {
    slug: String,
    inst_name: String,
    student_email: String,
    course: String,
    module: String,
    item: String,
    assessment: String,
    attempt: String,
    sha256: String,
    client_id: String,
    webhook_id: String,
    credential: String,
    credential_doc: Value,
    notification: String,
    victim_email: String,
    /// A submitted, graded attempt (of the certificate quiz).
    graded: (String, String),
    victim: String,
    student_id: String,
    outsider: String,
    outsider_email: String,
    plugin_key: String,
    plugin_id: String,
    app_client: String,
    dead_letter_topic: String,
}

async fn make_side(w: &World, slug: &str, admin: &Api, tag: &str) -> Side {
    let ins = create_user(admin, slug, &format!("ins{tag}@{slug}.test"), "staff").await;
    let ta = create_user(admin, slug, &format!("ta{tag}@{slug}.test"), "member").await;
    let stu = create_user(admin, slug, &format!("stu{tag}@{slug}.test"), "member").await;
    let mate = create_user(admin, slug, &format!("mate{tag}@{slug}.test"), "member").await;
    let outsider_email = format!("outsider{tag}@{slug}.test");
    let outsider = create_user(admin, slug, &outsider_email, "member").await;
    let name = admin.get(&format!("/api/v1/institutions/{slug}")).await.ok()["name"].as_str().unwrap().to_owned();
    Side {
        slug: slug.to_owned(),
        name,
        admin: admin.clone(),
        instructor: w.login(slug, &format!("ins{tag}@{slug}.test")).await,
        student: w.login(slug, &format!("stu{tag}@{slug}.test")).await,
        student_email: format!("stu{tag}@{slug}.test"),
        people: vec![(ins, "instructor"), (ta, "teaching_assistant"), (stu.clone(), "student"), (mate, "student")],
        outsider,
        outsider_email,
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
fn next() -> u64 {
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A course with its people enrolled, content, a published quiz, an open
/// attempt of the student, a file, an OAuth client and a webhook.
async fn fixture(side: &Side, g: &Globals, shared: Option<&Fx>) -> Fx {
    let s = &side.slug;
    let n = next();
    let r = side
        .admin
        .post(&format!("/api/v1/institutions/{s}/courses"), json!({"code": format!("FX{n}"), "title": "Fixture"}))
        .await;
    let course = r.ok()["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/institutions/{s}/courses/{course}");
    // The member user-management rows act on: one per set of resources (erasure is for good).
    let victim_email = format!("victim{n}@{s}.test");
    let victim = create_user(&side.admin, s, &victim_email, "member").await;
    side.admin.post(&format!("{base}/enrolments"), json!({"user_id": victim, "role": "student"})).await.ok();
    for (user, role) in &side.people {
        side.admin.post(&format!("{base}/enrolments"), json!({"user_id": user, "role": role})).await.ok();
    }
    side.admin.post_empty(&format!("{base}/publish")).await.ok();
    side.admin.post(&format!("{base}/content/modules"), json!({"id": "m1", "title": "Week 1"})).await.ok();
    side.admin
        .post(
            &format!("{base}/content/modules/m1/items"),
            json!({"id": "p1", "kind": "page", "title": "Intro", "markdown": "Hello", "completion": {"kind": "manual"}}),
        )
        .await
        .ok();
    side.admin
        .post(
            &format!("{base}/content/modules/m1/items"),
            json!({"id": "cards", "kind": "activity", "title": "Words",
                   "activity": {"plugin": "org.example.flashcards", "kind": "flashcards", "settings": crate::activities::deck()}}),
        )
        .await
        .ok();
    let r = side.instructor.post(&format!("{base}/assessments"), quiz()).await;
    let assessment = r.ok()["id"].as_str().unwrap().to_owned();
    side.instructor.patch(&format!("/api/v1/assessments/{assessment}"), json!({"published": true})).await.ok();
    let r = side.student.post(&format!("/api/v1/assessments/{assessment}/attempts"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let attempt = r.body["id"].as_str().unwrap().to_owned();
    // The proctoring record begins with the first signals.
    side.student
        .post(
            &format!("/api/v1/assessments/{assessment}/attempts/{attempt}/signals"),
            json!({"seq": 1, "signals": [{"kind": "heartbeat", "at_ms": 1, "duration_ms": null, "detail": null}]}),
        )
        .await
        .ok();
    let r = Api::finish(
        side.admin
            .http
            .post(format!("{}{base}/media", side.admin.base))
            .bearer_auth(side.admin.token.as_ref().unwrap())
            .header("content-type", "text/plain")
            .body(format!("fixture file {n}")),
    )
    .await;
    let sha256 = r.ok()["sha256"].as_str().unwrap().to_owned();
    let r = side
        .admin
        .post(
            &format!("/api/v1/institutions/{s}/oauth-clients"),
            json!({"name": format!("fx{n}"), "confidential": true, "grant_types": ["client_credentials"], "scopes": ["courses:read"]}),
        )
        .await;
    let client_id = r.ok()["client_id"].as_str().unwrap().to_owned();
    let r = side
        .admin
        .post(
            &format!("/api/v1/institutions/{s}/webhooks"),
            json!({"url": format!("https://hooks.example.org/fx{n}"), "events": ["grade.recorded"]}),
        )
        .await;
    let webhook_id = r.ok()["id"].as_str().unwrap().to_owned();
    let (credential, credential_doc, notification, graded) = match shared {
        Some(f) => (f.credential.clone(), f.credential_doc.clone(), f.notification.clone(), f.graded.clone()),
        None => credential(side, &base).await,
    };
    Fx {
        slug: s.clone(),
        inst_name: side.name.clone(),
        student_email: side.student_email.clone(),
        course,
        module: "m1".into(),
        item: "p1".into(),
        assessment,
        attempt,
        sha256,
        client_id,
        webhook_id,
        credential,
        credential_doc,
        notification,
        graded,
        victim,
        victim_email,
        student_id: side.people[2].0.clone(),
        outsider: side.outsider.clone(),
        outsider_email: side.outsider_email.clone(),
        plugin_key: g.plugin_key.clone(),
        plugin_id: g.plugin_id.clone(),
        app_client: g.app_client.clone(),
        dead_letter_topic: g.dead_letter_topic.clone(),
    }
}

/// The student completes a one-question course quiz and earns a credential
/// (and its notification).
async fn credential(side: &Side, base: &str) -> (String, Value, String, (String, String)) {
    let quiz = json!({"title": "Certificate quiz", "questions": [
        {"id": "q1", "prompt": "True?", "points": 1.0, "key": {"true_false": true}}]});
    let r = side.instructor.post(&format!("{base}/assessments"), quiz).await;
    let id = r.ok()["id"].as_str().unwrap().to_owned();
    side.instructor.patch(&format!("/api/v1/assessments/{id}"), json!({"published": true})).await.ok();
    side.instructor
        .put(&format!("{base}/completion-rule"), json!({"required_items": [id], "min_percent": 50.0}))
        .await
        .ok();
    let r = side.student.post(&format!("/api/v1/assessments/{id}/attempts"), json!({})).await;
    let attempt = r.ok()["id"].as_str().unwrap().to_owned();
    let ab = format!("/api/v1/assessments/{id}/attempts/{attempt}");
    side.student.put(&format!("{ab}/answers/q1"), json!({"response": {"boolean": true}, "version": 1})).await.ok();
    side.student.post_empty(&format!("{ab}/submit")).await.ok();
    let student = side.student.clone();
    let credential = eventually("the credential", async || {
        let r = student.get("/api/v1/me/credentials").await;
        r.body["items"].as_array().and_then(|a| a.first().cloned())
    })
    .await;
    let notification = eventually("the notification", async || {
        let r = student.get("/api/v1/me/notifications").await;
        r.body["items"].as_array().and_then(|a| a.first()).map(|n| n["id"].as_str().unwrap().to_owned())
    })
    .await;
    let doc = credential.get("credential").cloned().unwrap_or_else(|| credential.clone());
    (credential["id"].as_str().unwrap().to_owned(), doc, notification, (id, attempt))
}

struct Principals {
    apis: Vec<(P, Api)>,
    /// Email of each person, to open a new session.
    emails: Vec<(P, String, String)>,
}

impl Principals {
    fn api(&self, p: P) -> &Api {
        &self.apis.iter().find(|(q, _)| *q == p).unwrap().1
    }
}

fn fill(template: &str, f: &Fx, session: Option<&str>) -> String {
    let (assessment, attempt) =
        if template.ends_with("/result") { (&f.graded.0, &f.graded.1) } else { (&f.assessment, &f.attempt) };
    let path = template
        .replace("{institution}", &f.slug)
        .replace("{course_id}", &f.course)
        .replace("{assessment_id}", assessment)
        .replace("{attempt_id}", attempt)
        .replace("{question_id}", if template.ends_with("manual-grade") { "essay" } else { "q1" })
        .replace("{item_id}", if template.contains("/activity") { "cards" } else { &f.item })
        .replace("{module_id}", &f.module)
        .replace(
            "{user_id}",
            if template.contains("/users/{user_id}") || template.contains("/enrolments/{user_id}") {
                &f.victim
            } else {
                &f.student_id
            },
        )
        .replace("{sha256}", &f.sha256)
        .replace("{client_id}", &f.client_id)
        .replace("{webhook_id}", &f.webhook_id)
        .replace("{credential_id}", &f.credential)
        .replace("{notification_id}", &f.notification)
        .replace("{session_id}", session.unwrap_or("none"))
        .replace("{item}", if template.ends_with("/regrade") { &f.assessment } else { "participation" })
        .replace("{topic}", &f.dead_letter_topic)
        .replace("{offset}", "999999")
        .replace("{job}", "00000000-0000-0000-0000-000000000000")
        .replace("{plugin}", if template.ends_with("/settings") { &f.plugin_id } else { &f.plugin_key })
        .replace("{slot}", "grading")
        .replace("{name}", "missing.svg");
    if template == "/api/v1/oauth/consent" {
        format!(
            "{path}?response_type=code&client_id={}&redirect_uri=https%3A%2F%2Fapp.example.org%2Fcb&scope=openid\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s",
            f.app_client
        )
    } else {
        path
    }
}

/// Every request goes without cookies: each principal is its bearer token alone.
fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    HTTP.get_or_init(|| reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap())
}

async fn send(api: &Api, method: &str, path: &str, body: &Body, f: &Fx) -> Reply {
    let m: Method = method.parse().unwrap();
    let mut req = http().request(m, format!("{}{path}", api.base));
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    let n = next();
    req = match body {
        Body::None => req,
        Body::Json(b) => req.json(&b(f, n)),
        Body::Raw(ct, bytes) => req.header("content-type", *ct).body(bytes.to_vec()),
        Body::Form(b) => req.form(&b(f, n)),
    };
    Api::finish(req).await
}

fn denial(r: &Reply, row: &Row) -> bool {
    matches!(r.status.as_u16(), 401 | 403)
        || (r.status == 404 && r.body["type"] == "/problems/not-found")
        || row.denial.contains(&r.status.as_u16())
}

fn allowed_ok(r: &Reply, row: &Row) -> bool {
    let s = r.status.as_u16();
    (200..400).contains(&s) || s == 409 || row.ok.contains(&s)
}

fn expected(row: &Row, other: bool) -> BTreeSet<P> {
    let own = expand(row.allowed);
    if !other {
        return own;
    }
    match row.other {
        Other::Tenant => {
            let mut set = BTreeSet::new();
            if own.contains(&P::Platform) {
                set.insert(P::Platform);
            }
            if own.contains(&P::Admin) {
                set.insert(P::OtherAdmin);
            }
            set
        }
        Other::Nobody | Other::None => BTreeSet::new(),
    }
}

/// The generated section of docs/authorization.md.
fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "## Every route\n\n\
         Generated from the table in `tests/e2e/authz_matrix.rs`, which the test `authz_matrix` runs against a \
         real server: every operation of the OpenAPI document, by each principal below, on resources of the \
         caller's own institution and course (✓ = allowed), and again on the same resources in another \
         institution, where only a platform administrator and that institution's own administrator (where the \
         institution's administrator is allowed) may act, and `/me` resources of another person are nobody \
         else's. A denial is 401, 403 or 404 `not-found`; an allowed call answers 2xx/3xx, 409 when the state \
         forbids the change, or a status the note names. Public routes (no authorization) must answer every \
         principal alike.\n\n",
    );
    for p in ALL {
        let _ = writeln!(s, "- `{}`: {}", p.code(), p.describe());
    }
    s.push_str("\n| operation |");
    for p in ALL {
        let _ = write!(s, " {} |", p.code());
    }
    s.push_str(" notes |\n|---|");
    for _ in ALL {
        s.push_str("---|");
    }
    s.push_str("---|\n");
    for r in rows {
        let own = expand(r.allowed);
        let _ = write!(s, "| `{} {}` |", r.method, r.path);
        for p in ALL {
            s.push_str(if r.public {
                " · |"
            } else if own.contains(&p) {
                " ✓ |"
            } else {
                " |"
            });
        }
        let mut notes = vec![];
        if r.public {
            notes.push("public: no authorization, the same answer for everyone".to_owned());
        }
        match r.other {
            Other::Nobody => notes.push("another person's: nobody".to_owned()),
            Other::None => {}
            Other::Tenant => {}
        }
        if !r.note.is_empty() {
            notes.push(r.note.to_owned());
        }
        let _ = writeln!(s, " {} |", notes.join("; "));
    }
    s
}

#[tokio::test]
async fn authz_matrix() {
    // Each principal signs in several times (the operations that end a session):
    // more than the per-address sign-in limit allows from one test's address.
    let mut api = lectern_api::ApiConfig::default();
    api.login_attempts_per_minute = 10_000;
    let w = World::with(lectern_e2e::Options { api, ..Default::default() }).await;
    crate::exam::install_grading_plugin(&w.server).await;
    crate::content::install_content_plugin(&w).await;
    crate::proctoring::install_proctoring_plugin(&w).await;
    crate::tutor::install_tutoring_plugin(&w).await;
    crate::activities::upload_flashcards(&w.root).await;
    let plugins = w.root.get("/api/v1/plugins").await;
    let plugin = plugins
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slot"] == "grading" && p["status"] == "active")
        .map(|p| p["key"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no active grading plugin in {}", plugins.body));

    let rows = rows();
    // Every operation of the document has exactly one row, and every row an operation.
    let spec = w.root.get("/api/v1/openapi.json").await;
    let mut operations = BTreeSet::new();
    for (path, ops) in spec.ok()["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let in_table: BTreeSet<String> = rows.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(in_table.len(), rows.len(), "a row is repeated");
    let missing: Vec<_> = operations.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&operations).collect();
    assert!(missing.is_empty(), "operations without a row in the authorization matrix: {missing:#?}");
    assert!(stale.is_empty(), "rows for operations the API does not have: {stale:#?}");

    // The generated documentation is the table's.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/authorization.md");
    let mut doc = std::fs::read_to_string(path).unwrap();
    let head = doc.split("## Every route").next().unwrap().to_owned();
    let want = format!("{}\n\n{}", head.trim_end(), markdown(&rows));
    if std::env::var_os("LECTERN_BLESS").is_some() {
        std::fs::write(path, &want).unwrap();
        doc.clone_from(&want);
    }
    assert!(doc == want, "docs/authorization.md is not the matrix's table: rerun with LECTERN_BLESS=1");

    // The people.
    let alpha = make_side(&w, "alpha", &w.a.admin, "").await;
    let beta = make_side(&w, "beta", &w.b.admin, "").await;
    let a = &w.a.slug;
    let ostu = create_user(&w.a.admin, a, "ostu@alpha.test", "member").await;
    let oins = create_user(&w.a.admin, a, "oins@alpha.test", "staff").await;
    let r =
        w.a.admin.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "OTHER", "title": "Other"})).await;
    let other_course = r.ok()["id"].as_str().unwrap().to_owned();
    for (u, role) in [(&ostu, "student"), (&oins, "instructor")] {
        w.a.admin
            .post(
                &format!("/api/v1/institutions/{a}/courses/{other_course}/enrolments"),
                json!({"user_id": u, "role": role}),
            )
            .await
            .ok();
    }
    w.a.admin.post_empty(&format!("/api/v1/institutions/{a}/courses/{other_course}/publish")).await.ok();
    let mut apis = vec![
        (P::Anon, w.server.client()),
        (P::Student, alpha.student.clone()),
        (P::Classmate, w.login(a, "mate@alpha.test").await),
        (P::OtherStudent, w.login(a, "ostu@alpha.test").await),
        (P::Ta, w.login(a, "ta@alpha.test").await),
        (P::Instructor, alpha.instructor.clone()),
        (P::OtherInstructor, w.login(a, "oins@alpha.test").await),
        (P::Admin, w.a.admin.clone()),
        (P::OtherAdmin, w.b.admin.clone()),
        (P::Platform, w.root.clone()),
    ];
    let emails = vec![
        (P::Student, a.clone(), "stu@alpha.test".to_owned()),
        (P::Classmate, a.clone(), "mate@alpha.test".to_owned()),
        (P::OtherStudent, a.clone(), "ostu@alpha.test".to_owned()),
        (P::Ta, a.clone(), "ta@alpha.test".to_owned()),
        (P::Instructor, a.clone(), "ins@alpha.test".to_owned()),
        (P::OtherInstructor, a.clone(), "oins@alpha.test".to_owned()),
        (P::Admin, a.clone(), "admin@alpha.test".to_owned()),
        (P::OtherAdmin, w.b.slug.clone(), "admin@beta.test".to_owned()),
        (P::Platform, "platform".to_owned(), "root@platform.test".to_owned()),
    ];
    for p in ALL {
        if let Some(scope) = p.scope() {
            let r = w
                .a
                .admin
                .post(
                    &format!("/api/v1/institutions/{a}/oauth-clients"),
                    json!({"name": scope, "confidential": true, "grant_types": ["client_credentials"], "scopes": [scope]}),
                )
                .await;
            let (id, secret) = (r.ok()["client_id"].as_str().unwrap(), r.body["client_secret"].as_str().unwrap());
            let t = w.server.client().client_credentials(id, secret).await;
            apis.push((p, w.server.client().with_token(t.ok()["access_token"].as_str().unwrap())));
        }
    }
    let principals = Principals { apis, emails };

    let r =
        w.a.admin
            .post(
                &format!("/api/v1/institutions/{a}/oauth-clients"),
                json!({"name": "App", "confidential": false, "grant_types": ["authorization_code"],
                   "redirect_uris": ["https://app.example.org/cb"], "scopes": ["openid", "courses:read"]}),
            )
            .await;
    let topics = w.root.get("/api/v1/admin/bus/topics").await;
    let dead_letter_topic = topics.ok()["topics"]
        .as_array()
        .and_then(|t| t.iter().filter_map(|t| t["topic"].as_str()).find(|t| t.ends_with("-DLQ")).map(str::to_owned))
        .unwrap_or_else(|| panic!("no dead-letter topic in {}", topics.body));
    let g = Globals {
        plugin_id: plugin.split('@').next().unwrap().to_owned(),
        plugin_key: plugin.clone(),
        app_client: r.ok()["client_id"].as_str().unwrap().to_owned(),
        dead_letter_topic,
    };
    let own_fx = fixture(&alpha, &g, None).await;
    let other_fx = fixture(&beta, &g, None).await;

    let mut failures = vec![];
    for row in &rows {
        let sides: &[(bool, &Side, &Fx)] = if row.other == Other::None {
            &[(false, &alpha, &own_fx)]
        } else {
            &[(false, &alpha, &own_fx), (true, &beta, &other_fx)]
        };
        for &(other, side, shared) in sides {
            let want = expected(row, other);
            // Those expected to be denied first, on the shared resources (or one fresh set).
            let denied_fx = if row.fresh { Some(fixture(side, &g, Some(shared)).await) } else { None };
            let mut statuses = vec![];
            let mut order: Vec<P> = ALL.iter().copied().filter(|p| !want.contains(p)).collect();
            order.extend(ALL.iter().copied().filter(|p| want.contains(p)));
            for p in order {
                let allowed = want.contains(&p);
                let fresh_fx;
                let fx = if row.fresh && allowed {
                    fresh_fx = fixture(side, &g, Some(shared)).await;
                    &fresh_fx
                } else {
                    denied_fx.as_ref().unwrap_or(shared)
                };
                let mut api = principals.api(p).clone();
                let mut session = None;
                if row.own_session {
                    if let Some((_, inst, email)) = principals.emails.iter().find(|(q, _, _)| *q == p) {
                        api = w.login(inst, email).await;
                    }
                }
                if row.path.contains("{session_id}") {
                    // Another session of the student's (of the other institution's student for "other").
                    let owner = if other { &beta } else { &alpha };
                    let fresh = w.login(&owner.slug, &owner.student_email).await;
                    let list = fresh.get("/api/v1/me/sessions").await;
                    session = list
                        .ok()
                        .as_array()
                        .and_then(|items| items.iter().find(|s| s["current"] == true))
                        .and_then(|s| s["id"].as_str())
                        .map(str::to_owned);
                    if p == P::Student && !other {
                        api = w.login(&alpha.slug, &alpha.student_email).await;
                    }
                }
                let path = fill(row.path, fx, session.as_deref());
                let r = send(&api, row.method, &path, &row.body, fx).await;
                let scope = if other { "other institution" } else { "own" };
                if r.status.is_server_error() {
                    failures.push(format!(
                        "{} {} [{scope}] as {}: {} {}",
                        row.method,
                        row.path,
                        p.code(),
                        r.status,
                        r.body
                    ));
                } else if !row.public {
                    if allowed && !allowed_ok(&r, row) {
                        failures.push(format!(
                            "{} {} [{scope}] as {}: expected allowed, got {} {}",
                            row.method,
                            row.path,
                            p.code(),
                            r.status,
                            r.body
                        ));
                    } else if !allowed && !denial(&r, row) {
                        failures.push(format!(
                            "{} {} [{scope}] as {}: expected denied, got {} {}",
                            row.method,
                            row.path,
                            p.code(),
                            r.status,
                            r.body
                        ));
                    }
                }
                statuses.push((p, r.status.as_u16()));
            }
            if row.public {
                let first = statuses[0].1;
                if statuses.iter().any(|(_, s)| *s != first) {
                    failures.push(format!(
                        "{} {}: a public route answered differently: {statuses:?}",
                        row.method, row.path
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with the authorization matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! Privacy requests: who a person is, where they are enrolled, how they sign
//! in, and the pseudonymisation of their account on erasure.
//! The facade (`lectern-core::privacy`) composes the contexts and audits.

use lectern_domain::authz::{Capability, Context, authorize};
use lectern_domain::ids::{CourseId, InstitutionId, UserId};
use lectern_domain::{CoreError, Principal, keys};
use lectern_storage::abort;
use serde_json::{Value, json};

use crate::model::{RevocationReason, User};
use crate::users::{authorize_account_change, skeleton_key};
use crate::{Identity, email};

/// The name an erased person's account keeps.
pub const ERASED_NAME: &str = "Erased person";

impl Identity {
    /// Checks that `p` may answer a privacy request about `user` (the person
    /// themselves for an export, or `privacy:manage` plus what changing an
    /// administrator's account needs) and returns the account.
    pub fn authorize_privacy_request(
        &self,
        p: &Principal,
        inst: InstitutionId,
        user: UserId,
        self_service: bool,
    ) -> Result<User, CoreError> {
        let own = self_service && p.user_id() == Some(user) && p.institution == inst;
        if !own {
            authorize(p, Capability::PrivacyManage, Context::Institution(inst))?;
        }
        let target = self.load_user(inst, user)?;
        if !own {
            authorize_account_change(p, inst, &target)?;
        }
        Ok(target)
    }

    /// Every course of the institution (a person's records can outlive their
    /// enrolment: unenrolling keeps grades and attempts).
    pub fn institution_courses(&self, inst: InstitutionId) -> Result<Vec<CourseId>, CoreError> {
        self.t().courses.scan_prefix(keys::inst(inst)).map(|r| r.map(|(_, c)| c.id).map_err(Into::into)).collect()
    }

    /// The person's account, enrolments, sessions and OAuth grants.
    pub fn person_export(&self, inst: InstitutionId, user: &User) -> Result<Value, CoreError> {
        let t = self.t();
        let mut enrolments = vec![];
        for row in t.enrolments_by_user.scan_prefix(keys::inst_user(inst, user.id)) {
            let (k, ()) = row?;
            let Some(course) = k.get(32..).and_then(CourseId::from_slice) else { continue };
            if let Some(e) = t.enrolments.get(keys::enrolment(inst, course, user.id))? {
                let c = t.courses.get(keys::inst_course(inst, course))?;
                enrolments.push(json!({"course": course.to_string(), "code": c.as_ref().map(|c| c.code.clone()),
                    "title": c.map(|c| c.title), "role": e.role, "enrolled_at": e.created_at}));
            }
        }
        let mut sessions = vec![];
        for row in t.sessions_by_user.scan_prefix(keys::inst_user(inst, user.id)) {
            let (_, hash) = row?;
            if let Some(s) = t.sessions.get(&hash)? {
                sessions
                    .push(json!({"id": s.id.to_string(), "created_at": s.created_at, "last_seen_at": s.last_seen_at,
                    "expires_at": s.absolute_expires_at, "ip": s.ip, "user_agent": s.user_agent}));
            }
        }
        let grants: Vec<Value> = t
            .refresh_families
            .scan_prefix(keys::inst_user(inst, user.id))
            .map(|r| {
                r.map(|(_, f)| {
                    json!({"client_id": f.client_id, "scope": f.scope, "created_at": f.created_at,
                           "expires_at": f.expires_at, "revoked": f.revoked.map(|r| format!("{r:?}"))})
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(json!({
            "account": {"id": user.id.to_string(), "email": user.email, "name": user.name, "role": user.role,
                        "locale": user.locale, "active": user.active, "created_at": user.created_at,
                        "updated_at": user.updated_at, "has_password": user.password_hash.is_some()},
            "enrolments": enrolments, "sessions": sessions, "oauth_grants": grants,
        }))
    }

    /// Pseudonymises the account: the address becomes
    /// `erased-<id>@erased.invalid`, the name [`ERASED_NAME`]; password and
    /// language go; it is deactivated; every session and OAuth grant ends.
    /// The id stays, as the pseudonym the kept records (grades, attempts)
    /// are filed under. Platform administrators are refused (a person with
    /// platform duties is first made an ordinary account).
    pub async fn erase_account(&self, inst: InstitutionId, user: UserId) -> Result<User, CoreError> {
        let now = self.now();
        let t = self.t();
        let erased_email = format!("erased-{user}@erased.invalid");
        let erased_key = email::lookup_key(&erased_email);
        let out = self.store().transaction(&[&t.users, &t.users_by_email, &t.users_by_skeleton], |tx| {
            let users = tx.on(&t.users)?;
            let Some(mut u) = users.get(keys::inst_user(inst, user))? else {
                return abort(CoreError::NotFound("user"));
            };
            if u.platform_admin {
                return abort(CoreError::Conflict(
                    "a platform administrator cannot be erased: remove the platform role first".into(),
                ));
            }
            let by_email = tx.on(&t.users_by_email)?;
            let skeletons = tx.on(&t.users_by_skeleton)?;
            let old = email::lookup_key(&u.email);
            by_email.remove(keys::inst_str(inst, &old))?;
            // Older releases keyed the index by the lowercased address.
            by_email.remove(keys::inst_str(inst, &u.email.to_lowercase()))?;
            skeletons.remove(skeleton_key(inst, &old, user))?;
            by_email.insert(keys::inst_str(inst, &erased_key), &user)?;
            skeletons.insert(skeleton_key(inst, &erased_key, user), &())?;
            u.email = erased_email.clone();
            u.name = ERASED_NAME.to_owned();
            u.password_hash = None;
            u.locale = None;
            u.active = false;
            u.updated_at = now;
            u.version += 1;
            users.insert(keys::inst_user(inst, user), &u)?;
            Ok(u)
        })?;
        self.end_all_sessions(inst, user, RevocationReason::UserDeactivated)?;
        self.durable().await?;
        Ok(out)
    }
}

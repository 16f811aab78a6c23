use lectern_storage::abort;

use crate::authz::{Capability, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::model::{CourseRole, Enrolment, User};
use crate::paging::{Page, PageRequest};
use crate::{Identity, Principal, keys};

impl Identity {
    /// Enrols a user of the same institution in a course.
    pub async fn enrol(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        role: CourseRole,
    ) -> Result<Enrolment, CoreError> {
        let (_, ctx) = self.course_context(p, inst, course)?;
        authorize(p, Capability::EnrolmentManage, ctx)?;
        let target = self
            .load_user(inst, user)
            .map_err(|_| CoreError::invalid("user_id", "no such user in this institution"))?;
        if !target.active {
            return Err(CoreError::invalid("user_id", "the user is deactivated"));
        }
        let now = self.now();
        let e = Enrolment { institution: inst, course, user, role, created_at: now, updated_at: now };
        let t = self.t();
        self.store().transaction(&[&t.enrolments, &t.enrolments_by_user], |tx| {
            let en = tx.on(&t.enrolments)?;
            let key = keys::enrolment(inst, course, user);
            if en.get(&key)?.is_some() {
                return abort(CoreError::Conflict("the user is already enrolled; change their role instead".into()));
            }
            en.insert(&key, &e)?;
            tx.on(&t.enrolments_by_user)?.insert(keys::enrolment_by_user(inst, user, course), &())?;
            Ok(())
        })?;
        self.durable().await?;
        Ok(e)
    }

    /// Enrolments of a course with the enrolled users.
    pub fn list_enrolments(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        page: &PageRequest,
    ) -> Result<Page<(Enrolment, User)>, CoreError> {
        let (_, ctx) = self.course_context(p, inst, course)?;
        authorize(p, Capability::EnrolmentView, ctx)?;
        let limit = page.limit()?;
        let rows = self.t().enrolments.page(&keys::inst_course(inst, course), page.after()?.as_deref(), limit)?;
        let last = rows.last().map(|(k, _)| k.clone());
        let mut items = Vec::with_capacity(rows.len());
        for (_, e) in rows {
            let u = self.load_user(inst, e.user)?;
            items.push((e, u));
        }
        Ok(Page::from_rows(items, last, limit))
    }

    pub async fn change_enrolment_role(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        role: CourseRole,
    ) -> Result<Enrolment, CoreError> {
        let (_, ctx) = self.course_context(p, inst, course)?;
        authorize(p, Capability::EnrolmentManage, ctx)?;
        let now = self.now();
        let e = self
            .t()
            .enrolments
            .update(keys::enrolment(inst, course, user), |old| {
                old.map(|mut e| {
                    e.role = role;
                    e.updated_at = now;
                    e
                })
            })?
            .ok_or(CoreError::NotFound("enrolment"))?;
        self.durable().await?;
        Ok(e)
    }

    pub async fn unenrol(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
    ) -> Result<(), CoreError> {
        let (_, ctx) = self.course_context(p, inst, course)?;
        authorize(p, Capability::EnrolmentManage, ctx)?;
        let t = self.t();
        self.store().transaction(&[&t.enrolments, &t.enrolments_by_user], |tx| {
            if tx.on(&t.enrolments)?.remove(keys::enrolment(inst, course, user))?.is_none() {
                return abort(CoreError::NotFound("enrolment"));
            }
            tx.on(&t.enrolments_by_user)?.remove(keys::enrolment_by_user(inst, user, course))?;
            Ok(())
        })?;
        self.durable().await
    }
}

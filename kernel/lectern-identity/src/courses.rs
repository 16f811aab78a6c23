use lectern_storage::abort;

use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};
use crate::institutions::validate_name;
use crate::model::{Course, CourseRole, CourseState, Enrolment};
use crate::paging::{Page, PageRequest};
use crate::{Identity, Principal, keys};

#[derive(Clone, Debug)]
pub struct NewCourse {
    pub code: String,
    pub title: String,
    pub description: String,
}

#[derive(Clone, Debug, Default)]
pub struct CourseUpdate {
    pub code: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

fn validate_code(code: &str) -> Result<(String, String), CoreError> {
    let c = code.trim();
    let ok = (1..=32).contains(&c.len())
        && c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b' '));
    if !ok {
        return Err(CoreError::invalid("code", "must be 1–32 characters of letters, digits, space, - _ ."));
    }
    Ok((c.to_owned(), c.to_lowercase()))
}

fn validate_description(d: &str) -> Result<String, CoreError> {
    if d.chars().count() > 10_000 {
        return Err(CoreError::invalid("description", "must be at most 10,000 characters"));
    }
    Ok(d.to_owned())
}

impl Identity {
    /// Loads a course with the authorization context for `p` in it.
    pub fn course_context(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: CourseId,
    ) -> Result<(Course, Context), CoreError> {
        // Tenant check first, so a foreign course id is refused, not probed.
        if inst != p.institution && !p.platform_admin {
            return Err(CoreError::Forbidden("not allowed in another institution".into()));
        }
        let course = self.t().courses.get(keys::inst_course(inst, id))?.ok_or(CoreError::NotFound("course"))?;
        let enrolment = match p.user_id() {
            Some(u) => self.t().enrolments.get(keys::enrolment(inst, id, u))?.map(|e| e.role),
            None => None,
        };
        let ctx = Context::Course { institution: inst, course: id, state: course.state, enrolment };
        Ok((course, ctx))
    }

    /// Creates a draft course; a user who creates it becomes its instructor.
    pub async fn create_course(&self, p: &Principal, inst: InstitutionId, new: NewCourse) -> Result<Course, CoreError> {
        self.create_course_with_id(p, inst, new, CourseId::new()).await
    }

    /// [`Identity::create_course`] with an id chosen beforehand (a course import
    /// stores its media under the course before the course exists).
    pub async fn create_course_with_id(
        &self,
        p: &Principal,
        inst: InstitutionId,
        new: NewCourse,
        id: CourseId,
    ) -> Result<Course, CoreError> {
        authorize(p, Capability::CourseCreate, Context::Institution(inst))?;
        let (code, code_key) = validate_code(&new.code)?;
        let title = validate_name("title", &new.title, 200)?;
        let description = validate_description(&new.description)?;
        let now = self.now();
        let creator = p.user_id();
        let course = Course {
            id,
            institution: inst,
            code,
            title,
            description,
            state: CourseState::Draft,
            created_by: creator.unwrap_or_default(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let t = self.t();
        self.store().transaction(&[&t.courses, &t.courses_by_code, &t.enrolments, &t.enrolments_by_user], |tx| {
            let by_code = tx.on(&t.courses_by_code)?;
            let ck = keys::inst_str(inst, &code_key);
            if by_code.get(&ck)?.is_some() {
                return abort(CoreError::Conflict(format!("a course with code `{}` already exists", course.code)));
            }
            by_code.insert(&ck, &course.id)?;
            tx.on(&t.courses)?.insert(keys::inst_course(inst, course.id), &course)?;
            if let Some(u) = creator {
                let e = Enrolment {
                    institution: inst,
                    course: course.id,
                    user: u,
                    role: CourseRole::Instructor,
                    created_at: now,
                    updated_at: now,
                };
                tx.on(&t.enrolments)?.insert(keys::enrolment(inst, course.id, u), &e)?;
                tx.on(&t.enrolments_by_user)?.insert(keys::enrolment_by_user(inst, u, course.id), &())?;
            }
            Ok(())
        })?;
        self.durable().await?;
        Ok(course)
    }

    /// A course and the caller's role in it.
    pub fn get_course(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: CourseId,
    ) -> Result<(Course, Option<CourseRole>), CoreError> {
        let (course, ctx) = self.course_context(p, inst, id)?;
        authorize(p, Capability::CourseView, ctx)?;
        let role = match ctx {
            Context::Course { enrolment, .. } => enrolment,
            _ => None,
        };
        Ok((course, role))
    }

    /// Courses the caller may see: all of them for institution-wide viewers,
    /// otherwise those their enrolments make visible.
    pub fn list_courses(
        &self,
        p: &Principal,
        inst: InstitutionId,
        page: &PageRequest,
    ) -> Result<Page<(Course, Option<CourseRole>)>, CoreError> {
        let limit = page.limit()?;
        if authorize(p, Capability::CourseView, Context::Institution(inst)).is_ok() {
            let rows = self.t().courses.page(&keys::inst(inst), page.after()?.as_deref(), limit)?;
            let last = rows.last().map(|(k, _)| k.clone());
            let items = rows
                .into_iter()
                .map(|(_, c)| {
                    let role = p
                        .user_id()
                        .and_then(|u| self.t().enrolments.get(keys::enrolment(inst, c.id, u)).ok().flatten())
                        .map(|e| e.role);
                    (c, role)
                })
                .collect();
            return Ok(Page::from_rows(items, last, limit));
        }
        authorize(p, Capability::InstitutionView, Context::Institution(inst))?;
        let Some(user) = p.user_id() else { return Ok(Page { items: vec![], next_cursor: None }) };
        self.enrolled_courses(p, inst, user, page, limit)
    }

    fn enrolled_courses(
        &self,
        p: &Principal,
        inst: InstitutionId,
        user: crate::ids::UserId,
        page: &PageRequest,
        limit: usize,
    ) -> Result<Page<(Course, Option<CourseRole>)>, CoreError> {
        let prefix = keys::inst_user(inst, user);
        let mut after = page.after()?;
        let mut items = vec![];
        // Filtering may drop rows (e.g. draft courses for students): keep
        // reading pages until this one is full or the listing ends.
        loop {
            let rows = self.t().enrolments_by_user.page(&prefix, after.as_deref(), limit)?;
            let exhausted = rows.len() < limit;
            for (k, ()) in rows {
                after = Some(k.clone());
                let Some(cid) = CourseId::from_slice(&k[32..]) else { continue };
                let Ok((course, ctx)) = self.course_context(p, inst, cid) else { continue };
                if authorize(p, Capability::CourseView, ctx).is_ok() {
                    let role = match ctx {
                        Context::Course { enrolment, .. } => enrolment,
                        _ => None,
                    };
                    items.push((course, role));
                    if items.len() == limit {
                        return Ok(Page { items, next_cursor: after.map(|k| crate::paging::cursor_for(&k)) });
                    }
                }
            }
            if exhausted {
                return Ok(Page { items, next_cursor: None });
            }
        }
    }

    /// The caller's own courses across their institution.
    pub fn my_courses(
        &self,
        p: &Principal,
        page: &PageRequest,
    ) -> Result<Page<(Course, Option<CourseRole>)>, CoreError> {
        let limit = page.limit()?;
        let Some(user) = p.user_id() else { return Ok(Page { items: vec![], next_cursor: None }) };
        self.enrolled_courses(p, p.institution, user, page, limit)
    }

    pub async fn update_course(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: CourseId,
        update: CourseUpdate,
        if_version: Option<u64>,
    ) -> Result<Course, CoreError> {
        let (_, ctx) = self.course_context(p, inst, id)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        let code = update.code.as_deref().map(validate_code).transpose()?;
        let title = update.title.as_deref().map(|t| validate_name("title", t, 200)).transpose()?;
        let description = update.description.as_deref().map(validate_description).transpose()?;
        let now = self.now();
        let t = self.t();
        let course = self.store().transaction(&[&t.courses, &t.courses_by_code], |tx| {
            let courses = tx.on(&t.courses)?;
            let Some(mut c) = courses.get(keys::inst_course(inst, id))? else {
                return abort(CoreError::NotFound("course"));
            };
            if if_version.is_some_and(|v| v != c.version) {
                return abort(CoreError::PreconditionFailed { current: c.version });
            }
            if let Some((display, key)) = &code {
                let by_code = tx.on(&t.courses_by_code)?;
                let old = keys::inst_str(inst, &c.code.to_lowercase());
                let new = keys::inst_str(inst, key);
                if old != new {
                    if by_code.get(&new)?.is_some() {
                        return abort(CoreError::Conflict(format!("a course with code `{display}` already exists")));
                    }
                    by_code.remove(&old)?;
                    by_code.insert(&new, &id)?;
                }
                c.code = display.clone();
            }
            if let Some(v) = &title {
                c.title = v.clone();
            }
            if let Some(v) = &description {
                c.description = v.clone();
            }
            c.updated_at = now;
            c.version += 1;
            courses.insert(keys::inst_course(inst, id), &c)?;
            Ok(c)
        })?;
        self.durable().await?;
        Ok(course)
    }

    /// Moves a course between draft, published and archived.
    pub async fn set_course_state(
        &self,
        p: &Principal,
        inst: InstitutionId,
        id: CourseId,
        to: CourseState,
    ) -> Result<Course, CoreError> {
        let (course, ctx) = self.course_context(p, inst, id)?;
        authorize(p, Capability::CoursePublish, ctx)?;
        let allowed = matches!(
            (course.state, to),
            (CourseState::Draft, CourseState::Published)
                | (CourseState::Archived, CourseState::Published)
                | (CourseState::Published, CourseState::Archived)
                | (CourseState::Draft, CourseState::Archived)
        );
        if course.state == to {
            return Ok(course);
        }
        if !allowed {
            return Err(CoreError::Conflict(
                format!("a {:?} course cannot become {:?}", course.state, to).to_lowercase(),
            ));
        }
        let now = self.now();
        let updated = self
            .t()
            .courses
            .update(keys::inst_course(inst, id), |old| {
                old.map(|mut c| {
                    c.state = to;
                    c.updated_at = now;
                    c.version += 1;
                    c
                })
            })?
            .ok_or(CoreError::NotFound("course"))?;
        self.durable().await?;
        tracing::info!(institution = %inst, course = %id, state = ?to, "course state changed");
        Ok(updated)
    }

    /// Deletes a draft course and its enrolments (the kernel facade then clears
    /// its content). Published or archived courses hold student records and can
    /// only be archived.
    pub async fn delete_course(&self, p: &Principal, inst: InstitutionId, id: CourseId) -> Result<(), CoreError> {
        let (course, ctx) = self.course_context(p, inst, id)?;
        authorize(p, Capability::CourseEdit, ctx)?;
        if course.state != CourseState::Draft {
            return Err(CoreError::Conflict("only draft courses can be deleted; archive it instead".into()));
        }
        let enrolled: Vec<Vec<u8>> = self
            .t()
            .enrolments
            .scan_prefix(keys::inst_course(inst, id))
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        let t = self.t();
        self.store().transaction(&[&t.courses, &t.courses_by_code, &t.enrolments, &t.enrolments_by_user], |tx| {
            tx.on(&t.courses)?.remove(keys::inst_course(inst, id))?;
            tx.on(&t.courses_by_code)?.remove(keys::inst_str(inst, &course.code.to_lowercase()))?;
            for k in &enrolled {
                tx.on(&t.enrolments)?.remove(k)?;
                if let Some(u) = crate::ids::UserId::from_slice(&k[32..]) {
                    tx.on(&t.enrolments_by_user)?.remove(keys::enrolment_by_user(inst, u, id))?;
                }
            }
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.durable().await
    }
}

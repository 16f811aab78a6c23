//! Bulk operations from a spreadsheet: importing users into an institution
//! and enrolling people in a course, one result per row.
//!
//! Rows are independent: a bad row is reported with why and the others go
//! ahead (an administrator fixing row 37 of 400 should not have to resubmit
//! the 399 good ones, and should not find half a file applied without being
//! told which half). `dry_run` runs every check without writing, so a page
//! can show the preview the apply will produce; between the two another
//! request may of course change the answer for a row (the apply re-checks
//! everything inside its own writes).

use std::collections::HashMap;

use lectern_auth::password;

use crate::authz::{Capability, Context, authorize};
use crate::email::validate_email;
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};
use crate::model::{CourseRole, Enrolment, User};
use crate::users::{NewUser, needs_admin_grant};
use crate::{Identity, Principal, validate_name};

/// Rows per request: a larger file is sent in parts.
pub const MAX_ROWS: usize = 1000;

/// What became of one row.
#[derive(Debug)]
pub enum RowOutcome<T> {
    /// Applied: the record written.
    Done(T),
    /// `dry_run`: every check passed; nothing was written.
    Valid,
    /// Refused, with the reason (as the single-row endpoint would refuse it).
    Failed(CoreError),
}

/// One row of an enrolment file: who (by email) and in which role.
#[derive(Clone, Debug)]
pub struct EnrolmentRow {
    pub email: String,
    pub role: CourseRole,
}

fn check_rows<T>(rows: &[T]) -> Result<(), CoreError> {
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Err(CoreError::invalid("rows", format!("send 1–{MAX_ROWS} rows; split a larger file")));
    }
    Ok(())
}

impl Identity {
    /// Imports users: each row is checked as `create_user` checks it (email,
    /// name, password policy, role the caller may grant, no duplicate in the
    /// institution or earlier in the file) and, unless `dry_run`, created.
    /// Platform administrators are never created in bulk.
    pub async fn import_users(
        &self,
        p: &Principal,
        inst: InstitutionId,
        rows: Vec<NewUser>,
        dry_run: bool,
    ) -> Result<Vec<RowOutcome<User>>, CoreError> {
        authorize(p, Capability::UserManage, Context::Institution(inst))?;
        check_rows(&rows)?;
        let may_grant_admin = authorize(p, Capability::UserGrantAdmin, Context::Institution(inst)).is_ok();
        let mut first_row_of: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let checked = (|| {
                if row.platform_admin {
                    return Err(CoreError::invalid("platform_admin", "platform administrators are created one by one"));
                }
                if needs_admin_grant(row.role) && !may_grant_admin {
                    return Err(CoreError::Forbidden("granting the admin role needs user:grant-admin".into()));
                }
                let (email, key) = validate_email(&row.email)?;
                let name = validate_name("name", &row.name, 200)?;
                if let Some(first) = first_row_of.get(&key) {
                    return Err(CoreError::Conflict(format!("{email} is also in row {}", first + 1)));
                }
                first_row_of.insert(key.clone(), i);
                if self.find_user_by_email(inst, &email)?.is_some() {
                    return Err(CoreError::Conflict(format!("{email} already has an account in the institution")));
                }
                self.refuse_lookalike(inst, &key, None)?;
                if let Some(pw) = &row.password {
                    password::check_policy(pw, &[email.as_str(), name.as_str()]).map_err(CoreError::WeakPassword)?;
                }
                Ok(())
            })();
            let outcome = match checked {
                Err(e) => RowOutcome::Failed(e),
                Ok(()) if dry_run => RowOutcome::Valid,
                // The insert re-checks the email inside its transaction.
                Ok(()) => match self.insert_user(inst, row).await {
                    Ok(u) => RowOutcome::Done(u),
                    Err(e) => RowOutcome::Failed(e),
                },
            };
            out.push(outcome);
        }
        Ok(out)
    }

    /// Enrols people by email: each row must name an active user of the
    /// institution not already in the course (nor earlier in the file) and,
    /// unless `dry_run`, is enrolled as `enrol` does it.
    pub async fn enrol_many(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        rows: Vec<EnrolmentRow>,
        dry_run: bool,
    ) -> Result<Vec<RowOutcome<(Enrolment, User)>>, CoreError> {
        let (_, ctx) = self.course_context(p, inst, course)?;
        authorize(p, Capability::EnrolmentManage, ctx)?;
        check_rows(&rows)?;
        let mut first_row_of: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let checked = (|| {
                let (email, key) = validate_email(&row.email)?;
                if let Some(first) = first_row_of.get(&key) {
                    return Err(CoreError::Conflict(format!("{email} is also in row {}", first + 1)));
                }
                first_row_of.insert(key, i);
                let user = self.find_user_by_email(inst, &email)?.ok_or_else(|| {
                    CoreError::invalid("email", format!("no user with the email {email} in this institution"))
                })?;
                if !user.active {
                    return Err(CoreError::invalid("email", format!("{email}: the account is deactivated")));
                }
                if self.enrolment_role(inst, course, user.id)?.is_some() {
                    return Err(CoreError::Conflict(format!("{email} is already enrolled; change their role instead")));
                }
                Ok(user)
            })();
            let outcome = match checked {
                Err(e) => RowOutcome::Failed(e),
                Ok(_) if dry_run => RowOutcome::Valid,
                Ok(user) => match self.enrol(p, inst, course, user.id, row.role).await {
                    Ok(e) => RowOutcome::Done((e, user)),
                    Err(e) => RowOutcome::Failed(e),
                },
            };
            out.push(outcome);
        }
        Ok(out)
    }
}

//! Privacy requests: a person's tutor conversations, and their erasure.
//! The facade (`lectern-core::privacy`) authorizes and audits.

use lectern_domain::ids::{CourseId, InstitutionId, UserId};
use lectern_domain::{CoreError, keys};
use serde_json::{Value, json};

use crate::Tutor;

impl Tutor {
    /// The person's conversations with the tutor, per course.
    pub fn person_export(&self, inst: InstitutionId, user: UserId, courses: &[CourseId]) -> Result<Value, CoreError> {
        let mut out = vec![];
        for course in courses {
            let turns: Vec<Value> = self
                .t()
                .tutor_turns
                .scan_prefix(keys::enrolment(inst, *course, user))
                .map(|r| r.map(|(_, t)| serde_json::to_value(&t).unwrap_or(Value::Null)))
                .collect::<Result<_, _>>()?;
            if !turns.is_empty() {
                out.push(json!({"course": course.to_string(), "turns": turns}));
            }
        }
        Ok(Value::Array(out))
    }

    /// Deletes the person's conversations, the copies of their questions the
    /// insights read, and their insights pseudonym. Returns how many questions went.
    pub fn erase_person(&self, inst: InstitutionId, user: UserId, courses: &[CourseId]) -> Result<u64, CoreError> {
        let t = self.t();
        let mut n = 0;
        for course in courses {
            let prefix = keys::enrolment(inst, *course, user);
            let turns: Vec<Vec<u8>> =
                t.tutor_turns.scan_prefix(&prefix).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in turns {
                t.tutor_turns.remove(&k)?;
                n += 1;
            }
            let logged: Vec<Vec<u8>> = t
                .tutor_log
                .scan_prefix(keys::inst_course(inst, *course))
                .filter_map(|r| r.map(|(k, q)| (q.user == user).then_some(k)).transpose())
                .collect::<Result<_, _>>()?;
            for k in logged {
                t.tutor_log.remove(&k)?;
            }
            t.tutor_pseudonyms.remove(&prefix)?;
        }
        Ok(n)
    }
}

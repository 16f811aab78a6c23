//! Privacy requests: a person's progress and activity states, and their erasure.
//! The facade (`lectern-core::privacy`) authorizes and audits.

use lectern_domain::ids::{CourseId, InstitutionId, UserId};
use lectern_domain::{CoreError, keys};
use serde_json::{Value, json};

use crate::Content;

impl Content {
    /// The person's progress (per item), last position and activity states in `courses`.
    pub fn person_export(&self, inst: InstitutionId, user: UserId, courses: &[CourseId]) -> Result<Value, CoreError> {
        let t = self.t();
        let mut out = vec![];
        for course in courses {
            let prefix = keys::enrolment(inst, *course, user);
            let item = |k: &[u8]| String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            let progress: Vec<Value> = t
                .item_states
                .scan_prefix(&prefix)
                .map(|r| {
                    r.map(|(k, s)| json!({"item": item(&k), "state": serde_json::to_value(&s).unwrap_or(Value::Null)}))
                })
                .collect::<Result<_, _>>()?;
            let activities: Vec<Value> = t
                .activity_states
                .scan_prefix(&prefix)
                .map(|r| {
                    r.map(|(k, s)| {
                        json!({"item": item(&k), "version": s.version, "updated_at": s.updated_at,
                               "data": String::from_utf8(s.data.clone()).map(Value::String).unwrap_or_else(|_| json!(s.data))})
                    })
                })
                .collect::<Result<_, _>>()?;
            let resume = t.resume.get(&prefix)?;
            if !progress.is_empty() || !activities.is_empty() || resume.is_some() {
                out.push(json!({"course": course.to_string(), "items": progress, "activity_states": activities,
                                "resume": resume.map(|r| serde_json::to_value(&r).unwrap_or(Value::Null))}));
            }
        }
        Ok(Value::Array(out))
    }

    /// Removes the person's activity states (plugins' opaque data about them,
    /// which may hold what they typed) and their last position; keeps which
    /// items they completed, under their id (now a pseudonym). Returns how many
    /// activity states went.
    pub fn erase_person(&self, inst: InstitutionId, user: UserId, courses: &[CourseId]) -> Result<u64, CoreError> {
        let t = self.t();
        let mut n = 0;
        for course in courses {
            let prefix = keys::enrolment(inst, *course, user);
            let keys: Vec<Vec<u8>> =
                t.activity_states.scan_prefix(&prefix).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in keys {
                t.activity_states.remove(&k)?;
                n += 1;
            }
            t.resume.remove(&prefix)?;
        }
        Ok(n)
    }
}

//! Privacy requests (GDPR articles 15, 17 and 20): everything this context
//! holds about one person, and their erasure where the records must stay.
//!
//! The facade (`lectern-core::privacy`) authorizes and audits; these
//! functions do neither.

use serde_json::{Value, json};

use crate::Assessments;
use crate::assessments::proctoring::{batch_prefix, state_key};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::keys;

fn value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What the erasure changed here.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Erased {
    /// Signal batches whose device details (address, browser, session) and signal details were removed.
    pub integrity_batches: u64,
    /// Stored copies of issued credentials removed (the holder's copy stays valid, revocation too).
    pub credential_copies: u64,
}

impl Assessments {
    /// The person's attempts with their answers and integrity records, grades
    /// with their history, completions and credentials, in `courses`.
    pub fn person_export(&self, inst: InstitutionId, user: UserId, courses: &[CourseId]) -> Result<Value, CoreError> {
        let t = self.t();
        let mut attempts = vec![];
        let mut integrity = vec![];
        for row in t.attempts.scan_prefix(keys::inst(inst)) {
            let (_, a) = row?;
            if a.student != user || a.preview {
                continue;
            }
            let answer_prefix = [inst.bytes().as_slice(), a.id.as_bytes(), &[0]].concat();
            let answers: serde_json::Map<String, Value> = t
                .answers
                .scan_prefix(&answer_prefix)
                .map(|r| r.map(|(k, v)| (String::from_utf8_lossy(&k[answer_prefix.len()..]).into_owned(), value(&v))))
                .collect::<Result<_, _>>()?;
            let mut attempt = value(&a);
            attempt["answers"] = Value::Object(answers);
            attempts.push(attempt);
            let state = t.proctor_states.get(state_key(inst, a.course, &a.id))?;
            let batches: Vec<Value> = t
                .proctor_batches
                .scan_prefix(batch_prefix(inst, &a.id))
                .map(|r| r.map(|(_, b)| value(&b)))
                .collect::<Result<_, _>>()?;
            if state.is_some() || !batches.is_empty() {
                integrity.push(json!({"attempt": a.id, "assessment": a.assessment, "course": a.course.to_string(),
                    "record": state.as_ref().map(value), "batches": batches}));
            }
        }
        let mut grades = vec![];
        let mut completions = vec![];
        for course in courses {
            let prefix = keys::enrolment(inst, *course, user);
            for row in t.grades.scan_prefix(&prefix) {
                let (_, g) = row?;
                grades.push(json!({"course": course.to_string(), "entry": value(&g)}));
            }
            for row in t.grade_attempts.scan_prefix(&prefix) {
                let (_, g) = row?;
                grades.push(json!({"course": course.to_string(), "attempt_results": value(&g)}));
            }
            if let Some(c) = t.completions.get(&prefix)? {
                completions.push(value(&c));
            }
        }
        let mut credentials = vec![];
        for row in t.credentials_by_user.scan_prefix(keys::inst_user(inst, user)) {
            let (_, id) = row?;
            if let Some(c) = t.credentials.get(id.as_bytes())? {
                let document: Value = serde_json::from_str(&c.document).unwrap_or(Value::String(c.document.clone()));
                let mut v = value(&c);
                v["document"] = document;
                credentials.push(v);
            }
        }
        Ok(json!({"attempts": attempts, "integrity": integrity, "grades": grades, "completions": completions,
                  "credentials": credentials}))
    }

    /// Erases what identifies the person here while keeping the records an
    /// institution must keep (attempts, answers, grades, completions, the
    /// credentials' revocation state), which stay under the person's id, now
    /// a pseudonym: removes the device details of their integrity records and
    /// the stored copies of the credentials issued to them (which carry their
    /// name; the holder's own copy keeps verifying, and revoking it still works).
    pub fn erase_person(&self, inst: InstitutionId, user: UserId) -> Result<Erased, CoreError> {
        let t = self.t();
        let mut erased = Erased::default();
        let attempts: Vec<_> = t
            .attempts
            .scan_prefix(keys::inst(inst))
            .filter_map(|r| r.map(|(_, a)| (a.student == user).then_some(a)).transpose())
            .collect::<Result<_, _>>()?;
        for a in attempts {
            let rows: Vec<_> = t.proctor_batches.scan_prefix(batch_prefix(inst, &a.id)).collect::<Result<_, _>>()?;
            for (k, mut b) in rows {
                b.client = Default::default();
                for s in &mut b.signals {
                    s.detail = None;
                }
                t.proctor_batches.insert(&k, &b)?;
                erased.integrity_batches += 1;
            }
            let key = state_key(inst, a.course, &a.id);
            t.proctor_states.update(&key, |s| {
                s.map(|mut s| {
                    s.first_client = None;
                    s
                })
            })?;
        }
        let ids: Vec<_> = t.credentials_by_user.scan_prefix(keys::inst_user(inst, user)).collect::<Result<_, _>>()?;
        for (_, id) in ids {
            if let Some(mut c) = t.credentials.get(id.as_bytes())?
                && !c.document.is_empty()
            {
                c.document = String::new();
                t.credentials.insert(id.as_bytes(), &c)?;
                erased.credential_copies += 1;
            }
        }
        Ok(erased)
    }
}

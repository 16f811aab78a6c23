//! Key layouts. Tenant data is keyed `institution id (16 bytes) ‖ …`, so a
//! prefix scan can never leave its tenant. Variable-length parts come last or
//! are NUL-terminated (inputs containing NUL are refused by validation).

use crate::ids::{CourseId, InstitutionId, UserId};

pub fn inst(i: InstitutionId) -> Vec<u8> {
    i.bytes().to_vec()
}

pub fn inst_id(i: InstitutionId, id: &[u8; 16]) -> Vec<u8> {
    [i.bytes().as_slice(), id].concat()
}

pub fn inst_str(i: InstitutionId, s: &str) -> Vec<u8> {
    [i.bytes().as_slice(), s.as_bytes()].concat()
}

pub fn enrolment(i: InstitutionId, c: CourseId, u: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), u.bytes()].concat()
}

pub fn enrolment_by_user(i: InstitutionId, u: UserId, c: CourseId) -> Vec<u8> {
    [i.bytes().as_slice(), u.bytes(), c.bytes()].concat()
}

pub fn inst_user(i: InstitutionId, u: UserId) -> Vec<u8> {
    inst_id(i, u.bytes())
}

pub fn inst_course(i: InstitutionId, c: CourseId) -> Vec<u8> {
    inst_id(i, c.bytes())
}

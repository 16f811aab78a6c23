//! The roles and states authorization decides on; the records that carry
//! them belong to the identity context (`lectern-identity`).

use serde::{Deserialize, Serialize};

/// A user's standing in their institution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstitutionRole {
    /// Runs the institution: users, courses, plugins, OAuth clients, keys.
    Admin,
    /// Teaching staff: may create courses and look up users to enrol.
    Staff,
    /// Everyone else (students, observers): sees what enrolments grant.
    Member,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CourseState {
    Draft,
    Published,
    Archived,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CourseRole {
    Instructor,
    TeachingAssistant,
    Student,
    Observer,
}

impl lectern_storage::Record for InstitutionRole {
    const VERSION: u8 = 1;
}

impl lectern_storage::Record for CourseState {
    const VERSION: u8 = 1;
}

impl lectern_storage::Record for CourseRole {
    const VERSION: u8 = 1;
}

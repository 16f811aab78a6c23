//! `org.lectern.grading`: Lectern's first-party grading plugin, and the
//! reference for anyone writing a grader of their own.
//!
//! It owns one decision the kernel deliberately does not make: how many of
//! a question's points a response earns, and why. Every `answer-key` type
//! of `lectern:plugin@0.1.0` is handled ([`choice`], [`numeric`], [`text`],
//! [`matching`], [`ordering`], [`blanks`], essays in [`submission`]), then
//! penalties ([`penalty`]) and scaling to points ([`submission`]). Each
//! result carries an `explanation`: the steps from response to points, so a
//! student or an instructor can check any grade by hand.
//!
//! It must be deterministic (the kernel re-grades old attempts and expects
//! the same answer): no clock, no randomness, no hash-map iteration in any
//! output, and no state (it requests no kv storage). It must never panic:
//! a panic traps the whole batch, and the batch is a student's attempt. A
//! key it cannot apply is a question for a person (`needs-manual-grading`),
//! never an error of the batch; `grade` always returns `Ok`.
//!
//! Layout: this file is the only one that touches the export side of the
//! WIT bindings; the logic lives in plain modules that read the generated
//! record types (plain structs on any target) so that `cargo test` runs it
//! natively.

pub mod blanks;
pub mod choice;
pub mod matching;
pub mod numeric;
pub mod ordering;
pub mod outcome;
pub mod penalty;
pub mod submission;
pub mod text;

#[cfg(test)]
mod tests;

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{self, Graded, Submission};
use lectern_sdk::v0_2::grading::lectern::plugin::types::{Context, Error};

/// Must match `manifest.json`; the host refuses a component whose `info`
/// disagrees with its manifest.
pub const ID: &str = "org.lectern.grading";
pub const VERSION: &str = "1.1.0";
/// Nothing is stored; the first layout that is gets 2 and a `migrate`.
pub const DATA_VERSION: u32 = 1;

// Natively (unit tests) nothing exports it, see the bottom of the file.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Plugin;

lectern_sdk::simple_lifecycle!(
    v0_2::grading,
    Plugin,
    id = ID,
    name = "Lectern grading",
    version = VERSION,
    data_version = DATA_VERSION
);

/// Grades a batch, one result per submission in the same order. Kept apart
/// from the trait so tests can call exactly what the host calls.
pub fn grade_batch(submissions: &[Submission]) -> Vec<Graded> {
    submissions.iter().map(submission::grade).collect()
}

impl grader::Guest for Plugin {
    // `ctx` is unused: grading is the same for every institution and role,
    // and explanations are English only for now (see the README on `locale`).
    fn grade(_ctx: Context, submissions: Vec<Submission>) -> Result<Vec<Graded>, Error> {
        Ok(grade_batch(&submissions))
    }
}

// Only for WebAssembly: the export names (`lectern:plugin/grader@0.1.0#…`)
// are not valid symbol names for a native linker, and the native build of
// this crate exists only to run the unit tests.
#[cfg(target_arch = "wasm32")]
lectern_sdk::v0_2::grading::export!(Plugin);

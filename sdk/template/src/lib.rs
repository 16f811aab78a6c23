//! Template grading plugin: grades true/false questions, routes everything
//! else to manual grading, and counts what it graded per institution.
//! Build: `cargo build --target wasm32-wasip2 --release -p lectern-plugin-template`
//! (from `plugins/`), then install the `.wasm` with `manifest.json`.

use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader::{
    self, AnswerKey, Graded, Response, Status, Submission,
};
use lectern_sdk::v0_2::grading::lectern::plugin::types::{Context, Error};
use lectern_sdk::v0_2::grading::{log, store};

struct Template;

lectern_sdk::simple_lifecycle!(
    v0_2::grading,
    Template,
    id = "edu.example.template",
    name = "Template grader",
    version = "0.1.0",
    data_version = 1
);

fn grade_one(s: &Submission) -> Graded {
    let q = &s.question;
    let (status, fraction, why) = match (&q.key, &s.response) {
        (AnswerKey::TrueFalse(k), Some(Response::Boolean(b))) => {
            (Status::Graded, if k == b { 1.0 } else { 0.0 }, format!("expected {k}, got {b}"))
        }
        (_, None) => (Status::Graded, 0.0, "no response".to_owned()),
        _ => (Status::NeedsManualGrading, 0.0, "this template only grades true/false".to_owned()),
    };
    Graded {
        question_id: q.id.clone(),
        status,
        points: fraction * q.points,
        max_points: q.points,
        raw_fraction: fraction,
        feedback: vec![],
        explanation: vec![why],
    }
}

impl grader::Guest for Template {
    fn grade(ctx: Context, submissions: Vec<Submission>) -> Result<Vec<Graded>, Error> {
        let graded: Vec<Graded> = submissions.iter().map(grade_one).collect();
        let count: u64 = store::get("graded")?.unwrap_or(0);
        store::put("graded", &(count + graded.len() as u64))?;
        log::info(&format!("graded {} submissions for {}", graded.len(), ctx.institution));
        Ok(graded)
    }
}

lectern_sdk::v0_2::grading::export!(Template);

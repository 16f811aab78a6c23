//! Template grading plugin: grades true/false and single-choice questions,
//! routes everything else to manual grading, and counts what it graded per
//! institution. The same plugin as the Python and JavaScript templates,
//! passing the same `tests/cases.toml` (`lectern plugin test`).
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
        (_, None) => (Status::Graded, 0.0, "no response".to_owned()),
        (AnswerKey::TrueFalse(k), Some(Response::Boolean(b))) => {
            (Status::Graded, if k == b { 1.0 } else { 0.0 }, format!("expected {k}, got {b}"))
        }
        (AnswerKey::SingleChoice(k), Some(Response::Choices(chosen))) => {
            let right: Vec<&str> = k.options.iter().filter(|o| o.correct).map(|o| o.id.as_str()).collect();
            let hit = chosen.len() == 1 && right.first() == Some(&chosen[0].as_str());
            let got = if chosen.is_empty() { "nothing".to_owned() } else { chosen.join(", ") };
            (Status::Graded, if hit { 1.0 } else { 0.0 }, format!("expected {}, got {got}", right.join(", ")))
        }
        (AnswerKey::TrueFalse(_) | AnswerKey::SingleChoice(_), Some(_)) => {
            (Status::InvalidResponse, 0.0, "the response does not fit the question".to_owned())
        }
        _ => (Status::NeedsManualGrading, 0.0, "this plugin grades true/false and single choice only".to_owned()),
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
        if submissions.len() > 1000 {
            // An error the kernel reports, not a crash.
            return Err(Error::InvalidInput(format!("{} submissions in one batch; at most 1000", submissions.len())));
        }
        let graded: Vec<Graded> = submissions.iter().map(grade_one).collect();
        let count: u64 = store::get("graded")?.unwrap_or(0);
        store::put("graded", &(count + graded.len() as u64))?;
        log::info(&format!("graded {} submissions for {}", graded.len(), ctx.institution));
        Ok(graded)
    }
}

lectern_sdk::v0_2::grading::export!(Template);

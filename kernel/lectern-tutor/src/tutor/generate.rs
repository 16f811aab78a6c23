//! Generated answers: with an OpenAI-compatible chat endpoint configured,
//! the passages the plugin cited are given to the model with the question,
//! and the model answers from them alone, citing them as `[n]`. The prompt
//! tells it to say [`NOT_FOUND`] when the passages don't answer; the kernel
//! then declines instead of passing on an invented answer.

use lectern_embed::{ChatClient, ChatMessage};

use super::{TutorCitation, TutorTurn};
use crate::Tutor;
use crate::error::CoreError;

pub use lectern_embed::ChatConfig as ChatSettings;

/// What the tutor says when the material doesn't cover a question.
pub const NOT_FOUND: &str = "I don't find this in the course material.";

const SYSTEM: &str = "You are a course tutor. Answer the student's question using ONLY the numbered course passages \
given to you. Cite the passages you use as [1], [2] … right after the sentence that uses them. Be brief: at most \
four sentences. If the passages do not contain the answer, reply with exactly: I don't find this in the course \
material.";

pub(crate) enum Generated {
    Answer(String),
    NotFound,
}

fn messages(question: &str, history: &[TutorTurn], citations: &[TutorCitation]) -> Vec<ChatMessage> {
    let mut out = vec![ChatMessage { role: "system".into(), content: SYSTEM.into() }];
    for t in history.iter().rev().take(3).rev() {
        out.push(ChatMessage { role: "user".into(), content: t.question.clone() });
        out.push(ChatMessage { role: "assistant".into(), content: t.answer.clone() });
    }
    let passages: String =
        citations.iter().map(|c| format!("[{}] {} — {}\n{}\n\n", c.n, c.item_title, c.section, c.excerpt)).collect();
    out.push(ChatMessage {
        role: "user".into(),
        content: format!("Course passages:\n\n{passages}Question: {question}"),
    });
    out
}

/// Whether a reply is the model saying the passages don't answer.
fn is_not_found(reply: &str) -> bool {
    let r = reply.to_lowercase();
    r.contains("don't find this in the course material") || r.contains("do not find this in the course material")
}

pub(crate) async fn grounded_answer(
    cfg: &ChatSettings,
    question: &str,
    history: &[TutorTurn],
    citations: &[TutorCitation],
) -> Result<Generated, CoreError> {
    let msgs = messages(question, history, citations);
    let cfg = cfg.clone();
    let reply = Tutor::blocking(move || ChatClient::new(&cfg).and_then(|c| c.complete(&msgs)))
        .await?
        .map_err(|e| CoreError::Unavailable(format!("the tutor's generator: {e}")))?;
    if is_not_found(&reply) {
        return Ok(Generated::NotFound);
    }
    if !cites_only_given(&reply, citations.len()) {
        // Ungrounded or confused output (a base model continuing the prompt
        // cites passages it was never given): the quoted answer is safer.
        return Err(CoreError::Unavailable(
            "the generator's answer cites no given passage, or one it was not given".into(),
        ));
    }
    Ok(Generated::Answer(reply))
}

/// Whether `reply` cites at least one passage as `[n]` and only `1..=given`.
fn cites_only_given(reply: &str, given: usize) -> bool {
    let mut any = false;
    let mut rest = reply;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        if let Ok(n) = rest[..close].trim().parse::<usize>() {
            if n == 0 || n > given {
                return false;
            }
            any = true;
        }
        rest = &rest[close + 1..];
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_numbers_passages_and_keeps_recent_history() {
        let c = |n: u32| TutorCitation {
            n,
            item: format!("i{n}"),
            item_title: format!("Page {n}"),
            section: "ARP".into(),
            anchor: None,
            excerpt: format!("text {n}"),
            score: 0.1,
        };
        let turn = |q: &str| TutorTurn {
            id: q.into(),
            question: q.into(),
            answer: "a".into(),
            refusal: None,
            citations: vec![],
            generated: false,
            asked_at: 0,
        };
        let history: Vec<TutorTurn> = ["q1", "q2", "q3", "q4"].iter().map(|q| turn(q)).collect();
        let m = messages("What is ARP?", &history, &[c(1), c(2)]);
        assert_eq!(m.len(), 1 + 6 + 1);
        assert_eq!(m[1].content, "q2");
        let last = &m[7].content;
        assert!(last.contains("[1] Page 1 — ARP\ntext 1") && last.contains("[2] Page 2"), "{last}");
        assert!(last.ends_with("Question: What is ARP?"));
        assert!(cites_only_given("ARP maps addresses [1], cached [2].", 2));
        assert!(!cites_only_given("ARP maps addresses.", 2), "no citation");
        assert!(!cites_only_given("See [4] ARP — …", 3), "a passage it was not given");
        assert!(!cites_only_given("[0]", 3));
        assert!(cites_only_given("Per [ 1 ] and [note] [3]", 3));
        assert!(is_not_found("I don't find this in the course material."));
        assert!(!is_not_found("ARP maps addresses [1]."));
    }
}

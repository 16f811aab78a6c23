//! Conversions between the version-free slot types (`crate::slots`) and the
//! `lectern:plugin@0.2.0` bindings. What 0.2 has and the kernel does not use
//! yet is filled the only truthful way, and said here:
//!
//! - proctoring: the kernel's policy has one threshold, so `review-threshold`
//!   equals `flag-threshold`; it has no `auto-submit` action and weights by
//!   signal kind only. A flag's `student-reason` and `contribution` are not
//!   kept (the kernel stores 0.1's flag shape); its structured evidence is
//!   kept as one readable line per observation (UTC time, duration, batch). `act` is the kernel's `lock`.
//! - tutoring: `open-assessment` is whatever the kernel knows of the open
//!   attempt (`covers` is empty until instructors can say what an assessment covers).

use super::exports::lectern::plugin::{
    activity as wa, content as wc, grader as wg, lifecycle as wl, proctor as wp, question_type as wq, tutor as wt,
};
use super::lectern::plugin::types as wty;
use crate::slots::{self, content as c, grading as g, proctoring as p, tutoring as t};

impl From<&slots::CallContext> for wty::Context {
    fn from(x: &slots::CallContext) -> Self {
        wty::Context {
            institution: x.institution.clone(),
            user: x.user.clone(),
            course: x.course.clone(),
            item: x.item.clone(),
            roles: x.roles.clone(),
            locale: x.locale.clone(),
            request_id: x.request_id.clone(),
        }
    }
}

impl From<&slots::EventContext> for wty::EventContext {
    fn from(x: &slots::EventContext) -> Self {
        wty::EventContext {
            institution: x.institution.clone(),
            actor: x.actor.clone(),
            course: x.course.clone(),
            topic: x.topic.clone(),
            message_id: x.message_id.clone(),
            occurred_at_ms: x.occurred_at_ms,
            locale: x.locale.clone(),
        }
    }
}

super::super::shared::same_slot_types!();

fn item_kind(k: &c::ItemKind) -> wc::ItemKind {
    match k {
        c::ItemKind::Page => wc::ItemKind::Page,
        c::ItemKind::Video => wc::ItemKind::Video,
        c::ItemKind::File => wc::ItemKind::File,
        c::ItemKind::Link => wc::ItemKind::Link,
        c::ItemKind::Assessment => wc::ItemKind::Assessment,
        c::ItemKind::Activity(id) => wc::ItemKind::Activity(id.clone()),
    }
}

// ---- proctoring (changed in 0.2) ----

impl From<&p::Policy> for wp::Policy {
    fn from(x: &p::Policy) -> Self {
        wp::Policy {
            weights: x
                .weights
                .iter()
                .map(|(k, w)| wp::Weight { target: wp::WeightTarget::Kind(kind_to(*k)), weight: *w })
                .collect(),
            review_threshold: x.flag_threshold,
            flag_threshold: x.flag_threshold,
            heartbeat_interval_ms: x.heartbeat_interval_ms,
            allow_copy_paste: x.allow_copy_paste,
            action: match x.action {
                p::Action::RecordOnly => wp::Action::RecordOnly,
                p::Action::FlagForReview => wp::Action::FlagForReview,
                p::Action::LockAttempt => wp::Action::LockAttempt,
            },
        }
    }
}

impl From<&p::Batch> for wp::Batch {
    fn from(b: &p::Batch) -> Self {
        wp::Batch {
            seq: b.seq,
            received_at_ms: b.received_at_ms,
            client: wp::Client {
                network: b.client.network.clone(),
                user_agent_hash: b.client.user_agent_hash.clone(),
                session: b.client.session.clone(),
            },
            signals: b.signals.iter().map(Into::into).collect(),
        }
    }
}

/// A time (ms since the Unix epoch) as reviewers read it: `2026-12-01 09:01:00 UTC`.
fn utc(ms: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(ms / 1000)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// A duration as reviewers read it: `850 ms`, `30 s`, `5 min 40 s`, `2 h 5 min`.
fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..60 => format!("{s} s"),
        60..3600 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The WIT name of a 0.2 signal kind, for evidence kept as text.
fn kind_name(k: wp::SignalKind) -> &'static str {
    use wp::SignalKind as S;
    match k {
        S::FocusLost => "focus-lost",
        S::FocusRegained => "focus-regained",
        S::VisibilityHidden => "visibility-hidden",
        S::VisibilityVisible => "visibility-visible",
        S::Copy => "copy",
        S::Paste => "paste",
        S::ContextMenu => "context-menu",
        S::FullscreenExit => "fullscreen-exit",
        S::IpChanged => "ip-changed",
        S::DeviceChanged => "device-changed",
        S::Heartbeat => "heartbeat",
        S::ConcurrentSession => "concurrent-session",
        S::DevtoolsOpened => "devtools-opened",
        S::AnswerBurst => "answer-burst",
        S::PasteIntoAnswer => "paste-into-answer",
    }
}

/// `paste at 2026-12-01 09:01:00 UTC for 5 min 40 s (batch 3): detail`
/// (the batch is left out for the plugin's own conclusions, batch 0).
fn evidence_line(e: &wp::Evidence) -> String {
    let mut line = format!("{} at {}", kind_name(e.kind), utc(e.at_ms));
    if let Some(d) = e.duration_ms {
        line.push_str(&format!(" for {}", duration(d)));
    }
    if e.seq > 0 {
        line.push_str(&format!(" (batch {})", e.seq));
    }
    if let Some(detail) = &e.detail {
        line.push_str(": ");
        line.push_str(detail);
    }
    line
}

impl From<wp::Assessment> for p::Assessment {
    fn from(a: wp::Assessment) -> Self {
        p::Assessment {
            risk_score: a.risk_score,
            flags: a
                .flags
                .into_iter()
                .map(|f| p::Flag {
                    id: f.id,
                    severity: match f.severity {
                        wp::Severity::Low => p::Severity::Low,
                        wp::Severity::Medium => p::Severity::Medium,
                        wp::Severity::High => p::Severity::High,
                    },
                    reason: f.reason,
                    evidence: f.evidence.iter().map(evidence_line).collect(),
                    at_ms: f.at_ms,
                })
                .collect(),
            explanation: a.explanation,
            lock: a.act,
        }
    }
}

// ---- tutoring (changed in 0.2) ----

impl From<&t::Question> for wt::Question {
    fn from(q: &t::Question) -> Self {
        wt::Question {
            text: q.text.clone(),
            course: q.course.clone(),
            history: q
                .history
                .iter()
                .map(|h| wt::Turn { question: h.question.clone(), answer: h.answer.clone() })
                .collect(),
            open_assessment: q.open_assessment.as_ref().map(|a| wt::OpenAssessment {
                id: a.id.clone(),
                title: a.title.clone(),
                proctored: a.proctored,
                covers: a.covers.clone(),
            }),
        }
    }
}

impl From<wt::Answer> for t::Answer {
    fn from(a: wt::Answer) -> Self {
        t::Answer {
            text: a.text,
            citations: a
                .citations
                .into_iter()
                .map(|c| t::Citation {
                    document_id: c.document_id,
                    item: c.item,
                    title: c.title,
                    excerpt: c.excerpt,
                    score: c.score,
                    heading: c.heading,
                    anchor: c.anchor,
                })
                .collect(),
            refusal: a.refusal,
        }
    }
}

// ---- question types (new in 0.2) ----

impl From<wq::TypeInfo> for slots::question::TypeInfo {
    fn from(x: wq::TypeInfo) -> Self {
        slots::question::TypeInfo {
            id: x.id,
            name: x.name,
            description: x.description,
            settings_schema: x.settings_schema,
            response_schema: x.response_schema,
        }
    }
}

impl From<&slots::question::Question> for wq::Question {
    fn from(x: &slots::question::Question) -> Self {
        wq::Question { id: x.id.clone(), type_id: x.type_id.clone(), settings: x.settings.clone(), points: x.points }
    }
}

impl From<wty::View> for slots::View {
    fn from(x: wty::View) -> Self {
        slots::View { html: x.html, assets: x.assets }
    }
}

impl From<wq::Instance> for slots::question::Instance {
    fn from(x: wq::Instance) -> Self {
        slots::question::Instance { data: x.data, view: x.view.into() }
    }
}

impl From<&slots::question::ToGrade> for wq::ToGrade {
    fn from(x: &slots::question::ToGrade) -> Self {
        wq::ToGrade { question: (&x.question).into(), instance: x.instance.clone(), response: x.response.clone() }
    }
}

impl From<wq::Graded> for slots::question::Graded {
    fn from(x: wq::Graded) -> Self {
        slots::question::Graded {
            question_id: x.question_id,
            status: match x.status {
                wq::Status::Graded => g::Status::Graded,
                wq::Status::NeedsManualGrading => g::Status::NeedsManualGrading,
                wq::Status::InvalidResponse => g::Status::InvalidResponse,
            },
            fraction: x.fraction,
            feedback: x.feedback.into_iter().map(|f| g::Feedback { target: f.target, message: f.message }).collect(),
            explanation: x.explanation,
        }
    }
}

// ---- activities (new in 0.2) ----

impl From<wa::ActivityKind> for slots::activity::Kind {
    fn from(x: wa::ActivityKind) -> Self {
        slots::activity::Kind {
            id: x.id,
            name: x.name,
            description: x.description,
            settings_schema: x.settings_schema,
            graded: x.graded,
        }
    }
}

impl From<&slots::activity::Item> for wa::Item {
    fn from(x: &slots::activity::Item) -> Self {
        wa::Item {
            id: x.id.clone(),
            kind: x.kind.clone(),
            title: x.title.clone(),
            settings: x.settings.clone(),
            settings_revision: x.settings_revision,
        }
    }
}

impl From<&slots::activity::LearnerState> for wa::LearnerState {
    fn from(x: &slots::activity::LearnerState) -> Self {
        wa::LearnerState { data: x.data.clone(), version: x.version }
    }
}

impl From<&slots::activity::Action> for wa::Action {
    fn from(x: &slots::activity::Action) -> Self {
        wa::Action { name: x.name.clone(), payload: x.payload.clone() }
    }
}

impl From<wa::Outcome> for slots::activity::Outcome {
    fn from(x: wa::Outcome) -> Self {
        slots::activity::Outcome { state: x.state, view: x.view.map(Into::into), message: x.message }
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, utc};

    #[test]
    fn evidence_times_read_as_people_write_them() {
        assert_eq!(utc(1_796_115_660_000), "2026-12-01 09:01:00 UTC");
        assert_eq!(
            [850, 30_000, 60_000, 340_000, 3_600_000, 7_500_000].map(duration),
            ["850 ms", "30 s", "1 min", "5 min 40 s", "1 h", "2 h 5 min"]
        );
    }
}

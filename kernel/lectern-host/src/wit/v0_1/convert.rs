//! Conversions between the version-free slot types (`crate::slots`) and the
//! `lectern:plugin@0.1.0` bindings. Mechanical by design: a later version gets
//! its own conversions in its own module, and the kernel above never changes.

use super::exports::lectern::plugin::{content as wc, grader as wg, lifecycle as wl, proctor as wp, tutor as wt};
use super::lectern::plugin::types as wty;
use crate::slots::{self, content as c, grading as g, proctoring as p, tutoring as t};

impl From<&slots::CallContext> for wty::Context {
    fn from(x: &slots::CallContext) -> Self {
        wty::Context {
            institution: x.institution.clone(),
            user: x.user.clone(),
            course: x.course.clone(),
            roles: x.roles.clone(),
            locale: x.locale.clone(),
            request_id: x.request_id.clone(),
        }
    }
}

super::super::shared::same_slot_types!();

/// 0.1's `item-kind` has no activity case: a 0.1 content plugin sees an
/// activity item as a `link` (opaque, no body it could read), which keeps
/// release dates, prerequisites and completion working for it.
fn item_kind(k: &c::ItemKind) -> wc::ItemKind {
    match k {
        c::ItemKind::Page => wc::ItemKind::Page,
        c::ItemKind::Video => wc::ItemKind::Video,
        c::ItemKind::File => wc::ItemKind::File,
        c::ItemKind::Link | c::ItemKind::Activity(_) => wc::ItemKind::Link,
        c::ItemKind::Assessment => wc::ItemKind::Assessment,
    }
}

impl From<&p::Policy> for wp::Policy {
    fn from(x: &p::Policy) -> Self {
        wp::Policy {
            weights: x.weights.iter().map(|(k, w)| wp::Weight { kind: kind_to(*k), weight: *w }).collect(),
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
                    evidence: f.evidence,
                    at_ms: f.at_ms,
                })
                .collect(),
            explanation: a.explanation,
            lock: a.lock,
        }
    }
}

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
            // The kernel pauses the tutor in any open assessment; 0.1's flag has always meant that.
            in_proctored_attempt: q.open_assessment.is_some(),
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
                    heading: None,
                    anchor: None,
                })
                .collect(),
            refusal: a.refusal,
        }
    }
}

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

impl From<wty::Error> for slots::GuestError {
    fn from(e: wty::Error) -> Self {
        use slots::GuestError as G;
        match e {
            wty::Error::InvalidInput(m) => G::InvalidInput(m),
            wty::Error::NotFound(m) => G::NotFound(m),
            wty::Error::Denied(m) => G::Denied(m),
            wty::Error::Conflict(m) => G::Conflict(m),
            wty::Error::QuotaExceeded(m) => G::QuotaExceeded(m),
            wty::Error::Unavailable(m) => G::Unavailable(m),
            wty::Error::Internal(m) => G::Internal(m),
        }
    }
}

impl From<wl::PluginInfo> for slots::PluginInfo {
    fn from(i: wl::PluginInfo) -> Self {
        slots::PluginInfo { id: i.id, name: i.name, version: i.version, data_version: i.data_version }
    }
}

// ---- grading ----

fn choice_key(k: &g::ChoiceKey) -> wg::ChoiceKey {
    wg::ChoiceKey {
        options: k
            .options
            .iter()
            .map(|o| wg::ChoiceOption {
                id: o.id.clone(),
                correct: o.correct,
                weight: o.weight,
                feedback: o.feedback.clone(),
            })
            .collect(),
        rule: match k.rule {
            g::MultiRule::AllOrNothing => wg::MultiRule::AllOrNothing,
            g::MultiRule::RightMinusWrong => wg::MultiRule::RightMinusWrong,
            g::MultiRule::PerOptionWeights => wg::MultiRule::PerOptionWeights,
        },
    }
}

fn text_key(k: &g::TextKey) -> wg::TextKey {
    wg::TextKey {
        alternatives: k
            .alternatives
            .iter()
            .map(|a| wg::TextAlternative {
                pattern: a.pattern.clone(),
                regex: a.regex,
                credit: a.credit,
                feedback: a.feedback.clone(),
            })
            .collect(),
        case_sensitive: k.case_sensitive,
        normalize_whitespace: k.normalize_whitespace,
    }
}

fn pairs(v: &[g::Pair]) -> Vec<wg::Pair> {
    v.iter().map(|x| wg::Pair { left: x.left.clone(), right: x.right.clone() }).collect()
}

impl From<&g::Submission> for wg::Submission {
    fn from(s: &g::Submission) -> Self {
        let key = match &s.question.key {
            g::AnswerKey::SingleChoice(k) => wg::AnswerKey::SingleChoice(choice_key(k)),
            g::AnswerKey::MultipleChoice(k) => wg::AnswerKey::MultipleChoice(choice_key(k)),
            g::AnswerKey::TrueFalse(b) => wg::AnswerKey::TrueFalse(*b),
            g::AnswerKey::Numeric(k) => wg::AnswerKey::Numeric(wg::NumericKey {
                value: k.value,
                absolute_tolerance: k.absolute_tolerance,
                relative_tolerance: k.relative_tolerance,
                units: k.units.iter().map(|u| wg::Unit { name: u.name.clone(), factor: u.factor }).collect(),
                unit_missing_credit: k.unit_missing_credit,
            }),
            g::AnswerKey::ShortAnswer(k) => wg::AnswerKey::ShortAnswer(text_key(k)),
            g::AnswerKey::Matching(v) => wg::AnswerKey::Matching(pairs(v)),
            g::AnswerKey::Ordering(v) => wg::AnswerKey::Ordering(v.clone()),
            g::AnswerKey::FillBlanks(v) => wg::AnswerKey::FillBlanks(v.iter().map(text_key).collect()),
            g::AnswerKey::Essay(v) => wg::AnswerKey::Essay(
                v.iter()
                    .map(|r| wg::RubricCriterion {
                        id: r.id.clone(),
                        description: r.description.clone(),
                        points: r.points,
                    })
                    .collect(),
            ),
        };
        let response = s.response.as_ref().map(|r| match r {
            g::Response::Choices(v) => wg::Response::Choices(v.clone()),
            g::Response::Boolean(b) => wg::Response::Boolean(*b),
            g::Response::Number { value, unit } => {
                wg::Response::Number(wg::NumericResponse { value: *value, unit: unit.clone() })
            }
            g::Response::Text(x) => wg::Response::Text(x.clone()),
            g::Response::Pairs(v) => wg::Response::Pairs(pairs(v)),
            g::Response::Sequence(v) => wg::Response::Sequence(v.clone()),
            g::Response::Blanks(v) => wg::Response::Blanks(v.clone()),
            g::Response::Essay(x) => wg::Response::Essay(x.clone()),
        });
        let pe = &s.penalties;
        wg::Submission {
            question: wg::Question { id: s.question.id.clone(), key, points: s.question.points },
            response,
            penalties: wg::Penalties {
                previous_tries: pe.previous_tries,
                per_try: pe.per_try,
                hints_used: pe.hints_used,
                per_hint: pe.per_hint,
                late_seconds: pe.late_seconds,
                per_late_day: pe.per_late_day,
                max_total: pe.max_total,
            },
        }
    }
}

impl From<wg::Graded> for g::Graded {
    fn from(x: wg::Graded) -> Self {
        g::Graded {
            question_id: x.question_id,
            status: match x.status {
                wg::Status::Graded => g::Status::Graded,
                wg::Status::NeedsManualGrading => g::Status::NeedsManualGrading,
                wg::Status::InvalidResponse => g::Status::InvalidResponse,
            },
            points: x.points,
            max_points: x.max_points,
            raw_fraction: x.raw_fraction,
            feedback: x.feedback.into_iter().map(|f| g::Feedback { target: f.target, message: f.message }).collect(),
            explanation: x.explanation,
        }
    }
}

// ---- proctoring ----

fn kind_to(k: p::SignalKind) -> wp::SignalKind {
    use p::SignalKind as S;
    match k {
        S::FocusLost => wp::SignalKind::FocusLost,
        S::FocusRegained => wp::SignalKind::FocusRegained,
        S::VisibilityHidden => wp::SignalKind::VisibilityHidden,
        S::VisibilityVisible => wp::SignalKind::VisibilityVisible,
        S::Copy => wp::SignalKind::Copy,
        S::Paste => wp::SignalKind::Paste,
        S::ContextMenu => wp::SignalKind::ContextMenu,
        S::FullscreenExit => wp::SignalKind::FullscreenExit,
        S::IpChanged => wp::SignalKind::IpChanged,
        S::DeviceChanged => wp::SignalKind::DeviceChanged,
        S::Heartbeat => wp::SignalKind::Heartbeat,
        S::ConcurrentSession => wp::SignalKind::ConcurrentSession,
        S::DevtoolsOpened => wp::SignalKind::DevtoolsOpened,
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

impl From<&p::Signal> for wp::Signal {
    fn from(s: &p::Signal) -> Self {
        wp::Signal { kind: kind_to(s.kind), at_ms: s.at_ms, duration_ms: s.duration_ms, detail: s.detail.clone() }
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

// ---- content ----

impl From<&c::Module> for wc::Module {
    fn from(m: &c::Module) -> Self {
        wc::Module {
            id: m.id.clone(),
            title: m.title.clone(),
            release_at_ms: m.release_at_ms,
            items: m
                .items
                .iter()
                .map(|i| wc::Item {
                    id: i.id.clone(),
                    kind: match i.kind {
                        c::ItemKind::Page => wc::ItemKind::Page,
                        c::ItemKind::Video => wc::ItemKind::Video,
                        c::ItemKind::File => wc::ItemKind::File,
                        c::ItemKind::Link => wc::ItemKind::Link,
                        c::ItemKind::Assessment => wc::ItemKind::Assessment,
                    },
                    title: i.title.clone(),
                    prerequisites: i
                        .prerequisites
                        .iter()
                        .map(|p| match p {
                            c::Prerequisite::Completed(id) => wc::Prerequisite::Completed(id.clone()),
                            c::Prerequisite::ScoredAtLeast(id, s) => wc::Prerequisite::ScoredAtLeast((id.clone(), *s)),
                        })
                        .collect(),
                    release_at_ms: i.release_at_ms,
                    completion: match i.completion {
                        c::CompletionRule::Viewed => wc::CompletionRule::Viewed,
                        c::CompletionRule::Manual => wc::CompletionRule::Manual,
                        c::CompletionRule::MinScore(s) => wc::CompletionRule::MinScore(s),
                    },
                })
                .collect(),
        }
    }
}

impl From<&c::Progress> for wc::Progress {
    fn from(p: &c::Progress) -> Self {
        wc::Progress { item_id: p.item_id.clone(), completed: p.completed, score: p.score }
    }
}

impl From<wc::RenderedPage> for c::RenderedPage {
    fn from(r: wc::RenderedPage) -> Self {
        c::RenderedPage {
            html: r.html,
            toc: r.toc.into_iter().map(|h| c::Heading { level: h.level, text: h.text, anchor: h.anchor }).collect(),
            words: r.words,
            reading_minutes: r.reading_minutes,
            text: r.text,
        }
    }
}

impl From<wc::Visibility> for c::Visibility {
    fn from(v: wc::Visibility) -> Self {
        c::Visibility { item_id: v.item_id, visible: v.visible, locked: v.locked, reason: v.reason }
    }
}

// ---- tutoring ----

impl From<&t::Document> for wt::Document {
    fn from(d: &t::Document) -> Self {
        wt::Document {
            id: d.id.clone(),
            course: d.course.clone(),
            item: d.item.clone(),
            title: d.title.clone(),
            text: d.text.clone(),
            language: d.language.clone(),
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
            in_proctored_attempt: q.in_proctored_attempt,
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
                })
                .collect(),
            refusal: a.refusal,
        }
    }
}

//! What the contract versions have in common, written once: each version's
//! module invokes these macros with its generated modules in scope under the
//! same short names (`wty` types, `wl` lifecycle, `wg` grader, `wp` proctor,
//! `wc` content, `wt` tutor; `svc` its imported interfaces). A type that
//! changed between versions is converted in the version's own module.

/// Conversions of the slot types that are the same in every version: errors,
/// plugin info, all of grading, content, tutoring's documents, proctoring's
/// signals. Needs `crate::slots::{self, content as c, grading as g,
/// proctoring as p, tutoring as t}` in scope, and the version's
/// `item_kind(&c::ItemKind) -> wc::ItemKind`.
macro_rules! same_slot_types {
    () => {
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
                    // Never sent: the kernel grades a plugin's question type through
                    // that plugin. Were one sent, an essay without a rubric asks a person.
                    g::AnswerKey::Plugin(_) => wg::AnswerKey::Essay(vec![]),
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
                    g::Response::Fields(x) => wg::Response::Essay(x.clone()),
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
                    feedback: x
                        .feedback
                        .into_iter()
                        .map(|f| g::Feedback { target: f.target, message: f.message })
                        .collect(),
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

        impl From<&p::Signal> for wp::Signal {
            fn from(s: &p::Signal) -> Self {
                wp::Signal {
                    kind: kind_to(s.kind),
                    at_ms: s.at_ms,
                    duration_ms: s.duration_ms,
                    detail: s.detail.clone(),
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
                            kind: item_kind(&i.kind),
                            title: i.title.clone(),
                            prerequisites: i
                                .prerequisites
                                .iter()
                                .map(|p| match p {
                                    c::Prerequisite::Completed(id) => wc::Prerequisite::Completed(id.clone()),
                                    c::Prerequisite::ScoredAtLeast(id, s) => {
                                        wc::Prerequisite::ScoredAtLeast((id.clone(), *s))
                                    }
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
                    toc: r
                        .toc
                        .into_iter()
                        .map(|h| c::Heading { level: h.level, text: h.text, anchor: h.anchor })
                        .collect(),
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
    };
}

/// The kernel services whose WIT did not change (`kv`, `events`, `log`,
/// `clock`, `embed`): each `Host` trait converts and delegates to
/// `crate::services`. Needs `svc` (the version's `lectern::plugin` imports)
/// and `s` (`crate::services`) in scope, and the helper functions `fields`.
macro_rules! same_services {
    () => {
        impl From<ServiceError> for types::Error {
            fn from(e: ServiceError) -> Self {
                match e {
                    ServiceError::InvalidInput(m) => types::Error::InvalidInput(m),
                    ServiceError::NotFound(m) => types::Error::NotFound(m),
                    ServiceError::Denied(m) => types::Error::Denied(m),
                    ServiceError::Conflict(m) => types::Error::Conflict(m),
                    ServiceError::QuotaExceeded(m) => types::Error::QuotaExceeded(m),
                    ServiceError::Unavailable(m) => types::Error::Unavailable(m),
                }
            }
        }

        fn field(f: types::Field) -> s::Field {
            s::Field { key: f.key, value: f.value }
        }

        fn fields(v: Vec<types::Field>) -> Vec<s::Field> {
            v.into_iter().map(field).collect()
        }

        fn wit_fields(v: Vec<s::Field>) -> Vec<types::Field> {
            v.into_iter().map(|f| types::Field { key: f.key, value: f.value }).collect()
        }

        impl types::Host for PluginState {}

        impl kv::Host for PluginState {
            fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, types::Error> {
                Ok(self.kv_get(&key)?)
            }

            fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), types::Error> {
                Ok(self.kv_set(&key, &value)?)
            }

            fn delete(&mut self, key: String) -> Result<bool, types::Error> {
                Ok(self.kv_delete(&key)?)
            }

            fn list_keys(
                &mut self,
                prefix: String,
                after: Option<String>,
                limit: u32,
            ) -> Result<Vec<String>, types::Error> {
                Ok(self.kv_list_keys(&prefix, after.as_deref(), limit)?)
            }

            fn compare_and_swap(
                &mut self,
                key: String,
                expected: Option<Vec<u8>>,
                new: Option<Vec<u8>>,
            ) -> Result<bool, types::Error> {
                Ok(self.kv_compare_and_swap(&key, expected.as_deref(), new.as_deref())?)
            }
        }

        impl events::Host for PluginState {
            fn publish(&mut self, topic: String, key: String, payload: Vec<u8>) -> Result<(), types::Error> {
                Ok(self.events_publish(topic, key, payload)?)
            }
        }

        impl log::Host for PluginState {
            fn log(&mut self, level: log::Level, message: String, fields: Vec<types::Field>) {
                let level = match level {
                    log::Level::Trace => s::LogLevel::Trace,
                    log::Level::Debug => s::LogLevel::Debug,
                    log::Level::Info => s::LogLevel::Info,
                    log::Level::Warn => s::LogLevel::Warn,
                    log::Level::Error => s::LogLevel::Error,
                };
                self.log_message(level, &message, &self::fields(fields));
            }
        }

        impl clock::Host for PluginState {
            fn now_ms(&mut self) -> u64 {
                self.clock_now_ms()
            }
        }

        impl embed::Host for PluginState {
            fn model(&mut self) -> String {
                self.embed_model()
            }

            fn dimension(&mut self) -> u32 {
                self.embed_dimension()
            }

            fn embed(&mut self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, types::Error> {
                Ok(self.embed_texts(&texts)?)
            }
        }
    };
}

/// Everything a version's module has that does not depend on what changed:
/// linking the granted services, looking up the exports, and the
/// [`PluginExports`](super::PluginExports) methods whose WIT did not change.
/// The version passes the methods that did (`on_event`, `proctor_ingest`,
/// `proctor_close`) as the macro's input. Needs the version's `svc`, `wl`,
/// `wg`, `wp`, `wc`, `wt` and the host's types in scope (see `v0_1/mod.rs`).
macro_rules! slot_exports {
    // `extensions { Variant(module) = Slot::X, … }`: the extension worlds this
    // version adds that export an interface besides `lifecycle` (their
    // `GuestIndices` live in `SlotExports::Variant`); then the version's own
    // `PluginExports` methods.
    (extensions { $($var:ident($module:ident) = $slot:path),* $(,)? } $($changed:tt)*) => {
        /// Adds `types` and `log` (always) and each granted service. A service that
        /// is not granted is not linked: a component importing it cannot instantiate.
        pub(crate) fn add_to_linker(l: &mut Linker<PluginState>, grants: &Capabilities) -> wasmtime::Result<()> {
            svc::types::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            svc::log::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            if grants.grants(Service::Kv) {
                svc::kv::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            }
            if grants.grants(Service::Events) {
                svc::events::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            }
            if grants.grants(Service::Clock) {
                svc::clock::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            }
            if grants.grants(Service::Vector) {
                svc::vector::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            }
            if grants.grants(Service::Embed) {
                svc::embed::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
            }
            Ok(())
        }

        enum SlotExports {
            Grader(wg::GuestIndices),
            Proctor(wp::GuestIndices),
            Content(wc::GuestIndices),
            Tutor(wt::GuestIndices),
            /// An extension world that exports `lifecycle` only (an observer).
            LifecycleOnly,
            $($var($module::GuestIndices),)*
        }

        /// A component's `lifecycle` and slot exports, looked up once per loaded
        /// version. The generated lookups ask for `…@X.Y.0`; wasmtime's
        /// semver-compatible export lookup finds `…@X.Y.z`.
        pub(crate) struct Exports {
            lifecycle: wl::GuestIndices,
            slot: SlotExports,
        }

        impl Exports {
            pub(crate) fn new(pre: &InstancePre<PluginState>, slot: Slot) -> wasmtime::Result<Exports> {
                Ok(Exports {
                    lifecycle: wl::GuestIndices::new(pre)?,
                    slot: match slot {
                        Slot::Grading => SlotExports::Grader(wg::GuestIndices::new(pre)?),
                        Slot::Proctoring => SlotExports::Proctor(wp::GuestIndices::new(pre)?),
                        Slot::Content => SlotExports::Content(wc::GuestIndices::new(pre)?),
                        Slot::Tutoring => SlotExports::Tutor(wt::GuestIndices::new(pre)?),
                        Slot::Observer => SlotExports::LifecycleOnly,
                        $($slot => SlotExports::$var($module::GuestIndices::new(pre)?),)*
                        #[allow(unreachable_patterns)]
                        // The install check (`Api::introducing`) keeps these from older versions.
                        other => return Err(wasmtime::format_err!("this contract version has no {other} world")),
                    },
                })
            }

            fn grader(&self) -> wasmtime::Result<&wg::GuestIndices> {
                match &self.slot {
                    SlotExports::Grader(i) => Ok(i),
                    _ => Err(wasmtime::format_err!("not a grading plugin")),
                }
            }

            fn proctor(&self) -> wasmtime::Result<&wp::GuestIndices> {
                match &self.slot {
                    SlotExports::Proctor(i) => Ok(i),
                    _ => Err(wasmtime::format_err!("not a proctoring plugin")),
                }
            }

            fn content(&self) -> wasmtime::Result<&wc::GuestIndices> {
                match &self.slot {
                    SlotExports::Content(i) => Ok(i),
                    _ => Err(wasmtime::format_err!("not a content plugin")),
                }
            }

            fn tutor(&self) -> wasmtime::Result<&wt::GuestIndices> {
                match &self.slot {
                    SlotExports::Tutor(i) => Ok(i),
                    _ => Err(wasmtime::format_err!("not a tutoring plugin")),
                }
            }
        }

        /// The plugin's own error in version-free form; faults pass through.
        fn guest<R, T>(r: wasmtime::Result<Result<R, svc::types::Error>>, f: impl FnOnce(R) -> T) -> Call<T> {
            r.map(|r| r.map(f).map_err(GuestError::from))
        }


        impl PluginExports for Exports {
            fn info(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance) -> wasmtime::Result<PluginInfo> {
                let g = self.lifecycle.load(&mut *store, inst)?;
                g.call_info(&mut *store).map(Into::into)
            }

            fn init(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance) -> Call<()> {
                let g = self.lifecycle.load(&mut *store, inst)?;
                guest(g.call_init(&mut *store), |r| r)
            }

            fn migrate(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance, from: u32) -> Call<()> {
                let g = self.lifecycle.load(&mut *store, inst)?;
                guest(g.call_migrate(&mut *store, from), |r| r)
            }

            fn grade(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                submissions: &[slots::grading::Submission],
            ) -> Call<Vec<slots::grading::Graded>> {
                let (wctx, subs) = (svc::types::Context::from(ctx), submissions.iter().map(Into::into).collect::<Vec<_>>());
                let g = self.grader()?.load(&mut *store, inst)?;
                guest(g.call_grade(&mut *store, &wctx, &subs), |out| out.into_iter().map(Into::into).collect())
            }

            fn grade_timed(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                submissions: &[slots::grading::Submission],
                repeat: usize,
                before_each: &mut dyn FnMut(&mut wasmtime::Store<PluginState>),
            ) -> Call<Vec<std::time::Duration>> {
                let (wctx, subs) = (svc::types::Context::from(ctx), submissions.iter().map(Into::into).collect::<Vec<_>>());
                let g = self.grader()?.load(&mut *store, inst)?;
                let mut out = Vec::with_capacity(repeat);
                for _ in 0..repeat {
                    before_each(store);
                    let t = std::time::Instant::now();
                    if let Err(e) = g.call_grade(&mut *store, &wctx, &subs)? {
                        return Ok(Err(e.into()));
                    }
                    out.push(t.elapsed());
                }
                Ok(Ok(out))
            }

            fn proctor_open(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                attempt: &str,
                policy: &slots::proctoring::Policy,
                started_at_ms: u64,
            ) -> Call<()> {
                let (wctx, wpol) = (svc::types::Context::from(ctx), wp::Policy::from(policy));
                let g = self.proctor()?.load(&mut *store, inst)?;
                guest(g.call_open_session(&mut *store, &wctx, attempt, &wpol, started_at_ms), |r| r)
            }

            fn render_markdown(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                source: &str,
            ) -> Call<slots::content::RenderedPage> {
                let wctx = svc::types::Context::from(ctx);
                let g = self.content()?.load(&mut *store, inst)?;
                guest(g.call_render_markdown(&mut *store, &wctx, source), Into::into)
            }

            fn item_visibility(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                modules: &[slots::content::Module],
                progress: &[slots::content::Progress],
                now_ms: u64,
            ) -> Call<Vec<slots::content::Visibility>> {
                let wctx = svc::types::Context::from(ctx);
                let ms: Vec<wc::Module> = modules.iter().map(Into::into).collect();
                let ps: Vec<wc::Progress> = progress.iter().map(Into::into).collect();
                let g = self.content()?.load(&mut *store, inst)?;
                guest(g.call_item_visibility(&mut *store, &wctx, &ms, &ps, now_ms), |v| v.into_iter().map(Into::into).collect())
            }

            fn tutor_index(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                doc: &slots::tutoring::Document,
            ) -> Call<u32> {
                let (wctx, wdoc) = (svc::types::Context::from(ctx), wt::Document::from(doc));
                let g = self.tutor()?.load(&mut *store, inst)?;
                guest(g.call_index_document(&mut *store, &wctx, &wdoc), |n| n)
            }

            fn tutor_remove(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                id: &str,
            ) -> Call<()> {
                let wctx = svc::types::Context::from(ctx);
                let g = self.tutor()?.load(&mut *store, inst)?;
                guest(g.call_remove_document(&mut *store, &wctx, id), |r| r)
            }

            fn tutor_ask(
                &self,
                store: &mut wasmtime::Store<PluginState>,
                inst: &Instance,
                ctx: &CallContext,
                question: &slots::tutoring::Question,
            ) -> Call<slots::tutoring::Answer> {
                let (wctx, wq) = (svc::types::Context::from(ctx), wt::Question::from(question));
                let g = self.tutor()?.load(&mut *store, inst)?;
                guest(g.call_ask(&mut *store, &wctx, &wq), Into::into)
            }

            $($changed)*
        }
    };
}

/// `vector`'s functions that every version has (`ensure-collection`,
/// `upsert`, `delete`, `query`); a version passes the ones it adds.
macro_rules! vector_service {
    ($($added:tt)*) => {
        impl vector::Host for PluginState {
            fn ensure_collection(&mut self, spec: vector::CollectionSpec) -> Result<(), types::Error> {
                let distance = match spec.distance {
                    vector::Distance::Cosine => s::Distance::Cosine,
                    vector::Distance::Dot => s::Distance::Dot,
                    vector::Distance::Euclidean => s::Distance::Euclidean,
                };
                Ok(self.vector_ensure_collection(s::CollectionSpec { name: spec.name, dimension: spec.dimension, distance })?)
            }

            fn upsert(&mut self, collection: String, points: Vec<vector::Point>) -> Result<(), types::Error> {
                let points =
                    points.into_iter().map(|p| s::Point { id: p.id, vector: p.vector, metadata: fields(p.metadata) }).collect();
                Ok(self.vector_upsert(&collection, points)?)
            }

            fn delete(&mut self, collection: String, ids: Vec<String>) -> Result<(), types::Error> {
                Ok(self.vector_delete(&collection, &ids)?)
            }

            fn query(
                &mut self,
                collection: String,
                vector: Vec<f32>,
                k: u32,
                filter: Option<vector::Filter>,
            ) -> Result<Vec<vector::Hit>, types::Error> {
                let hits = self.vector_query(&collection, &vector, k, filter.map(|f| fields(f.must)))?;
                Ok(hits
                    .into_iter()
                    .map(|h| vector::Hit { id: h.id, score: h.score, metadata: wit_fields(h.metadata) })
                    .collect())
            }

            $($added)*
        }
    };
}

pub(crate) use {same_services, same_slot_types, slot_exports, vector_service};

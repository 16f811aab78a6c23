//! `lectern:plugin@0.2.0`: the generated bindings, and everything that knows
//! them. Serves components built against any 0.2.x (see `super`'s docs).
//!
//! This host serves 0.2's four slot worlds (grading, proctoring, content,
//! tutoring) and the three worlds 0.2 adds: observer (lifecycle only, with
//! `settings` and `wasi:http`), question type, and activity (with
//! `settings` and `gradebook`, whose effects the host collects during `act`
//! for the kernel to apply: `crate::services::gradebook`).
//!
//! - `services.rs`: the generated `Host` traits, each converting and
//!   delegating to the version-free `crate::services`.
//! - `convert.rs`: the generated slot types to and from `crate::slots`.
//! - here: the `bindgen!`, linking the granted services, and the
//!   [`PluginExports`] impl that calls a component's exports.

mod convert;
mod services;

use wasmtime::component::{HasSelf, Instance, InstancePre, Linker};

use super::{Call, PluginExports};
use crate::manifest::{Capabilities, Service, Slot};
use crate::slots::{self, CallContext, GuestError, PluginInfo};
use crate::state::PluginState;

wasmtime::component::bindgen!({
    path: "../../wit/lectern-plugin@0.2.0",
    interfaces: "
        import lectern:plugin/kv@0.2.0;
        import lectern:plugin/events@0.2.0;
        import lectern:plugin/log@0.2.0;
        import lectern:plugin/clock@0.2.0;
        import lectern:plugin/vector@0.2.0;
        import lectern:plugin/embed@0.2.0;
        import lectern:plugin/settings@0.2.0;
        import lectern:plugin/gradebook@0.2.0;
        export lectern:plugin/lifecycle@0.2.0;
        export lectern:plugin/grader@0.2.0;
        export lectern:plugin/proctor@0.2.0;
        export lectern:plugin/content@0.2.0;
        export lectern:plugin/tutor@0.2.0;
        export lectern:plugin/question-type@0.2.0;
        export lectern:plugin/activity@0.2.0;
    ",
});

use exports::lectern::plugin::{
    activity as wa, content as wc, grader as wg, lifecycle as wl, proctor as wp, question_type as wq, tutor as wt,
};
use lectern::plugin as svc;

/// The services 0.2 adds, linked for every 0.2 plugin: `settings` reads only the
/// plugin's own; `gradebook` answers `denied` outside an activity's `act` (and the
/// install check lets only activity plugins import it).
pub(crate) fn add_0_2_services_to_linker(l: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    svc::settings::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;
    svc::gradebook::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)
}

super::shared::slot_exports! {
    extensions { QuestionType(wq) = Slot::QuestionType, Activity(wa) = Slot::Activity }

    fn on_event(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &slots::EventContext,
        payload: &[u8],
    ) -> Call<()> {
        let g = self.lifecycle.load(&mut *store, inst)?;
        guest(g.call_on_event(&mut *store, &svc::types::EventContext::from(ctx), payload), |r| r)
    }

    fn proctor_ingest(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        batches: &[slots::proctoring::Batch],
    ) -> Call<slots::proctoring::Assessment> {
        let wctx = svc::types::Context::from(ctx);
        let wb: Vec<wp::Batch> = batches.iter().map(Into::into).collect();
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_ingest(&mut *store, &wctx, attempt, &wb), Into::into)
    }

    fn proctor_close(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        ended_at_ms: u64,
    ) -> Call<slots::proctoring::Assessment> {
        let wctx = svc::types::Context::from(ctx);
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_close_session(&mut *store, &wctx, attempt, ended_at_ms), Into::into)
    }

    fn question_types(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
    ) -> Call<Vec<slots::question::TypeInfo>> {
        let g = self.question_type()?.load(&mut *store, inst)?;
        g.call_types(&mut *store).map(|v| Ok(v.into_iter().map(Into::into).collect()))
    }

    fn question_instantiate(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        question: &slots::question::Question,
        seed: u64,
    ) -> Call<slots::question::Instance> {
        let (wctx, wques) = (svc::types::Context::from(ctx), wq::Question::from(question));
        let g = self.question_type()?.load(&mut *store, inst)?;
        guest(g.call_instantiate(&mut *store, &wctx, &wques, seed), Into::into)
    }

    fn question_validate(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        question: &slots::question::Question,
        instance: &str,
        response: &str,
    ) -> Call<()> {
        let (wctx, wques) = (svc::types::Context::from(ctx), wq::Question::from(question));
        let g = self.question_type()?.load(&mut *store, inst)?;
        let (instance, response) = (instance.to_owned(), response.to_owned());
        guest(g.call_validate(&mut *store, &wctx, &wques, &instance, &response), |r| r)
    }

    fn question_grade(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        items: &[slots::question::ToGrade],
    ) -> Call<Vec<slots::question::Graded>> {
        let wctx = svc::types::Context::from(ctx);
        let witems: Vec<wq::ToGrade> = items.iter().map(Into::into).collect();
        let g = self.question_type()?.load(&mut *store, inst)?;
        guest(g.call_grade(&mut *store, &wctx, &witems), |v| v.into_iter().map(Into::into).collect())
    }

    fn activity_kinds(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
    ) -> Call<Vec<slots::activity::Kind>> {
        let g = self.activity()?.load(&mut *store, inst)?;
        g.call_kinds(&mut *store).map(|v| Ok(v.into_iter().map(Into::into).collect()))
    }

    fn activity_render(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        item: &slots::activity::Item,
        state: Option<&slots::activity::LearnerState>,
    ) -> Call<slots::View> {
        let (wctx, witem) = (svc::types::Context::from(ctx), wa::Item::from(item));
        let wstate = state.map(wa::LearnerState::from);
        let g = self.activity()?.load(&mut *store, inst)?;
        guest(g.call_render(&mut *store, &wctx, &witem, wstate.as_ref()), Into::into)
    }

    fn activity_render_settings(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        kind: &str,
        settings: Option<&str>,
    ) -> Call<Option<slots::View>> {
        let wctx = svc::types::Context::from(ctx);
        let (kind, settings) = (kind.to_owned(), settings.map(str::to_owned));
        let g = self.activity()?.load(&mut *store, inst)?;
        guest(g.call_render_settings(&mut *store, &wctx, &kind, settings.as_ref()), |v| v.map(Into::into))
    }

    fn activity_act(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        item: &slots::activity::Item,
        state: Option<&slots::activity::LearnerState>,
        action: &slots::activity::Action,
        learner: Option<&str>,
    ) -> Call<slots::activity::Acted> {
        let (wctx, witem) = (svc::types::Context::from(ctx), wa::Item::from(item));
        let (wstate, waction) = (state.map(wa::LearnerState::from), wa::Action::from(action));
        let g = self.activity()?.load(&mut *store, inst)?;
        store.data_mut().activity =
            Some(crate::services::gradebook::ActivityCall { learner: learner.map(str::to_owned), effects: vec![] });
        let r = g.call_act(&mut *store, &wctx, &witem, wstate.as_ref(), &waction);
        let effects = store.data_mut().activity.take().map(|c| c.effects).unwrap_or_default();
        guest(r, |o| slots::activity::Acted { outcome: o.into(), effects })
    }
}

impl Exports {
    fn activity(&self) -> wasmtime::Result<&wa::GuestIndices> {
        match &self.slot {
            SlotExports::Activity(i) => Ok(i),
            _ => Err(super::not_a("activity")),
        }
    }

    fn question_type(&self) -> wasmtime::Result<&wq::GuestIndices> {
        match &self.slot {
            SlotExports::QuestionType(i) => Ok(i),
            _ => Err(super::not_a("question-type")),
        }
    }
}

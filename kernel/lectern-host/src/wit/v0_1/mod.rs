//! `lectern:plugin@0.1.0`: the generated bindings, and everything that knows
//! them. Serves components built against any 0.1.x (see `super`'s docs).
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
    path: "../../wit/lectern-plugin@0.1.0",
    interfaces: "
        import lectern:plugin/kv@0.1.0;
        import lectern:plugin/events@0.1.0;
        import lectern:plugin/log@0.1.0;
        import lectern:plugin/clock@0.1.0;
        import lectern:plugin/vector@0.1.0;
        import lectern:plugin/embed@0.1.0;
        export lectern:plugin/lifecycle@0.1.0;
        export lectern:plugin/grader@0.1.0;
        export lectern:plugin/proctor@0.1.0;
        export lectern:plugin/content@0.1.0;
        export lectern:plugin/tutor@0.1.0;
    ",
});

use exports::lectern::plugin::{content as wc, grader as wg, lifecycle as wl, proctor as wp, tutor as wt};
use lectern::plugin as svc;

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
}

/// A 0.1.x component's `lifecycle` and slot exports, looked up once per
/// loaded version. The generated lookups ask for `…@0.1.0`; wasmtime's
/// semver-compatible export lookup finds `…@0.1.z`.
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

    fn on_event(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        topic: &str,
        payload: &[u8],
    ) -> Call<()> {
        let g = self.lifecycle.load(&mut *store, inst)?;
        guest(g.call_on_event(&mut *store, topic, payload), |r| r)
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

    fn proctor_ingest(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        signals: &[slots::proctoring::Signal],
    ) -> Call<slots::proctoring::Assessment> {
        let wctx = svc::types::Context::from(ctx);
        let sigs: Vec<wp::Signal> = signals.iter().map(Into::into).collect();
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_ingest(&mut *store, &wctx, attempt, &sigs), Into::into)
    }

    fn proctor_close(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
    ) -> Call<slots::proctoring::Assessment> {
        let wctx = svc::types::Context::from(ctx);
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_close_session(&mut *store, &wctx, attempt), Into::into)
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
}

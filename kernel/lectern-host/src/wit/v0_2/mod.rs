//! `lectern:plugin@0.2.0`: the generated bindings, and everything that knows
//! them. Serves components built against any 0.2.x (see `super`'s docs).
//!
//! This host serves 0.2's four slot worlds (grading, proctoring, content,
//! tutoring). The worlds 0.2 adds (activity, question type, observer) and
//! the `gradebook` service they import are not generated here yet: a
//! component of one of those worlds names no slot export, so its install is
//! refused like any component that lacks its slot's export.
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
        export lectern:plugin/lifecycle@0.2.0;
        export lectern:plugin/grader@0.2.0;
        export lectern:plugin/proctor@0.2.0;
        export lectern:plugin/content@0.2.0;
        export lectern:plugin/tutor@0.2.0;
    ",
});

use exports::lectern::plugin::{content as wc, grader as wg, lifecycle as wl, proctor as wp, tutor as wt};
use lectern::plugin as svc;

/// `settings` (0.2 on) is linked for every 0.2 plugin: it reads only the plugin's own.
pub(crate) fn add_settings_to_linker(l: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    svc::settings::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)
}

super::shared::slot_exports! {
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
}

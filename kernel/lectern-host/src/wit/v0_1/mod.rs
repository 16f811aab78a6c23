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

super::shared::slot_exports! {
    extensions {}

    fn on_event(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &slots::EventContext,
        payload: &[u8],
    ) -> Call<()> {
        // 0.1's `on-event` has the topic only.
        let g = self.lifecycle.load(&mut *store, inst)?;
        guest(g.call_on_event(&mut *store, &ctx.topic, payload), |r| r)
    }

    fn proctor_ingest(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        batches: &[slots::proctoring::Batch],
    ) -> Call<slots::proctoring::Assessment> {
        // 0.1 sees the batches' signals joined, without sequence or client.
        let wctx = svc::types::Context::from(ctx);
        let sigs: Vec<wp::Signal> = batches.iter().flat_map(|b| &b.signals).map(Into::into).collect();
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_ingest(&mut *store, &wctx, attempt, &sigs), Into::into)
    }

    fn proctor_close(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        _ended_at_ms: u64,
    ) -> Call<slots::proctoring::Assessment> {
        let wctx = svc::types::Context::from(ctx);
        let g = self.proctor()?.load(&mut *store, inst)?;
        guest(g.call_close_session(&mut *store, &wctx, attempt), Into::into)
    }
}

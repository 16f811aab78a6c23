//! The released versions of the plugin contract (`lectern:plugin@X.Y.Z`, one
//! frozen folder per version under `wit/`), and the one place that decides
//! which bindings serve a component. Nothing outside this module names a
//! generated type: `host.rs` holds a [`PluginExports`] and calls it with the
//! version-free types of `crate::slots`; the kernel services are implemented
//! once in `crate::services`.
//!
//! Layout (the pattern of Zed's `extension_host::wasm_host::wit`):
//! - `v0_1/` — `lectern:plugin@0.1.0`: its `bindgen!`, its `Host` trait impls
//!   (each converts its arguments and delegates to `crate::services`), the
//!   conversions between its types and `crate::slots`, and its
//!   [`PluginExports`] impl.
//! - this file — [`Api`] (a set of bindings and the contract versions it
//!   serves), the version check at install, and the [`PluginExports`] trait.
//!
//! # Which bindings serve a component
//!
//! A component names its contract version in every `lectern:plugin/…@V`
//! import and export. The bindings generated from `X.Y.Z` serve every `V` on
//! the same semver track: the same major from 1.0 on, the same major.minor
//! for 0.x (0.1.1 and 0.1.7 are served by the 0.1.0 bindings), and exactly
//! `X.Y.Z` for 0.0.z and pre-releases. That is the rule wasmtime 48 applies
//! itself (`wasmtime_environ::component::names::alternate_lookup_key`, used by
//! the component `Linker` for imports and by `Component::get_export_index`
//! for exports), so the generated code links such a component unchanged: the
//! linker's `lectern:plugin/kv@0.1.0` satisfies an import of `kv@0.1.1`, and
//! `GuestIndices::new`, which asks for `grader@0.1.0`, finds an export named
//! `grader@0.1.1`. What wasmtime does not do is say *why* a component on
//! another track cannot link; [`Api::of_component`] does, before linking
//! ([`HostError::UnsupportedContract`]). A component of a newer minor that
//! imports a function the older bindings lack still fails to link, and its
//! install is refused with wasmtime's message naming the function.
//!
//! # Adding a contract version (how `v0_2` was added)
//!
//! 1. Add `v0_N/` beside the others: a `bindgen!` on the new folder. The
//!    generated types of each version are distinct Rust types even where
//!    the WIT did not change, so what is the same is converted by the
//!    macros in `shared.rs` (`same_slot_types!`, `same_services!`), which
//!    every version invokes with its own modules under the same short
//!    names; an *imported interface* is always generated anew, because a
//!    module's `add_to_linker` registers the name it was generated for.
//! 2. Implement its `Host` traits by converting and delegating to
//!    `crate::services` (a new service gets its version-free function there
//!    first), its conversions to `crate::slots` (a new field gets a
//!    version-free home first; older versions' conversions then fill a
//!    default or drop it), and [`PluginExports`] for its exports.
//! 3. Add `Api::V0_N` to [`Api::ALL`] (newest first) and an arm to each
//!    `match` in `impl Api`. `host.rs` does not change.
//! 4. Freeze the folder (its line in `wit/RELEASED`) once every world it
//!    defines is served end to end: the host serves every world of `0.2.0`,
//!    but it is not frozen yet, because course outlines do not hold
//!    activity items yet (the kernel half of the activity world).

mod shared;
pub(crate) mod v0_1;
pub(crate) mod v0_2;

use semver::Version;
use wasmtime::Engine;
use wasmtime::component::{Component, Instance, InstancePre, Linker};

use crate::HostError;
use crate::manifest::{Capabilities, Service, Slot};
use crate::slots::{self, CallContext, GuestError, PluginInfo};
use crate::state::PluginState;

/// The WIT package every plugin interface belongs to.
pub(crate) const PACKAGE: &str = "lectern:plugin";

/// A set of generated bindings, i.e. a released contract version this host speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    V0_1,
    V0_2,
}

impl Api {
    /// Every set of bindings, newest first.
    pub(crate) const ALL: [Api; 2] = [Api::V0_2, Api::V0_1];

    /// The version the bindings were generated from.
    pub(crate) fn version(self) -> Version {
        match self {
            Api::V0_1 => Version::new(0, 1, 0),
            Api::V0_2 => Version::new(0, 2, 0),
        }
    }

    /// The first contract version that has `slot`'s world.
    pub(crate) fn introducing(slot: Slot) -> Version {
        if slot.is_extension() { Version::new(0, 2, 0) } else { Version::new(0, 1, 0) }
    }

    /// The versions this host has bindings for, newest first.
    pub(crate) fn supported() -> Vec<Version> {
        Api::ALL.iter().map(|a| a.version()).collect()
    }

    /// The bindings that serve components built against `v`, if any.
    pub(crate) fn serving(v: &Version) -> Option<Api> {
        Api::ALL.into_iter().find(|a| same_track(&a.version(), v))
    }

    /// The kernel services (importable interfaces) this version defines.
    pub(crate) fn services(self) -> &'static [Service] {
        match self {
            Api::V0_1 => &Service::ALL,
            Api::V0_2 => &Service::ALL_0_2,
        }
    }

    /// The contract version a component was built against (from the names of
    /// its `lectern:plugin` imports and exports) and the bindings that serve
    /// it. `Ok(None)`: the component names no `lectern:plugin` interface at
    /// all (the export check then refuses it for lacking `lifecycle`).
    pub(crate) fn of_component(engine: &Engine, component: &Component) -> Result<Option<(Api, Version)>, HostError> {
        let ty = component.component_type();
        let names = ty.imports(engine).map(|(n, _)| n.to_owned()).chain(ty.exports(engine).map(|(n, _)| n.to_owned()));
        let mut found: Vec<Version> = vec![];
        for name in names {
            let Some((pkg, _, version)) = split_name(&name) else { continue };
            if pkg != PACKAGE {
                continue;
            }
            let Some(version) = version.and_then(|v| Version::parse(v).ok()) else {
                return Err(HostError::UnversionedContract { name });
            };
            if !found.contains(&version) {
                found.push(version);
            }
        }
        found.sort();
        let Some(newest) = found.last().cloned() else { return Ok(None) };
        if found.iter().any(|v| !same_track(v, &newest)) {
            return Err(HostError::MixedContract { found });
        }
        match Api::serving(&newest) {
            Some(api) => Ok(Some((api, newest))),
            None => Err(HostError::UnsupportedContract { found: newest, supported: Api::supported() }),
        }
    }

    /// A linker with WASI 0.2 (no authority behind it: no preopens, empty
    /// environment, no network, output captured; guests of every language
    /// import it) and this version's kernel services, those in `grants` only.
    pub(crate) fn linker(self, engine: &Engine, grants: &Capabilities) -> wasmtime::Result<Linker<PluginState>> {
        let mut l: Linker<PluginState> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut l)?;
        match self {
            Api::V0_1 => v0_1::add_to_linker(&mut l, grants)?,
            Api::V0_2 => {
                v0_2::add_to_linker(&mut l, grants)?;
                v0_2::add_0_2_services_to_linker(&mut l)?;
                // Only with hosts granted (observers only; see `services::http`).
                if !grants.outbound_hosts.is_empty() {
                    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut l)?;
                }
            }
        }
        Ok(l)
    }

    /// Looks up `lifecycle` and `slot`'s interface among the component's exports.
    pub(crate) fn exports(
        self,
        pre: &InstancePre<PluginState>,
        slot: Slot,
    ) -> wasmtime::Result<Box<dyn PluginExports>> {
        Ok(match self {
            Api::V0_1 => Box::new(v0_1::Exports::new(pre, slot)?),
            Api::V0_2 => Box::new(v0_2::Exports::new(pre, slot)?),
        })
    }
}

/// Whether components built against `b` can be served by bindings of `a`
/// (symmetric): wasmtime's semver-compatibility rule, see the module docs.
pub(crate) fn same_track(a: &Version, b: &Version) -> bool {
    let exact_only = |v: &Version| !v.pre.is_empty() || (v.major == 0 && v.minor == 0);
    if exact_only(a) || exact_only(b) {
        return a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.pre == b.pre;
    }
    a.major == b.major && (a.major != 0 || a.minor == b.minor)
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg`, `iface`, `1.2.3`).
pub(crate) fn split_name(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let (pkg, rest) = name.split_once('/')?;
    Some(match rest.split_once('@') {
        Some((iface, v)) => (pkg, iface, Some(v)),
        None => (pkg, rest, None),
    })
}

/// What a call into a plugin returns: `Err` is a fault (trap, limit), `Ok(Err)` the plugin's own error.
pub(crate) type Call<R> = wasmtime::Result<Result<R, GuestError>>;

/// A component's exports, whichever contract version it was built against,
/// called with version-free types. Each call takes the call's store and a
/// fresh instance (see `Host::run`). Calling a slot function the component
/// does not export (another slot's) is a fault, never a panic.
pub(crate) trait PluginExports: Send + Sync {
    fn info(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance) -> wasmtime::Result<PluginInfo>;
    fn init(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance) -> Call<()>;
    fn migrate(&self, store: &mut wasmtime::Store<PluginState>, inst: &Instance, from: u32) -> Call<()>;
    fn on_event(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &slots::EventContext,
        payload: &[u8],
    ) -> Call<()>;

    fn grade(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        submissions: &[slots::grading::Submission],
    ) -> Call<Vec<slots::grading::Graded>>;
    /// Calls `grade` `repeat` times on one instance, `before_each` resetting
    /// the store's budgets; returns each call's duration (arguments are
    /// converted once, outside the timings).
    fn grade_timed(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        submissions: &[slots::grading::Submission],
        repeat: usize,
        before_each: &mut dyn FnMut(&mut wasmtime::Store<PluginState>),
    ) -> Call<Vec<std::time::Duration>>;

    fn proctor_open(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        policy: &slots::proctoring::Policy,
        started_at_ms: u64,
    ) -> Call<()>;
    fn proctor_ingest(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        batches: &[slots::proctoring::Batch],
    ) -> Call<slots::proctoring::Assessment>;
    fn proctor_close(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        attempt: &str,
        ended_at_ms: u64,
    ) -> Call<slots::proctoring::Assessment>;

    fn render_markdown(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        source: &str,
    ) -> Call<slots::content::RenderedPage>;
    fn item_visibility(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        modules: &[slots::content::Module],
        progress: &[slots::content::Progress],
        now_ms: u64,
    ) -> Call<Vec<slots::content::Visibility>>;

    fn tutor_index(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        doc: &slots::tutoring::Document,
    ) -> Call<u32>;
    fn tutor_remove(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        id: &str,
    ) -> Call<()>;
    fn tutor_ask(
        &self,
        store: &mut wasmtime::Store<PluginState>,
        inst: &Instance,
        ctx: &CallContext,
        question: &slots::tutoring::Question,
    ) -> Call<slots::tutoring::Answer>;

    // The question-type world (0.2 on); versions without it keep these defaults.

    fn question_types(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
    ) -> Call<Vec<slots::question::TypeInfo>> {
        Err(not_a("question-type"))
    }
    fn question_instantiate(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _question: &slots::question::Question,
        _seed: u64,
    ) -> Call<slots::question::Instance> {
        Err(not_a("question-type"))
    }
    fn question_validate(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _question: &slots::question::Question,
        _instance: &str,
        _response: &str,
    ) -> Call<()> {
        Err(not_a("question-type"))
    }
    fn question_grade(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _items: &[slots::question::ToGrade],
    ) -> Call<Vec<slots::question::Graded>> {
        Err(not_a("question-type"))
    }
    // The activity world (0.2 on).

    fn activity_kinds(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
    ) -> Call<Vec<slots::activity::Kind>> {
        Err(not_a("activity"))
    }
    fn activity_render(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _item: &slots::activity::Item,
        _state: Option<&slots::activity::LearnerState>,
    ) -> Call<slots::View> {
        Err(not_a("activity"))
    }
    fn activity_render_settings(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _kind: &str,
        _settings: Option<&str>,
    ) -> Call<Option<slots::View>> {
        Err(not_a("activity"))
    }
    /// `learner`: the acting learner (their action may record only for them); `None` for staff.
    #[allow(clippy::too_many_arguments)]
    fn activity_act(
        &self,
        _store: &mut wasmtime::Store<PluginState>,
        _inst: &Instance,
        _ctx: &CallContext,
        _item: &slots::activity::Item,
        _state: Option<&slots::activity::LearnerState>,
        _action: &slots::activity::Action,
        _learner: Option<&str>,
    ) -> Call<slots::activity::Acted> {
        Err(not_a("activity"))
    }
}

/// The fault of calling a world's function on a plugin of another world.
pub(crate) fn not_a(world: &str) -> wasmtime::Error {
    wasmtime::format_err!("not a {world} plugin")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn tracks_follow_wasmtimes_semver_rule() {
        for (a, b, same) in [
            ("0.1.0", "0.1.0", true),
            ("0.1.0", "0.1.1", true),
            ("0.1.0", "0.1.17", true),
            ("0.1.3", "0.1.0", true),
            ("0.1.0", "0.2.0", false),
            ("0.1.0", "1.0.0", false),
            ("1.0.0", "1.4.2", true),
            ("1.0.0", "2.0.0", false),
            ("0.0.1", "0.0.1", true),
            ("0.0.1", "0.0.2", false),
            ("0.1.0", "0.1.1-rc.1", false),
            ("0.1.1-rc.1", "0.1.1-rc.1", true),
        ] {
            assert_eq!(same_track(&v(a), &v(b)), same, "{a} vs {b}");
            assert_eq!(same_track(&v(b), &v(a)), same, "{b} vs {a}");
        }
    }

    #[test]
    fn each_set_of_bindings_serves_its_own_track_only() {
        assert_eq!(Api::serving(&v("0.1.0")), Some(Api::V0_1));
        assert_eq!(Api::serving(&v("0.1.1")), Some(Api::V0_1));
        assert_eq!(Api::serving(&v("0.2.0")), Some(Api::V0_2));
        assert_eq!(Api::serving(&v("0.2.3")), Some(Api::V0_2));
        assert_eq!(Api::serving(&v("0.3.0")), None);
        assert_eq!(Api::serving(&v("1.0.0")), None);
        assert_eq!(Api::supported(), vec![v("0.2.0"), v("0.1.0")]);
    }

    #[test]
    fn names_split() {
        assert_eq!(split_name("lectern:plugin/kv@0.1.1"), Some(("lectern:plugin", "kv", Some("0.1.1"))));
        assert_eq!(split_name("wasi:io/streams@0.2.6"), Some(("wasi:io", "streams", Some("0.2.6"))));
        assert_eq!(split_name("lectern:plugin/kv"), Some(("lectern:plugin", "kv", None)));
        assert_eq!(split_name("kv"), None);
    }
}

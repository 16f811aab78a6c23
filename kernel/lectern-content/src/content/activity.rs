//! Activity items: kinds of learning activity that plugins provide
//! (`lectern:plugin@0.2.0`, world `activity-plugin`), placed in outlines like
//! any other item.
//!
//! The split: the kernel stores the item (its plugin, kind and settings, the
//! settings checked against the kind's schema when an instructor saves
//! them), each learner's state, completions and scores; the plugin renders
//! views and decides what an action does. Every view is sanitised by the
//! kernel (`lectern_host::view`) before it leaves the server.
//!
//! Invariants:
//! - A learner's state changes only through an action the kernel kept: the
//!   new state is written only if the version it was computed from is still
//!   current (otherwise the plugin is asked again with the newer state, up
//!   to three times), and its completions and scores are written in the
//!   same transaction (completions directly, scores as `activity.scored`,
//!   which the gradebook records exactly once).
//! - Only an enrolled student is scored or completed; an instructor acting
//!   on the item practises with their own state and is graded nowhere.
//! - Learners never see an item's settings (they may hold the answers).

use lectern_host::slots::{CallContext, GuestError, activity as wa};
use lectern_host::{OfferedActivityKind, PluginError, QuestionCheck, Slot};
use lectern_storage::{Record, TxFail, abort};
use serde::{Deserialize, Serialize};

use super::view::state_key;
use super::{Body, Completion, Item};
use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::events::{self, ActivityScored, topics};
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Content, Principal};
use lectern_domain::model::CourseRole;

/// Plugin calls for one action: the first, then up to three more after a race.
const MAX_ACT_CALLS: usize = 4;

/// One learner's state for one activity item: the plugin's bytes, versioned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityState {
    pub data: Vec<u8>,
    /// 1 for the first stored state, one more per change.
    pub version: u64,
    pub updated_at: i64,
}

impl Record for ActivityState {
    const VERSION: u8 = 1;
}

/// A view of an activity item for the caller, sanitised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivityView {
    pub html: String,
    /// Names of static assets from the plugin's package the view uses.
    pub assets: Vec<String>,
    /// The caller's state version the view shows (0: no state yet).
    pub state_version: u64,
    /// Whether the item counts as completed for the caller.
    pub completed: bool,
}

/// What an action did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivityOutcome {
    pub view: ActivityView,
    /// A short message for the learner (announced to assistive technology).
    pub message: Option<String>,
    /// The score this action recorded for the caller, if any: (points, max points).
    pub score: Option<(f64, f64)>,
}

/// The activity item a call is about, with what the plugin is told of it.
struct Target {
    item: Item,
    plugin: String,
    wit: wa::Item,
    staff: bool,
    completed: bool,
}

/// Maps an activity plugin's failure for the caller: a deliberate refusal
/// is the learner's (422 with the plugin's words), an inactive plugin is a
/// 503, a fault is the plugin's (502).
fn activity_error(e: PluginError, field: &'static str) -> CoreError {
    match e {
        PluginError::Guest(GuestError::InvalidInput(m) | GuestError::Conflict(m) | GuestError::Denied(m)) => {
            CoreError::invalid(field, m)
        }
        PluginError::Guest(GuestError::NotFound(m)) => CoreError::invalid(field, m),
        e @ (PluginError::NotActive { .. }
        | PluginError::NoActivePlugin(_)
        | PluginError::CircuitOpen { .. }
        | PluginError::Starting { .. }) => {
            CoreError::Unavailable(format!("this activity's plugin is not available now: {e}"))
        }
        other => CoreError::PluginFailed(format!("activity: {other}")),
    }
}

/// An action's name: what a view's `data-action` may say (the rule of the
/// plugin's own ids).
fn check_action_name(name: &str) -> Result<(), CoreError> {
    if !lectern_host::questions::is_local_id(name) {
        return Err(CoreError::invalid("action", "1–64 characters of a–z, 0–9 and -"));
    }
    Ok(())
}

impl Content {
    /// The activity kinds plugins offer this institution's instructors.
    pub fn activity_kinds(&self, p: &Principal, inst: InstitutionId) -> Result<Vec<OfferedActivityKind>, CoreError> {
        authorize(p, Capability::InstitutionView, Context::Institution(inst))?;
        Ok(self.host().activity_kinds(&inst.to_string()))
    }

    /// Checks an instructor's settings for an activity item and returns them as stored (JSON text).
    pub(super) fn check_activity_settings(
        &self,
        inst: InstitutionId,
        plugin: &str,
        kind: &str,
        settings: &serde_json::Value,
    ) -> Result<String, CoreError> {
        match self.host().check_activity_settings(&inst.to_string(), plugin, kind, settings) {
            Ok(()) => {}
            Err(e @ QuestionCheck::NotOffered { .. }) => {
                return Err(CoreError::invalid(
                    "activity.kind",
                    format!("{e}: GET /api/v1/institutions/{{institution}}/activity-kinds lists what is offered")
                        .replace("question type", "activity kind"),
                ));
            }
            Err(QuestionCheck::Invalid(m)) => return Err(CoreError::invalid("activity.settings", m)),
        }
        let text = settings.to_string();
        if text.len() > lectern_host::activities::MAX_PAYLOAD_BYTES {
            return Err(CoreError::invalid("activity.settings", "at most 64 KiB"));
        }
        Ok(text)
    }

    /// An instructor's settings form for a kind of activity, as the plugin
    /// draws it (`None`: build it from the settings schema).
    pub async fn activity_settings_view(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        plugin: String,
        kind: String,
        settings: Option<serde_json::Value>,
    ) -> Result<Option<lectern_host::slots::View>, CoreError> {
        self.authorize_content_edit(p, inst, course)?;
        // A kind no plugin offers here is the caller's mistake (422), not a
        // plugin that is away for now (503).
        if !self.host().activity_kinds(&inst.to_string()).iter().any(|k| k.plugin == plugin && k.info.id == kind) {
            return Err(CoreError::invalid(
                "kind",
                format!(
                    "no active plugin offers the activity kind `{kind}` of `{plugin}` here: \
                     GET /api/v1/institutions/{{institution}}/activity-kinds lists what is offered"
                ),
            ));
        }
        let ctx = super::call_context(p, inst, course, vec!["instructor".into()]);
        let host = self.host().clone();
        let settings = settings.map(|v| v.to_string());
        let plugin_id = plugin.clone();
        let view = Self::blocking(move || host.activity_render_settings(&plugin, &ctx, &kind, settings.as_deref()))
            .await?
            .map_err(|e| activity_error(e, "activity"))?;
        Ok(view.map(|v| self.activity_view(inst, &plugin_id, &v)))
    }

    /// A view made safe, its images from the assets of the version serving the institution.
    fn activity_view(
        &self,
        inst: InstitutionId,
        plugin: &str,
        v: &lectern_host::slots::View,
    ) -> lectern_host::slots::View {
        match self.host().active_extension(Slot::Activity, plugin, &inst.to_string()) {
            Some(key) => {
                let available = self.host().plugin_asset_names(&key);
                lectern_host::view::sanitize_with_assets(v, Some((&key, &available)))
            }
            None => lectern_host::view::sanitize(v),
        }
    }

    async fn activity_target(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<Target, CoreError> {
        let o = self.openable(p, inst, course, item_id).await?;
        let Body::Activity { plugin, kind, settings, settings_revision } = &o.item.body else {
            return Err(CoreError::NotFound("activity item"));
        };
        let wit = wa::Item {
            id: o.item.id.clone(),
            kind: kind.clone(),
            title: o.item.title.clone(),
            settings: settings.clone(),
            settings_revision: *settings_revision,
        };
        let completed = o.learner.completed(&o.item);
        Ok(Target { plugin: plugin.clone(), wit, staff: o.staff, completed, item: o.item })
    }

    fn activity_context(&self, p: &Principal, inst: InstitutionId, course: CourseId, t: &Target) -> CallContext {
        let role = if t.staff { "instructor" } else { "student" };
        let mut ctx = super::call_context(p, inst, course, vec![role.into()]);
        ctx.item = Some(t.item.id.clone());
        ctx
    }

    /// The plugin's view of `state` for the caller, made safe.
    async fn draw(
        &self,
        inst: InstitutionId,
        t: &Target,
        ctx: &CallContext,
        state: Option<&ActivityState>,
    ) -> Result<lectern_host::slots::View, CoreError> {
        let host = self.host().clone();
        let (plugin, item, ctx) = (t.plugin.clone(), t.wit.clone(), ctx.clone());
        let learner = state.map(|s| wa::LearnerState { data: s.data.clone(), version: s.version });
        let view = Self::blocking(move || host.activity_render(&plugin, &ctx, &item, learner.as_ref()))
            .await?
            .map_err(|e| activity_error(e, "activity"))?;
        Ok(self.activity_view(inst, &t.plugin, &view))
    }

    fn activity_state(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        item: &str,
    ) -> Result<Option<ActivityState>, CoreError> {
        Ok(self.t().activity_states.get(state_key(inst, course, user, item))?)
    }

    /// What the caller sees of an activity item now: 404 while hidden, 403
    /// while locked (as opening it), 503 while its plugin is not active.
    pub async fn render_activity(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<ActivityView, CoreError> {
        let t = self.activity_target(p, inst, course, item_id).await?;
        let user =
            p.user_id().ok_or_else(|| CoreError::Forbidden("only a signed-in person has an activity state".into()))?;
        let state = self.activity_state(inst, course, user, item_id)?;
        let ctx = self.activity_context(p, inst, course, &t);
        let v = self.draw(inst, &t, &ctx, state.as_ref()).await?;
        Ok(ActivityView {
            html: v.html,
            assets: v.assets,
            state_version: state.map_or(0, |s| s.version),
            completed: t.completed,
        })
    }

    /// A learner's (or an instructor's) action on an activity item: the
    /// plugin computes the new state from the current one; the kernel keeps
    /// it (with the completions and scores the plugin asked for) only if no
    /// other action changed the state meanwhile, asking the plugin again
    /// otherwise. A refusal by the plugin changes nothing.
    pub async fn act_on_activity(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
        name: String,
        payload: serde_json::Value,
    ) -> Result<ActivityOutcome, CoreError> {
        check_action_name(&name)?;
        if !payload.is_object() {
            return Err(CoreError::invalid("payload", "must be a JSON object (the form's fields)"));
        }
        let payload = payload.to_string();
        if payload.len() > lectern_host::activities::MAX_PAYLOAD_BYTES {
            return Err(CoreError::invalid("payload", "at most 64 KiB"));
        }
        let t = self.activity_target(p, inst, course, item_id).await?;
        let user =
            p.user_id().ok_or_else(|| CoreError::Forbidden("only a signed-in person acts on an activity".into()))?;
        let ctx = self.activity_context(p, inst, course, &t);
        let action = wa::Action { name, payload };
        let learner = (!t.staff).then(|| user.to_string());
        let lock_key = state_key(inst, course, user, item_id);
        for call in 1..=MAX_ACT_CALLS {
            let queued = self.activity_lock(&lock_key).lock().await;
            let state = self.activity_state(inst, course, user, item_id)?;
            let host = self.host().clone();
            let (plugin, item, ctx2, action2, learner2) =
                (t.plugin.clone(), t.wit.clone(), ctx.clone(), action.clone(), learner.clone());
            let current = state.as_ref().map(|s| wa::LearnerState { data: s.data.clone(), version: s.version });
            let acted = Self::blocking(move || {
                host.activity_act(&plugin, &ctx2, &item, current.as_ref(), &action2, learner2.as_deref())
            })
            .await?
            .map_err(|e| activity_error(e, "action"))?;
            let version = state.as_ref().map_or(0, |s| s.version);
            let kept = self.keep_action(inst, course, user, &t, version, &acted)?;
            drop(queued);
            let Some(kept) = kept else {
                tracing::debug!(item = item_id, call, "an activity action raced another; asking the plugin again");
                continue;
            };
            // Acknowledged only once durable (with its `activity.scored` events).
            self.commit_events().await?;
            let view = match acted.outcome.view {
                Some(v) => self.activity_view(inst, &t.plugin, &v),
                None => {
                    // The state this action left (not a re-read: another action may follow).
                    let kept_state = match &acted.outcome.state {
                        Some(data) => {
                            Some(ActivityState { data: data.clone(), version: kept.state_version, updated_at: 0 })
                        }
                        None => state,
                    };
                    match self.draw(inst, &t, &ctx, kept_state.as_ref()).await {
                        Ok(v) => v,
                        // The action is kept (and acknowledged): an error now would
                        // invite the learner to act twice. An empty view tells the
                        // page to ask for it again.
                        Err(e) => {
                            tracing::warn!(item = item_id, error = %e, "an activity kept an action but could not render after it");
                            lectern_host::slots::View { html: String::new(), assets: vec![] }
                        }
                    }
                }
            };
            let own = user.to_string();
            let score = acted.effects.iter().rev().find_map(|e| match e {
                wa::Effect::Score { learner, points, max_points, .. } if *learner == own && !t.staff => {
                    Some((*points, *max_points))
                }
                _ => None,
            });
            return Ok(ActivityOutcome {
                view: ActivityView {
                    html: view.html,
                    assets: view.assets,
                    state_version: kept.state_version,
                    completed: t.completed || kept.completed_now,
                },
                message: acted.outcome.message,
                score,
            });
        }
        Err(CoreError::Conflict("the activity's state kept changing while this action was computed; try again".into()))
    }

    /// Writes an action's result in one transaction if the state is still at
    /// `from_version`: the new state, the completions, and one
    /// `activity.scored` per score. `None`: the state moved on (a race).
    /// Not yet durable: the caller waits for that.
    fn keep_action(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        t: &Target,
        from_version: u64,
        acted: &wa::Acted,
    ) -> Result<Option<Kept>, CoreError> {
        // Whom the effects may touch: the learner acting, or the students an
        // instructor acted for; anyone else's effects are dropped here.
        let mut completions: Vec<UserId> = vec![];
        let mut scores: Vec<ActivityScored> = vec![];
        let by = self.host().active_extension(Slot::Activity, &t.plugin, &inst.to_string());
        let by = format!("plugin:{}", by.unwrap_or_else(|| t.plugin.clone()));
        for e in &acted.effects {
            let who = match e {
                wa::Effect::Score { learner, .. } | wa::Effect::Complete { learner } => learner,
            };
            let Ok(student) = who.parse::<UserId>() else {
                tracing::info!(learner = %who, item = %t.item.id, "activity effect for an unknown learner id: dropped");
                continue;
            };
            if t.staff && self.identity().enrolment_role(inst, course, student)? != Some(CourseRole::Student) {
                tracing::info!(%student, item = %t.item.id, "activity effect for someone who is not a student: dropped");
                continue;
            }
            if !t.staff && student != user {
                continue; // the host already refuses this; never trust one layer alone
            }
            match e {
                wa::Effect::Complete { .. } => completions.push(student),
                wa::Effect::Score { points, max_points, feedback, .. } => scores.push(ActivityScored {
                    institution: inst,
                    course,
                    item: t.item.id.clone(),
                    student,
                    points: *points,
                    max_points: *max_points,
                    feedback: feedback.clone(),
                    by: by.clone(),
                    actor: user,
                    state_version: 0,
                }),
            }
        }
        let tr = self.t();
        let bus = &self.env().bus;
        let now = self.now();
        let mut ids = Vec::with_capacity(scores.len());
        for _ in &scores {
            ids.push(bus.outbox.next_id().map_err(events::bus_error)?);
        }
        let skey = state_key(inst, course, user, &t.item.id);
        let new_state = acted.outcome.state.clone();
        let reported = t.item.completion == Completion::Reported;
        let r = self.store().transaction(&[&tr.activity_states, &tr.item_states, bus.outbox.tree()], |tx| {
            let states = tx.on(&tr.activity_states)?;
            let current = states.get(&skey)?;
            if current.as_ref().map_or(0, |s| s.version) != from_version {
                return abort(CoreError::PreconditionFailed { current: current.map_or(0, |s| s.version) });
            }
            let version = match &new_state {
                Some(data) => {
                    let version = from_version + 1;
                    states.insert(&skey, &ActivityState { data: data.clone(), version, updated_at: now })?;
                    version
                }
                None => from_version,
            };
            let items = tx.on(&tr.item_states)?;
            let mut completed_now = false;
            for student in &completions {
                let k = state_key(inst, course, *student, &t.item.id);
                let mut st = items.get(&k)?.unwrap_or_default();
                if st.reported_complete_at.is_none() {
                    st.reported_complete_at = Some(now);
                    items.insert(&k, &st)?;
                }
                completed_now |= *student == user && reported;
            }
            for (ev, id) in scores.iter().zip(&ids) {
                let ev = ActivityScored { state_version: version, ..ev.clone() };
                events::stage(&bus.outbox, tx, *id, topics::ACTIVITY_SCORED, &ev.student.to_string(), &ev)?;
            }
            Ok::<_, TxFail<CoreError>>(Kept { state_version: version, completed_now })
        });
        match r {
            Ok(kept) => Ok(Some(kept)),
            Err(lectern_storage::TxError::Aborted(CoreError::PreconditionFailed { .. })) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

struct Kept {
    state_version: u64,
    completed_now: bool,
}

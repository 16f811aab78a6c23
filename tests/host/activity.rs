//! Activity plugins (`lectern:plugin@0.2.0`, world `activity-plugin`)
//! through the real host: the example `plugins/examples/flashcards` (kinds
//! offered per institution, settings checked against the kind's schema,
//! render and act with the learner's state, gradebook effects collected for
//! the kernel), and a hostile activity contained call by call.

use lectern_e2e::guests;
use lectern_host::slots::activity::{Action, Effect, Item, LearnerState};
use lectern_host::{CallContext, Manifest, PluginError, QuestionCheck, Scope, Slot};
use serde_json::json;

use crate::{ctx, env, wasm};

const FLASHCARDS: &str = "org.example.flashcards";

fn install(host: &lectern_host::Host, manifest: &[u8], path: &str, scope: Scope) -> String {
    let m = Manifest::parse_json(manifest).unwrap();
    let grant = m.capabilities.clone();
    let key = host.install(m, &wasm(path), &grant).unwrap().manifest.key();
    host.activate(Slot::Activity, scope, &key).unwrap();
    key
}

fn item(settings: serde_json::Value) -> Item {
    Item {
        id: "cards-1".into(),
        kind: "flashcards".into(),
        title: "Pigments".into(),
        settings: settings.to_string(),
        settings_revision: 1,
    }
}

fn deck() -> serde_json::Value {
    json!({"cards": [{"front": "Chlorophyll", "back": "absorbs light"}, {"front": "Carotene", "back": "orange"}], "mastery_box": 2})
}

fn learner(institution: &str, user: &str) -> CallContext {
    CallContext { user: Some(user.into()), ..ctx(institution) }
}

#[test]
fn flashcards_render_act_and_report_mastery_to_the_gradebook() {
    let e = env();
    let manifest =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/examples/flashcards/manifest.json")).unwrap();
    let key = install(&e.host, &manifest, guests::EXAMPLE_FLASHCARDS, Scope::Institution("inst-1".into()));
    assert_eq!(key, "org.example.flashcards@1.0.0");
    let kinds = e.host.activity_kinds("inst-1");
    assert_eq!(kinds.len(), 1);
    assert_eq!(
        (kinds[0].plugin.as_str(), kinds[0].info.id.as_str(), kinds[0].info.graded),
        (FLASHCARDS, "flashcards", true)
    );
    assert!(e.host.activity_kinds("inst-2").is_empty());
    assert_eq!(e.host.check_activity_settings("inst-1", FLASHCARDS, "flashcards", &deck()), Ok(()));
    let Err(QuestionCheck::Invalid(why)) =
        e.host.check_activity_settings("inst-1", FLASHCARDS, "flashcards", &json!({"cards": []}))
    else {
        panic!("an empty deck must be refused")
    };
    assert!(why.contains("/cards"), "{why}");

    // Before the first action: the first card's front.
    let ada = learner("inst-1", "ada");
    let it = item(deck());
    let v = e.host.activity_render(FLASHCARDS, &ada, &it, None).unwrap();
    assert!(v.html.contains("Chlorophyll") && v.html.contains(r#"data-action="reveal""#), "{}", v.html);
    assert!(!v.html.contains("absorbs light"), "the back stays hidden");
    assert!(e.host.activity_render_settings(FLASHCARDS, &ada, "flashcards", None).unwrap().is_none());

    // Acting: state in, state out; the kernel keeps it (here: this test) and passes it back.
    let act = |state: &Option<LearnerState>, name: &str| {
        let action = Action { name: name.into(), payload: "{}".into() };
        e.host.activity_act(FLASHCARDS, &ada, &it, state.as_ref(), &action, Some("ada")).unwrap()
    };
    let mut state: Option<LearnerState> = None;
    let mut effects = vec![];
    for name in ["reveal", "knew", "reveal", "again", "reveal", "knew", "reveal", "knew"] {
        let acted = act(&state, name);
        let version = state.as_ref().map_or(1, |s| s.version + 1);
        state = acted.outcome.state.map(|data| LearnerState { data, version });
        effects.extend(acted.effects);
    }
    // Knew card 0 (box 2 = mastered), missed card 1 (box 1), then knew both: all mastered.
    let scores: Vec<f64> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Score { points, .. } => Some(*points),
            _ => None,
        })
        .collect();
    assert_eq!(scores, vec![1.0, 2.0], "{effects:?}");
    assert!(effects.iter().all(|e| match e {
        Effect::Score { learner, max_points, .. } => learner == "ada" && *max_points == 2.0,
        Effect::Complete { learner } => learner == "ada",
    }));
    assert_eq!(effects.last(), Some(&Effect::Complete { learner: "ada".into() }));
    // A wrong order of actions is the plugin's deliberate refusal, not a fault.
    let refused = e.host.activity_act(
        FLASHCARDS,
        &ada,
        &it,
        None,
        &Action { name: "knew".into(), payload: "{}".into() },
        Some("ada"),
    );
    assert!(matches!(refused, Err(PluginError::Guest(_))), "{refused:?}");
}

#[test]
fn a_hostile_activity_is_contained_call_by_call() {
    let e = env();
    let manifest = br#"{"id":"test.hostile-activity","version":"1.0.0","slot":"activity","data_version":1,
                        "resources":{"memory_mib":32,"call_timeout_ms":300}}"#;
    install(&e.host, manifest, guests::HOSTILE_ACTIVITY, Scope::Platform);
    let id = "test.hostile-activity";
    let ada = learner("inst-1", "ada");
    let trap =
        Item { id: "t".into(), kind: "trap".into(), title: "trap".into(), settings: "{}".into(), settings_revision: 1 };
    let act = |name: &str| {
        e.host.activity_act(id, &ada, &trap, None, &Action { name: name.into(), payload: "{}".into() }, Some("ada"))
    };
    assert!(matches!(act("loop"), Err(PluginError::Timeout { .. })), "{:?}", act("loop"));
    assert!(matches!(act("memory"), Err(PluginError::MemoryLimit { .. })));
    assert!(matches!(act("huge-state"), Err(PluginError::Contract(m)) if m.contains("learner state")));
    // The gradebook refuses a score for someone else, or above the maximum; nothing is recorded.
    let other = act("score-other").unwrap();
    assert!(
        other.effects.is_empty() && other.outcome.message.as_deref().unwrap_or_default().contains("Denied"),
        "{other:?}"
    );
    let lie = act("score-lie").unwrap();
    assert!(
        lie.effects.is_empty() && lie.outcome.message.as_deref().unwrap_or_default().contains("InvalidInput"),
        "{lie:?}"
    );
    // Staff acting may score the learner; a learner's own act scores them.
    let own = act("fine").unwrap();
    assert_eq!(
        own.effects,
        vec![Effect::Score { learner: "ada".into(), points: 1.0, max_points: 1.0, feedback: None }]
    );
    // Outside `act`, the gradebook is denied.
    let v = e.host.activity_render(id, &ada, &trap, None).unwrap();
    assert!(v.html.contains("Denied") && v.html.contains("only during an activity"), "{}", v.html);
    // A scripted view is sanitised away before any page sees it.
    let scripted = Item { title: "script".into(), ..trap.clone() };
    let safe = lectern_host::view::sanitize(&e.host.activity_render(id, &ada, &scripted, None).unwrap());
    for gone in [
        "script",
        "onclick",
        "cookie",
        "evil",
        "javascript",
        "iframe",
        "style",
        " action=",
        "id=\"app\"",
        "src=",
        "href",
    ] {
        assert!(!safe.html.contains(gone), "`{gone}` survived: {}", safe.html);
    }
    assert!(safe.html.contains(r#"data-action="go""#) && safe.html.contains(r#"type="button""#), "{}", safe.html);
    // Still serving: two faults are under the breaker's threshold.
    assert!(act("fine").is_ok());
}

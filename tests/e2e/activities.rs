//! Activity plugins (`lectern:plugin@0.2.0`, world `activity-plugin`) over
//! HTTP against the real kernel: the example `plugins/examples/flashcards`
//! is uploaded and activated by the platform administrator, offered to
//! instructors at `…/activity-kinds`, placed in a course outline (its
//! settings checked against the kind's schema), gated by a prerequisite,
//! used by a student through its sanitised view and actions, scored in the
//! gradebook (through `activity.scored` on the bus) and completed; a burst
//! of concurrent actions loses no update. A hostile activity's view is
//! sanitised and its faults change nothing.

use lectern_e2e::{Api, guests};
use serde_json::{Value, json};

use crate::content::install_content_plugin;
use crate::plugins::upload;
use crate::{World, create_user, eventually};

const KEY: &str = "org.example.flashcards@1.0.0";

async fn upload_activity(root: &Api, manifest: String, wasm: &str) -> String {
    let r = upload(root, manifest, wasm, Some("{}")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["slot"], "activity");
    let key = format!("{}@{}", r.body["id"].as_str().unwrap(), r.body["version"].as_str().unwrap());
    let r = root.post("/api/v1/plugins/slots/activity/activate", json!({ "plugin": key })).await;
    assert_eq!(r.ok()["active"], key.as_str());
    key
}

pub(crate) async fn upload_flashcards(root: &Api) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/flashcards");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert_eq!(upload_activity(root, manifest, guests::EXAMPLE_FLASHCARDS).await, KEY);
}

/// A course with a student, published, with one module `m`.
pub(crate) async fn course(w: &World) -> (Api, Api, String, String) {
    install_content_plugin(w).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "prof@alpha.test", "staff").await;
    let student_id = create_user(&w.a.admin, a, "kim@alpha.test", "member").await;
    let teacher = w.login(a, "prof@alpha.test").await;
    let student = w.login(a, "kim@alpha.test").await;
    let course = teacher
        .post(
            &format!("/api/v1/institutions/{a}/courses"),
            json!({"code": "BIO", "title": "Biology", "description": ""}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/api/v1/institutions/{a}/courses/{course}");
    teacher.post(&format!("{base}/enrolments"), json!({"user_id": student_id, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{base}/publish")).await.ok();
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "Photosynthesis"})).await.ok();
    (teacher, student, base, student_id)
}

pub(crate) fn deck() -> Value {
    json!({"cards": [
        {"front": "Chlorophyll", "back": "The green pigment that absorbs light"},
        {"front": "Stomata", "back": "Pores that let gases in and out"}
    ], "mastery_box": 2})
}

#[tokio::test]
async fn an_activity_is_placed_in_a_course_used_scored_and_completed() {
    let w = World::new().await;
    let a = w.a.slug.clone();
    let (teacher, student, base, student_id) = course(&w).await;

    // Before any plugin offers it, the kind does not exist for instructors.
    assert_eq!(teacher.get(&format!("/api/v1/institutions/{a}/activity-kinds")).await.ok()["items"], json!([]));
    let item = |settings: Value| {
        json!({"id": "cards", "kind": "activity", "title": "Photosynthesis words",
               "activity": {"plugin": "org.example.flashcards", "kind": "flashcards", "settings": settings}})
    };
    let r = teacher.post(&format!("{base}/content/modules/m/items"), item(deck())).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("flashcards"), "{}", r.body);

    upload_flashcards(&w.root).await;
    let kinds = teacher.get(&format!("/api/v1/institutions/{a}/activity-kinds")).await.ok().clone();
    let k = &kinds["items"][0];
    assert_eq!(
        (k["plugin"].as_str(), k["kind"].as_str(), k["version"].as_str(), k["graded"].as_bool()),
        (Some("org.example.flashcards"), Some("flashcards"), Some(KEY), Some(true))
    );
    assert_eq!(k["settings_schema"]["required"], json!(["cards"]));

    // Settings are checked against the kind's schema; a body of another kind is refused.
    let r = teacher.post(&format!("{base}/content/modules/m/items"), item(json!({"cards": []}))).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("/cards"), "{}", r.body);
    let mut mixed = item(deck());
    mixed["url"] = json!("https://example.org/");
    teacher.post(&format!("{base}/content/modules/m/items"), mixed).await.assert_problem(422, "validation");
    let r = teacher.post(&format!("{base}/content/modules/m/items"), item(deck())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["kind"], "activity");
    assert_eq!(r.body["completion"], json!({"kind": "reported"}));
    assert_eq!(r.body["body"]["settings"], deck(), "staff read the settings back as written");
    assert_eq!(r.body["body"]["settings_revision"], 1);
    // A page that opens once the deck is mastered.
    let r = teacher
        .post(
            &format!("{base}/content/modules/m/items"),
            json!({"id": "next", "kind": "page", "title": "The Calvin cycle", "markdown": "# Calvin",
                   "prerequisites": [{"kind": "completed", "item": "cards"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // `reported` is for activities only.
    let r = teacher.patch(&format!("{base}/content/items/next"), json!({"completion": {"kind": "reported"}})).await;
    r.assert_problem(422, "validation");

    // The student: the item in the outline, no settings, the plugin's view.
    let outline = student.get(&format!("{base}/content")).await.ok().clone();
    let items = outline["modules"][0]["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["kind"], "activity");
    assert_eq!(items[1]["locked"], true, "{outline}");
    let opened = student.get(&format!("{base}/content/items/cards")).await.ok().clone();
    assert_eq!(opened["item"]["body"]["settings"], Value::Null, "learners never see the answers: {opened}");
    assert!(!opened.to_string().contains("green pigment"), "{opened}");
    let act_path = format!("{base}/content/items/cards/activity/actions");
    let view = student.get(&format!("{base}/content/items/cards/activity")).await.ok().clone();
    assert_eq!(view["state_version"], 0);
    assert_eq!(view["completed"], false);
    let html = view["html"].as_str().unwrap();
    assert!(html.contains("Chlorophyll") && html.contains(r#"data-action="reveal""#), "{html}");
    assert!(html.contains(r#"type="button""#), "every button is made a plain button: {html}");

    // The plugin refuses an action out of turn: its words, nothing kept.
    let r = student.post(&act_path, json!({"action": "knew"})).await;
    r.assert_problem(422, "validation");
    assert!(r.body["detail"].as_str().unwrap().contains("turn the card over"), "{}", r.body);
    // Bad input is the kernel's to refuse, before the plugin sees it.
    student.post(&act_path, json!({"action": "Knew!"})).await.assert_problem(422, "validation");
    student.post(&act_path, json!({"action": "knew", "payload": [1]})).await.assert_problem(400, "malformed-body");
    assert_eq!(student.get(&format!("{base}/content/items/cards/activity")).await.ok()["state_version"], 0);

    // Reveal, then "I knew it" for each card until both are in box 2 (mastered).
    let mut version = 0;
    let mut last = Value::Null;
    for step in 0..8 {
        let r = student.post(&act_path, json!({"action": "reveal"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["view"]["state_version"], version + 1);
        assert!(r.body["view"]["html"].as_str().unwrap().contains(r#"data-action="knew""#), "{}", r.body);
        let r = student.post(&act_path, json!({"action": "knew", "payload": {}})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        version += 2;
        assert_eq!(r.body["view"]["state_version"], version);
        last = r.body.clone();
        if r.body["view"]["completed"] == true {
            assert!(step >= 1, "two cards need two answers: {last}");
            break;
        }
    }
    assert_eq!(last["view"]["completed"], true, "{last}");
    assert_eq!(last["score"], json!({"points": 2.0, "max_points": 2.0}), "{last}");
    assert!(last["message"].as_str().unwrap().contains("complete"), "{last}");

    // The gradebook has the score under the item's id, recorded by the plugin's version.
    let grades = format!("{base}/students/{student_id}/grades");
    let entry = eventually("the activity's score in the gradebook", async || {
        let r = teacher.get(&grades).await;
        r.body["items"].as_array()?.iter().find(|g| g["item"] == "cards" && g["points"] == 2.0).cloned()
    })
    .await;
    assert_eq!(entry["max_points"], 2.0, "{entry}");
    assert_eq!(entry["graded_by"], format!("plugin:{KEY}"), "{entry}");
    assert!(entry["history"].as_array().unwrap().len() >= 2, "each change of mastery is in the history: {entry}");
    // The gradebook names the column after the item.
    let book = teacher.get(&format!("{base}/gradebook")).await.ok().clone();
    let col = book["columns"].as_array().unwrap().iter().find(|c| c["item"] == "cards").unwrap().clone();
    assert_eq!(col["title"], "Photosynthesis words (cards)", "{book}");
    // Completion opens the page that required it.
    let outline = student.get(&format!("{base}/content")).await.ok().clone();
    let items = outline["modules"][0]["items"].as_array().unwrap().clone();
    assert_eq!((items[0]["completed"].as_bool(), items[0]["score"].as_f64()), (Some(true), Some(1.0)), "{outline}");
    assert_eq!(items[1]["locked"], false, "{outline}");
    student.get(&format!("{base}/content/items/next")).await.ok();
    // A `reported` item is not the learner's to mark.
    student.post_empty(&format!("{base}/content/items/cards/complete")).await.assert_problem(409, "conflict");

    // The instructor practises with their own state and is graded nowhere.
    let mine = teacher.get(&format!("{base}/content/items/cards/activity")).await.ok().clone();
    assert_eq!(mine["state_version"], 0, "staff have their own state: {mine}");
    teacher.post(&act_path, json!({"action": "reveal"})).await.ok();
    let r = teacher.post(&act_path, json!({"action": "knew"})).await;
    assert_eq!(r.ok()["score"], Value::Null, "{}", r.body);

    // Changing the settings keeps the learner's state and grows the revision.
    let mut bigger = deck();
    bigger["cards"].as_array_mut().unwrap().push(json!({"front": "Stroma", "back": "The fluid inside a chloroplast"}));
    let r = teacher.patch(&format!("{base}/content/items/cards"), json!({"activity_settings": bigger})).await;
    assert_eq!(r.ok()["body"]["settings_revision"], 2, "{}", r.body);
    teacher
        .patch(&format!("{base}/content/items/cards"), json!({"activity_settings": {"cards": "many"}}))
        .await
        .assert_problem(422, "validation");
    let view = student.get(&format!("{base}/content/items/cards/activity")).await.ok().clone();
    assert_eq!(view["state_version"], version, "{view}");
    assert!(view["html"].as_str().unwrap().contains("2 of 3 cards mastered"), "{view}");

    // The plugin's settings form: this one leaves it to the schema.
    let r = teacher
        .post(
            &format!("{base}/content/activity-settings-view"),
            json!({"plugin": "org.example.flashcards", "kind": "flashcards"}),
        )
        .await;
    assert_eq!(r.ok()["view"], Value::Null);
    student
        .post(
            &format!("{base}/content/activity-settings-view"),
            json!({"plugin": "org.example.flashcards", "kind": "flashcards"}),
        )
        .await
        .assert_problem(403, "forbidden");
    // A kind no plugin offers is the caller's mistake, not a plugin away for now.
    for (plugin, kind) in [("org.example.flashcards", "quiz"), ("nobody.nothing", "flashcards")] {
        let r = teacher
            .post(&format!("{base}/content/activity-settings-view"), json!({"plugin": plugin, "kind": kind}))
            .await;
        r.assert_problem(422, "validation");
        assert_eq!(r.body["field"], "kind", "{}", r.body);
    }
}

/// Sixteen concurrent actions on one learner's state: every one is kept, in
/// some order, and none overwrites another (the kernel's compare-and-swap
/// asks the plugin again when an action raced).
#[tokio::test]
async fn concurrent_actions_lose_no_update() {
    let w = World::new().await;
    let (teacher, student, base, _) = course(&w).await;
    upload_flashcards(&w.root).await;
    let r = teacher
        .post(
            &format!("{base}/content/modules/m/items"),
            json!({"id": "cards", "kind": "activity", "title": "Words",
                   "activity": {"plugin": "org.example.flashcards", "kind": "flashcards", "settings": deck()}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let act_path = format!("{base}/content/items/cards/activity/actions");
    let mut tasks = vec![];
    for _ in 0..16 {
        let (student, path) = (student.clone(), act_path.clone());
        tasks.push(tokio::spawn(async move { student.post(&path, json!({"action": "reveal"})).await }));
    }
    let mut versions = vec![];
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        versions.push(r.body["view"]["state_version"].as_u64().unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=16).collect::<Vec<u64>>(), "each action made its own version");
    assert_eq!(student.get(&format!("{base}/content/items/cards/activity")).await.ok()["state_version"], 16);
}

#[tokio::test]
async fn a_hostile_activity_is_contained_over_http() {
    let w = World::new().await;
    let (teacher, student, base, _) = course(&w).await;
    let manifest = r#"{"id":"test.hostile-activity","version":"1.0.0","slot":"activity","data_version":1,
        "capabilities":{},"resources":{"memory_mib":32,"call_timeout_ms":500}}"#;
    upload_activity(&w.root, manifest.into(), guests::HOSTILE_ACTIVITY).await;
    let kinds = teacher.get(&format!("/api/v1/institutions/{}/activity-kinds", w.a.slug)).await.ok().clone();
    let kind = kinds["items"][0]["kind"].as_str().unwrap().to_owned();
    let r = teacher
        .post(
            &format!("{base}/content/modules/m/items"),
            json!({"id": "h", "kind": "activity", "title": "script",
                   "activity": {"plugin": "test.hostile-activity", "kind": kind, "settings": {}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The view that tries to run script, read cookies, call the API, navigate and phish.
    let view = student.get(&format!("{base}/content/items/h/activity")).await.ok().clone();
    let html = view["html"].as_str().unwrap().to_lowercase();
    for banned in
        ["<script", "onclick", "javascript:", "href", "src=", "<iframe", " action=", "style=", " id=", "cookie"]
    {
        assert!(!html.contains(banned), "`{banned}` survived the kernel's sanitiser: {html}");
    }
    assert!(html.contains(r#"type="button""#) && html.contains("flip"), "{html}");

    // Faults and lies change nothing the student has.
    let act = format!("{base}/content/items/h/activity/actions");
    student.post(&act, json!({"action": "save"})).await.ok();
    let before = student.get(&format!("{base}/content/items/h/activity")).await.ok()["state_version"].clone();
    assert_eq!(before, 1);
    for (action, status) in [("loop", 502), ("huge-state", 502), ("memory", 502)] {
        let r = student.post(&act, json!({"action": action})).await;
        assert_eq!(r.status, status, "{action}: {}", r.body);
        assert!(r.body["detail"].is_string(), "{action}: a problem document: {}", r.body);
    }
    let r = student.post(&act, json!({"action": "score-other"})).await;
    assert!(r.ok()["message"].as_str().unwrap().contains("Denied"), "{}", r.body);
    let r = student.post(&act, json!({"action": "score-lie"})).await;
    assert!(r.ok()["message"].as_str().unwrap().contains("InvalidInput"), "{}", r.body);
    let after = student.get(&format!("{base}/content/items/h/activity")).await.ok()["state_version"].clone();
    assert_eq!(after, 3, "only the two actions the plugin completed were kept");
}

//! `lectern plugin test`: a language-neutral test harness. It loads the
//! project's built component into the real plugin host (the kernel's own,
//! with its services on a temporary store), then runs the cases declared in
//! `tests/*.toml` or `tests/*.json` in order and compares what the plugin
//! returned with what each case expects. Values are written in the JSON the
//! kernel's HTTP API uses (answer keys, responses, views), so a Python or
//! JavaScript author tests without Rust.
//!
//! ```toml
//! [[case]]
//! name = "a right true/false answer earns the points"
//! call = "grade"
//! submissions = [{ question = { id = "q1", key = { true_false = true }, points = 2.0 }, response = { boolean = true } }]
//! expect = [{ question_id = "q1", status = "graded", points = 2.0 }]
//! ```
//!
//! `expect` matches as a subset: every key it names must be in the result
//! with an equal value (numbers within 1e-9), lists element by element and of
//! the same length. `error` instead expects the call to fail with a message
//! containing that text; `contains` lists texts the result's JSON must
//! contain; `none` lists fields of the result that must be absent (TOML
//! has no null); `kv` names the plugin's stored JSON values after the call
//! (`null`, in a JSON case file, for a key that must not be there).
//! Cases share one store, so a later case sees what an earlier one stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use lectern_core::plugins::harness::Harness;
use lectern_core::plugins::slots::{self, CallContext};
use lectern_core::plugins::{HostConfig, PluginError, Slot};
use serde_json::{Value, json};

/// The calls a case may make, per world (also the help text of a refusal).
fn calls(slot: Slot) -> &'static [&'static str] {
    match slot {
        Slot::Grading => &["grade", "event"],
        Slot::QuestionType => &["types", "instantiate", "validate", "grade", "event"],
        Slot::Activity => &["kinds", "render", "act", "event"],
        Slot::Proctoring => &["open-session", "ingest", "close-session", "event"],
        Slot::Content => &["render-markdown", "item-visibility", "event"],
        Slot::Tutoring => &["index-document", "remove-document", "ask", "event"],
        _ => &["event"],
    }
}

/// Where compiled components are cached between runs (content-addressed, so shared by projects).
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("lectern")
        .join("plugin-test")
}

/// The case files: those given, else every `.toml` and `.json` under `tests/`, by name.
fn case_files(dir: &Path, given: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given);
    }
    let tests = dir.join("tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tests)
        .with_context(|| format!("no test cases: {} is missing (see `lectern plugin test --help`)", tests.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no test cases: put .toml or .json files of [[case]] entries in {}", tests.display());
    }
    Ok(files)
}

fn read_cases(path: &Path) -> anyhow::Result<(Value, Vec<Value>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: Value = if path.extension().is_some_and(|x| x == "json") {
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?
    } else {
        let t: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
        serde_json::to_value(t)?
    };
    let cases = doc.get("case").and_then(Value::as_array).cloned().unwrap_or_default();
    if cases.is_empty() {
        bail!("{} has no cases: write them as [[case]] entries (JSON: a \"case\" list)", path.display());
    }
    Ok((doc.get("context").cloned().unwrap_or(Value::Null), cases))
}

/// A case's call context: the file's `[context]`, then the case's `context`, over defaults.
fn context(file: &Value, case: &Value) -> anyhow::Result<CallContext> {
    let mut ctx = Harness::context("inst-test");
    ctx.user = Some("learner-1".into());
    ctx.course = Some("course-1".into());
    ctx.request_id = "plugin-test".into();
    for layer in [file, &case["context"]] {
        let Some(o) = layer.as_object() else { continue };
        for (k, v) in o {
            let text = || v.as_str().map(str::to_owned).with_context(|| format!("context.{k} must be text"));
            match k.as_str() {
                "institution" => ctx.institution = text()?,
                "user" => ctx.user = v.as_str().map(str::to_owned),
                "course" => ctx.course = v.as_str().map(str::to_owned),
                "item" => ctx.item = v.as_str().map(str::to_owned),
                "locale" => ctx.locale = text()?,
                "roles" => {
                    ctx.roles = serde_json::from_value(v.clone()).context("context.roles must be a list of text")?
                }
                other => bail!("unknown context field `{other}` (institution, user, course, item, roles, locale)"),
            }
        }
    }
    Ok(ctx)
}

/// Compares `got` with `want` as a subset; returns where they differ.
fn mismatch(want: &Value, got: &Value, at: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().find_map(|(k, wv)| match g.get(k) {
            Some(gv) => mismatch(wv, gv, &format!("{at}.{k}")),
            None => Some(format!("{at}.{k}: missing (expected {wv})")),
        }),
        (Value::Array(w), Value::Array(g)) if w.len() != g.len() => {
            Some(format!("{at}: expected {} elements, got {}: {got}", w.len(), g.len()))
        }
        (Value::Array(w), Value::Array(g)) => {
            w.iter().zip(g).enumerate().find_map(|(i, (wv, gv))| mismatch(wv, gv, &format!("{at}[{i}]")))
        }
        (Value::Number(w), Value::Number(g)) => {
            let (w, g) = (w.as_f64().unwrap_or(f64::NAN), g.as_f64().unwrap_or(f64::NAN));
            ((w - g).abs() > 1e-9 * w.abs().max(1.0)).then(|| format!("{at}: expected {w}, got {g}"))
        }
        _ => (want != got).then(|| format!("{at}: expected {want}, got {got}")),
    }
}

/// Parses a JSON-text field of a plugin's result for display and matching (text if it is not JSON).
fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// A field that the WIT carries as JSON text, given in a case as any JSON value.
fn json_text(case: &Value, key: &str, default: Value) -> String {
    case.get(key).cloned().unwrap_or(default).to_string()
}

fn text(case: &Value, key: &str) -> anyhow::Result<String> {
    case.get(key).and_then(Value::as_str).map(str::to_owned).with_context(|| format!("the case needs `{key}` (text)"))
}

/// A grading submission in the kernel's JSON; `penalties` default to none.
fn submission(v: &Value) -> anyhow::Result<slots::grading::Submission> {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.entry("penalties").or_insert_with(|| {
            json!({"previous_tries": 0, "per_try": 0.0, "hints_used": 0, "per_hint": 0.0,
                   "late_seconds": 0, "per_late_day": 0.0, "max_total": 1.0})
        });
        o.entry("response").or_insert(Value::Null);
    }
    serde_json::from_value(v.clone())
        .with_context(|| format!("not a submission (kernel JSON, see the API's answer keys): {v}"))
}

fn question(case: &Value) -> anyhow::Result<slots::question::Question> {
    Ok(slots::question::Question {
        id: case.get("id").and_then(Value::as_str).unwrap_or("q1").to_owned(),
        type_id: text(case, "type")?,
        settings: json_text(case, "settings", json!({})),
        points: case.get("points").and_then(Value::as_f64).unwrap_or(1.0),
    })
}

fn view(v: &slots::View) -> Value {
    json!({"html": v.html, "assets": v.assets})
}

/// A proctoring case's attempt id (`attempt-1` unless given).
fn attempt(case: &Value) -> String {
    case.get("attempt").and_then(Value::as_str).unwrap_or("attempt-1").to_owned()
}

/// A proctoring policy in the kernel's JSON; `weights` may be a table of
/// signal kind to weight. Defaults: no weights, flag at 1.0, heartbeats every
/// 30 s, copy and paste not allowed, flag for review.
fn policy(v: &Value) -> anyhow::Result<slots::proctoring::Policy> {
    let mut p = json!({"weights": [], "flag_threshold": 1.0, "heartbeat_interval_ms": 30000,
                       "allow_copy_paste": false, "action": "flag_for_review"});
    if let Some(o) = v.as_object() {
        for (k, v) in o {
            let v = match (k.as_str(), v) {
                ("weights", Value::Object(w)) => Value::Array(w.iter().map(|(k, w)| json!([k, w])).collect()),
                _ => v.clone(),
            };
            p[k] = v;
        }
    }
    serde_json::from_value(p.clone()).with_context(|| format!("not a proctoring policy: {p}"))
}

/// One batch of signals: `seq`, `received_at_ms`, `client` ({network, user_agent, session}), `signals`.
fn batch(v: &Value) -> anyhow::Result<slots::proctoring::Batch> {
    let signals = serde_json::from_value(v.get("signals").cloned().unwrap_or(json!([])))
        .context("`signals`: a list of {kind, at_ms, duration_ms, detail}")?;
    let c = v.get("client").cloned().unwrap_or(Value::Null);
    let field = |k: &str| c.get(k).and_then(Value::as_str);
    Ok(slots::proctoring::Batch {
        seq: v.get("seq").and_then(Value::as_u64).context("a batch needs `seq` (1, 2, …)")?,
        received_at_ms: v.get("received_at_ms").and_then(Value::as_u64).unwrap_or(0),
        client: slots::proctoring::Client::observed(
            field("network").map(str::to_owned),
            field("user_agent"),
            field("session"),
        ),
        signals,
    })
}

struct Runner<'a> {
    harness: &'a Harness,
    plugin: String,
    slot: Slot,
    /// Activity learner states by item id, carried from one case to the next.
    states: BTreeMap<String, slots::activity::LearnerState>,
    /// The last proctoring batch number per attempt, for cases that give `signals` only.
    seqs: BTreeMap<String, u64>,
}

impl Runner<'_> {
    fn call(&mut self, call: &str, case: &Value, ctx: &CallContext) -> anyhow::Result<Result<Value, String>> {
        let host = &self.harness.host;
        let err = |e: PluginError| Ok(Err(e.to_string()));
        let p = self.plugin.as_str();
        let call = call.replace('_', "-");
        let call = call.as_str();
        Ok(Ok(match (self.slot, call) {
            (_, "event") => {
                let ev = slots::EventContext {
                    institution: ctx.institution.clone(),
                    actor: ctx.user.clone(),
                    course: ctx.course.clone(),
                    topic: text(case, "topic")?,
                    message_id: case.get("message_id").and_then(Value::as_str).unwrap_or("msg-1").to_owned(),
                    occurred_at_ms: case.get("occurred_at_ms").and_then(Value::as_u64).unwrap_or(0),
                    locale: ctx.locale.clone(),
                };
                let payload = json_text(case, "payload", json!({}));
                match host.deliver_event(p, &ev, payload.as_bytes()) {
                    Ok(Some(_)) => Value::Null,
                    Ok(None) => {
                        return Ok(Err(format!(
                            "not delivered: the manifest does not subscribe to `{}` ([capabilities] subscribe)",
                            ev.topic
                        )));
                    }
                    Err(e) => return err(e),
                }
            }
            (Slot::Grading, "grade") => {
                let subs = case
                    .get("submissions")
                    .and_then(Value::as_array)
                    .context("`grade` needs `submissions` (a list)")?
                    .iter()
                    .map(submission)
                    .collect::<anyhow::Result<Vec<_>>>()?;
                match host.grade(ctx, &subs) {
                    Ok((graded, _)) => serde_json::to_value(graded)?,
                    Err(e) => return err(e),
                }
            }
            (Slot::QuestionType, "types") => Value::Array(
                host.question_types(&ctx.institution)
                    .into_iter()
                    .filter(|t| t.plugin == p)
                    .map(|t| {
                        json!({"id": t.info.id, "name": t.info.name, "description": t.info.description,
                               "settings_schema": parsed(&t.info.settings_schema),
                               "response_schema": parsed(&t.info.response_schema)})
                    })
                    .collect(),
            ),
            (Slot::QuestionType, "instantiate") => {
                let q = question(case)?;
                let seed = case.get("seed").and_then(Value::as_u64).unwrap_or(1);
                if let Err(e) = host.check_question_settings(&ctx.institution, p, &q.type_id, &parsed(&q.settings)) {
                    return Ok(Err(e.to_string()));
                }
                match host.question_instantiate(p, ctx, &q, seed) {
                    Ok((i, _)) => json!({"data": parsed(&i.data), "view": view(&i.view)}),
                    Err(e) => return err(e),
                }
            }
            (Slot::QuestionType, "validate") => {
                let q = question(case)?;
                let response = case.get("response").context("`validate` needs `response`")?;
                if let Err(e) = host.check_question_response(&ctx.institution, p, &q.type_id, response) {
                    return Ok(Err(e.to_string()));
                }
                let instance = json_text(case, "instance", json!({}));
                match host.question_validate(p, ctx, &q, &instance, &response.to_string()) {
                    Ok(()) => Value::Null,
                    Err(e) => return err(e),
                }
            }
            (Slot::QuestionType, "grade") => {
                let items = case
                    .get("items")
                    .and_then(Value::as_array)
                    .context("`grade` needs `items` (a list of {type, settings, points, instance, response})")?
                    .iter()
                    .map(|i| {
                        Ok(slots::question::ToGrade {
                            question: question(i)?,
                            instance: json_text(i, "instance", json!({})),
                            response: i.get("response").filter(|r| !r.is_null()).map(Value::to_string),
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                match host.question_grade(p, ctx, &items) {
                    Ok((graded, _)) => Value::Array(
                        graded
                            .into_iter()
                            .map(|g| {
                                json!({"question_id": g.question_id, "status": g.status, "fraction": g.fraction,
                                       "feedback": g.feedback, "explanation": g.explanation})
                            })
                            .collect(),
                    ),
                    Err(e) => return err(e),
                }
            }
            (Slot::Activity, "kinds") => Value::Array(
                host.activity_kinds(&ctx.institution)
                    .into_iter()
                    .filter(|k| k.plugin == p)
                    .map(|k| {
                        json!({"id": k.info.id, "name": k.info.name, "description": k.info.description,
                               "settings_schema": parsed(&k.info.settings_schema), "graded": k.info.graded})
                    })
                    .collect(),
            ),
            (Slot::Activity, "render" | "act") => {
                let item = slots::activity::Item {
                    id: case.get("item").and_then(Value::as_str).unwrap_or("item-1").to_owned(),
                    kind: text(case, "kind")?,
                    title: case.get("title").and_then(Value::as_str).unwrap_or("Activity").to_owned(),
                    settings: json_text(case, "settings", json!({})),
                    settings_revision: 1,
                };
                if let Err(e) = host.check_activity_settings(&ctx.institution, p, &item.kind, &parsed(&item.settings)) {
                    return Ok(Err(e.to_string()));
                }
                let mut ctx = ctx.clone();
                ctx.item = Some(item.id.clone());
                let state = self.states.get(&item.id).cloned();
                if call == "render" {
                    match host.activity_render(p, &ctx, &item, state.as_ref()) {
                        Ok(v) => view(&v),
                        Err(e) => return err(e),
                    }
                } else {
                    let action = slots::activity::Action {
                        name: text(case, "action")?,
                        payload: json_text(case, "payload", json!({})),
                    };
                    let staff = ctx.roles.iter().any(|r| r != "student");
                    let learner = if staff { None } else { ctx.user.clone() };
                    match host.activity_act(p, &ctx, &item, state.as_ref(), &action, learner.as_deref()) {
                        Ok(acted) => {
                            let o = acted.outcome;
                            if let Some(s) = &o.state {
                                let version = state.map_or(1, |s| s.version + 1);
                                self.states.insert(
                                    item.id.clone(),
                                    slots::activity::LearnerState { data: s.clone(), version },
                                );
                            }
                            let effects: Vec<Value> = acted
                                .effects
                                .into_iter()
                                .map(|e| match e {
                                    slots::activity::Effect::Score { learner, points, max_points, feedback } => {
                                        json!({"score": {"learner": learner, "points": points, "max_points": max_points, "feedback": feedback}})
                                    }
                                    slots::activity::Effect::Complete { learner } => json!({"complete": {"learner": learner}}),
                                })
                                .collect();
                            json!({
                                "state": o.state.as_deref().map(|s| parsed(&String::from_utf8_lossy(s))),
                                "view": o.view.as_ref().map(view),
                                "message": o.message,
                                "effects": effects,
                            })
                        }
                        Err(e) => return err(e),
                    }
                }
            }
            (Slot::Proctoring, "open-session") => {
                let attempt = attempt(case);
                let policy = policy(case.get("policy").unwrap_or(&Value::Null))?;
                let started = case.get("started_at_ms").and_then(Value::as_u64).unwrap_or(0);
                self.seqs.remove(&attempt);
                match host.proctor_open(ctx, &attempt, &policy, started) {
                    Ok(()) => Value::Null,
                    Err(e) => return err(e),
                }
            }
            (Slot::Proctoring, "ingest") => {
                let attempt = attempt(case);
                let batches = match (case.get("batches"), case.get("signals")) {
                    (Some(b), _) => b
                        .as_array()
                        .context("`batches` must be a list")?
                        .iter()
                        .map(batch)
                        .collect::<anyhow::Result<Vec<_>>>()?,
                    (None, Some(signals)) => {
                        let seq = self.seqs.get(&attempt).copied().unwrap_or(0) + 1;
                        vec![batch(&json!({"seq": seq, "signals": signals}))?]
                    }
                    (None, None) => bail!("`ingest` needs `signals` (one batch) or `batches`"),
                };
                if let Some(last) = batches.last() {
                    self.seqs.insert(attempt.clone(), last.seq);
                }
                match host.proctor_ingest(ctx, &attempt, &batches) {
                    Ok(a) => serde_json::to_value(a)?,
                    Err(e) => return err(e),
                }
            }
            (Slot::Proctoring, "close-session") => {
                let ended = case.get("ended_at_ms").and_then(Value::as_u64).unwrap_or(0);
                match host.proctor_close(ctx, &attempt(case), ended) {
                    Ok(a) => serde_json::to_value(a)?,
                    Err(e) => return err(e),
                }
            }
            (Slot::Content, "render-markdown") => match host.render_markdown(ctx, &text(case, "source")?) {
                Ok(page) => serde_json::to_value(page)?,
                Err(e) => return err(e),
            },
            (Slot::Content, "item-visibility") => {
                let modules: Vec<slots::content::Module> =
                    serde_json::from_value(case.get("modules").cloned().context("`item-visibility` needs `modules`")?)
                        .context("`modules`: a list of {id, title, items, release_at_ms}")?;
                let progress: Vec<slots::content::Progress> =
                    serde_json::from_value(case.get("progress").cloned().unwrap_or(json!([])))
                        .context("`progress`: a list of {item_id, completed, score}")?;
                let now = case.get("now_ms").and_then(Value::as_u64).unwrap_or(0);
                match host.item_visibility(ctx, &modules, &progress, now) {
                    Ok(v) => serde_json::to_value(v)?,
                    Err(e) => return err(e),
                }
            }
            (Slot::Tutoring, "index-document") => {
                let mut d = case.get("document").cloned().context("`index-document` needs `document`")?;
                if let Some(o) = d.as_object_mut() {
                    let id = o.get("id").cloned().unwrap_or(Value::Null);
                    o.entry("course").or_insert_with(|| json!(ctx.course));
                    o.entry("item").or_insert(id);
                    o.entry("language").or_insert_with(|| json!("en"));
                }
                let doc: slots::tutoring::Document =
                    serde_json::from_value(d).context("`document`: {id, title, text, course, item, language}")?;
                match host.tutor_index(ctx, &doc) {
                    Ok(n) => json!(n),
                    Err(e) => return err(e),
                }
            }
            (Slot::Tutoring, "remove-document") => match host.tutor_remove(ctx, &text(case, "id")?) {
                Ok(()) => Value::Null,
                Err(e) => return err(e),
            },
            (Slot::Tutoring, "ask") => {
                let mut q = match case.get("question") {
                    Some(Value::String(t)) => json!({"text": t}),
                    Some(q) => q.clone(),
                    None => bail!("`ask` needs `question` (text, or {{text, history, open_assessment}})"),
                };
                if let Some(o) = q.as_object_mut() {
                    o.entry("course").or_insert_with(|| json!(ctx.course));
                }
                let q: slots::tutoring::Question = serde_json::from_value(q)
                    .context("`question`: {text, course, history: [{question, answer}], open_assessment}")?;
                match host.tutor_ask(ctx, &q) {
                    Ok(a) => serde_json::to_value(a)?,
                    Err(e) => return err(e),
                }
            }
            (slot, other) => {
                bail!("`{other}` is not a call of a {} plugin: use one of {}", slot.name(), calls(slot).join(", "))
            }
        }))
    }
}

/// Runs the project's test cases; fails when one fails.
pub fn run(dir: &Path, component: Option<PathBuf>, files: Vec<PathBuf>, filter: Option<String>) -> anyhow::Result<()> {
    let files = case_files(dir, files)?;
    // What the plugin logs and prints (a Python traceback, console.error) shows
    // above the case it belongs to; LECTERN_TEST_LOG changes the filter.
    let log_filter = std::env::var("LECTERN_TEST_LOG").unwrap_or_else(|_| "plugin=debug,warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&log_filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false)
        .try_init();
    let (manifest, wasm) = crate::market::manifest_and_component(dir, component)?;
    let wasm_bytes = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let config = HostConfig { max_concurrent_instances: 8, compile_cache_dir: Some(cache_dir()), ..Default::default() };
    let started = Instant::now();
    let harness = Harness::with_config(config).context("cannot start the plugin host")?;
    let (plugin, slot) = (manifest.id.clone(), manifest.slot);
    let key = harness
        .install_manifest_active(manifest, &wasm_bytes)
        .map_err(|e| anyhow::anyhow!("the host refused {}: {e}", wasm.display()))?;
    eprintln!("loaded {key} ({} bytes) in {:.1} s", wasm_bytes.len(), started.elapsed().as_secs_f64());
    if slot == Slot::Tutoring {
        harness.attach_lexical_retrieval().map_err(|e| anyhow::anyhow!("cannot attach the vector index: {e}"))?;
    }
    let mut runner =
        Runner { harness: &harness, plugin: plugin.clone(), slot, states: BTreeMap::new(), seqs: BTreeMap::new() };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in &files {
        let (file_ctx, cases) = read_cases(file)?;
        let shown = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        for (i, case) in cases.iter().enumerate() {
            let name = case
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("case {}", i + 1));
            if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
                skipped += 1;
                continue;
            }
            let outcome = (|| -> anyhow::Result<Option<String>> {
                let call = text(case, "call")?;
                let ctx = context(&file_ctx, case)?;
                let t = Instant::now();
                let result = runner.call(&call, case, &ctx)?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let problem = match (&result, case.get("error")) {
                    (Err(got), Some(want)) => {
                        let want = want.as_str().context("`error` must be text the error message contains")?;
                        (!got.contains(want)).then(|| format!("expected an error containing {want:?}, got: {got}"))
                    }
                    (Err(got), None) => Some(format!("the call failed: {got}")),
                    (Ok(got), Some(want)) => Some(format!("expected an error containing {want}, got: {got}")),
                    (Ok(got), None) => {
                        case.get("expect")
                            .and_then(|want| mismatch(want, got, "result"))
                            .or_else(|| {
                                let text = got.to_string();
                                case.get("contains").and_then(Value::as_array).into_iter().flatten().find_map(|c| {
                                    let c = c.as_str().unwrap_or_default();
                                    (!text.contains(c)).then(|| format!("the result does not contain {c:?}: {text}"))
                                })
                            })
                            .or_else(|| {
                                // TOML has no null: `none` lists the result's fields that must be absent.
                                case.get("none").and_then(Value::as_array).into_iter().flatten().find_map(|k| {
                                    let k = k.as_str().unwrap_or_default();
                                    got.get(k)
                                        .filter(|v| !v.is_null())
                                        .map(|v| format!("result.{k}: expected none, got {v}"))
                                })
                            })
                    }
                };
                let problem = match problem {
                    Some(p) => Some(p),
                    None => check_kv(&harness, &plugin, &ctx, case)?,
                };
                if problem.is_none() {
                    println!("ok    {shown}: {name} ({ms:.1} ms)");
                }
                Ok(problem)
            })();
            match outcome {
                Ok(None) => passed += 1,
                Ok(Some(problem)) => {
                    failed += 1;
                    println!("FAIL  {shown}: {name}\n      {problem}");
                }
                Err(e) => {
                    failed += 1;
                    println!("FAIL  {shown}: {name}\n      the case is not usable: {e:#}");
                }
            }
        }
    }
    println!(
        "{passed} passed, {failed} failed{}",
        if skipped > 0 { format!(", {skipped} filtered out") } else { String::new() }
    );
    if failed > 0 {
        bail!("{failed} case(s) failed");
    }
    if passed == 0 {
        bail!("no case ran");
    }
    Ok(())
}

/// `kv = { key = value }`: the plugin's stored JSON under the case's institution; `null` means absent.
fn check_kv(h: &Harness, plugin: &str, ctx: &CallContext, case: &Value) -> anyhow::Result<Option<String>> {
    let Some(want) = case.get("kv").and_then(Value::as_object) else { return Ok(None) };
    for (key, w) in want {
        let got = h.host.plugin_kv(plugin, &ctx.institution, key).map_err(|e| anyhow::anyhow!("{e}"))?;
        let got = match got {
            None => Value::Null,
            Some(bytes) => serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        };
        if let Some(m) = mismatch(w, &got, &format!("kv[{key:?}]")) {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_match_as_a_subset() {
        let got = json!([{"question_id": "q1", "points": 2.0, "feedback": [], "status": "graded"}]);
        assert_eq!(mismatch(&json!([{"points": 2}]), &got, "result"), None);
        assert_eq!(mismatch(&json!([{"points": 2.0000000001}]), &got, "result"), None);
        assert_eq!(
            mismatch(&json!([{"points": 1.5}]), &got, "result").as_deref(),
            Some("result[0].points: expected 1.5, got 2")
        );
        assert!(mismatch(&json!([{}, {}]), &got, "result").is_some_and(|m| m.contains("expected 2 elements")));
        assert!(mismatch(&json!([{"absent": 1}]), &got, "result").is_some_and(|m| m.contains("missing")));
        assert!(mismatch(&json!([{"status": "needs_manual_grading"}]), &got, "result").is_some());
    }
}

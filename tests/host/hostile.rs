//! Hostile plugins are contained to their own call; the kernel keeps serving.

use lectern_e2e::guests;
use lectern_host::slots::grading as g;
use lectern_host::{BreakerState, Capabilities, HostError, ImportRefusal, PluginError, Scope, Slot};

use crate::{ctx, env, install_grading_v1, manifest, wasm};

fn ask(id: &str) -> Vec<g::Submission> {
    vec![crate::slots::tf(id, true, Some(true))]
}

/// Grading-v1 serves the platform; the hostile plugin serves institution `evil` only.
fn setup() -> crate::Env {
    let e = env();
    install_grading_v1(&e.host);
    let m = manifest("test.hostile", "1.0.0", Slot::Grading, 1);
    let grant = m.capabilities.clone();
    e.host.install(m, &wasm(guests::HOSTILE), &grant).unwrap();
    e.host.activate(Slot::Grading, Scope::Institution("evil".into()), "test.hostile@1.0.0").unwrap();
    e
}

fn healthy(e: &crate::Env) {
    let (r, who) = e.host.grade(&ctx("good-u"), &ask("q")).unwrap();
    assert_eq!(who, "test.grading@1.0.0");
    assert_eq!(r[0].points, 2.0);
}

#[test]
fn every_misbehaviour_is_contained_to_its_call() {
    let e = setup();
    let evil = ctx("evil");
    type Expect = fn(&PluginError) -> bool;
    let cases: Vec<(&str, Expect)> = vec![
        ("loop", |e| matches!(e, PluginError::Timeout { limit_ms: 500 } | PluginError::OutOfFuel)),
        ("memory", |e| matches!(e, PluginError::MemoryLimit { limit_mib: 32 })),
        // Rust's shadow stack lives in linear memory: overflowing it is an
        // out-of-bounds access rather than wasmtime's own stack overflow.
        (
            "recurse",
            |e| matches!(e, PluginError::Trap(m) if m.contains("stack overflow") || m.contains("out of bounds")),
        ),
        ("huge", |e| matches!(e, PluginError::MemoryLimit { .. } | PluginError::ResultTooLarge { .. })),
        ("panic", |e| matches!(e, PluginError::Trap(_))),
    ];
    for (what, expected) in cases {
        let started = std::time::Instant::now();
        let err = e.host.grade(&evil, &ask(what)).unwrap_err();
        assert!(expected(&err), "{what}: unexpected {err:?}");
        assert!(err.is_fault(), "{what} counts as a fault");
        println!("{what}: {err} after {:?}", started.elapsed());
        // Everyone else is unaffected.
        healthy(&e);
        // Let the breaker close again between cases (threshold is 3 in tests).
        let _ = e.host.grade(&evil, &ask("fine"));
    }
    // A plugin's own error is not a fault.
    let err = e.host.grade(&evil, &ask("error")).unwrap_err();
    assert!(matches!(err, PluginError::Guest(lectern_host::GuestError::InvalidInput(_))) && !err.is_fault());
}

#[test]
fn no_ambient_authority_and_no_namespace_escape() {
    let e = setup();
    // The honest plugin stores a counter for institution `evil` too.
    let _ = e.host.grade(&ctx("evil-twin"), &ask("q")).unwrap();
    let (r, _) = e.host.grade(&ctx("evil"), &ask("wasi")).unwrap();
    assert_eq!(
        r[0].explanation[..5],
        ["no filesystem", "no /etc/passwd", "empty environment", "no network", "clock 0"]
    );
    // Grading plugins get frozen clocks and seeded randomness: the same call
    // gives the same answer every time.
    let (again, _) = e.host.grade(&ctx("evil"), &ask("wasi")).unwrap();
    assert_eq!(r[0].explanation, again[0].explanation);
    let (r, _) = e.host.grade(&ctx("evil"), &ask("escape")).unwrap();
    let seen = &r[0].explanation;
    assert!(seen.contains(&"nul key: true".to_string()), "{seen:?}");
    assert!(seen.contains(&"other plugin's counter: Some(true)".to_string()), "`graded` is its own key: {seen:?}");
    let keys: Vec<&String> = seen.iter().filter(|s| s.starts_with("key ")).collect();
    assert_eq!(keys.len(), 5, "only its own five keys: {seen:?}");
    // The honest plugin's data is untouched, and the hostile keys live under the hostile plugin.
    assert_eq!(e.host.plugin_kv("test.grading", "evil-twin", "graded").unwrap(), Some(b"1".to_vec()));
    assert_eq!(e.host.plugin_kv("test.hostile", "evil", "../test.grading/graded").unwrap(), Some(b"hostile".to_vec()));
    assert_eq!(e.host.plugin_kv("test.grading", "evil", "graded").unwrap(), None);
}

#[test]
fn repeated_faults_open_the_breaker_and_the_admin_sees_why() {
    let e = setup();
    let evil = ctx("evil");
    for _ in 0..3 {
        assert!(e.host.grade(&evil, &ask("panic")).unwrap_err().is_fault());
    }
    let err = e.host.grade(&evil, &ask("fine")).unwrap_err();
    assert!(matches!(err, PluginError::CircuitOpen { ref plugin, .. } if plugin == "test.hostile@1.0.0"), "{err:?}");
    let status = e.host.list().unwrap().into_iter().find(|p| p.installed.manifest.id == "test.hostile").unwrap();
    assert!(
        matches!(status.breaker, BreakerState::Open { ref reason, .. } if reason.contains("crashed")),
        "{:?}",
        status.breaker
    );
    assert_eq!(status.stats.faults, 3);
    healthy(&e);
    // After the backoff a successful probe closes it.
    std::thread::sleep(std::time::Duration::from_millis(250));
    e.host.grade(&evil, &ask("fine")).unwrap();
    let status = e.host.list().unwrap().into_iter().find(|p| p.installed.manifest.id == "test.hostile").unwrap();
    assert_eq!(status.breaker, BreakerState::Closed);
}

#[test]
fn undeclared_ungranted_and_foreign_imports_are_refused_at_install() {
    let e = env();
    // Imports events, manifest declares none.
    let m = manifest("test.undeclared", "1.0.0", Slot::Proctoring, 1);
    let err = e.host.install(m.clone(), &wasm(guests::UNDECLARED), &m.capabilities).unwrap_err();
    assert!(
        matches!(err, HostError::ImportRefused { ref import, reason: ImportRefusal::Undeclared } if import == "lectern:plugin/events@0.1.0"),
        "{err:?}"
    );
    assert!(err.to_string().contains("lectern:plugin/events@0.1.0") && err.to_string().contains("does not declare"));
    // Declared but not granted.
    let mut declared = m.clone();
    declared.capabilities.publish = vec!["proctoring.opened".into()];
    let err = e.host.install(declared.clone(), &wasm(guests::UNDECLARED), &Capabilities::default()).unwrap_err();
    assert!(
        matches!(err, HostError::ImportRefused { ref import, reason: ImportRefusal::NotGranted } if import.contains("events")),
        "{err:?}"
    );
    assert!(err.to_string().contains("not granted"), "{err}");
    // Declared and granted: installs.
    e.host.install(declared.clone(), &wasm(guests::UNDECLARED), &declared.capabilities).unwrap();
    // A grading component offered for the proctoring slot lacks the proctor export.
    let mut wrong_slot = manifest("test.wrong", "1.0.0", Slot::Proctoring, 1);
    wrong_slot.capabilities.kv_quota_bytes = Some(1024);
    let err = e.host.install(wrong_slot.clone(), &wasm(guests::GRADING_V1), &wrong_slot.capabilities).unwrap_err();
    assert!(matches!(err, HostError::MissingExport { interface: "proctor", slot: Slot::Proctoring }), "{err:?}");
    // Not a component at all.
    let err = e
        .host
        .install(manifest("test.junk", "1.0.0", Slot::Grading, 1), b"\0asm junk", &Capabilities::default())
        .unwrap_err();
    assert!(matches!(err, HostError::InvalidComponent { .. }), "{err:?}");
    // Nothing half-installed.
    assert!(e.host.list().unwrap().iter().all(|p| p.installed.manifest.id == "test.undeclared"));
}

/// A guest in another language (Python, componentize-py) imports filesystem,
/// sockets, clocks and random: it installs and runs with none of them
/// granting access. Needs a component built as described in
/// tests/fixtures/python-grader/README.md; skipped (and says so) without one.
#[test]
fn python_guest_installs_and_runs_without_authority() {
    let Some(path) = std::env::var_os("LECTERN_TEST_PY_COMPONENT") else {
        println!("skipped: set LECTERN_TEST_PY_COMPONENT to a componentize-py build of tests/fixtures/python-grader");
        return;
    };
    let e = env();
    let mut m = manifest("test.python-grader", "1.0.0", Slot::Grading, 1);
    m.resources =
        lectern_host::Resources { memory_mib: 128, call_timeout_ms: 5_000, fuel: Some(u64::MAX / 4), reuse_calls: 0 };
    let grant = m.capabilities.clone();
    let started = std::time::Instant::now();
    e.host.install(m, &std::fs::read(path).unwrap(), &grant).unwrap();
    println!("python component installed (compiled) in {:?}", started.elapsed());
    e.host.activate(Slot::Grading, Scope::Platform, "test.python-grader@1.0.0").unwrap();
    let started = std::time::Instant::now();
    let (r, _) = e.host.grade(&ctx("py"), &ask("q")).unwrap();
    println!("fresh instance + call: {:?}", started.elapsed());
    assert_eq!(r[0].points, 2.0);
    assert_eq!(r[0].explanation, vec!["graded by Python", "no /etc/passwd", "empty environment", "no network"]);
    assert_eq!(e.host.plugin_kv("test.python-grader", "py", "graded").unwrap(), Some(b"1".to_vec()));
}

/// Instances are never reused, whatever the pooling allocator does with a
/// slot's memory between them (`HostConfig::memory_keep_resident_bytes`;
/// the test runs at the default and, below, with 256 KiB kept): whatever one
/// call leaves in globals, static areas, grown memory or a caller's id, the
/// next call (another caller, often the same slot) starts from the image again.
#[test]
fn no_call_sees_what_an_earlier_call_left_in_memory() {
    no_traces_of_earlier_calls(setup());
    // The same with each slot's first MiB kept resident and reset in place.
    let dir = tempfile::tempdir().unwrap();
    let store = lectern_storage::Store::open(dir.path().join("db"), Default::default()).unwrap();
    let config = lectern_host::HostConfig { memory_keep_resident_bytes: 1 << 20, ..crate::config() };
    let host = lectern_host::Host::open(&store, dir.path().join("plugins"), config).unwrap();
    let e = crate::Env { host, store, dir };
    install_grading_v1(&e.host);
    let m = manifest("test.hostile", "1.0.0", Slot::Grading, 1);
    let grant = m.capabilities.clone();
    e.host.install(m, &wasm(guests::HOSTILE), &grant).unwrap();
    e.host.activate(Slot::Grading, Scope::Institution("evil".into()), "test.hostile@1.0.0").unwrap();
    no_traces_of_earlier_calls(e);
}

fn no_traces_of_earlier_calls(e: crate::Env) {
    // The check itself: within one instance, the second look sees the first's traces.
    let (r, _) = e.host.grade(&ctx("evil"), &ask("remember-twice")).unwrap();
    // (The second grow lands after the first, so its pages are new: 0 there.)
    assert_eq!(
        r[0].explanation,
        [
            "calls before 1",
            "previous caller Some(\"test\")",
            "dirty static bytes 524288",
            "dirty grown-memory bytes 0",
            "changed image bytes 65536"
        ]
    );
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let host = e.host.clone();
            std::thread::spawn(move || {
                for i in 0..300 {
                    let mut c = ctx("evil");
                    c.request_id = format!("caller-{t}-{i}");
                    let (r, _) = host.grade(&c, &ask("remember")).unwrap();
                    assert_eq!(
                        r[0].explanation,
                        [
                            "calls before 0",
                            "previous caller None",
                            "dirty static bytes 0",
                            "dirty grown-memory bytes 0",
                            "changed image bytes 0"
                        ],
                        "call {i} on thread {t} saw an earlier call's traces"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A host with `config` where the hostile grader, asking for `reuse_calls`, serves the platform.
fn hostile_reusing(config: lectern_host::HostConfig, reuse_calls: u32) -> crate::Env {
    let dir = tempfile::tempdir().unwrap();
    let store = lectern_storage::Store::open(dir.path().join("db"), Default::default()).unwrap();
    let host = lectern_host::Host::open(&store, dir.path().join("plugins"), config).unwrap();
    let mut m = manifest("test.hostile", "1.0.0", Slot::Grading, 1);
    m.resources.reuse_calls = reuse_calls;
    let grant = m.capabilities.clone();
    host.install(m, &wasm(guests::HOSTILE), &grant).unwrap();
    host.activate(Slot::Grading, Scope::Platform, "test.hostile@1.0.0").unwrap();
    crate::Env { host, store, dir }
}

/// A plugin that opts in (`resources.reuse_calls`) gets a warm instance for
/// its next call, but only of the same institution and version, only up to
/// the number of calls it asked for, and never after a fault.
#[test]
fn warm_instances_are_reused_within_one_institution_and_version_only() {
    let e = hostile_reusing(crate::config(), 3);
    let remember = |institution: &str, request: &str| {
        let mut c = ctx(institution);
        c.request_id = request.into();
        let (r, _) = e.host.grade(&c, &ask("remember")).unwrap();
        r[0].explanation[..2].join("; ")
    };
    assert_eq!(remember("a", "a1"), "calls before 0; previous caller None");
    assert_eq!(remember("a", "a2"), "calls before 1; previous caller Some(\"a1\")");
    // Another institution never gets A's instance.
    assert_eq!(remember("b", "b1"), "calls before 0; previous caller None");
    assert_eq!(remember("a", "a3"), "calls before 2; previous caller Some(\"a2\")");
    // Three calls served: the fourth gets a fresh instance.
    assert_eq!(remember("a", "a4"), "calls before 0; previous caller None");
    assert_eq!(e.host.warm_instances("test.hostile@1.0.0"), 2, "one idle instance each for a and b");
    // The plugin's own error is a clean end: the instance serves again.
    let err = e.host.grade(&ctx("a"), &ask("error")).unwrap_err();
    assert!(matches!(err, PluginError::Guest(_)), "{err:?}");
    assert_eq!(remember("a", "a5"), "calls before 1; previous caller Some(\"a4\")");
    // A fault drops it: the next call starts fresh.
    assert_eq!(remember("a", "a6"), "calls before 0; previous caller None");
    let err = e.host.grade(&ctx("a"), &ask("panic")).unwrap_err();
    assert!(err.is_fault(), "{err:?}");
    assert_eq!(remember("a", "a7"), "calls before 0; previous caller None");
    // Another version in the seat: this version's idle instances go.
    install_grading_v1(&e.host);
    assert_eq!(e.host.warm_instances("test.hostile@1.0.0"), 0);
    // Without the opt-in (every other test here), each call has a fresh instance:
    // `no_traces_of_earlier_calls`.
}

/// A host with `warm_instances: 0` gives even an opted-in plugin a fresh instance per call.
#[test]
fn a_host_without_warm_instances_never_reuses() {
    let e = hostile_reusing(lectern_host::HostConfig { warm_instances: 0, ..crate::config() }, 100);
    let host = &e.host;
    for _ in 0..3 {
        let (r, _) = host.grade(&ctx("a"), &ask("remember")).unwrap();
        assert_eq!(r[0].explanation[0], "calls before 0");
    }
    assert_eq!(host.warm_instances("test.hostile@1.0.0"), 0);
}

/// Idle warm instances hold slots of the instance pool; when the pool is full
/// they are dropped for a call that needs a fresh instance, which then runs.
#[test]
fn idle_warm_instances_give_way_when_the_pool_is_full() {
    let e = hostile_reusing(lectern_host::HostConfig { max_concurrent_instances: 3, ..crate::config() }, 100);
    let host = &e.host;
    for institution in ["a", "b", "c"] {
        host.grade(&ctx(institution), &ask("remember")).unwrap();
    }
    assert_eq!(host.warm_instances("test.hostile@1.0.0"), 3, "the whole pool is idle warm instances");
    let (r, _) = host.grade(&ctx("d"), &ask("remember")).unwrap();
    assert_eq!(r[0].explanation[0], "calls before 0");
    assert_eq!(host.warm_instances("test.hostile@1.0.0"), 1, "the others gave way; d's is kept");
}

//! Install, activate, migrate, roll back, uninstall, restart.

use lectern_e2e::guests;
use lectern_host::{ActivationStep, Host, HostError, PluginError, Scope, Slot};

use crate::{config, ctx, env, install_grading_v1, manifest, wasm};

#[test]
fn versions_migrate_roll_back_and_survive_restart() {
    let e = env();
    let v1 = install_grading_v1(&e.host);
    assert_eq!(e.host.plugin_kv("test.grading", "*", "inits").unwrap(), Some(b"1".to_vec()), "init ran once");
    e.host.grade(&ctx("i"), &[crate::slots::tf("q", true, Some(true))]).unwrap();

    // v2 raises the data version: migrate runs before it takes over.
    let m2 = manifest("test.grading", "2.0.0", Slot::Grading, 2);
    e.host.install(m2.clone(), &wasm(guests::GRADING_V2), &m2.capabilities).unwrap();
    let a = e.host.activate(Slot::Grading, Scope::Platform, "test.grading@2.0.0").unwrap();
    assert_eq!(a.previous.as_deref(), Some(v1.as_str()));
    assert_eq!(a.migrated_from, Some(1));
    assert_eq!(e.host.plugin_kv("test.grading", "*", "migrated").unwrap(), Some(br#""1->2""#.to_vec()));
    assert_eq!(e.host.active_for(Slot::Grading, "i").as_deref(), Some("test.grading@2.0.0"));
    // Plugin data survives the swap: v2 continues v1's counter.
    e.host.grade(&ctx("i"), &[crate::slots::tf("q", true, Some(true))]).unwrap();
    assert_eq!(e.host.plugin_kv("test.grading", "i", "graded").unwrap(), Some(b"2".to_vec()));

    // A version whose migrate fails never becomes active.
    let m3 = manifest("test.grading", "3.0.0", Slot::Grading, 3);
    e.host.install(m3.clone(), &wasm(guests::GRADING_V3_BAD_MIGRATE), &m3.capabilities).unwrap();
    let err = e.host.activate(Slot::Grading, Scope::Platform, "test.grading@3.0.0").unwrap_err();
    assert!(
        matches!(err, HostError::ActivationFailed { step: ActivationStep::Migrate { from_data_version: 2 }, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("migrate"), "{err}");
    assert_eq!(e.host.active_for(Slot::Grading, "i").as_deref(), Some("test.grading@2.0.0"));

    // The active version cannot be uninstalled; the broken one can.
    assert!(matches!(
        e.host.uninstall("test.grading@2.0.0"),
        Err(HostError::StillActive { slot: Slot::Grading, scope: Scope::Platform, .. })
    ));
    e.host.uninstall("test.grading@3.0.0").unwrap();

    // Roll back to v1 (with a warning: the data is now at version 2).
    let a = e.host.rollback(Slot::Grading, Scope::Platform).unwrap();
    assert_eq!(a.active, v1);
    assert_eq!(a.previous.as_deref(), Some("test.grading@2.0.0"));
    assert!(a.warnings.iter().any(|w| w.contains("data version")), "{:?}", a.warnings);
    let (_, who) = e.host.grade(&ctx("i"), &[crate::slots::tf("q", true, Some(true))]).unwrap();
    assert_eq!(who, v1);
    let list = e.host.list().unwrap();
    let v2 = list.iter().find(|p| p.installed.manifest.version == "2.0.0").unwrap();
    assert_eq!(v2.standby_in, vec![Scope::Platform], "v2 is the rollback target now");

    // Restart: the active version comes back, loaded from the compile cache.
    drop(e.host);
    let host = Host::open(&e.store, e.dir.path().join("plugins"), config()).unwrap();
    assert_eq!(host.active_for(Slot::Grading, "i").as_deref(), Some(v1.as_str()));
    host.grade(&ctx("i"), &[crate::slots::tf("q", true, Some(true))]).unwrap();
    let a = host.activate(Slot::Grading, Scope::Platform, "test.grading@2.0.0").unwrap();
    assert!(a.compiled_from_cache, "a restart reuses the precompiled artifact");
    println!("activation of a cached version took {:?}", a.took);
}

#[test]
fn institutions_can_choose_their_own_version() {
    let e = env();
    install_grading_v1(&e.host);
    let m2 = manifest("test.grading", "2.0.0", Slot::Grading, 2);
    e.host.install(m2.clone(), &wasm(guests::GRADING_V2), &m2.capabilities).unwrap();
    e.host.activate(Slot::Grading, Scope::Institution("early".into()), "test.grading@2.0.0").unwrap();
    assert_eq!(e.host.active_for(Slot::Grading, "early").as_deref(), Some("test.grading@2.0.0"));
    assert_eq!(e.host.active_for(Slot::Grading, "everyone-else").as_deref(), Some("test.grading@1.0.0"));
    // No plugin in a slot: a clear error.
    let err = e.host.render_markdown(&ctx("x"), "# hi").unwrap_err();
    assert!(matches!(err, PluginError::NoActivePlugin(Slot::Content)));
    // A component whose info disagrees with its manifest never activates.
    let liar = manifest("test.liar", "1.0.0", Slot::Grading, 1);
    e.host.install(liar.clone(), &wasm(guests::GRADING_V1), &liar.capabilities).unwrap();
    let err = e.host.activate(Slot::Grading, Scope::Platform, "test.liar@1.0.0").unwrap_err();
    assert!(
        matches!(err, HostError::IdentityMismatch { ref claimed, .. } if claimed == "test.grading@1.0.0"),
        "{err:?}"
    );
    // Re-installing the same version with other bytes is refused; the same bytes are fine.
    let again = e.host.install(
        manifest("test.grading", "2.0.0", Slot::Grading, 2),
        &wasm(guests::GRADING_V2),
        &m2.capabilities,
    );
    assert!(again.is_ok());
    let err = e
        .host
        .install(manifest("test.grading", "2.0.0", Slot::Grading, 2), &wasm(guests::GRADING_V1), &m2.capabilities)
        .unwrap_err();
    assert!(matches!(err, HostError::AlreadyInstalled { .. }), "{err:?}");
}

#[test]
fn rollback_says_when_there_is_nothing_to_roll_back_to() {
    let e = env();
    // Nothing active in the slot at all.
    let err = e.host.rollback(Slot::Grading, Scope::Platform).unwrap_err();
    assert!(matches!(err, HostError::NoActivePlugin { slot: Slot::Grading, scope: Scope::Platform }), "{err:?}");
    // One version active, none before it: its own error, not "not found".
    let v1 = install_grading_v1(&e.host);
    let err = e.host.rollback(Slot::Grading, Scope::Platform).unwrap_err();
    assert!(matches!(err, HostError::NoPreviousVersion { slot: Slot::Grading, scope: Scope::Platform }), "{err:?}");
    assert_eq!(err.to_string(), "there is no previous version to roll back to in the grading slot for the platform");
    assert_eq!(e.host.active_for(Slot::Grading, "i").as_deref(), Some(v1.as_str()), "nothing changed");
    // An institution without its own choice has nothing of its own to roll back either.
    let err = e.host.rollback(Slot::Grading, Scope::Institution("i".into())).unwrap_err();
    assert!(matches!(err, HostError::NoActivePlugin { .. }), "{err:?}");
}

/// A start whose compiled-artifact cache was deleted (documented as safe to
/// delete) serves at once: the versions compile in the background, their
/// seats answer `Starting` meanwhile (an institution's own choice never falls
/// back to the platform's version), the admin's list says `starting`, and
/// each seat serves its version once compiled.
#[test]
fn a_start_without_the_compile_cache_serves_while_compiling() {
    let e = env();
    let v1 = install_grading_v1(&e.host);
    let m2 = manifest("test.grading", "2.0.0", Slot::Grading, 2);
    e.host.install(m2.clone(), &wasm(guests::GRADING_V2), &m2.capabilities).unwrap();
    e.host.activate(Slot::Grading, Scope::Institution("early".into()), "test.grading@2.0.0").unwrap();
    drop(e.host);
    std::fs::remove_dir_all(e.dir.path().join("plugins/compiled")).unwrap();

    let opened = std::time::Instant::now();
    let host = Host::open(&e.store, e.dir.path().join("plugins"), config()).unwrap();
    let open_took = opened.elapsed();
    let q = [crate::slots::tf("q", true, Some(true))];
    // Right after the start, nothing has compiled yet (each takes far longer than this call).
    let early = host.grade(&ctx("early"), &q);
    let list = host.list().unwrap();
    let starting: Vec<_> =
        list.iter().filter(|p| !p.starting_in.is_empty()).map(|p| p.installed.manifest.key()).collect();
    match early {
        Err(PluginError::Starting { plugin }) => {
            assert_eq!(plugin, "test.grading@2.0.0", "the institution's own choice, not the platform's");
            assert!(starting.contains(&"test.grading@2.0.0".to_owned()), "{starting:?}");
        }
        other => panic!("expected Starting right after a start without the cache (open took {open_took:?}): {other:?}"),
    }
    // Both seats serve their own versions once compiled.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let served = |inst: &str| loop {
        match host.grade(&ctx(inst), &q) {
            Ok((_, who)) => return who,
            Err(PluginError::Starting { .. }) => {
                assert!(std::time::Instant::now() < deadline, "still starting after two minutes");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(served("early"), "test.grading@2.0.0");
    assert_eq!(served("everyone-else"), v1);
    assert!(host.list().unwrap().iter().all(|p| p.starting_in.is_empty()), "nothing is starting any more");
    println!("host opened in {open_took:?} without the compile cache");
}

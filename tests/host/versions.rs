//! Contract versions. A component built against a compatible later release
//! of `lectern:plugin` (0.1.1) is served by the host's 0.1 bindings, imports
//! and exports alike; one built against a release this host does not speak
//! (0.3.0) is refused at install with an error naming the versions. Both are
//! real components compiled by wit-bindgen from `tests/fixtures/wit-future`.
//! Guests of 0.2.0, which the host does speak, are in `v0_2.rs`; one of
//! 0.2.1 (the released folder with corrected documentation) is here.

use std::path::Path;

use lectern_e2e::guests;
use lectern_host::{Host, HostError, Slot};

use crate::slots::tf;
use crate::{config, ctx, env, install_active, manifest, wasm};

fn contract_manifest() -> lectern_host::Manifest {
    manifest("test.contract", "1.0.0", Slot::Grading, 1)
}

#[test]
fn a_guest_built_against_0_1_1_loads_and_works() {
    let e = env();
    let key = install_active(&e.host, contract_manifest(), guests::GRADING_CONTRACT_0_1_1);
    // `lifecycle@0.1.1`'s init ran and reached the kernel's `kv@0.1.0`.
    assert_eq!(e.host.plugin_kv("test.contract", "*", "inits").unwrap(), Some(b"1".to_vec()));
    let status = e.host.list().unwrap().into_iter().find(|p| p.installed.manifest.key() == key).unwrap();
    assert!(status.installed.imports.iter().any(|i| i == "lectern:plugin/kv@0.1.1"), "{:?}", status.installed.imports);

    // `grader@0.1.1` is found and called; its kv and log imports work.
    let (r, who) =
        e.host.grade(&ctx("inst"), &[tf("right", true, Some(true)), tf("wrong", true, Some(false))]).unwrap();
    assert_eq!(who, key);
    assert_eq!((r[0].points, r[1].points), (2.0, 0.0));
    assert_eq!(r[0].explanation, ["built against lectern:plugin@0.1.1", "call 1 for inst"]);
    assert_eq!(e.host.plugin_kv("test.contract", "inst", "graded").unwrap(), Some(b"1".to_vec()));

    // After a restart it is loaded again (from the compile cache) by the same bindings.
    drop(e.host);
    let host = Host::open(&e.store, e.dir.path().join("plugins"), config()).unwrap();
    assert_eq!(host.active_for(Slot::Grading, "inst").as_deref(), Some(key.as_str()));
    let (r, _) = host.grade(&ctx("inst"), &[tf("right", true, Some(true))]).unwrap();
    assert_eq!(r[0].explanation[1], "call 2 for inst");
}

/// `lectern:plugin@0.2.1` is 0.2.0 with corrected documentation (the kernel's
/// text rules); a guest built against it is served by the 0.2 bindings.
#[test]
fn a_guest_built_against_0_2_1_loads_and_works() {
    let e = env();
    let key = install_active(&e.host, manifest("test.grading02", "1.0.0", Slot::Grading, 1), guests::GRADING_0_2_1);
    assert_eq!(e.host.plugin_kv("test.grading02", "*", "inits").unwrap(), Some(b"1".to_vec()));
    let status = e.host.list().unwrap().into_iter().find(|p| p.installed.manifest.key() == key).unwrap();
    assert!(status.installed.imports.iter().any(|i| i == "lectern:plugin/kv@0.2.1"), "{:?}", status.installed.imports);
    let (r, who) =
        e.host.grade(&ctx("inst"), &[tf("right", true, Some(true)), tf("wrong", true, Some(false))]).unwrap();
    assert_eq!(who, key);
    assert_eq!((r[0].points, r[1].points), (2.0, 0.0));
    assert_eq!(r[0].explanation[0], "built against lectern:plugin@0.2.1");
}

#[test]
fn a_guest_built_against_an_incompatible_release_is_refused_at_install() {
    let e = env();
    let m = contract_manifest();
    let err = e.host.install(m.clone(), &wasm(guests::GRADING_CONTRACT_0_3_0), &m.capabilities).unwrap_err();
    let HostError::UnsupportedContract { found, supported } = &err else {
        panic!("expected UnsupportedContract, got {err:?}");
    };
    assert_eq!(found.to_string(), "0.3.0");
    assert_eq!(supported.iter().map(ToString::to_string).collect::<Vec<_>>(), ["0.2.0", "0.1.0"]);
    let text = err.to_string();
    assert!(text.contains("lectern:plugin@0.3.0") && text.contains("0.2.x") && text.contains("0.1.x"), "{text}");
    assert!(e.host.list().unwrap().is_empty(), "nothing is half-installed");
}

/// The unreleased WIT the two fixtures are built from is the released 0.1.0
/// with another version, so the tests above exercise versions and nothing else.
#[test]
fn future_wit_fixtures_differ_from_the_release_only_in_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let released = root.join("wit/lectern-plugin@0.1.0");
    let files = |dir: &Path| {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    for version in ["0.1.1", "0.3.0"] {
        let dir = root.join(format!("tests/fixtures/wit-future/lectern-plugin@{version}"));
        assert_eq!(files(&dir), files(&released), "{version}");
        for name in files(&released) {
            let want = std::fs::read_to_string(released.join(&name)).unwrap().replacen(
                "package lectern:plugin@0.1.0;",
                &format!("package lectern:plugin@{version};"),
                1,
            );
            assert_eq!(std::fs::read_to_string(dir.join(&name)).unwrap(), want, "{version}/{name}");
        }
    }
}

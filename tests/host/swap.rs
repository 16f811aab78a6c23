//! Hot swap under load: N → N+1 → rollback N while calls run; none fails and
//! each is served by exactly one version.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use lectern_e2e::guests;
use lectern_host::{Scope, Slot};

use crate::{ctx, env, install_grading_v1, manifest, wasm};

#[test]
fn swapping_under_load_fails_no_call() {
    let e = env();
    let v1 = install_grading_v1(&e.host);
    let m2 = manifest("test.grading", "2.0.0", Slot::Grading, 2);
    e.host.install(m2.clone(), &wasm(guests::GRADING_V2), &m2.capabilities).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = vec![];
    for w in 0..4 {
        let (host, stop) = (e.host.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            let mut served = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) || i < 20 {
                let subs = vec![crate::slots::tf(&format!("q{w}-{i}"), true, Some(true))];
                let (graded, who) =
                    host.grade(&ctx(&format!("inst-{w}")), &subs).expect("no call may fail during a swap");
                // The version that answered is the one the host says served it.
                let marker = &graded[0].explanation[0];
                assert!(marker.ends_with(who.trim_start_matches("test.grading@")), "{marker} vs {who}");
                served.push(who);
                i += 1;
            }
            served
        }));
    }
    let wait_for = |n: usize| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while e.host.list().unwrap().iter().map(|p| p.stats.calls).sum::<u64>() < n as u64
            && std::time::Instant::now() < until
        {
            std::thread::yield_now();
        }
    };
    wait_for(50);
    let a = e.host.activate(Slot::Grading, Scope::Platform, "test.grading@2.0.0").unwrap();
    println!("N → N+1 activation took {:?}", a.took);
    wait_for(200);
    let r = e.host.rollback(Slot::Grading, Scope::Platform).unwrap();
    println!("rollback took {:?}", r.took);
    wait_for(350);
    stop.store(true, Ordering::Relaxed);
    let mut all = vec![];
    for w in workers {
        all.extend(w.join().expect("a worker panicked: a call failed"));
    }
    let v2 = "test.grading@2.0.0".to_string();
    assert!(all.contains(&v1) && all.contains(&v2), "both versions served calls");
    assert_eq!(all.last(), Some(&v1), "after the rollback, v1 serves again");
    let faults: u64 = e.host.list().unwrap().iter().map(|p| p.stats.faults + p.stats.errors).sum();
    assert_eq!(faults, 0);
    println!("{} calls during two swaps, 0 failed", all.len());
}

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use lectern_vector::{Clause, Filter, LoadKind, Query};

use crate::*;

const DIM: usize = 32;
const CHILD_ENV: &str = "LECTERN_VECTOR_CRASH_CHILD";
const TEST_NAME: &str = "durability::sigkill_mid_upsert_loses_no_acknowledged_point";

fn find(vs: &VectorStore, k: &CollectionKey, i: usize, v: &[f32]) -> bool {
    let f = Filter { clauses: vec![Clause { key: "n".into(), any_of: vec![i.to_string()] }] };
    let hits = vs.query(k, &Query { vector: v, k: 1, filter: Some(&f), ef_search: None }).unwrap();
    hits.first().is_some_and(|h| h.id == format!("p{i}") && (h.score - 1.0).abs() < 1e-4)
}

/// The child: upsert batches forever, dump once early on, print what was acknowledged.
fn child(dir: &std::path::Path) {
    let (_store, vs) = open_at(dir, graph_tuning());
    let k = key("crash");
    vs.ensure_collection(&k, &spec(DIM as u32)).unwrap();
    let data = clusters(DIM).sample(200_000, 11);
    for (b, chunk) in data.chunks(25 * DIM).enumerate() {
        vs.upsert(&k, points(chunk, DIM, b * 25)).unwrap();
        if b == 10 {
            assert_eq!(vs.checkpoint_with(1).unwrap(), 1);
        }
        println!("acked {}", (b + 1) * 25);
    }
}

#[test]
fn sigkill_mid_upsert_loses_no_acknowledged_point() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(std::path::Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut proc = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = 0;
    for line in BufReader::new(proc.stdout.take().unwrap()).lines() {
        if let Some(n) = line.unwrap().strip_prefix("acked ") {
            acked = n.parse().unwrap();
        }
        if acked >= 1500 {
            proc.kill().unwrap(); // SIGKILL on Unix
            break;
        }
    }
    proc.wait().unwrap();
    assert!(acked >= 1500, "child died early after {acked} points");
    let (_store, vs) = open_at(dir.path(), graph_tuning());
    let k = key("crash");
    let st = vs.stats(&k).unwrap();
    println!("acknowledged {acked}, found {} points after SIGKILL; loaded as {:?}", st.points, st.load);
    assert!(st.points >= acked);
    match st.load {
        LoadKind::Dump { replayed } => assert!(replayed >= acked - 11 * 25, "tail replayed: {replayed}"),
        other => panic!("expected a reload from the dump, got {other:?}"),
    }
    let data = clusters(DIM).sample(acked, 11);
    for (i, v) in data.chunks_exact(DIM).enumerate() {
        assert!(find(&vs, &k, i, v), "acknowledged point p{i} is missing");
    }
    let probe = Query { vector: &data[..DIM], k: 10, filter: None, ef_search: None };
    assert_eq!(vs.query(&k, &probe).unwrap()[0].id, "p0", "the graph answers too");
}

fn corrupt(path: &std::path::Path, how: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    match how {
        "truncate" => bytes.truncate(bytes.len() / 2),
        _ => {
            let n = bytes.len();
            for b in &mut bytes[n / 3..n / 3 + 64.min(n / 3)] {
                *b ^= 0x5a;
            }
        }
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn reload_uses_the_dump_and_a_corrupt_dump_means_a_rebuild_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("dumped");
    let data = clusters(DIM).sample(1500, 12);
    {
        let (_s, vs) = open_at(dir.path(), graph_tuning());
        vs.ensure_collection(&k, &spec(DIM as u32)).unwrap();
        load(&vs, &k, &data[..1000 * DIM], DIM);
        assert_eq!(vs.checkpoint().unwrap(), 1, "1000 changes reach the default threshold");
        vs.upsert(&k, points(&data[1000 * DIM..], DIM, 1000)).unwrap();
        vs.delete(&k, &["p3".into()]).unwrap();
    }
    let reopen = |expect: &dyn Fn(&LoadKind) -> bool| {
        let (_s, vs) = open_at(dir.path(), graph_tuning());
        let st = vs.stats(&k).unwrap();
        assert!(expect(&st.load), "loaded as {:?}", st.load);
        assert_eq!(st.points, 1499);
        for i in [0, 999, 1000, 1499] {
            assert!(find(&vs, &k, i, &data[i * DIM..(i + 1) * DIM]), "p{i}");
        }
        assert!(!find(&vs, &k, 3, &data[3 * DIM..4 * DIM]));
        let hits =
            vs.query(&k, &Query { vector: &data[7 * DIM..8 * DIM], k: 3, filter: None, ef_search: None }).unwrap();
        assert_eq!(hits[0].id, "p7");
        // A dump written after a reload (hnsw_rs then refuses to reuse names) reloads too.
        assert_eq!(vs.checkpoint_with(1).unwrap(), usize::from(st.tail > 0));
    };
    reopen(&|l| *l == LoadKind::Dump { replayed: 501 });
    reopen(&|l| *l == LoadKind::Dump { replayed: 0 });
    let dumps = std::fs::read_dir(dir.path().join("dumps")).unwrap().next().unwrap().unwrap().path();
    let files: Vec<_> = std::fs::read_dir(&dumps).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 3, "one generation kept: {files:?}");
    let graph = files.iter().find(|p| p.to_string_lossy().ends_with(".hnsw.graph")).unwrap();
    corrupt(graph, "garble");
    reopen(&|l| matches!(l, LoadKind::Rebuilt { reason } if reason.contains("checksum")));
    let files: Vec<_> = std::fs::read_dir(&dumps).unwrap().map(|e| e.unwrap().path()).collect();
    let data_file = files.iter().find(|p| p.to_string_lossy().ends_with(".hnsw.data")).unwrap();
    corrupt(data_file, "truncate");
    reopen(&|l| matches!(l, LoadKind::Rebuilt { .. }));
    for f in std::fs::read_dir(&dumps).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    reopen(&|l| matches!(l, LoadKind::Rebuilt { .. }));
    reopen(&|l| *l == LoadKind::Dump { replayed: 0 });
}

use std::collections::HashSet;

use lectern_vector::synthetic::exact_top_k;
use lectern_vector::{Clause, Filter, Point, Query, Tuning};

use crate::*;

const DIM: usize = 96;

fn recall(got: &[String], want: &[usize]) -> f64 {
    let want: HashSet<String> = want.iter().map(|i| format!("p{i}")).collect();
    got.iter().filter(|id| want.contains(*id)).count() as f64 / want.len().max(1) as f64
}

#[test]
fn recall_at_10_at_default_parameters() {
    let e = env();
    let c = clusters(DIM);
    let data = c.sample(10_000, 1);
    let queries = c.sample(200, 2);
    e.vs.ensure_collection(&key("r"), &spec(DIM as u32)).unwrap();
    load(&e.vs, &key("r"), &data, DIM);
    let mut total = 0.0;
    for q in queries.chunks_exact(DIM) {
        let hits = e.vs.query(&key("r"), &Query { vector: q, k: 10, filter: None, ef_search: None }).unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
        total += recall(&ids, &exact_top_k(&data, DIM, q, 10));
    }
    let r = total / 200.0;
    println!("recall@10 = {r:.3} (10k × {DIM}, default params)");
    assert!(r >= 0.95, "recall@10 {r}");
}

fn filters() -> Vec<(&'static str, Filter)> {
    let clause = |k: &str, v: &[&str]| Clause { key: k.into(), any_of: v.iter().map(|s| s.to_string()).collect() };
    vec![
        ("one course (10%)", Filter { clauses: vec![clause("course", &["c3"])] }),
        ("three courses (30%)", Filter { clauses: vec![clause("course", &["c1", "c4", "c7"])] }),
        ("rare (0.5%)", Filter { clauses: vec![clause("rare", &["yes"])] }),
        ("one point", Filter { clauses: vec![clause("n", &["1234"])] }),
        ("two clauses", Filter { clauses: vec![clause("course", &["c0", "c5"]), clause("rare", &["yes"])] }),
        ("nothing", Filter { clauses: vec![clause("course", &["c99"])] }),
    ]
}

#[test]
fn filtered_results_equal_brute_force_over_matching_points() {
    let c = clusters(DIM);
    let data = c.sample(6000, 3);
    let queries = c.sample(40, 4);
    let pts = points(&data, DIM, 0);
    // brute_force_max 0 forces every filter through the graph walk; the default
    // answers selective filters exactly by brute force.
    for tuning in [Tuning { brute_force_max: 0, ..graph_tuning() }, graph_tuning()] {
        let e = env_with(tuning);
        e.vs.ensure_collection(&key("f"), &spec(DIM as u32)).unwrap();
        load(&e.vs, &key("f"), &data, DIM);
        for (name, f) in filters() {
            let matching: Vec<usize> = (0..pts.len()).filter(|&i| f.matches(&pts[i].metadata)).collect();
            let sub: Vec<f32> = matching.iter().flat_map(|&i| data[i * DIM..(i + 1) * DIM].to_vec()).collect();
            let mut total = 0.0;
            for q in queries.chunks_exact(DIM) {
                let hits =
                    e.vs.query(&key("f"), &Query { vector: q, k: 10, filter: Some(&f), ef_search: None }).unwrap();
                assert!(hits.iter().all(|h| f.matches(&h.metadata)), "{name}: a hit does not match");
                assert_eq!(hits.len(), matching.len().min(10), "{name}: k live matches come back");
                let want: Vec<usize> = exact_top_k(&sub, DIM, q, 10).into_iter().map(|j| matching[j]).collect();
                let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
                total += if want.is_empty() { 1.0 } else { recall(&ids, &want) };
            }
            let r = total / 40.0;
            println!("brute_force_max {}: filter {name}: recall@10 {r:.3}", tuning.brute_force_max);
            if tuning.brute_force_max > 0 {
                assert_eq!(r, 1.0, "{name}: selective filters are answered exactly");
            } else {
                assert!(r >= 0.95, "{name}: recall {r}");
            }
        }
    }
}

#[test]
fn deleted_and_overwritten_points_never_come_back_and_rebuild_keeps_results_right() {
    let e = env();
    let k = key("t");
    let c = clusters(DIM);
    let data = c.sample(3000, 5);
    e.vs.ensure_collection(&k, &spec(DIM as u32)).unwrap();
    load(&e.vs, &k, &data, DIM);
    let deleted: Vec<String> = (0..3000).step_by(5).map(|i| format!("p{i}")).collect();
    assert_eq!(e.vs.delete(&k, &deleted).unwrap(), 600);
    // Overwrite every 7th survivor with a vector from elsewhere.
    let moved = c.sample(3000, 6);
    let over: Vec<Point> = points(&moved, DIM, 0).into_iter().filter(|p| !deleted.contains(&p.id)).step_by(7).collect();
    let mut current = data.clone();
    for p in &over {
        let i: usize = p.id[1..].parse().unwrap();
        current[i * DIM..(i + 1) * DIM].copy_from_slice(&p.vector);
    }
    for chunk in over.chunks(500) {
        e.vs.upsert(&k, chunk.to_vec()).unwrap();
    }
    e.vs.wait_background();
    let stats = e.vs.stats(&k).unwrap();
    assert_eq!(stats.points, 2400);
    assert!(stats.rebuilds >= 1, "{} tombstones of 3000 should have triggered a rebuild", 600 + over.len());
    let live: Vec<usize> = (0..3000).filter(|i| i % 5 != 0).collect();
    let live_data: Vec<f32> = live.iter().flat_map(|&i| current[i * DIM..(i + 1) * DIM].to_vec()).collect();
    let dead: HashSet<&String> = deleted.iter().collect();
    let mut total = 0.0;
    for q in c.sample(100, 8).chunks_exact(DIM).chain(moved.chunks_exact(DIM).take(50)) {
        let hits = e.vs.query(&k, &Query { vector: q, k: 10, filter: None, ef_search: None }).unwrap();
        assert_eq!(hits.len(), 10);
        for h in &hits {
            assert!(!dead.contains(&h.id), "deleted {} came back", h.id);
            let i: usize = h.id[1..].parse().unwrap();
            let exact: f32 = q.iter().zip(&current[i * DIM..(i + 1) * DIM]).map(|(a, b)| a * b).sum();
            assert!((h.score - exact).abs() < 1e-4, "{} scored against a stale vector", h.id);
        }
        let want: Vec<usize> = exact_top_k(&live_data, DIM, q, 10).into_iter().map(|j| live[j]).collect();
        total += recall(&hits.into_iter().map(|h| h.id).collect::<Vec<_>>(), &want);
    }
    let r = total / 150.0;
    println!("recall@10 after deletes, overwrites and a rebuild: {r:.3}");
    assert!(r >= 0.95);
}

#[test]
fn queries_run_concurrently_with_upserts_and_deletes() {
    let e = env_with(Tuning { rebuild_min_tombstones: 10, ..graph_tuning() });
    let k = key("cc");
    let c = clusters(DIM);
    let data = c.sample(4000, 9);
    e.vs.ensure_collection(&k, &spec(DIM as u32)).unwrap();
    e.vs.upsert(&k, points(&data[..500 * DIM], DIM, 0)).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let queries = c.sample(50, 10);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        for q in queries.chunks_exact(DIM) {
                            let f =
                                Filter { clauses: vec![Clause { key: "course".into(), any_of: vec!["c2".into()] }] };
                            let hits =
                                e.vs.query(&k, &Query { vector: q, k: 5, filter: None, ef_search: None }).unwrap();
                            assert_eq!(hits.len(), 5);
                            e.vs.query(&k, &Query { vector: q, k: 5, filter: Some(&f), ef_search: None }).unwrap();
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        for (b, chunk) in data.chunks(100 * DIM).enumerate().skip(5) {
            e.vs.upsert(&k, points(chunk, DIM, b * 100)).unwrap();
            let gone: Vec<String> = (0..20).map(|j| format!("p{}", (b - 5) * 100 + j * 3)).collect();
            e.vs.delete(&k, &gone).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
    e.vs.wait_background();
    let st = e.vs.stats(&k).unwrap();
    assert_eq!(st.points, 4000 - 35 * 20);
}

#[test]
fn keyword_query_ranks_by_bm25_with_the_same_filters() {
    let e = env();
    let k = key("kw");
    e.vs.ensure_collection(&k, &spec(4)).unwrap();
    let texts = [
        ("a", "Photosynthesis converts light into chemical energy in plants", "bio"),
        ("b", "Plants and animals: cells, tissues and organs of plants", "bio"),
        ("c", "The French revolution and the rights of man", "history"),
        ("d", "Light, optics and the speed of light", "physics"),
    ];
    let pts = texts
        .iter()
        .enumerate()
        .map(|(i, (id, t, course))| Point {
            id: id.to_string(),
            vector: vec![1.0, i as f32, 0.5, 0.25],
            metadata: vec![("course".into(), course.to_string())],
            text: Some(t.to_string()),
        })
        .collect();
    e.vs.upsert(&k, pts).unwrap();
    let ids = |h: Vec<lectern_vector::Hit>| h.into_iter().map(|h| h.id).collect::<Vec<_>>();
    let hits = e.vs.keyword_query(&k, "plants", 10, None).unwrap();
    assert_eq!(ids(hits.clone()), ["b", "a"], "two mentions beat one");
    assert!(hits[0].score > hits[1].score && hits[1].score > 0.0);
    assert_eq!(hits[0].text.as_deref(), Some(texts[1].1));
    assert_eq!(ids(e.vs.keyword_query(&k, "LIGHT", 10, None).unwrap()), ["d", "a"]);
    let bio = Filter { clauses: vec![Clause { key: "course".into(), any_of: vec!["bio".into()] }] };
    assert_eq!(ids(e.vs.keyword_query(&k, "light", 10, Some(&bio)).unwrap()), ["a"]);
    assert!(e.vs.keyword_query(&k, "the of and", 10, None).unwrap().is_empty(), "stopwords only");
    e.vs.delete(&k, &["a".into()]).unwrap();
    assert_eq!(ids(e.vs.keyword_query(&k, "photosynthesis light", 10, None).unwrap()), ["d"]);
    e.vs.upsert(&k, vec![Point { id: "d".into(), vector: vec![1.0; 4], metadata: vec![], text: None }]).unwrap();
    assert!(e.vs.keyword_query(&k, "light", 10, None).unwrap().is_empty(), "overwritten text is gone");
}

/// At the default tuning a collection of a thousand points (a small course's
/// material for the tutor) is answered by an exact scan: every query's top
/// 10 is the exact one, whatever `ef_search` asks for, with or without a filter.
#[test]
fn a_small_collection_is_answered_exactly() {
    let c = clusters(DIM);
    let data = c.sample(1000, 5);
    let queries = c.sample(50, 6);
    let pts = points(&data, DIM, 0);
    let mut graph_recall = 0.0;
    for (name, tuning) in [("default", Tuning::default()), ("graph", graph_tuning())] {
        let e = env_with(tuning);
        e.vs.ensure_collection(&key("small"), &spec(DIM as u32)).unwrap();
        load(&e.vs, &key("small"), &data, DIM);
        let course = Filter { clauses: vec![Clause { key: "course".into(), any_of: vec!["c3".into()] }] };
        let matching: Vec<usize> = (0..pts.len()).filter(|&i| course.matches(&pts[i].metadata)).collect();
        let sub: Vec<f32> = matching.iter().flat_map(|&i| data[i * DIM..(i + 1) * DIM].to_vec()).collect();
        let mut total = 0.0;
        for q in queries.chunks_exact(DIM) {
            // ef 10: a graph walk this narrow misses neighbours in clustered data.
            let hits =
                e.vs.query(&key("small"), &Query { vector: q, k: 10, filter: None, ef_search: Some(10) }).unwrap();
            let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
            let r = recall(&ids, &exact_top_k(&data, DIM, q, 10));
            total += r;
            if name == "default" {
                assert_eq!(r, 1.0, "the exact scan finds the exact top 10");
                let hits =
                    e.vs.query(&key("small"), &Query { vector: q, k: 10, filter: Some(&course), ef_search: Some(10) })
                        .unwrap();
                let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
                let want: Vec<usize> = exact_top_k(&sub, DIM, q, 10).into_iter().map(|j| matching[j]).collect();
                assert_eq!(recall(&ids, &want), 1.0, "and the exact filtered top 10");
            }
        }
        if name == "graph" {
            graph_recall = total / 50.0;
        }
    }
    println!("1,000 points, ef 10: exact scan recall 1.000, graph walk recall {graph_recall:.3}");
}

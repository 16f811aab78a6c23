use lectern_vector::{CollectionKey, Params, Point, Query, VectorError};

use crate::*;

fn pt(id: &str, v: Vec<f32>) -> Point {
    Point { id: id.into(), vector: v, metadata: vec![], text: None }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let e = env();
    let k = key("bad");
    let bad = |r: Result<(), VectorError>| assert!(matches!(r, Err(VectorError::InvalidInput(_))), "{r:?}");
    let with = |f: &dyn Fn(&mut lectern_vector::CollectionSpec)| {
        let mut s = spec(3);
        f(&mut s);
        e.vs.ensure_collection(&key("x"), &s).map(|_| ())
    };
    bad(with(&|s| s.params.m = 300));
    bad(with(&|s| s.params.m = 0));
    bad(with(&|s| s.dimension = 0));
    bad(with(&|s| s.dimension = 5000));
    bad(with(&|s| s.params.ef_construction = 1));
    bad(with(&|s| s.params.max_points = 0));
    bad(e.vs.ensure_collection(&CollectionKey::new("", "i", "n"), &spec(3)).map(|_| ()));
    assert!(e.vs.ensure_collection(&k, &spec(3)).unwrap());
    assert!(!e.vs.ensure_collection(&k, &spec(3)).unwrap(), "idempotent");
    bad(e.vs.upsert(&k, vec![pt("a", vec![f32::NAN, 1.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt("a", vec![f32::INFINITY, 1.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt("a", vec![0.0, 0.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt("a", vec![1.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt("", vec![1.0, 0.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt(&"x".repeat(257), vec![1.0, 0.0, 0.0])]));
    bad(e.vs.upsert(&k, vec![pt("a", vec![1.0, 0.0, 0.0]), pt("a", vec![0.0, 1.0, 0.0])]));
    let mut p = pt("a", vec![1.0, 0.0, 0.0]);
    p.metadata = (0..33).map(|i| (format!("k{i}"), "v".into())).collect();
    bad(e.vs.upsert(&k, vec![p]));
    let mut p = pt("a", vec![1.0, 0.0, 0.0]);
    p.text = Some("x".repeat(64 * 1024 + 1));
    bad(e.vs.upsert(&k, vec![p]));
    bad(e.vs.upsert(&k, (0..1001).map(|i| pt(&format!("p{i}"), vec![1.0, 0.0, 0.0])).collect()));
    e.vs.upsert(&k, vec![pt("a", vec![1.0, 0.0, 0.0])]).unwrap();
    let q =
        |v: &[f32], k_: usize| e.vs.query(&k, &Query { vector: v, k: k_, filter: None, ef_search: None }).map(|_| ());
    bad(q(&[f32::NAN, 0.0, 0.0], 1));
    bad(q(&[0.0, 0.0, 0.0], 1));
    bad(q(&[1.0, 0.0], 1));
    bad(q(&[1.0, 0.0, 0.0], 0));
    bad(q(&[1.0, 0.0, 0.0], 1001));
    q(&[1.0, 0.0, 0.0], 1000).unwrap();
    assert_eq!(e.vs.stats(&k).unwrap().points, 1, "nothing bad was stored");
}

#[test]
fn conflicts_quotas_and_missing_collections() {
    let e = env();
    let k = key("q");
    let mut s = spec(3);
    s.params = Params { max_points: 3, ..Params::default() };
    e.vs.ensure_collection(&k, &s).unwrap();
    for change in [
        &(|s: &mut lectern_vector::CollectionSpec| s.dimension = 4) as &dyn Fn(&mut lectern_vector::CollectionSpec),
        &|s| s.distance = lectern_vector::Distance::Dot,
        &|s| s.model = Some("other-model".into()),
    ] {
        let mut other = s.clone();
        change(&mut other);
        assert!(matches!(e.vs.ensure_collection(&k, &other), Err(VectorError::Conflict(_))));
    }
    let three: Vec<Point> = (0..3).map(|i| pt(&format!("p{i}"), vec![1.0, i as f32, 0.0])).collect();
    e.vs.upsert(&k, three.clone()).unwrap();
    e.vs.upsert(&k, three).unwrap(); // overwrites do not count twice
    let r = e.vs.upsert(&k, vec![pt("p3", vec![1.0, 0.0, 0.0])]);
    assert!(matches!(r, Err(VectorError::QuotaExceeded(_))), "{r:?}");
    let missing = key("nope");
    assert!(matches!(e.vs.upsert(&missing, vec![pt("a", vec![1.0])]), Err(VectorError::NotFound(_))));
    assert!(matches!(e.vs.stats(&missing), Err(VectorError::NotFound(_))));
    assert!(e.vs.drop_collection(&k).unwrap());
    assert!(matches!(e.vs.stats(&k), Err(VectorError::NotFound(_))));
    e.vs.ensure_collection(&k, &s).unwrap();
    assert_eq!(e.vs.stats(&k).unwrap().points, 0, "a re-created collection starts empty");
}

#[test]
fn scopes_never_see_each_other() {
    let e = env();
    let scopes = [("plugin.a", "inst-1"), ("plugin.b", "inst-1"), ("plugin.a", "inst-2")];
    for (n, (owner, inst)) in scopes.iter().enumerate() {
        let k = CollectionKey::new(*owner, *inst, "notes");
        e.vs.ensure_collection(&k, &spec(3)).unwrap();
        let pts = (0..5).map(|i| pt(&format!("{owner}-{inst}-{i}"), vec![1.0, i as f32, n as f32])).collect();
        e.vs.upsert(&k, pts).unwrap();
        e.vs.ensure_collection(&CollectionKey::new(*owner, *inst, format!("extra{n}")), &spec(3)).unwrap();
    }
    for (n, (owner, inst)) in scopes.iter().enumerate() {
        let k = CollectionKey::new(*owner, *inst, "notes");
        let hits = e.vs.query(&k, &Query { vector: &[1.0, 1.0, 1.0], k: 100, filter: None, ef_search: None }).unwrap();
        assert_eq!(hits.len(), 5);
        assert!(hits.iter().all(|h| h.id.starts_with(&format!("{owner}-{inst}-"))));
        let names: Vec<String> = e.vs.list_collections(owner, inst).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["extra".to_string() + &n.to_string(), "notes".into()]);
    }
    assert!(e.vs.list_collections("plugin.c", "inst-1").unwrap().is_empty());
    // A prefix of an owner is another owner.
    assert!(e.vs.list_collections("plugin.", "inst-1").unwrap().is_empty());
}

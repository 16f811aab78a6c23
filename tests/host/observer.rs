//! Observer plugins (`lectern:plugin@0.2.0`, world `observer-plugin`): the
//! example `plugins/examples/grade-webhook` posts grades to a real HTTP
//! receiver on a local socket, to the host the administrator granted and to
//! no other, with the settings the administrator configured.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use lectern_e2e::guests;
use lectern_host::{Capabilities, EventContext, HostError, ImportRefusal, Manifest, PluginError, Scope, Seat, Slot};
use serde_json::json;

use crate::{env, manifest, wasm};

const ID: &str = "org.example.grade-webhook";

/// A request as the receiver read it: request line, headers (lowercase names), body.
struct Received {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// An HTTP/1.1 server on 127.0.0.1 that answers `status` to every request
/// and hands each request to the returned channel; also counts connections.
fn receiver(status: u16) -> (u16, mpsc::Receiver<Received>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = vec![];
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let _ = stream
                .write_all(format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes());
            let _ =
                tx.send(Received { line: line.trim_end().to_owned(), headers, body: String::from_utf8(body).unwrap() });
        }
    });
    (port, rx, connections)
}

fn observer_manifest() -> Manifest {
    let mut m = manifest(ID, "1.0.0", Slot::Observer, 1);
    m.capabilities.subscribe = vec!["grade.recorded".into()];
    m.capabilities.outbound_hosts = vec!["*".into()];
    m.resources.call_timeout_ms = 5_000;
    m
}

fn event(institution: &str, message_id: &str) -> EventContext {
    EventContext {
        institution: institution.into(),
        actor: Some("0190d5a4-0000-7000-8000-0000000000aa".into()),
        course: Some("course-1".into()),
        topic: "grade.recorded".into(),
        message_id: message_id.into(),
        occurred_at_ms: 1_700_000_000_000,
        locale: "en".into(),
    }
}

fn header<'a>(r: &'a Received, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn the_webhook_posts_to_the_granted_host_and_is_refused_any_other() {
    let e = env();
    let (granted, requests, _) = receiver(200);
    let (other, _, other_connections) = receiver(200);
    let (failing, _, _) = receiver(503);
    let m = observer_manifest();
    let hosts = vec![format!("127.0.0.1:{granted}"), format!("127.0.0.1:{failing}")];
    let grant = Capabilities { outbound_hosts: hosts.clone(), ..m.capabilities.clone() };
    let installed = e.host.install(m, &wasm(guests::EXAMPLE_GRADE_WEBHOOK), &grant).unwrap();
    assert!(
        installed.imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler@0.2")),
        "{:?}",
        installed.imports
    );
    assert_eq!(installed.grants.outbound_hosts, hosts, "`*` in the manifest: the hosts the administrator named");
    let key = installed.manifest.key();
    e.host.activate(Slot::Observer, Scope::Platform, &key).unwrap();

    // Without settings the institution does not take part: skipped, nothing sent, no failure.
    e.host.deliver_event(ID, &event("inst-a", "m-0"), br#"{"points":1}"#).unwrap();
    let outcome = e.host.plugin_kv(ID, "inst-a", "last-outcome").unwrap().unwrap();
    assert_eq!(String::from_utf8(outcome).unwrap(), "m-0 skipped: no `endpoint` in the settings");
    assert!(requests.try_recv().is_err());

    let settings = json!({"endpoint": format!("http://127.0.0.1:{granted}/lectern/grades"), "token": "s3cret"});
    e.host.set_settings(ID, &Scope::Platform, Some(&settings)).unwrap();
    let handled = e.host.deliver_event(ID, &event("inst-a", "m-1"), br#"{"points":3,"max_points":4}"#).unwrap();
    assert_eq!(handled.as_deref(), Some(key.as_str()));
    let r = requests.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(r.line, "POST /lectern/grades HTTP/1.1");
    assert_eq!(header(&r, "authorization"), Some("Bearer s3cret"));
    assert_eq!(header(&r, "idempotency-key"), Some("m-1"));
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["grade"], json!({"points": 3, "max_points": 4}));
    assert_eq!((body["institution"].as_str(), body["course"].as_str()), (Some("inst-a"), Some("course-1")));
    assert_eq!(body["actor"], "0190d5a4-0000-7000-8000-0000000000aa");
    let outcome = e.host.plugin_kv(ID, "inst-a", "last-outcome").unwrap().unwrap();
    assert_eq!(String::from_utf8(outcome).unwrap(), "m-1 delivered: HTTP 200");

    // An institution's own settings win over the platform's. This one names a
    // host the administrator did not grant: refused before any connection.
    let elsewhere = json!({"endpoint": format!("http://127.0.0.1:{other}/steal")});
    e.host.set_settings(ID, &Scope::Institution("inst-b".into()), Some(&elsewhere)).unwrap();
    let err = e.host.deliver_event(ID, &event("inst-b", "m-2"), b"{}").unwrap_err();
    assert!(matches!(err, PluginError::Guest(_)), "{err:?}");
    let outcome = String::from_utf8(e.host.plugin_kv(ID, "inst-b", "last-outcome").unwrap().unwrap()).unwrap();
    assert!(outcome.contains("HttpRequestDenied"), "{outcome}");
    assert_eq!(other_connections.load(Ordering::SeqCst), 0, "the refused host was never contacted");
    // Removing the institution's settings puts it back on the platform's.
    e.host.set_settings(ID, &Scope::Institution("inst-b".into()), None).unwrap();
    e.host.deliver_event(ID, &event("inst-b", "m-3"), b"{}").unwrap();
    assert_eq!(
        header(&requests.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), "idempotency-key"),
        Some("m-3")
    );

    // A receiver that fails makes the delivery fail (the bus then retries).
    let grant503 = json!({"endpoint": format!("http://127.0.0.1:{failing}/x")});
    e.host.set_settings(ID, &Scope::Institution("inst-c".into()), Some(&grant503)).unwrap();
    let err = e.host.deliver_event(ID, &event("inst-c", "m-4"), b"{}").unwrap_err();
    assert!(err.to_string().contains("the endpoint answered HTTP 503"), "{err}");
}

#[test]
fn observers_are_extensions_several_at_once_each_stopped_on_its_own() {
    let e = env();
    let m = observer_manifest();
    let grant = Capabilities { outbound_hosts: vec!["127.0.0.1:9".into()], ..m.capabilities.clone() };
    let key = e.host.install(m, &wasm(guests::EXAMPLE_GRADE_WEBHOOK), &grant).unwrap().manifest.key();
    e.host.activate(Slot::Observer, Scope::Platform, &key).unwrap();
    // Activating an observer does not take a slot: the grading slot is untouched,
    // and the observer is listed among the event subscribers.
    assert_eq!(e.host.active_for(Slot::Grading, "inst"), None);
    assert!(
        e.host.event_subscribers().iter().any(|(id, k, topics)| id == ID && *k == key && topics == &["grade.recorded"])
    );
    let status = e.host.list().unwrap().into_iter().find(|p| p.installed.manifest.key() == key).unwrap();
    assert_eq!(status.active_in, [Scope::Platform]);

    let seat = Seat::of(Slot::Observer, ID);
    assert_eq!(e.host.deactivate(&seat, Scope::Platform).unwrap().as_deref(), Some(key.as_str()));
    assert!(e.host.event_subscribers().is_empty());
    assert_eq!(e.host.deliver_event(ID, &event("inst", "m"), b"{}").unwrap(), None, "a stopped observer gets nothing");
    assert_eq!(e.host.deactivate(&seat, Scope::Platform).unwrap(), None, "stopping twice is harmless");
    let err = e.host.deactivate(&Seat::from(Slot::Grading), Scope::Platform).unwrap_err();
    assert!(matches!(err, HostError::SlotCannotBeEmptied { slot: Slot::Grading }), "{err}");
    e.host.uninstall(&key).unwrap();
}

#[test]
fn outbound_http_needs_a_granted_host() {
    let e = env();
    let m = observer_manifest();
    // The manifest asks for hosts; the administrator names none.
    let err = e.host.install(m.clone(), &wasm(guests::EXAMPLE_GRADE_WEBHOOK), &m.capabilities).unwrap_err();
    let HostError::ImportRefused { import, reason } = &err else { panic!("{err:?}") };
    assert!(import.starts_with("wasi:http/") && *reason == ImportRefusal::NotGranted, "{err}");
    // The manifest does not ask at all.
    let mut quiet = m.clone();
    quiet.capabilities.outbound_hosts.clear();
    let grant = Capabilities { outbound_hosts: vec!["127.0.0.1:9".into()], ..quiet.capabilities.clone() };
    let err = e.host.install(quiet, &wasm(guests::EXAMPLE_GRADE_WEBHOOK), &grant).unwrap_err();
    assert!(matches!(&err, HostError::ImportRefused { reason: ImportRefusal::Undeclared, .. }), "{err}");
    assert!(e.host.list().unwrap().is_empty());
}

#[test]
fn a_hostile_observer_is_contained_to_its_calls() {
    let e = env();
    let topics = ["hostile.metadata", "hostile.kernel", "hostile.port", "hostile.loop", "hostile.memory"];
    let mut m = manifest("test.hostile-observer", "1.0.0", Slot::Observer, 1);
    m.capabilities.subscribe = topics.iter().map(|t| t.to_string()).collect();
    m.capabilities.outbound_hosts = vec!["127.0.0.1:1".into()];
    m.resources.call_timeout_ms = 300;
    m.resources.memory_mib = 16;
    let grant = m.capabilities.clone();
    let key = e.host.install(m, &wasm(guests::HOSTILE_OBSERVER), &grant).unwrap().manifest.key();
    e.host.activate(Slot::Observer, Scope::Platform, &key).unwrap();
    // A kernel API that must never be reached: count any connection.
    let (kernel_port, _, kernel_connections) = receiver(200);
    let on = |topic: &str, payload: &[u8]| {
        let ev = EventContext { topic: topic.into(), ..event("inst", topic) };
        e.host.deliver_event("test.hostile-observer", &ev, payload)
    };
    on("hostile.metadata", b"").unwrap();
    on("hostile.kernel", kernel_port.to_string().as_bytes()).unwrap();
    on("hostile.port", b"").unwrap();
    for t in ["hostile.metadata", "hostile.kernel", "hostile.port"] {
        let seen = String::from_utf8(
            e.host.plugin_kv("test.hostile-observer", "inst", &format!("seen/{t}")).unwrap().unwrap(),
        )
        .unwrap();
        assert!(seen.contains("HttpRequestDenied"), "{t}: {seen}");
    }
    assert_eq!(kernel_connections.load(Ordering::SeqCst), 0, "the kernel's API was never contacted");

    let started = std::time::Instant::now();
    let err = on("hostile.loop", b"").unwrap_err();
    assert!(matches!(err, PluginError::Timeout { limit_ms: 300 }), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped by the call's deadline");
    let err = on("hostile.memory", b"").unwrap_err();
    assert!(matches!(err, PluginError::MemoryLimit { limit_mib: 16 }), "{err:?}");
    // And the next call works: nothing carried over.
    on("hostile.port", b"").unwrap();
}

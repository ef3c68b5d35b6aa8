//! Plugins' `kv` and `http` as a server provides them: only what was both requested and
//! granted, HTTP never to private addresses (unless the admin allowed the network), and
//! key-value state kept in the server's database under the plugin's name.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tsudoi_model::Capability;
use tsudoi_plugin_host::hooks::moderation::{
    Context, NoteFacts, NoteUnderReview, Verdict, offline_context,
};
use tsudoi_plugin_host::manifest::Manifest;
use tsudoi_plugin_host::{CallError, LoadOptions, ModerationPlugin, Services};

fn wasm(name: &str) -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(".."));
    let path = target
        .join("wasm32-wasip2/plugin")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first with scripts/build-plugins (tests/run does)",
            path.display()
        )
    })
}

fn note(text: &str) -> Arc<NoteUnderReview> {
    NoteFacts::public_text("atest00000000000", "aauthor000000000", text)
        .review()
        .into()
}

fn ctx() -> Arc<Context> {
    offline_context("aauthor000000000", "author")
}

/// A loopback HTTP server that answers `ok` and counts the connections it accepted, so a
/// test can tell a refused request from one that reached it.
fn counting_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (port, hits)
}

fn capabilities(list: &[&str]) -> Vec<Capability> {
    list.iter().map(|c| c.parse().unwrap()).collect()
}

/// The hostile plugin with a server's services, asking for `requested` and granted
/// `granted`.
fn hostile_with(services: &Services, requested: &[&str], granted: &[&str]) -> ModerationPlugin {
    let manifest = Manifest {
        capabilities: capabilities(requested),
        ..Default::default()
    };
    let mut plugin = ModerationPlugin::load(
        &wasm("hostile_plugin"),
        LoadOptions {
            manifest: Some(manifest),
            grants: capabilities(granted),
            services: Some(services.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    plugin.deadline = Duration::from_secs(5);
    plugin
}

/// A runtime for the host's services (the plugin waits for them from this test's thread).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A core over a fresh database whose plugins' HTTP may reach the `allowed` private
/// networks, made on `rt`.
fn core_allowing(rt: &tokio::runtime::Runtime, allowed: &[&str]) -> common::TestCore {
    let allowed: Vec<ipnet::IpNet> = allowed.iter().map(|n| n.parse().unwrap()).collect();
    rt.block_on(common::fresh_allowing(allowed))
}

fn verdict_text(v: Result<Verdict, CallError>) -> String {
    match v {
        Ok(Verdict::Flag(m)) => format!("flag: {m}"),
        Ok(Verdict::Reject(m)) => format!("reject: {m}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn http_reaches_only_granted_public_hosts() {
    let rt = runtime();
    let (port, hits) = counting_server();
    let local = format!("http:127.0.0.1:{port}");
    let by_name = format!("http:localhost:{port}");
    let strict = core_allowing(&rt, &[]);
    let strict = strict.core.plugin_services();
    let check = |plugin: &ModerationPlugin, url: &str| {
        verdict_text(plugin.check_note(&ctx(), &note(&format!("http:{url}"))))
    };

    // A host that was never granted: refused before any lookup.
    let p = hostile_with(&strict, &["http:example.com"], &["http:example.com"]);
    let v = check(&p, &format!("http://127.0.0.1:{port}/"));
    assert!(
        v.contains("Denied") && v.contains("not among the hosts granted"),
        "{v}"
    );
    // Requested but not granted, or granted but not requested: nothing.
    let p = hostile_with(&strict, &[&local], &[]);
    assert!(check(&p, &format!("http://127.0.0.1:{port}/")).contains("Denied"));
    let p = hostile_with(&strict, &[], &[&local]);
    assert!(check(&p, &format!("http://127.0.0.1:{port}/")).contains("Denied"));
    // Granted, but loopback, a private address, or a name that resolves to loopback: the
    // guarded client refuses them all.
    let p = hostile_with(
        &strict,
        &[&local, &by_name, "http:10.1.2.3"],
        &[&local, &by_name, "http:10.1.2.3"],
    );
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://10.1.2.3/".to_owned(),
    ] {
        let v = check(&p, &url);
        assert!(v.contains("Denied") && v.contains("private"), "{url}: {v}");
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the server"
    );

    // The admin allowed the loopback network: the granted request goes through.
    let lenient = core_allowing(&rt, &["127.0.0.0/8"]);
    let lenient = lenient.core.plugin_services();
    let p = hostile_with(&lenient, &[&local], &[&local]);
    let v = check(&p, &format!("http://127.0.0.1:{port}/"));
    assert_eq!(v, "flag: fetched 200 ok");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn kv_works_only_when_granted_and_is_kept_per_plugin() {
    let rt = runtime();
    let db = core_allowing(&rt, &[]);
    let s = db.core.plugin_services();
    let denied = hostile_with(&s, &["kv"], &[]);
    let v = verdict_text(denied.check_note(&ctx(), &note("kv:hits")));
    assert!(v.contains("AccessDenied"), "{v}");
    let granted = hostile_with(&s, &["kv"], &["kv"]);
    for expected in 1..=3 {
        let v = verdict_text(granted.check_note(&ctx(), &note("kv:hits")));
        assert_eq!(v, format!("flag: count {expected}"));
    }
    // Stored in the server's database, under the plugin's name.
    let stored = rt
        .block_on(
            db.store
                .kv_get(tsudoi_model::KvKey::new("hostile", "counts", "hits"), 0),
        )
        .unwrap();
    assert_eq!(stored.as_deref(), Some(b"3".as_slice()));
}

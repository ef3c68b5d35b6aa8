//! The plugin runtime with real components built from source (`scripts/build-plugins`): the
//! keyword filter's verdicts, and hostile plugins that loop, trap, hoard memory or were built
//! against another WIT version. The host survives each and keeps serving.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ::tsudoi::plugins::moderation::{
    Actor, Context, Direction, ModerationPlugin, Note, NoteFacts, Verdict, Visibility,
};
use ::tsudoi::plugins::{CallError, LoadError};

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

fn load_plugin(wasm: &[u8], config: Option<String>) -> Result<ModerationPlugin, LoadError> {
    ModerationPlugin::load(wasm, config, None)
}

fn note(text: &str) -> Note {
    NoteFacts {
        id: "atest00000000000",
        author_id: "aauthor000000000",
        text: Some(text),
        cw: None,
        visibility: Visibility::Public,
        local_only: false,
        reply_to: None,
        renote_of: None,
        created_at: 0,
    }
    .to_note()
}

fn ctx() -> Context {
    Context {
        direction: Direction::Incoming,
        activity_type: "Create".into(),
        peer_host: None,
        actor: Actor {
            id: "aauthor000000000".into(),
            username: "author".into(),
            host: None,
            display_name: None,
            is_bot: false,
            is_locked: false,
            created_at: 0,
            followers_count: 0,
            following_count: 0,
            notes_count: 0,
        },
        raw_activity: None,
    }
}

#[test]
fn keyword_filter_rejects_flags_and_rewrites() {
    let reject = load_plugin(
        &wasm("keyword_filter"),
        Some(r#"{"keywords":["Buy Now"]}"#.into()),
    )
    .unwrap();
    assert_eq!(&*reject.name, "keyword-filter");
    assert!(matches!(
        reject.check_note(&ctx(), &note("hello")).unwrap(),
        Verdict::Accept
    ));
    match reject.check_note(&ctx(), &note("please BUY NOW!")).unwrap() {
        Verdict::Reject(reason) => assert!(reason.contains("buy now"), "{reason}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    let cw = load_plugin(
        &wasm("keyword_filter"),
        Some(r#"{"keywords":["spoiler"],"action":"cw"}"#.into()),
    )
    .unwrap();
    match cw.check_note(&ctx(), &note("big spoiler ahead")).unwrap() {
        Verdict::Rewrite(n) => {
            assert_eq!(n.content_warning.as_deref(), Some("filtered: spoiler"));
            assert_eq!(n.text.as_deref(), Some("big spoiler ahead"));
        }
        other => panic!("expected a rewrite, got {other:?}"),
    }
    let flag = load_plugin(
        &wasm("keyword_filter"),
        Some(r#"{"keywords":["maybe"],"action":"flag"}"#.into()),
    )
    .unwrap();
    assert!(matches!(
        flag.check_note(&ctx(), &note("maybe spam")).unwrap(),
        Verdict::Flag(_)
    ));
}

#[test]
fn configuration_errors_are_reported_not_crashed_on() {
    let unconfigured = load_plugin(&wasm("keyword_filter"), None).unwrap();
    assert!(
        matches!(unconfigured.check_note(&ctx(), &note("x")), Err(CallError::Plugin(m)) if m.contains("no keywords"))
    );
    // A configuration the plugin refuses is caught when the plugin is loaded (installed or
    // reconfigured), before any note depends on it.
    let bad = load_plugin(&wasm("keyword_filter"), Some("{\"keywords\": 5}".into()));
    let err = bad.err().expect("a bad configuration must be refused");
    assert!(
        err.to_string().contains("rejected its configuration"),
        "{err}"
    );
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    let mut plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    plugin.deadline = Duration::from_millis(50);
    let started = Instant::now();
    let result = plugin.check_note(&ctx(), &note("loop"));
    let took = started.elapsed();
    assert!(matches!(result, Err(CallError::Timeout(_))), "{result:?}");
    assert!(took < Duration::from_millis(500), "stopped after {took:?}");
    // The next call gets a fresh instance and works.
    assert!(matches!(
        plugin.check_note(&ctx(), &note("fine")).unwrap(),
        Verdict::Accept
    ));
}

#[test]
fn traps_memory_hoarding_and_errors_fail_the_call_only() {
    let mut plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    // Long enough that the memory cap, not the deadline, stops the hoarding.
    plugin.deadline = Duration::from_secs(5);
    assert!(matches!(
        plugin.check_note(&ctx(), &note("trap")),
        Err(CallError::Trap(_))
    ));
    let started = Instant::now();
    let grown = plugin.check_note(&ctx(), &note("grow"));
    assert!(
        matches!(&grown, Err(CallError::Trap(m)) if m.contains("memory")),
        "{grown:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(plugin.check_note(&ctx(), &note("error")), Err(CallError::Plugin(m)) if m.contains("asked to fail"))
    );
    assert!(matches!(
        plugin.check_note(&ctx(), &note("fine")).unwrap(),
        Verdict::Accept
    ));
}

#[test]
fn components_for_another_wit_version_or_kind_are_refused_with_a_clear_message() {
    let err = load_plugin(&wasm("future_version_plugin"), None)
        .err()
        .expect("must be refused");
    assert!(
        matches!(err, LoadError::IncompatibleVersion { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("0.2.0") && message.contains("0.1.0"),
        "{message}"
    );
    let err = load_plugin(b"not wasm at all", None)
        .err()
        .expect("must be refused");
    assert!(matches!(err, LoadError::Invalid(_)), "{err}");
}

#[test]
fn concurrent_calls_are_independent() {
    let plugin = std::sync::Arc::new(load_plugin(&wasm("hostile_plugin"), None).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let p = plugin.clone();
            std::thread::spawn(move || {
                let text = if i % 2 == 0 { "trap" } else { "fine" };
                (i, p.check_note(&ctx(), &note(text)))
            })
        })
        .collect();
    for h in handles {
        let (i, r) = h.join().unwrap();
        assert_eq!(r.is_ok(), i % 2 == 1, "call {i}: {r:?}");
    }
}

#[test]
fn compiled_code_is_cached_on_disk_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm("keyword_filter");
    let config = Some(r#"{"keywords":["x"]}"#.to_owned());
    let first = Instant::now();
    ModerationPlugin::load(&bytes, config.clone(), Some(dir.path())).unwrap();
    let compiled = first.elapsed();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "one compiled artifact");
    let second = Instant::now();
    let cached = ModerationPlugin::load(&bytes, config, Some(dir.path())).unwrap();
    let reused = second.elapsed();
    assert!(matches!(
        cached.check_note(&ctx(), &note("x marks")).unwrap(),
        Verdict::Reject(_)
    ));
    assert!(
        reused < compiled,
        "cached load {reused:?} should beat compiling {compiled:?}"
    );
    // A corrupt artifact is discarded and rebuilt, not trusted.
    let path = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&path, b"garbage").unwrap();
    let rebuilt = ModerationPlugin::load(
        &bytes,
        Some(r#"{"keywords":["x"]}"#.into()),
        Some(dir.path()),
    )
    .unwrap();
    assert!(matches!(
        rebuilt.check_note(&ctx(), &note("x")).unwrap(),
        Verdict::Reject(_)
    ));
}

//! The plugin runtime with real components built from source (`scripts/build-plugins`): the
//! keyword filter's verdicts, the thinned-local ranker, and hostile plugins that loop, trap,
//! hoard memory, or were built against another WIT version. The host survives each and keeps
//! serving, and nothing leaks. (Plugins reaching for HTTP and storage they were not granted
//! are tested in the core, which provides both.)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsudoi_model::Capability;
use tsudoi_plugin_host::hooks::moderation::{
    Context, NoteFacts, NoteUnderReview, Verdict, Visibility,
};
use tsudoi_plugin_host::hooks::ranking::{Candidate, Viewer};
use tsudoi_plugin_host::manifest::Manifest;
use tsudoi_plugin_host::wit::{self, WitVersion, since_v0_1_0};
use tsudoi_plugin_host::{
    CallError, LoadError, LoadOptions, Loaded, ModerationPlugin, RankingPlugin,
};

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
    ModerationPlugin::load(
        wasm,
        LoadOptions {
            config,
            ..Default::default()
        },
    )
}

fn with_cache(config: &Option<String>, dir: &std::path::Path) -> LoadOptions {
    LoadOptions {
        config: config.clone(),
        cache: Some(dir.to_owned()),
        ..Default::default()
    }
}

fn note(text: &str) -> Arc<NoteUnderReview> {
    NoteFacts::public_text("atest00000000000", "aauthor000000000", text)
        .review()
        .into()
}

fn ctx() -> Arc<Context> {
    tsudoi_plugin_host::hooks::moderation::offline_context("aauthor000000000", "author")
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
    // Without a configuration a plugin is configured with `{}`: one that needs settings is
    // refused when it is loaded, not on every note afterwards.
    let unconfigured = load_plugin(&wasm("keyword_filter"), None)
        .err()
        .expect("the keyword filter needs its keywords");
    let message = unconfigured.to_string();
    assert!(
        message.contains("needs a configuration") && message.contains("keywords"),
        "{message}"
    );
    // One whose settings all have defaults is configured with them.
    load_plugin(&wasm("mention_limit"), None).unwrap();
    // A configuration that does not match the plugin's schema is caught when the plugin is
    // loaded (installed or reconfigured), before any note depends on it, and the message
    // says where it is wrong.
    let bad = load_plugin(&wasm("keyword_filter"), Some("{\"keywords\": 5}".into()));
    let err = bad.err().expect("a bad configuration must be refused");
    let message = err.to_string();
    assert!(
        message.contains("schema") && message.contains("/keywords"),
        "{message}"
    );
    let not_json = load_plugin(&wasm("keyword_filter"), Some("{keywords".into()));
    assert!(
        not_json
            .err()
            .is_some_and(|e| e.to_string().contains("not JSON"))
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
fn a_plugin_that_sleeps_or_hangs_is_stopped_at_the_deadline() {
    let mut plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    plugin.deadline = Duration::from_millis(50);
    // A sleep waits in the host (WASI's poll), where epoch interruption cannot reach: the
    // wait itself must end at the deadline.
    for text in ["sleep:3000", "hang"] {
        let started = Instant::now();
        let result = plugin.check_note(&ctx(), &note(text));
        let took = started.elapsed();
        assert!(
            matches!(result, Err(CallError::Timeout(_))),
            "{text}: {result:?}"
        );
        assert!(
            took < Duration::from_millis(500),
            "{text}: stopped after {took:?}"
        );
    }
    // A sleep that fits in the deadline is the plugin's business.
    assert!(matches!(
        plugin.check_note(&ctx(), &note("sleep:5")).unwrap(),
        Verdict::Accept
    ));
}

#[test]
fn a_configure_that_sleeps_is_stopped_at_the_load_deadline() {
    let started = Instant::now();
    let refused = load_plugin(
        &wasm("hostile_plugin"),
        Some(r#"{"sleep_ms": 60000}"#.into()),
    )
    .err()
    .expect("a plugin that does not finish configuring is not loaded");
    let took = started.elapsed();
    assert!(refused.to_string().contains("deadline"), "{refused}");
    assert!(took < Duration::from_secs(7), "loading took {took:?}");
}

#[test]
fn what_a_plugin_returns_is_held_to_a_sentence() {
    let mut plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    plugin.deadline = Duration::from_secs(5);
    let max = tsudoi_plugin_host::MAX_MESSAGE_CHARS + 1;
    match plugin.check_note(&ctx(), &note("reject:4000000")).unwrap() {
        Verdict::Reject(reason) => assert!(reason.chars().count() <= max, "{}", reason.len()),
        other => panic!("expected a rejection, got {other:?}"),
    }
    match plugin.check_note(&ctx(), &note("flag:4000000")).unwrap() {
        Verdict::Flag(reason) => assert!(reason.chars().count() <= max, "{}", reason.len()),
        other => panic!("expected a flag, got {other:?}"),
    }
    match plugin.check_note(&ctx(), &note("error:4000000")) {
        Err(CallError::Plugin(m)) => assert!(m.chars().count() <= max, "{}", m.len()),
        other => panic!("expected the plugin's error, got {other:?}"),
    }
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
fn an_instance_that_keeps_memory_is_replaced_before_it_hits_the_cap() {
    let plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    // 1 MiB kept per call: without retiring, an instance traps at the 64 MiB cap.
    for i in 0..200 {
        let outcome = plugin.check_note(&ctx(), &note("leak"));
        assert!(
            matches!(outcome, Ok(Verdict::Accept)),
            "call {i}: {outcome:?}"
        );
    }
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
    ModerationPlugin::load(&bytes, with_cache(&config, dir.path())).unwrap();
    let compiled = first.elapsed();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "one compiled artifact");
    let second = Instant::now();
    let cached = ModerationPlugin::load(&bytes, with_cache(&config, dir.path())).unwrap();
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
    let rebuilt = ModerationPlugin::load(&bytes, with_cache(&config, dir.path())).unwrap();
    assert!(matches!(
        rebuilt.check_note(&ctx(), &note("x")).unwrap(),
        Verdict::Reject(_)
    ));
}

#[test]
fn the_manifest_is_read_from_the_component_and_checked() {
    let plugin = load_plugin(&wasm("hostile_plugin"), None).unwrap();
    assert_eq!(plugin.manifest.name.as_deref(), Some("hostile"));
    assert_eq!(
        plugin.manifest.capabilities,
        vec![
            Capability::Kv,
            Capability::Http("example.com".into()),
            Capability::RawActivity
        ]
    );
    // Requested is not granted: without grants the plugin gets nothing.
    assert!(!plugin.capabilities.kv && plugin.capabilities.http_hosts.is_empty());
    let renamed = ModerationPlugin::load(
        &wasm("hostile_plugin"),
        LoadOptions {
            manifest: Some(Manifest::parse("name = \"someone-else\"").unwrap()),
            ..Default::default()
        },
    );
    let err = renamed
        .err()
        .expect("a manifest naming another plugin is refused");
    assert!(err.to_string().contains("someone-else"), "{err}");
    let wrong_kind = ModerationPlugin::load(
        &wasm("hostile_plugin"),
        LoadOptions {
            manifest: Some(Manifest::parse("kind = \"ranking\"").unwrap()),
            ..Default::default()
        },
    );
    assert!(matches!(wrong_kind, Err(LoadError::Manifest(_))));
}

fn candidate(i: usize, author: &str, created_at: i64, replies: u32) -> Candidate {
    Candidate {
        note_id: format!("n{i}"),
        author_id: author.into(),
        created_at,
        visibility: Visibility::Public,
        text: Some("text".into()),
        hashtags: vec![],
        lang: None,
        has_media: false,
        is_renote: false,
        is_reply: false,
        reaction_count: 0,
        renote_count: 0,
        reply_count: replies,
        author_followed: false,
        author_follows_viewer: false,
        extra: vec![],
    }
}

#[test]
fn the_thinned_local_ranker_thins_and_orders() {
    let load = |config: &str| {
        RankingPlugin::load(
            &wasm("thinned_local"),
            LoadOptions {
                config: Some(config.into()),
                ..Default::default()
            },
        )
    };
    let ranker = load(r#"{"max_per_author": 2, "boost_ms_per_interaction": 1000}"#).unwrap();
    let viewer = Viewer {
        id: "v".into(),
        languages: vec![],
        muted_words: vec![],
    };
    // Newest first: a posts three times, b once (older, but with two replies).
    let candidates = vec![
        candidate(0, "a", 10_000, 0),
        candidate(1, "a", 9_000, 0),
        candidate(2, "a", 8_000, 0),
        candidate(3, "b", 7_500, 2),
    ];
    let order = ranker.rank("local", &viewer, &candidates).unwrap();
    // b's note scores 9_500 and moves above a's second; a's third is thinned away.
    assert_eq!(order, vec![0, 3, 1]);
    let err = load(r#"{"max_per_author": 0}"#).err().unwrap();
    assert!(err.to_string().contains("max_per_author"), "{err}");
}

#[test]
fn mfm_renderers_render_their_fns_and_what_they_return_is_sanitised() {
    use tsudoi_plugin_host::MfmPlugin;
    use tsudoi_plugin_host::hooks::mfm::{RenderContext, document, fn_call};
    let load = |config: Option<&str>| {
        MfmPlugin::load(
            &wasm("mfm_shout_plugin"),
            LoadOptions {
                config: config.map(str::to_owned),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let plugin = load(None);
    assert_eq!(
        plugin.handled_fns().unwrap(),
        vec!["shout", "smuggle", "spin"]
    );
    let ctx = RenderContext {
        instance_url: "https://t.test".into(),
        allow_animation: true,
    };
    let shout = plugin
        .render_fn(&fn_call("shout", &[]), "hello <i>there</i>", &ctx)
        .unwrap();
    // (The sanitiser also normalises the tags the plugin upper-cased.)
    assert_eq!(shout, "<b class=\"mfm-shout\">HELLO <i>THERE</i></b>");
    let smuggled = plugin
        .render_fn(&fn_call("smuggle", &[]), "x", &ctx)
        .unwrap();
    for bad in [
        "<script",
        "onclick",
        "javascript:",
        "style=",
        "evil",
        "<img",
    ] {
        assert!(!smuggled.contains(bad), "{bad} survived: {smuggled}");
    }
    assert!(
        smuggled.starts_with("<span class=\"mfm-smuggle\">x"),
        "{smuggled}"
    );
    // A renderer that loops is stopped at the MFM deadline (20 ms by default).
    let started = Instant::now();
    let spun = plugin.render_fn(
        &fn_call("spin", &[("forever".into(), tsudoi_mfm::FnArg::Flag)]),
        "x",
        &ctx,
    );
    assert!(matches!(spun, Err(CallError::Timeout(_))), "{spun:?}");
    assert!(started.elapsed() < Duration::from_millis(500));
    // Whole documents: only when the plugin chooses to.
    let tree = tsudoi_mfm::parse("**a** $[shout b]");
    assert_eq!(
        plugin.render_document(&document(&tree), &ctx).unwrap(),
        None
    );
    let documents = load(Some(r#"{"documents": true}"#));
    assert_eq!(
        documents
            .render_document(&document(&tree), &ctx)
            .unwrap()
            .as_deref(),
        Some("<p class=\"mfm-doc\">5 nodes</p>")
    );
}

#[test]
fn a_bridge_is_polled_page_by_page_and_stopped_at_its_deadline() {
    use tsudoi_plugin_host::{BridgePlugin, Kind};
    let bytes = wasm("echo_bridge_plugin");
    let load = |config: &str, deadline: Option<Duration>| {
        BridgePlugin::load(
            &bytes,
            LoadOptions {
                config: Some(config.into()),
                deadline,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let bridge = load(r#"{"page":3}"#, None);
    assert_eq!(bridge.deadline, Kind::Bridge.default_deadline());
    let texts = |batch: &tsudoi_plugin_host::hooks::bridge::ImportBatch| {
        batch
            .posts
            .iter()
            .map(|p| p.text.clone())
            .collect::<Vec<_>>()
    };
    let first = bridge.poll(None).unwrap();
    assert_eq!(texts(&first), ["echo 0", "echo 1", "echo 2"]);
    assert_eq!(first.next_cursor.as_deref(), Some("3"));
    let second = bridge.poll(first.next_cursor.as_deref()).unwrap();
    assert_eq!(texts(&second), ["echo 3", "echo 4", "echo 5"]);
    assert!(
        matches!(bridge.poll(Some("x")), Err(CallError::Plugin(m)) if m.contains("not a cursor"))
    );

    let looping = load(r#"{"loop":true}"#, Some(Duration::from_millis(200)));
    let started = Instant::now();
    assert!(matches!(looping.poll(None), Err(CallError::Timeout(_))));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn components_built_against_the_0_1_line_load_through_its_binding_module() {
    assert_eq!(since_v0_1_0::VERSION, WitVersion::new(0, 1, 1));
    assert!(wit::SUPPORTED.contains(&since_v0_1_0::VERSION));
    // Every kind, each loaded by the kind its manifest or exports name, built with the SDK
    // (0.1.1), binds to the 0.1 line and answers through it.
    for (file, config) in [
        ("keyword_filter", Some(r#"{"keywords":["x"]}"#)),
        ("thinned_local", None),
        ("mfm_shout_plugin", None),
        ("echo_bridge_plugin", Some(r#"{"page":1}"#)),
    ] {
        let loaded = Loaded::load(
            &wasm(file),
            LoadOptions {
                config: config.map(str::to_owned),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let version = match &loaded {
            Loaded::Moderation(p) => {
                assert!(matches!(
                    p.check_note(&ctx(), &note("x")).unwrap(),
                    Verdict::Reject(_)
                ));
                p.wit_version
            }
            Loaded::Ranking(p) => {
                let viewer = Viewer {
                    id: "v".into(),
                    languages: vec![],
                    muted_words: vec![],
                };
                assert_eq!(
                    p.rank("local", &viewer, &[candidate(0, "a", 1, 0)])
                        .unwrap(),
                    vec![0]
                );
                p.wit_version
            }
            Loaded::Mfm(p) => {
                assert!(p.handled_fns().unwrap().contains(&"shout".to_owned()));
                p.wit_version
            }
            Loaded::Bridge(p) => {
                assert_eq!(p.poll(None).unwrap().posts.len(), 1);
                p.wit_version
            }
        };
        assert_eq!(version, since_v0_1_0::VERSION, "{file}");
    }
}

#[test]
fn a_component_built_against_0_1_0_loads_and_answers_through_the_newer_bindings() {
    let legacy = load_plugin(&wasm("legacy_0_1_0_plugin"), None).unwrap();
    assert_eq!(legacy.wit_version, WitVersion::new(0, 1, 0));
    assert!(matches!(
        legacy.check_note(&ctx(), &note("hello")).unwrap(),
        Verdict::Accept
    ));
    match legacy.check_note(&ctx(), &note("legacy:reject")).unwrap() {
        Verdict::Reject(reason) => assert_eq!(reason, "legacy refuses @author"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    // The whole `note` record crosses both ways, as 0.1.0 shaped it.
    match legacy.check_note(&ctx(), &note("legacy:cw")).unwrap() {
        Verdict::Rewrite(n) => {
            assert_eq!(n.content_warning.as_deref(), Some("legacy cw"));
            assert_eq!(n.text.as_deref(), Some("legacy:cw"));
            assert_eq!(n.id, "atest00000000000");
        }
        other => panic!("expected a rewrite, got {other:?}"),
    }
}

#[test]
fn the_link_guard_reads_the_links_the_host_found() {
    let guard = load_plugin(
        &wasm("link_guard"),
        Some(r#"{"blocked_hosts":["spam.example"],"new_account_hours":0}"#.into()),
    )
    .unwrap();
    let verdict = |text: &str| guard.check_note(&ctx(), &note(text)).unwrap();
    match verdict("look [google.com](https://WWW.Spam.Example/x)") {
        Verdict::Reject(reason) => {
            assert_eq!(reason, "links to a blocked site (www.spam.example)")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    for fine in [
        "https://docs.example/a",
        "`https://spam.example/in-code`",
        "spam.example without a scheme",
    ] {
        assert!(matches!(verdict(fine), Verdict::Accept), "{fine}");
    }
    // With the default configuration, an account made at the note's time may not link.
    let young = load_plugin(&wasm("link_guard"), Some("{}".into())).unwrap();
    match young
        .check_note(&ctx(), &note("https://docs.example/a"))
        .unwrap()
    {
        Verdict::Reject(reason) => assert!(reason.contains("may not post links"), "{reason}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

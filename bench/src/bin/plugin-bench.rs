//! Plugin runtime figures: a moderation call against the same filter compiled natively,
//! ranking 500 candidates against the same ranker compiled natively, the time from
//! installing a plugin to its first answer, and a restart with compiled code cached.
//!
//! `scripts/build-plugins && cargo run --release -p tsudoi-bench --bin plugin-bench [COMPONENT]`
//! (COMPONENT: another build of the keyword filter, e.g. `keyword_filter_py`)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyword_filter::filter::Filter;
use tsudoi_plugin_host::ModerationPlugin;
use tsudoi_plugin_host::hooks::moderation::{
    Actor, Context, Direction, NoteFacts, NoteUnderReview, Verdict, Visibility,
};

const CONFIG: &str =
    r#"{"keywords":["buy now","free crypto","limited offer","click here","casino"]}"#;

fn wasm(name: &str) -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()?
                .parent()?
                .parent()
                .map(PathBuf::from)
        })
        .expect("target directory");
    let path = target.join(format!("wasm32-wasip2/plugin/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/build-plugins first", path.display()))
}

fn note(text: &str) -> Arc<NoteUnderReview> {
    NoteFacts::public_text("abench0000000000", "aauthor000000000", text)
        .review()
        .into()
}

fn ctx() -> Arc<Context> {
    Arc::new(Context {
        direction: Direction::Incoming,
        activity_type: "Create".into(),
        peer_host: None,
        actor: Actor {
            id: "aauthor000000000".into(),
            username: "author".into(),
            host: None,
            display_name: Some("Author".into()),
            is_bot: false,
            is_locked: false,
            created_at: 0,
            followers_count: 10,
            following_count: 10,
            notes_count: 100,
        },
        raw_activity: None,
    })
}

/// `pattern` repeated to 1,000 bytes (whole characters).
fn one_kb(pattern: &str) -> String {
    let mut text = String::new();
    for c in pattern.chars().cycle() {
        if text.len() + c.len_utf8() > 1000 {
            break;
        }
        text.push(c);
    }
    text
}

/// p50 of a warm call through the plugin on a note with `text`, and of the same filter
/// compiled natively, measured alternately in the same loop.
fn call_p50(
    plugin: &ModerationPlugin,
    native: &Filter,
    ctx: &Arc<Context>,
    text: &str,
) -> (Duration, Duration) {
    let n = note(text);
    let rounds = 20_000;
    for _ in 0..2_000 {
        std::hint::black_box(plugin.check_note(ctx, &n).unwrap());
        std::hint::black_box(native.first_match(Some(text), None));
    }
    let mut wasm_times = Vec::with_capacity(rounds);
    let mut native_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(plugin.check_note(ctx, &n).unwrap());
        wasm_times.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(native.first_match(Some(std::hint::black_box(text)), None));
        native_times.push(t.elapsed());
    }
    (p50(wasm_times), p50(native_times))
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // Another build of the keyword filter may be named, e.g. `keyword_filter_py` (built by
    // scripts/build-examples); the native baseline stays the Rust filter.
    let component = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "keyword_filter".into());
    let bytes = wasm(&component);
    // A 1 KB note with no keyword: the common case.
    let text = one_kb("The quick brown fox jumps over the lazy dog. 日本語も少し。 ");
    let n = note(&text);
    let ctx = ctx();

    // Install to first answer: compile (no cache), instantiate, configure, call.
    let cache = std::env::temp_dir().join(format!("tsudoi-plugin-bench-{}", std::process::id()));
    let t = Instant::now();
    let options = tsudoi_plugin_host::LoadOptions {
        config: Some(CONFIG.into()),
        cache: Some(cache.clone()),
        ..Default::default()
    };
    let plugin = ModerationPlugin::load(&bytes, options.clone()).unwrap();
    assert!(matches!(
        plugin.check_note(&ctx, &n).unwrap(),
        Verdict::Accept
    ));
    let install = t.elapsed();
    // Restart: the compiled code comes from the cache.
    let t = Instant::now();
    let restarted = ModerationPlugin::load(&bytes, options).unwrap();
    assert!(matches!(
        restarted.check_note(&ctx, &n).unwrap(),
        Verdict::Accept
    ));
    let restart = t.elapsed();
    let _ = std::fs::remove_dir_all(&cache);

    // Warm calls against the same filter compiled natively.
    let native = Filter::from_json(CONFIG).unwrap();
    let (w, nat) = call_p50(&plugin, &native, &ctx, &text);
    // The filter's bad case: text made of the keywords' beginnings, where the scan stops at
    // almost every window and compares keywords.
    let near_misses = one_kb("buy no casin free crypt limite click her ");
    let (dw, dn) = call_p50(&plugin, &native, &ctx, &near_misses);
    // The fixed cost of a call: a one-word note, nearly nothing to scan.
    let (sw, sn) = call_p50(&plugin, &native, &ctx, "hi");
    println!("| figure | value | baseline (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    let row = |figure: &str, wasm: Duration, native: Duration, target: &str| {
        println!(
            "| {figure}, p50 | {} | same filter compiled natively {} | {:.1}× | {target} |",
            us(wasm),
            us(native),
            wasm.as_secs_f64() / native.as_secs_f64().max(1e-12)
        );
    };
    row(
        &format!("moderation call, 1 KB note, {component}"),
        w,
        nat,
        "≤ 3 µs",
    );
    row(
        "moderation call, 1 KB of keyword beginnings (the filter's bad case)",
        dw,
        dn,
        "",
    );
    row(
        "moderation call, 2-byte note (the fixed cost of a call)",
        sw,
        sn,
        "",
    );
    let (r, rn) = ranking();
    println!(
        "| ranking 500 candidates, thinned-local (Rust), p50 | {} | same ranker compiled natively {} | {:.1}× | ≤ 1 ms |",
        us(r),
        us(rn),
        r.as_secs_f64() / rn.as_secs_f64().max(1e-12)
    );
    println!(
        "| install to first answer (compile, instantiate, configure, call) | {} | | | ≤ 1000 ms |",
        ms(install)
    );
    println!(
        "| restart to first answer, compiled code cached | {} | install {} | {:.2}× | ≤ 100 ms |",
        ms(restart),
        ms(install),
        restart.as_secs_f64() / install.as_secs_f64()
    );
}

/// p50 of ranking 500 local-timeline candidates (20 authors, some discussed) through the
/// plugin, and through the same logic compiled natively.
fn ranking() -> (Duration, Duration) {
    use tsudoi_plugin_host::RankingPlugin;
    use tsudoi_plugin_host::hooks::ranking::{Candidate, Viewer};
    const CONFIG: &str = r#"{"max_per_author": 3, "boost_ms_per_interaction": 600000}"#;
    let plugin = RankingPlugin::load(
        &wasm("thinned_local"),
        tsudoi_plugin_host::LoadOptions {
            config: Some(CONFIG.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let settings: thinned_local::Settings = serde_json::from_str(CONFIG).unwrap();
    let candidates: Vec<Candidate> = (0..tsudoi_plugin_host::hooks::ranking::MAX_CANDIDATES)
        .map(|i| Candidate {
            note_id: format!("a{:015}", 1_000_000 - i),
            author_id: format!("author{:02}", i % 20),
            created_at: 1_700_000_000_000 - i as i64 * 60_000,
            visibility: Visibility::Public,
            text: Some(
                "A local note of ordinary length, with a #tag and a link https://example.com/"
                    .into(),
            ),
            hashtags: vec!["tag".into()],
            lang: None,
            has_media: false,
            is_renote: false,
            is_reply: i % 7 == 0,
            reaction_count: 0,
            renote_count: (i % 5) as u32,
            reply_count: (i % 3) as u32,
            author_followed: i % 2 == 0,
            author_follows_viewer: false,
            extra: vec![],
        })
        .collect();
    let viewer = Viewer {
        id: "aviewer000000000".into(),
        languages: vec![],
        muted_words: vec![],
    };
    let native = |c: &[Candidate]| {
        let items = c.iter().map(|c| thinned_local::Item {
            author: &c.author_id,
            created_at: c.created_at,
            interactions: c.reply_count + c.renote_count,
        });
        let mut kept = thinned_local::thin(&settings, items);
        kept.sort_by(|a, b| b.1.total_cmp(&a.1));
        kept
    };
    assert_eq!(
        plugin.rank("local", &viewer, &candidates).unwrap(),
        native(&candidates)
            .into_iter()
            .map(|(i, _)| i as usize)
            .collect::<Vec<_>>()
    );
    let rounds = 2_000;
    let (mut w, mut n) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(plugin.rank("local", &viewer, &candidates).unwrap());
        w.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(native(std::hint::black_box(&candidates)));
        n.push(t.elapsed());
    }
    (p50(w), p50(n))
}

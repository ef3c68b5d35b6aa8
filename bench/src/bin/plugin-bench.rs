//! Plugin runtime figures: a moderation call against the same filter compiled natively, the
//! time from installing a plugin to its first answer, and a restart with compiled code cached.
//!
//! `scripts/build-plugins && cargo run --release -p tsudoi-bench --bin plugin-bench`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use keyword_filter::filter::Filter;
use tsudoi::plugins::moderation::{
    Actor, Context, Direction, ModerationPlugin, Note, NoteFacts, Verdict, Visibility,
};

const CONFIG: &str =
    r#"{"keywords":["buy now","free crypto","limited offer","click here","casino"]}"#;

fn wasm() -> Vec<u8> {
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
    let path = target.join("wasm32-wasip2/plugin/keyword_filter.wasm");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/build-plugins first", path.display()))
}

fn note(text: &str) -> Note {
    NoteFacts {
        id: "abench0000000000",
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
            display_name: Some("Author".into()),
            is_bot: false,
            is_locked: false,
            created_at: 0,
            followers_count: 10,
            following_count: 10,
            notes_count: 100,
        },
        raw_activity: None,
    }
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
    let bytes = wasm();
    // A 1 KB note with no keyword: the common case, where every byte is scanned.
    let mut text = String::new();
    for c in "The quick brown fox jumps over the lazy dog. 日本語も少し。 "
        .chars()
        .cycle()
    {
        if text.len() + c.len_utf8() > 1000 {
            break;
        }
        text.push(c);
    }
    let n = note(&text);
    let ctx = ctx();

    // Install to first answer: compile (no cache), instantiate, configure, call.
    let cache = std::env::temp_dir().join(format!("tsudoi-plugin-bench-{}", std::process::id()));
    let t = Instant::now();
    let options = tsudoi::plugins::LoadOptions {
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
    let rounds = 20_000;
    for _ in 0..2_000 {
        let _ = plugin.check_note(&ctx, &n);
        std::hint::black_box(native.first_match(Some(&text), None));
    }
    let mut wasm_times = Vec::with_capacity(rounds);
    let mut native_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let v = plugin.check_note(&ctx, &n).unwrap();
        wasm_times.push(t.elapsed());
        std::hint::black_box(v);
        let t = Instant::now();
        std::hint::black_box(native.first_match(Some(std::hint::black_box(&text)), None));
        native_times.push(t.elapsed());
    }
    let (w, nat) = (p50(wasm_times), p50(native_times));
    println!("| figure | value | baseline (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| moderation call, 1 KB note, keyword filter (Rust), p50 | {} | same filter compiled natively {} | {:.1}× | ≤ 3 µs |",
        us(w),
        us(nat),
        w.as_secs_f64() / nat.as_secs_f64().max(1e-12)
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

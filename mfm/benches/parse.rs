//! Parse speed against mfm-js, and how time grows with input size.
//!
//! `cargo bench -p tsudoi-mfm --bench parse` (needs node and `npm ci` in mfm/tests/diff).
//! mfm-js runs in the same run on the same inputs, timed inside node so process start-up is
//! not counted; every figure is printed next to that baseline.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A note of mixed syntax, about 1 KB.
const MIXED: &str = "**Hello** @alice@example.com and @bob! #tsudoi #日本語 :smile: 😀👍🏽\n\
> quoted **bold** and ~~strike~~ with `code` and \\(x^2\\)\n\
$[x2 big] $[spin.speed=2s,left spinning] <small>small</small> <i>it</i> *it* __bold__\n\
https://example.com/path?q=1&r=(2) and <https://example.com/a b> and [label](https://x.test)\n\
```rust\nfn main() { println!(\"hi\"); }\n```\n\
<center>centred ***tada***</center>\nsearch query search\n\
plain text with punctuation, commas, periods. And 中文 한국어 русский текст.\n";

fn mixed(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + MIXED.len());
    while s.len() < bytes {
        s.push_str(MIXED);
    }
    s
}

/// Time per input for mfm-js over `inputs`, `rounds` times (the best round).
fn mfm_js(inputs: &[String], rounds: usize) -> Duration {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diff");
    let script = format!(
        "import * as mfm from 'mfm-js';\
         let s='';process.stdin.setEncoding('utf8');for await (const c of process.stdin) s+=c;\
         const inputs=JSON.parse(s);let best=Infinity;\
         for(let r=0;r<{rounds};r++){{const t=process.hrtime.bigint();for(const i of inputs) mfm.parse(i);\
         best=Math.min(best,Number(process.hrtime.bigint()-t));}}\
         process.stdout.write(String(best));"
    );
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is needed for the mfm-js baseline");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(inputs).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "mfm-js failed (npm ci in mfm/tests/diff?)"
    );
    let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    Duration::from_nanos(ns as u64) / inputs.len() as u32
}

fn ours(inputs: &[String], rounds: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for i in inputs {
            std::hint::black_box(tsudoi_mfm::parse(i));
        }
        best = best.min(t.elapsed());
    }
    best / inputs.len() as u32
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn main() {
    // 1. The differential corpus: hand-written cases and mixed notes of typical size.
    let mut corpus: Vec<String> =
        serde_json::from_str(include_str!("../tests/corpus.json")).expect("corpus.json");
    for size in [100, 300, 1000, 3000] {
        corpus.push(mixed(size));
    }
    let theirs = mfm_js(&corpus, 20);
    let us = ours(&corpus, 20);
    println!("| input | tsudoi-mfm | mfm-js (same run) | speed-up |");
    println!("|---|---|---|---|");
    println!(
        "| corpus ({} inputs), per input | {} | {} | {:.1}× |",
        corpus.len(),
        fmt(us),
        fmt(theirs),
        theirs.as_secs_f64() / us.as_secs_f64()
    );

    // 2. Growth with size: a mixed note of 1, 10 and 100 KB.
    let mut base: Option<Duration> = None;
    for kb in [1, 10, 100] {
        let input = vec![mixed(kb * 1024)];
        let t = ours(&input, 5);
        let js = mfm_js(&input, 3);
        let growth = base
            .map(|b| format!(", {:.1}× the 1 KB time", t.as_secs_f64() / b.as_secs_f64()))
            .unwrap_or_default();
        base.get_or_insert(t);
        println!(
            "| mixed {kb} KB{growth} | {} | {} | {:.1}× |",
            fmt(t),
            fmt(js),
            js.as_secs_f64() / t.as_secs_f64()
        );
    }

    // 3. Pathological inputs: thousands of unclosed openers must stay linear.
    println!();
    println!(
        "| pathological input | ×1,000 | ×10,000 | growth (linear: 10×) | mfm-js ×1,000 (same run) | speed-up |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, unit) in [
        ("unclosed `**`", "**a "),
        ("unclosed `$[`", "$[x2 a "),
        ("unclosed `<b>`", "<b>a "),
        ("unclosed `[`", "[a "),
        ("unclosed code fences", "```a\nb\n"),
        ("`#(` runs", "#(a "),
        ("`> ` lines", "> a\n"),
    ] {
        let small = vec![unit.repeat(1000)];
        let large = vec![unit.repeat(10_000)];
        let (ts, tl) = (ours(&small, 3), ours(&large, 3));
        // mfm-js is quadratic on some of these (minutes at ×10,000): its baseline is ×1,000.
        let js = mfm_js(&small, 1);
        println!(
            "| {name} | {} | {} | {:.1}× | {} | {:.1}× |",
            fmt(ts),
            fmt(tl),
            tl.as_secs_f64() / ts.as_secs_f64(),
            fmt(js),
            js.as_secs_f64() / ts.as_secs_f64()
        );
    }
}

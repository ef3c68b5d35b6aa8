//! Differential test: the real mfm-js (from npm, installed in `tests/diff`) and this crate
//! parse the same corpus, and the trees must agree node for node. The corpus is a list of
//! hand-written cases for every syntax rule and its edge cases (`corpus.json`), plus inputs
//! generated from MFM's significant fragments with a fixed seed.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Inputs built from fragments that start, end or break MFM syntax, so that generated
/// inputs exercise nesting, unterminated markers and rule interactions.
const FRAGMENTS: &[&str] = &[
    "**",
    "*",
    "__",
    "_",
    "***",
    "~~",
    "`",
    "```",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<s>",
    "</s>",
    "<small>",
    "</small>",
    "<center>",
    "</center>",
    "<plain>",
    "</plain>",
    "$[",
    "$[x2 ",
    "$[spin.speed=2s,left ",
    "]",
    "[",
    "?[",
    "](",
    ")",
    "(",
    "https://",
    "http://example.com/a_(b)",
    "<https://x.test/p?q=1>",
    "@",
    "@alice",
    "@bob@example.com",
    "#",
    "#tag",
    "#123",
    ":",
    ":smile:",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "> ",
    "\n",
    "\r\n",
    " ",
    "\u{3000}",
    "\t",
    "a",
    "Z",
    "9",
    ".",
    ",",
    "!",
    "検索",
    " search",
    "[search]",
    "😀",
    "👍🏽",
    "🇯🇵",
    "1️⃣",
    "\u{fe0f}",
    "日本語",
    "「",
    "」",
    "（",
    "）",
    "´",
    "-",
    "=",
    "+",
];

fn generated(count: usize, seed: u64) -> Vec<String> {
    // A small xorshift generator: the corpus must be the same on every run and machine.
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = 1 + (next() % 14) as usize;
            (0..len)
                .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
                .collect()
        })
        .collect()
}

/// Every emoji mfm-js knows, alone, with the text presentation selector after it, and
/// between letters.
fn emoji_cases() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/diff/node_modules/@misskey-dev/emoji-data/built/emojilist.json"
    );
    let list: Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("emoji list (run npm ci in tests/diff)"),
    )
    .expect("emojilist.json is JSON");
    let mut out = Vec::new();
    for entry in list.as_array().expect("emoji list is an array") {
        // Entries are [char, name, category] or objects with `char`.
        let Some(e) = entry
            .get(0)
            .or_else(|| entry.get("char"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        out.push(e.to_owned());
        out.push(format!("{e}\u{FE0E}"));
        out.push(format!("a{e}b{e}{e}"));
    }
    assert!(out.len() > 3000, "the emoji list looks empty");
    out
}

fn corpus() -> Vec<String> {
    let hand: Vec<String> = serde_json::from_str(include_str!("corpus.json"))
        .expect("tests/corpus.json is a JSON array of strings");
    let mut all = hand;
    all.extend(generated(20_000, 0x5eed_cafe));
    all.extend(emoji_cases());
    all
}

fn mfm_js(inputs: &[String]) -> (Vec<Value>, f64) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diff");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/mfm-js")
            .exists(),
        "mfm-js is not installed: run `npm ci` in {dir} (tests/run does)"
    );
    let mut child = Command::new("node")
        .arg("parse.mjs")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node must be on PATH for the differential test");
    let body = serde_json::to_vec(inputs).unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "mfm-js failed");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap().clone();
    (results, v["elapsedNs"].as_f64().unwrap_or(0.0))
}

#[test]
fn trees_agree_with_mfm_js() {
    let inputs = corpus();
    let (theirs, _) = mfm_js(&inputs);
    assert_eq!(theirs.len(), inputs.len());
    let mut disagreements = Vec::new();
    for (input, reference) in inputs.iter().zip(&theirs) {
        let full = tsudoi_mfm::to_json(&tsudoi_mfm::parse(input));
        let simple = tsudoi_mfm::to_json(&tsudoi_mfm::parse_simple(input));
        if full != reference["full"] {
            disagreements.push(format!(
                "parse {input:?}\n  mfm-js: {}\n  ours:   {}",
                reference["full"], full
            ));
        } else if simple != reference["simple"] {
            disagreements.push(format!(
                "parseSimple {input:?}\n  mfm-js: {}\n  ours:   {}",
                reference["simple"], simple
            ));
        }
    }
    // The corpus must exercise every node type, or agreement says little.
    let mut seen = std::collections::BTreeSet::new();
    fn collect(v: &Value, seen: &mut std::collections::BTreeSet<String>) {
        if let Some(t) = v.get("type").and_then(Value::as_str) {
            seen.insert(t.to_owned());
        }
        for child in v
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect(child, seen);
        }
    }
    for r in &theirs {
        for n in r["full"].as_array().into_iter().flatten() {
            collect(n, &mut seen);
        }
    }
    let all_types = [
        "quote",
        "search",
        "blockCode",
        "mathBlock",
        "center",
        "unicodeEmoji",
        "emojiCode",
        "bold",
        "small",
        "italic",
        "strike",
        "inlineCode",
        "mathInline",
        "mention",
        "hashtag",
        "url",
        "link",
        "fn",
        "plain",
        "text",
    ];
    let missing: Vec<_> = all_types.iter().filter(|t| !seen.contains(**t)).collect();
    assert!(missing.is_empty(), "the corpus never produces {missing:?}");
    let agreed = inputs.len() - disagreements.len();
    println!(
        "agreement with mfm-js: {agreed}/{} ({:.2}%)",
        inputs.len(),
        100.0 * agreed as f64 / inputs.len() as f64
    );
    for d in disagreements.iter().take(15) {
        println!("{d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} inputs disagree",
        disagreements.len()
    );
}

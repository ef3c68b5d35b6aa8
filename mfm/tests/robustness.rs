//! No input makes the parser or the renderers panic or overflow the stack: random inputs
//! built from MFM's markers, and deep nesting run on a thread with a deliberately small stack.

use tsudoi_mfm::{
    RenderOptions, parse, parse_simple, parse_with_nest_limit, to_html, to_mfm, to_text,
};

fn opts() -> RenderOptions<'static> {
    RenderOptions {
        mention_url: &|u, _| format!("https://l.test/@{u}"),
        hashtag_url: &|t| format!("https://l.test/tags/{t}"),
        emoji_url: &|_| None,
        search_url: "https://s.test/?q=",
        fn_renderer: None,
    }
}

fn exercise(input: &str) {
    let tree = parse(input);
    let _ = to_html(&tree, &opts());
    let _ = to_text(&tree);
    let _ = to_mfm(&tree);
    let _ = parse_simple(input);
    let _ = tsudoi_mfm::to_json(&tree);
    let _ = tsudoi_mfm::html_to_mfm(input);
}

/// Runs `f` on a thread with a 512 KiB stack: a recursion that is not bounded by the nesting
/// limit would overflow it on these inputs.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the parser overflowed or panicked");
}

#[test]
fn deep_nesting_stays_within_a_small_stack() {
    on_small_stack(|| {
        for unit in [
            "<b>",
            "**",
            "$[x2 ",
            "<small>",
            "~~",
            "[",
            "?[",
            "> ",
            ">",
            "#(",
            "#[",
            "<center>",
            "***",
            "<i>",
            "(",
            "https://a.test/(",
        ] {
            let deep = unit.repeat(20_000);
            exercise(&deep);
            exercise(&format!("{deep}x{}", "]".repeat(20_000)));
        }
        // A quote of quotes, each level parsed as a document of its own.
        let quotes: String = (0..200).map(|i| format!("{}a\n", "> ".repeat(i))).collect();
        exercise(&quotes);
    });
}

#[test]
fn a_large_nesting_limit_is_still_bounded() {
    on_small_stack(|| {
        for unit in ["<b>", "$[x2 ", "[", "> ", "#("] {
            let deep = unit.repeat(50_000);
            let _ = parse_with_nest_limit(&deep, usize::MAX);
        }
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    #[test]
    fn random_markup_never_panics(
        input in "(\\PC|\\*\\*|\\*|__|_|~~|`|```|<b>|</b>|<i>|</i>|<small>|</small>|<center>|</center>|<plain>|</plain>|\\$\\[|\\$\\[x2 |\\]|\\[|\\?\\[|\\]\\(|\\(|\\)|https://|@|#|:|\\\\\\(|\\\\\\)|\\\\\\[|\\\\\\]|> |\n|\r\n|search|\u{fe0f}|\u{fe0e}|😀|🇯)*"
    ) {
        exercise(&input);
    }

    #[test]
    fn arbitrary_unicode_never_panics(input in "\\PC*") {
        exercise(&input);
    }
}

//! HTML and text rendering: what each node type becomes, and hostile input coming out inert.

use tsudoi_mfm::{RenderOptions, parse, to_html, to_text};

fn opts() -> RenderOptions<'static> {
    RenderOptions {
        mention_url: &|u, h| match h {
            Some(h) => format!("https://local.test/@{u}@{h}"),
            None => format!("https://local.test/@{u}"),
        },
        hashtag_url: &|t| format!("https://local.test/tags/{t}"),
        emoji_url: &|n| (n == "blob").then(|| "https://local.test/emoji/blob.png".to_owned()),
        search_url: "https://search.test/?q=",
        fn_renderer: None,
    }
}

fn html(mfm: &str) -> String {
    to_html(&parse(mfm), &opts())
}

#[test]
fn each_node_type_renders_as_expected() {
    let cases = [
        ("plain\ntext", "<p>plain<br>text</p>"),
        (
            "**b** <i>i</i> ~~s~~ <small>sm</small>",
            "<p><b>b</b> <i>i</i> <del>s</del> <small>sm</small></p>",
        ),
        ("`a<b`", "<p><code>a&lt;b</code></p>"),
        (
            "```js\nlet a = \"<x>\";\n```",
            "<p><pre><code class=\"language-js\">let a = &quot;&lt;x&gt;&quot;;</code></pre></p>",
        ),
        ("> quoted", "<p><blockquote>quoted</blockquote></p>"),
        (
            "<center>mid</center>",
            "<p><div class=\"mfm-center\">mid</div></p>",
        ),
        ("\\(x^2\\)", "<p><code class=\"mfm-math\">x^2</code></p>"),
        (
            "\\[\nE=mc^2\n\\]",
            "<p><pre class=\"mfm-math\"><code>E=mc^2</code></pre></p>",
        ),
        (
            "@alice",
            "<p><span class=\"h-card\"><a href=\"https://local.test/@alice\" class=\"u-url mention\">@alice</a></span></p>",
        ),
        (
            "@bob@remote.test",
            "<p><span class=\"h-card\"><a href=\"https://local.test/@bob@remote.test\" class=\"u-url mention\">@bob@remote.test</a></span></p>",
        ),
        (
            "#tag",
            "<p><a href=\"https://local.test/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#tag</a></p>",
        ),
        (
            "https://x.test/a?b=1&c=2",
            "<p><a href=\"https://x.test/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">https://x.test/a?b=1&amp;c=2</a></p>",
        ),
        (
            "[label](https://x.test)",
            "<p><a href=\"https://x.test\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">label</a></p>",
        ),
        (
            ":blob: :unknown:",
            "<p><img class=\"mfm-emoji\" src=\"https://local.test/emoji/blob.png\" alt=\":blob:\" title=\":blob:\"> :unknown:</p>",
        ),
        ("😀", "<p>😀</p>"),
        ("<plain>**x**</plain>", "<p><span>**x**</span></p>"),
        (
            "query search",
            "<p><a href=\"https://search.test/?q=query\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">query search</a></p>",
        ),
        (
            "$[tada.speed=2s hi]",
            "<p><span class=\"mfm-tada\" style=\"--mfm-speed: 2s\">hi</span></p>",
        ),
        (
            "$[spin.left,speed=1.5s x]",
            "<p><span class=\"mfm-spin mfm-spin-left\" style=\"--mfm-speed: 1.5s\">x</span></p>",
        ),
        (
            "$[flip.h,v x]",
            "<p><span class=\"mfm-flip mfm-flip-h mfm-flip-v\">x</span></p>",
        ),
        ("$[x2 big]", "<p><span class=\"mfm-x2\">big</span></p>"),
        (
            "$[fg.color=f00 red]",
            "<p><span class=\"mfm-fg\" style=\"--mfm-color: #f00\">red</span></p>",
        ),
        (
            "$[bg.color=00ff00 green]",
            "<p><span class=\"mfm-bg\" style=\"--mfm-color: #00ff00\">green</span></p>",
        ),
        (
            "$[scale.x=2,y=9 s]",
            "<p><span class=\"mfm-scale\" style=\"--mfm-scale-x: 2; --mfm-scale-y: 5\">s</span></p>",
        ),
        (
            "$[position.x=1.5 p]",
            "<p><span class=\"mfm-position\" style=\"--mfm-position-x: 1.5em\">p</span></p>",
        ),
        (
            "$[rotate.deg=45 r]",
            "<p><span class=\"mfm-rotate\" style=\"--mfm-rotate: 45deg\">r</span></p>",
        ),
        (
            "$[border.color=abc,width=2,radius=4,style=dashed b]",
            "<p><span class=\"mfm-border\" style=\"--mfm-border-color: #abc; --mfm-border-width: 2px; --mfm-border-radius: 4px; --mfm-border-style: dashed\">b</span></p>",
        ),
        (
            "$[font.serif f]",
            "<p><span class=\"mfm-font mfm-font-serif\">f</span></p>",
        ),
        (
            "$[blur b] $[rainbow r] $[sparkle s] $[jelly j] $[twitch t] $[shake s] $[jump j] $[bounce b]",
            "<p><span class=\"mfm-blur\">b</span> <span class=\"mfm-rainbow\">r</span> <span class=\"mfm-sparkle\">s</span> <span class=\"mfm-jelly\">j</span> <span class=\"mfm-twitch\">t</span> <span class=\"mfm-shake\">s</span> <span class=\"mfm-jump\">j</span> <span class=\"mfm-bounce\">b</span></p>",
        ),
        (
            "$[ruby 漢字 かんじ]",
            "<p><ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby></p>",
        ),
        (
            "$[unixtime 1700000000]",
            "<p><time class=\"mfm-unixtime\" datetime=\"1700000000\">1700000000</time></p>",
        ),
        ("$[unknownfn kids **only**]", "<p>kids <b>only</b></p>"),
        ("***tada***", "<p><span class=\"mfm-tada\">tada</span></p>"),
    ];
    for (mfm, expected) in cases {
        assert_eq!(html(mfm), expected, "rendering {mfm:?}");
    }
}

/// Tags and attributes the renderer may emit; anything else in the output is an injection.
const TAGS: &[&str] = &[
    "p",
    "br",
    "b",
    "i",
    "del",
    "small",
    "code",
    "pre",
    "blockquote",
    "div",
    "span",
    "a",
    "img",
    "ruby",
    "rp",
    "rt",
    "time",
];
const ATTRS: &[&str] = &[
    "class", "href", "rel", "target", "style", "src", "alt", "title", "datetime",
];

fn assert_inert(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let close = rest[open..]
            .find('>')
            .map(|c| open + c)
            .expect("unclosed tag in output");
        let tag = &rest[open + 1..close];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            TAGS.contains(&name.as_str()),
            "unexpected tag <{tag}> in {html}"
        );
        // Attributes: name="value" pairs, values escaped so they cannot hold a quote.
        let mut attrs = &tag[name.len()..];
        while let Some(eq) = attrs.find("=\"") {
            let attr = attrs[..eq].trim();
            assert!(
                ATTRS.contains(&attr),
                "unexpected attribute {attr} in {html}"
            );
            let end = attrs[eq + 2..].find('"').expect("unterminated attribute") + eq + 2;
            let value = &attrs[eq + 2..end];
            if attr == "href" || attr == "src" {
                assert!(
                    value.starts_with("https://") || value.starts_with("http://"),
                    "unsafe URL {value} in {html}"
                );
            }
            if attr == "style" {
                assert!(
                    !value.contains("url(") && !value.contains("expression"),
                    "unsafe style {value}"
                );
            }
            attrs = &attrs[end + 1..];
        }
        rest = &rest[close + 1..];
    }
}

#[test]
fn hostile_input_comes_out_inert() {
    let hostile = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><script>alert(1)</script>",
        "[<img src=x onerror=alert(1)>](https://x.test)",
        "[click](javascript:alert(1))",
        "<javascript:alert(1)>",
        "$[fg.color=red;background:url(javascript:alert(1)) x]",
        "$[fg.color=f00\" onmouseover=\"alert(1) x]",
        "$[scale.x=1e309 x] $[position.x=NaN y] $[rotate.deg=-inf z]",
        "$[tada.speed=1s;animation:none x]",
        "$[border.style=solid;color:red x]",
        "```\"><script>\n<script>alert(1)</script>\n```",
        "```<script>\nx\n```",
        "#\"onmouseover=alert(1)",
        "@\"onmouseover=alert(1)@x",
        "$[ruby <b>x</b> <script>y</script>]",
        "$[unixtime <script>]",
        "https://x.test/\"onmouseover=\"alert(1)",
        "<https://x.test/\"><script>alert(1)</script>>",
        "query\"><script> search",
        ":blob\"onerror=alert(1):",
    ];
    for input in hostile {
        let out = html(input);
        assert_inert(&out);
        assert!(!out.contains("<script"), "{input:?} -> {out}");
        assert!(
            !out.to_ascii_lowercase().contains("href=\"javascript:"),
            "{input:?} -> {out}"
        );
    }
}

#[test]
fn hand_built_trees_cannot_smuggle_unsafe_urls() {
    use tsudoi_mfm::Node;
    let tree = vec![
        Node::Url {
            url: "javascript:alert(1)".into(),
            brackets: false,
        },
        Node::Link {
            silent: false,
            url: "data:text/html,x".into(),
            children: vec![Node::Text("label".into())],
        },
        Node::Url {
            url: "https://ok.test/a b".into(),
            brackets: true,
        },
    ];
    let out = to_html(&tree, &opts());
    assert_inert(&out);
    assert_eq!(out, "<p>javascript:alert(1)labelhttps://ok.test/a b</p>");
    let evil = RenderOptions {
        emoji_url: &|_| Some("javascript:alert(1)".into()),
        ..opts()
    };
    let out = to_html(&parse(":blob:"), &evil);
    assert_eq!(out, "<p>:blob:</p>");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    #[test]
    fn any_input_renders_inert(input in "(\\PC|<|>|\"|'|&|\\*|\\$\\[|\\]|\\[|\\(|\\)|:|@|#|`|\n|javascript:|https://)*") {
        assert_inert(&html(&input));
    }
}

#[test]
fn plain_text_keeps_words_and_drops_markup() {
    let text = to_text(&parse(
        "**Hello** @alice #tag $[x2 big] [label](https://x.test) `code`\n> quoted\n$[ruby 漢字 かんじ]",
    ));
    assert_eq!(
        text,
        "Hello @alice #tag big label (https://x.test) code\n> quoted\n漢字(かんじ)"
    );
}

#[test]
fn the_stylesheet_covers_every_effect_the_renderer_emits() {
    for name in [
        "tada", "jelly", "twitch", "shake", "spin", "jump", "bounce", "flip", "x2", "x3", "x4",
        "scale", "position", "fg", "bg", "border", "font", "blur", "rainbow", "sparkle", "rotate",
    ] {
        let class = format!(".mfm-{name}");
        assert!(
            tsudoi_mfm::STYLESHEET.contains(&class),
            "mfm.css has no {class}"
        );
        assert!(
            html(&format!("$[{name} x]")).contains(&format!("class=\"mfm-{name}")),
            "{name} renders no class"
        );
    }
}

//! Remote HTML to MFM-ish text, for notes from servers that send only HTML (Mastodon and
//! most of the fediverse). The HTML is first cleaned by ammonia down to the handful of tags
//! that carry meaning here, then walked token by token: links to people become mentions,
//! links to tags hashtags, other links `[label](url)`, emphasis MFM emphasis, paragraphs and
//! line breaks newlines.

use std::cell::RefCell;
use std::collections::HashSet;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// The tags the conversion understands; everything else is dropped by ammonia (with the
/// content of `script` and `style`), keeping its text.
const KEPT_TAGS: &[&str] = &[
    "a",
    "p",
    "br",
    "span",
    "div",
    "b",
    "strong",
    "i",
    "em",
    "del",
    "s",
    "small",
    "code",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "ruby",
    "rt",
    "rp",
];

enum Tok {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
}

#[derive(Default)]
struct Collector {
    tokens: RefCell<Vec<Tok>>,
}

impl TokenSink for Collector {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut tokens = self.tokens.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                match tag.kind {
                    TagKind::StartTag => {
                        let attrs = tag
                            .attrs
                            .iter()
                            .map(|a| (a.name.local.to_string(), a.value.to_string()))
                            .collect();
                        tokens.push(Tok::Start(name.clone(), attrs));
                        if tag.self_closing {
                            tokens.push(Tok::End(name));
                        }
                    }
                    TagKind::EndTag => tokens.push(Tok::End(name)),
                }
            }
            Token::CharacterTokens(t) => tokens.push(Tok::Text(t.to_string())),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// What an open element collects its content for.
enum Frame {
    Link {
        href: Option<String>,
        class: String,
        start: usize,
    },
    Quote {
        start: usize,
    },
    Pre {
        start: usize,
    },
    Ruby {
        start: usize,
        reading: Option<usize>,
    },
    Plain {
        end: &'static str,
    },
    /// Content that is dropped (`rp`, the fallback parentheses of ruby).
    Drop {
        start: usize,
    },
}

/// Converts HTML to MFM-ish text.
pub fn html_to_mfm(html: &str) -> String {
    let tags: HashSet<&str> = KEPT_TAGS.iter().copied().collect();
    let cleaned = ammonia::Builder::default()
        .tags(tags)
        .link_rel(None)
        .url_schemes(["http", "https"].into_iter().collect())
        .add_tag_attributes("a", ["href", "class"])
        .add_tag_attributes("span", ["class"])
        .clean(html)
        .to_string();
    let tokenizer = Tokenizer::new(Collector::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(cleaned.as_str()));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let tokens = tokenizer.sink.tokens.take();

    let mut out = String::new();
    let mut stack: Vec<Frame> = Vec::new();
    let paragraph = |out: &mut String| {
        let trimmed = out.trim_end_matches([' ', '\t']).len();
        out.truncate(trimmed);
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
        }
    };
    for tok in tokens {
        match tok {
            Tok::Text(t) => out.push_str(&t),
            Tok::Start(name, attrs) => {
                let attr = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                match name.as_str() {
                    "br" => out.push('\n'),
                    "p" | "div" | "ul" | "ol" => paragraph(&mut out),
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        paragraph(&mut out);
                        out.push_str("**");
                        stack.push(Frame::Plain { end: "**\n" });
                    }
                    "li" => {
                        if !out.is_empty() && !out.ends_with('\n') {
                            out.push('\n');
                        }
                        out.push_str("- ");
                    }
                    "b" | "strong" => {
                        out.push_str("**");
                        stack.push(Frame::Plain { end: "**" });
                    }
                    "i" | "em" => {
                        out.push_str("<i>");
                        stack.push(Frame::Plain { end: "</i>" });
                    }
                    "del" | "s" => {
                        out.push_str("~~");
                        stack.push(Frame::Plain { end: "~~" });
                    }
                    "small" => {
                        out.push_str("<small>");
                        stack.push(Frame::Plain { end: "</small>" });
                    }
                    "code" if !stack.iter().any(|f| matches!(f, Frame::Pre { .. })) => {
                        out.push('`');
                        stack.push(Frame::Plain { end: "`" });
                    }
                    "a" => stack.push(Frame::Link {
                        href: attr("href"),
                        class: attr("class").unwrap_or_default(),
                        start: out.len(),
                    }),
                    "blockquote" => {
                        paragraph(&mut out);
                        stack.push(Frame::Quote { start: out.len() });
                    }
                    "pre" => {
                        paragraph(&mut out);
                        stack.push(Frame::Pre { start: out.len() });
                    }
                    "ruby" => stack.push(Frame::Ruby {
                        start: out.len(),
                        reading: None,
                    }),
                    "rp" => stack.push(Frame::Drop { start: out.len() }),
                    "rt" => {
                        if let Some(Frame::Ruby { reading, .. }) = stack.last_mut() {
                            *reading = Some(out.len());
                        }
                    }
                    _ => {}
                }
            }
            Tok::End(name) => {
                let closes = |f: &Frame| match f {
                    Frame::Link { .. } => name == "a",
                    Frame::Quote { .. } => name == "blockquote",
                    Frame::Pre { .. } => name == "pre",
                    Frame::Ruby { .. } => name == "ruby",
                    Frame::Drop { .. } => name == "rp",
                    Frame::Plain { end } => match *end {
                        "**\n" => name.len() == 2 && name.starts_with('h'),
                        "**" => name == "b" || name == "strong",
                        "</i>" => name == "i" || name == "em",
                        "~~" => name == "del" || name == "s",
                        "</small>" => name == "small",
                        "`" => name == "code",
                        _ => false,
                    },
                };
                if name == "p" || name == "div" {
                    paragraph(&mut out);
                    continue;
                }
                if !stack.last().is_some_and(closes) {
                    continue;
                }
                match stack.pop() {
                    Some(Frame::Plain { end }) => out.push_str(end),
                    Some(Frame::Link { href, class, start }) => {
                        let label = out.split_off(start);
                        out.push_str(&link_to_mfm(&label, href.as_deref(), &class));
                    }
                    Some(Frame::Quote { start }) => {
                        let inner = out.split_off(start);
                        let quoted: Vec<String> =
                            inner.trim().lines().map(|l| format!("> {l}")).collect();
                        out.push_str(&quoted.join("\n"));
                        out.push('\n');
                    }
                    Some(Frame::Pre { start }) => {
                        let inner = out.split_off(start);
                        out.push_str("```\n");
                        out.push_str(inner.trim_end_matches('\n'));
                        out.push_str("\n```\n");
                    }
                    Some(Frame::Ruby { start, reading }) => {
                        let inner = out.split_off(start);
                        match reading {
                            Some(r) if r >= start => {
                                let (base, rt) = inner.split_at(r - start);
                                out.push_str(&format!("$[ruby {} {}]", base.trim(), rt.trim()));
                            }
                            _ => out.push_str(&inner),
                        }
                    }
                    Some(Frame::Drop { start }) => out.truncate(start),
                    None => {}
                }
            }
        }
    }
    out.trim().to_owned()
}

/// A link as MFM: a mention for a link to a person, the hashtag for a tag link, the URL
/// alone when the label is the URL, otherwise `[label](url)`.
fn link_to_mfm(label: &str, href: Option<&str>, class: &str) -> String {
    let label = label.trim();
    let Some(href) = href.filter(|h| h.starts_with("https://") || h.starts_with("http://")) else {
        return label.to_owned();
    };
    let classes: Vec<&str> = class.split_whitespace().collect();
    if let Some(user) = label.strip_prefix('@').filter(|u| !u.is_empty()) {
        // `@alice` linking to https://remote.example/@alice is @alice@remote.example.
        if !user.contains('@')
            && let Some(host) = host_of(href)
        {
            return format!("@{user}@{host}");
        }
        return label.to_owned();
    }
    if label.starts_with('#') || classes.contains(&"hashtag") {
        return label.to_owned();
    }
    if label.is_empty() || label == href || href.ends_with(label) && label.contains('.') {
        return href.to_owned();
    }
    format!("[{label}]({href})")
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_html_becomes_mfm() {
        let html = r#"<p>Hello <span class="h-card"><a href="https://remote.example/@alice" class="u-url mention">@<span>alice</span></a></span>! See <a href="https://remote.example/tags/rust" class="mention hashtag" rel="tag">#<span>rust</span></a> and <a href="https://example.com/page" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="">example.com/page</span></a></p><p>second<br>line</p>"#;
        assert_eq!(
            html_to_mfm(html),
            "Hello @alice@remote.example! See #rust and https://example.com/page\n\nsecond\nline"
        );
    }

    #[test]
    fn emphasis_code_quotes_and_labelled_links() {
        assert_eq!(
            html_to_mfm(
                "<p><strong>b</strong> <em>i</em> <del>s</del> <code>c</code> <a href=\"https://x.test\">label</a></p><blockquote><p>quoted<br>lines</p></blockquote><pre><code>fn main() {}\n</code></pre>"
            ),
            "**b** <i>i</i> ~~s~~ `c` [label](https://x.test)\n\n> quoted\n> lines\n\n```\nfn main() {}\n```"
        );
    }

    #[test]
    fn scripts_and_unsafe_links_are_dropped() {
        assert_eq!(
            html_to_mfm(
                "<p>a<script>alert(1)</script> <a href=\"javascript:alert(1)\">click</a> <img src=x onerror=alert(1)>b</p>"
            ),
            "a click b"
        );
    }

    #[test]
    fn ruby_becomes_the_ruby_function() {
        assert_eq!(
            html_to_mfm("<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>"),
            "$[ruby 漢字 かんじ]"
        );
    }
}

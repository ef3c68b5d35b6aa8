//! MFM to HTML and to plain text.
//!
//! The HTML is safe by construction: every piece of user text goes through [`escape`], every
//! `href` is an http(s) URL (the parser only recognises those) or one the caller built, and
//! every value that reaches a `style` attribute is checked against a strict pattern first.
//! `$[fn]` nodes become `<span class="mfm-NAME">` elements whose arguments are CSS custom
//! properties or extra classes, which the stylesheet animates as Misskey's web client does;
//! names it does not know render their children only.

use crate::node::{FnArg, Node};

/// How links to people and tags are made; the host fills these in with its own URLs.
pub struct RenderOptions<'a> {
    /// Profile URL for `@username` (`host` is `None` for local users).
    pub mention_url: &'a dyn Fn(&str, Option<&str>) -> String,
    /// Page for a hashtag.
    pub hashtag_url: &'a dyn Fn(&str) -> String,
    /// Image for a custom emoji `:name:`, if known; otherwise the code stays text.
    pub emoji_url: &'a dyn Fn(&str) -> Option<String>,
    /// Search engine for the search block (the query is appended, URL-encoded).
    pub search_url: &'a str,
    /// Renders the `$[fn]` names it handles instead of this renderer (a plugin's).
    pub fn_renderer: Option<&'a dyn FnRenderer>,
}

/// Renders some `$[fn]` names in place of the built-in rendering.
pub trait FnRenderer {
    fn handles(&self, name: &str) -> bool;
    /// The HTML for one call, given its already-rendered children; `None` falls back to the
    /// built-in rendering. What it returns is inserted as is: it must be sanitised already.
    fn render(&self, name: &str, args: &[(String, FnArg)], children_html: &str) -> Option<String>;
}

/// Escapes text for element content and double-quoted attribute values.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(s, &mut out);
    out
}

/// Percent-encodes a query or path component (everything but unreserved characters).
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only http(s) URLs may become links: the parser never makes anything else, and this check
/// keeps the renderer safe on trees built by hand (plugins, bridges).
fn safe_href(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Renders a tree as an HTML fragment wrapped in one `<p>` (what ActivityPub `content` carries).
pub fn to_html(nodes: &[Node], opts: &RenderOptions<'_>) -> String {
    let mut out = String::from("<p>");
    render_all(nodes, opts, &mut out);
    out.push_str("</p>");
    out
}

fn render_all(nodes: &[Node], opts: &RenderOptions<'_>, out: &mut String) {
    for n in nodes {
        render(n, opts, out);
    }
}

fn text_with_breaks(t: &str, out: &mut String) {
    for (i, line) in t.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        escape(line.trim_end_matches('\r'), out);
    }
}

fn render(n: &Node, opts: &RenderOptions<'_>, out: &mut String) {
    match n {
        Node::Text(t) => text_with_breaks(t, out),
        Node::Bold(c) => wrap(out, "<b>", c, opts, "</b>"),
        Node::Italic(c) => wrap(out, "<i>", c, opts, "</i>"),
        Node::Strike(c) => wrap(out, "<del>", c, opts, "</del>"),
        Node::Small(c) => wrap(out, "<small>", c, opts, "</small>"),
        Node::Center(c) => wrap(out, "<div class=\"mfm-center\">", c, opts, "</div>"),
        Node::Quote(c) => wrap(out, "<blockquote>", c, opts, "</blockquote>"),
        Node::Plain(c) => wrap(out, "<span>", c, opts, "</span>"),
        Node::InlineCode { code } => {
            out.push_str("<code>");
            escape(code, out);
            out.push_str("</code>");
        }
        Node::BlockCode { code, lang } => {
            out.push_str("<pre><code");
            if let Some(lang) = lang.as_deref().filter(|l| {
                l.len() <= 32
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-_.#".contains(&b))
            }) {
                out.push_str(" class=\"language-");
                escape(lang, out);
                out.push('"');
            }
            out.push('>');
            escape(code, out);
            out.push_str("</code></pre>");
        }
        Node::MathInline { formula } => {
            out.push_str("<code class=\"mfm-math\">");
            escape(formula, out);
            out.push_str("</code>");
        }
        Node::MathBlock { formula } => {
            out.push_str("<pre class=\"mfm-math\"><code>");
            escape(formula, out);
            out.push_str("</code></pre>");
        }
        Node::Search { query, content } => {
            out.push_str("<a href=\"");
            escape(&format!("{}{}", opts.search_url, url_component(query)), out);
            out.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
            escape(content, out);
            out.push_str("</a>");
        }
        Node::UnicodeEmoji { emoji } => escape(emoji, out),
        Node::EmojiCode { name } => match (opts.emoji_url)(name).filter(|u| safe_href(u)) {
            Some(src) => {
                out.push_str("<img class=\"mfm-emoji\" src=\"");
                escape(&src, out);
                out.push_str("\" alt=\":");
                escape(name, out);
                out.push_str(":\" title=\":");
                escape(name, out);
                out.push_str(":\">");
            }
            None => {
                out.push(':');
                escape(name, out);
                out.push(':');
            }
        },
        Node::Mention {
            username,
            host,
            acct,
        } => {
            out.push_str("<span class=\"h-card\"><a href=\"");
            escape(&(opts.mention_url)(username, host.as_deref()), out);
            out.push_str("\" class=\"u-url mention\">");
            escape(acct, out);
            out.push_str("</a></span>");
        }
        Node::Hashtag { hashtag } => {
            out.push_str("<a href=\"");
            escape(&(opts.hashtag_url)(hashtag), out);
            out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#");
            escape(hashtag, out);
            out.push_str("</a>");
        }
        Node::Url { url, .. } => {
            if safe_href(url) {
                out.push_str("<a href=\"");
                escape(url, out);
                out.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
                escape(url, out);
                out.push_str("</a>");
            } else {
                escape(url, out);
            }
        }
        Node::Link { url, children, .. } => {
            if safe_href(url) {
                out.push_str("<a href=\"");
                escape(url, out);
                out.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
                render_all(children, opts, out);
                out.push_str("</a>");
            } else {
                render_all(children, opts, out);
            }
        }
        Node::Fn {
            name,
            args,
            children,
        } => {
            if let Some(hook) = opts.fn_renderer.filter(|h| h.handles(name)) {
                let mut inner = String::new();
                render_all(children, opts, &mut inner);
                if let Some(html) = hook.render(name, args, &inner) {
                    out.push_str(&html);
                    return;
                }
            }
            render_fn(name, args, children, opts, out)
        }
    }
}

fn wrap(out: &mut String, open: &str, children: &[Node], opts: &RenderOptions<'_>, close: &str) {
    out.push_str(open);
    render_all(children, opts, out);
    out.push_str(close);
}

fn arg<'a>(args: &'a [(String, FnArg)], key: &str) -> Option<&'a FnArg> {
    args.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn arg_value<'a>(args: &'a [(String, FnArg)], key: &str) -> Option<&'a str> {
    match arg(args, key) {
        Some(FnArg::Value(v)) => Some(v),
        _ => None,
    }
}

fn flag(args: &[(String, FnArg)], key: &str) -> bool {
    arg(args, key).is_some()
}

/// A duration such as `1.5s` (Misskey's format for `speed` and `delay`).
fn css_time(v: &str) -> Option<String> {
    let n = v.strip_suffix('s')?;
    let ok = !n.is_empty()
        && n.len() <= 8
        && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && n.matches('.').count() <= 1;
    ok.then(|| format!("{n}s"))
}

/// A number, clamped to `min..=max` (Misskey clamps scale and position the same way).
fn css_number(v: &str, min: f64, max: f64) -> Option<String> {
    let n: f64 = v.parse().ok().filter(|n: &f64| n.is_finite())?;
    Some(format!("{}", n.clamp(min, max)))
}

/// A colour as Misskey accepts it: three to six hex digits.
fn css_color(v: &str) -> Option<String> {
    ((3..=6).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{v}"))
}

fn render_fn(
    name: &str,
    args: &[(String, FnArg)],
    children: &[Node],
    opts: &RenderOptions<'_>,
    out: &mut String,
) {
    let mut classes = vec![format!("mfm-{name}")];
    let mut style: Vec<String> = Vec::new();
    let timing = |style: &mut Vec<String>| {
        if let Some(t) = arg_value(args, "speed").and_then(css_time) {
            style.push(format!("--mfm-speed: {t}"));
        }
        if let Some(t) = arg_value(args, "delay").and_then(css_time) {
            style.push(format!("--mfm-delay: {t}"));
        }
    };
    match name {
        "tada" | "jelly" | "twitch" | "shake" | "jump" | "bounce" | "rainbow" => timing(&mut style),
        "spin" => {
            timing(&mut style);
            for f in ["left", "alternate", "x", "y"] {
                if flag(args, f) {
                    classes.push(format!("mfm-spin-{f}"));
                }
            }
        }
        "flip" => {
            for f in ["h", "v"] {
                if flag(args, f) {
                    classes.push(format!("mfm-flip-{f}"));
                }
            }
        }
        "x2" | "x3" | "x4" | "blur" | "sparkle" => {}
        "scale" => {
            for (k, var) in [("x", "--mfm-scale-x"), ("y", "--mfm-scale-y")] {
                if let Some(v) = arg_value(args, k).and_then(|v| css_number(v, -5.0, 5.0)) {
                    style.push(format!("{var}: {v}"));
                }
            }
        }
        "position" => {
            for (k, var) in [("x", "--mfm-position-x"), ("y", "--mfm-position-y")] {
                if let Some(v) = arg_value(args, k).and_then(|v| css_number(v, -50.0, 50.0)) {
                    style.push(format!("{var}: {v}em"));
                }
            }
        }
        "rotate" => {
            if let Some(v) = arg_value(args, "deg").and_then(|v| css_number(v, -360.0, 360.0)) {
                style.push(format!("--mfm-rotate: {v}deg"));
            }
        }
        "fg" | "bg" => {
            if let Some(c) = arg_value(args, "color").and_then(css_color) {
                style.push(format!("--mfm-color: {c}"));
            }
        }
        "border" => {
            if let Some(c) = arg_value(args, "color").and_then(css_color) {
                style.push(format!("--mfm-border-color: {c}"));
            }
            if let Some(v) = arg_value(args, "width").and_then(|v| css_number(v, 0.0, 20.0)) {
                style.push(format!("--mfm-border-width: {v}px"));
            }
            if let Some(v) = arg_value(args, "radius").and_then(|v| css_number(v, 0.0, 100.0)) {
                style.push(format!("--mfm-border-radius: {v}px"));
            }
            if let Some(s) = arg_value(args, "style").filter(|s| {
                [
                    "hidden", "dotted", "dashed", "solid", "double", "groove", "ridge", "inset",
                    "outset",
                ]
                .contains(s)
            }) {
                style.push(format!("--mfm-border-style: {s}"));
            }
            if flag(args, "noclip") {
                classes.push("mfm-border-noclip".into());
            }
        }
        "font" => {
            for f in ["serif", "monospace", "cursive", "fantasy", "emoji", "math"] {
                if flag(args, f) {
                    classes.push(format!("mfm-font-{f}"));
                    break;
                }
            }
        }
        "ruby" => {
            // `$[ruby base reading]`: the first word is the base, the rest its reading.
            if let [Node::Text(t)] = children
                && let Some((base, reading)) = t.trim().split_once([' ', '\u{3000}'])
            {
                out.push_str("<ruby>");
                escape(base, out);
                out.push_str("<rp>(</rp><rt>");
                escape(reading.trim(), out);
                out.push_str("</rt><rp>)</rp></ruby>");
                return;
            }
            render_all(children, opts, out);
            return;
        }
        "unixtime" => {
            if let [Node::Text(t)] = children
                && let Ok(secs) = t.trim().parse::<i64>()
            {
                out.push_str("<time class=\"mfm-unixtime\" datetime=\"");
                out.push_str(&secs.to_string());
                out.push_str("\">");
                escape(t.trim(), out);
                out.push_str("</time>");
                return;
            }
            render_all(children, opts, out);
            return;
        }
        // Names the web client does not know render their children only.
        _ => {
            render_all(children, opts, out);
            return;
        }
    }
    out.push_str("<span class=\"");
    out.push_str(&escaped(&classes.join(" ")));
    out.push('"');
    if !style.is_empty() {
        out.push_str(" style=\"");
        out.push_str(&escaped(&style.join("; ")));
        out.push('"');
    }
    out.push('>');
    render_all(children, opts, out);
    out.push_str("</span>");
}

/// Plain text for bridges and notifications: the words as written, markup dropped, links
/// shown as `label (url)`.
pub fn to_text(nodes: &[Node]) -> String {
    let mut out = String::new();
    text_all(nodes, &mut out);
    out
}

fn text_all(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::UnicodeEmoji { emoji } => out.push_str(emoji),
            Node::EmojiCode { name } => {
                out.push(':');
                out.push_str(name);
                out.push(':');
            }
            Node::Mention { acct, .. } => out.push_str(acct),
            Node::Hashtag { hashtag } => {
                out.push('#');
                out.push_str(hashtag);
            }
            Node::Url { url, .. } => out.push_str(url),
            Node::Link { url, children, .. } => {
                let before = out.len();
                text_all(children, out);
                if out[before..] != **url {
                    out.push_str(" (");
                    out.push_str(url);
                    out.push(')');
                }
            }
            Node::InlineCode { code } => out.push_str(code),
            Node::MathInline { formula } => out.push_str(formula),
            Node::BlockCode { code, .. } => block(out, code),
            Node::MathBlock { formula } => block(out, formula),
            Node::Search { content, .. } => block(out, content),
            Node::Center(c) => {
                let inner = to_text(c);
                block(out, &inner);
            }
            Node::Quote(c) => {
                let inner = to_text(c);
                let quoted: Vec<String> = inner.lines().map(|l| format!("> {l}")).collect();
                block(out, &quoted.join("\n"));
            }
            Node::Bold(c) | Node::Italic(c) | Node::Strike(c) | Node::Small(c) | Node::Plain(c) => {
                text_all(c, out)
            }
            Node::Fn { name, children, .. } => {
                if name == "ruby"
                    && let [Node::Text(t)] = children.as_slice()
                    && let Some((base, reading)) = t.trim().split_once([' ', '\u{3000}'])
                {
                    out.push_str(&format!("{base}({})", reading.trim()));
                    continue;
                }
                text_all(children, out);
            }
        }
    }
}

/// Blocks stand on lines of their own.
fn block(out: &mut String, text: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(text);
    out.push('\n');
}

//! MFM (Misskey Flavored Markdown) for Tsudoi: a parser whose tree is mfm-js's, node for node
//! (checked by differential tests against mfm-js itself), and the helpers the server and
//! plugins need around it. No host-only dependencies, so it builds for `wasm32-wasip2`.
//!
//! ```
//! let tree = tsudoi_mfm::parse("**hello** @alice@example.com #mfm");
//! assert_eq!(tsudoi_mfm::mentions(&tree)[0].2, "@alice@example.com");
//! ```

mod html;
mod node;
mod parser;
mod render;
mod stringify;

pub use html::html_to_mfm;
pub use node::{FnArg, Node, to_json};
pub use parser::DEFAULT_NEST_LIMIT;
pub use render::{FnRenderer, RenderOptions, escape, to_html, to_text, url_component};
pub use stringify::to_mfm;

/// The stylesheet for the HTML [`to_html`] makes: the `$[fn]` effects as Misskey's web
/// client shows them, driven by the classes and custom properties the renderer emits.
pub const STYLESHEET: &str = include_str!("../assets/mfm.css");

/// Parses MFM with the default nesting limit (20, as mfm-js).
pub fn parse(text: &str) -> Vec<Node> {
    parse_with_nest_limit(text, DEFAULT_NEST_LIMIT)
}

/// Deepest nesting [`parse_with_nest_limit`] allows. Each level is a few stack frames; this
/// keeps the worst case well inside a 512 KiB stack (mfm-js, asked for more, fails with a
/// JavaScript stack overflow on deep enough input instead).
pub const MAX_NEST_LIMIT: usize = 64;

/// Parses MFM; below `nest_limit` levels of nesting (at most [`MAX_NEST_LIMIT`]), markup is
/// read as text.
pub fn parse_with_nest_limit(text: &str, nest_limit: usize) -> Vec<Node> {
    parser::Parser::new(text, nest_limit.min(MAX_NEST_LIMIT)).parse_full()
}

/// The simple parser used for names: text, emoji codes, Unicode emoji and `<plain>`.
pub fn parse_simple(text: &str) -> Vec<Node> {
    parser::Parser::new(text, usize::MAX).parse_simple()
}

/// Calls `f` on every node of the tree, parents before children.
pub fn walk<'a>(nodes: &'a [Node], f: &mut impl FnMut(&'a Node)) {
    for n in nodes {
        f(n);
        walk(n.children(), f);
    }
}

/// Mentions as `(username, host, acct)`, in order, without duplicates.
pub fn mentions(nodes: &[Node]) -> Vec<(String, Option<String>, String)> {
    let mut out: Vec<(String, Option<String>, String)> = Vec::new();
    walk(nodes, &mut |n| {
        if let Node::Mention {
            username,
            host,
            acct,
        } = n
        {
            let key = (
                username.to_lowercase(),
                host.as_ref().map(|h| h.to_lowercase()),
            );
            if !out
                .iter()
                .any(|(u, h, _)| (u.to_lowercase(), h.as_ref().map(|h| h.to_lowercase())) == key)
            {
                out.push((username.clone(), host.clone(), acct.clone()));
            }
        }
    });
    out
}

/// Hashtags (without `#`), in order, without duplicates (compared case-insensitively; the
/// first spelling is kept).
pub fn hashtags(nodes: &[Node]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    walk(nodes, &mut |n| {
        if let Node::Hashtag { hashtag } = n
            && !out
                .iter()
                .any(|h| h.to_lowercase() == hashtag.to_lowercase())
        {
            out.push(hashtag.clone());
        }
    });
    out
}

/// Custom emoji names used as `:name:`, in order, without duplicates.
pub fn emoji_codes(nodes: &[Node]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    walk(nodes, &mut |n| {
        if let Node::EmojiCode { name } = n
            && !out.contains(name)
        {
            out.push(name.clone());
        }
    });
    out
}

/// URLs, bare, in brackets and behind links, in order, without duplicates.
pub fn urls(nodes: &[Node]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    walk(nodes, &mut |n| {
        let url = match n {
            Node::Url { url, .. } | Node::Link { url, .. } => url,
            _ => return,
        };
        if !out.contains(url) {
            out.push(url.clone());
        }
    });
    out
}

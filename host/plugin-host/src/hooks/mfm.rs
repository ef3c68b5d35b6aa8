//! MFM renderers: plugins that render the `$[fn]` names they declare, or whole documents.
//! Whatever HTML they return is sanitised here before it is used: only a small set of
//! formatting tags, classes starting with `mfm-`, and http(s) links survive.

use crate::plugin::Plugin;
use crate::sandbox::call_error;
use crate::wit::versioned_world;
use crate::{CallError, Kind};

pub use crate::wit::latest::mfm::exports::tsudoi::plugin::mfm::{
    Document, FnCall, Node, NodeKind, RenderContext,
};

versioned_world!(
    /// An MFM renderer, by the WIT version it was built against.
    MfmRenderer, MfmRendererPre, Kind::Mfm, {
        V0_1_0 => since_v0_1_0::MfmRenderer,
    }
);

/// A loaded MFM renderer.
pub type MfmPlugin = Plugin<MfmRenderer>;

impl Plugin<MfmRenderer> {
    /// The `$[fn]` names the plugin renders.
    pub fn handled_fns(&self) -> Result<Vec<String>, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            match instance {
                MfmRenderer::V0_1_0(w) => w.tsudoi_plugin_mfm().call_handled_fns(store),
            }
            .map_err(|e| call_error(e, deadline))
        })
    }

    /// One `$[fn]` call, sanitised. Blocks: call it from a blocking thread.
    pub fn render_fn(
        &self,
        call: &FnCall,
        children_html: &str,
        ctx: &RenderContext,
    ) -> Result<String, CallError> {
        let deadline = self.deadline;
        let html = self.with_instance(|store, instance| {
            match instance {
                MfmRenderer::V0_1_0(w) => {
                    w.tsudoi_plugin_mfm()
                        .call_render_fn(store, call, children_html, ctx)
                }
            }
            .map_err(|e| call_error(e, deadline))?
            .map_err(CallError::Plugin)
        })?;
        checked_html(html)
    }

    /// A whole document, sanitised, or `None` if the plugin leaves it to the host.
    pub fn render_document(
        &self,
        doc: &Document,
        ctx: &RenderContext,
    ) -> Result<Option<String>, CallError> {
        let deadline = self.deadline;
        let html = self.with_instance(|store, instance| {
            match instance {
                MfmRenderer::V0_1_0(w) => {
                    w.tsudoi_plugin_mfm().call_render_document(store, doc, ctx)
                }
            }
            .map_err(|e| call_error(e, deadline))
        })?;
        html.map(checked_html).transpose()
    }
}

/// What a renderer returned, refused if over [`crate::MAX_RENDERED_BYTES`], else sanitised.
fn checked_html(html: String) -> Result<String, CallError> {
    if html.len() > crate::MAX_RENDERED_BYTES {
        return Err(CallError::Plugin(format!(
            "rendered {} bytes of HTML, over the {} allowed",
            html.len(),
            crate::MAX_RENDERED_BYTES
        )));
    }
    Ok(sanitize(&html))
}

/// Keeps formatting tags, `mfm-` classes and http(s) links; drops scripts, styles, event
/// handlers, images and every other attribute. Plugins decorate text; they do not get to
/// embed content or run code in readers' browsers.
pub fn sanitize(html: &str) -> String {
    use std::sync::OnceLock;
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut b = ammonia::Builder::empty();
            b.add_tags([
                "a",
                "b",
                "i",
                "em",
                "strong",
                "small",
                "del",
                "s",
                "span",
                "div",
                "p",
                "br",
                "code",
                "pre",
                "kbd",
                "mark",
                "sub",
                "sup",
                "ruby",
                "rt",
                "rp",
                "blockquote",
            ])
            .add_generic_attributes(["class"])
            .add_tag_attributes("a", ["href"])
            .url_schemes(["http", "https"].into())
            .link_rel(Some("nofollow noopener noreferrer"))
            .attribute_filter(|_, attr, value| {
                if attr != "class" {
                    return Some(value.into());
                }
                let kept: Vec<&str> = value
                    .split_ascii_whitespace()
                    .filter(|c| {
                        c.starts_with("mfm-")
                            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
                    .collect();
                (!kept.is_empty()).then(|| kept.join(" ").into())
            });
            b
        })
        .clean(html)
        .to_string()
}

/// The tree as the WIT arena: nodes refer to their children by index.
pub fn document(tree: &[tsudoi_mfm::Node]) -> Document {
    fn add(n: &tsudoi_mfm::Node, nodes: &mut Vec<Node>) -> u32 {
        use tsudoi_mfm::Node as M;
        let (kind, children): (NodeKind, &[M]) = match n {
            M::Text(t) => (NodeKind::Text(t.clone()), &[]),
            M::Bold(c) => (NodeKind::Bold, c),
            M::Italic(c) => (NodeKind::Italic, c),
            M::Small(c) => (NodeKind::Small, c),
            M::Strike(c) => (NodeKind::Strike, c),
            M::Center(c) => (NodeKind::Center, c),
            M::Quote(c) => (NodeKind::Quote, c),
            M::Plain(c) => (NodeKind::Plain(tsudoi_mfm::to_text(c)), &[]),
            M::InlineCode { code } => (NodeKind::InlineCode(code.clone()), &[]),
            M::BlockCode { code, lang } => (NodeKind::CodeBlock((lang.clone(), code.clone())), &[]),
            M::MathInline { formula } => (NodeKind::MathInline(formula.clone()), &[]),
            M::MathBlock { formula } => (NodeKind::MathBlock(formula.clone()), &[]),
            M::Mention { acct, .. } => (NodeKind::Mention(acct.clone()), &[]),
            M::Hashtag { hashtag } => (NodeKind::Hashtag(hashtag.clone()), &[]),
            M::Url { url, .. } => (NodeKind::Url(url.clone()), &[]),
            M::Link {
                url,
                silent,
                children,
            } => (NodeKind::Link((url.clone(), *silent)), children),
            M::EmojiCode { name } => (NodeKind::EmojiCode(name.clone()), &[]),
            M::UnicodeEmoji { emoji } => (NodeKind::UnicodeEmoji(emoji.clone()), &[]),
            M::Search { query, .. } => (NodeKind::Search(query.clone()), &[]),
            M::Fn {
                name,
                args,
                children,
            } => (NodeKind::Fn(fn_call(name, args)), children),
        };
        let index = nodes.len() as u32;
        nodes.push(Node {
            kind,
            children: vec![],
        });
        let kids: Vec<u32> = children.iter().map(|c| add(c, nodes)).collect();
        nodes[index as usize].children = kids;
        index
    }
    let mut nodes = Vec::new();
    let roots = tree.iter().map(|n| add(n, &mut nodes)).collect();
    Document { nodes, roots }
}

pub fn fn_call(name: &str, args: &[(String, tsudoi_mfm::FnArg)]) -> FnCall {
    FnCall {
        name: name.to_owned(),
        args: args
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    tsudoi_mfm::FnArg::Flag => None,
                    tsudoi_mfm::FnArg::Value(v) => Some(v.clone()),
                };
                (k.clone(), value)
            })
            .collect(),
    }
}

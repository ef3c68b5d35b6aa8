//! Back from a tree to MFM source (mfm-js's `toString`): what a client edits when it quotes
//! or re-drafts a note.

use crate::node::{FnArg, Node};

/// The MFM source of a tree; parsing it again gives the same tree for trees the parser made.
pub fn to_mfm(nodes: &[Node]) -> String {
    let mut out = String::new();
    // Blocks sit on lines of their own: a newline before a block that follows anything, and
    // before anything that follows a block.
    let mut previous_block: Option<bool> = None;
    for n in nodes {
        let block = n.is_block();
        if let Some(prev) = previous_block
            && (block || prev)
        {
            out.push('\n');
        }
        previous_block = Some(block);
        node_to_mfm(n, &mut out);
    }
    out
}

fn node_to_mfm(n: &Node, out: &mut String) {
    match n {
        Node::Quote(children) => {
            let inner = to_mfm(children);
            let quoted: Vec<String> = inner.split('\n').map(|l| format!("> {l}")).collect();
            out.push_str(&quoted.join("\n"));
        }
        Node::Search { content, .. } => out.push_str(content),
        Node::BlockCode { code, lang } => {
            out.push_str("```");
            out.push_str(lang.as_deref().unwrap_or(""));
            out.push('\n');
            out.push_str(code);
            out.push_str("\n```");
        }
        Node::MathBlock { formula } => {
            out.push_str("\\[\n");
            out.push_str(formula);
            out.push_str("\n\\]");
        }
        Node::Center(children) => {
            out.push_str("<center>\n");
            out.push_str(&to_mfm(children));
            out.push_str("\n</center>");
        }
        Node::EmojiCode { name } => {
            out.push(':');
            out.push_str(name);
            out.push(':');
        }
        Node::UnicodeEmoji { emoji } => out.push_str(emoji),
        Node::Bold(c) => wrap(out, "**", c, "**"),
        Node::Small(c) => wrap(out, "<small>", c, "</small>"),
        Node::Italic(c) => wrap(out, "<i>", c, "</i>"),
        Node::Strike(c) => wrap(out, "~~", c, "~~"),
        Node::InlineCode { code } => {
            out.push('`');
            out.push_str(code);
            out.push('`');
        }
        Node::MathInline { formula } => {
            out.push_str("\\(");
            out.push_str(formula);
            out.push_str("\\)");
        }
        Node::Mention { acct, .. } => out.push_str(acct),
        Node::Hashtag { hashtag } => {
            out.push('#');
            out.push_str(hashtag);
        }
        Node::Url { url, brackets } => {
            if *brackets {
                out.push('<');
                out.push_str(url);
                out.push('>');
            } else {
                out.push_str(url);
            }
        }
        Node::Link {
            silent,
            url,
            children,
        } => {
            if *silent {
                out.push('?');
            }
            out.push('[');
            out.push_str(&to_mfm(children));
            out.push_str("](");
            out.push_str(url);
            out.push(')');
        }
        Node::Fn {
            name,
            args,
            children,
        } => {
            out.push_str("$[");
            out.push_str(name);
            if !args.is_empty() {
                let fields: Vec<String> = args
                    .iter()
                    .map(|(k, v)| match v {
                        FnArg::Flag => k.clone(),
                        FnArg::Value(v) => format!("{k}={v}"),
                    })
                    .collect();
                out.push('.');
                out.push_str(&fields.join(","));
            }
            out.push(' ');
            out.push_str(&to_mfm(children));
            out.push(']');
        }
        Node::Plain(children) => {
            out.push_str("<plain>\n");
            out.push_str(&to_mfm(children));
            out.push_str("\n</plain>");
        }
        Node::Text(t) => out.push_str(t),
    }
}

fn wrap(out: &mut String, open: &str, children: &[Node], close: &str) {
    out.push_str(open);
    out.push_str(&to_mfm(children));
    out.push_str(close);
}

//! The MFM tree. Serialised (see [`Node::to_json`]) it has exactly mfm-js's shape,
//! `{type, props?, children?}` with the same type and prop names, so the two can be compared
//! node for node and tools written for mfm-js read ours.

use serde_json::{Map, Value, json};

/// A value of a `$[fn.key=value]` argument: `key` alone means `true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnArg {
    Flag,
    Value(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    // Blocks.
    Quote(Vec<Node>),
    Search {
        query: String,
        content: String,
    },
    BlockCode {
        code: String,
        lang: Option<String>,
    },
    MathBlock {
        formula: String,
    },
    Center(Vec<Node>),
    // Inlines.
    UnicodeEmoji {
        emoji: String,
    },
    EmojiCode {
        name: String,
    },
    Bold(Vec<Node>),
    Small(Vec<Node>),
    Italic(Vec<Node>),
    Strike(Vec<Node>),
    InlineCode {
        code: String,
    },
    MathInline {
        formula: String,
    },
    /// `@username` or `@username@host`; `acct` is the whole mention as written.
    Mention {
        username: String,
        host: Option<String>,
        acct: String,
    },
    Hashtag {
        hashtag: String,
    },
    /// `brackets` is true for `<https://…>`.
    Url {
        url: String,
        brackets: bool,
    },
    Link {
        silent: bool,
        url: String,
        children: Vec<Node>,
    },
    /// `$[name.args children]`; arguments keep the order they were first written in.
    Fn {
        name: String,
        args: Vec<(String, FnArg)>,
        children: Vec<Node>,
    },
    Plain(Vec<Node>),
    Text(String),
}

impl Node {
    /// mfm-js's `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Quote(_) => "quote",
            Node::Search { .. } => "search",
            Node::BlockCode { .. } => "blockCode",
            Node::MathBlock { .. } => "mathBlock",
            Node::Center(_) => "center",
            Node::UnicodeEmoji { .. } => "unicodeEmoji",
            Node::EmojiCode { .. } => "emojiCode",
            Node::Bold(_) => "bold",
            Node::Small(_) => "small",
            Node::Italic(_) => "italic",
            Node::Strike(_) => "strike",
            Node::InlineCode { .. } => "inlineCode",
            Node::MathInline { .. } => "mathInline",
            Node::Mention { .. } => "mention",
            Node::Hashtag { .. } => "hashtag",
            Node::Url { .. } => "url",
            Node::Link { .. } => "link",
            Node::Fn { .. } => "fn",
            Node::Plain(_) => "plain",
            Node::Text(_) => "text",
        }
    }

    /// Blocks are laid out on lines of their own (mfm-js's `isMfmBlock`).
    pub fn is_block(&self) -> bool {
        matches!(
            self,
            Node::Quote(_)
                | Node::Search { .. }
                | Node::BlockCode { .. }
                | Node::MathBlock { .. }
                | Node::Center(_)
        )
    }

    pub fn children(&self) -> &[Node] {
        match self {
            Node::Quote(c)
            | Node::Center(c)
            | Node::Bold(c)
            | Node::Small(c)
            | Node::Italic(c)
            | Node::Strike(c)
            | Node::Plain(c)
            | Node::Link { children: c, .. }
            | Node::Fn { children: c, .. } => c,
            _ => &[],
        }
    }

    /// The node as mfm-js serialises it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.type_name()));
        let props = match self {
            Node::Search { query, content } => Some(json!({ "query": query, "content": content })),
            Node::BlockCode { code, lang } => Some(json!({ "code": code, "lang": lang })),
            Node::MathBlock { formula } | Node::MathInline { formula } => {
                Some(json!({ "formula": formula }))
            }
            Node::UnicodeEmoji { emoji } => Some(json!({ "emoji": emoji })),
            Node::EmojiCode { name } => Some(json!({ "name": name })),
            Node::InlineCode { code } => Some(json!({ "code": code })),
            Node::Mention {
                username,
                host,
                acct,
            } => Some(json!({ "username": username, "host": host, "acct": acct })),
            Node::Hashtag { hashtag } => Some(json!({ "hashtag": hashtag })),
            Node::Url { url, brackets } => {
                let mut p = json!({ "url": url });
                if *brackets {
                    p["brackets"] = json!(true);
                }
                Some(p)
            }
            Node::Link { silent, url, .. } => Some(json!({ "silent": silent, "url": url })),
            Node::Fn { name, args, .. } => {
                let mut a = Map::new();
                for (k, v) in args {
                    a.insert(
                        k.clone(),
                        match v {
                            FnArg::Flag => json!(true),
                            FnArg::Value(s) => json!(s),
                        },
                    );
                }
                Some(json!({ "name": name, "args": a }))
            }
            Node::Text(text) => Some(json!({ "text": text })),
            _ => None,
        };
        if let Some(p) = props {
            m.insert("props".into(), p);
        }
        let has_children = matches!(
            self,
            Node::Quote(_)
                | Node::Center(_)
                | Node::Bold(_)
                | Node::Small(_)
                | Node::Italic(_)
                | Node::Strike(_)
                | Node::Plain(_)
                | Node::Link { .. }
                | Node::Fn { .. }
        );
        if has_children {
            m.insert("children".into(), to_json(self.children()));
        }
        Value::Object(m)
    }
}

/// A tree as mfm-js serialises it: an array of nodes.
pub fn to_json(nodes: &[Node]) -> Value {
    Value::Array(nodes.iter().map(Node::to_json).collect())
}

//! The MFM grammar, rule for rule as mfm-js 0.26 states it (its `internal/parser.ts`), so the
//! trees agree node for node. mfm-js is a combinator parser over a JavaScript string; this is
//! a hand-written recursive descent over the input's characters with the same alternatives in
//! the same order, the same fallbacks to text, and the same nesting limit.
//!
//! One difference of representation, none of result: mfm-js indexes UTF-16 code units and
//! this parser Unicode scalar values. Every rule starts on an ASCII character or on an emoji
//! (a whole code point), so a surrogate pair is never split differently.

use std::sync::LazyLock;

use regex::Regex;

use crate::node::{FnArg, Node};

/// Nesting limit mfm-js applies by default.
pub const DEFAULT_NEST_LIMIT: usize = 20;

/// mfm-js's emoji regex. It holds `(?!\ufe0e)` look-aheads ("not followed by the text
/// presentation selector"), which the `regex` crate does not do; each becomes an empty capture
/// group, and a match that went through one and is followed by U+FE0E is refused afterwards
/// (see [`Parser::unicode_emoji`]). No other alternative of the regex can match there instead.
static EMOJI: LazyLock<Regex> = LazyLock::new(|| {
    let source = include_str!("../data/emoji-regex.txt")
        .trim()
        .replace("(?!\\ufe0e)", "()");
    // The data file is generated from mfm-js's own regex and tested by this crate's tests; a
    // failure here is a broken checkout, not bad input.
    Regex::new(&format!("^(?:{source})")).expect("mfm/data/emoji-regex.txt is a valid regex")
});

/// Whether an emoji can start with `c`: `#`, `*`, digits (keycaps), `©`, `®`, and everything
/// from U+203C up. Skips the regex for plain Latin text.
fn may_start_emoji(c: char) -> bool {
    c >= '\u{203C}' || matches!(c, '#' | '*' | '0'..='9' | '\u{A9}' | '\u{AE}')
}

/// One result of a rule: a node, or text (a range of the input, in characters).
enum Out {
    Node(Node),
    Text(usize, usize),
}

type Res = Option<(usize, Out)>;

struct State {
    depth: usize,
    nest_limit: usize,
    link_label: bool,
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    /// Byte offset of each character, and of the end.
    offsets: Vec<usize>,
    st: State,
    /// For each closing token, every position where a scan for it would stop (computed once,
    /// on first use): a block that never closes then costs a binary search, not a rescan of
    /// the rest of the input at every line that opens one.
    stops: [Option<Vec<usize>>; 3],
    /// Item boundaries of `<center>` and link-label scans that failed, by (rule, position,
    /// depth). A later scan that reaches one of them would continue exactly as the failed one
    /// and fail the same way, so it stops there: thousands of unclosed `[` stay linear.
    dead: std::collections::HashSet<(u8, usize, usize)>,
}

/// Closing tokens found by [`Parser::scan_to`].
#[derive(Clone, Copy)]
enum Closer {
    /// `</plain>`, optionally after a newline.
    Plain = 0,
    /// `\]`, optionally after a newline.
    Math = 1,
    /// A newline, then a line that is exactly ```` ``` ````.
    Fence = 2,
}

const RULE_CENTER: u8 = 0;
const RULE_LINK: u8 = 1;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{3000}' | '\t')
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// JavaScript's `String.prototype.trim` (WhiteSpace and LineTerminator), which differs from
/// Rust's `trim` at U+0085 and U+FEFF.
fn js_trim(s: &str) -> &str {
    fn js_space(c: char) -> bool {
        matches!(
            c,
            '\u{9}'
                | '\u{A}'
                | '\u{B}'
                | '\u{C}'
                | '\u{D}'
                | ' '
                | '\u{A0}'
                | '\u{1680}'
                | '\u{2000}'
                ..='\u{200A}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202F}'
                    | '\u{205F}'
                    | '\u{3000}'
                    | '\u{FEFF}'
        )
    }
    s.trim_matches(js_space)
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str, nest_limit: usize) -> Self {
        let mut chars = Vec::with_capacity(text.len());
        let mut offsets = Vec::with_capacity(text.len() + 1);
        for (o, c) in text.char_indices() {
            chars.push(c);
            offsets.push(o);
        }
        offsets.push(text.len());
        Self {
            text,
            chars,
            offsets,
            st: State {
                depth: 0,
                nest_limit,
                link_label: false,
            },
            stops: [None, None, None],
            dead: Default::default(),
        }
    }

    // ---- entry points -------------------------------------------------------------------

    pub(crate) fn parse_full(mut self) -> Vec<Node> {
        let mut items = Vec::new();
        let mut i = 0;
        while i < self.chars.len() {
            let (next, out) = self.full(i);
            items.push(out);
            i = next;
        }
        self.merge(items)
    }

    pub(crate) fn parse_simple(mut self) -> Vec<Node> {
        let mut items = Vec::new();
        let mut i = 0;
        while i < self.chars.len() {
            let (next, out) = self.simple(i);
            items.push(out);
            i = next;
        }
        self.merge(items)
    }

    // ---- primitives ---------------------------------------------------------------------

    fn len(&self) -> usize {
        self.chars.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn starts(&self, i: usize, s: &str) -> bool {
        (i..).zip(s.chars()).all(|(j, c)| self.at(j) == Some(c))
    }

    /// Matches `s` at `i`, returning the index after it.
    fn lit(&self, i: usize, s: &str) -> Option<usize> {
        self.starts(i, s).then(|| i + s.chars().count())
    }

    /// `\r\n`, `\r` or `\n`.
    fn newline(&self, i: usize) -> Option<usize> {
        match self.at(i) {
            Some('\r') if self.at(i + 1) == Some('\n') => Some(i + 2),
            Some('\r') | Some('\n') => Some(i + 1),
            _ => None,
        }
    }

    fn newline_opt(&self, i: usize) -> usize {
        self.newline(i).unwrap_or(i)
    }

    fn line_begin(&self, i: usize) -> bool {
        i == 0 || matches!(self.at(i - 1), Some('\r') | Some('\n'))
    }

    fn line_end(&self, i: usize) -> bool {
        i == self.len() || matches!(self.at(i), Some('\r') | Some('\n'))
    }

    /// Whether the character before `i` is an ASCII letter or digit (mfm-js's
    /// `/[a-z0-9]$/i.test(input.slice(0, index))`).
    fn alnum_before(&self, i: usize) -> bool {
        i > 0 && self.at(i - 1).is_some_and(is_alnum)
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        &self.text[self.offsets[from]..self.offsets[to]]
    }

    /// The longest run from `i` of characters satisfying `pred`; None if empty.
    fn run(&self, i: usize, pred: impl Fn(char) -> bool) -> Option<usize> {
        let mut j = i;
        while self.at(j).is_some_and(&pred) {
            j += 1;
        }
        (j > i).then_some(j)
    }

    /// mfm-js's `nest`: one level deeper; the parser if the limit allows, else the fallback
    /// (by default one character of text).
    fn nest<T>(
        &mut self,
        i: usize,
        parser: impl FnOnce(&mut Self, usize) -> Option<(usize, T)>,
        fallback: impl FnOnce(&mut Self, usize) -> Option<(usize, T)>,
    ) -> Option<(usize, T)> {
        self.st.depth += 1;
        let r = if self.st.depth < self.st.nest_limit {
            match parser(self, i) {
                Some(r) => Some(r),
                None => fallback(self, i),
            }
        } else {
            fallback(self, i)
        };
        self.st.depth -= 1;
        r
    }

    fn char_text(&mut self, i: usize) -> Res {
        (i < self.len()).then(|| (i + 1, Out::Text(i, i + 1)))
    }

    fn nest_inline(&mut self, i: usize) -> Res {
        self.nest(i, |p, i| p.inline(i), |p, i| p.char_text(i))
    }

    /// `seq(notMatch(stop), nest(inline)).many(1)`: inline items up to where `stop` matches.
    fn inlines_until(
        &mut self,
        mut i: usize,
        stop: impl Fn(&Self, usize) -> bool,
    ) -> Option<(usize, Vec<Out>)> {
        let mut items = Vec::new();
        while i < self.len() {
            if stop(self, i) {
                break;
            }
            let Some((next, out)) = self.nest_inline(i) else {
                break;
            };
            items.push(out);
            i = next;
        }
        (!items.is_empty()).then_some((i, items))
    }

    /// `seq(notMatch(stop), char).many(min)`: the index after the run.
    fn chars_until(
        &self,
        mut i: usize,
        min: usize,
        stop: impl Fn(&Self, usize) -> bool,
    ) -> Option<usize> {
        let start = i;
        while i < self.len() && !stop(self, i) {
            i += 1;
        }
        (i - start >= min).then_some(i)
    }

    /// Items from `start` until `stop` (or an item fails), for a rule whose failed scans are
    /// remembered in `dead`. `None` when the scan reached a boundary of a scan that failed
    /// before (the caller fails at once); otherwise the end, the items and the boundaries
    /// visited, which the caller marks dead if the rule then fails.
    fn memo_items(
        &mut self,
        rule: u8,
        start: usize,
        stop: impl Fn(&Self, usize) -> bool,
        item: impl Fn(&mut Self, usize) -> Res,
    ) -> Option<(usize, Vec<Out>, Vec<usize>)> {
        let depth = self.st.depth;
        let mut items = Vec::new();
        let mut visited = Vec::new();
        let mut k = start;
        while k < self.len() {
            if stop(self, k) {
                break;
            }
            if self.dead.contains(&(rule, k, depth)) {
                self.mark_dead(rule, &visited);
                return None;
            }
            visited.push(k);
            let Some((next, out)) = item(self, k) else {
                break;
            };
            items.push(out);
            k = next;
        }
        Some((k, items, visited))
    }

    fn mark_dead(&mut self, rule: u8, visited: &[usize]) {
        let depth = self.st.depth;
        self.dead.extend(visited.iter().map(|&k| (rule, k, depth)));
    }

    /// `chars_until` for a closing token: the first position from `start` where the scan
    /// would stop (or the end), if at least `min` characters lie before it.
    fn scan_to(&mut self, closer: Closer, start: usize, min: usize) -> Option<usize> {
        let slot = closer as usize;
        if self.stops[slot].is_none() {
            let stop = |p: &Self, x: usize| match closer {
                Closer::Plain => p.starts(p.newline_opt(x), "</plain>"),
                Closer::Math => p.starts(p.newline_opt(x), "\\]"),
                Closer::Fence => p
                    .newline(x)
                    .and_then(|y| p.lit(y, "```"))
                    .is_some_and(|y| p.line_end(y)),
            };
            let all: Vec<usize> = (0..self.len()).filter(|&x| stop(self, x)).collect();
            self.stops[slot] = Some(all);
        }
        let stops = self.stops[slot].as_deref().unwrap_or_default();
        let x = stops
            .get(stops.partition_point(|&x| x < start))
            .copied()
            .unwrap_or(self.len());
        (x - start >= min).then_some(x)
    }

    /// mfm-js's `mergeText`: adjacent text becomes one text node.
    fn merge(&self, items: Vec<Out>) -> Vec<Node> {
        let mut out = Vec::with_capacity(items.len());
        let mut pending = String::new();
        for item in items {
            match item {
                Out::Text(a, b) => pending.push_str(self.slice(a, b)),
                Out::Node(Node::Text(t)) => pending.push_str(&t),
                Out::Node(n) => {
                    if !pending.is_empty() {
                        out.push(Node::Text(std::mem::take(&mut pending)));
                    }
                    out.push(n);
                }
            }
        }
        if !pending.is_empty() {
            out.push(Node::Text(pending));
        }
        out
    }

    // ---- rule sets ------------------------------------------------------------------------

    fn full(&mut self, i: usize) -> (usize, Out) {
        let r = self
            .unicode_emoji(i)
            .or_else(|| self.center_tag(i))
            .or_else(|| self.small_tag(i))
            .or_else(|| self.plain_tag(i))
            .or_else(|| self.bold_tag(i))
            .or_else(|| self.italic_tag(i))
            .or_else(|| self.strike_tag(i))
            .or_else(|| self.url_alt(i))
            .or_else(|| self.big(i))
            .or_else(|| self.bold_asta(i))
            .or_else(|| self.italic_asta(i))
            .or_else(|| self.bold_under(i))
            .or_else(|| self.italic_under(i))
            .or_else(|| self.code_block(i))
            .or_else(|| self.inline_code(i))
            .or_else(|| self.quote(i))
            .or_else(|| self.math_block(i))
            .or_else(|| self.math_inline(i))
            .or_else(|| self.strike_wave(i))
            .or_else(|| self.fn_(i))
            .or_else(|| self.mention(i))
            .or_else(|| self.hashtag(i))
            .or_else(|| self.emoji_code(i))
            .or_else(|| self.link(i))
            .or_else(|| self.url(i))
            .or_else(|| self.search(i));
        r.unwrap_or((i + 1, Out::Text(i, i + 1)))
    }

    fn inline(&mut self, i: usize) -> Res {
        if i >= self.len() {
            return None;
        }
        let r = self
            .unicode_emoji(i)
            .or_else(|| self.small_tag(i))
            .or_else(|| self.plain_tag(i))
            .or_else(|| self.bold_tag(i))
            .or_else(|| self.italic_tag(i))
            .or_else(|| self.strike_tag(i))
            .or_else(|| self.url_alt(i))
            .or_else(|| self.big(i))
            .or_else(|| self.bold_asta(i))
            .or_else(|| self.italic_asta(i))
            .or_else(|| self.bold_under(i))
            .or_else(|| self.italic_under(i))
            .or_else(|| self.inline_code(i))
            .or_else(|| self.math_inline(i))
            .or_else(|| self.strike_wave(i))
            .or_else(|| self.fn_(i))
            .or_else(|| self.mention(i))
            .or_else(|| self.hashtag(i))
            .or_else(|| self.emoji_code(i))
            .or_else(|| self.link(i))
            .or_else(|| self.url(i));
        Some(r.unwrap_or((i + 1, Out::Text(i, i + 1))))
    }

    fn simple(&mut self, i: usize) -> (usize, Out) {
        let r = self
            .unicode_emoji(i)
            .or_else(|| self.emoji_code(i))
            .or_else(|| self.plain_tag(i));
        r.unwrap_or((i + 1, Out::Text(i, i + 1)))
    }

    // ---- blocks ---------------------------------------------------------------------------

    fn quote(&mut self, i: usize) -> Res {
        let mut j = self.newline_opt(i);
        j = self.newline_opt(j);
        if !self.line_begin(j) {
            return None;
        }
        // Lines: `>`, an optional space, the rest of the line; separated by newlines.
        let line = |p: &Self, at: usize| -> Option<(usize, (usize, usize))> {
            let k = p.lit(at, ">")?;
            let k = if p.at(k).is_some_and(is_space) {
                k + 1
            } else {
                k
            };
            let end = p.chars_until(k, 0, |p, x| p.newline(x).is_some())?;
            Some((end, (k, end)))
        };
        let (mut k, first) = line(self, j)?;
        let mut lines = vec![first];
        while k < self.len() {
            let Some(after_nl) = self.newline(k) else {
                break;
            };
            let Some((next, l)) = line(self, after_nl) else {
                break;
            };
            lines.push(l);
            k = next;
        }
        let k = self.newline_opt(k);
        let k = self.newline_opt(k);
        if lines.len() == 1 && lines[0].0 == lines[0].1 {
            return None;
        }
        let content: Vec<&str> = lines.iter().map(|&(a, b)| self.slice(a, b)).collect();
        let content = content.join("\n");
        // The quoted text is parsed as a document of its own, one level deeper.
        let mut inner = Parser::new(&content, self.st.nest_limit);
        inner.st.depth = self.st.depth;
        inner.st.link_label = self.st.link_label;
        let mut items = Vec::new();
        let mut x = 0;
        while x < inner.len() {
            let (next, mut outs) = inner.nest(
                x,
                |p, at| {
                    let mut outs = Vec::new();
                    let mut y = at;
                    while y < p.len() {
                        let (n, o) = p.full(y);
                        outs.push(o);
                        y = n;
                    }
                    Some((y, outs))
                },
                |p, at| p.char_text(at).map(|(n, o)| (n, vec![o])),
            )?;
            items.append(&mut outs);
            x = next;
        }
        Some((k, Out::Node(Node::Quote(inner.merge(items)))))
    }

    fn code_block(&mut self, i: usize) -> Res {
        let j = self.newline_opt(i);
        if !self.line_begin(j) {
            return None;
        }
        let j = self.lit(j, "```")?;
        let lang_end = self.chars_until(j, 0, |p, x| p.newline(x).is_some())?;
        let code_start = self.newline(lang_end)?;
        let code_end = self.scan_to(Closer::Fence, code_start, 1)?;
        let k = self.newline(code_end)?;
        let k = self.lit(k, "```")?;
        if !self.line_end(k) {
            return None;
        }
        let k = self.newline_opt(k);
        let lang = js_trim(self.slice(j, lang_end));
        Some((
            k,
            Out::Node(Node::BlockCode {
                code: self.slice(code_start, code_end).to_owned(),
                lang: (!lang.is_empty()).then(|| lang.to_owned()),
            }),
        ))
    }

    fn math_block(&mut self, i: usize) -> Res {
        let j = self.newline_opt(i);
        if !self.line_begin(j) {
            return None;
        }
        let j = self.lit(j, "\\[")?;
        let start = self.newline_opt(j);
        let end = self.scan_to(Closer::Math, start, 1)?;
        let k = self.newline_opt(end);
        let k = self.lit(k, "\\]")?;
        if !self.line_end(k) {
            return None;
        }
        let k = self.newline_opt(k);
        Some((
            k,
            Out::Node(Node::MathBlock {
                formula: self.slice(start, end).to_owned(),
            }),
        ))
    }

    fn center_tag(&mut self, i: usize) -> Res {
        let j = self.newline_opt(i);
        if !self.line_begin(j) {
            return None;
        }
        let j = self.lit(j, "<center>")?;
        let start = self.newline_opt(j);
        let (end, items, visited) = self.memo_items(
            RULE_CENTER,
            start,
            |p, x| p.starts(p.newline_opt(x), "</center>"),
            |p, x| p.nest_inline(x),
        )?;
        let closed = (!items.is_empty())
            .then(|| self.lit(self.newline_opt(end), "</center>"))
            .flatten()
            .filter(|&k| self.line_end(k));
        let Some(k) = closed else {
            self.mark_dead(RULE_CENTER, &visited);
            return None;
        };
        let k = self.newline_opt(k);
        Some((k, Out::Node(Node::Center(self.merge(items)))))
    }

    fn search(&mut self, i: usize) -> Res {
        let j = self.newline_opt(i);
        if !self.line_begin(j) {
            return None;
        }
        // The button: `[検索]`, `[search]`, `検索` or `search` (any case), then the line's end.
        let button = |p: &Self, x: usize| -> Option<usize> {
            let word = |y: usize| -> Option<usize> {
                if p.starts(y, "検索") {
                    return Some(y + 2);
                }
                let w: String = (0..6).filter_map(|d| p.at(y + d)).collect();
                (w.len() == 6 && w.eq_ignore_ascii_case("search")).then_some(y + 6)
            };
            if p.at(x) == Some('[')
                && let Some(y) = word(x + 1)
                && p.at(y) == Some(']')
            {
                return Some(y + 1);
            }
            word(x)
        };
        let stop = |p: &Self, x: usize| {
            p.newline(x).is_some()
                || (p.at(x).is_some_and(is_space)
                    && button(p, x + 1).is_some_and(|y| p.line_end(y)))
        };
        let query_end = self.chars_until(j, 1, stop)?;
        if !self.at(query_end).is_some_and(is_space) {
            return None;
        }
        let b = button(self, query_end + 1)?;
        if !self.line_end(b) {
            return None;
        }
        let k = self.newline_opt(b);
        Some((
            k,
            Out::Node(Node::Search {
                query: self.slice(j, query_end).to_owned(),
                content: self.slice(j, b).to_owned(),
            }),
        ))
    }

    // ---- inlines --------------------------------------------------------------------------

    fn unicode_emoji(&mut self, i: usize) -> Res {
        if !may_start_emoji(self.at(i)?) {
            return None;
        }
        let start = self.offsets[i];
        let rest = &self.text[start..];
        let m = EMOJI.find(rest)?;
        if rest[m.end()..].starts_with('\u{FE0E}') {
            // Refuse a match that stood on a look-ahead (an empty group that took part).
            let caps = EMOJI.captures(rest)?;
            if caps.iter().skip(1).flatten().any(|g| g.is_empty()) {
                return None;
            }
        }
        let end_byte = start + m.end();
        let end = self.offsets.partition_point(|&o| o < end_byte);
        if m.as_str() == "\u{FE0F}" {
            return Some((end, Out::Text(i, end)));
        }
        Some((
            end,
            Out::Node(Node::UnicodeEmoji {
                emoji: m.as_str().to_owned(),
            }),
        ))
    }

    /// mfm-js's `seqOrText(open, seq(notMatch(close), nest(inline)).many(1), close)`: the node,
    /// or, once `open` matched, what was consumed before the failure as text.
    fn delimited(&mut self, i: usize, open: &str, close: &str, make: fn(Vec<Node>) -> Node) -> Res {
        let j = self.lit(i, open)?;
        let Some((k, items)) = self.inlines_until(j, |p, x| p.starts(x, close)) else {
            return Some((j, Out::Text(i, j)));
        };
        let Some(end) = self.lit(k, close) else {
            return Some((k, Out::Text(i, k)));
        };
        Some((end, Out::Node(make(self.merge(items)))))
    }

    fn big(&mut self, i: usize) -> Res {
        self.delimited(i, "***", "***", |children| Node::Fn {
            name: "tada".into(),
            args: Vec::new(),
            children,
        })
    }

    fn bold_asta(&mut self, i: usize) -> Res {
        self.delimited(i, "**", "**", Node::Bold)
    }

    fn bold_tag(&mut self, i: usize) -> Res {
        self.delimited(i, "<b>", "</b>", Node::Bold)
    }

    fn small_tag(&mut self, i: usize) -> Res {
        self.delimited(i, "<small>", "</small>", Node::Small)
    }

    fn italic_tag(&mut self, i: usize) -> Res {
        self.delimited(i, "<i>", "</i>", Node::Italic)
    }

    fn strike_tag(&mut self, i: usize) -> Res {
        self.delimited(i, "<s>", "</s>", Node::Strike)
    }

    fn strike_wave(&mut self, i: usize) -> Res {
        let j = self.lit(i, "~~")?;
        let Some((k, items)) =
            self.inlines_until(j, |p, x| p.starts(x, "~~") || p.newline(x).is_some())
        else {
            return Some((j, Out::Text(i, j)));
        };
        let Some(end) = self.lit(k, "~~") else {
            return Some((k, Out::Text(i, k)));
        };
        Some((end, Out::Node(Node::Strike(self.merge(items)))))
    }

    /// `mark`, one or more letters, digits or spaces, `mark`: the `__bold__`, `*italic*` and
    /// `_italic_` forms.
    fn plain_run(&self, i: usize, mark: &str) -> Option<(usize, usize, usize)> {
        let j = self.lit(i, mark)?;
        let k = self.run(j, |c| is_alnum(c) || is_space(c))?;
        let end = self.lit(k, mark)?;
        Some((j, k, end))
    }

    fn bold_under(&mut self, i: usize) -> Res {
        let (j, k, end) = self.plain_run(i, "__")?;
        Some((
            end,
            Out::Node(Node::Bold(vec![Node::Text(self.slice(j, k).to_owned())])),
        ))
    }

    fn italic_asta(&mut self, i: usize) -> Res {
        self.italic_run(i, "*")
    }

    fn italic_under(&mut self, i: usize) -> Res {
        self.italic_run(i, "_")
    }

    /// `*italic*` and `_italic_`: letters, digits and spaces between the marks, not right
    /// after a letter or digit (so `snake_case` stays text).
    fn italic_run(&mut self, i: usize, mark: &str) -> Res {
        let (j, k, end) = self.plain_run(i, mark)?;
        if self.alnum_before(i) {
            return None;
        }
        Some((
            end,
            Out::Node(Node::Italic(vec![Node::Text(self.slice(j, k).to_owned())])),
        ))
    }

    fn plain_tag(&mut self, i: usize) -> Res {
        let j = self.lit(i, "<plain>")?;
        let start = self.newline_opt(j);
        let end = self.scan_to(Closer::Plain, start, 1)?;
        let k = self.newline_opt(end);
        let k = self.lit(k, "</plain>")?;
        Some((
            k,
            Out::Node(Node::Plain(vec![Node::Text(
                self.slice(start, end).to_owned(),
            )])),
        ))
    }

    fn fn_(&mut self, i: usize) -> Res {
        let word = |c: char| is_alnum(c) || c == '_';
        let j = self.lit(i, "$[")?;
        let Some(name_end) = self.run(j, word) else {
            return Some((j, Out::Text(i, j)));
        };
        // `.key=value,key` arguments; later keys overwrite, in the place of the first.
        let mut args: Vec<(String, FnArg)> = Vec::new();
        let mut k = name_end;
        if self.at(k) == Some('.') {
            let arg = |p: &Self, x: usize| -> Option<(usize, String, FnArg)> {
                let key_end = p.run(x, word)?;
                let key = p.slice(x, key_end).to_owned();
                if p.at(key_end) == Some('=')
                    && let Some(v_end) = p.run(key_end + 1, |c| word(c) || c == '.' || c == '-')
                {
                    return Some((
                        v_end,
                        key,
                        FnArg::Value(p.slice(key_end + 1, v_end).to_owned()),
                    ));
                }
                Some((key_end, key, FnArg::Flag))
            };
            if let Some((mut x, key, value)) = arg(self, k + 1) {
                let mut pairs = vec![(key, value)];
                while self.at(x) == Some(',') {
                    let Some((y, key, value)) = arg(self, x + 1) else {
                        break;
                    };
                    pairs.push((key, value));
                    x = y;
                }
                for (key, value) in pairs {
                    match args.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => args.push((key, value)),
                    }
                }
                k = x;
            }
        }
        let Some(body) = self.lit(k, " ") else {
            return Some((k, Out::Text(i, k)));
        };
        let Some((m, items)) = self.inlines_until(body, |p, x| p.at(x) == Some(']')) else {
            return Some((body, Out::Text(i, body)));
        };
        let Some(end) = self.lit(m, "]") else {
            return Some((m, Out::Text(i, m)));
        };
        // JavaScript objects list integer-like keys first, in numeric order.
        order_like_js_object(&mut args);
        Some((
            end,
            Out::Node(Node::Fn {
                name: self.slice(j, name_end).to_owned(),
                args,
                children: self.merge(items),
            }),
        ))
    }

    fn inline_code(&mut self, i: usize) -> Res {
        let j = self.lit(i, "`")?;
        let end = self.chars_until(j, 1, |p, x| {
            matches!(p.at(x), Some('`') | Some('´')) || p.newline(x).is_some()
        })?;
        let k = self.lit(end, "`")?;
        Some((
            k,
            Out::Node(Node::InlineCode {
                code: self.slice(j, end).to_owned(),
            }),
        ))
    }

    fn math_inline(&mut self, i: usize) -> Res {
        let j = self.lit(i, "\\(")?;
        let end = self.chars_until(j, 1, |p, x| p.starts(x, "\\)") || p.newline(x).is_some())?;
        let k = self.lit(end, "\\)")?;
        Some((
            k,
            Out::Node(Node::MathInline {
                formula: self.slice(j, end).to_owned(),
            }),
        ))
    }

    fn mention(&mut self, i: usize) -> Res {
        if self.st.link_label {
            return None;
        }
        let name_char = |c: char| is_alnum(c) || matches!(c, '_' | '.' | '-');
        let j = self.lit(i, "@")?;
        let name_end = self.run(j, name_char)?;
        let mut end = name_end;
        let mut host: Option<&str> = None;
        if self.at(name_end) == Some('@')
            && let Some(h_end) = self.run(name_end + 1, name_char)
        {
            host = Some(self.slice(name_end + 1, h_end));
            end = h_end;
        }
        if self.alnum_before(i) {
            return None;
        }
        let trailing = |s: &str| s.len() - s.trim_end_matches(['.', '-']).len();
        let username = self.slice(j, name_end);
        let mut invalid = false;
        let mut modified_host = host;
        if let Some(h) = host {
            let t = trailing(h);
            if t > 0 {
                let m = &h[..h.len() - t];
                if m.is_empty() {
                    invalid = true;
                    modified_host = None;
                } else {
                    modified_host = Some(m);
                }
            }
        }
        let mut modified_name = username;
        let t = trailing(username);
        if t > 0 {
            if modified_host.is_none() {
                modified_name = &username[..username.len() - t];
            } else {
                invalid = true;
            }
        }
        if modified_name.is_empty() || modified_name.starts_with(['.', '-']) {
            invalid = true;
        }
        if modified_host.is_some_and(|h| h.starts_with(['.', '-'])) {
            invalid = true;
        }
        if invalid {
            return Some((end, Out::Text(i, end)));
        }
        let acct = match modified_host {
            Some(h) => format!("@{modified_name}@{h}"),
            None => format!("@{modified_name}"),
        };
        let consumed = i + acct.chars().count();
        Some((
            consumed,
            Out::Node(Node::Mention {
                username: modified_name.to_owned(),
                host: modified_host.map(str::to_owned),
                acct,
            }),
        ))
    }

    fn hashtag(&mut self, i: usize) -> Res {
        if self.st.link_label {
            return None;
        }
        let j = self.lit(i, "#")?;
        let mut k = j;
        while k < self.len() {
            let Some(next) = self.hashtag_item(k) else {
                break;
            };
            k = next;
        }
        if k == j {
            return None;
        }
        if self.alnum_before(i) {
            return None;
        }
        let value = self.slice(j, k);
        if value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((
            k,
            Out::Node(Node::Hashtag {
                hashtag: value.to_owned(),
            }),
        ))
    }

    fn hashtag_char(&self, i: usize) -> Option<usize> {
        let c = self.at(i)?;
        let stop = matches!(
            c,
            ' ' | '\u{3000}'
                | '\t'
                | '.'
                | ','
                | '!'
                | '?'
                | '\''
                | '"'
                | '#'
                | ':'
                | '/'
                | '['
                | ']'
                | '【'
                | '】'
                | '('
                | ')'
                | '「'
                | '」'
                | '（'
                | '）'
                | '<'
                | '>'
                | '\r'
                | '\n'
        );
        (!stop).then_some(i + 1)
    }

    /// A character of a hashtag or URL (`single`), or a bracketed group of such items, nested
    /// up to the limit: mfm-js's `innerItem` of both rules.
    fn bracketed_item(
        &mut self,
        i: usize,
        pairs: &[(&str, &str)],
        single: fn(&Self, usize) -> Option<usize>,
    ) -> Option<usize> {
        for (open, close) in pairs {
            if let Some(mut k) = self.lit(i, open) {
                while k < self.len() {
                    let r = self.nest(
                        k,
                        |p, x| p.bracketed_item(x, pairs, single).map(|n| (n, ())),
                        |p, x| single(p, x).map(|n| (n, ())),
                    );
                    let Some((next, ())) = r else { break };
                    k = next;
                }
                if let Some(end) = self.lit(k, close) {
                    return Some(end);
                }
            }
        }
        single(self, i)
    }

    fn hashtag_item(&mut self, i: usize) -> Option<usize> {
        self.bracketed_item(
            i,
            &[("(", ")"), ("[", "]"), ("「", "」"), ("（", "）")],
            Self::hashtag_char,
        )
    }

    fn emoji_code(&mut self, i: usize) -> Res {
        // mfm-js checks "line begin, or not a letter/digit" at the colon itself, which a
        // colon always passes; only the closing side matters.
        let j = self.lit(i, ":")?;
        let name_end = self.run(j, |c| is_alnum(c) || matches!(c, '_' | '+' | '-'))?;
        let k = self.lit(name_end, ":")?;
        if !self.line_end(k) && self.at(k).is_some_and(is_alnum) {
            return None;
        }
        Some((
            k,
            Out::Node(Node::EmojiCode {
                name: self.slice(j, name_end).to_owned(),
            }),
        ))
    }

    fn link(&mut self, i: usize) -> Res {
        if self.st.link_label {
            return None;
        }
        let (silent, j) = match self.lit(i, "?[") {
            Some(j) => (true, j),
            None => (false, self.lit(i, "[")?),
        };
        let label_item = |p: &mut Self, x: usize| {
            p.nest(
                x,
                |p, x| {
                    p.st.link_label = true;
                    let r = p.inline(x);
                    p.st.link_label = false;
                    r
                },
                |p, x| p.char_text(x),
            )
        };
        let (k, items, visited) = self.memo_items(
            RULE_LINK,
            j,
            |p, x| p.at(x) == Some(']') || p.newline(x).is_some(),
            label_item,
        )?;
        let rest = |p: &mut Self| -> Option<(usize, String)> {
            let k = p.lit(k, "]")?;
            let k = p.lit(k, "(")?;
            let (k, url) = match p.url_alt(k).or_else(|| p.url(k))? {
                (k, Out::Node(Node::Url { url, .. })) => (k, url),
                _ => return None,
            };
            Some((p.lit(k, ")")?, url))
        };
        let found = if items.is_empty() { None } else { rest(self) };
        let Some((k, url)) = found else {
            self.mark_dead(RULE_LINK, &visited);
            return None;
        };
        Some((
            k,
            Out::Node(Node::Link {
                silent,
                url,
                children: self.merge(items),
            }),
        ))
    }

    fn url_scheme(&self, i: usize) -> Option<usize> {
        self.lit(i, "https://").or_else(|| self.lit(i, "http://"))
    }

    fn url_char(&self, i: usize) -> Option<usize> {
        let c = self.at(i)?;
        (is_alnum(c) || ".,_/:%#@$&?!~=+-".contains(c)).then_some(i + 1)
    }

    fn url_item(&mut self, i: usize) -> Option<usize> {
        self.bracketed_item(i, &[("(", ")"), ("[", "]")], Self::url_char)
    }

    fn url(&mut self, i: usize) -> Res {
        if self.st.link_label {
            return None;
        }
        let j = self.url_scheme(i)?;
        let mut k = j;
        while k < self.len() {
            let Some(next) = self.url_item(k) else { break };
            k = next;
        }
        if k == j {
            return None;
        }
        // Trailing periods and commas end the sentence, not the URL.
        let mut end = k;
        while end > j && matches!(self.at(end - 1), Some('.') | Some(',')) {
            end -= 1;
        }
        if end == j {
            return Some((k, Out::Text(i, k)));
        }
        Some((
            end,
            Out::Node(Node::Url {
                url: self.slice(i, end).to_owned(),
                brackets: false,
            }),
        ))
    }

    fn url_alt(&mut self, i: usize) -> Res {
        if self.st.link_label {
            return None;
        }
        let j = self.lit(i, "<")?;
        let k = self.url_scheme(j)?;
        let end = self.chars_until(k, 1, |p, x| {
            p.at(x) == Some('>') || p.at(x).is_some_and(is_space)
        })?;
        let close = self.lit(end, ">")?;
        Some((
            close,
            Out::Node(Node::Url {
                url: self.slice(j, end).to_owned(),
                brackets: true,
            }),
        ))
    }
}

/// Orders `$[fn]` arguments as a JavaScript object lists its keys: array-index-like keys
/// ("0", "42", not "01") first in ascending numeric order, then the rest as inserted.
fn order_like_js_object(args: &mut [(String, FnArg)]) {
    let index = |k: &str| -> Option<u32> {
        if k == "0"
            || (!k.starts_with('0') && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        {
            k.parse::<u32>().ok().filter(|&n| n < u32::MAX)
        } else {
            None
        }
    };
    args.sort_by(|(a, _), (b, _)| match (index(a), index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emoji_prefilter_never_skips_a_possible_emoji() {
        for cp in 0..0x203C_u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if may_start_emoji(c) {
                continue;
            }
            for suffix in [
                "",
                "\u{FE0F}",
                "\u{FE0F}\u{20E3}",
                "\u{20E3}",
                "\u{200D}\u{2640}\u{FE0F}",
            ] {
                let s = format!("{c}{suffix}");
                assert!(EMOJI.find(&s).is_none(), "U+{cp:04X} starts an emoji");
            }
        }
    }

    #[test]
    fn text_presentation_selector_refuses_the_emoji() {
        let tree = Parser::new("\u{263A}\u{FE0E}", DEFAULT_NEST_LIMIT).parse_full();
        assert_eq!(tree, vec![Node::Text("\u{263A}\u{FE0E}".into())]);
        let tree = Parser::new("\u{263A}", DEFAULT_NEST_LIMIT).parse_full();
        assert_eq!(
            tree,
            vec![Node::UnicodeEmoji {
                emoji: "\u{263A}".into()
            }]
        );
    }
}

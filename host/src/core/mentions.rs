//! What a note's text refers to: mentions (`@user`, `@user@host`) and hashtags.
//!
//! This follows mfm-js's rules for the two node types (a mention or hashtag may not follow a
//! letter or digit; usernames are `[A-Za-z0-9_-]`, hosts `[A-Za-z0-9_.-]` and lose trailing
//! `.`/`-`) and skips code spans and blocks. The full MFM parser (issue 3) will replace it.

/// A mention as written: `host` is `None` for `@user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub username: String,
    pub host: Option<String>,
}

/// Mentions in order of appearance, without duplicates.
pub fn extract_mentions(text: &str) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    for_each_outside_code(text, |segment, prev| {
        let chars: Vec<char> = segment.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let before = if i == 0 { prev } else { Some(chars[i - 1]) };
            if chars[i] == '@' && !before.is_some_and(|c| c.is_ascii_alphanumeric()) {
                let name_start = i + 1;
                let mut j = name_start;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '-')
                {
                    j += 1;
                }
                let mut name_end = j;
                while name_end > name_start && chars[name_end - 1] == '-' {
                    name_end -= 1;
                }
                if name_end > name_start {
                    let username: String = chars[name_start..name_end].iter().collect();
                    let mut host = None;
                    let mut end = name_end;
                    if name_end == j && j < chars.len() && chars[j] == '@' {
                        let host_start = j + 1;
                        let mut k = host_start;
                        while k < chars.len()
                            && (chars[k].is_ascii_alphanumeric()
                                || matches!(chars[k], '_' | '.' | '-'))
                        {
                            k += 1;
                        }
                        let mut host_end = k;
                        while host_end > host_start && matches!(chars[host_end - 1], '.' | '-') {
                            host_end -= 1;
                        }
                        if host_end > host_start {
                            host = Some(
                                chars[host_start..host_end]
                                    .iter()
                                    .collect::<String>()
                                    .to_lowercase(),
                            );
                            end = host_end;
                        }
                    }
                    let m = Mention { username, host };
                    if !out
                        .iter()
                        .any(|o| o.username.eq_ignore_ascii_case(&m.username) && o.host == m.host)
                    {
                        out.push(m);
                    }
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
    });
    out
}

/// Hashtags (without `#`), lower-cased, in order of appearance, without duplicates.
pub fn extract_hashtags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for_each_outside_code(text, |segment, prev| {
        let chars: Vec<char> = segment.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let before = if i == 0 { prev } else { Some(chars[i - 1]) };
            if chars[i] == '#' && !before.is_some_and(|c| c.is_ascii_alphanumeric()) {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && !is_hashtag_stop(chars[j]) {
                    j += 1;
                }
                let tag: String = chars[start..j].iter().collect();
                if !tag.is_empty()
                    && !tag.chars().all(|c| c.is_ascii_digit())
                    && tag.chars().count() <= 128
                {
                    let tag = tag.to_lowercase();
                    if !out.contains(&tag) {
                        out.push(tag);
                    }
                }
                i = j.max(i + 1);
                continue;
            }
            i += 1;
        }
    });
    out
}

fn is_hashtag_stop(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ','
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
        )
}

/// Calls `f` on each stretch of `text` outside inline code (`` `…` ``) and code blocks
/// (```` ```…``` ````), with the character just before the stretch.
fn for_each_outside_code(text: &str, mut f: impl FnMut(&str, Option<char>)) {
    let mut rest = text;
    let mut prev: Option<char> = None;
    while !rest.is_empty() {
        let Some(tick) = rest.find('`') else {
            f(rest, prev);
            return;
        };
        f(&rest[..tick], prev);
        let fence = if rest[tick..].starts_with("```") {
            "```"
        } else {
            "`"
        };
        let after = &rest[tick + fence.len()..];
        // Inline code does not span lines in MFM; a block runs to its closing fence.
        let close = match fence {
            "```" => after.find("```"),
            _ => after
                .find(['`', '\n'])
                .filter(|&k| after[k..].starts_with('`')),
        };
        match close {
            Some(k) => {
                prev = Some('`');
                rest = &after[k + fence.len()..];
            }
            None => {
                // Unterminated: the backtick is plain text.
                prev = Some('`');
                rest = after;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(u: &str, h: Option<&str>) -> Mention {
        Mention {
            username: u.into(),
            host: h.map(Into::into),
        }
    }

    #[test]
    fn mentions_with_and_without_host() {
        assert_eq!(
            extract_mentions("hi @alice and @bob@Example.com. and @alice again"),
            vec![m("alice", None), m("bob", Some("example.com"))]
        );
    }

    #[test]
    fn emails_and_code_are_not_mentions() {
        assert!(extract_mentions("mail me at a@b.c").is_empty());
        assert!(extract_mentions("`@alice` ```\n@bob\n```").is_empty());
        assert_eq!(extract_mentions("`@x` @carol"), vec![m("carol", None)]);
    }

    #[test]
    fn hashtags_stop_at_punctuation() {
        assert_eq!(
            extract_hashtags("#Rust, #tsudoi! #123 a#b #日本語"),
            vec!["rust", "tsudoi", "日本語"]
        );
    }
}

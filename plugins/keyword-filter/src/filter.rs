//! The keyword filter itself, independent of the plugin interface.

/// What to do with a matching note.
#[derive(serde::Deserialize, Default, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Reject,
    Flag,
    Cw,
}

#[derive(serde::Deserialize)]
struct Config {
    keywords: Vec<String>,
    #[serde(default)]
    action: Action,
}

pub struct Filter {
    /// Lower-cased, non-empty.
    keywords: Vec<String>,
    /// Length in bytes of the shortest keyword: the width of the window the scan slides.
    shortest: usize,
    /// How far the window may slide when its last two bytes are a given pair (Wu-Manber):
    /// no keyword can start at any of the positions skipped. On ordinary text most pairs
    /// occur in no keyword, so the scan reads about one byte in four.
    ///
    /// Why not the aho-corasick crate, which this replaced: it reads every byte, and in
    /// WebAssembly (no SIMD, so none of its prefilters apply) that took 2.3 ns per byte of
    /// a note, more than the whole of the rest of a plugin call.
    skip: Box<[u8; 1 << 16]>,
    /// Pairs of bytes with which some keyword starts (one bit per pair), checked where the
    /// window stops before the keywords are looked up.
    starts: Box<[u64; 1 << 10]>,
    /// `(pair, index into keywords)` for the pairs each keyword starts with, sorted by pair
    /// and found by binary search: only keywords starting where the window stopped are
    /// compared, so a list of thousands of keywords costs little more per stop than five.
    by_start: Vec<(usize, usize)>,
    /// Whether any keyword has non-ASCII letters; if none does, the note never needs
    /// lower-casing.
    unicode_keywords: bool,
    pub action: Action,
}

/// A pair of bytes with ASCII letters folded to lower case, as an index into the tables.
/// The fold (setting bit 5) also maps some other bytes onto each other: that only makes
/// the tables more cautious, since every candidate is compared exactly.
fn pair(first: u8, second: u8) -> usize {
    ((first | 0x20) as usize) << 8 | (second | 0x20) as usize
}

impl Filter {
    /// Reads the plugin's JSON configuration.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let config: Config = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(Self::new(&config.keywords, config.action))
    }

    pub fn new(keywords: &[String], action: Action) -> Self {
        let keywords: Vec<String> = keywords
            .iter()
            .map(|k| k.to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let shortest = keywords.iter().map(String::len).min().unwrap_or(0);
        let longest_skip = shortest.saturating_sub(1).min(u8::MAX.into());
        let mut skip = Box::new([longest_skip as u8; 1 << 16]);
        let mut starts = Box::new([0u64; 1 << 10]);
        let mut by_start = Vec::new();
        for (index, k) in keywords.iter().map(String::as_bytes).enumerate() {
            // Every pair within the window's width of a keyword's start limits the skip
            // after a window ending in that pair, to 0 where it ends the window.
            for (j, two) in k[..shortest].windows(2).enumerate() {
                let limit = (shortest - 2 - j).min(longest_skip) as u8;
                let entry = &mut skip[pair(two[0], two[1])];
                *entry = (*entry).min(limit);
            }
            // A one-byte keyword starts at that byte whatever follows it.
            let seconds = match k.get(1) {
                Some(&b) => b..=b,
                None => 0..=u8::MAX,
            };
            for p in seconds.map(|second| pair(k[0], second)) {
                starts[p >> 6] |= 1 << (p & 63);
                by_start.push((p, index));
            }
        }
        // Stable: keywords with the same first pair stay in their configured order.
        by_start.sort_by_key(|&(p, _)| p);
        Self {
            shortest,
            unicode_keywords: keywords.iter().any(|k| !k.is_ascii()),
            keywords,
            skip,
            starts,
            by_start,
            action,
        }
    }

    /// The first keyword found in the text or the content warning.
    pub fn first_match(&self, text: Option<&str>, cw: Option<&str>) -> Option<&str> {
        [text, cw].into_iter().flatten().find_map(|part| {
            if !self.unicode_keywords || part.is_ascii() {
                self.find(part.as_bytes())
            } else {
                self.find(part.to_lowercase().as_bytes())
            }
        })
    }

    /// The keyword whose first occurrence in `haystack` ends first, the longest of those
    /// ending at the same byte: what a standard Aho-Corasick search reports, which the
    /// Python and JavaScript ports of this filter reproduce.
    fn find(&self, haystack: &[u8]) -> Option<&str> {
        if self.keywords.is_empty() {
            return None;
        }
        let width = self.shortest;
        // (end, length, index) of the best match so far.
        let mut best: Option<(usize, usize, usize)> = None;
        // The window is haystack[end - width..end].
        let mut end = width;
        while end <= haystack.len() {
            if width >= 2 {
                let shift = self.skip[pair(haystack[end - 2], haystack[end - 1])];
                if shift > 0 {
                    end += usize::from(shift);
                    continue;
                }
            }
            let start = end - width;
            end += 1;
            if best.is_some_and(|(best_end, _, _)| start + width >= best_end) {
                // Whatever starts here or later ends later than the match already found.
                break;
            }
            let p = pair(
                haystack[start],
                haystack.get(start + 1).copied().unwrap_or(0),
            );
            if self.starts[p >> 6] & (1 << (p & 63)) == 0 {
                continue;
            }
            let first = self.by_start.partition_point(|&(q, _)| q < p);
            let same_start = self.by_start[first..].iter().take_while(|&&(q, _)| q == p);
            for &(_, index) in same_start {
                let keyword = self.keywords[index].as_bytes();
                let match_end = start + keyword.len();
                if haystack
                    .get(start..match_end)
                    .is_some_and(|window| window.eq_ignore_ascii_case(keyword))
                    && best.is_none_or(|(e, len, _)| {
                        match_end < e || (match_end == e && keyword.len() > len)
                    })
                {
                    best = Some((match_end, keyword.len(), index));
                }
            }
        }
        best.map(|(_, _, index)| self.keywords[index].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_case_insensitively_in_text_and_cw() {
        let f = Filter::from_json(r#"{"keywords":["Buy Now",""],"action":"cw"}"#).unwrap();
        assert_eq!(f.action, Action::Cw);
        assert_eq!(f.first_match(Some("please BUY NOW"), None), Some("buy now"));
        assert_eq!(f.first_match(None, Some("buy now!")), Some("buy now"));
        assert_eq!(f.first_match(Some("hello"), None), None);
        assert!(Filter::from_json("{}").is_err());
        let cyrillic = Filter::from_json(r#"{"keywords":["Спам"]}"#).unwrap();
        assert_eq!(cyrillic.first_match(Some("это СПАМ"), None), Some("спам"));
    }

    #[test]
    fn reports_the_match_that_ends_first_then_the_longest() {
        let f = Filter::new(&["bcd".into(), "abcde".into(), "c".into()], Action::Reject);
        assert_eq!(f.first_match(Some("abcdef"), None), Some("c"));
        let f = Filter::new(&["cd".into(), "abcd".into(), "xyz".into()], Action::Reject);
        assert_eq!(f.first_match(Some("zabcd"), None), Some("abcd"));
        assert_eq!(f.first_match(Some("ab"), Some("xyz")), Some("xyz"));
        assert_eq!(f.first_match(Some("a"), None), None);
        let none = Filter::from_json(r#"{"keywords":[""]}"#).unwrap();
        assert_eq!(none.first_match(Some(""), Some("text")), None);
    }

    /// The matcher against aho-corasick's standard search, on random notes over a small
    /// alphabet (so keywords overlap and repeat often), ASCII and not.
    #[test]
    fn agrees_with_aho_corasick() {
        let alphabet: Vec<char> = "abAaBb\u{e9}\u{c9}\u{3042}".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let word = |len: usize, next: &mut dyn FnMut(usize) -> usize| -> String {
            (0..len).map(|_| alphabet[next(alphabet.len())]).collect()
        };
        for _ in 0..5_000 {
            let keywords: Vec<String> = (0..1 + next(4))
                .map(|_| word(1 + next(4), &mut next))
                .collect();
            let text = word(next(24), &mut next);
            let filter = Filter::new(&keywords, Action::Reject);
            let lowered: Vec<String> = keywords.iter().map(|k| k.to_lowercase()).collect();
            let oracle = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&lowered)
                .unwrap();
            let haystack = if filter.unicode_keywords && !text.is_ascii() {
                text.to_lowercase()
            } else {
                text.clone()
            };
            let expected = oracle
                .find(&haystack)
                .map(|m| lowered[m.pattern().as_usize()].as_str());
            assert_eq!(
                filter.first_match(Some(&text), None),
                expected,
                "{keywords:?} in {text:?}"
            );
        }
    }
}

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
    keywords: Vec<String>,
    /// All keywords in one automaton, matching ASCII letters in either case: one pass over
    /// the note, no allocation. When a keyword has non-ASCII letters, notes with non-ASCII
    /// text are lower-cased first so that those compare without case too.
    matcher: aho_corasick::AhoCorasick,
    /// Whether any keyword has non-ASCII letters; if none does, the note never needs
    /// lower-casing.
    unicode_keywords: bool,
    pub action: Action,
}

impl Filter {
    /// Reads the plugin's JSON configuration.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let config: Config = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let keywords: Vec<String> = config
            .keywords
            .iter()
            .map(|k| k.to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let matcher = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            unicode_keywords: keywords.iter().any(|k| !k.is_ascii()),
            keywords,
            matcher,
            action: config.action,
        })
    }

    /// The first keyword found in the text or the content warning.
    pub fn first_match(&self, text: Option<&str>, cw: Option<&str>) -> Option<&str> {
        [text, cw].into_iter().flatten().find_map(|part| {
            let found = if !self.unicode_keywords || part.is_ascii() {
                self.matcher.find(part)
            } else {
                self.matcher.find(&part.to_lowercase())
            };
            found.map(|m| self.keywords[m.pattern().as_usize()].as_str())
        })
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
}

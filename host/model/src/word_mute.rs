//! Word mutes: what a user does not want to read, as Misskey's clients send it.

use serde::{Deserialize, Serialize};

/// One entry of a user's muted words: keywords that must all appear, or a regular
/// expression written `/pattern/flags`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MuteWord {
    Keywords(Vec<String>),
    Pattern(String),
}

impl MuteWord {
    /// Its length as Misskey counts it against `wordMuteLimit`: the characters of its
    /// keywords, or of its pattern.
    pub fn counted_len(&self) -> usize {
        match self {
            MuteWord::Keywords(words) => words.iter().map(|w| w.encode_utf16().count()).sum(),
            MuteWord::Pattern(p) => p.encode_utf16().count(),
        }
    }
}

/// A user's muted words: `soft` ones clients collapse (Misskey's `mutedWords`), `hard`
/// ones nobody is shown (`hardMutedWords`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordMutes {
    pub soft: Vec<MuteWord>,
    pub hard: Vec<MuteWord>,
}

//! Word mutes. A user lists words (keywords that must all appear, or `/regular
//! expressions/`) in two lists, as Misskey has them: `mutedWords`, which Misskey's clients
//! collapse (a "muted note" the reader may still open), and `hardMutedWords`, which the
//! server applies: every listing and stream leaves out the notes they match, so no client
//! shows them. One's own notes are never muted.
//!
//! Patterns are Rust regular expressions, which like Misskey's RE2 run in linear time: a
//! pattern cannot make a timeline slow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::{Regex, RegexBuilder};
use tsudoi_model::{Event, MuteWord, Note, User, WordMutes};

use crate::{Core, Error, Result};

/// Characters all of one list's entries may have together (Misskey's `wordMuteLimit`).
pub const WORD_MUTE_LIMIT: usize = 200;
/// The most entries one list takes, and the largest compiled pattern.
const MAX_ENTRIES: usize = 100;
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// `/pattern/flags` compiled; `None` if it is not one or does not compile. JavaScript's
/// `i`, `m`, `s` are honoured; `g`, `y`, `u` (and `d`) change nothing for a test.
fn pattern(entry: &str) -> Option<Regex> {
    let body = entry.strip_prefix('/')?;
    let (source, flags) = body.rsplit_once('/')?;
    if source.is_empty() {
        return None;
    }
    let mut builder = RegexBuilder::new(source);
    builder.size_limit(PATTERN_SIZE_LIMIT);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'g' | 'y' | 'u' | 'd' => &mut builder,
            _ => return None,
        };
    }
    builder.build().ok()
}

/// Checks a list as Misskey does: patterns must compile, and the entries' characters stay
/// within the limit.
fn check(list: &[MuteWord]) -> Result<()> {
    let chars: usize = list.iter().map(MuteWord::counted_len).sum();
    if chars > WORD_MUTE_LIMIT || list.len() > MAX_ENTRIES {
        return Err(Error::TooManyMutedWords);
    }
    for entry in list {
        if let MuteWord::Pattern(p) = entry
            && pattern(p).is_none()
        {
            return Err(Error::InvalidRegexp);
        }
    }
    Ok(())
}

/// Keywords without blanks (an empty keyword would match everything) and empty groups.
fn cleaned(list: Vec<MuteWord>) -> Vec<MuteWord> {
    list.into_iter()
        .filter_map(|entry| match entry {
            MuteWord::Keywords(words) => {
                let words: Vec<String> = words
                    .into_iter()
                    .map(|w| w.trim().to_owned())
                    .filter(|w| !w.is_empty())
                    .collect();
                (!words.is_empty()).then_some(MuteWord::Keywords(words))
            }
            pattern => Some(pattern),
        })
        .collect()
}

/// A list of muted words, ready to test notes with (cheap to clone: compiled patterns are
/// shared).
#[derive(Debug, Clone, Default)]
pub struct WordFilter {
    keywords: Vec<Vec<String>>,
    patterns: Vec<Regex>,
}

impl WordFilter {
    pub fn new(list: &[MuteWord]) -> Self {
        let mut filter = WordFilter::default();
        for entry in list {
            match entry {
                MuteWord::Keywords(words) => filter.keywords.push(words.clone()),
                // Checked when saved; one that no longer compiles mutes nothing.
                MuteWord::Pattern(p) => filter.patterns.extend(pattern(p)),
            }
        }
        filter
    }

    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty() && self.patterns.is_empty()
    }

    /// Whether the text (CW and body) of a note by someone other than `viewer` matches.
    fn matches(&self, note: &Note, viewer: &str) -> bool {
        if note.user_id == viewer {
            return false;
        }
        let text = format!(
            "{}\n{}",
            note.cw.as_deref().unwrap_or_default(),
            note.text.as_deref().unwrap_or_default()
        );
        let text = text.trim();
        if text.is_empty() {
            return false;
        }
        self.keywords
            .iter()
            .any(|all| all.iter().all(|w| text.contains(w.as_str())))
            || self.patterns.iter().any(|p| p.is_match(text))
    }

    /// Whether `note` is hidden from `viewer`: it matches, or it is a pure renote of a note
    /// that does (`renote`).
    pub fn hides(&self, note: &Note, renote: Option<&Note>, viewer: &str) -> bool {
        self.matches(note, viewer)
            || (note.is_pure_renote() && renote.is_some_and(|r| self.matches(r, viewer)))
    }
}

/// Checks lists before anything is written (`i/update` changes nothing when one is bad).
pub fn validate(soft: Option<&[MuteWord]>, hard: Option<&[MuteWord]>) -> Result<()> {
    soft.into_iter().chain(hard).try_for_each(check)
}

/// Sets `me`'s muted words (`soft`, `hard`; `None` leaves a list as it is).
pub async fn set(
    core: &Core,
    me: &User,
    soft: Option<Vec<MuteWord>>,
    hard: Option<Vec<MuteWord>>,
) -> Result<WordMutes> {
    validate(soft.as_deref(), hard.as_deref())?;
    let mut mutes = core.store().word_mutes(&me.id).await?;
    if let Some(soft) = soft {
        mutes.soft = cleaned(soft);
    }
    if let Some(hard) = hard {
        mutes.hard = cleaned(hard);
    }
    core.store().set_word_mutes(&me.id, &mutes).await?;
    core.word_filters().forget(&me.id);
    // The user's streams read their hard mutes again.
    core.publish(Event::MutesChanged {
        user_id: me.id.clone(),
    });
    Ok(mutes)
}

pub async fn get(core: &Core, user_id: &str) -> Result<WordMutes> {
    Ok(core.store().word_mutes(user_id).await?)
}

/// A user's muted words as plugins are shown them (a ranker's `viewer.muted-words`), each
/// entry as Misskey's settings write it: keywords that must all appear, space-separated,
/// or `/pattern/flags`. Soft mutes first (what clients fold; a ranker may rank such notes
/// lower), then hard ones (notes with those are gone before a plugin sees them).
pub fn for_plugins(mutes: &WordMutes) -> Vec<String> {
    let mut words: Vec<String> = mutes
        .soft
        .iter()
        .chain(&mutes.hard)
        .map(|w| match w {
            MuteWord::Keywords(k) => k.join(" "),
            MuteWord::Pattern(p) => p.clone(),
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    words
}

/// `user_id`'s hard mutes, compiled; `None` when there are none (most users).
pub async fn hard_filter(core: &Core, user_id: &str) -> Result<Option<Arc<WordFilter>>> {
    if let Some(cached) = core.word_filters().get(user_id) {
        return Ok(cached);
    }
    let filter = WordFilter::new(&core.store().word_mutes(user_id).await?.hard);
    let filter = (!filter.is_empty()).then(|| Arc::new(filter));
    core.word_filters().put(user_id, filter.clone());
    Ok(filter)
}

/// Compiled hard mutes of the users reading lately, so a timeline request does not read and
/// compile them each time. A change takes effect at once on this node, and on the others as
/// soon as they hear of it (`node_sync`); one they were not told of, within [`FILTER_TTL`].
#[derive(Default)]
pub(crate) struct WordFilters(Mutex<HashMap<String, CachedFilter>>);

/// When a user's list was read, and the list (`None`: they have none).
type CachedFilter = (Instant, Option<Arc<WordFilter>>);

/// How long a compiled list is trusted.
const FILTER_TTL: Duration = Duration::from_secs(10);
/// Users kept at most; beyond, the copies start over.
const FILTER_USERS: usize = 10_000;

impl WordFilters {
    fn get(&self, user_id: &str) -> Option<Option<Arc<WordFilter>>> {
        let map = self.0.lock().ok()?;
        let (at, filter) = map.get(user_id)?;
        (at.elapsed() < FILTER_TTL).then(|| filter.clone())
    }

    fn put(&self, user_id: &str, filter: Option<Arc<WordFilter>>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= FILTER_USERS {
                map.clear();
            }
            map.insert(user_id.to_owned(), (Instant::now(), filter));
        }
    }

    pub(crate) fn forget(&self, user_id: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(user: &str, text: &str, cw: Option<&str>) -> Note {
        let mut n = tsudoi_testkit::note_at(user, tsudoi_model::Visibility::Public, 0);
        n.text = Some(text.to_owned());
        n.cw = cw.map(str::to_owned);
        n
    }

    #[test]
    fn plugins_see_soft_then_hard_mutes_as_settings_write_them() {
        let mutes = WordMutes {
            soft: vec![
                MuteWord::Keywords(vec!["spoiler".into(), "ending".into()]),
                MuteWord::Pattern("/cats?/i".into()),
            ],
            hard: vec![
                MuteWord::Pattern("/cats?/i".into()),
                MuteWord::Keywords(vec!["ads".into()]),
            ],
        };
        assert_eq!(
            for_plugins(&mutes),
            ["spoiler ending", "/cats?/i", "ads"].map(String::from)
        );
    }

    #[test]
    fn keywords_must_all_appear_and_patterns_follow_their_flags() {
        let f = WordFilter::new(&[
            MuteWord::Keywords(vec!["spoiler".into(), "ending".into()]),
            MuteWord::Pattern("/cat(s)?\\s+rule/i".into()),
        ]);
        assert!(f.hides(&note("a", "the ending, a spoiler", None), None, "me"));
        assert!(!f.hides(&note("a", "just a spoiler", None), None, "me"));
        assert!(f.hides(&note("a", "CATS   Rule", None), None, "me"));
        assert!(f.hides(
            &note("a", "nothing", Some("the spoiler of the ending")),
            None,
            "me"
        ));
        assert!(
            !f.hides(&note("me", "cats rule", None), None, "me"),
            "never one's own"
        );
        let mut renote = note("b", "", None);
        renote.text = None;
        renote.renote_id = Some("x".into());
        let original = note("a", "cats rule", None);
        assert!(
            f.hides(&renote, Some(&original), "me"),
            "a renote of a muted note"
        );
    }

    #[test]
    fn lists_are_checked_like_misskeys() {
        assert!(matches!(
            check(&[MuteWord::Pattern("/(unclosed/".into())]),
            Err(Error::InvalidRegexp)
        ));
        assert!(matches!(
            check(&[MuteWord::Pattern("no slashes".into())]),
            Err(Error::InvalidRegexp)
        ));
        assert!(matches!(
            check(&[MuteWord::Pattern("/x/q".into())]),
            Err(Error::InvalidRegexp)
        ));
        assert!(matches!(
            check(&[MuteWord::Keywords(vec!["x".repeat(201)])]),
            Err(Error::TooManyMutedWords)
        ));
        assert!(check(&[MuteWord::Keywords(vec!["x".repeat(200)])]).is_ok());
        assert_eq!(
            cleaned(vec![
                MuteWord::Keywords(vec![" ".into()]),
                MuteWord::Keywords(vec![" a ".into()])
            ]),
            vec![MuteWord::Keywords(vec!["a".into()])]
        );
    }
}

//! Finding notes, users and hashtags. Notes are searched through the listings, so what a
//! search finds is what the viewer may see, with blocks and mutes applied, like a timeline.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tsudoi_model::{HostScope, Listing, NoteFilter, NoteSearch, NoteSource, Page, User, ids};
use tsudoi_store::search::{HostPrefix, Origin, TagUsers};

use crate::notes::create::normalize_hashtag;
use crate::timelines::read;
use crate::{Core, Error, Result};

/// Who may search what (Misskey's `canSearchNotes` and `canSearchUsers`).
#[derive(Debug, Clone, Copy)]
pub struct SearchPolicy {
    pub notes: bool,
    pub users: bool,
}

impl Default for SearchPolicy {
    /// Both on: unlike Misskey's `LIKE` scan, note search here reads an index, so it is cheap
    /// enough to offer everyone.
    fn default() -> Self {
        SearchPolicy {
            notes: true,
            users: true,
        }
    }
}

/// The most terms one search takes, and the longest term.
const MAX_TERMS: usize = 10;
const TERM_MAX: usize = 100;

/// What to search notes for.
#[derive(Debug, Default)]
pub struct NoteQuery {
    /// Words separated by spaces; a note must contain each.
    pub query: String,
    pub user_id: Option<String>,
    /// `.` (or this server's host) for this server's users; another host for its users'.
    pub host: Option<String>,
}

/// A page of the notes `viewer` may see whose text or CW contains every word of the query.
pub async fn notes(
    core: &Core,
    viewer: Option<&str>,
    q: NoteQuery,
    page: &Page,
) -> Result<Listing> {
    if !core.settings().search.notes {
        return Err(Error::SearchUnavailable);
    }
    let mut terms: Vec<String> = Vec::new();
    for t in q.query.split_whitespace().map(str::to_lowercase) {
        if t.chars().count() > TERM_MAX {
            return Err(Error::InvalidParam {
                param: "query",
                reason: format!("each word must be at most {TERM_MAX} characters"),
            });
        }
        if !terms.contains(&t) {
            terms.push(t);
        }
    }
    if terms.is_empty() || terms.len() > MAX_TERMS {
        return Err(Error::InvalidParam {
            param: "query",
            reason: format!("must have 1 to {MAX_TERMS} words"),
        });
    }
    let host = q.host.filter(|h| !h.is_empty()).map(|h| {
        if h == "." || core.settings().is_own_host(&h) {
            HostScope::Local
        } else {
            HostScope::Remote(h.to_lowercase())
        }
    });
    let source = NoteSource::Search(NoteSearch {
        terms,
        user_id: q.user_id,
        host,
    });
    read(core, &source, viewer, &NoteFilter::default(), page).await
}

/// Notes with hashtags: `any_of` groups, a note matching every tag of one of them. Tags are
/// normalised as notes store them.
pub async fn notes_by_tags(
    core: &Core,
    viewer: Option<&str>,
    any_of: Vec<Vec<String>>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Listing> {
    let mut groups: Vec<Vec<String>> = any_of
        .into_iter()
        .map(|g| {
            g.iter()
                .map(|t| normalize_hashtag(t))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .filter(|g: &Vec<String>| !g.is_empty())
        .collect();
    if groups.is_empty() || groups.len() > MAX_TERMS || groups.iter().any(|g| g.len() > MAX_TERMS) {
        return Err(Error::InvalidParam {
            param: "query",
            reason: format!("must name 1 to {MAX_TERMS} groups of 1 to {MAX_TERMS} tags"),
        });
    }
    // One tag is read from the tag's own index.
    let source = if groups.len() == 1 && groups[0].len() == 1 {
        NoteSource::Tag {
            tag: groups.remove(0).remove(0),
        }
    } else {
        NoteSource::Tags { any_of: groups }
    };
    read(core, &source, viewer, filter, page).await
}

/// Users whose name contains `query` or whose username starts with it (`@` optional).
pub async fn users(
    core: &Core,
    viewer: Option<&User>,
    query: &str,
    origin: Origin,
    limit: i64,
    offset: i64,
) -> Result<Vec<User>> {
    if !core.settings().search.users {
        return Err(Error::SearchUnavailable);
    }
    let query = query.trim().to_lowercase();
    if query.is_empty() || query.chars().count() > TERM_MAX {
        return Err(Error::InvalidParam {
            param: "query",
            reason: format!("must be 1 to {TERM_MAX} characters"),
        });
    }
    Ok(core
        .store()
        .search_users(&query, origin, viewer.map(|u| u.id.as_str()), limit, offset)
        .await?)
}

/// Users whose username starts with `username`, on servers whose host starts with `host`
/// (`.` or this server's host: this server), those the viewer follows first.
pub async fn users_by_username_and_host(
    core: &Core,
    viewer: Option<&User>,
    username: Option<&str>,
    host: Option<&str>,
    limit: i64,
) -> Result<Vec<User>> {
    let username = username.map(str::trim).filter(|u| !u.is_empty());
    let host = host.map(str::trim).filter(|h| !h.is_empty()).map(|h| {
        if h == "." || core.settings().is_own_host(h) {
            HostPrefix::Local
        } else {
            HostPrefix::Starting(h.to_lowercase())
        }
    });
    Ok(core
        .store()
        .users_by_username_prefix(
            username.map(str::to_lowercase).as_deref(),
            host.as_ref(),
            viewer.map(|u| u.id.as_str()),
            limit,
        )
        .await?)
}

/// Hashtags starting with `prefix`, most used first.
pub async fn hashtags(core: &Core, prefix: &str, limit: i64, offset: i64) -> Result<Vec<String>> {
    let prefix = normalize_hashtag(prefix.trim());
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    Ok(core
        .store()
        .hashtags_with_prefix(&prefix, limit, offset)
        .await?)
}

/// A hashtag and who used it; `NoSuchHashtag` if no note has it.
pub async fn hashtag(core: &Core, tag: &str) -> Result<(String, TagUsers)> {
    let tag = normalize_hashtag(tag.trim());
    let users = core
        .store()
        .hashtag_users(&tag)
        .await?
        .ok_or(Error::NoSuchHashtag)?;
    Ok((tag, users))
}

/// A hashtag people are using now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    pub tag: String,
    /// Distinct users per slice of [`TREND_SLICE_MS`], newest first.
    pub chart: Vec<i64>,
    /// Distinct users in the last [`TREND_WINDOW_MS`].
    pub users: i64,
}

/// The window trends are ranked by, and the chart's slices (Misskey's: one hour; twenty
/// ten-minute points).
pub const TREND_WINDOW_MS: i64 = 3_600_000;
pub const TREND_SLICE_MS: i64 = 600_000;
const TREND_POINTS: usize = 20;
const TRENDS: usize = 10;
/// How long a computed trend is shown before it is computed again. Every client asks for
/// it as it starts (a default widget, refreshed each minute), and computing it reads every
/// hashtag used in the last 200 minutes; a trend of the last hour may lag by half a minute.
pub const TREND_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The hashtags most users put in public notes in the last hour (at least two users each,
/// so one account cannot make a trend alone), with a chart of the last 200 minutes; computed
/// at most every [`TREND_MAX_AGE`].
pub async fn trends(core: &Core) -> Result<Arc<Vec<Trend>>> {
    if let Some(cached) = core.trend_cache().get() {
        return Ok(cached);
    }
    let computed = Arc::new(compute_trends(core).await?);
    core.trend_cache().keep(computed.clone());
    Ok(computed)
}

async fn compute_trends(core: &Core) -> Result<Vec<Trend>> {
    let now = ids::now_ms();
    let chart_from = now - TREND_SLICE_MS * TREND_POINTS as i64;
    let uses = core
        .store()
        .hashtag_uses_since(&ids::aidx_floor(chart_from))
        .await?;
    let mut recent: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut slices: HashMap<&str, Vec<HashSet<&str>>> = HashMap::new();
    for (tag, user, at) in &uses {
        if *at >= now - TREND_WINDOW_MS {
            recent.entry(tag).or_default().insert(user);
        }
        let slice = ((now - at).max(0) / TREND_SLICE_MS) as usize;
        if slice < TREND_POINTS {
            slices
                .entry(tag)
                .or_insert_with(|| vec![HashSet::new(); TREND_POINTS])[slice]
                .insert(user);
        }
    }
    let mut ranked: Vec<(&str, usize)> = recent
        .iter()
        .map(|(tag, users)| (*tag, users.len()))
        .filter(|(_, n)| *n >= 2)
        .collect();
    ranked.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
    ranked.truncate(TRENDS);
    Ok(ranked
        .into_iter()
        .map(|(tag, users)| Trend {
            tag: tag.to_owned(),
            chart: slices
                .get(tag)
                .map(|s| s.iter().map(|u| u.len() as i64).collect())
                .unwrap_or_else(|| vec![0; TREND_POINTS]),
            users: users as i64,
        })
        .collect())
}

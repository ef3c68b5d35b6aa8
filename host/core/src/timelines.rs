//! Timelines. Most are one listing. The home timeline is read from the notes table in windows
//! of time, and the social (hybrid) timeline merges the home and local timelines.
//!
//! Why windows: the home timeline is "notes by anyone I follow, newest first". Asked as one
//! query, the database gathers every note of every followee (20,000 for 200 followees with
//! 100 notes each) to sort them for one page of 20. Asked for a recent window first, it
//! touches only the notes of that window: for the first page, the window that the store's
//! copy of the followees' latest notes says holds the page and half as much again (for
//! filters), else the last two hours. When the window does not fill the page,
//! the next window reaches further back (far enough for the rest at the rate the page found
//! so far, two to eight times as far), and the last has no bound at all. Within a window the
//! store probes only the followees who posted since it began, from its copies of who posted
//! lately and whom the viewer follows. So the cost follows what is read, not how much (or how
//! many) the followees ever wrote, and nothing has to be written per follower when a note is
//! posted (no fan-out on write).

use std::collections::HashSet;
use std::sync::Arc;

use tsudoi_model::{Listing, Note, NoteFilter, NoteSource, Page, RankedTimeline, User, ids};
use tsudoi_plugin_host::hooks::ranking::{Candidate, MAX_CANDIDATES, RankingPlugin, Viewer};

use crate::{Core, Error, Result, word_mutes};

/// The first window; each next one reaches as far as [`next_reach`] says, up to [`WINDOWS`]
/// bounded windows before an unbounded one.
const FIRST_WINDOW_MS: i64 = 2 * 3_600_000;
/// The shortest first window, however busy the followees: their notes may be stamped by
/// clocks a little ahead of this one.
const MIN_WINDOW_MS: i64 = 1_000;
/// The most a window grows on the one before (when it found nothing).
const WINDOW_GROWTH: i64 = 8;
/// Growth is as low as 2× only after a window found most of what was missing; from two
/// hours, eight windows reach ten days at worst before the unbounded one.
const WINDOWS: u32 = 8;

pub async fn home(core: &Core, me: &User, filter: &NoteFilter, page: &Page) -> Result<Listing> {
    let source = NoteSource::Followed {
        user_id: me.id.clone(),
        following_version: me.following_version,
    };
    let want = page.limit.clamp(1, 100) as usize;
    let mut out = Listing::default();
    if page.ascending() {
        // Oldest first after `since`: windows reach forward in time.
        let since = page.since_id.clone().unwrap_or_default();
        let Some(start) = ids::aidx_time(&since) else {
            return read(core, &source, Some(&me.id), filter, page).await;
        };
        let mut lower = since;
        let mut reach = FIRST_WINDOW_MS;
        for k in 0..=WINDOWS {
            let upper = (k < WINDOWS).then(|| ids::time_prefix(start + reach));
            let slice = Page {
                since_id: Some(lower.clone()),
                until_id: upper.clone(),
                limit: (want - out.notes.len()) as i64,
                oldest_first: true,
            };
            out.extend(read(core, &source, Some(&me.id), filter, &slice).await?);
            match upper {
                Some(u) if out.notes.len() < want => lower = u,
                _ => break,
            }
            reach = next_reach(reach, out.notes.len(), want);
        }
        return Ok(out);
    }
    // Newest first, down from `until` (or now), never below `since` if one is given.
    let top = match &page.until_id {
        None => ids::now_ms(),
        Some(until) => match ids::aidx_time(until) {
            Some(t) => t,
            None => {
                return read(core, &source, Some(&me.id), filter, page).await;
            }
        },
    };
    let mut upper = page.until_id.clone();
    let mut reach = FIRST_WINDOW_MS;
    if page.until_id.is_none() {
        // The first page: reach as far back as the followees' latest notes say it must.
        let margin = want + want / 2;
        if let Some(at) = core
            .store()
            .home_reach(&me.id, me.following_version, margin)
            .await?
        {
            reach = (top - at).max(MIN_WINDOW_MS);
        }
    }
    for k in 0..=WINDOWS {
        let mut lower = (k < WINDOWS).then(|| ids::time_prefix(top - reach));
        let mut last = lower.is_none();
        if let (Some(since), Some(l)) = (&page.since_id, &lower) {
            if l <= since {
                lower = Some(since.clone());
                last = true;
            }
        } else if lower.is_none() {
            lower = page.since_id.clone();
        }
        let slice = Page {
            since_id: lower.clone(),
            until_id: upper.clone(),
            limit: (want - out.notes.len()) as i64,
            oldest_first: false,
        };
        out.extend(read(core, &source, Some(&me.id), filter, &slice).await?);
        if out.notes.len() >= want || last {
            break;
        }
        upper = lower;
        reach = next_reach(reach, out.notes.len(), want);
    }
    Ok(out)
}

/// How far from the page's start (its top, or `since` for an oldest-first page) the next
/// window reaches, given that `reach` found `found` of the `want` notes. Nothing found:
/// eight times as far. Some found: far enough to find the rest at the rate seen so far, twice over, but at least
/// twice and at most eight times as far. A window's cost follows how many followees posted
/// since it began, so a page a few notes short reads a few more hours, not a whole day.
fn next_reach(reach: i64, found: usize, want: usize) -> i64 {
    if found == 0 {
        return reach * WINDOW_GROWTH;
    }
    let missing = want.saturating_sub(found) as i64;
    let found = found as i64;
    // reach × (1 + 2 × missing / found), in integers, clamped to [2×, 8×].
    (reach + 2 * reach / found * missing).clamp(2 * reach, WINDOW_GROWTH * reach)
}

/// Home plus local: what Misskey calls the social timeline.
pub async fn hybrid(core: &Core, me: &User, filter: &NoteFilter, page: &Page) -> Result<Listing> {
    let (home, local) = tokio::try_join!(
        home(core, me, filter, page),
        list(core, NoteSource::LocalPublic, Some(&me.id), filter, page)
    )?;
    Ok(merge(home, local, page))
}

/// Merges two pages sorted the same way into one, without duplicates.
fn merge(a: Listing, b: Listing, page: &Page) -> Listing {
    let mut referenced = a.referenced;
    referenced.extend(b.referenced);
    let mut all: Vec<Note> = a.notes.into_iter().chain(b.notes).collect();
    if page.ascending() {
        all.sort_by(|x, y| x.id.cmp(&y.id));
    } else {
        all.sort_by(|x, y| y.id.cmp(&x.id));
    }
    all.dedup_by(|x, y| x.id == y.id);
    all.truncate(page.limit.clamp(1, 100) as usize);
    Listing {
        notes: all,
        referenced,
    }
}

/// One page of any listing, as `viewer` may see it.
pub async fn list(
    core: &Core,
    source: NoteSource,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Listing> {
    read(core, &source, viewer, filter, page).await
}

/// Every listing's read: the store's, without the notes the viewer's hard-muted words hide
/// (read on past them, so pages stay full).
pub(crate) async fn read(
    core: &Core,
    source: &NoteSource,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Listing> {
    let words = match viewer {
        Some(me) => word_mutes::hard_filter(core, me).await?,
        None => None,
    };
    let store = core.store();
    Ok(match (words, viewer) {
        (Some(words), Some(me)) => {
            let keep = |n: &Note, referenced: &[Note]| {
                let renote = n
                    .renote_id
                    .as_ref()
                    .and_then(|id| referenced.iter().find(|r| &r.id == id));
                !words.hides(n, renote, me)
            };
            store
                .list_notes_where(source, viewer, filter, page, &keep)
                .await?
        }
        _ => store.list_notes(source, viewer, filter, page).await?,
    })
}

/// Candidates gathered per requested note when a ranker is assigned: a ranker that thins
/// the timeline still has enough left to fill the page.
const CANDIDATES_PER_NOTE: usize = 10;

/// A public timeline (`local`, `global`), through the ranker the admin assigned to it if
/// there is one: the host gathers candidates and their features, the plugin keeps and
/// scores them, the host sorts and cuts the page. A ranker that fails leaves the timeline
/// in chronological order. Pages read oldest-first (`sinceId` alone) stay chronological:
/// they are how clients catch up, and must not skip anything.
pub async fn ranked(
    core: &Core,
    timeline: RankedTimeline,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Listing> {
    let source = match timeline {
        RankedTimeline::Local => NoteSource::LocalPublic,
        RankedTimeline::Global => NoteSource::GlobalPublic,
    };
    let ranker = match core.plugins().registry().ranker(timeline) {
        Some(r) if !page.ascending() => r,
        _ => return list(core, source, viewer, filter, page).await,
    };
    let want = page.limit.clamp(1, 100) as usize;
    let gather = Page {
        limit: (want * CANDIDATES_PER_NOTE).min(MAX_CANDIDATES) as i64,
        ..page.clone()
    };
    let mut gathered = list(core, source, viewer, filter, &gather).await?;
    if gathered.notes.is_empty() {
        return Ok(gathered);
    }
    match rank(core, &ranker, timeline, viewer, &gathered.notes).await? {
        Ok(order) => {
            let mut slots: Vec<Option<Note>> = gathered.notes.into_iter().map(Some).collect();
            gathered.notes = order
                .into_iter()
                .filter_map(|i| slots[i].take())
                .take(want)
                .collect();
        }
        Err(e) => {
            tracing::warn!(plugin = %ranker.name, %timeline, error = %e, "ranker failed; chronological order");
            gathered.notes.truncate(want);
        }
    }
    Ok(gathered)
}

/// The order `ranker` gives `notes` (indices of those it keeps, best first), or why it
/// failed.
async fn rank(
    core: &Core,
    ranker: &Arc<RankingPlugin>,
    timeline: RankedTimeline,
    viewer: Option<&str>,
    notes: &[Note],
) -> Result<std::result::Result<Vec<usize>, String>> {
    let candidates = candidates(core, viewer, notes).await?;
    let muted_words = match viewer {
        Some(me) => word_mutes::for_plugins(&word_mutes::get(core, me).await?),
        None => Vec::new(),
    };
    let plugin_viewer = Viewer {
        id: viewer.unwrap_or_default().to_owned(),
        languages: vec![],
        muted_words,
    };
    let plugin = ranker.clone();
    let outcome = core
        .plugins()
        .funnel()
        .run(move |calls| {
            calls.call(&plugin, |p| {
                p.rank(timeline.as_str(), &plugin_viewer, &candidates)
            })
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(outcome.map_err(|e| e.to_string()))
}

/// Whether the stream of a public timeline carries `note` (just posted), given the notes
/// it carried lately, newest first. Without a ranker it carries everything. With one, it
/// carries the note when the ranker, shown it with those, keeps them all: a ranker that
/// thins the timeline (no author filling the page, say) keeps the newest of a burst and
/// drops older ones, which a client has on screen already, so the burst is thinned where it
/// starts to crowd them out, as the REST page thins it. A failing ranker leaves the
/// timeline whole, as it leaves the REST page chronological.
pub async fn streams(
    core: &Core,
    timeline: RankedTimeline,
    note: &Note,
    carried: &[Note],
) -> Result<bool> {
    let Some(ranker) = core.plugins().registry().ranker(timeline) else {
        return Ok(true);
    };
    let shown: Vec<Note> = std::iter::once(note).chain(carried).cloned().collect();
    Ok(match rank(core, &ranker, timeline, None, &shown).await? {
        Ok(kept) => kept.into_iter().collect::<HashSet<_>>().len() == shown.len(),
        Err(e) => {
            tracing::warn!(plugin = %ranker.name, %timeline, error = %e, "ranker failed; streaming whole");
            true
        }
    })
}

/// What a ranker knows about each candidate, computed here so plugins need no database.
async fn candidates(core: &Core, viewer: Option<&str>, notes: &[Note]) -> Result<Vec<Candidate>> {
    let mut authors: Vec<String> = notes.iter().map(|r| r.user_id.clone()).collect();
    authors.sort();
    authors.dedup();
    let relations = match viewer {
        Some(me) => core.store().relations(me, &authors).await?,
        None => vec![Default::default(); authors.len()],
    };
    let relation = |author: &str| {
        authors
            .binary_search_by(|a| a.as_str().cmp(author))
            .ok()
            .map(|i| &relations[i])
    };
    let count = |n: i64| n.clamp(0, u32::MAX as i64) as u32;
    Ok(notes
        .iter()
        .map(|n| {
            let rel = relation(&n.user_id);
            Candidate {
                note_id: n.id.clone(),
                author_id: n.user_id.clone(),
                created_at: n.created_at,
                visibility: n.visibility.into(),
                text: n.text.clone(),
                hashtags: n.tags.clone(),
                lang: None,
                has_media: false,
                is_renote: n.renote_id.is_some(),
                is_reply: n.reply_id.is_some(),
                // Reactions arrive with their own issue; until then there are none.
                reaction_count: 0,
                renote_count: count(n.renote_count),
                reply_count: count(n.replies_count),
                author_followed: rel.is_some_and(|r| r.is_following),
                author_follows_viewer: rel.is_some_and(|r| r.is_followed),
                extra: vec![],
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_window_follows_the_rate_found_within_two_to_eight_times() {
        let h = 3_600_000;
        // Nothing yet: eight times as far.
        assert_eq!(next_reach(2 * h, 0, 20), 16 * h);
        // Half the page: the rest at that rate, twice over (3×).
        assert_eq!(next_reach(2 * h, 10, 20), 6 * h);
        // Nearly full: still at least twice as far.
        assert_eq!(next_reach(2 * h, 18, 20), 4 * h);
        // One note in two hours: at most eight times as far.
        assert_eq!(next_reach(2 * h, 1, 20), 16 * h);
    }
}

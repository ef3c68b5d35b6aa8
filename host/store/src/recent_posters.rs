//! Who posted lately, and when (each user's last few note times), kept in memory: a window of
//! a home timeline probes only the followees who have notes in it, and the first window of a
//! page reaches only as far back as those times say the page needs.
//!
//! Why: a home timeline's window asks "notes since T by anyone I follow". Without this, the
//! database answers by reading every followee's `last_posted_at` (200 key lookups for 200
//! followees, most of whom were quiet since T), which was most of what PostgreSQL spent on a
//! home timeline. Here the same question is a hash lookup per followee, and the database
//! probes the notes of the few who posted.
//!
//! It is a cache of the database, never the authority, and errs only one way: it may know of a
//! note that is not there (deleted, or its write failed; that costs an empty probe or one more
//! window), never miss that a user posted. So:
//! - this process records each note it writes before the note is committed, so a note it wrote
//!   is never missed by a read it serves afterwards;
//! - a background task, started by the first home timeline read, loads who posted within
//!   [`HORIZON_MS`], then reads the newest notes every [`REFRESH`] for what other writers
//!   (another node sharing the database, a command run beside the server) committed, with
//!   [`SKEW_MS`] of overlap;
//! - a window starting before what the cache covers (older than [`HORIZON_MS`], or before it
//!   has loaded) is answered by the database alone, as before.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tsudoi_model::ids;

use super::{Pool, Result, with_pool};

/// How far back the cache knows who posted. A page's first window reaches back as far as
/// the page needs and the next ones a few times further, so a week covers nearly every read,
/// and it bounds memory by the users who posted in a week (about a hundred bytes each).
const HORIZON_MS: i64 = 7 * 24 * 3_600_000;

/// How often the newest notes are read for other writers' posts: a post made through another
/// node shows in this node's home timelines within about this long.
const REFRESH: Duration = Duration::from_secs(1);

/// Overlap of each refresh with the one before: a note's id carries its writer's clock when
/// the note was made, and its commit (or another node's clock) may lag that by this much.
const SKEW_MS: i64 = 10_000;

#[derive(Default)]
pub(crate) struct RecentPosters {
    state: RwLock<State>,
    started: AtomicBool,
}

impl std::fmt::Debug for RecentPosters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("RecentPosters")
            .field("complete_from", &s.complete_from)
            .field("users", &s.last.len())
            .finish()
    }
}

/// How many of each user's latest note times are kept: enough to tell that a short window of
/// a busy followee's notes holds a page (see [`RecentPosters::nth_latest`]).
const TIMES_KEPT: usize = 8;

/// A user's latest note times known here (ms), newest first; unused slots are 0.
#[derive(Clone, Copy, Default)]
struct Times([i64; TIMES_KEPT]);

impl Times {
    fn latest(&self) -> i64 {
        self.0[0]
    }

    /// Records a note at `at`, unless it is known or older than every time kept.
    fn add(&mut self, at: i64) {
        let Some(slot) = self.0.iter().position(|&t| t <= at) else {
            return;
        };
        if self.0[slot] == at {
            return;
        }
        self.0.copy_within(slot..TIMES_KEPT - 1, slot + 1);
        self.0[slot] = at;
    }

    fn known(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().copied().take_while(|&t| t > 0)
    }
}

#[derive(Default)]
struct State {
    /// Every user whose last note is at or after this time (ms) is in `last`. `None` until the
    /// first load.
    complete_from: Option<i64>,
    /// User id → their latest note times known here.
    last: HashMap<String, Times, foldhash::fast::RandomState>,
}

impl RecentPosters {
    /// `user` posted at `at` (ms).
    pub(crate) fn observe(&self, user: &str, at: i64) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        match s.last.get_mut(user) {
            Some(t) => t.add(at),
            None => {
                let mut t = Times::default();
                t.add(at);
                s.last.insert(user.to_owned(), t);
            }
        }
    }

    /// Of `users`, those who posted at or after `since` (ms); `None` when the cache does not
    /// cover that time and the database must be asked.
    pub(crate) fn posted_since<'a>(
        &self,
        users: impl IntoIterator<Item = &'a str>,
        since: i64,
    ) -> Option<Vec<String>> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        if s.complete_from? > since {
            return None;
        }
        Some(
            users
                .into_iter()
                .filter(|u| s.last.get(*u).is_some_and(|t| t.latest() >= since))
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The latest time (ms) since which `users` are known to have posted at least `n` notes
    /// between them, if that many are known: a window from there to now holds `n` notes or
    /// more (unless some were deleted since, and then the next window reads on).
    pub(crate) fn nth_latest<'a>(
        &self,
        users: impl IntoIterator<Item = &'a str>,
        n: usize,
    ) -> Option<i64> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.complete_from?;
        if n == 0 {
            return None;
        }
        // The `n` latest times seen so far, the oldest of them on top.
        let mut latest: BinaryHeap<Reverse<i64>> = BinaryHeap::with_capacity(n);
        for times in users.into_iter().filter_map(|u| s.last.get(u)) {
            for at in times.known() {
                if latest.len() < n {
                    latest.push(Reverse(at));
                    continue;
                }
                let mut oldest = latest.peek_mut().expect("holds n > 0 times");
                if at <= oldest.0 {
                    // This user's other times are older still.
                    break;
                }
                *oldest = Reverse(at);
            }
        }
        (latest.len() == n).then(|| latest.peek().expect("holds n > 0 times").0)
    }

    /// Whether the first load is done, so the cache can tell who posted lately at all.
    pub(crate) fn loaded(&self) -> bool {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.complete_from.is_some()
    }

    /// Whether a window starting at `since` (ms) is covered, before asking for followees.
    pub(crate) fn covers(&self, since: i64) -> bool {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.complete_from.is_some_and(|c| c <= since)
    }

    /// Merges `rows` read from the database, which hold everyone who posted at or after
    /// `complete_from`, and forgets what is older than the horizon at `now`.
    fn merge(&self, rows: Vec<(String, i64)>, complete_from: Option<i64>, now: i64) {
        let oldest = now - HORIZON_MS;
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        for (user, at) in rows {
            s.last.entry(user).or_default().add(at);
        }
        if let Some(c) = complete_from {
            s.complete_from = Some(s.complete_from.map_or(c, |old| old.min(c)));
        }
        if let Some(c) = s.complete_from
            && c < oldest
        {
            s.last.retain(|_, t| t.latest() >= oldest);
            s.complete_from = Some(oldest);
        }
    }
}

impl RecentPosters {
    /// Starts the task that fills the cache from `pool` and keeps it fresh, unless it runs
    /// already; it ends when the store is dropped. Started by the first home timeline read
    /// rather than with the store, so it never reads tables a migration has yet to create
    /// and commands that read no timeline start no task.
    pub(crate) fn start(self: &Arc<Self>, pool: &Pool) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let (weak, pool) = (Arc::downgrade(self), pool.clone());
        tokio::spawn(async move {
            let mut loaded_at = None;
            loop {
                if let Some(next) = refresh(&pool, &weak, loaded_at).await {
                    loaded_at = Some(next);
                }
                tokio::time::sleep(REFRESH).await;
                if weak.strong_count() == 0 || with_pool!(&pool, |p| p.is_closed()) {
                    return;
                }
            }
        });
    }
}

/// One load (the first time) or refresh; returns the time it read up to, or `None` after an
/// error (logged; the next tick tries again, and reads meanwhile fall back to the database).
async fn refresh(
    pool: &Pool,
    posters: &Weak<RecentPosters>,
    loaded_at: Option<i64>,
) -> Option<i64> {
    let now = ids::now_ms();
    let rows = match loaded_at {
        None => load_since(pool, now - HORIZON_MS).await,
        Some(at) => newest_since(pool, at - SKEW_MS).await,
    };
    match rows {
        Ok(rows) => {
            let complete_from = loaded_at.is_none().then_some(now - HORIZON_MS);
            posters.upgrade()?.merge(rows, complete_from, now);
            Some(now)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read who posted lately; home timelines ask the database meanwhile");
            loaded_at
        }
    }
}

/// Everyone whose last note is at or after `from`, from the users table.
async fn load_since(pool: &Pool, from: i64) -> Result<Vec<(String, i64)>> {
    Ok(with_pool!(pool, |p| sqlx::query_as::<_, (String, i64)>(
        "SELECT id, last_posted_at FROM users WHERE last_posted_at >= $1"
    )
    .bind(from)
    .fetch_all(p)
    .await)?)
}

/// The authors of notes whose ids are from `from` (ms) on, with their newest note's time:
/// read by the notes' primary key, which starts with the time.
async fn newest_since(pool: &Pool, from: i64) -> Result<Vec<(String, i64)>> {
    Ok(with_pool!(pool, |p| sqlx::query_as::<_, (String, i64)>(
        "SELECT user_id, MAX(created_at) FROM notes WHERE id >= $1 GROUP BY user_id"
    )
    .bind(ids::time_prefix(from))
    .fetch_all(p)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn users(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn ids(v: &[String]) -> impl Iterator<Item = &str> {
        v.iter().map(String::as_str)
    }

    #[test]
    fn unloaded_cache_sends_reads_to_the_database() {
        let p = RecentPosters::default();
        p.observe("a", 10 * H);
        assert!(!p.covers(9 * H));
        assert_eq!(p.posted_since(ids(&users(&["a"])), 9 * H), None);
    }

    #[test]
    fn answers_within_what_it_covers() {
        let p = RecentPosters::default();
        let now = 100 * H;
        p.merge(
            vec![("a".into(), now - 3 * H), ("b".into(), now - H)],
            Some(now - HORIZON_MS),
            now,
        );
        p.observe("c", now);
        let all = users(&["a", "b", "c", "d"]);
        assert_eq!(
            p.posted_since(ids(&all), now - 2 * H),
            Some(users(&["b", "c"]))
        );
        assert_eq!(
            p.posted_since(ids(&all), now - 3 * H),
            Some(users(&["a", "b", "c"]))
        );
        assert_eq!(p.posted_since(ids(&all), now - HORIZON_MS - 1), None);
    }

    #[test]
    fn keeps_the_latest_times_newest_first() {
        let mut t = Times::default();
        for at in [5, 3, 9, 3, 1, 7, 2, 8, 6, 4, 10] {
            t.add(at);
        }
        assert_eq!(t.known().collect::<Vec<_>>(), [10, 9, 8, 7, 6, 5, 4, 3]);
        t.add(1);
        assert_eq!(
            t.known().count(),
            TIMES_KEPT,
            "older than all kept: ignored"
        );
    }

    #[test]
    fn nth_latest_counts_notes_across_users() {
        let p = RecentPosters::default();
        let now = 100 * H;
        p.merge(vec![], Some(now - HORIZON_MS), now);
        for at in [now - 1, now - 2, now - 3] {
            p.observe("busy", at);
        }
        p.observe("quiet", now - 5 * H);
        let all = users(&["busy", "quiet", "unknown"]);
        assert_eq!(p.nth_latest(ids(&all), 1), Some(now - 1));
        assert_eq!(p.nth_latest(ids(&all), 3), Some(now - 3));
        assert_eq!(p.nth_latest(ids(&all), 4), Some(now - 5 * H));
        assert_eq!(
            p.nth_latest(ids(&all), 5),
            None,
            "only four notes are known"
        );
        assert_eq!(p.nth_latest(ids(&users(&["quiet"])), 1), Some(now - 5 * H));
    }

    #[test]
    fn a_time_never_moves_back() {
        let p = RecentPosters::default();
        let now = 100 * H;
        p.merge(vec![], Some(now - HORIZON_MS), now);
        p.observe("a", now);
        // A refresh overlapping an older note of the same user keeps the newer time.
        p.merge(vec![("a".into(), now - H)], None, now);
        assert_eq!(
            p.posted_since(ids(&users(&["a"])), now),
            Some(users(&["a"]))
        );
    }

    #[test]
    fn forgets_past_the_horizon_and_stops_covering_it() {
        let p = RecentPosters::default();
        let start = 1_000 * H;
        p.merge(
            vec![("old".into(), start - HORIZON_MS + H)],
            Some(start - HORIZON_MS),
            start,
        );
        let later = start + 2 * H;
        p.merge(vec![], None, later);
        assert!(!p.covers(later - HORIZON_MS - 1));
        assert_eq!(
            p.posted_since(ids(&users(&["old"])), later - HORIZON_MS),
            Some(vec![])
        );
    }
}

//! Misskey's charts of a user (`charts/user/notes`, `charts/user/following`), computed from
//! what is stored: each bucket of time counts the notes or follows made in it, and the
//! running total is today's count less what came after. Misskey keeps counters on the side
//! instead, saved every twenty minutes, whose totals start at zero when the chart does.
//!
//! Buckets are UTC hours or days, newest first (index 0 is the one still filling), as
//! Misskey's are. What was deleted is not counted: `dec` stays 0.

use tsudoi_model::ids;
use tsudoi_store::charts::{FollowBucket, FollowsOf};

use crate::{Core, Error, Result, users};

/// A chart's resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Hour,
    Day,
}

impl Span {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "hour" => Ok(Span::Hour),
            "day" => Ok(Span::Day),
            _ => Err(Error::InvalidParam {
                param: "span",
                reason: "must be `day` or `hour`".to_owned(),
            }),
        }
    }

    fn ms(self) -> i64 {
        match self {
            Span::Hour => 3_600_000,
            Span::Day => 86_400_000,
        }
    }
}

/// The buckets a chart shows: `count` of them, the newest the one holding `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    span: i64,
    /// Where the oldest bucket starts (ms), a multiple of the span: UTC hours and days.
    origin: i64,
    count: usize,
}

/// Most buckets one chart shows (Misskey's `limit` maximum).
pub const MAX_BUCKETS: usize = 500;

impl Window {
    /// `limit` buckets ending with the one that holds `offset` plus one span less a
    /// millisecond (Misskey's reading of `offset`), or now.
    pub fn new(span: Span, limit: usize, offset: Option<i64>, now: i64) -> Self {
        let span = span.ms();
        let count = limit.clamp(1, MAX_BUCKETS);
        let at = offset.map_or(now, |o| o + span - 1);
        let newest = at.div_euclid(span) * span;
        Window {
            span,
            origin: newest - (count as i64 - 1) * span,
            count,
        }
    }

    /// The newest-first index of origin-relative bucket `bucket`, if it is shown.
    fn index(&self, bucket: i64) -> Option<usize> {
        let newest = self.count as i64 - 1;
        (0..=newest)
            .contains(&bucket)
            .then(|| (newest - bucket) as usize)
    }

    fn zeros(&self) -> Vec<i64> {
        vec![0; self.count]
    }

    /// Running totals, newest first, from today's `now_total` and each bucket's increase
    /// (newest first): the total at the end of each bucket.
    fn totals(&self, now_total: i64, inc: &[i64], future: i64) -> Vec<i64> {
        let mut total = now_total - future;
        inc.iter()
            .map(|i| {
                let at_end = total.max(0);
                total -= i;
                at_end
            })
            .collect()
    }
}

/// `charts/user/notes`: each array newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesChart {
    pub total: Vec<i64>,
    pub inc: Vec<i64>,
    pub dec: Vec<i64>,
    pub normal: Vec<i64>,
    pub reply: Vec<i64>,
    pub renote: Vec<i64>,
    pub with_file: Vec<i64>,
}

pub async fn user_notes(core: &Core, user_id: &str, window: Window) -> Result<NotesChart> {
    let user = users::by_id(core, user_id).await?;
    let store = core.store();
    let since_id = ids::time_prefix(window.origin);
    let (buckets, now_total) = tokio::try_join!(
        store.note_buckets(&user.id, window.origin, window.span, &since_id),
        store.chart_note_count(&user.id)
    )?;
    let mut chart = NotesChart {
        total: Vec::new(),
        inc: window.zeros(),
        dec: window.zeros(),
        normal: window.zeros(),
        reply: window.zeros(),
        renote: window.zeros(),
        with_file: window.zeros(),
    };
    let mut future = 0;
    for b in buckets {
        let Some(i) = window.index(b.bucket) else {
            // Made after the window (an `offset` in the past).
            future += b.count;
            continue;
        };
        chart.inc[i] = b.count;
        chart.normal[i] = b.normal;
        chart.reply[i] = b.reply;
        chart.renote[i] = b.renote;
        chart.with_file[i] = b.with_file;
    }
    chart.total = window.totals(now_total, &chart.inc, future);
    Ok(chart)
}

/// One series of follows: running total, and made and ended in each bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowSeries {
    pub total: Vec<i64>,
    pub inc: Vec<i64>,
    pub dec: Vec<i64>,
}

/// `charts/user/following`: whom the user follows and who follows them, with local and
/// with remote users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowingChart {
    pub local_followings: FollowSeries,
    pub local_followers: FollowSeries,
    pub remote_followings: FollowSeries,
    pub remote_followers: FollowSeries,
}

pub async fn user_following(core: &Core, user_id: &str, window: Window) -> Result<FollowingChart> {
    let user = users::by_id(core, user_id).await?;
    let store = core.store();
    let (followings, followers, followings_now, followers_now) = tokio::try_join!(
        store.follow_buckets(&user.id, FollowsOf::Followings, window.origin, window.span),
        store.follow_buckets(&user.id, FollowsOf::Followers, window.origin, window.span),
        store.follow_totals(&user.id, FollowsOf::Followings),
        store.follow_totals(&user.id, FollowsOf::Followers),
    )?;
    let series = |buckets: &[FollowBucket], local: bool, now_total: i64| {
        let mut inc = window.zeros();
        let mut future = 0;
        for b in buckets.iter().filter(|b| b.local == local) {
            match window.index(b.bucket) {
                Some(i) => inc[i] = b.count,
                None => future += b.count,
            }
        }
        FollowSeries {
            total: window.totals(now_total, &inc, future),
            inc,
            dec: window.zeros(),
        }
    };
    Ok(FollowingChart {
        local_followings: series(&followings, true, followings_now.0),
        remote_followings: series(&followings, false, followings_now.1),
        local_followers: series(&followers, true, followers_now.0),
        remote_followers: series(&followers, false, followers_now.1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn buckets_are_utc_days_newest_first_and_totals_run_back_from_now() {
        let now = 10 * DAY + 5_000;
        let w = Window::new(Span::Day, 3, None, now);
        assert_eq!(w.origin, 8 * DAY);
        // Origin-relative bucket 2 is today, index 0.
        assert_eq!(w.index(2), Some(0));
        assert_eq!(w.index(0), Some(2));
        assert_eq!(w.index(3), None);
        // 10 notes now; 2 today, 3 yesterday: 10 at the end of today, 8 at the end of
        // yesterday, 5 the day before.
        assert_eq!(w.totals(10, &[2, 3, 0], 0), vec![10, 8, 5]);
        // An offset in the past: its day is the newest, and notes after it are not counted.
        let past = Window::new(Span::Day, 2, Some(5 * DAY), now);
        assert_eq!(past.origin, 4 * DAY);
        assert_eq!(past.totals(10, &[1, 1], 4), vec![6, 5]);
    }
}

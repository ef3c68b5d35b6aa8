//! Counts over time for Misskey's charts, read from the records themselves (notes, follows)
//! rather than from counters kept on the side: what a chart shows is what is stored.

use super::{Result, Store, with_pool};

/// Notes a user posted in one bucket of time, by kind (the kinds overlap, as Misskey's do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct NoteBucket {
    /// The bucket's index: `(created_at - origin) / span`.
    pub bucket: i64,
    pub count: i64,
    pub normal: i64,
    pub reply: i64,
    pub renote: i64,
    pub with_file: i64,
}

/// Follows made in one bucket of time with local or remote users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowBucket {
    pub bucket: i64,
    pub local: bool,
    pub count: i64,
}

/// Which side of a user's follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowsOf {
    /// Whom the user follows.
    Followings,
    /// Who follows the user.
    Followers,
}

impl FollowsOf {
    /// The column naming the user, and the one naming the other party.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            FollowsOf::Followings => ("follower_id", "followee_id"),
            FollowsOf::Followers => ("followee_id", "follower_id"),
        }
    }
}

impl Store {
    /// `user_id`'s notes made since `origin` (ms) counted in buckets of `span` ms (direct
    /// notes left out: they are nobody else's business). `since_id` is the smallest id of
    /// that time, so the read walks the user's notes index.
    pub async fn note_buckets(
        &self,
        user_id: &str,
        origin: i64,
        span: i64,
        since_id: &str,
    ) -> Result<Vec<NoteBucket>> {
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_as::<_, NoteBucket>(
                "SELECT (created_at - $2) / $3 AS bucket, COUNT(*) AS count, \
               SUM(CASE WHEN reply_id IS NULL AND renote_id IS NULL THEN 1 ELSE 0 END) AS normal, \
               SUM(CASE WHEN reply_id IS NOT NULL THEN 1 ELSE 0 END) AS reply, \
               SUM(CASE WHEN renote_id IS NOT NULL THEN 1 ELSE 0 END) AS renote, \
               SUM(CASE WHEN file_ids <> '[]' THEN 1 ELSE 0 END) AS with_file \
             FROM notes WHERE user_id = $1 AND id >= $4 AND created_at >= $2 \
               AND visibility <> 'specified' \
             GROUP BY 1",
            )
            .bind(user_id)
            .bind(origin)
            .bind(span)
            .bind(since_id)
            .fetch_all(p)
            .await
        })?)
    }

    /// How many notes `user_id` has (direct ones left out), for a chart's running total.
    pub async fn chart_note_count(&self, user_id: &str) -> Result<i64> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM notes WHERE user_id = $1 AND visibility <> 'specified'"
        )
        .bind(user_id)
        .fetch_one(p)
        .await)?)
    }

    /// `user_id`'s follows (`side`) made since `origin` (ms), counted in buckets of `span`
    /// ms, apart for local and remote counterparts.
    pub async fn follow_buckets(
        &self,
        user_id: &str,
        side: FollowsOf,
        origin: i64,
        span: i64,
    ) -> Result<Vec<FollowBucket>> {
        let (me, other) = side.columns();
        let sql = format!(
            "SELECT (f.created_at - $2) / $3 AS bucket, (u.host IS NULL) AS local, COUNT(*) AS count \
             FROM follows f JOIN users u ON u.id = f.{other} \
             WHERE f.{me} = $1 AND f.created_at >= $2 \
             GROUP BY 1, 2"
        );
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_as::<_, FollowBucket>(&sql)
                .bind(user_id)
                .bind(origin)
                .bind(span)
                .fetch_all(p)
                .await
        })?)
    }

    /// How many follows `user_id` has (`side`) with local and with remote users.
    pub async fn follow_totals(&self, user_id: &str, side: FollowsOf) -> Result<(i64, i64)> {
        let (me, other) = side.columns();
        let sql = format!(
            "SELECT COALESCE(SUM(CASE WHEN u.host IS NULL THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN u.host IS NULL THEN 0 ELSE 1 END), 0) \
             FROM follows f JOIN users u ON u.id = f.{other} WHERE f.{me} = $1"
        );
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_as::<_, (i64, i64)>(&sql)
                .bind(user_id)
                .fetch_one(p)
                .await
        })?)
    }
}

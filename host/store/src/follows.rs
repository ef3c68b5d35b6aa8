//! Follow relations and follow requests. Counters on `users` change in the same transaction as
//! the relation, so they never drift.

use tsudoi_model::{Exclusions, Follow, FollowSide, Job, Notification, Relation, ids};

use super::jobs::insert_jobs;
use super::notifications::insert_notifications;
use super::{Result, Store, placeholders, with_pool};

#[derive(sqlx::FromRow)]
struct FollowRow {
    id: String,
    follower_id: String,
    followee_id: String,
    created_at: i64,
}

impl From<FollowRow> for Follow {
    fn from(r: FollowRow) -> Self {
        Follow {
            id: r.id,
            follower_id: r.follower_id,
            followee_id: r.followee_id,
            created_at: r.created_at,
        }
    }
}

/// Moves the follower's `following_count` and the followee's `followers_count` by `$3`, in
/// the same transaction as the relation itself so the counters never drift, and the
/// follower's `following_version` on, so copies of their followees held in memory are dropped.
/// Callers hold a [`super::token_owners::Changing`] guard for both users.
pub(super) const ADJUST_COUNTS: &str = "UPDATE users SET \
    following_count = following_count + CASE WHEN id = $1 THEN $3 ELSE 0 END, \
    following_version = following_version + CASE WHEN id = $1 THEN 1 ELSE 0 END, \
    followers_count = followers_count + CASE WHEN id = $2 THEN $3 ELSE 0 END, \
    remote_followers_count = remote_followers_count + CASE WHEN id = $2 AND \
        (SELECT f.host FROM users f WHERE f.id = $1) IS NOT NULL THEN $3 ELSE 0 END \
    WHERE id IN ($1, $2)";

/// Ends `$follower`'s follow of `$followee` inside transaction `$tx`, with the counters;
/// evaluates to whether there was one. Callers hold a [`super::token_owners::Changing`] guard
/// for both users.
macro_rules! end_follow {
    ($tx:expr, $follower:expr, $followee:expr) => {{
        let ended = sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
            .bind($follower)
            .bind($followee)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            > 0;
        if ended {
            sqlx::query($crate::follows::ADJUST_COUNTS)
                .bind($follower)
                .bind($followee)
                .bind(-1i64)
                .execute(&mut *$tx)
                .await?;
        }
        ended
    }};
}
pub(crate) use end_follow;

impl Store {
    /// Makes `follower` follow `followee`, enqueues `jobs` and adds `notifications` with it.
    /// Returns false (writing nothing) if it already did.
    pub async fn follow(
        &self,
        id: &str,
        follower: &str,
        followee: &str,
        now: i64,
        jobs: &[Job],
        notifications: &[Notification],
    ) -> Result<bool> {
        let _change = self.token_owners.changing(&[follower, followee]);
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO follows (id, follower_id, followee_id, created_at, follower_host) \
                 VALUES ($1, $2, $3, $4, (SELECT host FROM users WHERE id = $2)) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(follower)
            .bind(followee)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM follow_requests WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower)
                .bind(followee)
                .execute(&mut *tx)
                .await?;
            sqlx::query(ADJUST_COUNTS)
                .bind(follower)
                .bind(followee)
                .bind(1i64)
                .execute(&mut *tx)
                .await?;
            insert_jobs!(tx, jobs, now);
            insert_notifications!(tx, notifications);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// Ends a follow and enqueues `jobs`. Returns false (enqueueing nothing) if there was none.
    pub async fn unfollow(
        &self,
        follower: &str,
        followee: &str,
        now: i64,
        jobs: &[Job],
    ) -> Result<bool> {
        let _change = self.token_owners.changing(&[follower, followee]);
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if !end_follow!(tx, follower, followee) {
                return Ok(false);
            }
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// The relations between `me` and each of `others`, in the same order.
    pub async fn relations(&self, me: &str, others: &[String]) -> Result<Vec<Relation>> {
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(2, others.len());
        let sql = format!(
            "SELECT 'following', followee_id FROM follows WHERE follower_id = $1 AND followee_id IN ({list}) \
             UNION ALL SELECT 'followed', follower_id FROM follows WHERE followee_id = $1 AND follower_id IN ({list}) \
             UNION ALL SELECT 'req_out', followee_id FROM follow_requests WHERE follower_id = $1 AND followee_id IN ({list}) \
             UNION ALL SELECT 'req_in', follower_id FROM follow_requests WHERE followee_id = $1 AND follower_id IN ({list}) \
             UNION ALL SELECT 'blocking', blockee_id FROM blockings WHERE blocker_id = $1 AND blockee_id IN ({list}) \
             UNION ALL SELECT 'blocked', blocker_id FROM blockings WHERE blockee_id = $1 AND blocker_id IN ({list}) \
             UNION ALL SELECT 'muted', mutee_id FROM mutings WHERE muter_id = $1 AND mutee_id IN ({list}) \
               AND (expires_at IS NULL OR expires_at > ${now}) \
             UNION ALL SELECT 'renote_muted', mutee_id FROM renote_mutings WHERE muter_id = $1 AND mutee_id IN ({list})",
            now = others.len() + 2
        );
        let rows: Vec<(String, String)> = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(me);
            for o in others {
                q = q.bind(o);
            }
            q.bind(ids::now_ms()).fetch_all(p).await
        })?;
        Ok(others
            .iter()
            .map(|o| {
                let has = |kind: &str| rows.iter().any(|(k, id)| k == kind && id == o);
                Relation {
                    is_following: has("following"),
                    is_followed: has("followed"),
                    has_pending_follow_request_from_you: has("req_out"),
                    has_pending_follow_request_to_you: has("req_in"),
                    is_blocking: has("blocking"),
                    is_blocked: has("blocked"),
                    is_muted: has("muted"),
                    is_renote_muted: has("renote_muted"),
                }
            })
            .collect())
    }

    /// Of `candidates`, the ones `me` follows.
    pub async fn followed_among(&self, me: &str, candidates: &[String]) -> Result<Vec<String>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id IN ({})",
            placeholders(2, candidates.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(me);
            for c in candidates {
                q = q.bind(c);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Whom `user_id` follows, and whose notes they are not shown: what a streaming
    /// connection of theirs keeps at hand to decide note by note (one round trip).
    pub async fn stream_relations(&self, user_id: &str) -> Result<(Vec<String>, Exclusions)> {
        let rows: Vec<(String, String, Option<i64>)> = with_pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT 'following', followee_id, CAST(NULL AS BIGINT) FROM follows WHERE follower_id = $1 \
             UNION ALL SELECT 'blocked', blocker_id, NULL FROM blockings WHERE blockee_id = $1 \
             UNION ALL SELECT 'blocked', blockee_id, NULL FROM blockings WHERE blocker_id = $1 \
             UNION ALL SELECT 'muted', mutee_id, expires_at FROM mutings WHERE muter_id = $1 \
             UNION ALL SELECT 'renote_muted', mutee_id, NULL FROM renote_mutings WHERE muter_id = $1"
        )
        .bind(user_id)
        .fetch_all(p)
        .await
        })?;
        let mut following = Vec::new();
        let mut ex = Exclusions::default();
        for (kind, id, until) in rows {
            match kind.as_str() {
                "following" => following.push(id),
                "blocked" => {
                    ex.blocked.insert(id);
                }
                "muted" => {
                    ex.muted.insert(id, until);
                }
                _ => {
                    ex.renote_muted.insert(id);
                }
            }
        }
        Ok((following, ex))
    }

    /// A page of a user's followers or followees, newest relation first.
    pub async fn follows_page(
        &self,
        user_id: &str,
        side: FollowSide,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Follow>> {
        self.relation_page("follows", user_id, side, since_id, until_id, limit)
            .await
    }

    /// A page of follow requests: received (`Followers` side) or sent (`Following` side).
    pub async fn follow_requests_page(
        &self,
        user_id: &str,
        side: FollowSide,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Follow>> {
        self.relation_page("follow_requests", user_id, side, since_id, until_id, limit)
            .await
    }

    async fn relation_page(
        &self,
        table: &str,
        user_id: &str,
        side: FollowSide,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Follow>> {
        let column = match side {
            FollowSide::Followers => "followee_id",
            FollowSide::Following => "follower_id",
        };
        Ok(self
            .page_by_id::<FollowRow>(
                table,
                "id, follower_id, followee_id, created_at",
                column,
                user_id,
                since_id,
                until_id,
                limit,
            )
            .await?
            .into_iter()
            .map(Follow::from)
            .collect())
    }

    /// A page by id of the rows of a relation table (follows, follow requests, blocks) whose
    /// `column` is `user_id`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn page_by_id<R>(
        &self,
        table: &str,
        columns: &str,
        column: &str,
        user_id: &str,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<R>>
    where
        R: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        // With only `sinceId`, Misskey returns the oldest matching page, ascending.
        let order = if since_id.is_some() && until_id.is_none() {
            "ASC"
        } else {
            "DESC"
        };
        let sql = format!(
            "SELECT {columns} FROM {table} \
             WHERE {column} = $1 AND id > $2 AND id < $3 ORDER BY id {order} LIMIT $4"
        );
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, R>(&sql)
            .bind(user_id)
            .bind(since_id.unwrap_or(""))
            .bind(until_id.unwrap_or("~"))
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// Records a follow request (from the remote Follow `activity_id`, if it came from
    /// another server), enqueues `jobs` and adds `notifications`. Returns false, writing
    /// nothing, if one is already pending.
    pub async fn create_follow_request(
        &self,
        request: &Follow,
        activity_id: Option<&str>,
        jobs: &[Job],
        notifications: &[Notification],
    ) -> Result<bool> {
        let now = request.created_at;
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO follow_requests (id, follower_id, followee_id, created_at, activity_id) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&request.id)
            .bind(&request.follower_id)
            .bind(&request.followee_id)
            .bind(now)
            .bind(activity_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }
            insert_jobs!(tx, jobs, now);
            insert_notifications!(tx, notifications);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// Removes a pending request (cancel or reject) and enqueues `jobs`. Returns false,
    /// enqueueing nothing, if there was none.
    pub async fn delete_follow_request(
        &self,
        follower: &str,
        followee: &str,
        now: i64,
        jobs: &[Job],
    ) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let deleted = sqlx::query(
                "DELETE FROM follow_requests WHERE follower_id = $1 AND followee_id = $2",
            )
            .bind(follower)
            .bind(followee)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if deleted == 0 {
                return Ok(false);
            }
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    pub async fn has_follow_request(&self, follower: &str, followee: &str) -> Result<bool> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM follow_requests WHERE follower_id = $1 AND followee_id = $2"
        )
        .bind(follower)
        .bind(followee)
        .fetch_one(p)
        .await)?
            > 0)
    }
}

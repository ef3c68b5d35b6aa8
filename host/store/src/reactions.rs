//! Reactions to notes: one per user per note, with the note's `reaction_count` kept in the
//! same transaction.

use tsudoi_model::{Job, Notification, Page, Reaction};

use super::jobs::insert_jobs;
use super::notifications::insert_notifications;
use super::{Result, Store, StoreError, placeholders, with_pool};

#[derive(Debug, sqlx::FromRow)]
struct ReactionRow {
    id: String,
    note_id: String,
    user_id: String,
    reaction: String,
    uri: Option<String>,
    created_at: i64,
}

impl From<ReactionRow> for Reaction {
    fn from(r: ReactionRow) -> Self {
        Reaction {
            id: r.id,
            note_id: r.note_id,
            user_id: r.user_id,
            reaction: r.reaction,
            uri: r.uri,
            created_at: r.created_at,
        }
    }
}

/// How many users reacted to a note with one reaction, and whether the viewer is one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionTally {
    pub note_id: String,
    pub reaction: String,
    pub count: i64,
    pub by_viewer: bool,
}

impl Store {
    /// `user_id`'s reaction to `note_id`, if any.
    pub async fn reaction_of(&self, note_id: &str, user_id: &str) -> Result<Option<Reaction>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, ReactionRow>(
            "SELECT id, note_id, user_id, reaction, uri, created_at FROM note_reactions \
             WHERE note_id = $1 AND user_id = $2"
        )
        .bind(note_id)
        .bind(user_id)
        .fetch_optional(p)
        .await)?
        .map(Reaction::from))
    }

    pub async fn reaction_by_id(&self, id: &str) -> Result<Option<Reaction>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, ReactionRow>(
            "SELECT id, note_id, user_id, reaction, uri, created_at FROM note_reactions WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?
        .map(Reaction::from))
    }

    /// Every reaction `user_id` gave.
    pub async fn reactions_by(&self, user_id: &str) -> Result<Vec<Reaction>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, ReactionRow>(
            "SELECT id, note_id, user_id, reaction, uri, created_at FROM note_reactions \
             WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_all(p)
        .await)?
        .into_iter()
        .map(Reaction::from)
        .collect())
    }

    /// Records `reaction`, replacing `replacing` (the user's earlier reaction to the note, as
    /// the caller read it), enqueues `jobs` and adds `notifications`. Refused as a conflict, with nothing written,
    /// when the user's reaction is no longer what the caller read: a concurrent change won.
    pub async fn react(
        &self,
        reaction: &Reaction,
        replacing: Option<&Reaction>,
        jobs: &[Job],
        notifications: &[Notification],
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if let Some(old) = replacing {
                let gone = sqlx::query("DELETE FROM note_reactions WHERE id = $1")
                    .bind(&old.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if gone != 1 {
                    return Err(StoreError::Conflict("the reaction changed meanwhile"));
                }
            }
            let inserted = sqlx::query(
                "INSERT INTO note_reactions (id, note_id, user_id, reaction, uri, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (note_id, user_id) DO NOTHING",
            )
            .bind(&reaction.id)
            .bind(&reaction.note_id)
            .bind(&reaction.user_id)
            .bind(&reaction.reaction)
            .bind(&reaction.uri)
            .bind(reaction.created_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted != 1 {
                return Err(StoreError::Conflict("already reacted"));
            }
            if replacing.is_none() {
                sqlx::query("UPDATE notes SET reaction_count = reaction_count + 1 WHERE id = $1")
                    .bind(&reaction.note_id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_jobs!(tx, jobs, reaction.created_at);
            insert_notifications!(tx, notifications);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Removes `reaction` and enqueues `jobs`; `false` (nothing written) if it was already
    /// gone.
    pub async fn unreact(&self, reaction: &Reaction, jobs: &[Job], now: i64) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let gone = sqlx::query("DELETE FROM note_reactions WHERE id = $1")
                .bind(&reaction.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone != 1 {
                return Ok(false);
            }
            sqlx::query(
                "UPDATE notes SET reaction_count = reaction_count - 1 \
                 WHERE id = $1 AND reaction_count > 0",
            )
            .bind(&reaction.note_id)
            .execute(&mut *tx)
            .await?;
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        })
    }

    /// A page of the reactions to `note_id` (only `only` when given), newest first unless
    /// the page asks for the oldest.
    pub async fn reactions_page(
        &self,
        note_id: &str,
        only: Option<&str>,
        page: &Page,
    ) -> Result<Vec<Reaction>> {
        let order = if page.ascending() { "ASC" } else { "DESC" };
        let filter = if only.is_some() {
            "AND reaction = $5"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, note_id, user_id, reaction, uri, created_at FROM note_reactions \
             WHERE note_id = $1 AND id > $2 AND id < $3 {filter} ORDER BY id {order} LIMIT $4"
        );
        let rows = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, ReactionRow>(&sql)
                .bind(note_id)
                .bind(page.since_id.as_deref().unwrap_or(""))
                .bind(page.until_id.as_deref().unwrap_or("~"))
                .bind(page.limit);
            if let Some(only) = only {
                q = q.bind(only);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(Reaction::from).collect())
    }

    /// The reactions to each of `note_ids`, counted per reaction, with whether `viewer` gave
    /// each, in one query.
    pub async fn reaction_tallies(
        &self,
        note_ids: &[String],
        viewer: Option<&str>,
    ) -> Result<Vec<ReactionTally>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, reaction, COUNT(*), \
             CAST(SUM(CASE WHEN user_id = $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM note_reactions WHERE note_id IN ({}) GROUP BY note_id, reaction",
            placeholders(2, note_ids.len())
        );
        let rows: Vec<(String, String, i64, i64)> = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, String, i64, i64)>(&sql).bind(viewer);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(note_id, reaction, count, mine)| ReactionTally {
                note_id,
                reaction,
                count,
                by_viewer: mine > 0,
            })
            .collect())
    }
}

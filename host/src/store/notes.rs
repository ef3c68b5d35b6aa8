//! Notes, their mentions and audiences, polls and votes.

use tokio::sync::oneshot;

use super::{Result, Store, StoreError, placeholders, with_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub id: String,
    pub user_id: String,
    pub user_host: Option<String>,
    pub text: Option<String>,
    pub cw: Option<String>,
    pub visibility: String,
    pub local_only: bool,
    pub reply_id: Option<String>,
    pub reply_user_id: Option<String>,
    pub renote_id: Option<String>,
    pub renote_user_id: Option<String>,
    pub has_poll: bool,
    /// JSON array of hashtags (without `#`), lower-cased.
    pub tags: String,
    pub replies_count: i64,
    pub renote_count: i64,
    pub uri: Option<String>,
    pub url: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

pub(crate) const NOTE_COLUMNS: &str = "n.id, n.user_id, n.user_host, n.text, n.cw, n.visibility, \
    n.local_only, n.reply_id, n.reply_user_id, n.renote_id, n.renote_user_id, n.has_poll, n.tags, \
    n.replies_count, n.renote_count, n.uri, n.url, n.created_at, n.updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PollRow {
    pub note_id: String,
    /// JSON array of choice texts.
    pub choices: String,
    pub multiple: bool,
    pub expires_at: Option<i64>,
}

/// A note to insert, with everything derived from it.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub row: NoteRow,
    pub mentioned_ids: Vec<String>,
    pub visible_user_ids: Vec<String>,
    pub poll: Option<PollRow>,
}

impl Store {
    /// Inserts a note with its mentions, audience and poll and bumps the counters it affects,
    /// atomically (see [`super::note_writer`]).
    pub async fn insert_note(&self, note: &NewNote) -> Result<()> {
        let stopped = || StoreError::Batch("the note writer has stopped".into());
        let (reply, outcome) = oneshot::channel();
        self.note_writer
            .send((note.clone(), reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    pub async fn note_by_id(&self, id: &str) -> Result<Option<NoteRow>> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = $1");
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, NoteRow>(
            &sql
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Notes for `ids`, in no particular order; missing ids are skipped.
    pub async fn notes_by_ids(&self, ids: &[String]) -> Result<Vec<NoteRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id IN ({})",
            placeholders(1, ids.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, NoteRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// `(note_id, user_id)` pairs from `note_mentions` or `note_visible_users` for `note_ids`.
    pub async fn note_audiences(
        &self,
        note_ids: &[String],
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
        if note_ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let list = placeholders(1, note_ids.len());
        let sql = format!(
            "SELECT 'm', note_id, user_id FROM note_mentions WHERE note_id IN ({list}) \
             UNION ALL SELECT 'v', note_id, user_id FROM note_visible_users WHERE note_id IN ({list})"
        );
        let rows: Vec<(String, String, String)> = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        let mut mentions = Vec::new();
        let mut visible = Vec::new();
        for (kind, note, user) in rows {
            if kind == "m" {
                mentions.push((note, user));
            } else {
                visible.push((note, user));
            }
        }
        Ok((mentions, visible))
    }

    /// Deletes a note (its replies and renotes go with it) and undoes the counters it bumped.
    pub async fn delete_note(&self, note: &NoteRow) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let deleted = sqlx::query("DELETE FROM notes WHERE id = $1")
                .bind(&note.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 1 {
                sqlx::query("UPDATE users SET notes_count = notes_count - 1 WHERE id = $1 AND notes_count > 0")
                    .bind(&note.user_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(reply) = &note.reply_id {
                    sqlx::query("UPDATE notes SET replies_count = replies_count - 1 WHERE id = $1 AND replies_count > 0")
                        .bind(reply)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(renote) = &note.renote_id {
                    sqlx::query("UPDATE notes SET renote_count = renote_count - 1 WHERE id = $1 AND renote_count > 0")
                        .bind(renote)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// `user_id`'s pure renotes of `note_id` (what `notes/unrenote` removes).
    pub async fn pure_renotes_by(&self, user_id: &str, note_id: &str) -> Result<Vec<NoteRow>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.renote_id = $1 AND n.user_id = $2 \
             AND n.text IS NULL AND n.cw IS NULL AND NOT n.has_poll"
        );
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, NoteRow>(
            &sql
        )
        .bind(note_id)
        .bind(user_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn polls_by_note_ids(&self, note_ids: &[String]) -> Result<Vec<PollRow>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, choices, multiple, expires_at FROM polls WHERE note_id IN ({})",
            placeholders(1, note_ids.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, PollRow>(&sql);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Vote counts `(note_id, choice, votes)` for polls on `note_ids`.
    pub async fn poll_tallies(&self, note_ids: &[String]) -> Result<Vec<(String, i64, i64)>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, choice, COUNT(*) FROM poll_votes WHERE note_id IN ({}) GROUP BY note_id, choice",
            placeholders(1, note_ids.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, i64, i64)>(&sql);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// The choices `user_id` voted for, as `(note_id, choice)`, among polls on `note_ids`.
    pub async fn poll_votes_of(
        &self,
        user_id: &str,
        note_ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, choice FROM poll_votes WHERE user_id = $1 AND note_id IN ({})",
            placeholders(2, note_ids.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, i64)>(&sql).bind(user_id);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Records a vote. With `multiple == false` a second vote on the same poll is refused
    /// inside the transaction, so two concurrent requests cannot both win.
    pub async fn vote(
        &self,
        id: &str,
        note_id: &str,
        user_id: &str,
        choice: i64,
        multiple: bool,
        now: i64,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let existing: Vec<i64> = sqlx::query_scalar(
                "SELECT choice FROM poll_votes WHERE note_id = $1 AND user_id = $2",
            )
            .bind(note_id)
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
            if existing.contains(&choice) {
                return Err(StoreError::Conflict("already voted for this choice"));
            }
            if !multiple && !existing.is_empty() {
                return Err(StoreError::Conflict("already voted"));
            }
            sqlx::query(
                "INSERT INTO poll_votes (id, note_id, user_id, choice, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(note_id)
            .bind(user_id)
            .bind(choice)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

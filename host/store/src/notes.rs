//! Notes, their mentions and audiences, polls and votes.

use tokio::sync::oneshot;
use tsudoi_model::{ChoiceTally, Job, Note, Notification, NotificationKind, Poll};

use super::jobs::insert_jobs;
use super::notifications::insert_notifications;
use super::{Backend, Result, Store, StoreError, from_json, from_name, placeholders, with_pool};

/// A `notes` row as SQL returns it; [`NoteRow::decode`] makes it a [`Note`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NoteRow {
    id: String,
    user_id: String,
    user_host: Option<String>,
    text: Option<String>,
    cw: Option<String>,
    visibility: String,
    local_only: bool,
    reply_id: Option<String>,
    reply_user_id: Option<String>,
    renote_id: Option<String>,
    renote_user_id: Option<String>,
    has_poll: bool,
    reaction_acceptance: Option<String>,
    reaction_count: i64,
    emojis: String,
    tags: String,
    mentions: String,
    visible_user_ids: String,
    file_ids: String,
    replies_count: i64,
    renote_count: i64,
    uri: Option<String>,
    url: Option<String>,
    created_at: i64,
    updated_at: Option<i64>,
}

impl NoteRow {
    pub(crate) fn decode(self) -> Result<Note> {
        Ok(Note {
            visibility: from_name("notes.visibility", &self.visibility)?,
            tags: from_json("notes.tags", &self.tags)?,
            emojis: from_json("notes.emojis", &self.emojis)?,
            reaction_acceptance: self
                .reaction_acceptance
                .map(|a| from_name("notes.reaction_acceptance", &a))
                .transpose()?,
            reaction_count: self.reaction_count,
            mentions: from_json("notes.mentions", &self.mentions)?,
            visible_user_ids: from_json("notes.visible_user_ids", &self.visible_user_ids)?,
            file_ids: from_json("notes.file_ids", &self.file_ids)?,
            id: self.id,
            user_id: self.user_id,
            user_host: self.user_host,
            text: self.text,
            cw: self.cw,
            local_only: self.local_only,
            reply_id: self.reply_id,
            reply_user_id: self.reply_user_id,
            renote_id: self.renote_id,
            renote_user_id: self.renote_user_id,
            has_poll: self.has_poll,
            replies_count: self.replies_count,
            renote_count: self.renote_count,
            uri: self.uri,
            url: self.url,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Decodes rows into notes; one corrupt row fails the whole read.
fn decode_notes(rows: Vec<NoteRow>) -> Result<Vec<Note>> {
    rows.into_iter().map(NoteRow::decode).collect()
}

pub(crate) const NOTE_COLUMNS: &str = "n.id, n.user_id, n.user_host, n.text, n.cw, n.visibility, \
    n.local_only, n.reply_id, n.reply_user_id, n.renote_id, n.renote_user_id, n.has_poll, \
    n.reaction_acceptance, n.reaction_count, n.emojis, n.tags, n.mentions, n.visible_user_ids, \
    n.file_ids, n.replies_count, n.renote_count, n.uri, n.url, n.created_at, n.updated_at";

#[derive(Debug, sqlx::FromRow)]
struct PollRow {
    note_id: String,
    choices: String,
    multiple: bool,
    expires_at: Option<i64>,
    counts: Option<String>,
}

impl PollRow {
    fn decode(self) -> Result<Poll> {
        Ok(Poll {
            choices: from_json("polls.choices", &self.choices)?,
            note_id: self.note_id,
            multiple: self.multiple,
            expires_at: self.expires_at,
            counts: self
                .counts
                .map(|c| from_json("polls.counts", &c))
                .transpose()?,
        })
    }
}

/// A note to insert with its poll. Its mentions and addressees are written to the note and to
/// the tables the visibility rule looks them up in.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub note: Note,
    pub poll: Option<Poll>,
    /// Work the note causes (delivering it to other servers), enqueued in its transaction.
    pub jobs: Vec<Job>,
    /// Who hears of it (the mentioned, the replied to, the renoted), in its transaction.
    pub notifications: Vec<Notification>,
}

impl Store {
    /// Claims up to `limit` polls that ended by `now` and were not announced yet, and in the
    /// same transaction tells their author and everyone who voted (`pollEnded`; the store
    /// keeps those for local users). On PostgreSQL each node claims different polls
    /// (`SKIP LOCKED`). Returns what was told, for the streams.
    pub async fn announce_ended_polls(&self, now: i64, limit: i64) -> Result<Vec<Notification>> {
        let claim = format!(
            "SELECT p.note_id, n.user_id FROM polls p JOIN notes n ON n.id = p.note_id \
             WHERE p.expires_at IS NOT NULL AND p.expires_at <= $1 AND NOT p.ended_notified \
             ORDER BY p.expires_at LIMIT $2{}",
            match self.backend() {
                Backend::Postgres => " FOR UPDATE OF p SKIP LOCKED",
                Backend::Sqlite => "",
            }
        );
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let due: Vec<(String, String)> = sqlx::query_as(&claim)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let mut told = Vec::new();
            for (note_id, author_id) in due {
                sqlx::query("UPDATE polls SET ended_notified = TRUE WHERE note_id = $1")
                    .bind(&note_id)
                    .execute(&mut *tx)
                    .await?;
                let mut people: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT user_id FROM poll_votes WHERE note_id = $1",
                )
                .bind(&note_id)
                .fetch_all(&mut *tx)
                .await?;
                if !people.contains(&author_id) {
                    people.push(author_id);
                }
                for notifiee_id in people {
                    let mut ended =
                        Notification::new(NotificationKind::PollEnded, &notifiee_id, None, now);
                    ended.note_id = Some(note_id.clone());
                    told.push(ended);
                }
            }
            insert_notifications!(tx, &told);
            tx.commit().await?;
            Ok::<_, StoreError>(told)
        })
    }

    /// Inserts a note with its mentions, audience and poll and bumps the counters it affects,
    /// atomically (see [`super::note_writer`]).
    pub async fn insert_note(&self, note: &NewNote) -> Result<()> {
        let stopped = || StoreError::Batch("the note writer has stopped".into());
        let (reply, outcome) = oneshot::channel();
        // Before the commit, so no read can see the note without the cache knowing its author.
        self.recent_posters
            .observe(&note.note.user_id, note.note.created_at);
        self.note_writer
            .send((note.clone(), reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    pub async fn note_by_id(&self, id: &str) -> Result<Option<Note>> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = $1");
        with_pool!(&self.read, |p| sqlx::query_as::<_, NoteRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .map(NoteRow::decode)
        .transpose()
    }

    /// The note whose ActivityPub id is `uri` (a remote note, stored once).
    pub async fn note_by_uri(&self, uri: &str) -> Result<Option<Note>> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.uri = $1");
        with_pool!(&self.read, |p| sqlx::query_as::<_, NoteRow>(&sql)
            .bind(uri)
            .fetch_optional(p)
            .await)?
        .map(NoteRow::decode)
        .transpose()
    }

    /// Replaces the text, CW, hashtags and custom emoji of note `id` (an edit its remote author's server
    /// sent), marking when.
    pub async fn edit_note(
        &self,
        id: &str,
        text: Option<&str>,
        cw: Option<&str>,
        tags: &[String],
        emojis: &[String],
        at: i64,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE notes SET text = $2, cw = $3, tags = $4, emojis = $5, updated_at = $6 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(text)
            .bind(cw)
            .bind(super::to_json(tags))
            .bind(super::to_json(emojis))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM note_tags WHERE note_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for tag in tags {
                sqlx::query(
                    "INSERT INTO note_tags (tag, note_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(tag)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Notes for `ids`, in no particular order; missing ids are skipped.
    pub async fn notes_by_ids(&self, ids: &[String]) -> Result<Vec<Note>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id IN ({})",
            placeholders(1, ids.len())
        );
        decode_notes(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, NoteRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Deletes a note (its replies and renotes go with it), undoes the counters it bumped and
    /// enqueues `jobs` if it was there to delete.
    pub async fn delete_note(&self, note: &Note, jobs: &[Job]) -> Result<()> {
        let _change = self.token_owners.changing(&[note.user_id.as_str()]);
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
                insert_jobs!(tx, jobs, tsudoi_model::ids::now_ms());
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// `user_id`'s pure renotes of `note_id` (what `notes/unrenote` removes).
    pub async fn pure_renotes_by(&self, user_id: &str, note_id: &str) -> Result<Vec<Note>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.renote_id = $1 AND n.user_id = $2 AND {}",
            super::visibility::pure_renote("n")
        );
        decode_notes(with_pool!(&self.read, |p| sqlx::query_as::<_, NoteRow>(
            &sql
        )
        .bind(note_id)
        .bind(user_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn polls_by_note_ids(&self, note_ids: &[String]) -> Result<Vec<Poll>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, choices, multiple, expires_at, counts FROM polls WHERE note_id IN ({})",
            placeholders(1, note_ids.len())
        );
        with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, PollRow>(&sql);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?
        .into_iter()
        .map(PollRow::decode)
        .collect()
    }

    /// Replaces what a remote poll's server reports: the votes per choice, and when it ends.
    pub async fn set_poll_counts(
        &self,
        note_id: &str,
        counts: &[i64],
        expires_at: Option<i64>,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "UPDATE polls SET counts = $2, expires_at = $3 WHERE note_id = $1 AND counts IS NOT NULL"
        )
        .bind(note_id)
        .bind(super::to_json(counts))
        .bind(expires_at)
        .execute(p)
        .await
        .map(drop)
        })?;
        Ok(())
    }

    /// The votes on each choice of the polls on `note_ids`, as `(note_id, choice, tally)`,
    /// with whether `viewer` cast one of them, in one query.
    pub async fn poll_tallies(
        &self,
        note_ids: &[String],
        viewer: Option<&str>,
    ) -> Result<Vec<(String, i64, ChoiceTally)>> {
        if note_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT note_id, choice, COUNT(*), \
             CAST(SUM(CASE WHEN user_id = $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM poll_votes WHERE note_id IN ({}) GROUP BY note_id, choice",
            placeholders(2, note_ids.len())
        );
        let rows: Vec<(String, i64, i64, i64)> = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, (String, i64, i64, i64)>(&sql).bind(viewer);
            for id in note_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(note, choice, votes, mine)| {
                (
                    note,
                    choice,
                    ChoiceTally {
                        votes,
                        voted_by_viewer: mine > 0,
                    },
                )
            })
            .collect())
    }

    /// Records a vote and enqueues `jobs`. With `multiple == false` a second vote on the
    /// same poll is refused inside the transaction. The poll's row is locked first (on
    /// PostgreSQL; SQLite has one writer), so two concurrent votes cannot both find no
    /// earlier vote, nor both add to a remote poll's counts from the same reading.
    #[allow(clippy::too_many_arguments)]
    pub async fn vote(
        &self,
        id: &str,
        note_id: &str,
        user_id: &str,
        choice: i64,
        multiple: bool,
        now: i64,
        jobs: &[Job],
    ) -> Result<()> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let poll = format!("SELECT counts FROM polls WHERE note_id = $1{lock}");
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let counts: Option<Option<String>> = sqlx::query_scalar(&poll)
                .bind(note_id)
                .fetch_optional(&mut *tx)
                .await?;
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
            // A remote poll counts what its server reports: add this vote until it reports
            // again.
            if let Some(Some(counts)) = counts {
                let mut counts: Vec<i64> = from_json("polls.counts", &counts)?;
                if let Some(n) = usize::try_from(choice).ok().and_then(|c| counts.get_mut(c)) {
                    *n += 1;
                }
                sqlx::query("UPDATE polls SET counts = $2 WHERE note_id = $1")
                    .bind(note_id)
                    .bind(super::to_json(&counts))
                    .execute(&mut *tx)
                    .await?;
            }
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

//! Group commit for notes.
//!
//! Every note insert goes through one task. It takes whatever is queued (up to [`MAX_BATCH`])
//! and writes the whole batch with a fixed number of set-based statements in one transaction:
//! the notes, their mentions and audiences, polls and counters.
//! Under load one commit carries many notes, so the pages every insert touches (the end of the
//! notes table and its indexes, the authors' rows) are written once per batch and the number of
//! round trips to the database does not grow with the batch; when idle a batch is one note and
//! nothing waits. If a batch fails (say a reply target was deleted meanwhile), each of its notes
//! is retried alone, so one bad note never takes the others down.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::QueryBuilder;
use tokio::sync::{mpsc, oneshot};

use super::jobs::insert_jobs;
use super::notifications::insert_notifications;
use super::token_owners::TokenOwners;
use super::{NewNote, Pool, Result, StoreError, to_json, with_pool};

/// A note waiting for the writer, and where to send the outcome.
pub(super) type WriteJob = (NewNote, oneshot::Sender<Result<()>>);

/// Most notes written in one transaction (at 18 columns a row, well under either backend's
/// limit on bound parameters).
const MAX_BATCH: usize = 128;

pub(super) fn spawn(pool: Pool, token_owners: Arc<TokenOwners>) -> mpsc::Sender<WriteJob> {
    let (tx, mut rx) = mpsc::channel::<WriteJob>(1024);
    tokio::spawn(async move {
        let mut batch: Vec<WriteJob> = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let jobs = std::mem::take(&mut batch);
            let notes: Vec<&NewNote> = jobs.iter().map(|(n, _)| n).collect();
            match write_counted(&pool, &token_owners, &notes).await {
                Ok(()) => {
                    for (_, reply) in jobs {
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(_) if jobs.len() > 1 => {
                    for (note, reply) in jobs {
                        let _ = reply.send(write_counted(&pool, &token_owners, &[&note]).await);
                    }
                }
                Err(e) => {
                    // A batch of one: its writer gets the error as it is (a unique
                    // violation stays recognisable).
                    if let Some((_, reply)) = jobs.into_iter().next() {
                        let _ = reply.send(Err(e));
                    }
                }
            }
        }
    });
    tx
}

/// Writes `notes` and drops the copies of their authors' rows, whose counts changed, before
/// anyone hears the outcome: an author's next request reads the new count.
async fn write_counted(pool: &Pool, token_owners: &TokenOwners, notes: &[&NewNote]) -> Result<()> {
    let written = write(pool, notes).await;
    token_owners.changed(notes.iter().map(|n| n.note.user_id.as_str()));
    written
}

/// Writes `notes` in one transaction.
async fn write(pool: &Pool, notes: &[&NewNote]) -> Result<()> {
    let mentions: Vec<(&str, &str)> = notes
        .iter()
        .flat_map(|n| {
            n.note
                .mentions
                .iter()
                .map(move |u| (n.note.id.as_str(), u.as_str()))
        })
        .collect();
    let audience: Vec<(&str, &str)> = notes
        .iter()
        .flat_map(|n| {
            n.note
                .visible_user_ids
                .iter()
                .map(move |u| (n.note.id.as_str(), u.as_str()))
        })
        .collect();
    let polls: Vec<&tsudoi_model::Poll> = notes.iter().filter_map(|n| n.poll.as_ref()).collect();
    // Counter deltas, summed per row so each row is updated once.
    let mut per_author: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut replies: HashMap<&str, i64> = HashMap::new();
    let mut renotes: HashMap<&str, i64> = HashMap::new();
    for n in notes {
        let e = per_author.entry(n.note.user_id.as_str()).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(n.note.created_at);
        if let Some(r) = &n.note.reply_id {
            *replies.entry(r.as_str()).or_default() += 1;
        }
        if let Some(r) = &n.note.renote_id {
            *renotes.entry(r.as_str()).or_default() += 1;
        }
    }
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        let mut q = QueryBuilder::new(
            "INSERT INTO notes (id, user_id, user_host, text, cw, visibility, local_only, reply_id, \
             reply_user_id, renote_id, renote_user_id, has_poll, reaction_acceptance, emojis, tags, \
             mentions, visible_user_ids, file_ids, uri, url, created_at) ",
        );
        q.push_values(notes, |mut b, n| {
            let n = &n.note;
            b.push_bind(&n.id)
                .push_bind(&n.user_id)
                .push_bind(&n.user_host)
                .push_bind(&n.text)
                .push_bind(&n.cw)
                .push_bind(n.visibility.as_str())
                .push_bind(n.local_only)
                .push_bind(&n.reply_id)
                .push_bind(&n.reply_user_id)
                .push_bind(&n.renote_id)
                .push_bind(&n.renote_user_id)
                .push_bind(n.has_poll)
                .push_bind(n.reaction_acceptance.map(|a| a.as_str()))
                .push_bind(to_json(&n.emojis))
                .push_bind(to_json(&n.tags))
                .push_bind(to_json(&n.mentions))
                .push_bind(to_json(&n.visible_user_ids))
                .push_bind(to_json(&n.file_ids))
                .push_bind(&n.uri)
                .push_bind(&n.url)
                .push_bind(n.created_at);
        });
        q.build().execute(&mut *tx).await?;
        for (table, pairs) in [
            ("note_mentions", &mentions),
            ("note_visible_users", &audience),
        ] {
            if pairs.is_empty() {
                continue;
            }
            let mut q = QueryBuilder::new(format!("INSERT INTO {table} (note_id, user_id) "));
            q.push_values(pairs.iter(), |mut b, (note, user)| {
                b.push_bind(*note).push_bind(*user);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        let tags: Vec<(&str, &str)> = notes
            .iter()
            .flat_map(|n| n.note.tags.iter().map(|t| (t.as_str(), n.note.id.as_str())))
            .collect();
        if !tags.is_empty() {
            let mut q = QueryBuilder::new("INSERT INTO note_tags (tag, note_id) ");
            q.push_values(tags.iter(), |mut b, (tag, note)| {
                b.push_bind(*tag).push_bind(*note);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        if !polls.is_empty() {
            let mut q = QueryBuilder::new(
                "INSERT INTO polls (note_id, choices, multiple, expires_at, counts) ",
            );
            q.push_values(polls.iter(), |mut b, poll| {
                b.push_bind(&poll.note_id)
                    .push_bind(to_json(&poll.choices))
                    .push_bind(poll.multiple)
                    .push_bind(poll.expires_at)
                    .push_bind(poll.counts.as_ref().map(to_json));
            });
            q.build().execute(&mut *tx).await?;
        }
        let mut q = QueryBuilder::new(
            "UPDATE users SET notes_count = notes_count + v.column2, \
             last_posted_at = CASE WHEN last_posted_at IS NULL OR last_posted_at < v.column3 \
             THEN v.column3 ELSE last_posted_at END FROM (",
        );
        q.push_values(per_author.iter(), |mut b, (user, (count, at))| {
            b.push_bind(*user)
                .push("CAST(")
                .push_bind_unseparated(*count)
                .push_unseparated(" AS BIGINT)")
                .push("CAST(")
                .push_bind_unseparated(*at)
                .push_unseparated(" AS BIGINT)");
        });
        q.push(") AS v WHERE users.id = v.column1");
        q.build().execute(&mut *tx).await?;
        for (column, deltas) in [("replies_count", &replies), ("renote_count", &renotes)] {
            if deltas.is_empty() {
                continue;
            }
            let mut q = QueryBuilder::new(format!(
                "UPDATE notes SET {column} = {column} + v.column2 FROM ("
            ));
            q.push_values(deltas.iter(), |mut b, (note, count)| {
                b.push_bind(*note)
                    .push("CAST(")
                    .push_bind_unseparated(*count)
                    .push_unseparated(" AS BIGINT)");
            });
            q.push(") AS v WHERE notes.id = v.column1");
            q.build().execute(&mut *tx).await?;
        }
        for n in notes {
            insert_jobs!(tx, &n.jobs, n.note.created_at);
            insert_notifications!(tx, &n.notifications);
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

//! Seeds a large instance straight into the database: users with tokens, random follows and
//! notes spread over thirty days. Multi-row inserts in one transaction per table keep it to a
//! minute or two rather than hours.

use std::collections::HashSet;
use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use tsudoi::progress::Progress;
use tsudoi_model::ids;

use crate::Db;

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub users: usize,
    pub notes: usize,
    pub follows: usize,
    /// Hours the notes are spread over, ending when the seed is made (the standard seed: 30
    /// days ending an hour ago; the dense one: the last hour).
    pub span_hours: u64,
}

/// The native token of seeded user `i`: sixteen characters, like Misskey's.
pub fn token(i: usize) -> String {
    format!("bench{i:011}")
}

/// A note as seeded, before it is written.
struct SeedNote {
    id: String,
    author: u32,
    visibility: &'static str,
    reply_to: Option<u32>,
    renote_of: Option<u32>,
    created_at: i64,
}

/// Runs `$body` once per backend with `$tx` an open transaction and `$DB` the database type.
macro_rules! in_tx {
    ($db:expr, |$tx:ident, $DB:ident| $body:block) => {
        match $db {
            Db::Sqlite(p) => {
                type $DB = Sqlite;
                let mut $tx = p.begin().await?;
                $body
                $tx.commit().await?;
            }
            Db::Postgres(p) => {
                type $DB = Postgres;
                let mut $tx = p.begin().await?;
                $body
                $tx.commit().await?;
            }
        }
    };
}

pub async fn seed(db: &Db, shape: Shape, password_hash: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(0x75_d001);
    let Shape {
        users,
        notes,
        follows,
        span_hours,
    } = shape;
    anyhow::ensure!(
        follows < users,
        "each user must follow fewer users than exist"
    );
    let end = ids::now_ms() - end_before_now_ms(span_hours);
    let start = end - span_hours as i64 * 3_600_000;

    // Who follows whom.
    let mut following: Vec<Vec<u32>> = Vec::with_capacity(users);
    let mut followers_count = vec![0i64; users];
    for u in 0..users {
        let mut set = HashSet::with_capacity(follows);
        while set.len() < follows {
            let v = rng.random_range(0..users as u32);
            if v as usize != u {
                set.insert(v);
            }
        }
        let mut list: Vec<u32> = set.into_iter().collect();
        list.sort_unstable();
        for &v in &list {
            followers_count[v as usize] += 1;
        }
        following.push(list);
    }

    // Notes, oldest first; index order is id order.
    let user_ids: Vec<String> = (0..users)
        .map(|i| ids::aidx_at(start - 86_400_000 + i as i64))
        .collect();
    let mut seeded: Vec<SeedNote> = Vec::with_capacity(notes);
    let mut by_author: Vec<Vec<u32>> = vec![Vec::new(); users];
    let mut replies_count = vec![0i64; notes];
    let mut renote_count = vec![0i64; notes];
    let span = (end - start) as f64;
    for k in 0..notes {
        let created_at = start + (k as f64 * span / notes as f64) as i64;
        let author = rng.random_range(0..users as u32);
        let roll: u32 = rng.random_range(0..100);
        let mut n = SeedNote {
            id: ids::aidx_at(created_at),
            author,
            visibility: "public",
            reply_to: None,
            renote_of: None,
            created_at,
        };
        match roll {
            0..=4 => n.visibility = "home",
            5..=8 => n.visibility = "followers",
            9..=11 => n.reply_to = by_author[author as usize].last().copied(),
            12..=14 if k > 0 => {
                // Renote a recent public note of someone else.
                let target = k as u32 - rng.random_range(1..=k.min(1000) as u32);
                let t = &seeded[target as usize];
                if t.visibility == "public" && t.renote_of.is_none() && t.author != author {
                    n.renote_of = Some(target);
                }
            }
            _ => {}
        }
        if let Some(r) = n.reply_to {
            replies_count[r as usize] += 1;
        }
        if let Some(r) = n.renote_of {
            renote_count[r as usize] += 1;
        }
        by_author[author as usize].push(k as u32);
        seeded.push(n);
    }

    // Users and credentials.
    let progress = Progress::new("users", users as u64);
    in_tx!(db, |tx, DB| {
        for chunk in (0..users).collect::<Vec<_>>().chunks(500) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO users (id, username, username_lower, followers_count, following_count, \
                 notes_count, created_at, last_posted_at) ",
            );
            q.push_values(chunk, |mut b, &i| {
                let last = by_author[i].last().map(|&k| seeded[k as usize].created_at);
                b.push_bind(user_ids[i].clone())
                    .push_bind(format!("u{i}"))
                    .push_bind(format!("u{i}"))
                    .push_bind(followers_count[i])
                    .push_bind(follows as i64)
                    .push_bind(by_author[i].len() as i64)
                    .push_bind(start - 86_400_000 + i as i64)
                    .push_bind(last);
            });
            q.build().execute(&mut *tx).await?;
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO user_credentials (user_id, password_hash, token) ",
            );
            q.push_values(chunk, |mut b, &i| {
                b.push_bind(user_ids[i].clone())
                    .push_bind(password_hash.to_owned())
                    .push_bind(token(i));
            });
            q.build().execute(&mut *tx).await?;
            progress.inc(chunk.len() as u64);
        }
    });
    progress.finish();

    let progress = Progress::new("follows", (users * follows) as u64);
    let mut follow_seq = 0i64;
    in_tx!(db, |tx, DB| {
        let mut pending: Vec<(String, u32, u32)> = Vec::with_capacity(2000);
        for (u, list) in following.iter().enumerate() {
            for &v in list {
                follow_seq += 1;
                pending.push((
                    ids::aidx_at(start - 3_600_000 + follow_seq / 100),
                    u as u32,
                    v,
                ));
                if pending.len() == 2000 {
                    let mut q = QueryBuilder::<DB>::new(
                        "INSERT INTO follows (id, follower_id, followee_id, created_at) ",
                    );
                    q.push_values(pending.drain(..), |mut b, (id, a, c)| {
                        b.push_bind(id)
                            .push_bind(user_ids[a as usize].clone())
                            .push_bind(user_ids[c as usize].clone())
                            .push_bind(start - 3_600_000);
                    });
                    q.build().execute(&mut *tx).await?;
                    progress.inc(2000);
                }
            }
        }
        if !pending.is_empty() {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO follows (id, follower_id, followee_id, created_at) ",
            );
            q.push_values(pending.drain(..), |mut b, (id, a, c)| {
                b.push_bind(id)
                    .push_bind(user_ids[a as usize].clone())
                    .push_bind(user_ids[c as usize].clone())
                    .push_bind(start - 3_600_000);
            });
            q.build().execute(&mut *tx).await?;
        }
    });
    progress.finish();

    let progress = Progress::new("notes", notes as u64);
    in_tx!(db, |tx, DB| {
        for (c, chunk) in seeded.chunks(1000).enumerate() {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO notes (id, user_id, text, visibility, reply_id, reply_user_id, renote_id, \
                 renote_user_id, replies_count, renote_count, created_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (j, n)| {
                let k = c * 1000 + j;
                let text = if n.renote_of.is_some() {
                    None
                } else {
                    Some(format!(
                        "Seeded note {k}: the quick brown fox jumps over the lazy dog #bench"
                    ))
                };
                let reply = n.reply_to.map(|r| &seeded[r as usize]);
                let renote = n.renote_of.map(|r| &seeded[r as usize]);
                b.push_bind(n.id.clone())
                    .push_bind(user_ids[n.author as usize].clone())
                    .push_bind(text)
                    .push_bind(n.visibility)
                    .push_bind(reply.map(|r| r.id.clone()))
                    .push_bind(reply.map(|r| user_ids[r.author as usize].clone()))
                    .push_bind(renote.map(|r| r.id.clone()))
                    .push_bind(renote.map(|r| user_ids[r.author as usize].clone()))
                    .push_bind(replies_count[k])
                    .push_bind(renote_count[k])
                    .push_bind(n.created_at);
            });
            q.build().execute(&mut *tx).await?;
            progress.inc(chunk.len() as u64);
        }
    });
    progress.finish();

    match db {
        Db::Sqlite(p) => {
            sqlx::query("ANALYZE").execute(p).await?;
            sqlx::query("CREATE TABLE bench_seed (shape TEXT NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query("INSERT INTO bench_seed VALUES ($1)")
                .bind(format!("{shape:?}"))
                .execute(p)
                .await?;
        }
        Db::Postgres(p) => {
            // VACUUM too, as autovacuum soon would on a live server: until then every index
            // read also visits the table to learn which rows are visible.
            sqlx::query("VACUUM ANALYZE").execute(p).await?;
            sqlx::query("CREATE TABLE bench_seed (shape TEXT NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query("INSERT INTO bench_seed VALUES ($1)")
                .bind(format!("{shape:?}"))
                .execute(p)
                .await?;
        }
    }
    tracing::info!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Removes the notes posted since `since_ms` (what a benchmark run wrote), takes them off
/// their authors' counts and puts their authors' `last_posted_at` back; returns how many there
/// were. On PostgreSQL the tables are vacuumed too: the deleted rows sit at the newest end of
/// every index a timeline reads, and until autovacuum came by, the next run measured reads
/// two to three times slower.
pub async fn forget_run(db: &Db, since_ms: i64) -> anyhow::Result<u64> {
    let after = ids::time_prefix(since_ms);
    let uncount = "UPDATE users SET notes_count = notes_count - c.n FROM \
        (SELECT user_id, COUNT(*) AS n FROM notes WHERE id > $1 GROUP BY user_id) AS c \
        WHERE users.id = c.user_id";
    let delete = "DELETE FROM notes WHERE id > $1";
    let last_posted = "UPDATE users SET last_posted_at = \
        (SELECT n.created_at FROM notes n WHERE n.user_id = users.id ORDER BY n.id DESC LIMIT 1) \
        WHERE last_posted_at >= $1";
    let removed: u64;
    in_tx!(db, |tx, DB| {
        sqlx::query::<DB>(uncount)
            .bind(&after)
            .execute(&mut *tx)
            .await?;
        removed = sqlx::query::<DB>(delete)
            .bind(&after)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query::<DB>(last_posted)
            .bind(since_ms)
            .execute(&mut *tx)
            .await?;
    });
    if let Db::Postgres(p) = db {
        sqlx::query("VACUUM ANALYZE").execute(p).await?;
    }
    Ok(removed)
}

/// Whether the database already holds a complete seed of this shape.
pub async fn is_seeded(db: &Db, shape: Shape) -> anyhow::Result<bool> {
    let q = "SELECT shape FROM bench_seed";
    let found: Option<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(q).fetch_optional(p).await.ok().flatten(),
        Db::Postgres(p) => sqlx::query_scalar(q).fetch_optional(p).await.ok().flatten(),
    };
    Ok(found.as_deref() == Some(format!("{shape:?}").as_str()))
}

/// How long before seeding a seed's notes end: a long seed ends an hour before (so a
/// benchmark run started at once sees the past, not notes from the future); a short one is
/// the last hour itself.
fn end_before_now_ms(span_hours: u64) -> i64 {
    if span_hours >= 24 { 3_600_000 } else { 60_000 }
}

/// How long ago the seed of `shape` was made, judged by its newest note.
pub async fn seed_age_ms(db: &Db, shape: Shape) -> anyhow::Result<i64> {
    Ok(newest_note_age_ms(db).await? - end_before_now_ms(shape.span_hours))
}

/// How long ago the newest note was posted.
async fn newest_note_age_ms(db: &Db) -> anyhow::Result<i64> {
    let q = "SELECT MAX(id) FROM notes";
    let newest: Option<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(q).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(q).fetch_one(p).await?,
    };
    let at = newest.as_deref().and_then(ids::aidx_time).unwrap_or(0);
    Ok(ids::now_ms() - at)
}

/// The password hash seeded users get (one real argon2 hash, made once through the server's
/// own account code).
pub async fn password_hash(local: &crate::measure::Local) -> anyhow::Result<String> {
    let (user, _) = tsudoi_core::accounts::create_account(
        &local.core,
        "bench_template",
        "bench-password",
        tsudoi_core::accounts::Origin::Shell { admin: false },
    )
    .await
    .context("creating the template account")?;
    let (hash, _) = local
        .store
        .credentials(&user.id)
        .await?
        .context("template credentials")?;
    Ok(hash)
}

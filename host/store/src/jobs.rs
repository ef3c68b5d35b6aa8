//! The durable job queue (`jobs`): enqueued with the write that causes the work, claimed by
//! workers on any node, retried until done or given up.

use sqlx::QueryBuilder;
use tokio::sync::{mpsc, oneshot};
use tsudoi_model::{ClaimedJob, Job, JobQueue};

use super::{Backend, Pool, Result, Store, StoreError, from_json, to_json, with_pool};

/// Jobs enqueued on their own (not with a write of their own), due at a time, and where to
/// say they are stored.
pub(super) type Enqueued = (Vec<Job>, i64, oneshot::Sender<Result<()>>);

/// Most jobs written in one transaction (4 parameters each).
const MAX_BATCH: usize = 256;

/// Group commit for [`Store::enqueue`]: a burst of inbox requests, each queueing one
/// activity, costs one transaction per batch instead of one per request (SQLite has one
/// writer). A batch that fails is retried job by job, so one bad row fails alone.
pub(super) fn spawn_writer(pool: Pool) -> mpsc::Sender<Enqueued> {
    let (tx, mut rx) = mpsc::channel::<Enqueued>(4096);
    tokio::spawn(async move {
        let mut batch: Vec<Enqueued> = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let waiting = std::mem::take(&mut batch);
            let rows: Vec<(&Job, i64)> = waiting
                .iter()
                .flat_map(|(jobs, at, _)| jobs.iter().map(move |j| (j, *at)))
                .collect();
            match insert(&pool, &rows).await {
                Ok(()) => {
                    for (_, _, reply) in waiting {
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(_) => {
                    for (jobs, at, reply) in waiting {
                        let rows: Vec<(&Job, i64)> = jobs.iter().map(|j| (j, at)).collect();
                        let _ = reply.send(insert(&pool, &rows).await);
                    }
                }
            }
        }
    });
    tx
}

/// Inserts `rows` (job, due at) in one statement.
async fn insert(pool: &Pool, rows: &[(&Job, i64)]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in rows.chunks(MAX_BATCH) {
        with_pool!(pool, |p| {
            let mut q = QueryBuilder::new("INSERT INTO jobs (queue, payload, run_at, created_at) ");
            q.push_values(chunk, |mut b, (job, at)| {
                b.push_bind(job.queue().as_str())
                    .push_bind(to_json(job))
                    .push_bind(*at)
                    .push_bind(*at);
            });
            q.build().execute(p).await.map(drop)
        })?;
    }
    Ok(())
}

/// Inserts `$jobs` (an iterator of `&Job`) due at `$now` through the transaction `$tx`, so
/// the work is recorded if and only if the write that causes it commits.
macro_rules! insert_jobs {
    ($tx:expr, $jobs:expr, $now:expr) => {
        for job in $jobs {
            sqlx::query(
                "INSERT INTO jobs (queue, payload, run_at, created_at) VALUES ($1, $2, $3, $3)",
            )
            .bind(job.queue().as_str())
            .bind($crate::to_json(job))
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_jobs;

/// How many jobs of one queue are waiting (or running) and how many gave up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub waiting: i64,
    pub dead: i64,
}

impl Store {
    /// Adds `jobs`, due at `now`, and returns once they are stored (with other callers'
    /// jobs, in one transaction when several wait).
    pub async fn enqueue(&self, jobs: &[Job], now: i64) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let stopped = || StoreError::Batch("the job writer has stopped".into());
        let (reply, stored) = oneshot::channel();
        self.job_writer
            .send((jobs.to_vec(), now, reply))
            .await
            .map_err(|_| stopped())?;
        stored.await.map_err(|_| stopped())?
    }

    /// Whether any job of `queue` is due: a read, so an idle worker polling for work does
    /// not take the database's write lock (SQLite has one writer, which notes need).
    pub async fn has_due_jobs(&self, queue: JobQueue, now: i64) -> Result<bool> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT CAST(1 AS BIGINT) FROM jobs \
             WHERE queue = $1 AND dead_at IS NULL AND run_at <= $2 LIMIT 1"
        )
        .bind(queue.as_str())
        .bind(now)
        .fetch_optional(p)
        .await)?
        .is_some())
    }

    /// Takes up to `limit` due jobs of `queue` for `lease_ms`: until then no other worker
    /// gets them; after it (the worker died) they are due again. Each claim counts as an
    /// attempt. On PostgreSQL concurrent claims skip each other's rows (`SKIP LOCKED`); on
    /// SQLite the single writer connection serialises them.
    pub async fn claim_jobs(
        &self,
        queue: JobQueue,
        limit: i64,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<ClaimedJob>> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET run_at = $3, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM jobs WHERE queue = $1 AND dead_at IS NULL AND run_at <= $2 \
              ORDER BY run_at, id LIMIT $4{lock}) \
             RETURNING id, payload, attempts"
        );
        let rows: Vec<(i64, String, i64)> = with_pool!(&self.write, |p| sqlx::query_as(&sql)
            .bind(queue.as_str())
            .bind(now)
            .bind(now + lease_ms)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for (id, payload, attempts) in rows {
            match from_json::<Job>("jobs.payload", &payload) {
                Ok(job) => claimed.push(ClaimedJob { id, job, attempts }),
                // A payload this version cannot read (written by a newer node, or damaged)
                // is kept for the admin rather than retried forever.
                Err(e) => self.bury_job(id, &e.to_string(), now).await?,
            }
        }
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Extends the leases of `ids` (jobs still running on this node) to `until`, so no
    /// other node claims them while they run; never brings a job's time forward.
    pub async fn renew_job_leases(&self, ids: &[i64], until: i64) -> Result<()> {
        for chunk in ids.chunks(1000) {
            let sql = format!(
                "UPDATE jobs SET run_at = $1 WHERE run_at < $1 AND id IN ({})",
                super::placeholders(2, chunk.len())
            );
            with_pool!(&self.write, |p| {
                let mut q = sqlx::query(&sql).bind(until);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(p).await.map(drop)
            })?;
        }
        Ok(())
    }

    /// The jobs are done: they leave the queue.
    pub async fn finish_jobs(&self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(1000) {
            let sql = format!(
                "DELETE FROM jobs WHERE id IN ({})",
                super::placeholders(1, chunk.len())
            );
            with_pool!(&self.write, |p| {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(p).await.map(drop)
            })?;
        }
        Ok(())
    }

    /// The job failed and is tried again at `run_at`.
    pub async fn retry_job(&self, id: i64, run_at: i64, error: &str) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "UPDATE jobs SET run_at = $2, last_error = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(run_at)
        .bind(error)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The job gave up: it stays, marked dead, with the last error.
    pub async fn bury_job(&self, id: i64, error: &str, now: i64) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "UPDATE jobs SET dead_at = $2, last_error = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .bind(error)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// How many jobs of `queue` wait (due or not) and how many gave up.
    pub async fn queue_depth(&self, queue: JobQueue) -> Result<QueueDepth> {
        let (waiting, dead): (i64, i64) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT CAST(COUNT(*) FILTER (WHERE dead_at IS NULL) AS BIGINT), \
                    CAST(COUNT(*) FILTER (WHERE dead_at IS NOT NULL) AS BIGINT) \
             FROM jobs WHERE queue = $1"
        )
        .bind(queue.as_str())
        .fetch_one(p)
        .await)?;
        Ok(QueueDepth { waiting, dead })
    }

    /// The last error of each dead job of `queue`, oldest first (for tests and the admin).
    pub async fn dead_jobs(&self, queue: JobQueue) -> Result<Vec<(Job, String)>> {
        let rows: Vec<(String, Option<String>)> = with_pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT payload, last_error FROM jobs WHERE queue = $1 AND dead_at IS NOT NULL ORDER BY id"
        )
        .bind(queue.as_str())
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(payload, error)| {
                Ok((
                    from_json("jobs.payload", &payload)?,
                    error.unwrap_or_default(),
                ))
            })
            .collect()
    }
}

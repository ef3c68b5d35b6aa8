//! The durable job queue (`jobs`): enqueued with the write that causes the work, claimed by
//! workers on any node, retried until done or given up.

use tsudoi_model::{ClaimedJob, Job, JobQueue};

use super::{Backend, Result, Store, from_json, with_pool};

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
    /// Adds `jobs`, due now.
    pub async fn enqueue(&self, jobs: &[Job], now: i64) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })
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

    /// The job is done: it leaves the queue.
    pub async fn finish_job(&self, id: i64) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM jobs WHERE id = $1"
        )
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
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

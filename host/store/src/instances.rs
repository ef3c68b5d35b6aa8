//! What is known about each remote server (`instances`): whether deliveries reach it, and
//! whether it has been failing long enough to stop trying.

use super::{Result, Store, with_pool};

impl Store {
    /// Records a delivery to `host`: reached or not. A server failing since more than
    /// `dead_after_ms` ago is suspended (deliveries to it stop); reaching it again lifts that.
    /// Returns whether it is now suspended.
    pub async fn record_delivery(
        &self,
        host: &str,
        reached: bool,
        now: i64,
        dead_after_ms: i64,
    ) -> Result<bool> {
        Ok(with_pool!(&self.write, |p| {
            sqlx::query_scalar::<_, bool>(
            "INSERT INTO instances (host, first_seen_at, last_success_at, failing_since, suspended) \
             VALUES ($1, $2, CASE WHEN $3 THEN $2 ELSE NULL END, CASE WHEN $3 THEN NULL ELSE $2 END, FALSE) \
             ON CONFLICT (host) DO UPDATE SET \
             last_success_at = CASE WHEN $3 THEN $2 ELSE instances.last_success_at END, \
             failing_since = CASE WHEN $3 THEN NULL ELSE COALESCE(instances.failing_since, $2) END, \
             suspended = CASE WHEN $3 THEN FALSE \
                         ELSE COALESCE(instances.failing_since, $2) <= $2 - $4 END \
             RETURNING suspended"
        )
        .bind(host)
        .bind(now)
        .bind(reached)
        .bind(dead_after_ms)
        .fetch_one(p)
        .await
        })?)
    }

    /// `host` sent us something: it is alive, so deliveries to it resume.
    pub async fn instance_seen(&self, host: &str, now: i64) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO instances (host, first_seen_at) VALUES ($1, $2) \
             ON CONFLICT (host) DO UPDATE SET suspended = FALSE, failing_since = NULL \
             WHERE instances.suspended OR instances.failing_since IS NOT NULL"
        )
        .bind(host)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether deliveries to `host` are suspended.
    pub async fn instance_suspended(&self, host: &str) -> Result<bool> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, bool>(
            "SELECT suspended FROM instances WHERE host = $1"
        )
        .bind(host)
        .fetch_optional(p)
        .await)?
        .unwrap_or(false))
    }
}

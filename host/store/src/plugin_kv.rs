//! The key-value store plugins keep state in: namespaced by plugin and bucket, with expiry and
//! a per-plugin quota. Expired entries read as absent and are swept when the plugin writes.

use tsudoi_model::{KvKey, KvRefusal};

use super::{Backend, Result, Store, StoreError, with_pool};

impl Store {
    pub async fn kv_get(&self, at: KvKey<'_>, now: i64) -> Result<Option<Vec<u8>>> {
        Ok(with_pool!(&self.read, |pool| sqlx::query_scalar::<
            _,
            Vec<u8>,
        >(
            "SELECT value FROM plugin_kv WHERE plugin = $1 AND bucket = $2 AND key = $3 \
             AND (expires_at IS NULL OR expires_at > $4)"
        )
        .bind(at.plugin)
        .bind(at.bucket)
        .bind(at.key)
        .bind(now)
        .fetch_optional(pool)
        .await)?)
    }

    /// Stores `value`, unless the plugin's entries (keys and values, this one included)
    /// would exceed `quota` bytes.
    pub async fn kv_set(
        &self,
        at: KvKey<'_>,
        value: &[u8],
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
    ) -> Result<Result<(), KvRefusal>> {
        with_pool!(&self.write, |pool| {
            let mut tx = pool.begin().await?;
            sweep(&mut tx, at.plugin, now).await?;
            let used: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS BIGINT) \
                 FROM plugin_kv WHERE plugin = $1 AND NOT (bucket = $2 AND key = $3)",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .fetch_one(&mut *tx)
            .await?;
            if used + (at.key.len() + value.len()) as i64 > quota {
                return Ok(Err(KvRefusal::QuotaExceeded));
            }
            sqlx::query(
                "INSERT INTO plugin_kv (plugin, bucket, key, value, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin, bucket, key) \
                 DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .bind(value)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Ok(()))
        })
    }

    pub async fn kv_delete(&self, at: KvKey<'_>) -> Result<()> {
        with_pool!(&self.write, |pool| sqlx::query(
            "DELETE FROM plugin_kv WHERE plugin = $1 AND bucket = $2 AND key = $3"
        )
        .bind(at.plugin)
        .bind(at.bucket)
        .bind(at.key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Adds `delta` to the decimal number stored at `key` atomically and returns the new
    /// value. An absent or expired key counts as 0 and starts a new count, which expires at
    /// `expires_if_new` (if given); an existing count keeps its expiry.
    pub async fn kv_increment(
        &self,
        at: KvKey<'_>,
        delta: i64,
        expires_if_new: Option<i64>,
        now: i64,
        quota: i64,
    ) -> Result<Result<i64, KvRefusal>> {
        // PostgreSQL runs increments concurrently: lock the row. SQLite has one writer.
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let select = format!(
            "SELECT value, expires_at FROM plugin_kv WHERE plugin = $1 AND bucket = $2 AND key = $3{lock}"
        );
        with_pool!(&self.write, |pool| {
            let mut tx = pool.begin().await?;
            sweep(&mut tx, at.plugin, now).await?;
            // Make sure the row exists so the lock below has something to hold.
            let created = sqlx::query(
                "INSERT INTO plugin_kv (plugin, bucket, key, value, expires_at) \
                 VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (plugin, bucket, key) DO NOTHING",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .bind(b"0".as_slice())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let (value, expires_at): (Vec<u8>, Option<i64>) = sqlx::query_as(&select)
                .bind(at.plugin)
                .bind(at.bucket)
                .bind(at.key)
                .fetch_one(&mut *tx)
                .await?;
            let (current, expires_at) = match expires_at {
                _ if created => (0, expires_if_new),
                Some(t) if t <= now => (0, expires_if_new),
                _ => match std::str::from_utf8(&value)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(n) => (n, expires_at),
                    None => return Ok(Err(KvRefusal::NotANumber)),
                },
            };
            let Some(next) = current.checked_add(delta) else {
                return Ok(Err(KvRefusal::Overflow));
            };
            if created {
                let used: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS BIGINT) \
                     FROM plugin_kv WHERE plugin = $1",
                )
                .bind(at.plugin)
                .fetch_one(&mut *tx)
                .await?;
                if used + 20 > quota {
                    return Ok(Err(KvRefusal::QuotaExceeded));
                }
            }
            sqlx::query(
                "UPDATE plugin_kv SET value = $4, expires_at = $5 \
                 WHERE plugin = $1 AND bucket = $2 AND key = $3",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .bind(next.to_string().into_bytes())
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Ok(next))
        })
    }

    /// Keys of `bucket` starting with `prefix`, in order, at most `limit`.
    pub async fn kv_list_keys(
        &self,
        plugin: &str,
        bucket: &str,
        prefix: &str,
        limit: i64,
        now: i64,
    ) -> Result<Vec<String>> {
        // Keys in [prefix, prefix + U+10FFFF): a range the primary key answers, with no
        // LIKE escaping to get wrong.
        let upper = format!("{prefix}\u{10FFFF}");
        Ok(with_pool!(&self.read, |pool| sqlx::query_scalar::<
            _,
            String,
        >(
            "SELECT key FROM plugin_kv WHERE plugin = $1 AND bucket = $2 AND key >= $3 \
             AND key < $4 AND (expires_at IS NULL OR expires_at > $5) ORDER BY key LIMIT $6"
        )
        .bind(plugin)
        .bind(bucket)
        .bind(prefix)
        .bind(upper)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Drops a plugin's stored state (when it is removed).
    pub async fn kv_clear(&self, plugin: &str) -> Result<()> {
        with_pool!(&self.write, |pool| sqlx::query(
            "DELETE FROM plugin_kv WHERE plugin = $1"
        )
        .bind(plugin)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Removes the plugin's expired entries, so they stop counting against its quota.
async fn sweep<'c, DB>(tx: &mut sqlx::Transaction<'c, DB>, plugin: &str, now: i64) -> Result<()>
where
    DB: sqlx::Database,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'e> &'e mut <DB as sqlx::Database>::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query("DELETE FROM plugin_kv WHERE plugin = $1 AND expires_at <= $2")
        .bind(plugin)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

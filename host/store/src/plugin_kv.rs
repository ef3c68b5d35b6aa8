//! The key-value store plugins keep state in: namespaced by plugin and bucket, with expiry and
//! a per-plugin quota. Expired entries read as absent and are swept, a few at a time, when the
//! plugin writes.
//!
//! The quota charges what an entry really keeps: its value, its plugin, bucket and key names,
//! and `KvKey::ENTRY_OVERHEAD` for the row itself, so a plugin cannot keep hundreds of thousands of
//! empty entries within it. Each plugin's total is kept in `plugin_kv_usage` as entries change:
//! a write checks the quota in that one row, instead of summing all the plugin's entries while
//! it holds the database's writer (which made a plugin with a few hundred thousand small rows
//! slow down every other write). On PostgreSQL a write locks its plugin's usage row, so one
//! plugin's writes run one at a time and the total stays exact.

use tsudoi_model::{KvKey, KvRefusal, kv_exceeds_quota, kv_next_count};

use super::{Backend, Result, Store, StoreError, with_pool};

/// Expired entries removed per write, at most: a write's cost must not grow with what the
/// plugin let expire.
const SWEEP_BATCH: i64 = 64;

/// A plugin's charged bytes and entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvUsage {
    pub bytes: i64,
    pub entries: i64,
}

impl KvUsage {
    /// The usage with one entry charged `old` replaced by one charged `new` (`None`: absent).
    fn replacing(self, old: Option<i64>, new: Option<i64>) -> KvUsage {
        let count = |c: Option<i64>| i64::from(c.is_some());
        KvUsage {
            bytes: (self.bytes - old.unwrap_or(0) + new.unwrap_or(0)).max(0),
            entries: (self.entries - count(old) + count(new)).max(0),
        }
    }

    /// Whether going from `self` to `next` must be refused (`kv_exceeds_quota`).
    fn refuses(self, next: KvUsage, quota: i64) -> bool {
        kv_exceeds_quota(self.bytes, next.bytes, quota)
    }
}

/// Runs `$body` in a transaction on the write pool with `$tx` bound to it and the plugin's
/// usage row locked and read into `$usage`, less what a sweep of its expired entries freed;
/// `$body` returns `Ok(Some(usage))` to save the usage and commit, `Ok(None)` to roll back
/// (then the outcome is `Ok(None)`).
macro_rules! with_usage {
    ($store:expr, $plugin:expr, $now:expr, |$tx:ident, $usage:ident| $body:expr) => {{
        let lock = match $store.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let select = format!("SELECT bytes, entries FROM plugin_kv_usage WHERE plugin = $1{lock}");
        with_pool!(&$store.write, |pool| {
            let mut $tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO plugin_kv_usage (plugin, bytes, entries) VALUES ($1, 0, 0) \
                 ON CONFLICT (plugin) DO NOTHING",
            )
            .bind($plugin)
            .execute(&mut *$tx)
            .await?;
            let (bytes, entries): (i64, i64) = sqlx::query_as(&select)
                .bind($plugin)
                .fetch_one(&mut *$tx)
                .await?;
            let mut $usage = KvUsage { bytes, entries };
            let swept: Vec<(String, String, i64)> = sqlx::query_as(
                "DELETE FROM plugin_kv WHERE plugin = $1 AND (bucket, key) IN \
                 (SELECT bucket, key FROM plugin_kv WHERE plugin = $1 AND expires_at <= $2 LIMIT $3) \
                 RETURNING bucket, key, CAST(LENGTH(value) AS BIGINT)",
            )
            .bind($plugin)
            .bind($now)
            .bind(SWEEP_BATCH)
            .fetch_all(&mut *$tx)
            .await?;
            for (bucket, key, len) in &swept {
                let at = KvKey::new($plugin, bucket, key);
                $usage = $usage.replacing(Some(at.entry_bytes(*len as usize)), None);
            }
            // An async block, so that `return` in the body leaves the body only.
            let outcome: Result<Option<KvUsage>> = async { $body }.await;
            if let Ok(Some(usage)) = &outcome {
                sqlx::query("UPDATE plugin_kv_usage SET bytes = $2, entries = $3 WHERE plugin = $1")
                    .bind($plugin)
                    .bind(usage.bytes)
                    .bind(usage.entries)
                    .execute(&mut *$tx)
                    .await?;
                $tx.commit().await?;
            }
            outcome
        })
    }};
}

/// Writes entry `$at` with `$value` and `$expires_at` on transaction `$tx`, replacing any.
macro_rules! put_entry {
    ($tx:ident, $at:expr, $value:expr, $expires_at:expr) => {
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, bucket, key, value, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin, bucket, key) \
             DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .bind($at.plugin)
        .bind($at.bucket)
        .bind($at.key)
        .bind($value)
        .bind($expires_at)
        .execute(&mut *$tx)
        .await?
    };
}

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

    /// What `plugin`'s entries are charged against its quota.
    pub async fn kv_usage(&self, plugin: &str) -> Result<KvUsage> {
        let row: Option<(i64, i64)> = with_pool!(&self.read, |pool| sqlx::query_as(
            "SELECT bytes, entries FROM plugin_kv_usage WHERE plugin = $1"
        )
        .bind(plugin)
        .fetch_optional(pool)
        .await)?;
        Ok(row
            .map(|(bytes, entries)| KvUsage { bytes, entries })
            .unwrap_or_default())
    }

    /// Stores `value`, unless the plugin's entries (this one included, see `KvKey::entry_bytes`)
    /// would then be charged more than `quota` bytes.
    pub async fn kv_set(
        &self,
        at: KvKey<'_>,
        value: &[u8],
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
    ) -> Result<Result<(), KvRefusal>> {
        let saved = with_usage!(self, at.plugin, now, |tx, usage| {
            let old: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(LENGTH(value) AS BIGINT) FROM plugin_kv \
                 WHERE plugin = $1 AND bucket = $2 AND key = $3",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .fetch_optional(&mut *tx)
            .await?;
            let next = usage.replacing(
                old.map(|len| at.entry_bytes(len as usize)),
                Some(at.entry_bytes(value.len())),
            );
            if usage.refuses(next, quota) {
                Ok::<_, StoreError>(None)
            } else {
                put_entry!(tx, at, value, expires_at);
                Ok(Some(next))
            }
        })?;
        Ok(match saved {
            Some(_) => Ok(()),
            None => Err(KvRefusal::QuotaExceeded),
        })
    }

    pub async fn kv_delete(&self, at: KvKey<'_>) -> Result<()> {
        with_usage!(self, at.plugin, i64::MIN, |tx, usage| {
            let old: Option<i64> = sqlx::query_scalar(
                "DELETE FROM plugin_kv WHERE plugin = $1 AND bucket = $2 AND key = $3 \
                 RETURNING CAST(LENGTH(value) AS BIGINT)",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .fetch_optional(&mut *tx)
            .await?;
            Ok::<_, StoreError>(Some(
                usage.replacing(old.map(|len| at.entry_bytes(len as usize)), None),
            ))
        })?;
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
        let mut outcome = Err(KvRefusal::QuotaExceeded);
        with_usage!(self, at.plugin, now, |tx, usage| {
            // The plugin's usage row is locked: no other write of this plugin runs meanwhile.
            let existing: Option<(Vec<u8>, Option<i64>)> = sqlx::query_as(
                "SELECT value, expires_at FROM plugin_kv \
                 WHERE plugin = $1 AND bucket = $2 AND key = $3",
            )
            .bind(at.plugin)
            .bind(at.bucket)
            .bind(at.key)
            .fetch_optional(&mut *tx)
            .await?;
            let stored = existing.as_ref().map(|(v, e)| (v.as_slice(), *e));
            let (next, expires_at) = match kv_next_count(stored, delta, expires_if_new, now) {
                Ok(counted) => counted,
                Err(refusal) => {
                    outcome = Err(refusal);
                    return Ok(None);
                }
            };
            let value = next.to_string().into_bytes();
            let charged = usage.replacing(
                existing.as_ref().map(|(v, _)| at.entry_bytes(v.len())),
                Some(at.entry_bytes(value.len())),
            );
            if usage.refuses(charged, quota) {
                outcome = Err(KvRefusal::QuotaExceeded);
                return Ok(None);
            }
            put_entry!(tx, at, value, expires_at);
            outcome = Ok(next);
            Ok::<_, StoreError>(Some(charged))
        })?;
        Ok(outcome)
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
        with_pool!(&self.write, |pool| {
            let mut tx = pool.begin().await?;
            for table in ["plugin_kv", "plugin_kv_usage"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE plugin = $1"))
                    .bind(plugin)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

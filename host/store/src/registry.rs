//! The registry (`i/registry/*`). A scope path is kept joined by '.' (its parts are
//! `[A-Za-z0-9_]+`, so the join is unambiguous) and the account's own registry under the
//! domain '' (a null would not take part in the unique key).

use tsudoi_model::{RegistryItem, RegistryScope};

use super::{Result, Store, with_pool};

const SEP: &str = ".";

fn domain(s: &RegistryScope) -> &str {
    s.domain.as_deref().unwrap_or_default()
}

fn path(s: &RegistryScope) -> String {
    s.scope.join(SEP)
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    key: String,
    value: String,
    updated_at: i64,
}

impl From<ItemRow> for RegistryItem {
    fn from(r: ItemRow) -> Self {
        RegistryItem {
            key: r.key,
            value: r.value,
            updated_at: r.updated_at,
        }
    }
}

impl Store {
    /// Every item of one registry scope, by key.
    pub async fn registry_items(&self, s: &RegistryScope) -> Result<Vec<RegistryItem>> {
        let rows: Vec<ItemRow> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT key, value, updated_at FROM registry_items \
             WHERE user_id = $1 AND domain = $2 AND scope = $3 ORDER BY key"
        )
        .bind(&s.user_id)
        .bind(domain(s))
        .bind(path(s))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(RegistryItem::from).collect())
    }

    pub async fn registry_item(
        &self,
        s: &RegistryScope,
        key: &str,
    ) -> Result<Option<RegistryItem>> {
        let row: Option<ItemRow> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT key, value, updated_at FROM registry_items \
             WHERE user_id = $1 AND domain = $2 AND scope = $3 AND key = $4"
        )
        .bind(&s.user_id)
        .bind(domain(s))
        .bind(path(s))
        .bind(key)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(RegistryItem::from))
    }

    /// Sets `key` to `value` (JSON text), adding it as `id` if it is new.
    pub async fn set_registry_item(
        &self,
        s: &RegistryScope,
        id: &str,
        key: &str,
        value: &str,
        now: i64,
    ) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO registry_items (id, user_id, domain, scope, key, value, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (user_id, domain, scope, key) \
             DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        .bind(id)
        .bind(&s.user_id)
        .bind(domain(s))
        .bind(path(s))
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes `key`; false if there was none.
    pub async fn remove_registry_item(&self, s: &RegistryScope, key: &str) -> Result<bool> {
        let done = with_pool!(&self.write, |p| {
            sqlx::query(
            "DELETE FROM registry_items WHERE user_id = $1 AND domain = $2 AND scope = $3 AND key = $4"
        )
        .bind(&s.user_id)
        .bind(domain(s))
        .bind(path(s))
        .bind(key)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(done > 0)
    }

    /// Every (domain, scope path) `user_id` keeps something under, each once.
    pub async fn registry_scopes(
        &self,
        user_id: &str,
    ) -> Result<Vec<(Option<String>, Vec<String>)>> {
        let rows: Vec<(String, String)> = with_pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT DISTINCT domain, scope FROM registry_items WHERE user_id = $1 ORDER BY domain, scope"
        )
        .bind(user_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(domain, scope)| {
                let scope = if scope.is_empty() {
                    Vec::new()
                } else {
                    scope.split(SEP).map(str::to_owned).collect()
                };
                (Some(domain).filter(|d| !d.is_empty()), scope)
            })
            .collect())
    }
}

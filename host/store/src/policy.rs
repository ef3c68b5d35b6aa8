//! The admin's federation policy (`federation_policy`) and what is known of each remote
//! server, for `federation/instances`.

use tsudoi_model::{HostPolicy, HostPolicyKind};

use super::{Result, Store, StoreError, from_name, with_pool};

/// A remote server as `federation/instances` lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InstanceRow {
    pub host: String,
    pub first_seen_at: i64,
    pub last_success_at: Option<i64>,
    pub failing_since: Option<i64>,
    pub suspended: bool,
    pub users_count: i64,
    pub notes_count: i64,
    /// Local users following its users, and its users following local ones.
    pub following_count: i64,
    pub followers_count: i64,
}

impl Store {
    pub async fn host_policy(&self) -> Result<HostPolicy> {
        let rows: Vec<(String, String)> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT kind, host FROM federation_policy ORDER BY kind, host"
        )
        .fetch_all(p)
        .await)?;
        let mut policy = HostPolicy::default();
        for (kind, host) in rows {
            let kind: HostPolicyKind = from_name("federation_policy.kind", &kind)?;
            policy.list_mut(kind).push(host);
        }
        Ok(policy)
    }

    /// Replaces the `kind` list with `hosts` (lower-cased, deduplicated by the caller).
    pub async fn set_host_policy(&self, kind: HostPolicyKind, hosts: &[String]) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM federation_policy WHERE kind = $1")
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
            for host in hosts {
                sqlx::query(
                    "INSERT INTO federation_policy (kind, host) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(kind.as_str())
                .bind(host)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Remote servers this one knows (from a stored user or a delivery), `host` one of them
    /// if given, busiest first.
    pub async fn instances(
        &self,
        host: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<InstanceRow>> {
        let filter = if host.is_some() {
            "WHERE k.host = $3"
        } else {
            ""
        };
        let sql = format!(
            "WITH known AS ( \
                 SELECT host FROM users WHERE host IS NOT NULL \
                 UNION SELECT host FROM instances), \
             k AS (SELECT DISTINCT host FROM known) \
             SELECT k.host, \
                 COALESCE(i.first_seen_at, (SELECT MIN(created_at) FROM users u WHERE u.host = k.host), 0) \
                     AS first_seen_at, \
                 i.last_success_at, i.failing_since, COALESCE(i.suspended, FALSE) AS suspended, \
                 (SELECT COUNT(*) FROM users u WHERE u.host = k.host) AS users_count, \
                 (SELECT COUNT(*) FROM notes n WHERE n.user_host = k.host) AS notes_count, \
                 (SELECT COUNT(*) FROM follows f JOIN users u ON u.id = f.followee_id \
                    WHERE u.host = k.host AND f.follower_host IS NULL) AS following_count, \
                 (SELECT COUNT(*) FROM follows f WHERE f.follower_host = k.host) AS followers_count \
             FROM k LEFT JOIN instances i ON i.host = k.host {filter} \
             ORDER BY 6 DESC, k.host LIMIT $1 OFFSET $2"
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, InstanceRow>(&sql)
                .bind(limit)
                .bind(offset);
            if let Some(h) = host {
                q = q.bind(h);
            }
            q.fetch_all(p).await
        })?)
    }
}

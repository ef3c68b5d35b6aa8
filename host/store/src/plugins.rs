//! Installed plugins (their components, configuration and place in the chain) and the review
//! queue moderation plugins fill.

use tsudoi_model::{
    Capability, FailurePolicy, Flag, InstalledPlugin, Notice, NoticeKind, PluginSummary,
    RankedTimeline,
};

use super::{Result, Store, from_name, names_from_json, names_to_json, with_pool};

const PLUGIN_COLUMNS: &str = "name, kind, version, wasm, config, enabled, position, \
    failure_policy, updated_at, manifest, grants, timelines";

#[derive(sqlx::FromRow)]
struct PluginRow {
    name: String,
    kind: String,
    version: String,
    wasm: Vec<u8>,
    config: Option<String>,
    enabled: bool,
    position: i64,
    failure_policy: String,
    updated_at: i64,
    manifest: Option<String>,
    grants: String,
    timelines: String,
}

impl PluginRow {
    fn decode(self) -> Result<InstalledPlugin> {
        Ok(InstalledPlugin {
            kind: from_name("plugins.kind", &self.kind)?,
            failure_policy: from_name("plugins.failure_policy", &self.failure_policy)?,
            grants: names_from_json("plugins.grants", &self.grants)?,
            timelines: names_from_json("plugins.timelines", &self.timelines)?,
            name: self.name,
            version: self.version,
            wasm: self.wasm,
            config: self.config,
            enabled: self.enabled,
            position: self.position,
            updated_at: self.updated_at,
            manifest: self.manifest,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    name: String,
    kind: String,
    version: String,
    enabled: bool,
    position: i64,
    failure_policy: String,
    updated_at: i64,
    grants: String,
    timelines: String,
    load_error: Option<String>,
}

impl SummaryRow {
    fn decode(self) -> Result<PluginSummary> {
        Ok(PluginSummary {
            kind: from_name("plugins.kind", &self.kind)?,
            failure_policy: from_name("plugins.failure_policy", &self.failure_policy)?,
            grants: names_from_json("plugins.grants", &self.grants)?,
            timelines: names_from_json("plugins.timelines", &self.timelines)?,
            name: self.name,
            version: self.version,
            enabled: self.enabled,
            position: self.position,
            updated_at: self.updated_at,
            load_error: self.load_error,
        })
    }
}

/// What [`Store::update_plugin`] changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct PluginChange<'a> {
    pub enabled: Option<bool>,
    /// `Some(None)` clears the configuration.
    pub config: Option<Option<&'a str>>,
    pub position: Option<i64>,
    pub grants: Option<&'a [Capability]>,
    pub timelines: Option<&'a [RankedTimeline]>,
    pub failure_policy: Option<FailurePolicy>,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    id: String,
    note_id: String,
    plugin: String,
    reason: String,
    created_at: i64,
    resolved_at: Option<i64>,
}

impl From<FlagRow> for Flag {
    fn from(r: FlagRow) -> Self {
        Flag {
            id: r.id,
            note_id: r.note_id,
            plugin: r.plugin,
            reason: r.reason,
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: String,
    kind: String,
    message: String,
    created_at: i64,
    read_at: Option<i64>,
}

impl NoticeRow {
    fn decode(self) -> Result<Notice> {
        Ok(Notice {
            kind: from_name("admin_notices.kind", &self.kind)?,
            id: self.id,
            message: self.message,
            created_at: self.created_at,
            read_at: self.read_at,
        })
    }
}

impl Store {
    /// Installs or upgrades (same name) a plugin; an upgrade keeps its place, its grants,
    /// its timelines and its stored state.
    pub async fn upsert_plugin(&self, p: &InstalledPlugin) -> Result<()> {
        with_pool!(&self.write, |pool| {
            sqlx::query(
            "INSERT INTO plugins (name, kind, version, wasm, config, enabled, position, failure_policy, updated_at, manifest, grants, timelines) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, version = excluded.version, \
             wasm = excluded.wasm, config = excluded.config, failure_policy = excluded.failure_policy, \
             updated_at = excluded.updated_at, manifest = excluded.manifest"
        )
        .bind(&p.name)
        .bind(p.kind.as_str())
        .bind(&p.version)
        .bind(&p.wasm)
        .bind(&p.config)
        .bind(p.enabled)
        .bind(p.position)
        .bind(p.failure_policy.as_str())
        .bind(p.updated_at)
        .bind(&p.manifest)
        .bind(names_to_json(&p.grants))
        .bind(names_to_json(&p.timelines))
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn plugin(&self, name: &str) -> Result<Option<InstalledPlugin>> {
        let sql = format!("SELECT {PLUGIN_COLUMNS} FROM plugins WHERE name = $1");
        with_pool!(&self.read, |pool| sqlx::query_as::<_, PluginRow>(&sql)
            .bind(name)
            .fetch_optional(pool)
            .await)?
        .map(PluginRow::decode)
        .transpose()
    }

    /// Enabled plugins, in chain order.
    pub async fn enabled_plugins(&self) -> Result<Vec<InstalledPlugin>> {
        let sql =
            format!("SELECT {PLUGIN_COLUMNS} FROM plugins WHERE enabled ORDER BY position, name");
        with_pool!(&self.read, |pool| sqlx::query_as::<_, PluginRow>(&sql)
            .fetch_all(pool)
            .await)?
        .into_iter()
        .map(PluginRow::decode)
        .collect()
    }

    pub async fn list_plugins(&self) -> Result<Vec<PluginSummary>> {
        with_pool!(&self.read, |pool| {
            sqlx::query_as::<_, SummaryRow>(
                "SELECT name, kind, version, enabled, position, failure_policy, updated_at, \
                 grants, timelines, \
                 CASE WHEN load_error_version = updated_at THEN load_error END AS load_error \
                 FROM plugins ORDER BY kind, position, name",
            )
            .fetch_all(pool)
            .await
        })?
        .into_iter()
        .map(SummaryRow::decode)
        .collect()
    }

    /// Changes a plugin's state; returns false if there is no such plugin. Every change
    /// moves `updated_at`, which is how running servers notice it.
    pub async fn update_plugin(
        &self,
        name: &str,
        change: &PluginChange<'_>,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE plugins SET enabled = COALESCE($2, enabled), \
                   config = CASE WHEN $3 THEN $4 ELSE config END, \
                   position = COALESCE($5, position), grants = COALESCE($6, grants), \
                   timelines = COALESCE($7, timelines), failure_policy = COALESCE($8, failure_policy), \
                   updated_at = $9 WHERE name = $1";
        Ok(with_pool!(&self.write, |pool| sqlx::query(sql)
            .bind(name)
            .bind(change.enabled)
            .bind(change.config.is_some())
            .bind(change.config.flatten())
            .bind(change.position)
            .bind(change.grants.map(names_to_json))
            .bind(change.timelines.map(names_to_json))
            .bind(change.failure_policy.map(FailurePolicy::as_str))
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?
            == 1)
    }

    /// Removes a plugin and the state it kept.
    pub async fn remove_plugin(&self, name: &str) -> Result<bool> {
        let removed = with_pool!(&self.write, |pool| sqlx::query(
            "DELETE FROM plugins WHERE name = $1"
        )
        .bind(name)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?
            == 1;
        if removed {
            self.kv_clear(name).await?;
        }
        Ok(removed)
    }

    /// A cheap fingerprint of the installed plugins: it changes whenever one is installed,
    /// changed or removed, so servers can notice without reading the components.
    /// Records whether a server could load version `updated_at` of plugin `name` (`error`,
    /// or `None` when it loaded). A newer version made since is left alone, and the plugins'
    /// fingerprint does not move.
    pub async fn record_plugin_load(
        &self,
        name: &str,
        updated_at: i64,
        error: Option<&str>,
    ) -> Result<()> {
        with_pool!(&self.write, |pool| sqlx::query(
            "UPDATE plugins SET load_error = $3, load_error_version = $2 \
             WHERE name = $1 AND updated_at = $2"
        )
        .bind(name)
        .bind(updated_at)
        .bind(error)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn plugins_fingerprint(&self) -> Result<(i64, i64)> {
        Ok(with_pool!(&self.read, |pool| sqlx::query_as::<
            _,
            (i64, i64),
        >(
            "SELECT CAST(COALESCE(MAX(updated_at), 0) AS BIGINT), COUNT(*) FROM plugins"
        )
        .fetch_one(pool)
        .await)?)
    }

    pub async fn add_flag(
        &self,
        id: &str,
        note_id: &str,
        plugin: &str,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        with_pool!(&self.write, |pool| {
            sqlx::query(
            "INSERT INTO moderation_flags (id, note_id, plugin, reason, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(id)
        .bind(note_id)
        .bind(plugin)
        .bind(reason)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Flags newest first, unresolved only unless `include_resolved`, older than `until_id`.
    pub async fn flags(
        &self,
        include_resolved: bool,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Flag>> {
        Ok(with_pool!(&self.read, |pool| {
            sqlx::query_as::<_, FlagRow>(
                "SELECT id, note_id, plugin, reason, created_at, resolved_at FROM moderation_flags \
                 WHERE ($1 OR resolved_at IS NULL) AND ($2 IS NULL OR id < $2) \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(include_resolved)
            .bind(until_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?
        .into_iter()
        .map(Flag::from)
        .collect())
    }

    /// Marks a flag handled; false if there is no such unresolved flag.
    pub async fn resolve_flag(&self, id: &str, now: i64) -> Result<bool> {
        Ok(with_pool!(&self.write, |pool| sqlx::query(
            "UPDATE moderation_flags SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?
            == 1)
    }

    /// Records something the administrators must see.
    pub async fn add_admin_notice(
        &self,
        id: &str,
        kind: NoticeKind,
        message: &str,
        now: i64,
    ) -> Result<()> {
        with_pool!(&self.write, |pool| sqlx::query(
            "INSERT INTO admin_notices (id, kind, message, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(message)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Notices newest first, unread only unless `include_read`.
    pub async fn admin_notices(&self, include_read: bool, limit: i64) -> Result<Vec<Notice>> {
        with_pool!(&self.read, |pool| {
            sqlx::query_as::<_, NoticeRow>(
                "SELECT id, kind, message, created_at, read_at FROM admin_notices \
             WHERE ($1 OR read_at IS NULL) ORDER BY id DESC LIMIT $2",
            )
            .bind(include_read)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?
        .into_iter()
        .map(NoticeRow::decode)
        .collect()
    }

    /// Marks every notice read; returns how many were unread.
    pub async fn mark_admin_notices_read(&self, now: i64) -> Result<u64> {
        Ok(with_pool!(&self.write, |pool| sqlx::query(
            "UPDATE admin_notices SET read_at = $1 WHERE read_at IS NULL"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }
}

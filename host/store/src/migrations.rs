//! Migrations are compiled into the binary (one binary is the whole install) and applied by
//! sqlx's migrator, which records them in `_sqlx_migrations` and takes a lock so that several
//! nodes starting together do not race.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::{Backend, Result, Store, with_pool};

/// Told about each migration as it is applied, so the shell can show progress on a long one
/// (the store itself only logs).
pub trait MigrationProgress: Sync {
    /// Migration `version` starts; whatever this returns is dropped when it ends.
    fn started(&self, version: i64, description: &str) -> Box<dyn std::any::Any + Send>;
}

/// Reports nothing beyond the log lines every migration gets.
pub(super) struct Quiet;

impl MigrationProgress for Quiet {
    fn started(&self, _: i64, _: &str) -> Box<dyn std::any::Any + Send> {
        Box::new(())
    }
}

/// (version, description, SQL) per backend. Add a line here with every new migration file;
/// the test below fails if a file in the folder is missing from the list.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "plugins",
        include_str!("../../../migrations/sqlite/0002_plugins.sql"),
    ),
    (
        3,
        "admin notices",
        include_str!("../../../migrations/sqlite/0003_admin_notices.sql"),
    ),
    (
        4,
        "plugin capabilities",
        include_str!("../../../migrations/sqlite/0004_plugin_capabilities.sql"),
    ),
    (
        5,
        "note audiences on notes",
        include_str!("../../../migrations/sqlite/0005_note_audiences.sql"),
    ),
    (
        6,
        "following version",
        include_str!("../../../migrations/sqlite/0006_following_version.sql"),
    ),
    (
        7,
        "plugin key-value usage",
        include_str!("../../../migrations/sqlite/0007_plugin_kv_usage.sql"),
    ),
    (
        8,
        "plugin load errors",
        include_str!("../../../migrations/sqlite/0008_plugin_load_errors.sql"),
    ),
    (
        9,
        "actor keys",
        include_str!("../../../migrations/sqlite/0009_actor_keys.sql"),
    ),
    (
        10,
        "federation",
        include_str!("../../../migrations/sqlite/0010_federation.sql"),
    ),
    (
        11,
        "federation policy",
        include_str!("../../../migrations/sqlite/0011_federation_policy.sql"),
    ),
    (
        12,
        "remote followers count",
        include_str!("../../../migrations/sqlite/0012_remote_followers_count.sql"),
    ),
    (
        13,
        "reactions and custom emoji",
        include_str!("../../../migrations/sqlite/0013_reactions_emojis.sql"),
    ),
    (
        14,
        "remote poll counts",
        include_str!("../../../migrations/sqlite/0014_remote_poll_counts.sql"),
    ),
    (
        15,
        "note tags",
        include_str!("../../../migrations/sqlite/0015_note_tags.sql"),
    ),
    (
        16,
        "blockings",
        include_str!("../../../migrations/sqlite/0016_blockings.sql"),
    ),
    (
        17,
        "registry_items",
        include_str!("../../../migrations/sqlite/0017_registry_items.sql"),
    ),
    (
        18,
        "notifications",
        include_str!("../../../migrations/sqlite/0018_notifications.sql"),
    ),
    (
        19,
        "mutings",
        include_str!("../../../migrations/sqlite/0019_mutings.sql"),
    ),
    (
        20,
        "drive",
        include_str!("../../../migrations/sqlite/0020_drive.sql"),
    ),
    (
        21,
        "search and favorites",
        include_str!("../../../migrations/sqlite/0021_search_favorites.sql"),
    ),
    (
        22,
        "word mutes",
        include_str!("../../../migrations/sqlite/0022_word_mutes.sql"),
    ),
    (
        23,
        "poll ended",
        include_str!("../../../migrations/sqlite/0023_poll_ended.sql"),
    ),
    (
        24,
        "user lists",
        include_str!("../../../migrations/sqlite/0024_user_lists.sql"),
    ),
    (
        25,
        "achievements",
        include_str!("../../../migrations/sqlite/0025_achievements.sql"),
    ),
    (
        26,
        "media-cached hosts",
        include_str!("../../../migrations/sqlite/0026_media_cached_hosts.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "plugins",
        include_str!("../../../migrations/postgres/0002_plugins.sql"),
    ),
    (
        3,
        "admin notices",
        include_str!("../../../migrations/postgres/0003_admin_notices.sql"),
    ),
    (
        4,
        "plugin capabilities",
        include_str!("../../../migrations/postgres/0004_plugin_capabilities.sql"),
    ),
    (
        5,
        "note audiences on notes",
        include_str!("../../../migrations/postgres/0005_note_audiences.sql"),
    ),
    (
        6,
        "following version",
        include_str!("../../../migrations/postgres/0006_following_version.sql"),
    ),
    (
        7,
        "plugin key-value usage",
        include_str!("../../../migrations/postgres/0007_plugin_kv_usage.sql"),
    ),
    (
        8,
        "plugin load errors",
        include_str!("../../../migrations/postgres/0008_plugin_load_errors.sql"),
    ),
    (
        9,
        "actor keys",
        include_str!("../../../migrations/postgres/0009_actor_keys.sql"),
    ),
    (
        10,
        "federation",
        include_str!("../../../migrations/postgres/0010_federation.sql"),
    ),
    (
        11,
        "federation policy",
        include_str!("../../../migrations/postgres/0011_federation_policy.sql"),
    ),
    (
        12,
        "remote followers count",
        include_str!("../../../migrations/postgres/0012_remote_followers_count.sql"),
    ),
    (
        13,
        "reactions and custom emoji",
        include_str!("../../../migrations/postgres/0013_reactions_emojis.sql"),
    ),
    (
        14,
        "remote poll counts",
        include_str!("../../../migrations/postgres/0014_remote_poll_counts.sql"),
    ),
    (
        15,
        "note tags",
        include_str!("../../../migrations/postgres/0015_note_tags.sql"),
    ),
    (
        16,
        "blockings",
        include_str!("../../../migrations/postgres/0016_blockings.sql"),
    ),
    (
        17,
        "registry_items",
        include_str!("../../../migrations/postgres/0017_registry_items.sql"),
    ),
    (
        18,
        "notifications",
        include_str!("../../../migrations/postgres/0018_notifications.sql"),
    ),
    (
        19,
        "mutings",
        include_str!("../../../migrations/postgres/0019_mutings.sql"),
    ),
    (
        20,
        "drive",
        include_str!("../../../migrations/postgres/0020_drive.sql"),
    ),
    (
        21,
        "search and favorites",
        include_str!("../../../migrations/postgres/0021_search_favorites.sql"),
    ),
    (
        22,
        "word mutes",
        include_str!("../../../migrations/postgres/0022_word_mutes.sql"),
    ),
    (
        23,
        "poll ended",
        include_str!("../../../migrations/postgres/0023_poll_ended.sql"),
    ),
    (
        24,
        "user lists",
        include_str!("../../../migrations/postgres/0024_user_lists.sql"),
    ),
    (
        25,
        "achievements",
        include_str!("../../../migrations/postgres/0025_achievements.sql"),
    ),
    (
        26,
        "media-cached hosts",
        include_str!("../../../migrations/postgres/0026_media_cached_hosts.sql"),
    ),
];

#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies pending migrations one at a time, reporting each: a long one (a rewrite of a large
/// table) can show a spinner on a terminal through `progress`.
pub(super) async fn run(store: &Store, progress: &dyn MigrationProgress) -> Result<usize> {
    let list = match store.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // No migrations table yet means nothing applied.
    let applied: Vec<i64> = with_pool!(&store.write, |p| {
        sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(p)
            .await
    })
    .unwrap_or_default();
    let pending: Vec<usize> = (0..list.len())
        .filter(|&i| !applied.contains(&list[i].0))
        .collect();
    if pending.is_empty() {
        // Still let the migrator validate checksums of what was applied.
        let migrator = Migrator::new(Embedded(list)).await?;
        with_pool!(&store.write, |p| migrator.run(p).await)?;
        return Ok(0);
    }
    tracing::info!(pending = pending.len(), "applying database migrations");
    for (n, &i) in pending.iter().enumerate() {
        let (version, description, _) = list[i];
        let started = std::time::Instant::now();
        let _reporting = progress.started(version, description);
        // A migrator over the list up to this one applies exactly this one.
        let migrator = Migrator::new(Embedded(&list[..=i])).await?;
        with_pool!(&store.write, |p| migrator.run(p).await)?;
        tracing::info!(
            version,
            description,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "migration {}/{} applied",
            n + 1,
            pending.len()
        );
    }
    Ok(pending.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = format!("{}/../../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let files = std::fs::read_dir(&path)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .map(|e| e.path().extension().is_some_and(|x| x == "sql"))
                        .unwrap_or(false)
                })
                .count();
            assert_eq!(
                files,
                list.len(),
                "{path} has migrations not listed in migrations.rs"
            );
        }
    }
}

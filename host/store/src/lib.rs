//! Storage: the only crate that knows SQL. One [`Store`] talks to SQLite (the embedded
//! default) or PostgreSQL; both run the same statements (`$n` placeholders work on both) and
//! the per-backend differences live in the migration folders.
//!
//! Rows come out as the model's records (`tsudoi_model::{Note, User, …}`): JSON and enum
//! columns are decoded here, at the boundary, and a column that does not decode is a
//! [`StoreError::Corrupt`], never a silent empty default.

mod achievements;
mod actor_keys;
mod auth;
mod blocks;
pub mod charts;
pub mod drive;
mod emojis;
pub mod favorites;
mod followings;
mod follows;
mod instances;
mod jobs;
mod migrations;
mod mutes;
mod note_writer;
mod notes;
mod notifications;
mod plugin_kv;
mod plugins;
mod policy;
mod reactions;
mod recent_posters;
mod registry;
mod remote;
pub mod search;
mod timelines;
mod token_owners;
mod user_lists;
mod users;
pub mod visibility;
mod word_mutes;

pub use auth::*;
pub use jobs::QueueDepth;
pub use migrations::MigrationProgress;
pub use notes::*;
pub use plugin_kv::KvUsage;
pub use plugins::*;
pub use policy::InstanceRow;
pub use reactions::ReactionTally;
pub use remote::UserFootprint;
pub use timelines::*;
pub use users::*;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// The transaction a write was batched into failed as a whole.
    #[error("write failed: {0}")]
    Batch(String),
    /// A precondition checked inside a transaction failed; nothing was written.
    #[error("{0}")]
    Conflict(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A unique or primary-key constraint refused the write (e.g. a username taken in a race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the database. Cheap to clone.
///
/// SQLite allows one writer at a time; a second writer that upgrades a read transaction gets
/// `SQLITE_BUSY` at once instead of waiting. So writes go through a pool of exactly one
/// connection (they queue in the pool, not in SQLite) and reads use their own pool. On
/// PostgreSQL both handles are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    read: Pool,
    write: Pool,
    note_writer: tokio::sync::mpsc::Sender<note_writer::WriteJob>,
    job_writer: tokio::sync::mpsc::Sender<jobs::Enqueued>,
    recent_posters: std::sync::Arc<recent_posters::RecentPosters>,
    followings: std::sync::Arc<followings::Followings>,
    token_owners: std::sync::Arc<token_owners::TokenOwners>,
}

/// Planner settings for every PostgreSQL connection, each measured on timelines under load:
/// - random reads priced like the SSDs and page caches servers run on (the default of 4
///   assumes spinning disks): otherwise a home timeline scanned every user to find its 200
///   followees' `last_posted_at`, instead of looking those up by key;
/// - one generic plan per prepared statement: every statement here is written for one plan
///   (a listing walks an index in key order), and PostgreSQL otherwise planned each timeline
///   read again for its values, 0.6 ms a read, which held home timelines on the dense seed to
///   1,400 requests/s (3,800 with this).
///
/// Set after connecting rather than as startup options, which connection poolers such as
/// PgBouncer refuse.
const PG_SESSION_SETTINGS: &str =
    "SET random_page_cost = 1.1; SET plan_cache_mode = force_generic_plan";

/// How much of an SQLite database file the readers map: address space, not memory (pages
/// are the operating system's file cache, shared by every reader). 2 GiB is the most SQLite
/// maps unless built otherwise; a larger database is read past it as before.
const READER_MMAP_BYTES: u64 = 2 << 30;

/// A pooled PostgreSQL connection idle for longer than this is pinged before it is handed
/// out; one used more recently is not. sqlx pings every connection it hands out unless told
/// otherwise, and pings it again when it is returned: three round trips for every statement
/// instead of one. The ping on return (which sqlx always does) already drops connections that
/// broke while in use; this catches those the server or a proxy closed while they sat idle.
/// 500 ms is HikariCP's choice for the same check.
const PG_IDLE_CHECK_AFTER: Duration = Duration::from_millis(500);

/// Runs `$body` with `$p` bound to the concrete pool, so one statement serves both backends.
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    /// A statement that, run in a transaction with a user's id, makes concurrent
    /// transactions about that user's belongings (their files, their lists) wait for this
    /// one: it locks the user's row on PostgreSQL. SQLite has one writer at a time already.
    pub(crate) fn lock_user_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Postgres => "SELECT id FROM users WHERE id = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT id FROM users WHERE id = $1",
        }
    }

    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating it.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            sqlite_without_memory_statistics();
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL survives a process kill without losing committed data; only a
                // power loss can drop the last transactions. That is SQLite's recommended pairing.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("temp_store", "memory")
                .log_statements(tracing::log::LevelFilter::Trace);
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            // The writer keeps a large page cache: it is never invalidated by its own commits.
            // No ping before handing out a connection: an SQLite connection is a file handle
            // that cannot go stale, and each ping is a hand-off to its worker thread.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(opts.clone().pragma("cache_size", "-65536"))
                .await?;
            // Readers map the database file instead of copying pages into caches of their
            // own: a reader's page cache is dropped whenever another connection commits, and
            // a home timeline touches index pages all over the file, so with small caches
            // every page was a read() from the operating system's cache; mapped, the readers
            // share those pages, and home timelines under load got 80% faster. (An I/O error
            // under a mapping kills the process instead of failing one query; a server whose
            // disk fails has lost that battle either way.)
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(
                    opts.pragma("cache_size", "-2048")
                        .pragma("mmap_size", READER_MMAP_BYTES.to_string()),
                )
                .await?;
            Ok(Self::new(Pool::Sqlite(read), Pool::Sqlite(write)))
        } else {
            let opts =
                PgConnectOptions::from_str(url)?.log_statements(tracing::log::LevelFilter::Trace);
            // One plain connection first: its error says what is wrong ("connection refused",
            // "password authentication failed") where a pool would only time out.
            match <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts).await {
                Ok(conn) => {
                    let _ = sqlx::Connection::close(conn).await;
                }
                // A fresh instance names a database that does not exist yet: create it, as
                // SQLite creates its file.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
                    use sqlx::migrate::MigrateDatabase;
                    sqlx::Postgres::create_database(url).await?;
                }
                Err(e) => return Err(e.into()),
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        Ok(meta.idle_for < PG_IDLE_CHECK_AFTER
                            || sqlx::Connection::ping(conn).await.is_ok())
                    })
                })
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, PG_SESSION_SETTINGS).await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Self::new(
                Pool::Postgres(pool.clone()),
                Pool::Postgres(pool),
            ))
        }
    }

    fn new(read: Pool, write: Pool) -> Self {
        let token_owners = std::sync::Arc::<token_owners::TokenOwners>::default();
        let note_writer = note_writer::spawn(write.clone(), token_owners.clone());
        let job_writer = jobs::spawn_writer(write.clone());
        Self {
            read,
            write,
            note_writer,
            job_writer,
            recent_posters: Default::default(),
            followings: Default::default(),
            token_owners,
        }
    }

    /// The ids of users whose rows (account, counters, settings) this process changes from
    /// now on, once per change: what other nodes must stop trusting their copies of.
    pub fn user_changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.token_owners.watch()
    }

    /// Drops what this process keeps of the rows of `ids`: another node changed them.
    pub fn forget_users(&self, ids: &[String]) {
        self.token_owners.forget(ids)
    }

    /// `user_id` posted `note_id` (through another node): home timelines read here include
    /// it at once, rather than after the next refresh of who posted lately.
    pub fn observe_post(&self, user_id: &str, note_id: &str) {
        if let Some(at) = tsudoi_model::ids::aidx_time(note_id) {
            self.recent_posters.observe(user_id, at);
        }
    }

    pub fn backend(&self) -> Backend {
        match self.write {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        self.migrate_reporting(&migrations::Quiet).await
    }

    /// Applies pending migrations, telling `progress` as each starts and ends (the shell shows
    /// a spinner for a long one).
    pub async fn migrate_reporting(&self, progress: &dyn MigrationProgress) -> Result<usize> {
        migrations::run(self, progress).await
    }

    pub async fn close(&self) {
        with_pool!(&self.read, |p| p.close().await);
        with_pool!(&self.write, |p| p.close().await);
    }

    /// Checks the database answers; used by the health endpoint.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(&self.read, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// SQLite keeps global statistics of its memory use by default, behind one process-wide
/// mutex that every allocation takes: with a reader connection per core, that mutex
/// serialised the readers (futex waits inside `sqlite3_malloc` topped a profile of the local
/// timeline under load, and turning the statistics off doubled its throughput). Nothing
/// reads them, so they are turned off, once, before SQLite initialises.
fn sqlite_without_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` is called before any connection is opened in this process
        // (this runs before the first one), which is when SQLite allows it; it takes one int.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(code = rc, "SQLite memory statistics stay on");
        }
    });
}

/// Encodes a value as the JSON text stored in `TEXT` columns.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Decodes a JSON `TEXT` column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(column: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

/// Decodes a column holding one of an enum's names.
pub(crate) fn from_name<T: std::str::FromStr<Err = tsudoi_model::UnknownName>>(
    column: &str,
    s: &str,
) -> Result<T> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

/// Encodes a list of values by their names (capabilities, timelines) as a JSON array.
pub(crate) fn names_to_json<T: std::fmt::Display>(list: &[T]) -> String {
    to_json(&list.iter().map(T::to_string).collect::<Vec<_>>())
}

/// Decodes a JSON array of names.
pub(crate) fn names_from_json<T: std::str::FromStr<Err = tsudoi_model::UnknownName>>(
    column: &str,
    s: &str,
) -> Result<Vec<T>> {
    let names: Vec<String> = from_json(column, s)?;
    names.iter().map(|n| from_name(column, n)).collect()
}

/// Builds `$a, $b, …` for an `IN (…)` list whose first placeholder is `$first`.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

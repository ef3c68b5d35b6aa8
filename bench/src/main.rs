//! `tsudoi-bench`: seeds a large instance and measures the server through its HTTP API, each
//! figure printed next to a baseline taken in the same run (the same timeline read called
//! in-process, without HTTP; an empty axum handler on the same client; `meta` under the same
//! concurrency), because these machines are noisy and only ratios travel between runs.
//!
//! `cargo run --release -p tsudoi-bench -- --backend sqlite` (defaults: the standard seed of
//! 10,000 users, 1,000,000 notes over thirty days and 200 follows each, then a dense seed of
//! 40 users who each follow 20 and posted 40,000 notes in the last hour). Seeds are kept and
//! reused by later runs.

mod measure;
mod seed;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use sqlx::{PgPool, SqlitePool};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Which seeds to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SeedKind {
    /// Many users, a month of notes: every figure.
    Standard,
    /// Few users, tens of thousands of notes in the last hour: concurrent reads only.
    Dense,
}

#[derive(Parser, Debug)]
#[command(
    name = "tsudoi-bench",
    about = "Seed a large instance and measure Tsudoi against same-run baselines"
)]
struct Args {
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: Backend,
    /// The seeds to measure, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "standard,dense"
    )]
    seeds: Vec<SeedKind>,
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    #[arg(long, default_value_t = 1_000_000)]
    notes: usize,
    /// Users each user follows.
    #[arg(long, default_value_t = 200)]
    follows: usize,
    /// The dense seed: users, notes (all in the last hour) and follows each.
    #[arg(long, default_value_t = 40)]
    dense_users: usize,
    #[arg(long, default_value_t = 40_000)]
    dense_notes: usize,
    #[arg(long, default_value_t = 20)]
    dense_follows: usize,
    /// Sequential requests per latency figure.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Seconds of sustained notes/create.
    #[arg(long, default_value_t = 10)]
    create_seconds: u64,
    /// Requests in flight during notes/create.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds each concurrent-read figure runs.
    #[arg(long, default_value_t = 5)]
    read_seconds: u64,
    /// Connections of the concurrent-read figures.
    #[arg(long, value_delimiter = ',', default_value = "8,32")]
    read_connections: Vec<usize>,
    /// Only the concurrent reads, on every seed (quicker, when working on reads).
    #[arg(long)]
    reads_only: bool,
    /// Where SQLite seeds are kept.
    #[arg(long, default_value = "target/bench-data")]
    data_dir: PathBuf,
    /// PostgreSQL server (the database name is replaced by one per seed shape).
    #[arg(
        long,
        env = "TSUDOI_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Throw away an existing seed and make a new one.
    #[arg(long)]
    reseed: bool,
    /// The server binary; defaults to `tsudoi` next to this program.
    #[arg(long)]
    server: Option<PathBuf>,
}

/// A raw pool for seeding and baselines.
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let server = match &args.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("tsudoi"),
    };
    anyhow::ensure!(
        server.exists(),
        "server binary {} not found; build it with `cargo build --release --workspace`",
        server.display()
    );
    for kind in &args.seeds {
        let shape = match kind {
            SeedKind::Standard => seed::Shape {
                users: args.users,
                notes: args.notes,
                follows: args.follows,
                span_hours: 30 * 24,
            },
            SeedKind::Dense => seed::Shape {
                users: args.dense_users,
                notes: args.dense_notes,
                follows: args.dense_follows,
                span_hours: 1,
            },
        };
        let (url, local, db) = open_seed(&args, shape).await?;
        let started = tsudoi_model::ids::now_ms();
        let measured = measure::run(&measure::Plan {
            server: server.clone(),
            url,
            backend: format!("{:?}", args.backend).to_lowercase(),
            seed: format!("{kind:?}").to_lowercase(),
            every_figure: *kind == SeedKind::Standard && !args.reads_only,
            shape,
            requests: args.requests,
            create_seconds: args.create_seconds,
            concurrency: args.concurrency,
            read_seconds: args.read_seconds,
            read_connections: args.read_connections.clone(),
            local,
        })
        .await;
        // The seed stays as it was made: the notes this run posted would crowd the newest
        // windows of the next run's timelines.
        let forgotten = seed::forget_run(&db, started).await?;
        eprintln!("removed the {forgotten} notes this run posted");
        measured?;
    }
    let _ = std::fs::remove_dir_all(measure::scratch_dir());
    Ok(())
}

/// The database of `shape`, seeded if it was not already, and the rules over it (for the
/// in-process baselines).
async fn open_seed(
    args: &Args,
    shape: seed::Shape,
) -> anyhow::Result<(String, measure::Local, Db)> {
    let name = format!(
        "tsudoi_bench_{}_{}_{}_{}h",
        shape.users, shape.notes, shape.follows, shape.span_hours
    );
    let url = match args.backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&args.data_dir)?;
            let path = args.data_dir.join(format!("{name}.db"));
            if args.reseed {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
            }
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            let mut u = url::Url::parse(&args.postgres_url)?;
            if args.reseed {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&args.postgres_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut c)
                    .await?;
            }
            u.set_path(&format!("/{name}"));
            u.to_string()
        }
    };
    let store = tsudoi_store::Store::open(&url).await?;
    let db = match args.backend {
        Backend::Sqlite => Db::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    url.parse::<sqlx::sqlite::SqliteConnectOptions>()?
                        .pragma("synchronous", "OFF")
                        .pragma("cache_size", "-262144"),
                )
                .await?,
        ),
        Backend::Postgres => Db::Postgres(PgPool::connect(&url).await?),
    };
    // Plugins the benchmark installs are compiled into a scratch directory of its own.
    let scratch = measure::scratch_dir();
    let config = tsudoi::config::Config::load_with_env(None, |k| match k {
        "TSUDOI_DATABASE_URL" => Some(url.clone()),
        "TSUDOI_DATA_DIR" => Some(scratch.display().to_string()),
        _ => None,
    })?;
    let local = measure::Local {
        core: tsudoi::wiring::core_over(&config, store.clone())?,
        store,
    };
    if seed::is_seeded(&db, shape).await? {
        eprintln!("reusing the seed in {}", tsudoi::config::redact(&url));
        // Timelines are read from now backwards, and the standard seed's first home window
        // (2 h, of which the seed fills the older hour) barely fills a page when fresh:
        // twenty minutes later most pages read a second window, as on a quiet instance.
        let age_min = seed::seed_age_ms(&db, shape).await? / 60_000;
        if age_min > 5 {
            eprintln!(
                "warning: this seed was made {age_min} minutes ago; timeline figures are not \
                 comparable with a fresh seed's (--reseed)"
            );
        }
    } else {
        anyhow::ensure!(
            local.store.count_local_users().await? == 0,
            "{} holds a partial or different seed; run again with --reseed",
            tsudoi::config::redact(&url)
        );
        let hash = seed::password_hash(&local).await?;
        seed::seed(&db, shape, &hash).await?;
    }
    Ok((url, local, db))
}

//! What the benchmark binaries share: the measured server, started from the `tsudoi` next
//! to the benchmark on fresh SQLite data, and waiting for it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

/// A running `tsudoi serve`, killed when dropped.
pub struct Measured {
    pub process: tokio::process::Child,
    pub origin: String,
    pub database_url: String,
}

/// Starts the `tsudoi` beside this binary on a free loopback port over fresh data in
/// `data_dir` (made empty first), with `env` added, and waits until it answers. Its log is
/// quiet unless `TSUDOI_LOG` asks otherwise (`warn,sqlx::query=debug` lists statements).
pub async fn start_server(data_dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Measured> {
    let _ = std::fs::remove_dir_all(data_dir);
    std::fs::create_dir_all(data_dir)?;
    let server_bin = std::env::current_exe()?.with_file_name("tsudoi");
    let port = free_port().await?;
    let origin = format!("http://127.0.0.1:{port}");
    let database_url = format!("sqlite://{}", data_dir.join("tsudoi.db").display());
    let process = tokio::process::Command::new(&server_bin)
        .arg("serve")
        .env("TSUDOI_LISTEN", format!("127.0.0.1:{port}"))
        .env("TSUDOI_DATA_DIR", data_dir)
        .env("TSUDOI_DATABASE_URL", &database_url)
        .env(
            "TSUDOI_LOG",
            std::env::var("TSUDOI_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", server_bin.display()))?;
    wait_healthy(&format!("{origin}/healthz")).await?;
    Ok(Measured {
        process,
        origin,
        database_url,
    })
}

/// A loopback port nothing listens on now.
pub async fn free_port() -> anyhow::Result<u16> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(l.local_addr()?.port())
}

/// Waits up to a minute for `url` (a server's `/healthz`) to answer 2xx.
pub async fn wait_healthy(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{url} did not answer")
}

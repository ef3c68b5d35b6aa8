//! What the benchmark binaries share: the measured server, started from the `tsudoi` next
//! to the benchmark on fresh SQLite data, and waiting for it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

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

/// A streaming connection of a benchmark's.
pub type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/streaming` on `origin` as `token`'s owner and connects `channel`, waiting until
/// the server says it is connected.
pub async fn open_stream(origin: &str, token: &str, channel: &str) -> anyhow::Result<Stream> {
    let url = format!("{}/streaming?i={token}", origin.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .context("cannot open a stream")?;
    let connect = serde_json::json!({
        "type": "connect",
        "body": {"channel": channel, "id": "tl", "params": {}, "pong": true},
    });
    ws.send(Message::Text(connect.to_string().into())).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("\"connected\"") => return Ok(ws),
            Some(Ok(_)) => {}
            _ => bail!("the stream closed before connecting"),
        }
    }
}

/// The number right after `marker` in `text` (a timed note's "bench-12"), if any.
pub fn number_after(text: &str, marker: &str) -> Option<usize> {
    let at = text.find(marker)? + marker.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The `p`-th quantile (0 to 1) of `sorted` latencies; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Makes local user `username` with API token `token` straight in the database (a
/// benchmark's users, made faster than sign-ups); returns their id.
pub async fn make_user(
    store: &tsudoi_store::Store,
    username: &str,
    token: &str,
) -> anyhow::Result<String> {
    let id = tsudoi_model::ids::aidx();
    store
        .create_local_user(
            &tsudoi_store::NewLocalUser {
                id: &id,
                username,
                password_hash: "x",
                token,
                is_admin: false,
                created_at: tsudoi_model::ids::now_ms(),
            },
            None,
        )
        .await?;
    Ok(id)
}

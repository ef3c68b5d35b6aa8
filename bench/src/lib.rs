//! What the benchmark binaries share.

use std::time::{Duration, Instant};

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

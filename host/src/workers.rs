//! What a server does in the background, beside answering requests.

use std::time::Duration;

use tsudoi_core::Core;

/// Loads the installed plugins now, then keeps looking for changes (installs, upgrades,
/// configuration) made by the shell, the admin API or another server, every second.
pub async fn watch_plugins(core: &Core) {
    if let Err(e) = core.refresh_plugins().await {
        tracing::error!(error = %e, "cannot load plugins");
    }
    let core = core.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = core.refresh_plugins().await {
                tracing::warn!(error = %e, "plugin refresh failed");
            }
        }
    });
}

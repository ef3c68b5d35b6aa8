//! What a server does in the background, beside answering requests.

use std::time::Duration;

use tsudoi_core::Core;

/// Loads the installed plugins, then keeps looking for changes (installs, upgrades,
/// configuration) made by the shell, the admin API or another server, every second. Returns
/// at once: the server answers while its plugins load (a plugin can take up to its load
/// deadline, or longer to compile the first time), and notes wait for the moderation chain.
pub fn watch_plugins(core: &Core) {
    core.expect_plugins();
    let core = core.clone();
    tokio::spawn(async move {
        // The first tick is at once.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = core.refresh_plugins().await {
                tracing::warn!(error = %e, "plugin refresh failed");
            }
        }
    });
}

/// Tells the people of ended polls (`pollEnded`) within seconds of the end: the sweep is
/// one indexed read when nothing ended, and each poll is claimed once whichever node runs it.
pub fn announce_ended_polls(core: &Core) {
    let core = core.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = tsudoi_core::notifications::announce_ended_polls(&core).await {
                tracing::warn!(error = %e, "announcing ended polls failed");
            }
        }
    });
}

/// Removes ended mutes every minute. They hide nothing once ended (every read checks the
/// end), so this only keeps the table small and `mute/list` current.
pub fn clear_ended_mutes(core: &Core) {
    let core = core.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = tsudoi_core::mutes::clear_ended(&core).await {
                tracing::warn!(error = %e, "clearing ended mutes failed");
            }
        }
    });
}

/// Every six hours (the first ten minutes after start), removes stored files no record
/// names and older than an hour (`tsudoi_core::drive::sweep_orphans`). On several nodes each
/// sweeps; removing a file twice is no harm.
pub fn sweep_orphan_blobs(core: &Core) {
    let core = core.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(600)).await;
        let mut tick = tokio::time::interval(Duration::from_secs(6 * 3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match tsudoi_core::drive::sweep_orphans(&core, Duration::from_secs(3600)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed stored files no record names"),
                Err(e) => tracing::warn!(error = %e, "sweeping orphan files failed"),
            }
        }
    });
}

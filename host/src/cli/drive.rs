//! `tsudoi drive`: looking after the stored files.

use std::time::Duration;

use clap::Subcommand;
use tsudoi::config::Config;

#[derive(Subcommand)]
pub enum DriveCommand {
    /// Remove stored files no record names (left by a crash between a file's bytes and its
    /// record, or a failed removal). Running servers do this every six hours by themselves.
    Sweep {
        /// Only files written at least this many hours ago (uploads in flight are younger).
        #[arg(long, default_value_t = 1)]
        older_than_hours: u64,
    },
}

pub async fn run(config: Config, cmd: DriveCommand) -> anyhow::Result<()> {
    let core = tsudoi::wiring::open(&config).await?;
    match cmd {
        DriveCommand::Sweep { older_than_hours } => {
            let min_age = Duration::from_secs(older_than_hours.saturating_mul(3600));
            let removed = tsudoi_core::drive::sweep_orphans(&core, min_age).await?;
            println!("removed {removed} stored file(s) no record names");
        }
    }
    core.close().await;
    Ok(())
}

//! The shell commands, one module per family: the server itself, accounts and invitations,
//! plugins, and MFM tools.

mod accounts;
mod drive;
mod mfm;
mod plugin;
mod scaffold;
mod server;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use tsudoi::config::Config;

/// Tsudoi: a Misskey-compatible social network server with WebAssembly plugins.
///
/// With no configuration, `tsudoi serve` listens on 127.0.0.1:3000 and keeps everything in
/// ./data (a SQLite database). Settings come from a TOML file (--config) and TSUDOI_*
/// environment variables: TSUDOI_LISTEN, TSUDOI_URL, TSUDOI_DATA_DIR, TSUDOI_DATABASE_URL,
/// TSUDOI_REDIS_URL, TSUDOI_REGISTRATION (open, invite-only, closed), TSUDOI_MAX_NOTE_LENGTH,
/// TSUDOI_INSTANCE_NAME.
#[derive(Parser)]
#[command(name = "tsudoi", version, about, long_about)]
pub struct Cli {
    /// TOML configuration file; environment variables override it.
    #[arg(long, global = true, env = "TSUDOI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage invitation codes (for `registration = "invite-only"`).
    #[command(subcommand)]
    Invite(accounts::InviteCommand),
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Manage plugins (WebAssembly components). Running servers pick changes up within a
    /// second, without a restart.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Look after the drive's stored files.
    #[command(subcommand)]
    Drive(drive::DriveCommand),
    /// MFM tools for plugin authors and debugging; they read MFM on standard input.
    #[command(subcommand)]
    Mfm(mfm::MfmCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Parsing MFM needs no configuration at all.
    if let Command::Mfm(mfm::MfmCommand::Parse { simple, nest_limit }) = &cli.command {
        return mfm::parse(*simple, *nest_limit);
    }
    let config = Config::load(cli.config.as_deref()).context("invalid configuration")?;
    match cli.command {
        Command::Serve => server::serve(config).await,
        Command::Migrate => server::migrate(config).await,
        Command::Config => {
            server::print_config(&config);
            Ok(())
        }
        Command::User(cmd) => accounts::user(config, cmd).await,
        Command::Invite(cmd) => accounts::invite(config, cmd).await,
        Command::Plugin(cmd) => plugin::run(config, cmd).await,
        Command::Drive(cmd) => drive::run(config, cmd).await,
        Command::Mfm(cmd) => mfm::run(config, cmd),
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .context("cannot read standard input")?;
    Ok(input)
}

//! `tsudoi user` and `tsudoi invite`: accounts made by the operator.

use anyhow::Context;
use clap::Subcommand;

use tsudoi::config::Config;
use tsudoi_core::accounts::{self, Origin};
use tsudoi_core::{admin, random_token};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a local account and print its API token.
    Create {
        /// 1–20 letters, digits or underscores.
        username: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Password; a random one is generated and printed if omitted.
        #[arg(long, env = "TSUDOI_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum InviteCommand {
    /// Create an invitation code and print it.
    Create {
        /// Days until the code expires; never if omitted.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

pub async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        username,
        admin,
        password,
    } = cmd;
    let core = tsudoi::wiring::open(&config).await?;
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| random_token(20));
    let (user, token) =
        accounts::create_account(&core, &username, &password, Origin::Shell { admin })
            .await
            .with_context(|| format!("cannot create user {username}"))?;
    println!("created @{} (id {})", user.username, user.id);
    if generated {
        println!("password: {password}");
    }
    println!("token: {token}");
    Ok(())
}

pub async fn invite(config: Config, cmd: InviteCommand) -> anyhow::Result<()> {
    let InviteCommand::Create { expires_in_days } = cmd;
    let core = tsudoi::wiring::open(&config).await?;
    println!(
        "{}",
        admin::create_invitation(&core, expires_in_days).await?
    );
    Ok(())
}

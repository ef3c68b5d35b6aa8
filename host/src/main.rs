//! The `tsudoi` command: run the server and administer it from the shell.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use tsudoi::app::App;
use tsudoi::config::Config;
use tsudoi::core::accounts::{self, Origin};
use tsudoi::core::{ids, random_token};

/// Tsudoi: a Misskey-compatible social network server with WebAssembly plugins.
///
/// With no configuration, `tsudoi serve` listens on 127.0.0.1:3000 and keeps everything in
/// ./data (a SQLite database). Settings come from a TOML file (--config) and TSUDOI_*
/// environment variables: TSUDOI_LISTEN, TSUDOI_URL, TSUDOI_DATA_DIR, TSUDOI_DATABASE_URL,
/// TSUDOI_REDIS_URL, TSUDOI_REGISTRATION (open, invite-only, closed), TSUDOI_MAX_NOTE_LENGTH,
/// TSUDOI_INSTANCE_NAME.
#[derive(Parser)]
#[command(name = "tsudoi", version, about, long_about)]
struct Cli {
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
    User(UserCommand),
    /// Manage invitation codes (for `registration = "invite-only"`).
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Manage plugins (WebAssembly components). Running servers pick changes up within a
    /// second, without a restart.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// MFM tools for plugin authors and debugging; they read MFM on standard input.
    #[command(subcommand)]
    Mfm(MfmCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Install a plugin from a .wasm component, or upgrade the installed one of the same name
    /// (keeping its place, grants, timelines and, unless a new one is given, configuration).
    Install {
        file: PathBuf,
        /// The plugin's configuration as JSON, checked against the schema it declares and
        /// then by the plugin itself before anything is installed. (`--config` names the
        /// server's configuration file.)
        #[arg(long = "plugin-config", value_name = "JSON")]
        plugin_config: Option<String>,
        /// The manifest (TOML), for components that do not embed one.
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Reject notes when the plugin fails, instead of accepting and flagging them.
        #[arg(long)]
        fail_closed: bool,
        /// Place in the chain (lowest runs first).
        #[arg(long, default_value_t = 0)]
        position: i64,
    },
    /// Run a moderation plugin on fixture notes without a server and print its verdicts
    /// (JSON lines): for plugin authors testing offline. Compiled code is cached under
    /// `<data_dir>/plugin-cache`, as a server caches it.
    Test {
        /// The .wasm component.
        file: PathBuf,
        /// A JSON array of notes: `{"text", "cw"?, "visibility"?}` each.
        #[arg(long)]
        notes: PathBuf,
        #[arg(long = "plugin-config", value_name = "JSON")]
        plugin_config: Option<String>,
    },
    /// Poll a bridge plugin once without a server and print what it would import (JSON):
    /// for bridge authors. It runs as a server would run it: with the bridge poll deadline,
    /// the granted capabilities only, `kv` in this server's database and `http` through the
    /// guarded client.
    Poll {
        /// The .wasm component.
        file: PathBuf,
        /// The cursor the previous batch returned.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long = "plugin-config", value_name = "JSON")]
        plugin_config: Option<String>,
        /// The manifest (TOML), for components that do not embed one.
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Capabilities to grant for this run (`kv`, `http:HOST[:PORT]`).
        #[arg(long = "grant", value_name = "CAPABILITY")]
        grants: Vec<String>,
    },
    /// List installed plugins, and notices about them.
    List,
    Enable {
        name: String,
    },
    Disable {
        name: String,
    },
    /// Replace a plugin's configuration (JSON); the schema and the plugin check it first.
    Configure {
        name: String,
        #[arg(value_name = "JSON")]
        settings: String,
    },
    /// Grant capabilities (`kv`, `raw-activity`, `http:HOST[:PORT]`). A plugin gets those it
    /// both requests in its manifest and is granted.
    Grant {
        name: String,
        #[arg(required = true)]
        capabilities: Vec<String>,
    },
    /// Withdraw granted capabilities.
    Revoke {
        name: String,
        #[arg(required = true)]
        capabilities: Vec<String>,
    },
    /// Make a ranking plugin rank these timelines (`local`, `global`); none stops ranking.
    Rank {
        name: String,
        timelines: Vec<String>,
    },
    Remove {
        name: String,
    },
}

#[derive(Subcommand)]
enum MfmCommand {
    /// Print the tree as JSON, in mfm-js's shape (one array for the whole input).
    Parse {
        /// Use the simple parser (text and emoji only), as for display names.
        #[arg(long)]
        simple: bool,
        /// Nesting limit (mfm-js's default is 20).
        #[arg(long, default_value_t = tsudoi_mfm::DEFAULT_NEST_LIMIT)]
        nest_limit: usize,
    },
    /// Print the HTML this server renders (links point at the configured URL).
    Render {
        /// Print plain text instead of HTML.
        #[arg(long)]
        text: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
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
enum InviteCommand {
    /// Create an invitation code and print it.
    Create {
        /// Days until the code expires; never if omitted.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn read_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .context("cannot read standard input")?;
    Ok(input)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TSUDOI_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain on one line: what failed, then why.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Mfm(MfmCommand::Parse { simple, nest_limit }) = &cli.command {
        let input = read_stdin()?;
        let tree = if *simple {
            tsudoi_mfm::parse_simple(&input)
        } else {
            tsudoi_mfm::parse_with_nest_limit(&input, *nest_limit)
        };
        println!("{}", tsudoi_mfm::to_json(&tree));
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref()).context("invalid configuration")?;
    match cli.command {
        Command::Mfm(MfmCommand::Parse { .. }) => unreachable!("handled above"),
        Command::Mfm(MfmCommand::Render { text }) => {
            let tree = tsudoi_mfm::parse(&read_stdin()?);
            if text {
                println!("{}", tsudoi_mfm::to_text(&tree));
            } else {
                println!(
                    "{}",
                    tsudoi::api::entities::render_mfm(&config, &tree, None)
                );
            }
            Ok(())
        }
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = tsudoi::store::Store::connect(&config.database_url).await?;
            let applied = store.migrate().await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            username,
            admin,
            password,
        }) => {
            let app = App::build(config).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| random_token(20));
            let (user, token) =
                accounts::create_account(&app, &username, &password, Origin::Shell { admin })
                    .await
                    .with_context(|| format!("cannot create user {username}"))?;
            println!("created @{} (id {})", user.username, user.id);
            if generated {
                println!("password: {password}");
            }
            println!("token: {token}");
            Ok(())
        }
        Command::Invite(InviteCommand::Create { expires_in_days }) => {
            let app = App::build(config).await?;
            let code = random_token(16);
            let now = ids::now_ms();
            let expires = expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
            app.store
                .create_invitation_code(&code, None, now, expires)
                .await?;
            println!("{code}");
            Ok(())
        }
        Command::Plugin(cmd) => plugin_command(config, cmd).await,
        Command::Config => {
            println!("listen = \"{}\"", config.listen);
            println!("url = \"{}\"", config.base_url());
            println!("data_dir = \"{}\"", config.data_dir.display());
            println!(
                "database_url = \"{}\"",
                tsudoi::config::redact(&config.database_url)
            );
            println!("registration = \"{:?}\"", config.registration);
            println!("max_note_length = {}", config.max_note_length);
            Ok(())
        }
    }
}

async fn plugin_command(config: Config, cmd: PluginCommand) -> anyhow::Result<()> {
    use tsudoi::core::plugins;
    use tsudoi::store::PluginChange;
    if let PluginCommand::Test {
        file,
        notes,
        plugin_config,
    } = cmd
    {
        let cache = tsudoi::app::plugin_cache_dir(&config);
        return plugin_test(&file, &notes, plugin_config, cache).await;
    }
    if let PluginCommand::Poll {
        file,
        cursor,
        plugin_config,
        manifest,
        grants,
    } = cmd
    {
        let manifest = manifest
            .map(|path| {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                tsudoi::plugins::manifest::Manifest::parse(&text)
                    .with_context(|| format!("{} is not a valid manifest", path.display()))
            })
            .transpose()?;
        let options = tsudoi::plugins::LoadOptions {
            config: plugin_config,
            cache: Some(tsudoi::app::plugin_cache_dir(&config)),
            manifest,
            grants,
            services: None,
            deadline: Some(config.plugin_deadlines.bridge),
        };
        return plugin_poll(config, &file, cursor, options).await;
    }
    let store = tsudoi::store::Store::open(&config.database_url).await?;
    let cache = tsudoi::app::plugin_cache_dir(&config);
    let installed = |name: &str| {
        let store = store.clone();
        let name = name.to_owned();
        async move {
            store
                .plugin(&name)
                .await?
                .with_context(|| format!("no plugin named {name}"))
        }
    };
    let enable = matches!(cmd, PluginCommand::Enable { .. });
    let grant = matches!(cmd, PluginCommand::Grant { .. });
    match cmd {
        PluginCommand::Install {
            file,
            plugin_config,
            manifest,
            fail_closed,
            position,
        } => {
            let wasm =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let manifest = manifest
                .map(|m| {
                    std::fs::read_to_string(&m)
                        .with_context(|| format!("cannot read {}", m.display()))
                })
                .transpose()?;
            let done = plugins::install(
                &store,
                &cache,
                plugins::Install {
                    wasm,
                    manifest,
                    config: plugin_config,
                    fail_closed,
                    position,
                },
            )
            .await
            .with_context(|| format!("{} cannot be installed", file.display()))?;
            println!(
                "{} {} {} ({})",
                if done.upgraded {
                    "upgraded"
                } else {
                    "installed"
                },
                done.name,
                done.version,
                done.kind
            );
            if !done.requested_capabilities.is_empty() {
                println!(
                    "it requests: {} (grant with `tsudoi plugin grant {} ...`)",
                    done.requested_capabilities.join(" "),
                    done.name
                );
            }
        }
        PluginCommand::Test { .. } | PluginCommand::Poll { .. } => {
            unreachable!("handled above")
        }
        PluginCommand::List => {
            for n in store.admin_notices(false, 100).await? {
                println!("notice ({}): {}", n.kind, n.message);
            }
            for p in store.list_plugins().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\tposition {}\tgrants {}\ttimelines {}",
                    p.name,
                    p.version,
                    p.kind,
                    if p.enabled { "enabled" } else { "disabled" },
                    p.failure_policy,
                    p.position,
                    p.grants,
                    p.timelines
                );
            }
        }
        PluginCommand::Enable { name } | PluginCommand::Disable { name } => {
            plugins::update(
                &store,
                &name,
                PluginChange {
                    enabled: Some(enable),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot change {name}"))?;
            println!("{} {name}", if enable { "enabled" } else { "disabled" });
        }
        PluginCommand::Configure { name, settings } => {
            plugins::configure(&store, &cache, &name, Some(settings))
                .await
                .with_context(|| format!("{name} was not reconfigured"))?;
            println!("configured {name}");
        }
        PluginCommand::Grant { name, capabilities }
        | PluginCommand::Revoke { name, capabilities } => {
            let row = installed(&name).await?;
            let mut grants: Vec<String> = serde_json::from_str(&row.grants).unwrap_or_default();
            grants.retain(|g| !capabilities.contains(g));
            if grant {
                grants.extend(capabilities);
            }
            plugins::update(
                &store,
                &name,
                PluginChange {
                    grants: Some(&grants),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot change the grants of {name}"))?;
            println!("{name} is granted: {}", grants.join(" "));
        }
        PluginCommand::Rank { name, timelines } => {
            plugins::update(
                &store,
                &name,
                PluginChange {
                    timelines: Some(&timelines),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot assign timelines to {name}"))?;
            println!("{name} ranks: {}", timelines.join(" "));
        }
        PluginCommand::Remove { name } => {
            plugins::remove(&store, &name)
                .await
                .with_context(|| format!("cannot remove {name}"))?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// `tsudoi plugin test`: no database, no server; the plugin runs exactly as it would in one.
/// Compiled code is cached as a server caches it, so testing again after an edit of the
/// fixtures (or of another plugin) does not compile again.
async fn plugin_poll(
    config: Config,
    file: &std::path::Path,
    cursor: Option<String>,
    mut options: tsudoi::plugins::LoadOptions,
) -> anyhow::Result<()> {
    use tsudoi::plugins::bridge::BridgePlugin;
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = tsudoi::store::Store::open(&config.database_url).await?;
    options.services = Some(tsudoi::app::App::with_store(config, store).plugin_services());
    let batch = tokio::task::spawn_blocking(move || {
        let plugin = BridgePlugin::load(&wasm, options)?;
        anyhow::Ok(plugin.poll(cursor.as_deref())?)
    })
    .await?
    .with_context(|| format!("{} did not answer the poll", file.display()))?;
    let actors: Vec<_> = batch
        .actors
        .iter()
        .map(|a| {
            serde_json::json!({
                "remote_id": a.remote_id, "handle": a.handle, "display_name": a.display_name,
                "bio": a.bio, "avatar_url": a.avatar_url,
            })
        })
        .collect();
    let posts: Vec<_> = batch
        .posts
        .iter()
        .map(|p| {
            serde_json::json!({
                "remote_id": p.remote_id, "author_remote_id": p.author_remote_id,
                "text": p.text, "reply_to_remote_id": p.reply_to_remote_id,
                "attachment_urls": p.attachment_urls, "created_at": p.created_at,
            })
        })
        .collect();
    let out = serde_json::json!({
        "actors": actors,
        "posts": posts,
        "deleted_remote_ids": batch.deleted_remote_ids,
        "next_cursor": batch.next_cursor,
        "poll_after_seconds": batch.poll_after_seconds,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn plugin_test(
    file: &std::path::Path,
    notes: &std::path::Path,
    plugin_config: Option<String>,
    cache: PathBuf,
) -> anyhow::Result<()> {
    use tsudoi::core::visibility::Visibility;
    use tsudoi::plugins::moderation::{self as m, ModerationPlugin};
    #[derive(serde::Deserialize)]
    struct Fixture {
        text: Option<String>,
        cw: Option<String>,
        #[serde(default)]
        visibility: Option<String>,
    }
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let fixtures: Vec<Fixture> = serde_json::from_str(
        &std::fs::read_to_string(notes)
            .with_context(|| format!("cannot read {}", notes.display()))?,
    )
    .with_context(|| format!("{} is not a JSON array of notes", notes.display()))?;
    let options = tsudoi::plugins::LoadOptions {
        config: plugin_config,
        cache: Some(cache),
        ..Default::default()
    };
    let plugin = tokio::task::spawn_blocking(move || ModerationPlugin::load(&wasm, options))
        .await?
        .with_context(|| format!("{} cannot be loaded", file.display()))?;
    let plugin = std::sync::Arc::new(plugin);
    let ctx = m::offline_context("fixture", "fixture");
    for (i, f) in fixtures.into_iter().enumerate() {
        let visibility = match f.visibility.as_deref() {
            None => Visibility::Public,
            Some(s) => {
                Visibility::parse(s).with_context(|| format!("note {i}: unknown visibility {s}"))?
            }
        };
        let id = format!("fixture{i}");
        let note = m::NoteFacts {
            id: &id,
            author_id: "fixture",
            text: f.text.as_deref(),
            cw: f.cw.as_deref(),
            visibility: visibility.into(),
            local_only: false,
            reply_to: None,
            renote_of: None,
            created_at: 0,
        }
        .to_note()
        .into();
        // On a blocking thread, as in a server: WASI output (a plugin's print, a traceback)
        // waits for the runtime there.
        let (p, c) = (plugin.clone(), ctx.clone());
        let outcome = tokio::task::spawn_blocking(move || p.check_note(&c, &note)).await?;
        let verdict = match outcome {
            Ok(m::Verdict::Accept) => serde_json::json!({ "verdict": "accept" }),
            Ok(m::Verdict::Reject(reason)) => {
                serde_json::json!({ "verdict": "reject", "reason": reason })
            }
            Ok(m::Verdict::Flag(reason)) => {
                serde_json::json!({ "verdict": "flag", "reason": reason })
            }
            Ok(m::Verdict::Rewrite(n)) => serde_json::json!({
                "verdict": "rewrite", "text": n.text, "cw": n.content_warning,
            }),
            Err(e) => serde_json::json!({ "verdict": "error", "error": e.to_string() }),
        };
        println!(
            "{}",
            serde_json::json!({ "note": i, "text": f.text, "result": verdict })
        );
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let app = App::build(config).await?;
    app.watch_plugins().await;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listen, url = %app.config.base_url(), "tsudoi is listening");
    let router =
        tsudoi::api::router(app.clone()).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

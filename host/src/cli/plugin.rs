//! `tsudoi plugin`: install, configure, grant, order and remove plugins (through the core,
//! as the admin API does), and run one offline for its author (`test`, `poll`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use tsudoi::config::Config;
use tsudoi_core::plugins::{self, Change};
use tsudoi_model::{Capability, FailurePolicy, RankedTimeline, Visibility};
use tsudoi_plugin_host::LoadOptions;
use tsudoi_plugin_host::manifest::Manifest;
use tsudoi_plugin_host::scratch::RecordedHttp;

#[derive(Subcommand)]
pub enum PluginCommand {
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
    /// Create a moderation plugin crate NAME that builds, tests and installs as it is: rules
    /// in plain Rust with tests, the component, a manifest, fixtures, and a copy of the SDK and
    /// WIT this server serves (or, with --sdk, a path dependency on a checkout's sdk/).
    New {
        name: String,
        /// Where to create it (by default ./NAME); must not exist or be empty.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The sdk/ folder of a Tsudoi checkout to depend on instead of a copy.
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Run a moderation plugin on fixture notes without a server and print its verdicts
    /// (JSON lines): for plugin authors testing offline. Compiled code is cached under
    /// `~/.cache/tsudoi/plugin-cache` (or `$XDG_CACHE_HOME/tsudoi/plugin-cache`).
    Test {
        /// The .wasm component.
        file: PathBuf,
        /// A JSON array of notes: `text`, `cw`, `visibility`, `localOnly`, `replyTo`,
        /// `renoteOf` and `author` (`username`, `host`, `name`, `isBot`, `isLocked`,
        /// `accountAgeDays`, `followers`, `following`, `notes`), each optional.
        #[arg(long)]
        notes: PathBuf,
        #[arg(long = "plugin-config", value_name = "JSON")]
        plugin_config: Option<String>,
        /// Capabilities to grant for this run: `kv` is a store in memory that lasts the run
        /// (kept across the notes, with the server's quota); `http:HOST` reaches only the
        /// answers given with --http-answers, never the network.
        #[arg(long = "grant", value_name = "CAPABILITY")]
        grants: Vec<Capability>,
        /// Recorded HTTP answers (JSON): `{"URL": {"status"?, "headers"?, "body"?}}`.
        #[arg(long = "http-answers", value_name = "FILE")]
        http_answers: Option<PathBuf>,
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
        grants: Vec<Capability>,
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
        capabilities: Vec<Capability>,
    },
    /// Withdraw granted capabilities.
    Revoke {
        name: String,
        #[arg(required = true)]
        capabilities: Vec<Capability>,
    },
    /// Make a ranking plugin rank these timelines (`local`, `global`); none stops ranking.
    Rank {
        name: String,
        timelines: Vec<RankedTimeline>,
    },
    Remove {
        name: String,
    },
}

fn read_manifest(path: Option<PathBuf>) -> anyhow::Result<Option<Manifest>> {
    path.map(|path| {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Manifest::parse(&text)
            .with_context(|| format!("{} is not a valid manifest", path.display()))
    })
    .transpose()
}

fn read_wasm(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

fn names<T: std::fmt::Display>(list: &[T]) -> String {
    list.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
}

pub async fn run(config: Config, cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Test {
            file,
            notes,
            plugin_config,
            grants,
            http_answers,
        } => {
            let answers = match http_answers {
                Some(path) => RecordedHttp::from_json(
                    &std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                None => RecordedHttp::default(),
            };
            let services = tsudoi_plugin_host::scratch::offline_services(answers);
            return test(
                &file,
                &notes,
                plugin_config,
                grants,
                services,
                author_cache_dir(),
            )
            .await;
        }
        PluginCommand::New { name, dir, sdk } => {
            return super::scaffold::new_plugin(&name, dir, sdk);
        }
        PluginCommand::Poll {
            file,
            cursor,
            plugin_config,
            manifest,
            grants,
        } => {
            let options = LoadOptions {
                config: plugin_config,
                cache: Some(config.settings.plugin_cache.clone()),
                manifest: read_manifest(manifest)?,
                grants,
                services: None,
                deadline: Some(config.settings.plugin_deadlines.bridge),
            };
            return poll(config, &file, cursor, options).await;
        }
        _ => {}
    }
    let core = tsudoi::wiring::open(&config).await?;
    match cmd {
        PluginCommand::Test { .. } | PluginCommand::Poll { .. } | PluginCommand::New { .. } => {
            unreachable!("run without a database above")
        }
        PluginCommand::Install {
            file,
            plugin_config,
            manifest,
            fail_closed,
            position,
        } => {
            let wasm = read_wasm(&file)?;
            let manifest = manifest
                .map(|m| {
                    std::fs::read_to_string(&m)
                        .with_context(|| format!("cannot read {}", m.display()))
                })
                .transpose()?;
            let done = plugins::install(
                &core,
                plugins::Install {
                    wasm,
                    manifest,
                    config: plugin_config,
                    failure_policy: if fail_closed {
                        FailurePolicy::FailClosed
                    } else {
                        FailurePolicy::FailOpen
                    },
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
                    names(&done.requested_capabilities),
                    done.name
                );
            }
        }
        PluginCommand::List => {
            for n in plugins::notices(&core, false, 100).await? {
                println!("notice ({}): {}", n.kind, n.message);
            }
            for p in plugins::list(&core).await? {
                let state = match (p.enabled, &p.load_error) {
                    (false, _) => "disabled".to_owned(),
                    (true, None) => "enabled".to_owned(),
                    (true, Some(why)) => format!("enabled but not loaded ({why})"),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\tposition {}\tgrants {}\ttimelines {}",
                    p.name,
                    p.version,
                    p.kind,
                    state,
                    p.failure_policy,
                    p.position,
                    serde_json::to_string(&p.grants)?,
                    serde_json::to_string(&p.timelines)?
                );
            }
        }
        PluginCommand::Enable { name } => enable(&core, &name, true).await?,
        PluginCommand::Disable { name } => enable(&core, &name, false).await?,
        PluginCommand::Configure { name, settings } => {
            plugins::configure(&core, &name, Some(settings))
                .await
                .with_context(|| format!("{name} was not reconfigured"))?;
            println!("configured {name}");
        }
        PluginCommand::Grant { name, capabilities } => {
            grant(&core, &name, capabilities, true).await?
        }
        PluginCommand::Revoke { name, capabilities } => {
            grant(&core, &name, capabilities, false).await?
        }
        PluginCommand::Rank { name, timelines } => {
            plugins::update(
                &core,
                &name,
                Change {
                    timelines: Some(timelines.clone()),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot assign timelines to {name}"))?;
            println!("{name} ranks: {}", names(&timelines));
        }
        PluginCommand::Remove { name } => {
            plugins::remove(&core, &name)
                .await
                .with_context(|| format!("cannot remove {name}"))?;
            println!("removed {name}");
        }
    }
    Ok(())
}

async fn enable(core: &tsudoi_core::Core, name: &str, enabled: bool) -> anyhow::Result<()> {
    plugins::update(
        core,
        name,
        Change {
            enabled: Some(enabled),
            ..Default::default()
        },
    )
    .await
    .with_context(|| format!("cannot change {name}"))?;
    println!("{} {name}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}

/// Adds (`grant`) or withdraws `capabilities` from what `name` is granted.
async fn grant(
    core: &tsudoi_core::Core,
    name: &str,
    capabilities: Vec<Capability>,
    grant: bool,
) -> anyhow::Result<()> {
    let mut grants = plugins::installed(core, name)
        .await
        .with_context(|| format!("no plugin named {name}"))?
        .grants;
    grants.retain(|g| !capabilities.contains(g));
    if grant {
        grants.extend(capabilities);
    }
    plugins::update(
        core,
        name,
        Change {
            grants: Some(grants.clone()),
            ..Default::default()
        },
    )
    .await
    .with_context(|| format!("cannot change the grants of {name}"))?;
    println!("{name} is granted: {}", names(&grants));
    Ok(())
}

/// What `tsudoi plugin poll` prints: the batch the bridge would import.
#[derive(serde::Serialize)]
struct PolledBatch<'a> {
    actors: Vec<PolledActor<'a>>,
    posts: Vec<PolledPost<'a>>,
    deleted_remote_ids: &'a [String],
    next_cursor: Option<&'a str>,
    poll_after_seconds: u32,
}

#[derive(serde::Serialize)]
struct PolledActor<'a> {
    remote_id: &'a str,
    handle: &'a str,
    display_name: Option<&'a str>,
    bio: Option<&'a str>,
    avatar_url: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct PolledPost<'a> {
    remote_id: &'a str,
    author_remote_id: &'a str,
    text: &'a str,
    reply_to_remote_id: Option<&'a str>,
    attachment_urls: &'a [String],
    created_at: i64,
}

/// One line `tsudoi plugin test` prints: a fixture note and the plugin's verdict on it.
#[derive(serde::Serialize)]
struct Tested<'a> {
    note: usize,
    text: Option<&'a str>,
    result: TestVerdict,
}

#[derive(serde::Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
enum TestVerdict {
    Accept,
    Reject {
        reason: String,
    },
    Flag {
        reason: String,
    },
    Rewrite {
        text: Option<String>,
        cw: Option<String>,
    },
    Error {
        error: String,
    },
}

/// `tsudoi plugin poll`: the bridge runs as a server would run it, once.
async fn poll(
    config: Config,
    file: &Path,
    cursor: Option<String>,
    mut options: LoadOptions,
) -> anyhow::Result<()> {
    use tsudoi_plugin_host::BridgePlugin;
    let wasm = read_wasm(file)?;
    let core = tsudoi::wiring::open(&config).await?;
    options.services = Some(core.plugin_services());
    let batch = tsudoi_plugin_host::threads::spawn(move || {
        let plugin = BridgePlugin::load(&wasm, options)?;
        anyhow::Ok(plugin.poll(cursor.as_deref())?)
    })
    .await?
    .with_context(|| format!("{} did not answer the poll", file.display()))?;
    let out = PolledBatch {
        actors: batch
            .actors
            .iter()
            .map(|a| PolledActor {
                remote_id: &a.remote_id,
                handle: &a.handle,
                display_name: a.display_name.as_deref(),
                bio: a.bio.as_deref(),
                avatar_url: a.avatar_url.as_deref(),
            })
            .collect(),
        posts: batch
            .posts
            .iter()
            .map(|p| PolledPost {
                remote_id: &p.remote_id,
                author_remote_id: &p.author_remote_id,
                text: &p.text,
                reply_to_remote_id: p.reply_to_remote_id.as_deref(),
                attachment_urls: &p.attachment_urls,
                created_at: p.created_at,
            })
            .collect(),
        deleted_remote_ids: &batch.deleted_remote_ids,
        next_cursor: batch.next_cursor.as_deref(),
        poll_after_seconds: batch.poll_after_seconds,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Where `plugin test` keeps compiled plugins: the user's cache directory
/// (`$XDG_CACHE_HOME/tsudoi/plugin-cache`, else `~/.cache/tsudoi/plugin-cache`), not the
/// server's data directory, which for an author running it in their crate would be a new
/// `./data`. Nothing is cached if neither is known.
fn author_cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })
        .map(|c| c.join("tsudoi").join("plugin-cache"))
}

/// `tsudoi plugin test`: no database, no server; the plugin runs exactly as it would in one.
/// Compiled code is cached (see [`author_cache_dir`]), so testing again after an edit of the
/// fixtures does not compile again. Verdicts are printed one JSON line per note; a reader that
/// stops early (`| head`) ends the run.
async fn test(
    file: &Path,
    notes: &Path,
    plugin_config: Option<String>,
    grants: Vec<Capability>,
    services: tsudoi_plugin_host::Services,
    cache: Option<PathBuf>,
) -> anyhow::Result<()> {
    use tsudoi_plugin_host::ModerationPlugin;
    use tsudoi_plugin_host::hooks::moderation::{Actor, Context, Direction, NoteFacts, Verdict};
    /// A note to try, with who posts it. Every field may be left out.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Fixture {
        text: Option<String>,
        cw: Option<String>,
        #[serde(default)]
        visibility: Option<String>,
        #[serde(default)]
        local_only: bool,
        reply_to: Option<String>,
        renote_of: Option<String>,
        #[serde(default)]
        author: Author,
    }
    /// Who posts a fixture note: by default a local account made just now, with no
    /// followers, followees or notes (what a spam wave's accounts look like).
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Author {
        username: Option<String>,
        /// The author's server; none for a local account (then the note is outgoing).
        host: Option<String>,
        name: Option<String>,
        #[serde(default)]
        is_bot: bool,
        #[serde(default)]
        is_locked: bool,
        /// How old the account is when it posts.
        #[serde(default)]
        account_age_days: f64,
        #[serde(default)]
        followers: u32,
        #[serde(default)]
        following: u32,
        #[serde(default)]
        notes: u32,
    }
    let wasm = read_wasm(file)?;
    let fixtures: Vec<Fixture> = serde_json::from_str(
        &std::fs::read_to_string(notes)
            .with_context(|| format!("cannot read {}", notes.display()))?,
    )
    .with_context(|| format!("{} is not a JSON array of notes", notes.display()))?;
    let options = LoadOptions {
        config: plugin_config,
        cache,
        grants,
        services: Some(services),
        ..Default::default()
    };
    let plugin = tsudoi_plugin_host::threads::spawn(move || ModerationPlugin::load(&wasm, options))
        .await?
        .with_context(|| format!("{} cannot be loaded", file.display()))?;
    let plugin = std::sync::Arc::new(plugin);
    let now = tsudoi_model::ids::now_ms();
    for (i, f) in fixtures.into_iter().enumerate() {
        let a = &f.author;
        if a.account_age_days.is_nan() || a.account_age_days < 0.0 {
            anyhow::bail!("note {i}: accountAgeDays must be 0 or more");
        }
        let username = a.username.clone().unwrap_or_else(|| "fixture".into());
        let ctx = std::sync::Arc::new(Context {
            // A local author's note leaves this server; a remote one's arrives from it.
            direction: if a.host.is_some() {
                Direction::Incoming
            } else {
                Direction::Outgoing
            },
            activity_type: "Create".into(),
            peer_host: a.host.clone(),
            actor: Actor {
                id: format!("fixture-{username}"),
                username,
                host: a.host.clone(),
                display_name: a.name.clone(),
                is_bot: a.is_bot,
                is_locked: a.is_locked,
                created_at: now - (a.account_age_days * 86_400_000.0) as i64,
                followers_count: a.followers,
                following_count: a.following,
                notes_count: a.notes,
            },
            raw_activity: None,
        });
        let visibility = match f.visibility.as_deref() {
            None => Visibility::Public,
            Some(s) => s
                .parse::<Visibility>()
                .with_context(|| format!("note {i}: unknown visibility {s}"))?,
        };
        let id = format!("fixture{i}");
        let note = NoteFacts {
            id: &id,
            author_id: &ctx.actor.id,
            text: f.text.as_deref(),
            cw: f.cw.as_deref(),
            visibility,
            local_only: f.local_only,
            reply_to: f.reply_to.as_deref(),
            renote_of: f.renote_of.as_deref(),
            created_at: now,
        }
        .review()
        .into();
        // On a blocking thread, as in a server: WASI output (a plugin's print, a traceback)
        // waits for the runtime there.
        let (p, c) = (plugin.clone(), ctx);
        let outcome = tsudoi_plugin_host::threads::spawn(move || p.check_note(&c, &note)).await?;
        let result = match outcome {
            Ok(Verdict::Accept) => TestVerdict::Accept,
            Ok(Verdict::Reject(reason)) => TestVerdict::Reject { reason },
            Ok(Verdict::Flag(reason)) => TestVerdict::Flag { reason },
            Ok(Verdict::Rewrite(n)) => TestVerdict::Rewrite {
                text: n.text,
                cw: n.content_warning,
            },
            Err(e) => TestVerdict::Error {
                error: e.to_string(),
            },
        };
        let line = Tested {
            note: i,
            text: f.text.as_deref(),
            result,
        };
        let mut json = serde_json::to_string(&line)?;
        json.push('\n');
        match std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            written => written.context("cannot write the verdicts")?,
        }
    }
    Ok(())
}

//! Managing plugins, shared by the CLI and the admin API: every change is checked (the
//! component loads, its manifest and configuration are valid, grants and timelines make
//! sense) before it is written, and written in one statement, which running servers pick up
//! within a second. Also the failure count every hook keeps, which disables a plugin that
//! keeps failing.

use super::{Error, Result, ids};
use crate::app::App;
use crate::plugins::manifest::{Capability, Manifest};
use crate::plugins::{Kind, LoadOptions, Loaded};
use crate::store::{PluginChange, PluginRow, Store};

/// Timelines a ranker can be assigned to.
pub const RANKABLE_TIMELINES: &[&str] = &["local", "global"];

/// A plugin to install or upgrade.
pub struct Install {
    pub wasm: Vec<u8>,
    /// Manifest TOML supplied beside the component (for toolchains that cannot embed one).
    pub manifest: Option<String>,
    /// JSON configuration; on an upgrade without one, the installed configuration is kept
    /// (and the new version must accept it).
    pub config: Option<String>,
    pub fail_closed: bool,
    pub position: i64,
}

/// What was installed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub kind: &'static str,
    pub upgraded: bool,
    /// Capabilities the manifest requests; the admin grants them separately.
    pub requested_capabilities: Vec<String>,
}

fn invalid(param: &'static str, reason: impl std::fmt::Display) -> Error {
    Error::InvalidParam {
        param,
        reason: reason.to_string(),
    }
}

/// Loads a component the way a server would, without its services, to check it.
async fn check(
    wasm: Vec<u8>,
    manifest: Option<Manifest>,
    config: Option<String>,
    cache: &std::path::Path,
) -> Result<Loaded> {
    let options = LoadOptions {
        config,
        cache: Some(cache.to_owned()),
        manifest,
        ..Default::default()
    };
    let loaded = tokio::task::spawn_blocking(move || Loaded::load(&wasm, options))
        .await
        .map_err(|e| Error::Internal(format!("plugin loader panicked: {e}")))?
        .map_err(|e| Error::PluginRefused(e.to_string()))?;
    if let Loaded::Bridge(_) = loaded {
        // Installed, it would sit there never polled: say so instead.
        return Err(Error::PluginRefused(
            "this server does not poll bridge plugins yet (that comes with the AT Protocol \
             bridge); run one offline with `tsudoi plugin poll`"
                .into(),
        ));
    }
    Ok(loaded)
}

pub async fn install(store: &Store, cache: &std::path::Path, req: Install) -> Result<Installed> {
    let manifest = req
        .manifest
        .as_deref()
        .map(Manifest::parse)
        .transpose()
        .map_err(|e| invalid("manifest", e))?;
    // The name is only known once the component answers; check with the given configuration
    // first, then with the installed one if this turns out to be an upgrade without one.
    let loaded = check(
        req.wasm.clone(),
        manifest.clone(),
        req.config.clone(),
        cache,
    )
    .await?;
    let existing = store.plugin(loaded.name()).await?;
    let config = match (&req.config, &existing) {
        (None, Some(row)) if row.config.is_some() => {
            check(
                req.wasm.clone(),
                manifest.clone(),
                row.config.clone(),
                cache,
            )
            .await?;
            row.config.clone()
        }
        _ => req.config,
    };
    let requested = loaded.manifest().capabilities.clone();
    store
        .upsert_plugin(&PluginRow {
            name: loaded.name().to_owned(),
            kind: loaded.kind().as_str().into(),
            version: loaded.version().to_owned(),
            wasm: req.wasm,
            config,
            enabled: true,
            position: req.position,
            failure_policy: if req.fail_closed {
                "fail-closed"
            } else {
                "fail-open"
            }
            .into(),
            updated_at: ids::now_ms(),
            manifest: req.manifest,
            grants: "[]".into(),
            timelines: "[]".into(),
        })
        .await?;
    Ok(Installed {
        name: loaded.name().to_owned(),
        version: loaded.version().to_owned(),
        kind: loaded.kind().as_str(),
        upgraded: existing.is_some(),
        requested_capabilities: requested,
    })
}

/// Replaces (or with `None` clears) a plugin's configuration once the plugin accepted it.
pub async fn configure(
    store: &Store,
    cache: &std::path::Path,
    name: &str,
    config: Option<String>,
) -> Result<()> {
    let row = store.plugin(name).await?.ok_or(Error::NoSuchPlugin)?;
    let manifest = row
        .manifest
        .as_deref()
        .map(Manifest::parse)
        .transpose()
        .map_err(|e| Error::PluginRefused(e.to_string()))?;
    check(row.wasm, manifest, config.clone(), cache).await?;
    update(
        store,
        name,
        PluginChange {
            config: Some(config.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// Changes a plugin's state after checking the change makes sense.
pub async fn update(store: &Store, name: &str, change: PluginChange<'_>) -> Result<()> {
    if let Some(grants) = change.grants {
        for g in grants {
            Capability::parse(g).map_err(|e| invalid("grants", e))?;
        }
    }
    if let Some(timelines) = change.timelines {
        let row = store.plugin(name).await?.ok_or(Error::NoSuchPlugin)?;
        if !timelines.is_empty() && row.kind != Kind::Ranking.as_str() {
            return Err(invalid(
                "timelines",
                format!(
                    "{name} is a {} plugin; only rankers rank timelines",
                    row.kind
                ),
            ));
        }
        if let Some(t) = timelines
            .iter()
            .find(|t| !RANKABLE_TIMELINES.contains(&t.as_str()))
        {
            return Err(invalid(
                "timelines",
                format!("`{t}` cannot be ranked; rankable: {RANKABLE_TIMELINES:?}"),
            ));
        }
    }
    if let Some(p) = change.failure_policy
        && !matches!(p, "fail-open" | "fail-closed")
    {
        return Err(invalid("failurePolicy", "must be fail-open or fail-closed"));
    }
    if store.update_plugin(name, &change, ids::now_ms()).await? {
        Ok(())
    } else {
        Err(Error::NoSuchPlugin)
    }
}

pub async fn remove(store: &Store, name: &str) -> Result<()> {
    if store.remove_plugin(name).await? {
        Ok(())
    } else {
        Err(Error::NoSuchPlugin)
    }
}

/// Counts consecutive failures of a plugin; at the limit the plugin is disabled for every
/// server (they reload within a second) and the administrators get a notice.
pub(crate) async fn track_failures(
    app: &App,
    kind: crate::plugins::Kind,
    name: &str,
    failures_in_a_row: &std::sync::atomic::AtomicU32,
    failed: bool,
) {
    use std::sync::atomic::Ordering;
    if !failed {
        failures_in_a_row.store(0, Ordering::Relaxed);
        return;
    }
    let count = failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
    if count != crate::plugins::FAILURES_BEFORE_DISABLE {
        return;
    }
    let now = ids::now_ms();
    let message = format!(
        "The {} plugin {name} failed {count} times in a row and was disabled. Fix or reconfigure it, then enable it again (tsudoi plugin enable {name}).",
        kind.as_str()
    );
    tracing::error!(plugin = %name, failures = count, "plugin disabled after repeated failures");
    let disabled = app
        .store
        .update_plugin(
            name,
            &crate::store::PluginChange {
                enabled: Some(false),
                ..Default::default()
            },
            now,
        )
        .await;
    let noticed = app
        .store
        .add_admin_notice(&ids::aidx(), "plugin-disabled", &message, now)
        .await;
    if let Err(e) = disabled.and(noticed) {
        tracing::error!(plugin = %name, error = %e, "cannot record the disabled plugin");
    }
}

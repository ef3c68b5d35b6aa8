//! Managing plugins, shared by the CLI and the admin API: every change is checked (the
//! component loads, its manifest and configuration are valid, grants and timelines make
//! sense) before it is written, and written in one statement, which running servers pick up
//! within a second ([`Core::refresh_plugins`]). [`runtime`] holds the plugins a server runs.

mod runtime;
mod services;

pub use runtime::Runtime;

use tsudoi_model::{
    Capability, FailurePolicy, InstalledPlugin, Notice, PluginKind, PluginSummary, RankedTimeline,
    ids,
};
use tsudoi_plugin_host::manifest::Manifest;
use tsudoi_plugin_host::{LoadOptions, Loaded};
use tsudoi_store::PluginChange;

use crate::{Core, Error, Result};

/// A plugin to install or upgrade.
pub struct Install {
    pub wasm: Vec<u8>,
    /// Manifest TOML supplied beside the component (for toolchains that cannot embed one).
    pub manifest: Option<String>,
    /// JSON configuration; on an upgrade without one, the installed configuration is kept
    /// (and the new version must accept it).
    pub config: Option<String>,
    pub failure_policy: FailurePolicy,
    pub position: i64,
}

/// What was installed.
#[derive(Debug, Clone)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub upgraded: bool,
    /// Capabilities the manifest requests; the admin grants them separately.
    pub requested_capabilities: Vec<Capability>,
}

/// A change to an installed plugin; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Change {
    pub enabled: Option<bool>,
    pub position: Option<i64>,
    pub grants: Option<Vec<Capability>>,
    pub timelines: Option<Vec<RankedTimeline>>,
    pub failure_policy: Option<FailurePolicy>,
}

fn invalid(param: &'static str, reason: impl std::fmt::Display) -> Error {
    Error::InvalidParam {
        param,
        reason: reason.to_string(),
    }
}

/// Loads a component the way a server would, without its services, to check it.
async fn check(
    core: &Core,
    wasm: Vec<u8>,
    manifest: Option<Manifest>,
    config: Option<String>,
) -> Result<Loaded> {
    let options = LoadOptions {
        config,
        cache: Some(core.settings().plugin_cache.clone()),
        manifest,
        ..Default::default()
    };
    let loaded = tsudoi_plugin_host::threads::spawn(move || Loaded::load(&wasm, options))
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

pub async fn install(core: &Core, req: Install) -> Result<Installed> {
    let store = core.store();
    let manifest = req
        .manifest
        .as_deref()
        .map(Manifest::parse)
        .transpose()
        .map_err(|e| invalid("manifest", e))?;
    // The name is only known once the component answers; check with the given configuration
    // first, then with the installed one if this turns out to be an upgrade without one.
    let loaded = check(core, req.wasm.clone(), manifest.clone(), req.config.clone()).await?;
    let existing = store.plugin(loaded.name()).await?;
    let config = match (&req.config, &existing) {
        (None, Some(row)) if row.config.is_some() => {
            check(core, req.wasm.clone(), manifest.clone(), row.config.clone()).await?;
            row.config.clone()
        }
        _ => req.config,
    };
    let requested = loaded.manifest().capabilities.clone();
    store
        .upsert_plugin(&InstalledPlugin {
            name: loaded.name().to_owned(),
            kind: loaded.kind(),
            version: loaded.version().to_owned(),
            wasm: req.wasm,
            config,
            enabled: true,
            position: req.position,
            failure_policy: req.failure_policy,
            updated_at: ids::now_ms(),
            manifest: req.manifest,
            grants: Vec::new(),
            timelines: Vec::new(),
        })
        .await?;
    Ok(Installed {
        name: loaded.name().to_owned(),
        version: loaded.version().to_owned(),
        kind: loaded.kind(),
        upgraded: existing.is_some(),
        requested_capabilities: requested,
    })
}

/// The installed plugin named `name`.
pub async fn installed(core: &Core, name: &str) -> Result<InstalledPlugin> {
    core.store().plugin(name).await?.ok_or(Error::NoSuchPlugin)
}

/// Every installed plugin, without its component.
pub async fn list(core: &Core) -> Result<Vec<PluginSummary>> {
    Ok(core.store().list_plugins().await?)
}

/// Replaces (or with `None` clears) a plugin's configuration once the plugin accepted it.
pub async fn configure(core: &Core, name: &str, config: Option<String>) -> Result<()> {
    let row = installed(core, name).await?;
    let manifest = row
        .manifest
        .as_deref()
        .map(Manifest::parse)
        .transpose()
        .map_err(|e| Error::PluginRefused(e.to_string()))?;
    check(core, row.wasm, manifest, config.clone()).await?;
    write_change(
        core,
        name,
        PluginChange {
            config: Some(config.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// Changes a plugin's state after checking the change makes sense.
pub async fn update(core: &Core, name: &str, change: Change) -> Result<()> {
    if let Some(timelines) = &change.timelines
        && !timelines.is_empty()
    {
        let row = installed(core, name).await?;
        if row.kind != PluginKind::Ranking {
            return Err(invalid(
                "timelines",
                format!(
                    "{name} is a {} plugin; only rankers rank timelines",
                    row.kind
                ),
            ));
        }
    }
    write_change(
        core,
        name,
        PluginChange {
            enabled: change.enabled,
            config: None,
            position: change.position,
            grants: change.grants.as_deref(),
            timelines: change.timelines.as_deref(),
            failure_policy: change.failure_policy,
        },
    )
    .await
}

async fn write_change(core: &Core, name: &str, change: PluginChange<'_>) -> Result<()> {
    if core
        .store()
        .update_plugin(name, &change, ids::now_ms())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NoSuchPlugin)
    }
}

pub async fn remove(core: &Core, name: &str) -> Result<()> {
    if core.store().remove_plugin(name).await? {
        Ok(())
    } else {
        Err(Error::NoSuchPlugin)
    }
}

/// Notices for the administrators, newest first (unread only unless `include_read`).
pub async fn notices(core: &Core, include_read: bool, limit: i64) -> Result<Vec<Notice>> {
    Ok(core.store().admin_notices(include_read, limit).await?)
}

/// Marks every notice read.
pub async fn mark_notices_read(core: &Core) -> Result<()> {
    core.store().mark_admin_notices_read(ids::now_ms()).await?;
    Ok(())
}

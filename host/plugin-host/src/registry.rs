//! The installed plugins as the server runs them. Whoever owns the database hands
//! [`Registry::reload`] the enabled plugins whenever they changed; what changed is compiled on
//! plugin threads, what did not is kept, and the whole set is swapped at once. Calls
//! already running keep the plugins they started with, so an upgrade never fails a request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use tsudoi_model::{Deadlines, FailurePolicy, InstalledPlugin, RankedTimeline};

use crate::hooks::mfm::MfmPlugin;
use crate::hooks::moderation::ModerationPlugin;
use crate::hooks::ranking::RankingPlugin;
use crate::manifest::Manifest;
use crate::services::Services;
use crate::{LoadError, LoadOptions, Loaded};

/// A moderation plugin in the chain, with what its failure means.
pub struct ChainedModeration {
    pub plugin: Arc<ModerationPlugin>,
    pub failure_policy: FailurePolicy,
}

/// An MFM renderer with the `$[fn]` names it declared when it was loaded.
pub struct ChainedMfm {
    pub plugin: Arc<MfmPlugin>,
    pub handled_fns: Vec<String>,
}

/// How the server loads its plugins: where compiled code is cached, what `kv` and `http`
/// reach, and each kind's deadline.
#[derive(Clone)]
pub struct Environment {
    pub cache: PathBuf,
    pub services: Services,
    pub deadlines: Deadlines,
}

/// Everything loaded, swapped as one.
#[derive(Default)]
struct Snapshot {
    moderation: Arc<Vec<ChainedModeration>>,
    rankers: Arc<HashMap<RankedTimeline, Arc<RankingPlugin>>>,
    /// MFM renderers in order, with the `$[fn]` names each renders.
    mfm: Arc<Vec<ChainedMfm>>,
    /// By plugin name, with the `updated_at` it was loaded at, to reuse what did not change.
    by_name: HashMap<String, (i64, Loaded)>,
}

pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
    /// False from [`Registry::expect_load`] until the next [`Registry::reload`] ends.
    loaded: tokio::sync::watch::Sender<bool>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            current: Default::default(),
            loaded: tokio::sync::watch::Sender::new(true),
        }
    }
}

impl Registry {
    /// Says a load is on its way (a server starting): until it ends,
    /// [`Registry::loaded_moderation`] waits for it. A server serves requests while its
    /// plugins load, however long a plugin takes, but no note gets past moderation before the
    /// installed filters are there to see it.
    pub fn expect_load(&self) {
        self.loaded.send_replace(false);
    }

    /// The moderation chain, once the load announced by [`Registry::expect_load`] (if any)
    /// has ended.
    pub async fn loaded_moderation(&self) -> Arc<Vec<ChainedModeration>> {
        let mut loaded = self.loaded.subscribe();
        // The sender lives as long as `self`, so the wait cannot fail.
        let _ = loaded.wait_for(|done| *done).await;
        self.moderation()
    }

    fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The current moderation chain, in order.
    pub fn moderation(&self) -> Arc<Vec<ChainedModeration>> {
        self.current().moderation.clone()
    }

    /// The MFM renderers, in order.
    pub fn mfm(&self) -> Arc<Vec<ChainedMfm>> {
        self.current().mfm.clone()
    }

    /// The ranker assigned to `timeline`, if any.
    pub fn ranker(&self, timeline: RankedTimeline) -> Option<Arc<RankingPlugin>> {
        self.current().rankers.get(&timeline).cloned()
    }

    /// Makes `enabled` (in chain order) the running set: plugins whose `updated_at` did not
    /// move are kept as they are, the others loaded, all at once so that one slow plugin does
    /// not hold up the rest (each load ends at its deadline); one that fails to load is left
    /// out and logged. Returns what became of each plugin it loaded.
    pub async fn reload(
        &self,
        enabled: Vec<InstalledPlugin>,
        env: &Environment,
    ) -> Vec<LoadReport> {
        let mut reports = Vec::new();
        let previous = self.current();
        let mut next = Snapshot::default();
        let mut chain = Vec::new();
        let mut rankers = HashMap::new();
        let mut mfm = Vec::new();
        let pending: Vec<_> = enabled
            .into_iter()
            .map(|row| {
                let loading = match previous.by_name.get(&row.name) {
                    Some((at, loaded)) if *at == row.updated_at => Loading::Kept(loaded.clone()),
                    _ => Loading::Started(start_load(&row, env)),
                };
                (row, loading)
            })
            .collect();
        for (row, loading) in pending {
            let fresh = matches!(loading, Loading::Started(_));
            let report = |error: Option<String>| LoadReport {
                name: row.name.clone(),
                updated_at: row.updated_at,
                error,
            };
            let loaded = match loading.finish().await {
                Ok(loaded) => loaded,
                Err(e) => {
                    tracing::error!(plugin = %row.name, error = %e, "plugin not loaded");
                    reports.push(report(Some(e.to_string())));
                    continue;
                }
            };
            if fresh {
                tracing::info!(plugin = %row.name, version = %loaded.version(), kind = %row.kind, "plugin loaded");
                reports.push(report(None));
            }
            match &loaded {
                Loaded::Moderation(plugin) => chain.push(ChainedModeration {
                    plugin: plugin.clone(),
                    failure_policy: row.failure_policy,
                }),
                Loaded::Ranking(plugin) => {
                    for t in &row.timelines {
                        // Rows come in position order: the first ranker assigned wins.
                        rankers.entry(*t).or_insert_with(|| plugin.clone());
                    }
                }
                Loaded::Mfm(plugin) => {
                    // A renderer kept from the last load keeps the names it declared then.
                    let kept = previous
                        .mfm
                        .iter()
                        .find(|c| Arc::ptr_eq(&c.plugin, plugin))
                        .map(|c| c.handled_fns.clone());
                    let handled_fns = match kept {
                        Some(names) => Some(names),
                        None => {
                            let renderer = plugin.clone();
                            match crate::threads::spawn(move || renderer.handled_fns()).await {
                                Ok(Ok(names)) => Some(names),
                                Ok(Err(e)) => {
                                    tracing::error!(plugin = %row.name, error = %e, "MFM renderer did not say what it renders");
                                    None
                                }
                                Err(e) => {
                                    tracing::error!(plugin = %row.name, error = %e, "plugin call panicked");
                                    None
                                }
                            }
                        }
                    };
                    if let Some(handled_fns) = handled_fns {
                        mfm.push(ChainedMfm {
                            plugin: plugin.clone(),
                            handled_fns,
                        });
                    }
                }
                // Refused at install; a row from elsewhere waits for the bridge scheduler.
                Loaded::Bridge(_) => {
                    tracing::warn!(plugin = %row.name, "bridge plugins are not polled yet");
                }
            }
            next.by_name
                .insert(row.name.clone(), (row.updated_at, loaded));
        }
        next.moderation = Arc::new(chain);
        next.rankers = Arc::new(rankers);
        next.mfm = Arc::new(mfm);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        self.loaded.send_replace(true);
        reports
    }
}

/// What became of a plugin a reload had to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    pub name: String,
    /// The version (`updated_at`) it tried.
    pub updated_at: i64,
    /// Why it could not load it, or `None` if it did.
    pub error: Option<String>,
}

/// A plugin of the next set: kept from the last one, or loading on a plugin thread.
enum Loading {
    Kept(Loaded),
    Started(Result<tokio::task::JoinHandle<Result<Loaded, LoadError>>, LoadError>),
}

impl Loading {
    async fn finish(self) -> Result<Loaded, LoadError> {
        match self {
            Loading::Kept(loaded) => Ok(loaded),
            Loading::Started(started) => started?
                .await
                .map_err(|e| LoadError::Start(format!("the loader panicked: {e}")))?,
        }
    }
}

/// Starts compiling (or taking from the cache) and instantiating an installed plugin on a
/// plugin thread.
fn start_load(
    row: &InstalledPlugin,
    env: &Environment,
) -> Result<tokio::task::JoinHandle<Result<Loaded, LoadError>>, LoadError> {
    let manifest = row
        .manifest
        .as_deref()
        .map(Manifest::parse)
        .transpose()
        .map_err(|e| LoadError::Manifest(e.to_string()))?;
    let options = LoadOptions {
        config: row.config.clone(),
        cache: Some(env.cache.clone()),
        manifest,
        grants: row.grants.clone(),
        services: Some(env.services.clone()),
        deadline: Some(env.deadlines.of(row.kind)),
    };
    let (kind, wasm) = (row.kind, row.wasm.clone());
    Ok(crate::threads::spawn(move || {
        Loaded::load_as(kind, &wasm, options)
    }))
}

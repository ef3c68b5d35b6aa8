//! The installed plugins as the server runs them. Whoever owns the database hands
//! [`Registry::reload`] the enabled plugins whenever they changed; what changed is compiled on
//! a blocking thread, what did not is kept, and the whole set is swapped at once. Calls
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

#[derive(Default)]
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
}

impl Registry {
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
    /// move are kept as they are, the others loaded; one that fails to load is left out and
    /// logged.
    pub async fn reload(&self, enabled: Vec<InstalledPlugin>, env: &Environment) {
        let previous = self.current();
        let mut next = Snapshot::default();
        let mut chain = Vec::new();
        let mut rankers = HashMap::new();
        let mut mfm = Vec::new();
        for row in enabled {
            let loaded = match previous.by_name.get(&row.name) {
                Some((at, loaded)) if *at == row.updated_at => loaded.clone(),
                _ => match load(&row, env).await {
                    Ok(loaded) => loaded,
                    Err(e) => {
                        tracing::error!(plugin = %row.name, error = %e, "plugin not loaded");
                        continue;
                    }
                },
            };
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
                            match tokio::task::spawn_blocking(move || renderer.handled_fns()).await
                            {
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
    }
}

/// Compiles (or takes from the cache) an installed plugin on a blocking thread.
async fn load(row: &InstalledPlugin, env: &Environment) -> Result<Loaded, LoadError> {
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
    let loaded = tokio::task::spawn_blocking(move || Loaded::load_as(kind, &wasm, options))
        .await
        .map_err(|e| LoadError::Start(format!("the loader panicked: {e}")))??;
    tracing::info!(plugin = %row.name, version = %loaded.version(), kind = %row.kind, "plugin loaded");
    Ok(loaded)
}

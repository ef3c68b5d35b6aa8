//! The installed plugins as the server runs them. The database is the source of truth; each
//! server notices changes within a second (a fingerprint query), compiles what changed on a
//! blocking thread, and swaps the whole set at once. Calls already running keep the plugins
//! they started with, so an upgrade never fails a request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::mfm::MfmPlugin;
use super::moderation::ModerationPlugin;
use super::ranking::RankingPlugin;
use super::{LoadOptions, Loaded, Services};
use crate::store::{PluginRow, Store};

/// A moderation plugin in the chain, with its failure policy.
pub struct ChainedModeration {
    pub plugin: Arc<ModerationPlugin>,
    /// Reject the note when the plugin fails (traps, times out, errs); by default the note is
    /// accepted and flagged for review instead.
    pub fail_closed: bool,
}

/// An MFM renderer with the `$[fn]` names it declared when it was loaded.
pub struct ChainedMfm {
    pub plugin: Arc<MfmPlugin>,
    pub handled_fns: Vec<String>,
}

/// Deadlines per hook, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub moderation: std::time::Duration,
    pub ranking: std::time::Duration,
    pub mfm: std::time::Duration,
    pub bridge: std::time::Duration,
}

impl Deadlines {
    pub fn of(&self, kind: super::Kind) -> std::time::Duration {
        match kind {
            super::Kind::Moderation => self.moderation,
            super::Kind::Ranking => self.ranking,
            super::Kind::Mfm => self.mfm,
            super::Kind::Bridge => self.bridge,
        }
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            moderation: super::Kind::Moderation.default_deadline(),
            ranking: super::Kind::Ranking.default_deadline(),
            mfm: super::Kind::Mfm.default_deadline(),
            bridge: super::Kind::Bridge.default_deadline(),
        }
    }
}

/// Everything loaded, swapped as one.
#[derive(Default)]
struct Snapshot {
    moderation: Arc<Vec<ChainedModeration>>,
    /// Timeline name → the ranker assigned to it.
    rankers: Arc<HashMap<String, Arc<RankingPlugin>>>,
    /// MFM renderers in order, with the `$[fn]` names each renders.
    mfm: Arc<Vec<ChainedMfm>>,
    /// By plugin name, with the `updated_at` it was loaded at, to reuse what did not change.
    by_name: HashMap<String, (i64, Loaded)>,
}

#[derive(Default)]
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
    fingerprint: Mutex<Option<(i64, i64)>>,
    pub metrics: super::metrics::PluginMetrics,
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
    pub fn ranker(&self, timeline: &str) -> Option<Arc<RankingPlugin>> {
        self.current().rankers.get(timeline).cloned()
    }

    /// Reloads the plugins if the installed ones changed since the last look.
    pub async fn refresh(
        &self,
        store: &Store,
        cache: &std::path::Path,
        services: &Services,
        deadlines: Deadlines,
    ) -> Result<(), crate::store::StoreError> {
        let fingerprint = store.plugins_fingerprint().await?;
        {
            let seen = self.fingerprint.lock().unwrap_or_else(|p| p.into_inner());
            if *seen == Some(fingerprint) {
                return Ok(());
            }
        }
        let previous = self.current();
        let mut next = Snapshot::default();
        let mut chain = Vec::new();
        let mut rankers = HashMap::new();
        let mut mfm = Vec::new();
        for row in store.enabled_plugins().await? {
            let loaded = match previous.by_name.get(&row.name) {
                Some((at, loaded)) if *at == row.updated_at => loaded.clone(),
                _ => match load_row(&row, cache, services, deadlines).await {
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
                    fail_closed: row.failure_policy == "fail-closed",
                }),
                Loaded::Ranking(plugin) => {
                    let timelines: Vec<String> =
                        serde_json::from_str(&row.timelines).unwrap_or_default();
                    for t in timelines {
                        // Rows come in position order: the first ranker assigned wins.
                        rankers.entry(t).or_insert_with(|| plugin.clone());
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
                // Refused at install (core::plugins::check); a row from elsewhere waits.
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
        *self.fingerprint.lock().unwrap_or_else(|p| p.into_inner()) = Some(fingerprint);
        Ok(())
    }
}

/// Compiles (or takes from the cache) an installed plugin on a blocking thread.
async fn load_row(
    row: &PluginRow,
    cache: &std::path::Path,
    services: &Services,
    deadlines: Deadlines,
) -> anyhow::Result<Loaded> {
    let manifest = row
        .manifest
        .as_deref()
        .map(super::manifest::Manifest::parse)
        .transpose()?;
    let kind = super::Kind::parse(&row.kind)
        .ok_or_else(|| anyhow::anyhow!("unknown plugin kind {}", row.kind))?;
    let options = LoadOptions {
        config: row.config.clone(),
        cache: Some(cache.to_owned()),
        manifest,
        grants: serde_json::from_str(&row.grants).unwrap_or_default(),
        services: Some(services.clone()),
        deadline: Some(deadlines.of(kind)),
    };
    let wasm = row.wasm.clone();
    let loaded =
        tokio::task::spawn_blocking(move || Loaded::load_as(kind, &wasm, options)).await??;
    tracing::info!(plugin = %row.name, version = %loaded.version(), kind = %row.kind, "plugin loaded");
    Ok(loaded)
}

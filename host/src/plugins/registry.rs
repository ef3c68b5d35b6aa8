//! The installed plugins as the server runs them. The database is the source of truth; each
//! server notices changes within a second (a fingerprint query), compiles what changed on a
//! blocking thread, and swaps the whole chain at once. Calls already running keep the chain
//! they started with, so an upgrade never fails a request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::moderation::ModerationPlugin;
use crate::store::Store;

/// A moderation plugin in the chain, with its failure policy.
pub struct ChainedModeration {
    pub plugin: Arc<ModerationPlugin>,
    /// Reject the note when the plugin fails (traps, times out, errs); by default the note is
    /// accepted and flagged for review instead.
    pub fail_closed: bool,
    updated_at: i64,
}

#[derive(Default)]
pub struct Registry {
    moderation: RwLock<Arc<Vec<ChainedModeration>>>,
    fingerprint: Mutex<Option<(i64, i64)>>,
    pub metrics: super::metrics::PluginMetrics,
}

impl Registry {
    /// The current moderation chain, in order.
    pub fn moderation(&self) -> Arc<Vec<ChainedModeration>> {
        self.moderation
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Reloads the chains if the installed plugins changed since the last look.
    pub async fn refresh(
        &self,
        store: &Store,
        cache: &std::path::Path,
    ) -> Result<(), crate::store::StoreError> {
        let fingerprint = store.plugins_fingerprint().await?;
        {
            let seen = self.fingerprint.lock().unwrap_or_else(|p| p.into_inner());
            if *seen == Some(fingerprint) {
                return Ok(());
            }
        }
        let rows = store.enabled_plugins("moderation").await?;
        // Reuse what is already compiled and unchanged; compile the rest.
        let current: HashMap<String, (i64, Arc<ModerationPlugin>)> = self
            .moderation()
            .iter()
            .map(|c| (c.plugin.name.to_string(), (c.updated_at, c.plugin.clone())))
            .collect();
        let mut chain = Vec::with_capacity(rows.len());
        for row in rows {
            let fail_closed = row.failure_policy == "fail-closed";
            if let Some((at, plugin)) = current.get(&row.name)
                && *at == row.updated_at
            {
                chain.push(ChainedModeration {
                    plugin: plugin.clone(),
                    fail_closed,
                    updated_at: row.updated_at,
                });
                continue;
            }
            let (name, wasm, config) = (row.name.clone(), row.wasm, row.config);
            let cache = cache.to_owned();
            let loaded = tokio::task::spawn_blocking(move || {
                ModerationPlugin::load(&wasm, config, Some(&cache))
            })
            .await;
            match loaded {
                Ok(Ok(plugin)) => {
                    tracing::info!(plugin = %name, version = %plugin.version, "moderation plugin loaded");
                    chain.push(ChainedModeration {
                        plugin: Arc::new(plugin),
                        fail_closed,
                        updated_at: row.updated_at,
                    });
                }
                Ok(Err(e)) => tracing::error!(plugin = %name, error = %e, "plugin not loaded"),
                Err(e) => tracing::error!(plugin = %name, error = %e, "plugin loader failed"),
            }
        }
        *self.moderation.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(chain);
        *self.fingerprint.lock().unwrap_or_else(|p| p.into_inner()) = Some(fingerprint);
        Ok(())
    }
}

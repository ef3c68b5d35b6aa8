//! The plugins a server runs: the registry of loaded plugins (reloaded when the installed
//! ones change), the funnel every call goes through, and what happens when a plugin keeps
//! failing (it is disabled everywhere and the administrators are told).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tsudoi_model::{NoticeKind, PluginKind, ids};
use tsudoi_plugin_host::registry::Environment;
use tsudoi_plugin_host::{FailureLimit, Funnel, Registry, Services};
use tsudoi_store::{PluginChange, Store};

use crate::{Core, Result, Settings};

pub struct Runtime {
    registry: Registry,
    funnel: Arc<Funnel>,
    env: Environment,
    /// The installed plugins' fingerprint when they were last loaded.
    loaded: Mutex<Option<(i64, i64)>>,
}

impl Runtime {
    pub(crate) fn new(settings: &Settings, store: &Store, http: tsudoi_net::GuardedClient) -> Self {
        Self {
            registry: Registry::default(),
            funnel: Arc::new(Funnel::new(DisableOnLimit {
                store: store.clone(),
            })),
            env: Environment {
                cache: settings.plugin_cache.clone(),
                services: super::services::services(
                    store.clone(),
                    http,
                    settings.plugin_kv_quota_bytes,
                ),
                deadlines: settings.plugin_deadlines,
            },
            loaded: Mutex::new(None),
        }
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn funnel(&self) -> &Arc<Funnel> {
        &self.funnel
    }
}

impl Core {
    /// Says the installed plugins are about to be loaded (a server starting, before it
    /// serves): until the next [`Core::refresh_plugins`] has loaded them, new notes wait for
    /// the moderation chain instead of passing without it.
    pub fn expect_plugins(&self) {
        self.plugins().registry.expect_load();
    }

    /// Loads the installed plugins if they changed since the last look (a cheap query when
    /// they did not): the server calls it at start and then every second, so changes made by
    /// the shell, the admin API or another server arrive without a restart.
    pub async fn refresh_plugins(&self) -> Result<()> {
        let runtime = self.plugins();
        let fingerprint = self.store().plugins_fingerprint().await?;
        if *runtime.loaded.lock().unwrap_or_else(|p| p.into_inner()) == Some(fingerprint) {
            return Ok(());
        }
        let enabled = self.store().enabled_plugins().await?;
        for report in runtime.registry.reload(enabled, &runtime.env).await {
            self.store()
                .record_plugin_load(&report.name, report.updated_at, report.error.as_deref())
                .await?;
        }
        *runtime.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(fingerprint);
        Ok(())
    }

    /// Per-plugin calls, failures and latencies in Prometheus's text format.
    pub fn plugin_metrics(&self) -> String {
        self.plugins().funnel.metrics().render()
    }

    /// What `kv` and `http` reach for a plugin run outside the server (`tsudoi plugin poll`).
    pub fn plugin_services(&self) -> Services {
        self.plugins().env.services.clone()
    }
}

/// Disables a plugin that failed too often in a row, for every server (they reload within a
/// second), and leaves the administrators a notice.
struct DisableOnLimit {
    store: Store,
}

impl FailureLimit for DisableOnLimit {
    fn reached(
        &self,
        kind: PluginKind,
        plugin: &str,
        failures: u32,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let plugin = plugin.to_owned();
        Box::pin(async move {
            let now = ids::now_ms();
            let message = format!(
                "The {kind} plugin {plugin} failed {failures} times in a row and was disabled. Fix or reconfigure it, then enable it again (tsudoi plugin enable {plugin})."
            );
            tracing::error!(%plugin, failures, "plugin disabled after repeated failures");
            let disabled = self
                .store
                .update_plugin(
                    &plugin,
                    &PluginChange {
                        enabled: Some(false),
                        ..Default::default()
                    },
                    now,
                )
                .await;
            let noticed = self
                .store
                .add_admin_notice(&ids::aidx(), NoticeKind::PluginDisabled, &message, now)
                .await;
            if let Err(e) = disabled.and(noticed) {
                tracing::error!(%plugin, error = %e, "cannot record the disabled plugin");
            }
        })
    }
}

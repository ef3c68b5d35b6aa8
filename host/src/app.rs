//! The shared state every request and background task uses, built once at start-up.

use std::sync::Arc;

use crate::config::Config;
use crate::store::Store;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub store: Store,
    pub plugins: crate::plugins::registry::Registry,
    /// Outbound HTTP for plugins (and, later, federation), refusing private addresses.
    pub http: crate::net::GuardedClient,
    pub started_at: std::time::Instant,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    /// Opens the database named by the configuration, migrating it, and builds the state.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config.database_url).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open database {}: {e}",
                crate::config::redact(&config.database_url)
            )
        })?;
        Ok(Self::with_store(config, store))
    }

    pub fn with_store(config: Config, store: Store) -> Self {
        App(Arc::new(AppInner {
            http: crate::net::GuardedClient::new(crate::net::AddressPolicy {
                allowed_private: config.allowed_private_networks.clone(),
            }),
            config,
            store,
            plugins: Default::default(),
            started_at: std::time::Instant::now(),
        }))
    }

    /// Where compiled plugin code is cached.
    pub fn plugin_cache_dir(&self) -> std::path::PathBuf {
        plugin_cache_dir(&self.config)
    }

    /// What plugins' `kv` and `http` imports reach.
    pub fn plugin_services(&self) -> crate::plugins::Services {
        crate::plugins::Services {
            store: self.store.clone(),
            http: self.http.clone(),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Loads the installed plugins now (the first refresh); then, from `watch_plugins`, on
    /// every change.
    pub async fn refresh_plugins(&self) -> Result<(), crate::store::StoreError> {
        self.plugins
            .refresh(
                &self.store,
                &self.plugin_cache_dir(),
                &self.plugin_services(),
                self.config.plugin_deadlines,
            )
            .await
    }

    /// Loads the installed plugins now, then keeps watching for changes (installs, upgrades,
    /// configuration) made by the CLI, the admin API or another server.
    pub async fn watch_plugins(&self) {
        if let Err(e) = self.refresh_plugins().await {
            tracing::error!(error = %e, "cannot load plugins");
        }
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = app.refresh_plugins().await {
                    tracing::warn!(error = %e, "plugin refresh failed");
                }
            }
        });
    }
}

/// Where compiled plugin code is cached: under the data directory, shared by the CLI (which
/// compiles on install) and the server (which then starts without compiling).
pub fn plugin_cache_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("plugin-cache")
}

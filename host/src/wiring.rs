//! Builds the core from the configuration: opens (and migrates) the database and makes the
//! guarded HTTP client.

use tsudoi_core::Core;
use tsudoi_net::{AddressPolicy, GuardedClient};
use tsudoi_store::Store;

use crate::config::{Config, redact};

/// Opens the database named by the configuration, migrating it (with progress on a
/// terminal), and builds the core over it.
pub async fn open(config: &Config) -> anyhow::Result<Core> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| cannot_open(config, e))?;
    store
        .migrate_reporting(&crate::progress::Migrations)
        .await
        .map_err(|e| cannot_open(config, e))?;
    Ok(core_over(config, store))
}

fn cannot_open(config: &Config, e: tsudoi_store::StoreError) -> anyhow::Error {
    anyhow::anyhow!("cannot open database {}: {e}", redact(&config.database_url))
}

/// The core over an open store.
pub fn core_over(config: &Config, store: Store) -> Core {
    let http = GuardedClient::new(AddressPolicy {
        allowed_private: config.allowed_private_networks.clone(),
    });
    Core::new(config.settings.clone(), store, http)
}

//! Builds the core from the configuration: opens (and migrates) the database and makes the
//! guarded HTTP client; for the server, the federation layer over them.

use tsudoi_bus::Bus;
use tsudoi_core::Core;
use tsudoi_federation::Federation;
use tsudoi_net::{AddressPolicy, GuardedClient};
use tsudoi_store::Store;

use crate::config::{Config, redact};

/// Opens the database named by the configuration, migrating it (with progress on a
/// terminal), and builds the core over it.
pub async fn open(config: &Config) -> anyhow::Result<Core> {
    core_over(config, open_store(config).await?)
}

/// The core and the federation layer over it: what a server runs.
pub async fn open_federated(config: &Config) -> anyhow::Result<Federation> {
    let store = open_store(config).await?;
    let core = core_over(config, store.clone())?;
    Ok(federation_over(config, core, store))
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| cannot_open(config, e))?;
    store
        .migrate_reporting(&crate::progress::Migrations)
        .await
        .map_err(|e| cannot_open(config, e))?;
    Ok(store)
}

/// The federation layer: its fetches and deliveries go through a guarded client of their
/// own, which reaches loopback only when `federation.allow_private` is set (tests).
pub fn federation_over(config: &Config, core: Core, store: Store) -> Federation {
    let mut allowed_private = config.allowed_private_networks.clone();
    if config.federation.allow_private {
        allowed_private.extend(
            ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse::<ipnet::IpNet>().ok()),
        );
    }
    let http = GuardedClient::new(AddressPolicy { allowed_private });
    Federation::new(core, store, http, config.federation.clone())
}

fn cannot_open(config: &Config, e: tsudoi_store::StoreError) -> anyhow::Error {
    anyhow::anyhow!("cannot open database {}: {e}", redact(&config.database_url))
}

/// The core over an open store. Its events go out through Redis when the configuration
/// names one (several nodes), else they stay in this process.
pub fn core_over(config: &Config, store: Store) -> anyhow::Result<Core> {
    let http = GuardedClient::new(AddressPolicy {
        allowed_private: config.allowed_private_networks.clone(),
    });
    let bus = match &config.redis_url {
        Some(url) => Bus::redis(url).map_err(|e| anyhow::anyhow!("{e}: {}", redact(url)))?,
        None => Bus::in_process(),
    };
    let blobs = tsudoi_media::blobs::Blobs::open(&config.file_storage)?;
    Ok(Core::new(config.settings.clone(), store, http, bus, blobs))
}

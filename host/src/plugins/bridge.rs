//! Network bridges: plugins that carry posts between Tsudoi and another network (the AT
//! Protocol first). The host polls a bridge for what changed on the other side, hands it the
//! local notes to mirror, and tells it which to delete.
//!
//! The server does not schedule polls yet: that, and turning an import batch into remote
//! accounts and notes, comes with the AT Protocol bridge. Until then bridges run offline
//! (`tsudoi plugin poll`), with the same sandbox and deadline they will have in a server.

use super::instance::{Kind, Plugin};
use super::{CallError, call_error, host_imports};

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "network-bridge",
    with: {
        "tsudoi:plugin/log": host_imports::log,
        "tsudoi:plugin/kv": host_imports::kv,
        "tsudoi:plugin/http": host_imports::http,
        "tsudoi:plugin/types": super::moderation::tsudoi::plugin::types,
    },
    imports: { default: trappable },
});

pub use exports::tsudoi::plugin::bridge::{ImportBatch, RemoteActor, RemotePost};

/// A loaded bridge plugin.
pub type BridgePlugin = Plugin<NetworkBridge>;

super::instance::impl_world!(NetworkBridge, NetworkBridgePre, Kind::Bridge);

impl Plugin<NetworkBridge> {
    /// What changed on the other network since `cursor` (the one the last batch returned;
    /// `None` the first time). Blocks: call it from a blocking thread.
    pub fn poll(&self, cursor: Option<&str>) -> Result<ImportBatch, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            instance
                .tsudoi_plugin_bridge()
                .call_poll(store, cursor)
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(super::moderation::plugin_error(&e)))
        })
    }
}

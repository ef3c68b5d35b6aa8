//! Network bridges: plugins that carry posts between Tsudoi and another network (the AT
//! Protocol first). The host polls a bridge for what changed on the other side, hands it the
//! local notes to mirror, and tells it which to delete.
//!
//! The server does not schedule polls yet: that, and turning an import batch into remote
//! accounts and notes, comes with the AT Protocol bridge. Until then bridges run offline
//! (`tsudoi plugin poll`), with the same sandbox and deadline they will have in a server.

use crate::plugin::Plugin;
use crate::sandbox::call_error;
use crate::wit::{since_v0_1_0, versioned_world};
use crate::{CallError, Kind};

pub use crate::wit::latest::bridge::exports::tsudoi::plugin::bridge::{
    ImportBatch, RemoteActor, RemotePost,
};

versioned_world!(
    /// A network bridge, by the WIT version it was built against.
    NetworkBridge, NetworkBridgePre, Kind::Bridge, {
        V0_1_0 => since_v0_1_0::NetworkBridge,
    }
);

/// A loaded bridge plugin.
pub type BridgePlugin = Plugin<NetworkBridge>;

impl Plugin<NetworkBridge> {
    /// What changed on the other network since `cursor` (the one the last batch returned;
    /// `None` the first time). Blocks: call it from a blocking thread.
    pub fn poll(&self, cursor: Option<&str>) -> Result<ImportBatch, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            let result = match instance {
                NetworkBridge::V0_1_0(w) => w.tsudoi_plugin_bridge().call_poll(store, cursor),
            };
            result
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(since_v0_1_0::plugin_error(&e)))
        })
    }
}

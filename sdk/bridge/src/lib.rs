//! Network bridges for `tsudoi-sdk` (use them as `tsudoi_sdk::bridge`): carry posts between
//! Tsudoi and another network. The host polls the bridge for what changed there, hands it
//! local notes to mirror, and tells it which mirrored notes to delete. A bridge reaches the
//! other network through `tsudoi_sdk::http` (the admin grants it `http:HOST`) and keeps its
//! state (tokens, id maps) in `tsudoi_sdk::kv`.

wit_bindgen::generate!({
    path: "../../wit/0.1.1",
    world: "network-bridge",
    pub_export_macro: true,
    export_macro_name: "export_network_bridge",
    default_bindings_module: "tsudoi_sdk::bridge",
});

pub use exports::tsudoi::plugin::bridge::{ImportBatch, RemoteActor, RemotePost};
pub use exports::tsudoi::plugin::meta::PluginInfo;
pub use tsudoi::plugin::log::{Level, log};
pub use tsudoi::plugin::types::{Attachment, Note, PluginError, Visibility};
pub use tsudoi::plugin::{http, kv};

/// What a bridge implements. Only `info` and `poll` are required: a bridge that only imports
/// exports nothing.
pub trait NetworkBridge {
    fn info() -> PluginInfo;
    fn configure(_config_json: String) -> Result<(), String> {
        Ok(())
    }
    /// What changed on the other network since `cursor` (the `next_cursor` of the previous
    /// batch; `None` the first time). Must finish within the bridge deadline (10 s unless
    /// the admin changed it): fetch a page, return it, and continue from the cursor next
    /// time.
    fn poll(cursor: Option<String>) -> Result<ImportBatch, PluginError>;
    /// Mirror a local public note; the id it got on the other network, if it was sent.
    fn export_note(_note: Note) -> Result<Option<String>, PluginError> {
        Ok(None)
    }
    /// Delete a note this bridge exported earlier.
    fn delete_exported(_remote_id: String) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Connects a [`NetworkBridge`] to the generated exports; used by
/// `tsudoi_sdk::register_bridge!`.
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: NetworkBridge> exports::tsudoi::plugin::meta::Guest for Adapter<T> {
    fn info() -> PluginInfo {
        T::info()
    }
    fn configure(config_json: String) -> Result<(), String> {
        T::configure(config_json)
    }
}

impl<T: NetworkBridge> exports::tsudoi::plugin::bridge::Guest for Adapter<T> {
    fn poll(cursor: Option<String>) -> Result<ImportBatch, PluginError> {
        T::poll(cursor)
    }
    fn export_note(note: Note) -> Result<Option<String>, PluginError> {
        T::export_note(note)
    }
    fn delete_exported(remote_id: String) -> Result<(), PluginError> {
        T::delete_exported(remote_id)
    }
}

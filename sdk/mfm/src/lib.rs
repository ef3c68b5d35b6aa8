//! MFM renderers for `tsudoi-sdk` (use them as `tsudoi_sdk::mfm`): render the `$[fn]` names
//! a plugin declares, or whole documents. The server sanitises whatever HTML comes back.

wit_bindgen::generate!({
    path: "../../wit/0.1.1",
    world: "mfm-renderer",
    pub_export_macro: true,
    export_macro_name: "export_mfm_renderer",
    default_bindings_module: "tsudoi_sdk::mfm",
});

pub use exports::tsudoi::plugin::meta::PluginInfo;
pub use exports::tsudoi::plugin::mfm::{Document, FnCall, Node, NodeKind, RenderContext};
pub use tsudoi::plugin::log::{Level, log};
pub use tsudoi::plugin::{http, kv};

/// What an MFM renderer implements. `info`, `handled_fns` and `render_fn` are required.
pub trait MfmRenderer {
    fn info() -> PluginInfo;
    fn configure(_config_json: String) -> Result<(), String> {
        Ok(())
    }
    /// The `$[fn]` names this plugin renders.
    fn handled_fns() -> Vec<String>;
    /// HTML for one call; `children_html` is already rendered and sanitised.
    fn render_fn(call: FnCall, children_html: String, ctx: RenderContext)
    -> Result<String, String>;
    /// A whole document, replacing the server's renderer; `None` (the default) keeps it.
    fn render_document(_doc: Document, _ctx: RenderContext) -> Option<String> {
        None
    }
}

/// Connects an [`MfmRenderer`] to the generated exports; used by `tsudoi_sdk::register_mfm!`.
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: MfmRenderer> exports::tsudoi::plugin::meta::Guest for Adapter<T> {
    fn info() -> PluginInfo {
        T::info()
    }
    fn configure(config_json: String) -> Result<(), String> {
        T::configure(config_json)
    }
}

impl<T: MfmRenderer> exports::tsudoi::plugin::mfm::Guest for Adapter<T> {
    fn handled_fns() -> Vec<String> {
        T::handled_fns()
    }
    fn render_fn(
        call: FnCall,
        children_html: String,
        ctx: RenderContext,
    ) -> Result<String, String> {
        T::render_fn(call, children_html, ctx)
    }
    fn render_document(doc: Document, ctx: RenderContext) -> Option<String> {
        T::render_document(doc, ctx)
    }
}

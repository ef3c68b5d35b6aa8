//! Timeline rankers for `tsudoi-sdk` (use them as `tsudoi_sdk::ranking`): given a timeline's
//! candidate notes and their features, keep some and score them; the server sorts by score
//! and pages.

wit_bindgen::generate!({
    path: "../../wit/0.1.1",
    world: "timeline-ranker",
    pub_export_macro: true,
    export_macro_name: "export_timeline_ranker",
    default_bindings_module: "tsudoi_sdk::ranking",
});

pub use exports::tsudoi::plugin::meta::PluginInfo;
pub use exports::tsudoi::plugin::ranking::{Candidate, Scored, Viewer};
pub use tsudoi::plugin::log::{Level, log};
pub use tsudoi::plugin::types::{PluginError, Visibility};
pub use tsudoi::plugin::{http, kv};

/// What a ranking plugin implements. Only `info` and `rank` are required.
pub trait TimelineRanker {
    fn info() -> PluginInfo;
    fn configure(_config_json: String) -> Result<(), String> {
        Ok(())
    }
    /// The candidates to keep, each with a score; the server shows higher scores first.
    fn rank(
        timeline: String,
        viewer: Viewer,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<Scored>, PluginError>;
}

/// Connects a [`TimelineRanker`] to the generated exports; used by
/// `tsudoi_sdk::register_ranking!`.
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: TimelineRanker> exports::tsudoi::plugin::meta::Guest for Adapter<T> {
    fn info() -> PluginInfo {
        T::info()
    }
    fn configure(config_json: String) -> Result<(), String> {
        T::configure(config_json)
    }
}

impl<T: TimelineRanker> exports::tsudoi::plugin::ranking::Guest for Adapter<T> {
    fn rank(
        timeline: String,
        viewer: Viewer,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<Scored>, PluginError> {
        T::rank(timeline, viewer, candidates)
    }
}

//! The Rust SDK for Tsudoi plugins.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` against the WIT package
//! `tsudoi:plugin` (in `wit/` of the Tsudoi repository). This crate hides the generated
//! bindings behind one trait per plugin kind and one macro that exports it:
//!
//! ```ignore
//! use tsudoi_sdk::moderation::*;
//!
//! struct NoSpam;
//!
//! impl ModerationFilter for NoSpam {
//!     fn info() -> PluginInfo {
//!         PluginInfo { name: "no-spam".into(), version: "1.0.0".into(), config_schema: None }
//!     }
//!     fn check_note(_activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
//!         let spam = note.text().is_some_and(|t| t.contains("buy now"));
//!         Ok(if spam { Verdict::Reject("spam".into()) } else { Verdict::Accept })
//!     }
//! }
//!
//! tsudoi_sdk::register_moderation!(NoSpam);
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release` and install the `.wasm` file.

/// The version of the WIT package this SDK builds plugins against.
pub const WIT_VERSION: &str = "0.1.1";

pub mod moderation {
    //! Moderation filters: look at every note and activity entering or leaving the server
    //! and accept, reject, rewrite or flag it.

    wit_bindgen::generate!({
        path: "../wit/0.1.1",
        world: "moderation-filter",
        pub_export_macro: true,
        export_macro_name: "export_moderation_filter",
        default_bindings_module: "tsudoi_sdk::moderation",
    });

    pub use exports::tsudoi::plugin::meta::PluginInfo;
    pub use exports::tsudoi::plugin::moderation::Verdict;
    pub use tsudoi::plugin::log::{Level, log};
    pub use tsudoi::plugin::review::{Activity, NoteView};
    pub use tsudoi::plugin::types::{
        Actor, Attachment, Direction, Link, Note, PluginError, Visibility,
    };

    /// What a moderation plugin implements. Only `info` and `check_note` are required.
    pub trait ModerationFilter {
        /// Name, version and configuration schema.
        fn info() -> PluginInfo;
        /// The admin's configuration (JSON, already checked against the schema).
        fn configure(_config_json: String) -> Result<(), String> {
            Ok(())
        }
        /// A note entering or leaving the server. The host holds the note and the activity;
        /// each getter (`note.text()`, `activity.actor()`, …) copies one field into the
        /// plugin, so read only what the decision needs. `note.to_note()` copies it whole,
        /// e.g. to return a [`Verdict::Rewrite`].
        fn check_note(activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError>;
        /// An activity without a note (follow, reaction, …). Accepts by default.
        fn check_activity(
            _activity: &Activity,
            _object_id: Option<String>,
        ) -> Result<Verdict, PluginError> {
            Ok(Verdict::Accept)
        }
    }

    /// Connects a [`ModerationFilter`] to the generated exports; used by
    /// [`register_moderation!`](crate::register_moderation).
    pub struct Adapter<T>(core::marker::PhantomData<T>);

    impl<T: ModerationFilter> exports::tsudoi::plugin::meta::Guest for Adapter<T> {
        fn info() -> PluginInfo {
            T::info()
        }
        fn configure(config_json: String) -> Result<(), String> {
            T::configure(config_json)
        }
    }

    impl<T: ModerationFilter> exports::tsudoi::plugin::moderation::Guest for Adapter<T> {
        fn check_note(activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
            T::check_note(activity, note)
        }
        fn check_activity(
            activity: &Activity,
            object_id: Option<String>,
        ) -> Result<Verdict, PluginError> {
            T::check_activity(activity, object_id)
        }
    }
}

/// Timeline rankers. (Generated in a crate of its own: two worlds' bindings in one crate
/// would export clashing macros.)
pub use tsudoi_sdk_ranking as ranking;

/// MFM renderers (their own crate for the same reason).
pub use tsudoi_sdk_mfm as mfm;

/// Network bridges (their own crate for the same reason).
pub use tsudoi_sdk_bridge as bridge;

/// A plugin's settings: replaced from the admin's JSON in `configure`, read by every call.
/// Any settings type works, lists and strings included: `get` hands out a copy, `with` lends
/// the settings without one (for large ones read on every note).
///
/// ```ignore
/// static SETTINGS: tsudoi_sdk::Settings<MySettings> = tsudoi_sdk::Settings::new(DEFAULTS);
/// fn configure(json: String) -> Result<(), String> { SETTINGS.configure(&json) }
/// // in a hook: let s = SETTINGS.get(); or SETTINGS.with(|s| s.words.iter().any(..))
/// ```
pub struct Settings<T>(std::sync::Mutex<T>);

impl<T: serde::de::DeserializeOwned> Settings<T> {
    pub const fn new(defaults: T) -> Self {
        Self(std::sync::Mutex::new(defaults))
    }

    /// Parses the configuration (already checked against the plugin's schema by the host).
    pub fn configure(&self, json: &str) -> Result<(), String> {
        let parsed = serde_json::from_str(json).map_err(|e| e.to_string())?;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = parsed;
        Ok(())
    }

    /// A copy of the current settings.
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `f` on the current settings, without copying them.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The host's key-value store: `Bucket::open("name")`, then get/set/increment. Needs the
/// `kv` capability (requested in the manifest, granted by the admin).
pub use moderation::tsudoi::plugin::kv;

/// Outbound HTTP to the hosts the admin granted (`http:HOST` capabilities).
pub use moderation::tsudoi::plugin::http;

/// Embeds the plugin's manifest (TOML) in the component, where the server reads it:
///
/// ```ignore
/// tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));
/// ```
#[macro_export]
macro_rules! manifest {
    ($bytes:expr) => {
        #[unsafe(link_section = "tsudoi-manifest")]
        #[used]
        static __TSUDOI_MANIFEST: [u8; $bytes.len()] = *$bytes;
    };
}

/// Exports a type implementing [`mfm::MfmRenderer`] as the plugin's component.
#[macro_export]
macro_rules! register_mfm {
    ($plugin:ty) => {
        type __TsudoiMfmExport = $crate::mfm::Adapter<$plugin>;
        $crate::mfm::export_mfm_renderer!(__TsudoiMfmExport with_types_in $crate::mfm);
    };
}

/// Exports a type implementing [`bridge::NetworkBridge`] as the plugin's component.
#[macro_export]
macro_rules! register_bridge {
    ($plugin:ty) => {
        type __TsudoiBridgeExport = $crate::bridge::Adapter<$plugin>;
        $crate::bridge::export_network_bridge!(__TsudoiBridgeExport with_types_in $crate::bridge);
    };
}

/// Exports a type implementing [`ranking::TimelineRanker`] as the plugin's component.
#[macro_export]
macro_rules! register_ranking {
    ($plugin:ty) => {
        type __TsudoiRankingExport = $crate::ranking::Adapter<$plugin>;
        $crate::ranking::export_timeline_ranker!(__TsudoiRankingExport with_types_in $crate::ranking);
    };
}

/// Exports a type implementing [`moderation::ModerationFilter`] as the plugin's component.
#[macro_export]
macro_rules! register_moderation {
    ($plugin:ty) => {
        type __TsudoiModerationExport = $crate::moderation::Adapter<$plugin>;
        $crate::moderation::export_moderation_filter!(__TsudoiModerationExport with_types_in $crate::moderation);
    };
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Words {
        words: Vec<String>,
    }

    #[test]
    fn settings_may_hold_lists() {
        static SETTINGS: Settings<Words> = Settings::new(Words { words: Vec::new() });
        assert!(SETTINGS.get().words.is_empty());
        SETTINGS
            .configure(r#"{"words":["buy now","casino"]}"#)
            .unwrap();
        assert_eq!(SETTINGS.get().words, ["buy now", "casino"]);
        assert_eq!(SETTINGS.with(|s| s.words.len()), 2);
        assert!(SETTINGS.configure("{").is_err(), "not JSON");
        assert_eq!(SETTINGS.with(|s| s.words.len()), 2, "kept");
    }
}

//! The plugin runtime: a thin layer over wasmtime's component model that narrows it to what
//! Tsudoi needs (the Spin way). One shared engine; every call runs in a store with a deadline
//! (epoch interruption for code, and [`wasi`]'s bounded waits for a plugin that sleeps or
//! blocks), a memory cap and no capabilities beyond the ones granted; a plugin that traps,
//! loops, sleeps or grows without bound costs one failed call, never the host.
//!
//! - [`wit`]: one binding module per WIT version (`since_v0_1_0`), so components built
//!   against every shipped version keep loading; [`hooks`] speak the latest version's types.
//! - [`Plugin`]: a compiled plugin with its warm instances; [`Loaded`] any kind of it.
//! - [`Funnel`]: every hook call goes through it (hand-off to a plugin thread, see
//!   [`threads`], metrics labelled by kind, failures counted until the plugin is disabled).
//! - [`Registry`]: the installed plugins as the server runs them, swapped as a whole.
//! - [`Services`]: `kv` and `http` reach the server only through the traits there, so this
//!   crate knows neither the database nor the HTTP client.

mod engine;
pub mod funnel;
pub mod hooks;
mod imports;
mod log;
pub mod manifest;
pub mod metrics;
mod plugin;
pub mod registry;
mod sandbox;
pub mod scratch;
pub mod services;
pub mod threads;
mod wasi;
pub mod wit;

pub use funnel::{Calls, FAILURES_BEFORE_DISABLE, FailureLimit, Funnel};
pub use hooks::bridge::BridgePlugin;
pub use hooks::mfm::MfmPlugin;
pub use hooks::moderation::ModerationPlugin;
pub use hooks::ranking::RankingPlugin;
pub use plugin::{LoadOptions, Plugin, World};
pub use registry::Registry;
pub use services::Services;
pub use tsudoi_model::PluginKind as Kind;
pub use wit::WitVersion;

use std::sync::Arc;
use std::time::Duration;

/// How often the epoch advances. A deadline is a number of ticks, so a call overruns its
/// deadline by at most one tick (measured: a 10 ms tick stopped a loop in ~13 ms).
pub const TICK: Duration = Duration::from_millis(5);

/// Linear memory a plugin instance may use. Generous for a filter, small enough that a
/// hundred misbehaving calls at once cannot exhaust the server.
pub const MEMORY_LIMIT: usize = 64 << 20;

/// Memory past which an instance is not reused but re-created for the next call. Plugins
/// in garbage-collected languages may not collect between calls (the JavaScript port grew
/// ~1 KiB per call and would trap at the limit after ~45,000 calls); retired at three
/// quarters of the limit, such an instance is replaced before any call fails.
pub const MEMORY_RETIRE_AT: usize = MEMORY_LIMIT / 4 * 3;

/// Bytes a plugin may keep in its key-value store, charged as the store keeps them (each
/// entry its value, its plugin, bucket and key names, and 64 bytes for the row): room for
/// counters and caches, not for a database of its own, nor for 100,000 empty entries. The
/// default of the server's `plugins.kv_quota_bytes`.
pub const KV_QUOTA_BYTES: i64 = 4 << 20;

/// Largest HTTP response body handed to a plugin.
pub const HTTP_MAX_BODY: usize = 1 << 20;

/// Most characters of a message a plugin hands the server: a rejection or flag reason, an
/// error. Messages go into HTTP responses, the log and the review queue, where a sentence or
/// two is what anyone reads; a plugin's 16 MB reason used to be stored and sent whole.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// Most bytes of HTML an MFM renderer may return for one `$[fn]`: a note renders to a few
/// kilobytes, and what a renderer returns is sanitised and sent with every view of the note.
pub const MAX_RENDERED_BYTES: usize = 64 << 10;

/// A plugin's name: what admins type (`tsudoi plugin configure NAME`), so letters, digits,
/// `-`, `_` and `.`, at most this long.
pub const MAX_NAME_CHARS: usize = 64;

/// A plugin's version string, at most this long.
pub const MAX_VERSION_CHARS: usize = 32;

/// A plugin's configuration schema (JSON Schema), at most this many bytes.
pub const MAX_CONFIG_SCHEMA_BYTES: usize = 64 << 10;

/// `message` as the server keeps it: on one line (control characters become spaces, so a
/// plugin cannot forge log lines) and cut to [`MAX_MESSAGE_CHARS`], with an ellipsis.
pub fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS * 4));
    for (i, c) in message.chars().enumerate() {
        if i == MAX_MESSAGE_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error(
        "the component exports {found}, but this server implements {}: rebuild the plugin against wit/{} (with a tsudoi-sdk for {} in Rust)",
        wit::supported_packages(),
        wit::LATEST,
        wit::LATEST
    )]
    IncompatibleVersion { found: String },
    #[error("the component is not a {expected} plugin: it exports {found}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("the component needs imports this server does not provide: {0}")]
    Link(String),
    #[error("the plugin failed to start: {0}")]
    Start(String),
    #[error("bad manifest: {0}")]
    Manifest(String),
    #[error("{0}")]
    Config(String),
}

/// Why one call into a plugin failed. The hook's failure policy decides what follows.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the plugin ran past its {0:?} deadline")]
    Timeout(Duration),
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("the plugin rejected its configuration: {0}")]
    Config(String),
    #[error("the plugin returned an error: {0}")]
    Plugin(String),
}

impl CallError {
    /// The error with its message made [`one_line`]: messages come from the plugin (its
    /// errors, the panic in its trap), and go to the log and the review queue.
    pub(crate) fn bounded(self) -> Self {
        match self {
            CallError::Timeout(d) => CallError::Timeout(d),
            CallError::Trap(m) => CallError::Trap(one_line(&m)),
            CallError::Config(m) => CallError::Config(one_line(&m)),
            CallError::Plugin(m) => CallError::Plugin(one_line(&m)),
        }
    }
}

/// A loaded plugin of any kind.
#[derive(Clone)]
pub enum Loaded {
    Moderation(Arc<ModerationPlugin>),
    Ranking(Arc<RankingPlugin>),
    Mfm(Arc<MfmPlugin>),
    Bridge(Arc<BridgePlugin>),
}

/// Calls `$body` with `$p` bound to the plugin inside a [`Loaded`], whatever its kind.
macro_rules! each_kind {
    ($loaded:expr, |$p:ident| $body:expr) => {
        match $loaded {
            Loaded::Moderation($p) => $body,
            Loaded::Ranking($p) => $body,
            Loaded::Mfm($p) => $body,
            Loaded::Bridge($p) => $body,
        }
    };
}

impl Loaded {
    /// Loads `wasm` as the kind its manifest names or, without one, the kind it exports.
    pub fn load(wasm: &[u8], mut options: LoadOptions) -> Result<Self, LoadError> {
        // Read once here; the loader then takes it from the options.
        if options.manifest.is_none() {
            options.manifest = Some(
                manifest::Manifest::embedded(wasm)
                    .map_err(|e| LoadError::Manifest(e.to_string()))?
                    .unwrap_or_default(),
            );
        }
        let kind = match options.manifest.as_ref().and_then(|m| m.kind) {
            Some(kind) => kind,
            None => engine::exported_kind(wasm).unwrap_or(Kind::Moderation),
        };
        Self::load_as(kind, wasm, options)
    }

    pub fn load_as(kind: Kind, wasm: &[u8], options: LoadOptions) -> Result<Self, LoadError> {
        Ok(match kind {
            Kind::Moderation => Self::Moderation(Arc::new(Plugin::load(wasm, options)?)),
            Kind::Ranking => Self::Ranking(Arc::new(Plugin::load(wasm, options)?)),
            Kind::Mfm => Self::Mfm(Arc::new(Plugin::load(wasm, options)?)),
            Kind::Bridge => Self::Bridge(Arc::new(Plugin::load(wasm, options)?)),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Moderation(_) => Kind::Moderation,
            Self::Ranking(_) => Kind::Ranking,
            Self::Mfm(_) => Kind::Mfm,
            Self::Bridge(_) => Kind::Bridge,
        }
    }

    pub fn name(&self) -> &str {
        each_kind!(self, |p| &p.name)
    }

    pub fn manifest(&self) -> &manifest::Manifest {
        each_kind!(self, |p| &p.manifest)
    }

    pub fn version(&self) -> &str {
        each_kind!(self, |p| &p.version)
    }
}

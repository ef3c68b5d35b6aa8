//! The WIT package `tsudoi:plugin`, one binding module per version (as Zed's extension host
//! keeps `since_v0_*` modules): once a version has shipped, components built against it keep
//! loading. The hooks speak [`latest`]'s types; when a new version arrives it becomes
//! `latest`, and the older modules convert between their own types and the latest ones.
//!
//! Which module binds a component is decided by the version of the interface it exports
//! (`tsudoi:plugin/moderation@0.1.0`); a version no module binds is refused with a message
//! naming the versions this host implements.

pub mod since_v0_1_0;

pub use since_v0_1_0 as latest;

use wasmtime::component::Linker;

use crate::LoadError;
use crate::sandbox::HostState;

/// The WIT package plugins are built against.
pub const PACKAGE: &str = "tsudoi:plugin";

/// The newest version this host implements, the one new plugins are built against.
pub const LATEST: WitVersion = latest::VERSION;

/// Every version this host loads, newest first.
pub const SUPPORTED: &[WitVersion] = &[since_v0_1_0::VERSION];

/// A version of the WIT package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WitVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl WitVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }
}

impl std::fmt::Display for WitVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// `tsudoi:plugin@0.1.0`, for every version this host implements.
pub fn supported_packages() -> String {
    SUPPORTED
        .iter()
        .map(|v| format!("{PACKAGE}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A linker with the imports a component built against `version` may use: WASI (Rust's
/// standard library imports it; no files, sockets or environment are given, and waits end at
/// the call's deadline, see `crate::wasi`) and that version's host interfaces.
pub(crate) fn linker(version: WitVersion) -> Result<Linker<HostState>, LoadError> {
    let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
    let mut linker = Linker::new(crate::engine::engine());
    crate::wasi::add_to_linker(&mut linker).map_err(link)?;
    match version {
        since_v0_1_0::VERSION => since_v0_1_0::add_to_linker(&mut linker).map_err(link)?,
        other => {
            return Err(LoadError::IncompatibleVersion {
                found: format!("{PACKAGE}@{other}"),
            });
        }
    }
    Ok(linker)
}

/// What every plugin's generated bindings of one world can do, whatever the version:
/// prepare, instantiate, and the `meta` interface every world exports.
#[doc(hidden)]
pub trait Bindings: Sized + Send + 'static {
    type Pre: Send + Sync;
    fn prepare(pre: wasmtime::component::InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut wasmtime::Store<HostState>,
    ) -> wasmtime::Result<Self>;
    fn info(&self, store: &mut wasmtime::Store<HostState>)
    -> wasmtime::Result<crate::plugin::Info>;
    fn configure(
        &self,
        store: &mut wasmtime::Store<HostState>,
        config: &str,
    ) -> wasmtime::Result<Result<(), String>>;
}

/// Defines the world type of one plugin kind as an enum over the versions that bind it, and
/// implements [`crate::World`] for it by dispatching to the version's [`Bindings`].
macro_rules! versioned_world {
    ($(#[$doc:meta])* $name:ident, $pre:ident, $kind:expr, { $($variant:ident => $module:ident :: $world:ident),+ $(,)? }) => {
        $(#[$doc])*
        pub enum $name {
            $($variant($crate::wit::$module::$world)),+
        }

        #[doc(hidden)]
        pub enum $pre {
            $($variant(<$crate::wit::$module::$world as $crate::wit::Bindings>::Pre)),+
        }

        impl $crate::plugin::World for $name {
            type Pre = $pre;
            const KIND: $crate::Kind = $kind;

            fn prepare(
                version: $crate::wit::WitVersion,
                pre: wasmtime::component::InstancePre<$crate::sandbox::HostState>,
            ) -> wasmtime::Result<Self::Pre> {
                $(if version == $crate::wit::$module::VERSION {
                    return Ok($pre::$variant(
                        <$crate::wit::$module::$world as $crate::wit::Bindings>::prepare(pre)?,
                    ));
                })+
                Err(wasmtime::Error::msg(format!(
                    "no {} bindings for {}@{version}", $kind, $crate::wit::PACKAGE
                )))
            }

            fn instantiate(
                pre: &Self::Pre,
                store: &mut wasmtime::Store<$crate::sandbox::HostState>,
            ) -> wasmtime::Result<Self> {
                match pre {
                    $($pre::$variant(p) => Ok($name::$variant(
                        <$crate::wit::$module::$world as $crate::wit::Bindings>::instantiate(p, store)?,
                    ))),+
                }
            }

            fn info(
                &self,
                store: &mut wasmtime::Store<$crate::sandbox::HostState>,
            ) -> wasmtime::Result<$crate::plugin::Info> {
                match self {
                    $($name::$variant(w) => $crate::wit::Bindings::info(w, store)),+
                }
            }

            fn configure(
                &self,
                store: &mut wasmtime::Store<$crate::sandbox::HostState>,
                config: &str,
            ) -> wasmtime::Result<Result<(), String>> {
                match self {
                    $($name::$variant(w) => $crate::wit::Bindings::configure(w, store, config)),+
                }
            }
        }
    };
}
pub(crate) use versioned_world;

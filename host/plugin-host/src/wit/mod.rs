//! The WIT package `tsudoi:plugin`, one binding module per version (as Zed's extension host
//! keeps `since_v0_*` modules): once a version has shipped, components built against it keep
//! loading. The hooks speak [`latest`]'s types; when a new version arrives it becomes
//! `latest`, and the older modules convert between their own types and the latest ones.
//!
//! A module binds a whole semver-compatible line (`0.1.x`): it is generated from the line's
//! newest version, and an additive change (a new getter, a new record) is a new patch
//! version in the same module, not a new module. Components built against an older version
//! of the line load unchanged, because wasmtime matches imports and exports across
//! compatible versions (`review@0.1.0` resolves to the host's `review@0.1.1`), and the
//! component model checks only what a component uses. A new module (and conversions to the
//! latest types) is needed only for a breaking change, which starts a new line (`0.2.0`).
//!
//! Which module binds a component is decided by the version of the interface it exports
//! (`tsudoi:plugin/moderation@0.1.0`); a version no module binds (a newer patch than the
//! host's, or another line) is refused with a message naming the versions this host
//! implements.

pub mod since_v0_1_0;

pub use since_v0_1_0 as latest;

use wasmtime::component::Linker;

use crate::LoadError;
use crate::sandbox::HostState;

/// The WIT package plugins are built against.
pub const PACKAGE: &str = "tsudoi:plugin";

/// The newest version this host implements, the one new plugins are built against.
pub const LATEST: WitVersion = latest::VERSION;

/// The newest version of each line this host loads, newest first. Each also serves the
/// older versions of its line (see [`WitVersion::served_by`]).
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

    /// `0.1.0` from `"0.1.0"`; nothing for anything else (pre-releases included).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.').map(|p| p.parse::<u32>().ok());
        let v = Self::new(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(v)
    }

    /// Whether a component built against `self` loads through the bindings of `line`: the
    /// two are semver-compatible (same major, or same minor while the major is 0, as
    /// wasmtime matches names) and `self` is not newer, since a newer patch may use what
    /// `line` lacks.
    pub fn served_by(self, line: WitVersion) -> bool {
        let compatible = match (self.major, line.major) {
            (0, 0) if self.minor == 0 => self == line,
            (0, 0) => self.minor == line.minor,
            (a, b) => a == b,
        };
        compatible && self <= line
    }

    /// The version of the line in [`SUPPORTED`] that serves `self`.
    pub fn line(self) -> Option<WitVersion> {
        SUPPORTED.iter().copied().find(|line| self.served_by(*line))
    }
}

impl std::fmt::Display for WitVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The versions this host loads, line by line: `tsudoi:plugin@0.1.0 to 0.1.1`.
pub fn supported_packages() -> String {
    SUPPORTED
        .iter()
        .map(|line| {
            let first = match line.major {
                0 => WitVersion::new(0, line.minor, 0),
                major => WitVersion::new(major, 0, 0),
            };
            if first == *line {
                format!("{PACKAGE}@{line}")
            } else {
                format!("{PACKAGE}@{first} to {line}")
            }
        })
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
    match version.line() {
        Some(since_v0_1_0::VERSION) => since_v0_1_0::add_to_linker(&mut linker).map_err(link)?,
        _ => {
            return Err(LoadError::IncompatibleVersion {
                found: format!("{PACKAGE}@{version}"),
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
                $(if version.served_by($crate::wit::$module::VERSION) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_serves_its_older_patches_and_nothing_else() {
        let v = |s: &str| WitVersion::parse(s).unwrap();
        assert!(v("0.1.0").served_by(v("0.1.1")));
        assert!(v("0.1.1").served_by(v("0.1.1")));
        assert!(
            !v("0.1.2").served_by(v("0.1.1")),
            "a newer patch may use what the host lacks"
        );
        assert!(!v("0.2.0").served_by(v("0.1.1")));
        assert!(
            !v("0.0.1").served_by(v("0.0.2")),
            "0.0.x versions are each their own line"
        );
        assert!(v("1.0.0").served_by(v("1.2.0")));
        assert!(!v("2.0.0").served_by(v("1.2.0")));
        assert_eq!(v("0.1.0").line(), Some(since_v0_1_0::VERSION));
        assert_eq!(v("0.2.0").line(), None);
        for bad in ["0.1", "0.1.0.0", "0.1.0-rc.1", "x.1.0", ""] {
            assert_eq!(WitVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(supported_packages(), "tsudoi:plugin@0.1.0 to 0.1.1");
    }
}

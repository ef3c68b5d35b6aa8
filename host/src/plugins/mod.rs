//! The plugin runtime: a thin layer over wasmtime's component model that narrows it to what
//! Tsudoi needs (the Spin way). One shared engine; every call runs in its own store with a
//! deadline (epoch interruption), a memory cap and no capabilities beyond the ones granted;
//! a plugin that traps, loops or grows without bound costs one failed call, never the host.

mod host_imports;
pub mod metrics;
pub mod moderation;
pub mod registry;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The WIT package version this host implements; components built against another are
/// refused with a message saying so.
pub const WIT_PACKAGE: &str = "tsudoi:plugin";
pub const WIT_VERSION: &str = "0.1.0";

/// How often the epoch advances. A deadline is a number of ticks, so a call overruns its
/// deadline by at most one tick (measured: a 10 ms tick stopped a loop in ~13 ms).
pub const TICK: Duration = Duration::from_millis(5);

/// Linear memory a plugin instance may use. Generous for a filter, small enough that a
/// hundred misbehaving calls at once cannot exhaust the server.
pub const MEMORY_LIMIT: usize = 64 << 20;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error(
        "the component exports {found}, but this server implements {WIT_PACKAGE}@{WIT_VERSION}: rebuild the plugin with a tsudoi-sdk for {WIT_VERSION}"
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

/// The engine every plugin shares, with its epoch ticker.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // Plugins run on blocking threads with 2 MiB stacks; leave room for the host.
        config.max_wasm_stack(512 << 10);
        let engine = match Engine::new(&config) {
            Ok(e) => e,
            // A configuration error here is a build problem, not a runtime condition.
            Err(e) => panic!("wasmtime engine configuration is invalid: {e}"),
        };
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })
            .map(|_| ())
            .unwrap_or_else(
                |e| tracing::error!(error = %e, "cannot start the plugin epoch ticker"),
            );
        engine
    })
}

/// Per-call state: what the host imports see.
pub struct HostState {
    pub(crate) plugin: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store for one call of `plugin`: no files, no network, no environment (WASI is linked
/// only because Rust's standard library imports it), capped memory, and a deadline.
pub(crate) fn store(plugin: &Arc<str>, deadline: Duration) -> Store<HostState> {
    let state = HostState {
        plugin: plugin.clone(),
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(MEMORY_LIMIT)
            .instances(16)
            .tables(16)
            .memories(4)
            .trap_on_grow_failure(true)
            .build(),
    };
    let mut store = Store::new(engine(), state);
    store.limiter(|s| &mut s.limits);
    set_deadline(&mut store, deadline);
    store.epoch_deadline_trap();
    store
}

/// Arms the store's deadline `deadline` from now (in whole ticks, rounded up, plus the tick
/// in progress).
pub(crate) fn set_deadline(store: &mut Store<HostState>, deadline: Duration) {
    let ticks = deadline.as_millis().div_ceil(TICK.as_millis()).max(1) as u64 + 1;
    store.set_epoch_deadline(ticks);
}

/// Compiles a component (or takes it from the on-disk cache in `cache`) and checks it was
/// built against this host's WIT package.
pub(crate) fn compile(
    wasm: &[u8],
    kind: &'static str,
    interface: &str,
    cache: Option<&Path>,
) -> Result<Component, LoadError> {
    let component = match cache {
        Some(dir) => cached_compile(wasm, dir)?,
        None => Component::new(engine(), wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?,
    };
    let exports: Vec<String> = component
        .component_type()
        .exports(engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    let wanted = format!("{WIT_PACKAGE}/{interface}@{WIT_VERSION}");
    if exports.contains(&wanted) {
        return Ok(component);
    }
    let ours: Vec<&String> = exports
        .iter()
        .filter(|e| e.starts_with(WIT_PACKAGE))
        .collect();
    if ours
        .iter()
        .any(|e| e.starts_with(&format!("{WIT_PACKAGE}/{interface}@")))
    {
        return Err(LoadError::IncompatibleVersion {
            found: ours
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Err(LoadError::WrongKind {
        expected: kind,
        found: if exports.is_empty() {
            "nothing".into()
        } else {
            exports.join(", ")
        },
    })
}

/// Compiled code is kept in `dir`, named by the component's hash and the engine's
/// compatibility hash, so a restart (or a second server) loads it in milliseconds instead of
/// compiling again, and an upgraded wasmtime never reads code compiled by another.
fn cached_compile(wasm: &[u8], dir: &Path) -> Result<Component, LoadError> {
    use sha2::{Digest, Sha256};
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine().precompile_compatibility_hash().hash(&mut h);
    let name = format!(
        "{}-{:016x}.cwasm",
        hex::encode(Sha256::digest(wasm)),
        h.finish()
    );
    let path = dir.join(name);
    // Read into memory rather than mapped: a file truncated under a mapping would kill the
    // process with SIGBUS.
    if let Ok(bytes) = std::fs::read(&path) {
        // SAFETY: the file was written by `Component::serialize` of this same engine
        // configuration (the name carries its compatibility hash) into the server's own data
        // directory; wasmtime checks the header and refuses a foreign or corrupt artifact.
        match unsafe { Component::deserialize(engine(), &bytes) } {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding a bad compiled-plugin cache entry")
            }
        }
    }
    let component =
        Component::new(engine(), wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    if let Ok(bytes) = component.serialize() {
        let tmp = path.with_extension("tmp");
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, bytes))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot cache compiled plugin");
        }
    }
    Ok(component)
}

/// A linker with the host imports every plugin may use.
pub(crate) fn linker() -> Result<Linker<HostState>, LoadError> {
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    host_imports::add_to_linker(&mut linker).map_err(|e| LoadError::Link(format!("{e:#}")))?;
    Ok(linker)
}

/// Turns a wasmtime error from a call into a [`CallError`].
pub(crate) fn call_error(e: wasmtime::Error, deadline: Duration) -> CallError {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => CallError::Timeout(deadline),
        _ => CallError::Trap(format!("{e:#}")),
    }
}

//! The plugin runtime: a thin layer over wasmtime's component model that narrows it to what
//! Tsudoi needs (the Spin way). One shared engine; every call runs in its own store with a
//! deadline (epoch interruption), a memory cap and no capabilities beyond the ones granted;
//! a plugin that traps, loops or grows without bound costs one failed call, never the host.

pub mod bridge;
mod host_imports;
pub mod instance;
pub mod manifest;
pub mod metrics;
pub mod mfm;
pub mod moderation;
pub mod ranking;
pub mod registry;

pub use instance::{Kind, LoadOptions, Plugin};

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

/// Memory past which an instance is not reused but re-created for the next call. Plugins
/// in garbage-collected languages may not collect between calls (the JavaScript port grew
/// ~1 KiB per call and would trap at the limit after ~45,000 calls); retired at three
/// quarters of the limit, such an instance is replaced before any call fails.
pub const MEMORY_RETIRE_AT: usize = MEMORY_LIMIT / 4 * 3;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error(
        "the component exports {found}, but this server implements {WIT_PACKAGE}@{WIT_VERSION}: rebuild the plugin against wit/{WIT_VERSION} (with a tsudoi-sdk for {WIT_VERSION} in Rust)"
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

/// A loaded plugin of any kind.
#[derive(Clone)]
pub enum Loaded {
    Moderation(Arc<moderation::ModerationPlugin>),
    Ranking(Arc<ranking::RankingPlugin>),
    Mfm(Arc<mfm::MfmPlugin>),
    Bridge(Arc<bridge::BridgePlugin>),
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
        let kind = match options.manifest.as_ref().and_then(|m| m.kind.as_deref()) {
            Some(k) => Kind::parse(k).ok_or_else(|| {
                LoadError::Manifest(format!(
                    "unknown kind `{k}`: plugins are moderation, ranking, mfm or bridge"
                ))
            })?,
            None => exported_kind(wasm).unwrap_or(Kind::Moderation),
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
        match self {
            Self::Moderation(p) => &p.name,
            Self::Ranking(p) => &p.name,
            Self::Mfm(p) => &p.name,
            Self::Bridge(p) => &p.name,
        }
    }

    pub fn manifest(&self) -> &manifest::Manifest {
        match self {
            Self::Moderation(p) => &p.manifest,
            Self::Ranking(p) => &p.manifest,
            Self::Mfm(p) => &p.manifest,
            Self::Bridge(p) => &p.manifest,
        }
    }

    pub fn version(&self) -> &str {
        match self {
            Self::Moderation(p) => &p.version,
            Self::Ranking(p) => &p.version,
            Self::Mfm(p) => &p.version,
            Self::Bridge(p) => &p.version,
        }
    }
}

/// Which of our plugin interfaces a component exports, read from its export section
/// without compiling it.
fn exported_kind(wasm: &[u8]) -> Option<Kind> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::ComponentExportSection(exports)) = payload else {
            continue;
        };
        for export in exports.into_iter().flatten() {
            for kind in [Kind::Moderation, Kind::Ranking, Kind::Mfm, Kind::Bridge] {
                if export
                    .name
                    .0
                    .starts_with(&format!("{WIT_PACKAGE}/{}@", kind.as_str()))
                {
                    return Some(kind);
                }
            }
        }
    }
    None
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

/// What the `kv` and `http` imports reach: the server's database and its guarded HTTP client.
/// Host imports are synchronous (they run on the blocking thread that called the plugin) and
/// wait for these through `runtime`.
#[derive(Clone)]
pub struct Services {
    pub store: crate::store::Store,
    pub http: crate::net::GuardedClient,
    pub runtime: tokio::runtime::Handle,
}

/// Consecutive failed calls after which a plugin is disabled (and the admin told): a broken
/// plugin should not keep flagging or rejecting every note, or slowing every timeline.
pub const FAILURES_BEFORE_DISABLE: u32 = 5;

/// Bytes (keys plus values) a plugin may keep in its key-value store: room for counters and
/// caches, not for a database of its own.
pub const KV_QUOTA_BYTES: i64 = 4 << 20;

/// Largest HTTP response body handed to a plugin.
pub const HTTP_MAX_BODY: usize = 1 << 20;

/// Per-call state: what the host imports see.
pub struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) capabilities: Arc<manifest::Capabilities>,
    pub(crate) services: Option<Services>,
    /// When the current call must be over; host imports that wait (HTTP) stop waiting then.
    pub(crate) deadline_at: std::time::Instant,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limits,
}

impl HostState {
    /// Size of the instance's largest linear memory.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.limits.largest_memory
    }
}

/// The store's limits, noting how far the instance's memories have grown.
struct Limits {
    caps: StoreLimits,
    largest_memory: usize,
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.caps.memory_growing(current, desired, maximum)?;
        if allowed {
            self.largest_memory = self.largest_memory.max(desired);
        }
        Ok(allowed)
    }
    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.caps.memory_grow_failed(error)
    }
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.caps.table_growing(current, desired, maximum)
    }
    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.caps.table_grow_failed(error)
    }
    fn instances(&self) -> usize {
        self.caps.instances()
    }
    fn tables(&self) -> usize {
        self.caps.tables()
    }
    fn memories(&self) -> usize {
        self.caps.memories()
    }
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
/// only because Rust's standard library imports it), capped memory, and a deadline; `kv` and
/// `http` as far as `capabilities` allow.
pub(crate) fn store(
    plugin: &Arc<str>,
    deadline: Duration,
    capabilities: Arc<manifest::Capabilities>,
    services: Option<Services>,
) -> Store<HostState> {
    let state = HostState {
        plugin: plugin.clone(),
        capabilities,
        services,
        deadline_at: std::time::Instant::now() + deadline,
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
        limits: Limits {
            caps: StoreLimitsBuilder::new()
                .memory_size(MEMORY_LIMIT)
                .instances(16)
                .tables(16)
                .memories(4)
                .trap_on_grow_failure(true)
                .build(),
            largest_memory: 0,
        },
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
    store.data_mut().deadline_at = std::time::Instant::now() + deadline;
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
    // The shared types travel in an interface of their own that components import.
    moderation::tsudoi::plugin::types::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
        &mut linker,
        |s| s,
    )
    .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    // What moderation filters are asked about (handles to the host's copy of the note).
    moderation::tsudoi::plugin::review::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
        &mut linker,
        |s| s,
    )
    .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    Ok(linker)
}

/// Turns a wasmtime error from a call into a [`CallError`].
pub(crate) fn call_error(e: wasmtime::Error, deadline: Duration) -> CallError {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => CallError::Timeout(deadline),
        _ => CallError::Trap(format!("{e:#}")),
    }
}

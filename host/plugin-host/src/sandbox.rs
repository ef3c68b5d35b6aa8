//! The sandbox one plugin instance lives in: a wasmtime store with a memory cap, a deadline,
//! no files, no network and no environment, and host imports limited to what was granted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::log::{CallLog, PluginLog};
use crate::manifest::Capabilities;
use crate::services::Services;
use crate::{CallError, MEMORY_LIMIT, TICK, engine};

/// Per-instance state: what the host imports see.
pub struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) capabilities: Arc<Capabilities>,
    pub(crate) services: Option<Services>,
    /// When the current call must be over; host imports that wait (HTTP) stop waiting then.
    pub(crate) deadline_at: Instant,
    pub(crate) table: ResourceTable,
    /// The plugin's log allowance, shared by its instances, and what this call logged.
    pub(crate) log: Arc<PluginLog>,
    pub(crate) call_log: CallLog,
    wasi: WasiCtx,
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

/// A store for `plugin`: no files, no network, no environment (WASI is linked only because
/// Rust's standard library imports it), capped memory, a deadline and a log allowance;
/// `kv` and `http` as far as `capabilities` allow.
pub(crate) fn store(
    plugin: &Arc<str>,
    deadline: Duration,
    capabilities: Arc<Capabilities>,
    services: Option<Services>,
    log: Arc<PluginLog>,
) -> Store<HostState> {
    let state = HostState {
        plugin: plugin.clone(),
        capabilities,
        services,
        deadline_at: Instant::now() + deadline,
        log,
        call_log: CallLog::default(),
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
    let mut store = Store::new(engine::engine(), state);
    store.limiter(|s| &mut s.limits);
    begin_call(&mut store, deadline);
    store.epoch_deadline_trap();
    store
}

/// Readies the store for a call: its deadline `deadline` from now (in whole ticks, rounded
/// up, plus the tick in progress) and a fresh per-call log allowance.
pub(crate) fn begin_call(store: &mut Store<HostState>, deadline: Duration) {
    store.data_mut().deadline_at = Instant::now() + deadline;
    store.data_mut().call_log = CallLog::default();
    let ticks = deadline.as_millis().div_ceil(TICK.as_millis()).max(1) as u64 + 1;
    store.set_epoch_deadline(ticks);
}

/// Turns a wasmtime error from a call into a [`CallError`].
pub(crate) fn call_error(e: wasmtime::Error, deadline: Duration) -> CallError {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => CallError::Timeout(deadline),
        _ => CallError::Trap(format!("{e:#}")),
    }
}

//! WASI as plugins get it. Rust's standard library imports WASI, so it is linked; the store's
//! context gives no files, sockets or environment (see `sandbox`). One interface is replaced:
//! `wasi:io/poll`, through which every wait of a plugin goes (`std::thread::sleep`, a pollable
//! on a clock, a blocking read or write of a stream).
//!
//! Why: wasmtime-wasi's own `poll` waits as long as the plugin asks, on the plugin's thread,
//! where epoch interruption cannot reach it (it only stops code running in wasm). A plugin
//! that slept 3 s held a `notes/create` for 3 s against a 50 ms deadline; one that waited
//! forever was never counted as failing, and held its thread until the process ended. Here
//! every wait ends at the call's deadline, and ends the call as the deadline's trap does, so
//! the call fails as a timeout, exactly like a plugin that loops.
//!
//! Plugins keep the clocks: reading them is harmless, time-based rules (rate windows) need
//! them, and waiting on them can now only spend the plugin's own deadline.

use std::future::Future;
use std::time::Instant;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::sync::io::poll;
use wasmtime_wasi_io::bindings::wasi::io::poll as async_poll;

use crate::sandbox::HostState;

/// Links WASI for plugins: wasmtime-wasi's synchronous set, with `wasi:io/poll` bounded by
/// the call's deadline.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    poll::add_to_linker::<HostState, BoundedPoll>(linker, |s| BoundedTable {
        table: &mut s.table,
        deadline_at: s.deadline_at,
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

struct BoundedPoll;

impl HasData for BoundedPoll {
    type Data<'a> = BoundedTable<'a>;
}

/// The instance's resources, with the moment its current call must be over.
struct BoundedTable<'a> {
    table: &'a mut ResourceTable,
    deadline_at: Instant,
}

/// Waits for `wait` until `deadline_at`; past it, ends the call with the deadline's trap.
fn until_deadline<T>(
    deadline_at: Instant,
    wait: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    wasmtime_wasi::runtime::in_tokio(async {
        tokio::time::timeout_at(deadline_at.into(), wait).await
    })
    .map_err(|_elapsed| wasmtime::Error::from(wasmtime::Trap::Interrupt))?
}

impl poll::Host for BoundedTable<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let deadline_at = self.deadline_at;
        until_deadline(
            deadline_at,
            async_poll::Host::poll(&mut *self.table, pollables),
        )
    }
}

impl poll::HostPollable for BoundedTable<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        // Never waits: it polls once.
        wasmtime_wasi::runtime::in_tokio(async_poll::HostPollable::ready(
            &mut *self.table,
            pollable,
        ))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let deadline_at = self.deadline_at;
        until_deadline(
            deadline_at,
            async_poll::HostPollable::block(&mut *self.table, pollable),
        )
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(&mut *self.table, pollable)
    }
}

//! The threads plugins run on, apart from everything else the server blocks on.
//!
//! Why: plugin calls block (wasm runs to completion on the thread that called it), so they
//! cannot run on the async runtime's workers. They used to share tokio's blocking pool with
//! the server's own blocking work, password hashing among it: a plugin whose calls hung by the
//! hundred took every thread of that pool, and sign-up timed out even after the plugin was
//! disabled. Now every wait in a plugin ends at its call's deadline (see `wasi`), and the calls
//! run on a pool of their own: a plugin can exhaust only the threads of plugins, and only for
//! as long as its deadlines allow.
//!
//! The pool is a runtime of its own, never shut down: WASI's waits need a timer while a plugin
//! sleeps, and this one is not stopped under a call that is still running when the server
//! shuts down (which made every such call panic).

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

/// Most plugin calls running at once; more wait for a thread. At a 50 ms deadline, 64 threads
/// finish over a thousand calls a second even when every call runs out its deadline.
pub const PLUGIN_THREADS: usize = 64;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            // One worker drives the timers the plugins' waits use; the calls themselves run
            // on the blocking threads.
            .worker_threads(1)
            .max_blocking_threads(PLUGIN_THREADS)
            .thread_name("tsudoi-plugin")
            .enable_time()
            .build()
            .expect("the plugin threads cannot start")
    })
}

/// Runs `f` (a plugin call, or a load that calls into a plugin) on a plugin thread.
pub fn spawn<T, F>(f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    runtime().spawn_blocking(f)
}

//! The one funnel every call into a plugin goes through: the hand-off from the async runtime
//! to a plugin thread, the metrics (labelled by the plugin's kind), and the count of
//! failures in a row that disables a plugin which keeps failing. Hooks do their own work
//! (a chain of filters, a renderer walking a tree) inside [`Funnel::run`] and make each call
//! through [`Calls::call`], so none of them can forget a part.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::metrics::PluginMetrics;
use crate::plugin::{Plugin, World};
use crate::{CallError, Kind};

/// Consecutive failed calls after which a plugin is disabled (and the admin told): a broken
/// plugin should not keep flagging or rejecting every note, or slowing every timeline.
pub const FAILURES_BEFORE_DISABLE: u32 = 5;

/// What happens when a plugin reaches [`FAILURES_BEFORE_DISABLE`]: the server disables it
/// everywhere and tells its administrators.
pub trait FailureLimit: Send + Sync {
    fn reached(
        &self,
        kind: Kind,
        plugin: &str,
        failures: u32,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Where plugin calls are counted; shared by every hook of a server.
pub struct Funnel {
    metrics: PluginMetrics,
    on_limit: Box<dyn FailureLimit>,
}

/// The plugin calls made during one [`Funnel::run`].
pub struct Calls<'f> {
    funnel: &'f Funnel,
    /// Plugins that reached their failure limit during the run, acted on after it.
    reached: Mutex<Vec<(Kind, Arc<str>, u32)>>,
}

impl Funnel {
    pub fn new(on_limit: impl FailureLimit + 'static) -> Self {
        Self {
            metrics: PluginMetrics::default(),
            on_limit: Box::new(on_limit),
        }
    }

    /// Per-plugin calls, failures and latencies, for `/metrics`.
    pub fn metrics(&self) -> &PluginMetrics {
        &self.metrics
    }

    /// Runs `work` on a plugin thread (one hand-off, however many plugins it calls; see
    /// [`crate::threads`]), then disables the plugins whose calls in it reached the failure
    /// limit. Plugin calls block, so they must never run on the async runtime's own threads.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, CallError>
    where
        T: Send + 'static,
        F: FnOnce(&Calls<'_>) -> T + Send + 'static,
    {
        let funnel = self.clone();
        let (value, reached) = crate::threads::spawn(move || {
            let calls = Calls {
                funnel: &funnel,
                reached: Mutex::default(),
            };
            let value = work(&calls);
            (
                value,
                calls
                    .reached
                    .into_inner()
                    .unwrap_or_else(|p| p.into_inner()),
            )
        })
        .await
        .map_err(|e| CallError::Trap(format!("the plugin call panicked: {e}")))?;
        for (kind, plugin, failures) in reached {
            self.on_limit.reached(kind, &plugin, failures).await;
        }
        Ok(value)
    }
}

impl Calls<'_> {
    /// Makes one call into `plugin` (`f`), counting it: its time and outcome in the metrics,
    /// and a failure towards the plugin's limit (a success resets the count).
    pub fn call<W: World, T>(
        &self,
        plugin: &Plugin<W>,
        f: impl FnOnce(&Plugin<W>) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let result = f(plugin);
        let failed = result.is_err();
        self.funnel
            .metrics
            .record(W::KIND, &plugin.name, started.elapsed(), failed);
        if !failed {
            plugin.failures_in_a_row.store(0, Ordering::Relaxed);
        } else {
            let count = plugin.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
            if count == FAILURES_BEFORE_DISABLE {
                self.reached
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((W::KIND, plugin.name.clone(), count));
            }
        }
        result
    }
}

//! A value read from the database and trusted for a few seconds: for what every request
//! reads and admins change rarely (the host policy, the custom emoji). A change made through
//! this node is seen at once ([`Fresh::forget`]); one made through another node sharing the
//! database within [`FRESH_FOR`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node keeps a value before reading it again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

pub(crate) struct Fresh<T>(Mutex<Option<(Instant, Arc<T>)>>);

impl<T> Default for Fresh<T> {
    fn default() -> Self {
        Fresh(Mutex::new(None))
    }
}

impl<T> Fresh<T> {
    /// The value, unless it is missing or older than [`FRESH_FOR`].
    pub(crate) fn get(&self) -> Option<Arc<T>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn keep(&self, value: Arc<T>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), value));
    }

    pub(crate) fn forget(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

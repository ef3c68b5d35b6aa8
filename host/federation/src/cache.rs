//! Small in-memory caches of what every inbox request would otherwise read again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `cap` values by key; when full it starts over (a server with more active remote
/// signers than that reads some keys again, which is only slower).
pub(crate) struct Bounded<V> {
    cap: usize,
    map: Mutex<HashMap<String, V>>,
}

impl<V: Clone> Bounded<V> {
    pub(crate) fn new(cap: usize) -> Self {
        Bounded {
            cap,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub(crate) fn put(&self, key: &str, value: V) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.cap {
            map.clear();
        }
        map.insert(key.to_owned(), value);
    }
}

/// Remembers keys for `ttl`: [`Recently::put_if_stale`] says whether a key was not seen
/// within it (and marks it seen now).
pub(crate) struct Recently {
    ttl: Duration,
    map: Mutex<HashMap<String, Instant>>,
}

impl Recently {
    pub(crate) fn new(ttl: Duration) -> Self {
        Recently {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn put_if_stale(&self, key: &str) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map
            .get(key)
            .is_some_and(|at| now.duration_since(*at) < self.ttl)
        {
            return false;
        }
        if map.len() >= 100_000 {
            map.retain(|_, at| now.duration_since(*at) < self.ttl);
        }
        map.insert(key.to_owned(), now);
        true
    }

    /// Forgets `key`, so the next [`Self::put_if_stale`] of it is true.
    pub(crate) fn forget(&self, key: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

//! A value read from the database and trusted for a few seconds: for what every request
//! reads and admins change rarely (the host policy, the custom emoji), or what is costly to
//! compute and may lag a little (the hashtag trend). A change made through this node is seen
//! at once ([`Fresh::forget`]); one made through another node sharing the database within
//! the value's age limit ([`FRESH_FOR`] unless made [`Fresh::with_age`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node keeps a value before reading it again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

pub(crate) struct Fresh<T> {
    cached: Mutex<Option<(Instant, Arc<T>)>>,
    max_age: Duration,
}

impl<T> Default for Fresh<T> {
    fn default() -> Self {
        Self::with_age(FRESH_FOR)
    }
}

impl<T> Fresh<T> {
    /// A value trusted for `max_age`.
    pub(crate) fn with_age(max_age: Duration) -> Self {
        Fresh {
            cached: Mutex::new(None),
            max_age,
        }
    }

    /// The value, unless it is missing or too old.
    pub(crate) fn get(&self) -> Option<Arc<T>> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.max_age)
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn keep(&self, value: Arc<T>) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), value));
    }

    pub(crate) fn forget(&self) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_trusted_for_its_age_and_until_forgotten() {
        let kept = Fresh::<u8>::with_age(Duration::from_secs(60));
        assert!(kept.get().is_none());
        kept.keep(Arc::new(1));
        assert_eq!(kept.get().as_deref(), Some(&1));
        kept.forget();
        assert!(kept.get().is_none());
        let stale = Fresh::<u8>::with_age(Duration::ZERO);
        stale.keep(Arc::new(2));
        assert!(stale.get().is_none(), "older than its age");
    }
}

//! Authors as notes show them (name, username, host, bot and cat flags), kept at hand: every
//! page of notes shows a dozen of them, and they change only when someone edits their
//! profile, which forgets the copy here (on every node: see `Core::sync_caches`). Entries
//! also expire after [`TTL`], so an edit no node was told of (made by a command run beside
//! the server, or while Redis was away) shows within a minute.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tsudoi_model::Author;
use tsudoi_store::Store;

use crate::Result;

/// How long a copy is trusted without asking the database again.
const TTL: Duration = Duration::from_secs(60);

/// Most authors kept; past it, expired copies go, and if that is not enough, all of them.
const MAX_ENTRIES: usize = 50_000;

#[derive(Default)]
pub(crate) struct Authors {
    cached: RwLock<HashMap<String, (Instant, Arc<Author>)>>,
}

impl Authors {
    /// The authors `ids` (missing ones left out), from the copies at hand and the store.
    pub(crate) async fn get(
        &self,
        store: &Store,
        ids: &[String],
    ) -> Result<HashMap<String, Arc<Author>>> {
        let now = Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cached = self.cached.read().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                match cached.get(id) {
                    Some((at, a)) if now.duration_since(*at) < TTL => {
                        found.insert(id.clone(), a.clone());
                    }
                    _ => missing.push(id.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let loaded = store.authors(&missing).await?;
        let mut cached = self.cached.write().unwrap_or_else(|p| p.into_inner());
        if cached.len() + loaded.len() > MAX_ENTRIES {
            cached.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if cached.len() + loaded.len() > MAX_ENTRIES {
                cached.clear();
            }
        }
        for a in loaded {
            let a = Arc::new(a);
            cached.insert(a.id.clone(), (now, a.clone()));
            found.insert(a.id.clone(), a);
        }
        Ok(found)
    }

    /// Drops the copy of `id` (their profile changed).
    pub(crate) fn forget(&self, id: &str) {
        self.cached
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

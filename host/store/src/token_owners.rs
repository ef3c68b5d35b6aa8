//! Who each token belongs to, kept at hand: every authenticated request starts by asking.
//!
//! Why: asking the database was a statement of its own on every request. On PostgreSQL that
//! is a round trip each way, plus the ping sqlx sends when the connection is given back. For a
//! local timeline page this was about a third of the request's cost. Misskey keeps the same
//! copy (`CacheService.localUserByNativeTokenCache`).
//!
//! Two maps:
//! - token → whose it is and with which app permissions. This never changes once made, since
//!   no token can be revoked or regenerated yet. Whatever adds that must drop the token here.
//! - user id → the user's row. The row changes with every profile edit, follow and note
//!   (counts and `following_version` included). Every statement of this crate that updates
//!   `users` runs under a [`Changing`] guard, which drops the copy once the change is
//!   committed, or abandoned.
//!
//! A read that raced with a change must not put back what it read before the change. So each
//! change bumps a generation (one of [`SHARDS`], picked by user id) when its guard drops, and a
//! copy is kept only if its shard's generation did not move while it was read.
//!
//! Other nodes sharing the database hear of the changes made here through the bus: the
//! core relays the ids [`TokenOwners::watch`] gives it and drops, through
//! [`TokenOwners::forget`], the copies of users other nodes changed. What no bus carries (a
//! command run beside the server, Redis being away) a copy hides for at most [`MAX_AGE`].

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tsudoi_model::{AppGrant, User};

/// How long a copy of a user's row serves before it is read again. It bounds how long a change
/// made by another process goes unseen here. A minute still covers a client's burst of calls
/// (start-up, timelines, polling) many times over.
const MAX_AGE: Duration = Duration::from_secs(60);

/// Most tokens and users kept. Past it, the copies are dropped and refilled as they are read.
/// 65,536 users at a few hundred bytes each is a few tens of MB.
const MAX_ENTRIES: usize = 1 << 16;

/// Generations are kept per shard of user ids: then a change to one user does not stop a
/// concurrent read of another from being kept, as a single counter would under steady posting.
const SHARDS: usize = 64;

/// Changed ids a relay may fall behind by before it misses some (those copies then age
/// out within [`MAX_AGE`] on the other nodes).
const WATCH_CAPACITY: usize = 4_096;

type Hasher = foldhash::fast::FixedState;

/// Whose a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) user_id: String,
    /// `None` for the account's own (native) token, which carries every permission.
    pub(crate) app: Option<AppGrant>,
}

pub(crate) struct TokenOwners {
    state: RwLock<State>,
    generations: [AtomicU64; SHARDS],
    /// The ids of users whose rows change here, for whoever tells other nodes.
    changes: broadcast::Sender<String>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<Box<str>, Identity, foldhash::fast::RandomState>,
    users: HashMap<String, (Instant, User), foldhash::fast::RandomState>,
}

impl Default for TokenOwners {
    fn default() -> Self {
        Self {
            state: Default::default(),
            generations: std::array::from_fn(|_| AtomicU64::new(0)),
            changes: broadcast::channel(WATCH_CAPACITY).0,
        }
    }
}

impl std::fmt::Debug for TokenOwners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("TokenOwners")
            .field("tokens", &s.tokens.len())
            .field("users", &s.users.len())
            .finish()
    }
}

/// A user's copy as of a generation: take it before reading the row, hand it to
/// [`TokenOwners::keep_user`] with the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation(u64);

impl TokenOwners {
    pub(crate) fn identity(&self, token: &str) -> Option<Identity> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.tokens.get(token).cloned()
    }

    pub(crate) fn keep_identity(&self, token: &str, identity: Identity) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.tokens.len() >= MAX_ENTRIES {
            s.tokens.clear();
        }
        s.tokens.insert(token.into(), identity);
    }

    /// The copy of `id`'s row, if one is kept and young enough.
    pub(crate) fn user(&self, id: &str) -> Option<User> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        match s.users.get(id) {
            Some((at, user)) if at.elapsed() < MAX_AGE => Some(user.clone()),
            _ => None,
        }
    }

    pub(crate) fn generation(&self, id: &str) -> Generation {
        Generation(self.shard(id).load(Ordering::SeqCst))
    }

    /// Keeps `user`, read after [`Self::generation`] returned `read_at`, unless a change to its
    /// shard was committed since (the row read may predate it).
    pub(crate) fn keep_user(&self, user: &User, read_at: Generation) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock: a change drops copies under the same lock after bumping the
        // generation, so either it sees this copy and drops it, or this sees its bump.
        if self.generation(&user.id) != read_at {
            return;
        }
        if s.users.len() >= MAX_ENTRIES {
            s.users.clear();
        }
        s.users
            .insert(user.id.clone(), (Instant::now(), user.clone()));
    }

    /// A guard for a change to the rows of `ids`: when it drops, after the change was
    /// committed or abandoned, their copies are dropped and their generations move on.
    pub(crate) fn changing<'a>(&'a self, ids: &[&str]) -> Changing<'a> {
        Changing {
            owners: self,
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        }
    }

    /// Drops the copies of `ids` now (for a change already committed here), and tells the
    /// watchers.
    pub(crate) fn changed<'i>(&self, ids: impl IntoIterator<Item = &'i str>) {
        let watched = self.changes.receiver_count() > 0;
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            self.shard(id).fetch_add(1, Ordering::SeqCst);
            s.users.remove(id);
            if watched {
                let _ = self.changes.send(id.to_owned());
            }
        }
    }

    /// Drops the copies of `ids` (changed by another process).
    pub(crate) fn forget(&self, ids: &[String]) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            self.shard(id).fetch_add(1, Ordering::SeqCst);
            s.users.remove(id);
        }
    }

    /// The ids of users whose rows change here from now on, once per change.
    pub(crate) fn watch(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    fn shard(&self, id: &str) -> &AtomicU64 {
        &self.generations[Hasher::default().hash_one(id) as usize % SHARDS]
    }
}

/// See [`TokenOwners::changing`].
#[must_use = "the copies are dropped when the guard drops"]
pub(crate) struct Changing<'a> {
    owners: &'a TokenOwners,
    ids: Vec<String>,
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.owners.changed(self.ids.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, notes_count: i64) -> User {
        User {
            notes_count,
            ..tsudoi_testkit::local_user(id)
        }
    }

    #[test]
    fn a_change_drops_the_copy() {
        let o = TokenOwners::default();
        o.keep_user(&user("a", 1), o.generation("a"));
        assert_eq!(o.user("a").unwrap().notes_count, 1);
        drop(o.changing(&["a"]));
        assert!(o.user("a").is_none());
    }

    #[test]
    fn a_row_read_before_a_change_is_not_kept() {
        let o = TokenOwners::default();
        let read_at = o.generation("a");
        // The change commits while the row is being read, then the stale row arrives.
        o.changed(["a"]);
        o.keep_user(&user("a", 1), read_at);
        assert!(o.user("a").is_none());
        // Read again after the change: kept.
        o.keep_user(&user("a", 2), o.generation("a"));
        assert_eq!(o.user("a").unwrap().notes_count, 2);
    }

    #[test]
    fn an_abandoned_change_drops_the_copy_too() {
        let o = TokenOwners::default();
        o.keep_user(&user("a", 1), o.generation("a"));
        {
            let _change = o.changing(&["a"]);
            // The transaction fails or its future is dropped here.
        }
        assert!(o.user("a").is_none());
    }

    #[test]
    fn watchers_hear_of_changes_and_forgetting_tells_nobody() {
        let o = TokenOwners::default();
        let mut watch = o.watch();
        o.keep_user(&user("a", 1), o.generation("a"));
        o.forget(&["a".to_owned()]);
        assert!(o.user("a").is_none());
        assert!(
            watch.try_recv().is_err(),
            "another node's change is not told back"
        );
        drop(o.changing(&["b"]));
        assert_eq!(watch.try_recv().unwrap(), "b");
    }

    #[test]
    fn identities_are_kept_by_token() {
        let o = TokenOwners::default();
        assert!(o.identity("t").is_none());
        let id = Identity {
            user_id: "a".into(),
            app: Some(AppGrant {
                token_id: "k".into(),
                permission: vec!["read:account".into()],
            }),
        };
        o.keep_identity("t", id.clone());
        assert_eq!(o.identity("t"), Some(id));
    }
}

//! Whom each user follows, kept at hand for their home timeline, which needs the whole list
//! on every read (to pick the followees who posted in a window, see `recent_posters`).
//!
//! Why: asking the database for the list was a statement of its own on every home timeline,
//! and on PostgreSQL each statement costs both processes a round trip, which was a third of
//! what a home timeline cost once the query itself was cheap.
//!
//! A copy is good for one `following_version` of its user: the version moves in the same
//! transaction as every follow and unfollow, and each request knows the user's row. That row
//! is itself a copy (`token_owners`), dropped by every follow and unfollow made through this
//! process, so here a copy is never used after the list changed. A change made through
//! another process shows once that process's copy of the row is read again (at most
//! `token_owners::MAX_AGE`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most bytes of ids kept. A 10,000-user instance where everyone follows 200 others needs
/// 34 MB to keep every list; past the budget the copies are dropped and refilled as read.
const MAX_BYTES: usize = 48 << 20;

/// Ids are kept joined by this, one allocation per list, as the database hands the list over
/// (`Store::followees` asks for them joined by a space, one row rather than one per
/// followee). User ids are aidx ids (digits and lowercase letters), so
/// it never occurs in one.
const SEP: char = ' ';

#[derive(Default)]
pub(crate) struct Followings {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    /// User id → (`following_version`, followee ids joined by [`SEP`]).
    lists: HashMap<String, (i64, Arc<str>), foldhash::fast::RandomState>,
    bytes: usize,
}

impl std::fmt::Debug for Followings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("Followings")
            .field("users", &s.lists.len())
            .field("bytes", &s.bytes)
            .finish()
    }
}

/// One user's followees, joined by [`SEP`].
pub(crate) struct List(Arc<str>);

impl List {
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.split(SEP).filter(|id| !id.is_empty())
    }
}

impl Followings {
    /// The copy of `user`'s followees at `version`, if one is kept.
    pub(crate) fn get(&self, user: &str, version: i64) -> Option<List> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        match s.lists.get(user) {
            Some((v, ids)) if *v == version => Some(List(ids.clone())),
            _ => None,
        }
    }

    /// Keeps `joined` (ids joined by [`SEP`]) as `user`'s followees at `version`, and hands
    /// them back.
    pub(crate) fn put(&self, user: &str, version: i64, joined: String) -> List {
        let list: Arc<str> = Arc::from(joined);
        let size = user.len() + list.len();
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.bytes + size > MAX_BYTES {
            s.lists.clear();
            s.bytes = 0;
        }
        if let Some((_, old)) = s.lists.insert(user.to_owned(), (version, list.clone())) {
            s.bytes -= user.len() + old.len();
        }
        s.bytes += size;
        List(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &List) -> Vec<&str> {
        list.ids().collect()
    }

    #[test]
    fn a_copy_serves_only_its_version() {
        let f = Followings::default();
        assert!(f.get("me", 0).is_none());
        f.put("me", 0, "a b".into());
        assert_eq!(ids(&f.get("me", 0).unwrap()), ["a", "b"]);
        assert!(f.get("me", 1).is_none(), "a follow since moved the version");
        f.put("me", 1, String::new());
        assert!(ids(&f.get("me", 1).unwrap()).is_empty());
        assert!(f.get("me", 0).is_none());
    }

    #[test]
    fn replacing_a_copy_keeps_the_byte_count() {
        let f = Followings::default();
        f.put("me", 0, "abc".into());
        f.put("me", 1, "abcdef".into());
        assert_eq!(f.state.read().unwrap().bytes, "me".len() + "abcdef".len());
    }
}

//! The ActivityPub ids of this server's own objects, made from its public URL in one place,
//! and read back: an id that starts with our origin names a local user or note.

/// Builds and parses local ids. `base` is the public origin without a trailing slash.
#[derive(Debug, Clone)]
pub struct LocalIds {
    base: String,
}

impl LocalIds {
    pub fn new(base: &str) -> Self {
        LocalIds {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn user(&self, id: &str) -> String {
        format!("{}/users/{id}", self.base)
    }

    /// The id of `user`'s public key, as signatures name it (`keyId`).
    pub fn key(&self, user_id: &str) -> String {
        format!("{}#main-key", self.user(user_id))
    }

    pub fn inbox(&self, user_id: &str) -> String {
        format!("{}/inbox", self.user(user_id))
    }

    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }

    pub fn outbox(&self, user_id: &str) -> String {
        format!("{}/outbox", self.user(user_id))
    }

    pub fn followers(&self, user_id: &str) -> String {
        format!("{}/followers", self.user(user_id))
    }

    pub fn following(&self, user_id: &str) -> String {
        format!("{}/following", self.user(user_id))
    }

    pub fn featured(&self, user_id: &str) -> String {
        format!("{}/collections/featured", self.user(user_id))
    }

    pub fn note(&self, id: &str) -> String {
        format!("{}/notes/{id}", self.base)
    }

    /// The Create (or Announce) activity that published note `id`.
    pub fn note_activity(&self, id: &str) -> String {
        format!("{}/activity", self.note(id))
    }

    /// The Follow activity of `follower` for `followee` (as Misskey names it): one id per
    /// pair, so an Undo can name it without storing it.
    pub fn follow(&self, follower_id: &str, followee_id: &str) -> String {
        format!("{}/follows/{follower_id}/{followee_id}", self.base)
    }

    /// The Like of reaction `id` (Misskey's form; it answers a GET while the reaction
    /// stands).
    pub fn like(&self, id: &str) -> String {
        format!("{}/likes/{id}", self.base)
    }

    /// Block `id` (Misskey's form; its Undo embeds it again with this id).
    pub fn block(&self, id: &str) -> String {
        format!("{}/blocks/{id}", self.base)
    }

    /// Local custom emoji `name`.
    pub fn emoji(&self, name: &str) -> String {
        format!("{}/emojis/{name}", self.base)
    }

    /// A one-off activity (Accept, Reject, Undo, Delete, Update) by `user_id`.
    pub fn activity(&self, user_id: &str, kind: &str, unique: &str) -> String {
        format!("{}#{kind}/{unique}", self.user(user_id))
    }

    /// The profile page of local `username`.
    pub fn profile_page(&self, username: &str) -> String {
        format!("{}/@{username}", self.base)
    }

    /// The local user id in `uri`, if it is one of our user ids.
    pub fn user_id_of<'a>(&self, uri: &'a str) -> Option<&'a str> {
        self.local_segment(uri, "/users/")
    }

    /// The local note id in `uri`, if it is one of our note ids.
    pub fn note_id_of<'a>(&self, uri: &'a str) -> Option<&'a str> {
        self.local_segment(uri, "/notes/")
    }

    /// Whether `uri` is on this server.
    pub fn is_local(&self, uri: &str) -> bool {
        uri.strip_prefix(&self.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '#', '?']))
    }

    fn local_segment<'a>(&self, uri: &'a str, prefix: &str) -> Option<&'a str> {
        let id = uri.strip_prefix(&self.base)?.strip_prefix(prefix)?;
        (!id.is_empty() && !id.contains(['/', '#', '?'])).then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ids_read_back_and_foreign_ones_do_not() {
        let ids = LocalIds::new("http://127.0.0.1:3000/");
        assert_eq!(ids.user("abc"), "http://127.0.0.1:3000/users/abc");
        assert_eq!(ids.user_id_of(&ids.user("abc")), Some("abc"));
        assert_eq!(ids.note_id_of(&ids.note("n1")), Some("n1"));
        assert_eq!(ids.user_id_of(&ids.inbox("abc")), None);
        assert_eq!(ids.user_id_of("http://127.0.0.1:30001/users/abc"), None);
        assert!(!ids.is_local("http://127.0.0.1:30001/users/abc"));
        assert!(ids.is_local(&ids.key("abc")));
    }
}

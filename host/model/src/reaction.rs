//! Reactions to notes and the custom emoji they (and notes' text) may use.

use crate::named_enum;

/// What a note's author lets others react with (Misskey's `reactionAcceptance`). A reaction
/// the note does not accept is turned into a plain like (❤) rather than refused, as Misskey
/// does, so a client never has to know the setting before reacting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionAcceptance {
    LikeOnly,
    LikeOnlyForRemote,
    NonSensitiveOnly,
    NonSensitiveOnlyForLocalLikeOnlyForRemote,
}

named_enum!(ReactionAcceptance, "reaction acceptance", {
    LikeOnly => "likeOnly",
    LikeOnlyForRemote => "likeOnlyForRemote",
    NonSensitiveOnly => "nonSensitiveOnly",
    NonSensitiveOnlyForLocalLikeOnlyForRemote => "nonSensitiveOnlyForLocalLikeOnlyForRemote",
});

impl ReactionAcceptance {
    /// Whether a user (remote or not) may only like the note.
    pub fn like_only(self, remote_reactor: bool) -> bool {
        match self {
            ReactionAcceptance::LikeOnly => true,
            ReactionAcceptance::LikeOnlyForRemote
            | ReactionAcceptance::NonSensitiveOnlyForLocalLikeOnlyForRemote => remote_reactor,
            ReactionAcceptance::NonSensitiveOnly => false,
        }
    }

    /// Whether sensitive custom emoji are refused.
    pub fn refuses_sensitive(self) -> bool {
        matches!(
            self,
            ReactionAcceptance::NonSensitiveOnly
                | ReactionAcceptance::NonSensitiveOnlyForLocalLikeOnlyForRemote
        )
    }
}

/// One user's reaction to one note, as stored: a unicode emoji, `:name:` (a custom emoji of
/// this server) or `:name@host:` (one of the reacting user's server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub id: String,
    pub note_id: String,
    pub user_id: String,
    pub reaction: String,
    /// The Like it arrived as, for a remote user's reaction.
    pub uri: Option<String>,
    pub created_at: i64,
}

/// A custom emoji: one of this server's (`host` is `None`, the image is kept here) or one
/// another server uses in what it sends (the image stays at `remote_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji {
    pub id: String,
    pub name: String,
    pub host: Option<String>,
    pub category: Option<String>,
    pub aliases: Vec<String>,
    pub license: Option<String>,
    pub is_sensitive: bool,
    pub local_only: bool,
    /// The image's media type, when known.
    pub media_type: Option<String>,
    /// A local emoji's image (see [`Emoji::url`]).
    pub image_id: Option<String>,
    pub remote_url: Option<String>,
    /// The ActivityPub id its server gave it.
    pub uri: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl Emoji {
    /// Where the image is served: for a local emoji, under this server's `base_url` at a
    /// path that changes with each new image (so it can be cached for good).
    pub fn url(&self, base_url: &str) -> String {
        match (&self.image_id, &self.remote_url) {
            (Some(image), _) => format!("{base_url}/files/emoji/{image}"),
            (None, Some(url)) => url.clone(),
            (None, None) => String::new(),
        }
    }
}

/// What a custom emoji's editable fields become (`None` leaves a field as it is).
#[derive(Debug, Clone, Default)]
pub struct EmojiPatch {
    pub name: Option<String>,
    pub category: Option<Option<String>>,
    pub aliases: Option<Vec<String>>,
    pub license: Option<Option<String>>,
    pub is_sensitive: Option<bool>,
    pub local_only: Option<bool>,
}

/// A custom emoji image: its bytes and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiImage {
    pub media_type: String,
    pub data: Vec<u8>,
}

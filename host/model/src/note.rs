//! Notes and polls as the store keeps them.

use crate::visibility::{NoteAudience, Visibility};

/// A note, local or remote.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: String,
    pub user_id: String,
    /// The author's host; `None` for local authors.
    pub user_host: Option<String>,
    pub text: Option<String>,
    pub cw: Option<String>,
    pub visibility: Visibility,
    pub local_only: bool,
    pub reply_id: Option<String>,
    pub reply_user_id: Option<String>,
    pub renote_id: Option<String>,
    pub renote_user_id: Option<String>,
    pub has_poll: bool,
    /// What others may react with; `None` accepts every reaction.
    pub reaction_acceptance: Option<crate::ReactionAcceptance>,
    pub reaction_count: i64,
    /// Custom emoji names its text and CW use, found on the author's server.
    pub emojis: Vec<String>,
    /// Hashtags (without `#`), normalised and lower-cased.
    pub tags: Vec<String>,
    /// Users the note mentions (for a specified note, everyone it is addressed to).
    pub mentions: Vec<String>,
    /// Who a specified note is for, beside its author; empty for other visibilities.
    pub visible_user_ids: Vec<String>,
    /// The drive files it shows, in order.
    pub file_ids: Vec<String>,
    pub replies_count: i64,
    pub renote_count: i64,
    pub uri: Option<String>,
    pub url: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl Note {
    pub fn is_pure_renote(&self) -> bool {
        is_pure_renote(
            self.renote_id.is_some(),
            self.text.is_some(),
            self.cw.is_some(),
            self.has_poll,
            !self.file_ids.is_empty(),
        )
    }

    /// What the visibility rule needs, given whether the viewer follows the author.
    pub fn audience(&self, viewer_follows_author: bool) -> NoteAudience<'_> {
        NoteAudience {
            visibility: self.visibility,
            author_id: &self.user_id,
            reply_user_id: self.reply_user_id.as_deref(),
            mentioned_ids: &self.mentions,
            visible_user_ids: &self.visible_user_ids,
            viewer_follows_author,
        }
    }
}

/// A pure renote carries nothing of its own (no text, no CW, no poll, no files): it only
/// spreads the note it renotes. Replies to it and renotes of it are refused, and it is listed
/// only where its renoted note may be seen. The store's SQL twin
/// (`tsudoi_store::visibility::pure_renote`) is tested against this function.
pub fn is_pure_renote(
    renotes: bool,
    has_text: bool,
    has_cw: bool,
    has_poll: bool,
    has_files: bool,
) -> bool {
    renotes && !has_text && !has_cw && !has_poll && !has_files
}

/// A poll attached to a note.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    pub note_id: String,
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
    /// For a remote poll, the votes its server reports per choice (local users' votes on it
    /// are counted in as they are cast); `None` for a local poll, counted from its votes.
    pub counts: Option<Vec<i64>>,
}

/// The votes on one choice of a poll, and whether the viewer cast one of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChoiceTally {
    pub votes: i64,
    pub voted_by_viewer: bool,
}

//! What a listing of notes asks for: where the notes come from, which to keep, and which page.

use crate::note::Note;
use crate::visibility::Visibility;

/// Id bounds (both exclusive), size and order of one page. Dates are turned into ids by the
/// caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub since_id: Option<String>,
    pub until_id: Option<String>,
    pub limit: i64,
    /// The oldest notes of the range, oldest first, instead of the newest, newest first.
    pub oldest_first: bool,
}

impl Page {
    /// A page as a client asks for it. Misskey's rule: with only `sinceId`, the page is the
    /// oldest notes after it, ascending; otherwise the newest, descending.
    pub fn new(since_id: Option<String>, until_id: Option<String>, limit: i64) -> Self {
        let oldest_first = since_id.is_some() && until_id.is_none();
        Self {
            since_id,
            until_id,
            limit,
            oldest_first,
        }
    }

    /// The newest `limit` notes.
    pub fn newest(limit: i64) -> Self {
        Self::new(None, None, limit)
    }

    pub fn ascending(&self) -> bool {
        self.oldest_first
    }
}

/// A page of notes as a listing returns it, with the notes they reply to or renote, read in
/// the same statement: most pages embed a few, and a second round trip to the database for
/// them cost a page as much as the listing itself. `referenced` holds them whoever may see
/// them; whether the viewer may is decided where notes are presented, by the same rule as
/// every other note.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The page, in its order.
    pub notes: Vec<Note>,
    /// What the page's notes reply to or renote, one level deep, in no order.
    pub referenced: Vec<Note>,
}

impl Listing {
    /// Adds `more` (a later part of the same page) at the end.
    pub fn extend(&mut self, more: Listing) {
        self.notes.extend(more.notes);
        self.referenced.extend(more.referenced);
    }
}

impl From<Vec<Note>> for Listing {
    /// Notes read on their own: whatever they refer to is read when they are presented.
    fn from(notes: Vec<Note>) -> Self {
        Self {
            notes,
            referenced: Vec::new(),
        }
    }
}

/// Where the notes of a listing come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteSource {
    /// The home timeline: notes of the people `user_id` follows and their own, without replies
    /// to third persons (Misskey's rule) unless they are replies to `user_id`.
    Followed {
        user_id: String,
        /// The user's `following_version` as the request read it: the store may use a copy
        /// of the followees it holds for this version.
        following_version: i64,
    },
    LocalPublic,
    GlobalPublic,
    User {
        user_id: String,
    },
    /// Notes mentioning the user (addressees of specified notes count as mentioned).
    Mentions {
        user_id: String,
    },
    Replies {
        note_id: String,
    },
    Renotes {
        note_id: String,
    },
    /// Replies and quotes of a note.
    Children {
        note_id: String,
    },
    /// Notes with a hashtag (normalised as notes store them: NFKC, lower case).
    Tag {
        tag: String,
    },
}

/// Which notes of the source to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFilter {
    pub with_renotes: bool,
    /// Replies to third persons; replies to oneself and to the viewer are always kept.
    pub with_replies: bool,
    pub only_with_files: bool,
    /// The home timeline's `include*` switches, about pure renotes only.
    pub include_my_renotes: bool,
    pub include_renoted_my_notes: bool,
    pub include_local_renotes: bool,
    /// Only notes by people the viewer follows, and the viewer's own.
    pub only_followed_authors: bool,
    /// Only notes of this visibility.
    pub visibility: Option<Visibility>,
}

impl Default for NoteFilter {
    fn default() -> Self {
        Self {
            with_renotes: true,
            with_replies: true,
            only_with_files: false,
            include_my_renotes: true,
            include_renoted_my_notes: true,
            include_local_renotes: true,
            only_followed_authors: false,
            visibility: None,
        }
    }
}

/// Which side of a follow a listing is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowSide {
    /// Who follows the user.
    Followers,
    /// Whom the user follows.
    Following,
}

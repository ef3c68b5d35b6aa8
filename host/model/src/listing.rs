//! What a listing of notes asks for: where the notes come from, which to keep, and which page.

use crate::note::Note;
use crate::user_list::ListMember;
use crate::visibility::{Visibility, may_see};

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
    /// Notes with every hashtag of one of the groups (Misskey's `query`: OR of ANDs).
    Tags {
        any_of: Vec<Vec<String>>,
    },
    /// Notes whose text or CW contains every term.
    Search(NoteSearch),
    /// Notes by the members of a user list, as its owner reads it: replies to third persons
    /// only from members whose replies the owner asked for (Misskey's rule).
    List {
        owner_id: String,
        members: Vec<ListMember>,
    },
}

/// A search of notes' text and CW: each term is a substring to find, case aside (Misskey's
/// default search, which works for languages written without spaces between words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSearch {
    /// Lower-cased, without whitespace.
    pub terms: Vec<String>,
    /// Only this author's notes.
    pub user_id: Option<String>,
    /// Only notes of this server's users, or of one other server's.
    pub host: Option<HostScope>,
}

/// Whose notes a search looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostScope {
    Local,
    /// Another server, by its host as stored (lower case).
    Remote(String),
}

impl NoteSearch {
    /// Whether `note` matches: the twin of the store's search SQL.
    pub fn matches(&self, note: &Note) -> bool {
        let text = note.text.as_deref().unwrap_or_default().to_lowercase();
        let cw = note.cw.as_deref().unwrap_or_default().to_lowercase();
        self.user_id.as_ref().is_none_or(|u| *u == note.user_id)
            && match &self.host {
                None => true,
                Some(HostScope::Local) => note.user_host.is_none(),
                Some(HostScope::Remote(h)) => note.user_host.as_deref() == Some(h),
            }
            && self
                .terms
                .iter()
                .all(|t| text.contains(t.as_str()) || cw.contains(t.as_str()))
    }
}

/// Which notes of the source to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFilter {
    pub with_renotes: bool,
    /// Replies to third persons; replies to oneself and to the viewer are always kept.
    pub with_replies: bool,
    pub only_with_files: bool,
    /// Only notes showing this file (`drive/files/attached-notes`).
    pub with_file: Option<String>,
    /// The home timeline's `include*` switches, about pure renotes only.
    pub include_my_renotes: bool,
    pub include_renoted_my_notes: bool,
    pub include_local_renotes: bool,
    /// Only notes by people the viewer follows, and the viewer's own.
    pub only_followed_authors: bool,
    /// Only notes of this visibility.
    pub visibility: Option<Visibility>,
    /// `Some(true)`: only replies; `Some(false)`: no replies at all (Misskey's search
    /// filters; unlike `with_replies`, about every reply).
    pub reply: Option<bool>,
    /// The same for renotes and quotes.
    pub renote: Option<bool>,
    /// The same for notes with a poll.
    pub poll: Option<bool>,
}

impl Default for NoteFilter {
    fn default() -> Self {
        Self {
            with_renotes: true,
            with_replies: true,
            only_with_files: false,
            with_file: None,
            include_my_renotes: true,
            include_renoted_my_notes: true,
            include_local_renotes: true,
            only_followed_authors: false,
            visibility: None,
            reply: None,
            renote: None,
            poll: None,
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

/// The Rust twins of the store's listing rules, for a note in hand: streaming decides with
/// them, note by note, what the REST listings decide in SQL (`tsudoi_store::timelines`),
/// so a timeline shows the same notes streamed as read. `follows(id)`: whether the viewer
/// (for [`NoteSource::Followed`], its user) follows `id`.
impl NoteSource {
    /// Whether `note` comes from this source.
    pub fn admits(&self, note: &Note, follows: impl Fn(&str) -> bool) -> bool {
        match self {
            NoteSource::Followed { user_id, .. } => {
                let me = user_id.as_str();
                (note.user_id == me || follows(&note.user_id))
                    && (note.reply_id.is_none()
                        || note.reply_user_id.as_deref() == Some(note.user_id.as_str())
                        || note.reply_user_id.as_deref() == Some(me)
                        || note.user_id == me)
            }
            NoteSource::LocalPublic => {
                note.visibility == Visibility::Public && note.user_host.is_none()
            }
            NoteSource::GlobalPublic => note.visibility == Visibility::Public,
            NoteSource::User { user_id } => note.user_id == *user_id,
            NoteSource::Mentions { user_id } => note.mentions.contains(user_id),
            NoteSource::Replies { note_id } => note.reply_id.as_ref() == Some(note_id),
            NoteSource::Renotes { note_id } => note.renote_id.as_ref() == Some(note_id),
            NoteSource::Children { note_id } => {
                note.reply_id.as_ref() == Some(note_id)
                    || (note.renote_id.as_ref() == Some(note_id) && !note.is_pure_renote())
            }
            NoteSource::Tag { tag } => note.tags.contains(tag),
            NoteSource::Tags { any_of } => any_of
                .iter()
                .any(|all| all.iter().all(|t| note.tags.contains(t))),
            NoteSource::Search(search) => search.matches(note),
            NoteSource::List { owner_id, members } => members.iter().any(|m| {
                m.user_id == note.user_id
                    && (m.with_replies
                        || note.reply_id.is_none()
                        || note.reply_user_id.as_deref() == Some(note.user_id.as_str())
                        || note.reply_user_id.as_deref() == Some(owner_id.as_str())
                        || note.user_id == *owner_id)
            }),
        }
    }
}

/// Whether `viewer` may find `note` in a listing: they may see it, and for a pure renote,
/// the note it renotes too (`renote`, if that still exists). The twin of the store's
/// `sql_visible` with `sql_renote_visible`.
pub fn may_list(
    note: &Note,
    renote: Option<&Note>,
    viewer: Option<&str>,
    follows: impl Fn(&str) -> bool,
) -> bool {
    let sees = |n: &Note| may_see(&n.audience(follows(&n.user_id)), viewer);
    sees(note) && (!note.is_pure_renote() || renote.is_some_and(sees))
}

impl NoteFilter {
    /// Whether the filter keeps `note` for `viewer`; `renote` is the note it renotes, if
    /// that still exists.
    pub fn admits(
        &self,
        note: &Note,
        renote: Option<&Note>,
        viewer: Option<&str>,
        follows: impl Fn(&str) -> bool,
    ) -> bool {
        let pure = note.is_pure_renote();
        let by_me = viewer.is_some_and(|me| note.user_id == me);
        if pure && !self.with_renotes {
            return false;
        }
        if note.reply_id.is_some() && !self.with_replies {
            let to = note.reply_user_id.as_deref();
            if !(to == Some(note.user_id.as_str()) || by_me || (viewer.is_some() && to == viewer)) {
                return false;
            }
        }
        if let Some(me) = viewer {
            if pure && by_me && !self.include_my_renotes {
                return false;
            }
            if pure
                && !by_me
                && note.renote_user_id.as_deref() == Some(me)
                && !self.include_renoted_my_notes
            {
                return false;
            }
            if self.only_followed_authors && !by_me && !follows(&note.user_id) {
                return false;
            }
        }
        if pure && !self.include_local_renotes && renote.is_some_and(|r| r.user_host.is_none()) {
            return false;
        }
        if self.visibility.is_some_and(|v| v != note.visibility) {
            return false;
        }
        let differs = |wanted: Option<bool>, is: bool| wanted.is_some_and(|w| w != is);
        if differs(self.reply, note.reply_id.is_some())
            || differs(self.renote, note.renote_id.is_some())
            || differs(self.poll, note.has_poll)
        {
            return false;
        }
        if self
            .with_file
            .as_ref()
            .is_some_and(|f| !note.file_ids.contains(f))
        {
            return false;
        }
        !self.only_with_files || !note.file_ids.is_empty()
    }
}

/// Whose notes a signed-in viewer is not shown: those of users who block them or whom they
/// block (everywhere), of users they mute (until the mute ends; not on the muted user's own
/// page), and the pure renotes of users whose renotes they mute. A note is someone's when
/// they wrote it, or wrote what it replies to or renotes. The Rust twin of the store's
/// `sql_not_excluded`, for streaming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// Blocked either way.
    pub blocked: std::collections::HashSet<String>,
    /// Muted, with when the mute ends.
    pub muted: std::collections::HashMap<String, Option<i64>>,
    pub renote_muted: std::collections::HashSet<String>,
}

impl Exclusions {
    /// Whether `note` is hidden at `now`; `with_mutes` false on a user's own page, where
    /// only blocks hide.
    pub fn hides(&self, note: &Note, now: i64, with_mutes: bool) -> bool {
        let muted = |id: &str| {
            self.muted
                .get(id)
                .is_some_and(|until| until.is_none_or(|t| t > now))
        };
        [
            Some(&note.user_id),
            note.reply_user_id.as_ref(),
            note.renote_user_id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|id| self.blocked.contains(id) || (with_mutes && muted(id)))
            || (with_mutes && note.is_pure_renote() && self.renote_muted.contains(&note.user_id))
    }
}

//! What the bus carries: something that was committed, told to every node's streaming
//! connections. Events carry ids (and the little that is gone from the database once it
//! happened, such as a removed reaction); each node reads what it needs once and each
//! connection decides, for its own viewer, whether and how to show it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Event {
    /// A note by `user_id` was posted here or received from another server.
    NoteCreated { note_id: String, user_id: String },
    /// A note was deleted (by its author, a moderator, or its server).
    NoteDeleted { note_id: String, deleted_at: i64 },
    /// `user_id` reacted to `note_id` with `reaction` as stored (`:name@host:` for another
    /// server's emoji, `:name:` for this server's, or a Unicode emoji).
    Reacted {
        note_id: String,
        user_id: String,
        reaction: String,
    },
    /// `user_id` took back their `reaction` to `note_id`.
    Unreacted {
        note_id: String,
        user_id: String,
        reaction: String,
    },
    /// `user_id` voted for `choice` in the poll of `note_id`.
    PollVoted {
        note_id: String,
        user_id: String,
        choice: i64,
    },
    /// `follower_id` now follows `followee_id` (directly, or by an accepted request).
    Followed {
        follower_id: String,
        followee_id: String,
    },
    /// `follower_id` no longer follows `followee_id`.
    Unfollowed {
        follower_id: String,
        followee_id: String,
    },
    /// `follower_id` asked to follow the locked `followee_id`.
    FollowRequested {
        follower_id: String,
        followee_id: String,
    },
    /// `blocker_id` blocked `blockee_id` (which ended their follows both ways).
    Blocked {
        blocker_id: String,
        blockee_id: String,
    },
    Unblocked {
        blocker_id: String,
        blockee_id: String,
    },
    /// `notifiee_id` got notification `notification_id`, if the store kept it (it keeps
    /// only those it may: see `tsudoi_store::notifications`).
    Notified {
        notifiee_id: String,
        notification_id: String,
    },
    /// `user_id` read all their notifications.
    NotificationsRead { user_id: String },
    /// `user_id` muted or unmuted someone.
    MutesChanged { user_id: String },
    /// `user_id`'s own account changed (profile, counters a client shows).
    MeUpdated { user_id: String },
    /// `user_id` added `file_id` to their drive.
    DriveFileCreated { user_id: String, file_id: String },
    /// Something else in `user_id`'s drive changed (what the `drive` channel tells).
    DriveChanged {
        user_id: String,
        change: DriveChange,
    },
    /// A file `user_id` asked to be fetched from a URL is in their drive; `marker` is what
    /// they tagged the request with.
    UrlUploadFinished {
        user_id: String,
        file_id: String,
        marker: Option<String>,
    },
    /// The members of `owner_id`'s list `list_id` changed: `user_id` was added, removed or
    /// had their settings changed; or the list was deleted.
    UserListChanged {
        owner_id: String,
        list_id: String,
        user_id: Option<String>,
        change: ListChange,
    },
    /// Another node changed these users' rows: copies of them kept here are stale. Only
    /// nodes tell each other this; no connection hears it.
    UsersChanged { user_ids: Vec<String> },
    /// `user_id` set `key` of their own registry under `scope` to `value` (JSON text).
    RegistryUpdated {
        user_id: String,
        scope: Vec<String>,
        key: String,
        value: String,
    },
}

impl Event {
    /// Whether the event names `user_id` as one of the users it is about (not the users a
    /// note reaches, which only the note's rules tell).
    pub fn names(&self, user_id: &str) -> bool {
        match self {
            Event::NoteCreated { .. } | Event::NoteDeleted { .. } | Event::UsersChanged { .. } => {
                false
            }
            Event::Reacted { user_id: u, .. }
            | Event::Unreacted { user_id: u, .. }
            | Event::PollVoted { user_id: u, .. }
            | Event::MutesChanged { user_id: u }
            | Event::UserListChanged { owner_id: u, .. }
            | Event::MeUpdated { user_id: u }
            | Event::NotificationsRead { user_id: u }
            | Event::RegistryUpdated { user_id: u, .. }
            | Event::DriveFileCreated { user_id: u, .. }
            | Event::DriveChanged { user_id: u, .. }
            | Event::UrlUploadFinished { user_id: u, .. }
            | Event::Notified { notifiee_id: u, .. } => u == user_id,
            Event::Followed {
                follower_id: a,
                followee_id: b,
            }
            | Event::Unfollowed {
                follower_id: a,
                followee_id: b,
            }
            | Event::FollowRequested {
                follower_id: a,
                followee_id: b,
            }
            | Event::Blocked {
                blocker_id: a,
                blockee_id: b,
            }
            | Event::Unblocked {
                blocker_id: a,
                blockee_id: b,
            } => a == user_id || b == user_id,
        }
    }

    /// The users whose own view of relations this event changes: a connection of theirs
    /// reloads whom it follows and whose notes it hides.
    pub fn relation_parties(&self) -> Option<[&str; 2]> {
        match self {
            Event::Followed {
                follower_id,
                followee_id,
            }
            | Event::Unfollowed {
                follower_id,
                followee_id,
            } => Some([follower_id, followee_id]),
            Event::Blocked {
                blocker_id,
                blockee_id,
            }
            | Event::Unblocked {
                blocker_id,
                blockee_id,
            } => Some([blocker_id, blockee_id]),
            Event::MutesChanged { user_id } => Some([user_id, user_id]),
            _ => None,
        }
    }
}

/// How a list changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ListChange {
    Added,
    Removed,
    Updated,
    Deleted,
}

/// What changed in a drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "camelCase")]
pub enum DriveChange {
    FileUpdated { file_id: String },
    FileDeleted { file_id: String },
    FolderCreated { folder_id: String },
    FolderUpdated { folder_id: String },
    FolderDeleted { folder_id: String },
}

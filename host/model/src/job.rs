//! The durable job queue's payloads: work that must happen after a write commits even if the
//! process dies (delivery to other servers, processing what they sent). Jobs carry ids and
//! the activity text, never live objects, so a job written by one node runs on any other.

use serde::{Deserialize, Serialize};

/// Which queue a job waits in. Each has its own workers, so a burst on one (a thousand
/// inbox posts) never holds up another (delivering a local note).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobQueue {
    /// Turns a local event into activities and one delivery per inbox.
    Federate,
    /// Sends one signed activity to one inbox.
    Deliver,
    /// Processes one activity a remote server posted to an inbox.
    Inbox,
}

crate::named_enum!(JobQueue, "job queue (federate, deliver, inbox)", {
    Federate => "federate",
    Deliver => "deliver",
    Inbox => "inbox",
});

/// One job's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Job {
    /// Something a local user did that other servers should hear about.
    Federate { event: FederationEvent },
    /// `activity` (JSON text), signed by local user `signer_id`, POSTed to `inbox`.
    Deliver {
        inbox: String,
        signer_id: String,
        activity: String,
    },
    /// An activity whose HTTP signature was verified as `signer_uri`'s, to process.
    Inbox {
        signer_uri: String,
        activity: String,
    },
}

impl Job {
    pub fn queue(&self) -> JobQueue {
        match self {
            Job::Federate { .. } => JobQueue::Federate,
            Job::Deliver { .. } => JobQueue::Deliver,
            Job::Inbox { .. } => JobQueue::Inbox,
        }
    }

    pub fn federate(event: FederationEvent) -> Self {
        Job::Federate { event }
    }
}

/// A local change other servers should hear about, by id. The federation layer reads the
/// current state when the job runs and works out the activity and its recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FederationEvent {
    /// A local user posted `note_id`.
    NoteCreated { note_id: String },
    /// A local user deleted a note. The row is gone when the job runs, so the event carries
    /// what the Delete needs: the note's id, its author, whether it went to followers, and
    /// the users it mentioned or replied to (whose servers got it too).
    NoteDeleted {
        note_id: String,
        author_id: String,
        to_followers: bool,
        notified: Vec<String>,
        /// It only renoted another note: other servers hear an Undo of the Announce.
        #[serde(default)]
        pure_renote: bool,
    },
    /// Local `follower_id` followed (or asked to follow) remote `followee_id`.
    Followed {
        follower_id: String,
        followee_id: String,
    },
    /// Local `follower_id` stopped following (or withdrew the request to) `followee_id`.
    Unfollowed {
        follower_id: String,
        followee_id: String,
    },
    /// Local `followee_id` accepted remote `follower_id`, who asked with `activity_id`.
    FollowAccepted {
        follower_id: String,
        followee_id: String,
        activity_id: Option<String>,
    },
    /// Local `followee_id` refused (or removed) remote follower `follower_id`.
    FollowRejected {
        follower_id: String,
        followee_id: String,
        activity_id: Option<String>,
    },
    /// A local user changed their profile.
    ProfileUpdated { user_id: String },
    /// A local user reacted to a note (a Like). Carries the reaction, since a reaction
    /// changed or removed before the job runs is gone from the database.
    Reacted { reaction: ReactionEvent },
    /// A local user took a reaction back (an Undo of the Like).
    Unreacted { reaction: ReactionEvent },
    /// Local `user_id` voted for `choice` in remote poll `note_id` (vote `vote_id`).
    Voted {
        vote_id: String,
        note_id: String,
        user_id: String,
        choice: i64,
    },
    /// A remote user voted in local poll `note_id`: the servers that have it hear the new
    /// counts.
    PollUpdated { note_id: String },
    /// Local `blocker_id` blocked remote `blockee_id` (block `block_id`).
    Blocked {
        block_id: String,
        blocker_id: String,
        blockee_id: String,
    },
    /// Local `blocker_id` lifted block `block_id` of remote `blockee_id`. The row is gone
    /// when the job runs, so the event carries the block's id for the Undo.
    Unblocked {
        block_id: String,
        blocker_id: String,
        blockee_id: String,
    },
}

/// A reaction as federation needs it: the Like's id is made from `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionEvent {
    pub id: String,
    pub note_id: String,
    pub user_id: String,
    pub reaction: String,
}

impl From<&crate::Reaction> for ReactionEvent {
    fn from(r: &crate::Reaction) -> Self {
        ReactionEvent {
            id: r.id.clone(),
            note_id: r.note_id.clone(),
            user_id: r.user_id.clone(),
            reaction: r.reaction.clone(),
        }
    }
}

/// A job claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub job: Job,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

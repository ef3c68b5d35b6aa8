//! Notifications, as Misskey's clients list them.

/// What a notification is about (Misskey's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Someone followed the notifiee.
    Follow,
    /// The notifiee's follow request was accepted.
    FollowRequestAccepted,
    /// Someone asked to follow the (locked) notifiee.
    ReceiveFollowRequest,
    Mention,
    Reply,
    /// A pure renote of the notifiee's note.
    Renote,
    Quote,
    Reaction,
    /// A poll the notifiee wrote or voted in has ended.
    PollEnded,
    /// Sent by an app through `notifications/create`.
    App,
    /// `notifications/test-notification`.
    Test,
    /// The notifiee unlocked an achievement.
    AchievementEarned,
}

crate::named_enum!(NotificationKind, "notification type", {
    Follow => "follow",
    FollowRequestAccepted => "followRequestAccepted",
    ReceiveFollowRequest => "receiveFollowRequest",
    Mention => "mention",
    Reply => "reply",
    Renote => "renote",
    Quote => "quote",
    Reaction => "reaction",
    PollEnded => "pollEnded",
    App => "app",
    Test => "test",
    AchievementEarned => "achievementEarned",
});

/// One notification of one user (`notifiee_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub notifiee_id: String,
    pub kind: NotificationKind,
    /// Who caused it; none for `pollEnded`, `app` and `test`.
    pub notifier_id: Option<String>,
    /// The note it is about (for a renote, the renote).
    pub note_id: Option<String>,
    /// For a renote, the note renoted (renotes of one note are grouped by it).
    pub target_note_id: Option<String>,
    /// For a reaction, as stored.
    pub reaction: Option<String>,
    /// For `app`: what the app said, and the app's token.
    pub header: Option<String>,
    pub body: Option<String>,
    pub icon: Option<String>,
    pub app_token_id: Option<String>,
    /// For `achievementEarned`, which.
    pub achievement: Option<String>,
    pub created_at: i64,
}

impl Notification {
    /// A notification of `kind` for `notifiee_id` caused by `notifier_id`, made `now` (its
    /// id is made from `now`, so notifications sort by when they happened).
    pub fn new(
        kind: NotificationKind,
        notifiee_id: &str,
        notifier_id: Option<&str>,
        now: i64,
    ) -> Self {
        Notification {
            id: crate::ids::aidx_at(now),
            notifiee_id: notifiee_id.to_owned(),
            kind,
            notifier_id: notifier_id.map(str::to_owned),
            note_id: None,
            target_note_id: None,
            reaction: None,
            header: None,
            body: None,
            icon: None,
            app_token_id: None,
            achievement: None,
            created_at: now,
        }
    }

    pub fn about(mut self, note_id: &str) -> Self {
        self.note_id = Some(note_id.to_owned());
        self
    }
}

//! The rules of the server, free of HTTP: accounts, notes, follows, visibility, timelines.

pub mod accounts;
pub mod apps;
pub mod follows;
pub mod ids;
pub mod moderation;
pub mod notes;
pub mod plugins;
pub mod render;
pub mod timelines;
pub mod visibility;

use crate::store::StoreError;

/// Why a core operation was refused. The API maps each to Misskey's error code and status;
/// nothing was written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid parameter `{param}`: {reason}")]
    InvalidParam { param: &'static str, reason: String },
    #[error("no such user")]
    NoSuchUser,
    #[error("no such note")]
    NoSuchNote,
    #[error("no such reply target")]
    NoSuchReplyTarget,
    #[error("no such renote target")]
    NoSuchRenoteTarget,
    #[error("cannot reply to a pure renote")]
    CannotReplyToPureRenote,
    #[error("cannot renote a pure renote")]
    CannotRenoteToPureRenote,
    #[error("cannot renote a note that is not public or home")]
    CannotRenoteDueToVisibility,
    #[error("a reply to a specified note must be specified too")]
    CannotReplyWithExtendedVisibility,
    #[error("the note mentions too many users")]
    TooManyMentions,
    #[error("the text is longer than {max} characters")]
    TextTooLong { max: usize },
    #[error("a poll needs at least 2 choices")]
    PollTooFewChoices,
    #[error("the poll has already expired")]
    PollAlreadyExpired,
    #[error("a note needs text, a CW, a renote or a poll")]
    EmptyNote,
    #[error("you may not do that to someone else's note")]
    AccessDenied,
    #[error("you are already following that user")]
    AlreadyFollowing,
    #[error("you are not following that user")]
    NotFollowing,
    #[error("you cannot follow yourself")]
    FolloweeIsYourself,
    #[error("you cannot unfollow yourself")]
    FolloweeIsYourselfUnfollow,
    #[error("there is no follow request")]
    NoFollowRequest,
    #[error("this username is already taken")]
    UsernameTaken,
    #[error("this username is not allowed: {0}")]
    InvalidUsername(&'static str),
    #[error("registration is closed on this server")]
    RegistrationClosed,
    #[error("a valid invitation code is required")]
    InvalidInvitationCode,
    #[error("incorrect username or password")]
    SigninFailed,
    #[error("this poll has no such choice")]
    InvalidChoice,
    #[error("you have already voted")]
    AlreadyVoted,
    #[error("the poll has ended")]
    PollEnded,
    #[error("that note has no poll")]
    NoPoll,
    #[error("no such app")]
    NoSuchApp,
    #[error("no such session")]
    NoSuchSession,
    #[error("the user has not approved the session yet")]
    PendingSession,
    #[error("no such plugin")]
    NoSuchPlugin,
    #[error("the plugin cannot be used: {0}")]
    PluginRefused(String),
    #[error("rejected by {plugin}: {reason}")]
    RejectedByPlugin { plugin: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Random alphanumeric string for tokens, secrets and codes (Misskey's `secureRndstr`).
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

//! Accounts, the relations between them, and the apps that act for them.

use serde::{Deserialize, Serialize};

/// An account, local (`host` is `None`) or remote.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub username_lower: String,
    pub host: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub birthday: Option<String>,
    pub lang: Option<String>,
    pub fields: Vec<ProfileField>,
    pub is_locked: bool,
    pub is_bot: bool,
    pub is_cat: bool,
    pub is_admin: bool,
    pub is_suspended: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub notes_count: i64,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub last_posted_at: Option<i64>,
    /// Moves whenever whom this user follows changes, so a copy of that list can be checked.
    pub following_version: i64,
    /// How many of `followers_count` are on other servers: whether what this user posts
    /// must be delivered.
    pub remote_followers_count: i64,
    /// Where a remote user lives in ActivityPub; `None` for local users.
    pub remote: Option<RemoteActor>,
}

/// A remote user's ActivityPub identity and where to deliver to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteActor {
    /// The actor's id.
    pub uri: String,
    /// Its profile page, if it named one.
    pub url: Option<String>,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers_uri: Option<String>,
    /// When the actor document was last fetched.
    pub fetched_at: i64,
}

impl User {
    pub fn is_local(&self) -> bool {
        self.host.is_none()
    }

    /// Where an activity for this user goes: their server's shared inbox if it has one (one
    /// delivery for everyone there), else their own. `None` for local users.
    pub fn delivery_inbox(&self) -> Option<&str> {
        let remote = self.remote.as_ref()?;
        Some(remote.shared_inbox.as_deref().unwrap_or(&remote.inbox))
    }
}

/// A remote actor as fetched, to be stored (inserted, or updated by its `uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteProfile {
    pub username: String,
    pub host: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<ProfileField>,
    pub is_locked: bool,
    pub is_bot: bool,
    pub is_cat: bool,
    pub actor: RemoteActor,
    /// `(key id, SubjectPublicKeyInfo PEM)` of the key it signs with.
    pub public_key: Option<(String, String)>,
}

/// What a note shows of its author: who they are, not their profile or counters. It changes
/// only when they edit their profile, so it is cheap to keep at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    pub username: String,
    pub username_lower: String,
    pub host: Option<String>,
    pub name: Option<String>,
    pub is_bot: bool,
    pub is_cat: bool,
}

/// One `name: value` line of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
}

/// Profile fields `i/update` may change; `None` leaves a field as it is, `Some(None)` clears
/// it. The API fills it from the request, core checks it and clears blank values, the store
/// writes it.
#[derive(Debug, Default)]
pub struct ProfilePatch {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub birthday: Option<Option<String>>,
    pub lang: Option<Option<String>>,
    pub fields: Option<Vec<ProfileField>>,
    pub is_locked: Option<bool>,
    pub is_bot: Option<bool>,
    pub is_cat: Option<bool>,
}

/// Relations between one viewer and another user, as `users/relation` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub is_following: bool,
    pub is_followed: bool,
    pub has_pending_follow_request_from_you: bool,
    pub has_pending_follow_request_to_you: bool,
    /// The viewer blocks the other user.
    pub is_blocking: bool,
    /// The other user blocks the viewer.
    pub is_blocked: bool,
    /// The viewer mutes the other user (and the mute has not ended).
    pub is_muted: bool,
    /// The viewer mutes the other user's renotes.
    pub is_renote_muted: bool,
}

/// A mute: `muter_id` is not shown `mutee_id`'s notes (or, for a renote mute, only their
/// renotes) until `expires_at`, if it is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Muting {
    pub id: String,
    pub muter_id: String,
    pub mutee_id: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

/// What a mute hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuteKind {
    /// Everything by, replying to or renoting the mutee.
    Notes,
    /// Only the mutee's pure renotes.
    Renotes,
}

/// A follow, or a request to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub id: String,
    pub follower_id: String,
    pub followee_id: String,
    pub created_at: i64,
}

/// A block: `blocker_id` no longer lets `blockee_id` follow them or interact with what they
/// post, and neither follows the other any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub id: String,
    pub blocker_id: String,
    pub blockee_id: String,
    pub created_at: i64,
}

/// What an app's access token may do, and which token it is (an app's registry is kept
/// per token, as Misskey keys it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGrant {
    pub token_id: String,
    pub permission: Vec<String>,
}

impl AppGrant {
    pub fn allows(&self, permission: &str) -> bool {
        self.permission.iter().any(|p| p == permission)
    }
}

/// What a new block ended between the two users, so their servers can be told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Severed {
    /// The blocker followed the blockee, or had asked to.
    pub blocker_followed: bool,
    /// The blockee followed the blocker, or had asked to.
    pub blockee_followed: bool,
    /// The Follow activity of the blockee's pending request, if it came from another server.
    pub blockee_request_activity: Option<String>,
}

/// Who may create an account through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationMode {
    /// Anyone may sign up: the default, so a fresh instance is usable at once.
    Open,
    /// Sign-up needs an invitation code created by an admin.
    InviteOnly,
    /// Only `tsudoi user create` makes accounts.
    Closed,
}

crate::named_enum!(RegistrationMode, "registration mode (open, invite-only, closed)", {
    Open => "open",
    InviteOnly => "invite-only",
    Closed => "closed",
});

/// A local actor's RSA key pair, PEM-encoded: the public half goes into its actor document,
/// the private half signs what it sends.
#[derive(Clone, PartialEq, Eq)]
pub struct ActorKey {
    /// SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
}

/// Keeps private keys out of logs.
impl std::fmt::Debug for ActorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorKey")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// A third-party app registered through `app/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub user_id: Option<String>,
    pub secret: String,
    pub name: String,
    pub description: String,
    /// Permission names (`write:notes`, …), already normalised.
    pub permission: Vec<String>,
    pub callback_url: Option<String>,
    pub created_at: i64,
}

/// A legacy app-authentication session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    pub id: String,
    pub token: String,
    pub app_id: String,
    pub user_id: Option<String>,
    pub created_at: i64,
}

/// A MiAuth session: what the app asked for and, once granted, the token it collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiauthSession {
    pub session: String,
    pub name: Option<String>,
    pub icon_url: Option<String>,
    pub callback_url: Option<String>,
    pub permission: Vec<String>,
    pub user_id: Option<String>,
    pub token: Option<String>,
    pub created_at: i64,
}

//! Users: `UserLite` (in notes and lists), `UserDetailed` (profiles, with the relation to a
//! signed-in viewer), `MeDetailed` (one's own account), and the relation flags.

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_core::accounts::MeState;
use tsudoi_model::{Author, MuteWord, ProfileField, Relation, User};

use super::{EmptyList, EmptyObject, iso};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLite<'a> {
    id: &'a str,
    name: Option<&'a str>,
    username: &'a str,
    host: Option<&'a str>,
    avatar_url: String,
    avatar_blurhash: (),
    avatar_decorations: EmptyList,
    is_bot: bool,
    is_cat: bool,
    emojis: EmptyObject,
    online_status: &'static str,
    badge_roles: EmptyList,
}

/// The fields of a user `UserLite` shows, wherever they come from.
struct Shown<'a> {
    id: &'a str,
    name: Option<&'a str>,
    username: &'a str,
    username_lower: &'a str,
    host: Option<&'a str>,
    is_bot: bool,
    is_cat: bool,
}

impl<'a> UserLite<'a> {
    /// A note's author.
    pub fn of_author(a: &'a Author, settings: &Settings) -> Self {
        Self::pack(
            Shown {
                id: &a.id,
                name: a.name.as_deref(),
                username: &a.username,
                username_lower: &a.username_lower,
                host: a.host.as_deref(),
                is_bot: a.is_bot,
                is_cat: a.is_cat,
            },
            settings,
        )
    }

    /// A user whose whole profile is at hand.
    pub fn of_user(u: &'a User, settings: &Settings) -> Self {
        Self::pack(
            Shown {
                id: &u.id,
                name: u.name.as_deref(),
                username: &u.username,
                username_lower: &u.username_lower,
                host: u.host.as_deref(),
                is_bot: u.is_bot,
                is_cat: u.is_cat,
            },
            settings,
        )
    }

    fn pack(u: Shown<'a>, settings: &Settings) -> Self {
        // Identicons stand in for avatars until the drive exists.
        let avatar_url = match u.host {
            Some(h) => format!("{}/identicon/{}@{h}", settings.base_url(), u.username_lower),
            None => format!(
                "{}/identicon/{}@{}",
                settings.base_url(),
                u.username_lower,
                settings.host()
            ),
        };
        UserLite {
            id: u.id,
            name: u.name,
            username: u.username,
            host: u.host,
            avatar_url,
            avatar_blurhash: (),
            avatar_decorations: EmptyList,
            is_bot: u.is_bot,
            is_cat: u.is_cat,
            emojis: EmptyObject,
            online_status: "unknown",
            badge_roles: EmptyList,
        }
    }
}

/// The relation flags between a viewer and another user (`users/relation`, and a
/// `UserDetailed` seen by someone signed in).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationFlags {
    is_following: bool,
    is_followed: bool,
    has_pending_follow_request_from_you: bool,
    has_pending_follow_request_to_you: bool,
    is_blocking: bool,
    is_blocked: bool,
    is_muted: bool,
    is_renote_muted: bool,
}

impl From<&Relation> for RelationFlags {
    fn from(r: &Relation) -> Self {
        RelationFlags {
            is_following: r.is_following,
            is_followed: r.is_followed,
            has_pending_follow_request_from_you: r.has_pending_follow_request_from_you,
            has_pending_follow_request_to_you: r.has_pending_follow_request_to_you,
            is_blocking: r.is_blocking,
            is_blocked: r.is_blocked,
            is_muted: r.is_muted,
            is_renote_muted: r.is_renote_muted,
        }
    }
}

/// One entry of `users/relation`.
#[derive(Debug, Serialize)]
pub struct RelationEntry<'a> {
    id: &'a str,
    #[serde(flatten)]
    flags: RelationFlags,
}

impl<'a> RelationEntry<'a> {
    pub fn pack(id: &'a str, r: &Relation) -> Self {
        RelationEntry {
            id,
            flags: r.into(),
        }
    }
}

/// What a signed-in viewer sees of their relation to a profile.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ViewerRelation {
    #[serde(flatten)]
    flags: RelationFlags,
    notify: &'static str,
    with_replies: bool,
}

/// `UserDetailedNotMe`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetailed<'a> {
    #[serde(flatten)]
    lite: UserLite<'a>,
    url: Option<&'a str>,
    uri: Option<&'a str>,
    moved_to: (),
    also_known_as: (),
    created_at: String,
    updated_at: Option<String>,
    last_fetched_at: Option<String>,
    banner_url: (),
    banner_blurhash: (),
    is_locked: bool,
    is_silenced: bool,
    is_suspended: bool,
    description: Option<&'a str>,
    location: Option<&'a str>,
    birthday: Option<&'a str>,
    lang: Option<&'a str>,
    fields: &'a [ProfileField],
    verified_links: EmptyList,
    followers_count: i64,
    following_count: i64,
    notes_count: i64,
    pinned_note_ids: EmptyList,
    pinned_notes: EmptyList,
    pinned_page_id: (),
    pinned_page: (),
    public_reactions: bool,
    following_visibility: &'static str,
    followers_visibility: &'static str,
    chat_scope: &'static str,
    can_chat: bool,
    roles: EmptyList,
    memo: (),
    two_factor_enabled: bool,
    use_password_less_login: bool,
    security_keys: bool,
    #[serde(flatten)]
    relation: Option<ViewerRelation>,
}

impl<'a> UserDetailed<'a> {
    /// `u` as seen anonymously, or by someone signed in who has `relation` to them.
    pub fn pack(u: &'a User, relation: Option<&Relation>, settings: &Settings) -> Self {
        UserDetailed {
            lite: UserLite::of_user(u, settings),
            url: u.remote.as_ref().and_then(|r| r.url.as_deref()),
            uri: u.remote.as_ref().map(|r| r.uri.as_str()),
            moved_to: (),
            also_known_as: (),
            created_at: iso(u.created_at),
            updated_at: u.updated_at.map(iso),
            last_fetched_at: u.remote.as_ref().map(|r| iso(r.fetched_at)),
            banner_url: (),
            banner_blurhash: (),
            is_locked: u.is_locked,
            is_silenced: false,
            is_suspended: u.is_suspended,
            description: u.description.as_deref(),
            location: u.location.as_deref(),
            birthday: u.birthday.as_deref(),
            lang: u.lang.as_deref(),
            fields: &u.fields,
            verified_links: EmptyList,
            followers_count: u.followers_count,
            following_count: u.following_count,
            notes_count: u.notes_count,
            pinned_note_ids: EmptyList,
            pinned_notes: EmptyList,
            pinned_page_id: (),
            pinned_page: (),
            public_reactions: true,
            following_visibility: "public",
            followers_visibility: "public",
            chat_scope: "mutual",
            can_chat: false,
            roles: EmptyList,
            memo: (),
            two_factor_enabled: false,
            use_password_less_login: false,
            security_keys: false,
            relation: relation.map(|r| ViewerRelation {
                flags: r.into(),
                notify: "none",
                with_replies: false,
            }),
        }
    }
}

/// Role policies every user has until roles exist (Misskey's `DEFAULT_POLICIES`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policies {
    gtl_available: bool,
    ltl_available: bool,
    can_public_note: bool,
    mention_limit: usize,
    can_invite: bool,
    invite_limit: u32,
    invite_limit_cycle: u32,
    invite_expiration_time: u32,
    can_manage_custom_emojis: bool,
    can_manage_avatar_decorations: bool,
    can_search_notes: bool,
    can_search_users: bool,
    can_use_translator: bool,
    can_hide_ads: bool,
    can_create_channel: bool,
    drive_capacity_mb: i64,
    max_file_size_mb: i64,
    uploadable_file_types: Vec<String>,
    always_mark_nsfw: bool,
    can_update_bio_media: bool,
    pin_limit: u32,
    antenna_limit: u32,
    word_mute_limit: usize,
    webhook_limit: u32,
    clip_limit: u32,
    note_each_clips_limit: u32,
    user_list_limit: i64,
    user_each_user_lists_limit: i64,
    rate_limit_factor: u32,
    avatar_decoration_limit: u32,
    can_import_antennas: bool,
    can_import_blocking: bool,
    can_import_following: bool,
    can_import_muting: bool,
    can_import_user_lists: bool,
    chat_availability: &'static str,
    note_draft_limit: u32,
    scheduled_note_limit: u32,
    watermark_available: bool,
}

impl Policies {
    /// What every account may do on this server.
    pub fn current(settings: &Settings) -> Self {
        let drive = &settings.drive;
        Policies {
            gtl_available: true,
            ltl_available: true,
            can_public_note: true,
            mention_limit: tsudoi_core::notes::MENTION_LIMIT,
            can_invite: false,
            invite_limit: 0,
            invite_limit_cycle: 10080,
            invite_expiration_time: 0,
            can_manage_custom_emojis: false,
            can_manage_avatar_decorations: false,
            can_search_notes: settings.search.notes,
            can_search_users: settings.search.users,
            can_use_translator: false,
            can_hide_ads: false,
            can_create_channel: false,
            drive_capacity_mb: drive.capacity_bytes >> 20,
            max_file_size_mb: drive.max_file_bytes >> 20,
            uploadable_file_types: drive.uploadable_types.clone(),
            always_mark_nsfw: false,
            can_update_bio_media: true,
            pin_limit: 0,
            antenna_limit: 0,
            word_mute_limit: tsudoi_core::word_mutes::WORD_MUTE_LIMIT,
            webhook_limit: 0,
            clip_limit: 0,
            note_each_clips_limit: 0,
            user_list_limit: tsudoi_core::user_lists::LIST_LIMIT,
            user_each_user_lists_limit: tsudoi_core::user_lists::MEMBER_LIMIT,
            rate_limit_factor: 1,
            avatar_decoration_limit: 0,
            can_import_antennas: false,
            can_import_blocking: false,
            can_import_following: false,
            can_import_muting: false,
            can_import_user_lists: false,
            chat_availability: "unavailable",
            note_draft_limit: 0,
            scheduled_note_limit: 0,
            watermark_available: false,
        }
    }
}

/// `MeDetailed`: the signed-in user's own view of their account.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeDetailed<'a> {
    #[serde(flatten)]
    user: UserDetailed<'a>,
    avatar_id: (),
    banner_id: (),
    followed_message: (),
    is_moderator: bool,
    is_admin: bool,
    inject_featured_note: bool,
    receive_announcement_email: bool,
    always_mark_nsfw: bool,
    auto_sensitive: bool,
    careful_bot: bool,
    auto_accept_followed: bool,
    no_crawle: bool,
    prevent_ai_learning: bool,
    is_explorable: bool,
    is_deleted: bool,
    two_factor_backup_codes_stock: &'static str,
    hide_online_status: bool,
    has_unread_specified_notes: bool,
    has_unread_mentions: bool,
    has_unread_announcement: bool,
    unread_announcements: EmptyList,
    has_unread_antenna: bool,
    has_unread_channel: bool,
    has_unread_chat_messages: bool,
    has_unread_notification: bool,
    has_pending_received_follow_request: bool,
    unread_notifications_count: i64,
    muted_words: &'a [MuteWord],
    hard_muted_words: &'a [MuteWord],
    muted_instances: EmptyList,
    muting_notification_types: EmptyList,
    notification_recieve_config: EmptyObject,
    email_notification_types: EmptyList,
    achievements: Vec<AchievementEntity<'a>>,
    logged_in_days: u32,
    policies: Policies,
}

impl<'a> MeDetailed<'a> {
    pub fn pack(u: &'a User, state: &'a MeState, settings: &Settings) -> Self {
        MeDetailed {
            user: UserDetailed::pack(u, None, settings),
            avatar_id: (),
            banner_id: (),
            followed_message: (),
            is_moderator: u.is_admin,
            is_admin: u.is_admin,
            inject_featured_note: false,
            receive_announcement_email: false,
            always_mark_nsfw: false,
            auto_sensitive: false,
            careful_bot: false,
            auto_accept_followed: true,
            no_crawle: false,
            prevent_ai_learning: true,
            is_explorable: true,
            is_deleted: false,
            two_factor_backup_codes_stock: "none",
            hide_online_status: false,
            has_unread_specified_notes: false,
            has_unread_mentions: false,
            has_unread_announcement: false,
            unread_announcements: EmptyList,
            has_unread_antenna: false,
            has_unread_channel: false,
            has_unread_chat_messages: false,
            has_unread_notification: state.unread_notifications > 0,
            has_pending_received_follow_request: state.has_pending_follow_request,
            unread_notifications_count: state.unread_notifications,
            muted_words: &state.word_mutes.soft,
            hard_muted_words: &state.word_mutes.hard,
            muted_instances: EmptyList,
            muting_notification_types: EmptyList,
            notification_recieve_config: EmptyObject,
            email_notification_types: EmptyList,
            achievements: state
                .achievements
                .iter()
                .map(|a| AchievementEntity {
                    name: &a.name,
                    unlocked_at: a.unlocked_at,
                })
                .collect(),
            logged_in_days: 0,
            policies: Policies::current(settings),
        }
    }
}

/// `{name, unlockedAt}` (ms), as `MeDetailed.achievements` lists them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AchievementEntity<'a> {
    name: &'a str,
    unlocked_at: i64,
}

/// A user as the caller sees them: their own account in full, anyone else's profile.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UserView<'a> {
    Me(Box<MeDetailed<'a>>),
    Other(Box<UserDetailed<'a>>),
}

/// An entity with the account's token beside it (what `signup` answers).
#[derive(Debug, Serialize)]
pub struct WithToken<T> {
    #[serde(flatten)]
    pub entity: T,
    pub token: String,
}

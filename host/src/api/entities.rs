//! Misskey entities, each shaped in exactly one place: `UserLite`, `UserDetailed`,
//! `MeDetailed`, `Note`. Field names, types and nullability follow misskey-js's typings so
//! typed clients accept them; fields of features we do not have yet carry their neutral value.

use std::collections::{HashMap, HashSet};

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::{ApiError, ApiResult};
use crate::app::App;
use crate::core;
use crate::store::{NoteRow, Relation, UserRow};

/// Milliseconds since the epoch as the ISO-8601 string Misskey sends (`…T…Z`).
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// MFM as HTML with this server's links: mentions to profiles, hashtags to tag pages. The one
/// place the host renders MFM, for federation `content` and web pages alike; `fns` renders
/// the `$[fn]` names MFM plugins handle (see `core::render`).
pub fn render_mfm(
    config: &crate::config::Config,
    tree: &[tsudoi_mfm::Node],
    fns: Option<&dyn tsudoi_mfm::FnRenderer>,
) -> String {
    let base = config.base_url();
    let own_host = config.host();
    let mention_url = |user: &str, host: Option<&str>| match host {
        Some(h) if !h.eq_ignore_ascii_case(&own_host) => format!("{base}/@{user}@{h}"),
        _ => format!("{base}/@{user}"),
    };
    let hashtag_url = |tag: &str| format!("{base}/tags/{}", tsudoi_mfm::url_component(tag));
    let options = tsudoi_mfm::RenderOptions {
        mention_url: &mention_url,
        hashtag_url: &hashtag_url,
        emoji_url: &|_| None,
        search_url: "https://www.google.com/search?q=",
        fn_renderer: fns,
    };
    tsudoi_mfm::to_html(tree, &options)
}

fn avatar_url(app: &App, u: &UserRow) -> String {
    let host = u.host.clone().unwrap_or_else(|| app.config.host());
    format!(
        "{}/identicon/{}@{}",
        app.config.base_url(),
        u.username_lower,
        host
    )
}

pub fn user_lite(app: &App, u: &UserRow) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "username": u.username,
        "host": u.host,
        "avatarUrl": avatar_url(app, u),
        "avatarBlurhash": null,
        "avatarDecorations": [],
        "isBot": u.is_bot,
        "isCat": u.is_cat,
        "emojis": {},
        "onlineStatus": "unknown",
        "badgeRoles": [],
    })
}

fn detailed_fields(app: &App, u: &UserRow) -> ApiResult<serde_json::Map<String, Value>> {
    let fields: Value = serde_json::from_str(&u.fields).map_err(ApiError::internal)?;
    let mut m = match user_lite(app, u) {
        Value::Object(m) => m,
        _ => unreachable!("user_lite builds an object"),
    };
    let extra = json!({
        "url": null,
        "uri": null,
        "movedTo": null,
        "alsoKnownAs": null,
        "createdAt": iso(u.created_at),
        "updatedAt": u.updated_at.map(iso),
        "lastFetchedAt": null,
        "bannerUrl": null,
        "bannerBlurhash": null,
        "isLocked": u.is_locked,
        "isSilenced": false,
        "isSuspended": u.is_suspended,
        "description": u.description,
        "location": u.location,
        "birthday": u.birthday,
        "lang": u.lang,
        "fields": fields,
        "verifiedLinks": [],
        "followersCount": u.followers_count,
        "followingCount": u.following_count,
        "notesCount": u.notes_count,
        "pinnedNoteIds": [],
        "pinnedNotes": [],
        "pinnedPageId": null,
        "pinnedPage": null,
        "publicReactions": true,
        "followingVisibility": "public",
        "followersVisibility": "public",
        "chatScope": "mutual",
        "canChat": false,
        "roles": [],
        "memo": null,
        "twoFactorEnabled": false,
        "usePasswordLessLogin": false,
        "securityKeys": false,
    });
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Ok(m)
}

/// `UserDetailedNotMe`, with the relation fields when a different user is looking.
pub fn user_detailed(app: &App, u: &UserRow, relation: Option<&Relation>) -> ApiResult<Value> {
    let mut m = detailed_fields(app, u)?;
    if let Some(r) = relation {
        for (k, v) in [
            ("isFollowing", r.is_following),
            ("isFollowed", r.is_followed),
            (
                "hasPendingFollowRequestFromYou",
                r.has_pending_follow_request_from_you,
            ),
            (
                "hasPendingFollowRequestToYou",
                r.has_pending_follow_request_to_you,
            ),
            ("isBlocking", false),
            ("isBlocked", false),
            ("isMuted", false),
            ("isRenoteMuted", false),
        ] {
            m.insert(k.into(), Value::Bool(v));
        }
        m.insert("notify".into(), json!("none"));
        m.insert("withReplies".into(), json!(false));
    }
    Ok(Value::Object(m))
}

/// Role policies every user has until roles exist (Misskey's `DEFAULT_POLICIES`).
pub fn default_policies() -> Value {
    json!({
        "gtlAvailable": true, "ltlAvailable": true, "canPublicNote": true, "mentionLimit": core::notes::MENTION_LIMIT,
        "canInvite": false, "inviteLimit": 0, "inviteLimitCycle": 10080, "inviteExpirationTime": 0,
        "canManageCustomEmojis": false, "canManageAvatarDecorations": false, "canSearchNotes": false,
        "canSearchUsers": true, "canUseTranslator": false, "canHideAds": false, "canCreateChannel": false,
        "driveCapacityMb": 0, "maxFileSizeMb": 0, "uploadableFileTypes": [],
        "alwaysMarkNsfw": false, "canUpdateBioMedia": true, "pinLimit": 0, "antennaLimit": 0,
        "wordMuteLimit": 0, "webhookLimit": 0, "clipLimit": 0, "noteEachClipsLimit": 0,
        "userListLimit": 0, "userEachUserListsLimit": 0, "rateLimitFactor": 1, "avatarDecorationLimit": 0,
        "canImportAntennas": false, "canImportBlocking": false, "canImportFollowing": false,
        "canImportMuting": false, "canImportUserLists": false, "chatAvailability": "unavailable",
        "noteDraftLimit": 0, "scheduledNoteLimit": 0, "watermarkAvailable": false
    })
}

/// `MeDetailed`: the signed-in user's own view of their account.
pub async fn me_detailed(app: &App, u: &UserRow) -> ApiResult<Value> {
    let mut m = detailed_fields(app, u)?;
    let pending_requests = !app
        .store
        .follow_requests_page(&u.id, crate::store::FollowSide::Followers, None, None, 1)
        .await
        .map_err(ApiError::internal)?
        .is_empty();
    let me = json!({
        "avatarId": null,
        "bannerId": null,
        "followedMessage": null,
        "isModerator": u.is_admin,
        "isAdmin": u.is_admin,
        "injectFeaturedNote": false,
        "receiveAnnouncementEmail": false,
        "alwaysMarkNsfw": false,
        "autoSensitive": false,
        "carefulBot": false,
        "autoAcceptFollowed": true,
        "noCrawle": false,
        "preventAiLearning": true,
        "isExplorable": true,
        "isDeleted": false,
        "twoFactorBackupCodesStock": "none",
        "hideOnlineStatus": false,
        "hasUnreadSpecifiedNotes": false,
        "hasUnreadMentions": false,
        "hasUnreadAnnouncement": false,
        "unreadAnnouncements": [],
        "hasUnreadAntenna": false,
        "hasUnreadChannel": false,
        "hasUnreadChatMessages": false,
        "hasUnreadNotification": false,
        "hasPendingReceivedFollowRequest": pending_requests,
        "unreadNotificationsCount": 0,
        "mutedWords": [],
        "hardMutedWords": [],
        "mutedInstances": [],
        "mutingNotificationTypes": [],
        "notificationRecieveConfig": {},
        "emailNotificationTypes": [],
        "achievements": [],
        "loggedInDays": 0,
        "policies": default_policies(),
    });
    if let Value::Object(e) = me {
        m.extend(e);
    }
    Ok(Value::Object(m))
}

/// Everything needed to shape a batch of notes, loaded in a fixed number of queries.
struct NoteContext {
    users: HashMap<String, UserRow>,
    embedded: HashMap<String, NoteRow>,
    polls: HashMap<String, crate::store::PollRow>,
    tallies: HashMap<(String, i64), i64>,
    my_votes: HashSet<(String, i64)>,
    mentions: HashMap<String, Vec<String>>,
    visible: HashMap<String, Vec<String>>,
}

/// Shapes notes as Misskey `Note`s for `viewer`, embedding replies and renotes the viewer may
/// see (a renote's own renote too, so a renoted quote shows what it quotes).
pub async fn pack_notes(
    app: &App,
    notes: Vec<NoteRow>,
    viewer: Option<&str>,
) -> ApiResult<Vec<Value>> {
    let ctx = load_context(app, &notes, viewer).await?;
    Ok(notes
        .iter()
        .map(|n| note_json(app, n, &ctx, viewer, 2))
        .collect())
}

pub async fn pack_note(app: &App, note: NoteRow, viewer: Option<&str>) -> ApiResult<Value> {
    Ok(pack_notes(app, vec![note], viewer)
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

async fn load_context(
    app: &App,
    notes: &[NoteRow],
    viewer: Option<&str>,
) -> ApiResult<NoteContext> {
    let store = &app.store;
    let err = ApiError::internal;
    // Embedded notes, two levels deep, keeping only those the viewer may see.
    let mut embedded: HashMap<String, NoteRow> = HashMap::new();
    let mut frontier: Vec<&NoteRow> = notes.iter().collect();
    for _ in 0..2 {
        let wanted: Vec<String> = frontier
            .iter()
            .flat_map(|n| [n.reply_id.clone(), n.renote_id.clone()])
            .flatten()
            .filter(|id| !embedded.contains_key(id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            break;
        }
        let found = store.notes_by_ids(&wanted).await.map_err(err)?;
        let visible = core::notes::visible_to(app, &found, viewer)
            .await
            .map_err(ApiError::from)?;
        let before: HashSet<String> = embedded.keys().cloned().collect();
        for (n, ok) in found.into_iter().zip(visible) {
            if ok {
                embedded.insert(n.id.clone(), n);
            }
        }
        frontier = embedded
            .values()
            .filter(|n| !before.contains(&n.id))
            .collect();
    }
    let all: Vec<&NoteRow> = notes.iter().chain(embedded.values()).collect();
    let note_ids: Vec<String> = all.iter().map(|n| n.id.clone()).collect();
    let user_ids: Vec<String> = all
        .iter()
        .map(|n| n.user_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let poll_ids: Vec<String> = all
        .iter()
        .filter(|n| n.has_poll)
        .map(|n| n.id.clone())
        .collect();
    let users = store.users_by_ids(&user_ids).await.map_err(err)?;
    let polls = store.polls_by_note_ids(&poll_ids).await.map_err(err)?;
    let tallies = store.poll_tallies(&poll_ids).await.map_err(err)?;
    let my_votes = match viewer {
        Some(me) => store.poll_votes_of(me, &poll_ids).await.map_err(err)?,
        None => Vec::new(),
    };
    let (mention_rows, visible_rows) = store.note_audiences(&note_ids).await.map_err(err)?;
    let mut mentions: HashMap<String, Vec<String>> = HashMap::new();
    for (n, u) in mention_rows {
        mentions.entry(n).or_default().push(u);
    }
    let mut visible: HashMap<String, Vec<String>> = HashMap::new();
    for (n, u) in visible_rows {
        visible.entry(n).or_default().push(u);
    }
    Ok(NoteContext {
        users: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        embedded,
        polls: polls.into_iter().map(|p| (p.note_id.clone(), p)).collect(),
        tallies: tallies.into_iter().map(|(n, c, v)| ((n, c), v)).collect(),
        my_votes: my_votes.into_iter().collect(),
        mentions,
        visible,
    })
}

fn note_json(app: &App, n: &NoteRow, ctx: &NoteContext, viewer: Option<&str>, depth: u8) -> Value {
    let user = ctx
        .users
        .get(&n.user_id)
        .map(|u| user_lite(app, u))
        .unwrap_or(Value::Null);
    let tags: Vec<String> = serde_json::from_str(&n.tags).unwrap_or_default();
    let mut m = json!({
        "id": n.id,
        "createdAt": iso(n.created_at),
        "userId": n.user_id,
        "user": user,
        "text": n.text,
        "cw": n.cw,
        "visibility": n.visibility,
        "localOnly": n.local_only,
        "reactionAcceptance": null,
        "renoteCount": n.renote_count,
        "repliesCount": n.replies_count,
        "reactionCount": 0,
        "reactions": {},
        "reactionEmojis": {},
        "fileIds": [],
        "files": [],
        "replyId": n.reply_id,
        "renoteId": n.renote_id,
        "clippedCount": 0,
    });
    let obj = m.as_object_mut().expect("json! object");
    if n.visibility == "specified" {
        obj.insert(
            "visibleUserIds".into(),
            json!(ctx.visible.get(&n.id).cloned().unwrap_or_default()),
        );
    }
    if let Some(mentioned) = ctx.mentions.get(&n.id) {
        obj.insert("mentions".into(), json!(mentioned));
    }
    if !tags.is_empty() {
        obj.insert("tags".into(), json!(tags));
    }
    if let Some(uri) = &n.uri {
        obj.insert("uri".into(), json!(uri));
    }
    if let Some(url) = &n.url {
        obj.insert("url".into(), json!(url));
    }
    if n.has_poll {
        obj.insert("hasPoll".into(), json!(true));
        if let Some(poll) = ctx.polls.get(&n.id) {
            let choices: Vec<String> = serde_json::from_str(&poll.choices).unwrap_or_default();
            let choices: Vec<Value> = choices
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let key = (n.id.clone(), i as i64);
                    json!({
                        "text": text,
                        "votes": ctx.tallies.get(&key).copied().unwrap_or(0),
                        "isVoted": viewer.is_some() && ctx.my_votes.contains(&key),
                    })
                })
                .collect();
            obj.insert(
                "poll".into(),
                json!({
                    "multiple": poll.multiple,
                    "expiresAt": poll.expires_at.map(iso),
                    "choices": choices,
                }),
            );
        }
    }
    if depth > 0 {
        if let Some(id) = &n.reply_id {
            let reply = ctx
                .embedded
                .get(id)
                .map(|r| note_json(app, r, ctx, viewer, 0))
                .unwrap_or(Value::Null);
            obj.insert("reply".into(), reply);
        }
        if let Some(id) = &n.renote_id {
            let renote = ctx
                .embedded
                .get(id)
                .map(|r| note_json(app, r, ctx, viewer, depth - 1))
                .unwrap_or(Value::Null);
            obj.insert("renote".into(), renote);
        }
    }
    m
}

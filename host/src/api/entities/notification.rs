//! `Notification`, and the grouped forms `i/notifications-grouped` returns, packed from what
//! `tsudoi_core::notifications` prepared.

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_core::notifications::{Grouped, NotificationPage};
use tsudoi_core::reactions;
use tsudoi_model::NotificationKind;

use super::{Note, UserLite, iso};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification<'a> {
    id: &'a str,
    created_at: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserLite<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<Note<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reaction: Option<String>,
    /// `followRequestAccepted` carries the followee's message (none here): `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<()>,
    /// What an app said (`app`).
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<Option<&'a str>>,
    /// Which (`achievementEarned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    achievement: Option<&'a str>,
}

impl<'a> Notification<'a> {
    /// Every notification of `page`, in order.
    pub fn pack_all(page: &'a NotificationPage, settings: &Settings) -> Vec<Self> {
        page.items
            .iter()
            .map(|n| Self::pack(n, page, settings))
            .collect()
    }

    pub fn pack(
        n: &'a tsudoi_model::Notification,
        page: &'a NotificationPage,
        settings: &Settings,
    ) -> Self {
        let app = n.kind == NotificationKind::App;
        Notification {
            id: &n.id,
            created_at: iso(n.created_at),
            kind: n.kind.as_str(),
            user: user(page, n.notifier_id.as_deref(), settings),
            user_id: n.notifier_id.as_deref(),
            note: note(page, n.note_id.as_deref(), settings),
            reaction: n.reaction.as_deref().map(reactions::shown),
            message: (n.kind == NotificationKind::FollowRequestAccepted).then_some(()),
            body: app.then(|| n.body.as_deref().unwrap_or_default()),
            header: app.then_some(n.header.as_deref()),
            icon: app.then_some(n.icon.as_deref()),
            achievement: n.achievement.as_deref(),
        }
    }
}

fn user<'a>(
    page: &'a NotificationPage,
    id: Option<&str>,
    settings: &Settings,
) -> Option<UserLite<'a>> {
    id.and_then(|id| page.notifier(id))
        .map(|a| UserLite::of_author(a, settings))
}

fn note<'a>(page: &'a NotificationPage, id: Option<&str>, settings: &Settings) -> Option<Note<'a>> {
    id.and_then(|id| page.note(id))
        .map(|n| Note::pack(n, &page.notes, settings))
}

/// One entry of `i/notifications-grouped`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum GroupedNotification<'a> {
    One(Box<Notification<'a>>),
    Reactions(ReactionGroup<'a>),
    Renotes(RenoteGroup<'a>),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionGroup<'a> {
    id: &'a str,
    created_at: String,
    #[serde(rename = "type")]
    kind: &'static str,
    note: Option<Note<'a>>,
    reactions: Vec<GroupedReaction<'a>>,
}

#[derive(Debug, Serialize)]
pub struct GroupedReaction<'a> {
    user: Option<UserLite<'a>>,
    reaction: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenoteGroup<'a> {
    id: &'a str,
    created_at: String,
    #[serde(rename = "type")]
    kind: &'static str,
    note: Option<Note<'a>>,
    users: Vec<UserLite<'a>>,
}

impl<'a> GroupedNotification<'a> {
    pub fn pack(g: &'a Grouped, page: &'a NotificationPage, settings: &Settings) -> Self {
        match g {
            Grouped::One(n) => Self::One(Box::new(Notification::pack(n, page, settings))),
            Grouped::Reactions {
                id,
                created_at,
                note_id,
                reactions,
            } => Self::Reactions(ReactionGroup {
                id,
                created_at: iso(*created_at),
                kind: "reaction:grouped",
                note: note(page, Some(note_id), settings),
                reactions: reactions
                    .iter()
                    .map(|(user_id, reaction)| GroupedReaction {
                        user: user(page, Some(user_id), settings),
                        reaction: reactions::shown(reaction),
                    })
                    .collect(),
            }),
            Grouped::Renotes {
                id,
                created_at,
                note_id,
                users,
            } => Self::Renotes(RenoteGroup {
                id,
                created_at: iso(*created_at),
                kind: "renote:grouped",
                note: note(page, Some(note_id), settings),
                users: users
                    .iter()
                    .filter_map(|u| user(page, Some(u), settings))
                    .collect(),
            }),
        }
    }
}

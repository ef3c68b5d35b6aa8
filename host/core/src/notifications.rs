//! Notifications: who hears of what, and listing them. They are written with what caused
//! them (see `tsudoi_store::notifications`); here is who is told:
//!
//! - a note: the users it mentions (`mention`), the author of the note it replies to
//!   (`reply`) and of the note it renotes (`renote`, or `quote` when it says something),
//!   each once, the last reason winning as on Misskey, never its own author;
//! - a reaction: the note's author; a follow: the followee (`follow`, or
//!   `receiveFollowRequest` when locked); an accepted request: the follower
//!   (`followRequestAccepted`); an app: its user (`notifications/create`).
//!
//! The store keeps only those for local users who neither block nor mute whoever caused
//! them, nor are blocked by them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tsudoi_model::{
    AppGrant, Author, Event, Listing, Note, Notification, NotificationKind, Page, User, ids,
};

use crate::notes::{Presented, present, visible_to};
use crate::{Core, Error, Result};

/// What a note posted now tells whom.
pub(crate) fn for_note(
    note: &Note,
    reply: Option<&Note>,
    renote: Option<&Note>,
) -> Vec<Notification> {
    let mut told: Vec<(String, NotificationKind)> = Vec::new();
    let mut tell = |user: &str, kind: NotificationKind| {
        if user == note.user_id {
            return;
        }
        match told.iter_mut().find(|(u, _)| u == user) {
            Some(entry) => entry.1 = kind,
            None => told.push((user.to_owned(), kind)),
        }
    };
    for m in &note.mentions {
        tell(m, NotificationKind::Mention);
    }
    if let Some(r) = reply.filter(|r| r.user_host.is_none()) {
        tell(&r.user_id, NotificationKind::Reply);
    }
    if let Some(r) = renote.filter(|r| r.user_host.is_none()) {
        let kind = if note.is_pure_renote() {
            NotificationKind::Renote
        } else {
            NotificationKind::Quote
        };
        tell(&r.user_id, kind);
    }
    told.into_iter()
        .map(|(user, kind)| {
            let mut n = Notification::new(kind, &user, Some(&note.user_id), note.created_at)
                .about(&note.id);
            if kind == NotificationKind::Renote {
                n.target_note_id = note.renote_id.clone();
            }
            n
        })
        .collect()
}

/// Tells the streams of the notified (after the write committed).
pub(crate) fn publish(core: &Core, notifications: &[Notification]) {
    for n in notifications {
        core.publish(Event::Notified {
            notifiee_id: n.notifiee_id.clone(),
            notification_id: n.id.clone(),
        });
    }
}

/// Which kinds a listing shows: those of `include` if given, less those of `exclude`.
/// `None`: every kind.
pub fn kinds(
    include: Option<Vec<NotificationKind>>,
    exclude: Vec<NotificationKind>,
) -> Option<Vec<NotificationKind>> {
    match (include, exclude.is_empty()) {
        (None, true) => None,
        (include, _) => Some(
            include
                .unwrap_or_else(|| NotificationKind::ALL.to_vec())
                .into_iter()
                .filter(|k| !exclude.contains(k))
                .collect(),
        ),
    }
}

/// Notifications ready to be shown: with their notifiers, and the notes they are about as
/// the notifiee sees them (notifications about notes they may no longer see, or that are
/// gone, are left out).
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub notes: Presented,
    notifiers: HashMap<String, Arc<Author>>,
}

impl NotificationPage {
    pub fn notifier(&self, id: &str) -> Option<&Author> {
        self.notifiers.get(id).map(|a| &**a)
    }

    pub fn note(&self, id: &str) -> Option<&Note> {
        self.notes.notes.iter().find(|n| n.id == id)
    }
}

/// A page of `me`'s notifications of `kinds`; with `mark_read`, all of them are read after.
pub async fn page(
    core: &Core,
    me: &User,
    kinds: Option<&[NotificationKind]>,
    page: &Page,
    mark_read: bool,
) -> Result<NotificationPage> {
    let items = core.store().notifications_page(&me.id, kinds, page).await?;
    if mark_read {
        read_all(core, me).await?;
    }
    prepare(core, me, items).await
}

/// `items` (of `me`) with what showing them needs.
pub async fn prepare(core: &Core, me: &User, items: Vec<Notification>) -> Result<NotificationPage> {
    let note_ids: Vec<String> = items
        .iter()
        .filter_map(|n| n.note_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found = core.store().notes_by_ids(&note_ids).await?;
    let visible = visible_to(core, &found, Some(&me.id)).await?;
    let notes: Vec<Note> = found
        .into_iter()
        .zip(visible)
        .filter_map(|(n, ok)| ok.then_some(n))
        .collect();
    let shown: HashSet<String> = notes.iter().map(|n| n.id.clone()).collect();
    let items: Vec<Notification> = items
        .into_iter()
        .filter(|n| n.note_id.as_ref().is_none_or(|id| shown.contains(id)))
        .collect();
    let notifier_ids: Vec<String> = items
        .iter()
        .filter_map(|n| n.notifier_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let notifiers = core.authors().get(core.store(), &notifier_ids).await?;
    let notes = present(core, Listing::from(notes), Some(&me.id)).await?;
    Ok(NotificationPage {
        items,
        notes,
        notifiers,
    })
}

/// One notification of `me`'s, ready to be shown, if it is (still) theirs to see.
pub async fn one(core: &Core, me: &User, id: &str) -> Result<Option<NotificationPage>> {
    let Some(n) = core.store().notification_by_id(id).await? else {
        return Ok(None);
    };
    if n.notifiee_id != me.id {
        return Ok(None);
    }
    let page = prepare(core, me, vec![n]).await?;
    Ok((!page.items.is_empty()).then_some(page))
}

/// Marks all of `me`'s notifications read, and tells their streams if any was unread.
pub async fn read_all(core: &Core, me: &User) -> Result<()> {
    if core.store().read_all_notifications(&me.id).await? {
        core.publish(Event::NotificationsRead {
            user_id: me.id.clone(),
        });
    }
    Ok(())
}

/// Polls announced per sweep; more wait for the next one.
const POLLS_PER_SWEEP: i64 = 100;

/// Tells the authors and voters of the polls that have ended (`pollEnded`), each poll
/// once across every node; returns how many were told.
pub async fn announce_ended_polls(core: &Core) -> Result<usize> {
    let told = core
        .store()
        .announce_ended_polls(ids::now_ms(), POLLS_PER_SWEEP)
        .await?;
    publish(core, &told);
    Ok(told.len())
}

/// How many of `me`'s notifications are unread (counted up to a bound).
pub async fn unread(core: &Core, me: &User) -> Result<i64> {
    Ok(core.store().unread_notifications(&me.id).await?)
}

/// Deletes all of `me`'s notifications.
pub async fn flush(core: &Core, me: &User) -> Result<()> {
    Ok(core.store().flush_notifications(&me.id).await?)
}

/// Longest text an app's notification carries.
const APP_TEXT_MAX: usize = 2048;

/// An app's notification to its user (`notifications/create`), or a test one (`app`
/// `None`, no text).
pub async fn create(
    core: &Core,
    me: &User,
    kind: NotificationKind,
    app: Option<&AppGrant>,
    header: Option<String>,
    body: Option<String>,
    icon: Option<String>,
) -> Result<()> {
    for (param, text) in [("header", &header), ("body", &body), ("icon", &icon)] {
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > APP_TEXT_MAX)
        {
            return Err(Error::InvalidParam {
                param,
                reason: format!("at most {APP_TEXT_MAX} characters"),
            });
        }
    }
    let mut n = Notification::new(kind, &me.id, None, ids::now_ms());
    n.header = header;
    n.body = body;
    n.icon = icon;
    n.app_token_id = app.map(|a| a.token_id.clone());
    let list = [n];
    core.store().notify(&list).await?;
    publish(core, &list);
    Ok(())
}

/// A notification as a grouped listing shows it: reactions to one note, or renotes of one
/// note, next to each other in the listing become one (Misskey's rule: only neighbours).
pub enum Grouped {
    One(Notification),
    Reactions {
        /// The oldest one's id (a client pages on from it) and the newest one's time.
        id: String,
        created_at: i64,
        note_id: String,
        reactions: Vec<(String, String)>,
    },
    Renotes {
        id: String,
        created_at: i64,
        /// The newest renote (what the group shows).
        note_id: String,
        users: Vec<String>,
    },
}

/// Groups `items` (newest first) as `i/notifications-grouped` shows them.
pub fn group(items: Vec<Notification>) -> Vec<Grouped> {
    let mut out: Vec<Grouped> = Vec::new();
    let mut prev: Option<Notification> = None;
    for n in items {
        match out.last_mut() {
            Some(last) if prev.as_ref().is_some_and(|p| same_group(p, &n)) => {
                if let Grouped::One(first) = last {
                    *last = start_group(first);
                }
                extend_group(last, &n);
            }
            _ => out.push(Grouped::One(n.clone())),
        }
        prev = Some(n);
    }
    out
}

fn same_group(a: &Notification, b: &Notification) -> bool {
    a.kind == b.kind
        && match a.kind {
            NotificationKind::Reaction => a.note_id.is_some() && a.note_id == b.note_id,
            NotificationKind::Renote => {
                a.target_note_id.is_some() && a.target_note_id == b.target_note_id
            }
            _ => false,
        }
}

fn start_group(first: &Notification) -> Grouped {
    let notifier = first.notifier_id.clone().unwrap_or_default();
    match first.kind {
        NotificationKind::Reaction => Grouped::Reactions {
            id: first.id.clone(),
            created_at: first.created_at,
            note_id: first.note_id.clone().unwrap_or_default(),
            reactions: vec![(notifier, first.reaction.clone().unwrap_or_default())],
        },
        _ => Grouped::Renotes {
            id: first.id.clone(),
            created_at: first.created_at,
            note_id: first.note_id.clone().unwrap_or_default(),
            users: vec![notifier],
        },
    }
}

fn extend_group(group: &mut Grouped, n: &Notification) {
    let notifier = n.notifier_id.clone().unwrap_or_default();
    match group {
        Grouped::Reactions { id, reactions, .. } => {
            *id = n.id.clone();
            reactions.push((notifier, n.reaction.clone().unwrap_or_default()));
        }
        Grouped::Renotes { id, users, .. } => {
            *id = n.id.clone();
            users.push(notifier);
        }
        Grouped::One(_) => {}
    }
}

//! Reactions, as Misskey has them: one per user per note; a unicode emoji, one of this
//! server's custom emoji (`:name:`), or, from a remote user, one of their server's
//! (`:name@host:`). Whatever cannot be honoured becomes a like (❤) rather than an error, so
//! clients and other servers never have to know a note's settings before reacting.

use std::collections::HashMap;
use std::sync::Arc;

use tsudoi_model::{
    Author, Event, FederationEvent, HostPolicyKind, Job, Note, Notification, NotificationKind,
    Page, Reaction, ReactionEvent, User, Visibility, ids,
};
use tsudoi_store::StoreError;

use crate::notes::{show, visible_to};
use crate::{Core, Error, Interaction, Result, blocks, emojis, host_policy, notifications};

/// What a reaction that cannot be honoured becomes, and what a plain ActivityPub `Like`
/// means. Stored without U+FE0F, as Misskey stores it.
pub const LIKE: &str = "\u{2764}";

/// Misskey's reactions from before emoji: stored by name on old notes and still sent by old
/// clients.
const LEGACY: &[(&str, &str)] = &[
    ("like", "👍"),
    ("love", "\u{2764}"),
    ("laugh", "😆"),
    ("hmm", "🤔"),
    ("surprise", "😮"),
    ("congrats", "🎉"),
    ("angry", "💢"),
    ("confused", "😥"),
    ("rip", "😇"),
    ("pudding", "🍮"),
    ("star", "⭐"),
];

/// Longest reaction text looked at: an emoji with modifiers is a few dozen bytes.
const REQUEST_MAX: usize = 256;

fn legacy(name: &str) -> Option<&'static str> {
    LEGACY.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// The first unicode emoji in `s` (Misskey searches the text for one), without variation
/// selectors unless it is a ZWJ sequence, whose parts need them.
pub fn normalize_unicode(s: &str) -> Option<String> {
    let cut = (0..=s.len().min(REQUEST_MAX))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    let s = &s[..cut];
    let starts: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
    for (k, &start) in starts.iter().enumerate() {
        // The longest emoji starting here: sequences run to ten code points or so.
        let ends = starts[k + 1..]
            .iter()
            .copied()
            .chain([s.len()])
            .take(12)
            .collect::<Vec<_>>();
        for &end in ends.iter().rev() {
            let candidate = &s[start..end];
            if ::emojis::get(candidate).is_some() {
                return Some(if candidate.contains('\u{200d}') {
                    candidate.to_owned()
                } else {
                    candidate.replace('\u{fe0f}', "")
                });
            }
        }
    }
    None
}

/// `:name:` or `:name@.:`, a local custom emoji as a client names it (Misskey's
/// `isCustomEmojiRegexp`).
fn local_custom_name(s: &str) -> Option<&str> {
    match custom_emoji(s) {
        Some((name, None)) => Some(name),
        _ => None,
    }
}

/// A stored reaction's custom emoji, if it is one: its name and its host (`None` for
/// this server's).
pub fn custom_emoji(stored: &str) -> Option<(&str, Option<&str>)> {
    let inner = stored.strip_prefix(':')?.strip_suffix(':')?;
    let (name, host) = match inner.split_once('@') {
        Some((name, host)) => (name, Some(host).filter(|h| *h != ".")),
        None => (inner, None),
    };
    let name_ok = emojis::is_emoji_name(name);
    let host_ok = host.is_none_or(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
    });
    (name_ok && host_ok).then_some((name, host))
}

/// A stored reaction as clients are shown it: legacy names as their emoji, and this
/// server's custom emoji as `:name@.:` (Misskey's `convertLegacyReaction`).
pub fn shown(stored: &str) -> String {
    if let Some(emoji) = legacy(stored) {
        return emoji.to_owned();
    }
    match custom_emoji(stored) {
        Some((name, None)) => format!(":{name}@.:"),
        _ => stored.to_owned(),
    }
}

/// A reaction as clients name it in a filter (`:name@.:` included), as it is stored.
pub fn stored_form(shown: &str) -> String {
    match shown.strip_suffix("@.:") {
        Some(head) => format!("{head}:"),
        None => shown.to_owned(),
    }
}

/// What `user`'s `requested` reaction to `note` is stored as.
async fn resolve(core: &Core, user: &User, note: &Note, requested: Option<&str>) -> Result<String> {
    let remote = user.host.is_some();
    if note
        .reaction_acceptance
        .is_some_and(|a| a.like_only(remote))
    {
        return Ok(LIKE.to_owned());
    }
    let Some(requested) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(LIKE.to_owned());
    };
    let Some(name) = local_custom_name(requested) else {
        return Ok(legacy(requested)
            .map(str::to_owned)
            .or_else(|| normalize_unicode(requested))
            .unwrap_or_else(|| LIKE.to_owned()));
    };
    let refuses_sensitive = note
        .reaction_acceptance
        .is_some_and(|a| a.refuses_sensitive());
    let found = match &user.host {
        None => emojis::local(core)
            .await?
            .get(name)
            .map(|e| (e.is_sensitive, format!(":{name}:"))),
        Some(host) => {
            // A server whose media the admin keeps out sends no custom emoji either.
            if host_policy::host_policy(core)
                .await?
                .applies(HostPolicyKind::MediaSilenced, host)
            {
                None
            } else {
                emojis::remote(core, &[(name.to_owned(), host.clone())])
                    .await?
                    .first()
                    .map(|e| (e.is_sensitive, format!(":{name}@{host}:")))
            }
        }
    };
    Ok(match found {
        Some((sensitive, _)) if sensitive && refuses_sensitive => LIKE.to_owned(),
        Some((_, reaction)) => reaction,
        None => LIKE.to_owned(),
    })
}

/// `event` as a job, if other servers must hear of `user`'s reaction to `note`: the note's
/// author is elsewhere, or the reacting user has followers elsewhere (Misskey sends Likes to
/// them too, which is how other servers that have the note learn its reactions).
fn federation_jobs(user: &User, note: &Note, event: FederationEvent) -> Vec<Job> {
    let federates = user.is_local()
        && !note.local_only
        && (note.user_host.is_some()
            || user.remote_followers_count > 0
            || (note.visibility == Visibility::Specified && !note.visible_user_ids.is_empty()));
    if federates {
        vec![Job::federate(event)]
    } else {
        Vec::new()
    }
}

/// `user` reacts to `note` with `requested`: a new reaction, or one replacing theirs. `uri`
/// is the Like a remote reaction arrived as.
async fn put(
    core: &Core,
    user: &User,
    note: &Note,
    requested: Option<&str>,
    uri: Option<&str>,
) -> Result<()> {
    if note.is_pure_renote() {
        return Err(Error::CannotReactToRenote);
    }
    blocks::refuse_if_blocked(core, user, &[&note.user_id], Interaction::React).await?;
    let reaction = resolve(core, user, note, requested).await?;
    let now = ids::now_ms();
    let new = Reaction {
        id: ids::aidx_at(now),
        note_id: note.id.clone(),
        user_id: user.id.clone(),
        reaction,
        uri: uri.map(str::to_owned),
        created_at: now,
    };
    let existing = core.store().reaction_of(&note.id, &user.id).await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.reaction == new.reaction)
    {
        return Err(Error::AlreadyReacted);
    }
    // A second Like from the same user replaces the first on Misskey and on this server (no
    // Undo before it, which could arrive after it and take the new one away).
    let jobs = federation_jobs(
        user,
        note,
        FederationEvent::Reacted {
            reaction: ReactionEvent::from(&new),
        },
    );
    // The note's author hears of it (the store keeps it only for a local author).
    let told: Vec<Notification> = (note.user_host.is_none() && note.user_id != user.id)
        .then(|| {
            let mut n = Notification::new(
                NotificationKind::Reaction,
                &note.user_id,
                Some(&user.id),
                now,
            )
            .about(&note.id);
            n.reaction = Some(new.reaction.clone());
            n
        })
        .into_iter()
        .collect();
    match core
        .store()
        .react(&new, existing.as_ref(), &jobs, &told)
        .await
    {
        Ok(()) => {
            notifications::publish(core, &told);
            if let Some(old) = existing {
                publish_unreacted(core, old);
            }
            core.publish(Event::Reacted {
                note_id: new.note_id,
                user_id: new.user_id,
                reaction: new.reaction,
            });
            Ok(())
        }
        // Another request of the same user got there first.
        Err(StoreError::Conflict(_)) => Err(Error::AlreadyReacted),
        Err(e) if e.is_unique_violation() => Err(Error::AlreadyReacted),
        Err(e) => Err(e.into()),
    }
}

/// `user`'s reaction to `note` is taken back; with `uri`, only if it is the reaction that
/// arrived as that Like (an Undo of an earlier one, delivered late, leaves a newer one be).
async fn take_back(core: &Core, user: &User, note: &Note, uri: Option<&str>) -> Result<()> {
    let existing = core
        .store()
        .reaction_of(&note.id, &user.id)
        .await?
        .filter(|r| match (uri, &r.uri) {
            (Some(undone), Some(stored)) => undone == stored,
            _ => true,
        })
        .ok_or(Error::NotReacted)?;
    let jobs = federation_jobs(
        user,
        note,
        FederationEvent::Unreacted {
            reaction: ReactionEvent::from(&existing),
        },
    );
    if core
        .store()
        .unreact(&existing, &jobs, ids::now_ms())
        .await?
    {
        publish_unreacted(core, existing);
        Ok(())
    } else {
        Err(Error::NotReacted)
    }
}

fn publish_unreacted(core: &Core, r: Reaction) {
    core.publish(Event::Unreacted {
        note_id: r.note_id,
        user_id: r.user_id,
        reaction: r.reaction,
    });
}

/// A local user reacts to a note they may see.
pub async fn react(core: &Core, me: &User, note_id: &str, requested: Option<&str>) -> Result<()> {
    let note = show(core, note_id, Some(&me.id)).await?;
    put(core, me, &note, requested, None).await
}

/// A local user takes their reaction back.
pub async fn unreact(core: &Core, me: &User, note_id: &str) -> Result<()> {
    let note = show(core, note_id, Some(&me.id)).await?;
    take_back(core, me, &note, None).await
}

/// A remote user's reaction (the Like or EmojiReact `uri` their server sent) to a stored
/// note. A note they may not see is treated as missing; reacting the same way twice is a
/// no-op.
pub async fn react_remote(
    core: &Core,
    user: &User,
    note: &Note,
    requested: Option<&str>,
    uri: Option<&str>,
) -> Result<()> {
    if !visible_to(core, std::slice::from_ref(note), Some(&user.id)).await?[0] {
        return Err(Error::NoSuchNote);
    }
    match put(core, user, note, requested, uri).await {
        Err(Error::AlreadyReacted) => Ok(()),
        other => other,
    }
}

/// A remote user's Undo of their reaction (of the Like `uri`); none to undo is a no-op.
pub async fn unreact_remote(
    core: &Core,
    user: &User,
    note: &Note,
    uri: Option<&str>,
) -> Result<()> {
    match take_back(core, user, note, uri).await {
        Err(Error::NotReacted) => Ok(()),
        other => other,
    }
}

/// A page of the reactions to a note the viewer may see, with who gave them.
#[derive(Debug, Default)]
pub struct ReactionPage {
    pub reactions: Vec<Reaction>,
    authors: HashMap<String, Arc<Author>>,
}

impl ReactionPage {
    pub fn author(&self, id: &str) -> Option<&Author> {
        self.authors.get(id).map(|a| &**a)
    }
}

/// The reactions to `note_id` (only those shown as `only`, when given).
pub async fn list(
    core: &Core,
    viewer: Option<&str>,
    note_id: &str,
    only: Option<&str>,
    page: &Page,
) -> Result<ReactionPage> {
    let note = show(core, note_id, viewer).await?;
    let only = only.map(stored_form);
    let reactions = core
        .store()
        .reactions_page(&note.id, only.as_deref(), page)
        .await?;
    let mut user_ids: Vec<String> = reactions.iter().map(|r| r.user_id.clone()).collect();
    user_ids.sort();
    user_ids.dedup();
    let authors = core.authors().get(core.store(), &user_ids).await?;
    Ok(ReactionPage { reactions, authors })
}

/// A local reaction by id (what `/likes/{id}` shows), if it still exists.
pub async fn by_id(core: &Core, id: &str) -> Result<Option<Reaction>> {
    Ok(core.store().reaction_by_id(id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_reactions_are_found_and_stripped_of_variation_selectors() {
        assert_eq!(normalize_unicode("👍").as_deref(), Some("👍"));
        assert_eq!(normalize_unicode("❤️").as_deref(), Some("\u{2764}"));
        assert_eq!(normalize_unicode("abc🎉def").as_deref(), Some("🎉"));
        // Skin tones and ZWJ sequences stay whole.
        assert_eq!(normalize_unicode("👍🏽").as_deref(), Some("👍🏽"));
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(normalize_unicode(family).as_deref(), Some(family));
        assert_eq!(normalize_unicode("hello"), None);
        assert_eq!(normalize_unicode(""), None);
    }

    #[test]
    fn custom_emoji_forms() {
        assert_eq!(local_custom_name(":blob:"), Some("blob"));
        assert_eq!(local_custom_name(":blob@.:"), Some("blob"));
        assert_eq!(local_custom_name(":blob@example.com:"), None);
        assert_eq!(local_custom_name("::"), None);
        assert_eq!(custom_emoji(":blob:"), Some(("blob", None)));
        assert_eq!(custom_emoji(":blob@.:"), Some(("blob", None)));
        assert_eq!(
            custom_emoji(":blob@example.com:"),
            Some(("blob", Some("example.com")))
        );
        assert_eq!(custom_emoji("👍"), None);
        assert_eq!(shown(":blob:"), ":blob@.:");
        assert_eq!(shown(":blob@example.com:"), ":blob@example.com:");
        assert_eq!(shown("like"), "👍");
        assert_eq!(stored_form(":blob@.:"), ":blob:");
        assert_eq!(stored_form("👍"), "👍");
    }
}

//! Notes: creating, reading one, deleting, renotes and polls.

use std::collections::{HashMap, HashSet};

use super::visibility::{NoteAudience, Visibility, may_see};
use super::{Error, Result, ids};
use crate::app::App;
use crate::store::{NewNote, NoteRow, PollRow, StoreError, UserRow};

/// Misskey's limits for notes.
pub const CW_MAX: usize = 100;
pub const POLL_CHOICES_MAX: usize = 10;
pub const POLL_CHOICE_MAX_LEN: usize = 50;
/// Misskey's default role policy `mentionLimit`: a cheap brake on mention spam.
pub const MENTION_LIMIT: usize = 20;

#[derive(Debug, Default)]
pub struct PollInput {
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
    pub expired_after: Option<i64>,
}

#[derive(Debug)]
pub struct CreateNote {
    pub text: Option<String>,
    pub cw: Option<String>,
    pub visibility: Visibility,
    pub visible_user_ids: Vec<String>,
    pub local_only: bool,
    pub reply_id: Option<String>,
    pub renote_id: Option<String>,
    pub poll: Option<PollInput>,
}

/// A pure renote carries nothing of its own: no text, no CW, no poll.
pub fn is_pure_renote(n: &NoteRow) -> bool {
    n.renote_id.is_some() && n.text.is_none() && n.cw.is_none() && !n.has_poll
}

pub async fn create(app: &App, author: &UserRow, mut input: CreateNote) -> Result<NoteRow> {
    if let Some(text) = &input.text {
        let len = text.chars().count();
        if len > app.config.max_note_length {
            return Err(Error::TextTooLong {
                max: app.config.max_note_length,
            });
        }
        if text.trim().is_empty() {
            input.text = None;
        }
    }
    if let Some(cw) = &input.cw
        && cw.chars().count() > CW_MAX
    {
        return Err(Error::InvalidParam {
            param: "cw",
            reason: format!("must be at most {CW_MAX} characters"),
        });
    }
    if input.text.is_none() && input.renote_id.is_none() && input.poll.is_none() {
        return Err(Error::EmptyNote);
    }
    let now = ids::now_ms();

    let reply = match &input.reply_id {
        Some(id) => {
            let note = app
                .store
                .note_by_id(id)
                .await?
                .ok_or(Error::NoSuchReplyTarget)?;
            if !visible_to(app, std::slice::from_ref(&note), Some(&author.id)).await?[0] {
                return Err(Error::NoSuchReplyTarget);
            }
            if is_pure_renote(&note) {
                return Err(Error::CannotReplyToPureRenote);
            }
            if note.visibility == "specified" && input.visibility != Visibility::Specified {
                return Err(Error::CannotReplyWithExtendedVisibility);
            }
            Some(note)
        }
        None => None,
    };
    let renote = match &input.renote_id {
        Some(id) => {
            let note = app
                .store
                .note_by_id(id)
                .await?
                .ok_or(Error::NoSuchRenoteTarget)?;
            if !visible_to(app, std::slice::from_ref(&note), Some(&author.id)).await?[0] {
                return Err(Error::NoSuchRenoteTarget);
            }
            if is_pure_renote(&note) {
                return Err(Error::CannotRenoteToPureRenote);
            }
            // Others' followers-only and specified notes cannot be spread further.
            let spreadable = matches!(note.visibility.as_str(), "public" | "home")
                || (note.visibility == "followers" && note.user_id == author.id);
            if !spreadable {
                return Err(Error::CannotRenoteDueToVisibility);
            }
            Some(note)
        }
        None => None,
    };

    let poll = match input.poll.take() {
        Some(p) => Some(validate_poll(p, now)?),
        None => None,
    };

    // Misskey's adjustments: a public reply to a non-public note becomes home; replying to
    // or renoting a local-only note keeps the conversation local.
    if let Some(r) = &reply {
        if r.visibility != "public" && input.visibility == Visibility::Public {
            input.visibility = Visibility::Home;
        }
        if r.local_only {
            input.local_only = true;
        }
    }
    if let Some(r) = &renote {
        // A renote is never more visible than what it renotes.
        match (r.visibility.as_str(), input.visibility) {
            ("home", Visibility::Public) => input.visibility = Visibility::Home,
            ("followers", Visibility::Public | Visibility::Home) => {
                input.visibility = Visibility::Followers
            }
            _ => {}
        }
        if r.local_only {
            input.local_only = true;
        }
    }

    // The moderation chain sees the note before anything is stored, and may reject, rewrite
    // or flag it.
    let id = ids::aidx_at(now);
    let decision = super::moderation::check_new_note(
        app,
        author,
        super::moderation::Draft {
            id: &id,
            created_at: now,
            text: &mut input.text,
            cw: &mut input.cw,
            visibility: &mut input.visibility,
            local_only: &mut input.local_only,
            reply_id: reply.as_ref().map(|r| r.id.as_str()),
            renote_id: renote.as_ref().map(|r| r.id.as_str()),
        },
    )
    .await?;
    if input.text.is_none() && input.cw.is_none() && renote.is_none() && poll.is_none() {
        return Err(Error::EmptyNote);
    }

    // What the note refers to, from the MFM of its text, CW and poll choices (as Misskey).
    let mut trees: Vec<Vec<tsudoi_mfm::Node>> = Vec::new();
    for source in [input.text.as_deref(), input.cw.as_deref()]
        .into_iter()
        .flatten()
    {
        trees.push(tsudoi_mfm::parse(source));
    }
    if let Some((choices, _, _)) = &poll {
        trees.extend(choices.iter().map(|c| tsudoi_mfm::parse(c)));
    }
    let mut mentioned_ids = resolve_mentions(app, &trees).await?;
    if mentioned_ids.len() > MENTION_LIMIT {
        return Err(Error::TooManyMentions);
    }
    let mut visible_user_ids = Vec::new();
    if input.visibility == Visibility::Specified {
        let requested: Vec<String> = dedup(input.visible_user_ids.clone());
        let found = app.store.users_by_ids(&requested).await?;
        if found.len() != requested.len() {
            return Err(Error::NoSuchUser);
        }
        visible_user_ids = requested;
        visible_user_ids.extend(mentioned_ids.iter().cloned());
        if let Some(r) = &reply {
            visible_user_ids.push(r.user_id.clone());
        }
        visible_user_ids.retain(|id| id != &author.id);
        visible_user_ids = dedup(visible_user_ids);
        // Misskey records every addressee of a specified note as mentioned.
        mentioned_ids.extend(visible_user_ids.iter().cloned());
    }
    // Replying to someone mentions them.
    if let Some(r) = &reply
        && r.user_id != author.id
    {
        mentioned_ids.push(r.user_id.clone());
    }
    let mentioned_ids = dedup(mentioned_ids);

    let tags = normalized_tags(&trees);
    let row = NoteRow {
        id,
        user_id: author.id.clone(),
        user_host: author.host.clone(),
        text: input.text,
        cw: input.cw,
        visibility: input.visibility.as_str().to_owned(),
        local_only: input.local_only,
        reply_user_id: reply.as_ref().map(|r| r.user_id.clone()),
        reply_id: reply.map(|r| r.id),
        renote_user_id: renote.as_ref().map(|r| r.user_id.clone()),
        renote_id: renote.map(|r| r.id),
        has_poll: poll.is_some(),
        tags: crate::store::to_json(&tags),
        replies_count: 0,
        renote_count: 0,
        uri: None,
        url: None,
        created_at: now,
        updated_at: None,
    };
    let new = NewNote {
        poll: poll.map(|(choices, multiple, expires_at)| PollRow {
            note_id: row.id.clone(),
            choices: crate::store::to_json(&choices),
            multiple,
            expires_at,
        }),
        row,
        mentioned_ids,
        visible_user_ids,
    };
    app.store.insert_note(&new).await?;
    for (plugin, reason) in &decision.flags {
        app.store
            .add_flag(&ids::aidx(), &new.row.id, plugin, reason, ids::now_ms())
            .await?;
    }
    Ok(new.row)
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

fn validate_poll(p: PollInput, now: i64) -> Result<(Vec<String>, bool, Option<i64>)> {
    if p.choices.len() < 2 {
        return Err(Error::PollTooFewChoices);
    }
    if p.choices.len() > POLL_CHOICES_MAX {
        return Err(Error::InvalidParam {
            param: "poll.choices",
            reason: format!("at most {POLL_CHOICES_MAX} choices"),
        });
    }
    let mut seen = HashSet::new();
    for c in &p.choices {
        let len = c.chars().count();
        if len == 0 || len > POLL_CHOICE_MAX_LEN {
            return Err(Error::InvalidParam {
                param: "poll.choices",
                reason: format!("each choice must be 1 to {POLL_CHOICE_MAX_LEN} characters"),
            });
        }
        if !seen.insert(c) {
            return Err(Error::InvalidParam {
                param: "poll.choices",
                reason: "choices must be unique".into(),
            });
        }
    }
    let expires_at = match (p.expires_at, p.expired_after) {
        (Some(at), _) => {
            if at <= now {
                return Err(Error::PollAlreadyExpired);
            }
            Some(at)
        }
        (None, Some(after)) if after >= 1 => Some(now + after),
        (None, Some(_)) => {
            return Err(Error::InvalidParam {
                param: "poll.expiredAfter",
                reason: "must be at least 1 millisecond".into(),
            });
        }
        (None, None) => None,
    };
    Ok((p.choices, p.multiple, expires_at))
}

/// Hashtags as Misskey stores them: NFKC-normalised and lower-cased, at most 128 characters
/// each and 32 in all, without duplicates.
fn normalized_tags(trees: &[Vec<tsudoi_mfm::Node>]) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut out: Vec<String> = Vec::new();
    for tree in trees {
        for tag in tsudoi_mfm::hashtags(tree) {
            let tag: String = tag.nfkc().collect::<String>().to_lowercase();
            if tag.chars().count() <= 128 && !out.contains(&tag) && out.len() < 32 {
                out.push(tag);
            }
        }
    }
    out
}

/// Local users mentioned in the note. Mentions of this server's own host count as local;
/// other hosts wait for federation.
async fn resolve_mentions(app: &App, trees: &[Vec<tsudoi_mfm::Node>]) -> Result<Vec<String>> {
    let own_host = app.config.host().to_lowercase();
    let mut out = Vec::new();
    for tree in trees {
        for (username, host, _) in tsudoi_mfm::mentions(tree) {
            let local = match &host {
                None => true,
                Some(h) => h.to_lowercase() == own_host,
            };
            if !local {
                continue;
            }
            if let Some(u) = app.store.user_by_username(&username, None).await? {
                out.push(u.id);
            }
        }
    }
    Ok(dedup(out))
}

/// For each note, whether `viewer` may see it: the visibility rule applied to a batch, with
/// the audience and follow facts it needs loaded in two queries.
pub async fn visible_to(app: &App, notes: &[NoteRow], viewer: Option<&str>) -> Result<Vec<bool>> {
    let restricted: Vec<String> = notes
        .iter()
        .filter(|n| matches!(n.visibility.as_str(), "followers" | "specified"))
        .map(|n| n.id.clone())
        .collect();
    let (mut mentions, mut visible): (HashMap<String, Vec<String>>, HashMap<String, Vec<String>>) =
        Default::default();
    let mut followed: HashSet<String> = HashSet::new();
    if let (Some(me), false) = (viewer, restricted.is_empty()) {
        let (m, v) = app.store.note_audiences(&restricted).await?;
        for (note, user) in m {
            mentions.entry(note).or_default().push(user);
        }
        for (note, user) in v {
            visible.entry(note).or_default().push(user);
        }
        let authors: Vec<String> = dedup(
            notes
                .iter()
                .filter(|n| n.visibility == "followers")
                .map(|n| n.user_id.clone())
                .collect(),
        );
        followed = app
            .store
            .followed_among(me, &authors)
            .await?
            .into_iter()
            .collect();
    }
    let empty = Vec::new();
    Ok(notes
        .iter()
        .map(|n| {
            let Some(visibility) = Visibility::parse(&n.visibility) else {
                return false;
            };
            may_see(
                &NoteAudience {
                    visibility,
                    author_id: &n.user_id,
                    reply_user_id: n.reply_user_id.as_deref(),
                    mentioned_ids: mentions.get(&n.id).unwrap_or(&empty),
                    visible_user_ids: visible.get(&n.id).unwrap_or(&empty),
                    viewer_follows_author: followed.contains(&n.user_id),
                },
                viewer,
            )
        })
        .collect())
}

/// A note `viewer` may see, or `NoSuchNote` (a hidden note is indistinguishable from a
/// missing one).
pub async fn show(app: &App, id: &str, viewer: Option<&str>) -> Result<NoteRow> {
    let note = app.store.note_by_id(id).await?.ok_or(Error::NoSuchNote)?;
    if !visible_to(app, std::slice::from_ref(&note), viewer).await?[0] {
        return Err(Error::NoSuchNote);
    }
    Ok(note)
}

pub async fn delete(app: &App, me: &UserRow, id: &str) -> Result<()> {
    let note = show(app, id, Some(&me.id)).await?;
    if note.user_id != me.id && !me.is_admin {
        return Err(Error::AccessDenied);
    }
    app.store.delete_note(&note).await?;
    Ok(())
}

/// Removes `me`'s pure renotes of a note.
pub async fn unrenote(app: &App, me: &UserRow, id: &str) -> Result<()> {
    let note = show(app, id, Some(&me.id)).await?;
    for renote in app.store.pure_renotes_by(&me.id, &note.id).await? {
        app.store.delete_note(&renote).await?;
    }
    Ok(())
}

pub async fn vote(app: &App, me: &UserRow, note_id: &str, choice: i64) -> Result<()> {
    let note = show(app, note_id, Some(&me.id)).await?;
    let poll = app
        .store
        .polls_by_note_ids(std::slice::from_ref(&note.id))
        .await?
        .pop()
        .ok_or(Error::NoPoll)?;
    let now = ids::now_ms();
    if poll.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::PollEnded);
    }
    let choices: Vec<String> = crate::store::from_json("polls.choices", &poll.choices)?;
    if choice < 0 || choice as usize >= choices.len() {
        return Err(Error::InvalidChoice);
    }
    match app
        .store
        .vote(
            &ids::aidx_at(now),
            &note.id,
            &me.id,
            choice,
            poll.multiple,
            now,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(Error::AlreadyVoted),
        Err(e) if e.is_unique_violation() => Err(Error::AlreadyVoted),
        Err(e) => Err(e.into()),
    }
}

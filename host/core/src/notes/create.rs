//! Making a note, in named steps: [`validate`] the input, [`resolve_targets`] (what it
//! replies to and renotes), [`narrow_visibility`] to what those allow, [`moderate`] it with
//! the plugin chain, [`extract`] what its text refers to, and [`write`] it. Inbound
//! federation runs the same steps on a remote note, after validating it its own way.

use std::collections::HashSet;

use tsudoi_model::{Note, Poll, User, Visibility, ids};
use tsudoi_store::NewNote;

use super::visible_to;
use crate::moderation::{self, Flags};
use crate::{Core, Error, Result, Settings};

/// Misskey's limits for notes.
pub const CW_MAX: usize = 100;
pub const POLL_CHOICES_MAX: usize = 10;
pub const POLL_CHOICE_MAX_LEN: usize = 50;
/// Misskey's default role policy `mentionLimit`: a cheap brake on mention spam.
pub const MENTION_LIMIT: usize = 20;

/// What a note's text and CW may be (lengths, no U+0000, which PostgreSQL cannot store): what
/// a client sends and what a moderation plugin rewrites it to are held to the same rule.
pub fn check_text_fields(
    max_note_length: usize,
    text: Option<&str>,
    cw: Option<&str>,
) -> Result<()> {
    for (param, value) in [("text", text), ("cw", cw)] {
        if value.is_some_and(|v| v.contains('\0')) {
            return Err(Error::InvalidParam {
                param,
                reason: "must not contain the character U+0000".into(),
            });
        }
    }
    if text.is_some_and(|t| t.chars().count() > max_note_length) {
        return Err(Error::TextTooLong {
            max: max_note_length,
        });
    }
    if cw.is_some_and(|c| c.chars().count() > CW_MAX) {
        return Err(Error::InvalidParam {
            param: "cw",
            reason: format!("must be at most {CW_MAX} characters"),
        });
    }
    Ok(())
}

#[derive(Debug, Default)]
pub struct PollInput {
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
    pub expired_after: Option<i64>,
}

/// A note as a local user asks for it.
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

/// A poll that passed validation.
#[derive(Debug)]
pub struct ValidPoll {
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
}

/// The notes a new note replies to and renotes, both visible to its author.
#[derive(Debug, Default)]
pub struct Targets {
    pub reply: Option<Note>,
    pub renote: Option<Note>,
}

/// What a note's MFM refers to, resolved.
#[derive(Debug, Default)]
pub struct References {
    /// Local users mentioned (and, for a specified note, everyone it is addressed to, and
    /// the author of the note it replies to).
    pub mentions: Vec<String>,
    /// Who a specified note is for, beside its author.
    pub visible_user_ids: Vec<String>,
    pub tags: Vec<String>,
}

/// Posts a note by `author`: every step in order.
pub async fn create(core: &Core, author: &User, mut input: CreateNote) -> Result<Note> {
    validate(core.settings(), &mut input)?;
    let now = ids::now_ms();
    let targets = resolve_targets(core, author, &input).await?;
    let poll = input
        .poll
        .take()
        .map(|p| validate_poll(p, now))
        .transpose()?;
    narrow_visibility(&mut input, &targets);
    let id = ids::aidx_at(now);
    let flags = moderate(core, author, &id, now, &mut input, &targets).await?;
    if input.text.is_none() && input.cw.is_none() && targets.renote.is_none() && poll.is_none() {
        return Err(Error::EmptyNote);
    }
    let refs = extract(core, author, &input, poll.as_ref(), &targets).await?;
    write(
        core,
        author,
        Written {
            id,
            now,
            input,
            poll,
            targets,
            refs,
            flags,
        },
    )
    .await
}

/// Checks lengths and that the note carries something; blank text counts as none.
pub fn validate(settings: &Settings, input: &mut CreateNote) -> Result<()> {
    check_text_fields(
        settings.max_note_length,
        input.text.as_deref(),
        input.cw.as_deref(),
    )?;
    if input.text.as_deref().is_some_and(|t| t.trim().is_empty()) {
        input.text = None;
    }
    if input.text.is_none() && input.renote_id.is_none() && input.poll.is_none() {
        return Err(Error::EmptyNote);
    }
    Ok(())
}

/// Finds what the note replies to and renotes. Both must exist and be visible to the author
/// (a hidden note is indistinguishable from a missing one); neither may be a pure renote; a
/// reply to a specified note stays specified, and only public and home notes (or the
/// author's own followers-only ones) can be spread further.
pub async fn resolve_targets(core: &Core, author: &User, input: &CreateNote) -> Result<Targets> {
    let reply = match &input.reply_id {
        Some(id) => {
            let note = visible_target(core, author, id)
                .await?
                .ok_or(Error::NoSuchReplyTarget)?;
            if note.is_pure_renote() {
                return Err(Error::CannotReplyToPureRenote);
            }
            if note.visibility == Visibility::Specified && input.visibility != Visibility::Specified
            {
                return Err(Error::CannotReplyWithExtendedVisibility);
            }
            Some(note)
        }
        None => None,
    };
    let renote = match &input.renote_id {
        Some(id) => {
            let note = visible_target(core, author, id)
                .await?
                .ok_or(Error::NoSuchRenoteTarget)?;
            if note.is_pure_renote() {
                return Err(Error::CannotRenoteToPureRenote);
            }
            let spreadable = matches!(note.visibility, Visibility::Public | Visibility::Home)
                || (note.visibility == Visibility::Followers && note.user_id == author.id);
            if !spreadable {
                return Err(Error::CannotRenoteDueToVisibility);
            }
            Some(note)
        }
        None => None,
    };
    Ok(Targets { reply, renote })
}

async fn visible_target(core: &Core, author: &User, id: &str) -> Result<Option<Note>> {
    let Some(note) = core.store().note_by_id(id).await? else {
        return Ok(None);
    };
    let visible = visible_to(core, std::slice::from_ref(&note), Some(&author.id)).await?[0];
    Ok(visible.then_some(note))
}

/// Misskey's adjustments: a public reply to a non-public note becomes home; a renote is
/// never more visible than what it renotes; replying to or renoting a local-only note keeps
/// the conversation local.
pub fn narrow_visibility(input: &mut CreateNote, targets: &Targets) {
    if let Some(r) = &targets.reply {
        if r.visibility != Visibility::Public && input.visibility == Visibility::Public {
            input.visibility = Visibility::Home;
        }
        input.local_only |= r.local_only;
    }
    if let Some(r) = &targets.renote {
        input.visibility = input.visibility.narrowed_to(r.visibility);
        input.local_only |= r.local_only;
    }
}

/// The moderation chain sees the note before anything is stored, and may reject it, rewrite
/// it (the rewrite is applied to `input`) or flag it for review.
pub async fn moderate(
    core: &Core,
    author: &User,
    id: &str,
    created_at: i64,
    input: &mut CreateNote,
    targets: &Targets,
) -> Result<Flags> {
    moderation::check_new_note(
        core,
        author,
        moderation::Draft {
            id,
            created_at,
            text: &mut input.text,
            cw: &mut input.cw,
            visibility: &mut input.visibility,
            local_only: &mut input.local_only,
            reply_id: targets.reply.as_ref().map(|r| r.id.as_str()),
            renote_id: targets.renote.as_ref().map(|r| r.id.as_str()),
        },
    )
    .await
}

/// What the note refers to, from the MFM of its text, CW and poll choices (as Misskey):
/// mentioned local users, addressees of a specified note, hashtags.
pub async fn extract(
    core: &Core,
    author: &User,
    input: &CreateNote,
    poll: Option<&ValidPoll>,
    targets: &Targets,
) -> Result<References> {
    let mut trees: Vec<Vec<tsudoi_mfm::Node>> = Vec::new();
    for source in [input.text.as_deref(), input.cw.as_deref()]
        .into_iter()
        .flatten()
    {
        trees.push(tsudoi_mfm::parse(source));
    }
    if let Some(p) = poll {
        trees.extend(p.choices.iter().map(|c| tsudoi_mfm::parse(c)));
    }
    let mut mentions = resolve_mentions(core, &trees).await?;
    if mentions.len() > MENTION_LIMIT {
        return Err(Error::TooManyMentions);
    }
    let mut visible_user_ids = Vec::new();
    if input.visibility == Visibility::Specified {
        let requested: Vec<String> = dedup(input.visible_user_ids.clone());
        let found = core.store().users_by_ids(&requested).await?;
        if found.len() != requested.len() {
            return Err(Error::NoSuchUser);
        }
        visible_user_ids = requested;
        visible_user_ids.extend(mentions.iter().cloned());
        if let Some(r) = &targets.reply {
            visible_user_ids.push(r.user_id.clone());
        }
        visible_user_ids.retain(|id| id != &author.id);
        visible_user_ids = dedup(visible_user_ids);
        // Misskey records every addressee of a specified note as mentioned.
        mentions.extend(visible_user_ids.iter().cloned());
    }
    // Replying to someone mentions them.
    if let Some(r) = &targets.reply
        && r.user_id != author.id
    {
        mentions.push(r.user_id.clone());
    }
    Ok(References {
        mentions: dedup(mentions),
        visible_user_ids,
        tags: normalized_tags(&trees),
    })
}

/// Everything [`write`] stores.
pub struct Written {
    pub id: String,
    pub now: i64,
    pub input: CreateNote,
    pub poll: Option<ValidPoll>,
    pub targets: Targets,
    pub refs: References,
    pub flags: Flags,
}

/// Stores the note, its poll, mentions and audience, then what the moderation chain flagged.
pub async fn write(core: &Core, author: &User, w: Written) -> Result<Note> {
    let Written {
        id,
        now,
        input,
        poll,
        targets,
        refs,
        flags,
    } = w;
    let note = Note {
        id,
        user_id: author.id.clone(),
        user_host: author.host.clone(),
        text: input.text,
        cw: input.cw,
        visibility: input.visibility,
        local_only: input.local_only,
        reply_user_id: targets.reply.as_ref().map(|r| r.user_id.clone()),
        reply_id: targets.reply.map(|r| r.id),
        renote_user_id: targets.renote.as_ref().map(|r| r.user_id.clone()),
        renote_id: targets.renote.map(|r| r.id),
        has_poll: poll.is_some(),
        tags: refs.tags,
        mentions: refs.mentions,
        visible_user_ids: refs.visible_user_ids,
        replies_count: 0,
        renote_count: 0,
        uri: None,
        url: None,
        created_at: now,
        updated_at: None,
    };
    let new = NewNote {
        poll: poll.map(|p| Poll {
            note_id: note.id.clone(),
            choices: p.choices,
            multiple: p.multiple,
            expires_at: p.expires_at,
        }),
        note,
    };
    core.store().insert_note(&new).await?;
    for (plugin, reason) in &flags.0 {
        core.store()
            .add_flag(&ids::aidx(), &new.note.id, plugin, reason, ids::now_ms())
            .await?;
    }
    Ok(new.note)
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

pub fn validate_poll(p: PollInput, now: i64) -> Result<ValidPoll> {
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
    Ok(ValidPoll {
        choices: p.choices,
        multiple: p.multiple,
        expires_at,
    })
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
async fn resolve_mentions(core: &Core, trees: &[Vec<tsudoi_mfm::Node>]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for tree in trees {
        for (username, host, _) in tsudoi_mfm::mentions(tree) {
            let local = host
                .as_deref()
                .is_none_or(|h| core.settings().is_own_host(h));
            if !local {
                continue;
            }
            if let Some(u) = core.store().user_by_username(&username, None).await? {
                out.push(u.id);
            }
        }
    }
    Ok(dedup(out))
}

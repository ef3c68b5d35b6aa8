//! Making a note, in named steps: [`validate`] the input, [`resolve_targets`] (what it
//! replies to and renotes), [`narrow_visibility`] to what those allow, [`moderate`] it with
//! the plugin chain, [`extract`] what its text refers to, and [`write`] it. Inbound
//! federation runs the same steps on a remote note, after validating it its own way.

use std::collections::HashSet;

use tsudoi_model::{
    Event, FederationEvent, Job, Note, Poll, ReactionAcceptance, User, Visibility, ids,
};
use tsudoi_store::NewNote;

use super::visible_to;
use crate::moderation::{self, Flags};
use crate::{Core, Error, Interaction, Result, Settings, blocks, notifications};

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
    /// What others may react with; `None` accepts every reaction.
    pub reaction_acceptance: Option<ReactionAcceptance>,
    /// Files of the author's drive to show, in order.
    pub file_ids: Vec<String>,
}

/// A poll that passed validation.
#[derive(Debug)]
pub struct ValidPoll {
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
    /// A remote poll's votes per choice, as its server reports them.
    pub counts: Option<Vec<i64>>,
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
    /// Custom emoji names the note uses (of the author's server).
    pub emojis: Vec<String>,
    /// Whether any mentioned user is on another server (their server must get the note).
    pub mentions_remote: bool,
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
    let flags = moderate(core, author, &id, now, &mut input, &targets, None).await?;
    if input.text.is_none()
        && input.cw.is_none()
        && targets.renote.is_none()
        && poll.is_none()
        && input.file_ids.is_empty()
    {
        return Err(Error::EmptyNote);
    }
    check_files(core, author, &input.file_ids).await?;
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
            origin: None,
        },
    )
    .await
}

/// Longest text accepted from another server (Misskey's limit for remote notes): longer
/// than local notes may be, since other software has other limits, but bounded.
pub const REMOTE_TEXT_MAX: usize = 100_000;

/// A note another server sent, already mapped from ActivityPub: its author is the remote
/// user who signed for it, its targets and mentions resolved to stored notes and users.
#[derive(Debug)]
pub struct RemoteNote {
    pub origin: Origin,
    pub text: Option<String>,
    pub cw: Option<String>,
    pub visibility: Visibility,
    pub reply: Option<Note>,
    pub renote: Option<Note>,
    pub poll: Option<ValidPoll>,
    /// Users the note mentions, and for a specified note everyone it is addressed to.
    pub mentions: Vec<String>,
    pub visible_user_ids: Vec<String>,
    /// Custom emoji names it uses, as its `Emoji` tags list them (already recorded).
    pub emojis: Vec<String>,
    /// The files it shows (recorded with `drive::link_remote`), in order.
    pub file_ids: Vec<String>,
    /// When the author's server says it was posted.
    pub published: i64,
    /// The activity it arrived in, as JSON, for plugins granted `raw-activity`.
    pub raw_activity: Option<String>,
}

/// Stores a note that arrived from `author`'s server, after the moderation chain (which sees
/// it as incoming). Receiving the same note twice returns the one stored first.
///
/// Callers look the note up by its id first (most deliveries of a known note stop there
/// without a moderation call); this does not ask again, since every note would pay for the
/// read: two deliveries racing meet at the unique index on `uri`, and the second one returns
/// what the first stored.
pub async fn receive(core: &Core, author: &User, remote: RemoteNote) -> Result<Note> {
    check_text_fields(
        REMOTE_TEXT_MAX,
        remote.text.as_deref(),
        remote.cw.as_deref(),
    )?;
    // Notes are ordered by id; one dated in the future would stay on top of every timeline.
    let now = ids::now_ms();
    let published = remote.published.min(now);
    let mut input = CreateNote {
        text: remote.text.filter(|t| !t.trim().is_empty()),
        cw: remote.cw,
        visibility: remote.visibility,
        visible_user_ids: remote.visible_user_ids.clone(),
        local_only: false,
        reply_id: remote.reply.as_ref().map(|n| n.id.clone()),
        renote_id: remote.renote.as_ref().map(|n| n.id.clone()),
        poll: None,
        reaction_acceptance: None,
        file_ids: remote.file_ids,
    };
    let targets = Targets {
        reply: remote.reply,
        renote: remote.renote,
    };
    refuse_blocked_targets(core, author, &targets).await?;
    let id = ids::aidx_at(published);
    let flags = moderate(
        core,
        author,
        &id,
        published,
        &mut input,
        &targets,
        remote.raw_activity.as_deref(),
    )
    .await?;
    if input.text.is_none()
        && input.cw.is_none()
        && targets.renote.is_none()
        && remote.poll.is_none()
        && input.file_ids.is_empty()
    {
        return Err(Error::EmptyNote);
    }
    let mut trees = Vec::new();
    for source in [input.text.as_deref(), input.cw.as_deref()]
        .into_iter()
        .flatten()
    {
        trees.push(tsudoi_mfm::parse(source));
    }
    let mut mentions = remote.mentions;
    if let Some(r) = &targets.reply
        && r.user_id != author.id
    {
        mentions.push(r.user_id.clone());
    }
    let refs = References {
        mentions: dedup(mentions),
        visible_user_ids: dedup(remote.visible_user_ids),
        tags: normalized_tags(&trees),
        emojis: remote.emojis,
        mentions_remote: false,
    };
    let uri = remote.origin.uri.clone();
    match write(
        core,
        author,
        Written {
            id,
            now: published,
            input,
            poll: remote.poll,
            targets,
            refs,
            flags,
            origin: Some(remote.origin),
        },
    )
    .await
    {
        Ok(note) => Ok(note),
        // The same note delivered twice at once: the other delivery stored it.
        Err(Error::Store(e)) if e.is_unique_violation() => core
            .store()
            .note_by_uri(&uri)
            .await?
            .ok_or(Error::NoSuchNote),
        Err(e) => Err(e),
    }
}

/// Applies an edit a remote note's author made on their server: new text and CW, held to
/// the limits of received notes and seen by the moderation chain like a new note (a plugin
/// that rejects the edit keeps the note as it was).
pub async fn edit_remote(
    core: &Core,
    author: &User,
    note: &Note,
    text: Option<String>,
    cw: Option<String>,
    emojis: &[String],
    raw_activity: Option<&str>,
) -> Result<()> {
    check_text_fields(REMOTE_TEXT_MAX, text.as_deref(), cw.as_deref())?;
    let mut input = CreateNote {
        text: text.filter(|t| !t.trim().is_empty()),
        cw,
        visibility: note.visibility,
        visible_user_ids: note.visible_user_ids.clone(),
        local_only: false,
        reply_id: note.reply_id.clone(),
        renote_id: note.renote_id.clone(),
        poll: None,
        reaction_acceptance: None,
        file_ids: note.file_ids.clone(),
    };
    let targets = Targets::default();
    let now = ids::now_ms();
    moderate(
        core,
        author,
        &note.id,
        note.created_at,
        &mut input,
        &targets,
        raw_activity,
    )
    .await?;
    let trees: Vec<_> = [input.text.as_deref(), input.cw.as_deref()]
        .into_iter()
        .flatten()
        .map(tsudoi_mfm::parse)
        .collect();
    core.store()
        .edit_note(
            &note.id,
            input.text.as_deref(),
            input.cw.as_deref(),
            &normalized_tags(&trees),
            emojis,
            now,
        )
        .await?;
    Ok(())
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
    if input.text.is_none()
        && input.renote_id.is_none()
        && input.poll.is_none()
        && input.file_ids.is_empty()
    {
        return Err(Error::EmptyNote);
    }
    if input.file_ids.len() > MAX_FILES {
        return Err(Error::InvalidParam {
            param: "fileIds",
            reason: format!("at most {MAX_FILES} files"),
        });
    }
    let mut seen = std::collections::HashSet::new();
    if !input.file_ids.iter().all(|id| seen.insert(id)) {
        return Err(Error::InvalidParam {
            param: "fileIds",
            reason: "must not list a file twice".into(),
        });
    }
    Ok(())
}

/// How many files a note may show (Misskey's limit).
pub const MAX_FILES: usize = 16;

/// Every file a new note shows must be in its author's drive.
async fn check_files(core: &Core, author: &User, file_ids: &[String]) -> Result<()> {
    if file_ids.is_empty() {
        return Ok(());
    }
    let found = crate::drive::by_ids(core, file_ids).await?;
    if found.len() != file_ids.len() || found.iter().any(|f| f.user_id != author.id) {
        return Err(Error::NoSuchFile);
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
    let targets = Targets { reply, renote };
    refuse_blocked_targets(core, author, &targets).await?;
    Ok(targets)
}

/// Nobody replies to, renotes or quotes a note of someone who blocks them.
async fn refuse_blocked_targets(core: &Core, author: &User, targets: &Targets) -> Result<()> {
    let owners: Vec<&str> = [&targets.reply, &targets.renote]
        .into_iter()
        .flatten()
        .map(|n| n.user_id.as_str())
        .collect();
    blocks::refuse_if_blocked(core, author, &owners, Interaction::Note).await
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
    raw_activity: Option<&str>,
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
            raw_activity,
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
    let sources: Vec<&str> = [input.text.as_deref(), input.cw.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let (mut mentions, mentions_remote) = resolve_mentions(core, &sources, &trees).await?;
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
        emojis: emoji_names(&trees),
        mentions_remote,
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
    /// Where a remote note lives (its ActivityPub id and page); `None` for a local note.
    pub origin: Option<Origin>,
}

/// A remote note's ActivityPub id and the page it names.
#[derive(Debug, Clone)]
pub struct Origin {
    pub uri: String,
    pub url: Option<String>,
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
        origin,
    } = w;
    let federate = !input.local_only
        && author.is_local()
        && (refs.mentions_remote
            || [&targets.reply, &targets.renote]
                .into_iter()
                .flatten()
                .any(|t| t.user_host.is_some())
            || author.remote_followers_count > 0);
    let note = Note {
        id,
        user_id: author.id.clone(),
        user_host: author.host.clone(),
        text: input.text,
        cw: input.cw,
        visibility: input.visibility,
        local_only: input.local_only,
        reply_user_id: targets.reply.as_ref().map(|r| r.user_id.clone()),
        reply_id: targets.reply.as_ref().map(|r| r.id.clone()),
        renote_user_id: targets.renote.as_ref().map(|r| r.user_id.clone()),
        renote_id: targets.renote.as_ref().map(|r| r.id.clone()),
        has_poll: poll.is_some(),
        reaction_acceptance: input.reaction_acceptance,
        reaction_count: 0,
        emojis: refs.emojis,
        tags: refs.tags,
        mentions: refs.mentions,
        visible_user_ids: refs.visible_user_ids,
        file_ids: input.file_ids,
        replies_count: 0,
        renote_count: 0,
        uri: origin.as_ref().map(|o| o.uri.clone()),
        url: origin.and_then(|o| o.url),
        created_at: now,
        updated_at: None,
    };
    let new = NewNote {
        notifications: notifications::for_note(
            &note,
            targets.reply.as_ref(),
            targets.renote.as_ref(),
        ),
        jobs: federate
            .then(|| {
                Job::federate(FederationEvent::NoteCreated {
                    note_id: note.id.clone(),
                })
            })
            .into_iter()
            .collect(),
        poll: poll.map(|p| Poll {
            note_id: note.id.clone(),
            choices: p.choices,
            multiple: p.multiple,
            expires_at: p.expires_at,
            counts: p.counts,
        }),
        note,
    };
    core.store().insert_note(&new).await?;
    for (plugin, reason) in &flags.0 {
        core.store()
            .add_flag(&ids::aidx(), &new.note.id, plugin, reason, ids::now_ms())
            .await?;
    }
    core.publish(Event::NoteCreated {
        note_id: new.note.id.clone(),
        user_id: new.note.user_id.clone(),
    });
    notifications::publish(core, &new.notifications);
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
        counts: None,
    })
}

/// A hashtag as notes store it (and as it is looked up): NFKC-normalised, lower-cased.
pub fn normalize_hashtag(tag: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    tag.trim_start_matches('#')
        .nfkc()
        .collect::<String>()
        .to_lowercase()
}

/// The custom emoji `:name:` the trees use, each once (at most 64, as a bound on the tags a
/// note federates with).
fn emoji_names(trees: &[Vec<tsudoi_mfm::Node>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in trees.iter().flat_map(|t| tsudoi_mfm::emoji_codes(t)) {
        if !out.contains(&name) && out.len() < 64 {
            out.push(name);
        }
    }
    out
}

/// Hashtags as Misskey stores them: NFKC-normalised and lower-cased, at most 128 characters
/// each and 32 in all, without duplicates.
fn normalized_tags(trees: &[Vec<tsudoi_mfm::Node>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tree in trees {
        for tag in tsudoi_mfm::hashtags(tree) {
            let tag = normalize_hashtag(&tag);
            if tag.chars().count() <= 128 && !out.contains(&tag) && out.len() < 32 {
                out.push(tag);
            }
        }
    }
    out
}

/// Users mentioned in the note, and whether any of them is remote. Mentions of this
/// server's own host are local; a remote user is found if this server knows them already,
/// or else through their server (WebFinger).
async fn resolve_mentions(
    core: &Core,
    sources: &[&str],
    trees: &[Vec<tsudoi_mfm::Node>],
) -> Result<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut remote = false;
    for tree in trees {
        for (username, host, _) in tsudoi_mfm::mentions(tree) {
            let host = host
                .map(|h| with_port(sources, &username, &h))
                .filter(|h| !core.settings().is_own_host(h));
            let known = core
                .store()
                .user_by_username(&username, host.as_deref())
                .await?;
            let found = match (known, &host, core.remote_directory()) {
                (Some(u), _, _) => Some(u),
                (None, Some(h), Some(dir)) => dir.user_by_acct(&username, h).await,
                (None, _, _) => None,
            };
            if let Some(u) = found {
                remote |= !u.is_local();
                out.push(u.id);
            }
        }
    }
    Ok((dedup(out), remote))
}

/// MFM's mention syntax has no port (as mfm-js), but servers on other ports exist (and
/// every test server is one): `@user@host:8080` in the text means that port.
fn with_port(sources: &[&str], username: &str, host: &str) -> String {
    let mention = format!("@{username}@{host}:").to_lowercase();
    for source in sources {
        let lower = source.to_lowercase();
        if let Some(at) = lower.find(&mention) {
            let rest = &lower[at + mention.len()..];
            let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !port.is_empty() && port.len() <= 5 {
                return format!("{host}:{port}");
            }
        }
    }
    host.to_owned()
}

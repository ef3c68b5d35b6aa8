//! Notes: creating ([`create`]), reading one, deleting, renotes and polls, and loading what
//! showing a batch of notes to a viewer needs ([`present`]).

pub mod create;
mod present;

pub use create::{CreateNote, MENTION_LIMIT, PollInput, create};
pub use present::{PollState, Presented, ReactionState, present};

use std::collections::HashSet;

use tsudoi_model::{Event, FederationEvent, Job, Note, User, Visibility, ids, may_see};
use tsudoi_store::StoreError;

use crate::{Core, Error, Interaction, Result, blocks};

/// For each note, whether `viewer` may see it: the visibility rule applied to a batch. A
/// note carries its own audience; only whether the viewer follows the authors of others'
/// followers-only notes is looked up (in one query, and only when such a note is there).
pub async fn visible_to(core: &Core, notes: &[Note], viewer: Option<&str>) -> Result<Vec<bool>> {
    let mut followed: HashSet<String> = HashSet::new();
    if let Some(me) = viewer {
        let mut authors: Vec<String> = notes
            .iter()
            .filter(|n| {
                n.visibility == Visibility::Followers
                    && n.user_id != me
                    && !may_see(&n.audience(false), viewer)
            })
            .map(|n| n.user_id.clone())
            .collect();
        authors.sort();
        authors.dedup();
        if !authors.is_empty() {
            followed = core
                .store()
                .followed_among(me, &authors)
                .await?
                .into_iter()
                .collect();
        }
    }
    Ok(notes
        .iter()
        .map(|n| may_see(&n.audience(followed.contains(&n.user_id)), viewer))
        .collect())
}

/// A note `viewer` may see, or `NoSuchNote` (a hidden note is indistinguishable from a
/// missing one).
pub async fn show(core: &Core, id: &str, viewer: Option<&str>) -> Result<Note> {
    let note = core
        .store()
        .note_by_id(id)
        .await?
        .ok_or(Error::NoSuchNote)?;
    if !visible_to(core, std::slice::from_ref(&note), viewer).await?[0] {
        return Err(Error::NoSuchNote);
    }
    Ok(note)
}

/// How far up a reply chain `conversation` climbs, however many notes it skips.
const MAX_CONVERSATION: usize = 200;

/// The notes `id` replies to, nearest first, as far as `limit` notes the viewer may see
/// (Misskey's `notes/conversation`: `offset` skips the nearest ancestors). A gone ancestor
/// ends the chain; one the viewer may not see is left out.
pub async fn conversation(
    core: &Core,
    id: &str,
    viewer: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<Vec<Note>> {
    let note = view(core, id, viewer).await?;
    let mut out = Vec::new();
    let mut next = note.reply_id;
    let mut climbed = 0;
    while let Some(parent_id) = next.take() {
        if out.len() >= limit || climbed >= MAX_CONVERSATION {
            break;
        }
        climbed += 1;
        let Some(parent) = core.store().note_by_id(&parent_id).await? else {
            break;
        };
        next = parent.reply_id.clone();
        if climbed <= offset {
            continue;
        }
        match view(core, &parent.id, viewer).await {
            Ok(seen) => out.push(seen),
            Err(Error::NoSuchNote) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The notes among `ids` that `viewer` may see, ready to be shown (`notes/show-partial-bulk`
/// reads their reactions from it).
pub async fn present_visible(
    core: &Core,
    ids: &[String],
    viewer: Option<&str>,
) -> Result<Presented> {
    let found = core.store().notes_by_ids(ids).await?;
    let visible = visible_to(core, &found, viewer).await?;
    let notes: Vec<Note> = found
        .into_iter()
        .zip(visible)
        .filter_map(|(n, ok)| ok.then_some(n))
        .collect();
    present(core, notes.into(), viewer).await
}

/// A note as `viewer` looks at it (`notes/show`): as [`show`], and not there when the
/// viewer and its author, or the author of what it replies to or renotes, block each other
/// (listings hide it too). Acting on a note goes through [`show`], so that a block is
/// answered with its own error, and one's own notes stay one's own to delete.
pub async fn view(core: &Core, id: &str, viewer: Option<&str>) -> Result<Note> {
    let note = show(core, id, viewer).await?;
    if let Some(me) = viewer {
        let others: Vec<&str> = [
            Some(note.user_id.as_str()),
            note.reply_user_id.as_deref(),
            note.renote_user_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|id| *id != me)
        .collect();
        if core.store().blocked_either_way(me, &others).await? {
            return Err(Error::NoSuchNote);
        }
    }
    Ok(note)
}

/// Notes as an administrator reviews them (whoever they were for): those of `ids` that
/// still exist.
pub async fn for_review(core: &Core, ids: &[String]) -> Result<Vec<Note>> {
    Ok(core.store().notes_by_ids(ids).await?)
}

pub async fn delete(core: &Core, me: &User, id: &str) -> Result<()> {
    let note = show(core, id, Some(&me.id)).await?;
    if note.user_id != me.id && !me.is_admin {
        return Err(Error::AccessDenied);
    }
    remove(core, &note, &deletion_jobs(&note)).await
}

/// Deletes a remote note its author's server said is gone.
pub async fn delete_remote(core: &Core, note: &Note) -> Result<()> {
    remove(core, note, &[]).await
}

/// Deletes `note` with `jobs`, and tells the streams.
async fn remove(core: &Core, note: &Note, jobs: &[Job]) -> Result<()> {
    core.store().delete_note(note, jobs).await?;
    core.publish(Event::NoteDeleted {
        note_id: note.id.clone(),
        deleted_at: ids::now_ms(),
    });
    Ok(())
}

/// The Delete other servers must get when a local note goes: its author's followers had it
/// (unless it was for named users only), and so did everyone it mentioned or replied to.
fn deletion_jobs(note: &Note) -> Vec<Job> {
    if note.user_host.is_some() || note.local_only {
        return Vec::new();
    }
    let mut notified = note.mentions.clone();
    notified.extend(note.reply_user_id.iter().cloned());
    notified.extend(note.renote_user_id.iter().cloned());
    vec![Job::federate(FederationEvent::NoteDeleted {
        note_id: note.id.clone(),
        author_id: note.user_id.clone(),
        to_followers: note.visibility != Visibility::Specified,
        notified,
        pure_renote: note.is_pure_renote(),
    })]
}

/// Removes `me`'s pure renotes of a note.
pub async fn unrenote(core: &Core, me: &User, id: &str) -> Result<()> {
    let note = show(core, id, Some(&me.id)).await?;
    for renote in core.store().pure_renotes_by(&me.id, &note.id).await? {
        remove(core, &renote, &deletion_jobs(&renote)).await?;
    }
    Ok(())
}

pub async fn vote(core: &Core, me: &User, note_id: &str, choice: i64) -> Result<()> {
    let note = show(core, note_id, Some(&me.id)).await?;
    cast(core, me, &note, choice).await
}

/// A remote user's vote (a reply naming the choice, as Misskey and Mastodon send it) in a
/// poll of this server's. Votes on other servers' polls, closed polls, unknown choices and
/// second votes are ignored, as Misskey ignores them.
pub async fn vote_remote(core: &Core, voter: &User, note: &Note, choice_name: &str) -> Result<()> {
    if note.user_host.is_some()
        || !note.has_poll
        || !visible_to(core, std::slice::from_ref(note), Some(&voter.id)).await?[0]
    {
        return Ok(());
    }
    let Some(poll) = poll_of(core, note).await.ok() else {
        return Ok(());
    };
    let Some(choice) = poll.choices.iter().position(|c| c == choice_name) else {
        return Ok(());
    };
    match cast(core, voter, note, choice as i64).await {
        Ok(()) | Err(Error::AlreadyVoted | Error::PollEnded) => Ok(()),
        Err(e) => Err(e),
    }
}

/// What a remote poll's server now reports: the votes per choice and when it ends.
pub async fn update_remote_poll(
    core: &Core,
    note: &Note,
    counts: &[i64],
    expires_at: Option<i64>,
) -> Result<()> {
    if note.user_host.is_none() || !note.has_poll {
        return Ok(());
    }
    Ok(core
        .store()
        .set_poll_counts(&note.id, counts, expires_at)
        .await?)
}

async fn poll_of(core: &Core, note: &Note) -> Result<tsudoi_model::Poll> {
    core.store()
        .polls_by_note_ids(std::slice::from_ref(&note.id))
        .await?
        .pop()
        .ok_or(Error::NoPoll)
}

/// Records `voter`'s vote. Other servers hear of it: the poll's server when a local user
/// votes in a remote poll; the servers that have a local poll when a remote user votes in
/// it (Misskey sends the new counts then).
async fn cast(core: &Core, voter: &User, note: &Note, choice: i64) -> Result<()> {
    blocks::refuse_if_blocked(core, voter, &[&note.user_id], Interaction::Vote).await?;
    let poll = poll_of(core, note).await?;
    let now = ids::now_ms();
    if poll.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::PollEnded);
    }
    if choice < 0 || choice as usize >= poll.choices.len() {
        return Err(Error::InvalidChoice);
    }
    let id = ids::aidx_at(now);
    let event = match (voter.is_local(), note.user_host.is_some()) {
        (true, true) => Some(FederationEvent::Voted {
            vote_id: id.clone(),
            note_id: note.id.clone(),
            user_id: voter.id.clone(),
            choice,
        }),
        (false, false) => Some(FederationEvent::PollUpdated {
            note_id: note.id.clone(),
        }),
        _ => None,
    };
    let jobs: Vec<Job> = event.map(Job::federate).into_iter().collect();
    match core
        .store()
        .vote(&id, &note.id, &voter.id, choice, poll.multiple, now, &jobs)
        .await
    {
        Ok(()) => {
            core.publish(Event::PollVoted {
                note_id: note.id.clone(),
                user_id: voter.id.clone(),
                choice,
            });
            Ok(())
        }
        Err(StoreError::Conflict(_)) => Err(Error::AlreadyVoted),
        Err(e) if e.is_unique_violation() => Err(Error::AlreadyVoted),
        Err(e) => Err(e.into()),
    }
}

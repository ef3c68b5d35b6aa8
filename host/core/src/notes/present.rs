//! Everything showing a batch of notes to one viewer refers to (authors, the replies and
//! renotes they embed, polls with their tallies), loaded in a fixed number of queries
//! however many notes there are. The API shapes Misskey `Note`s from it; streaming and
//! federation will present notes the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tsudoi_model::{Author, ChoiceTally, Listing, Note, Poll};

use super::visible_to;
use crate::{Core, Result};

/// How deep embedded notes go: a renote's renote is shown too, so a renoted quote shows
/// what it quotes.
const EMBED_DEPTH: usize = 2;

/// A poll with its votes as the viewer sees them.
#[derive(Debug, Clone)]
pub struct PollState {
    pub poll: Poll,
    tallies: HashMap<i64, ChoiceTally>,
}

impl PollState {
    /// The votes on `choice`, and whether the viewer cast one.
    pub fn tally(&self, choice: usize) -> ChoiceTally {
        self.tallies
            .get(&(choice as i64))
            .copied()
            .unwrap_or_default()
    }
}

/// Notes ready to be shown to one viewer.
#[derive(Debug, Default)]
pub struct Presented {
    pub notes: Vec<Note>,
    authors: HashMap<String, Arc<Author>>,
    /// Replies and renotes the notes embed, only those the viewer may see.
    embedded: HashMap<String, Note>,
    polls: HashMap<String, PollState>,
}

impl Presented {
    pub fn author(&self, id: &str) -> Option<&Author> {
        self.authors.get(id).map(|a| &**a)
    }

    /// An embedded reply or renote, if it exists and the viewer may see it.
    pub fn embedded(&self, id: &str) -> Option<&Note> {
        self.embedded.get(id)
    }

    pub fn poll(&self, note_id: &str) -> Option<&PollState> {
        self.polls.get(note_id)
    }
}

/// Loads what the listed notes refer to, as `viewer` may see it. What the listing read
/// already (`referenced`) is not read again.
pub async fn present(core: &Core, listing: Listing, viewer: Option<&str>) -> Result<Presented> {
    let store = core.store();
    let Listing { notes, referenced } = listing;
    let mut read: HashMap<String, Note> =
        referenced.into_iter().map(|n| (n.id.clone(), n)).collect();
    let mut embedded: HashMap<String, Note> = HashMap::new();
    let mut frontier: Vec<&Note> = notes.iter().collect();
    for _ in 0..EMBED_DEPTH {
        let wanted: HashSet<String> = frontier
            .iter()
            .flat_map(|n| [n.reply_id.clone(), n.renote_id.clone()])
            .flatten()
            .filter(|id| !embedded.contains_key(id))
            .collect();
        if wanted.is_empty() {
            break;
        }
        let mut found = Vec::with_capacity(wanted.len());
        let mut unread = Vec::new();
        for id in wanted {
            match read.remove(&id) {
                Some(n) => found.push(n),
                None => unread.push(id),
            }
        }
        if !unread.is_empty() {
            found.extend(store.notes_by_ids(&unread).await?);
        }
        let visible = visible_to(core, &found, viewer).await?;
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
    let all: Vec<&Note> = notes.iter().chain(embedded.values()).collect();
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
    let authors = core.authors().get(store, &user_ids).await?;
    let mut polls: HashMap<String, PollState> = HashMap::new();
    if !poll_ids.is_empty() {
        for poll in store.polls_by_note_ids(&poll_ids).await? {
            polls.insert(
                poll.note_id.clone(),
                PollState {
                    poll,
                    tallies: HashMap::new(),
                },
            );
        }
        for (note, choice, tally) in store.poll_tallies(&poll_ids, viewer).await? {
            if let Some(p) = polls.get_mut(&note) {
                p.tallies.insert(choice, tally);
            }
        }
    }
    Ok(Presented {
        notes,
        authors,
        embedded,
        polls,
    })
}

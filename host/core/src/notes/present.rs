//! Everything showing a batch of notes to one viewer refers to (authors, the replies and
//! renotes they embed, polls with their tallies, reactions and the custom emoji they and the
//! notes use), loaded in a fixed number of queries
//! however many notes there are. The API shapes Misskey `Note`s from it; streaming and
//! federation will present notes the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tsudoi_model::{Author, ChoiceTally, Listing, Note, Poll};

use super::visible_to;
use crate::drive::{self, ShownFile};
use crate::media_proxy::{self, Variant};
use crate::{Core, Result, emojis, reactions};

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
    /// The votes on `choice`, and whether the viewer cast one. A remote poll's votes are
    /// what its server reports.
    pub fn tally(&self, choice: usize) -> ChoiceTally {
        let mut tally = self
            .tallies
            .get(&(choice as i64))
            .copied()
            .unwrap_or_default();
        if let Some(counts) = &self.poll.counts {
            tally.votes = counts.get(choice).copied().unwrap_or_default();
        }
        tally
    }
}

/// The reactions to a note as the viewer is shown them.
#[derive(Debug, Clone, Default)]
pub struct ReactionState {
    /// Each reaction as shown (`:name@.:` for this server's emoji), with how many gave it,
    /// most given first.
    pub counts: Vec<(String, i64)>,
    /// The viewer's own reaction, as shown.
    pub mine: Option<String>,
}

impl ReactionState {
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|(_, n)| n).sum()
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
    reactions: HashMap<String, ReactionState>,
    /// Whether a signed-in user is viewing (who has a `myReaction`).
    signed_in: bool,
    /// Image URLs of the other servers' custom emoji the notes and reactions use, by
    /// `(name, host)`.
    remote_emojis: HashMap<(String, String), String>,
    /// The drive files the notes show, by id.
    files: HashMap<String, ShownFile>,
}

impl Presented {
    pub fn author(&self, id: &str) -> Option<&Author> {
        self.authors.get(id).map(|a| &**a)
    }

    /// An embedded reply or renote, if it exists and the viewer may see it.
    pub fn embedded(&self, id: &str) -> Option<&Note> {
        self.embedded.get(id)
    }

    /// The files `note` shows that still exist, in its order.
    pub fn files(&self, note: &Note) -> Vec<&ShownFile> {
        note.file_ids
            .iter()
            .filter_map(|id| self.files.get(id))
            .collect()
    }

    pub fn poll(&self, note_id: &str) -> Option<&PollState> {
        self.polls.get(note_id)
    }

    pub fn signed_in(&self) -> bool {
        self.signed_in
    }

    /// The same notes as a signed-in viewer with nothing of their own in them is shown them
    /// (`myReaction` null): for notes presented to nobody in particular and then shown
    /// alike to every signed-in viewer (see `stream::StreamNote::shown_alike`).
    pub fn as_signed_in(mut self) -> Self {
        self.signed_in = true;
        self
    }

    pub fn reactions(&self, note_id: &str) -> Option<&ReactionState> {
        self.reactions.get(note_id)
    }

    /// The images of the other servers' emoji among a note's reactions, keyed `name@host`
    /// (Misskey's `reactionEmojis`).
    pub fn reaction_emojis(&self, note_id: &str) -> Vec<(String, &str)> {
        let Some(state) = self.reactions.get(note_id) else {
            return Vec::new();
        };
        state
            .counts
            .iter()
            .filter_map(|(shown, _)| match reactions::custom_emoji(shown) {
                Some((name, Some(host))) => self
                    .remote_emojis
                    .get(&(name.to_owned(), host.to_owned()))
                    .map(|url| (format!("{name}@{host}"), url.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The images of the custom emoji a remote note's text uses, by name (Misskey's
    /// `emojis`); `None` for a local note, whose emoji clients know from `emojis`.
    pub fn note_emojis<'a>(&'a self, note: &'a Note) -> Option<Vec<(&'a str, &'a str)>> {
        let host = note.user_host.as_ref()?;
        Some(
            note.emojis
                .iter()
                .filter_map(|name| {
                    self.remote_emojis
                        .get(&(name.clone(), host.clone()))
                        .map(|url| (name.as_str(), url.as_str()))
                })
                .collect(),
        )
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
    let file_ids: Vec<String> = all
        .iter()
        .flat_map(|n| n.file_ids.iter().cloned())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let files = store
        .drive_files_by_ids(&file_ids)
        .await?
        .into_iter()
        .map(|f| (f.id.clone(), drive::shown(core, f)))
        .collect();
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
    let reactions = load_reactions(core, &all, viewer).await?;
    let mut wanted: Vec<(String, String)> = Vec::new();
    for n in &all {
        if let Some(host) = &n.user_host {
            wanted.extend(n.emojis.iter().map(|name| (name.clone(), host.clone())));
        }
    }
    for state in reactions.values() {
        for (shown, _) in &state.counts {
            if let Some((name, Some(host))) = reactions::custom_emoji(shown) {
                wanted.push((name.to_owned(), host.to_owned()));
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    let remote_emojis = emojis::remote(core, &wanted)
        .await?
        .into_iter()
        // Other servers' emoji are shown through the media proxy, like their files.
        .filter_map(|e| {
            let url = media_proxy::url(core, &e.remote_url?, Variant::Emoji);
            Some(((e.name, e.host?), url))
        })
        .collect();
    Ok(Presented {
        notes,
        authors,
        embedded,
        polls,
        reactions,
        signed_in: viewer.is_some(),
        remote_emojis,
        files,
    })
}

/// The reactions to those of `notes` that have any, as `viewer` is shown them.
async fn load_reactions(
    core: &Core,
    notes: &[&Note],
    viewer: Option<&str>,
) -> Result<HashMap<String, ReactionState>> {
    let reacted: Vec<String> = notes
        .iter()
        .filter(|n| n.reaction_count > 0)
        .map(|n| n.id.clone())
        .collect();
    let mut out: HashMap<String, ReactionState> = HashMap::new();
    for tally in core.store().reaction_tallies(&reacted, viewer).await? {
        let state = out.entry(tally.note_id).or_default();
        let shown = reactions::shown(&tally.reaction);
        if tally.by_viewer {
            state.mine = Some(shown.clone());
        }
        // Legacy names and their emoji are one reaction.
        match state.counts.iter_mut().find(|(s, _)| *s == shown) {
            Some((_, n)) => *n += tally.count,
            None => state.counts.push((shown, tally.count)),
        }
    }
    for state in out.values_mut() {
        state
            .counts
            .sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
    }
    Ok(out)
}

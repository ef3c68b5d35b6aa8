//! What streaming needs from the rules. A node reads each new note once
//! ([`StreamNote::load`]); each connection keeps its viewer's relations ([`Viewer`]) and
//! decides note by note with the Rust twins of the rules the REST listings apply in SQL
//! (visibility, the listing's source and filter), so a timeline streams what it lists.

use std::collections::HashSet;

use tsudoi_model::{Exclusions, Note, NoteFilter, NoteSource, Visibility, ids, may_list};

use crate::word_mutes::WordFilter;
use crate::{Core, Result, emojis, reactions};

/// A signed-in viewer of a stream, with whom they follow and who blocks them, reloaded
/// when either changes.
#[derive(Debug, Clone)]
pub struct Viewer {
    id: String,
    following: HashSet<String>,
    hidden: Exclusions,
    /// The viewer's hard-muted words, if any.
    words: Option<WordFilter>,
}

impl Viewer {
    pub async fn load(core: &Core, user_id: &str) -> Result<Self> {
        let (following, hidden) = core.store().stream_relations(user_id).await?;
        // Read afresh (not from the timelines' copies): a stream reloads exactly when the
        // words changed, on whichever node.
        let words = WordFilter::new(&core.store().word_mutes(user_id).await?.hard);
        Ok(Viewer {
            id: user_id.to_owned(),
            following: following.into_iter().collect(),
            hidden,
            words: (!words.is_empty()).then_some(words),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn follows(&self, user_id: &str) -> bool {
        self.following.contains(user_id)
    }
}

/// A note as the streams weigh it: with the notes it replies to and renotes, if they exist.
#[derive(Debug, Clone)]
pub struct StreamNote {
    pub note: Note,
    pub reply: Option<Note>,
    pub renote: Option<Note>,
}

impl StreamNote {
    /// The note `note_id` with what it refers to, if it still exists.
    pub async fn load(core: &Core, note_id: &str) -> Result<Option<Self>> {
        let Some(note) = core.store().note_by_id(note_id).await? else {
            return Ok(None);
        };
        let wanted: Vec<String> = [&note.reply_id, &note.renote_id]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let mut referenced = if wanted.is_empty() {
            Vec::new()
        } else {
            core.store().notes_by_ids(&wanted).await?
        };
        let mut take = |id: &Option<String>| {
            let i = referenced.iter().position(|n| Some(&n.id) == id.as_ref())?;
            Some(referenced.swap_remove(i))
        };
        let reply = take(&note.reply_id);
        let renote = take(&note.renote_id);
        Ok(Some(StreamNote {
            reply,
            renote,
            note,
        }))
    }

    /// Whether `viewer` may see it: the visibility rule (for a pure renote, the renoted
    /// note's too, as listings apply it), less what the viewer's blocks and mutes hide.
    pub fn visible_to(&self, viewer: Option<&Viewer>) -> bool {
        let follows = |id: &str| viewer.is_some_and(|v| v.follows(id));
        if !may_list(
            &self.note,
            self.renote.as_ref(),
            viewer.map(Viewer::id),
            follows,
        ) {
            return false;
        }
        viewer.is_none_or(|v| {
            !v.hidden.hides(&self.note, ids::now_ms(), true)
                && !v
                    .words
                    .as_ref()
                    .is_some_and(|w| w.hides(&self.note, self.renote.as_ref(), &v.id))
        })
    }

    /// Whether a listing of `source` filtered by `filter` shows it to `viewer`.
    pub fn listed(
        &self,
        source: &NoteSource,
        filter: &NoteFilter,
        viewer: Option<&Viewer>,
    ) -> bool {
        let follows = |id: &str| viewer.is_some_and(|v| v.follows(id));
        source.admits(&self.note, follows)
            && filter.admits(
                &self.note,
                self.renote.as_ref(),
                viewer.map(Viewer::id),
                follows,
            )
            && self.visible_to(viewer)
    }

    /// Whether it is shown alike to every signed-in viewer who may see it, so a node packs
    /// it once: a note just posted has no reactions (nor votes in its poll) yet, and what
    /// it embeds must be public, with no reactions or poll (whose `myReaction`/`isVoted`
    /// depend on the viewer). Otherwise each connection presents it for its own viewer.
    pub fn shown_alike(&self) -> bool {
        // A reference that is gone is shown as gone to everyone.
        let plain = |n: &Option<Note>| {
            n.as_ref().is_none_or(|n| {
                matches!(n.visibility, Visibility::Public | Visibility::Home)
                    && n.reaction_count == 0
                    && !n.has_poll
            })
        };
        self.note.reaction_count == 0 && plain(&self.reply) && plain(&self.renote)
    }
}

/// A reaction's custom emoji as `noteUpdated` names it (`name@host`, `name@.` for this
/// server's) with its image, or `None` for a Unicode emoji or an unknown one.
pub async fn reaction_emoji(core: &Core, stored: &str) -> Result<Option<(String, String)>> {
    let Some((name, host)) = reactions::custom_emoji(stored) else {
        return Ok(None);
    };
    Ok(match host {
        None => emojis::local(core)
            .await?
            .get(name)
            .map(|e| (format!("{name}@."), e.url(core.settings().base_url()))),
        Some(host) => emojis::remote(core, &[(name.to_owned(), host.to_owned())])
            .await?
            .into_iter()
            .next()
            .map(|e| (format!("{name}@{host}"), e.url(core.settings().base_url()))),
    })
}

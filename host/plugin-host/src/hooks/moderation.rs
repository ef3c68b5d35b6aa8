//! Moderation plugins: asked about each note before it is stored.

use std::sync::Arc;

use wasmtime::component::Resource;

use crate::plugin::Plugin;
use crate::sandbox::call_error;
use crate::wit::{since_v0_1_0, versioned_world};
use crate::{CallError, Kind};

pub use crate::wit::latest::moderation::exports::tsudoi::plugin::moderation::Verdict;
pub use crate::wit::latest::types::{
    Actor, Attachment, Direction, Link, Note, PluginError, Visibility,
};

versioned_world!(
    /// A moderation filter, by the WIT version it was built against.
    ModerationFilter, ModerationFilterPre, Kind::Moderation, {
        V0_1_0 => since_v0_1_0::ModerationFilter,
    }
);

/// The activity a note arrives with, as moderation plugins may ask about it.
#[derive(Debug, Clone)]
pub struct Context {
    pub direction: Direction,
    /// ActivityStreams type: Create, Update, Announce, …
    pub activity_type: String,
    /// Host of the sending server (incoming) or of the target inbox (outgoing).
    pub peer_host: Option<String>,
    pub actor: Actor,
    /// Given only to plugins granted `raw-activity`.
    pub raw_activity: Option<String>,
}

/// What a plugin's `activity` handle stands for during a call: shared, not copied, so a
/// chain of plugins costs no copy of the context per plugin.
pub struct Activity(pub(crate) Arc<Context>);

/// What a plugin's `note-view` handle stands for during a call.
pub struct NoteView(pub(crate) Arc<NoteUnderReview>);

/// A note as a moderation plugin's `note-view` shows it: the `note` record, and what the
/// host derived from the text beyond it. (Links are a getter of their own, not a field of
/// `note`: a record is matched by shape, and 0.1.0 plugins were built against this one.)
#[derive(Debug, Clone)]
pub struct NoteUnderReview {
    pub note: Note,
    pub links: Vec<Link>,
}

/// A note as moderation plugins see it. [`NoteFacts::review`] adds what the MFM of the text
/// refers to (mentions, hashtags, custom emoji, links), so every caller fills those in the
/// same way.
#[derive(Debug, Clone, Copy)]
pub struct NoteFacts<'a> {
    pub id: &'a str,
    pub author_id: &'a str,
    pub text: Option<&'a str>,
    pub cw: Option<&'a str>,
    pub visibility: tsudoi_model::Visibility,
    pub local_only: bool,
    pub reply_to: Option<&'a str>,
    pub renote_of: Option<&'a str>,
    pub created_at: i64,
}

impl<'a> NoteFacts<'a> {
    /// A public note of only `text`, posted at the epoch: what tests and benchmarks ask
    /// plugins about.
    pub fn public_text(id: &'a str, author_id: &'a str, text: &'a str) -> Self {
        Self {
            id,
            author_id,
            text: Some(text),
            cw: None,
            visibility: tsudoi_model::Visibility::Public,
            local_only: false,
            reply_to: None,
            renote_of: None,
            created_at: 0,
        }
    }

    pub fn review(&self) -> NoteUnderReview {
        let tree = tsudoi_mfm::parse(self.text.unwrap_or_default());
        let note = Note {
            id: self.id.to_owned(),
            uri: None,
            author_id: self.author_id.to_owned(),
            text: self.text.map(str::to_owned),
            content_warning: self.cw.map(str::to_owned),
            visibility: self.visibility.into(),
            local_only: self.local_only,
            reply_to: self.reply_to.map(str::to_owned),
            renote_of: self.renote_of.map(str::to_owned),
            mentions: tsudoi_mfm::mentions(&tree)
                .into_iter()
                .map(|(_, _, acct)| acct)
                .collect(),
            hashtags: tsudoi_mfm::hashtags(&tree),
            emojis: tsudoi_mfm::emoji_codes(&tree),
            attachments: vec![],
            lang: None,
            created_at: self.created_at,
        };
        let links = tsudoi_mfm::urls(&tree).into_iter().map(link).collect();
        NoteUnderReview { note, links }
    }
}

/// A URL of a note's text with its host as a filter compares it: lowercased, in ASCII
/// (punycode) form, without port, as a browser following the link would resolve it. Empty
/// for a URL no browser could follow.
fn link(url: String) -> Link {
    let host = url::Url::parse(&url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_end_matches('.').to_owned()))
        .unwrap_or_default();
    Link { url, host }
}

/// The author as moderation plugins see them.
pub fn actor(u: &tsudoi_model::User) -> Actor {
    let clamp = |n: i64| n.clamp(0, u32::MAX as i64) as u32;
    Actor {
        id: u.id.clone(),
        username: u.username.clone(),
        host: u.host.clone(),
        display_name: u.name.clone(),
        is_bot: u.is_bot,
        is_locked: u.is_locked,
        created_at: u.created_at,
        followers_count: clamp(u.followers_count),
        following_count: clamp(u.following_count),
        notes_count: clamp(u.notes_count),
    }
}

/// The context of an incoming `Create` by a local account with no history, for running a
/// plugin outside a server (`tsudoi plugin test`, tests).
pub fn offline_context(actor_id: &str, username: &str) -> Arc<Context> {
    Arc::new(Context {
        direction: Direction::Incoming,
        activity_type: "Create".into(),
        peer_host: None,
        actor: Actor {
            id: actor_id.to_owned(),
            username: username.to_owned(),
            host: None,
            display_name: None,
            is_bot: false,
            is_locked: false,
            created_at: 0,
            followers_count: 0,
            following_count: 0,
            notes_count: 0,
        },
        raw_activity: None,
    })
}

/// A loaded moderation plugin.
pub type ModerationPlugin = Plugin<ModerationFilter>;

impl Plugin<ModerationFilter> {
    /// Asks the plugin about a note. Blocks: call it from a blocking thread. The raw
    /// activity reaches the plugin only if it was granted `raw-activity`.
    pub fn check_note(
        &self,
        ctx: &Arc<Context>,
        note: &Arc<NoteUnderReview>,
    ) -> Result<Verdict, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            // The plugin borrows both handles for the call; the host drops them after it.
            let table = &mut store.data_mut().table;
            let activity = table.push(Activity(ctx.clone())).map_err(handle_error)?;
            let view = table.push(NoteView(note.clone())).map_err(handle_error)?;
            let (activity_rep, view_rep) = (activity.rep(), view.rep());
            let result = match instance {
                ModerationFilter::V0_1_0(w) => w.tsudoi_plugin_moderation().call_check_note(
                    &mut *store,
                    Resource::new_borrow(activity_rep),
                    Resource::new_borrow(view_rep),
                ),
            };
            let table = &mut store.data_mut().table;
            let released = table.delete(activity).is_ok() & table.delete(view).is_ok();
            // What the call did comes first (a timeout stays a timeout); a call that left
            // the handles unreleasable fails, and its instance is thrown away.
            let verdict = result
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(since_v0_1_0::plugin_error(&e)))?;
            if !released {
                return Err(CallError::Trap(
                    "the plugin's handles to the note could not be released".into(),
                ));
            }
            // Reasons go to the author, the log and the review queue: one line, bounded. (A
            // rewritten note is held to the rules of client input by the server.)
            Ok(match verdict {
                Verdict::Reject(reason) => Verdict::Reject(crate::one_line(&reason)),
                Verdict::Flag(reason) => Verdict::Flag(crate::one_line(&reason)),
                other => other,
            })
        })
    }
}

impl Plugin<ModerationFilter> {
    /// Asks the plugin about an activity that carries no note (a Follow, a Like, an
    /// Announce, an Undo, a Delete …), `object_id` being what it acts on. Blocks: call it
    /// from a blocking thread. A plugin may accept, reject or flag it; a rewrite means
    /// nothing for an activity and is taken as acceptance.
    pub fn check_activity(
        &self,
        ctx: &Arc<Context>,
        object_id: Option<&str>,
    ) -> Result<Verdict, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            let table = &mut store.data_mut().table;
            let activity = table.push(Activity(ctx.clone())).map_err(handle_error)?;
            let activity_rep = activity.rep();
            let result = match instance {
                ModerationFilter::V0_1_0(w) => w.tsudoi_plugin_moderation().call_check_activity(
                    &mut *store,
                    Resource::new_borrow(activity_rep),
                    object_id,
                ),
            };
            let released = store.data_mut().table.delete(activity).is_ok();
            let verdict = result
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(since_v0_1_0::plugin_error(&e)))?;
            if !released {
                return Err(CallError::Trap(
                    "the plugin's handle to the activity could not be released".into(),
                ));
            }
            Ok(match verdict {
                Verdict::Reject(reason) => Verdict::Reject(crate::one_line(&reason)),
                Verdict::Flag(reason) => Verdict::Flag(crate::one_line(&reason)),
                Verdict::Rewrite(_) | Verdict::Accept => Verdict::Accept,
            })
        })
    }
}

fn handle_error(e: wasmtime::component::ResourceTableError) -> CallError {
    CallError::Trap(format!("the plugin's handle table: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<(String, String)> {
        NoteFacts::public_text("n", "a", text)
            .review()
            .links
            .into_iter()
            .map(|l| (l.url, l.host))
            .collect()
    }

    #[test]
    fn links_carry_the_host_a_browser_would_reach() {
        let found = links(
            "see https://Spam.EXAMPLE:8443/a?b and [google.com](https://evil.example./x) \
             <https://例え.jp/> and `https://in.code/` again https://Spam.EXAMPLE:8443/a?b",
        );
        assert_eq!(
            found,
            [
                ("https://Spam.EXAMPLE:8443/a?b", "spam.example"),
                ("https://evil.example./x", "evil.example"),
                ("https://例え.jp/", "xn--r8jz45g.jp"),
            ]
            .map(|(u, h)| (u.to_owned(), h.to_owned()))
        );
    }

    #[test]
    fn a_note_without_links_has_none() {
        assert!(links("no links, only example.com and @a@b.example").is_empty());
    }
}

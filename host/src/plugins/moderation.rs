//! Moderation plugins: asked about each note before it is stored.

use std::sync::Arc;

use wasmtime::component::Resource;

use super::instance::{Kind, Plugin};
use super::{CallError, HostState, call_error, host_imports};

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "moderation-filter",
    with: {
        "tsudoi:plugin/log": host_imports::log,
        "tsudoi:plugin/kv": host_imports::kv,
        "tsudoi:plugin/http": host_imports::http,
        "tsudoi:plugin/review.activity": Activity,
        "tsudoi:plugin/review.note-view": NoteView,
    },
    imports: { default: trappable },
});

use self::tsudoi::plugin::review;
pub use self::tsudoi::plugin::types::{
    Actor, Attachment, Direction, Note, PluginError, Visibility,
};
pub use exports::tsudoi::plugin::moderation::Verdict;

impl self::tsudoi::plugin::types::Host for HostState {}

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
pub struct Activity(Arc<Context>);

/// What a plugin's `note-view` handle stands for during a call.
pub struct NoteView(Arc<Note>);

impl review::Host for HostState {}

impl HostState {
    fn activity(&self, handle: &Resource<Activity>) -> wasmtime::Result<&Context> {
        Ok(&self.table.get(handle)?.0)
    }

    fn note(&self, handle: &Resource<NoteView>) -> wasmtime::Result<&Note> {
        Ok(&self.table.get(handle)?.0)
    }
}

impl review::HostActivity for HostState {
    fn direction(&mut self, a: Resource<Activity>) -> wasmtime::Result<Direction> {
        Ok(self.activity(&a)?.direction)
    }
    fn activity_type(&mut self, a: Resource<Activity>) -> wasmtime::Result<String> {
        Ok(self.activity(&a)?.activity_type.clone())
    }
    fn peer_host(&mut self, a: Resource<Activity>) -> wasmtime::Result<Option<String>> {
        Ok(self.activity(&a)?.peer_host.clone())
    }
    fn actor(&mut self, a: Resource<Activity>) -> wasmtime::Result<Actor> {
        Ok(self.activity(&a)?.actor.clone())
    }
    fn raw_activity(&mut self, a: Resource<Activity>) -> wasmtime::Result<Option<String>> {
        if !self.capabilities.raw_activity {
            return Ok(None);
        }
        Ok(self.activity(&a)?.raw_activity.clone())
    }
    fn drop(&mut self, a: Resource<Activity>) -> wasmtime::Result<()> {
        self.table.delete(a)?;
        Ok(())
    }
}

impl review::HostNoteView for HostState {
    fn id(&mut self, n: Resource<NoteView>) -> wasmtime::Result<String> {
        Ok(self.note(&n)?.id.clone())
    }
    fn uri(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.uri.clone())
    }
    fn author_id(&mut self, n: Resource<NoteView>) -> wasmtime::Result<String> {
        Ok(self.note(&n)?.author_id.clone())
    }
    fn text(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.text.clone())
    }
    fn content_warning(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.content_warning.clone())
    }
    fn visibility(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Visibility> {
        Ok(self.note(&n)?.visibility)
    }
    fn local_only(&mut self, n: Resource<NoteView>) -> wasmtime::Result<bool> {
        Ok(self.note(&n)?.local_only)
    }
    fn reply_to(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.reply_to.clone())
    }
    fn renote_of(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.renote_of.clone())
    }
    fn mentions(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.mentions.clone())
    }
    fn hashtags(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.hashtags.clone())
    }
    fn emojis(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.emojis.clone())
    }
    fn attachments(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<Attachment>> {
        Ok(self.note(&n)?.attachments.clone())
    }
    fn lang(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.lang.clone())
    }
    fn created_at(&mut self, n: Resource<NoteView>) -> wasmtime::Result<i64> {
        Ok(self.note(&n)?.created_at)
    }
    fn to_note(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Note> {
        Ok(self.note(&n)?.clone())
    }
    fn drop(&mut self, n: Resource<NoteView>) -> wasmtime::Result<()> {
        self.table.delete(n)?;
        Ok(())
    }
}

/// A note as moderation plugins see it. [`NoteFacts::to_note`] adds what the MFM of the text
/// refers to (mentions, hashtags, custom emoji), so every caller fills those in the same way.
#[derive(Debug, Clone, Copy)]
pub struct NoteFacts<'a> {
    pub id: &'a str,
    pub author_id: &'a str,
    pub text: Option<&'a str>,
    pub cw: Option<&'a str>,
    pub visibility: Visibility,
    pub local_only: bool,
    pub reply_to: Option<&'a str>,
    pub renote_of: Option<&'a str>,
    pub created_at: i64,
}

impl NoteFacts<'_> {
    pub fn to_note(&self) -> Note {
        let tree = tsudoi_mfm::parse(self.text.unwrap_or_default());
        Note {
            id: self.id.to_owned(),
            uri: None,
            author_id: self.author_id.to_owned(),
            text: self.text.map(str::to_owned),
            content_warning: self.cw.map(str::to_owned),
            visibility: self.visibility,
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
        }
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

super::instance::impl_world!(ModerationFilter, ModerationFilterPre, Kind::Moderation);

impl Plugin<ModerationFilter> {
    /// Asks the plugin about a note. Blocks: call it from a blocking thread. The raw
    /// activity reaches the plugin only if it was granted `raw-activity`.
    pub fn check_note(&self, ctx: &Arc<Context>, note: &Arc<Note>) -> Result<Verdict, CallError> {
        let deadline = self.deadline;
        self.with_instance(|store, instance| {
            // The plugin borrows both handles for the call; the host drops them after it.
            let table = &mut store.data_mut().table;
            let activity = table.push(Activity(ctx.clone())).map_err(handle_error)?;
            let view = table.push(NoteView(note.clone())).map_err(handle_error)?;
            let (activity_rep, view_rep) = (activity.rep(), view.rep());
            let result = instance.tsudoi_plugin_moderation().call_check_note(
                &mut *store,
                Resource::new_borrow(activity_rep),
                Resource::new_borrow(view_rep),
            );
            let table = &mut store.data_mut().table;
            let released = table.delete(activity).is_ok() & table.delete(view).is_ok();
            // What the call did comes first (a timeout stays a timeout); a call that left
            // the handles unreleasable fails, and its instance is thrown away.
            let verdict = result
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(plugin_error(&e)))?;
            if !released {
                return Err(CallError::Trap(
                    "the plugin's handles to the note could not be released".into(),
                ));
            }
            Ok(verdict)
        })
    }
}

fn handle_error(e: wasmtime::component::ResourceTableError) -> CallError {
    CallError::Trap(format!("the plugin's handle table: {e}"))
}

pub(crate) fn plugin_error(e: &PluginError) -> String {
    match e {
        PluginError::Config(m) => format!("configuration: {m}"),
        PluginError::Transient(m) => format!("transient: {m}"),
        PluginError::Other(m) => m.clone(),
    }
}

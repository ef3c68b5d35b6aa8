//! Moderation plugins: asked about each note before it is stored.

use super::instance::{Kind, Plugin};
use super::{CallError, call_error, host_imports};

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "moderation-filter",
    with: {
        "tsudoi:plugin/log": host_imports::log,
        "tsudoi:plugin/kv": host_imports::kv,
        "tsudoi:plugin/http": host_imports::http,
    },
    imports: { default: trappable },
});

pub use self::tsudoi::plugin::types::{
    Actor, Attachment, Direction, Note, PluginError, Visibility,
};
pub use exports::tsudoi::plugin::moderation::{Context, Verdict};

impl self::tsudoi::plugin::types::Host for super::HostState {}

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
pub fn offline_context(actor_id: &str, username: &str) -> Context {
    Context {
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
    }
}

/// A loaded moderation plugin.
pub type ModerationPlugin = Plugin<ModerationFilter>;

super::instance::impl_world!(ModerationFilter, ModerationFilterPre, Kind::Moderation);

impl Plugin<ModerationFilter> {
    /// Asks the plugin about a note. Blocks: call it from a blocking thread. The raw
    /// activity reaches the plugin only if it was granted `raw-activity`.
    pub fn check_note(&self, ctx: &Context, note: &Note) -> Result<Verdict, CallError> {
        let deadline = self.deadline;
        let stripped;
        let ctx = if ctx.raw_activity.is_some() && !self.capabilities.raw_activity {
            stripped = Context {
                raw_activity: None,
                ..ctx.clone()
            };
            &stripped
        } else {
            ctx
        };
        self.with_instance(|store, instance| {
            instance
                .tsudoi_plugin_moderation()
                .call_check_note(store, ctx, note)
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(plugin_error(&e)))
        })
    }
}

pub(crate) fn plugin_error(e: &PluginError) -> String {
    match e {
        PluginError::Config(m) => format!("configuration: {m}"),
        PluginError::Transient(m) => format!("transient: {m}"),
        PluginError::Other(m) => m.clone(),
    }
}

//! Moderation plugins: compiled once, instantiated a few times, then asked about each note.
//! A call reuses a warm instance when one is free; an instance that trapped or timed out is
//! thrown away, so a failure leaves nothing behind.

use std::sync::Arc;
use std::time::Duration;

use super::host_imports;
use super::{CallError, LoadError, call_error, compile, linker, store};

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

/// Consecutive failed calls after which a plugin is disabled (and the admin told): a broken
/// plugin should not keep flagging or rejecting every note.
pub const FAILURES_BEFORE_DISABLE: u32 = 5;

/// Default deadline for one moderation call.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(50);

/// Warm instances kept per plugin: enough for the blocking threads that call at once.
const MAX_WARM: usize = 4;

/// An instance that answered its last call normally and can answer the next.
struct Warm {
    store: wasmtime::Store<super::HostState>,
    instance: ModerationFilter,
}

/// A compiled moderation plugin, ready to instantiate.
pub struct ModerationPlugin {
    pub name: Arc<str>,
    pub version: String,
    pre: ModerationFilterPre<super::HostState>,
    config: Option<String>,
    pub deadline: Duration,
    /// Failed calls since the last one that succeeded; the hook disables the plugin when it
    /// reaches [`FAILURES_BEFORE_DISABLE`].
    pub failures_in_a_row: std::sync::atomic::AtomicU32,
    /// Instances are reused across calls (the plugin keeps its state, as in any long-running
    /// server); one that trapped or ran out of time is dropped, as wasmtime requires.
    warm: std::sync::Mutex<Vec<Warm>>,
}

impl ModerationPlugin {
    /// Compiles `wasm`, checks its WIT version and kind, and asks it who it is (and, with a
    /// configuration, whether it accepts it).
    /// Compiled code is cached in `cache` when given.
    pub fn load(
        wasm: &[u8],
        config: Option<String>,
        cache: Option<&std::path::Path>,
    ) -> Result<Self, LoadError> {
        let component = compile(wasm, "moderation", "moderation", cache)?;
        let mut linker = linker()?;
        // The shared types travel in an interface of their own that the component imports.
        self::tsudoi::plugin::types::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = ModerationFilterPre::new(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let mut plugin = Self {
            name: Arc::from("(loading)"),
            version: String::new(),
            pre,
            config,
            deadline: DEFAULT_DEADLINE,
            failures_in_a_row: Default::default(),
            warm: Default::default(),
        };
        let info = plugin.with_instance(Duration::from_secs(5), |store, instance| {
            instance
                .tsudoi_plugin_meta()
                .call_info(store)
                .map_err(|e| call_error(e, Duration::from_secs(5)))
        });
        let info = info.map_err(|e| LoadError::Start(e.to_string()))?;
        plugin.name = Arc::from(info.name.as_str());
        plugin.version = info.version;
        // The instance that answered `info` is kept warm; it now logs under the real name.
        for w in plugin
            .warm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            w.store.data_mut().plugin = plugin.name.clone();
        }
        Ok(plugin)
    }

    /// Runs `f` on a warm instance, or on a new one (instantiated and configured).
    fn with_instance<T>(
        &self,
        deadline: Duration,
        f: impl FnOnce(
            &mut wasmtime::Store<super::HostState>,
            &ModerationFilter,
        ) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let pooled = self.warm.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut warm = match pooled {
            Some(mut w) => {
                super::set_deadline(&mut w.store, deadline);
                w
            }
            None => self.fresh(deadline)?,
        };
        let result = f(&mut warm.store, &warm.instance);
        // After a trap or a timeout the instance cannot be entered again: drop it.
        if !matches!(result, Err(CallError::Trap(_)) | Err(CallError::Timeout(_))) {
            let mut pool = self.warm.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < MAX_WARM {
                pool.push(warm);
            }
        }
        result
    }

    fn fresh(&self, deadline: Duration) -> Result<Warm, CallError> {
        let mut store = store(&self.name, deadline);
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| call_error(e, deadline))?;
        if let Some(config) = &self.config {
            instance
                .tsudoi_plugin_meta()
                .call_configure(&mut store, config)
                .map_err(|e| call_error(e, deadline))?
                .map_err(CallError::Config)?;
        }
        Ok(Warm { store, instance })
    }

    /// Asks the plugin about a note. Blocks: call it from a blocking thread.
    pub fn check_note(&self, ctx: &Context, note: &Note) -> Result<Verdict, CallError> {
        let deadline = self.deadline;
        self.with_instance(deadline, |store, instance| {
            instance
                .tsudoi_plugin_moderation()
                .call_check_note(store, ctx, note)
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(plugin_error(&e)))
        })
    }
}

fn plugin_error(e: &PluginError) -> String {
    match e {
        PluginError::Config(m) => format!("configuration: {m}"),
        PluginError::Transient(m) => format!("transient: {m}"),
        PluginError::Other(m) => m.clone(),
    }
}

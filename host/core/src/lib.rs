//! The rules of the server, free of HTTP: accounts, apps, notes, follows, timelines, and the
//! plugins that moderate, rank and render. Everything reaches the store through here; the
//! API, the shell and (later) federation call these functions and shape what they return.
//!
//! [`Core`] is the narrow context they share: the store, the settings the rules read, the
//! running plugins, the rate limits and the authors kept at hand. It is built once per
//! process and cheap to clone.

pub mod accounts;
pub mod achievements;
pub mod admin;
pub mod apps;
mod authors;
pub mod blocks;
pub mod charts;
pub mod drive;
pub mod emojis;
pub mod favorites;
pub mod follows;
mod fresh;
pub mod host_policy;
pub mod limits;
pub mod media_proxy;
pub mod moderation;
pub mod mutes;
pub mod node_sync;
pub mod notes;
pub mod notifications;
pub mod plugins;
pub mod reactions;
pub mod registry;
pub mod render;
pub mod search;
pub mod stream;
pub mod timelines;
pub mod user_lists;
pub mod users;
pub mod word_mutes;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tsudoi_model::{Deadlines, Event, RegistrationMode, User};
use tsudoi_store::{Store, StoreError};

pub use tsudoi_model as model;

/// The public origin of this server, with the two forms links are made from worked out once
/// (every note shown builds links from them).
#[derive(Debug, Clone)]
pub struct PublicUrl {
    base_url: String,
    host: String,
}

impl PublicUrl {
    pub fn new(url: &url::Url) -> Self {
        let name = url.host_str().unwrap_or_default();
        PublicUrl {
            base_url: url.as_str().trim_end_matches('/').to_owned(),
            host: match url.port() {
                Some(port) => format!("{name}:{port}"),
                None => name.to_owned(),
            },
        }
    }
}

/// What the rules need to know about this instance (the part of the configuration they read).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public origin, used in ids and links.
    pub url: PublicUrl,
    /// Instance name shown by `meta` and NodeInfo.
    pub instance_name: String,
    pub instance_description: Option<String>,
    pub registration: RegistrationMode,
    /// Maximum length of a note's text in characters (Misskey's default is 3000).
    pub max_note_length: usize,
    /// How long each plugin hook may take per call.
    pub plugin_deadlines: Deadlines,
    /// Bytes each plugin may keep in its key-value store.
    pub plugin_kv_quota_bytes: i64,
    /// Where compiled plugin code is cached (shared by the shell, which compiles on install,
    /// and the server, which then starts without compiling).
    pub plugin_cache: PathBuf,
    /// What uploads may be and how much each user may keep.
    pub drive: drive::DrivePolicy,
    /// Whether notes and users may be searched.
    pub search: search::SearchPolicy,
}

impl Settings {
    /// The public origin as a string without a trailing slash, e.g. `https://example.com`.
    pub fn base_url(&self) -> &str {
        &self.url.base_url
    }

    /// The host part of the public URL, as it appears in `@user@host`.
    pub fn host(&self) -> &str {
        &self.url.host
    }

    /// Whether `host` (as a client sends it) names this server.
    pub fn is_own_host(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(self.host())
    }
}

/// Finds users of other servers by `@name@host` (WebFinger, then their actor), for the
/// mentions of a new note. The federation layer provides it once it is built: it depends on
/// the core, so the core reaches it only through this.
pub trait RemoteDirectory: Send + Sync {
    /// The user, stored once found; `None` if their server does not know them or cannot be
    /// reached.
    fn user_by_acct<'a>(
        &'a self,
        username: &'a str,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<User>> + Send + 'a>>;
}

/// The context every rule runs in. Cheap to clone.
#[derive(Clone)]
pub struct Core(Arc<Inner>);

struct Inner {
    store: Store,
    settings: Settings,
    plugins: plugins::Runtime,
    limits: limits::Limiter,
    authors: authors::Authors,
    remote: OnceLock<Arc<dyn RemoteDirectory>>,
    host_policy: fresh::Fresh<tsudoi_model::HostPolicy>,
    local_emojis: fresh::Fresh<emojis::LocalEmojis>,
    trends: fresh::Fresh<Vec<search::Trend>>,
    http: tsudoi_net::GuardedClient,
    bus: tsudoi_bus::Bus,
    blobs: tsudoi_media::blobs::Blobs,
    /// Decoding and encoding pictures is CPU work: at most one per core at a time, so a burst
    /// of uploads queues instead of holding every picture in memory at once.
    media_slots: tokio::sync::Semaphore,
    word_filters: word_mutes::WordFilters,
}

impl Core {
    /// The core over `store`, whose plugins' `http` goes through `http`, whose events go
    /// out on `bus` and whose files' bytes are kept in `blobs`. Plugins are not loaded until
    /// [`Core::refresh_plugins`] is called.
    pub fn new(
        settings: Settings,
        store: Store,
        http: tsudoi_net::GuardedClient,
        bus: tsudoi_bus::Bus,
        blobs: tsudoi_media::blobs::Blobs,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let plugins = plugins::Runtime::new(&settings, &store, http.clone());
        Core(Arc::new(Inner {
            store,
            settings,
            plugins,
            limits: limits::Limiter::default(),
            authors: authors::Authors::default(),
            remote: OnceLock::new(),
            host_policy: fresh::Fresh::default(),
            local_emojis: fresh::Fresh::default(),
            trends: fresh::Fresh::with_age(search::TREND_MAX_AGE),
            http,
            bus,
            blobs,
            media_slots: tokio::sync::Semaphore::new(cores),
            word_filters: word_mutes::WordFilters::default(),
        }))
    }

    pub(crate) fn word_filters(&self) -> &word_mutes::WordFilters {
        &self.0.word_filters
    }

    /// Where files' bytes are kept.
    pub(crate) fn blobs(&self) -> &tsudoi_media::blobs::Blobs {
        &self.0.blobs
    }

    /// Whether files are kept in an object store (S3) rather than on this machine's disk.
    pub fn stores_files_remotely(&self) -> bool {
        self.0.blobs.is_object_storage()
    }

    /// Waits for a turn to decode or encode pictures.
    pub(crate) async fn media_slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.0.media_slots.acquire().await.ok()
    }

    /// Every event committed from now on, on this node and (with Redis) on the others.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<Arc<Event>> {
        self.0.bus.subscribe()
    }

    pub(crate) fn bus(&self) -> &tsudoi_bus::Bus {
        &self.0.bus
    }

    /// Tells the streaming connections what was just committed.
    pub(crate) fn publish(&self, event: Event) {
        self.0.bus.publish(event)
    }

    /// Lets new notes mention users this server does not know yet (a server without
    /// federation leaves it unset, and such mentions stay text).
    pub fn set_remote_directory(&self, directory: Arc<dyn RemoteDirectory>) {
        let _ = self.0.remote.set(directory);
    }

    pub(crate) fn policy_cache(&self) -> &fresh::Fresh<tsudoi_model::HostPolicy> {
        &self.0.host_policy
    }

    pub(crate) fn trend_cache(&self) -> &fresh::Fresh<Vec<search::Trend>> {
        &self.0.trends
    }

    pub(crate) fn local_emoji_cache(&self) -> &fresh::Fresh<emojis::LocalEmojis> {
        &self.0.local_emojis
    }

    /// The guarded client, for what the core fetches itself (an emoji image by URL).
    pub(crate) fn http(&self) -> &tsudoi_net::GuardedClient {
        &self.0.http
    }

    pub(crate) fn remote_directory(&self) -> Option<&Arc<dyn RemoteDirectory>> {
        self.0.remote.get()
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    pub(crate) fn plugins(&self) -> &plugins::Runtime {
        &self.0.plugins
    }

    /// Counts one call of `endpoint` by `caller` against `per_hour`.
    pub async fn rate_limit(
        &self,
        endpoint: &'static str,
        caller: &str,
        per_hour: u32,
    ) -> Result<()> {
        self.rate(endpoint, caller, per_hour, true).await
    }

    /// Takes (or with `take` false, checks for) one call of `action` by `caller` in the
    /// buckets every node shares when there are several (Redis), else in this node's. If
    /// Redis cannot be asked, this node's buckets stand in: limits stay, per node, until it
    /// is back.
    pub(crate) async fn rate(
        &self,
        action: &'static str,
        caller: &str,
        per_hour: u32,
        take: bool,
    ) -> Result<()> {
        let local = || {
            if take {
                self.0.limits.take(action, caller, per_hour)
            } else {
                self.0.limits.check(action, caller, per_hour)
            }
        };
        let Some(shared) = self.0.bus.shared_buckets() else {
            return local();
        };
        match shared
            .take(&format!("{action}:{caller}"), per_hour, take)
            .await
        {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "shared rate limits unreachable; this node's apply");
                local()
            }
        }
    }

    pub(crate) fn authors(&self) -> &authors::Authors {
        &self.0.authors
    }

    /// Checks the database answers (the health endpoint).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.0.store.ping().await?)
    }

    /// Closes the database connections (at shutdown).
    pub async fn close(&self) {
        self.0.store.close().await
    }
}

/// Why a core operation was refused. The API maps each to Misskey's error code and status;
/// nothing was written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid parameter `{param}`: {reason}")]
    InvalidParam { param: &'static str, reason: String },
    #[error("no such user")]
    NoSuchUser,
    #[error("no such note")]
    NoSuchNote,
    #[error("no such reply target")]
    NoSuchReplyTarget,
    #[error("no such renote target")]
    NoSuchRenoteTarget,
    #[error("cannot reply to a pure renote")]
    CannotReplyToPureRenote,
    #[error("cannot renote a pure renote")]
    CannotRenoteToPureRenote,
    #[error("cannot renote a note that is not public or home")]
    CannotRenoteDueToVisibility,
    #[error("a reply to a specified note must be specified too")]
    CannotReplyWithExtendedVisibility,
    #[error("the note mentions too many users")]
    TooManyMentions,
    #[error("the text is longer than {max} characters")]
    TextTooLong { max: usize },
    #[error("a poll needs at least 2 choices")]
    PollTooFewChoices,
    #[error("the poll has already expired")]
    PollAlreadyExpired,
    #[error("a note needs text, a CW, a renote or a poll")]
    EmptyNote,
    #[error("you may not do that to someone else's note")]
    AccessDenied,
    #[error("you are already following that user")]
    AlreadyFollowing,
    #[error("you are not following that user")]
    NotFollowing,
    #[error("you cannot follow yourself")]
    FolloweeIsYourself,
    #[error("you cannot unfollow yourself")]
    FolloweeIsYourselfUnfollow,
    #[error("there is no follow request")]
    NoFollowRequest,
    #[error("you are blocking that user")]
    Blocking,
    #[error("you are blocked by that user")]
    Blocked,
    #[error("you have been blocked by the author")]
    YouHaveBeenBlocked(Interaction),
    #[error("you cannot block yourself")]
    BlockeeIsYourself,
    #[error("you cannot unblock yourself")]
    BlockeeIsYourselfUnblock,
    #[error("you are already blocking that user")]
    AlreadyBlocking,
    #[error("you are not blocking that user")]
    NotBlocking,
    #[error("you cannot mute yourself")]
    MuteeIsYourself,
    #[error("you are already muting that user")]
    AlreadyMuting,
    #[error("you are not muting that user")]
    NotMuting,
    #[error("this username is already taken")]
    UsernameTaken,
    #[error("this username is not allowed: {0}")]
    InvalidUsername(&'static str),
    #[error("registration is closed on this server")]
    RegistrationClosed,
    #[error("a valid invitation code is required")]
    InvalidInvitationCode,
    #[error("incorrect username or password")]
    SigninFailed,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this poll has no such choice")]
    InvalidChoice,
    #[error("you have already voted")]
    AlreadyVoted,
    #[error("the poll has ended")]
    PollEnded,
    #[error("that note has no poll")]
    NoPoll,
    #[error("no such app")]
    NoSuchApp,
    #[error("no such session")]
    NoSuchSession,
    #[error("the user has not approved the session yet")]
    PendingSession,
    #[error("no such plugin")]
    NoSuchPlugin,
    #[error("the plugin cannot be used: {0}")]
    PluginRefused(String),
    #[error("rejected by {plugin}: {reason}")]
    RejectedByPlugin { plugin: String, reason: String },
    #[error("no such unresolved flag")]
    NoSuchFlag,
    #[error("no such custom emoji")]
    NoSuchEmoji,
    #[error("a custom emoji with this name already exists")]
    EmojiNameTaken,
    #[error("the image cannot be used: {0}")]
    InvalidImage(String),
    #[error("you have already reacted with this")]
    AlreadyReacted,
    #[error("you have not reacted to this note")]
    NotReacted,
    #[error("you cannot react to a renote")]
    CannotReactToRenote,
    #[error("no such file")]
    NoSuchFile,
    #[error("no such folder")]
    NoSuchFolder,
    #[error("no such parent folder")]
    NoSuchParentFolder,
    #[error("a folder cannot be put inside itself or its own subfolders")]
    RecursiveNesting,
    #[error("the folder is not empty")]
    HasChildFilesOrFolders,
    #[error("invalid file name")]
    InvalidFileName,
    #[error("the file is larger than uploads may be")]
    FileTooLarge,
    #[error("files of this type cannot be uploaded")]
    UnallowedFileType,
    #[error("the drive has no room for the file")]
    NoFreeSpace,
    #[error("the file cannot be used: {0}")]
    BadFile(String),
    #[error("the requested range is outside the file")]
    RangeNotSatisfiable,
    #[error("a muted word is not a valid regular expression")]
    InvalidRegexp,
    #[error("too many muted words")]
    TooManyMutedWords,
    #[error("search is not available on this server")]
    SearchUnavailable,
    #[error("no such hashtag")]
    NoSuchHashtag,
    #[error("the note is already a favorite")]
    AlreadyFavorited,
    #[error("the note is not a favorite")]
    NotFavorited,
    #[error("no such list")]
    NoSuchList,
    #[error("too many lists")]
    TooManyUserLists,
    #[error("the user is in the list already")]
    AlreadyAdded,
    #[error("the list is full")]
    TooManyUsers,
    #[error("the user is not in the list")]
    NotListMember,
    #[error("only local users have lists")]
    RemoteUserNotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a block stops someone doing to the blocker's notes (Misskey answers each with its
/// own error id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// Replying to, renoting or quoting.
    Note,
    React,
    Vote,
    /// Adding them to a list.
    List,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Random alphanumeric string for tokens, secrets and codes (Misskey's `secureRndstr`).
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

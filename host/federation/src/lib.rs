//! Tsudoi's ActivityPub layer. It depends on the core, never the reverse: the core knows
//! notes and follows, and enqueues a [`FederationEvent`](tsudoi_model::FederationEvent) job
//! when other servers must hear of a change; this crate knows how other servers say things.
//!
//! - [`signature`]: HTTP signatures, signing what we send and checking what we receive.
//! - [`actor_keys`]: the key pair each local actor signs with.
//! - [`ap`], [`render`], [`ids`]: documents as they arrive, as we send them, and our ids.
//! - [`fetch`], [`resolve`]: fetching documents safely, and actors and notes from them.
//! - [`inbox`]: what arrives, verified before anything else, then processed from the queue.
//! - [`outbox`], [`deliver`]: local events as activities, one signed delivery per inbox.
//! - [`worker`]: the job runners.

pub mod actor_keys;
pub mod ap;
mod cache;
pub mod deliver;
pub mod fetch;
pub mod ids;
pub mod inbox;
pub mod outbox;
pub mod render;
pub mod resolve;
pub mod signature;
pub mod worker;

pub use resolve::Found;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tsudoi_core::Core;
use tsudoi_model::{User, ids as model_ids};
use tsudoi_net::GuardedClient;
use tsudoi_store::{Store, StoreError};

use crate::actor_keys::ActorKeyError;
use crate::fetch::{FetchError, Fetcher, Signer};
use crate::ids::LocalIds;
use crate::signature::PrivateKey;

/// How the federation layer behaves, from the configuration.
#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// Admits plain `http://` ids and fetches; loopback addresses are allowed by the guarded
    /// client the caller builds. Only for tests: never the default.
    pub allow_private: bool,
    /// The first retry of a failed delivery waits this long; each further one twice as long.
    pub retry_base: Duration,
    /// Deliveries to a server that has failed for this long stop (it is suspended) until it
    /// sends us something again.
    pub dead_after: Duration,
    /// Deliveries in flight at once, and to one server at once.
    pub delivery_concurrency: usize,
    pub per_host_concurrency: usize,
    /// How long a claimed job is its node's: a running job's lease is renewed every third
    /// of it, so this is how long the jobs of a node that died wait for another node.
    pub job_lease: Duration,
}

impl Default for FederationSettings {
    fn default() -> Self {
        FederationSettings {
            allow_private: false,
            // Mastodon's first retry is after about a minute too; a server that is only
            // restarting is back by then.
            retry_base: Duration::from_secs(60),
            // A week, as Misskey and Mastodon mark an instance dead.
            dead_after: Duration::from_secs(7 * 24 * 3600),
            delivery_concurrency: 32,
            // Enough to keep a large server busy, few enough not to look like an attack.
            per_host_concurrency: 8,
            // Half a minute: a dead node's deliveries resume soon, and renewing the leases
            // of the jobs running on a node costs one statement every ten seconds.
            job_lease: Duration::from_secs(30),
        }
    }
}

/// Why federating failed. Inbox processing and delivery log these and retry or give up;
/// nothing half-done is stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Core(#[from] tsudoi_core::Error),
    #[error(transparent)]
    ActorKey(#[from] ActorKeyError),
    /// The admin blocked the server this comes from or goes to.
    #[error("{0} is blocked by this server's policy")]
    Blocked(String),
    /// The document or activity is not acceptable (wrong origin, missing parts, refused by
    /// policy); retrying will not change that.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    /// Whether trying again later could succeed (a server down, a timeout, the database busy),
    /// as opposed to a document that will stay wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Fetch(e) => matches!(e, FetchError::Net(..) | FetchError::Status(..)),
            Error::Store(_) | Error::ActorKey(_) => true,
            Error::Core(tsudoi_core::Error::Store(_)) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The federation layer of one server. Cheap to clone.
#[derive(Clone)]
pub struct Federation(Arc<Inner>);

struct Inner {
    core: Core,
    store: Store,
    ids: LocalIds,
    origin: url::Url,
    fetcher: Fetcher,
    settings: FederationSettings,
    instance_actor: tokio::sync::OnceCell<User>,
    /// Parsed private keys by user id: parsing PKCS#8 costs more than signing.
    keys: Mutex<HashMap<String, Arc<PrivateKey>>>,
    /// Remote signers' keys by key id, with the actor they belong to: a busy server's
    /// every request would otherwise read and parse the same key.
    signer_keys: cache::Bounded<(String, Arc<signature::PublicKey>)>,
    /// Remote servers recorded as alive lately.
    seen_hosts: cache::Recently,
}

/// The name of the account that signs fetches and stands for the server itself. A dot is
/// not allowed in usernames, so no one can register it.
pub const INSTANCE_ACTOR: &str = "instance.actor";

impl Federation {
    /// `http` must already allow loopback when `settings.allow_private` is set.
    pub fn new(
        core: Core,
        store: Store,
        http: GuardedClient,
        settings: FederationSettings,
    ) -> Self {
        let base = core.settings().base_url().to_owned();
        let origin = url::Url::parse(&base).unwrap_or_else(|_| {
            url::Url::parse("http://localhost/").expect("a constant URL parses")
        });
        let fed = Federation(Arc::new(Inner {
            ids: LocalIds::new(&base),
            origin,
            fetcher: Fetcher::new(http, settings.allow_private),
            settings,
            core,
            store,
            instance_actor: tokio::sync::OnceCell::new(),
            keys: Mutex::new(HashMap::new()),
            signer_keys: cache::Bounded::new(10_000),
            seen_hosts: cache::Recently::new(Duration::from_secs(60)),
        }));
        fed.core()
            .set_remote_directory(Arc::new(Directory(Arc::downgrade(&fed.0))));
        fed
    }

    pub fn core(&self) -> &Core {
        &self.0.core
    }

    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn ids(&self) -> &LocalIds {
        &self.0.ids
    }

    pub fn settings(&self) -> &FederationSettings {
        &self.0.settings
    }

    pub(crate) fn fetcher(&self) -> &Fetcher {
        &self.0.fetcher
    }

    /// Our public origin, which signatures must have been made for.
    pub fn origin(&self) -> &url::Url {
        &self.0.origin
    }

    /// The account that stands for the server, made the first time it is needed.
    pub async fn instance_actor(&self) -> Result<User> {
        let user = self
            .0
            .instance_actor
            .get_or_try_init(|| async {
                let now = model_ids::now_ms();
                self.store()
                    .ensure_system_user(&model_ids::aidx_at(now), INSTANCE_ACTOR, now)
                    .await
            })
            .await?;
        Ok(user.clone())
    }

    /// `user_id`'s private key, parsed once.
    pub(crate) async fn signing_key(&self, user_id: &str) -> Result<Arc<PrivateKey>> {
        if let Some(key) = self.cached_key(user_id) {
            return Ok(key);
        }
        let key = Arc::new(actor_keys::signing_key(self.store(), user_id).await?);
        let mut keys = self.0.keys.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a server with more active senders than this parses some keys again.
        if keys.len() >= 4096 {
            keys.clear();
        }
        keys.insert(user_id.to_owned(), key.clone());
        Ok(key)
    }

    fn cached_key(&self, user_id: &str) -> Option<Arc<PrivateKey>> {
        let keys = self.0.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(user_id).cloned()
    }

    /// Refuses `uri` if the admin blocked its server.
    pub(crate) async fn check_not_blocked(&self, uri: &str) -> Result<()> {
        let host = host_of(uri).unwrap_or_default();
        if tsudoi_core::host_policy::host_policy(self.core())
            .await?
            .is_blocked(&host)
        {
            return Err(Error::Blocked(host));
        }
        Ok(())
    }

    /// Fetches `url` signed by the instance actor.
    pub(crate) async fn fetch_object(&self, url: &str) -> Result<ap::Object> {
        self.check_not_blocked(url).await?;
        let actor = self.instance_actor().await?;
        let key = self.signing_key(&actor.id).await?;
        let key_id = self.ids().key(&actor.id);
        let (object, _) = self
            .fetcher()
            .object(
                url,
                &Signer {
                    key_id: &key_id,
                    key: &key,
                },
            )
            .await?;
        Ok(object)
    }
}

/// The core's way to find remote users for mentions; holds the federation layer weakly, as
/// the federation layer holds the core.
struct Directory(std::sync::Weak<Inner>);

impl tsudoi_core::RemoteDirectory for Directory {
    fn user_by_acct<'a>(
        &'a self,
        username: &'a str,
        host: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<User>> + Send + 'a>> {
        Box::pin(async move {
            let fed = Federation(self.0.upgrade()?);
            match fed.user_by_acct(username, host).await {
                Ok(u) => Some(u),
                Err(e) => {
                    tracing::info!(%username, %host, error = %e, "mention not resolved");
                    None
                }
            }
        })
    }
}

/// The `host[:port]` of an id, lower-cased: what `@user@host` and instance policy use.
pub fn host_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Whether two ids are on the same server (scheme, host and port).
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin() && a.host_str().is_some(),
        _ => false,
    }
}

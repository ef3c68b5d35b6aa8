//! Remote actors and notes, from the store when known and fresh, fetched otherwise; and
//! `@user@host` through WebFinger. Every document is checked against where it came from
//! before it is stored: an actor's key and inbox must be its own server's, a note must be
//! its author's server's.

use std::sync::Arc;
use std::time::Duration;

use tsudoi_model::{Note, ProfileField, RemoteActor, RemoteProfile, User, ids};

use crate::ap::{Object, Ref};
use crate::signature::PublicKey;
use crate::{Error, Federation, Result, host_of, same_origin};

/// A stored remote actor older than this is fetched again when next needed (Misskey
/// refreshes after a day too).
pub const ACTOR_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Actor types Tsudoi stores as users.
const ACTOR_TYPES: &[&str] = &["Person", "Service", "Application", "Group", "Organization"];

/// Longest username, display name, profile text and field accepted from another server.
const MAX_USERNAME: usize = 128;
const MAX_NAME: usize = 512;
const MAX_DESCRIPTION: usize = 8192;
const MAX_FIELDS: usize = 16;

/// How many documents one incoming activity may make us fetch (its actor, the note it
/// replies to and so on up the thread, mentioned users): a long reply chain or a note
/// mentioning hundreds of unknown actors costs a bounded amount. Lemmy's library uses 20.
pub const FETCH_BUDGET: usize = 20;

/// Counts the fetches one activity has caused.
#[derive(Debug)]
pub struct Budget(usize);

impl Budget {
    pub fn new() -> Self {
        Budget(FETCH_BUDGET)
    }

    pub(crate) fn spend(&mut self, what: &str) -> Result<()> {
        if self.0 == 0 {
            return Err(Error::invalid(format!(
                "fetching {what} would exceed the {FETCH_BUDGET} fetches one activity may cause"
            )));
        }
        self.0 -= 1;
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

impl Federation {
    /// The user whose actor id is `uri`: a local user, a stored remote one (fetched again if
    /// stale), or one fetched now.
    pub async fn actor(&self, uri: &str, budget: &mut Budget) -> Result<User> {
        if let Some(id) = self.ids().user_id_of(uri) {
            return Ok(tsudoi_core::users::by_id(self.core(), id).await?);
        }
        if let Some(user) = self.store().user_by_uri(uri).await?
            && let Some(remote) = &user.remote
            && ids::now_ms() - remote.fetched_at < ACTOR_MAX_AGE.as_millis() as i64
        {
            return Ok(user);
        }
        budget.spend(uri)?;
        self.fetch_actor(uri).await
    }

    /// Fetches the actor at `uri` and stores it (new, or brought up to date).
    pub async fn fetch_actor(&self, uri: &str) -> Result<User> {
        Ok(self.fetch_actor_document(uri).await?.0)
    }

    /// [`Self::fetch_actor`], with the document it was read from.
    pub async fn fetch_actor_document(&self, uri: &str) -> Result<(User, Object)> {
        if self.ids().is_local(uri) {
            return Err(Error::invalid(format!("{uri} is one of our own ids")));
        }
        let object = self.fetch_object(uri).await?;
        let profile = self.profile(uri, &object)?;
        let now = ids::now_ms();
        let user = self
            .store()
            .upsert_remote_user(&ids::aidx_at(now), &profile, now)
            .await?;
        Ok((user, object))
    }

    /// A fetched actor document as a profile to store, if it is acceptable: an actor type, a
    /// username, an inbox, and a key, all on the actor's own server.
    fn profile(&self, uri: &str, o: &Object) -> Result<RemoteProfile> {
        if !ACTOR_TYPES.iter().any(|t| o.is(t)) {
            return Err(Error::invalid(format!(
                "{uri} is a {}, not an actor",
                o.kind()
            )));
        }
        let host = host_of(uri).ok_or_else(|| Error::invalid(format!("{uri} has no host")))?;
        let username = o
            .preferred_username
            .clone()
            .filter(|u| {
                !u.is_empty()
                    && u.chars().count() <= MAX_USERNAME
                    && !u.contains(['@', '/', ' ', '\0'])
            })
            .ok_or_else(|| Error::invalid(format!("{uri} has no usable preferredUsername")))?;
        let same_server = |what: &str, url: &str| -> Result<String> {
            self.fetcher().check_url(url)?;
            if !same_origin(uri, url) {
                return Err(Error::invalid(format!(
                    "{uri} names {what} {url} on another server"
                )));
            }
            Ok(url.to_owned())
        };
        let inbox = same_server(
            "an inbox",
            o.inbox
                .as_deref()
                .ok_or_else(|| Error::invalid(format!("{uri} has no inbox")))?,
        )?;
        let shared_inbox = o
            .shared_inbox()
            .map(|s| same_server("a shared inbox", s))
            .transpose()?;
        let public_key = o
            .public_key
            .as_ref()
            .and_then(|keys| keys.iter().next())
            .map(|k| -> Result<(String, String)> {
                same_server("a key", &k.id)?;
                if k.owner.as_deref().is_some_and(|owner| owner != uri) {
                    return Err(Error::invalid(format!(
                        "{uri} publishes a key owned by another actor"
                    )));
                }
                // Only keys we can verify with are kept.
                PublicKey::from_pem(&k.public_key_pem)
                    .map_err(|e| Error::invalid(format!("{uri}'s key: {e}")))?;
                Ok((k.id.clone(), k.public_key_pem.clone()))
            })
            .transpose()?;
        let clip = |s: &Option<String>, max: usize| {
            s.as_ref().map(|s| s.chars().take(max).collect::<String>())
        };
        let description = o
            .misskey_summary
            .clone()
            .or_else(|| o.summary.as_deref().map(tsudoi_mfm::html_to_mfm));
        Ok(RemoteProfile {
            username,
            host,
            name: clip(&o.name, MAX_NAME).filter(|n| !n.trim().is_empty()),
            description: clip(&description, MAX_DESCRIPTION),
            fields: o
                .attachment
                .iter()
                .filter(|a| a.kind.as_deref() == Some("PropertyValue"))
                .take(MAX_FIELDS)
                .map(|a| ProfileField {
                    name: a
                        .name
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(MAX_NAME)
                        .collect(),
                    value: tsudoi_mfm::html_to_mfm(a.value.as_deref().unwrap_or_default())
                        .chars()
                        .take(MAX_NAME)
                        .collect(),
                })
                .collect(),
            is_locked: o.manually_approves_followers.unwrap_or(false),
            is_bot: o.is("Service") || o.is("Application"),
            is_cat: o.is_cat.unwrap_or(false),
            actor: RemoteActor {
                uri: uri.to_owned(),
                url: o.page_url().map(str::to_owned),
                inbox,
                shared_inbox,
                followers_uri: o.followers.clone(),
                fetched_at: ids::now_ms(),
            },
            public_key,
        })
    }

    /// The key `key_id` and the actor it belongs to: from the store, or by fetching the actor
    /// (the key id without its fragment). `refetch` fetches even a stored key again, for the
    /// one retry a failed signature gets (the actor may have rotated its key).
    pub async fn signer_key(
        &self,
        key_id: &str,
        refetch: bool,
    ) -> Result<(String, Arc<PublicKey>)> {
        if !refetch && let Some(known) = self.0.signer_keys.get(key_id) {
            return Ok(known);
        }
        let found = self.signer_key_uncached(key_id, refetch).await?;
        self.0.signer_keys.put(key_id, found.clone());
        Ok(found)
    }

    async fn signer_key_uncached(
        &self,
        key_id: &str,
        refetch: bool,
    ) -> Result<(String, Arc<PublicKey>)> {
        if !refetch && let Some((user_id, pem)) = self.store().remote_key(key_id).await? {
            let user = tsudoi_core::users::by_id(self.core(), &user_id).await?;
            let uri = user
                .remote
                .map(|r| r.uri)
                .ok_or_else(|| Error::invalid("the key belongs to no remote actor"))?;
            let key = PublicKey::from_pem(&pem)
                .map_err(|e| Error::invalid(format!("stored key {key_id}: {e}")))?;
            return Ok((uri, Arc::new(key)));
        }
        let actor_uri = key_id.split('#').next().unwrap_or(key_id);
        self.fetcher().check_url(actor_uri)?;
        let user = self.fetch_actor(actor_uri).await?;
        let (stored_id, pem) = self
            .store()
            .remote_key(key_id)
            .await?
            .filter(|(owner, _)| owner == &user.id)
            .ok_or_else(|| Error::invalid(format!("{actor_uri} does not publish key {key_id}")))?;
        debug_assert_eq!(stored_id, user.id);
        let key =
            PublicKey::from_pem(&pem).map_err(|e| Error::invalid(format!("key {key_id}: {e}")))?;
        Ok((actor_uri.to_owned(), Arc::new(key)))
    }

    /// `@username@host`: the stored user, or one found through WebFinger and fetched.
    pub async fn user_by_acct(&self, username: &str, host: &str) -> Result<User> {
        if let Some(user) = self.store().user_by_username(username, Some(host)).await? {
            return Ok(user);
        }
        let uri = self.webfinger(username, host).await?;
        let user = self.fetch_actor(&uri).await?;
        if !user.username.eq_ignore_ascii_case(username)
            || !user
                .host
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(host))
        {
            return Err(Error::invalid(format!(
                "WebFinger for {username}@{host} names {uri}, which is someone else"
            )));
        }
        Ok(user)
    }

    /// The actor id WebFinger gives for `acct:username@host`.
    pub async fn webfinger(&self, username: &str, host: &str) -> Result<String> {
        self.check_not_blocked(&format!("https://{host}/")).await?;
        let scheme = if self.settings().allow_private {
            "http"
        } else {
            "https"
        };
        let url = format!(
            "{scheme}://{host}/.well-known/webfinger?resource=acct:{}@{host}",
            tsudoi_mfm::url_component(username)
        );
        let links = self.fetcher().webfinger(&url).await?;
        links
            .into_iter()
            .find(|l| {
                l.rel.as_deref() == Some("self")
                    && l.kind
                        .as_deref()
                        .is_some_and(crate::ap::is_activity_content_type)
            })
            .and_then(|l| l.href)
            .filter(|href| host_of(href).as_deref() == Some(&host.to_ascii_lowercase()))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "WebFinger for {username}@{host} names no actor there"
                ))
            })
    }

    /// The note whose id is `uri`: a local note, a stored remote one, or one fetched now and
    /// stored (as its author's, once the author is known). `None` if it cannot be had.
    pub async fn note(&self, uri: &str, budget: &mut Budget) -> Result<Note> {
        if let Some(id) = self.ids().note_id_of(uri) {
            return Ok(self
                .store()
                .note_by_id(id)
                .await?
                .ok_or(tsudoi_core::Error::NoSuchNote)?);
        }
        if let Some(note) = self.store().note_by_uri(uri).await? {
            return Ok(note);
        }
        let (object, author) = self.fetch_related(uri, budget).await?;
        self.store_note(&author, &object, budget, None).await
    }
}

/// What an ActivityPub id turned out to name.
#[derive(Debug)]
pub enum Found {
    User(User),
    Note(Note),
}

impl Federation {
    /// The user or note `uri` names: ours, stored, or fetched and stored (`ap/show`).
    pub async fn lookup(&self, uri: &str, budget: &mut Budget) -> Result<Found> {
        if let Some(id) = self.ids().user_id_of(uri) {
            return Ok(Found::User(
                tsudoi_core::users::by_id(self.core(), id).await?,
            ));
        }
        if self.ids().note_id_of(uri).is_some() {
            return Ok(Found::Note(self.note(uri, budget).await?));
        }
        if let Some(user) = self.store().user_by_uri(uri).await? {
            return Ok(Found::User(user));
        }
        if let Some(note) = self.store().note_by_uri(uri).await? {
            return Ok(Found::Note(note));
        }
        self.fetcher().check_url(uri)?;
        budget.spend(uri)?;
        let object = self.fetch_object(uri).await?;
        if ACTOR_TYPES.iter().any(|t| object.is(t)) {
            let profile = self.profile(uri, &object)?;
            let now = ids::now_ms();
            return Ok(Found::User(
                self.store()
                    .upsert_remote_user(&ids::aidx_at(now), &profile, now)
                    .await?,
            ));
        }
        let author_uri = object
            .author()
            .ok_or_else(|| Error::invalid(format!("{uri} is neither an actor nor a note")))?
            .to_owned();
        let author = self.actor(&author_uri, budget).await?;
        Ok(Found::Note(
            self.store_note(&author, &object, budget, None).await?,
        ))
    }
}

/// Reads a reference's id, for messages about what was expected.
pub fn ref_id(r: Option<&Ref>) -> Option<&str> {
    r.and_then(Ref::id)
}

//! What other servers post to our inboxes. [`Federation::accept`] runs while the sender
//! waits: it checks the HTTP signature before anything else (a request that fails is
//! answered 401 and leaves no trace), then queues the activity and answers 202. The queue's
//! workers call [`Federation::process`], which checks the activity against its signer and
//! does what it says through the core, the same rules a local user's action goes through.

use tsudoi_core::Error as CoreError;
use tsudoi_core::blocks;
use tsudoi_core::drive::RemoteFile;
use tsudoi_core::emojis::RemoteEmoji;
use tsudoi_core::follows::{self, FollowOutcome};
use tsudoi_core::moderation::ActivityDraft;
use tsudoi_core::notes::create::{self, Origin, RemoteNote, ValidPoll};
use tsudoi_core::reactions;
use tsudoi_model::{FederationEvent, Job, Note, User, Visibility, ids};

use crate::ap::{self, Object, Ref};
use crate::resolve::Budget;
use crate::signature::{self, Policy, Request, VerifyError};
use crate::{Error, Federation, Result, host_of, same_origin};

/// Largest activity an inbox reads; a larger body is refused with 413 before it is read.
pub const MAX_ACTIVITY_BYTES: usize = 1 << 20;

/// Why an inbox refused a request.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// 401: not signed, or not by whom it claims.
    #[error("signature refused: {0}")]
    Unauthorized(String),
    /// 403: from a server the admin blocked.
    #[error("{0}")]
    Forbidden(String),
    /// 400: signed, but not an activity we can take.
    #[error("{0}")]
    BadRequest(String),
    /// 503: our side failed (the database); the sender will retry.
    #[error("{0}")]
    Unavailable(String),
}

impl From<VerifyError> for InboxError {
    fn from(e: VerifyError) -> Self {
        InboxError::Unauthorized(e.to_string())
    }
}

/// The few properties read before an activity is queued.
#[derive(serde::Deserialize)]
struct Envelope {
    actor: Option<Ref>,
}

impl Federation {
    /// Checks an inbox request's signature and queues the activity it carries.
    pub async fn accept(&self, request: &Request<'_>) -> Result<(), InboxError> {
        let policy = Policy {
            origin: self.origin().clone(),
            now: std::time::SystemTime::now(),
        };
        let pending = signature::inspect(request, &policy)?;
        let unavailable = |e: Error| InboxError::Unavailable(e.to_string());
        // A blocked server is turned away before anything is fetched from it.
        match self.check_not_blocked(&pending.key_id).await {
            Ok(()) => {}
            Err(e @ Error::Blocked(_)) => return Err(InboxError::Forbidden(e.to_string())),
            Err(e) => return Err(unavailable(e)),
        }
        let unauthorized = |e: Error| InboxError::Unauthorized(e.to_string());
        // A stored key first; if it does not verify, the actor may have a new one: fetch it
        // once more, never more than once per request.
        let signer = match self.signer_key(&pending.key_id, false).await {
            Ok((uri, key)) if pending.verify(&key).is_ok() => uri,
            Ok(_) | Err(_) => {
                let (uri, key) =
                    self.signer_key(&pending.key_id, true)
                        .await
                        .map_err(|e| match e {
                            e if matches!(e, Error::Store(_)) => unavailable(e),
                            e => unauthorized(e),
                        })?;
                pending.verify(&key)?;
                uri
            }
        };
        // The sender is alive: deliveries to it resume if they had stopped. Recorded once a
        // minute per server, not on every request.
        if let Some(host) = host_of(&signer)
            && self.0.seen_hosts.put_if_stale(&host)
            && let Err(e) = self.store().instance_seen(&host, ids::now_ms()).await
        {
            tracing::warn!(%host, error = %e, "cannot record an instance as seen");
        }
        let envelope: Envelope = serde_json::from_slice(request.body)
            .map_err(|e| InboxError::BadRequest(format!("the body is not an activity: {e}")))?;
        let actor = envelope
            .actor
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| InboxError::BadRequest("the activity has no actor".into()))?;
        // Someone else's activity, forwarded (a reply relayed by the thread's owner): only
        // objects refetched from their own server are believed, so it is queued as the
        // signer's and processing treats it so.
        if actor != signer && !same_origin(actor, &signer) {
            tracing::debug!(%signer, %actor, "activity signed by another server than its actor's");
        }
        let activity = String::from_utf8_lossy(request.body).into_owned();
        self.store()
            .enqueue(
                &[Job::Inbox {
                    signer_uri: signer,
                    activity,
                }],
                ids::now_ms(),
            )
            .await
            .map_err(|e| InboxError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Does what a verified activity says. `signer` is the actor whose key signed the
    /// request.
    pub async fn process(&self, signer_uri: &str, activity: &str) -> Result<()> {
        let raw = activity;
        let activity: Object = serde_json::from_str(activity)
            .map_err(|e| Error::invalid(format!("not an activity: {e}")))?;
        let actor_uri = activity
            .actor
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the activity has no actor"))?
            .to_owned();
        // The policy may have changed while the activity waited in the queue.
        self.check_not_blocked(&actor_uri).await?;
        let mut budget = Budget::new();
        if actor_uri != signer_uri {
            return self.process_forwarded(&activity, &mut budget).await;
        }
        if let Some(id) = &activity.id
            && !same_origin(id, &actor_uri)
        {
            return Err(Error::invalid(format!(
                "activity {id} is not on its actor's server"
            )));
        }
        let actor = self.actor(&actor_uri, &mut budget).await?;
        self.dispatch(&actor, &activity, raw, &mut budget).await
    }

    /// An activity signed by someone other than its actor. Only a Create or Update of an
    /// object can be believed, by fetching the object from its own server; anything else is
    /// dropped.
    async fn process_forwarded(&self, activity: &Object, budget: &mut Budget) -> Result<()> {
        if !(activity.is("Create") || activity.is("Update")) {
            return Err(Error::invalid(format!(
                "a {} signed by someone other than its actor",
                activity.kind()
            )));
        }
        let id = activity
            .object
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the activity has no object"))?;
        self.note(id, budget).await?;
        Ok(())
    }

    async fn dispatch(
        &self,
        actor: &User,
        activity: &Object,
        raw: &str,
        budget: &mut Budget,
    ) -> Result<()> {
        let object = activity.object.as_ref();
        let kind = activity.kind();
        // The moderation chain sees every activity after its signature checked out: a note
        // through `check-note` when it is stored, anything else through `check-activity`.
        let check_activity = || {
            tsudoi_core::moderation::check_activity(
                self.core(),
                ActivityDraft {
                    actor,
                    incoming: true,
                    activity_type: kind,
                    peer_host: actor.host.as_deref(),
                    raw: Some(raw),
                    object_id: object.and_then(Ref::id),
                },
            )
        };
        if kind != "Create" {
            check_activity().await?;
        }
        match kind {
            "Follow" => self.on_follow(actor, activity).await,
            "Undo" => self.on_undo(actor, object).await,
            "Accept" => self.on_accept_or_reject(actor, object, true).await,
            "Reject" => self.on_accept_or_reject(actor, object, false).await,
            "Create" => {
                let note = self.owned_object(actor, object).await?;
                if !(note.is("Note")
                    || note.is("Question")
                    || note.is("Article")
                    || note.is("Page"))
                {
                    tracing::debug!(
                        kind = note.kind(),
                        "ignoring a Create of an unsupported object"
                    );
                    return Ok(());
                }
                // A vote: a reply to a poll of ours naming a choice (Misskey, Mastodon).
                if let (Some(choice), Some(parent)) = (
                    note.name.as_deref(),
                    crate::resolve::ref_id(note.in_reply_to.as_ref()),
                ) && let Some(poll_note) = self.known_note(parent).await?
                    && poll_note.has_poll
                    && poll_note.user_host.is_none()
                {
                    // A vote is no note: the chain sees it as an activity.
                    check_activity().await?;
                    return Ok(tsudoi_core::notes::vote_remote(
                        self.core(),
                        actor,
                        &poll_note,
                        choice,
                    )
                    .await?);
                }
                self.store_note(actor, &note, budget, Some(raw))
                    .await
                    .map(drop)
            }
            "Delete" => self.on_delete(actor, object).await,
            "Announce" => self.on_announce(actor, activity, budget).await,
            "Like" | "EmojiReact" | "EmojiReaction" => self.on_like(actor, activity).await,
            "Move" => self.on_move(actor, activity).await,
            "Block" => self.on_block(actor, activity).await,
            "Update" => {
                let o = self.owned_object(actor, object).await?;
                if let Some(id) = o.id.as_deref()
                    && let Some(note) = self.store().note_by_uri(id).await?
                {
                    if note.user_id != actor.id {
                        return Err(Error::invalid(format!("{id} is not the actor's note")));
                    }
                    // An Update of a Question carries its new counts.
                    if let Some(poll) = remote_poll(&o) {
                        return Ok(tsudoi_core::notes::update_remote_poll(
                            self.core(),
                            &note,
                            poll.counts.as_deref().unwrap_or_default(),
                            poll.expires_at,
                        )
                        .await?);
                    }
                    let cw = o.summary.clone().filter(|s| !s.is_empty());
                    let emojis = self.learn_emojis(actor, &o).await?;
                    return Ok(create::edit_remote(
                        self.core(),
                        actor,
                        &note,
                        note_text(&o),
                        cw,
                        &emojis,
                        Some(raw),
                    )
                    .await?);
                }
                if o.id.as_deref() == actor.remote.as_ref().map(|r| r.uri.as_str()) {
                    self.fetch_actor(
                        &actor
                            .remote
                            .as_ref()
                            .map(|r| r.uri.clone())
                            .unwrap_or_default(),
                    )
                    .await?;
                }
                Ok(())
            }
            other => {
                tracing::debug!(kind = other, "ignoring an activity of an unsupported type");
                Ok(())
            }
        }
    }

    /// The object of a Create or Update: it must be the actor's, on the actor's server. An
    /// embedded object is believed as sent (the signature covered it); a bare id is fetched.
    async fn owned_object(&self, actor: &User, object: Option<&Ref>) -> Result<Object> {
        let actor_uri = remote_uri(actor)?;
        let object = match object {
            Some(Ref::Object(o)) => (**o).clone(),
            Some(r) => {
                let id = r.id().unwrap_or_default();
                self.fetch_object(id).await?
            }
            None => return Err(Error::invalid("the activity has no object")),
        };
        let id = object
            .id
            .as_deref()
            .ok_or_else(|| Error::invalid("the object has no id"))?;
        if !same_origin(id, actor_uri) {
            return Err(Error::invalid(format!(
                "{actor_uri} may not create or change {id}, which is on another server"
            )));
        }
        if let Some(author) = object.author()
            && author != actor_uri
            && id != actor_uri
        {
            return Err(Error::invalid(format!(
                "{actor_uri} may not create or change an object attributed to {author}"
            )));
        }
        Ok(object)
    }

    async fn on_follow(&self, follower: &User, activity: &Object) -> Result<()> {
        let followee = self.local_target(activity.object.as_ref()).await?;
        let activity_id = activity.id.as_deref().map(str::to_owned);
        let (follower_id, followee_id) = (follower.id.clone(), followee.id.clone());
        let answer =
            match follows::follow_user(self.core(), follower, &followee, activity_id.as_deref())
                .await
            {
                Ok(FollowOutcome::Followed | FollowOutcome::Requested) => return Ok(()),
                // Someone the followee blocks is answered with a Reject, as Misskey answers.
                Err(CoreError::Blocked) => FederationEvent::FollowRejected {
                    follower_id,
                    followee_id,
                    activity_id,
                },
                // Their server asks again (it lost our Accept): accept again.
                Err(CoreError::AlreadyFollowing) => FederationEvent::FollowAccepted {
                    follower_id,
                    followee_id,
                    activity_id,
                },
                Err(e) => return Err(e.into()),
            };
        Ok(self
            .store()
            .enqueue(&[Job::federate(answer)], ids::now_ms())
            .await?)
    }

    async fn on_undo(&self, actor: &User, object: Option<&Ref>) -> Result<()> {
        let inner = match object {
            Some(Ref::Object(o)) => o,
            _ => return Ok(()),
        };
        if inner.actor.as_ref().and_then(Ref::id) != actor.remote.as_ref().map(|r| r.uri.as_str()) {
            return Err(Error::invalid("an Undo of someone else's activity"));
        }
        if is_like(inner) {
            let target = inner.object.as_ref().and_then(Ref::id).unwrap_or_default();
            if let Some(note) = self.known_note(target).await? {
                reactions::unreact_remote(self.core(), actor, &note, inner.id.as_deref()).await?;
            }
            return Ok(());
        }
        if inner.is("Announce") {
            let id = inner.id.as_deref().unwrap_or_default();
            if let Some(renote) = self.store().note_by_uri(id).await?
                && renote.user_id == actor.id
                && renote.is_pure_renote()
            {
                tsudoi_core::notes::delete_remote(self.core(), &renote).await?;
            }
            return Ok(());
        }
        if inner.is("Block") {
            let blockee = self.local_target(inner.object.as_ref()).await?;
            return match blocks::unblock_user(self.core(), actor, &blockee).await {
                Ok(()) | Err(CoreError::NotBlocking) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        if inner.is("Follow") {
            let followee = self.local_target(inner.object.as_ref()).await?;
            match follows::unfollow_user(self.core(), actor, &followee).await {
                Ok(()) => {}
                Err(CoreError::NotFollowing) => {
                    follows::withdraw_request(self.core(), actor, &followee).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The remote `actor` accepts or rejects a local user's Follow.
    async fn on_accept_or_reject(
        &self,
        actor: &User,
        object: Option<&Ref>,
        accepted: bool,
    ) -> Result<()> {
        let follower_id = match object {
            Some(Ref::Object(o)) if o.is("Follow") => self.local_user(o.actor.as_ref())?.to_owned(),
            // Only the Follow's id: ours name follower and followee.
            Some(r) => {
                let id = r.id().unwrap_or_default();
                let rest = id
                    .strip_prefix(&format!("{}/follows/", self.ids().base()))
                    .ok_or_else(|| Error::invalid(format!("{id} is not one of our Follows")))?;
                let (follower, followee) = rest
                    .split_once('/')
                    .ok_or_else(|| Error::invalid(format!("{id} is not one of our Follows")))?;
                if followee != actor.id {
                    return Err(Error::invalid("an answer to a Follow of someone else"));
                }
                follower.to_owned()
            }
            None => return Err(Error::invalid("the activity has no object")),
        };
        let follower = tsudoi_core::users::by_id(self.core(), &follower_id).await?;
        if accepted {
            match follows::accept(self.core(), actor, &follower).await {
                // Unlocked accounts are followed at once; their Accept confirms it.
                Ok(()) | Err(CoreError::NoFollowRequest) => Ok(()),
                Err(e) => Err(e.into()),
            }
        } else {
            follows::withdraw_request(self.core(), &follower, actor).await?;
            match follows::unfollow_user(self.core(), &follower, actor).await {
                Ok(()) | Err(CoreError::NotFollowing) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
    }

    /// A renote: a note of the actor's that only points at another note. It is stored under
    /// the Announce's id, so its Undo finds it.
    async fn on_announce(
        &self,
        actor: &User,
        activity: &Object,
        budget: &mut Budget,
    ) -> Result<()> {
        let actor_uri = remote_uri(actor)?;
        let id = activity
            .id
            .as_deref()
            .ok_or_else(|| Error::invalid("the Announce has no id"))?;
        if !same_origin(id, actor_uri) {
            return Err(Error::invalid(format!(
                "{id} is not on {actor_uri}'s server"
            )));
        }
        if self.store().note_by_uri(id).await?.is_some() {
            return Ok(()); // delivered again
        }
        let target = activity
            .object
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the Announce has no object"))?;
        let renoted = self.note(target, budget).await?;
        let visibility = self.narrowed(visibility_of(activity, actor), actor).await?;
        if !matches!(visibility, Visibility::Public | Visibility::Home) {
            return Ok(()); // a renote of something not meant to spread
        }
        let published = activity.published_ms();
        let remote = RemoteNote {
            origin: Origin {
                uri: id.to_owned(),
                url: None,
            },
            text: None,
            cw: None,
            visibility,
            reply: None,
            renote: Some(renoted),
            poll: None,
            mentions: Vec::new(),
            visible_user_ids: Vec::new(),
            emojis: Vec::new(),
            file_ids: Vec::new(),
            published,
            // Checked as an activity already.
            raw_activity: None,
        };
        create::receive(self.core(), actor, remote).await?;
        Ok(())
    }

    /// The remote `actor` blocks a local user: the follows between them end, and the actor
    /// can no longer interact with the local user's notes (nor the local user follow them).
    async fn on_block(&self, actor: &User, activity: &Object) -> Result<()> {
        let blockee = self.local_target(activity.object.as_ref()).await?;
        match blocks::block_user(self.core(), actor, &blockee, activity.id.as_deref()).await {
            Ok(()) | Err(CoreError::AlreadyBlocking) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A reaction to a note this server has (one it does not have is ignored, as Misskey
    /// does): Misskey's `_misskey_reaction`, or `content` (Pleroma's EmojiReact), with the
    /// custom emoji it uses in `tag`; a plain Like is ❤.
    async fn on_like(&self, actor: &User, activity: &Object) -> Result<()> {
        let target = activity
            .object
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the Like has no object"))?;
        let Some(note) = self.known_note(target).await? else {
            tracing::debug!(%target, "a reaction to a note this server does not have");
            return Ok(());
        };
        self.learn_emojis(actor, activity).await?;
        let reaction = activity
            .misskey_reaction
            .as_deref()
            .or(activity.content.as_deref());
        let uri = activity.id.as_deref();
        match reactions::react_remote(self.core(), actor, &note, reaction, uri).await {
            // A note the actor may not see is one they cannot react to.
            Ok(()) | Err(CoreError::NoSuchNote) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The actor moved to another account (Mastodon's and Misskey's `Move`): once the new
    /// account confirms it (its `alsoKnownAs` names the old one), local followers of the old
    /// account follow the new one instead.
    async fn on_move(&self, actor: &User, activity: &Object) -> Result<()> {
        let old_uri = remote_uri(actor)?;
        if activity.object.as_ref().and_then(Ref::id) != Some(old_uri) {
            return Err(Error::invalid("a Move of another account than the actor's"));
        }
        let target_uri = activity
            .target
            .as_ref()
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the Move has no target"))?;
        if target_uri == old_uri {
            return Err(Error::invalid("a Move to the same account"));
        }
        let (target, document) = self.fetch_actor_document(target_uri).await?;
        if !document
            .also_known_as
            .iter()
            .filter_map(Ref::id)
            .any(|aka| aka == old_uri)
        {
            return Err(Error::invalid(format!(
                "{target_uri} does not say it is also {old_uri}"
            )));
        }
        let followers = self.store().local_follower_ids(&actor.id).await?;
        for follower_id in followers {
            let follower = tsudoi_core::users::by_id(self.core(), &follower_id).await?;
            match follows::follow_user(self.core(), &follower, &target, None).await {
                Ok(_) | Err(CoreError::AlreadyFollowing) => {}
                Err(e) => {
                    tracing::info!(follower = %follower.id, error = %e, "a follower did not move");
                    continue;
                }
            }
            match follows::unfollow_user(self.core(), &follower, actor).await {
                Ok(()) | Err(CoreError::NotFollowing) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Records the custom emoji `o`'s `Emoji` tags describe, as `author`'s server's, and
    /// returns their names.
    async fn learn_emojis(&self, author: &User, o: &Object) -> Result<Vec<String>> {
        let Some(host) = author.host.as_deref() else {
            return Ok(Vec::new());
        };
        let found: Vec<RemoteEmoji> = o
            .tag
            .iter()
            .filter(|t| t.kind.as_deref() == Some("Emoji"))
            .filter_map(|t| {
                let name = t.name.as_deref()?.trim_matches(':').to_owned();
                let icon = t.icon.as_deref()?;
                Some(RemoteEmoji {
                    name,
                    url: icon.page_url()?.to_owned(),
                    uri: t.id.clone(),
                    media_type: icon.media_type.clone(),
                    is_sensitive: false,
                })
            })
            .take(MAX_EMOJI_TAGS)
            .collect();
        if found.is_empty() {
            return Ok(Vec::new());
        }
        Ok(tsudoi_core::emojis::learn_remote(self.core(), host, found).await?)
    }

    /// Records the files `o` shows (its `attachment`s with a URL) as `author`'s, kept on
    /// their server, and returns their ids in order. A file that cannot be recorded (a bad
    /// URL) is left out; the note stands without it.
    async fn link_files(&self, author: &User, o: &Object) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        for a in o
            .attachment
            .iter()
            .take(tsudoi_core::notes::create::MAX_FILES)
        {
            let Some(uri) = a.url.as_ref().and_then(Ref::id) else {
                continue;
            };
            let size =
                |v: &Option<serde_json::Value>| v.as_ref().and_then(serde_json::Value::as_i64);
            let remote = RemoteFile {
                uri: uri.to_owned(),
                media_type: a.media_type.clone(),
                comment: a.name.clone().filter(|n| !n.is_empty()),
                is_sensitive: a.sensitive.unwrap_or(false) || o.sensitive == Some(true),
                blurhash: a.blurhash.clone(),
                width: size(&a.width),
                height: size(&a.height),
            };
            match tsudoi_core::drive::link_remote(self.core(), author, remote).await {
                Ok(file) if !ids.contains(&file.id) => ids.push(file.id),
                Ok(_) => {}
                Err(CoreError::BadFile(e)) => tracing::debug!(%uri, error = %e, "file left out"),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ids)
    }

    async fn on_delete(&self, actor: &User, object: Option<&Ref>) -> Result<()> {
        let actor_uri = remote_uri(actor)?;
        let id = object
            .and_then(Ref::id)
            .ok_or_else(|| Error::invalid("the Delete has no object"))?;
        // The actor deletes itself: its account is gone from its server.
        if id == actor_uri {
            return Ok(tsudoi_core::users::delete_remote(self.core(), actor).await?);
        }
        if let Some(note) = self.store().note_by_uri(id).await? {
            if note.user_id != actor.id {
                return Err(Error::invalid(format!(
                    "{actor_uri} may not delete {id}, which is someone else's"
                )));
            }
            tsudoi_core::notes::delete_remote(self.core(), &note).await?;
        }
        Ok(())
    }

    /// A silenced server's public notes are not public here (Misskey's silencing): they
    /// show to followers and in threads, not in the public timelines.
    async fn narrowed(&self, visibility: Visibility, author: &User) -> Result<Visibility> {
        let silenced = match &author.host {
            Some(host) => tsudoi_core::host_policy::host_policy(self.core())
                .await?
                .is_silenced(host),
            None => false,
        };
        Ok(if silenced && visibility == Visibility::Public {
            Visibility::Home
        } else {
            visibility
        })
    }

    /// The local user a reference names (the object of a Follow or Block), or an error if
    /// it is not one of ours.
    async fn local_target(&self, r: Option<&Ref>) -> Result<User> {
        let id = self.local_user(r)?;
        Ok(tsudoi_core::users::by_id(self.core(), id).await?)
    }

    /// The local user id a reference names, or an error if it is not ours.
    fn local_user<'a>(&self, r: Option<&'a Ref>) -> Result<&'a str> {
        let uri = r.and_then(Ref::id).unwrap_or_default();
        self.ids()
            .user_id_of(uri)
            .ok_or_else(|| Error::invalid(format!("{uri} is not one of our users")))
    }

    /// Stores a remote note by `author` (whose server it must be on), with what it replies
    /// to and quotes resolved (fetched within `budget`). Storing it twice returns the first.
    ///
    /// The thread above it is fetched first, walking `inReplyTo` up as far as the budget
    /// allows, then stored from its start down: a loop, not recursion, so a thread a
    /// hundred notes deep costs the budget and no more, and never the stack.
    pub async fn store_note(
        &self,
        author: &User,
        o: &Object,
        budget: &mut Budget,
        raw_activity: Option<&str>,
    ) -> Result<Note> {
        if let Some(id) = &o.id
            && let Some(existing) = self.known_note(id).await?
        {
            return Ok(existing);
        }
        let mut ancestors = Vec::new();
        let mut parent = crate::resolve::ref_id(o.in_reply_to.as_ref()).map(str::to_owned);
        while let Some(uri) = parent.take() {
            if self.known_note(&uri).await?.is_some() {
                break;
            }
            match self.fetch_related(&uri, budget).await {
                Ok((object, author)) => {
                    parent = crate::resolve::ref_id(object.in_reply_to.as_ref()).map(str::to_owned);
                    ancestors.push((author, object));
                }
                Err(e) => {
                    tracing::debug!(%uri, error = %e, "the thread above a note stops here");
                    break;
                }
            }
        }
        for (ancestor_author, ancestor) in ancestors.iter().rev() {
            if let Err(e) = self
                .store_one(ancestor_author, ancestor, budget, false, None)
                .await
            {
                tracing::debug!(error = %e, "a note of the thread was not stored");
            }
        }
        self.store_one(author, o, budget, true, raw_activity).await
    }

    /// A note someone refers to, fetched (within the budget), with its author.
    pub(crate) async fn fetch_related(
        &self,
        uri: &str,
        budget: &mut Budget,
    ) -> Result<(Object, User)> {
        budget.spend(uri)?;
        let object = self.fetch_object(uri).await?;
        let author_uri = object
            .author()
            .ok_or_else(|| Error::invalid(format!("{uri} has no author")))?
            .to_owned();
        let author = self.actor(&author_uri, budget).await?;
        Ok((object, author))
    }

    /// A note this server has: ours by id, or a remote one by its id.
    async fn known_note(&self, uri: &str) -> Result<Option<Note>> {
        if let Some(id) = self.ids().note_id_of(uri) {
            return Ok(self.store().note_by_id(id).await?);
        }
        Ok(self.store().note_by_uri(uri).await?)
    }

    /// Stores one note whose thread above is stored already (as far as it could be had).
    /// `fetch_quote` lets a quoted note be fetched (one level: a quote's own quote is not).
    async fn store_one(
        &self,
        author: &User,
        o: &Object,
        budget: &mut Budget,
        fetch_quote: bool,
        raw_activity: Option<&str>,
    ) -> Result<Note> {
        // Whether it is stored already was asked by the caller; `receive` settles a race.
        let uri =
            o.id.clone()
                .ok_or_else(|| Error::invalid("the note has no id"))?;
        let author_uri = remote_uri(author)?;
        if !same_origin(&uri, author_uri) || o.author() != Some(author_uri) {
            return Err(Error::invalid(format!("{uri} is not {author_uri}'s note")));
        }
        let text = note_text(o);
        let cw = o.summary.clone().filter(|s| !s.is_empty());
        let addressees: Vec<&str> = o.addressees().collect();
        let visibility = self.narrowed(visibility_of(o, author), author).await?;
        // Mentioned users: ours by id, others if known or fetchable within the budget.
        let mut mentions = Vec::new();
        for tag in o
            .tag
            .iter()
            .filter(|t| t.kind.as_deref() == Some("Mention"))
        {
            let Some(href) = tag.href.as_deref() else {
                continue;
            };
            match self.actor(href, budget).await {
                Ok(u) => mentions.push(u.id),
                Err(e) => tracing::debug!(%href, error = %e, "mention not resolved"),
            }
        }
        let mut visible_user_ids = Vec::new();
        if visibility == Visibility::Specified {
            for a in &addressees {
                if let Some(id) = self.ids().user_id_of(a) {
                    visible_user_ids.push(id.to_owned());
                } else if let Some(u) = self.store().user_by_uri(a).await? {
                    visible_user_ids.push(u.id);
                }
            }
            mentions.extend(visible_user_ids.iter().cloned());
        }
        // A parent that could not be had leaves the note standing on its own.
        let reply = match crate::resolve::ref_id(o.in_reply_to.as_ref()) {
            Some(parent) => self.known_note(parent).await?,
            None => None,
        };
        let quote = o
            .misskey_quote
            .as_deref()
            .or(o.quote_url.as_deref())
            .or(o.quote_uri.as_deref());
        let renote = match quote {
            Some(q) => match self.known_note(q).await? {
                Some(n) => Some(n),
                None if fetch_quote => match self.fetch_related(q, budget).await {
                    Ok((quoted, quoted_author)) => {
                        Box::pin(self.store_one(&quoted_author, &quoted, budget, false, None))
                            .await
                            .ok()
                    }
                    Err(e) => {
                        tracing::debug!(quote = %q, error = %e, "quoted note not resolved");
                        None
                    }
                },
                None => None,
            },
            None => None,
        };
        let emojis = self.learn_emojis(author, o).await?;
        let file_ids = self.link_files(author, o).await?;
        let poll = remote_poll(o);
        let published = o.published_ms();
        let remote = RemoteNote {
            origin: Origin {
                uri: uri.clone(),
                url: o.page_url().map(str::to_owned).filter(|u| u != &uri),
            },
            text,
            cw,
            visibility,
            reply,
            renote,
            poll,
            mentions,
            visible_user_ids,
            emojis,
            file_ids,
            published,
            raw_activity: raw_activity.map(str::to_owned),
        };
        Ok(create::receive(self.core(), author, remote).await?)
    }
}

/// Misskey's reading of addressing: Public in `to` is public, in copy home (unlisted); the
/// author's followers without Public is followers-only; anything else is for the named.
fn visibility_of(o: &Object, author: &User) -> Visibility {
    let addressees: Vec<&str> = o.addressees().collect();
    let followers = author
        .remote
        .as_ref()
        .and_then(|r| r.followers_uri.as_deref());
    if o.to.iter().filter_map(Ref::id).any(ap::is_public) {
        Visibility::Public
    } else if addressees.iter().any(|a| ap::is_public(a)) {
        Visibility::Home
    } else if followers.is_some_and(|f| addressees.contains(&f))
        || addressees.iter().any(|a| a.ends_with("/followers"))
    {
        Visibility::Followers
    } else {
        Visibility::Specified
    }
}

/// A note's MFM: its Misskey source when it has one, otherwise its HTML made into text.
fn note_text(o: &Object) -> Option<String> {
    let source = o
        .source
        .as_ref()
        .filter(|s| s.media_type.as_deref() == Some("text/x.misskeymarkdown"))
        .and_then(|s| s.content.clone());
    source
        .or_else(|| o.misskey_content.clone())
        .or_else(|| o.content.as_deref().map(tsudoi_mfm::html_to_mfm))
        .filter(|t| !t.trim().is_empty())
}

/// Most choices read from a remote poll (Misskey allows 10, Pleroma 20 by default).
const MAX_POLL_CHOICES: usize = 64;
const MAX_CHOICE_CHARS: usize = 1024;

/// A `Question`'s poll: `oneOf` (one choice) or `anyOf` (several), with each choice's votes
/// in its `replies`, ending at `endTime` or `closed`. A question without choices, or with
/// too many or too long ones, has no poll here.
fn remote_poll(o: &Object) -> Option<ValidPoll> {
    if !o.is("Question") {
        return None;
    }
    let multiple = !o.any_of.0.is_empty();
    let options = if multiple { &o.any_of } else { &o.one_of };
    if options.0.is_empty() || options.0.len() > MAX_POLL_CHOICES {
        return None;
    }
    let mut choices = Vec::with_capacity(options.0.len());
    let mut counts = Vec::with_capacity(options.0.len());
    for option in options.iter() {
        let name = option.name.clone()?;
        if name.chars().count() > MAX_CHOICE_CHARS || name.contains('\0') {
            return None;
        }
        choices.push(name);
        counts.push(
            option
                .replies
                .as_ref()
                .and_then(|r| r.total_items)
                .unwrap_or_default()
                .max(0),
        );
    }
    let expires_at = match (&o.end_time, &o.closed) {
        (_, Some(ap::Closed::At(at))) | (Some(at), _) => ap::parse_time(at),
        // Closed, without saying when.
        (None, Some(ap::Closed::Flag(true))) => Some(ids::now_ms()),
        (None, _) => None,
    };
    Some(ValidPoll {
        choices,
        multiple,
        expires_at,
        counts: Some(counts),
    })
}

/// Most custom emoji read from one object: a note shows a handful; a flood of tags is
/// someone filling our table.
const MAX_EMOJI_TAGS: usize = 64;

/// A reaction: Misskey's and Mastodon's Like, Pleroma's EmojiReact.
fn is_like(o: &Object) -> bool {
    o.is("Like") || o.is("EmojiReact") || o.is("EmojiReaction")
}

fn remote_uri(user: &User) -> Result<&str> {
    user.remote
        .as_ref()
        .map(|r| r.uri.as_str())
        .ok_or_else(|| Error::invalid("not a remote actor"))
}

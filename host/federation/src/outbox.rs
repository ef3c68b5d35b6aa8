//! Local events as activities: [`Federation::federate`] reads the current state behind a
//! [`FederationEvent`], builds the activity once, works out the inboxes it must reach (one
//! per shared inbox) and enqueues one delivery job per inbox.

use tsudoi_model::{FederationEvent, Job, Note, ReactionEvent, User, Visibility, ids};

use crate::render::{self, Activity, FollowOut, NoteLinks, WithContext};
use crate::{Error, Federation, Result};

impl Federation {
    /// Turns `event` into delivery jobs.
    pub async fn federate(&self, event: &FederationEvent) -> Result<()> {
        let deliveries = match event {
            FederationEvent::NoteCreated { note_id } => self.note_created(note_id).await?,
            FederationEvent::NoteDeleted {
                note_id,
                author_id,
                to_followers,
                notified,
                pure_renote,
            } => {
                self.note_deleted(note_id, author_id, *to_followers, notified, *pure_renote)
                    .await?
            }
            FederationEvent::Followed {
                follower_id,
                followee_id,
            } => {
                let (follower, followee) = self.pair(follower_id, followee_id).await?;
                let follow = self.follow_out(&follower, &followee)?;
                one(&followee, &follower, WithContext::new(follow).to_json())
            }
            FederationEvent::Unfollowed {
                follower_id,
                followee_id,
            } => {
                let (follower, followee) = self.pair(follower_id, followee_id).await?;
                let follow = self.follow_out(&follower, &followee)?;
                let undo = self.undo(&follower, &ids::aidx(), follow);
                one(&followee, &follower, WithContext::new(undo).to_json())
            }
            FederationEvent::FollowAccepted {
                follower_id,
                followee_id,
                activity_id,
            }
            | FederationEvent::FollowRejected {
                follower_id,
                followee_id,
                activity_id,
            } => {
                let accepted = matches!(event, FederationEvent::FollowAccepted { .. });
                let (follower, followee) = self.pair(follower_id, followee_id).await?;
                let follower_uri = actor_uri(&follower)?;
                let follow = FollowOut::new(
                    activity_id
                        .clone()
                        .unwrap_or_else(|| format!("{follower_uri}#follow")),
                    follower_uri.to_owned(),
                    self.ids().user(&followee.id),
                );
                let kind = if accepted { "Accept" } else { "Reject" };
                let answer = Activity::new(
                    self.ids()
                        .activity(&followee.id, &kind.to_lowercase(), &ids::aidx()),
                    kind,
                    self.ids().user(&followee.id),
                    follow,
                );
                one(&follower, &followee, WithContext::new(answer).to_json())
            }
            FederationEvent::ProfileUpdated { user_id } => {
                let user = tsudoi_core::users::by_id(self.core(), user_id).await?;
                let person = self.person(&user).await?;
                let update = Activity {
                    to: vec![crate::ap::PUBLIC.to_owned()],
                    ..Activity::new(
                        self.ids().activity(&user.id, "update", &ids::aidx()),
                        "Update",
                        self.ids().user(&user.id),
                        person,
                    )
                };
                let inboxes = self.store().remote_follower_inboxes(&user.id).await?;
                self.jobs_for(&user, inboxes, WithContext::new(update).to_json())
            }
            FederationEvent::Voted {
                vote_id,
                note_id,
                user_id,
                choice,
            } => self.vote_out(vote_id, note_id, user_id, *choice).await?,
            FederationEvent::PollUpdated { note_id } => self.poll_updated(note_id).await?,
            FederationEvent::Reacted { reaction } => self.reaction_out(reaction, false).await?,
            FederationEvent::Unreacted { reaction } => self.reaction_out(reaction, true).await?,
            FederationEvent::Blocked {
                block_id,
                blocker_id,
                blockee_id,
            }
            | FederationEvent::Unblocked {
                block_id,
                blocker_id,
                blockee_id,
            } => {
                let (blocker, blockee) = self.pair(blocker_id, blockee_id).await?;
                let block = self.block_out(block_id, &blocker, &blockee)?;
                let activity = if matches!(event, FederationEvent::Blocked { .. }) {
                    WithContext::new(block).to_json()
                } else {
                    WithContext::new(self.undo(&blocker, &ids::aidx(), block)).to_json()
                };
                one(&blockee, &blocker, activity)
            }
        };
        // Notes met the moderation chain when they were posted; everything else meets it
        // here, before it leaves.
        if let (
            Some(kind),
            Some(Job::Deliver {
                signer_id,
                activity,
                inbox,
            }),
        ) = (outgoing_kind(event), deliveries.first())
        {
            let signer = tsudoi_core::users::by_id(self.core(), signer_id).await?;
            let peer = (deliveries.len() == 1)
                .then(|| crate::host_of(inbox))
                .flatten();
            let checked = tsudoi_core::moderation::check_activity(
                self.core(),
                tsudoi_core::moderation::ActivityDraft {
                    actor: &signer,
                    incoming: false,
                    activity_type: kind,
                    peer_host: peer.as_deref(),
                    raw: Some(activity),
                    object_id: None,
                },
            )
            .await;
            match checked {
                Ok(()) => {}
                Err(tsudoi_core::Error::RejectedByPlugin { plugin, reason }) => {
                    tracing::info!(%plugin, %reason, activity = kind, "outgoing activity rejected by plugin");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.store().enqueue(&deliveries, ids::now_ms()).await?;
        Ok(())
    }

    /// The Follow activity of local `follower` for remote `followee`.
    fn follow_out(&self, follower: &User, followee: &User) -> Result<FollowOut> {
        Ok(FollowOut::new(
            self.ids().follow(&follower.id, &followee.id),
            self.ids().user(&follower.id),
            actor_uri(followee)?.to_owned(),
        ))
    }

    /// Local `actor`'s Undo of `inner`, one of their own activities; `unique` tells it apart
    /// from their other Undos.
    fn undo<O: serde::Serialize>(&self, actor: &User, unique: &str, inner: O) -> Activity<O> {
        Activity::new(
            self.ids().activity(&actor.id, "undo", unique),
            "Undo",
            self.ids().user(&actor.id),
            inner,
        )
    }

    /// Block `block_id` of local `blocker` on remote `blockee`.
    fn block_out(
        &self,
        block_id: &str,
        blocker: &User,
        blockee: &User,
    ) -> Result<Activity<String>> {
        Ok(Activity::new(
            self.ids().block(block_id),
            "Block",
            self.ids().user(&blocker.id),
            actor_uri(blockee)?.to_owned(),
        ))
    }

    async fn pair(&self, a: &str, b: &str) -> Result<(User, User)> {
        Ok((
            tsudoi_core::users::by_id(self.core(), a).await?,
            tsudoi_core::users::by_id(self.core(), b).await?,
        ))
    }

    /// A local user as their actor document.
    pub async fn person(&self, user: &User) -> Result<render::Person> {
        let key = crate::actor_keys::actor_key(self.store(), &user.id).await?;
        let summary = match &user.description {
            Some(d) => Some(tsudoi_core::render::mfm_html(self.core(), d).await),
            None => None,
        };
        let instance = user.username == crate::INSTANCE_ACTOR;
        Ok(render::person(
            self.ids(),
            user,
            &key.public_key_pem,
            summary,
            instance,
        ))
    }

    /// A local note as a `Note` object, with everything it refers to as ids.
    pub async fn note_object(&self, note: &Note) -> Result<render::NoteOut> {
        let mut related: Vec<String> = note.mentions.clone();
        related.extend(note.visible_user_ids.iter().cloned());
        let users = tsudoi_core::users::by_ids(self.core(), &related).await?;
        let uri_of = |u: &User| match &u.remote {
            Some(r) => r.uri.clone(),
            None => self.ids().user(&u.id),
        };
        let acct = |u: &User| match &u.host {
            Some(h) => format!("@{}@{h}", u.username),
            None => format!("@{}@{}", u.username, self.core().settings().host()),
        };
        let mentions = users
            .iter()
            .filter(|u| note.mentions.contains(&u.id))
            .map(|u| (uri_of(u), acct(u)))
            .collect();
        let addressed = users
            .iter()
            .filter(|u| note.visible_user_ids.contains(&u.id) || note.mentions.contains(&u.id))
            .map(uri_of)
            .collect();
        let content_html = match &note.text {
            Some(t) => tsudoi_core::render::mfm_html(self.core(), t).await,
            None => String::new(),
        };
        let links = NoteLinks {
            author_uri: self.ids().user(&note.user_id),
            followers_uri: self.ids().followers(&note.user_id),
            in_reply_to: self.note_uri(note.reply_id.as_deref()).await?,
            quote: self.note_uri(note.renote_id.as_deref()).await?,
            mentions,
            addressed,
            content_html,
            emojis: self.emoji_tags(&note.emojis).await?,
            poll: self.poll_links(note).await?,
            attachments: tsudoi_core::drive::by_ids(self.core(), &note.file_ids)
                .await?
                .into_iter()
                .map(|f| render::DocumentOut::of(tsudoi_core::drive::shown(self.core(), f)))
                .collect(),
        };
        Ok(render::note(
            self.ids(),
            note,
            links,
            self.core().settings().base_url(),
        ))
    }

    /// A note's poll with its votes, for its `Question`.
    async fn poll_links(&self, note: &Note) -> Result<Option<render::PollLinks>> {
        if !note.has_poll {
            return Ok(None);
        }
        let ids = std::slice::from_ref(&note.id);
        let Some(poll) = self.store().polls_by_note_ids(ids).await?.pop() else {
            return Ok(None);
        };
        let mut votes = vec![0; poll.choices.len()];
        for (_, choice, tally) in self.store().poll_tallies(ids, None).await? {
            if let Some(v) = usize::try_from(choice).ok().and_then(|c| votes.get_mut(c)) {
                *v = tally.votes;
            }
        }
        Ok(Some(render::PollLinks {
            choices: poll.choices,
            multiple: poll.multiple,
            expires_at: poll.expires_at,
            votes,
        }))
    }

    /// A local user's vote in a remote poll, to the poll's author.
    async fn vote_out(
        &self,
        vote_id: &str,
        note_id: &str,
        user_id: &str,
        choice: i64,
    ) -> Result<Vec<Job>> {
        let Some(note) = self.store().note_by_id(note_id).await? else {
            return Ok(Vec::new());
        };
        let Some(poll) = self
            .store()
            .polls_by_note_ids(std::slice::from_ref(&note.id))
            .await?
            .pop()
        else {
            return Ok(Vec::new());
        };
        let name = usize::try_from(choice)
            .ok()
            .and_then(|c| poll.choices.get(c))
            .ok_or_else(|| Error::invalid("the vote's choice is not the poll's"))?;
        let (voter, author) = self.pair(user_id, &note.user_id).await?;
        let author_uri = actor_uri(&author)?.to_owned();
        let poll_uri = note
            .uri
            .clone()
            .ok_or_else(|| Error::invalid("a remote poll without an id"))?;
        let id = self.ids().activity(&voter.id, "votes", vote_id);
        let create = Activity {
            to: vec![author_uri.clone()],
            published: Some(render::iso(ids::now_ms())),
            ..Activity::new(
                format!("{id}/activity"),
                "Create",
                self.ids().user(&voter.id),
                render::VoteOut {
                    id,
                    kind: "Note",
                    attributed_to: self.ids().user(&voter.id),
                    to: vec![author_uri],
                    in_reply_to: poll_uri,
                    name: name.clone(),
                },
            )
        };
        Ok(one(&author, &voter, WithContext::new(create).to_json()))
    }

    /// A local poll's new counts, as an `Update` of its `Question`, to the author's
    /// followers (as Misskey sends it) and to the remote users who voted in it.
    async fn poll_updated(&self, note_id: &str) -> Result<Vec<Job>> {
        let Some(note) = self.store().note_by_id(note_id).await? else {
            return Ok(Vec::new());
        };
        let author = tsudoi_core::users::by_id(self.core(), &note.user_id).await?;
        let mut inboxes = if note.visibility == Visibility::Specified {
            Vec::new()
        } else {
            self.store().remote_follower_inboxes(&author.id).await?
        };
        inboxes.extend(self.store().remote_voter_inboxes(&note.id).await?);
        inboxes.sort();
        inboxes.dedup();
        if inboxes.is_empty() {
            return Ok(Vec::new());
        }
        let question = self.note_object(&note).await?;
        let update = Activity {
            to: question.to.clone(),
            cc: question.cc.clone(),
            ..Activity::new(
                self.ids().activity(&author.id, "update", &ids::aidx()),
                "Update",
                self.ids().user(&author.id),
                question,
            )
        };
        Ok(self.jobs_for(&author, inboxes, WithContext::new(update).to_json()))
    }

    /// The `Emoji` tags of this server's emoji `names` (those kept local are left out).
    async fn emoji_tags(&self, names: &[String]) -> Result<Vec<render::EmojiTag>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let local = tsudoi_core::emojis::local(self.core()).await?;
        Ok(names
            .iter()
            .filter_map(|name| local.get(name))
            .filter(|e| !e.local_only)
            .map(|e| render::emoji(self.ids(), e))
            .collect())
    }

    /// A local reaction as a `Like` (what `/likes/{id}` shows too).
    pub async fn like(&self, reaction: &ReactionEvent, note: &Note) -> Result<render::LikeOut> {
        let tag = match tsudoi_core::reactions::custom_emoji(&reaction.reaction) {
            Some((name, None)) => self.emoji_tags(&[name.to_owned()]).await?,
            _ => Vec::new(),
        };
        Ok(render::LikeOut {
            id: self.ids().like(&reaction.id),
            kind: "Like",
            actor: self.ids().user(&reaction.user_id),
            object: note
                .uri
                .clone()
                .unwrap_or_else(|| self.ids().note(&note.id)),
            content: reaction.reaction.clone(),
            misskey_reaction: reaction.reaction.clone(),
            tag,
        })
    }

    /// A local user's reaction, or its Undo, to the note's author if remote and, as Misskey
    /// sends it, to the reacting user's followers (for a note meant for named users, to
    /// those of them that are remote).
    async fn reaction_out(&self, reaction: &ReactionEvent, undo: bool) -> Result<Vec<Job>> {
        let Some(note) = self.store().note_by_id(&reaction.note_id).await? else {
            return Ok(Vec::new()); // the note went first
        };
        let user = tsudoi_core::users::by_id(self.core(), &reaction.user_id).await?;
        let mut named = vec![note.user_id.clone()];
        let to_followers = undo || note.visibility != Visibility::Specified;
        if note.visibility == Visibility::Specified && !undo {
            named.extend(note.visible_user_ids.iter().cloned());
        }
        let inboxes = self.note_inboxes(&user, to_followers, &named).await?;
        if inboxes.is_empty() {
            return Ok(Vec::new());
        }
        let like = self.like(reaction, &note).await?;
        let activity = if undo {
            let undo = Activity::new(
                format!("{}/undo", like.id),
                "Undo",
                self.ids().user(&user.id),
                like,
            );
            WithContext::new(undo).to_json()
        } else {
            WithContext::new(like).to_json()
        };
        Ok(self.jobs_for(&user, inboxes, activity))
    }

    /// The ActivityPub id of note `id` (ours or a remote one), if it still exists.
    async fn note_uri(&self, id: Option<&str>) -> Result<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(self
            .store()
            .note_by_id(id)
            .await?
            .map(|n| n.uri.unwrap_or_else(|| self.ids().note(&n.id))))
    }

    async fn note_created(&self, note_id: &str) -> Result<Vec<Job>> {
        let Some(note) = self.store().note_by_id(note_id).await? else {
            return Ok(Vec::new()); // deleted before it went out
        };
        let author = tsudoi_core::users::by_id(self.core(), &note.user_id).await?;
        let inboxes = self
            .note_inboxes(
                &author,
                note.visibility != Visibility::Specified,
                &note
                    .mentions
                    .iter()
                    .chain(note.reply_user_id.iter())
                    .chain(note.renote_user_id.iter())
                    .cloned()
                    .collect::<Vec<_>>(),
            )
            .await?;
        if inboxes.is_empty() {
            return Ok(Vec::new());
        }
        if note.is_pure_renote() {
            let announce = self.announce(&note).await?;
            return Ok(self.jobs_for(&author, inboxes, WithContext::new(announce).to_json()));
        }
        let object = self.note_object(&note).await?;
        let activity = Activity {
            to: object.to.clone(),
            cc: object.cc.clone(),
            published: Some(object.published.clone()),
            ..Activity::new(
                self.ids().note_activity(&note.id),
                "Create",
                self.ids().user(&author.id),
                object,
            )
        };
        Ok(self.jobs_for(&author, inboxes, WithContext::new(activity).to_json()))
    }

    /// A pure renote as an `Announce` of the renoted note, addressed as a note of its
    /// visibility would be, with the renoted author in copy.
    async fn announce(&self, note: &Note) -> Result<Activity<String>> {
        let object = self
            .note_uri(note.renote_id.as_deref())
            .await?
            .ok_or_else(|| Error::invalid("the renoted note is gone"))?;
        let renoted_author = match &note.renote_user_id {
            Some(id) => {
                let user = tsudoi_core::users::by_id(self.core(), id).await?;
                vec![match &user.remote {
                    Some(r) => r.uri.clone(),
                    None => self.ids().user(&user.id),
                }]
            }
            None => Vec::new(),
        };
        let (to, cc) = render::addressing(
            note.visibility,
            &self.ids().followers(&note.user_id),
            &renoted_author,
            &[],
        );
        Ok(Activity {
            to,
            cc,
            published: Some(render::iso(note.created_at)),
            ..Activity::new(
                self.ids().note_activity(&note.id),
                "Announce",
                self.ids().user(&note.user_id),
                object,
            )
        })
    }

    async fn note_deleted(
        &self,
        note_id: &str,
        author_id: &str,
        to_followers: bool,
        notified: &[String],
        pure_renote: bool,
    ) -> Result<Vec<Job>> {
        let author = tsudoi_core::users::by_id(self.core(), author_id).await?;
        let inboxes = self.note_inboxes(&author, to_followers, notified).await?;
        if inboxes.is_empty() {
            return Ok(Vec::new());
        }
        if pure_renote {
            #[derive(serde::Serialize)]
            struct AnnounceRef {
                id: String,
                #[serde(rename = "type")]
                kind: &'static str,
                actor: String,
            }
            let undo = self.undo(
                &author,
                note_id,
                AnnounceRef {
                    id: self.ids().note_activity(note_id),
                    kind: "Announce",
                    actor: self.ids().user(&author.id),
                },
            );
            return Ok(self.jobs_for(&author, inboxes, WithContext::new(undo).to_json()));
        }
        #[derive(serde::Serialize)]
        struct Tombstone {
            id: String,
            #[serde(rename = "type")]
            kind: &'static str,
        }
        let delete = Activity {
            to: vec![crate::ap::PUBLIC.to_owned()],
            ..Activity::new(
                self.ids().activity(&author.id, "delete", note_id),
                "Delete",
                self.ids().user(&author.id),
                Tombstone {
                    id: self.ids().note(note_id),
                    kind: "Tombstone",
                },
            )
        };
        Ok(self.jobs_for(&author, inboxes, WithContext::new(delete).to_json()))
    }

    /// The inboxes a note by `author` goes to: their remote followers' (unless it is for
    /// named users only) and those of the remote users it names.
    async fn note_inboxes(
        &self,
        author: &User,
        to_followers: bool,
        named: &[String],
    ) -> Result<Vec<String>> {
        let mut inboxes = if to_followers {
            self.store().remote_follower_inboxes(&author.id).await?
        } else {
            Vec::new()
        };
        for user in tsudoi_core::users::by_ids(self.core(), named).await? {
            if let Some(inbox) = user.delivery_inbox() {
                inboxes.push(inbox.to_owned());
            }
        }
        inboxes.sort();
        inboxes.dedup();
        Ok(inboxes)
    }

    fn jobs_for(&self, signer: &User, inboxes: Vec<String>, activity: String) -> Vec<Job> {
        inboxes
            .into_iter()
            .map(|inbox| Job::Deliver {
                inbox,
                signer_id: signer.id.clone(),
                activity: activity.clone(),
            })
            .collect()
    }
}

/// The type of the activity `event` sends, if it is not a new note (checked when posted).
fn outgoing_kind(event: &FederationEvent) -> Option<&'static str> {
    Some(match event {
        FederationEvent::NoteCreated { .. } => return None,
        FederationEvent::NoteDeleted { pure_renote, .. } => {
            if *pure_renote {
                "Undo"
            } else {
                "Delete"
            }
        }
        FederationEvent::Followed { .. } => "Follow",
        FederationEvent::Unfollowed { .. } => "Undo",
        FederationEvent::FollowAccepted { .. } => "Accept",
        FederationEvent::FollowRejected { .. } => "Reject",
        FederationEvent::ProfileUpdated { .. } => "Update",
        FederationEvent::Voted { .. } => "Create",
        FederationEvent::PollUpdated { .. } => "Update",
        FederationEvent::Reacted { .. } => "Like",
        FederationEvent::Unreacted { .. } => "Undo",
        FederationEvent::Blocked { .. } => "Block",
        FederationEvent::Unblocked { .. } => "Undo",
    })
}

/// One delivery of `activity`, signed by `signer`, to `to`'s server.
fn one(to: &User, signer: &User, activity: String) -> Vec<Job> {
    match to.delivery_inbox() {
        Some(inbox) => vec![Job::Deliver {
            inbox: inbox.to_owned(),
            signer_id: signer.id.clone(),
            activity,
        }],
        None => Vec::new(),
    }
}

fn actor_uri(user: &User) -> Result<&str> {
    user.remote
        .as_ref()
        .map(|r| r.uri.as_str())
        .ok_or_else(|| Error::invalid(format!("{} is not a remote actor", user.id)))
}

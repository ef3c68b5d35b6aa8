//! Blocking, as Misskey has it: the blocker and the blockee stop following each other, and
//! the blockee can no longer follow the blocker, reply to, renote, react to or vote in what
//! they post. A local user's block of a remote one reaches the remote's server as a Block
//! (and its lifting as an Undo); a remote user's block of a local one arrives the same way.

use tsudoi_model::{Block, Event, FederationEvent, Job, Page, Severed, User, ids};

use crate::{Core, Error, Interaction, Result, follows};

/// `me` blocks `blockee_id` (`blocking/create`).
pub async fn block(core: &Core, me: &User, blockee_id: &str) -> Result<User> {
    if me.id == blockee_id {
        return Err(Error::BlockeeIsYourself);
    }
    let blockee = crate::users::by_id(core, blockee_id).await?;
    block_user(core, me, &blockee, None).await?;
    Ok(blockee)
}

/// `blocker` blocks `blockee`; `uri` is the Block activity when the blocker's server sent it
/// (that server already knows, so nothing is sent back). A local user blocking a remote one
/// sends the Block, and, as Misskey does for servers that ignore Block, the Undo of their own
/// Follow and the Reject of the blockee's.
pub async fn block_user(
    core: &Core,
    blocker: &User,
    blockee: &User,
    uri: Option<&str>,
) -> Result<()> {
    if blocker.id == blockee.id {
        return Err(Error::BlockeeIsYourself);
    }
    let now = ids::now_ms();
    let block = Block {
        id: ids::aidx_at(now),
        blocker_id: blocker.id.clone(),
        blockee_id: blockee.id.clone(),
        created_at: now,
    };
    let federates = follows::federates(blocker, blockee);
    let mut ended = Severed::default();
    let jobs = |severed: &Severed| -> Vec<Job> {
        ended = severed.clone();
        if !federates {
            return Vec::new();
        }
        let blocked = FederationEvent::Blocked {
            block_id: block.id.clone(),
            blocker_id: blocker.id.clone(),
            blockee_id: blockee.id.clone(),
        };
        let unfollowed = severed
            .blocker_followed
            .then(|| FederationEvent::Unfollowed {
                follower_id: blocker.id.clone(),
                followee_id: blockee.id.clone(),
            });
        let rejected = severed
            .blockee_followed
            .then(|| FederationEvent::FollowRejected {
                follower_id: blockee.id.clone(),
                followee_id: blocker.id.clone(),
                activity_id: severed.blockee_request_activity.clone(),
            });
        std::iter::once(blocked)
            .chain(unfollowed)
            .chain(rejected)
            .map(Job::federate)
            .collect()
    };
    if !core.store().block(&block, uri, jobs).await? {
        return Err(Error::AlreadyBlocking);
    }
    // The follows it ended, as the streams of both are told of an unfollow.
    for (follower, followee) in [
        ended.blocker_followed.then_some((blocker, blockee)),
        ended.blockee_followed.then_some((blockee, blocker)),
    ]
    .into_iter()
    .flatten()
    {
        core.publish(Event::Unfollowed {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
        });
    }
    core.publish(Event::Blocked {
        blocker_id: blocker.id.clone(),
        blockee_id: blockee.id.clone(),
    });
    Ok(())
}

/// `me` lifts their block of `blockee_id` (`blocking/delete`).
pub async fn unblock(core: &Core, me: &User, blockee_id: &str) -> Result<User> {
    if me.id == blockee_id {
        return Err(Error::BlockeeIsYourselfUnblock);
    }
    let blockee = crate::users::by_id(core, blockee_id).await?;
    unblock_user(core, me, &blockee).await?;
    Ok(blockee)
}

/// `blocker` lifts their block of `blockee`; a local user's Undo is sent to the remote one.
pub async fn unblock_user(core: &Core, blocker: &User, blockee: &User) -> Result<()> {
    let federates = follows::federates(blocker, blockee);
    let ended = core
        .store()
        .unblock(&blocker.id, &blockee.id, ids::now_ms(), |block| {
            federates
                .then(|| {
                    Job::federate(FederationEvent::Unblocked {
                        block_id: block.id.clone(),
                        blocker_id: blocker.id.clone(),
                        blockee_id: blockee.id.clone(),
                    })
                })
                .into_iter()
                .collect()
        })
        .await?;
    if !ended {
        return Err(Error::NotBlocking);
    }
    core.publish(Event::Unblocked {
        blocker_id: blocker.id.clone(),
        blockee_id: blockee.id.clone(),
    });
    Ok(())
}

/// A page of the blocks `me` made, newest first, each with the blocked user.
pub async fn list(core: &Core, me: &User, page: &Page) -> Result<Vec<(Block, User)>> {
    let blocks = core
        .store()
        .blocks_page(
            &me.id,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    crate::users::with_users(core, blocks, |b| &b.blockee_id).await
}

/// Refuses `actor` doing `what` to notes of `owners` if one of them blocks `actor` (their
/// own notes aside). Asks nothing of the database when there is nobody else to ask about.
pub(crate) async fn refuse_if_blocked(
    core: &Core,
    actor: &User,
    owners: &[&str],
    what: Interaction,
) -> Result<()> {
    let others: Vec<&str> = owners.iter().copied().filter(|o| *o != actor.id).collect();
    if core.store().blocked_by_any(&actor.id, &others).await? {
        return Err(Error::YouHaveBeenBlocked(what));
    }
    Ok(())
}

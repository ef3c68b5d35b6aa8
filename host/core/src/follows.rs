//! Following: direct follows, requests for locked accounts, and listing both.

use std::collections::HashMap;

use tsudoi_model::{
    Event, FederationEvent, Follow, FollowSide, Job, Notification, NotificationKind, Page,
    Relation, User, ids,
};

use crate::{Core, Error, Result, blocks, notifications};

/// What `following/create` did.
#[derive(Debug, PartialEq, Eq)]
pub enum FollowOutcome {
    Followed,
    /// The followee is locked: a request waits for their approval.
    Requested,
}

pub async fn follow(core: &Core, me: &User, followee_id: &str) -> Result<(FollowOutcome, User)> {
    let followee = core
        .store()
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    let outcome = follow_user(core, me, &followee, None).await?;
    Ok((outcome, followee))
}

/// `follower` follows `followee`. `activity_id` is the Follow activity when a remote user
/// asked through their server: a follow that takes effect at once is answered with an
/// Accept, a request keeps the id for the Accept or Reject its approval sends later.
///
/// A local user following a remote one sends a Follow, and follows at once unless the
/// remote account is locked (Misskey's behaviour; a later Reject undoes it).
pub async fn follow_user(
    core: &Core,
    follower: &User,
    followee: &User,
    activity_id: Option<&str>,
) -> Result<FollowOutcome> {
    if follower.id == followee.id {
        return Err(Error::FolloweeIsYourself);
    }
    let relation = core
        .store()
        .relations(&follower.id, std::slice::from_ref(&followee.id))
        .await?
        .pop()
        .unwrap_or_default();
    if relation.is_blocked {
        return Err(Error::Blocked);
    }
    if relation.is_blocking {
        if follower.is_local() {
            return Err(Error::Blocking);
        }
        // A remote user following someone they block has lifted the block (its Undo may
        // have been lost on the way), as Misskey reads it.
        match blocks::unblock_user(core, follower, followee).await {
            Ok(()) | Err(Error::NotBlocking) => {}
            Err(e) => return Err(e),
        }
    }
    if relation.is_following {
        return Err(Error::AlreadyFollowing);
    }
    let now = ids::now_ms();
    let outward = federates(follower, followee).then(|| {
        Job::federate(FederationEvent::Followed {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
        })
    });
    if followee.is_locked {
        let told = tell(
            followee,
            follower,
            NotificationKind::ReceiveFollowRequest,
            now,
        );
        if core
            .store()
            .create_follow_request(
                &Follow {
                    id: ids::aidx_at(now),
                    follower_id: follower.id.clone(),
                    followee_id: followee.id.clone(),
                    created_at: now,
                },
                activity_id,
                outward.as_slice(),
                &told,
            )
            .await?
        {
            core.publish(Event::FollowRequested {
                follower_id: follower.id.clone(),
                followee_id: followee.id.clone(),
            });
            notifications::publish(core, &told);
        }
        return Ok(FollowOutcome::Requested);
    }
    let accept = federates(followee, follower).then(|| {
        Job::federate(FederationEvent::FollowAccepted {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
            activity_id: activity_id.map(str::to_owned),
        })
    });
    let jobs: Vec<Job> = outward.into_iter().chain(accept).collect();
    let told = tell(followee, follower, NotificationKind::Follow, now);
    if !core
        .store()
        .follow(
            &ids::aidx_at(now),
            &follower.id,
            &followee.id,
            now,
            &jobs,
            &told,
        )
        .await?
    {
        return Err(Error::AlreadyFollowing);
    }
    publish_follow(core, follower, followee);
    notifications::publish(core, &told);
    Ok(FollowOutcome::Followed)
}

/// Whether what `actor` does to `target` must be told to another server: a local user
/// acting on a remote one. (A remote user's acts arrive from their server, which already
/// knows.)
pub(crate) fn federates(actor: &User, target: &User) -> bool {
    actor.is_local() && !target.is_local()
}

pub async fn unfollow(core: &Core, me: &User, followee_id: &str) -> Result<User> {
    if me.id == followee_id {
        return Err(Error::FolloweeIsYourselfUnfollow);
    }
    let followee = core
        .store()
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    unfollow_user(core, me, &followee).await?;
    Ok(followee)
}

/// `follower` stops following `followee`; a local user's Undo is sent to the remote one.
pub async fn unfollow_user(core: &Core, follower: &User, followee: &User) -> Result<()> {
    let undo = federates(follower, followee).then(|| {
        Job::federate(FederationEvent::Unfollowed {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
        })
    });
    if !core
        .store()
        .unfollow(&follower.id, &followee.id, ids::now_ms(), undo.as_slice())
        .await?
    {
        return Err(Error::NotFollowing);
    }
    core.publish(Event::Unfollowed {
        follower_id: follower.id.clone(),
        followee_id: followee.id.clone(),
    });
    Ok(())
}

/// `me` accepts `follower_id`'s request.
pub async fn accept_request(core: &Core, me: &User, follower_id: &str) -> Result<()> {
    let follower = core
        .store()
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    accept(core, me, &follower).await
}

/// `followee` accepts `follower`'s pending request; a remote follower's server gets an
/// Accept naming the Follow it sent.
pub async fn accept(core: &Core, followee: &User, follower: &User) -> Result<()> {
    if !core
        .store()
        .has_follow_request(&follower.id, &followee.id)
        .await?
    {
        return Err(Error::NoFollowRequest);
    }
    let accept = if federates(followee, follower) {
        Some(Job::federate(FederationEvent::FollowAccepted {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
            activity_id: core
                .store()
                .follow_request_activity(&follower.id, &followee.id)
                .await?,
        }))
    } else {
        None
    };
    let now = ids::now_ms();
    let told = tell(
        follower,
        followee,
        NotificationKind::FollowRequestAccepted,
        now,
    );
    if core
        .store()
        .follow(
            &ids::aidx_at(now),
            &follower.id,
            &followee.id,
            now,
            accept.as_slice(),
            &told,
        )
        .await?
    {
        publish_follow(core, follower, followee);
        notifications::publish(core, &told);
    }
    Ok(())
}

/// A notification of `kind` for `notifiee` caused by `notifier`, if `notifiee` is local
/// (others' servers notify them).
fn tell(notifiee: &User, notifier: &User, kind: NotificationKind, now: i64) -> Vec<Notification> {
    notifiee
        .is_local()
        .then(|| Notification::new(kind, &notifiee.id, Some(&notifier.id), now))
        .into_iter()
        .collect()
}

/// Tells the streams that `follower` follows `followee` now.
fn publish_follow(core: &Core, follower: &User, followee: &User) {
    core.publish(Event::Followed {
        follower_id: follower.id.clone(),
        followee_id: followee.id.clone(),
    });
}

/// `me` rejects `follower_id`'s request, if there is one.
pub async fn reject_request(core: &Core, me: &User, follower_id: &str) -> Result<()> {
    let follower = core
        .store()
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    let reject = if federates(me, &follower) {
        Some(Job::federate(FederationEvent::FollowRejected {
            follower_id: follower.id.clone(),
            followee_id: me.id.clone(),
            activity_id: core
                .store()
                .follow_request_activity(&follower.id, &me.id)
                .await?,
        }))
    } else {
        None
    };
    // Rejecting a request that is already gone is not an error (Misskey's behaviour), so a
    // double click or a retry succeeds.
    core.store()
        .delete_follow_request(&follower.id, &me.id, ids::now_ms(), reject.as_slice())
        .await?;
    Ok(())
}

/// `me` withdraws the request they sent to `followee_id`.
pub async fn cancel_request(core: &Core, me: &User, followee_id: &str) -> Result<User> {
    let followee = core
        .store()
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if !withdraw_request(core, me, &followee).await? {
        return Err(Error::NoFollowRequest);
    }
    Ok(followee)
}

/// Removes `follower`'s pending request to `followee`; a local user's withdrawal is sent to
/// the remote one as an Undo. Returns false if there was no request.
pub async fn withdraw_request(core: &Core, follower: &User, followee: &User) -> Result<bool> {
    let undo = federates(follower, followee).then(|| {
        Job::federate(FederationEvent::Unfollowed {
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
        })
    });
    Ok(core
        .store()
        .delete_follow_request(&follower.id, &followee.id, ids::now_ms(), undo.as_slice())
        .await?)
}

/// The relations between `me` and each of `others`, in the same order.
pub async fn relations(core: &Core, me: &User, others: &[String]) -> Result<Vec<Relation>> {
    Ok(core.store().relations(&me.id, others).await?)
}

/// A page of `user`'s followers (or followees), newest follow first, each with the user on
/// the other side.
pub async fn follow_list(
    core: &Core,
    user: &User,
    side: FollowSide,
    page: &Page,
) -> Result<Vec<(Follow, User)>> {
    let follows = core
        .store()
        .follows_page(
            &user.id,
            side,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    let other = |f: &Follow| match side {
        FollowSide::Followers => f.follower_id.clone(),
        FollowSide::Following => f.followee_id.clone(),
    };
    let mut users = users_by_id(core, follows.iter().map(other).collect()).await?;
    Ok(follows
        .into_iter()
        .filter_map(|f| {
            let user = users.remove(&other(&f))?;
            Some((f, user))
        })
        .collect())
}

/// A page of the follow requests `me` received (`Followers`) or sent (`Following`), with the
/// follower and the followee of each.
pub async fn requests(
    core: &Core,
    me: &User,
    side: FollowSide,
    page: &Page,
) -> Result<Vec<(Follow, User, User)>> {
    let requests = core
        .store()
        .follow_requests_page(
            &me.id,
            side,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    let users = users_by_id(
        core,
        requests
            .iter()
            .flat_map(|r| [r.follower_id.clone(), r.followee_id.clone()])
            .collect(),
    )
    .await?;
    Ok(requests
        .into_iter()
        .filter_map(|r| {
            let follower = users.get(&r.follower_id)?.clone();
            let followee = users.get(&r.followee_id)?.clone();
            Some((r, follower, followee))
        })
        .collect())
}

async fn users_by_id(core: &Core, mut ids: Vec<String>) -> Result<HashMap<String, User>> {
    ids.sort();
    ids.dedup();
    Ok(core
        .store()
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect())
}

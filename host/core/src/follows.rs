//! Following: direct follows, requests for locked accounts, and listing both.

use std::collections::HashMap;

use tsudoi_model::{Follow, FollowSide, Page, Relation, User, ids};

use crate::{Core, Error, Result};

/// What `following/create` did.
#[derive(Debug, PartialEq, Eq)]
pub enum FollowOutcome {
    Followed,
    /// The followee is locked: a request waits for their approval.
    Requested,
}

pub async fn follow(core: &Core, me: &User, followee_id: &str) -> Result<(FollowOutcome, User)> {
    if me.id == followee_id {
        return Err(Error::FolloweeIsYourself);
    }
    let followee = core
        .store()
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if core.store().is_following(&me.id, &followee.id).await? {
        return Err(Error::AlreadyFollowing);
    }
    let now = ids::now_ms();
    if followee.is_locked {
        core.store()
            .create_follow_request(&ids::aidx_at(now), &me.id, &followee.id, now)
            .await?;
        return Ok((FollowOutcome::Requested, followee));
    }
    if !core
        .store()
        .follow(&ids::aidx_at(now), &me.id, &followee.id, now)
        .await?
    {
        return Err(Error::AlreadyFollowing);
    }
    Ok((FollowOutcome::Followed, followee))
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
    if !core.store().unfollow(&me.id, &followee.id).await? {
        return Err(Error::NotFollowing);
    }
    Ok(followee)
}

/// `me` accepts `follower_id`'s request.
pub async fn accept_request(core: &Core, me: &User, follower_id: &str) -> Result<()> {
    let follower = core
        .store()
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if !core
        .store()
        .has_follow_request(&follower.id, &me.id)
        .await?
    {
        return Err(Error::NoFollowRequest);
    }
    let now = ids::now_ms();
    core.store()
        .follow(&ids::aidx_at(now), &follower.id, &me.id, now)
        .await?;
    Ok(())
}

/// `me` rejects `follower_id`'s request, if there is one.
pub async fn reject_request(core: &Core, me: &User, follower_id: &str) -> Result<()> {
    let follower = core
        .store()
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    // Rejecting a request that is already gone is not an error (Misskey's behaviour), so a
    // double click or a retry succeeds.
    core.store()
        .delete_follow_request(&follower.id, &me.id)
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
    if !core
        .store()
        .delete_follow_request(&me.id, &followee.id)
        .await?
    {
        return Err(Error::NoFollowRequest);
    }
    Ok(followee)
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

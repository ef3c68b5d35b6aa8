//! Following: direct follows, and requests for locked accounts.

use super::{Error, Result, ids};
use crate::app::App;
use crate::store::UserRow;

/// What `following/create` did.
#[derive(Debug, PartialEq, Eq)]
pub enum FollowOutcome {
    Followed,
    /// The followee is locked: a request waits for their approval.
    Requested,
}

pub async fn follow(
    app: &App,
    me: &UserRow,
    followee_id: &str,
) -> Result<(FollowOutcome, UserRow)> {
    if me.id == followee_id {
        return Err(Error::FolloweeIsYourself);
    }
    let followee = app
        .store
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if app.store.is_following(&me.id, &followee.id).await? {
        return Err(Error::AlreadyFollowing);
    }
    let now = ids::now_ms();
    if followee.is_locked {
        app.store
            .create_follow_request(&ids::aidx_at(now), &me.id, &followee.id, now)
            .await?;
        return Ok((FollowOutcome::Requested, followee));
    }
    if !app
        .store
        .follow(&ids::aidx_at(now), &me.id, &followee.id, now)
        .await?
    {
        return Err(Error::AlreadyFollowing);
    }
    Ok((FollowOutcome::Followed, followee))
}

pub async fn unfollow(app: &App, me: &UserRow, followee_id: &str) -> Result<UserRow> {
    if me.id == followee_id {
        return Err(Error::FolloweeIsYourselfUnfollow);
    }
    let followee = app
        .store
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if !app.store.unfollow(&me.id, &followee.id).await? {
        return Err(Error::NotFollowing);
    }
    Ok(followee)
}

/// `me` accepts `follower_id`'s request.
pub async fn accept_request(app: &App, me: &UserRow, follower_id: &str) -> Result<()> {
    let follower = app
        .store
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if !app.store.has_follow_request(&follower.id, &me.id).await? {
        return Err(Error::NoFollowRequest);
    }
    let now = ids::now_ms();
    app.store
        .follow(&ids::aidx_at(now), &follower.id, &me.id, now)
        .await?;
    Ok(())
}

/// `me` rejects `follower_id`'s request, if there is one.
pub async fn reject_request(app: &App, me: &UserRow, follower_id: &str) -> Result<()> {
    let follower = app
        .store
        .user_by_id(follower_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    // Rejecting a request that is already gone is not an error (Misskey's behaviour), so a
    // double click or a retry succeeds.
    app.store
        .delete_follow_request(&follower.id, &me.id)
        .await?;
    Ok(())
}

/// `me` withdraws the request they sent to `followee_id`.
pub async fn cancel_request(app: &App, me: &UserRow, followee_id: &str) -> Result<UserRow> {
    let followee = app
        .store
        .user_by_id(followee_id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    if !app
        .store
        .delete_follow_request(&me.id, &followee.id)
        .await?
    {
        return Err(Error::NoFollowRequest);
    }
    Ok(followee)
}

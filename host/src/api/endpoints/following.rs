//! Following and follow requests.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::follows;
use tsudoi_model::FollowSide;

use super::{Paging, check_id};
use crate::api::entities::{FollowRequest, UserLite};
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "following/create",
            "Follow a user (or request to, if they are locked).",
            create,
        )
        .credential()
        .kind("write:following")
        .per_hour(100),
        Endpoint::new("following/delete", "Stop following a user.", delete)
            .credential()
            .kind("write:following")
            .per_hour(100),
        Endpoint::new(
            "following/requests/list",
            "Follow requests you received.",
            requests_list,
        )
        .credential()
        .kind("read:following"),
        Endpoint::new(
            "following/requests/sent",
            "Follow requests you sent.",
            requests_sent,
        )
        .credential()
        .kind("read:following"),
        Endpoint::new(
            "following/requests/accept",
            "Accept a follow request.",
            accept,
        )
        .credential()
        .kind("write:following"),
        Endpoint::new(
            "following/requests/reject",
            "Reject a follow request.",
            reject,
        )
        .credential()
        .kind("write:following"),
        Endpoint::new(
            "following/requests/cancel",
            "Withdraw a follow request you sent.",
            cancel,
        )
        .credential()
        .kind("write:following"),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserParams {
    user_id: String,
    /// Accepted for compatibility; replies of followees follow Misskey's default.
    #[allow(dead_code)]
    with_replies: Option<bool>,
}

async fn create(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let (_, followee) =
        follows::follow(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(UserLite::of_user(&followee, ctx.settings()))
}

async fn delete(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let followee = follows::unfollow(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(UserLite::of_user(&followee, ctx.settings()))
}

async fn accept(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    follows::accept_request(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    Ok(Reply::NoContent)
}

async fn reject(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    follows::reject_request(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    Ok(Reply::NoContent)
}

async fn cancel(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let followee =
        follows::cancel_request(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(UserLite::of_user(&followee, ctx.settings()))
}

async fn request_page(ctx: Ctx, paging: Paging, side: FollowSide) -> ApiResult<Reply> {
    let page = paging.page(10)?;
    let requests = follows::requests(&ctx.core, ctx.me()?, side, &page).await?;
    json(
        requests
            .iter()
            .map(|(r, follower, followee)| {
                FollowRequest::pack(r, follower, followee, ctx.settings())
            })
            .collect::<Vec<_>>(),
    )
}

async fn requests_list(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    request_page(ctx, p, FollowSide::Followers).await
}

async fn requests_sent(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    request_page(ctx, p, FollowSide::Following).await
}

//! Following and follow requests.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{Paging, check_id};
use crate::api::entities::user_lite;
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};
use crate::core::follows;
use crate::store::FollowSide;

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
        follows::follow(&ctx.app, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(user_lite(&ctx.app, &followee))
}

async fn delete(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let followee = follows::unfollow(&ctx.app, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(user_lite(&ctx.app, &followee))
}

async fn accept(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    follows::accept_request(&ctx.app, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    Ok(Reply::NoContent)
}

async fn reject(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    follows::reject_request(&ctx.app, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    Ok(Reply::NoContent)
}

async fn cancel(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let followee =
        follows::cancel_request(&ctx.app, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    json(user_lite(&ctx.app, &followee))
}

async fn request_page(ctx: Ctx, paging: Paging, side: FollowSide) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let page = paging.page(10)?;
    let rows = ctx
        .app
        .store
        .follow_requests_page(
            &me.id,
            side,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await
        .map_err(ApiError::internal)?;
    let ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.follower_id.clone(), r.followee_id.clone()])
        .collect();
    let users = ctx
        .app
        .store
        .users_by_ids(&ids)
        .await
        .map_err(ApiError::internal)?;
    let lite = |id: &str| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| user_lite(&ctx.app, u))
    };
    json(
        rows.iter()
            .filter_map(|r| {
                Some(json!({
                    "id": r.id,
                    "follower": lite(&r.follower_id)?,
                    "followee": lite(&r.followee_id)?,
                }))
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

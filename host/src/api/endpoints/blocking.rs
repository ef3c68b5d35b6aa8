//! Blocking other users.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::{blocks, follows};
use tsudoi_model::User;

use super::{Paging, check_id};
use crate::api::entities::{Blocking, UserDetailed};
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "blocking/create",
            "Block a user: the follows between you end, and they can no longer follow you \
             or interact with your notes.",
            create,
        )
        .credential()
        .kind("write:blocks")
        .per_hour(20),
        Endpoint::new("blocking/delete", "Stop blocking a user.", delete)
            .credential()
            .kind("write:blocks")
            .per_hour(100),
        Endpoint::new("blocking/list", "The users you block.", list)
            .credential()
            .kind("read:blocks"),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserParams {
    user_id: String,
}

async fn create(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let blockee = blocks::block(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    detailed(&ctx, &blockee).await
}

async fn delete(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let blockee = blocks::unblock(&ctx.core, ctx.me()?, check_id("userId", &p.user_id)?).await?;
    detailed(&ctx, &blockee).await
}

/// The other user as `UserDetailedNotMe`, with the relation as it now stands.
async fn detailed(ctx: &Ctx, user: &User) -> ApiResult<Reply> {
    let relation = follows::relations(&ctx.core, ctx.me()?, std::slice::from_ref(&user.id))
        .await?
        .pop();
    json(UserDetailed::pack(user, relation.as_ref(), ctx.settings()))
}

async fn list(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    let page = p.page(30)?;
    let me = ctx.me()?;
    let blocks = blocks::list(&ctx.core, me, &page).await?;
    let ids: Vec<String> = blocks.iter().map(|(_, u)| u.id.clone()).collect();
    let relations = follows::relations(&ctx.core, me, &ids).await?;
    json(
        blocks
            .iter()
            .zip(&relations)
            .map(|((b, u), r)| Blocking::pack(b, UserDetailed::pack(u, Some(r), ctx.settings())))
            .collect::<Vec<_>>(),
    )
}

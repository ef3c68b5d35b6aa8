//! Reactions: give, take back and list them.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::reactions;

use super::{Paging, check_id};
use crate::api::entities::NoteReaction;
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "notes/reactions/create",
            "React to a note (a unicode emoji, a legacy name such as `like`, or `:name:`); replaces your earlier reaction.",
            create,
        )
        .credential()
        .kind("write:reactions")
        .per_hour(3600),
        Endpoint::new(
            "notes/reactions/delete",
            "Take back your reaction to a note.",
            delete,
        )
        .credential()
        .kind("write:reactions")
        .per_hour(3600),
        Endpoint::new(
            "notes/reactions",
            "Who reacted to a note, and with what (`type` filters).",
            list,
        )
        .get(),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CreateParams {
    note_id: String,
    reaction: String,
}

async fn create(ctx: Ctx, p: CreateParams) -> ApiResult<Reply> {
    let note_id = check_id("noteId", &p.note_id)?;
    reactions::react(&ctx.core, ctx.me()?, note_id, Some(&p.reaction)).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteParams {
    note_id: String,
}

async fn delete(ctx: Ctx, p: DeleteParams) -> ApiResult<Reply> {
    let note_id = check_id("noteId", &p.note_id)?;
    reactions::unreact(&ctx.core, ctx.me()?, note_id).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    note_id: String,
    /// Only this reaction (`:name@.:` names this server's emoji).
    #[serde(rename = "type")]
    only: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn list(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let note_id = check_id("noteId", &p.note_id)?;
    let found = reactions::list(
        &ctx.core,
        ctx.viewer_id(),
        note_id,
        p.only.as_deref().filter(|t| !t.is_empty()),
        &page,
    )
    .await?;
    json(NoteReaction::pack_all(&found, ctx.settings()))
}

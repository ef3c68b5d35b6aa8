//! Favourites (`notes/favorites/*`, `i/favorites`) and the smaller note endpoints clients
//! call while showing a note: `notes/state`, `notes/conversation`, `notes/show-partial-bulk`.

use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::{favorites, notes};

use super::notes::respond;
use super::{Paging, check_id, limit, offset};
use crate::api::entities::{self, PairMap, iso};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "notes/favorites/create",
            "Keep a note among your favorites.",
            create,
        )
        .credential()
        .kind("write:favorites")
        .per_hour(20),
        Endpoint::new(
            "notes/favorites/delete",
            "Take a note from your favorites.",
            delete,
        )
        .credential()
        .kind("write:favorites"),
        Endpoint::new("i/favorites", "Your favorite notes, newest first.", list)
            .credential()
            .kind("read:favorites"),
        Endpoint::new(
            "notes/state",
            "Whether you keep a note among your favorites, and whether its thread is muted.",
            state,
        )
        .credential()
        .kind("read:account"),
        Endpoint::new(
            "notes/conversation",
            "The notes a note replies to, nearest first.",
            conversation,
        ),
        Endpoint::new(
            "notes/show-partial-bulk",
            "The reactions of up to 100 notes (what a client refreshes on a timeline).",
            partial_bulk,
        ),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NoteIdParams {
    note_id: String,
}

fn no_such_note(e: tsudoi_core::Error, id: &'static str) -> ApiError {
    match e {
        tsudoi_core::Error::NoSuchNote => {
            ApiError::new(StatusCode::BAD_REQUEST, "NO_SUCH_NOTE", "No such note.", id)
        }
        e => e.into(),
    }
}

async fn create(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    let id = check_id("noteId", &p.note_id)?;
    favorites::add(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| no_such_note(e, "6dd26674-e060-4816-909a-45ba3f4da458"))?;
    Ok(Reply::NoContent)
}

async fn delete(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    let id = check_id("noteId", &p.note_id)?;
    favorites::remove(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| no_such_note(e, "80848a2c-398f-4343-baa9-df1d57696c56"))?;
    Ok(Reply::NoContent)
}

/// Misskey's `NoteFavorite`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteFavorite<'a> {
    id: &'a str,
    created_at: String,
    note_id: &'a str,
    note: entities::Note<'a>,
}

async fn list(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let kept = favorites::page(&ctx.core, me, &p.page(10)?).await?;
    let (favs, notes): (Vec<_>, Vec<_>) = kept.into_iter().unzip();
    let presented = notes::present(&ctx.core, notes.into(), Some(&me.id)).await?;
    json(
        favs.iter()
            .zip(entities::Note::pack_all(&presented, ctx.settings()))
            .map(|(f, note)| NoteFavorite {
                id: &f.id,
                created_at: iso(f.created_at),
                note_id: &f.note_id,
                note,
            })
            .collect::<Vec<_>>(),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteState {
    is_favorited: bool,
    /// Threads cannot be muted here.
    is_muted_thread: bool,
}

async fn state(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    let id = check_id("noteId", &p.note_id)?;
    json(NoteState {
        is_favorited: favorites::is_favorite(&ctx.core, ctx.me()?, id).await?,
        is_muted_thread: false,
    })
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ConversationParams {
    note_id: String,
    /// 1–100, 10 by default.
    limit: Option<i64>,
    /// How many of the nearest ancestors to skip.
    offset: Option<i64>,
}

async fn conversation(ctx: Ctx, p: ConversationParams) -> ApiResult<Reply> {
    let id = check_id("noteId", &p.note_id)?;
    let limit = limit(p.limit, 10)? as usize;
    let offset = offset(p.offset)? as usize;
    let chain = notes::conversation(&ctx.core, id, ctx.viewer_id(), limit, offset)
        .await
        .map_err(|e| no_such_note(e, "e1035875-9551-45ec-afa8-1ded1fcb53c8"))?;
    respond(&ctx, chain.into()).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct BulkParams {
    /// 1–100 note ids.
    note_ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartialNote<'a> {
    id: &'a str,
    reactions: PairMap<&'a str, i64>,
    reaction_emojis: PairMap<String, &'a str>,
}

async fn partial_bulk(ctx: Ctx, p: BulkParams) -> ApiResult<Reply> {
    if p.note_ids.is_empty() || p.note_ids.len() > 100 {
        return Err(ApiError::invalid_param("noteIds", "must list 1 to 100 ids"));
    }
    for id in &p.note_ids {
        check_id("noteIds", id)?;
    }
    let presented = notes::present_visible(&ctx.core, &p.note_ids, ctx.viewer_id()).await?;
    json(
        presented
            .notes
            .iter()
            .map(|n| PartialNote {
                id: &n.id,
                reactions: PairMap(
                    presented
                        .reactions(&n.id)
                        .map(|r| r.counts.iter().map(|(k, c)| (k.as_str(), *c)).collect())
                        .unwrap_or_default(),
                ),
                reaction_emojis: PairMap(presented.reaction_emojis(&n.id)),
            })
            .collect::<Vec<_>>(),
    )
}

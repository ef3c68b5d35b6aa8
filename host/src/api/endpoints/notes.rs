//! Notes: create, show, delete, renotes, replies and polls.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::notes::{self, CreateNote, PollInput};
use tsudoi_core::timelines;
use tsudoi_model::{Listing, Note, NoteFilter, NoteSource, ReactionAcceptance, Visibility};

use super::{Paging, check_id};
use crate::api::entities::{self, CreatedNote};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

/// `notes` as the caller sees them, as Misskey `Note`s.
pub(super) async fn respond(ctx: &Ctx, listing: Listing) -> ApiResult<Reply> {
    let presented = notes::present(&ctx.core, listing, ctx.viewer_id()).await?;
    json(entities::Note::pack_all(&presented, ctx.settings()))
}

/// One note as the caller sees it.
pub(super) async fn respond_one(ctx: &Ctx, note: Note) -> ApiResult<Reply> {
    let presented = notes::present(&ctx.core, vec![note].into(), ctx.viewer_id()).await?;
    json(entities::Note::pack_first(&presented, ctx.settings()))
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "notes/create",
            "Post a note, reply, renote or quote, optionally with a poll.",
            create,
        )
        .credential()
        .kind("write:notes")
        .per_hour(300),
        Endpoint::new("notes/show", "A note the caller may see.", show),
        Endpoint::new("notes/delete", "Delete one of your notes.", delete)
            .credential()
            .kind("write:notes")
            .per_hour(300),
        Endpoint::new("notes/unrenote", "Remove your renotes of a note.", unrenote)
            .credential()
            .kind("write:notes")
            .per_hour(300),
        Endpoint::new("notes/children", "Replies and quotes of a note.", children),
        Endpoint::new("notes/replies", "Replies to a note.", replies),
        Endpoint::new("notes/renotes", "Renotes and quotes of a note.", renotes),
        Endpoint::new("notes/polls/vote", "Vote in a poll.", vote)
            .credential()
            .kind("write:votes"),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PollParams {
    choices: Vec<String>,
    #[serde(default)]
    multiple: bool,
    expires_at: Option<i64>,
    expired_after: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CreateParams {
    text: Option<String>,
    cw: Option<String>,
    /// public (default), home, followers or specified.
    visibility: Option<String>,
    #[serde(default)]
    visible_user_ids: Vec<String>,
    #[serde(default)]
    local_only: bool,
    reply_id: Option<String>,
    renote_id: Option<String>,
    poll: Option<PollParams>,
    /// Who may react how: likeOnly, likeOnlyForRemote, nonSensitiveOnly,
    /// nonSensitiveOnlyForLocalLikeOnlyForRemote, or null for everything.
    reaction_acceptance: Option<String>,
    /// Files of your drive to show (at most 16), in order.
    file_ids: Option<Vec<String>>,
    /// The same, under its older name (used when `fileIds` is absent).
    media_ids: Option<Vec<String>>,
}

async fn create(ctx: Ctx, p: CreateParams) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let file_ids = p.file_ids.or(p.media_ids).unwrap_or_default();
    for id in &file_ids {
        check_id("fileIds", id)?;
    }
    if p.text.as_deref() == Some("") {
        return Err(ApiError::invalid_param(
            "text",
            "must NOT have fewer than 1 characters",
        ));
    }
    if p.cw.as_deref() == Some("") {
        return Err(ApiError::invalid_param(
            "cw",
            "must NOT have fewer than 1 characters",
        ));
    }
    let visibility = match p.visibility.as_deref() {
        None => Visibility::Public,
        Some(v) => parse_visibility(v)?,
    };
    let reaction_acceptance = p
        .reaction_acceptance
        .as_deref()
        .map(str::parse::<ReactionAcceptance>)
        .transpose()
        .map_err(|_| {
            ApiError::invalid_param(
                "reactionAcceptance",
                "must be null, likeOnly, likeOnlyForRemote, nonSensitiveOnly or \
                 nonSensitiveOnlyForLocalLikeOnlyForRemote",
            )
        })?;
    for id in &p.visible_user_ids {
        check_id("visibleUserIds", id)?;
    }
    if let Some(id) = &p.reply_id {
        check_id("replyId", id)?;
    }
    if let Some(id) = &p.renote_id {
        check_id("renoteId", id)?;
    }
    let note = notes::create(
        &ctx.core,
        me,
        CreateNote {
            text: p.text,
            cw: p.cw,
            visibility,
            visible_user_ids: p.visible_user_ids,
            local_only: p.local_only,
            reply_id: p.reply_id,
            renote_id: p.renote_id,
            poll: p.poll.map(|p| PollInput {
                choices: p.choices,
                multiple: p.multiple,
                expires_at: p.expires_at,
                expired_after: p.expired_after,
            }),
            reaction_acceptance,
            file_ids,
        },
    )
    .await
    .map_err(|e| match e {
        tsudoi_core::Error::NoSuchFile => ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "NO_SUCH_FILE",
            "Some files are not found.",
            "b6992544-63e7-67f0-fa7f-32444b1b5306",
        ),
        e => e.into(),
    })?;
    let presented = notes::present(&ctx.core, vec![note].into(), Some(&me.id)).await?;
    json(CreatedNote {
        created_note: entities::Note::pack_first(&presented, ctx.settings()),
    })
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NoteIdParams {
    note_id: String,
}

async fn show(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    let note = notes::view(&ctx.core, check_id("noteId", &p.note_id)?, ctx.viewer_id()).await?;
    respond_one(&ctx, note).await
}

async fn delete(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    notes::delete(&ctx.core, ctx.me()?, check_id("noteId", &p.note_id)?).await?;
    Ok(Reply::NoContent)
}

async fn unrenote(ctx: Ctx, p: NoteIdParams) -> ApiResult<Reply> {
    notes::unrenote(&ctx.core, ctx.me()?, check_id("noteId", &p.note_id)?).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NoteListParams {
    note_id: String,
    #[serde(flatten)]
    paging: Paging,
}

async fn list_of(
    ctx: Ctx,
    p: NoteListParams,
    source: fn(String) -> NoteSource,
) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let note_id = check_id("noteId", &p.note_id)?.to_owned();
    let viewer = ctx.viewer_id();
    let rows = timelines::list(
        &ctx.core,
        source(note_id),
        viewer,
        &NoteFilter::default(),
        &page,
    )
    .await?;
    respond(&ctx, rows).await
}

async fn children(ctx: Ctx, p: NoteListParams) -> ApiResult<Reply> {
    list_of(ctx, p, |note_id| NoteSource::Children { note_id }).await
}

async fn replies(ctx: Ctx, p: NoteListParams) -> ApiResult<Reply> {
    list_of(ctx, p, |note_id| NoteSource::Replies { note_id }).await
}

async fn renotes(ctx: Ctx, p: NoteListParams) -> ApiResult<Reply> {
    // Misskey checks that the note exists (and we that the caller may see it).
    notes::show(&ctx.core, check_id("noteId", &p.note_id)?, ctx.viewer_id()).await?;
    list_of(ctx, p, |note_id| NoteSource::Renotes { note_id }).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct VoteParams {
    note_id: String,
    choice: i64,
}

async fn vote(ctx: Ctx, p: VoteParams) -> ApiResult<Reply> {
    notes::vote(
        &ctx.core,
        ctx.me()?,
        check_id("noteId", &p.note_id)?,
        p.choice,
    )
    .await?;
    Ok(Reply::NoContent)
}

/// A visibility as clients name it.
pub(super) fn parse_visibility(v: &str) -> ApiResult<Visibility> {
    v.parse().map_err(|_| {
        ApiError::invalid_param(
            "visibility",
            "must be one of public, home, followers, specified",
        )
    })
}

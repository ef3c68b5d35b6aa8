//! Timelines and other note lists: home, local, social (hybrid), global, a user's notes, and
//! mentions.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::timelines;
use tsudoi_model::{NoteFilter, NoteSource, RankedTimeline};

use super::notes::{parse_visibility, respond};
use super::{Paging, check_id};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "notes/timeline",
            "Home timeline: you and the people you follow.",
            home,
        )
        .credential()
        .kind("read:account"),
        Endpoint::new(
            "notes/local-timeline",
            "Public notes of this server's users.",
            local,
        ),
        Endpoint::new(
            "notes/hybrid-timeline",
            "Social timeline: home and local together.",
            hybrid,
        )
        .credential()
        .kind("read:account"),
        Endpoint::new(
            "notes/global-timeline",
            "All public notes this server knows.",
            global,
        ),
        Endpoint::new("users/notes", "A user's notes.", user_notes),
        Endpoint::new("notes/mentions", "Notes that mention you.", mentions)
            .credential()
            .kind("read:account"),
    ]
}

fn yes() -> bool {
    true
}

/// The home timeline's parameters (also the user-list timeline's).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct HomeParams {
    #[serde(default)]
    with_files: bool,
    #[serde(default = "yes")]
    with_renotes: bool,
    #[serde(default = "yes")]
    include_my_renotes: bool,
    #[serde(default = "yes")]
    include_renoted_my_notes: bool,
    #[serde(default = "yes")]
    include_local_renotes: bool,
    /// Accepted for compatibility: this server always fills the page.
    #[serde(default)]
    #[allow(dead_code)]
    allow_partial: bool,
    #[serde(flatten)]
    pub(super) paging: Paging,
}

impl HomeParams {
    pub(super) fn filter(&self) -> NoteFilter {
        NoteFilter {
            with_renotes: self.with_renotes,
            only_with_files: self.with_files,
            include_my_renotes: self.include_my_renotes,
            include_renoted_my_notes: self.include_renoted_my_notes,
            include_local_renotes: self.include_local_renotes,
            ..NoteFilter::default()
        }
    }
}

async fn home(ctx: Ctx, p: HomeParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let rows = timelines::home(&ctx.core, ctx.me()?, &p.filter(), &page).await?;
    respond(&ctx, rows).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct LocalParams {
    #[serde(default)]
    with_files: bool,
    #[serde(default = "yes")]
    with_renotes: bool,
    #[serde(default)]
    with_replies: bool,
    #[serde(default)]
    #[allow(dead_code)]
    allow_partial: bool,
    #[serde(flatten)]
    paging: Paging,
}

impl LocalParams {
    fn filter(&self) -> ApiResult<NoteFilter> {
        if self.with_files && self.with_replies {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "BOTH_WITH_REPLIES_AND_WITH_FILES",
                "Specifying both withReplies and withFiles is not supported",
                "dd9c8400-1cb5-4eef-8a31-200c5f933793",
            ));
        }
        Ok(NoteFilter {
            with_renotes: self.with_renotes,
            with_replies: self.with_replies,
            only_with_files: self.with_files,
            ..NoteFilter::default()
        })
    }
}

async fn local(ctx: Ctx, p: LocalParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let rows = timelines::ranked(
        &ctx.core,
        RankedTimeline::Local,
        ctx.viewer_id(),
        &p.filter()?,
        &page,
    )
    .await?;
    respond(&ctx, rows).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct HybridParams {
    #[serde(flatten)]
    local: LocalParams,
    #[serde(default = "yes")]
    include_my_renotes: bool,
    #[serde(default = "yes")]
    include_renoted_my_notes: bool,
    #[serde(default = "yes")]
    include_local_renotes: bool,
}

async fn hybrid(ctx: Ctx, p: HybridParams) -> ApiResult<Reply> {
    let page = p.local.paging.page(10)?;
    let filter = NoteFilter {
        include_my_renotes: p.include_my_renotes,
        include_renoted_my_notes: p.include_renoted_my_notes,
        include_local_renotes: p.include_local_renotes,
        ..p.local.filter()?
    };
    let rows = timelines::hybrid(&ctx.core, ctx.me()?, &filter, &page).await?;
    respond(&ctx, rows).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct GlobalParams {
    #[serde(default)]
    with_files: bool,
    #[serde(default = "yes")]
    with_renotes: bool,
    #[serde(flatten)]
    paging: Paging,
}

async fn global(ctx: Ctx, p: GlobalParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let filter = NoteFilter {
        with_renotes: p.with_renotes,
        only_with_files: p.with_files,
        ..NoteFilter::default()
    };
    let rows = timelines::ranked(
        &ctx.core,
        RankedTimeline::Global,
        ctx.viewer_id(),
        &filter,
        &page,
    )
    .await?;
    respond(&ctx, rows).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserNotesParams {
    user_id: String,
    #[serde(default)]
    with_replies: bool,
    #[serde(default = "yes")]
    with_renotes: bool,
    /// Accepted for compatibility; there are no channels yet.
    #[serde(default)]
    #[allow(dead_code)]
    with_channel_notes: bool,
    #[serde(default)]
    with_files: bool,
    #[serde(default)]
    #[allow(dead_code)]
    allow_partial: bool,
    #[serde(flatten)]
    paging: Paging,
}

async fn user_notes(ctx: Ctx, p: UserNotesParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    if p.with_files && p.with_replies {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BOTH_WITH_REPLIES_AND_WITH_FILES",
            "Specifying both withReplies and withFiles is not supported",
            "91c8cb9f-36ed-46e7-9ca2-7df96ed6e222",
        ));
    }
    let filter = NoteFilter {
        with_renotes: p.with_renotes,
        with_replies: p.with_replies,
        only_with_files: p.with_files,
        ..NoteFilter::default()
    };
    let source = NoteSource::User {
        user_id: check_id("userId", &p.user_id)?.to_owned(),
    };
    let rows = timelines::list(&ctx.core, source, ctx.viewer_id(), &filter, &page).await?;
    respond(&ctx, rows).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MentionsParams {
    /// Only mentions by people you follow.
    #[serde(default)]
    following: bool,
    /// Only notes of this visibility (`specified` lists direct notes).
    visibility: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn mentions(ctx: Ctx, p: MentionsParams) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let page = p.paging.page(10)?;
    let filter = NoteFilter {
        only_followed_authors: p.following,
        visibility: p.visibility.as_deref().map(parse_visibility).transpose()?,
        ..NoteFilter::default()
    };
    let source = NoteSource::Mentions {
        user_id: me.id.clone(),
    };
    let rows = timelines::list(&ctx.core, source, Some(&me.id), &filter, &page).await?;
    respond(&ctx, rows).await
}

//! Search: notes (`notes/search`, `notes/search-by-tag`), users (`users/search`,
//! `users/search-by-username-and-host`) and hashtags (`hashtags/search|show|trend`).

use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::search::{self, NoteQuery};
use tsudoi_model::NoteFilter;
use tsudoi_store::search::Origin;

use super::notes::respond;
use super::{Paging, check_id, limit, offset};
use crate::api::entities::{UserDetailed, UserLite};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "notes/search",
            "Notes whose text or CW contains every word of `query` (substrings, case aside), \
             as you may see them, newest first.",
            notes_search,
        ),
        Endpoint::new(
            "notes/search-by-tag",
            "Notes with a hashtag (`tag`), or with every tag of one of the groups of `query`.",
            by_tag,
        ),
        Endpoint::new(
            "users/search",
            "Users whose name contains `query` or whose username starts with it.",
            users_search,
        ),
        Endpoint::new(
            "users/search-by-username-and-host",
            "Users whose username starts with `username` on servers whose host starts with \
             `host` (`.`: this server), those you follow first.",
            by_username_and_host,
        ),
        Endpoint::new(
            "hashtags/search",
            "Hashtags starting with `query`, most used first.",
            hashtags_search,
        ),
        Endpoint::new("hashtags/show", "A hashtag and who used it.", hashtag_show),
        Endpoint::new(
            "hashtags/trend",
            "The hashtags most users put in public notes in the last hour.",
            trend,
        )
        .get(),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NotesSearchParams {
    query: String,
    #[serde(flatten)]
    paging: Paging,
    /// Accepted, as Misskey does, and not used: page with `untilId`.
    #[allow(dead_code)]
    offset: Option<i64>,
    /// `.` for this server's users; another host for that server's.
    host: Option<String>,
    user_id: Option<String>,
    /// Channels do not exist here: a search in one finds nothing.
    channel_id: Option<String>,
}

async fn notes_search(ctx: Ctx, p: NotesSearchParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    if p.channel_id.is_some() {
        return json(Vec::<()>::new());
    }
    let user_id = p
        .user_id
        .map(|u| check_id("userId", &u).map(str::to_owned))
        .transpose()?;
    let query = NoteQuery {
        query: p.query,
        user_id,
        host: p.host,
    };
    let listing = search::notes(&ctx.core, ctx.viewer_id(), query, &page).await?;
    respond(&ctx, listing).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ByTagParams {
    /// One hashtag (with or without `#`).
    tag: Option<String>,
    /// Groups of hashtags: a note must have every tag of one group.
    query: Option<Vec<Vec<String>>>,
    /// Only replies (`true`), no replies (`false`), or both (`null`).
    reply: Option<bool>,
    /// The same for renotes and quotes.
    renote: Option<bool>,
    #[serde(default)]
    with_files: bool,
    /// The same for notes with a poll.
    poll: Option<bool>,
    #[serde(flatten)]
    paging: Paging,
}

async fn by_tag(ctx: Ctx, p: ByTagParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let any_of = match (p.tag, p.query) {
        (Some(tag), _) => vec![vec![tag]],
        (None, Some(query)) => query,
        (None, None) => return Err(ApiError::invalid_param("tag", "tag or query is required")),
    };
    let filter = NoteFilter {
        reply: p.reply,
        renote: p.renote,
        poll: p.poll,
        only_with_files: p.with_files,
        ..NoteFilter::default()
    };
    let listing = search::notes_by_tags(&ctx.core, ctx.viewer_id(), any_of, &filter, &page).await?;
    respond(&ctx, listing).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UsersSearchParams {
    query: String,
    offset: Option<i64>,
    limit: Option<i64>,
    /// `local`, `remote` or `combined` (the default).
    origin: Option<String>,
    /// `UserDetailed` (the default) or `UserLite`.
    detail: Option<bool>,
}

/// Users as `detail` asks: detailed (Misskey's default) or lite.
#[derive(Serialize)]
#[serde(untagged)]
enum Found<'a> {
    Detailed(Box<UserDetailed<'a>>),
    Lite(UserLite<'a>),
}

fn pack_users<'a>(ctx: &Ctx, users: &'a [tsudoi_model::User], detail: bool) -> Vec<Found<'a>> {
    users
        .iter()
        .map(|u| {
            if detail {
                Found::Detailed(Box::new(UserDetailed::pack(u, None, ctx.settings())))
            } else {
                Found::Lite(UserLite::of_user(u, ctx.settings()))
            }
        })
        .collect()
}

async fn users_search(ctx: Ctx, p: UsersSearchParams) -> ApiResult<Reply> {
    let origin = match p.origin.as_deref() {
        None | Some("combined") => Origin::Combined,
        Some("local") => Origin::Local,
        Some("remote") => Origin::Remote,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "origin",
                "must be local, remote or combined",
            ));
        }
    };
    let users = search::users(
        &ctx.core,
        ctx.user.as_ref(),
        &p.query,
        origin,
        limit(p.limit, 10)?,
        offset(p.offset)?,
    )
    .await
    .map_err(|e| match e {
        // Misskey guards it with the `canSearchUsers` role policy.
        tsudoi_core::Error::SearchUnavailable => ApiError::new(
            StatusCode::FORBIDDEN,
            "ROLE_PERMISSION_DENIED",
            "You are not assigned to a required role.",
            "7f86f06f-7e15-4057-8561-f4b6d4ac755a",
        ),
        e => e.into(),
    })?;
    json(pack_users(&ctx, &users, p.detail.unwrap_or(true)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ByUsernameParams {
    username: Option<String>,
    host: Option<String>,
    limit: Option<i64>,
    detail: Option<bool>,
}

async fn by_username_and_host(ctx: Ctx, p: ByUsernameParams) -> ApiResult<Reply> {
    let users = search::users_by_username_and_host(
        &ctx.core,
        ctx.user.as_ref(),
        p.username.as_deref(),
        p.host.as_deref(),
        limit(p.limit, 10)?,
    )
    .await?;
    json(pack_users(&ctx, &users, p.detail.unwrap_or(true)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct HashtagsSearchParams {
    query: String,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn hashtags_search(ctx: Ctx, p: HashtagsSearchParams) -> ApiResult<Reply> {
    json(search::hashtags(&ctx.core, &p.query, limit(p.limit, 10)?, offset(p.offset)?).await?)
}

#[derive(Deserialize, JsonSchema)]
struct TagParams {
    tag: String,
}

/// Misskey's `Hashtag`. Profiles carry no hashtags here, so nobody is "attached".
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hashtag {
    tag: String,
    mentioned_users_count: i64,
    mentioned_local_users_count: i64,
    mentioned_remote_users_count: i64,
    attached_users_count: i64,
    attached_local_users_count: i64,
    attached_remote_users_count: i64,
}

async fn hashtag_show(ctx: Ctx, p: TagParams) -> ApiResult<Reply> {
    let (tag, users) = search::hashtag(&ctx.core, &p.tag).await?;
    json(Hashtag {
        tag,
        mentioned_users_count: users.users,
        mentioned_local_users_count: users.local_users,
        mentioned_remote_users_count: users.remote_users,
        attached_users_count: 0,
        attached_local_users_count: 0,
        attached_remote_users_count: 0,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrendEntry<'a> {
    tag: &'a str,
    chart: &'a [i64],
    users_count: i64,
}

async fn trend(ctx: Ctx, _: super::NoParams) -> ApiResult<Reply> {
    let trends = search::trends(&ctx.core).await?;
    json(
        trends
            .iter()
            .map(|t| TrendEntry {
                tag: &t.tag,
                chart: &t.chart,
                users_count: t.users,
            })
            .collect::<Vec<_>>(),
    )
}

//! User lists (`users/lists/*`) and their timeline (`notes/user-list-timeline`); see
//! `tsudoi_core::user_lists`.

use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::user_lists;

use super::notes::respond;
use super::timelines::HomeParams;
use super::{Paging, check_id};
use crate::api::entities::{UserList, UserListMembership};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("users/lists/create", "Make a list of users.", create)
            .credential()
            .kind("write:account"),
        Endpoint::new("users/lists/delete", "Delete one of your lists.", delete)
            .credential()
            .kind("write:account"),
        Endpoint::new(
            "users/lists/list",
            "Your lists, or another local user's public lists (`userId`).",
            list,
        )
        .kind("read:account"),
        Endpoint::new(
            "users/lists/show",
            "One of your lists, or anyone's public list (`forPublic`, with how many like it).",
            show,
        )
        .kind("read:account"),
        Endpoint::new(
            "users/lists/update",
            "Rename a list of yours, or make it public or private.",
            update,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new("users/lists/push", "Add a user to one of your lists.", push)
            .credential()
            .kind("write:account")
            .per_hour(30),
        Endpoint::new(
            "users/lists/pull",
            "Take a user out of one of your lists.",
            pull,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new(
            "users/lists/update-membership",
            "Whether one of your lists shows a member's replies to others.",
            update_membership,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new(
            "users/lists/get-memberships",
            "The members of a list, newest first, with their settings.",
            memberships,
        )
        .kind("read:account"),
        Endpoint::new("users/lists/favorite", "Like a public list.", favorite)
            .credential()
            .kind("write:account"),
        Endpoint::new(
            "users/lists/unfavorite",
            "Stop liking a public list.",
            unfavorite,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new(
            "users/lists/create-from-public",
            "Copy a public list as a list of your own.",
            create_from_public,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new(
            "notes/user-list-timeline",
            "The notes of the members of one of your lists.",
            timeline,
        )
        .credential()
        .kind("read:account"),
    ]
}

/// Misskey gives the errors of each list endpoint ids of its own: `(code, id)` pairs that
/// replace the general ones.
fn with_ids(
    ids: &'static [(&'static str, &'static str)],
) -> impl Fn(tsudoi_core::Error) -> ApiError {
    move |e| {
        let e = ApiError::from(e);
        match ids.iter().find(|(code, _)| *code == e.code) {
            Some((_, id)) => e.with_id(id),
            None => e,
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NameParams {
    name: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    list_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MemberParams {
    list_id: String,
    user_id: String,
}

async fn create(ctx: Ctx, p: NameParams) -> ApiResult<Reply> {
    let list = user_lists::create(&ctx.core, ctx.me()?, &p.name).await?;
    json(UserList::pack(&list))
}

async fn delete(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    user_lists::delete(&ctx.core, ctx.me()?, id)
        .await
        .map_err(with_ids(&[(
            "NO_SUCH_LIST",
            "78436795-db79-42f5-b1e2-55ea2cf19166",
        )]))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct OfUserParams {
    user_id: Option<String>,
}

async fn list(ctx: Ctx, p: OfUserParams) -> ApiResult<Reply> {
    let user_id = p
        .user_id
        .as_deref()
        .map(|u| check_id("userId", u))
        .transpose()?;
    let lists = user_lists::of_user(&ctx.core, ctx.user.as_ref(), user_id)
        .await
        .map_err(with_ids(&[
            ("NO_SUCH_USER", "a8af4a82-0980-4cc4-a6af-8b0ffd54465e"),
            ("INVALID_PARAM", "ab36de0e-29e9-48cb-9732-d82f1281620d"),
        ]))?;
    json(lists.iter().map(UserList::pack).collect::<Vec<_>>())
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ShowParams {
    list_id: String,
    #[serde(default)]
    for_public: bool,
}

async fn show(ctx: Ctx, p: ShowParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    let viewer = ctx.user.as_ref();
    let list = user_lists::shown(&ctx.core, viewer, id, p.for_public).await?;
    let packed = UserList::pack(&list);
    if p.for_public && list.is_public {
        let likes = user_lists::likes(&ctx.core, &list, viewer).await?;
        return json(packed.with_likes(likes));
    }
    json(packed)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    list_id: String,
    name: Option<String>,
    is_public: Option<bool>,
}

async fn update(ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    let list = user_lists::update(&ctx.core, ctx.me()?, id, p.name.as_deref(), p.is_public)
        .await
        .map_err(with_ids(&[(
            "NO_SUCH_LIST",
            "796666fe-3dff-4d39-becb-8a5932c1d5b7",
        )]))?;
    json(UserList::pack(&list))
}

async fn push(ctx: Ctx, p: MemberParams) -> ApiResult<Reply> {
    let list_id = check_id("listId", &p.list_id)?;
    let user_id = check_id("userId", &p.user_id)?;
    user_lists::push(&ctx.core, ctx.me()?, list_id, user_id)
        .await
        .map_err(with_ids(&[
            ("NO_SUCH_LIST", "2214501d-ac96-4049-b717-91e42272a711"),
            ("NO_SUCH_USER", "a89abd3d-f0bc-4cce-beb1-2f446f4f1e6a"),
        ]))?;
    Ok(Reply::NoContent)
}

/// `pull` and `update-membership` share their ids in Misskey.
const MEMBER_IDS: &[(&str, &str)] = &[
    ("NO_SUCH_LIST", "7f44670e-ab16-43b8-b4c1-ccd2ee89cc02"),
    ("NO_SUCH_USER", "588e7f72-c744-4a61-b180-d354e912bda2"),
];

async fn pull(ctx: Ctx, p: MemberParams) -> ApiResult<Reply> {
    let list_id = check_id("listId", &p.list_id)?;
    let user_id = check_id("userId", &p.user_id)?;
    user_lists::pull(&ctx.core, ctx.me()?, list_id, user_id)
        .await
        .map_err(with_ids(MEMBER_IDS))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MembershipParams {
    list_id: String,
    user_id: String,
    /// Absent: unchanged.
    with_replies: Option<bool>,
}

async fn update_membership(ctx: Ctx, p: MembershipParams) -> ApiResult<Reply> {
    let list_id = check_id("listId", &p.list_id)?;
    let user_id = check_id("userId", &p.user_id)?;
    let me = ctx.me()?;
    match p.with_replies {
        Some(with_replies) => {
            user_lists::set_replies(&ctx.core, me, list_id, user_id, with_replies).await
        }
        // Nothing to change; the list and the member must still exist.
        None => user_lists::owned(&ctx.core, me, list_id).await.map(drop),
    }
    .map_err(with_ids(MEMBER_IDS))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MembershipsParams {
    list_id: String,
    #[serde(default)]
    for_public: bool,
    #[serde(flatten)]
    paging: Paging,
}

async fn memberships(ctx: Ctx, p: MembershipsParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    let page = p.paging.page(30)?;
    let members =
        user_lists::memberships(&ctx.core, ctx.user.as_ref(), id, p.for_public, &page).await?;
    json(
        members
            .iter()
            .map(|(m, u)| UserListMembership::pack(m, u, ctx.settings()))
            .collect::<Vec<_>>(),
    )
}

fn no_such_user_list(id: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "NO_SUCH_USER_LIST",
        "No such user list.",
        id,
    )
}

async fn favorite(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    user_lists::favorite(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| match e {
            tsudoi_core::Error::NoSuchList => {
                no_such_user_list("7dbaf3cf-7b42-4b8f-b431-b3919e580dbe")
            }
            tsudoi_core::Error::AlreadyFavorited => ApiError::new(
                StatusCode::BAD_REQUEST,
                "ALREADY_FAVORITED",
                "The list has already been favorited.",
                "6425bba0-985b-461e-af1b-518070e72081",
            ),
            e => e.into(),
        })?;
    Ok(Reply::NoContent)
}

async fn unfavorite(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    user_lists::unfavorite(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| match e {
            tsudoi_core::Error::NoSuchList => {
                no_such_user_list("baedb33e-76b8-4b0c-86a8-9375c0a7b94b")
            }
            // Misskey's code for this one is ALREADY_FAVORITED too; clients match on it.
            tsudoi_core::Error::NotFavorited => ApiError::new(
                StatusCode::BAD_REQUEST,
                "ALREADY_FAVORITED",
                "You have not favorited the list.",
                "835c4b27-463d-4cfa-969b-a9058678d465",
            ),
            e => e.into(),
        })?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CopyParams {
    list_id: String,
    name: String,
}

async fn create_from_public(ctx: Ctx, p: CopyParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    let list = user_lists::copy_public(&ctx.core, ctx.me()?, id, &p.name)
        .await
        .map_err(with_ids(&[
            ("TOO_MANY_USERLISTS", "e9c105b2-c595-47de-97fb-7f7c2c33e92f"),
            ("NO_SUCH_LIST", "9292f798-6175-4f7d-93f4-b6742279667d"),
            ("TOO_MANY_USERS", "1845ea77-38d1-426e-8e4e-8b83b24f5bd7"),
        ]))?;
    json(UserList::pack(&list))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TimelineParams {
    list_id: String,
    /// The home timeline's switches, with its defaults.
    #[serde(flatten)]
    home: HomeParams,
}

async fn timeline(ctx: Ctx, p: TimelineParams) -> ApiResult<Reply> {
    let id = check_id("listId", &p.list_id)?;
    let page = p.home.paging.page(10)?;
    let notes = user_lists::timeline(&ctx.core, ctx.me()?, id, &p.home.filter(), &page)
        .await
        .map_err(with_ids(&[(
            "NO_SUCH_LIST",
            "8fb1fbd5-e476-4c37-9fb0-43d55b63a2ff",
        )]))?;
    respond(&ctx, notes).await
}

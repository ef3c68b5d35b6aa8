//! Accounts: sign-up, sign-in, the signed-in user, and looking users up.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Paging, check_id, double_option};
use crate::api::entities::{me_detailed, user_detailed};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};
use crate::core::Error;
use crate::core::accounts::{self, Origin, ProfileField, ProfileUpdate};
use crate::store::{FollowSide, UserRow};

/// Failed sign-ins allowed per hour from one address before it must wait.
const SIGNIN_FAILURES_PER_HOUR: u32 = 10;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "signup",
            "Create a local account; returns it with its token.",
            signup,
        )
        .per_hour(60),
        Endpoint::new(
            "signin-flow",
            "Sign in with username and password; returns the account token.",
            signin_flow,
        ),
        Endpoint::new("i", "The signed-in account.", i)
            .credential()
            .kind("read:account"),
        Endpoint::new(
            "i/update",
            "Update the signed-in account's profile.",
            i_update,
        )
        .credential()
        .kind("write:account")
        .per_hour(300),
        Endpoint::new(
            "users/show",
            "A user by id, ids, or username and host.",
            users_show,
        ),
        Endpoint::new("users/followers", "Who follows a user.", users_followers),
        Endpoint::new("users/following", "Whom a user follows.", users_following),
        Endpoint::new(
            "users/relation",
            "Relations between the signed-in user and others.",
            users_relation,
        )
        .credential()
        .kind("read:account"),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SignupParams {
    username: String,
    password: String,
    invitation_code: Option<String>,
}

async fn signup(ctx: Ctx, p: SignupParams) -> ApiResult<Reply> {
    let (user, token) = accounts::create_account(
        &ctx.app,
        &p.username,
        &p.password,
        Origin::Api {
            invitation_code: p.invitation_code.as_deref(),
        },
    )
    .await?;
    let mut me = me_detailed(&ctx.app, &user).await?;
    me["token"] = json!(token);
    Ok(Reply::Json(me))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SigninParams {
    username: String,
    password: Option<String>,
}

async fn signin_flow(ctx: Ctx, p: SigninParams) -> ApiResult<Reply> {
    let Some(password) = p.password else {
        return json(json!({ "finished": false, "next": "password" }));
    };
    let caller = ctx.ip.map(|ip| ip.to_string()).unwrap_or_default();
    if let Some(wait) = ctx
        .limiter
        .blocked_for("signin-failure", &caller, SIGNIN_FAILURES_PER_HOUR)
    {
        return Err(ApiError::rate_limited(wait));
    }
    match accounts::sign_in(&ctx.app, &p.username, &password).await {
        Ok((user, token)) => json(json!({ "finished": true, "id": user.id, "i": token })),
        Err(Error::SigninFailed) => {
            let _ = ctx
                .limiter
                .check("signin-failure", &caller, SIGNIN_FAILURES_PER_HOUR);
            Err(Error::SigninFailed.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, JsonSchema)]
struct NoParams {}

async fn i(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    Ok(Reply::Json(me_detailed(&ctx.app, ctx.me()?).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    #[serde(default, deserialize_with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    birthday: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    lang: Option<Option<String>>,
    fields: Option<Vec<ProfileField>>,
    is_locked: Option<bool>,
    is_bot: Option<bool>,
    is_cat: Option<bool>,
}

async fn i_update(ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let updated = accounts::update_profile(
        &ctx.app,
        me,
        ProfileUpdate {
            name: p.name,
            description: p.description,
            location: p.location,
            birthday: p.birthday,
            lang: p.lang,
            fields: p.fields,
            is_locked: p.is_locked,
            is_bot: p.is_bot,
            is_cat: p.is_cat,
        },
    )
    .await?;
    Ok(Reply::Json(me_detailed(&ctx.app, &updated).await?))
}

/// Shapes `u` as seen by the caller: `MeDetailed` for themselves, otherwise `UserDetailed`
/// with relation fields when signed in.
async fn detailed_for(ctx: &Ctx, u: &UserRow) -> ApiResult<Value> {
    match &ctx.user {
        Some(me) if me.id == u.id => me_detailed(&ctx.app, u).await,
        Some(me) => {
            let rel = ctx
                .app
                .store
                .relations(&me.id, std::slice::from_ref(&u.id))
                .await
                .map_err(ApiError::internal)?;
            user_detailed(&ctx.app, u, rel.first())
        }
        None => user_detailed(&ctx.app, u, None),
    }
}

/// `host` as clients send it: absent, null, or this server's own host all mean local.
fn normalise_host(ctx: &Ctx, host: Option<String>) -> Option<String> {
    host.filter(|h| !h.is_empty() && !h.eq_ignore_ascii_case(&ctx.app.config.host()))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ShowParams {
    user_id: Option<String>,
    user_ids: Option<Vec<String>>,
    username: Option<String>,
    host: Option<String>,
}

async fn find_user(
    ctx: &Ctx,
    user_id: Option<&str>,
    username: Option<&str>,
    host: Option<String>,
) -> ApiResult<UserRow> {
    let store = &ctx.app.store;
    let found = match (user_id, username) {
        (Some(id), _) => store.user_by_id(check_id("userId", id)?).await,
        (None, Some(name)) => {
            store
                .user_by_username(name.trim(), normalise_host(ctx, host).as_deref())
                .await
        }
        (None, None) => {
            return Err(ApiError::invalid_param(
                "userId",
                "userId or username is required",
            ));
        }
    }
    .map_err(ApiError::internal)?;
    match found {
        Some(u) if !u.is_suspended => Ok(u),
        _ => Err(Error::NoSuchUser.into()),
    }
}

async fn users_show(ctx: Ctx, p: ShowParams) -> ApiResult<Reply> {
    if let Some(ids) = p.user_ids {
        for id in &ids {
            check_id("userIds", id)?;
        }
        let users = ctx
            .app
            .store
            .users_by_ids(&ids)
            .await
            .map_err(ApiError::internal)?;
        let mut out = Vec::new();
        // Request order, unknown and suspended users dropped.
        for id in &ids {
            if let Some(u) = users.iter().find(|u| &u.id == id && !u.is_suspended) {
                out.push(detailed_for(&ctx, u).await?);
            }
        }
        return json(out);
    }
    let user = find_user(&ctx, p.user_id.as_deref(), p.username.as_deref(), p.host).await?;
    Ok(Reply::Json(detailed_for(&ctx, &user).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FollowListParams {
    user_id: Option<String>,
    username: Option<String>,
    host: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn follow_list(ctx: Ctx, p: FollowListParams, side: FollowSide) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let user = find_user(&ctx, p.user_id.as_deref(), p.username.as_deref(), p.host).await?;
    let rows = ctx
        .app
        .store
        .follows_page(
            &user.id,
            side,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await
        .map_err(ApiError::internal)?;
    let other_ids: Vec<String> = rows
        .iter()
        .map(|r| match side {
            FollowSide::Followers => r.follower_id.clone(),
            FollowSide::Following => r.followee_id.clone(),
        })
        .collect();
    let others = ctx
        .app
        .store
        .users_by_ids(&other_ids)
        .await
        .map_err(ApiError::internal)?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, other_id) in rows.iter().zip(&other_ids) {
        let Some(other) = others.iter().find(|u| &u.id == other_id) else {
            continue;
        };
        let mut item = json!({
            "id": row.id,
            "createdAt": crate::api::entities::iso(row.created_at),
            "followeeId": row.followee_id,
            "followerId": row.follower_id,
        });
        let key = match side {
            FollowSide::Followers => "follower",
            FollowSide::Following => "followee",
        };
        item[key] = detailed_for(&ctx, other).await?;
        out.push(item);
    }
    json(out)
}

async fn users_followers(ctx: Ctx, p: FollowListParams) -> ApiResult<Reply> {
    follow_list(ctx, p, FollowSide::Followers).await
}

async fn users_following(ctx: Ctx, p: FollowListParams) -> ApiResult<Reply> {
    follow_list(ctx, p, FollowSide::Following).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RelationParams {
    user_id: OneOrMany,
}

async fn users_relation(ctx: Ctx, p: RelationParams) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let ids = match p.user_id {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    };
    for id in &ids {
        check_id("userId", id)?;
    }
    let rels = ctx
        .app
        .store
        .relations(&me.id, &ids)
        .await
        .map_err(ApiError::internal)?;
    // Always an array, as Misskey has answered since 2024.3.
    json(
        ids.iter()
            .zip(rels)
            .map(|(id, r)| {
                json!({
                    "id": id,
                    "isFollowing": r.is_following,
                    "isFollowed": r.is_followed,
                    "hasPendingFollowRequestFromYou": r.has_pending_follow_request_from_you,
                    "hasPendingFollowRequestToYou": r.has_pending_follow_request_to_you,
                    "isBlocking": false,
                    "isBlocked": false,
                    "isMuted": false,
                    "isRenoteMuted": false,
                })
            })
            .collect::<Vec<_>>(),
    )
}

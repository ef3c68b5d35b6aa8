//! Accounts: sign-up, sign-in, the signed-in user, and looking users up.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::accounts::{self, Origin};
use tsudoi_core::{follows, users, word_mutes};
use tsudoi_model::{FollowSide, MuteWord, ProfileField, ProfilePatch, Relation, User};

use super::{NoParams, Paging, check_id, double_option};
use crate::api::entities::{
    Following, MeDetailed, RelationEntry, SignedIn, UserDetailed, UserView, WithToken,
};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

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
            "i/claim-achievement",
            "Unlock an achievement (Misskey's clients claim them as they are earned).",
            claim_achievement,
        )
        .credential()
        .kind("write:account"),
        Endpoint::new(
            "users/show",
            "A user by id, ids, or username and host.",
            users_show,
        ),
        Endpoint::new(
            "ap/show",
            "A user or note of any server, by its ActivityPub id or `@user@host`, fetched if \
             this server does not know it yet.",
            ap_show,
        )
        .credential()
        .kind("read:account")
        .per_hour(120),
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

/// `MeDetailed` of `user`, serialised.
async fn me(ctx: &Ctx, user: &User) -> ApiResult<Reply> {
    let state = accounts::me_state(&ctx.core, user).await?;
    json(MeDetailed::pack(user, &state, ctx.settings()))
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
        &ctx.core,
        &p.username,
        &p.password,
        Origin::Api {
            invitation_code: p.invitation_code.as_deref(),
        },
    )
    .await?;
    let state = accounts::me_state(&ctx.core, &user).await?;
    json(WithToken {
        entity: MeDetailed::pack(&user, &state, ctx.settings()),
        token,
    })
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SigninParams {
    username: String,
    password: Option<String>,
}

async fn signin_flow(ctx: Ctx, p: SigninParams) -> ApiResult<Reply> {
    let Some(password) = p.password else {
        return json(SignedIn::Next {
            finished: false,
            next: "password",
        });
    };
    let (user, token) = accounts::sign_in(&ctx.core, &p.username, &password, &ctx.client()).await?;
    json(SignedIn::Done {
        finished: true,
        id: &user.id,
        i: &token,
    })
}

async fn i(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    me(&ctx, ctx.me()?).await
}

/// One profile field as `i/update` takes it.
#[derive(Deserialize, JsonSchema)]
struct FieldParam {
    name: String,
    value: String,
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
    fields: Option<Vec<FieldParam>>,
    is_locked: Option<bool>,
    is_bot: Option<bool>,
    is_cat: Option<bool>,
    /// Words whose notes your clients collapse: each entry a list of keywords that must
    /// all appear, or a `/regular expression/flags` string.
    muted_words: Option<Vec<MuteWordParam>>,
    /// Words whose notes are not shown to you at all, anywhere (same form).
    hard_muted_words: Option<Vec<MuteWordParam>>,
}

/// One entry of a muted-word list, as Misskey's clients send it.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum MuteWordParam {
    Keywords(Vec<String>),
    Pattern(String),
}

impl From<MuteWordParam> for MuteWord {
    fn from(p: MuteWordParam) -> Self {
        match p {
            MuteWordParam::Keywords(k) => MuteWord::Keywords(k),
            MuteWordParam::Pattern(p) => MuteWord::Pattern(p),
        }
    }
}

#[derive(Deserialize, JsonSchema)]
struct ClaimParams {
    /// One of Misskey's achievement names.
    name: String,
}

async fn claim_achievement(ctx: Ctx, p: ClaimParams) -> ApiResult<Reply> {
    tsudoi_core::achievements::claim(&ctx.core, ctx.me()?, &p.name).await?;
    Ok(Reply::NoContent)
}

async fn i_update(ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    let words = |list: Option<Vec<MuteWordParam>>| {
        list.map(|l| l.into_iter().map(MuteWord::from).collect::<Vec<_>>())
    };
    let (soft, hard) = (words(p.muted_words), words(p.hard_muted_words));
    word_mutes::validate(soft.as_deref(), hard.as_deref())?;
    let updated = accounts::update_profile(
        &ctx.core,
        ctx.me()?,
        ProfilePatch {
            name: p.name,
            description: p.description,
            location: p.location,
            birthday: p.birthday,
            lang: p.lang,
            fields: p.fields.map(|f| {
                f.into_iter()
                    .map(|f| ProfileField {
                        name: f.name,
                        value: f.value,
                    })
                    .collect()
            }),
            is_locked: p.is_locked,
            is_bot: p.is_bot,
            is_cat: p.is_cat,
        },
    )
    .await?;
    if soft.is_some() || hard.is_some() {
        word_mutes::set(&ctx.core, &updated, soft, hard).await?;
    }
    me(&ctx, &updated).await
}

/// Whether each of `users` is the caller, and the caller's relation to the others: what
/// [`view`] needs, loaded in one query.
struct Viewing {
    relations: Vec<Relation>,
    me_state: accounts::MeState,
}

async fn viewing(ctx: &Ctx, users: &[&User]) -> ApiResult<Viewing> {
    let Some(me) = &ctx.user else {
        return Ok(Viewing {
            relations: Vec::new(),
            me_state: Default::default(),
        });
    };
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let relations = follows::relations(&ctx.core, me, &ids).await?;
    let me_state = if users.iter().any(|u| u.id == me.id) {
        accounts::me_state(&ctx.core, me).await?
    } else {
        Default::default()
    };
    Ok(Viewing {
        relations,
        me_state,
    })
}

/// `users[i]` as the caller sees them: `MeDetailed` for themselves, otherwise
/// `UserDetailed` with the relation fields when signed in.
fn view<'a>(ctx: &Ctx, viewing: &'a Viewing, users: &[&'a User], i: usize) -> UserView<'a> {
    let u = users[i];
    match &ctx.user {
        Some(me) if me.id == u.id => UserView::Me(Box::new(MeDetailed::pack(
            u,
            &viewing.me_state,
            ctx.settings(),
        ))),
        _ => UserView::Other(Box::new(UserDetailed::pack(
            u,
            viewing.relations.get(i),
            ctx.settings(),
        ))),
    }
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
    host: Option<&str>,
) -> ApiResult<User> {
    Ok(match (user_id, username) {
        (Some(id), _) => users::by_id(&ctx.core, check_id("userId", id)?).await?,
        (None, Some(name)) => match host.filter(|h| !ctx.settings().is_own_host(h)) {
            // Someone on another server: known already, or found through WebFinger.
            Some(host) => ctx.fed.user_by_acct(name, host).await.map_err(|e| {
                tracing::info!(%name, %host, error = %e, "remote user not resolved");
                ApiError::from(tsudoi_core::Error::NoSuchUser)
            })?,
            None => users::by_username(&ctx.core, name, None).await?,
        },
        (None, None) => {
            return Err(ApiError::invalid_param(
                "userId",
                "userId or username is required",
            ));
        }
    })
}

#[derive(Deserialize, JsonSchema)]
struct ApShowParams {
    uri: String,
}

/// Misskey's answer shape: `{type: "User" | "Note", object}`.
async fn ap_show(ctx: Ctx, p: ApShowParams) -> ApiResult<Reply> {
    let not_found = |e: tsudoi_federation::Error| {
        tracing::info!(uri = %p.uri, error = %e, "ap/show found nothing");
        ApiError::no_such_object()
    };
    let uri = p.uri.trim();
    if let Some(acct) = uri.strip_prefix('@') {
        let (name, host) = acct.split_once('@').unwrap_or((acct, ""));
        let user = if host.is_empty() || ctx.settings().is_own_host(host) {
            users::by_username(&ctx.core, name, None).await?
        } else {
            ctx.fed.user_by_acct(name, host).await.map_err(not_found)?
        };
        return user_object(&ctx, &user).await;
    }
    let mut budget = tsudoi_federation::resolve::Budget::new();
    match ctx.fed.lookup(uri, &mut budget).await.map_err(not_found)? {
        tsudoi_federation::Found::User(user) => user_object(&ctx, &user).await,
        tsudoi_federation::Found::Note(note) => {
            let visible = tsudoi_core::notes::show(&ctx.core, &note.id, ctx.viewer_id()).await?;
            match super::notes::respond_one(&ctx, visible).await? {
                Reply::Json(object) => {
                    let mut body = br#"{"type":"Note","object":"#.to_vec();
                    body.extend_from_slice(&object);
                    body.push(b'}');
                    Ok(Reply::Json(body))
                }
                Reply::NoContent => Err(ApiError::no_such_object()),
            }
        }
    }
}

async fn user_object(ctx: &Ctx, user: &User) -> ApiResult<Reply> {
    #[derive(serde::Serialize)]
    struct Found<T> {
        #[serde(rename = "type")]
        kind: &'static str,
        object: T,
    }
    let one = [user];
    let viewing = viewing(ctx, &one).await?;
    json(Found {
        kind: "User",
        object: view(ctx, &viewing, &one, 0),
    })
}

async fn users_show(ctx: Ctx, p: ShowParams) -> ApiResult<Reply> {
    if let Some(ids) = p.user_ids {
        for id in &ids {
            check_id("userIds", id)?;
        }
        let found = users::by_ids(&ctx.core, &ids).await?;
        let found: Vec<&User> = found.iter().collect();
        let viewing = viewing(&ctx, &found).await?;
        return json(
            (0..found.len())
                .map(|i| view(&ctx, &viewing, &found, i))
                .collect::<Vec<_>>(),
        );
    }
    let user = find_user(
        &ctx,
        p.user_id.as_deref(),
        p.username.as_deref(),
        p.host.as_deref(),
    )
    .await?;
    let one = [&user];
    let viewing = viewing(&ctx, &one).await?;
    json(view(&ctx, &viewing, &one, 0))
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
    let user = find_user(
        &ctx,
        p.user_id.as_deref(),
        p.username.as_deref(),
        p.host.as_deref(),
    )
    .await?;
    let listed = follows::follow_list(&ctx.core, &user, side, &page).await?;
    let others: Vec<&User> = listed.iter().map(|(_, u)| u).collect();
    let viewing = viewing(&ctx, &others).await?;
    json(
        listed
            .iter()
            .enumerate()
            .map(|(i, (f, _))| {
                let other = view(&ctx, &viewing, &others, i);
                match side {
                    FollowSide::Followers => Following::with_follower(f, other),
                    FollowSide::Following => Following::with_followee(f, other),
                }
            })
            .collect::<Vec<_>>(),
    )
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
    let relations = follows::relations(&ctx.core, me, &ids).await?;
    // Always an array, as Misskey has answered since 2024.3.
    json(
        ids.iter()
            .zip(&relations)
            .map(|(id, r)| RelationEntry::pack(id, r))
            .collect::<Vec<_>>(),
    )
}
